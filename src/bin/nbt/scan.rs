//! `nbt scan`: node status to every address of a range, paced, from one socket, with a bounded
//! number of rounds for the addresses that stayed silent.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use anyhow::{anyhow, bail};
use nbtd::protocol::wire::Emit;
use nbtd::protocol::wire::ns::NodeStatus;
use serde::Serialize;
use tokio::time::Instant;

use nbtd::plural::plural;

use crate::cidr::Cidr;
use crate::common::{
    Found, Global, Ignore, Ignored, NameEntry, base_text, mac_text, out, print_json, random_u16,
    render_table,
};
use crate::exchange::{self, recv_any, send_error};
use crate::pace::{Pacer, Progress};
use crate::status::{self, StatusAnswer};

/// Receive errors tolerated in one scan before giving up.
const MAX_RECV_ERRORS: u32 = 100;

/// A scan as the command line asks for it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `ADDRESS/PREFIX` or one address.
    pub range: String,
    /// Requests per second.
    pub rate: u32,
    /// Extra rounds for silent addresses.
    pub retries: u32,
    /// How long to wait after the last request of each round.
    pub timeout: Duration,
}

/// One host that answered, for the table and JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostLine {
    /// Its address.
    pub address: Ipv4Addr,
    /// Its NetBIOS name: the first unique `<00>` or `<20>` name.
    pub name: Option<String>,
    /// Its workgroup: the first group `<00>` name.
    pub workgroup: Option<String>,
    /// The unit ID (MAC address).
    pub mac: String,
    /// The whole name table.
    pub names: Vec<NameEntry>,
}

/// Picks the host name, workgroup and MAC out of a node status.
pub fn summarize(address: Ipv4Addr, s: &NodeStatus) -> HostLine {
    let name = s
        .names
        .iter()
        .find(|n| !n.flags.is_group() && matches!(n.name.suffix(), 0x00 | 0x20))
        .map(|n| base_text(&n.name));
    let workgroup = s
        .names
        .iter()
        .find(|n| n.flags.is_group() && n.name.suffix() == 0x00)
        .map(|n| base_text(&n.name));
    HostLine {
        address,
        name,
        workgroup,
        mac: mac_text(&s.statistics.unit_id),
        names: s.names.iter().map(NameEntry::from).collect(),
    }
}

/// The table: IP address, NetBIOS name, workgroup, MAC address; `-` where unknown.
pub fn table(hosts: &[HostLine]) -> Vec<String> {
    let rows: Vec<[String; 4]> = hosts
        .iter()
        .map(|h| {
            [
                h.address.to_string(),
                h.name.clone().unwrap_or_else(|| "-".into()),
                h.workgroup.clone().unwrap_or_else(|| "-".into()),
                h.mac.clone(),
            ]
        })
        .collect();
    render_table(
        ["IP ADDRESS", "NETBIOS NAME", "WORKGROUP", "MAC ADDRESS"],
        rows,
    )
}

/// A host that answered node status negatively.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refused {
    /// Its address.
    pub address: Ipv4Addr,
    /// The RCODE.
    pub rcode: u8,
}

/// The result of a scan.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The range, normalized.
    pub range: String,
    /// Addresses probed.
    pub probed: usize,
    /// Requests sent, counting repeats.
    pub requests: u64,
    /// Requests the kernel refused to send.
    pub send_errors: u64,
    /// Hosts that answered with a name table, by address.
    pub hosts: Vec<HostLine>,
    /// Hosts that answered negatively.
    pub refused: Vec<Refused>,
    /// Replies not used.
    pub ignored: Ignored,
}

/// What the scan knows about each target.
#[derive(Debug)]
pub struct Scan {
    targets: Vec<Ipv4Addr>,
    index: HashMap<Ipv4Addr, usize>,
    trn_base: u16,
    answers: Vec<Option<StatusAnswer>>,
    answered: usize,
    /// Replies not used.
    pub ignored: Ignored,
}

