//! The WINS client on a simulated LAN with simulated time: the test plays the WINS server, on
//! another subnet (198.19.0.1), reading the requests the host sends there and answering them.

mod sim;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use nbt_protocol::engine::names::wins::{
    MAX_REFRESH, UCAST_REQ_RETRY_TIMEOUT, WINS_RETRY, WinsEvent, WinsState,
};
use nbt_protocol::engine::names::{Disposition, NameConfig, NameEngine, NameEvent};
use nbt_protocol::engine::{IfaceAddr, IfaceId, Rng};
use nbt_protocol::name::{NetbiosName, ScopedName};
use nbt_protocol::wire::Emit;
use nbt_protocol::wire::ns::{
    NameServicePacket, NbFlags, NmFlags, NodeType, Opcode, PacketKind, Rcode,
};
use sim::{Lan, Sent, ip, name};

/// The WINS server, on another subnet.
const WINS: Ipv4Addr = Ipv4Addr::new(198, 19, 0, 1);

fn config() -> NameConfig {
    let mut c = NameConfig::new(name("ALPHA", 0), name("LABWG", 0));
    c.wins_servers = vec![WINS];
    c
}

fn parse(b: &[u8]) -> NameServicePacket {
    NameServicePacket::parse(b).unwrap()
}

/// The requests sent to the WINS server since the last call, parsed.
fn to_wins(lan: &mut Lan) -> Vec<(Sent, NameServicePacket)> {
    lan.deliver();
    lan.take_outside()
        .into_iter()
        .filter(|s| s.dst == SocketAddrV4::new(WINS, 137))
        .map(|s| {
            let p = parse(&s.payload);
            (s, p)
        })
        .collect()
}

/// A second WINS server, tried after [`WINS`].
const WINS2: Ipv4Addr = Ipv4Addr::new(198, 19, 0, 2);

/// The requests sent since the last call, parsed, by server.
fn to_servers(lan: &mut Lan) -> Vec<(Ipv4Addr, NameServicePacket)> {
    lan.deliver();
    lan.take_outside()
        .into_iter()
        .map(|s| (*s.dst.ip(), parse(&s.payload)))
        .collect()
}

fn qname(p: &NameServicePacket) -> NetbiosName {
    p.questions[0].name.name
}

/// The requests of `reqs` for ALPHA<00>, the name the tests follow.
fn of_alpha(reqs: &[(Sent, NameServicePacket)]) -> Vec<NameServicePacket> {
    reqs.iter()
        .filter(|(_, p)| qname(p) == name("ALPHA", 0))
        .map(|(_, p)| p.clone())
        .collect()
}

/// The server's answer to request `p`: RCODE `rcode`, TTL `ttl`.
fn answer(p: &NameServicePacket, rcode: Rcode, ttl: u32) -> Vec<u8> {
    let name = p.questions[0].name.clone();
    let nb = p.additional[0].nb_addresses().unwrap()[0];
    let mut r = if rcode == Rcode::OK {
        NameServicePacket::positive_registration_response(p.trn_id, name, ttl, nb)
    } else {
        NameServicePacket::negative_registration_response(p.trn_id, name, rcode, ttl, nb)
    };
    r.opcode = p.opcode;
    r.to_vec().unwrap()
}

fn from_wins() -> SocketAddrV4 {
    SocketAddrV4::new(WINS, 137)
}

fn wins_events(lan: &Lan, h: usize) -> Vec<WinsEvent> {
    lan.hosts[h]
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            NameEvent::Wins(w) => Some(w.clone()),
            _ => None,
        })
        .collect()
}

fn state_of(lan: &Lan, h: usize, n: NetbiosName) -> WinsState {
    let st = lan.hosts[h].engine.wins_status().unwrap();
    st.names.iter().find(|i| i.name == n).unwrap().state
}

