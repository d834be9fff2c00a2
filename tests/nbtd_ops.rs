//! Operating nbtd on loopback with test ports (no root needed): sd_notify readiness, reloading
//! and stopping; SIGHUP applies new shares without losing names or the browse list, and refuses
//! an invalid file; `nbt daemon` shows the election history; Prometheus metrics are served and
//! hostile HTTP requests are closed without harm.

mod nbtd_harness;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use nbtd::control::{ElectionKind, NameStatusState, query_browse_list, query_status};
use nbtd::protocol::NetbiosName;
use nbtd::protocol::engine::dgram::DatagramLayer;
use nbtd::protocol::engine::{IfaceAddr, IfaceId};
use nbtd::protocol::name::{Scope, ScopedName};
use nbtd::protocol::wire::Emit;
use nbtd::protocol::wire::browse::{
    Announcement, BrowserFrame, MAILSLOT_BROWSE, ServerName, ServerType,
};
use nbtd::protocol::wire::ns::PacketKind;
use nbtd_harness::{
    Client, Daemon, PATIENCE, Scratch, all_active, free_ports, free_tcp_port, port_args,
};

/// The longest wait for an election on an idle loopback (four ballots a second apart).
const ELECTION_PATIENCE: Duration = Duration::from_secs(40);

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
    DatagramLayer::new(datagram_port, Scope::none(), 7)
        .mailslot(
            &iface,
            NetbiosName::new(name, 0).unwrap(),
            ScopedName::unscoped(NetbiosName::new("TESTWG", 0x1d).unwrap()),
            None,
            MAILSLOT_BROWSE,
            frame.to_vec().unwrap(),
        )
        .unwrap()
        .payload
}

