//! The SMB1 listing server against the Samba 4.17 captures and against hostile clients.
//!
//! Replay: every client→server frame of the three `smb1-*` captures is fed to our server, with
//! a listing source holding what the capture's Samba peer listed. UIDs and TIDs in the client's
//! frames are rewritten to the ones our server handed out (as a real client would use them).
//! Our replies must carry what smbclient relies on; where they differ from Samba's on purpose,
//! the test says why.

mod common;
mod session_support;

use std::borrow::Cow;

use nbt_protocol::engine::Instant;
use nbt_protocol::engine::session::{
    BrowseListing, CloseReason, ListedServer, ListedWorkgroup, ListingSource, LocalServer, Reply,
    SessionConfig, Share, SmbListingServer,
};
use nbt_protocol::engine::{Rng, browser::list::BrowseList};
use nbt_protocol::wire::browse::{Announcement, ServerName, ServerType};
use nbt_protocol::wire::rap::records::{ServerInfo1, ShareInfo1, decode_entries, share_type};
use nbt_protocol::wire::rap::{
    InfoLevel, RapCall, RapRequest, RapResponse, RapValue, ServerEnumRequest, opcode, status,
};
use nbt_protocol::wire::smb::commands::{
    Capabilities, NegotiateRequest, NegotiateResponse, SessionSetupResponse, TreeConnectResponse,
    ntstatus,
};
use nbt_protocol::wire::smb::{
    SmbFlags, SmbFlags2, SmbHeader, SmbMessage, TransactionFlags, TransactionRequest,
    TransactionResponse, command,
};
use nbt_protocol::wire::ssn::{SessionPacket, SessionRequest};
use nbt_protocol::{Emit, NetbiosName, ScopedName};
use session_support::*;

// ---------------------------------------------------------------------------------------------
// Replay.

/// One client frame of a capture, our reply, and the Samba reply at the same position.
struct Step {
    request: SmbMessage,
    ours: Vec<Vec<u8>>,
}

/// Feeds a capture's client frames to our server (UID and TID rewritten to ours); `inject`
/// may replace a client frame by others. Returns the reply to the SESSION REQUEST and the
/// steps.
fn replay(
    file: &str,
    addr: [u8; 4],
    src: &dyn ListingSource,
    inject: impl Fn(&SmbMessage) -> Option<Vec<Vec<u8>>>,
) -> (Vec<Vec<u8>>, Vec<Step>) {
    let conn = &common::tcp(file)[0];
    let mut server = new_server(addr);
    let frames = nbss_frames(&conn.to_server);
    let first = server.handle_frame(&frames[0], src);
    assert_eq!(first.close, None, "{file}");
    let (mut uid, mut tid) = (None, None);
    let mut steps = Vec::new();
    for f in &frames[1..] {
        let m = smb_of(f);
        let fed = inject(&m).unwrap_or_else(|| vec![f.clone()]);
        for f in fed {
            let mut f = f.clone();
            if let Some(u) = uid {
                f[4 + 28..4 + 30].copy_from_slice(&u16::to_le_bytes(u));
            }
            if let (Some(t), true) = (tid, f[4 + 4] != command::TREE_CONNECT_ANDX) {
                f[4 + 24..4 + 26].copy_from_slice(&u16::to_le_bytes(t));
            }
            let r = server.handle_frame(&f, src);
            assert_eq!(r.close, None, "{file}: {:?}", r.close);
            for out in &r.frames {
                let o = smb_of(out);
                assert!(o.header.is_reply());
                assert_eq!(o.header.mid, smb_of(&f).header.mid, "MID is echoed");
                assert!(o.header.flags2.contains(SmbFlags2::NT_STATUS));
                if o.header.status == 0 {
                    match o.header.command {
                        command::SESSION_SETUP_ANDX => uid = Some(o.header.uid),
                        command::TREE_CONNECT_ANDX => tid = Some(o.header.tid),
                        _ => {}
                    }
                }
            }
            steps.push(Step {
                request: smb_of(&f),
                ours: r.frames,
            });
        }
    }
    (first.frames, steps)
}

/// Samba's replies of a capture, as SMB messages, TRANSACTION pieces grouped by MID.
fn samba_replies(file: &str) -> Vec<Vec<Vec<u8>>> {
    let conn = &common::tcp(file)[0];
    let mut out: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut last_mid = None;
    for f in nbss_frames(&conn.to_client).into_iter().skip(1) {
        let mid = smb_of(&f).header.mid;
        if last_mid == Some(mid) {
            out.last_mut().unwrap().push(f);
        } else {
            out.push(vec![f]);
        }
        last_mid = Some(mid);
    }
    out
}

fn check_handshake(file: &str, steps: &[Step], samba: &[Vec<Vec<u8>>], domain: &str, server: &str) {
    // NEGOTIATE: WordCount 17, NT LM 0.12 at its index in the client's list, no extended
    // security, an 8-byte challenge. Samba answers index 0 ("NT LANMAN 1.0", an alias of NT1
    // for it); we pick "NT LM 0.12" by name, at index 1. smbclient maps both to NT1.
    let req = NegotiateRequest::parse(&steps[0].request).unwrap();
    let ours = NegotiateResponse::parse(&smb_of(&steps[0].ours[0])).unwrap();
    let theirs = NegotiateResponse::parse(&smb_of(&samba[0][0])).unwrap();
    assert_eq!(
        req.dialects[usize::from(ours.dialect_index)],
        b"NT LM 0.12",
        "{file}"
    );
    assert_eq!(theirs.dialect_index, 0, "{file}");
    assert_eq!(ours.challenge.len(), 8);
    assert!(!ours.capabilities.contains(Capabilities::EXTENDED_SECURITY));
    assert!(
        ours.capabilities
            .contains(Capabilities::UNICODE | Capabilities::STATUS32)
    );
    assert!(
        ours.max_buffer_size >= 1024,
        "smbclient needs at least 1024"
    );
    assert_eq!(
        (ours.domain_name.as_str(), ours.server_name.as_str()),
        (domain, server)
    );
    // With extended security Samba sends a GUID and a SPNEGO blob instead of the names.
    if !theirs
        .capabilities
        .contains(Capabilities::EXTENDED_SECURITY)
    {
        assert_eq!(
            (theirs.domain_name.as_str(), theirs.server_name.as_str()),
            (domain, server)
        );
    }
    assert_eq!(ours.security_mode, theirs.security_mode);
    assert_eq!(ours.max_mpx_count, theirs.max_mpx_count);
}

fn check_session_and_tree(
    file: &str,
    ss: &Step,
    samba_ss: &[Vec<u8>],
    tc: &Step,
    samba_tc: &[Vec<u8>],
) {
    // SESSION_SETUP_ANDX: WordCount 3 and PrimaryDomain = the workgroup, as Samba; only the
    // native OS and LAN manager strings are ours.
    let ours = SessionSetupResponse::parse(&smb_of(&ss.ours[0])).unwrap();
    let theirs = SessionSetupResponse::parse(&smb_of(&samba_ss[0])).unwrap();
    assert_eq!(ours.primary_domain, theirs.primary_domain, "{file}");
    assert_eq!(ours.action, theirs.action, "{file}: guest");
    assert_ne!(smb_of(&ss.ours[0]).header.uid, 0);
    // TREE_CONNECT_ANDX to IPC$: the extended 7-word form smbclient asked for, as Samba.
    let ours = TreeConnectResponse::parse(&smb_of(&tc.ours[0])).unwrap();
    let theirs = TreeConnectResponse::parse(&smb_of(&samba_tc[0])).unwrap();
    assert_eq!(ours, theirs, "{file}");
    assert_eq!(smb_of(&tc.ours[0]).word_count(), 7);
}

