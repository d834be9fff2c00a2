//! New settings for a running browser (the daemon's configuration reload), without losing the
//! roles, the masters known or the browse lists.

use super::{BrowserConfig, BrowserEngine, Instant, RemoteAnnounce, Role};

impl BrowserEngine {
    /// Takes up the settings of `new` that can change while the browser runs: the comment, the
    /// OS level, preferred master, the browse-list caps, the master probe interval,
    /// `honour_reset_state`, the rate limit of GetBackupList responses and the remote
    /// announcements. The identity (names, workgroup,
    /// scope, port, server type), `local_master` and `answer_remote_subnets` stay as they are:
    /// they need a restart.
    ///
    /// A new comment is announced at once on every subnet, so that browse lists show it within
    /// seconds rather than at the next scheduled announcement. A browser that becomes preferred
    /// master stands in an election at once, as it does at start. A higher OS level counts from
    /// the next election. Addresses dropped from the remote announcements get a ServerType 0
    /// announcement, and the others one at once. Returns whether anything changed.
    pub fn reconfigure(&mut self, now: Instant, new: &BrowserConfig) -> bool {
        let c = &mut self.config;
        let comment = c.comment != new.comment;
        let became_preferred = new.preferred_master && !c.preferred_master;
        let changed = comment
            || c.os_level != new.os_level
            || c.preferred_master != new.preferred_master
            || c.limits != new.limits
            || c.master_probe_interval != new.master_probe_interval
            || c.honour_reset_state != new.honour_reset_state
            || c.response_rate != new.response_rate;
        c.comment = new.comment.clone();
        c.os_level = new.os_level;
        c.preferred_master = new.preferred_master;
        c.limits = new.limits;
        c.master_probe_interval = new.master_probe_interval;
        c.honour_reset_state = new.honour_reset_state;
        c.response_rate = new.response_rate;
        self.response_limiter.set_limit(new.response_rate);
        let old_remote = std::mem::replace(&mut c.remote_announce, new.remote_announce.clone());
        let remote = old_remote != new.remote_announce;
        let limits = c.limits;
        if remote && !self.shut_down {
            // Addresses no longer announced to drop us at once; the others hear us now.
            let dropped: Vec<RemoteAnnounce> = old_remote
                .into_iter()
                .filter(|t| !new.remote_announce.contains(t))
                .collect();
            self.send_remote(&dropped, true);
            self.next_remote = (!self.config.remote_announce.is_empty()
                && !self.subnets.is_empty())
            .then_some(now);
        }
        let changed = changed || remote;
        let ids: Vec<_> = self.subnets.keys().copied().collect();
        for id in ids {
            let Some(s) = self.subnets.get_mut(&id) else {
                continue;
            };
            s.list.set_limits(limits);
            if comment && !self.shut_down {
                s.next_announce = s.next_announce.min(now);
            }
            if became_preferred && s.ready && s.role != Role::Master {
                self.start_election(now, id, "became preferred master", true);
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use super::*;
    use crate::engine::browser::list::BrowseLimits;
    use crate::engine::browser::{BrowserEvent, Election};
    use crate::engine::names::NameConfig;
    use crate::engine::node::{Event, Node};
    use crate::engine::{IfaceAddr, IfaceId, Rng};
    use crate::name::NetbiosName;

    /// Runs the node alone until `until`, returning its events.
    fn run(n: &mut Node, mut now: Instant, until: Instant) -> Vec<Event> {
        let mut events = Vec::new();
        for _ in 0..10_000 {
            while n.poll_transmit().is_some() {}
            events.extend(std::iter::from_fn(|| n.poll_event()));
            match n.poll_timeout() {
                Some(t) if t <= until => {
                    now = now.max(t);
                    n.handle_timeout(now);
                }
                _ => break,
            }
        }
        events
    }

    #[test]
    fn live_settings_change_and_the_identity_stays() {
        let name = NetbiosName::new("ALPHA", 0).unwrap();
        let wg = NetbiosName::new("LABWG", 0).unwrap();
        let config = BrowserConfig::new(name, wg);
        let mut n = Node::new(NameConfig::new(name, wg), config.clone(), Rng::new(7));
        let t0 = Instant::now();
        n.add_interface(
            t0,
            IfaceAddr {
                id: IfaceId(1),
                addr: Ipv4Addr::new(10, 0, 0, 1),
                netmask: Ipv4Addr::new(255, 255, 255, 0),
                broadcast: Ipv4Addr::new(10, 0, 0, 255),
                mac: [0; 6],
            },
        );
        // Names registered, first announcements out; nobody else answers.
        let t1 = t0 + Duration::from_secs(5);
        run(&mut n, t0, t1);
        // A potential browser, idle: what becoming preferred master changes.
        {
            let s = n.browser_mut().subnets.get_mut(&IfaceId(1)).unwrap();
            s.role = Role::Potential;
            s.election = Election::Idle;
            s.becoming = false;
            assert!(s.ready, "WORKGROUP<1e> is registered by now");
        }

        let mut new = config.clone();
        assert!(!n.browser_mut().reconfigure(t1, &new), "nothing changed");
        new.comment = b"new comment".to_vec();
        new.os_level = 65;
        new.preferred_master = true;
        new.limits = BrowseLimits {
            max_servers_per_workgroup: 5,
            max_workgroups: 2,
            max_servers_total: 10,
            ..BrowseLimits::default()
        };
        new.netbios_name = NetbiosName::new("OTHER", 0).unwrap();
        new.local_master = false;
        assert!(n.browser_mut().reconfigure(t1, &new));
        let c = n.browser().config();
        assert_eq!(c.comment, b"new comment");
        assert_eq!(c.os_level, 65);
        assert!(c.preferred_master);
        assert_eq!(c.netbios_name, name, "the name needs a restart");
        assert!(c.local_master, "local_master needs a restart");
        assert_eq!(n.browser().list(IfaceId(1)).unwrap().limits(), new.limits);
        assert_eq!(n.browser().role(IfaceId(1)), Some(Role::Potential));
        // The new comment goes out at once, and becoming preferred master starts an election
        // at once.
        assert!(n.poll_timeout().is_some_and(|t| t <= t1));
        let events = run(&mut n, t1, t1);
        assert!(
            events.iter().any(|e| matches!(
                e,
                Event::Browser(BrowserEvent::ElectionStarted { reason, .. })
                    if *reason == "became preferred master"
            )),
            "{events:?}"
        );
    }
}