#[test]
fn names_are_registered_by_unicast_granted_and_refreshed_at_half_the_ttl() {
    let mut lan = Lan::new();
    let h = lan.add_host(1, config(), 7);
    let reqs = to_wins(&mut lan);
    let names: Vec<(NetbiosName, bool)> = config().names();
    assert_eq!(reqs.len(), names.len(), "one request per name at once");
    for ((s, p), (n, group)) in reqs.iter().zip(&names) {
        assert_eq!(s.at, lan.start);
        assert_eq!(p.kind(), PacketKind::NameRegistrationRequest);
        assert!(p.flags.contains(NmFlags::RECURSION_DESIRED));
        assert!(!p.flags.contains(NmFlags::BROADCAST), "unicast");
        assert_eq!(qname(p), *n);
        let rr = &p.additional[0];
        assert_eq!(rr.ttl, 259_200, "the answer TTL is asked for");
        let nb = rr.nb_addresses().unwrap()[0];
        assert_eq!(nb.addr, ip(1));
        assert_eq!(
            nb.flags,
            NbFlags::new(*group, NodeType::H),
            "H-node, as nmbd"
        );
    }
    // The server is on another subnet, and answer_remote_subnets is off: its answers count.
    for (_, p) in &reqs {
        let d = lan.inject_to(h, from_wins(), false, &answer(p, Rcode::OK, 600));
        assert_eq!(d, Disposition::Handled);
    }
    lan.deliver();
    let ev = wins_events(&lan, h);
    assert_eq!(ev.len(), names.len());
    assert!(ev.iter().all(|e| matches!(
        e,
        WinsEvent::Registered {
            server: WINS,
            ttl: 600,
            refresh: false,
            address,
            ..
        } if *address == ip(1)
    )));
    assert_eq!(
        state_of(&lan, h, name("ALPHA", 0x20)),
        WinsState::Registered { ttl: 600 }
    );
    // No broadcast registration was touched: the names are active on the LAN too.
    lan.run_for(Duration::from_secs(1));
    assert!(
        lan.hosts[h]
            .engine
            .names()
            .iter()
            .all(|n| n.state == nbt_protocol::engine::names::NameState::Active)
    );

    // Half the TTL later, a refresh of each name, unicast, with opcode 8.
    lan.run_until(lan.start + Duration::from_secs(300) - Duration::from_millis(1));
    assert!(to_wins(&mut lan).is_empty(), "nothing before half the TTL");
    lan.run_for(Duration::from_millis(1));
    let reqs = to_wins(&mut lan);
    assert_eq!(reqs.len(), names.len());
    for (_, p) in &reqs {
        assert_eq!(p.kind(), PacketKind::NameRefreshRequest);
        assert_eq!(p.opcode, Opcode::Refresh);
        assert!(!p.flags.contains(NmFlags::BROADCAST));
        lan.inject_to(h, from_wins(), false, &answer(p, Rcode::OK, 86_400));
    }
    lan.deliver();
    assert!(wins_events(&lan, h).iter().any(|e| matches!(
        e,
        WinsEvent::Registered {
            ttl: 86_400,
            refresh: true,
            ..
        }
    )));
    // A long TTL is refreshed every MAX_REFRESH (20 minutes), not after half a day.
    let due = lan.hosts[h].engine.poll_timeout().unwrap();
    assert_eq!(due - lan.now, MAX_REFRESH);
}

#[test]
fn silence_means_three_tries_5s_apart_then_again_after_5_minutes() {
    let mut lan = Lan::new();
    let h = lan.add_host(1, config(), 7);
    let n = config().names().len();
    let mut times = Vec::new();
    lan.run_for(Duration::from_secs(60));
    let reqs = to_wins(&mut lan);
    for (s, _) in &reqs {
        times.push(s.at - lan.start);
    }
    assert_eq!(reqs.len(), 3 * n);
    for (k, t) in times.iter().enumerate() {
        assert_eq!(*t, UCAST_REQ_RETRY_TIMEOUT * (k / n) as u32);
    }
    // The three tries of a name share one transaction ID.
    let ids: Vec<u16> = of_alpha(&reqs).iter().map(|p| p.trn_id).collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(|&i| i == ids[0]));
    assert_eq!(
        wins_events(&lan, h),
        [WinsEvent::NoAnswer {
            names: n,
            retry: WINS_RETRY
        }],
        "one report for all the names"
    );
    assert_eq!(state_of(&lan, h, name("ALPHA", 0)), WinsState::NoAnswer);
    // 15 s + 5 minutes after the start, the registration starts again, with a new ID.
    lan.run_until(lan.start + Duration::from_secs(15) + WINS_RETRY - Duration::from_millis(1));
    assert!(to_wins(&mut lan).is_empty());
    lan.run_for(Duration::from_millis(1));
    let again = to_wins(&mut lan);
    assert_eq!(again.len(), n);
    let id = of_alpha(&again)[0].trn_id;
    assert_ne!(id, ids[0]);
    assert_eq!(state_of(&lan, h, name("ALPHA", 0)), WinsState::Registering);
}

