//! The name engine on a simulated LAN with simulated time: registration retries, defence,
//! conflicts, answers, node status, release, and what it must ignore.

mod sim;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use nbt_protocol::engine::names::{Disposition, NameEvent, NameState};
use nbt_protocol::name::{NetbiosName, ScopedName};
use nbt_protocol::wire::Emit;
use nbt_protocol::wire::ns::{
    NameFlags, NameServicePacket, NbAddress, NmFlags, PacketKind, Rcode, Statistics,
};
use sim::{BROADCAST, Lan, ip, name, parse, scoped};

use sim::host_config as config;

/// A client at 198.18.0.200:50000 (an ephemeral port, as nmblookup uses).
fn client() -> SocketAddrV4 {
    SocketAddrV4::new(ip(200), 50000)
}

fn registered(lan: &Lan, h: usize) -> Vec<(NetbiosName, bool)> {
    lan.hosts[h]
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            NameEvent::Registered { name, group, .. } => Some((*name, *group)),
            _ => None,
        })
        .collect()
}

#[test]
fn registration_is_three_broadcasts_250ms_apart_then_the_name_is_ours() {
    let mut lan = Lan::new();
    let h = lan.add_host(1, config("ALPHA"), 1);
    lan.run_for(Duration::from_millis(749));
    assert!(registered(&lan, h).is_empty(), "not before 750 ms");
    assert!(
        lan.hosts[h]
            .engine
            .names()
            .iter()
            .all(|n| n.state == NameState::Registering)
    );
    lan.run_for(Duration::from_millis(1));
    let names = registered(&lan, h);
    assert_eq!(names, config("ALPHA").names(), "every name, in order");
    assert!(
        lan.hosts[h]
            .events
            .iter()
            .all(|(t, _)| *t - lan.start == Duration::from_millis(750))
    );

    // 5 names × 3 tries, at 0, 250 and 500 ms, to the broadcast address, port 137.
    assert_eq!(lan.wire.len(), 15);
    for (k, s) in lan.wire.iter().enumerate() {
        assert_eq!(
            s.at - lan.start,
            Duration::from_millis(250 * (k as u64 / 5))
        );
        assert_eq!(s.dst, SocketAddrV4::new(BROADCAST, 137));
        let p = parse(&s.payload);
        assert_eq!(p.kind(), PacketKind::NameRegistrationRequest);
        assert!(
            p.flags
                .contains(NmFlags::BROADCAST | NmFlags::RECURSION_DESIRED)
        );
        let nb = p.additional[0].nb_addresses().unwrap()[0];
        assert_eq!(nb.addr, ip(1));
        let (n, group) = config("ALPHA").names()[k % 5];
        assert_eq!(p.questions[0].name.name, n);
        assert_eq!(nb.flags.is_group(), group);
        // Retries repeat the first try's transaction ID.
        assert_eq!(p.trn_id, parse(&lan.wire[k % 5].payload).trn_id);
    }
    let ids: std::collections::HashSet<u16> = lan.wire[..5]
        .iter()
        .map(|s| parse(&s.payload).trn_id)
        .collect();
    assert_eq!(ids.len(), 5, "one transaction ID a name");
    // Its own broadcasts came back to it and were ignored, not taken for a rival.
    assert!(lan.hosts[h].engine.counters().ignored >= 15);
}

