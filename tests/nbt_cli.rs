//! `nbt` against Samba's nmbd on a LAN of network namespaces.
//!
//! One LAN, built once: ALPHA (198.18.0.1) and BRAVO (198.18.0.2) run nmbd in workgroup LABWG,
//! and `nbt` runs in host 3 (198.18.0.3). The names take about 4 s to register, so the LAN is
//! waited for once, and the checks then run one after the other on it.
//!
//! Needs root, `ip`, `nmbd` and `nmblookup`; without them the test says why and passes,
//! except under `CI=true`, where it fails.

mod common;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use common::netns::{Lan, NmbdConfig, smb_conf};

/// The host `nbt` runs in.
const CLIENT: usize = 3;
/// Longest wait for nmbd's names (they usually take about 4 s).
const REGISTRATION: Duration = Duration::from_secs(30);

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

fn nbt(lan: &Lan, args: &[&str]) -> Run {
    lan.run(CLIENT, env!("CARGO_BIN_EXE_nbt"), args).into()
}

fn json(r: &Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", r.stdout, r.stderr))
}

#[test]
fn nbt_against_nmbd() {
    let Some(lan) = Lan::for_test("nbt_against_nmbd", 3, &["nmbd", "nmblookup"]) else {
        return;
    };
    lan.start_nmbd(1, &NmbdConfig::new("LABWG", "ALPHA"));
    lan.start_nmbd(2, &NmbdConfig::new("LABWG", "BRAVO"));
    lan.wait_for_name(CLIENT, "ALPHA", 1, REGISTRATION).unwrap();
    lan.wait_for_name(CLIENT, "BRAVO", 2, REGISTRATION).unwrap();

    lookup_by_broadcast(&lan);
    lookup_group_by_broadcast(&lan);
    lookup_unicast(&lan);
    lookup_missing_name(&lan);
    lookup_json(&lan);
    status_of_nmbd(&lan);
    status_by_name(&lan);
    scan_finds_both_hosts(&lan);
    errors_in_a_namespace(&lan);
}

