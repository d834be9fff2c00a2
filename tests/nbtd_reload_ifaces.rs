//! SIGHUP with a new interface allow list serves the newly allowed addresses and drops the
//! ones no longer allowed at once, without a periodic rescan, and keeps the others' names. An
//! address dropped that way still works, so nbtd releases its names there first, which a peer
//! on that link hears. Runs in network namespaces of its own; skipped, saying why, without
//! root.

mod common;
mod nbtd_harness;

use std::net::{Ipv4Addr, UdpSocket};
use std::time::{Duration, Instant};

use common::load::in_netns;
use nbtd::control::DaemonStatus;
use nbtd::protocol::wire::ns::{NameServicePacket, PacketKind};
use nbtd_harness::{Daemon, Netns, PATIENCE, Scratch, active_on};

fn served(st: &DaemonStatus) -> Vec<Ipv4Addr> {
    st.interfaces.iter().map(|i| i.address).collect()
}

#[test]
fn sighup_applies_a_new_allow_list_at_once() {
    let Some(ns) = Netns::create("reload-ifaces") else {
        return;
    };
    let Some(peer_ns) = Netns::create("reload-ifaces-peer") else {
        return;
    };
    let dir = Scratch::new("reload-ifaces");
    for (dev, peer, addr) in [
        ("nbt0", "nbt0p", "198.19.90.1/24"),
        ("nbt1", "nbt1p", "198.19.91.1/24"),
    ] {
        ns.ip(&["link", "add", dev, "type", "veth", "peer", "name", peer]);
        ns.ip(&["addr", "add", addr, "dev", dev]);
        ns.ip(&["link", "set", dev, "up"]);
        ns.ip(&["link", "set", peer, "up"]);
    }
    // A peer on nbt0's link, in a namespace of its own, listens on the name service port.
    ns.ip(&["link", "set", "nbt0p", "netns", &peer_ns.0]);
    peer_ns.ip(&["addr", "add", "198.19.90.2/24", "dev", "nbt0p"]);
    peer_ns.ip(&["link", "set", "nbt0p", "up"]);
    let listener = in_netns(&peer_ns.0, || {
        let s = UdpSocket::bind("0.0.0.0:137").expect("bind the peer's UDP 137");
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        s
    });
    let (a, b) = (Ipv4Addr::new(198, 19, 90, 1), Ipv4Addr::new(198, 19, 91, 1));
    let config = dir.path("nbtd.toml");
    // No periodic scan: only the reload can take the change up.
    let write = |allow: &str| {
        std::fs::write(
            &config,
            format!("[interfaces]\nallow = {allow}\nrescan_interval_secs = 0\n"),
        )
        .unwrap()
    };
    write("[\"nbt0\"]");
    let mut cmd = ns.command(nbtd_harness::NBTD);
    cmd.args(["--config", config.to_str().unwrap()])
        .args(["--netbios-name", "RELOADIF", "--log-level", "info"])
        .args(dir.daemon_paths());
    let mut d = Daemon::spawn(cmd);
    let st = d.wait_for_status(
        &dir.control_socket(),
        "names active on nbt0",
        PATIENCE,
        |s| active_on(s, a),
    );
    assert_eq!(served(&st), [a]);

    write("[\"nbt*\"]");
    d.signal("HUP");
    let st = d.wait_for_status(
        &dir.control_socket(),
        "nbt1 served after the reload",
        PATIENCE,
        |s| active_on(s, b) && active_on(s, a),
    );
    assert_eq!(st.interfaces.len(), 2, "{st:#?}");

    let held_on_a: Vec<(String, u8)> = st
        .interfaces
        .iter()
        .filter(|i| i.address == a)
        .flat_map(|i| i.names.iter().map(|n| (n.name.clone(), n.suffix)))
        .collect();
    // What the peer heard so far (registrations) is not the point.
    while listener.recv_from(&mut [0; 1500]).is_ok() {}

    write("[\"nbt1\"]");
    d.signal("HUP");
    let st = d.wait_for_status(
        &dir.control_socket(),
        "nbt0 dropped after the reload",
        PATIENCE,
        |s| served(s) == [b],
    );
    assert!(active_on(&st, b), "nbt1's names are kept: {st:#?}");
    let released = releases_heard(&listener, a, held_on_a.len());
    assert_eq!(
        released.len(),
        held_on_a.len(),
        "every name held on nbt0 is released there: held {held_on_a:?}, released {released:?}"
    );
    for n in &held_on_a {
        assert!(
            !n.0.chars().all(|c| c.is_ascii_graphic()) || released.contains(n),
            "{n:?} is released: {released:?}"
        );
    }
    assert_eq!(st.reloads.applied, 2);

    d.signal("TERM");
    let status = d.wait(PATIENCE);
    let log = d.stderr();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("applied interfaces"), "{log}");
}

/// The names released by `from` that `listener` hears, until it has heard `want` of them or
/// [`PATIENCE`] is over.
fn releases_heard(listener: &UdpSocket, from: Ipv4Addr, want: usize) -> Vec<(String, u8)> {
    let mut released = Vec::new();
    let until = Instant::now() + PATIENCE;
    let mut buf = [0; 1500];
    while released.len() < want && Instant::now() < until {
        let Ok((n, src)) = listener.recv_from(&mut buf) else {
            continue;
        };
        let Ok(p) = NameServicePacket::parse(&buf[..n]) else {
            continue;
        };
        if src.ip() != from || p.kind() != PacketKind::NameReleaseRequest {
            continue;
        }
        if let Some(q) = p.questions.first() {
            released.push((q.name.name.base_str(), q.name.name.suffix()));
        }
    }
    released
}
