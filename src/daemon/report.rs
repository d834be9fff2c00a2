//! What the daemon tells people: one log line per name or browser event, a summary of dropped
//! input at most once a minute, and the status the control socket returns.

use tracing::{debug, error, info, warn};

use super::Daemon;
use crate::control::{DaemonStatus, InterfaceStatus, NameStatus};
use crate::protocol::NetbiosName;
use crate::protocol::engine::IfaceId;
use crate::protocol::engine::browser::{BrowserEvent, Role};
use crate::protocol::engine::names::NameEvent;
use crate::protocol::engine::names::wins::WinsEvent;
use crate::protocol::engine::node::Event;

/// The counters as of the last summary.
#[derive(Debug, Default)]
pub(super) struct Summary {
    malformed: u64,
    off_subnet: u64,
    dropped_queue_full: u64,
    send_errors: u64,
    /// ResetStateRequests ignored since the last summary (the first is logged at once).
    resets_ignored: u64,
}

impl Daemon {
    /// `eth0 198.18.0.1`, or the bare ID of an address no longer served.
    fn label(&self, id: IfaceId) -> String {
        self.ifaces
            .get(id)
            .map_or_else(|| format!("interface #{}", id.0), |s| s.label())
    }

    /// One log line per event.
    pub(super) fn log_event(&mut self, e: Event) {
        match e {
            Event::Name(e) => self.log_name_event(e),
            Event::Browser(e) => self.log_browser_event(e),
        }
    }

    fn log_browser_event(&mut self, e: BrowserEvent) {
        self.history.record(std::time::Instant::now(), &e);
        let wg = self.settings.workgroup.base_str();
        match e {
            BrowserEvent::RoleChanged { iface, role } => {
                let on = self.label(iface);
                let role = match role {
                    Role::Master => "the local master browser",
                    Role::Backup => "a backup browser",
                    Role::Potential => "a potential browser",
                    Role::NonBrowser => "not a browser",
                };
                info!(workgroup = %wg, interface = %on, "now {role} of {wg} on {on}");
            }
            BrowserEvent::ElectionStarted { iface, reason } => {
                debug!(workgroup = %wg, interface = %self.label(iface), reason, "standing in a browser election");
            }
            BrowserEvent::ElectionWon { iface } => {
                let on = self.label(iface);
                info!(
                    workgroup = %wg, interface = %on,
                    "won the browser election for {wg} on {on}; registering {wg}<1d>"
                );
            }
            BrowserEvent::ElectionLost {
                iface,
                winner,
                from,
            } => {
                let on = self.label(iface);
                let winner = crate::state::escape(winner.as_bytes());
                info!(
                    workgroup = %wg, interface = %on, %winner, %from,
                    "lost the browser election for {wg} on {on} to {winner} at {from}"
                );
            }
            BrowserEvent::MasterFound { iface, name, addr } => {
                let on = self.label(iface);
                let who = match name {
                    Some(n) => format!("{} at {addr}", crate::state::escape(n.as_bytes())),
                    None => addr.to_string(),
                };
                info!(
                    workgroup = %wg, interface = %on, master = %addr,
                    "the local master browser of {wg} on {on} is {who}"
                );
            }
            BrowserEvent::MasterLost {
                iface,
                addr,
                reason,
            } => {
                let on = self.label(iface);
                warn!(
                    workgroup = %wg, interface = %on, master = %addr, reason,
                    "lost the local master browser of {wg} on {on} ({addr}): {reason}; \
                     electing a new one"
                );
            }
            BrowserEvent::CopyListFromMaster { iface, master } => {
                debug!(interface = %self.label(iface), %master, "time to copy the browse list from the master");
            }
            BrowserEvent::SourceCapped {
                iface,
                source,
                refused,
            } => {
                warn!(
                    %source, refused, interface = %self.label(iface),
                    "{source} announced more servers or workgroups than one address may hold \
                     (browser.max_servers_per_source, max_workgroups_per_source); refused \
                     {refused} since the last report"
                );
            }
            BrowserEvent::ForgedOwnName {
                iface,
                from,
                frame,
                repeats,
            } => {
                warn!(
                    %from, frame, repeats, interface = %self.label(iface),
                    "{from} sent a browser {frame} under our own name; ignored it{}",
                    folded(u32::try_from(repeats).unwrap_or(u32::MAX))
                );
            }
            BrowserEvent::ResetStateIgnored { iface, from } => {
                self.summary.resets_ignored += 1;
                if self.summary.resets_ignored == 1 {
                    warn!(
                        %from, interface = %self.label(iface),
                        "{from} sent a ResetStateRequest; ignored it (browser.honour_reset_state \
                         is off); more in the next minute are only counted"
                    );
                }
            }
        }
    }

