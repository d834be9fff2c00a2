//! Golden tests: every browser frame Samba 4.17 sent in the lab captures
//! (`tests/vectors/browser-*.pcapng`) parses with the values tshark decodes
//! (`shared/vectors/decoded/browser-*.txt`) and emits back byte for byte.
//!
//! The datagram and SMB layers are not parsed here: each frame is the bytes after
//! `\MAILSLOT\BROWSE\0` in the UDP payload (port 138). As a cross-check that nothing follows the
//! mailslot data, the SMB TRANSACTION's DataCount and DataOffset must point at exactly those
//! bytes. The full-stack test comes with the datagram and SMB layers.
//!
//! Where Samba's bytes are not canonical MS-BRWS, the frame still emits back unchanged because the
//! parser keeps the odd fields; the tests below say which fields those are.

mod common;

use nbt_protocol::Emit;
use nbt_protocol::wire::browse::{
    Announcement, BrowserFrame, ElectionCriteria, ElectionDesire, GetBackupListResponse,
    RequestElection, SIGNATURE, ServerName, ServerType,
};

const MAILSLOT: &[u8] = b"\\MAILSLOT\\BROWSE\0";

/// One captured frame: the source IPv4 address's last byte and the mailslot data.
struct Captured {
    host: u8,
    frame: Vec<u8>,
}

