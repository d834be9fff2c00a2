//! Attacks on the browser and the name service from one host on the LAN, in simulated time:
//! - a forged ballot dethrones the master, but a new master serves within 15 s, and one forged
//!   ballot every 25 s leaves the workgroup with a master nearly all the time;
//! - ballots and announcements under nbtd's own name from another address are ignored and
//!   reported, so nbtd's entry cannot be overwritten and nobody wins as nbtd;
//! - one address cannot squat the browse list with fake servers or workgroups;
//! - requests "from" the subnet's broadcast or network address, 0.0.0.0, multicast or loopback
//!   are dropped and counted, never answered to the whole LAN.

mod sim;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use nbt_protocol::engine::browser::{BrowserEvent, REPORT_INTERVAL, Role, WINNER_GRACE};
use nbt_protocol::engine::dgram::DatagramLayer;
use nbt_protocol::engine::node::Event;
use nbt_protocol::engine::{IfaceAddr, IfaceId, Service};
use nbt_protocol::name::{NetbiosName, Scope, ScopedName};
use nbt_protocol::wire::Emit;
use nbt_protocol::wire::browse::{
    Announcement, BrowserFrame, ElectionCriteria, ElectionDesire, GetBackupListRequest,
    MAILSLOT_BROWSE, RequestElection, ServerName, ServerType,
};
use nbt_protocol::wire::ns::NameServicePacket;
use sim::node::{IFACE, NodeLan, configs, nb};
use sim::{BROADCAST, NETMASK, ip};

const WG: &str = "LABWG";

/// A browser frame as `from` sends it (its datagram header says `from` too) to `dest`.
fn frame_from(from: Ipv4Addr, sender: &str, dest: NetbiosName, frame: &BrowserFrame) -> Vec<u8> {
    let iface = IfaceAddr {
        id: IfaceId(1),
        addr: from,
        netmask: NETMASK,
        broadcast: BROADCAST,
        mac: [0; 6],
    };
    DatagramLayer::new(138, Scope::none(), 7)
        .mailslot(
            &iface,
            NetbiosName::new(sender, 0).unwrap(),
            ScopedName::unscoped(dest),
            None,
            MAILSLOT_BROWSE,
            frame.to_vec().unwrap(),
        )
        .unwrap()
        .payload
}

/// Broadcasts `bytes` from `from:138` to every host that is up, as the LAN would.
fn broadcast(lan: &mut NodeLan, from: Ipv4Addr, bytes: &[u8]) {
    let now = lan.now;
    for h in lan.hosts.iter_mut().filter(|h| h.up) {
        h.node.handle_datagram(
            now,
            Service::Datagram,
            IFACE,
            SocketAddrV4::new(from, 138),
            true,
            bytes,
        );
    }
    lan.deliver();
}

/// A ballot that beats any nbtd's: os level 255, preferred master.
fn unbeatable(name: &str) -> BrowserFrame {
    BrowserFrame::RequestElection(RequestElection::new(
        ElectionCriteria::new(
            255,
            ElectionDesire::PREFERRED_MASTER | ElectionDesire::STANDBY,
        ),
        u32::MAX,
        ServerName::new(name).unwrap(),
    ))
}

/// Two nbtd hosts, ALPHA (preferred: the master) and BRAVO, settled.
fn two_hosts() -> NodeLan {
    let mut lan = NodeLan::new(11);
    let (n, mut b) = configs("ALPHA", WG, 20);
    b.preferred_master = true;
    lan.add(1, n, b, 1);
    let (n, b) = configs("BRAVO", WG, 20);
    lan.add(2, n, b, 2);
    lan.run_until_true(Duration::from_secs(60), |l| l.masters(WG) == [0])
        .expect("ALPHA becomes master");
    lan.run_for(Duration::from_secs(60));
    lan
}

