//! `nbt status`: a node status request (`*<00>`, NBSTAT) unicast to one host, shown as a name
//! table with the MAC address, in the spirit of `nbtstat -A`.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use nbtd::protocol::wire::Emit;
use nbtd::protocol::wire::ns::{NameServicePacket, NodeStatus, PacketKind, Rcode};
use nbtd::protocol::{NetbiosName, ScopedName};
use serde::Serialize;

use crate::common::{
    Found, Global, Ignore, Ignored, NameEntry, base_text, mac_text, name_flag_words, out,
    print_json, random_u16, rcode_meaning, render_table, show_duration, suffix_meaning,
};
use crate::exchange::{self, Flow, Plan};
use crate::lookup;

/// A status request as the command line asks for it.
#[derive(Debug, Clone)]
pub struct Request {
    /// An IPv4 address or a NetBIOS name.
    pub host: String,
    /// Where to look a name up.
    pub resolver: lookup::Target,
    /// How long to wait.
    pub timeout: Duration,
    /// Repetitions after the first request.
    pub retries: u32,
}

/// The request every status and scan sends: NBSTAT for `*<00>`.
pub fn request(trn_id: u16) -> NameServicePacket {
    NameServicePacket::node_status_request(trn_id, ScopedName::unscoped(NetbiosName::WILDCARD))
}

/// What a reply to a node status request says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusAnswer {
    /// The name table and statistics.
    Status(NodeStatus),
    /// A negative answer.
    Negative(Rcode),
}

/// Reads a reply to our node status request with transaction ID `trn_id`.
pub fn classify(bytes: &[u8], trn_id: u16) -> Result<StatusAnswer, Ignore> {
    let p = NameServicePacket::parse(bytes).map_err(|e| Ignore::Malformed(e.to_string()))?;
    if p.trn_id != trn_id {
        return Err(Ignore::WrongId(p.trn_id));
    }
    match p.kind() {
        PacketKind::NodeStatusResponse => p
            .answers
            .iter()
            .find_map(|a| a.node_status())
            .map(|s| StatusAnswer::Status(s.clone()))
            .ok_or_else(|| Ignore::Unexpected("node status answer without a name table".into())),
        PacketKind::NegativeNameQueryResponse => Ok(StatusAnswer::Negative(p.rcode)),
        other => Err(Ignore::Unexpected(format!(
            "{other:?}, not an answer to a node status request"
        ))),
    }
}

/// The result of `nbt status`, for JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The address asked.
    pub host: Ipv4Addr,
    /// The name it was resolved from, if one was given.
    pub resolved_from: Option<String>,
    /// Who answered.
    pub from: SocketAddrV4,
    /// The name table.
    pub names: Vec<NameEntry>,
    /// The unit ID: by convention the MAC address (Samba sends zeros).
    pub mac: String,
    /// Replies not used.
    pub ignored: Ignored,
}

/// The name table as text lines: name, suffix, UNIQUE/GROUP, flags, and what the name means.
pub fn table(status: &NodeStatus) -> Vec<String> {
    let rows: Vec<[String; 5]> = status
        .names
        .iter()
        .map(|n| {
            [
                base_text(&n.name),
                format!("<{:02x}>", n.name.suffix()),
                if n.flags.is_group() {
                    "GROUP"
                } else {
                    "UNIQUE"
                }
                .to_owned(),
                name_flag_words(n.flags).join(" "),
                suffix_meaning(n).to_owned(),
            ]
        })
        .collect();
    render_table(["NAME", "SUFFIX", "TYPE", "FLAGS", "SERVICE"], rows)
}

/// Sends the node status request to `host` and waits for the first answer.
pub async fn ask(
    host: Ipv4Addr,
    timeout: Duration,
    retries: u32,
    global: &Global,
) -> anyhow::Result<(Option<(SocketAddrV4, StatusAnswer)>, Ignored)> {
    let trn_id = random_u16();
    let packet = request(trn_id).to_vec()?;
    let endpoints = vec![exchange::unicast_endpoint()?];
    let plan = Plan {
        packet: &packet,
        dests: vec![(0, SocketAddrV4::new(host, global.port))],
        sends: retries + 1,
        interval: timeout / (retries + 1),
        deadline: timeout,
    };
    let mut got = None;
    let mut ignored = Ignored::default();
    exchange::run(
        &endpoints,
        &plan,
        global.verbose,
        |_, from, bytes| match classify(bytes, trn_id) {
            Ok(a) => {
                got = Some((from, a));
                Flow::Stop
            }
            Err(why) => {
                ignored.note(from, &why, global.verbose);
                Flow::Continue
            }
        },
    )
    .await?;
    Ok((got, ignored))
}

