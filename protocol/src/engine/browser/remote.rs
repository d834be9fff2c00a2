//! Remote announcements (Samba's `remote announce`): this host announced to browsers beyond
//! its own subnets. A router does not forward the subnet's broadcasts, so a client on another
//! subnet lists the host only if that subnet's master browser hears of it: a HostAnnouncement
//! sent every [`REMOTE_ANNOUNCE_INTERVAL`] to that master's address (or the subnet's directed
//! broadcast address, where routers forward those), addressed to the workgroup's `<1D>` name.
//! Like Samba, nbtd sends them blind, from the first interface address; unlike Samba, it also
//! says goodbye there (ServerType 0) when it stops or an address is dropped by a reload.

use super::*;

impl BrowserEngine {
    /// The remote announcements (Samba's `remote announce`): a HostAnnouncement to each
    /// configured address, addressed to its workgroup's `<1D>` name and sent from the first
    /// interface address, with [`REMOTE_ANNOUNCE_INTERVAL`] as its Periodicity.
    pub(super) fn announce_remote(&mut self, now: Instant) {
        let targets = self.config.remote_announce.clone();
        if !self.send_remote(&targets, false) {
            // No interface address to send from: the next one added starts them again.
            self.next_remote = None;
            return;
        }
        self.next_remote = Some(now + REMOTE_ANNOUNCE_INTERVAL);
    }

