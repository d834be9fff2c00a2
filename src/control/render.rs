//! Text renderings of the control socket's answers, for people.

use std::fmt::Write as _;

use super::{DaemonStatus, NameStatusState, WinsNameState};
use crate::plural::plural;

/// The WINS lines: the server and address, then each name with its state.
fn render_wins(out: &mut String, w: &super::WinsClientStatus) {
    let address = match w.address {
        Some(a) => format!("for {a}"),
        None => "no interface address yet".to_owned(),
    };
    let others: Vec<String> = w
        .servers
        .iter()
        .filter(|a| **a != w.server)
        .map(|a| a.to_string())
        .collect();
    let others = if others.is_empty() {
        String::new()
    } else {
        format!("; then {}", others.join(", "))
    };
    let _ = writeln!(out, "WINS server {} ({address}{others}):", w.server);
    for n in &w.names {
        let label = format!("{}<{:02x}>", n.name, n.suffix);
        let next = n.next_in_secs.map(duration);
        let state = match (&n.state, next) {
            (WinsNameState::Registering, _) => "registering".to_owned(),
            (WinsNameState::Registered { ttl }, next) => {
                let ttl = if *ttl == 0 {
                    "no expiry".to_owned()
                } else {
                    format!("ttl {}", duration(u64::from(*ttl)))
                };
                match next {
                    Some(n) => format!("registered, {ttl}, refresh in {n}"),
                    None => format!("registered, {ttl}"),
                }
            }
            (WinsNameState::Refused { rcode }, _) => {
                format!("refused ({rcode}): another host holds it there")
            }
            (WinsNameState::NoAnswer, Some(n)) => format!("no answer, trying again in {n}"),
            (WinsNameState::NoAnswer, None) => "no answer".to_owned(),
        };
        let group = if n.group { "group" } else { "" };
        let _ = writeln!(out, "  {label:<20} {group:<6} {state}");
    }
}