impl Scan {
    /// A scan of these addresses; transaction IDs are `trn_base + index`.
    pub fn new(targets: Vec<Ipv4Addr>, trn_base: u16) -> Self {
        let index = targets.iter().enumerate().map(|(i, a)| (*a, i)).collect();
        let n = targets.len();
        Scan {
            targets,
            index,
            trn_base,
            answers: vec![None; n],
            answered: 0,
            ignored: Ignored::default(),
        }
    }

    /// The transaction ID of target `i`.
    pub fn trn_id(&self, i: usize) -> u16 {
        self.trn_base.wrapping_add(i as u16)
    }

    /// Takes a reply; true when it is the first answer of a target.
    pub fn handle(&mut self, from: SocketAddrV4, bytes: &[u8], verbose: bool) -> bool {
        let Some(&i) = self.index.get(from.ip()) else {
            let why = Ignore::Unexpected(format!("{} was not asked", from.ip()));
            self.ignored.note(from, &why, verbose);
            return false;
        };
        match status::classify(bytes, self.trn_id(i)) {
            Ok(a) => {
                if self.answers[i].is_some() {
                    return false;
                }
                self.answers[i] = Some(a);
                self.answered += 1;
                true
            }
            Err(why) => {
                self.ignored.note(from, &why, verbose);
                false
            }
        }
    }

    /// Whether target `i` answered.
    pub fn has_answered(&self, i: usize) -> bool {
        self.answers[i].is_some()
    }

    /// How many targets answered.
    pub fn answered(&self) -> usize {
        self.answered
    }

    /// The hosts that answered, in address order, and those that refused.
    pub fn results(&self) -> (Vec<HostLine>, Vec<Refused>) {
        let mut hosts = Vec::new();
        let mut refused = Vec::new();
        for (a, ans) in self.targets.iter().zip(&self.answers) {
            match ans {
                Some(StatusAnswer::Status(s)) => hosts.push(summarize(*a, s)),
                Some(StatusAnswer::Negative(r)) => refused.push(Refused {
                    address: *a,
                    rcode: r.value(),
                }),
                None => {}
            }
        }
        hosts.sort_by_key(|h| h.address);
        refused.sort_by_key(|r| r.address);
        (hosts, refused)
    }
}

/// How a sweep paces itself.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// Requests per second.
    pub rate: u32,
    /// Extra rounds for silent addresses.
    pub retries: u32,
    /// How long to wait after the last request of each round.
    pub timeout: Duration,
    /// Draw a progress bar on a terminal.
    pub progress: bool,
}

/// What a sweep did.
#[derive(Debug)]
pub struct Swept {
    /// The answers.
    pub scan: Scan,
    /// Requests sent, counting repeats.
    pub requests: u64,
    /// Requests the kernel refused to send.
    pub send_errors: u64,
}