#[test]
fn a_refusal_is_final_and_only_for_that_name() {
    let mut lan = Lan::new();
    let h = lan.add_host(1, config(), 7);
    for (_, p) in to_wins(&mut lan) {
        let rcode = if qname(&p) == name("ALPHA", 0) {
            Rcode::ACT_ERR
        } else {
            Rcode::OK
        };
        lan.inject_to(h, from_wins(), false, &answer(&p, rcode, 600));
    }
    lan.deliver();
    assert!(wins_events(&lan, h).contains(&WinsEvent::Refused {
        server: WINS,
        name: name("ALPHA", 0),
        address: ip(1),
        rcode: Rcode::ACT_ERR,
    }));
    assert_eq!(
        state_of(&lan, h, name("ALPHA", 0)),
        WinsState::Refused {
            rcode: Rcode::ACT_ERR
        }
    );
    // An hour on: the others are refreshed; the refused name is never asked for again.
    for _ in 0..12 {
        lan.run_for(Duration::from_secs(300));
        for (_, p) in to_wins(&mut lan) {
            assert_ne!(
                qname(&p),
                name("ALPHA", 0),
                "asked again for a refused name"
            );
            lan.inject_to(h, from_wins(), false, &answer(&p, Rcode::OK, 600));
        }
        lan.deliver();
    }
    assert_eq!(
        state_of(&lan, h, name("ALPHA", 0x20)),
        WinsState::Registered { ttl: 600 }
    );
}

#[test]
fn a_wack_holds_the_retries_for_its_ttl_then_one_more_request_goes_out() {
    let mut lan = Lan::new();
    let h = lan.add_host(1, config(), 7);
    let p = &of_alpha(&to_wins(&mut lan))[0];
    let wack = NameServicePacket::wack(
        p.trn_id,
        p.questions[0].name.clone(),
        30,
        p.header().flags_word(),
    );
    let d = lan.inject_to(h, from_wins(), false, &wack.to_vec().unwrap());
    assert_eq!(d, Disposition::Handled);
    lan.run_for(Duration::from_secs(30) - Duration::from_millis(1));
    let during = of_alpha(&to_wins(&mut lan));
    assert!(during.is_empty(), "no retry while the server checks");
    lan.run_for(Duration::from_millis(1));
    let after = of_alpha(&to_wins(&mut lan));
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].trn_id, p.trn_id, "the same request");
    lan.inject_to(h, from_wins(), false, &answer(&after[0], Rcode::OK, 600));
    lan.deliver();
    assert_eq!(
        state_of(&lan, h, name("ALPHA", 0)),
        WinsState::Registered { ttl: 600 }
    );
}

#[test]
fn only_the_server_with_a_request_in_flight_is_heard() {
    let mut lan = Lan::new();
    let h = lan.add_host(1, config(), 7);
    let p = &of_alpha(&to_wins(&mut lan))[0];
    // Another host on the LAN with the right ID: not the server.
    let d = lan.inject_to(
        h,
        SocketAddrV4::new(ip(9), 137),
        false,
        &answer(p, Rcode::OK, 600),
    );
    assert!(matches!(d, Disposition::Ignored(_)), "{d:?}");
    // A host on the server's subnet that is not the server: off-subnet, dropped.
    let d = lan.inject_to(
        h,
        SocketAddrV4::new(Ipv4Addr::new(198, 19, 0, 2), 137),
        false,
        &answer(p, Rcode::OK, 600),
    );
    assert_eq!(
        d,
        Disposition::Ignored("source outside the interface's subnet")
    );
    // The server with another ID, or for another name.
    let mut wrong = parse(&answer(p, Rcode::OK, 600));
    wrong.trn_id = p.trn_id.wrapping_add(100);
    let d = lan.inject_to(h, from_wins(), false, &wrong.to_vec().unwrap());
    assert!(matches!(d, Disposition::Ignored(_)), "{d:?}");
    let mut other = parse(&answer(p, Rcode::OK, 600));
    other.answers[0].name =
        nbt_protocol::wire::ns::RrName::Netbios(ScopedName::unscoped(name("BRAVO", 0)));
    let d = lan.inject_to(h, from_wins(), false, &other.to_vec().unwrap());
    assert!(matches!(d, Disposition::Ignored(_)), "{d:?}");
    lan.deliver();
    assert!(wins_events(&lan, h).is_empty());
    assert_eq!(state_of(&lan, h, name("ALPHA", 0)), WinsState::Registering);
}

