//! nbtd's session service on loopback under the attacks of "Hold under attack, round 2": each
//! test starts nbtd on 127.0.0.1 and attacks it from other 127.x addresses, which act as other
//! hosts, and then a client from yet another address must be served (a positive response to
//! its session request) within 1 s. No root needed.
//!
//! - Clients that pipeline ECHO requests and never read are closed within the write deadline.
//! - Clients that send only `81 00 00 44` (a session request's header) are closed within the
//!   handshake deadline, which covers the whole first frame.
//! - One host opening 64 or 2000 connections, idle, with a bare header or pipelining, holds at
//!   most `max_connections_per_source` of them.
//!
//! The measured figures are printed (`--nocapture` shows them).

mod nbtd_harness;

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nbtd::control::DaemonStatus;
use nbtd::protocol::name::NetbiosName;
use nbtd::protocol::wire::Emit;
use nbtd::protocol::wire::ssn::{SessionPacket, SessionRequest};
use nbtd::session::SessionCountersSnapshot;
use nbtd_harness::{Daemon, PATIENCE, Scratch, free_ports, port_args};

/// How soon a client from another address must be served while an attack runs.
const SERVED_WITHIN: Duration = Duration::from_secs(1);

/// nbtd on 127.0.0.1 with `session` as its `[session]` table; returns it, its scratch
/// directory and its session port once it listens.
fn start(test: &str, session: &str) -> (Daemon, Scratch, u16) {
    let dir = Scratch::new(test);
    let file = dir.path("nbtd.toml");
    std::fs::write(&file, format!("[session]\nenabled = \"yes\"\n{session}")).unwrap();
    let mut args = port_args(free_ports());
    let at = args.iter().position(|a| a == "--session-port").unwrap();
    let port: u16 = args[at + 1].parse().unwrap();
    args.extend([
        "--config".to_owned(),
        file.display().to_string(),
        "--interfaces".into(),
        "lo".into(),
        "--netbios-name".into(),
        "ATTACKED".into(),
        "--no-local-master".into(),
        "--log-level".into(),
        "info".into(),
    ]);
    args.extend(dir.daemon_paths());
    let mut d = Daemon::start(&args);
    let end = Instant::now() + PATIENCE;
    loop {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
            drop(s);
            break;
        }
        assert!(Instant::now() < end, "no listener:\n{}", d.stderr());
        assert!(d.exited().is_none(), "nbtd exited:\n{}", d.stderr());
        sleep(Duration::from_millis(50));
    }
    // That probe connection ends at once; wait until nbtd has let it go.
    wait_counters(&mut d, &dir, "the probe connection closed", |_| true);
    (d, dir, port)
}

fn status(d: &mut Daemon, dir: &Scratch) -> DaemonStatus {
    d.wait_for_status(&dir.control_socket(), "status", PATIENCE, |_| true)
}

/// Waits (at most 30 s) until the session counters satisfy `done`; returns them.
fn wait_counters(
    d: &mut Daemon,
    dir: &Scratch,
    what: &str,
    done: impl Fn(&SessionCountersSnapshot) -> bool,
) -> SessionCountersSnapshot {
    let st = d.wait_for_status(&dir.control_socket(), what, Duration::from_secs(30), |s| {
        s.session.as_ref().is_some_and(|x| done(&x.counters))
    });
    st.session.unwrap().counters
}

/// A connection from `src` to nbtd's session port on 127.0.0.1.
fn connect_from(src: Ipv4Addr, port: u16) -> TcpStream {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    s.bind(&SocketAddr::from((src, 0)).into()).unwrap();
    let to = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    s.connect_timeout(&to.into(), Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("connect from {src}: {e}"));
    s.into()
}

fn session_request() -> Vec<u8> {
    SessionPacket::SessionRequest(SessionRequest {
        called_name: NetbiosName::new("ATTACKED", 0x20).unwrap().into(),
        calling_name: NetbiosName::new("CLIENT", 0).unwrap().into(),
        trailing: Vec::new(),
    })
    .to_vec()
    .unwrap()
}

