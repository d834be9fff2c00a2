//! `nbt` against scripted peers on loopback: duplicates, conflicts, negative answers, silence,
//! and hostile replies (malformed, wrong transaction ID, answers to other questions), plus the
//! exit status of usage errors. Needs no root: every packet stays on `lo`.

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::fake_peer::{FakePeer, Reply};
use nbtd::protocol::wire::Emit;
use nbtd::protocol::wire::ns::{
    NameFlags, NameServicePacket, NbAddress, NodeName, NodeStatus, Rcode, RrType, Statistics,
};
use nbtd::protocol::{NetbiosName, ScopedName};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn nbt(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_nbt"))
        .args(args)
        .output()
        .expect("run nbt");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs nbt with its stdout a pipe whose reader is gone before nbt writes, as `nbt … | head -0`.
fn nbt_closed_stdout(args: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nbt"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run nbt");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait for nbt");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn name(s: &str) -> ScopedName {
    ScopedName::unscoped(s.parse::<NetbiosName>().unwrap())
}

fn positive(trn: u16, n: &str, addrs: &[(Ipv4Addr, bool)]) -> Vec<u8> {
    let nb = addrs
        .iter()
        .map(|&(a, g)| NbAddress::b_node(a, g))
        .collect();
    NameServicePacket::positive_query_response(trn, name(n), 300, nb)
        .to_vec()
        .unwrap()
}

fn is_query_for(p: &NameServicePacket, n: &str) -> bool {
    p.question()
        .is_some_and(|q| q.qtype == RrType::NB && q.name.name.eq_ignore_case(&name(n).name))
}

const ADDR: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);