    fn log_name_event(&mut self, e: NameEvent) {
        self.status_dirty = true;
        match e {
            NameEvent::Registered { iface, name, group } => {
                info!(%name, group, interface = %self.label(iface), "name registered");
            }
            NameEvent::Conflict {
                iface,
                name,
                owner,
                rcode,
            } => {
                let on = self.label(iface);
                error!(
                    %name, %owner, rcode = rcode.name(), interface = %on,
                    "{name} is held by {owner}, so nbtd does not use it on {on}: give this host \
                     another name (netbios_name / --netbios-name, or aliases) or rename the host \
                     at {owner}, then restart nbtd"
                );
            }
            NameEvent::Defended {
                iface,
                name,
                challenger,
                repeats,
            } => {
                warn!(
                    %name, %challenger, repeats, interface = %self.label(iface),
                    "{challenger} tried to register our name {name}; refused{}",
                    folded(repeats)
                );
            }
            NameEvent::ReleaseIgnored {
                iface,
                name,
                from,
                repeats,
            } => {
                warn!(
                    %name, %from, repeats, interface = %self.label(iface),
                    "{from} sent a release of our name {name}; kept it{}",
                    folded(repeats)
                );
            }
            NameEvent::HostileBurst {
                iface,
                name,
                from,
                count,
            } => {
                let what = "a burst of releases and conflict demands for our names";
                let mac = self.poisoners.record(from, name.to_string(), what);
                let mac = mac.as_deref().unwrap_or("MAC unknown");
                warn!(
                    %from, mac, %name, count, interface = %self.label(iface),
                    "{from} ({mac}) sent {count} releases or conflict demands for our name {name} \
                     within a minute: a poisoner or a host trying to take the name; nbtd keeps it"
                );
            }
            NameEvent::GroupReleaseSeen {
                iface,
                name,
                from,
                repeats,
            } => {
                tracing::debug!(
                    %name, %from, repeats, interface = %self.label(iface),
                    "{from} left the group {name} (a member that stops releases it){}",
                    folded(repeats)
                );
            }
            NameEvent::PoisonerAnswered {
                iface,
                from,
                claimed,
                name,
                kind,
            } => {
                let what = kind.describe();
                let mac = self.poisoners.record(from, name.to_string(), what);
                let mac = mac.as_deref().unwrap_or("MAC unknown");
                let on = self.label(iface);
                warn!(
                    %from, mac, %name, %claimed, interface = %on,
                    "NBT-NS poisoner: {from} ({mac}) answered a broadcast query for {name}, {what}, \
                     claiming it is at {claimed}; hosts on {on} that look names up by broadcast \
                     may be sending it their credentials: find and stop it"
                );
            }
            NameEvent::ConflictDemandIgnored {
                iface,
                name,
                from,
                repeats,
            } => {
                warn!(
                    %name, %from, repeats, interface = %self.label(iface),
                    "{from} sent a name conflict demand for our name {name}; kept it{}",
                    folded(repeats)
                );
            }
            NameEvent::Released { iface, name } => {
                info!(%name, interface = %self.label(iface), "name released");
            }
            NameEvent::Wins(w) => self.log_wins_event(w),
            NameEvent::QueryResult {
                iface,
                name,
                answers,
                ..
            } => {
                tracing::debug!(%name, answers = answers.len(), interface = %self.label(iface), "query finished");
            }
        }
    }