#[test]
fn a_unique_name_is_defended_and_the_newcomer_does_not_use_it() {
    let mut lan = Lan::new();
    let a = lan.add_host(1, config("ALPHA"), 1);
    lan.run_for(Duration::from_secs(1));
    let b = lan.add_host(2, config("ALPHA"), 2);
    lan.run_for(Duration::from_secs(1));

    let conflicts: Vec<_> = lan.hosts[b]
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            NameEvent::Conflict {
                name, owner, rcode, ..
            } => Some((*name, *owner, *rcode)),
            _ => None,
        })
        .collect();
    let expected: Vec<_> = [0x00, 0x03, 0x20]
        .iter()
        .map(|&s| (name("ALPHA", s), ip(1), Rcode::ACT_ERR))
        .collect();
    assert_eq!(conflicts, expected, "each unique name, naming the owner");
    // The group names are shared, never defended.
    let b_registered = registered(&lan, b);
    assert_eq!(
        b_registered,
        [(name("LABWG", 0), true), (name("LABWG", 0x1E), true)]
    );
    let defended = lan.hosts[a]
        .events
        .iter()
        .filter(
            |(_, e)| matches!(e, NameEvent::Defended { challenger, .. } if *challenger == ip(2)),
        )
        .count();
    assert_eq!(defended, 3);
    for n in lan.hosts[b].engine.names() {
        if !n.group {
            assert_eq!(n.state, NameState::Conflict { owner: ip(1) });
        }
    }
    // The loser answers no query for the name; the owner does.
    let q = NameServicePacket::name_query(7, scoped("ALPHA", 0), true)
        .to_vec()
        .unwrap();
    lan.client_send(client(), BROADCAST, &q);
    let answers = lan.take_outside();
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].from, ip(1));
}

#[test]
fn defence_answers_the_registrant_with_act_err_and_our_address() {
    let mut lan = Lan::new();
    lan.add_host(1, config("ALPHA"), 1);
    lan.run_for(Duration::from_secs(1));
    let reg = NameServicePacket::registration_request(
        0x4242,
        scoped("ALPHA", 0x20),
        0,
        NbAddress::b_node(ip(200), false),
        true,
    );
    lan.client_send(client(), BROADCAST, &reg.to_vec().unwrap());
    let out = lan.take_outside();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].dst, client(), "to the registrant's source port");
    let p = parse(&out[0].payload);
    assert_eq!(p.kind(), PacketKind::NegativeNameRegistrationResponse);
    assert_eq!(p.trn_id, 0x4242);
    assert_eq!(p.rcode, Rcode::ACT_ERR);
    assert_eq!(p.answers[0].nb_addresses().unwrap()[0].addr, ip(1));

    // A registration of a group name we are in gets no answer.
    let reg = NameServicePacket::registration_request(
        1,
        scoped("LABWG", 0),
        0,
        NbAddress::b_node(ip(200), true),
        true,
    );
    lan.client_send(client(), BROADCAST, &reg.to_vec().unwrap());
    assert!(lan.take_outside().is_empty());
}

#[test]
fn queries_positive_for_ours_negative_only_when_unicast() {
    let mut lan = Lan::new();
    lan.add_host(1, config("ALPHA"), 1);
    lan.run_for(Duration::from_secs(1));
    let ask = |lan: &mut Lan, n: ScopedName, bcast: bool| {
        let q = NameServicePacket::name_query(99, n, bcast)
            .to_vec()
            .unwrap();
        lan.client_send(client(), if bcast { BROADCAST } else { ip(1) }, &q);
        lan.take_outside()
    };
    for bcast in [false, true] {
        let out = ask(&mut lan, scoped("alpha", 0x20), bcast);
        assert_eq!(out.len(), 1, "names match without regard to case");
        assert_eq!(out[0].dst, client());
        let p = parse(&out[0].payload);
        assert_eq!(p.kind(), PacketKind::PositiveNameQueryResponse);
        assert_eq!(
            p.answers[0].nb_addresses().unwrap(),
            [NbAddress::b_node(ip(1), false)]
        );
        let out = ask(&mut lan, scoped("LABWG", 0), bcast);
        assert!(
            parse(&out[0].payload).answers[0].nb_addresses().unwrap()[0]
                .flags
                .is_group()
        );
    }
    let out = ask(&mut lan, scoped("NOSUCHNAME", 0), false);
    let p = parse(&out[0].payload);
    assert_eq!(p.kind(), PacketKind::NegativeNameQueryResponse);
    assert_eq!(p.rcode, Rcode::NAM_ERR);
    assert!(
        ask(&mut lan, scoped("NOSUCHNAME", 0), true).is_empty(),
        "never negative to a broadcast"
    );
    // A name still registering is not answered yet.
    let mut lan = Lan::new();
    lan.add_host(1, config("ALPHA"), 1);
    lan.run_for(Duration::from_millis(100));
    assert!(ask(&mut lan, scoped("ALPHA", 0), true).is_empty());
}

