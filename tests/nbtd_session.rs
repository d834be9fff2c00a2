//! nbtd's session service on loopback against hostile clients: malformed SMB, truncated frames,
//! oversize lengths and SMB2 each get a clean close, and the daemon keeps serving: a proper
//! session request still gets its positive response and the control socket still answers. A LAN
//! Manager client (no NT LM 0.12 dialect) is refused with DialectIndex 0xFFFF, and the log says
//! so once; so is an SMB2-only client, closed after the positive response.

mod nbtd_harness;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread::sleep;
use std::time::{Duration, Instant};

use nbtd::control::query_status;
use nbtd::protocol::name::NetbiosName;
use nbtd::protocol::wire::Emit;
use nbtd::protocol::wire::ssn::{SessionPacket, SessionRequest};
use nbtd_harness::{Daemon, PATIENCE, Scratch, free_ports, port_args};

fn session_request() -> Vec<u8> {
    SessionPacket::SessionRequest(SessionRequest {
        called_name: NetbiosName::new("HOSTILE", 0x20).unwrap().into(),
        calling_name: NetbiosName::new("CLIENT", 0).unwrap().into(),
        trailing: Vec::new(),
    })
    .to_vec()
    .unwrap()
}

/// Sends `bytes` (then, with `end`, shuts the write side) and reads until the server closes;
/// returns what it sent back. Panics if it does not close within a few seconds.
fn send_and_wait_close(port: u16, bytes: &[u8], end: bool) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(bytes).unwrap();
    if end {
        s.shutdown(std::net::Shutdown::Write).unwrap();
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return got,
            Err(e) => panic!("the server did not close the connection: {e}"),
        }
    }
}

#[test]
fn hostile_session_clients_get_a_clean_close_and_the_daemon_goes_on() {
    let dir = Scratch::new("session");
    let mut args = port_args(free_ports());
    let at = args.iter().position(|a| a == "--session-port").unwrap();
    let session_port: u16 = args[at + 1].parse().unwrap();
    args.extend([
        "--interfaces".to_owned(),
        "lo".into(),
        "--netbios-name".into(),
        "HOSTILE".into(),
        "--no-local-master".into(),
        "--log-level".into(),
        "info,nbtd=debug".into(),
    ]);
    args.extend(dir.daemon_paths());
    let mut d = Daemon::start(&args);
    let end = Instant::now() + PATIENCE;
    while TcpStream::connect(("127.0.0.1", session_port)).is_err() {
        assert!(Instant::now() < end, "no listener:\n{}", d.stderr());
        assert!(d.exited().is_none(), "nbtd exited:\n{}", d.stderr());
        sleep(Duration::from_millis(50));
    }

    // An oversize length: 0x1FFFF bytes announced.
    assert!(send_and_wait_close(session_port, &[0x00, 0x01, 0xFF, 0xFF], false).is_empty());
    // A truncated frame: 100 bytes announced, 10 sent, then the client stops writing.
    let mut t = vec![0x81, 0x00, 0x00, 0x64];
    t.extend_from_slice(&[0x20; 10]);
    assert!(send_and_wait_close(session_port, &t, true).is_empty());
    // Garbage instead of a session request.
    assert!(send_and_wait_close(session_port, b"GET / HTTP/1.0\r\n\r\n", false).is_empty());
    // A valid session, then a message that is not SMB.
    let mut m = session_request();
    m.extend_from_slice(&[0x00, 0x00, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8]);
    let got = send_and_wait_close(session_port, &m, false);
    assert_eq!(&got[..4], &[0x82, 0, 0, 0], "positive response first");
    // A valid session, then an SMB2 NEGOTIATE, twice: closed with nothing after the positive
    // response, and told of at info once for this client.
    for _ in 0..2 {
        let mut m = session_request();
        let mut smb2 = vec![0xFE, b'S', b'M', b'B'];
        smb2.resize(64, 0);
        m.extend_from_slice(&[0x00, 0x00, 0x00, smb2.len() as u8]);
        m.extend_from_slice(&smb2);
        let got = send_and_wait_close(session_port, &m, false);
        assert_eq!(got, [0x82, 0, 0, 0]);
    }
    let smb2_told = "127.0.0.1 speaks SMB2 or later only; nbtd lists over SMB1 (the files are \
                     served on port 445)";
    let log = d.stderr_with(smb2_told);
    assert_eq!(log.matches(smb2_told).count(), 1, "{log}");

    // A LAN Manager client: a NEGOTIATE offering only dialects older than NT LM 0.12, twice.
    // Each gets DialectIndex 0xFFFF and a close; the log says why, once for this client.
    for _ in 0..2 {
        let mut m = session_request();
        let mut smb = vec![0xFF, b'S', b'M', b'B', 0x72, 0, 0, 0, 0, 0x18, 0x01, 0x40];
        smb.resize(32, 0);
        let mut block = Vec::new();
        for d in [&b"LANMAN2.1"[..], b"LM1.2X002"] {
            block.push(0x02);
            block.extend_from_slice(d);
            block.push(0);
        }
        smb.push(0); // WordCount
        smb.extend_from_slice(&(block.len() as u16).to_le_bytes());
        smb.extend_from_slice(&block);
        m.extend_from_slice(&[0x00, 0x00, 0x00, smb.len() as u8]);
        m.extend_from_slice(&smb);
        let got = send_and_wait_close(session_port, &m, false);
        assert_eq!(&got[..4], &[0x82, 0, 0, 0]);
        // The NEGOTIATE response: after the frame header (4) and the SMB header (32), WordCount
        // 1 and DialectIndex 0xFFFF.
        assert_eq!(&got[8..12], b"\xFFSMB", "{got:02x?}");
        assert_eq!(&got[8 + 32..8 + 35], &[1, 0xFF, 0xFF], "{got:02x?}");
    }
    // One close is told of at info, the other logged at debug (its reason, as for any close).
    let told = "offers only dialects older than NT LM 0.12";
    d.stderr_with("the client offers no NT LM 0.12 dialect");
    let log = d.stderr_with(told);
    assert_eq!(log.matches(told).count(), 1, "{log}");

    // Still serving: a proper session request gets its positive response.
    let mut s = TcpStream::connect(("127.0.0.1", session_port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(&session_request()).unwrap();
    let mut r = [0u8; 4];
    s.read_exact(&mut r).unwrap();
    assert_eq!(r, [0x82, 0, 0, 0]);
    drop(s);
    assert!(d.exited().is_none(), "nbtd is still running");
    let st = query_status(&dir.control_socket()).unwrap();
    let session = st.session.expect("the session service is on");
    assert_eq!(session.serving, 1);
    assert!(session.counters.accepted >= 7, "{session:?}");
    assert!(session.counters.closed_on_error >= 3, "{session:?}");
}