/// nmbd answers each broadcast twice, and nbt repeats it 3 times: one line all the same.
fn lookup_by_broadcast(lan: &Lan) {
    let r = nbt(lan, &["lookup", "ALPHA", "--iface", "lan0"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "198.18.0.1 ALPHA<00>\n");
    let r = nbt(lan, &["lookup", "bravo#20", "--timeout", "800ms"]);
    assert_eq!(r.code, 0, "default interface: {}", r.stderr);
    assert_eq!(r.stdout, "198.18.0.2 BRAVO<20>\n");
    let r = nbt(
        lan,
        &["lookup", "ALPHA", "--all-ifaces", "--timeout", "800ms"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout, "198.18.0.1 ALPHA<00>\n",
        "lan0 is the only usable interface"
    );
}

/// Every member of a group answers.
fn lookup_group_by_broadcast(lan: &Lan) {
    let r = nbt(
        lan,
        &["lookup", "LABWG#1e", "--iface", "lan0", "--timeout", "1s"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut lines: Vec<&str> = r.stdout.lines().collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        ["198.18.0.1 LABWG<1e> GROUP", "198.18.0.2 LABWG<1e> GROUP"]
    );
    assert!(!r.stderr.contains("conflict"), "{}", r.stderr);
}

fn lookup_unicast(lan: &Lan) {
    let r = nbt(lan, &["lookup", "--server", "198.18.0.1", "ALPHA"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "198.18.0.1 ALPHA<00>\n");
    // nmbd answers unicast queries for names it knows, also another host's.
    let r = nbt(lan, &["lookup", "--server", "198.18.0.2", "BRAVO<03>"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "198.18.0.2 BRAVO<03>\n");
}

/// By unicast nmbd says NAM_ERR; to a broadcast it stays silent.
fn lookup_missing_name(lan: &Lan) {
    let r = nbt(lan, &["lookup", "--server", "198.18.0.1", "NOSUCHNAME"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("RCODE 3 NAM_ERR"), "{}", r.stderr);
    let r = nbt(lan, &["lookup", "NOSUCHNAME", "--timeout", "700ms"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.contains("no answer for NOSUCHNAME<00>"),
        "{}",
        r.stderr
    );
    let r = nbt(
        lan,
        &[
            "lookup",
            "--server",
            "198.18.0.9",
            "ALPHA",
            "--timeout",
            "500ms",
        ],
    );
    assert_eq!(r.code, 1, "nobody at .9: {}", r.stderr);
}

fn lookup_json(lan: &Lan) {
    let r = nbt(
        lan,
        &[
            "lookup",
            "ALPHA#20",
            "--iface",
            "lan0",
            "--json",
            "--timeout",
            "1s",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r);
    assert_eq!(v["query"], "ALPHA<20>");
    assert_eq!(v["mode"], "broadcast");
    assert_eq!(v["found"], true);
    assert_eq!(v["sent"][0]["via"], "lan0");
    assert_eq!(v["sent"][0]["to"], "198.18.0.255:137");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{results:?}");
    let a = &results[0];
    assert_eq!(a["address"], "198.18.0.1");
    assert_eq!(a["name"], "ALPHA<20>");
    assert_eq!(a["group"], false);
    assert_eq!(a["conflict"], false);
    assert_eq!(a["from"], "198.18.0.1:137");
    assert!(
        a["answers"].as_u64().unwrap() >= 2,
        "nmbd answers twice: {a}"
    );
    assert!(a["ttl"].as_u64().unwrap() > 0);
    assert_eq!(v["conflicts"].as_array().unwrap().len(), 0);
    assert_eq!(v["ignored"]["malformed"], 0);

    let r = nbt(
        lan,
        &["lookup", "NOSUCHNAME", "--server", "198.18.0.2", "--json"],
    );
    assert_eq!(r.code, 1);
    let v = json(&r);
    assert_eq!(v["found"], false);
    assert_eq!(v["mode"], "unicast");
    assert_eq!(v["negative"][0]["rcode_name"], "NAM_ERR");
    assert_eq!(v["negative"][0]["from"], "198.18.0.2:137");
}

/// The names Samba registers for itself: NAME<00,03,20> and the workgroup's <00> and <1e>.
fn status_of_nmbd(lan: &Lan) {
    let r = nbt(lan, &["status", "198.18.0.1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Vec<Vec<&str>> = r
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    for want in [
        ["ALPHA", "<00>", "UNIQUE", "ACTIVE"],
        ["ALPHA", "<03>", "UNIQUE", "ACTIVE"],
        ["ALPHA", "<20>", "UNIQUE", "ACTIVE"],
        ["LABWG", "<00>", "GROUP", "ACTIVE"],
        ["LABWG", "<1e>", "GROUP", "ACTIVE"],
    ] {
        assert!(
            rows.iter().any(|r| r.starts_with(&want)),
            "no row {want:?} in\n{}",
            r.stdout
        );
    }
    assert!(
        r.stdout.contains("MAC address: 00-00-00-00-00-00"),
        "{}",
        r.stdout
    );

    let r = nbt(lan, &["status", "198.18.0.2", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r);
    assert_eq!(v["host"], "198.18.0.2");
    let names: Vec<(String, bool)> = v["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["netbios_name"].as_str().unwrap().to_owned(),
                n["group"].as_bool().unwrap(),
            )
        })
        .collect();
    for want in [
        ("BRAVO<00>", false),
        ("BRAVO<03>", false),
        ("BRAVO<20>", false),
        ("LABWG<00>", true),
        ("LABWG<1e>", true),
    ] {
        assert!(
            names.contains(&(want.0.to_owned(), want.1)),
            "{want:?} not in {names:?}"
        );
    }
    assert_eq!(v["mac"], "00-00-00-00-00-00");

    let r = nbt(lan, &["status", "198.18.0.9", "--timeout", "500ms"]);
    assert_eq!(r.code, 1, "nobody at .9: {}", r.stderr);
    assert!(r.stderr.contains("no node status answer"), "{}", r.stderr);
}

fn status_by_name(lan: &Lan) {
    let r = nbt(lan, &["status", "BRAVO", "--iface", "lan0"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("Node status of BRAVO<00> (198.18.0.2):\n"),
        "{}",
        r.stdout
    );
}

fn scan_finds_both_hosts(lan: &Lan) {
    let r = nbt(
        lan,
        &["scan", "198.18.0.0/24", "--rate", "1000", "--timeout", "1s"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Vec<Vec<&str>> = r
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows,
        [
            vec![
                "IP",
                "ADDRESS",
                "NETBIOS",
                "NAME",
                "WORKGROUP",
                "MAC",
                "ADDRESS"
            ],
            vec!["198.18.0.1", "ALPHA", "LABWG", "00-00-00-00-00-00"],
            vec!["198.18.0.2", "BRAVO", "LABWG", "00-00-00-00-00-00"],
        ]
    );
    assert!(
        r.stderr.contains("2 of 254 addresses answered"),
        "{}",
        r.stderr
    );

    let r = nbt(
        lan,
        &[
            "scan",
            "198.18.0.0/24",
            "--rate",
            "1000",
            "--timeout",
            "1s",
            "--retries",
            "0",
            "--json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r);
    assert_eq!(v["range"], "198.18.0.0/24");
    assert_eq!(v["probed"], 254);
    let hosts = v["hosts"].as_array().unwrap();
    let got: Vec<(&str, &str, &str)> = hosts
        .iter()
        .map(|h| {
            (
                h["address"].as_str().unwrap(),
                h["name"].as_str().unwrap(),
                h["workgroup"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("198.18.0.1", "ALPHA", "LABWG"),
            ("198.18.0.2", "BRAVO", "LABWG")
        ]
    );
    assert!(hosts[0]["names"].as_array().unwrap().len() >= 5);
}

/// Interface choice inside a host: a missing interface is an error before anything is sent.
fn errors_in_a_namespace(lan: &Lan) {
    let r = nbt(lan, &["lookup", "ALPHA", "--iface", "eth7"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("no interface named eth7; usable interfaces: lan0"),
        "{}",
        r.stderr
    );
    // Loopback is skipped by default but may be named; nobody answers there.
    let r = nbt(
        lan,
        &["lookup", "ALPHA", "--iface", "lo", "--timeout", "300ms"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("on lo"), "{}", r.stderr);
}

/// The harness writes a private smb.conf: nothing of nmbd's lands outside the test directory.
#[test]
fn harness_smb_conf_is_private() {
    let c = NmbdConfig::new("LABWG", "ALPHA")
        .option("os level = 65")
        .log_level(3);
    let s = smb_conf(Path::new("/tmp/x"), &c);
    for line in [
        "workgroup = LABWG",
        "netbios name = ALPHA",
        "interfaces = lan0",
        "bind interfaces only = yes",
        "disable netbios = no",
        "name resolve order = bcast",
        "lock directory = /tmp/x/lock",
        "state directory = /tmp/x/state",
        "cache directory = /tmp/x/cache",
        "private dir = /tmp/x/private",
        "pid directory = /tmp/x/pid",
        "log level = 3",
        "os level = 65",
    ] {
        assert!(
            s.lines().any(|l| l.trim() == line),
            "{line:?} missing in\n{s}"
        );
    }
}
