//! nbtd serving the name service on loopback: it registers its names, answers queries and node
//! status from the interface's address, counts what it drops, and on SIGTERM releases its names
//! and exits 0.

mod nbtd_harness;

use std::net::{Ipv4Addr, SocketAddr};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nbtd::control::query_status;
use nbtd::protocol::name::{NetbiosName, ScopedName};
use nbtd::protocol::wire::ns::{PacketKind, Rcode};
use nbtd_harness::{Client, PATIENCE, Scratch, start_loopback};

fn name(s: &str, suffix: u8) -> ScopedName {
    ScopedName::unscoped(NetbiosName::new(s, suffix).unwrap())
}

#[test]
fn serves_names_on_loopback_and_releases_them_on_sigterm() {
    // Never the local master, so that its names stay the five checked below.
    let dir = Scratch::new("serve");
    let (mut d, (port, _)) = start_loopback(&dir, "nbtdtest", &["--no-local-master"]);
    let st = d.wait_active(&dir, "names not active");

    assert_eq!(st.netbios_name, "NBTDTEST");
    assert_eq!(st.workgroup, "TESTWG");
    assert_eq!(st.pid, d.pid());
    assert_eq!(st.interfaces.len(), 1, "{st:#?}");
    let lo = &st.interfaces[0];
    assert_eq!(lo.name, "lo");
    assert_eq!(lo.address, Ipv4Addr::LOCALHOST);
    assert_eq!(lo.broadcast, Ipv4Addr::new(127, 255, 255, 255));
    let names: Vec<(String, u8, bool)> = lo
        .names
        .iter()
        .map(|n| (n.name.clone(), n.suffix, n.group))
        .collect();
    assert_eq!(
        names,
        [
            ("NBTDTEST".into(), 0x00, false),
            ("NBTDTEST".into(), 0x03, false),
            ("NBTDTEST".into(), 0x20, false),
            ("TESTWG".into(), 0x00, true),
            ("TESTWG".into(), 0x1e, true),
        ]
    );

    let mut c = Client::new(port);
    let server = SocketAddr::from((Ipv4Addr::LOCALHOST, port));

    // Our name: a positive answer from the interface's address and the name port.
    let (p, from) = c.query(name("nbtdtest", 0x20)).expect("an answer");
    assert_eq!(from, server);
    assert_eq!(p.kind(), PacketKind::PositiveNameQueryResponse);
    let nb = p.answers[0].nb_addresses().unwrap();
    assert_eq!(nb.len(), 1);
    assert_eq!(nb[0].addr, Ipv4Addr::LOCALHOST);
    assert!(!nb[0].flags.is_group());
    // The workgroup: a group answer.
    let (p, _) = c.query(name("TESTWG", 0x1e)).expect("an answer");
    assert!(p.answers[0].nb_addresses().unwrap()[0].flags.is_group());

    // Someone else's name: a negative answer to a unicast query.
    let (p, from) = c.query(name("NOSUCHNAME", 0x00)).expect("an answer");
    assert_eq!(from, server);
    assert_eq!(p.kind(), PacketKind::NegativeNameQueryResponse);
    assert_eq!(p.rcode, Rcode::NAM_ERR);

    // Node status for `*` lists every name.
    let (p, _) = c
        .node_status(ScopedName::unscoped(NetbiosName::WILDCARD))
        .expect("an answer");
    assert_eq!(p.kind(), PacketKind::NodeStatusResponse);
    let table: Vec<(NetbiosName, bool)> = p.answers[0]
        .node_status()
        .unwrap()
        .names
        .iter()
        .map(|n| (n.name, n.flags.is_group()))
        .collect();
    assert_eq!(
        table,
        [
            (NetbiosName::new("NBTDTEST", 0x00).unwrap(), false),
            (NetbiosName::new("NBTDTEST", 0x03).unwrap(), false),
            (NetbiosName::new("NBTDTEST", 0x20).unwrap(), false),
            (NetbiosName::new("TESTWG", 0x00).unwrap(), true),
            (NetbiosName::new("TESTWG", 0x1e).unwrap(), true),
        ]
    );

    // Garbage gets no answer, is counted, and does not stop the daemon.
    for junk in [&b"\x00"[..], b"\x12\x34\x00\x00\x00\x01", &[0xff; 600]] {
        c.send_raw(junk);
    }
    assert!(c.recv().is_none(), "no answer to garbage");
    let st = query_status(&dir.control_socket()).unwrap();
    assert!(st.name_service.malformed >= 3, "{:?}", st.name_service);
    assert!(st.name_service.positive_answers >= 2);
    assert!(st.name_service.negative_answers >= 1);
    assert!(st.name_service.node_status_answers >= 1);
    assert_eq!(st.driver.send_errors, 0);
    assert!(d.exited().is_none(), "still running");
    assert!(
        !d.stderr().contains("malformed"),
        "no info line per malformed packet:\n{}",
        d.stderr()
    );

    // SIGTERM: every name released by broadcast, then a clean exit.
    d.signal("TERM");
    let status = d.wait(PATIENCE);
    let log = d.stderr();
    assert_eq!(status.code(), Some(0), "{log}");
    for n in [
        "NBTDTEST<00>",
        "NBTDTEST<03>",
        "NBTDTEST<20>",
        "TESTWG<00>",
        "TESTWG<1e>",
    ] {
        assert!(
            log.lines()
                .any(|l| l.contains("name released") && l.contains(&format!("name={n}"))),
            "{n} released:\n{log}"
        );
    }
    assert!(log.contains("sent 5 name releases"), "{log}");
    assert!(
        !dir.control_socket().exists(),
        "the control socket is removed"
    );
}

