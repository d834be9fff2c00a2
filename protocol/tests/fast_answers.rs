//! The fast path's answer tables against the engine: for arbitrary engine states and packets,
//! an answer from the table is byte for byte the one the engine sends, with the same counters,
//! and whatever the table declines is left to the engine.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use nbt_protocol::engine::answers::{AnswerTable, FastAnswer};
use nbt_protocol::engine::names::{Disposition, NameConfig, NameEngine};
use nbt_protocol::engine::{IfaceAddr, IfaceId, Rng};
use nbt_protocol::name::{NetbiosName, Scope, ScopedName};
use nbt_protocol::wire::Emit;
use nbt_protocol::wire::ns::{NameServicePacket, NbAddress, Rcode};
use proptest::prelude::*;

const WG: &str = "LABWG";

fn iface(id: u32, a: [u8; 4]) -> IfaceAddr {
    IfaceAddr {
        id: IfaceId(id),
        addr: Ipv4Addr::from(a),
        netmask: Ipv4Addr::new(255, 255, 255, 0),
        broadcast: Ipv4Addr::new(a[0], a[1], a[2], 255),
        mac: [2, 0, 0, 0, 0, a[3]],
    }
}

/// How the engine is set up and what happened to it before the packet.
#[derive(Debug, Clone)]
struct Setup {
    remote_subnets: bool,
    scoped: bool,
    alias: bool,
    /// Registration steps run (4 make every name active).
    steps: u8,
    /// Indexes of registrations refused by another host before they completed.
    conflicts: Vec<usize>,
    /// Remove the second name afterwards.
    remove_one: bool,
    shutdown: bool,
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        any::<bool>(),
        prop::bool::weighted(0.2),
        any::<bool>(),
        prop_oneof![1 => 0u8..4, 3 => 4u8..6],
        prop::collection::vec(0usize..12, 0..3),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(remote_subnets, scoped, alias, steps, conflicts, remove_one, shutdown)| Setup {
                remote_subnets,
                scoped,
                alias,
                steps,
                conflicts,
                remove_one,
                shutdown,
            },
        )
}

fn scope(s: &Setup) -> Scope {
    if s.scoped {
        Scope::new("corp.example").unwrap()
    } else {
        Scope::none()
    }
}

/// An engine on two interface addresses, driven into the state `s` describes.
fn engine(s: &Setup) -> (NameEngine, Instant) {
    let mut c = NameConfig::new(
        NetbiosName::new("ALPHA", 0).unwrap(),
        NetbiosName::new(WG, 0).unwrap(),
    );
    c.answer_remote_subnets = s.remote_subnets;
    c.scope = scope(s);
    if s.alias {
        c.aliases.push(NetbiosName::new("MEDIA", 0).unwrap());
    }
    let mut e = NameEngine::new(c, Rng::new(7));
    let mut now = Instant::now();
    e.add_interface(now, iface(1, [10, 0, 0, 1]));
    e.add_interface(now, iface(2, [192, 168, 5, 1]));
    // The registrations on interface 1: name and transaction ID.
    let mut regs = Vec::new();
    while let Some(t) = e.poll_transmit() {
        if t.iface == IfaceId(1) {
            let p = NameServicePacket::parse(&t.payload).unwrap();
            regs.push((p.trn_id, p.questions[0].name.clone()));
        }
    }
    for &i in &s.conflicts {
        if let Some((trn, name)) = regs.get(i) {
            let refusal = NameServicePacket::negative_registration_response(
                *trn,
                name.clone(),
                Rcode::ACT_ERR,
                0,
                NbAddress::b_node(Ipv4Addr::new(10, 0, 0, 9), false),
            );
            let from = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 9), 137);
            e.handle_datagram(now, IfaceId(1), from, false, &refusal.to_vec().unwrap());
        }
    }
    for _ in 0..s.steps {
        now += Duration::from_millis(250);
        e.handle_timeout(now);
    }
    if s.remove_one {
        e.remove_name_on(now, IfaceId(1), NetbiosName::new("ALPHA", 0x03).unwrap());
    }
    if s.shutdown {
        e.shutdown(now);
    }
    while e.poll_transmit().is_some() {}
    while e.poll_event().is_some() {}
    (e, now)
}

