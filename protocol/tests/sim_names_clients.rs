//! The name engine against what third-party clients send: nbtscan's unicast node status with the
//! B flag set, clients on nbtd's own host, nmblookup's query for `*`, a unicast name refresh, and
//! the group-name releases every member sends when it stops. Each answer is also checked against
//! the fast path's table, which must send the engine's exact bytes or leave the request to it.

mod sim;

use std::net::SocketAddrV4;
use std::time::Duration;

use nbt_protocol::engine::IfaceId;
use nbt_protocol::engine::names::{Disposition, NameEvent};
use nbt_protocol::name::{NetbiosName, ScopedName};
use nbt_protocol::wire::Emit;
use nbt_protocol::wire::ns::{NameServicePacket, NbAddress, NmFlags, PacketKind, Rcode};
use sim::{Lan, ip, name, parse, scoped};

use sim::host_config as config;

/// ALPHA at 198.18.0.1 with its names registered.
fn alpha() -> Lan {
    let mut lan = Lan::new();
    lan.add_host(1, config("ALPHA"), 1);
    lan.run_for(Duration::from_secs(1));
    lan
}

/// Hands `bytes` to ALPHA as arriving from `src` (on the broadcast socket when `to_broadcast`)
/// and returns what it sent back, with where to.
fn exchange(
    lan: &mut Lan,
    src: SocketAddrV4,
    to_broadcast: bool,
    bytes: &[u8],
) -> (Disposition, Vec<(SocketAddrV4, Vec<u8>)>) {
    let d = lan.inject_to(0, src, to_broadcast, bytes);
    let mut out = Vec::new();
    while let Some(t) = lan.hosts[0].engine.poll_transmit() {
        out.push((t.dst, t.payload));
    }
    (d, out)
}

/// What the fast path's table sends for a unicast `request` from `src`, if it answers it.
fn fast_answer(lan: &Lan, src: SocketAddrV4, request: &[u8]) -> Option<Vec<u8>> {
    let table = lan.hosts[0].engine.answer_table(IfaceId(1)).unwrap();
    let mut out = vec![0u8; 1500];
    let (_, n) = table.answer_into(src, request, &mut out)?;
    Some(out[..n].to_vec())
}

/// nbtscan's request: node status for `*`, by unicast, with the B flag set (flags 0x0010).
fn nbtscan_request(trn_id: u16) -> Vec<u8> {
    let mut p =
        NameServicePacket::node_status_request(trn_id, ScopedName::unscoped(NetbiosName::WILDCARD));
    p.flags |= NmFlags::BROADCAST;
    let bytes = p.to_vec().unwrap();
    assert_eq!(&bytes[2..4], [0x00, 0x10], "the flags nbtscan 1.7.2 sends");
    bytes
}

#[test]
fn nbtscan_node_status_by_unicast_with_the_b_flag_is_answered() {
    let mut lan = alpha();
    let nbtscan = SocketAddrV4::new(ip(200), 40000);
    let req = nbtscan_request(0x1234);
    let (_, out) = exchange(&mut lan, nbtscan, false, &req);
    assert_eq!(
        out.len(),
        1,
        "answered: it arrived by unicast, whatever its flag says"
    );
    assert_eq!(out[0].0, nbtscan);
    let p = parse(&out[0].1);
    assert_eq!(p.kind(), PacketKind::NodeStatusResponse);
    assert_eq!(p.trn_id, 0x1234);
    let status = p.answers[0].node_status().unwrap();
    assert!(status.names.iter().any(|n| n.name == name("ALPHA", 0x20)));
    assert!(
        status
            .names
            .iter()
            .any(|n| n.name == name("LABWG", 0x1e) && n.flags.is_group())
    );
    assert_eq!(
        fast_answer(&lan, nbtscan, &req).as_deref(),
        Some(&out[0].1[..]),
        "the fast path answers it too, with the engine's bytes"
    );

    // The same request that really was broadcast (it arrived on the broadcast socket) is not
    // answered: a node status for `*` to the whole LAN would amplify.
    let (_, out) = exchange(&mut lan, nbtscan, true, &req);
    assert!(out.is_empty());
}