#[test]
fn node_status_lists_every_name_with_flags_and_the_mac() {
    let mut lan = Lan::new();
    lan.add_host(1, config("ALPHA"), 1);
    lan.run_for(Duration::from_secs(1));
    let status = |lan: &mut Lan, n: NetbiosName, dst: Ipv4Addr| {
        let q = NameServicePacket::node_status_request(5, ScopedName::unscoped(n))
            .to_vec()
            .unwrap();
        lan.client_send(client(), dst, &q);
        lan.take_outside()
    };
    for asked in [NetbiosName::WILDCARD, name("ALPHA", 0), name("LABWG", 0x1E)] {
        let out = status(&mut lan, asked, ip(1));
        assert_eq!(out.len(), 1, "{asked}");
        let p = parse(&out[0].payload);
        assert_eq!(p.kind(), PacketKind::NodeStatusResponse);
        assert_eq!(
            p.answers[0].name.netbios().unwrap().name,
            asked,
            "the question is echoed"
        );
        let st = p.answers[0].node_status().unwrap();
        let got: Vec<_> = st.names.iter().map(|e| (e.name, e.flags)).collect();
        let want: Vec<_> = config("ALPHA")
            .names()
            .into_iter()
            .map(|(n, g)| {
                (
                    n,
                    if g {
                        NameFlags::ACTIVE | NameFlags::GROUP
                    } else {
                        NameFlags::ACTIVE
                    },
                )
            })
            .collect();
        assert_eq!(got, want);
        assert_eq!(st.statistics.unit_id, [0x02, 0, 0, 0, 0, 1]);
        assert_eq!(
            st.statistics,
            Statistics::with_unit_id([0x02, 0, 0, 0, 0, 1]),
            "every statistic but the unit ID is zero"
        );
        // The block ends the datagram: the MAC, then 40 zero bytes.
        let raw = &out[0].payload[out[0].payload.len() - 46..];
        assert_eq!(raw[..6], [0x02, 0, 0, 0, 0, 1]);
        assert!(raw[6..].iter().all(|&b| b == 0), "{raw:02x?}");
    }
    assert!(
        status(&mut lan, name("BRAVO", 0), ip(1)).is_empty(),
        "not ours"
    );
    assert!(
        status(&mut lan, NetbiosName::WILDCARD, BROADCAST).is_empty(),
        "no broadcast `*`"
    );
}

#[test]
fn node_status_mac_off_zeroes_the_whole_statistics_block() {
    let mut lan = Lan::new();
    let mut c = config("ALPHA");
    c.node_status_mac = false;
    lan.add_host(1, c, 1);
    lan.run_for(Duration::from_secs(1));
    let q = NameServicePacket::node_status_request(5, ScopedName::unscoped(NetbiosName::WILDCARD));
    lan.client_send(client(), ip(1), &q.to_vec().unwrap());
    let out = lan.take_outside();
    assert_eq!(out.len(), 1);
    let p = parse(&out[0].payload);
    let st = p.answers[0].node_status().unwrap();
    assert!(!st.names.is_empty(), "the name table is still there");
    assert_eq!(st.statistics, Statistics::default());
    let raw = &out[0].payload[out[0].payload.len() - 46..];
    assert!(raw.iter().all(|&b| b == 0), "{raw:02x?}");
}

