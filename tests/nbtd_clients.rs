//! nbtd's name service against the third-party clients people run, on a LAN of network
//! namespaces:
//! - nbtscan (unicast node status with the B flag set), impacket's and pysmb's NBNS clients, and
//!   `nmblookup '*'` find nbtd as they find nmbd; tshark finds no malformed frame from nbtd in a
//!   capture of the whole exchange;
//! - on nbtd's own host, nmblookup, `nbt lookup`, `nbt status` and `nbt view --lan` (the master,
//!   without its control socket) get their answers;
//! - a unicast name refresh of nbtd's name is defended with ACT_ERR, and a workgroup member that
//!   stops and releases the group names is not logged or counted as an attack.
//!
//! Needs root, `ip`, `nmbd`, `nmblookup`, `nbtscan`, `tshark`, and /usr/bin/python3 with
//! impacket (python3-impacket) and pysmb; without them each test says why and passes, except
//! under `CI=true`, where it fails.

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::daemon;
use common::load::udp_in;
use common::netns::{Lan, NmbdConfig};
use nbt_protocol::name::{NetbiosName, ScopedName};
use nbt_protocol::wire::Emit;
use nbt_protocol::wire::ns::{NameServicePacket, NbAddress, PacketKind, Rcode};
use nbtd::control::{BrowserRole, query_status};

/// The Python that python3-impacket installs for, and that CI installs pysmb for.
const PYTHON: &str = "/usr/bin/python3";

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn nmblookup(lan: &Lan, from: usize, args: &[&str]) -> String {
    let conf = lan.client_conf();
    let mut all = vec!["-s", conf.to_str().unwrap()];
    all.extend(args);
    text(&lan.run(from, "nmblookup", &all))
}

fn mac_of(lan: &Lan, i: usize) -> String {
    let out = lan.run(i, "cat", &["/sys/class/net/lan0/address"]);
    String::from_utf8_lossy(&out.stdout).trim().to_lowercase()
}

/// Whether /usr/bin/python3 imports `module`, or why not.
fn python_has(module: &str, package: &str) -> Result<(), String> {
    if !Path::new(PYTHON).exists() {
        return Err(format!("{PYTHON} is missing (apt-get install python3)"));
    }
    let ok = std::process::Command::new(PYTHON)
        .args(["-c", &format!("import {module}")])
        .output()
        .map_err(|e| format!("cannot run {PYTHON}: {e}"))?;
    if ok.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{PYTHON} cannot import {module}: install {package}"
        ))
    }
}

/// A tshark capture on host `i`'s LAN port, for the whole test.
struct Capture {
    pid: u32,
    file: std::path::PathBuf,
}

impl Capture {
    fn start(lan: &Lan, i: usize) -> Capture {
        let file = lan.dir().join(format!("capture{i}.pcapng"));
        let f = file.to_str().unwrap().to_owned();
        let pid = lan.spawn(i, "tshark", &["-n", "-i", "lan0", "-w", &f], "tshark.log");
        // dumpcap creates the file once it captures.
        let until = Instant::now() + Duration::from_secs(20);
        while !file.exists() {
            assert!(Instant::now() < until, "tshark did not start capturing");
            sleep(Duration::from_millis(50));
        }
        sleep(Duration::from_millis(300));
        Capture { pid, file }
    }

    /// Stops the capture and returns tshark's one-line summaries of the frames from `src` that
    /// match `filter`, and of those that are malformed or carry an expert error.
    fn finish(self, lan: &Lan, src: Ipv4Addr, filter: &str) -> (Vec<String>, Vec<String>) {
        sleep(Duration::from_millis(500));
        let _ = std::process::Command::new("kill")
            .args(["-INT", &self.pid.to_string()])
            .status();
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let stat =
                std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap_or_default();
            if stat.is_empty() || stat.contains(") Z") {
                break;
            }
            assert!(Instant::now() < until, "tshark did not stop");
            sleep(Duration::from_millis(50));
        }
        let f = self.file.to_str().unwrap();
        let read = |display: &str| -> Vec<String> {
            let o = lan.run(1, "tshark", &["-n", "-r", f, "-Y", display]);
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_owned)
                .collect()
        };
        let ours = read(&format!("ip.src == {src} && ({filter})"));
        let bad = read(&format!(
            "ip.src == {src} && (_ws.malformed || _ws.expert.severity == error)"
        ));
        (ours, bad)
    }
}

