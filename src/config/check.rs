//! The checks [`Config::resolve`](super::Config::resolve) runs on each section, with the
//! error that says what is wrong and what to do.

use std::net::Ipv4Addr;

use super::*;
use crate::protocol::engine::browser::RemoteAnnounce;

pub(super) fn check_ports(p: &Ports) -> Result<(), ConfigError> {
    for (key, v) in [
        ("ports.name", p.name),
        ("ports.datagram", p.datagram),
        ("ports.session", p.session),
    ] {
        if v == 0 {
            return Err(ConfigError::BadPort(format!(
                "{key} = 0 is not valid: give a port from 1 to 65535"
            )));
        }
    }
    // The session service is TCP, so only the two UDP services may not share a port.
    if p.name == p.datagram {
        return Err(ConfigError::BadPort(format!(
            "ports.name and ports.datagram are both {}: the name and datagram services need \
             their own UDP ports",
            p.name
        )));
    }
    Ok(())
}

pub(super) fn check_patterns(list: &'static str, patterns: &[String]) -> Result<(), ConfigError> {
    for p in patterns {
        let bad = |reason| ConfigError::BadPattern {
            list,
            pattern: p.clone(),
            reason,
        };
        if p.is_empty() {
            return Err(bad("it is empty"));
        }
        if p.chars().any(|c| c.is_whitespace() || c == '/' || c == ',') {
            return Err(bad(
                "interface names have no spaces, commas or slashes (give one name a pattern)",
            ));
        }
        if !p.contains('*') && p.len() > MAX_IFNAME {
            return Err(bad("longer than the 15 characters of an interface name"));
        }
    }
    Ok(())
}

pub(super) fn check_path(key: &'static str, path: &Path) -> Result<(), ConfigError> {
    if path.as_os_str().is_empty() {
        return Err(ConfigError::BadPath {
            key,
            path: path.to_owned(),
            reason: "empty: give a path",
        });
    }
    Ok(())
}

