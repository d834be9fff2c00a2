//! nbtd takes up interface addresses that appear and drops those that go, without a restart.
//! Runs in a network namespace of its own (a veth pair, nothing leaves it); skipped, saying why,
//! where namespaces cannot be made.

mod nbtd_harness;

use std::net::Ipv4Addr;
use std::thread::sleep;
use std::time::{Duration, Instant};

use nbtd::control::{DaemonStatus, NameStatusState, query_status};
use nbtd_harness::{Daemon, Netns, PATIENCE, Scratch};

/// Polls the status (bounded) until `done` holds.
fn wait_for(
    d: &mut Daemon,
    dir: &Scratch,
    what: &str,
    done: impl Fn(&DaemonStatus) -> bool,
) -> DaemonStatus {
    let end = Instant::now() + PATIENCE;
    let mut last = None;
    while Instant::now() < end {
        if let Some(s) = d.exited() {
            panic!("nbtd exited with {s:?}:\n{}", d.stderr());
        }
        if let Ok(st) = query_status(&dir.control_socket()) {
            if done(&st) {
                return st;
            }
            last = Some(st);
        }
        sleep(Duration::from_millis(100));
    }
    panic!("{what}: not within {PATIENCE:?}: {last:#?}\n{}", d.stderr());
}

fn active_on(st: &DaemonStatus, addr: Ipv4Addr) -> bool {
    st.interfaces.iter().any(|i| {
        i.address == addr
            && !i.names.is_empty()
            && i.names.iter().all(|n| n.state == NameStatusState::Active)
    })
}

#[test]
fn addresses_that_come_and_go_are_taken_up_without_a_restart() {
    let Some(ns) = Netns::create("rescan") else {
        return;
    };
    let dir = Scratch::new("rescan");
    ns.ip(&[
        "link", "add", "nbt0", "type", "veth", "peer", "name", "nbt1",
    ]);
    ns.ip(&["addr", "add", "10.77.0.1/24", "dev", "nbt0"]);
    ns.ip(&["link", "set", "nbt0", "up"]);
    ns.ip(&["link", "set", "nbt1", "up"]);
    let config = dir.path("nbtd.toml");
    std::fs::write(&config, "[interfaces]\nrescan_interval_secs = 1\n").unwrap();

    let mut cmd = ns.command(nbtd_harness::NBTD);
    cmd.args(["--config", config.to_str().unwrap()])
        .args(["--interfaces", "nbt*", "--netbios-name", "RESCANTEST"])
        .args(dir.daemon_paths());
    let mut d = Daemon::spawn(cmd);
    let first = Ipv4Addr::new(10, 77, 0, 1);
    let second = Ipv4Addr::new(10, 77, 1, 1);
    let st = wait_for(&mut d, &dir, "names active on nbt0", |s| {
        active_on(s, first)
    });
    assert_eq!(st.interfaces.len(), 1, "{st:#?}");

    ns.ip(&["addr", "add", "10.77.1.1/24", "dev", "nbt1"]);
    let st = wait_for(&mut d, &dir, "the new address served", |s| {
        active_on(s, second)
    });
    assert_eq!(st.interfaces.len(), 2, "{st:#?}");
    let nbt1 = st.interfaces.iter().find(|i| i.address == second).unwrap();
    assert_eq!(nbt1.name, "nbt1");
    assert_eq!(nbt1.broadcast, Ipv4Addr::new(10, 77, 1, 255));

    ns.ip(&["addr", "del", "10.77.1.1/24", "dev", "nbt1"]);
    let st = wait_for(&mut d, &dir, "the removed address dropped", |s| {
        s.interfaces.len() == 1
    });
    assert!(active_on(&st, first), "the other address is untouched");

    d.signal("TERM");
    let status = d.wait(PATIENCE);
    let log = d.stderr();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("new address; serving"), "{log}");
    assert!(log.contains("no longer serving"), "{log}");
}