#[test]
fn a_lone_forged_ballot_costs_no_master_and_a_forged_run_is_bounded() {
    let mut lan = two_hosts();
    let forged = frame_from(ip(66), "FAKEWIN", nb(WG, 0x1e), &unbeatable("FAKEWIN"));
    // One forged ballot every 25 s for 10 minutes: the master never goes.
    for k in 0..24 {
        broadcast(&mut lan, ip(66), &forged);
        for _ in 0..25 {
            lan.run_for(Duration::from_secs(1));
            assert_eq!(lan.masters(WG), [0], "no master {k} forged ballots in");
        }
    }
    assert_eq!(lan.hosts[0].node.browser().counters().elections_lost, 0);

    // Two ballots a second apart look like a candidate that runs: the master gives way, as it
    // must to a real one. The fake never registers <1D>, and once the winner's grace is over
    // a new master serves.
    broadcast(&mut lan, ip(66), &forged);
    lan.run_for(Duration::from_secs(1));
    broadcast(&mut lan, ip(66), &forged);
    assert!(lan.masters(WG).is_empty(), "the master gave way");
    let took = lan
        .run_until_true(WINNER_GRACE + Duration::from_secs(10), |l| {
            l.masters(WG).len() == 1
        })
        .expect("a master serves again after the winner's grace");
    println!("a master serves again {took:?} after a forged run of two ballots");
    lan.run_for(Duration::from_secs(60));
    assert_eq!(lan.masters(WG).len(), 1, "and only one");
}

#[test]
fn a_browser_that_loses_to_a_lone_forged_ballot_finds_a_master_within_fifteen_seconds() {
    let mut lan = two_hosts();
    // BRAVO runs (as after a master went away) and a lone better ballot stops its run.
    lan.kill(0);
    lan.run_until_true(Duration::from_secs(20), |l| {
        l.hosts[1].node.browser().counters().elections_started > 0
    })
    .expect("BRAVO stands once ALPHA is gone");
    let forged = frame_from(ip(66), "FAKEWIN", nb(WG, 0x1e), &unbeatable("FAKEWIN"));
    let before = lan.hosts[1].node.browser().counters().elections_lost;
    broadcast(&mut lan, ip(66), &forged);
    let took = lan
        .run_until_true(Duration::from_secs(15), |l| l.masters(WG) == [1])
        .expect("BRAVO serves as master within 15 s of the forged ballot");
    println!("BRAVO serves {took:?} after the forged ballot");
    assert!(lan.hosts[1].node.browser().counters().elections_lost <= before + 1);
}

#[test]
fn a_real_better_candidate_still_wins_and_keeps_it() {
    let mut lan = two_hosts();
    let (n, mut b) = configs("CHARLIE", WG, 64);
    b.preferred_master = true;
    let charlie = lan.add(3, n, b, 3);
    lan.run_until_true(Duration::from_secs(60), |l| l.masters(WG) == [charlie])
        .expect("the better candidate wins");
    lan.run_for(Duration::from_secs(120));
    assert_eq!(lan.masters(WG), [charlie], "and keeps it");
}

#[test]
fn a_ballot_or_announcement_under_our_own_name_is_ignored_and_reported() {
    let mut lan = two_hosts();
    // A better ballot under ALPHA's own name, from another address: it must not win as ALPHA.
    let forged = frame_from(ip(66), "ALPHA", nb(WG, 0x1e), &unbeatable("ALPHA"));
    for _ in 0..5 {
        broadcast(&mut lan, ip(66), &forged);
        lan.run_for(Duration::from_millis(200));
    }
    lan.run_for(Duration::from_secs(20));
    assert_eq!(lan.masters(WG), [0], "ALPHA is still master");
    let c = lan.hosts[0].node.browser().counters();
    assert_eq!(c.forged_own_name, 5);
    assert_eq!(c.elections_lost, 0);

    // A HostAnnouncement under ALPHA's name, with another comment and type.
    let fake = BrowserFrame::HostAnnouncement(Announcement::new(
        ServerName::new("ALPHA").unwrap(),
        ServerType::WORKSTATION,
        720_000,
        b"owned".to_vec(),
    ));
    broadcast(
        &mut lan,
        ip(66),
        &frame_from(ip(66), "ALPHA", nb(WG, 0x1d), &fake),
    );
    for h in 0..2 {
        let list = lan.hosts[h].node.browser().list(IFACE).unwrap();
        let e = list
            .server(
                &ServerName::new(WG).unwrap(),
                &ServerName::new("ALPHA").unwrap(),
            )
            .expect("ALPHA is listed");
        if h == 0 {
            assert_ne!(&*e.comment, b"owned", "ALPHA's own entry is its own");
            assert_eq!(e.addr, Some(ip(1)));
        }
    }
    let reports: Vec<_> = lan.hosts[0]
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Browser(BrowserEvent::ForgedOwnName {
                from,
                frame,
                repeats,
                ..
            }) => Some((*from, *frame, *repeats)),
            _ => None,
        })
        .collect();
    assert_eq!(
        reports,
        [(ip(66), "election request", 0)],
        "reported once a minute, the rest folded"
    );
    lan.run_for(REPORT_INTERVAL);
    broadcast(
        &mut lan,
        ip(66),
        &frame_from(ip(66), "ALPHA", nb(WG, 0x1d), &fake),
    );
    let last = lan.hosts[0].events.last().map(|(_, e)| e.clone());
    assert!(
        matches!(
            last,
            Some(Event::Browser(BrowserEvent::ForgedOwnName {
                repeats: 5,
                frame: "announcement",
                ..
            }))
        ),
        "{last:?}"
    );
}