#[test]
fn nbtscan_impacket_pysmb_and_nmblookup_star_find_nbtd() {
    let test = "nbtscan_impacket_pysmb_and_nmblookup_star_find_nbtd";
    let Some(lan) = Lan::for_test(test, 3, &["nmbd", "nmblookup", "nbtscan", "tshark"]) else {
        return;
    };
    for (module, package) in [
        ("impacket.nmb", "python3-impacket"),
        ("nmb.NetBIOS", "pysmb (pip)"),
    ] {
        if let Err(why) = python_has(module, package) {
            common::skip(test, &why);
            return;
        }
    }
    let capture = Capture::start(&lan, 1);
    let nbtd = daemon::start(&lan, 1, "NBTDONE", None, &["--no-local-master"]);
    lan.start_nmbd(2, &NmbdConfig::new(daemon::WG, "SAMBATWO"));
    nbtd.wait_active();
    lan.wait_for_name(3, "SAMBATWO", 2, Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{e}"));
    let (one, two) = (lan.ip(1).to_string(), lan.ip(2).to_string());

    // nbtscan asks for node status by unicast with the B flag set.
    let out = text(&lan.run(3, "nbtscan", &["-v", "-s", ":", &one]));
    for line in [
        format!("{one}:NBTDONE        :00U"),
        format!("{one}:NBTDONE        :20U"),
        format!("{one}:LABWG          :00G"),
        format!("{one}:LABWG          :1eG"),
        format!("{one}:MAC:{}", mac_of(&lan, 1)),
    ] {
        assert!(
            out.lines().any(|l| l == line),
            "nbtscan -v -s : {one}: no {line:?} in\n{out}"
        );
    }
    assert!(!out.contains("Incomplete"), "{out}");
    // Its scan of the subnet lists nbtd next to nmbd.
    let out = text(&lan.run(3, "nbtscan", &["-q", "198.18.0.0/24"]));
    let host = |ip: &str, name: &str| {
        out.lines()
            .any(|l| l.split_whitespace().take(2).eq([ip, name]))
    };
    assert!(
        host(&one, "NBTDONE") && host(&two, "SAMBATWO"),
        "nbtscan 198.18.0.0/24:\n{out}"
    );

    // `nmblookup '*'` lists every host on the wire: nmbd answers for `*`, and so does nbtd.
    let out = nmblookup(&lan, 3, &["*"]);
    for ip in [&one, &two] {
        assert!(
            out.contains(&format!("{ip} *<00>")),
            "nmblookup '*': no {ip}\n{out}"
        );
    }

    // impacket's NetBIOS: by broadcast (to 255.255.255.255 and to the subnet's) and by
    // unicast, node status and the name of an address.
    let out = lan.run(3, "ip", &["route", "add", "default", "dev", "lan0"]);
    assert!(out.status.success(), "{}", text(&out));
    let script = format!(
        r#"
from impacket.nmb import NetBIOS
n = NetBIOS()
# Its default, "<broadcast>", fails in getaddrinfo before anything is sent (impacket 0.10).
n.set_broadcastaddr("255.255.255.255")
print("limited", n.gethostbyname("NBTDONE", timeout=2).entries)
n.set_broadcastaddr("198.18.0.255")
print("subnet", n.gethostbyname("NBTDONE", timeout=2).entries)
n.set_nameserver("{one}")
print("unicast", n.gethostbyname("NBTDONE", timeout=2).entries)
names = sorted((e["NAME"].strip().decode(), e["TYPE"]) for e in n.getnodestatus("*", "{one}", timeout=2))
print("status", names)
print("mac", n.getmacaddress())
print("name", n.getnetbiosname("{one}"))
"#
    );
    let out = text(&lan.run(3, PYTHON, &["-c", &script]));
    for want in [
        format!("limited ['{one}']"),
        format!("subnet ['{one}']"),
        format!("unicast ['{one}']"),
        "('LABWG', 30)".to_owned(),
        "('NBTDONE', 32)".to_owned(),
        format!("mac {}", mac_of(&lan, 1).replace(':', "-").to_uppercase()),
        "name NBTDONE".to_owned(),
    ] {
        assert!(out.contains(&want), "impacket: no {want:?} in\n{out}");
    }

    // pysmb's NetBIOS: queryName by broadcast and (with the B flag, as pysmb sets it) by
    // unicast, and queryIPForName (node status).
    let script = format!(
        r#"
from nmb.NetBIOS import NetBIOS
n = NetBIOS(broadcast=True)
print("bcast", n.queryName("NBTDONE", timeout=3))
print("unicast", n.queryName("NBTDONE", ip="{one}", timeout=3))
print("names", n.queryIPForName("{one}", timeout=3))
n.close()
"#
    );
    let out = text(&lan.run(3, PYTHON, &["-c", &script]));
    for want in [
        format!("bcast ['{one}']"),
        format!("unicast ['{one}']"),
        "names ['NBTDONE']".to_owned(),
    ] {
        assert!(out.contains(&want), "pysmb: no {want:?} in\n{out}");
    }

    // Everything nbtd sent reads cleanly.
    let (ours, bad) = capture.finish(&lan, lan.ip(1), "nbns || nbdgm");
    assert!(
        ours.len() >= 8,
        "the capture holds nbtd's answers: {ours:#?}"
    );
    assert!(
        bad.is_empty(),
        "malformed frames from nbtd:\n{}",
        bad.join("\n")
    );
    drop(nbtd);
}

#[test]
fn commands_on_the_nbtd_host_itself_get_their_answers() {
    let test = "commands_on_the_nbtd_host_itself_get_their_answers";
    let Some(lan) = Lan::for_test(test, 2, &["nmblookup"]) else {
        return;
    };
    let master = daemon::start(&lan, 1, "NBTDONE", None, &["--preferred-master"]);
    let other = daemon::start(&lan, 2, "NBTDTWO", None, &["--no-local-master"]);
    master.wait_for_status_within(
        Duration::from_secs(30),
        "NBTDONE did not become master",
        |s| {
            s.interfaces.iter().all(|i| {
                i.browser.role == BrowserRole::Master
                    && i.names
                        .iter()
                        .all(|n| n.state == nbtd::control::NameStatusState::Active)
            })
        },
    );
    other.wait_active();
    let one = lan.ip(1).to_string();

    // Samba's client, on the nbtd host: by broadcast, and node status of its own address.
    let out = nmblookup(&lan, 1, &["NBTDONE"]);
    assert!(
        out.contains(&format!("{one} NBTDONE<00>")),
        "nmblookup NBTDONE:\n{out}"
    );
    let out = nmblookup(&lan, 1, &["-A", &one]);
    let has = |name: &str, sfx: &str| {
        out.lines()
            .any(|l| l.split_whitespace().take(2).eq([name, sfx]))
    };
    assert!(
        has("NBTDONE", "<20>") && has("LABWG", "<1d>"),
        "nmblookup -A {one}:\n{out}"
    );

    // nbt, as the README's troubleshooting runs it on the NAS itself.
    let (code, out, err) = lan.nbt(1, &["lookup", "NBTDONE", "--server", &one]);
    assert_eq!(code, 0, "nbt lookup --server {one}:\n{out}{err}");
    assert!(out.contains(&one), "{out}");
    let (code, out, err) = lan.nbt(1, &["lookup", "NBTDONE"]);
    assert_eq!(code, 0, "nbt lookup NBTDONE:\n{out}{err}");
    let (code, out, err) = lan.nbt(1, &["status", &one]);
    assert_eq!(code, 0, "nbt status {one}:\n{out}{err}");
    assert!(out.contains("NBTDONE") && out.contains("LABWG"), "{out}");

    // nbt view from the LAN, on the master itself: <1D> by broadcast, GetBackupList, node
    // status, and the list over TCP 139 from this host.
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let (code, out, err) = lan.nbt(1, &["view", "LABWG", "--lan", "--json"]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        let names: Vec<&str> = v["machines"]
            .as_array()
            .map(|a| a.iter().filter_map(|m| m["name"].as_str()).collect())
            .unwrap_or_default();
        // The master answered the GetBackupList this host sent, and named itself.
        let backups = v["backups"].as_array().cloned().unwrap_or_default();
        if code == 0
            && v["via"] == "rap"
            && backups.iter().any(|b| b == "NBTDONE")
            && names.contains(&"NBTDONE")
            && names.contains(&"NBTDTWO")
        {
            break;
        }
        assert!(
            Instant::now() < until,
            "nbt view --lan on the master:\n{out}{err}\n{}",
            master.log_text()
        );
        sleep(Duration::from_millis(500));
    }
}

#[test]
fn a_refresh_is_defended_and_a_member_leaving_is_no_attack() {
    let test = "a_refresh_is_defended_and_a_member_leaving_is_no_attack";
    let Some(lan) = Lan::for_test(test, 2, &[]) else {
        return;
    };
    let nbtd = daemon::start(&lan, 1, "NBTDONE", None, &["--no-local-master"]);
    let other = daemon::start(&lan, 2, "NBTDTWO", None, &["--no-local-master"]);
    nbtd.wait_active();
    other.wait_active();

    // A WINS client's unicast refresh of our name, as a P- or H-node sends it.
    let sock = udp_in(&lan, 2, SocketAddrV4::new(lan.ip(2), 0));
    sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let refresh = NameServicePacket::refresh_request(
        0x6161,
        ScopedName::unscoped(NetbiosName::new("NBTDONE", 0x20).unwrap()),
        300_000,
        NbAddress::b_node(lan.ip(2), false),
        false,
    );
    sock.send_to(
        &refresh.to_vec().unwrap(),
        SocketAddrV4::new(lan.ip(1), 137),
    )
    .unwrap();
    let mut buf = [0u8; 576];
    let (n, _) = sock
        .recv_from(&mut buf)
        .unwrap_or_else(|e| panic!("no answer to the refresh: {e}\n{}", nbtd.log_text()));
    let p = NameServicePacket::parse(&buf[..n]).unwrap();
    assert_eq!(p.kind(), PacketKind::NegativeNameRegistrationResponse);
    assert_eq!((p.trn_id, p.rcode), (0x6161, Rcode::ACT_ERR));

    // NBTDTWO stops cleanly and releases its names, the workgroup's among them.
    other.signal("-TERM");
    let s = nbtd.wait_for_status("the group releases were not counted", |s| {
        s.name_service.group_releases >= 2
    });
    assert_eq!(s.name_service.hostile_ignored, 0, "{s:?}");
    sleep(Duration::from_millis(300));
    let log = nbtd.log_text();
    let warned: Vec<_> = log
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("LABWG"))
        .collect();
    assert!(
        warned.is_empty(),
        "a member leaving was logged as an attack:\n{}",
        warned.join("\n")
    );
    assert!(
        log.contains("left the group LABWG"),
        "logged at debug:\n{log}"
    );
    let s = query_status(&nbtd.control).unwrap();
    assert!(
        s.interfaces[0]
            .names
            .iter()
            .all(|n| n.state == nbtd::control::NameStatusState::Active)
    );
}
