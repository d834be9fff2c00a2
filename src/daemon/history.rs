//! The election history: the last browser elections and role changes on each interface
//! address, from the browser's events, for `nbt daemon`.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::control::{BrowserRole, ElectionKind, ElectionRecord};
use crate::protocol::engine::IfaceId;
use crate::protocol::engine::browser::BrowserEvent;

/// Records kept per interface address.
pub const PER_INTERFACE: usize = 32;
/// Interface addresses with a history kept; the one with the oldest news goes first.
const MAX_INTERFACES: usize = 256;

#[derive(Debug, Clone)]
struct Entry {
    at: Instant,
    unix_time: u64,
    record: ElectionRecord,
}

/// A bounded ring of election events per interface address.
#[derive(Debug, Default)]
pub(super) struct History {
    rings: BTreeMap<IfaceId, VecDeque<Entry>>,
}

impl History {
    /// Records a browser event, if it is about elections or roles.
    pub(super) fn record(&mut self, now: Instant, e: &BrowserEvent) {
        let (iface, kind, detail, peer, address) = match e {
            BrowserEvent::RoleChanged { iface, role } => (
                *iface,
                ElectionKind::RoleChanged,
                BrowserRole::from(*role).as_str().to_owned(),
                None,
                None,
            ),
            BrowserEvent::ElectionStarted { iface, reason } => (
                *iface,
                ElectionKind::Started,
                (*reason).to_owned(),
                None,
                None,
            ),
            BrowserEvent::ElectionWon { iface } => {
                (*iface, ElectionKind::Won, String::new(), None, None)
            }
            BrowserEvent::ElectionLost {
                iface,
                winner,
                from,
            } => (
                *iface,
                ElectionKind::Lost,
                String::new(),
                Some(crate::state::escape(winner.as_bytes())),
                Some(*from),
            ),
            BrowserEvent::MasterFound { iface, name, addr } => (
                *iface,
                ElectionKind::MasterFound,
                String::new(),
                name.as_ref().map(|n| crate::state::escape(n.as_bytes())),
                Some(*addr),
            ),
            BrowserEvent::MasterLost {
                iface,
                addr,
                reason,
            } => (
                *iface,
                ElectionKind::MasterLost,
                (*reason).to_owned(),
                None,
                Some(*addr),
            ),
            BrowserEvent::CopyListFromMaster { .. }
            | BrowserEvent::ResetStateIgnored { .. }
            | BrowserEvent::SourceCapped { .. }
            | BrowserEvent::ForgedOwnName { .. } => {
                return;
            }
        };
        if !self.rings.contains_key(&iface) && self.rings.len() >= MAX_INTERFACES {
            let stalest = self
                .rings
                .iter()
                .min_by_key(|(_, r)| r.back().map(|e| e.at))
                .map(|(id, _)| *id);
            if let Some(id) = stalest {
                self.rings.remove(&id);
            }
        }
        let ring = self.rings.entry(iface).or_default();
        if ring.len() >= PER_INTERFACE {
            ring.pop_front();
        }
        let unix_time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        ring.push_back(Entry {
            at: now,
            unix_time,
            record: ElectionRecord {
                secs_ago: 0,
                unix_time,
                kind,
                detail,
                peer,
                address,
            },
        });
    }

    /// The records of an interface address, oldest first, aged as of `now`.
    pub(super) fn of(&self, now: Instant, iface: IfaceId) -> Vec<ElectionRecord> {
        self.rings.get(&iface).map_or_else(Vec::new, |r| {
            r.iter()
                .map(|e| ElectionRecord {
                    secs_ago: now.saturating_duration_since(e.at).as_secs(),
                    unix_time: e.unix_time,
                    ..e.record.clone()
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use super::*;
    use crate::protocol::engine::browser::Role;
    use crate::protocol::wire::browse::ServerName;

    #[test]
    fn keeps_the_last_elections_per_interface() {
        let mut h = History::default();
        let t = Instant::now();
        let one = IfaceId(1);
        h.record(
            t,
            &BrowserEvent::ElectionStarted {
                iface: one,
                reason: "no master answered",
            },
        );
        h.record(
            t,
            &BrowserEvent::ElectionLost {
                iface: one,
                winner: ServerName::new("BRAVO").unwrap(),
                from: Ipv4Addr::new(198, 18, 0, 2),
            },
        );
        h.record(
            t,
            &BrowserEvent::CopyListFromMaster {
                iface: one,
                master: Ipv4Addr::new(198, 18, 0, 2),
            },
        );
        let r = h.of(t + Duration::from_secs(90), one);
        assert_eq!(r.len(), 2, "copies are not elections: {r:?}");
        assert_eq!(r[0].kind, ElectionKind::Started);
        assert_eq!(r[0].detail, "no master answered");
        assert_eq!(r[0].secs_ago, 90);
        assert_eq!(r[1].kind, ElectionKind::Lost);
        assert_eq!(r[1].peer.as_deref(), Some("BRAVO"));
        assert_eq!(r[1].address, Some(Ipv4Addr::new(198, 18, 0, 2)));
        assert!(h.of(t, IfaceId(2)).is_empty());

        for _ in 0..PER_INTERFACE + 5 {
            h.record(
                t,
                &BrowserEvent::RoleChanged {
                    iface: one,
                    role: Role::Master,
                },
            );
        }
        let r = h.of(t, one);
        assert_eq!(r.len(), PER_INTERFACE);
        assert!(r.iter().all(|e| e.kind == ElectionKind::RoleChanged));
        assert_eq!(r[0].detail, "master");

        for i in 0..MAX_INTERFACES as u32 + 10 {
            h.record(
                t + Duration::from_secs(u64::from(i)),
                &BrowserEvent::ElectionWon {
                    iface: IfaceId(i + 10),
                },
            );
        }
        assert_eq!(h.rings.len(), MAX_INTERFACES);
    }
}
