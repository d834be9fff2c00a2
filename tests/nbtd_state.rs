//! The browse list on disk: nbtd killed with SIGKILL while it saves never leaves a file that
//! fails to load. Runs on loopback with test ports (no root needed).
//!
//! The state file is seeded with 16,000 servers, so that each save takes a while; each round
//! starts nbtd on it, sends one HostAnnouncement of a new server (a change, so nbtd saves at
//! once), and kills nbtd the moment the temporary file of the save appears, or at a fixed delay.
//! After every kill the file loads, with every server of the seed.

mod nbtd_harness;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime};

use nbtd::control::query_status;
use nbtd::protocol::NetbiosName;
use nbtd::protocol::engine::browser::list::{BrowseLimits, BrowseList};
use nbtd::protocol::engine::dgram::DatagramLayer;
use nbtd::protocol::engine::{IfaceAddr, IfaceId};
use nbtd::protocol::name::{Scope, ScopedName};
use nbtd::protocol::wire::Emit;
use nbtd::protocol::wire::browse::{
    Announcement, BrowserFrame, MAILSLOT_BROWSE, ServerName, ServerType,
};
use nbtd::state::StateFile;
use nbtd_harness::{Daemon, PATIENCE, Scratch, free_ports, port_args};

const WORKGROUPS: usize = 8;
const PER_WORKGROUP: usize = 2000;
const ROUNDS: usize = 12;

/// A state file for 127.0.0.1 with `WORKGROUPS` × `PER_WORKGROUP` servers.
fn seed(file: &StateFile) {
    let now = std::time::Instant::now();
    let mut list = BrowseList::new(BrowseLimits::default());
    for w in 0..WORKGROUPS {
        let wg = ServerName::new(&format!("SEEDWG{w}")).unwrap();
        for k in 0..PER_WORKGROUP {
            let a = Announcement::new(
                ServerName::new(&format!("SEED{w}X{k}")).unwrap(),
                ServerType::SERVER | ServerType::WORKSTATION,
                720_000,
                format!("seeded server {k} with a comment of some length").into_bytes(),
            );
            // Each server from its own address, as on a LAN: one address holds at most 8.
            let from = Ipv4Addr::from(0x0a00_0000 + (w * PER_WORKGROUP + k) as u32);
            list.server_announced(now, &wg, &a, Some(from));
        }
    }
    let mut lists = BTreeMap::new();
    lists.insert(Ipv4Addr::LOCALHOST, list.snapshot(now));
    file.save(SystemTime::now(), &lists).unwrap();
}

/// The servers the file holds for 127.0.0.1; panics if it does not load.
fn servers_in(file: &StateFile) -> usize {
    let lists = file
        .load(SystemTime::now())
        .unwrap_or_else(|e| panic!("the state file does not load: {e}"));
    lists.get(&Ipv4Addr::LOCALHOST).map_or(0, Vec::len)
}

/// A HostAnnouncement of `name` in TESTWG, as a datagram from 127.0.0.2.
fn announcement(name: &str, datagram_port: u16) -> Vec<u8> {
    let frame = BrowserFrame::HostAnnouncement(Announcement::new(
        ServerName::new(name).unwrap(),
        ServerType::SERVER,
        720_000,
        b"announced by the test".to_vec(),
    ));
    let iface = IfaceAddr {
        id: IfaceId(1),
        addr: Ipv4Addr::new(127, 0, 0, 2),
        netmask: Ipv4Addr::new(255, 0, 0, 0),
        broadcast: Ipv4Addr::new(127, 255, 255, 255),
        mac: [0; 6],
    };
    let mut layer = DatagramLayer::new(datagram_port, Scope::none(), 7);
    let t = layer
        .mailslot(
            &iface,
            NetbiosName::new(name, 0).unwrap(),
            ScopedName::unscoped(NetbiosName::new("TESTWG", 0x1d).unwrap()),
            Some(SocketAddrV4::new(Ipv4Addr::LOCALHOST, datagram_port)),
            MAILSLOT_BROWSE,
            frame.to_vec().unwrap(),
        )
        .unwrap();
    t.payload
}