/// A NetBIOS session message carrying `smb`.
fn session_message(smb: &[u8]) -> Vec<u8> {
    let n = smb.len();
    let mut f = vec![0x00, (n >> 16) as u8 & 1, (n >> 8) as u8, n as u8];
    f.extend_from_slice(smb);
    f
}

/// A 32-byte SMB1 request header for `command`.
fn smb_header(command: u8) -> Vec<u8> {
    let mut h = vec![
        0xFF, b'S', b'M', b'B', command, 0, 0, 0, 0, 0x18, 0x01, 0x40,
    ];
    h.resize(32, 0);
    h
}

/// A NEGOTIATE offering NT LM 0.12.
fn negotiate() -> Vec<u8> {
    let mut smb = smb_header(0x72);
    let block = b"\x02NT LM 0.12\x00";
    smb.push(0);
    smb.extend_from_slice(&(block.len() as u16).to_le_bytes());
    smb.extend_from_slice(block);
    session_message(&smb)
}

/// An ECHO asking for one copy of `data_len` bytes.
fn echo(data_len: usize) -> Vec<u8> {
    let mut smb = smb_header(0x2B);
    smb.push(1);
    smb.extend_from_slice(&1u16.to_le_bytes());
    smb.extend_from_slice(&(data_len as u16).to_le_bytes());
    smb.resize(smb.len() + data_len, b'e');
    session_message(&smb)
}

/// A client from `src` sends a session request: the time until its positive response, or
/// `None` when it is closed (refused) or gets no answer within 5 s.
fn session_from(src: Ipv4Addr, port: u16) -> Option<Duration> {
    let t = Instant::now();
    let mut s = connect_from(src, port);
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(&session_request()).ok()?;
    let mut r = [0u8; 4];
    s.read_exact(&mut r).ok()?;
    assert_eq!(r, [0x82, 0, 0, 0], "a positive session response");
    Some(t.elapsed())
}

/// A client from `src` is served within [`SERVED_WITHIN`]; prints how soon.
fn served_from(d: &Daemon, src: Ipv4Addr, port: u16, during: &str) -> Duration {
    let took = session_from(src, port)
        .unwrap_or_else(|| panic!("{src} not served {during}:\n{}", d.stderr()));
    println!("{during}: a client from {src} served in {took:?}");
    assert!(took < SERVED_WITHIN, "{src} served in {took:?} {during}");
    took
}

/// How the attacking connections behave.
#[derive(Debug, Clone, Copy)]
enum Attack {
    /// Connect and say nothing.
    Idle,
    /// Send a session request's header (`81 00 00 44`) and nothing more.
    BareHeader,
    /// A session and NEGOTIATE, then as many ECHO requests as the socket takes, never reading.
    Pipeline,
}

/// What a pipelining client sends: a session, NEGOTIATE, then 512 ECHO requests of 4000
/// bytes (2 MB, far more than the socket buffers take while nobody reads the replies).
fn pipelined() -> Vec<u8> {
    let mut p = Vec::new();
    p.extend(session_request());
    p.extend(negotiate());
    let one = echo(4000);
    for _ in 0..512 {
        p.extend(&one);
    }
    p
}