#[test]
fn node_status_fits_one_datagram_with_many_aliases() {
    let mut lan = Lan::new();
    let mut c = config("ALPHA");
    c.aliases = (0..20).map(|i| name(&format!("ALIAS{i}"), 0)).collect();
    lan.add_host(1, c, 1);
    lan.run_for(Duration::from_secs(1));
    let q = NameServicePacket::node_status_request(5, ScopedName::unscoped(NetbiosName::WILDCARD));
    lan.client_send(client(), ip(1), &q.to_vec().unwrap());
    let out = lan.take_outside();
    assert!(
        out[0].payload.len() <= 576,
        "{} bytes",
        out[0].payload.len()
    );
    assert!(
        parse(&out[0].payload).answers[0]
            .node_status()
            .unwrap()
            .names
            .len()
            >= 25
    );
}

#[test]
fn shutdown_releases_held_names_by_broadcast_and_nothing_else() {
    let mut lan = Lan::new();
    lan.add_host(1, config("ALPHA"), 1);
    lan.run_for(Duration::from_secs(1));
    let b = lan.add_host(2, config("ALPHA"), 2);
    lan.run_for(Duration::from_secs(1));
    lan.wire.clear();
    let now = lan.now;
    lan.hosts[b].engine.shutdown(now);
    lan.deliver();
    let released: Vec<_> = lan
        .wire
        .iter()
        .map(|s| {
            assert_eq!(s.dst, SocketAddrV4::new(BROADCAST, 137));
            let p = parse(&s.payload);
            assert_eq!(p.kind(), PacketKind::NameReleaseRequest);
            assert_eq!(p.additional[0].nb_addresses().unwrap()[0].addr, ip(2));
            p.questions[0].name.name
        })
        .collect();
    // Host 2 lost ALPHA's unique names: it releases only the group names it holds.
    assert_eq!(released, [name("LABWG", 0), name("LABWG", 0x1E)]);
    // Host 1 kept everything: a release of a group name is not about its own membership.
    assert!(
        lan.hosts[0]
            .engine
            .names()
            .iter()
            .all(|n| n.state == NameState::Active)
    );
    let q = NameServicePacket::name_query(3, scoped("LABWG", 0), false)
        .to_vec()
        .unwrap();
    let d = lan.client_send(client(), ip(2), &q);
    assert_eq!(d, [Disposition::Ignored("shutting down")]);
}

#[test]
fn releases_and_conflict_demands_from_others_are_ignored_and_reported_once_a_minute() {
    let mut lan = Lan::new();
    let a = lan.add_host(1, config("ALPHA"), 1);
    lan.run_for(Duration::from_secs(1));
    let rel = NameServicePacket::release_request(
        1,
        scoped("ALPHA", 0),
        NbAddress::b_node(ip(1), false),
        true,
    );
    let cft = NameServicePacket::conflict_demand(
        2,
        scoped("ALPHA", 0x20),
        NbAddress::b_node(ip(1), false),
    );
    for _ in 0..10 {
        lan.client_send(client(), BROADCAST, &rel.to_vec().unwrap());
        lan.client_send(client(), ip(1), &cft.to_vec().unwrap());
    }
    lan.run_for(Duration::from_secs(61));
    lan.client_send(client(), BROADCAST, &rel.to_vec().unwrap());
    let reports: Vec<_> = lan.hosts[a]
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            NameEvent::ReleaseIgnored {
                name,
                from,
                repeats,
                ..
            } => Some(("release", *name, *from, *repeats)),
            NameEvent::ConflictDemandIgnored {
                name,
                from,
                repeats,
                ..
            } => Some(("conflict", *name, *from, *repeats)),
            _ => None,
        })
        .collect();
    assert_eq!(
        reports,
        [
            ("release", name("ALPHA", 0), ip(200), 0),
            ("conflict", name("ALPHA", 0x20), ip(200), 0),
            ("release", name("ALPHA", 0), ip(200), 9),
        ]
    );
    assert!(
        lan.hosts[a]
            .engine
            .names()
            .iter()
            .all(|n| n.state == NameState::Active)
    );
    let q = NameServicePacket::name_query(3, scoped("ALPHA", 0), false)
        .to_vec()
        .unwrap();
    lan.client_send(client(), ip(1), &q);
    assert_eq!(
        parse(&lan.take_outside()[0].payload).kind(),
        PacketKind::PositiveNameQueryResponse
    );
}

