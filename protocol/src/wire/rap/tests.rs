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

#[test]
fn calls_net_rap_sends_read_as_served_calls() {
    // clirap2.c: cli_get_server_name, cli_NetSessionEnum, cli_NetSessionGetInfo.
    let server_name = hex("0d00 5772 4c68 00 4231 3642 4244 7a00 0100 ffff");
    let call = RapCall::from_request(&RapRequest::parse(&server_name).unwrap());
    assert_eq!(
        call,
        RapCall::NetServerGetInfo {
            level: 1,
            receive_buffer_len: 0xFFFF,
            data_desc: b"B16BBDz".to_vec()
        }
    );
    let session_enum = hex("0600 5772 4c65 6800 7a7a 5757 5744 4444 7a00 0200 ff00");
    let call = RapCall::from_request(&RapRequest::parse(&session_enum).unwrap());
    assert_eq!(
        call,
        RapCall::NetSessionEnum {
            level: 2,
            receive_buffer_len: 0xFF,
            data_desc: b"zzWWWDDDz".to_vec()
        }
    );
    assert_eq!(call.to_request().unwrap().to_vec().unwrap(), session_enum);
    let mut session_info = hex("0700 7a57 724c 6800 7a7a 5757 5744 4444 7a00");
    session_info.extend(b"nbtclient\0");
    session_info.extend(hex("0200 ff00"));
    let call = RapCall::from_request(&RapRequest::parse(&session_info).unwrap());
    assert_eq!(
        call,
        RapCall::NetSessionGetInfo {
            client: b"nbtclient".to_vec(),
            level: 2,
            receive_buffer_len: 0xFF,
            data_desc: b"zzWWWDDDz".to_vec()
        }
    );
    assert_eq!(call.to_request().unwrap().to_vec().unwrap(), session_info);
    let tod = hex("5b00 724c 00 4444 4242 4242 5757 4242 5742 00 1500");
    let call = RapCall::from_request(&RapRequest::parse(&tod).unwrap());
    assert_eq!(
        call,
        RapCall::NetRemoteTod {
            receive_buffer_len: 21,
            data_desc: b"DDBBBBWWBBWB".to_vec()
        }
    );
    // NetServerEnum2 with a ParamDesc smbd takes by its prefix (`WrLehD`): no domain.
    let req = RapRequest::new(
        opcode::NET_SERVER_ENUM2,
        b"WrLehDO",
        b"B16",
        vec![
            RapValue::Word(0),
            RapValue::Word(0x1000),
            RapValue::Dword(0x8000_0000),
        ],
    );
    let RapCall::NetServerEnum2(e) = RapCall::from_request(&req) else {
        panic!("served")
    };
    assert_eq!((e.level, e.domain), (InfoLevel::Zero, None));
}

#[test]
fn not_supported_carries_the_parameter_block_its_descriptor_asks_for() {
    for (desc, len) in [
        (&b"WrLeh"[..], 8),
        (b"WrLehDz", 8),
        (b"WrLh", 6),
        (b"zWrLh", 6),
        (b"rL", 4),
        (b"zWrLhi", 10),
        (b"", 4),
    ] {
        let r = RapResponse::not_supported(desc);
        let p = r.parameters();
        assert_eq!(p.len(), len, "{}", String::from_utf8_lossy(desc));
        assert_eq!(&p[..2], [50, 0]);
        assert!(p[2..].iter().all(|&b| b == 0));
        assert!(r.data.is_empty());
    }
    let r = RapResponse::info(0, 0, 42, vec![0; 42]);
    assert_eq!(r.parameters(), [0, 0, 0, 0, 42, 0]);
}

