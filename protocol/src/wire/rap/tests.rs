use super::records::*;
use super::*;
use crate::error::ErrorKind;
use crate::wire::browse::ServerName;
use proptest::prelude::*;

fn hex(s: &str) -> Vec<u8> {
    let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    s.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

// Parameter blocks smbclient 4.17 sent (tests/vectors/smb1-netserverenum*.pcapng).
const ENUM2_ALL: &str =
    "6800 5772 4c65 6844 7a00 4231 3642 4244 7a00 0100 ffff ffffffff 4c4142574700";
const ENUM2_EMPTY_DOMAIN: &str =
    "6800 5772 4c65 6844 7a00 4231 3642 4244 7a00 0100 ffff 00000080 00";
const ENUM3: &str = "d700 5772 4c65 6844 7a7a 00 4231 3642 4244 7a00 0100 ffff ffffffff \
                     4c4142574700 4c41424a3131333700";
// The data block of Samba's reply to ENUM2_ALL: ALPHA, BRAVO, CHARLIE.
const ENUM2_REPLY_DATA: &str = "414c50484100000000000000000000000000039a81004e000000 \
                                425241564f00000000000000000000000000039a84005b000000 \
                                434841524c49450000000000000000000000039a810068000000 \
                                6c616220686f7374206e623100 6c616220686f7374206e623200 \
                                6c616220686f7374206e623300";

fn name(s: &str) -> ServerName {
    ServerName::new(s).unwrap()
}

#[test]
fn net_server_enum2_request_golden() {
    let b = hex(ENUM2_ALL);
    let req = RapRequest::parse(&b).unwrap();
    assert_eq!(req.opcode, opcode::NET_SERVER_ENUM2);
    assert_eq!(req.param_desc, b"WrLehDz");
    assert_eq!(req.data_desc, b"B16BBDz");
    assert_eq!(
        req.values,
        [
            RapValue::Word(1),
            RapValue::Word(0xFFFF),
            RapValue::Dword(0xFFFF_FFFF),
            RapValue::Str(b"LABWG".to_vec()),
        ]
    );
    assert!(req.extra.is_empty());
    assert_eq!(req.to_vec().unwrap(), b);
    let call = RapCall::from_request(&req);
    assert_eq!(
        call,
        RapCall::NetServerEnum2(ServerEnumRequest {
            level: InfoLevel::One,
            receive_buffer_len: 0xFFFF,
            server_type: ServerType::all() | ServerType::from_bits_retain(0xFFFF_FFFF),
            domain: Some(b"LABWG".to_vec()),
            first_name: Vec::new(),
        })
    );
    assert_eq!(call.to_request().unwrap(), req, "smbclient's framing");

    let req = RapRequest::parse(&hex(ENUM2_EMPTY_DOMAIN)).unwrap();
    let RapCall::NetServerEnum2(e) = RapCall::from_request(&req) else {
        panic!("{req:?}")
    };
    assert_eq!(e.server_type, ServerType::DOMAIN_ENUM);
    assert_eq!(e.domain, Some(Vec::new()));
}

#[test]
fn net_server_enum3_request_golden() {
    let b = hex(ENUM3);
    let req = RapRequest::parse(&b).unwrap();
    assert_eq!(req.to_vec().unwrap(), b);
    let RapCall::NetServerEnum3(e) = RapCall::from_request(&req) else {
        panic!("{req:?}")
    };
    assert_eq!(e.domain.as_deref(), Some(&b"LABWG"[..]));
    assert_eq!(e.first_name, b"LABJ1137");
    assert_eq!(RapCall::NetServerEnum3(e).to_request().unwrap(), req);
}

#[test]
fn net_share_enum_request_as_smbclient_sends_it() {
    // rap-smb1.md §6.2: 00 00 "WrLeh" "B13BWz" 01 00 E0 FF.
    let call = RapCall::NetShareEnum {
        level: InfoLevel::One,
        receive_buffer_len: 0xFFE0,
    };
    let b = call.to_request().unwrap().to_vec().unwrap();
    assert_eq!(b, hex("0000 5772 4c65 6800 4231 3342 577a 00 0100 e0ff"));
    assert_eq!(RapCall::from_request(&RapRequest::parse(&b).unwrap()), call);
}

#[test]
fn server_info1_reply_golden() {
    let data = hex(ENUM2_REPLY_DATA);
    let entries: Vec<ServerInfo1> = decode_entries(&data, 3, 0).unwrap();
    let names: Vec<_> = entries.iter().map(|e| e.name).collect();
    assert_eq!(names, [name("ALPHA"), name("BRAVO"), name("CHARLIE")]);
    assert_eq!(entries[1].server_type.bits(), 0x0084_9A03);
    assert_eq!(entries[2].comment, b"lab host nb3");
    // Samba leaves the version bytes zero; with the same values the encoding is Samba's.
    assert!(
        entries
            .iter()
            .all(|e| (e.version_major, e.version_minor) == (0, 0))
    );
    let e = encode_entries(entries.clone(), 0, 0xFFFF);
    assert_eq!((e.returned, e.available), (3, 3));
    assert_eq!(e.data, data);
    assert_eq!(encode_all(&entries, 0).unwrap(), data);
}

#[test]
fn unknown_opcode_and_mismatched_descriptors_are_unsupported() {
    let req = RapRequest::new(
        0x1234,
        b"WrLeh",
        b"B13",
        vec![RapValue::Word(0), RapValue::Word(100)],
    );
    assert_eq!(
        RapCall::from_request(&req),
        RapCall::Unsupported(Unsupported::Opcode(0x1234))
    );
    let req = RapRequest::new(
        opcode::NET_SHARE_ENUM,
        b"WrLeh",
        b"B13BWzWWWzB9B",
        vec![RapValue::Word(2), RapValue::Word(100)],
    );
    assert_eq!(
        RapCall::from_request(&req),
        RapCall::Unsupported(Unsupported::Level {
            opcode: 0,
            level: 2
        })
    );
    let req = RapRequest::new(
        opcode::NET_SHARE_ENUM,
        b"WrLeh",
        b"B16",
        vec![RapValue::Word(0), RapValue::Word(100)],
    );
    assert_eq!(
        RapCall::from_request(&req),
        RapCall::Unsupported(Unsupported::DataDesc(0))
    );
    let req = RapRequest::new(
        opcode::NET_SERVER_ENUM3,
        b"WrLehDz",
        b"B16",
        vec![
            RapValue::Word(0),
            RapValue::Word(100),
            RapValue::Dword(1),
            RapValue::Str(Vec::new()),
        ],
    );
    assert_eq!(
        RapCall::from_request(&req),
        RapCall::Unsupported(Unsupported::ParamDesc(215))
    );
    assert_eq!(
        RapCall::Unsupported(Unsupported::Opcode(9)).to_request(),
        None
    );
}

#[test]
fn request_errors_name_field_and_offset() {
    let e = RapRequest::parse(&[0x68]).unwrap_err();
    assert_eq!((e.field, e.offset), ("RAPOpcode", 0));
    let e = RapRequest::parse(b"\x68\x00WrLehDz").unwrap_err();
    assert_eq!((e.field, e.offset), ("ParamDesc", 2));
    let e = RapRequest::parse(b"\x68\x00WrLehDz\0B16BBDz\0\x01\x00\xff").unwrap_err();
    assert_eq!(e.field, "RAP parameter L (receive buffer length)");
    assert_eq!(e.offset, 20);
    let e =
        RapRequest::parse(b"\x68\x00WrLehDz\0B16BBDz\0\x01\x00\xff\xff\0\0\0\x80LAB").unwrap_err();
    assert_eq!((e.field, e.offset), ("RAP parameter z", 26));
    let e = RapRequest::parse(b"\x68\x00WQ\0\0").unwrap_err();
    assert_eq!((e.field, e.offset), ("ParamDesc", 3));
    assert!(matches!(e.kind, ErrorKind::BadValue { found: 0x51, .. }));
    let e = RapRequest::parse(b"\x68\x00W2\0\0").unwrap_err();
    assert_eq!((e.field, e.offset), ("ParamDesc", 2));
    let e = RapRequest::parse(b"\x68\x00B99999\0\0").unwrap_err();
    assert_eq!(e.field, "ParamDesc");
    let long = [vec![0, 0], vec![b'W'; 65], vec![0, 0]].concat();
    let e = RapRequest::parse(&long).unwrap_err();
    assert_eq!((e.field, e.offset), ("ParamDesc", 2));
    let e = RapRequest::parse(b"\x68\x00W\x01\0\0").unwrap_err();
    assert_eq!((e.field, e.offset), ("ParamDesc", 3));
}

#[test]
fn records_errors_name_field_and_offset() {
    let data = hex(ENUM2_REPLY_DATA);
    let e = decode_entries::<ServerInfo1>(&data, 5, 0).unwrap_err();
    assert_eq!(e.field, "RAP records");
    assert!(matches!(
        e.kind,
        ErrorKind::Truncated {
            needed: 130,
            available: 117
        }
    ));
    // A pointer past the data block (second record's comment).
    let mut bad = data.clone();
    bad[26 + 22] = 0xF0;
    let e = decode_entries::<ServerInfo1>(&bad, 3, 0).unwrap_err();
    assert_eq!((e.field, e.offset), ("Comment", 48));
    // The converter is subtracted: with converter 0x10 the same pointers land 16 bytes early,
    // on a zero byte of the third record, and in the middle of "lab host nb1".
    let e = decode_entries::<ServerInfo1>(&data, 3, 0x10).unwrap();
    assert_eq!(e[0].comment, b"");
    assert_eq!(e[2].comment, b"b1");
    // A name with no NUL in its 16 bytes.
    let mut bad = data.clone();
    bad[5..16].fill(b'X');
    let e = decode_entries::<ServerInfo1>(&bad, 1, 0).unwrap_err();
    assert_eq!((e.field, e.offset), ("Name", 0));
    // A string with no NUL before the end.
    let e = decode_entries::<ServerInfo1>(&data[..data.len() - 1], 3, 0).unwrap_err();
    assert_eq!((e.field, e.offset), ("Comment", 74));
}

#[test]
fn encode_stops_at_the_first_record_that_does_not_fit() {
    let recs: Vec<ServerInfo1> = (0..10)
        .map(|i| ServerInfo1 {
            name: name(&format!("H{i}")),
            version_major: 6,
            version_minor: 1,
            server_type: ServerType::SERVER,
            comment: vec![b'c'; i * 10],
        })
        .collect();
    // 26 + 1, 26 + 11, 26 + 21: 111 bytes for three; the fourth needs 57 more.
    let e = encode_entries(recs.clone(), 0, 150);
    assert_eq!((e.returned, e.available), (3, 10));
    assert_eq!(e.data.len(), 111);
    let back: Vec<ServerInfo1> = decode_entries(&e.data, 3, 0).unwrap();
    assert_eq!(back, recs[..3]);
    let e = encode_entries(recs.clone(), 0, 10);
    assert_eq!((e.returned, e.available, e.data.len()), (0, 10, 0));
    assert!(encode_all(&vec![recs[9].clone(); 1000], 0).is_err());
    let r = RapResponse::enumeration(0, 3, 10, Vec::new());
    assert_eq!(r.status, status::MORE_DATA);
    assert_eq!(r.parameters(), [234, 0, 0, 0, 3, 0, 10, 0]);
}

#[test]
fn unsupported_reply_is_samba_s() {
    let r = RapResponse::unsupported();
    assert_eq!(r.parameters(), [50, 0, 0, 0]);
    assert_eq!(RapResponse::parse(&r.parameters(), &[]).unwrap(), r);
    let e = RapResponse::parse(&[0, 0, 0, 0, 1], &[]).unwrap_err();
    assert_eq!((e.field, e.offset), ("RAP reply parameters", 4));
    let e = RapResponse::parse(&[0, 0, 0], &[]).unwrap_err();
    assert_eq!((e.field, e.offset), ("Converter", 2));
}

#[test]
fn emit_refuses_values_that_do_not_match() {
    let bad = RapRequest::new(0, b"WD", b"", vec![RapValue::Word(1)]);
    assert!(bad.to_vec().is_err());
    let bad = RapRequest::new(0, b"W", b"", vec![RapValue::Dword(1)]);
    assert!(bad.to_vec().is_err());
    let bad = RapRequest::new(0, b"z", b"", vec![RapValue::Str(b"a\0b".to_vec())]);
    assert!(bad.to_vec().is_err());
    let bad = RapRequest::new(0, b"B3", b"", vec![RapValue::Bytes(vec![1])]);
    assert!(bad.to_vec().is_err());
    let bad = RapRequest::new(0, b"W W", b"", vec![]);
    assert!(bad.to_vec().is_err());
}

proptest! {
    #[test]
    fn request_round_trip(r in strategy::rap_request()) {
        let b = r.to_vec().unwrap();
        prop_assert_eq!(b.len(), r.buffer_len());
        prop_assert_eq!(RapRequest::parse(&b).unwrap(), r);
    }

    #[test]
    fn call_round_trip(c in strategy::rap_call()) {
        let req = c.to_request().unwrap();
        let b = req.to_vec().unwrap();
        let back = RapRequest::parse(&b).unwrap();
        prop_assert_eq!(&back, &req);
        prop_assert_eq!(RapCall::from_request(&back), c);
    }

    #[test]
    fn response_round_trip(r in strategy::rap_response()) {
        prop_assert_eq!(RapResponse::parse(&r.parameters(), &r.data).unwrap(), r);
    }

    #[test]
    fn server_info1_round_trip(
        recs in proptest::collection::vec(strategy::server_info1(), 0..40),
        converter in any::<u16>(),
        limit in 0usize..70_000,
    ) {
        let e = encode_entries(recs.clone(), converter, limit);
        prop_assert!(e.data.len() <= limit.min(0xFFFF));
        prop_assert_eq!(usize::from(e.available), recs.len());
        let back: Vec<ServerInfo1> = decode_entries(&e.data, e.returned, converter).unwrap();
        prop_assert_eq!(&back[..], &recs[..usize::from(e.returned)]);
        if usize::from(e.returned) < recs.len() {
            let next = &recs[usize::from(e.returned)];
            prop_assert!(e.data.len() + 26 + next.comment.len() + 1 > limit.min(0xFFFF));
        }
    }

    #[test]
    fn server_info0_round_trip(recs in proptest::collection::vec(strategy::server_info0(), 0..40)) {
        let data = encode_all(&recs, 0).unwrap();
        prop_assert_eq!(data.len(), 16 * recs.len());
        prop_assert_eq!(decode_entries::<ServerInfo0>(&data, recs.len() as u16, 0).unwrap(), recs);
    }

    #[test]
    fn share_info_round_trip(
        one in proptest::collection::vec(strategy::share_info1(), 0..40),
        zero in proptest::collection::vec(strategy::share_info0(), 0..40),
        converter in any::<u16>(),
    ) {
        let data = encode_all(&one, converter).unwrap();
        prop_assert_eq!(decode_entries::<ShareInfo1>(&data, one.len() as u16, converter).unwrap(), one);
        let data = encode_all(&zero, converter).unwrap();
        prop_assert_eq!(decode_entries::<ShareInfo0>(&data, zero.len() as u16, converter).unwrap(), zero);
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..80), n in 0u16..8, c in any::<u16>()) {
        if let Ok(r) = RapRequest::parse(&b) {
            prop_assert_eq!(r.to_vec().unwrap(), b.clone());
            let _ = RapCall::from_request(&r);
        }
        let _ = decode_entries::<ServerInfo1>(&b, n, c);
        let _ = decode_entries::<ShareInfo1>(&b, n, c);
        let _ = RapResponse::parse(&b, &b);
    }
}