/// Opens `n` connections from `src` and attacks with each (sockets left non-blocking). The
/// pipelining ones write until nbtd stops reading them (at most 5 s).
fn attack(kind: Attack, src: Ipv4Addr, port: u16, n: usize) -> Vec<TcpStream> {
    let bytes: Vec<u8> = match kind {
        Attack::Idle => Vec::new(),
        Attack::BareHeader => vec![0x81, 0x00, 0x00, 0x44],
        Attack::Pipeline => pipelined(),
    };
    let mut conns: Vec<TcpStream> = Vec::with_capacity(n);
    let mut sent: Vec<Option<usize>> = Vec::with_capacity(n);
    for _ in 0..n {
        let mut s = connect_from(src, port);
        s.set_nonblocking(true).unwrap();
        // Refused connections may already be closed: their writes fail, which is fine.
        sent.push(s.write(&bytes).ok());
        conns.push(s);
    }
    // Keep writing until a few passes over every connection make no progress.
    let end = Instant::now() + Duration::from_secs(5);
    let mut still = 0;
    while still < 5 && Instant::now() < end {
        let mut progress = false;
        for (s, at) in conns.iter_mut().zip(sent.iter_mut()) {
            let Some(k) = *at else { continue };
            if k == bytes.len() {
                continue;
            }
            match s.write(&bytes[k..]) {
                Ok(w) => {
                    *at = Some(k + w);
                    progress |= w > 0;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => *at = None,
            }
        }
        still = if progress { 0 } else { still + 1 };
        sleep(Duration::from_millis(20));
    }
    conns
}

/// How many of `conns` nbtd has closed (or reset), reading without blocking; reads what
/// nbtd sent (at most 4 MiB per connection).
fn closed(conns: &[TcpStream]) -> usize {
    let mut buf = [0u8; 16384];
    conns
        .iter()
        .filter(|s| {
            let mut s: &TcpStream = s;
            for _ in 0..256 {
                match s.read(&mut buf) {
                    Ok(0) => return true,
                    Ok(_) => continue,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
                    Err(_) => return true,
                }
            }
            false
        })
        .count()
}

/// Raises this process's open-file limit to at least `n`, for the 2000-connection attacks.
fn raise_fd_limit(n: u64) {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut r), 0);
        if r.rlim_cur < n {
            r.rlim_cur = n.max(r.rlim_cur);
            r.rlim_max = r.rlim_max.max(n);
            assert_eq!(
                libc::setrlimit(libc::RLIMIT_NOFILE, &r),
                0,
                "raise RLIMIT_NOFILE to {n}: run as root or raise it with ulimit -n"
            );
        }
    }
}

fn rss(d: &Daemon) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{}/status", d.pid())).unwrap();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap()
}

/// The table full of clients pipelining ECHO requests without reading (8 from each of 8
/// addresses, so the per-source cap does not help): a client from elsewhere is refused while
/// they are stuck; all 64 are closed within the write deadline (2 s here) and then it is
/// served within 1 s. nbtd's RSS stays within 8 MiB of before.
#[test]
fn clients_that_never_read_are_closed_within_the_write_deadline() {
    let (mut d, dir, port) = start(
        "session-write-deadline",
        "write_timeout_secs = 2\nhandshake_timeout_secs = 30\n",
    );
    let before = rss(&d);
    let t = Instant::now();
    let mut attackers = Vec::new();
    for host in 1..=8 {
        let src = Ipv4Addr::new(127, 0, 1, host);
        attackers.extend(attack(Attack::Pipeline, src, port, 8));
    }
    let c = status(&mut d, &dir).session.unwrap().counters;
    assert_eq!(c.refused_per_source + c.refused_busy, 0, "{c:?}");
    let mut peak = rss(&d);
    // While they are stuck, the table is full.
    let refused = session_from(Ipv4Addr::new(127, 0, 1, 100), port);
    assert!(
        refused.is_none() || t.elapsed() > Duration::from_secs(2),
        "{refused:?}"
    );
    let end = Instant::now() + Duration::from_secs(30);
    let c = loop {
        peak = peak.max(rss(&d));
        let c = status(&mut d, &dir).session.unwrap().counters;
        if c.write_timeouts >= 64 {
            break c;
        }
        assert!(
            Instant::now() < end,
            "the non-reading clients were not closed within 30 s: {c:?}\n{}",
            d.stderr()
        );
        sleep(Duration::from_millis(100));
    };
    let took = t.elapsed();
    println!("64 non-reading clients closed for the write deadline (2 s) after {took:?}: {c:?}");
    println!(
        "nbtd VmRSS: {before} KiB before, at most {peak} KiB during, {} KiB after",
        rss(&d)
    );
    assert_eq!(c.write_timeouts, 64, "{c:?}");
    served_from(
        &d,
        Ipv4Addr::new(127, 0, 1, 101),
        port,
        "after the write deadline",
    );
    assert!(
        peak < before + 8 * 1024,
        "VmRSS grew from {before} to {peak} KiB"
    );
    let log = d.stderr_with("did not read a reply within 2 s (session.write_timeout_secs)");
    assert_eq!(
        log.matches("session.write_timeout_secs").count(),
        1,
        "one warning a minute:\n{log}"
    );
    assert_eq!(closed(&attackers), attackers.len(), "every attacker closed");
}