/// Renders a status for people: the daemon, then each interface address with its names, then
/// the counters.
pub fn render_status(s: &DaemonStatus) -> String {
    let mut out = String::new();
    // Another host holding one of our names comes first: clients reach that host, not this one.
    for c in s.name_conflicts() {
        let _ = writeln!(
            out,
            "NAME CONFLICT: {} is held by {} (on {}); nbtd does not use it: give this host another \
             name or rename the host at {}",
            c.name, c.owner, c.on, c.owner
        );
    }
    let _ = writeln!(
        out,
        "nbtd {} (pid {}), up {}",
        s.version,
        s.pid,
        duration(s.uptime_secs)
    );
    let _ = writeln!(
        out,
        "NetBIOS name {}, workgroup {}",
        s.netbios_name, s.workgroup
    );
    if !s.aliases.is_empty() {
        let _ = writeln!(out, "aliases: {}", s.aliases.join(", "));
    }
    // A poisoner on the LAN is the first thing an admin must see.
    for p in &s.poisoners {
        let mac = p.mac.as_deref().unwrap_or("MAC unknown");
        let times = if p.answers == 1 {
            "once".to_owned()
        } else {
            format!("{} times", p.answers)
        };
        let _ = writeln!(
            out,
            "POISONER {} ({mac}) answered {} ({}), {times}",
            p.address, p.name, p.what
        );
    }
    if !s.remote_announce.is_off() {
        let targets: Vec<String> = s
            .remote_announce
            .targets
            .iter()
            .map(|t| format!("{} ({})", t.address, t.workgroup))
            .collect();
        let next = match s.remote_announce.next_in_secs {
            Some(secs) => format!("next in {}", duration(secs)),
            None => "none until an interface address is served".to_owned(),
        };
        let _ = writeln!(
            out,
            "announced to other subnets: {}; {next}",
            targets.join(", ")
        );
    }
    if let Some(w) = &s.wins {
        render_wins(&mut out, w);
    }
    if s.interfaces.is_empty() {
        let _ = writeln!(out, "\nno interface served");
    }
    for i in &s.interfaces {
        let _ = writeln!(
            out,
            "\n{} {}/{}, broadcast {}, MAC {}",
            i.name,
            i.address,
            u32::from(i.netmask).count_ones(),
            i.broadcast,
            i.mac
        );
        for n in &i.names {
            let label = format!("{}<{:02x}>", n.name, n.suffix);
            let state = match n.state {
                NameStatusState::Registering => "registering".to_owned(),
                NameStatusState::Active => "active".to_owned(),
                NameStatusState::Conflict { owner } => format!("conflict: held by {owner}"),
            };
            let group = if n.group { "group" } else { "" };
            let _ = writeln!(out, "  {label:<20} {group:<6} {state}");
        }
        let b = &i.browser;
        let master = match &b.master {
            None => "no master known".to_owned(),
            Some(m) => match &m.name {
                Some(n) => format!("master {n} ({})", m.address),
                None => format!("master at {}", m.address),
            },
        };
        let _ = writeln!(
            out,
            "  browser: {}, {master}; {}, {} listed",
            b.role.as_str().replace('_', "-"),
            plural(b.servers, "server", "servers"),
            plural(b.workgroups, "workgroup", "workgroups")
        );
        if !b.per_workgroup.is_empty() {
            let sizes: Vec<String> = b
                .per_workgroup
                .iter()
                .map(|w| format!("{} {}", w.workgroup, w.servers))
                .collect();
            let _ = writeln!(out, "  servers per workgroup: {}", sizes.join(", "));
        }
        if !b.elections.is_empty() {
            let _ = writeln!(out, "  elections and role changes (oldest first):");
            for e in &b.elections {
                let _ = writeln!(
                    out,
                    "    {:>12} ago  {}",
                    duration(e.secs_ago),
                    e.describe()
                );
            }
        }
    }
    if let Some(x) = &s.session {
        let c = &x.counters;
        let _ = writeln!(
            out,
            "session service: TCP on {}; {}, {} refused when busy, \
             {} refused over the per-source cap, {} closed on errors, {} timed out ({} in the \
             handshake, {} not reading replies)",
            plural(x.serving, "address", "addresses"),
            plural(c.accepted, "connection", "connections"),
            c.refused_busy,
            c.refused_per_source,
            c.closed_on_error,
            c.timed_out,
            c.handshake_timeouts,
            c.write_timeouts
        );
    }
    let c = &s.name_service;
    let d = &s.driver;
    let g = &s.datagram_service;
    let b = &s.browser;
    let _ = writeln!(
        out,
        "\nname service: received {}, malformed {}, off-subnet {}, ignored {}",
        c.received, c.malformed, c.off_subnet, c.ignored
    );
    let _ = writeln!(
        out,
        "answered: {} positive, {} negative, {} node status; defended {}, conflicts {}, \
         releases and demands ignored {}; group members left {}",
        c.positive_answers,
        c.negative_answers,
        c.node_status_answers,
        c.defended,
        c.conflicts,
        c.hostile_ignored,
        c.group_releases
    );
    let _ = writeln!(
        out,
        "datagrams received {}: malformed {}, off-subnet {}; browser frames {}, malformed {}, \
         ignored {}, entries refused by a cap {}",
        g.received, g.malformed, g.off_subnet, b.frames, b.malformed, b.ignored, b.refused
    );
    let _ = writeln!(
        out,
        "elections: started {}, won {}, lost {}",
        b.elections_started, b.elections_won, b.elections_lost
    );
    let _ = writeln!(
        out,
        "sent {}; send errors {}, receive errors {}, dropped on a full queue {} (daemon) {} \
         (engine)",
        c.sent, d.send_errors, d.receive_errors, d.dropped_queue_full, c.queue_overflow
    );
    let _ = writeln!(
        out,
        "dropped input: {} malformed, {} off-subnet, {} from impossible sources, {} hostile \
         releases and conflict demands for our unique names, {} browser frames under our \
         name, {} announcements over the per-source caps, {} answers over the per-source rate \
         limits, {} on a full queue",
        c.malformed + g.malformed,
        c.off_subnet + g.off_subnet,
        c.impossible_source + b.impossible_source,
        c.hostile_ignored,
        b.forged_own_name,
        b.source_capped,
        c.rate_limited + b.rate_limited,
        d.dropped_queue_full + c.queue_overflow
    );
    let _ = writeln!(
        out,
        "sent: {} name service, {} datagram service; configuration reloads: {} applied, {} \
         refused",
        d.sent_name, d.sent_datagram, s.reloads.applied, s.reloads.failed
    );
    out
}

