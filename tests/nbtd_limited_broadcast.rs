//! Datagrams sent to the limited broadcast address 255.255.255.255 instead of the subnet's
//! (some clients do: `nmblookup -B 255.255.255.255`, old embedded stacks) reach nbtd on both
//! services: a name query there is answered, and a browser announcement there is taken in.
//!
//! Needs root, `ip` and `nmblookup`; without them the test says why and passes, except under
//! `CI=true`.

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use common::daemon;
use common::load::{browser_datagram, udp_in};
use common::netns::Lan;
use nbtd::control::query_status;
use nbtd::protocol::NetbiosName;
use nbtd::protocol::name::ScopedName;
use nbtd::protocol::wire::Emit;
use nbtd::protocol::wire::browse::{Announcement, BrowserFrame, ServerName, ServerType};
use nbtd::protocol::wire::ns::NameServicePacket;

const LIMITED: Ipv4Addr = Ipv4Addr::BROADCAST;

#[test]
fn name_queries_and_announcements_sent_to_255_255_255_255_are_heard() {
    let Some(lan) = Lan::for_test(
        "name_queries_and_announcements_sent_to_255_255_255_255_are_heard",
        2,
        &["nmblookup"],
    ) else {
        return;
    };
    let d = daemon::start(&lan, 1, "LIMITED", None, &[]);
    d.wait_active();

    // A broadcast name query to 255.255.255.255 from host 2 (bound to its address, so the
    // kernel knows which link the limited broadcast leaves on).
    let s = udp_in(&lan, 2, SocketAddrV4::new(lan.ip(2), 0));
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let name = ScopedName::unscoped(NetbiosName::new("LIMITED", 0).unwrap());
    let q = NameServicePacket::name_query(0x2525, name, true)
        .to_vec()
        .unwrap();
    let mut buf = [0u8; 1024];
    let (n, from) = (0..3)
        .find_map(|_| {
            s.send_to(&q, (LIMITED, 137)).unwrap();
            s.recv_from(&mut buf).ok()
        })
        .unwrap_or_else(|| panic!("no answer to the query:\n{}", d.log_text()));
    assert_eq!(from.ip(), lan.ip(1));
    let p = NameServicePacket::parse(&buf[..n]).unwrap();
    assert_eq!(p.trn_id, 0x2525);
    let addrs = p.answers[0].nb_addresses().expect("a positive answer");
    assert_eq!(addrs[0].addr, lan.ip(1));

    // As Samba's nmblookup asks it. Its socket is bound to 0.0.0.0, so the limited broadcast
    // leaves by the default route, as on a real LAN; this one stays on the test's LAN.
    let out = lan.run(2, "ip", &["route", "add", "default", "dev", "lan0"]);
    assert!(out.status.success(), "{out:?}");
    let conf = lan.client_conf();
    let out = lan.run(
        2,
        "nmblookup",
        &[
            "-s",
            conf.to_str().unwrap(),
            "-B",
            "255.255.255.255",
            "LIMITED",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("{} LIMITED<00>", lan.ip(1))),
        "nmblookup -B 255.255.255.255:\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A host announcement to 255.255.255.255:138 is handed to the browser.
    let before = query_status(&d.control).unwrap().datagram_service.received;
    let frame = BrowserFrame::HostAnnouncement(Announcement::new(
        ServerName::new("LIMITPEER").unwrap(),
        ServerType::SERVER | ServerType::WORKSTATION,
        720_000,
        b"announced to 255.255.255.255".to_vec(),
    ));
    let bytes = browser_datagram(
        lan.ip(2),
        "LIMITPEER",
        NetbiosName::new(daemon::WG, 0x1d).unwrap(),
        &frame,
    );
    let dg = udp_in(&lan, 2, SocketAddrV4::new(lan.ip(2), 138));
    dg.send_to(&bytes, (LIMITED, 138)).unwrap();
    let st = d.wait_for_status("the announcement was not received", |st| {
        st.datagram_service.received > before
    });
    assert_eq!(st.datagram_service.malformed, 0, "{st:#?}");
    assert_eq!(st.datagram_service.off_subnet, 0, "{st:#?}");
}