#[test]
fn unicast_answer_among_hostile_replies() {
    let peer = FakePeer::start(Ipv4Addr::LOCALHOST, |req| {
        let Some(p) = req.filter(|p| is_query_for(p, "ALPHA")) else {
            return Vec::new();
        };
        let t = p.trn_id;
        let good = positive(t, "ALPHA", &[(ADDR, false)]);
        vec![
            Reply::plain(b"\xff\xff".to_vec()),
            Reply::plain(good[..20].to_vec()),
            Reply::plain(positive(t.wrapping_add(1), "ALPHA", &[(ADDR, false)])),
            Reply::plain(positive(t, "BRAVO", &[(ADDR, false)])),
            Reply::plain(good),
        ]
    });
    let port = peer.addr.port().to_string();
    let r = nbt(&[
        "lookup",
        "alpha",
        "--server",
        "127.0.0.1",
        "--port",
        &port,
        "-v",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "198.18.0.1 ALPHA<00>\n");
    assert!(
        r.stderr.contains(
            "4 replies ignored (2 malformed, 1 with another transaction ID, \
             1 not answering our question)"
        ),
        "{}",
        r.stderr
    );
    // Unicast stops at the first answer: one request was enough.
    let seen = peer.seen();
    assert_eq!(seen.len(), 1);
    let q = NameServicePacket::parse(&seen[0].bytes).unwrap();
    assert!(q.flags.is_empty(), "a unicast query sets neither B nor RD");
}

#[test]
fn negative_answer_exits_1() {
    let peer = FakePeer::start(Ipv4Addr::LOCALHOST, |req| {
        let Some(p) = req else { return Vec::new() };
        let q = p.question().unwrap().name.clone();
        let neg = NameServicePacket::negative_query_response(p.trn_id, q, Rcode::NAM_ERR);
        vec![Reply::plain(neg.to_vec().unwrap())]
    });
    let port = peer.addr.port().to_string();
    let r = nbt(&["lookup", "NOSUCH", "--server", "127.0.0.1", "--port", &port]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("RCODE 3 NAM_ERR"), "{}", r.stderr);
    let r = nbt(&[
        "lookup",
        "NOSUCH",
        "--server",
        "127.0.0.1",
        "--port",
        &port,
        "--json",
    ]);
    assert_eq!(r.code, 1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(v["found"], false);
    assert_eq!(v["negative"][0]["rcode"], 3);
    assert_eq!(v["negative"][0]["rcode_name"], "NAM_ERR");
}

#[test]
fn silence_exits_1_after_every_retry() {
    let peer = FakePeer::start(Ipv4Addr::LOCALHOST, |_| Vec::new());
    let port = peer.addr.port().to_string();
    let r = nbt(&[
        "lookup",
        "ALPHA#20",
        "--server",
        "127.0.0.1",
        "--port",
        &port,
        "--timeout",
        "300ms",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("no answer for ALPHA<20> within 300 ms"),
        "{}",
        r.stderr
    );
    // The three requests (the first and two retries) carry one transaction ID.
    let until = Instant::now() + Duration::from_secs(5);
    while peer.seen().len() < 3 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let ids: Vec<u16> = peer
        .seen()
        .iter()
        .map(|s| NameServicePacket::parse(&s.bytes).unwrap().trn_id)
        .collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(ids.iter().all(|&i| i == ids[0]), "{ids:?}");
}

#[test]
fn broadcast_folds_duplicates_and_shows_conflicts() {
    // Hears broadcasts on lo; answers as two responders, 127.0.0.2 twice (as nmbd does) and
    // 127.0.0.3 once, with different addresses for the unique name ALPHA.
    let peer = FakePeer::start(Ipv4Addr::new(127, 255, 255, 255), |req| {
        let Some(p) = req else { return Vec::new() };
        let (a2, a3) = (Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 3));
        let (r2, r3) = (Ipv4Addr::new(127, 0, 0, 2), Ipv4Addr::new(127, 0, 0, 3));
        let t = p.trn_id;
        if is_query_for(p, "ALPHA") {
            let x = positive(t, "ALPHA", &[(a2, false)]);
            vec![
                Reply::from(r2, x.clone()),
                Reply::from(r2, x),
                Reply::from(r3, positive(t, "ALPHA", &[(a3, false)])),
            ]
        } else if is_query_for(p, "LABWG") {
            vec![
                Reply::from(r2, positive(t, "LABWG", &[(a2, true)])),
                Reply::from(r3, positive(t, "LABWG", &[(a3, true)])),
            ]
        } else {
            Vec::new()
        }
    });
    let port = peer.addr.port().to_string();
    let base = ["--iface", "lo", "--port", &port, "--timeout", "600ms"];
    let r = nbt(&[&["lookup", "ALPHA"], &base[..]].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "10.0.0.2 ALPHA<00> CONFLICT\n10.0.0.3 ALPHA<00> CONFLICT\n"
    );
    assert!(r.stderr.contains("name conflict"), "{}", r.stderr);
    let r = nbt(&[&["lookup", "ALPHA", "--json"], &base[..]].concat());
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(v["mode"], "broadcast");
    assert_eq!(v["results"].as_array().unwrap().len(), 2);
    assert!(v["results"][0]["answers"].as_u64().unwrap() >= 2);
    assert_eq!(v["conflicts"][0]["addresses"][1], "10.0.0.3");
    let r = nbt(&[&["lookup", "LABWG"], &base[..]].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "10.0.0.2 LABWG<00> GROUP\n10.0.0.3 LABWG<00> GROUP\n"
    );
    assert!(!r.stderr.contains("conflict"), "{}", r.stderr);
    let q = NameServicePacket::parse(&peer.seen()[0].bytes).unwrap();
    assert_eq!(
        q.header().flags_word() & 0x0110,
        0x0110,
        "broadcast sets B and RD"
    );
}

#[test]
fn a_unique_name_answered_ends_the_wait_after_a_short_grace() {
    // 127.0.0.2 answers at once, 127.0.0.3 claims the name too 20 ms later (within the grace),
    // and 127.0.0.4 answers 700 ms later still: only a lookup with --all waits for that one.
    let peer = FakePeer::start(Ipv4Addr::new(127, 255, 255, 255), |req| {
        let Some(p) = req.filter(|p| is_query_for(p, "ALPHA")) else {
            return Vec::new();
        };
        let t = p.trn_id;
        let answer = |i: u8| {
            let a = Ipv4Addr::new(10, 0, 0, i);
            Reply::from(
                Ipv4Addr::new(127, 0, 0, i),
                positive(t, "ALPHA", &[(a, false)]),
            )
        };
        vec![
            answer(2),
            answer(3).after(Duration::from_millis(20)),
            answer(4).after(Duration::from_millis(700)),
        ]
    });
    let port = peer.addr.port().to_string();
    let base = ["lookup", "ALPHA", "--iface", "lo", "--port", &port];
    let start = Instant::now();
    let r = nbt(&[&base[..], &["--timeout", "5s"]].concat());
    let took = start.elapsed();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        took < Duration::from_secs(1),
        "a broadcast lookup with its answer in took {took:?} of its 5 s"
    );
    assert!(
        r.stdout.contains("10.0.0.2 ALPHA<00> CONFLICT\n")
            && r.stdout.contains("10.0.0.3 ALPHA<00> CONFLICT\n"),
        "the second claim within the grace is shown: {}",
        r.stdout
    );
    assert!(r.stderr.contains("name conflict"), "{}", r.stderr);

    let r = nbt(&[&base[..], &["--timeout", "1500ms", "--all"]].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("10.0.0.4 ALPHA<00> CONFLICT\n"),
        "--all waits for the late answer: {}",
        r.stdout
    );

    // Unicast ends at the first answer.
    let server = FakePeer::start(Ipv4Addr::LOCALHOST, |req| {
        let Some(p) = req else { return Vec::new() };
        vec![Reply::plain(positive(p.trn_id, "ALPHA", &[(ADDR, false)]))]
    });
    let port = server.addr.port().to_string();
    let start = Instant::now();
    let r = nbt(&[
        "lookup",
        "ALPHA",
        "--server",
        "127.0.0.1",
        "--port",
        &port,
        "--timeout",
        "5s",
    ]);
    let took = start.elapsed();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(took < Duration::from_secs(1), "unicast took {took:?}");
}

fn odd_status() -> NodeStatus {
    let a = NameFlags::ACTIVE;
    NodeStatus {
        names: vec![
            NodeName {
                name: NetbiosName::from_bytes(b"EV<IL\x07", 0x20).unwrap(),
                flags: a | NameFlags::CONFLICT,
            },
            NodeName {
                name: "LABWG#00".parse().unwrap(),
                flags: a | NameFlags::GROUP | NameFlags::PERMANENT,
            },
        ],
        statistics: Statistics::with_unit_id([0x02, 0x42, 0xac, 0x11, 0x00, 0x02]),
    }
}

#[test]
fn status_survives_hostile_replies() {
    let peer = FakePeer::start(Ipv4Addr::LOCALHOST, |req| {
        let Some(p) = req else { return Vec::new() };
        let t = p.trn_id;
        let q = p.question().unwrap().name.clone();
        let good = NameServicePacket::node_status_response(t, q.clone(), odd_status());
        let good = good.to_vec().unwrap();
        let mut lying = good.clone();
        lying[56] = 200; // NUM_NAMES far beyond the data
        vec![
            Reply::plain(vec![0; 3]),
            Reply::plain(lying),
            Reply::plain(
                NameServicePacket::node_status_response(t ^ 0x8000, q, odd_status())
                    .to_vec()
                    .unwrap(),
            ),
            Reply::plain(positive(t, "*", &[(ADDR, false)])),
            Reply::plain(good),
        ]
    });
    let port = peer.addr.port().to_string();
    let r = nbt(&["status", "127.0.0.1", "--port", &port, "-v"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("EV\\x3cIL\\x07  <20>    UNIQUE  ACTIVE CONFLICT"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("LABWG         <00>    GROUP   ACTIVE PERMANENT  workgroup"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("MAC address: 02-42-ac-11-00-02"),
        "{}",
        r.stdout
    );
    assert!(r.stderr.contains("4 replies ignored"), "{}", r.stderr);
    let r = nbt(&["status", "127.0.0.1", "--port", &port, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(v["names"][0]["flags"][1], "CONFLICT");
    assert_eq!(v["names"][1]["netbios_name"], "LABWG<00>");
    assert_eq!(v["mac"], "02-42-ac-11-00-02");
    assert_eq!(v["ignored"]["malformed"], 2);
}

#[test]
fn a_closed_stdout_ends_nbt_quietly_with_its_own_status() {
    let peer = FakePeer::start(Ipv4Addr::LOCALHOST, |req| {
        let Some(p) = req else { return Vec::new() };
        let t = p.trn_id;
        let q = p.question().unwrap().name.clone();
        if p.question().unwrap().qtype == RrType::NBSTAT {
            let r = NameServicePacket::node_status_response(t, q, odd_status());
            vec![Reply::plain(r.to_vec().unwrap())]
        } else {
            vec![Reply::plain(positive(t, "ALPHA", &[(ADDR, false)]))]
        }
    });
    let port = peer.addr.port().to_string();
    let unicast = ["--server", "127.0.0.1", "--port", &port];
    for args in [
        &[&["lookup", "ALPHA"], &unicast[..]].concat(),
        &[&["lookup", "ALPHA", "--json"], &unicast[..]].concat(),
        &["status", "127.0.0.1", "--port", &port][..],
        &["status", "127.0.0.1", "--port", &port, "--json"][..],
        &["--help"][..],
    ] {
        let r = nbt_closed_stdout(args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert!(
            !r.stderr.contains("panicked") && !r.stderr.contains("Broken pipe"),
            "{args:?}: {}",
            r.stderr
        );
        assert_eq!(r.stderr, "", "{args:?}");
    }
}

#[test]
fn scan_matches_answers_to_addresses() {
    // Answers for 127.0.0.1, and also sends 127.0.0.1's answer from 127.0.0.2, which must not
    // count for 127.0.0.2 (its transaction ID is another).
    let peer = FakePeer::start(Ipv4Addr::LOCALHOST, |req| {
        let Some(p) = req else { return Vec::new() };
        let q = p.question().unwrap().name.clone();
        let s = NameServicePacket::node_status_response(p.trn_id, q, odd_status());
        let s = s.to_vec().unwrap();
        vec![
            Reply::from(Ipv4Addr::new(127, 0, 0, 2), s.clone()),
            Reply::plain(s),
        ]
    });
    let port = peer.addr.port().to_string();
    let r = nbt(&[
        "scan",
        "127.0.0.0/29",
        "--port",
        &port,
        "--rate",
        "1000",
        "--timeout",
        "300ms",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(v["probed"], 6);
    let hosts = v["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 1, "{hosts:?}");
    assert_eq!(hosts[0]["address"], "127.0.0.1");
    assert_eq!(hosts[0]["name"], "EV\\x3cIL\\x07");
    assert_eq!(hosts[0]["workgroup"], "LABWG");
    assert!(v["ignored"]["wrong_id"].as_u64().unwrap() >= 1);
    let r = nbt(&["scan", "127.0.0.1", "--port", &port, "--timeout", "300ms"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("IP ADDRESS  NETBIOS NAME  WORKGROUP  MAC ADDRESS\n127.0.0.1   "),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr
            .contains("nbt: 1 of 1 address answered (1 request)"),
        "{}",
        r.stderr
    );
}

#[test]
fn scan_takes_many_answers_at_once() {
    // 64 peers on one port, 127.0.0.1 to 127.0.0.64; requests go out in bursts, so their
    // answers arrive together.
    fn script(req: Option<&NameServicePacket>) -> Vec<Reply> {
        let Some(p) = req else { return Vec::new() };
        let q = p.question().unwrap().name.clone();
        let s = NameServicePacket::node_status_response(p.trn_id, q, odd_status());
        vec![Reply::plain(s.to_vec().unwrap())]
    }
    let first = FakePeer::start(Ipv4Addr::LOCALHOST, script);
    let port = first.addr.port();
    let _others: Vec<FakePeer> = (2..=64)
        .map(|k| FakePeer::start_at(SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, k), port), script))
        .collect();
    let port = port.to_string();
    let r = nbt(&[
        "scan",
        "127.0.0.0/25",
        "--port",
        &port,
        "--rate",
        "100000",
        "--timeout",
        "500ms",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    let got: Vec<&str> = v["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["address"].as_str().unwrap())
        .collect();
    let want: Vec<String> = (1..=64).map(|k| format!("127.0.0.{k}")).collect();
    assert_eq!(got, want);
}

#[test]
fn usage_errors_exit_2_with_advice() {
    let r = nbt(&["lookup", "WAYTOOLONGNETBIOSNAME", "--server", "127.0.0.1"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("NAME#1d"), "{}", r.stderr);
    let r = nbt(&["scan", "198.18.0.0/15"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("split the range"), "{}", r.stderr);
    let r = nbt(&["scan", "198.18.0.0/33"]);
    assert_eq!(r.code, 2);
    let r = nbt(&["lookup", "X", "--iface", "nosuch0"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no interface named nosuch0"),
        "{}",
        r.stderr
    );
    let r = nbt(&["status", "300.1.2.3"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not an IPv4 address"), "{}", r.stderr);
    let r = nbt(&["lookup", "X", "--server", "127.0.0.1", "--iface", "lo"]);
    assert_eq!(r.code, 2, "clap refuses --server with --iface");
    let r = nbt(&["lookup", "X", "--timeout", "soon", "--server", "127.0.0.1"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("800ms"), "{}", r.stderr);
    // The unicast socket has no SO_BROADCAST: the kernel refuses a broadcast address.
    let r = nbt(&["lookup", "X", "--server", "127.255.255.255", "--port", "9"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--iface to broadcast"), "{}", r.stderr);
    let r = nbt(&["frobnicate"]);
    assert_eq!(r.code, 2);
}