fn le16(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

/// Every `\MAILSLOT\BROWSE` frame of a capture, in capture order.
fn captured(file: &str) -> Vec<Captured> {
    let mut out = Vec::new();
    for d in common::udp(file) {
        assert_eq!(d.dst.port(), 138, "{file}: datagram service only");
        let p = &d.payload;
        let at = p
            .windows(MAILSLOT.len())
            .position(|w| w == MAILSLOT)
            .unwrap_or_else(|| panic!("{file}: no \\MAILSLOT\\BROWSE in a datagram"));
        let frame = p[at + MAILSLOT.len()..].to_vec();
        // Cross-check against the SMB TRANSACTION: DataCount (offset 55) bytes at DataOffset (57),
        // both relative to the SMB header.
        let smb = p
            .windows(4)
            .position(|w| w == b"\xffSMB")
            .expect("SMB header");
        assert_eq!(p[smb + 4], 0x25, "{file}: SMB_COM_TRANSACTION");
        let (count, offset) = (le16(p, smb + 55), le16(p, smb + 57));
        assert_eq!(
            &p[smb + offset..smb + offset + count],
            &frame[..],
            "{file}: DataCount/DataOffset"
        );
        out.push(Captured {
            host: d.src.ip().octets()[3],
            frame,
        });
    }
    assert!(!out.is_empty(), "{file}: no frames");
    out
}

/// Parses a frame and checks that it emits back byte for byte.
fn parse_round_trip(file: &str, c: &Captured) -> BrowserFrame {
    let f = BrowserFrame::parse(&c.frame).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert_eq!(f.buffer_len(), c.frame.len(), "{file}: {f:?}");
    assert_eq!(
        f.to_vec().unwrap(),
        c.frame,
        "{file}: {f:?} does not emit back"
    );
    f
}

fn name(s: &str) -> ServerName {
    ServerName::new(s).unwrap()
}

fn host_name(host: u8) -> ServerName {
    name(match host {
        1 => "ALPHA",
        2 => "BRAVO",
        3 => "CHARLIE",
        4 => "DELTA",
        6 => "PERFHOST",
        h => panic!("unexpected host 198.18.0.{h}"),
    })
}

/// Samba's default server type in the lab: WORKSTATION | SERVER | PRINTQ_SERVER | SERVER_UNIX |
/// NT | SERVER_NT | DFS_SERVER (0x00809A03).
fn samba_type() -> ServerType {
    ServerType::WORKSTATION
        | ServerType::SERVER
        | ServerType::PRINTQ_SERVER
        | ServerType::SERVER_UNIX
        | ServerType::NT
        | ServerType::SERVER_NT
        | ServerType::DFS_SERVER
}

/// The constant fields of every Samba announcement.
fn assert_samba_constants(a: &Announcement) {
    assert_eq!((a.os_version_major, a.os_version_minor), (6, 1));
    assert_eq!((a.browser_version_major, a.browser_version_minor), (15, 1));
    assert_eq!(a.signature, SIGNATURE);
}

#[test]
fn host_announcements() {
    let file = "browser-host-announcement.pcapng";
    let frames = captured(file);
    assert_eq!(frames.len(), 10);
    let mut periodicities = Vec::new();
    for c in &frames {
        let f = parse_round_trip(file, c);
        let BrowserFrame::HostAnnouncement(a) = &f else {
            panic!("{file}: {f:?}")
        };
        assert_samba_constants(a);
        assert_eq!(a.server_name, host_name(c.host));
        assert_eq!(a.comment, format!("lab host nb{}", c.host).as_bytes());
        // PERFHOST runs with `local master = no`: not a potential browser.
        let expected = if c.host == 6 {
            samba_type()
        } else {
            samba_type() | ServerType::POTENTIAL_BROWSER
        };
        assert_eq!(a.server_type, expected, "{}", a.server_name);
        periodicities.push((c.host, a.periodicity_ms, a.update_count));
        // Non-canonical: MS-BRWS 2.2.1 says UpdateCount MUST be 0; Samba sends a running count
        // (0, 1 or 4 here), kept as parsed. With it reset, the constructor gives the same bytes.
        let mut made = Announcement::new(
            a.server_name,
            a.server_type,
            a.periodicity_ms,
            a.comment.clone(),
        );
        made.update_count = a.update_count;
        assert_eq!(
            BrowserFrame::HostAnnouncement(made).to_vec().unwrap(),
            c.frame
        );
    }
    // The interval grows by a minute per announcement (ms on the wire, "despite the spec").
    assert_eq!(
        periodicities,
        [
            (1, 60_000, 0),
            (2, 60_000, 0),
            (1, 180_000, 4),
            (1, 240_000, 4),
            (3, 60_000, 0),
            (4, 60_000, 0),
            (3, 120_000, 1),
            (6, 60_000, 0),
            (4, 120_000, 1),
            (6, 120_000, 1),
        ]
    );
}

#[test]
fn local_master_announcements() {
    let file = "browser-local-master-announcement.pcapng";
    let frames = captured(file);
    assert_eq!(frames.len(), 4);
    let mut seen = Vec::new();
    for c in &frames {
        let f = parse_round_trip(file, c);
        let BrowserFrame::LocalMasterAnnouncement(a) = &f else {
            panic!("{file}: {f:?}")
        };
        assert_samba_constants(a);
        assert_eq!(a.server_name, host_name(c.host));
        // MASTER_BROWSER replaces POTENTIAL_BROWSER while master: 0x00849A03.
        assert_eq!(a.server_type, samba_type() | ServerType::MASTER_BROWSER);
        assert_eq!(a.server_type.bits(), 0x0084_9A03);
        assert_eq!(a.comment, format!("lab host nb{}", c.host).as_bytes());
        seen.push((c.host, a.periodicity_ms, a.update_count));
    }
    assert_eq!(
        seen,
        [
            (1, 120_000, 2),
            (2, 120_000, 2),
            (1, 240_000, 6),
            (1, 300_000, 14)
        ]
    );
}

#[test]
fn domain_announcements() {
    let file = "browser-domain-announcement.pcapng";
    let frames = captured(file);
    assert_eq!(frames.len(), 4);
    for c in &frames {
        let f = parse_round_trip(file, c);
        let BrowserFrame::DomainAnnouncement(a) = &f else {
            panic!("{file}: {f:?}")
        };
        // MachineGroup = the workgroup; LocalMasterBrowserName (the comment) = the sender.
        assert_eq!(a.server_name, name("LABWG"));
        assert_eq!(a.comment, host_name(c.host).as_bytes());
        assert_eq!(a.server_type.bits(), 0x8000_1000);
        // Samba fills BrowserConfigVersion with its OS version and the "MysteriousField" (nbt.idl)
        // with the browser version and signature, as in a host announcement.
        assert_samba_constants(a);
        let mut made = Announcement::domain(name("LABWG"), host_name(c.host), a.periodicity_ms);
        made.update_count = a.update_count;
        assert_eq!(
            BrowserFrame::DomainAnnouncement(made).to_vec().unwrap(),
            c.frame
        );
    }
}

#[test]
fn announcement_requests() {
    let file = "browser-announcement-request.pcapng";
    let frames = captured(file);
    assert_eq!(frames.len(), 3);
    for c in &frames {
        let f = parse_round_trip(file, c);
        let BrowserFrame::AnnouncementRequest(q) = &f else {
            panic!("{file}: {f:?}")
        };
        // Non-canonical: Samba's broadcast_announce_request writes its workgroup token (1) into
        // Reserved (MS-BRWS: 0x00), skips a byte, and writes its name there without the NUL.
        // tshark, like this parser, sees an empty ResponseName; the name is kept as trailing
        // bytes so the frame emits back unchanged.
        assert_eq!(q.reserved, 1);
        assert!(q.response_name.is_empty());
        assert_eq!(q.trailing, host_name(c.host).as_bytes());
        assert_eq!(q.requester_name(), host_name(c.host).as_bytes());
        assert_eq!(c.frame.len(), 3 + host_name(c.host).len());
    }
}

#[test]
fn election_requests() {
    let file = "browser-election-request.pcapng";
    let frames = captured(file);
    assert_eq!(frames.len(), 17);
    let mut ballots = Vec::new();
    for c in &frames {
        let f = parse_round_trip(file, c);
        let BrowserFrame::RequestElection(e) = f else {
            panic!("{file}: {f:?}")
        };
        assert_eq!(e.unused, 0);
        if c.host == 6 {
            // PERFHOST (`local master = no`, other workgroup) forces elections: version 0,
            // criteria 0, uptime 0, empty name.
            assert_eq!(e, RequestElection::force());
        } else {
            assert_eq!(e.version, 1);
            assert_eq!(e.server_name, host_name(c.host));
        }
        ballots.push((c.host, e.criteria.bits(), e.uptime_ms));
    }
    // Uptime is in milliseconds: 6 s, 8 s, … one ballot every 2 s.
    let mut expected = Vec::new();
    expected.extend((0..5).map(|i| (1, 0x1401_0F02, 6000 + 2000 * i)));
    expected.extend((0..5).map(|i| (2, 0x4101_0F0A, 6000 + 2000 * i)));
    expected.push((6, 0, 0));
    // ALPHA re-elects after demotion: criteria 0x14010F07 & !0x04 = 0x14010F03.
    expected.extend((0..5).map(|i| (1, 0x1401_0F03, 307_000 + 2000 * i)));
    expected.push((6, 0, 0));
    assert_eq!(ballots, expected);

    let ballot = |i: usize| {
        let BrowserFrame::RequestElection(e) = BrowserFrame::parse(&frames[i].frame).unwrap()
        else {
            unreachable!()
        };
        e
    };
    let (alpha, bravo) = (ballot(0), ballot(5));
    assert_eq!(alpha.criteria, ElectionCriteria::SAMBA_DEFAULT);
    assert_eq!(alpha.criteria.os_level(), 20);
    assert_eq!(alpha.criteria.desire(), ElectionDesire::STANDBY);
    assert_eq!(bravo.criteria.os_level(), 65);
    assert_eq!(
        bravo.criteria.desire(),
        ElectionDesire::STANDBY | ElectionDesire::PREFERRED_MASTER
    );
    // What the lab saw: BRAVO (os level 65, preferred) wins; ALPHA's re-election ballot, with a
    // much longer uptime, still loses to BRAVO, and every candidate beats a forced election.
    assert!(bravo.beats(&alpha) && !alpha.beats(&bravo));
    assert!(bravo.beats(&ballot(11)));
    assert!(alpha.beats(&ballot(10)));
    assert_eq!(
        ballot(11).criteria.desire(),
        ElectionDesire::STANDBY | ElectionDesire::RUNNING_BACKUP
    );
}

#[test]
fn backup_list() {
    let file = "browser-getbackuplist.pcapng";
    let frames = captured(file);
    assert_eq!(frames.len(), 6);
    let mut token = None;
    for c in &frames {
        let f = parse_round_trip(file, c);
        match f {
            BrowserFrame::GetBackupListRequest(q) => {
                assert_eq!(c.host, 5, "the lab client asks");
                assert_eq!(q.requested_count, 4);
                token = Some(q.token);
            }
            BrowserFrame::GetBackupListResponse(GetBackupListResponse { token: t, servers }) => {
                // Samba (the master, ALPHA) lists only itself and echoes the token; it answers
                // twice (one per listening socket).
                assert_eq!(c.host, 1);
                assert_eq!(Some(t), token, "token echoed");
                assert_eq!(servers, [name("ALPHA")]);
            }
            other => panic!("{file}: {other:?}"),
        }
    }
    // The first request's token as tshark shows it.
    let BrowserFrame::GetBackupListRequest(q) = BrowserFrame::parse(&frames[0].frame).unwrap()
    else {
        unreachable!()
    };
    assert_eq!(q.token, 1_389_145_672);
}

#[test]
fn every_browser_capture_round_trips() {
    let mut names: Vec<String> = std::fs::read_dir(common::vector(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("browser-") && n.ends_with(".pcapng"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 6);
    let mut total = 0;
    for n in &names {
        for c in captured(n) {
            parse_round_trip(n, &c);
            total += 1;
        }
    }
    assert_eq!(total, 44);
}