fn duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d {h:02}h {m:02}m")
    } else if h > 0 {
        format!("{h}h {m:02}m {s:02}s")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::tests::sample;

    #[test]
    fn text_rendering() {
        let t = render_status(&sample());
        assert!(
            t.starts_with(
                "NAME CONFLICT: ALPHA<20> is held by 198.18.0.9 (on eth0 198.18.0.1); nbtd does \
                 not use it: give this host another name or rename the host at 198.18.0.9\n\
                 nbtd 0.1.0 (pid 42), up 1h 02m 05s\n"
            ),
            "the conflict first: {t}"
        );
        assert!(
            t.contains("eth0 198.18.0.1/24, broadcast 198.18.0.255"),
            "{t}"
        );
        assert!(t.contains("ALPHA<20>"), "{t}");
        assert!(t.contains("conflict: held by 198.18.0.9"), "{t}");
        assert!(t.contains("LABWG<1e>            group  active"), "{t}");
        assert!(
            t.contains(
                "  browser: backup, master BRAVO (198.18.0.2); 3 servers, 1 workgroup listed"
            ),
            "{t}"
        );
        assert!(t.contains("datagrams received 7"), "{t}");
        assert!(t.contains("elections: started 0, won 2, lost 0"), "{t}");
        assert!(t.contains("  servers per workgroup: LABWG 3\n"), "{t}");
        assert!(
            t.contains("  elections and role changes (oldest first):\n"),
            "{t}"
        );
        assert!(
            t.contains("      1m 15s ago  lost the election to BRAVO (198.18.0.2)\n"),
            "{t}"
        );
        assert!(t.contains("dropped input: 0 malformed"), "{t}");
        assert!(!t.contains("other subnets"), "none configured: {t}");
        let mut s = sample();
        s.remote_announce = crate::control::RemoteAnnounceStatus {
            targets: vec![crate::control::RemoteTarget {
                address: std::net::Ipv4Addr::new(198, 19, 1, 2),
                workgroup: "FARWG".into(),
            }],
            next_in_secs: Some(130),
        };
        let t = render_status(&s);
        assert!(
            t.contains("announced to other subnets: 198.19.1.2 (FARWG); next in 2m 10s\n"),
            "{t}"
        );
        assert!(!t.contains("WINS"), "none configured: {t}");
        let mut s = sample();
        s.wins = Some(crate::control::tests::sample_wins());
        let t = render_status(&s);
        for line in [
            "WINS server 198.19.0.1 (for 198.18.0.1; then 198.19.0.2):\n",
            "  ALPHA<00>                   registered, ttl 6h 00m 00s, refresh in 20m 00s\n",
            "  ALPHA<20>                   registering\n",
            "  ALPHA<03>                   refused (ACT_ERR): another host holds it there\n",
            "  LABWG<1e>            group  no answer, trying again in 4m 50s\n",
        ] {
            assert!(t.contains(line), "{line:?} in:\n{t}");
        }
        assert_eq!(duration(59), "59s");
        assert_eq!(duration(90_061), "1d 01h 01m");
    }
}