#[test]
fn one_address_cannot_squat_the_browse_list() {
    let mut lan = two_hosts();
    let squatter = ip(66);
    // 5,000 fake servers and 3,000 fake workgroups, all from one address.
    for k in 0..5000 {
        let name = format!("FAKE{k:05}");
        let a = BrowserFrame::HostAnnouncement(Announcement::new(
            ServerName::new(&name).unwrap(),
            ServerType::WORKSTATION | ServerType::SERVER,
            720_000,
            b"".to_vec(),
        ));
        broadcast(
            &mut lan,
            squatter,
            &frame_from(squatter, &name, nb(WG, 0x1d), &a),
        );
    }
    for k in 0..3000 {
        let wg = format!("FAKEWG{k:04}");
        let a = BrowserFrame::DomainAnnouncement(Announcement::domain(
            ServerName::new(&wg).unwrap(),
            ServerName::new("FAKEMASTER").unwrap(),
            720_000,
        ));
        broadcast(
            &mut lan,
            squatter,
            &frame_from(squatter, "FAKEMASTER", NetbiosName::MSBROWSE, &a),
        );
    }
    let list = lan.hosts[0].node.browser().list(IFACE).unwrap();
    let wg = ServerName::new(WG).unwrap();
    let fakes = list
        .servers(&wg)
        .filter(|s| s.addr == Some(squatter))
        .count();
    assert_eq!(fakes, 8, "one source holds at most 8 servers");
    let fake_wgs = list
        .workgroups()
        .filter(|w| w.addr == Some(squatter))
        .count();
    assert_eq!(fake_wgs, 4, "and at most 4 workgroups");
    let c = lan.hosts[0].node.browser().counters();
    assert_eq!(c.source_capped, 5000 - 8 + 3000 - 4);

    // A real new host and a real new workgroup after the flood are listed.
    let real = BrowserFrame::HostAnnouncement(Announcement::new(
        ServerName::new("NEWHOST").unwrap(),
        ServerType::WORKSTATION | ServerType::SERVER,
        720_000,
        b"real".to_vec(),
    ));
    broadcast(
        &mut lan,
        ip(77),
        &frame_from(ip(77), "NEWHOST", nb(WG, 0x1d), &real),
    );
    let other = BrowserFrame::DomainAnnouncement(Announcement::domain(
        ServerName::new("OTHERWG").unwrap(),
        ServerName::new("OTHERMASTER").unwrap(),
        720_000,
    ));
    broadcast(
        &mut lan,
        ip(78),
        &frame_from(ip(78), "OTHERMASTER", NetbiosName::MSBROWSE, &other),
    );
    let list = lan.hosts[0].node.browser().list(IFACE).unwrap();
    assert!(
        list.server(&wg, &ServerName::new("NEWHOST").unwrap())
            .is_some()
    );
    assert!(
        list.workgroups()
            .any(|w| w.name == ServerName::new("OTHERWG").unwrap())
    );

    // One report a minute while the cap refuses, naming the source.
    let reports: Vec<_> = lan.hosts[0]
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Browser(BrowserEvent::SourceCapped { source, .. }) => Some(*source),
            _ => None,
        })
        .collect();
    assert_eq!(reports, [squatter]);
}

