//! The NBT-NS poisoners the canary found ([`crate::protocol::engine::names::canary`]): each with
//! its MAC address from the kernel's neighbour table (it had to ask for ours to answer us, so
//! the table has it), for the log, `nbt daemon` and the metrics.

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::control::PoisonerStatus;
use crate::iface::neighbour_mac;

/// Most poisoners remembered; the one heard from longest ago goes first.
const MAX_POISONERS: usize = 16;

/// The poisoners seen, newest last.
#[derive(Debug, Default)]
pub(super) struct Poisoners {
    seen: VecDeque<PoisonerStatus>,
}

impl Poisoners {
    /// Records an answer from `from` to a canary query for `name`, which meant `what`; returns
    /// its MAC address when the neighbour table knows it.
    pub(super) fn record(&mut self, from: Ipv4Addr, name: String, what: &str) -> Option<String> {
        let mac = neighbour_mac(from);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if let Some(i) = self.seen.iter().position(|p| p.address == from) {
            if let Some(mut p) = self.seen.remove(i) {
                p.answers = p.answers.saturating_add(1);
                p.last_seen_unix = now;
                p.name = name;
                p.what = what.to_owned();
                if mac.is_some() {
                    p.mac.clone_from(&mac);
                }
                self.seen.push_back(p);
            }
            return mac;
        }
        if self.seen.len() >= MAX_POISONERS {
            self.seen.pop_front();
        }
        self.seen.push_back(PoisonerStatus {
            address: from,
            mac: mac.clone(),
            name,
            what: what.to_owned(),
            answers: 1,
            first_seen_unix: now,
            last_seen_unix: now,
        });
        mac
    }

    /// The poisoners seen, newest last.
    pub(super) fn status(&self) -> Vec<PoisonerStatus> {
        self.seen.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_each_poisoner_once_and_at_most_sixteen() {
        let mut p = Poisoners::default();
        for i in 0..40u8 {
            p.record(
                Ipv4Addr::new(198, 18, 1, i),
                "X".into(),
                "a name nobody registered",
            );
        }
        p.record(
            Ipv4Addr::new(198, 18, 1, 39),
            "Y".into(),
            "our own unique name",
        );
        let s = p.status();
        assert_eq!(s.len(), MAX_POISONERS);
        let last = s.last().unwrap();
        assert_eq!(
            (last.address, last.answers),
            (Ipv4Addr::new(198, 18, 1, 39), 2)
        );
        assert_eq!(last.what, "our own unique name");
    }
}
