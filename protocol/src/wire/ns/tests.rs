use std::net::Ipv4Addr;

use proptest::prelude::*;

use super::*;
use crate::error::ErrorKind;
use crate::name::{NetbiosName, strategy};

fn name(s: &str, sfx: u8) -> ScopedName {
    ScopedName::unscoped(NetbiosName::new(s, sfx).unwrap())
}

fn hex(s: &str) -> Vec<u8> {
    let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    s.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// The worked example of the reference: broadcast query for WORKGROUP<1D>, id 0xABCD.
const WORKGROUP_1D_QUERY: &str = "
    ab cd 01 10 00 01 00 00 00 00 00 00 20 46 48 45
    50 46 43 45 4c 45 48 46 43 45 50 46 46 46 41 43
    41 43 41 43 41 43 41 43 41 43 41 42 4e 00 00 20
    00 01";

#[test]
fn worked_broadcast_query() {
    let bytes = hex(WORKGROUP_1D_QUERY);
    assert_eq!(bytes.len(), 50);
    let p = NameServicePacket::parse(&bytes).unwrap();
    assert_eq!(
        p,
        NameServicePacket::name_query(0xABCD, name("WORKGROUP", 0x1D), true)
    );
    assert_eq!(p.kind(), PacketKind::NameQueryRequest);
    assert_eq!(p.to_vec().unwrap(), bytes);
}

#[test]
fn registration_uses_the_question_pointer() {
    let nb = NbAddress::b_node(Ipv4Addr::new(198, 18, 0, 1), false);
    let p = NameServicePacket::registration_request(0x62d4, name("ALPHA", 0x20), 0, nb, true);
    let b = p.to_vec().unwrap();
    assert_eq!(b.len(), 68);
    assert_eq!(&b[50..52], &[0xC0, 0x0C]);
    assert_eq!(&b[2..4], &[0x29, 0x10], "opcode 5, RD, B");
    assert_eq!(NameServicePacket::parse(&b).unwrap(), p);
    assert_eq!(p.kind(), PacketKind::NameRegistrationRequest);
}

#[test]
fn kinds_of_every_constructor() {
    let n = name("HOST", 0x20);
    let nb = NbAddress::b_node(Ipv4Addr::new(198, 18, 0, 9), false);
    let cases = [
        (
            NameServicePacket::node_status_request(1, ScopedName::unscoped(NetbiosName::WILDCARD)),
            PacketKind::NodeStatusRequest,
        ),
        (
            NameServicePacket::overwrite_demand(1, n.clone(), 0, nb),
            PacketKind::NameOverwriteDemand,
        ),
        (
            NameServicePacket::refresh_request(1, n.clone(), 300, nb, false),
            PacketKind::NameRefreshRequest,
        ),
        (
            NameServicePacket::release_request(1, n.clone(), nb, true),
            PacketKind::NameReleaseRequest,
        ),
        (
            NameServicePacket::positive_query_response(1, n.clone(), 0, vec![nb]),
            PacketKind::PositiveNameQueryResponse,
        ),
        (
            NameServicePacket::negative_query_response(1, n.clone(), Rcode::NAM_ERR),
            PacketKind::NegativeNameQueryResponse,
        ),
        (
            NameServicePacket::redirect_query_response(
                1,
                n.clone(),
                DomainName(b"wins.example".to_vec()),
                Ipv4Addr::new(198, 18, 0, 3),
            ),
            PacketKind::RedirectNameQueryResponse,
        ),
        (
            NameServicePacket::node_status_response(1, n.clone(), NodeStatus::default()),
            PacketKind::NodeStatusResponse,
        ),
        (
            NameServicePacket::positive_registration_response(1, n.clone(), 0, nb),
            PacketKind::PositiveNameRegistrationResponse,
        ),
        (
            NameServicePacket::negative_registration_response(1, n.clone(), Rcode::ACT_ERR, 0, nb),
            PacketKind::NegativeNameRegistrationResponse,
        ),
        (
            NameServicePacket::conflict_demand(1, n.clone(), nb),
            PacketKind::NameConflictDemand,
        ),
        (
            NameServicePacket::release_response(1, n.clone(), Rcode::OK, nb),
            PacketKind::PositiveNameReleaseResponse,
        ),
        (
            NameServicePacket::release_response(1, n.clone(), Rcode::ACT_ERR, nb),
            PacketKind::NegativeNameReleaseResponse,
        ),
        (
            NameServicePacket::wack(1, n.clone(), 5, 0x2910),
            PacketKind::WaitForAcknowledgement,
        ),
    ];
    for (p, k) in cases {
        assert_eq!(p.kind(), k, "{p:?}");
        let b = p.to_vec().unwrap();
        assert_eq!(b.len(), p.buffer_len());
        let back = NameServicePacket::parse(&b).unwrap();
        assert_eq!(back, p);
        assert_eq!(back.kind(), k);
    }
}

#[test]
fn refresh_opcode_9_is_a_refresh() {
    let nb = NbAddress::b_node(Ipv4Addr::new(198, 18, 0, 9), false);
    let mut p = NameServicePacket::refresh_request(7, name("HOST", 0), 300, nb, false);
    let mut b = p.to_vec().unwrap();
    b[2] = (b[2] & 0x87) | (9 << 3);
    let q = NameServicePacket::parse(&b).unwrap();
    assert_eq!(q.opcode, Opcode::RefreshAlt);
    assert_eq!(q.kind(), PacketKind::NameRefreshRequest);
    p.opcode = Opcode::RefreshAlt;
    assert_eq!(q, p);
}

#[test]
fn end_node_challenge_has_ra_clear() {
    let nb = NbAddress::b_node(Ipv4Addr::new(198, 18, 0, 9), false);
    let mut p = NameServicePacket::positive_registration_response(1, name("HOST", 0), 0, nb);
    p.flags.remove(NmFlags::RECURSION_AVAILABLE);
    assert_eq!(p.kind(), PacketKind::EndNodeChallengeRegistrationResponse);
}

#[test]
fn unknown_opcode_is_a_specific_error() {
    let mut b = hex(WORKGROUP_1D_QUERY);
    b[2] = 3 << 3;
    let e = NameServicePacket::parse(&b).unwrap_err();
    assert_eq!(e.field, "OPCODE");
    assert_eq!(e.offset, 2);
}

#[test]
fn huge_counts_do_not_allocate_or_loop() {
    // QDCOUNT 65535 with one question's worth of bytes: a truncation error at the second one.
    let mut b = hex(WORKGROUP_1D_QUERY);
    b[4] = 0xFF;
    b[5] = 0xFF;
    let e = NameServicePacket::parse(&b).unwrap_err();
    assert_eq!(e.field, "QUESTION_NAME");
    assert_eq!(e.offset, 50);
    assert!(matches!(e.kind, ErrorKind::Truncated { .. }));
}

#[test]
fn nb_rdlength_must_be_a_multiple_of_six() {
    let nb = NbAddress::b_node(Ipv4Addr::new(1, 2, 3, 4), false);
    let p = NameServicePacket::positive_query_response(1, name("A", 0), 0, vec![nb]);
    let mut b = p.to_vec().unwrap();
    let rdlen_at = b.len() - 8;
    b[rdlen_at + 1] = 5;
    b.pop();
    let e = NameServicePacket::parse(&b).unwrap_err();
    assert_eq!(e.field, "NB RDLENGTH");
    assert_eq!(e.offset, rdlen_at);
}

#[test]
fn rdlength_past_the_end_is_truncation() {
    let p = NameServicePacket::negative_query_response(1, name("A", 0), Rcode::NAM_ERR);
    let mut b = p.to_vec().unwrap();
    let n = b.len();
    b[n - 1] = 200;
    let e = NameServicePacket::parse(&b).unwrap_err();
    assert_eq!(e.field, "RDATA");
    assert_eq!(
        e.kind,
        ErrorKind::Truncated {
            needed: 200,
            available: 0
        }
    );
}

#[test]
fn node_status_name_table_is_checked_against_rdlength() {
    let st = NodeStatus {
        names: vec![NodeName {
            name: NetbiosName::new("HOST", 0).unwrap(),
            flags: NameFlags::ACTIVE,
        }],
        statistics: Statistics::with_unit_id([1, 2, 3, 4, 5, 6]),
    };
    let p = NameServicePacket::node_status_response(9, name("HOST", 0), st);
    let mut b = p.to_vec().unwrap();
    // Claim 200 names in a record that holds one.
    let num_names_at = 12 + 34 + 10;
    b[num_names_at] = 200;
    let e = NameServicePacket::parse(&b).unwrap_err();
    assert_eq!(e.field, "NBSTAT NODE_NAME table");
    assert_eq!(e.offset, num_names_at + 1);
}

#[test]
fn short_statistics_read_as_zero() {
    let st = NodeStatus {
        names: vec![],
        statistics: Statistics::with_unit_id([0xAA; 6]),
    };
    let p = NameServicePacket::node_status_response(9, name("HOST", 0), st);
    let mut b = p.to_vec().unwrap();
    // Cut the statistics to the unit ID and fix RDLENGTH (1 + 6).
    b.truncate(b.len() - 40);
    let rdlength_at = 12 + 34 + 8;
    b[rdlength_at] = 0;
    b[rdlength_at + 1] = 7;
    let q = NameServicePacket::parse(&b).unwrap();
    assert_eq!(
        q.answers[0].node_status().unwrap().statistics.unit_id,
        [0xAA; 6]
    );
}

prop_compose! {
    fn nb_address()(flags in any::<u16>(), ip in any::<[u8; 4]>()) -> NbAddress {
        NbAddress { flags: NbFlags::from_bits_retain(flags), addr: Ipv4Addr::from(ip) }
    }
}

prop_compose! {
    fn statistics()(unit_id in any::<[u8; 6]>(), rest in any::<[u8; 40]>()) -> Statistics {
        let mut b = [0u8; 46];
        b[..6].copy_from_slice(&unit_id);
        b[6..].copy_from_slice(&rest);
        Statistics::parse(&b)
    }
}

fn node_status() -> impl Strategy<Value = NodeStatus> {
    (
        proptest::collection::vec(
            (strategy::netbios_name(), any::<u16>()).prop_map(|(name, f)| NodeName {
                name,
                flags: NameFlags::from_bits_retain(f),
            }),
            0..20,
        ),
        statistics(),
    )
        .prop_map(|(names, statistics)| NodeStatus { names, statistics })
}

fn domain_name() -> impl Strategy<Value = DomainName> {
    proptest::collection::vec("[a-z0-9-]{1,20}", 1..4)
        .prop_map(|ls| DomainName(ls.join(".").into_bytes()))
}

fn rdata(rr_type: RrType, wack: bool) -> BoxedStrategy<Rdata> {
    match rr_type {
        RrType::NB if !wack => proptest::collection::vec(nb_address(), 0..8)
            .prop_map(Rdata::Nb)
            .boxed(),
        RrType::NBSTAT => node_status().prop_map(Rdata::NodeStatus).boxed(),
        RrType::A => any::<[u8; 4]>()
            .prop_map(|a| Rdata::A(Ipv4Addr::from(a)))
            .boxed(),
        RrType::NS => domain_name().prop_map(Rdata::Ns).boxed(),
        _ => proptest::collection::vec(any::<u8>(), 0..16)
            .prop_map(Rdata::Raw)
            .boxed(),
    }
}

fn record(wack: bool) -> impl Strategy<Value = ResourceRecord> {
    let rr_type = prop_oneof![
        Just(RrType::NB),
        Just(RrType::NBSTAT),
        Just(RrType::A),
        Just(RrType::NS),
        Just(RrType::NULL),
        any::<u16>().prop_map(RrType),
    ];
    let rr_name = prop_oneof![
        4 => strategy::scoped_name().prop_map(RrName::Netbios),
        1 => domain_name().prop_map(RrName::Domain),
    ];
    (rr_type, rr_name, any::<u16>(), any::<u32>()).prop_flat_map(move |(t, name, class, ttl)| {
        rdata(t, wack).prop_map(move |rdata| ResourceRecord {
            name: name.clone(),
            rr_type: t,
            rr_class: class,
            ttl,
            rdata,
        })
    })
}

fn opcode() -> impl Strategy<Value = Opcode> {
    prop_oneof![
        Just(Opcode::Query),
        Just(Opcode::Registration),
        Just(Opcode::Release),
        Just(Opcode::Wack),
        Just(Opcode::Refresh),
        Just(Opcode::RefreshAlt),
        Just(Opcode::MultiHomedRegistration),
    ]
}

fn packet() -> impl Strategy<Value = NameServicePacket> {
    (opcode(), any::<u16>(), any::<bool>(), any::<u16>(), 0u8..16).prop_flat_map(
        |(op, id, resp, flags, rcode)| {
            let wack = op == Opcode::Wack;
            let q =
                (strategy::scoped_name(), any::<u16>(), any::<u16>()).prop_map(|(name, t, c)| {
                    Question {
                        name,
                        qtype: RrType(t),
                        qclass: c,
                    }
                });
            (
                proptest::collection::vec(q, 0..3),
                proptest::collection::vec(record(wack), 0..3),
                proptest::collection::vec(record(wack), 0..2),
                proptest::collection::vec(record(wack), 0..3),
            )
                .prop_map(move |(questions, answers, authority, additional)| {
                    NameServicePacket {
                        trn_id: id,
                        response: resp,
                        opcode: op,
                        flags: NmFlags::from_bits_retain(flags & 0x07F0),
                        rcode: Rcode::new(rcode),
                        questions,
                        answers,
                        authority,
                        additional,
                    }
                })
        },
    )
}

/// Requests whose additional record repeats the question, as every registration does.
fn registration_like() -> impl Strategy<Value = NameServicePacket> {
    (
        strategy::scoped_name(),
        any::<u16>(),
        any::<u32>(),
        nb_address(),
        any::<bool>(),
        0..4u8,
    )
        .prop_map(|(n, id, ttl, nb, bcast, which)| match which {
            0 => NameServicePacket::registration_request(id, n, ttl, nb, bcast),
            1 => NameServicePacket::refresh_request(id, n, ttl, nb, bcast),
            2 => NameServicePacket::release_request(id, n, nb, bcast),
            _ => NameServicePacket::overwrite_demand(id, n, ttl, nb),
        })
}

proptest! {
    #[test]
    fn emit_parse_round_trip(p in packet()) {
        let b = p.to_vec().unwrap();
        prop_assert_eq!(b.len(), p.buffer_len());
        prop_assert_eq!(NameServicePacket::parse(&b).unwrap(), p);
    }

    #[test]
    fn registration_round_trip_with_pointer(p in registration_like()) {
        let b = p.to_vec().unwrap();
        let ar = 12 + p.questions[0].name.wire_len() + 4;
        prop_assert_eq!(&b[ar..ar + 2], &[0xC0, 0x0C]);
        prop_assert_eq!(NameServicePacket::parse(&b).unwrap(), p);
    }

    #[test]
    fn parse_never_panics(b in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(p) = NameServicePacket::parse(&b) {
            // Whatever parses re-emits to something that parses to the same value.
            let again = p.to_vec().unwrap();
            prop_assert_eq!(NameServicePacket::parse(&again).unwrap(), p);
        }
    }

    #[test]
    fn mutated_valid_packets_never_panic(p in packet(), at in any::<prop::sample::Index>(), v in any::<u8>()) {
        let mut b = p.to_vec().unwrap();
        if !b.is_empty() {
            let i = at.index(b.len());
            b[i] = v;
        }
        if let Ok(q) = NameServicePacket::parse(&b) {
            let again = q.to_vec().unwrap();
            prop_assert_eq!(NameServicePacket::parse(&again).unwrap(), q);
        }
    }
}
