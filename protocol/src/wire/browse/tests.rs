use super::*;
use crate::error::ErrorKind;
use proptest::prelude::*;

fn name(s: &str) -> ServerName {
    ServerName::new(s).unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    s.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn emit(f: &BrowserFrame) -> Vec<u8> {
    let v = f.to_vec().unwrap();
    assert_eq!(v.len(), f.buffer_len(), "buffer_len is exact");
    v
}

// Frames captured from Samba 4.17 (tests/vectors/browser-*.pcapng), mailslot data only.
const HOST_ANNOUNCEMENT: &str = "01 00 60ea0000 414c5048410000000000000000000000 06 01 039a8100 \
                                 0f 01 55aa 6c616220686f7374206e623100";
const DOMAIN_ANNOUNCEMENT: &str = "0c 02 c0d40100 4c414257470000000000000000000000 06 01 \
                                   00100080 0f 01 55aa 414c50484100";
const LOCAL_MASTER_ANNOUNCEMENT: &str = "0f 02 c0d40100 414c5048410000000000000000000000 06 \
                                         01 039a8400 0f 01 55aa 6c616220686f7374206e623100";
const ELECTION_ALPHA: &str = "08 01 020f0114 70170000 00000000 414c50484100";
const ELECTION_BRAVO: &str = "08 01 0a0f0141 70170000 00000000 425241564f00";
const ELECTION_FORCED: &str = "08 00 00000000 00000000 00000000 00";
const ANNOUNCEMENT_REQUEST: &str = "02 01 00 414c504841";
const BACKUP_REQUEST: &str = "09 04 48aecc52";
const BACKUP_RESPONSE: &str = "0a 01 48aecc52 414c50484100";

#[test]
fn host_announcement_golden() {
    let b = hex(HOST_ANNOUNCEMENT);
    let f = BrowserFrame::parse(&b).unwrap();
    assert_eq!(f.opcode(), BrowserOpcode::HostAnnouncement);
    let BrowserFrame::HostAnnouncement(a) = &f else {
        panic!("{f:?}")
    };
    assert_eq!(a.update_count, 0);
    assert_eq!(a.periodicity_ms, 60_000);
    assert_eq!(a.server_name, name("ALPHA"));
    assert_eq!((a.os_version_major, a.os_version_minor), (6, 1));
    assert_eq!(a.server_type.bits(), 0x0081_9A03);
    assert_eq!(
        a.server_type,
        ServerType::WORKSTATION
            | ServerType::SERVER
            | ServerType::PRINTQ_SERVER
            | ServerType::SERVER_UNIX
            | ServerType::NT
            | ServerType::SERVER_NT
            | ServerType::POTENTIAL_BROWSER
            | ServerType::DFS_SERVER
    );
    assert_eq!((a.browser_version_major, a.browser_version_minor), (15, 1));
    assert_eq!(a.signature, SIGNATURE);
    assert_eq!(a.comment, b"lab host nb1");
    assert_eq!(emit(&f), b);
    // The constructor gives the same bytes.
    let made = Announcement::new(name("alpha"), a.server_type, 60_000, "lab host nb1");
    assert_eq!(emit(&BrowserFrame::HostAnnouncement(made)), b);
}

#[test]
fn domain_and_local_master_golden() {
    let b = hex(DOMAIN_ANNOUNCEMENT);
    let f = BrowserFrame::parse(&b).unwrap();
    let BrowserFrame::DomainAnnouncement(a) = &f else {
        panic!("{f:?}")
    };
    assert_eq!(a.server_name, name("LABWG"));
    assert_eq!(a.server_type, ServerType::DOMAIN_ENUM | ServerType::NT);
    assert_eq!(a.comment, b"ALPHA");
    assert_eq!(a.periodicity_ms, 120_000);
    assert_eq!(emit(&f), b);
    let mut made = Announcement::domain(name("LABWG"), name("ALPHA"), 120_000);
    made.update_count = 2;
    assert_eq!(emit(&BrowserFrame::DomainAnnouncement(made)), b);

    let b = hex(LOCAL_MASTER_ANNOUNCEMENT);
    let f = BrowserFrame::parse(&b).unwrap();
    let BrowserFrame::LocalMasterAnnouncement(a) = &f else {
        panic!("{f:?}")
    };
    assert!(a.server_type.contains(ServerType::MASTER_BROWSER));
    assert!(!a.server_type.contains(ServerType::POTENTIAL_BROWSER));
    assert_eq!(emit(&f), b);
}

#[test]
fn election_golden() {
    let b = hex(ELECTION_ALPHA);
    let f = BrowserFrame::parse(&b).unwrap();
    let BrowserFrame::RequestElection(e) = f else {
        panic!("{f:?}")
    };
    assert_eq!(e.version, 1);
    assert_eq!(e.criteria, ElectionCriteria::SAMBA_DEFAULT);
    assert_eq!(e.criteria.os_level(), 20);
    assert_eq!(e.criteria.browser_version(), 0x010F);
    assert_eq!(e.criteria.desire(), ElectionDesire::STANDBY);
    assert_eq!(e.uptime_ms, 6000);
    assert_eq!(e.server_name, name("ALPHA"));
    let made = RequestElection::new(
        ElectionCriteria::new(os_level::SAMBA_DEFAULT, ElectionDesire::STANDBY),
        6000,
        name("ALPHA"),
    );
    assert_eq!(made, e);
    assert_eq!(emit(&BrowserFrame::RequestElection(made)), b);

    let b = hex(ELECTION_BRAVO);
    let f = BrowserFrame::parse(&b).unwrap();
    let BrowserFrame::RequestElection(bravo) = f else {
        panic!("{f:?}")
    };
    assert_eq!(bravo.criteria.bits(), 0x4101_0F0A);
    assert_eq!(bravo.criteria.os_level(), 65);
    assert_eq!(
        bravo.criteria.desire(),
        ElectionDesire::PREFERRED_MASTER | ElectionDesire::STANDBY
    );
    assert!(
        bravo.beats(&e),
        "BRAVO (os level 65, preferred) wins over ALPHA"
    );
    assert_eq!(emit(&f), b);

    let b = hex(ELECTION_FORCED);
    let f = BrowserFrame::parse(&b).unwrap();
    assert_eq!(f, BrowserFrame::RequestElection(RequestElection::force()));
    assert_eq!(emit(&f), b);
}

#[test]
fn announcement_request_keeps_samba_layout() {
    let b = hex(ANNOUNCEMENT_REQUEST);
    let f = BrowserFrame::parse(&b).unwrap();
    let BrowserFrame::AnnouncementRequest(q) = &f else {
        panic!("{f:?}")
    };
    assert_eq!(q.reserved, 1);
    assert!(q.response_name.is_empty());
    assert_eq!(q.trailing, b"ALPHA");
    assert_eq!(q.requester_name(), b"ALPHA");
    assert_eq!(emit(&f), b);
    // The canonical form (MS-BRWS 2.2.2).
    let canon = BrowserFrame::AnnouncementRequest(AnnouncementRequest::new(name("ALPHA")));
    assert_eq!(emit(&canon), hex("02 00 414c50484100"));
    let BrowserFrame::AnnouncementRequest(q) = BrowserFrame::parse(&emit(&canon)).unwrap() else {
        unreachable!()
    };
    assert_eq!(q.requester_name(), b"ALPHA");
}

#[test]
fn backup_list_golden() {
    let b = hex(BACKUP_REQUEST);
    let f = BrowserFrame::parse(&b).unwrap();
    assert_eq!(
        f,
        BrowserFrame::GetBackupListRequest(GetBackupListRequest {
            requested_count: 4,
            token: 1_389_145_672
        })
    );
    assert_eq!(emit(&f), b);

    let b = hex(BACKUP_RESPONSE);
    let f = BrowserFrame::parse(&b).unwrap();
    assert_eq!(
        f,
        BrowserFrame::GetBackupListResponse(GetBackupListResponse {
            token: 1_389_145_672,
            servers: vec![name("ALPHA")]
        })
    );
    assert_eq!(emit(&f), b);
}

#[test]
fn small_frames_golden() {
    for (f, b) in [
        (
            BrowserFrame::BecomeBackup {
                browser_to_promote: name("CHARLIE"),
            },
            "0b 434841524c494500",
        ),
        (
            BrowserFrame::MasterAnnouncement {
                master_browser_server_name: name("ALPHA"),
            },
            "0d 414c50484100",
        ),
        (
            BrowserFrame::ResetStateRequest {
                reset_type: ResetStateType::STOP_MASTER | ResetStateType::CLEAR_ALL,
            },
            "0e 03",
        ),
    ] {
        assert_eq!(emit(&f), hex(b));
        assert_eq!(BrowserFrame::parse(&hex(b)).unwrap(), f);
    }
    // Unknown reset bits are kept.
    let f = BrowserFrame::parse(&[0x0E, 0xF0]).unwrap();
    assert_eq!(emit(&f), [0x0E, 0xF0]);
}

fn err(b: &[u8]) -> ParseError {
    BrowserFrame::parse(b).unwrap_err()
}

#[test]
fn opcode_errors() {
    assert_eq!(err(&[]), ParseError::truncated("browser opcode", 0, 1, 0));
    for op in [0x00, 0x03, 0x07, 0x10, 0xFF] {
        let e = err(&[op, 0, 0, 0]);
        assert_eq!((e.field, e.offset), ("browser opcode", 0));
        assert!(matches!(e.kind, ErrorKind::BadValue { found, .. } if found == u64::from(op)));
    }
}

#[test]
fn truncated_announcement_names_field_and_offset() {
    let b = hex(HOST_ANNOUNCEMENT);
    // Cut inside each fixed field: the error names it and its offset.
    for (cut, field, offset) in [
        (1, "HostAnnouncement UpdateCount", 1),
        (4, "HostAnnouncement Periodicity", 2),
        (10, "HostAnnouncement ServerName", 6),
        (22, "HostAnnouncement OSVersionMajor", 22),
        (25, "HostAnnouncement ServerType", 24),
        (31, "HostAnnouncement Signature", 30),
        (32, "HostAnnouncement Comment", 32),
    ] {
        let e = err(&b[..cut]);
        assert_eq!((e.field, e.offset), (field, offset), "cut at {cut}");
        assert!(matches!(e.kind, ErrorKind::Truncated { .. }), "{e}");
    }
    // A comment without its NUL.
    let e = err(&b[..b.len() - 1]);
    assert_eq!(
        e,
        ParseError::malformed(
            "HostAnnouncement Comment",
            32,
            "string has no terminating NUL"
        )
    );
    // Domain announcements use their own field names.
    let d = hex(DOMAIN_ANNOUNCEMENT);
    let e = err(&d[..d.len() - 1]);
    assert_eq!(
        (e.field, e.offset),
        ("DomainAnnouncement LocalMasterBrowserName", 32)
    );
}

#[test]
fn announcement_name_field_rules() {
    let mut b = hex(HOST_ANNOUNCEMENT);
    // 16 name bytes without a NUL.
    b[6..22].fill(b'A');
    let e = err(&b);
    assert_eq!((e.field, e.offset), ("HostAnnouncement ServerName", 6));
    assert!(matches!(e.kind, ErrorKind::Malformed(_)));
    // Garbage after the NUL is padding: ignored, written back as NULs.
    let mut b = hex(HOST_ANNOUNCEMENT);
    b[12..22].fill(b'x');
    let f = BrowserFrame::parse(&b).unwrap();
    let BrowserFrame::HostAnnouncement(a) = &f else {
        unreachable!()
    };
    assert_eq!(a.server_name, name("ALPHA"));
    assert_eq!(emit(&f), hex(HOST_ANNOUNCEMENT));
}

#[test]
fn wrong_signature_and_trailing_bytes_are_accepted() {
    // Samba never checks the signature: keep it as sent.
    let mut b = hex(HOST_ANNOUNCEMENT);
    b[30..32].copy_from_slice(&[0x12, 0x34]);
    let f = BrowserFrame::parse(&b).unwrap();
    let BrowserFrame::HostAnnouncement(a) = &f else {
        unreachable!()
    };
    assert_eq!(a.signature, 0x3412);
    assert_eq!(emit(&f), b);
    // Bytes after the comment are ignored.
    let mut b = hex(HOST_ANNOUNCEMENT);
    b.extend_from_slice(b"junk");
    assert_eq!(
        BrowserFrame::parse(&b).unwrap(),
        BrowserFrame::parse(&hex(HOST_ANNOUNCEMENT)).unwrap()
    );
}

#[test]
fn string_errors() {
    // RequestElection name of 16 characters.
    let mut b = hex("08 01 020f0114 70170000 00000000");
    b.extend_from_slice(b"ABCDEFGHIJKLMNOP\0");
    let e = err(&b);
    assert_eq!(
        e,
        ParseError::malformed(
            "RequestElection ServerName",
            14,
            "string is longer than the field allows"
        )
    );
    // Truncated before the name.
    let e = err(&hex("08 01 020f0114 70170000 000000"));
    assert_eq!((e.field, e.offset), ("RequestElection Unused", 10));
    let e = err(&hex("08 01 020f0114 70170000 00000000"));
    assert_eq!(
        e,
        ParseError::truncated("RequestElection ServerName", 14, 1, 0)
    );
    let e = err(&hex("0b 4142"));
    assert_eq!((e.field, e.offset), ("BecomeBackup BrowserToPromote", 1));
    let e = err(&hex("0d"));
    assert_eq!(
        (e.field, e.offset),
        ("MasterAnnouncement MasterBrowserServerName", 1)
    );
    let e = err(&hex("02"));
    assert_eq!((e.field, e.offset), ("AnnouncementRequest Reserved", 1));
    let e = err(&hex("0e"));
    assert_eq!((e.field, e.offset), ("ResetStateRequest Type", 1));
    let e = err(&hex("09 04 48aecc"));
    assert_eq!((e.field, e.offset), ("GetBackupListRequest Token", 2));
}

#[test]
fn backup_list_impossible_counts() {
    // 255 names announced, 6 bytes present: refused before anything is reserved.
    let e = err(&hex("0a ff 48aecc52 414c50484100"));
    assert_eq!(
        e,
        ParseError::truncated("GetBackupListResponse BackupServerList", 6, 255, 6)
    );
    // Two names announced, one present.
    let e = err(&hex("0a 02 48aecc52 414c50484100"));
    assert_eq!(
        e,
        ParseError::truncated("GetBackupListResponse BackupServerList", 12, 1, 0)
    );
    // Enough bytes, but the second name has no NUL.
    let e = err(&hex("0a 02 48aecc52 414c50484100 4142"));
    assert_eq!(
        (e.field, e.offset),
        ("GetBackupListResponse BackupServerList", 12)
    );
    let e = err(&hex("0a 01 48ae"));
    assert_eq!((e.field, e.offset), ("GetBackupListResponse Token", 2));
    // Count 0 is a valid (empty) list.
    let f = BrowserFrame::parse(&hex("0a 00 01000000")).unwrap();
    assert_eq!(
        f,
        BrowserFrame::GetBackupListResponse(GetBackupListResponse {
            token: 1,
            servers: vec![]
        })
    );
}

#[test]
fn emit_rejects_unrepresentable_values() {
    let too_long = |f: &BrowserFrame| {
        assert!(
            matches!(f.to_vec(), Err(EmitError::FieldTooLarge { .. })),
            "{f:?}"
        )
    };
    let mut a = Announcement::new(name("ALPHA"), ServerType::SERVER, 60_000, vec![b'c'; 48]);
    assert!(BrowserFrame::HostAnnouncement(a.clone()).to_vec().is_ok());
    a.comment.push(b'c');
    let e = BrowserFrame::HostAnnouncement(a.clone())
        .to_vec()
        .unwrap_err();
    assert!(
        matches!(
            e,
            EmitError::FieldTooLarge {
                field: "HostAnnouncement Comment",
                ..
            }
        ),
        "{e}"
    );
    a.comment = b"a\0b".to_vec();
    too_long(&BrowserFrame::LocalMasterAnnouncement(a));
    too_long(&BrowserFrame::AnnouncementRequest(AnnouncementRequest {
        reserved: 0,
        response_name: name("A"),
        trailing: vec![0; MAX_FRAME_LEN],
    }));
    // 26 names of 15 bytes: 6 + 26 × 16 = 422 bytes, over MAX_FRAME_LEN.
    let servers = vec![name("ABCDEFGHIJKLMNO"); 26];
    too_long(&BrowserFrame::GetBackupListResponse(
        GetBackupListResponse { token: 0, servers },
    ));
    let servers = vec![ServerName::EMPTY; 256];
    let e = BrowserFrame::GetBackupListResponse(GetBackupListResponse { token: 0, servers })
        .to_vec()
        .unwrap_err();
    assert!(matches!(
        e,
        EmitError::FieldTooLarge {
            field: "GetBackupListResponse BackupServerCount",
            ..
        }
    ));
    let lm = LanmanFrame::HostAnnouncement(LanmanAnnouncement::new(
        name("A"),
        ServerType::SERVER,
        60,
        vec![b'x'; 49],
    ));
    assert!(matches!(lm.to_vec(), Err(EmitError::FieldTooLarge { .. })));
}

#[test]
fn emit_into_small_buffer() {
    let f = BrowserFrame::parse(&hex(HOST_ANNOUNCEMENT)).unwrap();
    let mut buf = [0u8; 20];
    assert!(matches!(
        f.emit(&mut buf),
        Err(EmitError::BufferTooSmall { .. })
    ));
}

#[test]
fn server_name_rules() {
    assert_eq!(name("alpha").as_bytes(), b"ALPHA");
    assert_eq!(name("alpha").to_string(), "ALPHA");
    assert_eq!("bravo".parse::<ServerName>().unwrap(), name("BRAVO"));
    assert!(matches!(
        ServerName::new("ABCDEFGHIJKLMNOP"),
        Err(NameError::TooLong(_))
    ));
    assert!(ServerName::new("ABCDEFGHIJKLMNO").is_ok());
    assert!(matches!(
        ServerName::new("A\tB"),
        Err(NameError::BadByte { byte: 9, .. })
    ));
    assert!(matches!(
        ServerName::from_bytes(b"A\0B"),
        Err(NameError::BadByte { byte: 0, .. })
    ));
    // from_bytes keeps case.
    assert_eq!(
        ServerName::from_bytes(b"mixed").unwrap().as_bytes(),
        b"mixed"
    );
    let nb = NetbiosName::new("charlie", 0x20).unwrap();
    assert_eq!(ServerName::from_netbios_name(&nb).unwrap(), name("CHARLIE"));
    assert!(name("ALPHA").eq_ignore_case(&ServerName::from_bytes(b"alpha").unwrap()));
}

#[test]
fn name_order_follows_samba_strcasecmp_m() {
    let n = |b: &[u8]| ServerName::from_bytes(b).unwrap();
    assert_eq!(n(b"ALPHA").cmp_ignore_case(&n(b"BRAVO")), Ordering::Less);
    assert_eq!(n(b"alpha").cmp_ignore_case(&n(b"ALPHA")), Ordering::Equal);
    assert_eq!(n(b"ALPHA").cmp_ignore_case(&n(b"ALPHAB")), Ordering::Less);
    assert_eq!(n(b"").cmp_ignore_case(&n(b"A")), Ordering::Less);
    // A difference that is not a case difference compares the bytes as sent: 'a' (0x61) is
    // after '_' (0x5F) although 'A' (0x41) is before it.
    assert_eq!(n(b"a").cmp_ignore_case(&n(b"_")), Ordering::Greater);
    assert_eq!(n(b"A").cmp_ignore_case(&n(b"_")), Ordering::Less);
}

#[test]
fn criteria_fields() {
    let c = ElectionCriteria::from_bits(0x4101_0F0A);
    assert_eq!(c.os_level(), 65);
    assert_eq!(c.browser_version(), 0x010F);
    assert_eq!(
        c.desire(),
        ElectionDesire::PREFERRED_MASTER | ElectionDesire::STANDBY
    );
    assert_eq!(
        ElectionCriteria::new(
            65,
            ElectionDesire::PREFERRED_MASTER | ElectionDesire::STANDBY
        ),
        c
    );
    // Samba while master: |= 0x05.
    let lmb = ElectionCriteria::SAMBA_DEFAULT.with_desire(
        ElectionCriteria::SAMBA_DEFAULT.desire()
            | ElectionDesire::RUNNING_MASTER
            | ElectionDesire::RUNNING_BACKUP,
    );
    assert_eq!(lmb.bits(), 0x1401_0F07);
    // Unknown desire bits are kept.
    assert_eq!(ElectionCriteria::from_bits(0x50).desire().bits(), 0x50);
    assert!(format!("{c:?}").contains("0x41010f0a"));
}

fn ballot(criteria: u32, uptime_ms: u32, n: &str) -> RequestElection {
    RequestElection::new(ElectionCriteria::from_bits(criteria), uptime_ms, name(n))
}

#[test]
fn election_order() {
    // Preferred master with os level 65 beats Samba's default whatever the uptime.
    let alpha = ballot(0x1401_0F02, 3_600_000, "ALPHA");
    let bravo = ballot(0x4101_0F0A, 6000, "BRAVO");
    assert!(bravo.beats(&alpha));
    assert!(!alpha.beats(&bravo));
    assert_eq!(alpha.compare(&bravo), Ordering::Less);
    // Same criteria: the longer uptime wins.
    let old = ballot(0x1401_0F02, 10_000, "ZULU");
    let young = ballot(0x1401_0F02, 8000, "ALPHA");
    assert!(old.beats(&young));
    // Uptimes in the same second tie (Samba compares seconds), then the lower name wins.
    let a = ballot(0x1401_0F02, 6000, "ALPHA");
    let b = ballot(0x1401_0F02, 6999, "bravo");
    assert!(a.beats(&b));
    assert!(!b.beats(&a));
    // Case does not matter for the name.
    let a2 = ballot(0x1401_0F02, 6000, "ALPHA");
    let a3 = RequestElection {
        server_name: ServerName::from_bytes(b"alpha").unwrap(),
        ..a2
    };
    assert_eq!(a2.compare(&a3), Ordering::Equal);
    assert!(!a2.beats(&a3) && !a3.beats(&a2));
    // A higher version wins first; a forced election loses to any candidate.
    let v2 = RequestElection {
        version: 2,
        ..ballot(0, 0, "Z")
    };
    assert!(v2.beats(&bravo));
    assert!(alpha.beats(&RequestElection::force()));
    assert!(ballot(0, 0, "").beats(&RequestElection::force()));
}

#[test]
fn lanman_golden() {
    // As Samba's send_lm_announcement builds it: type, version 6.1, 60 s, name, comment.
    let b = hex("0100 039a8100 06 01 3c00 414c50484100 4c414220484f5354204e423100");
    let f = LanmanFrame::parse(&b).unwrap();
    let made = LanmanFrame::HostAnnouncement(LanmanAnnouncement::new(
        name("ALPHA"),
        ServerType::from_bits_retain(0x0081_9A03),
        60,
        "LAB HOST NB1",
    ));
    assert_eq!(f, made);
    assert_eq!(f.opcode(), LANMAN_HOST_ANNOUNCEMENT);
    assert_eq!(made.to_vec().unwrap(), b);
    assert_eq!(made.buffer_len(), b.len());

    let r = LanmanFrame::parse(&hex("0200 01")).unwrap();
    assert_eq!(r, LanmanFrame::AnnouncementRequest { body: vec![1] });
    assert_eq!(r.to_vec().unwrap(), hex("0200 01"));

    let e = LanmanFrame::parse(&[0x01]).unwrap_err();
    assert_eq!(e, ParseError::truncated("LANMAN opcode", 0, 2, 1));
    let e = LanmanFrame::parse(&hex("0300")).unwrap_err();
    assert_eq!((e.field, e.offset), ("LANMAN opcode", 0));
    assert!(matches!(e.kind, ErrorKind::BadValue { found: 3, .. }));
    let e = LanmanFrame::parse(&b[..12]).unwrap_err();
    assert_eq!(
        (e.field, e.offset),
        ("LANMAN HostAnnouncement ServerName", 10)
    );
    let e = LanmanFrame::parse(&b[..b.len() - 1]).unwrap_err();
    assert_eq!((e.field, e.offset), ("LANMAN HostAnnouncement Comment", 16));
}

#[test]
fn server_type_bits() {
    assert_eq!(ServerType::ALL.bits(), u32::MAX);
    let t = ServerType::from_bits_retain(0x0100_0001);
    assert!(t.contains(ServerType::WORKSTATION));
    assert_eq!(t.bits(), 0x0100_0001, "unknown bit 0x01000000 kept");
}

proptest! {
    #[test]
    fn browser_round_trip(f in strategy::browser_frame()) {
        let b = emit(&f);
        prop_assert!(b.len() <= MAX_FRAME_LEN);
        prop_assert_eq!(BrowserFrame::parse(&b).unwrap(), f);
    }

    #[test]
    fn lanman_round_trip(f in strategy::lanman_frame()) {
        let b = f.to_vec().unwrap();
        prop_assert_eq!(b.len(), f.buffer_len());
        prop_assert_eq!(LanmanFrame::parse(&b).unwrap(), f);
    }

    #[test]
    fn parse_never_panics(b in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(f) = BrowserFrame::parse(&b) {
            // Whatever parses and can be emitted parses back to itself.
            if let Ok(e) = f.to_vec() {
                prop_assert_eq!(BrowserFrame::parse(&e).unwrap(), f);
            }
        }
        if let Ok(f) = LanmanFrame::parse(&b) {
            if let Ok(e) = f.to_vec() {
                prop_assert_eq!(LanmanFrame::parse(&e).unwrap(), f);
            }
        }
    }

    #[test]
    fn parse_never_panics_on_known_opcodes(
        op in prop::sample::select(vec![1u8, 2, 8, 9, 10, 11, 12, 13, 14, 15]),
        rest in proptest::collection::vec(any::<u8>(), 0..80),
    ) {
        let mut b = vec![op];
        b.extend_from_slice(&rest);
        let _ = BrowserFrame::parse(&b);
    }

    #[test]
    fn election_order_is_antisymmetric(a in strategy::request_election(), b in strategy::request_election()) {
        prop_assert_eq!(a.compare(&b), b.compare(&a).reverse());
    }
}