/// Requests: well-formed queries and node status requests for our names and others, in any
/// case, with any flags, plus mutations (counts, trailing bytes, cuts, flipped bytes).
fn request(scoped: bool) -> impl Strategy<Value = Vec<u8>> {
    let names = prop::sample::select(vec![
        ("ALPHA", 0x00),
        ("ALPHA", 0x03),
        ("ALPHA", 0x20),
        ("alpha", 0x00),
        ("MEDIA", 0x20),
        (WG, 0x00),
        (WG, 0x1e),
        ("OTHER", 0x00),
        ("*", 0x00),
    ]);
    let mutation = prop_oneof![
        4 => Just(None),
        1 => (0usize..60, any::<u8>()).prop_map(Some),
    ];
    (
        names,
        any::<bool>(),
        any::<u16>(),
        prop_oneof![3 => Just(0x00u8), 3 => Just(0x01), 1 => Just(0x04), 1 => any::<u8>()],
        prop_oneof![3 => Just(0x00u8), 2 => Just(0x10), 1 => any::<u8>()],
        mutation,
        prop_oneof![6 => Just(Vec::new()), 1 => prop::collection::vec(any::<u8>(), 1..3)],
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            move |((name, sfx), status, trn, b2, b3, mutation, trailing, other_scope, cut)| {
                let n = if name == "*" {
                    NetbiosName::WILDCARD
                } else {
                    // Raw bytes: lower case stays lower case, as peers may send it.
                    let mut raw = [b' '; 16];
                    raw[..name.len()].copy_from_slice(name.as_bytes());
                    raw[15] = sfx;
                    NetbiosName::from_raw(raw)
                };
                let scope = match (scoped, other_scope) {
                    (true, false) => Scope::new("corp.example").unwrap(),
                    (false, true) => Scope::new("other").unwrap(),
                    _ => Scope::none(),
                };
                let q = ScopedName { name: n, scope };
                let p = if status {
                    NameServicePacket::node_status_request(trn, q)
                } else {
                    NameServicePacket::name_query(trn, q, false)
                };
                let mut b = p.to_vec().unwrap();
                b[2] = b2;
                b[3] = b3;
                if let Some((at, v)) = mutation {
                    let at = at % b.len();
                    b[at] = v;
                }
                b.extend(trailing);
                if cut {
                    b.truncate(b.len() / 2);
                }
                b
            },
        )
}

fn source() -> impl Strategy<Value = (u32, Ipv4Addr)> {
    prop_oneof![
        4 => Just((1, Ipv4Addr::new(10, 0, 0, 5))),
        1 => Just((1, Ipv4Addr::new(10, 0, 0, 1))),
        1 => Just((1, Ipv4Addr::new(192, 168, 5, 1))),
        1 => Just((1, Ipv4Addr::new(172, 16, 0, 5))),
        2 => Just((2, Ipv4Addr::new(192, 168, 5, 77))),
        1 => Just((2, Ipv4Addr::new(10, 0, 0, 5))),
    ]
}