#[test]
fn sigkill_during_saves_never_leaves_a_file_that_fails_to_load() {
    let dir = Scratch::new("state-kill");
    let state = dir.path("state");
    std::fs::create_dir_all(&state).unwrap();
    let file = StateFile::new(&state);
    seed(&file);
    let seeded = WORKGROUPS * PER_WORKGROUP;
    assert_eq!(servers_in(&file), seeded);
    let tmp = state.join("browse.json.tmp");
    let client = UdpSocket::bind("127.0.0.2:0").unwrap();

    let mut caught_mid_save = 0;
    for round in 0..ROUNDS {
        let _ = std::fs::remove_file(&tmp);
        let ports = free_ports();
        let mut args = port_args(ports);
        args.extend(
            [
                "--interfaces",
                "lo",
                "--netbios-name",
                "STATETEST",
                "--workgroup",
                "TESTWG",
                "--log-level",
                "info,nbtd=debug",
            ]
            .map(String::from),
        );
        args.extend(dir.daemon_paths());
        let mut d = Daemon::start(&args);
        // Up, with the saved list restored.
        let until = Instant::now() + PATIENCE;
        while query_status(&dir.control_socket()).is_err() {
            assert!(d.exited().is_none(), "nbtd exited:\n{}", d.stderr());
            assert!(
                Instant::now() < until,
                "nbtd did not come up:\n{}",
                d.stderr()
            );
            sleep(Duration::from_millis(20));
        }
        let name = format!("NEWHOST{round}");
        client
            .send_to(
                &announcement(&name, ports.1),
                (Ipv4Addr::LOCALHOST, ports.1),
            )
            .unwrap();
        if round % 3 == 2 {
            // Now and then at a moment of its own choosing rather than the file's.
            sleep(Duration::from_millis(5 * round as u64));
        } else {
            let until = Instant::now() + Duration::from_secs(5);
            while !tmp.exists() && Instant::now() < until {
                std::hint::spin_loop();
            }
        }
        let mid_save = tmp.exists();
        drop(d); // SIGKILL
        if mid_save {
            caught_mid_save += 1;
        }
        let n = servers_in(&file);
        assert!(
            n >= seeded,
            "round {round}: {n} servers in the file, {seeded} seeded"
        );
    }
    eprintln!("{caught_mid_save} of {ROUNDS} kills hit a save in progress");
    assert!(
        caught_mid_save > 0,
        "no kill hit a save in progress: the test did not test anything"
    );
    // And a clean stop saves what was announced.
    let _ = std::fs::remove_file(&tmp);
    let ports = free_ports();
    let mut args = port_args(ports);
    args.extend(["--interfaces", "lo", "--workgroup", "TESTWG"].map(String::from));
    args.extend(["--netbios-name", "STATETEST"].map(String::from));
    args.extend(dir.daemon_paths());
    let mut d = Daemon::start(&args);
    let until = Instant::now() + PATIENCE;
    while query_status(&dir.control_socket()).is_err() {
        assert!(
            Instant::now() < until,
            "nbtd did not come up:\n{}",
            d.stderr()
        );
        sleep(Duration::from_millis(20));
    }
    client
        .send_to(
            &announcement("LASTHOST", ports.1),
            (Ipv4Addr::LOCALHOST, ports.1),
        )
        .unwrap();
    let until = Instant::now() + PATIENCE;
    loop {
        let st = query_status(&dir.control_socket()).unwrap();
        if st.browser.frames >= 1 {
            break;
        }
        assert!(Instant::now() < until, "the announcement was not handled");
        sleep(Duration::from_millis(20));
    }
    d.signal("TERM");
    assert_eq!(d.wait(PATIENCE).code(), Some(0), "{}", d.stderr());
    assert!(
        d.stderr().contains("saved the browse list"),
        "{}",
        d.stderr()
    );
    let lists = file.load(SystemTime::now()).unwrap();
    let names: Vec<String> = lists[&Ipv4Addr::LOCALHOST]
        .iter()
        .filter_map(|r| match r {
            nbtd::protocol::engine::browser::list::Record::Server { entry, .. } => {
                Some(entry.name.to_string_lossy())
            }
            _ => None,
        })
        .collect();
    assert!(names.iter().any(|n| n == "LASTHOST"), "LASTHOST not saved");
    assert!(!tmp.exists(), "no temporary file after a clean stop");
}