/// With `answer_remote_subnets` on, the source the default ignores gets its answer.
#[test]
fn answer_remote_subnets_answers_a_source_outside_the_subnet() {
    let mut lan = Lan::new();
    let mut c = config("ALPHA");
    c.answer_remote_subnets = true;
    let a = lan.add_host(1, c, 1);
    lan.run_for(Duration::from_secs(1));
    let q = NameServicePacket::name_query(3, scoped("ALPHA", 0), false)
        .to_vec()
        .unwrap();
    let far = SocketAddrV4::new(Ipv4Addr::new(203, 0, 113, 9), 137);
    let d = lan.client_send(far, ip(1), &q);
    assert_eq!(d, [Disposition::Handled]);
    let out = lan.take_outside();
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].dst, far);
    let p = parse(&out[0].payload);
    assert_eq!(p.kind(), PacketKind::PositiveNameQueryResponse);
    assert_eq!(p.answers[0].nb_addresses().unwrap()[0].addr, ip(1));
    assert_eq!(lan.hosts[a].engine.counters().off_subnet, 0);
}

#[test]
fn off_subnet_scoped_and_malformed_input_is_dropped() {
    let mut lan = Lan::new();
    let a = lan.add_host(1, config("ALPHA"), 1);
    lan.run_for(Duration::from_secs(1));
    let q = NameServicePacket::name_query(3, scoped("ALPHA", 0), false)
        .to_vec()
        .unwrap();
    let far = SocketAddrV4::new(Ipv4Addr::new(203, 0, 113, 9), 137);
    let d = lan.inject_to(a, far, false, &q);
    assert_eq!(
        d,
        Disposition::Ignored("source outside the interface's subnet")
    );
    assert!(lan.take_outside().is_empty() && lan.hosts[a].engine.poll_transmit().is_none());
    assert_eq!(lan.hosts[a].engine.counters().off_subnet, 1);

    let other_scope = NameServicePacket::name_query(
        3,
        ScopedName {
            name: name("ALPHA", 0),
            scope: nbt_protocol::Scope::new("other.example").unwrap(),
        },
        false,
    );
    let d = lan.inject_to(a, client(), false, &other_scope.to_vec().unwrap());
    assert_eq!(d, Disposition::Ignored("another NetBIOS scope"));

    let d = lan.inject_to(a, client(), false, &q[..20]);
    assert!(
        matches!(d, Disposition::Malformed(ref e) if e.field == "QUESTION_NAME"),
        "{d:?}"
    );
    assert_eq!(lan.hosts[a].engine.counters().malformed, 1);
}

#[test]
fn a_late_negative_answer_to_a_finished_registration_changes_nothing() {
    let mut lan = Lan::new();
    let a = lan.add_host(1, config("ALPHA"), 1);
    lan.deliver();
    let trn_id = parse(&lan.wire[0].payload).trn_id;
    lan.run_for(Duration::from_secs(1));
    let neg = NameServicePacket::negative_registration_response(
        trn_id,
        scoped("ALPHA", 0),
        Rcode::ACT_ERR,
        0,
        NbAddress::b_node(ip(200), false),
    );
    let d = lan.inject_to(a, client(), false, &neg.to_vec().unwrap());
    assert!(matches!(d, Disposition::Ignored(_)));
    assert!(
        lan.hosts[a]
            .engine
            .names()
            .iter()
            .all(|n| n.state == NameState::Active)
    );
}