    fn log_wins_event(&self, e: WinsEvent) {
        match e {
            WinsEvent::Registered {
                server,
                name,
                group,
                address,
                ttl,
                refresh: false,
            } => {
                info!(%name, group, %address, ttl, %server, "name registered with the WINS server");
            }
            WinsEvent::Registered {
                server,
                name,
                ttl,
                refresh: true,
                ..
            } => {
                tracing::debug!(%name, ttl, %server, "name refreshed with the WINS server");
            }
            WinsEvent::Refused {
                server,
                name,
                address,
                rcode,
            } => {
                error!(
                    %name, %address, %server, rcode = rcode.name(),
                    "the WINS server {server} refused {name} for {address} ({}): another host \
                     holds it there; give this host another name (netbios_name) or free the \
                     name on the WINS server, then restart nbtd",
                    rcode.name()
                );
            }
            WinsEvent::Switched { from, to } => {
                warn!(
                    %from, %to,
                    "the WINS server {from} did not answer; registering the names with {to}"
                );
            }
            WinsEvent::NoAnswer { names, retry } => {
                let all: Vec<String> = self
                    .settings
                    .wins_servers
                    .iter()
                    .map(|a| a.to_string())
                    .collect();
                let all = all.join(", ");
                warn!(
                    servers = %all, names,
                    "no WINS server answered the registration of {} ({all}); trying again in \
                     {} s (is wins_server right, and does UDP 137 reach it?)",
                    crate::plural::plural(names, "name", "names"),
                    retry.as_secs()
                );
            }
            WinsEvent::Released {
                server,
                names,
                address,
            } => {
                info!(%server, names, %address, "names released with the WINS server");
            }
        }
    }

    /// Logs what was dropped since the last summary, if anything: both services together.
    /// Whether anything happened that the next summary would report: the summary is armed
    /// only then, so that an idle daemon does not wake up for it.
    pub(super) fn summary_pending(&self) -> bool {
        let c = self.node.names().counters();
        let g = self.dgram;
        let d = self.driver_counters();
        let s = &self.summary;
        c.malformed + g.malformed != s.malformed
            || c.off_subnet + g.off_subnet != s.off_subnet
            || d.dropped_queue_full != s.dropped_queue_full
            || d.send_errors != s.send_errors
            || s.resets_ignored > 0
    }

    pub(super) fn summarize(&mut self) {
        let c = self.node.names().counters();
        let g = self.dgram;
        let d = self.driver_counters();
        let s = &mut self.summary;
        let (all_malformed, all_off_subnet) =
            (c.malformed + g.malformed, c.off_subnet + g.off_subnet);
        let malformed = all_malformed - s.malformed;
        let off_subnet = all_off_subnet - s.off_subnet;
        let dropped = d.dropped_queue_full - s.dropped_queue_full;
        let send_errors = d.send_errors - s.send_errors;
        let resets = s.resets_ignored;
        *s = Summary {
            malformed: all_malformed,
            off_subnet: all_off_subnet,
            dropped_queue_full: d.dropped_queue_full,
            send_errors: d.send_errors,
            resets_ignored: 0,
        };
        if malformed + off_subnet > 0 {
            info!(
                malformed,
                off_subnet,
                "dropped {malformed} malformed and {off_subnet} off-subnet datagrams in the last \
                 minute (name and datagram services)"
            );
        }
        if resets > 1 {
            warn!(
                resets,
                "ignored {resets} ResetStateRequests in the last minute"
            );
        }
        if dropped > 0 {
            warn!(
                dropped,
                "dropped {dropped} datagrams in the last minute: they came faster than nbtd \
                 could handle them"
            );
        }
        if send_errors > 0 {
            let last = self.last_send_error.as_deref().unwrap_or("unknown");
            warn!(
                send_errors,
                "{send_errors} datagrams could not be sent in the last minute (last: {last})"
            );
        }
    }