#[test]
fn replay_netserverenum2() {
    let file = "smb1-netserverenum2.pcapng";
    let (local, list) = labwg_bravo();
    let src = BrowseListing {
        local: &local,
        list: Some(&list),
    };
    let (first, steps) = replay(file, [198, 18, 0, 2], &src, |_| None);
    assert_eq!(
        first,
        [[0x82, 0, 0, 0]],
        "called 198.18.0.2<20>: our address"
    );
    let samba = samba_replies(file);
    assert_eq!(steps.len(), samba.len());
    check_handshake(file, &steps, &samba, "LABWG", "BRAVO");
    check_session_and_tree(file, &steps[1], &samba[1], &steps[2], &samba[2]);

    // RAP NetServerEnum2 SV_TYPE_ALL for LABWG, then DOMAIN_ENUM: our parameters and data
    // blocks are Samba's, byte for byte (the source's versions are 0.0, as Samba sends them).
    for (i, expect) in [(3, vec!["ALPHA", "BRAVO", "CHARLIE"]), (4, vec!["LABWG"])] {
        let ours = reassemble(&steps[i].ours, 65535);
        let theirs = reassemble(&samba[i], 65535);
        assert_eq!(ours, theirs, "{file}: RAP reply {i}");
        let r = RapResponse::parse(&ours.0, &ours.1).unwrap();
        assert_eq!(r.status, status::SUCCESS);
        assert_eq!(names(&servers_of(&r)), expect);
    }
    let r = rap_reply(&steps[3].ours, 65535);
    let s = servers_of(&r);
    assert_eq!(
        s[1].comment, b"lab host nb2",
        "pointers resolve to the right comments"
    );
    assert_eq!(s[2].server_type.bits(), 0x0081_9a03);
    let r = rap_reply(&steps[4].ours, 65535);
    assert_eq!(
        servers_of(&r)[0].comment,
        b"BRAVO",
        "workgroup comment = its master"
    );
    assert_eq!(servers_of(&r)[0].server_type.bits(), 0x8000_1000);
    // TREE_DISCONNECT.
    assert_eq!(smb_of(&steps[5].ours[0]).header.status, 0);
}

#[test]
fn replay_empty_domain() {
    // smbclient with SPNEGO: its NEGOTIATE asks for extended security and its two session
    // setups are the 12-word SPNEGO form. We never offer extended security, so we answer
    // those with STATUS_NOT_SUPPORTED; a real smbclient, seeing no CAP_EXTENDED_SECURITY in
    // our NEGOTIATE response, sends the 13-word anonymous form instead, which the replay feeds
    // after the second SPNEGO leg.
    let file = "smb1-netserverenum2-emptydomain.pcapng";
    let (local, list) = labwg_bravo();
    let src = BrowseListing {
        local: &local,
        list: Some(&list),
    };
    let legs = std::cell::Cell::new(0);
    let (_, steps) = replay(file, [198, 18, 0, 2], &src, |m| {
        if m.header.command != command::SESSION_SETUP_ANDX {
            return None;
        }
        legs.set(legs.get() + 1);
        let spnego = m.clone().to_vec().unwrap();
        Some(if legs.get() == 2 {
            vec![session_message(&spnego), session_setup(0xFFFF)]
        } else {
            vec![session_message(&spnego)]
        })
    });
    let samba = samba_replies(file);
    check_handshake(file, &steps, &samba, "LABWG", "BRAVO");
    assert_eq!(
        smb_of(&steps[1].ours[0]).header.status,
        ntstatus::NOT_SUPPORTED
    );
    assert_eq!(
        smb_of(&steps[2].ours[0]).header.status,
        ntstatus::NOT_SUPPORTED
    );
    // Samba's last SPNEGO leg ends its byte block with PrimaryDomain "LABWG", as ours does.
    let ss = SessionSetupResponse::parse(&smb_of(&steps[3].ours[0])).unwrap();
    assert_eq!(ss.primary_domain, "LABWG");
    let theirs = smb_of(&samba[2][0]);
    assert!(
        theirs
            .bytes
            .ends_with(&[b'L', 0, b'A', 0, b'B', 0, b'W', 0, b'G', 0, 0, 0])
    );
    let ours = TreeConnectResponse::parse(&smb_of(&steps[4].ours[0])).unwrap();
    assert_eq!(
        ours,
        TreeConnectResponse::parse(&smb_of(&samba[3][0])).unwrap()
    );

    // NetServerEnum2 SV_TYPE_ALL with an empty domain: Samba returned no server (status 0,
    // 0 entries); we read the empty domain as our workgroup, as Windows does, and list it.
    let theirs = rap_reply(&samba[4], 65535);
    assert_eq!((theirs.status, theirs.entries_returned()), (0, Some(0)));
    let ours = rap_reply(&steps[5].ours, 65535);
    assert_eq!(ours.status, status::SUCCESS);
    assert_eq!(names(&servers_of(&ours)), ["ALPHA", "BRAVO", "CHARLIE"]);
    // DOMAIN_ENUM with an empty domain: the workgroups, as Samba (byte for byte).
    assert_eq!(
        reassemble(&steps[6].ours, 65535),
        reassemble(&samba[5], 65535)
    );
}

/// Every entry of Samba's replies in the continuation capture, each reply's entries, and the
/// list they come from (the continuation replies repeat the previous reply's last name).
fn continuation_entries(samba: &[Vec<Vec<u8>>]) -> (Vec<Vec<ServerInfo1>>, Vec<ServerInfo1>) {
    let mut replies = Vec::new();
    let mut all: Vec<ServerInfo1> = Vec::new();
    for pieces in &samba[3..7] {
        let r = rap_reply(pieces, 65535);
        let s = servers_of(&r);
        let skip = usize::from(all.last().is_some_and(|l| l.name == s[0].name));
        all.extend(s[skip..].iter().cloned());
        replies.push(s);
    }
    (replies, all)
}

