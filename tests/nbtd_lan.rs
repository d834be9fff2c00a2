//! nbtd on a LAN of network namespaces, against Samba's own tools and nmbd:
//! - Samba's nmblookup resolves nbtd's names by broadcast and by unicast, and `nmblookup -A`
//!   shows every name with the right flags and the interface's MAC address;
//! - `nbt scan` finds both nmbd and nbtd;
//! - name conflicts, both ways: nbtd does not claim a name nmbd holds, and defends its own;
//! - on SIGTERM nbtd broadcasts the release of every name.
//!
//! Needs root, `ip`, `nmbd`, `nmblookup` and `python3` (a packet listener); without them each
//! test says why and passes, except under `CI=true`, where it fails.

mod common;

use std::os::unix::net::UnixDatagram;
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::daemon::{self, Nbtd};
use common::netns::{Lan, NmbdConfig};
use nbt_protocol::name::NetbiosName;
use nbt_protocol::wire::ns::{NameServicePacket, PacketKind};
use nbtd::control::{DaemonStatus, NameStatusState, query_status};

const REGISTRATION: Duration = Duration::from_secs(30);

/// Starts nbtd in host `i`. These tests are about the name service: a host that never becomes
/// the local master keeps exactly its five names (tests/nbtd_browse_lan.rs covers the browser).
fn start_nbtd(lan: &Lan, i: usize, name: &str, extra: &[&str]) -> Nbtd {
    let mut args = vec!["--no-local-master"];
    args.extend(extra);
    daemon::start(lan, i, name, None, &args)
}

impl Nbtd {
    /// Waits until no name is still registering, and returns the status then.
    fn settled(&self) -> DaemonStatus {
        let until = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(s) = query_status(&self.control) {
                let names: Vec<_> = s.interfaces.iter().flat_map(|i| &i.names).collect();
                if !names.is_empty()
                    && names
                        .iter()
                        .all(|n| n.state != NameStatusState::Registering)
                {
                    return s;
                }
            }
            assert!(
                Instant::now() < until,
                "nbtd did not settle: {}",
                self.log_text()
            );
            sleep(Duration::from_millis(100));
        }
    }

    /// Sends SIGTERM and waits (bounded) for the process to end.
    fn terminate(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let until = Instant::now() + Duration::from_secs(10);
        while std::path::Path::new(&format!("/proc/{}", self.pid)).exists() {
            // A zombie until the LAN reaps it: the state says so.
            let stat =
                std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap_or_default();
            if stat.contains(") Z") {
                break;
            }
            assert!(Instant::now() < until, "nbtd did not stop on SIGTERM");
            sleep(Duration::from_millis(50));
        }
    }
}