#[test]
fn added_names_register_and_removed_names_are_released() {
    let mut lan = Lan::new();
    let a = lan.add_host(1, config("ALPHA"), 1);
    lan.run_for(Duration::from_secs(1));
    let now = lan.now;
    lan.hosts[a]
        .engine
        .add_name(now, name("LABWG", 0x1D), false);
    lan.run_for(Duration::from_secs(1));
    assert!(
        lan.hosts[a]
            .engine
            .holds(nbt_protocol::engine::IfaceId(1), &name("LABWG", 0x1D))
    );
    lan.wire.clear();
    let now = lan.now;
    lan.hosts[a].engine.remove_name(now, name("LABWG", 0x1D));
    lan.deliver();
    assert_eq!(lan.wire.len(), 1);
    assert_eq!(
        parse(&lan.wire[0].payload).kind(),
        PacketKind::NameReleaseRequest
    );
    assert!(
        !lan.hosts[a]
            .engine
            .holds(nbt_protocol::engine::IfaceId(1), &name("LABWG", 0x1D))
    );
}

fn query_results(lan: &Lan, h: usize) -> Vec<NameEvent> {
    lan.hosts[h]
        .events
        .iter()
        .filter(|(_, e)| matches!(e, NameEvent::QueryResult { .. }))
        .map(|(_, e)| e.clone())
        .collect()
}

#[test]
fn queries_of_our_own_broadcast_and_unicast() {
    let mut lan = Lan::new();
    lan.add_host(1, config("ALPHA"), 1);
    let b = lan.add_host(2, config("BRAVO"), 2);
    lan.run_for(Duration::from_secs(1));
    let iface = nbt_protocol::engine::IfaceId(1);
    let now = lan.now;
    let bq = lan.hosts[b]
        .engine
        .query(now, iface, name("ALPHA", 0x20), None)
        .unwrap();
    let uq = lan.hosts[b]
        .engine
        .query(now, iface, name("LABWG", 0), Some(ip(1)))
        .unwrap();
    let nq = lan.hosts[b]
        .engine
        .query(now, iface, name("NOBODY", 0), Some(ip(1)))
        .unwrap();
    let dead = lan.hosts[b]
        .engine
        .query(now, iface, name("ALPHA", 0), Some(ip(9)))
        .unwrap();
    lan.deliver();
    // The unicast ones that were answered finish at once.
    let early = query_results(&lan, b);
    assert_eq!(early.len(), 2, "{early:?}");
    lan.run_for(Duration::from_millis(800));
    let all = query_results(&lan, b);
    let by_id = |id| {
        all.iter()
            .find(|e| matches!(e, NameEvent::QueryResult { id: i, .. } if *i == id))
            .cloned()
            .unwrap()
    };
    let NameEvent::QueryResult {
        answers, negative, ..
    } = by_id(bq)
    else {
        unreachable!()
    };
    assert_eq!(answers, [(ip(1), NbAddress::b_node(ip(1), false))]);
    assert!(negative.is_empty());
    let NameEvent::QueryResult { answers, .. } = by_id(uq) else {
        unreachable!()
    };
    assert_eq!(answers, [(ip(1), NbAddress::b_node(ip(1), true))]);
    let NameEvent::QueryResult {
        answers, negative, ..
    } = by_id(nq)
    else {
        unreachable!()
    };
    assert!(answers.is_empty());
    assert_eq!(negative, [(ip(1), Rcode::NAM_ERR)]);
    let NameEvent::QueryResult {
        answers, negative, ..
    } = by_id(dead)
    else {
        unreachable!()
    };
    assert!(
        answers.is_empty() && negative.is_empty(),
        "nobody there: empty after 3 tries"
    );
    let tries = lan.wire.iter().filter(|s| *s.dst.ip() == ip(9)).count();
    assert_eq!(tries, 3);
}