#[test]
fn the_socket_not_the_b_flag_decides_whether_a_query_is_broadcast() {
    let mut lan = alpha();
    let client = SocketAddrV4::new(ip(200), 40000);
    // By unicast with the B flag: a name we do not hold gets NAM_ERR, as any unicast query.
    let q = NameServicePacket::name_query(7, scoped("NOSUCHNAME", 0), true)
        .to_vec()
        .unwrap();
    let (_, out) = exchange(&mut lan, client, false, &q);
    assert_eq!(out.len(), 1);
    let p = parse(&out[0].1);
    assert_eq!(p.kind(), PacketKind::NegativeNameQueryResponse);
    assert_eq!(p.rcode, Rcode::NAM_ERR);
    // To the broadcast address without the B flag: still a broadcast, never answered
    // negatively (RFC 1002 §5.1.1).
    let q = NameServicePacket::name_query(8, scoped("NOSUCHNAME", 0), false)
        .to_vec()
        .unwrap();
    let (_, out) = exchange(&mut lan, client, true, &q);
    assert!(out.is_empty());
    // And a positive answer either way.
    let q = NameServicePacket::name_query(9, scoped("ALPHA", 0), true)
        .to_vec()
        .unwrap();
    let (_, out) = exchange(&mut lan, client, false, &q);
    assert_eq!(
        parse(&out[0].1).kind(),
        PacketKind::PositiveNameQueryResponse
    );
}

#[test]
fn a_client_on_our_own_host_is_answered_but_our_own_packets_are_not() {
    let mut lan = alpha();
    // nmblookup or nbt on the nbtd host itself: our address, an ephemeral port.
    let local = SocketAddrV4::new(ip(1), 50000);
    let q = NameServicePacket::name_query(1, scoped("ALPHA", 0), false)
        .to_vec()
        .unwrap();
    for to_broadcast in [false, true] {
        let (_, out) = exchange(&mut lan, local, to_broadcast, &q);
        assert_eq!(out.len(), 1, "answered (broadcast: {to_broadcast})");
        assert_eq!(out[0].0, local);
        assert_eq!(
            parse(&out[0].1).kind(),
            PacketKind::PositiveNameQueryResponse
        );
    }
    let status =
        NameServicePacket::node_status_request(2, ScopedName::unscoped(NetbiosName::WILDCARD))
            .to_vec()
            .unwrap();
    let (_, out) = exchange(&mut lan, local, false, &status);
    assert_eq!(parse(&out[0].1).kind(), PacketKind::NodeStatusResponse);
    assert_eq!(
        fast_answer(&lan, local, &status).as_deref(),
        Some(&out[0].1[..])
    );
    assert!(fast_answer(&lan, local, &q).is_some());

    // From our own address and port 137: our own packet, looped back, and dropped.
    let own = SocketAddrV4::new(ip(1), 137);
    let (d, out) = exchange(&mut lan, own, false, &q);
    assert_eq!(d, Disposition::Ignored("our own packet"));
    assert!(out.is_empty());
    assert_eq!(fast_answer(&lan, own, &q), None);
}

#[test]
fn star_is_answered_with_our_address_and_left_out_of_the_node_status() {
    let mut lan = alpha();
    let client = SocketAddrV4::new(ip(200), 40000);
    for suffix in [0x00, 0x20] {
        let star = ScopedName::unscoped(NetbiosName::WILDCARD.with_suffix(suffix));
        for to_broadcast in [true, false] {
            let q = NameServicePacket::name_query(0x77, star.clone(), to_broadcast)
                .to_vec()
                .unwrap();
            let (_, out) = exchange(&mut lan, client, to_broadcast, &q);
            assert_eq!(
                out.len(),
                1,
                "*<{suffix:02x}> answered (broadcast: {to_broadcast})"
            );
            let p = parse(&out[0].1);
            assert_eq!(p.kind(), PacketKind::PositiveNameQueryResponse);
            assert_eq!(p.answers[0].name.netbios(), Some(&star));
            assert_eq!(
                p.answers[0].nb_addresses().unwrap(),
                [NbAddress::b_node(ip(1), false)],
                "a unique B-node name at our address, as nmbd answers"
            );
            if !to_broadcast {
                assert_eq!(
                    fast_answer(&lan, client, &q).as_deref(),
                    Some(&out[0].1[..])
                );
            }
        }
    }
    // Only those two: `*<03>` is nobody's.
    let q = NameServicePacket::name_query(
        1,
        ScopedName::unscoped(NetbiosName::WILDCARD.with_suffix(3)),
        true,
    )
    .to_vec()
    .unwrap();
    assert!(exchange(&mut lan, client, true, &q).1.is_empty());
    // `*` is not one of the names the node status lists.
    let req = nbtscan_request(5);
    let (_, out) = exchange(&mut lan, client, false, &req);
    let p = parse(&out[0].1);
    assert!(
        p.answers[0]
            .node_status()
            .unwrap()
            .names
            .iter()
            .all(|n| !n.name.is_wildcard())
    );
}

