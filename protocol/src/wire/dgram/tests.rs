use super::*;
use crate::error::ErrorKind;
use crate::name::{NetbiosName, Scope};
use proptest::prelude::*;

fn samba_header() -> DatagramHeader {
    DatagramHeader {
        flags: DatagramFlags::new(SourceNodeType::MNode, true, false),
        dgm_id: 0x62db,
        source_ip: Ipv4Addr::new(198, 18, 0, 1),
        source_port: 138,
    }
}

fn election() -> DirectDatagram {
    DirectDatagram {
        msg_type: DirectType::DirectGroup,
        header: samba_header(),
        packet_offset: 0,
        source_name: NetbiosName::new("ALPHA", 0x00).unwrap().into(),
        destination_name: NetbiosName::new("LABWG", 0x1E).unwrap().into(),
        user_data: vec![0xAB; 4],
    }
}

#[test]
fn header_bytes_as_samba_writes_them() {
    let b = election().to_vec().unwrap();
    // MSG_TYPE 0x11, FLAGS 0x0a (F + M node), DGM_ID, 198.18.0.1, port 138, DGM_LENGTH
    // 34 + 34 + 4 = 72, PACKET_OFFSET 0.
    assert_eq!(
        &b[..14],
        &[
            0x11, 0x0a, 0x62, 0xdb, 198, 18, 0, 1, 0x00, 0x8a, 0x00, 72, 0x00, 0x00
        ]
    );
    assert_eq!(b.len(), 14 + 72);
    assert_eq!(&b[14..16], b" E");
    assert_eq!(DirectDatagram::parse(&b).unwrap(), election());
    assert_eq!(Datagram::parse(&b).unwrap(), Datagram::Direct(election()));
}

#[test]
fn flags_accessors() {
    let f = DatagramFlags::from_bits_retain(0x0a);
    assert_eq!(f.node_type(), SourceNodeType::MNode);
    assert!(f.is_first() && !f.is_more() && f.is_unfragmented());
    let f = DatagramFlags::from_bits_retain(0x02);
    assert_eq!(f.node_type(), SourceNodeType::BNode);
    let f = DatagramFlags::from_bits_retain(0x1d);
    assert_eq!(f.node_type(), SourceNodeType::Nbdd);
    assert!(f.is_more() && !f.is_first());
    assert_eq!(f.with_node_type(SourceNodeType::PNode).bits(), 0x15);
    assert_eq!(
        DatagramFlags::new(SourceNodeType::PNode, false, true).bits(),
        0x05
    );
}

#[test]
fn reserved_flag_bits_round_trip() {
    let mut d = election();
    d.header.flags = DatagramFlags::from_bits_retain(0xfa);
    let b = d.to_vec().unwrap();
    assert_eq!(b[1], 0xfa);
    assert_eq!(DirectDatagram::parse(&b).unwrap(), d);
}

#[test]
fn dgm_length_is_not_trusted() {
    let good = election().to_vec().unwrap();
    for wrong in [0u16, 1, 71, 73, 0xFFFF] {
        let mut b = good.clone();
        b[10..12].copy_from_slice(&wrong.to_be_bytes());
        let d = DirectDatagram::parse(&b).unwrap();
        assert_eq!(d.user_data, vec![0xAB; 4], "DGM_LENGTH {wrong}");
        assert_eq!(d.to_vec().unwrap(), good, "emits the corrected length");
    }
}

#[test]
fn empty_user_data_and_scopes() {
    let mut d = election();
    d.user_data.clear();
    d.source_name.scope = Scope::new("corp.example").unwrap();
    let b = d.to_vec().unwrap();
    assert_eq!(u16::from_be_bytes([b[10], b[11]]) as usize, b.len() - 14);
    assert_eq!(DirectDatagram::parse(&b).unwrap(), d);
}

#[test]
fn truncated_and_bad_packets() {
    let b = election().to_vec().unwrap();
    let e = DirectDatagram::parse(&b[..13]).unwrap_err();
    assert_eq!((e.field, e.offset), ("PACKET_OFFSET", 12));
    let e = DirectDatagram::parse(&b[..40]).unwrap_err();
    assert_eq!((e.field, e.offset), ("SOURCE_NAME", 15));
    let e = DirectDatagram::parse(&b[..60]).unwrap_err();
    assert_eq!((e.field, e.offset), ("DESTINATION_NAME", 49));
    let e = Datagram::parse(&[]).unwrap_err();
    assert_eq!((e.field, e.offset), ("MSG_TYPE", 0));
    let e = Datagram::parse(&[0x17, 0, 0, 0]).unwrap_err();
    assert_eq!((e.field, e.offset), ("MSG_TYPE", 0));
    let e = DirectDatagram::parse(&[0x13]).unwrap_err();
    assert_eq!(e.field, "MSG_TYPE");
    // A label pointer where the datagram service requires a full name.
    let mut p = b[..14].to_vec();
    p.extend_from_slice(&[0xC0, 0x0C]);
    let e = DirectDatagram::parse(&p).unwrap_err();
    assert_eq!((e.field, e.offset), ("SOURCE_NAME", 14));
    assert!(matches!(e.kind, ErrorKind::Malformed(_)));
}