#[test]
fn replay_netserverenum3_continuation() {
    let file = "smb1-netserverenum3-continuation.pcapng";
    let samba = samba_replies(file);
    let (samba_replies, all) = continuation_entries(&samba);
    assert_eq!(all.len(), 5003);
    let alpha = all
        .iter()
        .find(|s| s.name == sname("ALPHA"))
        .unwrap()
        .clone();
    let mut local = local("ALPHA", "LABWG", alpha.server_type.bits(), "");
    local.comment = alpha.comment.clone();
    let list = browse_list("LABWG", &all, &[("LABWG", "ALPHA")]);
    let src = BrowseListing {
        local: &local,
        list: Some(&list),
    };
    let (first, steps) = replay(file, [198, 18, 0, 1], &src, |_| None);
    assert_eq!(first, [[0x82, 0, 0, 0]]);
    check_handshake(file, &steps, &samba, "LABWG", "ALPHA");
    check_session_and_tree(file, &steps[1], &samba[1], &steps[2], &samba[2]);

    // NetServerEnum2 returns 234 with the 1640 entries that fit 65535 bytes; smbclient resumes
    // with NetServerEnum3 from the last name, three times. Our statuses, counts, entries and
    // data blocks are Samba's; only the split into TRANSACTION pieces differs (we fill the
    // client's 65535-byte buffer, smbd stops at 65219 bytes).
    let expect = [
        (234, 1640, 5003),
        (234, 1598, 3364),
        (234, 1598, 1767),
        (0, 170, 170),
    ];
    for (i, (st, returned, available)) in expect.into_iter().enumerate() {
        let step = &steps[3 + i];
        let ours = rap_reply(&step.ours, 65535);
        let theirs = rap_reply(&samba[3 + i], 65535);
        assert_eq!(
            (
                ours.status,
                ours.entries_returned(),
                ours.entries_available()
            ),
            (st, Some(returned), Some(available)),
            "reply {i}"
        );
        assert_eq!(ours, theirs, "reply {i}: Samba's parameters and data");
        assert_eq!(servers_of(&ours), samba_replies[i]);
        assert_eq!(
            step.ours.len(),
            1 + usize::from(ours.data.len() + 64 > 65535)
        );
        assert_eq!(samba[3 + i].len(), 1 + usize::from(i < 3));
    }
    let wg = rap_reply(&steps[7].ours, 65535);
    assert_eq!(names(&servers_of(&wg)), ["LABWG"]);
    assert_eq!(servers_of(&wg)[0].comment, b"ALPHA");

    // With the client's buffer at smbd's limit (65219 bytes), our pieces are smbd's: the same
    // offsets, displacements, counts and bytes; only the header differs (UID, TID, Flags2).
    let (_, steps) = replay(file, [198, 18, 0, 1], &src, |m| {
        (m.header.command == command::SESSION_SETUP_ANDX).then(|| {
            let mut m = m.clone();
            m.words[4..6].copy_from_slice(&65219u16.to_le_bytes());
            vec![session_message(&m.to_vec().unwrap())]
        })
    });
    for i in 3..8 {
        assert_eq!(steps[i].ours.len(), samba[i].len(), "reply {i}: pieces");
        for (ours, theirs) in steps[i].ours.iter().zip(&samba[i]) {
            let parse = |f: &[u8]| {
                let mut t = TransactionResponse::parse(&f[4..]).unwrap();
                t.header = SmbHeader::new(0);
                t
            };
            assert_eq!(parse(ours), parse(theirs), "reply {i}");
            assert_eq!(ours.len(), theirs.len());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Listing semantics.

fn labwg_with_other_workgroup() -> (LocalServer, BrowseList) {
    let servers = [
        server("alpha", 0x0000_1003, "a"),
        server("BRAVO", 0x0084_9a03, "lab host nb2"),
        server("zulu", 0x0000_0001, "workstation only"),
    ];
    let mut list = browse_list(
        "LABWG",
        &servers,
        &[("LABWG", "BRAVO"), ("OTHERWG", "OTHERHOST")],
    );
    let a = Announcement::new(
        sname("OTHERHOST"),
        ServerType::SERVER,
        720_000,
        b"x".to_vec(),
    );
    list.server_announced(Instant::now(), &sname("OTHERWG"), &a, None);
    let mut l = local("BRAVO", "LABWG", 0x0084_9a03, "lab host nb2");
    l.workgroup_master = Some(sname("BRAVO"));
    (l, list)
}

#[test]
fn empty_or_unknown_domain_is_our_workgroup() {
    let (local, list) = labwg_with_other_workgroup();
    let src = BrowseListing {
        local: &local,
        list: Some(&list),
    };
    let mut c = Client::connect(&src, [10, 0, 0, 2], 0xFFFF);
    for d in ["", "LABWG", "labwg", "NOSUCHGROUP", "A-NAME-LONGER-THAN-15"] {
        let r = c.rap(&enum2(0xFFFF_FFFF, d), 0xFFFF);
        assert_eq!(
            names(&servers_of(&r)),
            ["alpha", "BRAVO", "zulu"],
            "domain {d:?}"
        );
    }
    let no_domain = RapCall::NetServerEnum2(ServerEnumRequest {
        domain: None,
        ..match enum2(0xFFFF_FFFF, "") {
            RapCall::NetServerEnum2(e) => e,
            _ => unreachable!(),
        }
    });
    assert_eq!(
        names(&servers_of(&c.rap(&no_domain, 0xFFFF))),
        ["alpha", "BRAVO", "zulu"]
    );
    // A workgroup we know is listed as asked, without us.
    let r = c.rap(&enum2(0xFFFF_FFFF, "OTHERWG"), 0xFFFF);
    assert_eq!(names(&servers_of(&r)), ["OTHERHOST"]);
}

#[test]
fn type_mask_semantics() {
    let (local, list) = labwg_with_other_workgroup();
    let src = BrowseListing {
        local: &local,
        list: Some(&list),
    };
    let mut c = Client::connect(&src, [10, 0, 0, 2], 0xFFFF);
    // SV_TYPE_ALL: every server, no workgroup.
    let all = servers_of(&c.rap(&enum2(0xFFFF_FFFF, "LABWG"), 0xFFFF));
    assert!(
        all.iter()
            .all(|s| !s.server_type.contains(ServerType::DOMAIN_ENUM))
    );
    assert_eq!(names(&all), ["alpha", "BRAVO", "zulu"]);
    // LOCAL_LIST_ONLY alone: every locally seen server.
    let local_only = servers_of(&c.rap(&enum2(0x4000_0000, "LABWG"), 0xFFFF));
    assert_eq!(names(&local_only), ["alpha", "BRAVO", "zulu"]);
    // A mask: servers whose type shares a bit with it (smbtree's 0x0000FFFE skips zulu).
    let r = servers_of(&c.rap(&enum2(0x0000_FFFE, "LABWG"), 0xFFFF));
    assert_eq!(names(&r), ["alpha", "BRAVO"]);
    let r = servers_of(&c.rap(&enum2(ServerType::MASTER_BROWSER.bits(), "LABWG"), 0xFFFF));
    assert_eq!(names(&r), ["BRAVO"]);
    assert!(servers_of(&c.rap(&enum2(0, "LABWG"), 0xFFFF)).is_empty());
    // DOMAIN_ENUM: the workgroups, ours included, with their masters, whatever the domain.
    for d in ["", "LABWG", "OTHERWG"] {
        let r = servers_of(&c.rap(&enum2(0x8000_0000, d), 0xFFFF));
        let got: Vec<_> = r
            .iter()
            .map(|s| {
                (
                    s.name.to_string_lossy(),
                    String::from_utf8_lossy(&s.comment).into_owned(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("LABWG".into(), "BRAVO".into()),
                ("OTHERWG".into(), "OTHERHOST".into())
            ]
        );
        assert!(
            r.iter()
                .all(|s| s.server_type.contains(ServerType::DOMAIN_ENUM))
        );
    }
    // Level 0: names only.
    let mut e = match enum2(0x8000_0000, "") {
        RapCall::NetServerEnum2(e) => e,
        _ => unreachable!(),
    };
    e.level = InfoLevel::Zero;
    let r = c.rap(&RapCall::NetServerEnum2(e), 0xFFFF);
    assert_eq!(r.data.len(), 32);
    assert_eq!(&r.data[..6], b"LABWG\0");
}

#[test]
fn ourselves_are_listed_even_when_the_list_is_empty() {
    let l = local("SOLO", "WG", 0x0000_9003, "alone");
    let src = BrowseListing {
        local: &l,
        list: None,
    };
    let mut c = Client::connect(&src, [10, 0, 0, 9], 0xFFFF);
    let r = servers_of(&c.rap(&enum2(0xFFFF_FFFF, "WG"), 0xFFFF));
    assert_eq!(names(&r), ["SOLO"]);
    assert_eq!(r[0].comment, b"alone");
    let r = servers_of(&c.rap(&enum2(0x8000_0000, "WG"), 0xFFFF));
    assert_eq!(names(&r), ["WG"]);
    assert_eq!(r[0].comment, b"", "master unknown");
}

#[test]
fn net_share_enum_lists_shares_and_ipc() {
    let mut l = local("HOST", "WG", 0x0000_9003, "Samba host");
    l.shares.push(Share {
        name: "a-name-too-long".into(),
        share_type: share_type::DISKTREE,
        comment: "not listed: 15 > 12 bytes".into(),
    });
    l.shares.push(Share {
        name: "printer".into(),
        share_type: share_type::PRINTQ,
        comment: "Ünïcode".into(),
    });
    let src = BrowseListing {
        local: &l,
        list: None,
    };
    let mut c = Client::connect(&src, [10, 0, 0, 1], 0xFFFF);
    let call = RapCall::NetShareEnum {
        level: InfoLevel::One,
        receive_buffer_len: 0xFFE0,
    };
    let r = c.rap(&call, 0xFFE0);
    assert_eq!(r.status, status::SUCCESS);
    let s: Vec<ShareInfo1> = decode_entries(&r.data, r.entries_returned().unwrap(), 0).unwrap();
    let got: Vec<_> = s
        .iter()
        .map(|s| {
            (
                String::from_utf8_lossy(s.name.as_bytes()).into_owned(),
                s.share_type,
                String::from_utf8_lossy(&s.remark).into_owned(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("pub".into(), share_type::DISKTREE, "guest share".into()),
            ("printer".into(), share_type::PRINTQ, "?n?code".into()),
            (
                "IPC$".into(),
                share_type::IPC,
                "IPC Service (Samba host)".into()
            ),
        ]
    );
    // A buffer that holds two records: status 234, 2 of 3.
    let r = c.rap(&call, 40 + 12 + 8);
    assert_eq!(
        (r.status, r.entries_returned(), r.entries_available()),
        (status::MORE_DATA, Some(2), Some(3))
    );
}

// ---------------------------------------------------------------------------------------------
// Large lists.

fn many(n: usize) -> Vec<ServerInfo1> {
    (0..n)
        .map(|i| {
            let name = format!("H{i:05}");
            server(&name, 0x0000_1003, &format!("host number {i}"))
        })
        .collect()
}

#[test]
fn five_thousand_servers_continue_with_netserverenum3() {
    let servers = many(5000);
    let list = browse_list("BIGWG", &servers, &[]);
    // We are one of the 5,000 (the browse list hears our own announcements).
    let mut l = local("H02500", "BIGWG", 0x0000_1003, "host number 2500");
    l.version = (0, 0);
    let src = BrowseListing {
        local: &l,
        list: Some(&list),
    };
    let mut c = Client::connect(&src, [10, 0, 0, 1], 0xFFFF);
    let first = c.rap(&enum2(0xFFFF_FFFF, "BIGWG"), 0xFFFF);
    assert_eq!(first.status, status::MORE_DATA);
    assert_eq!(first.entries_available(), Some(5000));
    let got = servers_of(&first);
    assert!(first.data.len() <= 0xFFFF);
    let next = &servers[got.len()];
    assert!(
        first.data.len() + 26 + next.comment.len() + 1 > 0xFFFF,
        "as many entries as fit"
    );
    // smbclient's loop: NetServerEnum3 from the last name, skipping that name when repeated.
    let mut all = got;
    let mut calls = 1;
    loop {
        let last = all.last().unwrap().name;
        let r = c.rap(&enum3("BIGWG", last.as_bytes()), 0xFFFF);
        calls += 1;
        let s = servers_of(&r);
        assert_eq!(
            s[0].name, last,
            "the reply starts with FirstNameToReturn again"
        );
        all.extend(s.into_iter().skip(1));
        if r.status == status::SUCCESS {
            break;
        }
        assert_eq!(r.status, status::MORE_DATA);
        assert!(calls < 10);
    }
    assert_eq!(all, servers, "all 5,000 exactly once, in order");
    // A name between two entries resumes at the next one (MS-RAP: greater than or equal).
    let r = c.rap(&enum3("BIGWG", b"H04999A"), 0xFFFF);
    assert_eq!((r.status, r.entries_returned()), (0, Some(0)));
    let r = c.rap(&enum3("BIGWG", b"h04998 "), 0xFFFF);
    assert_eq!(names(&servers_of(&r)), ["H04999"]);
}

#[test]
fn small_client_buffer_splits_the_reply() {
    let servers = many(300);
    let list = browse_list("WG", &servers, &[]);
    let l = local("H00000", "WG", 0x0000_1003, "host number 0");
    let src = BrowseListing {
        local: &l,
        list: Some(&list),
    };
    let mut c = Client::connect(&src, [10, 0, 0, 1], 1024);
    let r = c.send(&rap_frame(c.uid, c.tid, &enum2(0xFFFF_FFFF, "WG"), 0xFFFF));
    assert!(r.frames.len() > 10, "{} pieces", r.frames.len());
    let rap = rap_reply(&r.frames, 1024);
    assert_eq!(rap.status, status::SUCCESS);
    assert_eq!(
        names(&servers_of(&rap))[..3],
        ["H00000", "H00001", "H00002"]
    );
    assert_eq!(servers_of(&rap).len(), 300);
}

// ---------------------------------------------------------------------------------------------
// Hostile clients.

fn listing() -> (LocalServer, BrowseList) {
    labwg_bravo()
}

/// After a hostile exchange, the next connection (a fresh server) serves a full listing.
fn next_connection_works(src: &dyn ListingSource) {
    let mut c = Client::connect(src, [198, 18, 0, 2], 0xFFFF);
    let r = c.rap(&enum2(0xFFFF_FFFF, "LABWG"), 0xFFFF);
    assert_eq!(r.entries_returned(), Some(3));
}

#[test]
fn session_request_rules() {
    let (l, list) = listing();
    let src = BrowseListing {
        local: &l,
        list: Some(&list),
    };
    // smbd accepts any well-formed called name (reply_special), and so do we: our names,
    // *SMBSERVER, an address, another host's name, `*<00>`, `NAME<00>`.
    for called in [
        "BRAVO",
        "bravo",
        "*SMBSERVER",
        "*SMBSERV",
        "198.18.0.2",
        "ALPHA",
        "198.18.0.1",
        "*SMBSERVERX",
    ] {
        let mut s = new_server([198, 18, 0, 2]);
        let r = s.handle_frame(&session_request(called), &src);
        assert_eq!(r.frames, [[0x82, 0, 0, 0]], "{called}");
        assert_eq!(r.close, None);
    }
    let raw = |name: &[u8; 16]| ScopedName::from(NetbiosName::from_raw(*name));
    let odd_names: [(&str, ScopedName); 4] = [
        ("*<00>", ScopedName::from(NetbiosName::WILDCARD)),
        (
            "BRAVO<00>",
            ScopedName::from(NetbiosName::new("BRAVO", 0).unwrap()),
        ),
        (
            "NUL-padded BRAVO<20>",
            raw(b"BRAVO\0\0\0\0\0\0\0\0\0\0\x20"),
        ),
        (
            "lower-case, tab-padded",
            raw(b"bravo\t\t\t\t\t\t\t\t\t\t\x20"),
        ),
    ];
    for (what, called_name) in odd_names {
        let f = SessionPacket::SessionRequest(SessionRequest {
            called_name,
            calling_name: ScopedName::from(NetbiosName::new("CLIENT", 0).unwrap()),
            trailing: Vec::new(),
        })
        .to_vec()
        .unwrap();
        let mut s = new_server([198, 18, 0, 2]);
        let r = s.handle_frame(&f, &src);
        assert_eq!(
            (r.frames, r.close),
            (vec![vec![0x82, 0, 0, 0]], None),
            "{what}"
        );
    }
    // One client pads the session request by 4 bytes: smbd ignores them, and so do we.
    let mut f = session_request("BRAVO");
    f[3] += 4;
    f.extend([0, 0, 0, 0]);
    let mut c = Client::connect_with(&src, [198, 18, 0, 2], 0xFFFF, f);
    assert_eq!(
        c.rap(&enum2(0xFFFF_FFFF, "LABWG"), 0xFFFF)
            .entries_returned(),
        Some(3),
        "the padded session goes on to list"
    );
    // A Pathworks calling name (type 'R') is refused, as smbd refuses it.
    let f = SessionPacket::SessionRequest(SessionRequest {
        called_name: ScopedName::from(NetbiosName::new("BRAVO", 0x20).unwrap()),
        calling_name: ScopedName::from(NetbiosName::new("VAX", b'R').unwrap()),
        trailing: Vec::new(),
    })
    .to_vec()
    .unwrap();
    let mut s = new_server([198, 18, 0, 2]);
    let r = s.handle_frame(&f, &src);
    assert_eq!(r.frames, [[0x83, 0, 0, 1, 0x82]]);
    assert!(matches!(
        r.close,
        Some(CloseReason::PathworksSession { .. })
    ));
    assert!(s.is_closed());
    assert_eq!(
        s.handle_frame(&session_request("BRAVO"), &src).close,
        Some(CloseReason::Closed)
    );
    // Keepalives are ignored before and after; anything else first closes without a reply.
    let mut s = new_server([198, 18, 0, 2]);
    assert_eq!(s.handle_frame(&[0x85, 0, 0, 0], &src), Reply::default());
    let r = s.handle_frame(&negotiate(&["NT LM 0.12"]), &src);
    assert_eq!(r.frames, Vec::<Vec<u8>>::new());
    assert_eq!(
        r.close,
        Some(CloseReason::NoSessionRequest { packet_type: 0 })
    );
    // A second session request.
    let mut c = Client::connect(&src, [198, 18, 0, 2], 0xFFFF);
    assert_eq!(c.send(&[0x85, 0, 0, 0]), Reply::default());
    let r = c.send(&session_request("BRAVO"));
    assert_eq!(
        (r.frames.len(), r.close),
        (0, Some(CloseReason::RepeatedSessionRequest))
    );
    // A session response from the client.
    let mut c = Client::connect(&src, [198, 18, 0, 2], 0xFFFF);
    let r = c.send(&[0x82, 0, 0, 0]);
    assert_eq!(
        r.close,
        Some(CloseReason::UnexpectedPacket { packet_type: 0x82 })
    );
    // An unparsable session request: negative response, close.
    let mut s = new_server([198, 18, 0, 2]);
    let r = s.handle_frame(&[0x81, 0, 0, 2, 0x20, 0x41], &src);
    assert_eq!(r.frames, [[0x83, 0, 0, 1, 0x82]]);
    assert!(matches!(r.close, Some(CloseReason::MalformedFrame(_))));
    next_connection_works(&src);
}

#[test]
fn truncated_oversize_and_malformed_frames_close_cleanly() {
    let (l, list) = listing();
    let src = BrowseListing {
        local: &l,
        list: Some(&list),
    };
    let valid = rap_frame(0, 0, &enum2(0xFFFF_FFFF, "LABWG"), 0xFFFF);
    // Truncated: fewer bytes than LENGTH says, or more.
    for cut in [1, 3, 4, 10, valid.len() - 1] {
        let mut c = Client::connect(&src, [198, 18, 0, 2], 0xFFFF);
        let r = c.send(&valid[..cut]);
        assert!(
            matches!(r.close, Some(CloseReason::MalformedFrame(_))),
            "cut {cut}: {r:?}"
        );
        assert!(r.frames.is_empty());
        let msg = r.close.unwrap().to_string();
        assert!(msg.contains("offset"), "{msg}");
    }
    let mut c = Client::connect(&src, [198, 18, 0, 2], 0xFFFF);
    let r = c.send(&[valid.clone(), vec![0]].concat());
    assert!(matches!(r.close, Some(CloseReason::MalformedFrame(_))));
    // Oversize: the 17-bit length beyond the limit, checked on the header alone.
    let mut c = Client::connect(&src, [198, 18, 0, 2], 0xFFFF);
    assert_eq!(
        c.server.check_header(&[0x00, 0x01, 0xFF, 0xFF]),
        Err(CloseReason::FrameTooLarge {
            length: 0x1_FFFF + 4,
            max: SessionConfig::default().max_frame_len
        })
    );
    assert_eq!(c.server.check_header(&valid[..4]), Ok(valid.len()));
    let big = [vec![0x00, 0x00, 0x80, 0x00], vec![0; 0x8000]].concat();
    assert!(matches!(
        c.send(&big).close,
        Some(CloseReason::FrameTooLarge { .. })
    ));
    // Reserved FLAGS bits.
    let mut c = Client::connect(&src, [198, 18, 0, 2], 0xFFFF);
    assert!(matches!(
        c.send(&[0x85, 0x02, 0, 0]).close,
        Some(CloseReason::MalformedFrame(_))
    ));
    // A keepalive with a body.
    let mut c = Client::connect(&src, [198, 18, 0, 2], 0xFFFF);
    assert!(matches!(
        c.send(&[0x85, 0, 0, 1, 0]).close,
        Some(CloseReason::MalformedFrame(_))
    ));
    // Not SMB: short, wrong protocol, WordCount or ByteCount past the end.
    for body in [
        b"\xFFSM".to_vec(),
        b"\xFFSMX".to_vec(),
        [b"\xFFSMB\x2b".to_vec(), vec![0; 27], vec![5]].concat(),
        [b"\xFFSMB\x2b".to_vec(), vec![0; 27], vec![0, 9, 0]].concat(),
    ] {
        let mut c = Client::connect(&src, [198, 18, 0, 2], 0xFFFF);
        let r = c.send(&session_message(&body));
        assert!(
            matches!(r.close, Some(CloseReason::MalformedSmb(_))),
            "{body:02x?}"
        );
    }
    // SMB2 NEGOTIATE, before or after the SMB1 negotiation.
    let smb2 = session_message(&[b"\xFESMB".to_vec(), vec![0; 60]].concat());
    let mut s = new_server([198, 18, 0, 2]);
    s.handle_frame(&session_request("BRAVO"), &src);
    assert_eq!(s.handle_frame(&smb2, &src).close, Some(CloseReason::Smb2));
    let mut c = Client::connect(&src, [198, 18, 0, 2], 0xFFFF);
    assert_eq!(c.send(&smb2).close, Some(CloseReason::Smb2));
    next_connection_works(&src);
}

#[test]
fn negotiate_rules() {
    let (l, list) = listing();
    let src = BrowseListing {
        local: &l,
        list: Some(&list),
    };
    let start = || {
        let mut s = new_server([198, 18, 0, 2]);
        s.handle_frame(&session_request("BRAVO"), &src);
        s
    };
    // The index is computed from the client's list.
    for (dialects, index) in [
        (vec!["NT LM 0.12"], 0),
        (
            vec![
                "PC NETWORK PROGRAM 1.0",
                "LANMAN1.0",
                "NT LANMAN 1.0",
                "NT LM 0.12",
                "SMB 2.002",
                "SMB 2.???",
            ],
            3,
        ),
    ] {
        let mut s = start();
        let r = s.handle_frame(&negotiate(&dialects), &src);
        let n = NegotiateResponse::parse(&smb_of(&r.frames[0])).unwrap();
        assert_eq!(n.dialect_index, index);
    }
    // Extended security asked for: not given.
    let mut s = start();
    let mut m = smb_of(&negotiate(&["NT LM 0.12"]));
    m.header.flags2 |= SmbFlags2::EXTENDED_SECURITY;
    let r = s.handle_frame(&msg_frame(&m), &src);
    let reply = smb_of(&r.frames[0]);
    assert!(!reply.header.flags2.contains(SmbFlags2::EXTENDED_SECURITY));
    let n = NegotiateResponse::parse(&reply).unwrap();
    assert!(!n.capabilities.contains(Capabilities::EXTENDED_SECURITY));
    assert_eq!(n.challenge.len(), 8);
    // Two servers with different seeds give different challenges; the same seed the same.
    let challenge = |seed| {
        let mut s = SmbListingServer::new(
            SessionConfig::default(),
            conn([198, 18, 0, 2]),
            Rng::new(seed),
        );
        s.handle_frame(&session_request("BRAVO"), &src);
        let r = s.handle_frame(&negotiate(&["NT LM 0.12"]), &src);
        NegotiateResponse::parse(&smb_of(&r.frames[0]))
            .unwrap()
            .challenge
    };
    assert_eq!(challenge(1), challenge(1));
    assert_ne!(challenge(1), challenge(2));
    // No dialect we speak: DialectIndex 0xFFFF, then close.
    let mut s = start();
    let r = s.handle_frame(&negotiate(&["PC NETWORK PROGRAM 1.0", "SMB 2.002"]), &src);
    assert_eq!(smb_of(&r.frames[0]).word(0), Some(0xFFFF));
    assert_eq!(r.close, Some(CloseReason::NoCommonDialect));
    // Something else first; a malformed NEGOTIATE; a second NEGOTIATE.
    let mut s = start();
    let r = s.handle_frame(&session_setup(0xFFFF), &src);
    assert_eq!(
        r.close,
        Some(CloseReason::NotNegotiated {
            command: command::SESSION_SETUP_ANDX
        })
    );
    let mut s = start();
    let bad = simple(
        command::NEGOTIATE,
        0,
        0,
        Vec::new(),
        b"\x05NT LM 0.12\0".to_vec(),
    );
    assert!(matches!(
        s.handle_frame(&bad, &src).close,
        Some(CloseReason::MalformedSmb(_))
    ));
    let mut c = Client::connect(&src, [198, 18, 0, 2], 0xFFFF);
    assert_eq!(
        c.send(&negotiate(&["NT LM 0.12"])).close,
        Some(CloseReason::RepeatedNegotiate)
    );
    // A reply from the client.
    let mut c = Client::connect(&src, [198, 18, 0, 2], 0xFFFF);
    let mut m = smb_of(&simple(command::ECHO, 0, 0, vec![1, 0], Vec::new()));
    m.header.flags |= SmbFlags::REPLY;
    assert_eq!(
        c.send(&msg_frame(&m)).close,
        Some(CloseReason::SmbReply {
            command: command::ECHO
        })
    );
}

#[test]
fn wrong_ids_and_unsupported_commands_get_errors() {
    let (l, list) = listing();
    let src = BrowseListing {
        local: &l,
        list: Some(&list),
    };
    let mut c = Client::connect(&src, [198, 18, 0, 2], 0xFFFF);
    let (uid, tid) = (c.uid, c.tid);
    let call = enum2(0xFFFF_FFFF, "LABWG");
    assert_eq!(
        c.status_of(&rap_frame(uid + 1, tid, &call, 0xFFFF)),
        ntstatus::SMB_BAD_UID
    );
    assert_eq!(
        c.status_of(&rap_frame(uid, tid + 1, &call, 0xFFFF)),
        ntstatus::SMB_BAD_TID
    );
    assert_eq!(
        c.status_of(&tree_connect(uid + 1, "\\\\X\\IPC$", false)),
        ntstatus::SMB_BAD_UID
    );
    assert_eq!(
        c.status_of(&tree_connect(uid, "\\\\X\\pub", false)),
        ntstatus::BAD_NETWORK_NAME
    );
    assert_eq!(
        c.status_of(&simple(
            command::TREE_DISCONNECT,
            uid,
            0x4242,
            vec![],
            vec![]
        )),
        ntstatus::SMB_BAD_TID
    );
    assert_eq!(
        c.status_of(&simple(
            command::LOGOFF_ANDX,
            0x4242,
            tid,
            vec![0xFF, 0, 0, 0],
            vec![]
        )),
        ntstatus::SMB_BAD_UID
    );
    // NT_CREATE_ANDX \srvsvc: not found, so smbclient falls back to RAP.
    let create = simple(
        command::NT_CREATE_ANDX,
        uid,
        tid,
        vec![0; 48],
        b"\0\\\0s\0r\0v\0s\0v\0c\0\0\0".to_vec(),
    );
    assert_eq!(c.status_of(&create), ntstatus::OBJECT_NAME_NOT_FOUND);
    // Commands we do not implement: STATUS_NOT_SUPPORTED, the connection stays.
    for cmd in [0x2E, 0x32, 0xA0, 0x26, 0x04, 0xFF] {
        assert_eq!(
            c.status_of(&simple(cmd, uid, tid, vec![], vec![])),
            ntstatus::NOT_SUPPORTED,
            "{cmd:#x}"
        );
    }
    // The 12-word extended-security session setup.
    let spnego = simple(
        command::SESSION_SETUP_ANDX,
        0,
        0,
        vec![0; 24],
        vec![0x60, 0],
    );
    assert_eq!(c.status_of(&spnego), ntstatus::NOT_SUPPORTED);
    let odd = simple(command::SESSION_SETUP_ANDX, 0, 0, vec![0; 20], vec![]);
    assert_eq!(c.status_of(&odd), ntstatus::INVALID_PARAMETER);
    // ECHO: no session needed; EchoCount replies, capped.
    let r = c.send(&simple(
        command::ECHO,
        0,
        0xFFFF,
        vec![3, 0],
        b"ping".to_vec(),
    ));
    assert_eq!(r.frames.len(), 3);
    assert_eq!(smb_of(&r.frames[2]).word(0), Some(3));
    assert_eq!(smb_of(&r.frames[0]).bytes, b"ping");
    assert_eq!(
        c.send(&simple(command::ECHO, 0, 0, vec![0xFF, 0xFF], vec![]))
            .frames
            .len(),
        10
    );
    assert!(
        c.send(&simple(command::ECHO, 0, 0, vec![0, 0], vec![]))
            .frames
            .is_empty()
    );
    // Still serving.
    assert_eq!(c.rap(&call, 0xFFFF).entries_returned(), Some(3));
    // TREE_DISCONNECT invalidates the TID, LOGOFF_ANDX the UID.
    assert_eq!(
        c.status_of(&simple(command::TREE_DISCONNECT, uid, tid, vec![], vec![])),
        0
    );
    assert_eq!(
        c.status_of(&rap_frame(uid, tid, &call, 0xFFFF)),
        ntstatus::SMB_BAD_TID
    );
    let r = c.send(&simple(
        command::LOGOFF_ANDX,
        uid,
        0,
        vec![0xFF, 0, 0, 0],
        vec![],
    ));
    assert_eq!(smb_of(&r.frames[0]).word_count(), 2);
    assert_eq!(
        c.status_of(&tree_connect(uid, "\\\\X\\IPC$", false)),
        ntstatus::SMB_BAD_UID
    );
    next_connection_works(&src);
}

#[test]
fn sessions_and_trees_are_capped() {
    let (l, list) = listing();
    let src = BrowseListing {
        local: &l,
        list: Some(&list),
    };
    let mut c = Client::connect(&src, [198, 18, 0, 2], 0xFFFF);
    let cfg = SessionConfig::default();
    for _ in 1..cfg.max_sessions {
        assert_eq!(c.status_of(&session_setup(0xFFFF)), 0);
    }
    assert_eq!(
        c.status_of(&session_setup(0xFFFF)),
        ntstatus::INSUFFICIENT_RESOURCES
    );
    for _ in 1..cfg.max_trees {
        assert_eq!(c.status_of(&tree_connect(c.uid, "\\\\h\\ipc$", false)), 0);
    }
    assert_eq!(
        c.status_of(&tree_connect(c.uid, "\\\\h\\ipc$", false)),
        ntstatus::INSUFFICIENT_RESOURCES
    );
}

#[test]
fn bad_transactions_get_errors_or_rap_status() {
    let (l, list) = listing();
    let src = BrowseListing {
        local: &l,
        list: Some(&list),
    };
    let mut c = Client::connect(&src, [198, 18, 0, 2], 0xFFFF);
    let (uid, tid) = (c.uid, c.tid);
    let params = enum2(0xFFFF_FFFF, "LABWG")
        .to_request()
        .unwrap()
        .to_vec()
        .unwrap();
    // Bad offsets: ParameterOffset past the byte block, or into the name.
    for (at, value) in [(53, 0x7F00u16), (53, 40), (51, 0x4000)] {
        let mut f = transaction(uid, tid, params.clone(), 8, 0xFFFF);
        f[4 + at..4 + at + 2].copy_from_slice(&value.to_le_bytes());
        assert_eq!(
            c.status_of(&f),
            ntstatus::INVALID_PARAMETER,
            "field at {at} = {value:#x}"
        );
    }
    // Another pipe, or a transaction that announces secondary pieces.
    let mut m = smb_of(&transaction(uid, tid, params.clone(), 8, 0xFFFF));
    let mut t = TransactionRequest::parse(&m.clone().to_vec().unwrap()).unwrap();
    t.name = "\\PIPE\\srvsvc".into();
    let end = t.name_end();
    t.parameter_offset = (end + (4 - end % 4) % 4) as u16;
    t.data_offset = t.parameter_offset + t.parameters.len() as u16;
    assert_eq!(
        c.status_of(&session_message(&t.to_vec().unwrap())),
        ntstatus::NOT_SUPPORTED
    );
    m.words[0] = m.words[0].wrapping_add(1); // TotalParameterCount one more than sent
    assert_eq!(c.status_of(&msg_frame(&m)), ntstatus::NOT_SUPPORTED);
    // NO_RESPONSE: nothing.
    let mut m = smb_of(&transaction(uid, tid, params.clone(), 8, 0xFFFF));
    m.words[10] = TransactionFlags::NO_RESPONSE.bits() as u8;
    assert_eq!(c.send(&msg_frame(&m)), Reply::default());
    // RAP: an unreadable parameter block, an unknown opcode, the GetInfo calls: {50, 0}.
    let unsupported = |c: &mut Client, p: Vec<u8>| {
        let r = c.send(&transaction(uid, tid, p, 8, 0xFFFF));
        rap_reply(&r.frames, 65535)
    };
    assert_eq!(unsupported(&mut c, vec![0x68]), RapResponse::unsupported());
    assert_eq!(
        unsupported(&mut c, b"\x68\x00WrLehDz\0B16BBDz\0\x01".to_vec()),
        RapResponse::unsupported()
    );
    // An unknown opcode: NERR_NotSupported with the block its ParamDesc asks for (e, h).
    let unknown = RapRequest::new(
        0x4321,
        b"WrLeh",
        b"B13",
        vec![RapValue::Word(0), RapValue::Word(10)],
    );
    assert_eq!(
        unsupported(&mut c, unknown.to_vec().unwrap()),
        RapResponse::not_supported(b"WrLeh")
    );
    assert_eq!(
        RapResponse::not_supported(b"WrLeh").parameters(),
        [50, 0, 0, 0, 0, 0, 0, 0]
    );
    // The GetInfo calls at levels smbd does not serve: Status 50, Converter, bytes available.
    for (op, level, desc) in [
        (opcode::NET_SERVER_GET_INFO, 10, &b"B16BBDz"[..]),
        (opcode::NET_SERVER_GET_INFO, 2, b"B16BBDz"),
        (opcode::NET_WKSTA_GET_INFO, 1, b"B16BBDz"),
        (opcode::NET_WKSTA_GET_INFO, 10, b"B16BBDz"),
    ] {
        let req = RapRequest::new(
            op,
            b"WrLh",
            desc,
            vec![RapValue::Word(level), RapValue::Word(0xFFFF)],
        );
        let r = unsupported(&mut c, req.to_vec().unwrap());
        assert_eq!(r.parameters(), [50, 0, 0, 0, 0, 0], "{op} level {level}");
    }
    // MaxParameterCount too small for the 8-byte reply: NERR_BufTooSmall in 4 bytes; too
    // small for that: an SMB error.
    let r = c.send(&transaction(uid, tid, params.clone(), 4, 0xFFFF));
    let (p, d) = reassemble(&r.frames, 65535);
    assert_eq!((p, d), (vec![0x4B, 0x08, 0, 0], vec![]));
    assert_eq!(
        c.status_of(&transaction(uid, tid, params.clone(), 3, 0xFFFF)),
        ntstatus::BUFFER_TOO_SMALL
    );
    // MaxDataCount 0: no entry fits.
    let r = c.rap(&enum2(0xFFFF_FFFF, "LABWG"), 0);
    assert_eq!(
        (r.status, r.entries_returned(), r.data.len()),
        (status::MORE_DATA, Some(0), 0)
    );
    // Still serving.
    assert_eq!(
        c.rap(&enum2(0xFFFF_FFFF, "LABWG"), 0xFFFF)
            .entries_returned(),
        Some(3)
    );
}

#[test]
fn listing_source_shape_can_be_implemented_by_the_driver() {
    // A source that is not a BrowseList: the trait is the contract.
    struct Fixed(Vec<NetbiosName>, Vec<Share>);
    impl ListingSource for Fixed {
        fn server_names(&self) -> &[NetbiosName] {
            &self.0
        }
        fn workgroup(&self) -> ServerName {
            sname("FIXED")
        }
        fn local_server(&self) -> ListedServer<'_> {
            ListedServer {
                name: sname("ME"),
                server_type: ServerType::SERVER,
                version: (6, 1),
                comment: Cow::Borrowed(b"me"),
            }
        }
        fn shares(&self) -> &[Share] {
            &self.1
        }
        fn servers<'a>(
            &'a self,
            _: &ServerName,
        ) -> Box<dyn Iterator<Item = ListedServer<'a>> + 'a> {
            Box::new(std::iter::once(ListedServer {
                name: sname("me"),
                server_type: ServerType::WORKSTATION,
                version: (0, 0),
                comment: Cow::Borrowed(b"stale duplicate of ourselves"),
            }))
        }
        fn workgroups<'a>(&'a self) -> Box<dyn Iterator<Item = ListedWorkgroup> + 'a> {
            Box::new(std::iter::empty())
        }
        fn workgroup_master(&self) -> Option<ServerName> {
            Some(sname("ME"))
        }
    }
    let src = Fixed(vec![NetbiosName::new("ME", 0x20).unwrap()], Vec::new());
    let mut s = new_server([10, 1, 1, 1]);
    assert_eq!(
        s.handle_frame(&session_request("ME"), &src).frames,
        [[0x82, 0, 0, 0]]
    );
    let mut c = Client::connect(&src, [10, 1, 1, 1], 0xFFFF);
    let r = servers_of(&c.rap(&enum2(0xFFFF_FFFF, ""), 0xFFFF));
    assert_eq!(
        r.len(),
        1,
        "deduplicated without regard to case; our own entry wins"
    );
    assert_eq!(
        (r[0].comment.as_slice(), r[0].version_major),
        (&b"me"[..], 6)
    );
}

// ---------------------------------------------------------------------------------------------
// The calls of `net rap` and older clients, answered as smbd answers them.

#[test]
fn net_rap_calls_are_answered_as_smbd_answers_them() {
    use nbt_protocol::wire::rap::records::{ServerInfo0, SessionInfo2, TimeOfDayInfo, WkstaInfo10};
    let (l, list) = listing();
    let src = BrowseListing {
        local: &l,
        list: Some(&list),
    };
    let mut c = Client::connect(&src, [198, 18, 0, 2], 0xFFFF);
    let get_info = |level, desc: &[u8]| RapCall::NetServerGetInfo {
        level,
        receive_buffer_len: 0xFFFF,
        data_desc: desc.to_vec(),
    };
    // NetServerGetInfo level 1 (`net rap server name`): Status, Converter, bytes available.
    let r = c.rap(&get_info(1, b"B16BBDz"), 0xFFFF);
    assert_eq!(
        (r.status, r.words.clone()),
        (status::SUCCESS, vec![r.data.len() as u16])
    );
    let me: Vec<ServerInfo1> = decode_entries(&r.data, 1, 0).unwrap();
    assert_eq!(me[0].name.as_bytes(), b"BRAVO");
    assert_eq!(me[0].comment, b"lab host nb2");
    assert_eq!(me[0].server_type.bits(), 0x0084_9a03);
    // Level 0: the name alone, 16 bytes.
    let r = c.rap(&get_info(0, b"B16"), 0xFFFF);
    assert_eq!((r.status, r.words.clone(), r.data.len()), (0, vec![16], 16));
    let me: Vec<ServerInfo0> = decode_entries(&r.data, 1, 0).unwrap();
    assert_eq!(me[0].name.as_bytes(), b"BRAVO");
    // A buffer too small for the record: NERR_BufTooSmall with the bytes needed.
    let r = c.rap(&get_info(1, b"B16BBDz"), 20);
    assert_eq!(
        (r.status, r.words.clone(), r.data.len()),
        (status::BUF_TOO_SMALL, vec![39], 0)
    );

    // NetServerEnum2 level 0, for servers and for workgroups.
    let mut e = match enum2(0xFFFF_FFFF, "LABWG") {
        RapCall::NetServerEnum2(e) => e,
        _ => unreachable!(),
    };
    e.level = InfoLevel::Zero;
    let r = c.rap(&RapCall::NetServerEnum2(e.clone()), 0xFFFF);
    assert_eq!((r.status, r.entries_returned()), (0, Some(3)));
    let names: Vec<ServerInfo0> = decode_entries(&r.data, 3, 0).unwrap();
    assert_eq!(names[0].name.as_bytes(), b"ALPHA");
    e.server_type = ServerType::DOMAIN_ENUM;
    let r = c.rap(&RapCall::NetServerEnum2(e), 0xFFFF);
    assert_eq!((r.status, r.entries_returned()), (0, Some(1)));
    let names: Vec<ServerInfo0> = decode_entries(&r.data, 1, 0).unwrap();
    assert_eq!(names[0].name.as_bytes(), b"LABWG");

    // NetSessionEnum level 2 (`net rap session`): this connection's session, as smbd fills it.
    let session_enum = |level| RapCall::NetSessionEnum {
        level,
        receive_buffer_len: 0xFF,
        data_desc: b"zzWWWDDDz".to_vec(),
    };
    let r = c.rap(&session_enum(2), 0xFFFF);
    assert_eq!((r.status, r.entries_returned()), (0, Some(1)));
    let s: Vec<SessionInfo2> = decode_entries(&r.data, 1, 0).unwrap();
    assert_eq!(
        s[0].client, b"client",
        "the calling name, lower-cased as smbd shows it"
    );
    assert_eq!(s[0].client_type, b"Unknown Client");
    assert_eq!((s[0].connections, s[0].users), (1, 1));
    let r = c.rap(&session_enum(1), 0xFFFF);
    assert_eq!(
        r.parameters(),
        [50, 0, 0, 0, 0, 0, 0, 0],
        "level 1: e and h words"
    );
    // NetSessionGetInfo: by client name, with or without `\\`; an unknown one is not found.
    let session_info = |client: &[u8]| RapCall::NetSessionGetInfo {
        client: client.to_vec(),
        level: 2,
        receive_buffer_len: 0xFF,
        data_desc: b"zzWWWDDDz".to_vec(),
    };
    for client in [&b"client"[..], b"\\\\CLIENT"] {
        let r = c.rap(&session_info(client), 0xFFFF);
        assert_eq!((r.status, r.words.clone()), (0, vec![r.data.len() as u16]));
        let s2: Vec<SessionInfo2> = decode_entries(&r.data, 1, 0).unwrap();
        assert_eq!(s2, s);
    }
    let r = c.rap(&session_info(b"other"), 0xFFFF);
    assert_eq!(
        r.parameters(),
        [0x08, 0x09, 0, 0, 0, 0],
        "NERR_ClientNameNotFound (2312)"
    );

    // NetRemoteTOD: the clock the driver set, in local time.
    c.server
        .set_clock((1_786_120_165 + 11_644_473_600) * 10_000_000, -120);
    let tod = RapCall::NetRemoteTod {
        receive_buffer_len: 21,
        data_desc: b"DDBBBBWWBBWB".to_vec(),
    };
    let r = c.rap(&tod, 0xFFFF);
    assert_eq!(
        r.parameters(),
        [0, 0, 0, 0],
        "ParamDesc rL: Status and Converter only"
    );
    let t: Vec<TimeOfDayInfo> = decode_entries(&r.data, 1, 0).unwrap();
    assert_eq!(t, [TimeOfDayInfo::at(1_786_120_165, -120)]);
    assert_eq!((t[0].hours, t[0].mins, t[0].timezone), (18, 29, -120));
    let r = c.rap(&tod, 20);
    assert_eq!((r.status, r.data.len()), (status::BUF_TOO_SMALL, 0));

    // NetWkstaGetInfo level 10.
    let wksta = RapCall::NetWkstaGetInfo {
        level: 10,
        receive_buffer_len: 0xFFFF,
        data_desc: b"zzzBBzz".to_vec(),
    };
    let r = c.rap(&wksta, 0xFFFF);
    assert_eq!((r.status, r.words.clone()), (0, vec![r.data.len() as u16]));
    let w: Vec<WkstaInfo10> = decode_entries(&r.data, 1, 0).unwrap();
    assert_eq!(
        (&w[0].computer[..], &w[0].langroup[..]),
        (&b"BRAVO"[..], &b"LABWG"[..])
    );
    assert_eq!(w[0].logon_domain, b"LABWG");
}
