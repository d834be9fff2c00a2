//! nbtd takes up interface addresses that appear and drops those that go, without a restart.
//! Runs in a network namespace of its own (a veth pair, nothing leaves it); skipped, saying why,
//! where namespaces cannot be made.

mod nbtd_harness;

use std::net::Ipv4Addr;

use nbtd_harness::{Daemon, Netns, PATIENCE, Scratch, active_on};

#[test]
fn addresses_that_come_and_go_are_taken_up_without_a_restart() {
    let Some(ns) = Netns::create("rescan") else {
        return;
    };
    let dir = Scratch::new("rescan");
    ns.ip(&[
        "link", "add", "nbt0", "type", "veth", "peer", "name", "nbt1",
    ]);
    ns.ip(&["addr", "add", "198.19.70.1/24", "dev", "nbt0"]);
    ns.ip(&["link", "set", "nbt0", "up"]);
    ns.ip(&["link", "set", "nbt1", "up"]);
    let config = dir.path("nbtd.toml");
    std::fs::write(&config, "[interfaces]\nrescan_interval_secs = 1\n").unwrap();

    let mut cmd = ns.command(nbtd_harness::NBTD);
    cmd.args(["--config", config.to_str().unwrap()])
        .args(["--interfaces", "nbt*", "--netbios-name", "RESCANTEST"])
        .args(dir.daemon_paths());
    let mut d = Daemon::spawn(cmd);
    let first = Ipv4Addr::new(198, 19, 70, 1);
    let second = Ipv4Addr::new(198, 19, 71, 1);
    let st = d.wait_for_status(
        &dir.control_socket(),
        "names active on nbt0",
        PATIENCE,
        |s| active_on(s, first),
    );
    assert_eq!(st.interfaces.len(), 1, "{st:#?}");

    ns.ip(&["addr", "add", "198.19.71.1/24", "dev", "nbt1"]);
    let st = d.wait_for_status(
        &dir.control_socket(),
        "the new address served",
        PATIENCE,
        |s| active_on(s, second),
    );
    assert_eq!(st.interfaces.len(), 2, "{st:#?}");
    let nbt1 = st.interfaces.iter().find(|i| i.address == second).unwrap();
    assert_eq!(nbt1.name, "nbt1");
    assert_eq!(nbt1.broadcast, Ipv4Addr::new(198, 19, 71, 255));

    ns.ip(&["addr", "del", "198.19.71.1/24", "dev", "nbt1"]);
    let st = d.wait_for_status(
        &dir.control_socket(),
        "the removed address dropped",
        PATIENCE,
        |s| s.interfaces.len() == 1,
    );
    assert!(active_on(&st, first), "the other address is untouched");

    d.signal("TERM");
    let status = d.wait(PATIENCE);
    let log = d.stderr();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("new address; serving"), "{log}");
    assert!(log.contains("no longer serving"), "{log}");
}