pub(super) fn check_session(s: &SessionSection, shares: &[ShareConfig]) -> Result<(), ConfigError> {
    let bad = |key, value: String, reason: String| ConfigError::BadSession { key, value, reason };
    if !(1..=4096).contains(&s.max_connections) {
        return Err(bad(
            "session.max_connections",
            s.max_connections.to_string(),
            "give a number from 1 to 4096".into(),
        ));
    }
    if !(1..=s.max_connections).contains(&s.max_connections_per_source) {
        return Err(bad(
            "session.max_connections_per_source",
            s.max_connections_per_source.to_string(),
            format!(
                "give a number from 1 to session.max_connections ({}): one address holds part \
                 of the connections",
                s.max_connections
            ),
        ));
    }
    for (key, v) in [
        ("session.handshake_timeout_secs", s.handshake_timeout_secs),
        ("session.idle_timeout_secs", s.idle_timeout_secs),
        ("session.write_timeout_secs", s.write_timeout_secs),
    ] {
        if !(1..=3600).contains(&v) {
            return Err(bad(key, v.to_string(), "give 1 to 3600 seconds".into()));
        }
    }
    if !(1028..=0x1_FFFF + 4).contains(&s.max_frame_len) {
        return Err(bad(
            "session.max_frame_len",
            s.max_frame_len.to_string(),
            "give 1028 to 131075 bytes (clients need at least 1024 bytes of SMB)".into(),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for sh in shares {
        let n = &sh.name;
        if n.is_empty() || n.len() > 12 || !n.chars().all(|c| c.is_ascii_graphic()) {
            return Err(bad(
                "share.name",
                format!("{n:?}"),
                "give 1 to 12 printable ASCII characters: RAP lists share names in 13 bytes".into(),
            ));
        }
        if !seen.insert(n.to_ascii_uppercase()) {
            return Err(bad(
                "share.name",
                format!("{n:?}"),
                "listed twice (share names compare without regard to case)".into(),
            ));
        }
        if sh.comment.len() > 255 || !sh.comment.chars().all(|c| c == ' ' || c.is_ascii_graphic()) {
            return Err(bad(
                "share.comment",
                format!("{:?}", sh.comment),
                "use at most 255 printable ASCII characters".into(),
            ));
        }
    }
    Ok(())
}

pub(super) fn check_browser(b: &BrowserSection) -> Result<(), ConfigError> {
    let bad = |key, value: String, reason: String| ConfigError::BadBrowser { key, value, reason };
    if b.comment.len() > MAX_COMMENT_LEN {
        return Err(bad(
            "comment",
            format!("{:?}", b.comment),
            format!(
                "it has {} bytes; peers list at most {MAX_COMMENT_LEN}, so shorten it",
                b.comment.len()
            ),
        ));
    }
    if let Some(c) = b
        .comment
        .chars()
        .find(|c| !c.is_ascii() || c.is_ascii_control())
    {
        return Err(bad(
            "comment",
            format!("{:?}", b.comment),
            format!("{c:?} is not allowed: use printable ASCII characters"),
        ));
    }
    for (key, v) in [
        ("max_servers_per_workgroup", b.max_servers_per_workgroup),
        ("max_workgroups", b.max_workgroups),
        ("max_servers_total", b.max_servers_total),
        ("max_servers_per_source", b.max_servers_per_source),
        ("max_workgroups_per_source", b.max_workgroups_per_source),
    ] {
        if !(1..=MAX_BROWSE_CAP).contains(&v) {
            return Err(bad(
                key,
                v.to_string(),
                format!("give a number from 1 to {MAX_BROWSE_CAP}"),
            ));
        }
    }
    if b.max_servers_per_workgroup > b.max_servers_total {
        return Err(bad(
            "max_servers_per_workgroup",
            b.max_servers_per_workgroup.to_string(),
            format!(
                "more than max_servers_total ({}); lower it or raise max_servers_total",
                b.max_servers_total
            ),
        ));
    }
    if !MASTER_PROBE_RANGE_MS.contains(&b.master_probe_interval_ms) {
        return Err(bad(
            "master_probe_interval_ms",
            b.master_probe_interval_ms.to_string(),
            format!(
                "give {} to {} milliseconds (3000 replaces a dead master within 15 s)",
                MASTER_PROBE_RANGE_MS.start(),
                MASTER_PROBE_RANGE_MS.end()
            ),
        ));
    }
    Ok(())
}

/// Most `remote_announce` entries.
const MAX_REMOTE_ANNOUNCE: usize = 64;

/// The `remote_announce` entries of `b` as the browser takes them (`ADDRESS[/WORKGROUP]`,
/// the workgroup `workgroup` where none is given); the error names the entry and what to give.
pub fn remote_announce_targets(
    b: &BrowserSection,
    workgroup: NetbiosName,
) -> Result<Vec<RemoteAnnounce>, ConfigError> {
    let bad = |value: &str, reason: String| ConfigError::BadBrowser {
        key: "remote_announce",
        value: format!("{value:?}"),
        reason,
    };
    if b.remote_announce.len() > MAX_REMOTE_ANNOUNCE {
        return Err(bad(
            &format!("[{} entries]", b.remote_announce.len()),
            format!("give at most {MAX_REMOTE_ANNOUNCE} addresses"),
        ));
    }
    let mut targets: Vec<RemoteAnnounce> = Vec::with_capacity(b.remote_announce.len());
    for entry in &b.remote_announce {
        let (addr, wg) = match entry.split_once('/') {
            Some((a, w)) => (a, Some(w)),
            None => (entry.as_str(), None),
        };
        let addr: Ipv4Addr = addr.trim().parse().map_err(|_| {
            bad(
                entry,
                "give an IPv4 address, optionally with /WORKGROUP, e.g. \"192.168.2.255\" or \
                 \"192.168.3.10/OFFICE\""
                    .into(),
            )
        })?;
        if addr.is_unspecified() || addr.is_multicast() || addr == Ipv4Addr::BROADCAST {
            return Err(bad(
                entry,
                format!(
                    "{addr} reaches no browser on another subnet: give a browser's address \
                     there, or that subnet's broadcast address (e.g. 192.168.2.255)"
                ),
            ));
        }
        let workgroup = match wg {
            Some(w) => parse_netbios_name("remote_announce", w.trim())?,
            None => workgroup,
        };
        let t = RemoteAnnounce { addr, workgroup };
        if targets.contains(&t) {
            return Err(bad(entry, "listed twice; keep one".into()));
        }
        targets.push(t);
    }
    Ok(targets)
}

/// Most WINS servers.
const MAX_WINS_SERVERS: usize = 8;

/// The `wins_server` value: empty for none, else unicast IPv4 addresses separated by spaces or
/// commas, each once.
pub(super) fn wins_servers(value: &str) -> Result<Vec<Ipv4Addr>, ConfigError> {
    let bad = |reason| ConfigError::BadWinsServer {
        value: value.to_owned(),
        reason,
    };
    let mut servers = Vec::new();
    for word in value.split([' ', ',', '\t']).filter(|w| !w.is_empty()) {
        let addr: Ipv4Addr = word.parse().map_err(|_| {
            bad(
                "give the WINS server's IPv4 address, e.g. \"192.168.1.2\" (more than one \
                 separated by spaces, tried in order), or leave it empty",
            )
        })?;
        if addr.is_unspecified() || addr.is_multicast() || addr.is_broadcast() {
            return Err(bad(
                "not a server's address: give the WINS server's own IPv4 address",
            ));
        }
        if servers.contains(&addr) {
            return Err(bad("an address is given twice; keep one"));
        }
        servers.push(addr);
    }
    if servers.len() > MAX_WINS_SERVERS {
        return Err(bad("give at most 8 WINS servers"));
    }
    Ok(servers)
}

/// The levels a log directive may name, as the error lists them.
pub const LOG_LEVELS: &str = "off, error, warn (or warning), info, debug or trace";

/// Checks a log level or filter (`warn`, `info,nbtd=debug`) and returns it as tracing's
/// `EnvFilter` reads it, with `warning` spelled `warn`. A bare word must be a level: the filter
/// parser would take `warning` or `verbose` for a target and turn every other log line off.
pub fn log_directive(value: &str) -> Result<String, String> {
    if value.trim().is_empty() {
        return Err(format!("it is empty; give one of {LOG_LEVELS}"));
    }
    let mut out = Vec::new();
    for part in value.split(',').map(str::trim) {
        if part.is_empty() {
            continue;
        }
        // A span filter (`target[span{field=x}]` or `…=level`) holds '=' of its own: the
        // level is what follows the last `]=`, and the rest is left to the parser.
        let (target, level) = if part.contains('[') {
            match part.rsplit_once("]=") {
                Some((t, l)) => (Some(format!("{t}]")), l),
                None => {
                    out.push(part.to_owned());
                    continue;
                }
            }
        } else {
            match part.split_once('=') {
                Some((t, l)) => (Some(t.to_owned()), l),
                None => (None, part),
            }
        };
        let level = match level.trim() {
            l if l.eq_ignore_ascii_case("warning") => "warn",
            "" => return Err(format!("{part:?} names no level; give one of {LOG_LEVELS}")),
            l if l.parse::<tracing_subscriber::filter::LevelFilter>().is_ok() => l,
            l => return Err(format!("{l:?} is not a level; give one of {LOG_LEVELS}")),
        };
        out.push(match target {
            Some(t) => format!("{t}={level}"),
            None => level.to_owned(),
        });
    }
    let directive = out.join(",");
    tracing_subscriber::EnvFilter::builder()
        .parse(&directive)
        .map_err(|e| e.to_string())?;
    Ok(directive)
}

pub(super) fn check_log_level(value: &str) -> Result<String, ConfigError> {
    log_directive(value).map_err(|reason| ConfigError::BadLogLevel {
        value: value.to_owned(),
        reason,
    })
}