#[test]
fn a_unicast_refresh_of_our_unique_name_is_defended_with_act_err() {
    let mut lan = alpha();
    let client = SocketAddrV4::new(ip(200), 40000);
    let refresh = NameServicePacket::refresh_request(
        0x5151,
        scoped("ALPHA", 0x20),
        300_000,
        NbAddress::b_node(ip(200), false),
        false,
    )
    .to_vec()
    .unwrap();
    let (d, out) = exchange(&mut lan, client, false, &refresh);
    assert_eq!(d, Disposition::Handled);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, client, "to the client's own port");
    let p = parse(&out[0].1);
    assert_eq!(p.kind(), PacketKind::NegativeNameRegistrationResponse);
    assert_eq!(p.trn_id, 0x5151);
    assert_eq!(p.rcode, Rcode::ACT_ERR);
    assert_eq!(
        p.answers[0].nb_addresses().unwrap()[0].addr,
        ip(1),
        "we hold it"
    );
    assert_eq!(lan.hosts[0].engine.counters().defended, 1);

    // A refresh of our group name, or of a name we do not hold, gets no answer.
    for (n, sfx, group) in [("LABWG", 0x00, true), ("NOSUCHNAME", 0x00, false)] {
        let refresh = NameServicePacket::refresh_request(
            1,
            scoped(n, sfx),
            300_000,
            NbAddress::b_node(ip(200), group),
            false,
        )
        .to_vec()
        .unwrap();
        assert!(
            exchange(&mut lan, client, false, &refresh).1.is_empty(),
            "{n}"
        );
    }
}

#[test]
fn group_releases_are_normal_and_unique_releases_stay_hostile() {
    let mut lan = alpha();
    let member = SocketAddrV4::new(ip(200), 137);
    // A workgroup member stopping cleanly releases the workgroup's names, every minute or so
    // when several stop.
    for sfx in [0x00, 0x1e] {
        let rel = NameServicePacket::release_request(
            1,
            scoped("LABWG", sfx),
            NbAddress::b_node(ip(200), true),
            true,
        )
        .to_vec()
        .unwrap();
        for _ in 0..3 {
            let (d, out) = exchange(&mut lan, member, true, &rel);
            assert_eq!(d, Disposition::Handled);
            assert!(out.is_empty());
        }
    }
    lan.deliver();
    let c = lan.hosts[0].engine.counters();
    assert_eq!((c.group_releases, c.hostile_ignored), (6, 0));
    let seen: Vec<_> = lan.hosts[0]
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            NameEvent::GroupReleaseSeen { name, from, .. } => Some((*name, *from)),
            NameEvent::ReleaseIgnored { .. } | NameEvent::ConflictDemandIgnored { .. } => {
                panic!("a group release reported as hostile: {e:?}")
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        seen,
        [(name("LABWG", 0), ip(200)), (name("LABWG", 0x1e), ip(200))],
        "one report a name, repeats folded"
    );
    // A conflict demand for a group name makes no sense: ignored, neither kind.
    let demand =
        NameServicePacket::conflict_demand(2, scoped("LABWG", 0), NbAddress::b_node(ip(1), true))
            .to_vec()
            .unwrap();
    exchange(&mut lan, member, false, &demand);
    // The release of a unique name of ours is still hostile.
    let rel = NameServicePacket::release_request(
        3,
        scoped("ALPHA", 0),
        NbAddress::b_node(ip(1), false),
        true,
    )
    .to_vec()
    .unwrap();
    exchange(&mut lan, member, true, &rel);
    let c = lan.hosts[0].engine.counters();
    assert_eq!((c.group_releases, c.hostile_ignored), (6, 1));
    // And the group is still ours.
    let q = NameServicePacket::name_query(4, scoped("LABWG", 0), true)
        .to_vec()
        .unwrap();
    let (_, out) = exchange(&mut lan, SocketAddrV4::new(ip(201), 40000), true, &q);
    assert_eq!(
        parse(&out[0].1).kind(),
        PacketKind::PositiveNameQueryResponse
    );
}

