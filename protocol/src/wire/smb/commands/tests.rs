use super::*;
use crate::wire::Emit;
use crate::wire::smb::command;

fn hex(s: &str) -> Vec<u8> {
    let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    s.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

// Messages of tests/vectors/smb1-netserverenum2.pcapng (smbclient 4.17 to Samba 4.17 smbd).
const NEGPROT_REQUEST: &str = "ff534d4272000000001843c00000000000000000000000000000feff00000000\
    001b00024e54204c414e4d414e20312e3000024e54204c4d20302e313200";
const NEGPROT_RESPONSE: &str = "ff534d4272000000008803c00000000000000000000000000000feff00000000\
    110000033200010004410000000001001c2f0000fdf3800080160a4aff79dd010000082000282ede8d209888d2\
    4c004100420057004700000042005200410056004f000000";
const SESSSETUP_REQUEST: &str = "ff534d4273000000001843c00000000000000000000000000000192f00000100\
    0dff000000ffff0200192f1c2f0000000000000000000054c000002d000072006f006f00740000004c00410042\
    0057004700000055006e00690078000000530061006d00620061000000";
const SESSSETUP_RESPONSE: &str = "ff534d4273000000008803c00000000000000000000000000000192fa31d0100\
    03ff00000001004f0000570069006e0064006f0077007300200036002e0031000000530061006d00620061002000\
    34002e00310037002e00310032002d00440065006200690061006e0000004c0041004200570047000000";
const TCON_REQUEST: &str = "ff534d4275000000001843c0000000000000000000000000ffff192fa31d0200\
    04ff0000000c0001002b00005c005c003100390038002e00310038002e0030002e0032005c0049005000430024\
    0000003f3f3f3f3f00";
const TCON_RESPONSE: &str = "ff534d4275000000008803c0000000000000000000000000d066192fa31d0200\
    07ff0000000100ff010000ff010000070049504300000000";

fn msg(s: &str) -> (Vec<u8>, SmbMessage) {
    let b = hex(s);
    let m = SmbMessage::parse(&b).unwrap();
    (b, m)
}

#[test]
fn negotiate_golden() {
    let (_, m) = msg(NEGPROT_REQUEST);
    let req = NegotiateRequest::parse(&m).unwrap();
    assert_eq!(req.dialects, [&b"NT LANMAN 1.0"[..], &b"NT LM 0.12"[..]]);
    assert_eq!(req.dialect_index(DIALECT_NT_LM_012), Some(1));
    assert_eq!(req.dialect_index(b"SMB 2.002"), None);
    assert_eq!(req.to_message(m.header), m);

    let (b, m) = msg(NEGPROT_RESPONSE);
    let r = NegotiateResponse::parse(&m).unwrap();
    // Samba answers with "NT LANMAN 1.0" (index 0), which it treats as an alias of NT1.
    assert_eq!(r.dialect_index, 0);
    assert_eq!(
        r.security_mode,
        SecurityMode::USER_SECURITY | SecurityMode::ENCRYPT_PASSWORDS
    );
    assert_eq!((r.max_mpx_count, r.max_number_vcs), (50, 1));
    assert_eq!((r.max_buffer_size, r.max_raw_size), (16644, 65536));
    assert_eq!(r.capabilities.bits(), 0x0080_f3fd);
    assert!(!r.capabilities.contains(Capabilities::EXTENDED_SECURITY));
    assert_eq!(r.challenge.len(), 8);
    assert_eq!(
        (r.domain_name.as_str(), r.server_name.as_str()),
        ("LABWG", "BRAVO")
    );
    assert_eq!(
        r.to_message(m.header).unwrap().to_vec().unwrap(),
        b,
        "Samba's bytes"
    );
}

#[test]
fn session_setup_golden() {
    let (_, m) = msg(SESSSETUP_REQUEST);
    let SessionSetupRequest::Nt1 {
        andx_command,
        max_buffer_size,
        session_key,
        oem_password_len,
        unicode_password_len,
        capabilities,
        ..
    } = SessionSetupRequest::parse(&m).unwrap()
    else {
        panic!("not the 13-word form")
    };
    assert_eq!(andx_command, ANDX_NONE);
    assert_eq!(max_buffer_size, 0xFFFF);
    assert_eq!(
        session_key, 0x2f1c,
        "echoes the negotiate response's SessionKey"
    );
    assert_eq!((oem_password_len, unicode_password_len), (0, 0));
    assert!(capabilities.contains(Capabilities::UNICODE | Capabilities::STATUS32));

    let (b, m) = msg(SESSSETUP_RESPONSE);
    let r = SessionSetupResponse::parse(&m).unwrap();
    assert_eq!(r.action, ACTION_GUEST);
    assert_eq!(r.native_os, "Windows 6.1");
    assert_eq!(r.native_lanman, "Samba 4.17.12-Debian");
    assert_eq!(r.primary_domain, "LABWG");
    assert_eq!(
        r.to_message(m.header).to_vec().unwrap(),
        b,
        "Samba's bytes, pad included"
    );
    // ASCII when Flags2 has no UNICODE.
    let mut h = m.header;
    h.flags2.remove(crate::wire::smb::SmbFlags2::UNICODE);
    let a = r.to_message(h);
    assert_eq!(a.bytes, b"Windows 6.1\0Samba 4.17.12-Debian\0LABWG\0");
    assert_eq!(SessionSetupResponse::parse(&a).unwrap(), r);
}

#[test]
fn tree_connect_golden() {
    let (_, m) = msg(TCON_REQUEST);
    let t = TreeConnectRequest::parse(&m).unwrap();
    assert_eq!(
        t.flags,
        TreeConnectFlags::EXTENDED_RESPONSE | TreeConnectFlags::EXTENDED_SIGNATURES
    );
    assert_eq!(t.password, [0]);
    assert_eq!(t.path, "\\\\198.18.0.2\\IPC$");
    assert_eq!(t.share(), "IPC$");
    assert_eq!(t.service, b"?????");

    let (b, m) = msg(TCON_RESPONSE);
    let r = TreeConnectResponse::parse(&m).unwrap();
    assert_eq!(r.optional_support, SUPPORT_SEARCH_BITS);
    assert_eq!(r.access_rights, Some((0x1ff, 0x1ff)));
    assert_eq!(r.service, b"IPC");
    assert_eq!(r.native_file_system, "");
    assert_eq!(r.to_message(m.header).to_vec().unwrap(), b, "Samba's bytes");
    let short = TreeConnectResponse {
        access_rights: None,
        ..r.clone()
    };
    let sm = short.to_message(m.header);
    assert_eq!(sm.word_count(), 3);
    assert_eq!(TreeConnectResponse::parse(&sm).unwrap(), short);
}

#[test]
fn errors_name_field_and_offset() {
    let h = SmbHeader::new(command::NEGOTIATE);
    let bad = SmbMessage {
        header: h,
        words: Vec::new(),
        bytes: b"\x02NT LM 0.12\0\x03x\0".to_vec(),
        trailing: Vec::new(),
    };
    let e = NegotiateRequest::parse(&bad).unwrap_err();
    assert_eq!((e.field, e.offset), ("BufferFormat", 35 + 12));
    let bad = SmbMessage {
        bytes: b"\x02NT LM".to_vec(),
        ..bad
    };
    let e = NegotiateRequest::parse(&bad).unwrap_err();
    assert_eq!((e.field, e.offset), ("DialectString", 36));
    let bad = SmbMessage {
        words: vec![0, 0],
        ..bad
    };
    let e = NegotiateRequest::parse(&bad).unwrap_err();
    assert_eq!((e.field, e.offset), ("WordCount", 32));

    let (_, mut m) = msg(SESSSETUP_REQUEST);
    m.words[14] = 0xFF; // OEMPasswordLen 255
    let e = SessionSetupRequest::parse(&m).unwrap_err();
    assert_eq!((e.field, e.offset), ("UnicodePasswordLen", 33 + 16));
    m.words.truncate(20);
    let e = SessionSetupRequest::parse(&m).unwrap_err();
    assert_eq!((e.field, e.offset), ("WordCount", 32));

    let (_, mut m) = msg(TCON_REQUEST);
    m.words[6] = 0x7F; // PasswordLength 127
    let e = TreeConnectRequest::parse(&m).unwrap_err();
    assert_eq!((e.field, e.offset), ("PasswordLength", 33 + 6));
    let (_, mut m) = msg(TCON_REQUEST);
    m.bytes.truncate(20);
    let e = TreeConnectRequest::parse(&m).unwrap_err();
    assert_eq!((e.field, e.offset), ("Path", 44));
}

#[test]
fn negotiate_response_round_trip_and_limits() {
    let r = NegotiateResponse {
        dialect_index: 3,
        security_mode: SecurityMode::USER_SECURITY,
        max_mpx_count: 1,
        max_number_vcs: 1,
        max_buffer_size: 4096,
        max_raw_size: 0,
        session_key: 7,
        capabilities: Capabilities::UNICODE,
        system_time: 1,
        server_time_zone: -60,
        challenge: Vec::new(),
        domain_name: "WG é".into(),
        server_name: String::new(),
    };
    let m = r.to_message(SmbHeader::new(command::NEGOTIATE)).unwrap();
    assert_eq!(NegotiateResponse::parse(&m).unwrap(), r);
    let bad = NegotiateResponse {
        challenge: vec![0; 4],
        ..r
    };
    assert!(bad.to_message(SmbHeader::new(command::NEGOTIATE)).is_err());
    let none = NegotiateResponse::no_dialect(SmbHeader::new(command::NEGOTIATE));
    assert_eq!(none.word(0), Some(NO_DIALECT));
    assert!(NegotiateResponse::parse(&none).is_err());
}

#[test]
fn client_requests_rebuild_smbclients_bytes() {
    // The anonymous session setup and the IPC$ tree connect, written from their fields, are
    // smbclient's messages byte for byte.
    let (_, m) = msg(SESSSETUP_REQUEST);
    let req = SessionSetupRequest::parse(&m).unwrap();
    let strings = SessionSetupStrings {
        account: "root".into(),
        primary_domain: "LABWG".into(),
        native_os: "Unix".into(),
        native_lanman: "Samba".into(),
    };
    assert_eq!(req.to_message(m.header, &strings).unwrap(), m);
    let ext = SessionSetupRequest::ExtendedSecurity {
        max_buffer_size: 1,
        security_blob_len: 0,
    };
    assert!(ext.to_message(m.header, &strings).is_err());
    // ASCII strings without pad when Flags2 has no UNICODE; passwords as zeros.
    let mut h = m.header;
    h.flags2.remove(crate::wire::smb::SmbFlags2::UNICODE);
    let SessionSetupRequest::Nt1 {
        andx_command,
        max_buffer_size,
        max_mpx_count,
        vc_number,
        session_key,
        capabilities,
        ..
    } = req
    else {
        unreachable!()
    };
    let with_pw = SessionSetupRequest::Nt1 {
        andx_command,
        max_buffer_size,
        max_mpx_count,
        vc_number,
        session_key,
        oem_password_len: 1,
        unicode_password_len: 0,
        capabilities,
    };
    let a = with_pw
        .to_message(h, &SessionSetupStrings::default())
        .unwrap();
    assert_eq!(a.bytes, b"\0\0\0\0\0");
    assert_eq!(SessionSetupRequest::parse(&a).unwrap(), with_pw);

    let (_, m) = msg(TCON_REQUEST);
    let t = TreeConnectRequest::parse(&m).unwrap();
    assert_eq!(t.to_message(m.header).unwrap(), m);
    let mut h = m.header;
    h.flags2.remove(crate::wire::smb::SmbFlags2::UNICODE);
    let a = t.to_message(h).unwrap();
    assert_eq!(a.bytes, b"\0\\\\198.18.0.2\\IPC$\0?????\0");
    assert_eq!(TreeConnectRequest::parse(&a).unwrap(), t);
}

#[test]
fn status_names() {
    assert_eq!(
        ntstatus::name(ntstatus::ACCESS_DENIED),
        Some("STATUS_ACCESS_DENIED")
    );
    assert_eq!(ntstatus::name(0xC000_0001), None);
    assert_eq!(
        NegotiateRequest::parse(&msg(NEGPROT_REQUEST).1)
            .unwrap()
            .dialects,
        CLIENT_DIALECTS.map(<[u8]>::to_vec),
        "smbclient's dialects on its SMB1-only reconnect"
    );
}
