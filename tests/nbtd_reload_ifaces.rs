//! SIGHUP with a new interface allow list serves the newly allowed addresses and drops the
//! ones no longer allowed at once, without a periodic rescan, and keeps the others' names.
//! Runs in a network namespace of its own; skipped, saying why, without root.

mod nbtd_harness;

use std::net::Ipv4Addr;

use nbtd::control::DaemonStatus;
use nbtd_harness::{Daemon, Netns, PATIENCE, Scratch, active_on};

fn served(st: &DaemonStatus) -> Vec<Ipv4Addr> {
    st.interfaces.iter().map(|i| i.address).collect()
}

#[test]
fn sighup_applies_a_new_allow_list_at_once() {
    let Some(ns) = Netns::create("reload-ifaces") else {
        return;
    };
    let dir = Scratch::new("reload-ifaces");
    for (dev, peer, addr) in [
        ("nbt0", "nbt0p", "10.79.0.1/24"),
        ("nbt1", "nbt1p", "10.79.1.1/24"),
    ] {
        ns.ip(&["link", "add", dev, "type", "veth", "peer", "name", peer]);
        ns.ip(&["addr", "add", addr, "dev", dev]);
        ns.ip(&["link", "set", dev, "up"]);
        ns.ip(&["link", "set", peer, "up"]);
    }
    let (a, b) = (Ipv4Addr::new(10, 79, 0, 1), Ipv4Addr::new(10, 79, 1, 1));
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

    write("[\"nbt1\"]");
    d.signal("HUP");
    let st = d.wait_for_status(
        &dir.control_socket(),
        "nbt0 dropped after the reload",
        PATIENCE,
        |s| served(s) == [b],
    );
    assert!(active_on(&st, b), "nbt1's names are kept: {st:#?}");
    assert_eq!(st.reloads.applied, 2);

    d.signal("TERM");
    let status = d.wait(PATIENCE);
    let log = d.stderr();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("applied interfaces"), "{log}");
}