/// Checks one packet: a fast answer must be exactly what the engine does.
fn check(e: &mut NameEngine, now: Instant, id: u32, src: SocketAddrV4, bytes: &[u8]) -> bool {
    let table: AnswerTable = e.answer_table(IfaceId(id)).unwrap();
    let mut out = [0u8; 1024];
    let fast = table.answer_into(src, bytes, &mut out);
    let before = e.counters();
    let d = e.handle_datagram(now, IfaceId(id), src, false, bytes);
    let sent: Vec<_> = std::iter::from_fn(|| e.poll_transmit()).collect();
    let events: Vec<_> = std::iter::from_fn(|| e.poll_event()).collect();
    let Some((kind, len)) = fast else {
        return false;
    };
    assert_eq!(
        d,
        Disposition::Handled,
        "the engine did not answer {bytes:02x?}"
    );
    assert_eq!(sent.len(), 1, "the engine sent {sent:?}");
    assert_eq!(sent[0].dst, src);
    assert_eq!(sent[0].iface, IfaceId(id));
    assert_eq!(sent[0].payload, out[..len], "for {bytes:02x?}");
    assert!(events.is_empty());
    // The counters the fast path reports make the engine's whole.
    let mut twin = before;
    let (q, s) = match kind {
        FastAnswer::Query => (1, 0),
        FastAnswer::NodeStatus => (0, 1),
    };
    twin.received += q + s;
    twin.positive_answers += q;
    twin.node_status_answers += s;
    twin.sent += q + s;
    assert_eq!(e.counters(), twin);
    true
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn a_fast_answer_is_the_engines_answer_byte_for_byte(
        s in setup(),
        packets in prop::collection::vec((source(), prop::bool::weighted(0.9)), 1..8),
        scoped_requests in prop::collection::vec(request(true), 8),
        plain_requests in prop::collection::vec(request(false), 8),
    ) {
        let (mut e, now) = engine(&s);
        for (i, ((id, ip), same_scope)) in packets.into_iter().enumerate() {
            let bytes = if same_scope == s.scoped { &scoped_requests[i] } else { &plain_requests[i] };
            check(&mut e, now, id, SocketAddrV4::new(ip, 137), bytes);
        }
    }

    #[test]
    fn random_bytes_are_answered_only_as_the_engine_would(
        s in setup(),
        bytes in prop::collection::vec(any::<u8>(), 0..120),
    ) {
        let (mut e, now) = engine(&s);
        check(&mut e, now, 1, SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 5), 137), &bytes);
    }
}

/// The fast path is no empty promise: once the names are active, every plain query and node
/// status request for them is answered from the table, and the tables move on with the state.
#[test]
fn plain_requests_for_active_names_are_answered_and_tables_follow_the_state() {
    let s = Setup {
        remote_subnets: false,
        scoped: false,
        alias: false,
        steps: 0,
        conflicts: Vec::new(),
        remove_one: false,
        shutdown: false,
    };
    let (mut e, mut now) = engine(&s);
    let src = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 5), 137);
    let alpha = ScopedName::unscoped(NetbiosName::new("ALPHA", 0x20).unwrap());
    let query = NameServicePacket::name_query(0x1234, alpha.clone(), false)
        .to_vec()
        .unwrap();
    let status = NameServicePacket::node_status_request(0x4321, alpha)
        .to_vec()
        .unwrap();
    let wildcard =
        NameServicePacket::node_status_request(9, ScopedName::unscoped(NetbiosName::WILDCARD))
            .to_vec()
            .unwrap();
    // Still registering: nothing for the names, node status for `*` only.
    let g0 = e.answers_generation();
    assert!(!check(&mut e, now, 1, src, &query));
    assert!(!check(&mut e, now, 1, src, &status));
    assert!(check(&mut e, now, 1, src, &wildcard));
    for _ in 0..4 {
        now += Duration::from_millis(250);
        e.handle_timeout(now);
    }
    while e.poll_transmit().is_some() {}
    while e.poll_event().is_some() {}
    assert_ne!(e.answers_generation(), g0);
    assert!(check(&mut e, now, 1, src, &query));
    assert!(check(&mut e, now, 1, src, &status));
    assert!(check(&mut e, now, 1, src, &wildcard));
    // Answers and the generation stand still while nothing changes.
    let g1 = e.answers_generation();
    assert!(check(&mut e, now, 1, src, &query));
    assert_eq!(e.answers_generation(), g1);
    e.shutdown(now);
    assert_ne!(e.answers_generation(), g1);
    assert!(e.answer_table(IfaceId(1)).unwrap().is_empty());
}