/// Runs `nbt` (its own timeouts bound it) and returns (status, stdout, stderr).
fn nbt(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_nbt"))
        .args(args)
        .output()
        .expect("run nbt");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The share names `nbt shares` lists on 127.0.0.1.
fn shares(session_port: u16) -> Vec<String> {
    let (code, out, err) = nbt(&[
        "shares",
        "127.0.0.1",
        "--session-port",
        &session_port.to_string(),
        "--json",
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

fn listed(dir: &Scratch, name: &str) -> bool {
    query_browse_list(&dir.control_socket(), Some("TESTWG")).is_ok_and(|l| {
        l.interfaces
            .iter()
            .any(|i| i.servers.iter().any(|s| s.name == name))
    })
}

/// Sends `request` to the metrics listener and reads the answer until the server closes.
fn http(port: u16, request: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    // The server may close before it has read an oversized request: that is fine.
    let _ = s.write_all(request);
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the metrics listener did not close the connection: {e}"),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

fn config(shares: &[&str], workgroup: &str, metrics_port: u16) -> String {
    let mut c = format!(
        "workgroup = \"{workgroup}\"\n[browser]\npreferred_master = true\n\
         [metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n"
    );
    for s in shares {
        c.push_str(&format!(
            "[[share]]\nname = \"{s}\"\ncomment = \"the {s}\"\n"
        ));
    }
    c
}

#[test]
fn sighup_reloads_shares_keeps_names_and_list_and_metrics_tell_it() {
    let dir = Scratch::new("ops-reload");
    let ports = free_ports();
    let mut args = port_args(ports);
    let at = args.iter().position(|a| a == "--session-port").unwrap();
    let session_port: u16 = args[at + 1].parse().unwrap();
    let metrics_port = free_tcp_port();
    let file = dir.path("nbtd.toml");
    std::fs::write(&file, config(&["media"], "TESTWG", metrics_port)).unwrap();
    args.extend(
        [
            "--config",
            file.to_str().unwrap(),
            "--interfaces",
            "lo",
            "--netbios-name",
            "OPSTEST",
            "--log-level",
            "info",
        ]
        .map(String::from),
    );
    args.extend(dir.daemon_paths());
    let mut d = Daemon::start(&args);
    d.wait_for_status(&dir.control_socket(), "names active", PATIENCE, all_active);

    // A server in the browse list, heard from another host.
    let peer = UdpSocket::bind("127.0.0.2:0").unwrap();
    let end = Instant::now() + PATIENCE;
    while !listed(&dir, "REMOTEHOST") {
        assert!(Instant::now() < end, "not listed:\n{}", d.stderr());
        peer.send_to(&announcement("REMOTEHOST", ports.1), ("127.0.0.1", ports.1))
            .unwrap();
        sleep(Duration::from_millis(200));
    }
    assert_eq!(shares(session_port), ["media", "IPC$"]);

    // New shares, and a new workgroup, which waits for a restart.
    std::fs::write(&file, config(&["media", "photos"], "NEWWG", metrics_port)).unwrap();
    d.signal("HUP");
    let st = d.wait_for_status(&dir.control_socket(), "the reload", PATIENCE, |s| {
        s.reloads.applied == 1
    });
    assert_eq!(st.workgroup, "TESTWG", "the workgroup waits for a restart");
    assert!(all_active(&st), "names kept: {st:#?}");
    assert_eq!(shares(session_port), ["media", "photos", "IPC$"]);
    assert!(listed(&dir, "REMOTEHOST"), "the browse list is intact");
    let mut client = Client::new(ports.0);
    let (answer, _) = client
        .query(ScopedName::unscoped(
            NetbiosName::new("OPSTEST", 0x20).unwrap(),
        ))
        .expect("the name is still answered");
    assert_eq!(answer.kind(), PacketKind::PositiveNameQueryResponse);
    let log = d.stderr_with("workgroup changed but take effect only at the next restart");
    assert!(
        log.contains("SIGHUP: configuration reloaded; applied shares"),
        "{log}"
    );

    // An invalid file is refused; the running configuration stays.
    std::fs::write(&file, "[browser]\nos_level = 300\n").unwrap();
    d.signal("HUP");
    d.wait_for_status(&dir.control_socket(), "the refused reload", PATIENCE, |s| {
        s.reloads.failed == 1
    });
    let log = d.stderr_with("still running on the previous configuration");
    assert!(log.contains("os_level"), "the error names the key: {log}");
    assert_eq!(shares(session_port), ["media", "photos", "IPC$"]);

    // The election it stood in as preferred master shows in `nbt daemon`.
    let st = d.wait_for_status(
        &dir.control_socket(),
        "an election won",
        ELECTION_PATIENCE,
        |s| {
            s.interfaces.iter().any(|i| {
                i.browser
                    .elections
                    .iter()
                    .any(|e| e.kind == ElectionKind::Won)
            })
        },
    );
    let lo = &st.interfaces[0].browser;
    assert!(
        lo.elections.iter().any(|e| e.kind == ElectionKind::Started),
        "{lo:#?}"
    );
    assert!(
        lo.per_workgroup
            .iter()
            .any(|w| w.workgroup == "TESTWG" && w.servers >= 1),
        "{lo:#?}"
    );
    let control = dir.control_socket();
    let control = control.to_str().unwrap();
    let (code, text, err) = nbt(&["daemon", "--control-socket", control]);
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains("elections and role changes (oldest first):"),
        "{text}"
    );
    assert!(text.contains("won the election"), "{text}");
    assert!(text.contains("dropped input: "), "{text}");
    assert!(text.contains("servers per workgroup: "), "{text}");
    assert!(
        text.contains("configuration reloads: 1 applied, 1 refused"),
        "{text}"
    );
    let (code, json, err) = nbt(&["daemon", "--control-socket", control, "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let kinds: Vec<&str> = v["interfaces"][0]["browser"]["elections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"won"), "{json}");
    assert_eq!(v["reloads"]["failed"], 1, "{json}");

    // Metrics.
    let m = http(metrics_port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    let (head, body) = m.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{m}");
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    assert!(
        body.contains("# TYPE nbtd_packets_received_total counter\n"),
        "{body}"
    );
    assert!(
        body.contains("nbtd_config_reloads_total{result=\"applied\"} 1\n"),
        "{body}"
    );
    assert!(
        body.contains("nbtd_config_reloads_total{result=\"failed\"} 1\n"),
        "{body}"
    );
    let active = st
        .interfaces
        .iter()
        .flat_map(|i| &i.names)
        .filter(|n| n.state == NameStatusState::Active)
        .count();
    assert!(
        body.contains(&format!("nbtd_names{{state=\"active\"}} {active}\n")),
        "{body}"
    );
    assert!(
        body.contains("nbtd_browse_list_workgroup_servers{interface=\"lo\",address=\"127.0.0.1\",workgroup=\"TESTWG\"}"),
        "{body}"
    );
    let sent = body
        .lines()
        .find_map(|l| l.strip_prefix("nbtd_packets_sent_total{service=\"name\"} "))
        .and_then(|v| v.parse::<u64>().ok())
        .expect("name service datagrams sent");
    assert!(sent > 0, "{body}");
    // Hostile requests get an error or a close, and the listener goes on.
    let big = vec![b'A'; 64 * 1024];
    assert!(http(metrics_port, &big).starts_with("HTTP/1.1 431 "));
    assert!(http(metrics_port, b"\x00\x01\x02garbage\r\n\r\n").starts_with("HTTP/1.1 400 "));
    assert!(http(metrics_port, b"GET /admin HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 "));
    assert!(http(metrics_port, b"DELETE /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405 "));
    drop(TcpStream::connect(("127.0.0.1", metrics_port)).unwrap());
    let m = http(metrics_port, b"GET /metrics HTTP/1.0\r\n\r\n");
    assert!(m.starts_with("HTTP/1.1 200 OK\r\n"), "{m}");

    d.signal("TERM");
    let status = d.wait(PATIENCE);
    assert_eq!(status.code(), Some(0), "{}", d.stderr());
}

#[test]
fn sd_notify_ready_reloading_and_stopping() {
    let dir = Scratch::new("ops-notify");
    let notify = dir.path("notify.sock");
    let listener = UnixDatagram::bind(&notify).unwrap();
    listener
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let recv = || {
        let mut buf = [0u8; 1024];
        let n = listener.recv(&mut buf).expect("a notification");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let mut args = port_args(free_ports());
    args.extend(
        [
            "--interfaces",
            "lo",
            "--netbios-name",
            "NOTIFYTEST",
            "--no-local-master",
        ]
        .map(String::from),
    );
    args.extend(dir.daemon_paths());
    let mut cmd = Command::new(nbtd_harness::NBTD);
    cmd.args(&args).env("NOTIFY_SOCKET", &notify);
    let mut d = Daemon::spawn(cmd);

    let ready = recv();
    assert!(ready.starts_with("READY=1\n"), "{ready}");
    assert!(
        ready.contains("STATUS=serving NOTIFYTEST in WORKGROUP on 1 interface address"),
        "{ready}"
    );
    // Ready means serving: the control socket answers at once.
    query_status(&dir.control_socket()).expect("the control socket answers once READY=1");

    d.signal("HUP");
    let reloading = recv();
    let mut lines = reloading.lines();
    assert_eq!(lines.next(), Some("RELOADING=1"), "{reloading}");
    let usec: u64 = lines
        .next()
        .and_then(|l| l.strip_prefix("MONOTONIC_USEC="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no MONOTONIC_USEC: {reloading}"));
    assert!(usec > 0);
    assert!(recv().starts_with("READY=1\n"));

    d.signal("TERM");
    assert!(recv().starts_with("STOPPING=1"));
    let status = d.wait(PATIENCE);
    assert_eq!(status.code(), Some(0), "{}", d.stderr());
    assert!(
        !d.stderr().contains("NOTIFY_SOCKET"),
        "no complaint: {}",
        d.stderr()
    );
}
