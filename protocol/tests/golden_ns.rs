//! Golden tests: every name service packet captured from Samba 4.17 peers parses to the field
//! values the capture shows (cross-checked with the tshark decodes) and emits back to the very
//! same bytes.

mod common;

use std::net::Ipv4Addr;

use nbt_protocol::name::{NetbiosName, ScopedName};
use nbt_protocol::wire::Emit;
use nbt_protocol::wire::ns::{
    NameFlags, NameServicePacket, NbAddress, NbFlags, NmFlags, NodeType, Opcode, PacketKind, Rcode,
    Rdata, RrName, RrType, Statistics,
};

/// Samba's `max ttl`: the TTL it gives its own names in answers (3 days).
const SAMBA_TTL: u32 = 259_200;

fn n(s: &str, sfx: u8) -> ScopedName {
    ScopedName::unscoped(NetbiosName::new(s, sfx).unwrap())
}

fn msbrowse() -> ScopedName {
    ScopedName::unscoped(NetbiosName::MSBROWSE)
}

/// Parses every port-137 datagram of a capture, checks the byte-exact round trip, and returns
/// the packets with their source and destination.
fn packets(file: &str) -> Vec<(common::Udp, NameServicePacket)> {
    let v: Vec<_> = common::udp(file)
        .into_iter()
        .filter(|u| u.src.port() == 137 || u.dst.port() == 137)
        .map(|u| {
            let p = NameServicePacket::parse(&u.payload)
                .unwrap_or_else(|e| panic!("{file}: {e}: {:02x?}", u.payload));
            assert_eq!(
                p.to_vec().unwrap(),
                u.payload,
                "{file}: round trip of {p:?}"
            );
            assert_eq!(p.buffer_len(), u.payload.len());
            (u, p)
        })
        .collect();
    assert!(!v.is_empty(), "{file}: no name service packet");
    v
}

fn nb(rdata: &Rdata) -> &[NbAddress] {
    match rdata {
        Rdata::Nb(v) => v,
        other => panic!("not NB: {other:?}"),
    }
}

fn answer_name(p: &NameServicePacket) -> &ScopedName {
    p.answers[0].name.netbios().expect("NetBIOS answer name")
}

/// A positive answer as Samba sends it: flags 0x8580, one NB record with its `max ttl`.
fn check_positive(
    p: &NameServicePacket,
    trn_id: u16,
    name: &ScopedName,
    flags: NbFlags,
    ip: [u8; 4],
) {
    assert_eq!(p.kind(), PacketKind::PositiveNameQueryResponse);
    assert_eq!(p.trn_id, trn_id);
    assert_eq!(
        p.header().flags_word(),
        0x8580,
        "R AA RD RA even when RD was clear"
    );
    assert_eq!(answer_name(p), name);
    assert_eq!(p.answers[0].ttl, SAMBA_TTL);
    assert_eq!(
        nb(&p.answers[0].rdata),
        &[NbAddress {
            flags,
            addr: Ipv4Addr::from(ip)
        }]
    );
}

#[test]
fn name_query_unicast() {
    let v = packets("name-query-unicast.pcapng");
    assert_eq!(v.len(), 2);
    let (u, q) = &v[0];
    assert_eq!(q.kind(), PacketKind::NameQueryRequest);
    assert_eq!(
        q.header().flags_word(),
        0x0000,
        "nmblookup -U sends RD clear"
    );
    assert_eq!(q.questions[0].name, n("ALPHA", 0x00));
    assert_eq!(q.questions[0].qtype, RrType::NB);
    assert_eq!(
        *q,
        NameServicePacket::name_query(0x3627, n("ALPHA", 0), false)
    );
    let (r, a) = &v[1];
    assert_eq!(r.dst, u.src, "the answer goes to the query's source port");
    check_positive(a, 0x3627, &n("ALPHA", 0), NbFlags::empty(), [198, 18, 0, 1]);
    let built = NameServicePacket::positive_query_response(
        0x3627,
        n("ALPHA", 0),
        SAMBA_TTL,
        vec![NbAddress::b_node(Ipv4Addr::new(198, 18, 0, 1), false)],
    );
    assert_eq!(
        built.to_vec().unwrap(),
        r.payload,
        "our constructor matches Samba's bytes"
    );
}

#[test]
fn name_query_broadcast_unique() {
    let v = packets("name-query-bcast-unique.pcapng");
    assert_eq!(v.len(), 3, "one query and nmbd's two identical answers");
    let q = &v[0].1;
    assert_eq!(q.header().flags_word(), 0x0110, "RD and B");
    assert_eq!(
        *q,
        NameServicePacket::name_query(0x62f7, n("LABWG", 0x1D), true)
    );
    assert_eq!(v[0].0.dst.ip(), &Ipv4Addr::new(198, 18, 0, 255));
    for (_, a) in &v[1..] {
        check_positive(
            a,
            0x62f7,
            &n("LABWG", 0x1D),
            NbFlags::empty(),
            [198, 18, 0, 2],
        );
    }
    assert_eq!(
        v[1].0.payload, v[2].0.payload,
        "nmbd answers a broadcast twice"
    );
}

#[test]
fn name_query_broadcast_group() {
    let v = packets("name-query-bcast-group.pcapng");
    assert_eq!(
        v[0].1,
        NameServicePacket::name_query(0x795b, msbrowse(), true)
    );
    for (_, a) in &v[1..] {
        check_positive(a, 0x795b, &msbrowse(), NbFlags::GROUP, [198, 18, 0, 2]);
        assert!(nb(&a.answers[0].rdata)[0].flags.is_group());
    }
}