#[test]
fn a_refresh_without_answer_starts_the_registration_over() {
    let mut lan = Lan::new();
    let h = lan.add_host(1, config(), 7);
    for (_, p) in to_wins(&mut lan) {
        lan.inject_to(h, from_wins(), false, &answer(&p, Rcode::OK, 600));
    }
    lan.deliver();
    lan.run_for(Duration::from_secs(300));
    let refreshes = to_wins(&mut lan);
    assert!(
        refreshes
            .iter()
            .all(|(_, p)| p.kind() == PacketKind::NameRefreshRequest)
    );
    // Unanswered: two more tries, then a registration, all within 15 s.
    lan.run_for(Duration::from_secs(15));
    let kinds: Vec<PacketKind> = of_alpha(&to_wins(&mut lan))
        .iter()
        .map(|p| p.kind())
        .collect();
    assert_eq!(
        kinds,
        [
            PacketKind::NameRefreshRequest,
            PacketKind::NameRefreshRequest,
            PacketKind::NameRegistrationRequest
        ]
    );
    assert_eq!(state_of(&lan, h, name("ALPHA", 0)), WinsState::Registering);
}

#[test]
fn shutdown_releases_the_granted_names_with_the_server() {
    let mut lan = Lan::new();
    let h = lan.add_host(1, config(), 7);
    for (_, p) in to_wins(&mut lan) {
        if qname(&p) != name("ALPHA", 3) {
            lan.inject_to(h, from_wins(), false, &answer(&p, Rcode::OK, 600));
        }
    }
    lan.deliver();
    let now = lan.now;
    lan.hosts[h].engine.shutdown(now);
    lan.deliver();
    let rel = to_wins(&mut lan);
    let names = config().names();
    assert_eq!(rel.len(), names.len() - 1, "not the name never granted");
    for (_, p) in &rel {
        assert_eq!(p.kind(), PacketKind::NameReleaseRequest);
        assert!(!p.flags.contains(NmFlags::BROADCAST));
        assert_ne!(qname(p), name("ALPHA", 3));
        assert_eq!(p.additional[0].nb_addresses().unwrap()[0].addr, ip(1));
    }
    assert!(wins_events(&lan, h).contains(&WinsEvent::Released {
        server: WINS,
        names: names.len() - 1,
        address: ip(1),
    }));
    // And nothing more goes there.
    lan.run_for(Duration::from_secs(3600));
    assert!(to_wins(&mut lan).is_empty());
}

fn iface(id: u32, a: [u8; 4]) -> IfaceAddr {
    IfaceAddr {
        id: IfaceId(id),
        addr: Ipv4Addr::from(a),
        netmask: Ipv4Addr::new(255, 255, 255, 0),
        broadcast: Ipv4Addr::new(a[0], a[1], a[2], 255),
        mac: [2, 0, 0, 0, 0, id as u8],
    }
}

/// The registration requests an engine queued, with the interface each goes from.
fn drain(e: &mut NameEngine) -> Vec<(IfaceId, NameServicePacket)> {
    std::iter::from_fn(|| e.poll_transmit())
        .filter(|t| t.dst == SocketAddrV4::new(WINS, 137))
        .map(|t| (t.iface, parse(&t.payload)))
        .collect()
}

#[test]
fn the_address_on_the_servers_subnet_is_registered_and_a_change_moves_the_names() {
    let t0 = std::time::Instant::now();
    let mut e = NameEngine::new(config(), Rng::new(3));
    e.add_interface(t0, iface(1, [198, 18, 0, 1]));
    let first = drain(&mut e);
    assert!(
        first
            .iter()
            .all(|(i, p)| *i == IfaceId(1)
                && p.additional[0].nb_addresses().unwrap()[0].addr == ip(1)),
        "the only interface"
    );
    for (_, p) in &first {
        e.handle_datagram(
            t0,
            IfaceId(1),
            from_wins(),
            false,
            &answer(p, Rcode::OK, 600),
        );
    }
    // An interface on the server's subnet appears: the names are released for the old address
    // (still up) and registered for the new one, from the new interface.
    e.add_interface(t0, iface(2, [198, 19, 0, 7]));
    let moved = drain(&mut e);
    let (rel, reg): (Vec<_>, Vec<_>) = moved
        .iter()
        .partition(|(_, p)| p.kind() == PacketKind::NameReleaseRequest);
    assert_eq!(rel.len(), config().names().len());
    assert!(
        rel.iter()
            .all(|(_, p)| p.additional[0].nb_addresses().unwrap()[0].addr == ip(1))
    );
    assert_eq!(reg.len(), config().names().len());
    assert!(reg.iter().all(|(i, p)| *i == IfaceId(2)
        && p.kind() == PacketKind::NameRegistrationRequest
        && p.additional[0].nb_addresses().unwrap()[0].addr == Ipv4Addr::new(198, 19, 0, 7)));
    assert_eq!(
        e.wins_status().unwrap().address,
        Some(Ipv4Addr::new(198, 19, 0, 7))
    );
    // That interface goes away without warning: no release (its address is gone), the names
    // go back to the first one.
    e.remove_interface(t0, IfaceId(2), false);
    let back = drain(&mut e);
    assert!(
        back.iter()
            .all(|(i, p)| *i == IfaceId(1) && p.kind() == PacketKind::NameRegistrationRequest)
    );
    assert_eq!(back.len(), config().names().len());
    // No interface left: nothing to register with, nothing due.
    e.remove_interface(t0, IfaceId(1), false);
    assert!(drain(&mut e).is_empty());
    assert_eq!(e.wins_status().unwrap().address, None);
    assert_eq!(e.poll_timeout(), None);
}