/// Node status answers are limited per source (10 a second, bursts of 20, by default): a
/// flood of spoofed requests cannot turn nbtd into an amplifier. Name queries are not limited,
/// and another source still gets its answer.
#[test]
fn node_status_is_rate_limited_per_source_and_queries_are_not() {
    use nbtd::protocol::wire::Emit;
    use nbtd::protocol::wire::ns::NameServicePacket;
    use std::net::UdpSocket;

    let dir = Scratch::new("ratelimit");
    let (mut d, (port, _)) = start_loopback(&dir, "nbtdrate", &["--no-local-master"]);
    d.wait_active(&dir, "names not active");
    let server = SocketAddr::from((Ipv4Addr::LOCALHOST, port));

    // Sends `n` requests built by `make` from `from` at once, and counts the answers that
    // come within 1.5 s.
    let burst = |from: Ipv4Addr, n: u16, make: &dyn Fn(u16) -> Vec<u8>| -> usize {
        let s = UdpSocket::bind((from, 0)).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        for i in 0..n {
            s.send_to(&make(i), server).unwrap();
        }
        let (mut got, end) = (0, Instant::now() + Duration::from_millis(1500));
        let mut buf = [0u8; 1024];
        while Instant::now() < end {
            if s.recv_from(&mut buf).is_ok() {
                got += 1;
            }
        }
        got
    };
    let status = |i: u16| {
        NameServicePacket::node_status_request(i, ScopedName::unscoped(NetbiosName::WILDCARD))
            .to_vec()
            .unwrap()
    };
    let query = |i: u16| {
        NameServicePacket::name_query(i, name("nbtdrate", 0x20), false)
            .to_vec()
            .unwrap()
    };
    let flooder = Ipv4Addr::new(127, 0, 0, 3);
    let answered = burst(flooder, 100, &status);
    eprintln!("node status: {answered} of 100 answered from one source");
    assert!(
        (20..=40).contains(&answered),
        "{answered} of 100 node status requests answered from one source"
    );
    let answered = burst(flooder, 100, &query);
    assert_eq!(answered, 100, "name queries are not limited");
    assert!(
        burst(Ipv4Addr::new(127, 0, 0, 4), 1, &status) == 1,
        "another source gets its node status"
    );
    let end = Instant::now() + PATIENCE;
    loop {
        let st = query_status(&dir.control_socket()).unwrap();
        if st.name_service.rate_limited >= 60 {
            break;
        }
        assert!(Instant::now() < end, "not counted: {:?}", st.name_service);
        sleep(Duration::from_millis(50));
    }
}