    /// Sends our HostAnnouncement (ServerType 0 when `going_down`) to each of `targets`, from
    /// the first interface address; whether there was one.
    pub(super) fn send_remote(&mut self, targets: &[RemoteAnnounce], going_down: bool) -> bool {
        let Some((&id, s)) = self.subnets.iter().next() else {
            return false;
        };
        let a = self.our_announcement(s, REMOTE_ANNOUNCE_INTERVAL, going_down);
        let Ok(bytes) = BrowserFrame::HostAnnouncement(a).to_vec() else {
            return true;
        };
        for t in targets {
            let dest = ScopedName {
                name: t.workgroup.with_suffix(suffix::LOCAL_MASTER),
                scope: self.config.scope.clone(),
            };
            let to = SocketAddrV4::new(t.addr, self.config.port);
            self.send_mailslot(id, bytes.clone(), dest, Some(to));
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, SocketAddrV4};
    use std::time::Duration;

    use super::*;
    use crate::engine::dgram::DATAGRAM_SERVICE_PORT;
    use crate::engine::names::NameConfig;
    use crate::engine::node::Node;
    use crate::engine::{IfaceAddr, IfaceId, Rng, Service};
    use crate::wire::browse::ServerType;
    use crate::wire::dgram::{DirectDatagram, DirectType};
    use crate::wire::smb::TransactionRequest;

    const FAR: Ipv4Addr = Ipv4Addr::new(198, 19, 5, 7);
    const FAR_SUBNET: Ipv4Addr = Ipv4Addr::new(198, 19, 6, 255);

    fn name(s: &str) -> NetbiosName {
        NetbiosName::new(s, 0).unwrap()
    }

    fn targets() -> Vec<RemoteAnnounce> {
        vec![
            RemoteAnnounce {
                addr: FAR,
                workgroup: name("OTHERWG"),
            },
            RemoteAnnounce {
                addr: FAR_SUBNET,
                workgroup: name("LABWG"),
            },
        ]
    }

    fn node(remote: Vec<RemoteAnnounce>) -> (Node, Instant) {
        let mut config = BrowserConfig::new(name("ALPHA"), name("LABWG"));
        config.remote_announce = remote;
        let mut n = Node::new(
            NameConfig::new(name("ALPHA"), name("LABWG")),
            config,
            Rng::new(3),
        );
        let t0 = Instant::now();
        n.add_interface(
            t0,
            IfaceAddr {
                id: IfaceId(1),
                addr: Ipv4Addr::new(198, 18, 0, 1),
                netmask: Ipv4Addr::new(255, 255, 255, 0),
                broadcast: Ipv4Addr::new(198, 18, 0, 255),
                mac: [0; 6],
            },
        );
        (n, t0)
    }

    /// A remote announcement as it went out: where to, addressed to which name, the frame.
    #[derive(Debug)]
    struct Sent {
        to: SocketAddrV4,
        destination: NetbiosName,
        announcement: Announcement,
    }

    /// The node alone until `until`: the datagrams it sent off its subnet, decoded.
    fn run(n: &mut Node, mut now: Instant, until: Instant) -> Vec<Sent> {
        let mut sent = Vec::new();
        for _ in 0..100_000 {
            while let Some(t) = n.poll_transmit() {
                if let Some(s) = remote(&t) {
                    sent.push(s);
                }
            }
            match n.poll_timeout() {
                Some(t) if t <= until => {
                    now = now.max(t);
                    n.handle_timeout(now);
                }
                _ => break,
            }
        }
        sent
    }

    fn remote(t: &Transmit) -> Option<Sent> {
        let local = Ipv4Addr::new(198, 18, 0, 0);
        let ip = *t.dst.ip();
        if t.service != Service::Datagram || u32::from(ip) & 0xffff_ff00 == u32::from(local) {
            return None;
        }
        let d = DirectDatagram::parse(&t.payload).expect("a direct datagram");
        assert_eq!(d.msg_type, DirectType::DirectUnique, "{d:?}");
        assert_eq!(d.header.source_ip, Ipv4Addr::new(198, 18, 0, 1));
        assert_eq!(d.source_name.name, NetbiosName::new("ALPHA", 0).unwrap());
        let m = TransactionRequest::parse(&d.user_data).expect("a mailslot write");
        assert_eq!(m.name, MAILSLOT_BROWSE);
        let BrowserFrame::HostAnnouncement(a) = BrowserFrame::parse(&m.data).unwrap() else {
            panic!("not a HostAnnouncement: {m:?}");
        };
        Some(Sent {
            to: t.dst,
            destination: d.destination_name.name,
            announcement: a,
        })
    }

    #[test]
    fn each_address_hears_us_every_three_minutes_in_its_workgroup() {
        let (mut n, t0) = node(targets());
        let sent = run(&mut n, t0, t0 + Duration::from_secs(10 * 60));
        for (addr, wg) in [(FAR, "OTHERWG"), (FAR_SUBNET, "LABWG")] {
            let to_it: Vec<&Sent> = sent.iter().filter(|s| *s.to.ip() == addr).collect();
            // At 0, 3, 6 and 9 minutes.
            assert_eq!(to_it.len(), 4, "{sent:#?}");
            for s in to_it {
                assert_eq!(s.to.port(), DATAGRAM_SERVICE_PORT);
                assert_eq!(s.destination, NetbiosName::new(wg, 0x1d).unwrap());
                assert_eq!(s.announcement.server_name.to_string(), "ALPHA");
                assert_eq!(s.announcement.periodicity_ms, 180_000);
                assert!(
                    s.announcement.server_type.contains(ServerType::SERVER),
                    "{:?}",
                    s.announcement
                );
            }
        }
        assert_eq!(sent.len(), 8, "nothing else leaves the subnet: {sent:#?}");
    }

    #[test]
    fn none_configured_sends_nothing_off_the_subnet() {
        let (mut n, t0) = node(Vec::new());
        assert!(run(&mut n, t0, t0 + Duration::from_secs(10 * 60)).is_empty());
    }

    #[test]
    fn stopping_says_goodbye_to_each_address() {
        let (mut n, t0) = node(targets());
        let t1 = t0 + Duration::from_secs(60);
        run(&mut n, t0, t1);
        n.shutdown(t1);
        let sent = run(&mut n, t1, t1);
        assert_eq!(sent.len(), 2, "{sent:#?}");
        for s in &sent {
            assert!(s.announcement.server_type.is_empty(), "{s:?}");
        }
    }

    #[test]
    fn a_reload_says_goodbye_to_dropped_addresses_and_announces_to_the_others_at_once() {
        let (mut n, t0) = node(targets());
        let t1 = t0 + Duration::from_secs(60);
        run(&mut n, t0, t1);
        let mut new = n.browser().config().clone();
        new.remote_announce.retain(|t| t.addr == FAR);
        assert!(n.browser_mut().reconfigure(t1, &new));
        let sent = run(&mut n, t1, t1);
        let gone: Vec<&Sent> = sent.iter().filter(|s| *s.to.ip() == FAR_SUBNET).collect();
        assert_eq!(gone.len(), 1, "{sent:#?}");
        assert!(gone[0].announcement.server_type.is_empty());
        let kept: Vec<&Sent> = sent.iter().filter(|s| *s.to.ip() == FAR).collect();
        assert_eq!(kept.len(), 1, "announced at once: {sent:#?}");
        assert!(!kept[0].announcement.server_type.is_empty());
        // From then on only FAR, every three minutes from the reload.
        let later = run(&mut n, t1, t1 + Duration::from_secs(7 * 60));
        assert!(later.iter().all(|s| *s.to.ip() == FAR), "{later:#?}");
        assert_eq!(later.len(), 2, "{later:#?}");
        // Emptied: nothing more.
        let t2 = t1 + Duration::from_secs(7 * 60);
        new.remote_announce.clear();
        assert!(n.browser_mut().reconfigure(t2, &new));
        let last = run(&mut n, t2, t2 + Duration::from_secs(10 * 60));
        assert!(
            last.iter().all(|s| s.announcement.server_type.is_empty()),
            "only the goodbye to FAR: {last:#?}"
        );
        assert_eq!(last.len(), 1, "{last:#?}");
    }
}
