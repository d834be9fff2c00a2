use super::*;
use crate::error::ErrorKind;
use crate::name::NetbiosName;
use proptest::prelude::*;

#[test]
fn golden_bytes_from_the_reference() {
    // session-service.md §2: negative "called name not present", positive, keepalive.
    let neg = SessionPacket::NegativeSessionResponse(NegativeResponseCode::CalledNameNotPresent);
    assert_eq!(neg.to_vec().unwrap(), [0x83, 0x00, 0x00, 0x01, 0x82]);
    assert_eq!(
        SessionPacket::parse(&[0x83, 0x00, 0x00, 0x01, 0x82]).unwrap(),
        neg
    );
    let pos = SessionPacket::PositiveSessionResponse;
    assert_eq!(pos.to_vec().unwrap(), [0x82, 0x00, 0x00, 0x00]);
    assert_eq!(SessionPacket::parse(&[0x82, 0, 0, 0]).unwrap(), pos);
    let ka = SessionPacket::SessionKeepAlive;
    assert_eq!(ka.to_vec().unwrap(), [0x85, 0x00, 0x00, 0x00]);
    assert_eq!(SessionPacket::parse(&[0x85, 0, 0, 0]).unwrap(), ka);
    let rt = SessionPacket::RetargetSessionResponse(Retarget {
        ip: Ipv4Addr::new(192, 0, 2, 7),
        port: 139,
    });
    let b = [0x84, 0x00, 0x00, 0x06, 192, 0, 2, 7, 0x00, 0x8B];
    assert_eq!(rt.to_vec().unwrap(), b);
    assert_eq!(SessionPacket::parse(&b).unwrap(), rt);
}

#[test]
fn session_request_bytes() {
    let req = SessionPacket::SessionRequest(SessionRequest {
        called_name: NetbiosName::new("ALPHA", 0x20).unwrap().into(),
        calling_name: NetbiosName::new("BETA", 0x00).unwrap().into(),
        trailing: Vec::new(),
    });
    let b = req.to_vec().unwrap();
    assert_eq!(&b[..4], &[0x81, 0x00, 0x00, 68]);
    assert_eq!(&b[4..6], b" E");
    assert_eq!(b.len(), 72);
    assert_eq!(SessionPacket::parse(&b).unwrap(), req);
}

#[test]
fn header_gives_the_17_bit_length() {
    let h = SessionHeader::parse(&[0x00, 0x01, 0xFF, 0xFF, 0xAA]).unwrap();
    assert_eq!(h.packet_type, SessionPacketType::SessionMessage);
    assert_eq!(h.length, MAX_LENGTH);
    assert_eq!(h.frame_len(), 0x2_0003);
    let h = SessionHeader::parse(&[0x89, 0x00, 0x00, 0x00]).unwrap();
    assert_eq!(h.packet_type, SessionPacketType::Unknown(0x89));
    assert_eq!(h.to_vec().unwrap(), [0x89, 0, 0, 0]);
    let e = SessionHeader::parse(&[0x00, 0x01, 0xFF]).unwrap_err();
    assert_eq!((e.field, e.offset), ("LENGTH", 2));
}

#[test]
fn reserved_flags_are_rejected() {
    for flags in [0x02u8, 0x80, 0xFE, 0x03] {
        let e = SessionHeader::parse(&[0x85, flags, 0, 0]).unwrap_err();
        assert_eq!((e.field, e.offset), ("FLAGS", 1), "{flags:#x}");
    }
}