#[test]
fn requests_from_addresses_no_host_sends_from_are_dropped() {
    let mut lan = two_hosts();
    let before = lan.wire.len();
    let query = NameServicePacket::name_query(1, ScopedName::unscoped(nb("ALPHA", 0x20)), false)
        .to_vec()
        .unwrap();
    let status =
        NameServicePacket::node_status_request(2, ScopedName::unscoped(NetbiosName::WILDCARD))
            .to_vec()
            .unwrap();
    let backups = BrowserFrame::GetBackupListRequest(GetBackupListRequest {
        requested_count: 4,
        token: 9,
    });
    let spoofed = [
        BROADCAST,
        Ipv4Addr::new(198, 18, 0, 0),
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::BROADCAST,
        Ipv4Addr::new(224, 0, 0, 1),
        Ipv4Addr::LOCALHOST,
    ];
    for src in spoofed {
        let now = lan.now;
        let node = &mut lan.hosts[0].node;
        for bytes in [&query, &status] {
            node.handle_datagram(
                now,
                Service::Name,
                IFACE,
                SocketAddrV4::new(src, 137),
                false,
                bytes,
            );
        }
        let b = frame_from(src, "CLIENT", nb(WG, 0x1d), &backups);
        node.handle_datagram(
            now,
            Service::Datagram,
            IFACE,
            SocketAddrV4::new(src, 138),
            true,
            &b,
        );
        lan.deliver();
    }
    assert!(
        lan.wire[before..]
            .iter()
            .all(|f| f.from != ip(1) || !spoofed.contains(f.dst.ip())),
        "an answer went to a spoofed source"
    );
    let n = spoofed.len() as u64;
    assert_eq!(
        lan.hosts[0].node.names().counters().impossible_source,
        2 * n
    );
    assert_eq!(lan.hosts[0].node.browser().counters().impossible_source, n);
    assert_eq!(lan.role(0), Role::Master);
    // The same requests from a real host are answered.
    let now = lan.now;
    lan.hosts[0].node.handle_datagram(
        now,
        Service::Name,
        IFACE,
        SocketAddrV4::new(ip(9), 137),
        false,
        &query,
    );
    lan.deliver();
    assert!(
        lan.wire
            .iter()
            .any(|f| f.dst == SocketAddrV4::new(ip(9), 137))
    );
}

#[test]
fn node_status_and_backup_lists_are_rate_limited_per_source() {
    let mut lan = two_hosts();
    let status =
        NameServicePacket::node_status_request(2, ScopedName::unscoped(NetbiosName::WILDCARD))
            .to_vec()
            .unwrap();
    let backups = BrowserFrame::GetBackupListRequest(GetBackupListRequest {
        requested_count: 4,
        token: 9,
    });
    let flooder = SocketAddrV4::new(ip(70), 40000);
    let answers_to = |lan: &NodeLan, from: usize, to: SocketAddrV4| {
        lan.wire[from..].iter().filter(|f| f.dst == to).count()
    };
    // 200 node status requests and 200 GetBackupLists in one simulated second, from one source.
    let before = lan.wire.len();
    for _ in 0..200 {
        let now = lan.now;
        let node = &mut lan.hosts[0].node;
        node.handle_datagram(now, Service::Name, IFACE, flooder, false, &status);
        let b = frame_from(ip(70), "FLOODER", nb(WG, 0x1d), &backups);
        node.handle_datagram(
            now,
            Service::Datagram,
            IFACE,
            SocketAddrV4::new(ip(70), 138),
            true,
            &b,
        );
        lan.run_for(Duration::from_millis(5));
    }
    let statuses = answers_to(&lan, before, flooder);
    let lists = answers_to(&lan, before, SocketAddrV4::new(ip(70), 138));
    println!("in one second: {statuses} node status answers, {lists} backup lists");
    // Bursts of 20 and 10, then 10 and 5 a second.
    assert!(
        (20..=31).contains(&statuses),
        "{statuses} node status answers"
    );
    assert!((10..=16).contains(&lists), "{lists} backup lists");
    assert_eq!(
        lan.hosts[0].node.names().counters().rate_limited as usize,
        200 - statuses
    );
    assert_eq!(
        lan.hosts[0].node.browser().counters().rate_limited as usize,
        200 - lists
    );
    // Another source is not held back by the first.
    let other = SocketAddrV4::new(ip(71), 40000);
    let before = lan.wire.len();
    let now = lan.now;
    lan.hosts[0]
        .node
        .handle_datagram(now, Service::Name, IFACE, other, false, &status);
    lan.deliver();
    assert_eq!(answers_to(&lan, before, other), 1);
}
