//! An election flood in simulated time (issue #7): a local master hit by 10,000 inferior
//! RequestElections a simulated second, from 100 names and addresses, for 10 simulated seconds.
//! It answers with its own election now and then, not with a frame per ballot: at most a few
//! frames a second, and it stays master. (`tests/nbtd_election_flood.rs` does the same to the
//! real daemon on a namespace LAN.)

mod sim;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use nbt_protocol::engine::Service;
use nbt_protocol::engine::browser::Role;
use nbt_protocol::engine::dgram::DatagramLayer;
use nbt_protocol::engine::{IfaceAddr, IfaceId};
use nbt_protocol::name::{NetbiosName, Scope, ScopedName};
use nbt_protocol::wire::Emit;
use nbt_protocol::wire::browse::{
    BrowserFrame, ElectionCriteria, ElectionDesire, MAILSLOT_BROWSE, RequestElection, ServerName,
};
use sim::node::{IFACE, NodeLan, configs};
use sim::{BROADCAST, NETMASK, ip};

/// An inferior ballot (os level 1 against the master's 20) broadcast from 198.18.0.`i`.
fn inferior_ballot(i: u8) -> (SocketAddrV4, Vec<u8>) {
    let name = format!("FLOOD{i:03}");
    let iface = IfaceAddr {
        id: IfaceId(1),
        addr: ip(i),
        netmask: NETMASK,
        broadcast: BROADCAST,
        mac: [0; 6],
    };
    let frame = BrowserFrame::RequestElection(RequestElection::new(
        ElectionCriteria::new(1, ElectionDesire::STANDBY),
        u32::from(i) * 1000,
        ServerName::new(&name).unwrap(),
    ));
    let t = DatagramLayer::new(138, Scope::none(), u16::from(i))
        .mailslot(
            &iface,
            NetbiosName::new(&name, 0).unwrap(),
            ScopedName::unscoped(NetbiosName::new("LABWG", 0x1e).unwrap()),
            None,
            MAILSLOT_BROWSE,
            frame.to_vec().unwrap(),
        )
        .unwrap();
    (SocketAddrV4::new(ip(i), 138), t.payload)
}

#[test]
fn ten_thousand_inferior_ballots_a_second_get_a_few_frames_a_second() {
    let mut lan = NodeLan::new(7);
    let (nc, bc) = configs("VICTIM", "LABWG", 20);
    let victim = lan.add(1, nc, bc, 7);
    lan.run_until_true(Duration::from_secs(60), |l| l.masters("LABWG") == [victim])
        .expect("the lone host becomes master");
    lan.run_for(Duration::from_secs(5));
    let ballots: Vec<(SocketAddrV4, Vec<u8>)> = (100..200).map(inferior_ballot).collect();
    let from = lan.wire.len();
    let flood = Duration::from_secs(10);
    let mut k = 0usize;
    // 10 ballots every simulated millisecond.
    for _ in 0..flood.as_millis() {
        for _ in 0..10 {
            let (src, bytes) = &ballots[k % ballots.len()];
            k += 1;
            let now = lan.now;
            lan.hosts[victim].node.handle_datagram(
                now,
                Service::Datagram,
                IFACE,
                *src,
                true,
                bytes,
            );
        }
        lan.run_for(Duration::from_millis(1));
    }
    let sent: Vec<_> = lan.wire[from..]
        .iter()
        .filter(|f| f.from == Ipv4Addr::new(198, 18, 0, 1))
        .collect();
    let per_sec = sent.len() as f64 / flood.as_secs_f64();
    assert!(
        per_sec <= 5.0,
        "{} frames in {flood:?} for {k} inferior ballots",
        sent.len()
    );
    assert!(
        !sent.is_empty(),
        "the master answers the ballots with its own"
    );
    assert_eq!(lan.role(victim), Role::Master);
    assert_eq!(lan.masters("LABWG"), [victim]);
}