    /// The answer to a status request.
    pub(super) fn status(&self) -> DaemonStatus {
        let names = self.node.names().names();
        let interfaces = self
            .ifaces
            .served()
            .map(|s| InterfaceStatus {
                name: s.iface.name.clone(),
                address: s.iface.addr,
                netmask: s.iface.netmask,
                broadcast: s.iface.broadcast,
                mac: mac(&s.iface.mac),
                names: names
                    .iter()
                    .filter(|n| n.iface == s.id)
                    .map(|n| NameStatus {
                        name: base_text(&n.name),
                        suffix: n.name.suffix(),
                        group: n.group,
                        state: n.state.into(),
                    })
                    .collect(),
                browser: self.interface_browser(s.id),
            })
            .collect();
        DaemonStatus {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            pid: std::process::id(),
            netbios_name: base_text(&self.settings.netbios_name),
            workgroup: base_text(&self.settings.workgroup),
            aliases: self.settings.aliases.iter().map(base_text).collect(),
            uptime_secs: self.started.elapsed().as_secs(),
            interfaces,
            name_service: self.node.names().counters().into(),
            datagram_service: self.dgram,
            browser: self.node.browser().counters().into(),
            session: self
                .session
                .as_ref()
                .map(|rt| crate::control::SessionStatus {
                    serving: rt.serving(),
                    counters: rt.counters(),
                }),
            driver: self.driver_counters(),
            reloads: self.reloads,
            remote_announce: self.remote_announce_status(),
            wins: self.wins_status(),
            poisoners: self.poisoners.status(),
        }
    }

    fn wins_status(&self) -> Option<crate::control::WinsClientStatus> {
        let w = self.node.names().wins_status()?;
        let now = std::time::Instant::now();
        Some(crate::control::WinsClientStatus {
            server: w.server,
            servers: w.servers.clone(),
            address: w.address,
            names: w
                .names
                .iter()
                .map(|n| crate::control::WinsNameStatus {
                    name: base_text(&n.name),
                    suffix: n.name.suffix(),
                    group: n.group,
                    state: n.state.into(),
                    next_in_secs: n.due.map(|t| t.saturating_duration_since(now).as_secs()),
                })
                .collect(),
        })
    }

    fn remote_announce_status(&self) -> crate::control::RemoteAnnounceStatus {
        let b = self.node.browser();
        crate::control::RemoteAnnounceStatus {
            targets: b
                .config()
                .remote_announce
                .iter()
                .map(|t| crate::control::RemoteTarget {
                    address: t.addr,
                    workgroup: base_text(&t.workgroup),
                })
                .collect(),
            next_in_secs: b.remote_announce_due().map(|t| {
                t.saturating_duration_since(std::time::Instant::now())
                    .as_secs()
            }),
        }
    }
}

fn folded(repeats: u32) -> String {
    if repeats == 0 {
        String::new()
    } else {
        format!(" ({repeats} more times since the last report)")
    }
}

/// The name without its suffix, escaped as the name's text form escapes it.
pub(super) fn base_text(n: &NetbiosName) -> String {
    let s = n.to_string();
    // The text form ends with `<xx>`.
    s[..s.len() - 4].to_owned()
}

fn mac(m: &[u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_macs_as_text() {
        assert_eq!(
            base_text(&NetbiosName::new("alpha", 0x20).unwrap()),
            "ALPHA"
        );
        assert_eq!(
            base_text(&NetbiosName::MSBROWSE),
            "\\x01\\x02__MSBROWSE__\\x02"
        );
        assert_eq!(mac(&[0x02, 0, 0xab, 0, 0, 1]), "02:00:ab:00:00:01");
        assert_eq!(folded(0), "");
        assert_eq!(folded(3), " (3 more times since the last report)");
    }
}
