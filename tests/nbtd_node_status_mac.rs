//! The statistics block of node status answers (issue #7, reflection): with
//! `node_status_mac = false` nbtd zeroes the unit ID too, so the whole block is zero on the wire
//! and `nmblookup -A` shows `00-00-00-00-00-00`. (With the default, the MAC is shown:
//! `nbtd_lan.rs`; the rest of the block is zero in both cases: `protocol/tests/sim_names.rs`.)
//!
//! Needs root, `ip` and `nmblookup`; without them the test says why and passes, except under
//! `CI=true`.

mod common;

use std::net::SocketAddrV4;
use std::time::Duration;

use common::daemon;
use common::load::udp_in;
use common::netns::Lan;
use nbtd::protocol::NetbiosName;
use nbtd::protocol::name::ScopedName;
use nbtd::protocol::wire::Emit;
use nbtd::protocol::wire::ns::NameServicePacket;

#[test]
fn node_status_mac_false_sends_an_all_zero_statistics_block() {
    let Some(lan) = Lan::for_test(
        "node_status_mac_false_sends_an_all_zero_statistics_block",
        2,
        &["nmblookup"],
    ) else {
        return;
    };
    let d = daemon::start(&lan, 1, "NOMAC", Some("node_status_mac = false\n"), &[]);
    d.wait_active();

    // On the wire: the 46 bytes that end the answer are all zero.
    let s = udp_in(&lan, 2, SocketAddrV4::new(lan.ip(2), 0));
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let q =
        NameServicePacket::node_status_request(0x5151, ScopedName::unscoped(NetbiosName::WILDCARD))
            .to_vec()
            .unwrap();
    let mut buf = [0u8; 1024];
    let n = (0..3)
        .find_map(|_| {
            s.send_to(&q, (lan.ip(1), 137)).unwrap();
            s.recv_from(&mut buf).ok().map(|(n, _)| n)
        })
        .unwrap_or_else(|| panic!("no node status answer:\n{}", d.log_text()));
    let p = NameServicePacket::parse(&buf[..n]).unwrap();
    assert_eq!(p.trn_id, 0x5151);
    let st = p.answers[0].node_status().expect("a node status answer");
    assert!(!st.names.is_empty());
    assert!(n <= 576, "{n} bytes");
    assert!(
        buf[n - 46..n].iter().all(|&b| b == 0),
        "statistics block: {:02x?}",
        &buf[n - 46..n]
    );

    // And as nmblookup shows it.
    let conf = lan.client_conf();
    let out = lan.run(
        2,
        "nmblookup",
        &["-s", conf.to_str().unwrap(), "-A", &lan.ip(1).to_string()],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("NOMAC"), "{text}");
    assert!(text.contains("MAC Address = 00-00-00-00-00-00"), "{text}");
}