/// Sends node status to every target from one socket, paced, with a bounded number of rounds
/// for the silent ones, and collects the answers.
pub async fn sweep(
    targets: Vec<Ipv4Addr>,
    pacing: Pacing,
    global: &Global,
) -> anyhow::Result<Swept> {
    let mut scan = Scan::new(targets.clone(), random_u16());
    let mut packet = status::request(0).to_vec()?;
    let endpoint = exchange::unicast_endpoint()?;
    let socket = [&endpoint.socket];
    let mut buf = vec![0u8; 65_536];
    let mut progress = Progress::new(pacing.progress);
    let (mut requests, mut send_errors, mut recv_errors) = (0u64, 0u64, 0u32);
    let mut first_send_error: Option<String> = None;
    for round in 0..=pacing.retries {
        let pending: Vec<usize> = (0..targets.len())
            .filter(|&i| !scan.has_answered(i))
            .collect();
        if pending.is_empty() {
            break;
        }
        if global.verbose {
            eprintln!(
                "nbt: round {} of {}: {} at {}/s",
                round + 1,
                pacing.retries + 1,
                plural(pending.len(), "address", "addresses"),
                pacing.rate
            );
        }
        let mut pacer = Pacer::new(pacing.rate);
        let start = Instant::now();
        let mut next = 0usize;
        let mut last_send = start;
        loop {
            while next < pending.len() && pacer.try_send(start.elapsed()) {
                let i = pending[next];
                next += 1;
                let dest = SocketAddrV4::new(targets[i], global.port);
                packet[..2].copy_from_slice(&scan.trn_id(i).to_be_bytes());
                requests += 1;
                last_send = Instant::now();
                if let Err(e) = endpoint.socket.send_to(&packet, SocketAddr::V4(dest)).await {
                    send_errors += 1;
                    let msg = send_error(dest, &endpoint.label, &e);
                    if global.verbose && send_errors <= 20 {
                        eprintln!("nbt: {msg}");
                    }
                    first_send_error.get_or_insert(msg);
                }
            }
            progress.draw(
                next as u64,
                pending.len() as u64,
                scan.answered() as u64,
                false,
            );
            let wake = if next < pending.len() {
                start + pacer.due()
            } else {
                last_send + pacing.timeout
            };
            if next >= pending.len() && (Instant::now() >= wake || scan.answered() == targets.len())
            {
                break;
            }
            let event = tokio::select! {
                r = recv_any(&socket, &mut buf) => Some(r),
                _ = tokio::time::sleep_until(wake) => None,
            };
            match event {
                None => {}
                Some((_, Ok((n, SocketAddr::V4(from))))) => {
                    scan.handle(from, &buf[..n], global.verbose);
                }
                Some((_, Ok(_))) => {}
                Some((_, Err(e))) => {
                    recv_errors += 1;
                    if global.verbose {
                        eprintln!("nbt: receive error: {e}");
                    }
                    if recv_errors > MAX_RECV_ERRORS {
                        progress.finish();
                        bail!("receiving keeps failing ({e}); check the network");
                    }
                }
            }
        }
        progress.draw(
            next as u64,
            pending.len() as u64,
            scan.answered() as u64,
            true,
        );
    }
    progress.finish();
    if send_errors == requests {
        if let Some(e) = first_send_error {
            bail!("{e}; no request could be sent");
        }
    }
    Ok(Swept {
        scan,
        requests,
        send_errors,
    })
}

