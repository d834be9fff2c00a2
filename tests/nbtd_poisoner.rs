//! The poisoner detector against a fake NBT-NS poisoner on a namespace LAN: a small script in
//! host 2 answers every broadcast name query with its own address, as Responder does.
//! - nbtd (canary every 5 s) names it, with its MAC address, in its log, `nbt daemon` and its
//!   counters, within a few rounds;
//! - `nbt canary` in host 3 exits 0 while only honest hosts (nbtd) are on the LAN, exits 4 and
//!   names the poisoner while it runs, and exits 0 again once it is gone.
//!
//! Needs root, `ip` and `python3`; without them the test says why and passes, except under
//! `CI=true`.

mod common;

use std::thread::sleep;
use std::time::{Duration, Instant};

use common::daemon;
use common::netns::Lan;

/// Answers every NB name query (not node status) with `sys.argv[1]`, by unicast to the asker.
const POISONER: &str = r#"
import socket, struct, sys
ip = socket.inet_aton(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.bind(("0.0.0.0", 137))
print("ready", flush=True)
while True:
    data, src = s.recvfrom(2048)
    if len(data) < 50:
        continue
    trn, flags, qd = struct.unpack(">HHH", data[:6])
    if flags & 0x8000 or (flags >> 11) & 0xF != 0 or qd != 1:
        continue
    question = data[12:46]
    if data[46:48] != b"\x00\x20":
        continue
    answer = struct.pack(">HHHHHH", trn, 0x8500, 0, 1, 0, 0) + question
    answer += b"\x00\x20\x00\x01" + struct.pack(">IH", 300, 6) + b"\x00\x00" + ip
    s.sendto(answer, src)
"#;

fn mac_of(lan: &Lan, i: usize) -> String {
    let out = lan.run(i, "cat", &["/sys/class/net/lan0/address"]);
    String::from_utf8_lossy(&out.stdout).trim().to_lowercase()
}

#[test]
fn the_canary_names_a_poisoner_and_nbt_canary_exits_four() {
    let test = "the_canary_names_a_poisoner_and_nbt_canary_exits_four";
    let Some(lan) = Lan::for_test(test, 3, &["python3"]) else {
        return;
    };
    let nbtd = daemon::start(
        &lan,
        1,
        "NBTDONE",
        Some("canary_interval_secs = 5\n"),
        &["--no-local-master"],
    );
    nbtd.wait_active();

    // Only honest hosts: nobody answers a name nobody registered.
    let (code, out, err) = lan.nbt(3, &["canary"]);
    assert_eq!(code, 0, "nbt canary with no poisoner:\n{out}{err}");
    assert!(out.contains("no poisoner seen"), "{out}");

    let poisoner_ip = lan.ip(2).to_string();
    let pid = lan.spawn(
        2,
        "python3",
        &["-c", POISONER, &poisoner_ip],
        "poisoner.log",
    );
    let log = lan.dir().join("poisoner.log");
    let until = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("ready")
    {
        assert!(Instant::now() < until, "the fake poisoner did not start");
        sleep(Duration::from_millis(50));
    }
    let mac = mac_of(&lan, 2);

    // nbtd names it within a few canary rounds, with its MAC address.
    let st = nbtd.wait_for_status_within(
        Duration::from_secs(30),
        "nbtd did not name the poisoner",
        |s| {
            s.poisoners
                .iter()
                .any(|p| p.address == lan.ip(2) && p.mac.as_deref() == Some(mac.as_str()))
        },
    );
    assert!(
        st.name_service.poisoner_answers >= 1,
        "{:?}",
        st.name_service
    );
    let text = nbtd.log_text();
    assert!(
        text.lines()
            .any(|l| l.contains("WARN") && l.contains("NBT-NS poisoner") && l.contains(&mac)),
        "no WARN naming the poisoner and its MAC:\n{text}"
    );
    let ctl = nbtd.control.to_str().unwrap();
    let (_, out, _) = lan.nbt(1, &["daemon", "--control-socket", ctl]);
    assert!(
        out.lines()
            .any(|l| l.starts_with(&format!("POISONER {poisoner_ip} ({mac})"))),
        "nbt daemon:\n{out}"
    );

    // nbt canary, once, from another host: exit status 4, and the poisoner named.
    let (code, out, err) = lan.nbt(3, &["canary"]);
    assert_eq!(code, 4, "nbt canary with a poisoner:\n{out}{err}");
    assert!(out.contains(&format!("POISONER {poisoner_ip}")), "{out}");
    let (code, out, _) = lan.nbt(3, &["canary", "--json"]);
    assert_eq!(code, 4);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["poisoners"][0]["address"], poisoner_ip.as_str(), "{out}");

    // Gone: nbt canary is quiet again.
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status();
    sleep(Duration::from_millis(300));
    let (code, out, err) = lan.nbt(3, &["canary"]);
    assert_eq!(
        code, 0,
        "nbt canary after the poisoner stopped:\n{out}{err}"
    );
}