fn nmblookup(lan: &Lan, from: usize, args: &[&str]) -> String {
    let conf = lan.client_conf();
    let mut all = vec!["-s", conf.to_str().unwrap()];
    all.extend(args);
    let out = lan.run(from, "nmblookup", &all);
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn mac_of(lan: &Lan, i: usize) -> String {
    let out = lan.run(i, "cat", &["/sys/class/net/lan0/address"]);
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .replace(':', "-")
        .to_uppercase()
}

#[test]
fn nmblookup_resolves_nbtd_and_nbt_scan_finds_nbtd_and_nmbd() {
    let Some(lan) = Lan::for_test(
        "nmblookup_resolves_nbtd_and_nbt_scan_finds_nbtd_and_nmbd",
        3,
        &["nmbd", "nmblookup"],
    ) else {
        return;
    };
    let nbtd = start_nbtd(&lan, 1, "NBTDONE", &[]);
    lan.start_nmbd(2, &NmbdConfig::new("LABWG", "SAMBATWO"));
    let status = nbtd.settled();
    assert!(
        status.interfaces[0]
            .names
            .iter()
            .all(|n| n.state == NameStatusState::Active),
        "{status:?}"
    );

    // `nbt daemon` shows the same state, as text and as JSON.
    let ctl = nbtd.control.to_str().unwrap();
    let out = lan.run(
        3,
        env!("CARGO_BIN_EXE_nbt"),
        &["daemon", "--control-socket", ctl],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("NBTDONE") && text.contains("198.18.0.1") && text.contains("active"),
        "{text}"
    );
    let out = lan.run(
        3,
        env!("CARGO_BIN_EXE_nbt"),
        &["daemon", "--control-socket", ctl, "--json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["netbios_name"], "NBTDONE");
    assert_eq!(v["interfaces"][0]["names"].as_array().unwrap().len(), 5);
    let out = lan.run(
        3,
        env!("CARGO_BIN_EXE_nbt"),
        &["daemon", "--control-socket", "/nonexistent.sock"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is nbtd running?"));

    // Broadcast, as a client with no WINS server does.
    let out = nmblookup(&lan, 3, &["-B", "198.18.0.255", "NBTDONE"]);
    assert!(out.contains("198.18.0.1 NBTDONE<00>"), "{out}");
    let out = nmblookup(&lan, 3, &["-B", "198.18.0.255", "NBTDONE#20"]);
    assert!(out.contains("198.18.0.1 NBTDONE<20>"), "{out}");
    // Unicast to nbtd.
    let out = nmblookup(&lan, 3, &["-U", "198.18.0.1", "NBTDONE"]);
    assert!(out.contains("198.18.0.1 NBTDONE<00>"), "{out}");
    let out = nmblookup(&lan, 3, &["-U", "198.18.0.1", "NOSUCHNAME"]);
    assert!(
        !out.contains("NOSUCHNAME<00>") || out.contains("failed"),
        "{out}"
    );
    // Node status: every name with its flags, and the MAC.
    let out = nmblookup(&lan, 3, &["-A", "198.18.0.1"]);
    for line in [
        "NBTDONE         <00> -         B <ACTIVE>",
        "NBTDONE         <03> -         B <ACTIVE>",
        "NBTDONE         <20> -         B <ACTIVE>",
        "LABWG           <00> - <GROUP> B <ACTIVE>",
        "LABWG           <1e> - <GROUP> B <ACTIVE>",
    ] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
    let mac = mac_of(&lan, 1);
    assert!(
        out.contains(&format!("MAC Address = {mac}")),
        "MAC {mac} in:\n{out}"
    );

    // nmbd's names register after about 4 s; then a scan finds both hosts.
    lan.wait_for_name(3, "SAMBATWO", 2, REGISTRATION).unwrap();
    let out = lan.run(
        3,
        env!("CARGO_BIN_EXE_nbt"),
        &["scan", "198.18.0.0/24", "--json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    let text = v.to_string();
    assert!(
        text.contains("NBTDONE") && text.contains("198.18.0.1"),
        "{text}"
    );
    assert!(
        text.contains("SAMBATWO") && text.contains("198.18.0.2"),
        "{text}"
    );
}

#[test]
fn nbtd_does_not_claim_a_name_nmbd_holds() {
    let Some(lan) = Lan::for_test(
        "nbtd_does_not_claim_a_name_nmbd_holds",
        3,
        &["nmbd", "nmblookup"],
    ) else {
        return;
    };
    lan.start_nmbd(2, &NmbdConfig::new("LABWG", "TAKEN"));
    lan.wait_for_name(3, "TAKEN", 2, REGISTRATION).unwrap();
    // A service manager's socket (a path, so that nbtd reaches it from its namespace).
    let notify_path = lan.dir().join("notify1.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let notify_env = format!("NOTIFY_SOCKET={}", notify_path.to_str().unwrap());
    let nbtd = daemon::start_with_env(
        &lan,
        1,
        "TAKEN",
        Some("[metrics]\nlisten = \"198.18.0.1:9137\"\n"),
        &["--no-local-master"],
        &[&notify_env],
    );
    let status = nbtd.settled();
    let taken: Vec<_> = status.interfaces[0]
        .names
        .iter()
        .filter(|n| !n.group)
        .collect();
    assert_eq!(taken.len(), 3);
    for n in taken {
        let owner = "198.18.0.2".parse().unwrap();
        assert_eq!(n.state, NameStatusState::Conflict { owner }, "{n:?}");
    }
    let log = nbtd.log_text();
    assert!(
        log.contains("is held by 198.18.0.2") && log.contains("does not use it"),
        "a clear conflict line naming the owner:\n{log}"
    );
    // The service manager hears of it: READY=1, then a status line that says the conflict.
    let until = Instant::now() + Duration::from_secs(20);
    let mut heard = Vec::new();
    while !heard.iter().any(|m: &String| m.contains("NAME CONFLICT")) && Instant::now() < until {
        let mut buf = [0u8; 1024];
        if let Ok(n) = notify.recv(&mut buf) {
            heard.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    assert!(heard[0].starts_with("READY=1\n"), "{heard:?}");
    assert!(
        heard.iter().any(|m| m.contains(
            "STATUS=NAME CONFLICT: TAKEN<00>, TAKEN<03>, TAKEN<20> held by 198.18.0.2; \
             serving TAKEN in LABWG on 1 interface address"
        )),
        "{heard:?}"
    );
    // nbt daemon says it first, and the metrics count the names.
    let control = nbtd.control.to_str().unwrap();
    let (code, text, err) = lan.nbt(1, &["daemon", "--control-socket", control]);
    assert_eq!(code, 0, "{err}");
    assert!(
        text.starts_with("NAME CONFLICT: TAKEN<00> is held by 198.18.0.2 (on lan0 198.18.0.1)"),
        "{text}"
    );
    let scrape = lan.run(
        1,
        "python3",
        &[
            "-c",
            "import urllib.request as u; \
             print(u.urlopen('http://198.18.0.1:9137/metrics', timeout=10).read().decode())",
        ],
    );
    let metrics = String::from_utf8_lossy(&scrape.stdout);
    assert!(
        metrics.contains("\nnbtd_name_conflicts 3\n"),
        "{metrics}\n{}",
        String::from_utf8_lossy(&scrape.stderr)
    );
    // Only nmbd answers for the name.
    let out = nmblookup(&lan, 3, &["-B", "198.18.0.255", "TAKEN"]);
    assert!(
        out.contains("198.18.0.2 TAKEN<00>") && !out.contains("198.18.0.1 TAKEN"),
        "{out}"
    );
}

#[test]
fn nbtd_defends_its_name_against_nmbd() {
    let Some(lan) = Lan::for_test(
        "nbtd_defends_its_name_against_nmbd",
        3,
        &["nmbd", "nmblookup"],
    ) else {
        return;
    };
    let nbtd = start_nbtd(&lan, 1, "MINE", &[]);
    nbtd.settled();
    let nmbd = lan.start_nmbd(2, &NmbdConfig::new("LABWG", "MINE"));
    // nmbd logs each refused name at level 0 as soon as its registration is answered.
    let log = nmbd.dir.join("log/log.nmbd");
    let refused = |t: &str| {
        ["MINE<00>", "MINE<03>", "MINE<20>"].iter().all(|n| {
            t.contains(&format!(
                "Failed to register my name {n} on subnet 198.18.0.2"
            ))
        })
    };
    let until = Instant::now() + REGISTRATION;
    let text = loop {
        let t = std::fs::read_to_string(&log).unwrap_or_default();
        if refused(&t) || Instant::now() > until {
            break t;
        }
        sleep(Duration::from_millis(200));
    };
    assert!(refused(&text), "nmbd's log:\n{text}");
    assert!(
        nbtd.log_text().contains("tried to register our name MINE"),
        "{}",
        nbtd.log_text()
    );
    let out = nmblookup(&lan, 3, &["-B", "198.18.0.255", "MINE"]);
    assert!(
        out.contains("198.18.0.1 MINE<00>") && !out.contains("198.18.0.2 MINE"),
        "{out}"
    );
    let s = query_status(&nbtd.control).unwrap();
    assert!(s.name_service.defended >= 1);
    assert!(
        s.interfaces[0]
            .names
            .iter()
            .all(|n| n.state == NameStatusState::Active)
    );
}

/// Listens on UDP 137 in host `i` and appends each datagram's source and hex to `file`.
const LISTENER: &str = r#"
import socket, sys, binascii
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 137))
s.settimeout(30)
with open(sys.argv[1], "a") as f:
    print("ready", file=f, flush=True)
    while True:
        try:
            data, src = s.recvfrom(2048)
        except socket.timeout:
            break
        print(src[0], binascii.hexlify(data).decode(), file=f, flush=True)
"#;

#[test]
fn sigterm_broadcasts_the_release_of_every_name() {
    let Some(lan) = Lan::for_test(
        "sigterm_broadcasts_the_release_of_every_name",
        2,
        &["python3"],
    ) else {
        return;
    };
    let nbtd = start_nbtd(&lan, 1, "LEAVING", &[]);
    nbtd.settled();
    let capture = lan.dir().join("capture.txt");
    let cap = capture.to_str().unwrap().to_owned();
    lan.spawn(2, "python3", &["-c", LISTENER, &cap], "listener.log");
    let until = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&capture)
        .unwrap_or_default()
        .starts_with("ready")
    {
        assert!(Instant::now() < until, "the listener did not start");
        sleep(Duration::from_millis(50));
    }
    nbtd.terminate();
    sleep(Duration::from_millis(300));
    let text = std::fs::read_to_string(&capture).unwrap();
    let mut released: Vec<String> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let (src, hex) = l.split_once(' ')?;
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            let p = NameServicePacket::parse(&bytes).ok()?;
            (src == "198.18.0.1" && p.kind() == PacketKind::NameReleaseRequest)
                .then(|| p.questions[0].name.name.to_string())
        })
        .collect();
    released.sort();
    let mut want: Vec<String> = ["LEAVING", "LEAVING#03", "LEAVING#20", "LABWG", "LABWG#1e"]
        .iter()
        .map(|s| s.parse::<NetbiosName>().unwrap().to_string())
        .collect();
    want.sort();
    assert_eq!(
        released,
        want,
        "capture:\n{text}\nnbtd log:\n{}",
        nbtd.log_text()
    );
}