#[test]
fn error_packet_golden() {
    let e = DatagramErrorPacket {
        header: samba_header(),
        error_code: DatagramErrorCode::DestinationNameNotPresent,
    };
    let b = e.to_vec().unwrap();
    assert_eq!(b, [0x13, 0x0a, 0x62, 0xdb, 198, 18, 0, 1, 0x00, 0x8a, 0x82]);
    assert_eq!(DatagramErrorPacket::parse(&b).unwrap(), e);
    assert_eq!(Datagram::parse(&b).unwrap(), Datagram::Error(e));
    let mut long = b.clone();
    long.push(0);
    let err = DatagramErrorPacket::parse(&long).unwrap_err();
    assert_eq!((err.field, err.offset), ("ERROR_CODE", 11));
    let err = DatagramErrorPacket::parse(&b[..10]).unwrap_err();
    assert_eq!((err.field, err.offset), ("ERROR_CODE", 10));
    for (c, v) in [
        (0x83, DatagramErrorCode::InvalidSourceNameFormat),
        (0x84, DatagramErrorCode::InvalidDestinationNameFormat),
        (0x99, DatagramErrorCode::Unknown(0x99)),
    ] {
        assert_eq!(DatagramErrorCode::from_u8(c), v);
        assert_eq!(v.to_u8(), c);
    }
}

#[test]
fn query_golden() {
    let q = DatagramQuery {
        msg_type: QueryType::Request,
        header: samba_header(),
        destination_name: NetbiosName::new("LABWG", 0x1D).unwrap().into(),
    };
    let b = q.to_vec().unwrap();
    assert_eq!(b.len(), 10 + 34);
    assert_eq!(b[0], 0x14);
    assert_eq!(&b[10..12], b" E");
    assert_eq!(DatagramQuery::parse(&b).unwrap(), q);
    let mut trailing = b.clone();
    trailing.push(1);
    assert_eq!(
        DatagramQuery::parse(&trailing).unwrap_err().field,
        "DESTINATION_NAME"
    );
}

#[test]
fn emit_rejects_oversized_user_data() {
    let mut d = election();
    d.user_data = vec![0; 65535 - 68 + 1];
    assert!(matches!(
        d.to_vec(),
        Err(EmitError::FieldTooLarge {
            field: "DGM_LENGTH",
            ..
        })
    ));
    d.user_data.pop();
    let b = d.to_vec().unwrap();
    assert_eq!(&b[10..12], &[0xFF, 0xFF]);
}

proptest! {
    #[test]
    fn round_trip(d in strategy::datagram()) {
        let b = d.to_vec().unwrap();
        prop_assert_eq!(b.len(), d.buffer_len());
        prop_assert_eq!(b[0], d.msg_type());
        prop_assert_eq!(Datagram::parse(&b).unwrap(), d.clone());
        match d {
            Datagram::Direct(x) => prop_assert_eq!(DirectDatagram::parse(&b).unwrap(), x),
            Datagram::Error(x) => prop_assert_eq!(DatagramErrorPacket::parse(&b).unwrap(), x),
            Datagram::Query(x) => prop_assert_eq!(DatagramQuery::parse(&b).unwrap(), x),
        }
    }

    #[test]
    fn parse_never_panics(b in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Datagram::parse(&b);
        let _ = DirectDatagram::parse(&b);
        let _ = DatagramErrorPacket::parse(&b);
        let _ = DatagramQuery::parse(&b);
    }

    #[test]
    fn parse_never_panics_on_plausible_packets(
        d in strategy::direct(),
        cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
        x in any::<u8>(),
    ) {
        let mut b = d.to_vec().unwrap();
        let i = flip.index(b.len());
        b[i] ^= x;
        b.truncate(cut.index(b.len() + 1));
        let _ = Datagram::parse(&b);
    }
}