#[test]
fn name_query_negative() {
    let v = packets("name-query-negative.pcapng");
    assert_eq!(
        v[0].1,
        NameServicePacket::name_query(0x64cd, n("NOSUCHNAME", 0), false)
    );
    let a = &v[1].1;
    assert_eq!(a.kind(), PacketKind::NegativeNameQueryResponse);
    assert_eq!(a.rcode, Rcode::NAM_ERR);
    assert_eq!(a.header().flags_word(), 0x8583);
    assert_eq!(a.answers[0].rr_type, RrType::NULL);
    assert_eq!(a.answers[0].ttl, 0);
    assert_eq!(a.answers[0].rdata, Rdata::Raw(vec![]));
    let built =
        NameServicePacket::negative_query_response(0x64cd, n("NOSUCHNAME", 0), Rcode::NAM_ERR);
    assert_eq!(built.to_vec().unwrap(), v[1].0.payload);
}

/// Registrations as Samba sends them: B and RD, TTL 0, the additional record as `C0 0C`.
fn check_registrations(file: &str, expected: &[(ScopedName, bool)]) {
    let v = packets(file);
    let mut seen = Vec::new();
    for (u, p) in &v {
        assert_eq!(p.kind(), PacketKind::NameRegistrationRequest, "{file}");
        assert_eq!(p.header().flags_word(), 0x2910, "opcode 5, RD, B");
        assert_eq!(u.dst.ip(), &Ipv4Addr::new(198, 18, 0, 255));
        assert_eq!(
            &u.payload[50..52],
            &[0xC0, 0x0C],
            "question pointer in the additional record"
        );
        let ar = &p.additional[0];
        assert_eq!(ar.name, RrName::Netbios(p.questions[0].name.clone()));
        assert_eq!(ar.ttl, 0);
        let addrs = nb(&ar.rdata);
        assert_eq!(addrs.len(), 1);
        assert_eq!(addrs[0].flags.node_type(), NodeType::B);
        let rebuilt = NameServicePacket::registration_request(
            p.trn_id,
            p.questions[0].name.clone(),
            0,
            addrs[0],
            true,
        );
        assert_eq!(
            rebuilt.to_vec().unwrap(),
            u.payload,
            "our constructor matches Samba's bytes"
        );
        let entry = (p.questions[0].name.clone(), addrs[0].flags.is_group());
        if !seen.contains(&entry) {
            seen.push(entry);
        }
    }
    assert_eq!(seen, expected, "{file}");
}

#[test]
fn name_registration() {
    check_registrations(
        "name-registration.pcapng",
        &[
            (n("ALPHA", 0x20), false),
            (n("ALPHA", 0x03), false),
            (n("ALPHA", 0x00), false),
            (n("LABWG", 0x00), true),
            (n("LABWG", 0x1E), true),
        ],
    );
}

#[test]
fn name_registration_lmb() {
    check_registrations(
        "name-registration-lmb.pcapng",
        &[(msbrowse(), true), (n("LABWG", 0x1D), false)],
    );
}

#[test]
fn name_release() {
    let v = packets("name-release.pcapng");
    let names: Vec<_> = v.iter().map(|(_, p)| p.questions[0].name.clone()).collect();
    assert_eq!(names, [n("LABWG", 0x1D), msbrowse()]);
    for (u, p) in &v {
        assert_eq!(p.kind(), PacketKind::NameReleaseRequest);
        assert_eq!(p.opcode, Opcode::Release);
        assert_eq!(p.header().flags_word(), 0x3010, "opcode 6, B; RD clear");
        let addr = nb(&p.additional[0].rdata)[0];
        // Samba leaves RD clear in its releases, as our constructor does.
        let built =
            NameServicePacket::release_request(p.trn_id, p.questions[0].name.clone(), addr, true);
        assert_eq!(built.to_vec().unwrap(), u.payload);
    }
}

#[test]
fn node_status() {
    let v = packets("node-status.pcapng");
    let q = &v[0].1;
    assert_eq!(q.kind(), PacketKind::NodeStatusRequest);
    assert_eq!(
        *q,
        NameServicePacket::node_status_request(0x5f92, n("BRAVO", 0))
    );
    let a = &v[1].1;
    assert_eq!(a.kind(), PacketKind::NodeStatusResponse);
    assert_eq!(a.header().flags_word(), 0x8400, "R and AA only");
    assert_eq!(a.answers[0].rr_type, RrType::NBSTAT);
    assert_eq!(a.answers[0].ttl, 0);
    let st = a.answers[0].node_status().unwrap();
    let act = NameFlags::ACTIVE;
    let grp = NameFlags::ACTIVE | NameFlags::GROUP;
    let expected = [
        (NetbiosName::new("BRAVO", 0x00).unwrap(), act),
        (NetbiosName::new("BRAVO", 0x03).unwrap(), act),
        (NetbiosName::new("BRAVO", 0x20).unwrap(), act),
        (NetbiosName::MSBROWSE, grp),
        (NetbiosName::new("LABWG", 0x00).unwrap(), grp),
        (NetbiosName::new("LABWG", 0x1D).unwrap(), act),
        (NetbiosName::new("LABWG", 0x1E).unwrap(), grp),
    ];
    let got: Vec<_> = st.names.iter().map(|e| (e.name, e.flags)).collect();
    assert_eq!(got, expected);
    assert_eq!(
        st.statistics,
        Statistics::default(),
        "Samba zeroes the statistics, MAC included"
    );
    assert_eq!(a.answers[0].rdata.wire_len(), 173, "18 × 7 + 47");
    let built = NameServicePacket::node_status_response(0x5f92, n("BRAVO", 0), st.clone());
    assert_eq!(built.to_vec().unwrap(), v[1].0.payload);
    assert!(NmFlags::AUTHORITATIVE == a.flags);
}
