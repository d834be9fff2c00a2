//! The NBT-NS poisoners the canary found ([`crate::protocol::engine::names::canary`]): each with
//! its MAC address from the kernel's neighbour table (it had to ask for ours to answer us, so
//! the table has it), for the log, `nbt daemon` and the metrics.

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::control::PoisonerStatus;

/// Most poisoners remembered; the one heard from longest ago goes first.
const MAX_POISONERS: usize = 16;
/// The kernel's IPv4 neighbour table.
const ARP_TABLE: &str = "/proc/net/arp";
/// Most of the neighbour table read: it is small, and /proc cannot be made to lie about that,
/// but a bound costs nothing.
const MAX_ARP_BYTES: u64 = 1 << 20;

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

/// The MAC address the kernel's neighbour table has for `addr`, as `aa:bb:cc:dd:ee:ff`.
pub(crate) fn neighbour_mac(addr: Ipv4Addr) -> Option<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(ARP_TABLE)
        .ok()?
        .take(MAX_ARP_BYTES)
        .read_to_string(&mut text)
        .ok()?;
    mac_in_arp_table(&text, addr)
}

/// The MAC of `addr` in the text of /proc/net/arp (`IP address  HW type  Flags  HW address
/// Mask  Device`), unless incomplete (all zero).
fn mac_in_arp_table(text: &str, addr: Ipv4Addr) -> Option<String> {
    let want = addr.to_string();
    text.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.first() == Some(&want.as_str()))
            .then(|| f.get(3).map(|m| m.to_lowercase()))
            .flatten()
            .filter(|m| m != "00:00:00:00:00:00")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "IP address       HW type     Flags       HW address            Mask     Device\n\
198.18.0.2       0x1         0x2         AE:12:34:56:78:9A     *        lan0\n\
198.18.0.3       0x1         0x0         00:00:00:00:00:00     *        lan0\n";

    #[test]
    fn reads_the_mac_of_a_neighbour_and_not_an_incomplete_one() {
        assert_eq!(
            mac_in_arp_table(TABLE, Ipv4Addr::new(198, 18, 0, 2)).as_deref(),
            Some("ae:12:34:56:78:9a")
        );
        assert_eq!(mac_in_arp_table(TABLE, Ipv4Addr::new(198, 18, 0, 3)), None);
        assert_eq!(mac_in_arp_table(TABLE, Ipv4Addr::new(198, 18, 0, 4)), None);
    }

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