#[test]
fn without_a_server_nothing_is_sent_by_unicast() {
    let mut lan = Lan::new();
    let h = lan.add_host(1, NameConfig::new(name("ALPHA", 0), name("LABWG", 0)), 7);
    lan.run_for(Duration::from_secs(3600));
    assert!(lan.hosts[h].engine.wins_status().is_none());
    assert!(lan.take_outside().is_empty());
}

fn two_servers() -> NameConfig {
    let mut c = config();
    c.wins_servers = vec![WINS, WINS2];
    c
}

#[test]
fn a_silent_server_hands_every_name_to_the_next_one() {
    let mut lan = Lan::new();
    let h = lan.add_host(1, two_servers(), 7);
    let n = config().names().len();
    lan.run_for(Duration::from_secs(15) - Duration::from_millis(1));
    let first = to_servers(&mut lan);
    assert_eq!(first.len(), 3 * n);
    assert!(
        first.iter().all(|(s, _)| *s == WINS),
        "the first server first"
    );
    lan.run_for(Duration::from_millis(1));
    let second = to_servers(&mut lan);
    assert_eq!(second.len(), n, "every name at once");
    assert!(
        second
            .iter()
            .all(|(s, p)| *s == WINS2 && p.kind() == PacketKind::NameRegistrationRequest)
    );
    assert_eq!(
        wins_events(&lan, h),
        [WinsEvent::Switched {
            from: WINS,
            to: WINS2
        }]
    );
    assert_eq!(lan.hosts[h].engine.wins_status().unwrap().server, WINS2);
    // The first server's answers no longer count; the second's do.
    let late = answer(&first[0].1, Rcode::OK, 600);
    let d = lan.inject_to(h, from_wins(), false, &late);
    assert!(matches!(d, Disposition::Ignored(_)), "{d:?}");
    for (_, p) in &second {
        let d = lan.inject_to(
            h,
            SocketAddrV4::new(WINS2, 137),
            false,
            &answer(p, Rcode::OK, 600),
        );
        assert_eq!(d, Disposition::Handled);
    }
    lan.deliver();
    assert_eq!(
        state_of(&lan, h, name("ALPHA", 0)),
        WinsState::Registered { ttl: 600 }
    );
    // It stays with the second: the refreshes go there.
    lan.run_for(Duration::from_secs(300));
    let refreshes = to_servers(&mut lan);
    assert_eq!(refreshes.len(), n);
    assert!(
        refreshes
            .iter()
            .all(|(s, p)| *s == WINS2 && p.kind() == PacketKind::NameRefreshRequest)
    );
    // The second goes silent on the refreshes: back to the first, which has had its rest.
    lan.run_for(Duration::from_secs(15));
    let back: Vec<_> = to_servers(&mut lan)
        .into_iter()
        .filter(|(s, _)| *s == WINS)
        .collect();
    assert_eq!(back.len(), n);
    assert!(
        back.iter()
            .all(|(_, p)| p.kind() == PacketKind::NameRegistrationRequest)
    );
}

#[test]
fn when_no_server_answers_the_next_round_starts_with_the_first() {
    let mut lan = Lan::new();
    let h = lan.add_host(1, two_servers(), 7);
    let n = config().names().len();
    lan.run_for(Duration::from_secs(60));
    let sent = to_servers(&mut lan);
    assert_eq!(sent.iter().filter(|(s, _)| *s == WINS).count(), 3 * n);
    assert_eq!(sent.iter().filter(|(s, _)| *s == WINS2).count(), 3 * n);
    assert_eq!(
        wins_events(&lan, h),
        [
            WinsEvent::Switched {
                from: WINS,
                to: WINS2
            },
            WinsEvent::NoAnswer {
                names: n,
                retry: WINS_RETRY
            }
        ]
    );
    assert_eq!(lan.hosts[h].engine.wins_status().unwrap().server, WINS);
    lan.run_until(lan.start + Duration::from_secs(30) + WINS_RETRY);
    let again = to_servers(&mut lan);
    assert_eq!(again.len(), n);
    assert!(again.iter().all(|(s, _)| *s == WINS));
}