/// Runs `nbt scan`.
pub async fn run(req: Request, global: &Global) -> anyhow::Result<Found> {
    let cidr: Cidr = req.range.parse().map_err(|e| anyhow!("{e}"))?;
    let targets: Vec<Ipv4Addr> = cidr.hosts().collect();
    let pacing = Pacing {
        rate: req.rate,
        retries: req.retries,
        timeout: req.timeout,
        progress: true,
    };
    let Swept {
        scan,
        requests,
        send_errors,
    } = sweep(targets.clone(), pacing, global).await?;
    let (hosts, refused) = scan.results();
    let report = Report {
        range: cidr.to_string(),
        probed: targets.len(),
        requests,
        send_errors,
        hosts,
        refused,
        ignored: scan.ignored,
    };
    if global.json {
        print_json(&report)?;
    } else {
        if !report.hosts.is_empty() {
            for l in table(&report.hosts) {
                out(l)?;
            }
        }
        for r in &report.refused {
            eprintln!("nbt: {} refused node status (RCODE {})", r.address, r.rcode);
        }
        let mut summary = format!(
            "nbt: {} of {} answered ({}",
            report.hosts.len() + report.refused.len(),
            plural(report.probed, "address", "addresses"),
            plural(report.requests, "request", "requests")
        );
        if report.send_errors > 0 {
            summary.push_str(&format!(", {} could not be sent", report.send_errors));
        }
        summary.push(')');
        if let Some(s) = report.ignored.summary() {
            summary.push_str(&format!("; {s}"));
        }
        eprintln!("{summary}");
    }
    Ok(if report.hosts.is_empty() && report.refused.is_empty() {
        Found::No
    } else {
        Found::Yes
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nbtd::protocol::ScopedName;
    use nbtd::protocol::wire::ns::{NameFlags, NameServicePacket, NodeName, Rcode, Statistics};

    fn node(names: &[(&str, bool)]) -> NodeStatus {
        NodeStatus {
            names: names
                .iter()
                .map(|(n, g)| NodeName {
                    name: n.parse().unwrap(),
                    flags: if *g {
                        NameFlags::ACTIVE | NameFlags::GROUP
                    } else {
                        NameFlags::ACTIVE
                    },
                })
                .collect(),
            statistics: Statistics::with_unit_id([2, 0, 0, 0, 0, 1]),
        }
    }

    fn addr(last: u8) -> Ipv4Addr {
        Ipv4Addr::new(198, 18, 0, last)
    }

    #[test]
    fn name_and_workgroup() {
        let s = node(&[
            ("LABWG#1e", true),
            ("ALPHA#03", false),
            ("LABWG#00", true),
            ("ALPHA#20", false),
            ("ALPHA#00", false),
        ]);
        let h = summarize(addr(1), &s);
        assert_eq!(h.name.as_deref(), Some("ALPHA"));
        assert_eq!(h.workgroup.as_deref(), Some("LABWG"));
        assert_eq!(h.mac, "02-00-00-00-00-01");
        let none = summarize(addr(2), &node(&[("X#03", false), ("WG#1e", true)]));
        assert_eq!((none.name, none.workgroup), (None, None));
    }

    #[test]
    fn table_text() {
        let a = summarize(addr(1), &node(&[("ALPHA", false), ("LABWG", true)]));
        let b = summarize(addr(20), &node(&[("X#03", false)]));
        assert_eq!(
            table(&[a, b]),
            [
                "IP ADDRESS   NETBIOS NAME  WORKGROUP  MAC ADDRESS",
                "198.18.0.1   ALPHA         LABWG      02-00-00-00-00-01",
                "198.18.0.20  -             -          02-00-00-00-00-01",
            ]
        );
    }

    fn reply(trn: u16, s: NodeStatus) -> Vec<u8> {
        NameServicePacket::node_status_response(trn, ScopedName::unscoped("*".parse().unwrap()), s)
            .to_vec()
            .unwrap()
    }

    #[test]
    fn answers_match_by_source_and_transaction_id() {
        let targets = vec![addr(1), addr(2), addr(3)];
        let mut scan = Scan::new(targets, 0xfffe);
        assert_eq!(scan.trn_id(2), 0x0000, "IDs wrap around");
        let from = |last| SocketAddrV4::new(addr(last), 137);
        let s = node(&[("ALPHA", false)]);
        // Wrong ID for this source: ignored.
        assert!(!scan.handle(from(1), &reply(0xffff, s.clone()), false));
        assert_eq!(scan.ignored.wrong_id, 1);
        // Right one, then a duplicate.
        assert!(scan.handle(from(1), &reply(0xfffe, s.clone()), false));
        assert!(!scan.handle(from(1), &reply(0xfffe, s.clone()), false));
        // Garbage, and a source not in the range.
        assert!(!scan.handle(from(2), b"\x00\x01garbage", false));
        assert!(!scan.handle(from(9), &reply(0xfffe, s.clone()), false));
        assert_eq!((scan.ignored.malformed, scan.ignored.unexpected), (1, 1));
        // A negative answer counts as answered, and shows as refused.
        let neg = NameServicePacket::negative_query_response(
            0,
            ScopedName::unscoped("*".parse().unwrap()),
            Rcode::IMP_ERR,
        );
        assert!(scan.handle(from(3), &neg.to_vec().unwrap(), false));
        assert_eq!(scan.answered(), 2);
        assert!(scan.has_answered(0) && !scan.has_answered(1) && scan.has_answered(2));
        let (hosts, refused) = scan.results();
        assert_eq!(hosts.len(), 1);
        assert_eq!(hosts[0].address, addr(1));
        assert_eq!(
            refused,
            [Refused {
                address: addr(3),
                rcode: 4
            }]
        );
    }
}