#[test]
fn impossible_lengths() {
    // A keepalive or positive response with a trailer.
    let e = SessionPacket::parse(&[0x85, 0, 0, 1, 0]).unwrap_err();
    assert_eq!((e.field, e.offset), ("LENGTH", 2));
    let e = SessionPacket::parse(&[0x82, 0, 0, 1, 0]).unwrap_err();
    assert_eq!((e.field, e.offset), ("LENGTH", 2));
    // A negative response without its code, or with two.
    let e = SessionPacket::parse(&[0x83, 0, 0, 0]).unwrap_err();
    assert_eq!((e.field, e.offset), ("LENGTH", 2));
    let e = SessionPacket::parse(&[0x83, 0, 0, 2, 0x82, 0]).unwrap_err();
    assert_eq!((e.field, e.offset), ("LENGTH", 2));
    // A retarget of the wrong size.
    let e = SessionPacket::parse(&[0x84, 0, 0, 4, 1, 2, 3, 4]).unwrap_err();
    assert_eq!((e.field, e.offset), ("LENGTH", 2));
    // LENGTH says more than the input holds (the E bit makes it 65540 + 4).
    let e = SessionPacket::parse(&[0x00, 0x01, 0x00, 0x04, 1, 2]).unwrap_err();
    assert_eq!(e.field, "TRAILER");
    assert_eq!(
        e.kind,
        ErrorKind::Truncated {
            needed: 0x1_0004,
            available: 2
        }
    );
    // Bytes after the frame.
    let e = SessionPacket::parse(&[0x85, 0, 0, 0, 0x85]).unwrap_err();
    assert_eq!(e.field, "LENGTH");
    // A session request whose names do not fill LENGTH exactly.
    let mut b = SessionPacket::SessionRequest(SessionRequest {
        called_name: NetbiosName::new("A", 0x20).unwrap().into(),
        calling_name: NetbiosName::new("B", 0).unwrap().into(),
        trailing: Vec::new(),
    })
    .to_vec()
    .unwrap();
    // Bytes after CALLING_NAME that LENGTH covers are kept (smbd ignores them), and the frame
    // re-emits byte for byte.
    let plain = b.clone();
    b[3] += 4;
    b.extend([0, 0, 0, 0]);
    let SessionPacket::SessionRequest(req) = SessionPacket::parse(&b).unwrap() else {
        panic!("a session request")
    };
    assert_eq!(req.trailing, [0, 0, 0, 0]);
    assert_eq!(req.calling_name.name, NetbiosName::new("B", 0).unwrap());
    assert_eq!(SessionPacket::SessionRequest(req).to_vec().unwrap(), b);
    let mut b = plain;
    b[3] -= 1;
    b.truncate(b.len() - 1);
    let e = SessionPacket::parse(&b).unwrap_err();
    assert_eq!(e.field, "CALLING_NAME");
    // Unknown types have a header but no packet.
    let e = SessionPacket::parse(&[0x89, 0, 0, 0]).unwrap_err();
    assert_eq!((e.field, e.offset), ("TYPE", 0));
}

#[test]
fn name_errors_point_into_the_frame() {
    let mut b = SessionPacket::SessionRequest(SessionRequest {
        called_name: NetbiosName::new("A", 0x20).unwrap().into(),
        calling_name: NetbiosName::new("B", 0).unwrap().into(),
        trailing: Vec::new(),
    })
    .to_vec()
    .unwrap();
    b[4 + 34 + 1] = b'Z';
    let e = SessionPacket::parse(&b).unwrap_err();
    assert_eq!(e.offset, 4 + 34 + 1);
}

#[test]
fn parse_prefix_walks_a_stream() {
    let mut stream = SessionPacket::SessionKeepAlive.to_vec().unwrap();
    stream.extend(
        SessionPacket::SessionMessage(vec![1, 2, 3])
            .to_vec()
            .unwrap(),
    );
    let (a, n) = SessionPacket::parse_prefix(&stream).unwrap();
    assert_eq!((a, n), (SessionPacket::SessionKeepAlive, 4));
    let (b, m) = SessionPacket::parse_prefix(&stream[n..]).unwrap();
    assert_eq!(b, SessionPacket::SessionMessage(vec![1, 2, 3]));
    assert_eq!(n + m, stream.len());
}

#[test]
fn emit_rejects_oversized_messages() {
    let p = SessionPacket::SessionMessage(vec![0; MAX_LENGTH as usize + 1]);
    assert!(matches!(
        p.to_vec(),
        Err(EmitError::FieldTooLarge {
            field: "LENGTH",
            ..
        })
    ));
    let h = SessionHeader {
        packet_type: SessionPacketType::SessionMessage,
        length: MAX_LENGTH + 1,
    };
    assert!(h.to_vec().is_err());
    let mut small = [0u8; 3];
    assert!(matches!(
        SessionPacket::SessionKeepAlive.emit(&mut small),
        Err(EmitError::BufferTooSmall { .. })
    ));
}

proptest! {
    #[test]
    fn round_trip(p in strategy::session_packet()) {
        let b = p.to_vec().unwrap();
        prop_assert_eq!(b.len(), p.buffer_len());
        let h = SessionHeader::parse(&b).unwrap();
        prop_assert_eq!(h.frame_len(), b.len());
        prop_assert_eq!(h, p.header().unwrap());
        prop_assert_eq!(SessionPacket::parse(&b).unwrap(), p);
    }

    #[test]
    fn header_round_trip(t in any::<u8>(), length in 0u32..=MAX_LENGTH) {
        let h = SessionHeader { packet_type: SessionPacketType::from_u8(t), length };
        prop_assert_eq!(SessionHeader::parse(&h.to_vec().unwrap()).unwrap(), h);
    }

    #[test]
    fn parse_never_panics(b in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = SessionHeader::parse(&b);
        let _ = SessionPacket::parse(&b);
        let _ = SessionPacket::parse_prefix(&b);
    }

    #[test]
    fn parse_never_panics_on_plausible_frames(
        t in prop_oneof![Just(0x00u8), 0x81u8..=0x86],
        body in proptest::collection::vec(any::<u8>(), 0..120),
        extra in 0usize..3,
    ) {
        let mut b = vec![t, 0, 0, body.len() as u8];
        b.extend_from_slice(&body);
        b.extend(std::iter::repeat_n(0u8, extra));
        let _ = SessionPacket::parse(&b);
    }
}