/// Runs `nbt status`.
pub async fn run(req: Request, global: &Global) -> anyhow::Result<Found> {
    let Some((host, resolved_from)) =
        lookup::resolve_host(&req.host, &req.resolver, global).await?
    else {
        return Ok(Found::No);
    };
    let resolved_from = resolved_from.map(|n| n.to_string());
    let (got, ignored) = ask(host, req.timeout, req.retries, global).await?;
    if global.verbose {
        if let Some(s) = ignored.summary() {
            eprintln!("nbt: {s}");
        }
    }
    let (from, status) = match got {
        Some((from, StatusAnswer::Status(s))) => (from, s),
        Some((from, StatusAnswer::Negative(rcode))) => {
            eprintln!(
                "nbt: {} refused node status: RCODE {} {} ({})",
                from.ip(),
                rcode.value(),
                rcode.name(),
                rcode_meaning(rcode)
            );
            return Ok(Found::No);
        }
        None => {
            eprintln!(
                "nbt: no node status answer from {host}:{} within {} ({} {}); check that the host \
                 runs a NetBIOS name service and that no firewall drops UDP {}",
                global.port,
                show_duration(req.timeout),
                req.retries + 1,
                if req.retries == 0 { "try" } else { "tries" },
                global.port
            );
            return Ok(Found::No);
        }
    };
    let report = Report {
        host,
        resolved_from,
        from,
        names: status.names.iter().map(NameEntry::from).collect(),
        mac: mac_text(&status.statistics.unit_id),
        ignored,
    };
    if global.json {
        print_json(&report)?;
    } else {
        match &report.resolved_from {
            Some(n) => out(format_args!("Node status of {n} ({host}):"))?,
            None => out(format_args!("Node status of {host}:"))?,
        }
        if status.names.is_empty() {
            out("(no names)")?;
        } else {
            for l in table(&status) {
                out(l)?;
            }
        }
        out(format_args!("MAC address: {}", report.mac))?;
    }
    Ok(Found::Yes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nbtd::protocol::wire::ns::{NameFlags, NodeName, Statistics};

    fn entry(name: &str, flags: NameFlags) -> NodeName {
        NodeName {
            name: name.parse().unwrap(),
            flags,
        }
    }

    fn samba() -> NodeStatus {
        let a = NameFlags::ACTIVE;
        let g = NameFlags::ACTIVE | NameFlags::GROUP;
        NodeStatus {
            names: vec![
                entry("ALPHA#00", a),
                entry("ALPHA#03", a),
                entry("ALPHA#20", a),
                entry("LABWG#00", g),
                entry("LABWG#1e", g),
            ],
            statistics: Statistics::with_unit_id([0, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e]),
        }
    }

    #[test]
    fn classify_replies() {
        let q = ScopedName::unscoped(NetbiosName::WILDCARD);
        let ok = NameServicePacket::node_status_response(9, q.clone(), samba());
        let bytes = ok.to_vec().unwrap();
        assert_eq!(classify(&bytes, 9), Ok(StatusAnswer::Status(samba())));
        assert_eq!(classify(&bytes, 10), Err(Ignore::WrongId(9)));
        for cut in [0, 1, 12, 40, bytes.len() - 60] {
            assert!(
                matches!(classify(&bytes[..cut], 9), Err(Ignore::Malformed(_))),
                "cut at {cut}"
            );
        }
        let neg = NameServicePacket::negative_query_response(9, q.clone(), Rcode::IMP_ERR);
        assert_eq!(
            classify(&neg.to_vec().unwrap(), 9),
            Ok(StatusAnswer::Negative(Rcode::IMP_ERR))
        );
        let req = request(9).to_vec().unwrap();
        assert!(matches!(classify(&req, 9), Err(Ignore::Unexpected(_))));
    }

    #[test]
    fn table_like_nbtstat() {
        let t = table(&samba());
        assert_eq!(
            t,
            [
                "NAME   SUFFIX  TYPE    FLAGS   SERVICE",
                "ALPHA  <00>    UNIQUE  ACTIVE  workstation",
                "ALPHA  <03>    UNIQUE  ACTIVE  messenger",
                "ALPHA  <20>    UNIQUE  ACTIVE  file server",
                "LABWG  <00>    GROUP   ACTIVE  workgroup",
                "LABWG  <1e>    GROUP   ACTIVE  browser elections",
            ]
        );
        let odd = NodeStatus {
            names: vec![NodeName {
                name: NetbiosName::MSBROWSE,
                flags: NameFlags::ACTIVE | NameFlags::GROUP | NameFlags::CONFLICT,
            }],
            statistics: Statistics::default(),
        };
        assert_eq!(
            table(&odd)[1],
            "\\x01\\x02__MSBROWSE__\\x02  <01>    GROUP  ACTIVE CONFLICT  master browsers"
        );
    }

    #[test]
    fn json_entries() {
        let s = samba();
        let e: Vec<NameEntry> = s.names.iter().map(NameEntry::from).collect();
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v[4]["netbios_name"], "LABWG<1e>");
        assert_eq!(v[4]["suffix"], 0x1e);
        assert_eq!(v[4]["group"], true);
        assert_eq!(v[0]["flags"][0], "ACTIVE");
    }
}