/// The canary queries ALPHA broadcast since wire entry `from`: (transaction ID, name).
fn canaries(lan: &Lan, from: usize) -> Vec<(u16, ScopedName)> {
    let mut v: Vec<(u16, ScopedName)> = Vec::new();
    for s in &lan.wire[from..] {
        let p = parse(&s.payload);
        if p.kind() == PacketKind::NameQueryRequest && !v.iter().any(|(t, _)| *t == p.trn_id) {
            v.push((p.trn_id, p.questions[0].name.clone()));
        }
    }
    v
}

#[test]
fn the_canary_names_a_poisoner_that_answers_names_nobody_holds() {
    use nbt_protocol::engine::names::canary::CanaryKind;
    let mut c = config("ALPHA");
    c.canary_interval = Some(Duration::from_secs(60));
    let mut lan = Lan::new();
    lan.add_host(1, c, 1);
    lan.run_for(Duration::from_secs(1));
    let start = lan.wire.len();
    lan.run_for(Duration::from_secs(59));
    assert_eq!(
        canaries(&lan, start).len(),
        3,
        "one round a minute: a random name, <1D>, ours"
    );

    // A poisoner at 198.18.0.66 answers each of them, as Responder answers every name.
    let poisoner = SocketAddrV4::new(ip(66), 137);
    let round = canaries(&lan, start);
    for (trn_id, q) in &round {
        let answer = NameServicePacket::positive_query_response(
            *trn_id,
            q.clone(),
            300,
            vec![NbAddress::b_node(ip(66), false)],
        );
        lan.inject_to(0, poisoner, false, &answer.to_vec().unwrap());
    }
    lan.run_for(Duration::from_secs(2));
    let seen: Vec<_> = lan.hosts[0]
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            NameEvent::PoisonerAnswered {
                from,
                claimed,
                kind,
                ..
            } => Some((*from, *claimed, *kind)),
            NameEvent::QueryResult { .. } => panic!("a canary's result leaked: {e:?}"),
            _ => None,
        })
        .collect();
    // The <1D> answer alone is a master's, as any master would give.
    assert_eq!(
        seen,
        [
            (ip(66), ip(66), CanaryKind::Unregistered),
            (ip(66), ip(66), CanaryKind::OurName),
        ],
        "{round:?}"
    );
    assert_eq!(lan.hosts[0].engine.counters().poisoner_answers, 2);
    // The random name is new every round, and not one anybody holds.
    let start = lan.wire.len();
    lan.run_for(Duration::from_secs(60));
    let next = canaries(&lan, start);
    assert_eq!(next.len(), 3);
    assert_ne!(next[0].1, round[0].1);

    // Off, nothing goes out.
    let mut lan = Lan::new();
    lan.add_host(1, config("ALPHA"), 1);
    lan.run_for(Duration::from_secs(1));
    let start = lan.wire.len();
    lan.run_for(Duration::from_secs(3600));
    assert!(canaries(&lan, start).is_empty());
}

#[test]
fn a_burst_of_releases_from_one_host_is_reported_at_once() {
    let mut lan = alpha();
    let thief = SocketAddrV4::new(ip(66), 137);
    let rel = NameServicePacket::release_request(
        1,
        scoped("ALPHA", 0x20),
        NbAddress::b_node(ip(1), false),
        true,
    )
    .to_vec()
    .unwrap();
    let bursts = |lan: &Lan| {
        lan.hosts[0]
            .events
            .iter()
            .filter_map(|(_, e)| match e {
                NameEvent::HostileBurst { from, count, .. } => Some((*from, *count)),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    for _ in 0..9 {
        exchange(&mut lan, thief, true, &rel);
    }
    lan.deliver();
    assert!(bursts(&lan).is_empty(), "nine are not a burst yet");
    for _ in 0..20 {
        exchange(&mut lan, thief, true, &rel);
    }
    lan.deliver();
    assert_eq!(bursts(&lan), [(ip(66), 10)], "once, at the tenth");
    // A quiet minute later, a new burst is reported again.
    lan.run_for(Duration::from_secs(61));
    for _ in 0..10 {
        exchange(&mut lan, thief, true, &rel);
    }
    lan.deliver();
    assert_eq!(bursts(&lan).len(), 2);
}