#[test]
fn time_of_day_golden() {
    // 2026-08-07 16:29:25 UTC on a host at UTC+2: smbd writes the local time throughout.
    let tod = TimeOfDayInfo::at(1_786_120_165, -120);
    let b = encode_all(&[tod], 0).unwrap();
    assert_eq!(
        b,
        hex("0524766a 00000000 12 1d 19 00 88ff 1027 07 08 ea07 05"),
        "{tod:?}"
    );
    assert_eq!(decode_entries::<TimeOfDayInfo>(&b, 1, 0).unwrap(), [tod]);
    // 2024-02-29 23:59:59 UTC: a leap day, and the next day one zone east.
    let west = TimeOfDayInfo::at(1_709_251_199, 300);
    assert_eq!(
        (west.year, west.month, west.day, west.hours, west.weekday),
        (2024, 2, 29, 18, 4)
    );
    let east = TimeOfDayInfo::at(1_709_251_199, -60);
    assert_eq!(
        (
            east.year,
            east.month,
            east.day,
            east.hours,
            east.mins,
            east.weekday
        ),
        (2024, 3, 1, 0, 59, 5)
    );
    assert_eq!(
        TimeOfDayInfo::at(0, 0).weekday,
        4,
        "1970-01-01 was a Thursday"
    );
}

#[test]
fn session_and_wksta_records_golden() {
    let s = SessionInfo2 {
        client: b"nbtclient".to_vec(),
        user: Vec::new(),
        connections: 1,
        opens: 0,
        users: 1,
        session_time: 0,
        idle_time: 0,
        user_flags: 0,
        client_type: b"Unknown Client".to_vec(),
    };
    let b = encode_all(std::slice::from_ref(&s), 0).unwrap();
    let mut want = hex("1e000000 28000000 0100 0000 0100 00000000 00000000 00000000 29000000");
    want.extend(b"nbtclient\0\0Unknown Client\0");
    assert_eq!(b, want);
    assert_eq!(decode_entries::<SessionInfo2>(&b, 1, 0).unwrap(), [s]);
    let w = WkstaInfo10 {
        computer: b"NBTD".to_vec(),
        user: Vec::new(),
        langroup: b"LABWG".to_vec(),
        version_major: 4,
        version_minor: 9,
        logon_domain: b"LABWG".to_vec(),
        other_domains: Vec::new(),
    };
    let b = encode_all(std::slice::from_ref(&w), 0).unwrap();
    let mut want = hex("16000000 1b000000 1c000000 04 09 22000000 28000000");
    want.extend(b"NBTD\0\0LABWG\0LABWG\0\0");
    assert_eq!(b, want);
    assert_eq!(decode_entries::<WkstaInfo10>(&b, 1, 0).unwrap(), [w]);
}

proptest! {
    #[test]
    fn new_records_round_trip(
        sessions in proptest::collection::vec(strategy::session_info2(), 0..20),
        wksta in strategy::wksta_info10(),
        tod in strategy::time_of_day_info(),
        converter in any::<u16>(),
    ) {
        let data = encode_all(&sessions, converter).unwrap();
        prop_assert_eq!(
            decode_entries::<SessionInfo2>(&data, sessions.len() as u16, converter).unwrap(),
            sessions
        );
        let data = encode_all(std::slice::from_ref(&wksta), converter).unwrap();
        prop_assert_eq!(decode_entries::<WkstaInfo10>(&data, 1, converter).unwrap(), vec![wksta]);
        let data = encode_all(&[tod], converter).unwrap();
        prop_assert_eq!(data.len(), 21);
        prop_assert_eq!(decode_entries::<TimeOfDayInfo>(&data, 1, converter).unwrap(), vec![tod]);
    }

    #[test]
    fn time_of_day_is_a_valid_date(secs in -2_000_000_000i64..8_000_000_000, zone in -840i16..=720) {
        let t = TimeOfDayInfo::at(secs, zone);
        prop_assert!((1..=12).contains(&t.month) && (1..=31).contains(&t.day));
        prop_assert!(t.hours < 24 && t.mins < 60 && t.secs < 60 && t.weekday < 7);
        prop_assert_eq!(t.timezone, zone);
    }

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
        let _ = decode_entries::<SessionInfo2>(&b, n, c);
        let _ = decode_entries::<WkstaInfo10>(&b, n, c);
        let _ = decode_entries::<TimeOfDayInfo>(&b, n, c);
        let _ = RapResponse::parse(&b, &b);
    }
}