/// The table full of clients that sent `81 00 00 44` and nothing more (8 from each of 8
/// addresses): all 64 are closed within the handshake deadline (2 s here, asserted within
/// 10 s; the body's own timeout is 120 s), and a client from elsewhere is then served within
/// 1 s.
#[test]
fn a_bare_session_header_is_closed_within_the_handshake_deadline() {
    let (mut d, dir, port) = start("session-handshake-deadline", "handshake_timeout_secs = 2\n");
    let t = Instant::now();
    let mut attackers = Vec::new();
    for host in 1..=8 {
        let src = Ipv4Addr::new(127, 0, 2, host);
        attackers.extend(attack(Attack::BareHeader, src, port, 8));
    }
    // While they hold the table, a client from elsewhere is refused.
    if t.elapsed() < Duration::from_secs(1) {
        assert_eq!(session_from(Ipv4Addr::new(127, 0, 2, 100), port), None);
    }
    let end = Instant::now() + Duration::from_secs(10);
    while closed(&attackers) < attackers.len() {
        assert!(
            Instant::now() < end,
            "the bare headers were not closed within 10 s:\n{}",
            d.stderr()
        );
        sleep(Duration::from_millis(50));
    }
    println!("64 bare session headers closed after {:?}", t.elapsed());
    served_from(
        &d,
        Ipv4Addr::new(127, 0, 2, 101),
        port,
        "after the handshake deadline",
    );
    let c = wait_counters(&mut d, &dir, "64 handshake timeouts", |c| {
        c.handshake_timeouts >= 64
    });
    println!("{c:?}");
    assert_eq!(c.handshake_timeouts, 64, "{c:?}");
    let log = d.stderr_with("did not send a whole session request within 2 s");
    assert_eq!(
        log.matches("session.handshake_timeout_secs").count(),
        1,
        "one warning a minute:\n{log}"
    );
}

/// One host opens 64, then 2000 connections (idle, a bare header, pipelining): it holds at
/// most 8 of them (the default cap), the rest are closed at once and counted, and a client
/// from another address is served within 1 s while the attack holds. Default limits
/// otherwise. nbtd's RSS stays within 8 MiB of before.
#[test]
fn one_host_holds_at_most_its_share_of_connections() {
    raise_fd_limit(8192);
    let (mut d, dir, port) = start("session-per-source", "");
    let before = rss(&d);
    let mut refused = 0;
    let mut round = 0u8;
    for n in [64, 2000] {
        for kind in [Attack::Idle, Attack::BareHeader, Attack::Pipeline] {
            round += 1;
            let src = Ipv4Addr::new(127, 0, 3, round);
            let t = Instant::now();
            let attackers = attack(kind, src, port, n);
            let opened = t.elapsed();
            let during = format!("{n} connections from {src} ({kind:?}, opened in {opened:?})");
            served_from(&d, Ipv4Addr::new(127, 0, 4, round), port, &during);
            let end = Instant::now() + Duration::from_secs(10);
            let mut shut = closed(&attackers);
            while shut < n - 8 {
                assert!(Instant::now() < end, "{during}: only {shut} closed");
                sleep(Duration::from_millis(50));
                shut = closed(&attackers);
            }
            let held = n - shut;
            println!(
                "{during}: {held} held, {shut} closed; VmRSS {} KiB",
                rss(&d)
            );
            assert!(held <= 8, "{during}: {held} held");
            refused += n as u64 - 8;
            let c = wait_counters(&mut d, &dir, "the refusals counted", |c| {
                c.refused_per_source >= refused
            });
            assert_eq!(c.refused_per_source, refused, "{c:?}");
            assert_eq!(c.refused_busy, 0, "{c:?}");
            drop(attackers);
        }
    }
    let after = rss(&d);
    println!("nbtd VmRSS: {before} KiB before, {after} KiB after");
    assert!(
        after < before + 8 * 1024,
        "VmRSS grew from {before} to {after} KiB"
    );
    let log = d.stderr_with("session connections already (session.max_connections_per_source)");
    assert_eq!(
        log.matches("session.max_connections_per_source").count(),
        1,
        "one warning a minute:\n{log}"
    );
}
