//! The listing client against our own listing server, in process (every frame passes through
//! both state machines, no I/O), and against hostile replies built by hand.

use std::collections::VecDeque;
use std::net::Ipv4Addr;

use super::*;
use crate::engine::Rng;
use crate::engine::browser::list::{BrowseLimits, BrowseList};
use crate::engine::session::{
    BrowseListing, Connection, ListingSource, LocalServer, SessionConfig, Share, SmbListingServer,
};
use crate::wire::browse::Announcement;
use crate::wire::rap::records::{encode_entries, share_type};
use crate::wire::smb::commands::{NegotiateResponse, SecurityMode};
use crate::wire::ssn::NegativeResponseCode;

fn sname(s: &str) -> ServerName {
    ServerName::new(s).unwrap()
}

fn nb(s: &str, suffix: u8) -> NetbiosName {
    NetbiosName::new(s, suffix).unwrap()
}

fn config(called: &str) -> ClientConfig {
    ClientConfig::new(nb(called, 0x20), nb("NBT", 0), "10.0.0.2")
}

struct Lab {
    local: LocalServer,
    list: BrowseList,
}

impl Lab {
    /// BRAVO, master of LABWG, hearing `servers` (name, type, comment) and OTHERWG.
    fn new(servers: &[(String, u32, String)]) -> Lab {
        let mut list = BrowseList::new(BrowseLimits {
            max_servers_per_workgroup: 10_000,
            max_workgroups: 16,
            max_servers_total: 10_000,
            ..BrowseLimits::default()
        });
        let now = crate::engine::Instant::now();
        for (name, ty, comment) in servers {
            let a = Announcement::new(
                sname(name),
                ServerType::from_bits_retain(*ty),
                720_000,
                comment.as_bytes().to_vec(),
            );
            list.server_announced(now, &sname("LABWG"), &a, None);
        }
        for (wg, master) in [("LABWG", "BRAVO"), ("OTHERWG", "CHARLIE")] {
            list.workgroup_announced(
                now,
                &Announcement::domain(sname(wg), sname(master), 720_000),
                None,
            );
        }
        let local = LocalServer {
            names: vec![nb("BRAVO", 0x20)],
            workgroup: sname("LABWG"),
            name: sname("BRAVO"),
            server_type: ServerType::from_bits_retain(0x0084_9a03),
            version: (4, 9),
            comment: b"lab host nb2".to_vec(),
            shares: vec![
                Share {
                    name: "pub".into(),
                    share_type: share_type::DISKTREE,
                    comment: "guest share".into(),
                },
                Share {
                    name: "lp".into(),
                    share_type: share_type::PRINTQ,
                    comment: String::new(),
                },
            ],
            workgroup_master: Some(sname("BRAVO")),
        };
        Lab { local, list }
    }

    fn src(&self) -> BrowseListing<'_> {
        BrowseListing {
            local: &self.local,
            list: Some(&self.list),
        }
    }
}

fn three() -> Vec<(String, u32, String)> {
    vec![
        ("ALPHA".into(), 0x0081_9a03, "lab host nb1".into()),
        ("CHARLIE".into(), 0x0001_1003, "lab host nb3".into()),
    ]
}

/// A client and our server joined frame by frame.
struct Pair<'a> {
    client: ListingClient,
    server: SmbListingServer,
    src: &'a dyn ListingSource,
}

impl<'a> Pair<'a> {
    fn new(config: ClientConfig, src: &'a dyn ListingSource) -> Self {
        let conn = Connection {
            local_addr: Ipv4Addr::new(10, 0, 0, 2),
            system_time: 0,
            time_zone: 0,
        };
        let server_config = SessionConfig {
            max_frame_len: 65_535 + 4,
            ..SessionConfig::default()
        };
        Pair {
            client: ListingClient::new(config),
            server: SmbListingServer::new(server_config, conn, Rng::new(1)),
            src,
        }
    }

    /// Sends `first` and every request that follows until the step is over.
    fn step(&mut self, first: Vec<u8>) -> Result<Outcome, ClientError> {
        let mut queue = VecDeque::from([first]);
        for _ in 0..1000 {
            let Some(f) = queue.pop_front() else {
                panic!("the client waits, but nothing was sent")
            };
            let reply = self.server.handle_frame(&f, self.src);
            for r in reply.frames {
                let len = self.client.check_header(&r)?;
                assert_eq!(len, r.len());
                match self.client.handle_frame(&r)? {
                    Progress::Send(next) => queue.push_back(next),
                    Progress::Wait => {}
                    Progress::Done(o) => {
                        assert!(queue.is_empty());
                        return Ok(o);
                    }
                }
            }
        }
        panic!("no end after 1000 requests")
    }

    fn connect(&mut self) -> Result<Outcome, ClientError> {
        let f = self.client.session_request().unwrap();
        self.step(f)
    }

    fn servers(&mut self, ty: ServerType, domain: &str) -> ServerListing {
        let f = self.client.list_servers(ty, sname(domain)).unwrap();
        match self.step(f).unwrap() {
            Outcome::Servers(s) => s,
            o => panic!("{o:?}"),
        }
    }
}

fn names(s: &ServerListing) -> Vec<String> {
    s.servers.iter().map(|e| e.name.to_string_lossy()).collect()
}

#[test]
fn lists_shares_servers_and_workgroups_from_our_server() {
    let lab = Lab::new(&three());
    let src = lab.src();
    let mut p = Pair::new(config("BRAVO"), &src);
    assert_eq!(p.connect(), Ok(Outcome::Connected));
    let info = p.client.server_info().clone();
    assert_eq!(info.dialect, "NT LM 0.12");
    assert_eq!(
        (info.domain_name.as_str(), info.server_name.as_str()),
        ("LABWG", "BRAVO")
    );
    assert_eq!(info.primary_domain, "LABWG");
    assert!(info.guest);
    assert!(p.client.is_ready());

    let f = p.client.list_shares().unwrap();
    let Outcome::Shares(s) = p.step(f).unwrap() else {
        panic!()
    };
    assert_eq!(s.incomplete, None);
    let got: Vec<(&[u8], u16, &[u8])> = s
        .shares
        .iter()
        .map(|s| (s.name.as_bytes(), s.share_type, s.remark.as_slice()))
        .collect();
    assert_eq!(
        got,
        [
            (&b"pub"[..], share_type::DISKTREE, &b"guest share"[..]),
            (b"lp", share_type::PRINTQ, b""),
            (b"IPC$", share_type::IPC, b"IPC Service (lab host nb2)"),
        ]
    );

    let all = p.servers(ServerType::ALL, "labwg");
    assert_eq!(names(&all), ["ALPHA", "BRAVO", "CHARLIE"]);
    assert_eq!((all.rounds, all.incomplete), (1, None));
    assert_eq!(all.servers[0].comment, b"lab host nb1");
    assert_eq!(all.servers[1].server_type.bits(), 0x0084_9a03);
    // An empty domain is the server's workgroup.
    assert_eq!(names(&p.servers(ServerType::ALL, "")), names(&all));
    let wgs = p.servers(ServerType::DOMAIN_ENUM, "");
    assert_eq!(names(&wgs), ["LABWG", "OTHERWG"]);
    assert_eq!(wgs.servers[1].comment, b"CHARLIE");

    let f = p.client.disconnect().unwrap();
    assert_eq!(p.step(f), Ok(Outcome::Disconnected));
    assert!(p.client.is_closed());
}

fn many(n: usize) -> Vec<(String, u32, String)> {
    (0..n)
        .map(|i| (format!("H{i:05}"), 0x0000_1003, format!("host number {i}")))
        .collect()
}

#[test]
fn five_thousand_servers_through_netserverenum3() {
    let lab = Lab::new(&many(5000));
    let src = lab.src();
    let mut want: Vec<String> = many(5000).into_iter().map(|s| s.0).collect();
    want.extend(["BRAVO".to_owned()]);
    want.sort();
    for max_buffer in [u16::MAX, 4096, 1024] {
        let mut c = config("BRAVO");
        c.max_buffer_size = max_buffer;
        let mut p = Pair::new(c, &src);
        p.connect().unwrap();
        let all = p.servers(ServerType::ALL, "LABWG");
        assert_eq!(names(&all), want, "every server once, in order");
        assert_eq!(all.incomplete, None);
        // About 40 bytes per entry: some 1600 per 65535-byte reply, the first name of each
        // continuation a repetition.
        assert_eq!(all.rounds, 4);
    }
}

#[test]
fn caps_on_rounds_and_entries() {
    let lab = Lab::new(&many(5000));
    let src = lab.src();
    let mut c = config("BRAVO");
    c.max_rounds = 2;
    let mut p = Pair::new(c, &src);
    p.connect().unwrap();
    let s = p.servers(ServerType::ALL, "LABWG");
    assert_eq!(s.incomplete, Some(Incomplete::RoundCap(2)));
    assert_eq!((s.rounds, s.servers.len()), (2, 3072));
    assert_eq!(names(&s)[..3], ["BRAVO", "H00000", "H00001"]);
    assert!(p.client.is_ready(), "the connection stays usable");

    for cap in [100, 1640, 1700] {
        let mut c = config("BRAVO");
        c.max_entries = cap;
        let mut p = Pair::new(c, &src);
        p.connect().unwrap();
        let s = p.servers(ServerType::ALL, "LABWG");
        assert_eq!(s.incomplete, Some(Incomplete::EntryCap(cap)));
        assert_eq!(s.servers.len(), cap);
    }
}

#[test]
fn negative_session_response_is_a_refusal() {
    let lab = Lab::new(&three());
    let src = lab.src();
    // Our listing server accepts any called name, as smbd; it refuses a Pathworks calling
    // name (type R) with the same 0x82, which serves as the refusal here.
    let strict = ClientConfig::new(nb("NOTBRAVO", 0x20), nb("NBT", b'R'), "10.0.0.2");
    let mut p = Pair::new(strict, &src);
    let e = p.connect().unwrap_err();
    assert_eq!(
        e,
        ClientError::SessionRefused {
            called: "NOTBRAVO<20>".into(),
            code: NegativeResponseCode::CalledNameNotPresent,
        }
    );
    assert!(e.is_refusal());
    assert_eq!(
        e.to_string(),
        "the server refused the NetBIOS session for NOTBRAVO<20>: called name not present (0x82)"
    );
    assert!(p.client.is_closed());
    // *SMBSERVER is accepted, as by smbclient's retry.
    let mut p = Pair::new(config(SMBSERVER), &src);
    assert_eq!(p.connect(), Ok(Outcome::Connected));
}

// ---------------------------------------------------------------------------------------------
// Hostile replies, built by hand.

fn reply_to(req: &[u8], status: u32) -> SmbHeader {
    let m = SmbMessage::parse(&req[4..]).unwrap();
    let mut h = m.header;
    h.flags |= SmbFlags::REPLY;
    h.flags2 = SmbFlags2::NT_STATUS | SmbFlags2::UNICODE | SmbFlags2::LONG_NAMES;
    h.status = status;
    h
}

fn bare(h: SmbHeader, words: Vec<u8>, bytes: Vec<u8>) -> Vec<u8> {
    frame_of(&SmbMessage {
        header: h,
        words,
        bytes,
        trailing: Vec::new(),
    })
}

fn negotiate_response(req: &[u8], caps: Capabilities) -> Vec<u8> {
    let r = NegotiateResponse {
        dialect_index: 1,
        security_mode: SecurityMode::USER_SECURITY | SecurityMode::ENCRYPT_PASSWORDS,
        max_mpx_count: 50,
        max_number_vcs: 1,
        max_buffer_size: 16644,
        max_raw_size: 65536,
        session_key: 0x1234,
        capabilities: caps,
        system_time: 0,
        server_time_zone: 0,
        challenge: vec![0; 8],
        domain_name: "WG".into(),
        server_name: "SRV".into(),
    };
    frame_of(&r.to_message(reply_to(req, 0)).unwrap())
}

/// A client past the session response, with the NEGOTIATE request it sent.
fn negotiating() -> (ListingClient, Vec<u8>) {
    let mut c = ListingClient::new(config("SRV"));
    c.session_request().unwrap();
    let Progress::Send(neg) = c.handle_frame(&[0x82, 0, 0, 0]).unwrap() else {
        panic!()
    };
    (c, neg)
}

/// A client connected to a scripted server, with the UID and TID it was given.
fn connected() -> ListingClient {
    let (mut c, neg) = negotiating();
    let caps = Capabilities::UNICODE | Capabilities::STATUS32 | Capabilities::NT_SMBS;
    let Progress::Send(ss) = c.handle_frame(&negotiate_response(&neg, caps)).unwrap() else {
        panic!()
    };
    let setup = SessionSetupResponse {
        action: 1,
        native_os: "Unix".into(),
        native_lanman: "x".into(),
        primary_domain: "WG".into(),
    };
    let mut h = reply_to(&ss, 0);
    h.uid = 77;
    let Progress::Send(tc) = c.handle_frame(&frame_of(&setup.to_message(h))).unwrap() else {
        panic!()
    };
    let tm = SmbMessage::parse(&tc[4..]).unwrap();
    assert_eq!(tm.header.uid, 77, "the UID is used");
    let t = TreeConnectResponse {
        optional_support: 1,
        access_rights: None,
        service: b"IPC".to_vec(),
        native_file_system: String::new(),
    };
    let mut h = reply_to(&tc, 0);
    h.tid = 5;
    assert_eq!(
        c.handle_frame(&frame_of(&t.to_message(h))),
        Ok(Progress::Done(Outcome::Connected))
    );
    c
}

fn rap_pieces(req: &[u8], rap: &RapResponse, split_at: Option<usize>) -> Vec<Vec<u8>> {
    let h = reply_to(req, 0);
    let params = rap.parameters();
    let mut pieces = Vec::new();
    let cut = split_at.unwrap_or(rap.data.len());
    for (at, chunk) in [(0, &rap.data[..cut]), (cut, &rap.data[cut..])] {
        if at > 0 && chunk.is_empty() {
            continue;
        }
        let mut t = TransactionResponse::new(
            h,
            if at == 0 { params.clone() } else { Vec::new() },
            chunk.to_vec(),
        );
        t.total_parameter_count = params.len() as u16;
        t.total_data_count = rap.data.len() as u16;
        t.parameter_displacement = if at == 0 { 0 } else { params.len() as u16 };
        t.data_displacement = at as u16;
        pieces.push(session_message(&t.to_vec().unwrap()));
    }
    pieces
}

fn server_reply(entries: &[(&str, &str)], status: u16) -> RapResponse {
    let recs: Vec<ServerInfo1> = entries
        .iter()
        .map(|(n, c)| ServerInfo1 {
            name: sname(n),
            version_major: 0,
            version_minor: 0,
            server_type: ServerType::SERVER,
            comment: c.as_bytes().to_vec(),
        })
        .collect();
    let e = encode_entries(recs, 0, 65535);
    RapResponse {
        status,
        converter: 0,
        words: vec![e.returned, e.available],
        data: e.data,
    }
}

#[test]
fn handshake_refusals_and_dialects() {
    // DialectIndex 0xFFFF.
    let (mut c, neg) = negotiating();
    let none = NegotiateResponse::no_dialect(reply_to(&neg, 0));
    assert_eq!(
        c.handle_frame(&frame_of(&none)),
        Err(ClientError::NoCommonDialect)
    );
    assert!(c.is_closed());
    // Extended security only.
    let (mut c, neg) = negotiating();
    let caps = Capabilities::UNICODE | Capabilities::EXTENDED_SECURITY;
    assert_eq!(
        c.handle_frame(&negotiate_response(&neg, caps)),
        Err(ClientError::ExtendedSecurity)
    );
    // SMB2.
    let (mut c, _) = negotiating();
    let mut smb2 = vec![0, 0, 0, 68];
    smb2.extend_from_slice(b"\xFESMB");
    smb2.resize(72, 0);
    assert_eq!(c.handle_frame(&smb2), Err(ClientError::Smb2));
    // Access denied to the anonymous session: a refusal.
    let (mut c, neg) = negotiating();
    let Progress::Send(ss) = c
        .handle_frame(&negotiate_response(&neg, Capabilities::UNICODE))
        .unwrap()
    else {
        panic!()
    };
    let e = c
        .handle_frame(&bare(
            reply_to(&ss, ntstatus::ACCESS_DENIED),
            vec![],
            vec![],
        ))
        .unwrap_err();
    assert!(e.is_refusal());
    assert_eq!(
        e.to_string(),
        "the anonymous session setup failed: STATUS_ACCESS_DENIED (0xc0000022)"
    );
    // A DOS error status.
    let mut h = reply_to(&ss, 0x0005_0001);
    h.flags2.remove(SmbFlags2::NT_STATUS);
    assert_eq!(SmbStatus::of(&h).to_string(), "DOS error class 1 code 5");
    assert!(SmbStatus::of(&h).is_access_denied());
    // A retarget is not followed.
    let mut c = ListingClient::new(config("SRV"));
    c.session_request().unwrap();
    let e = c
        .handle_frame(&[0x84, 0, 0, 6, 10, 0, 0, 9, 0, 139])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the server redirects the session to 10.0.0.9:139 (RETARGET), which is not followed"
    );
}

#[test]
fn replies_that_do_not_answer_are_errors() {
    let (c0, neg) = negotiating();
    let good = negotiate_response(&neg, Capabilities::UNICODE);
    // Wrong MID.
    let mut c = c0.clone();
    let mut f = good.clone();
    f[4 + 30] ^= 0x55;
    let e = c.handle_frame(&f).unwrap_err();
    assert!(
        matches!(&e, ClientError::Unexpected { got, .. } if got.contains("MID")),
        "{e}"
    );
    // Not a reply.
    let mut c = c0.clone();
    let mut f = good.clone();
    f[4 + 9] &= !0x80;
    assert!(matches!(
        c.handle_frame(&f),
        Err(ClientError::Unexpected { .. })
    ));
    // Another command.
    let mut c = c0.clone();
    let mut f = good.clone();
    f[4 + 4] = command::ECHO;
    assert!(matches!(
        c.handle_frame(&f),
        Err(ClientError::Unexpected { .. })
    ));
    // Not an SMB message at all.
    let mut c = c0.clone();
    let e = c.handle_frame(&[0, 0, 0, 4, 1, 2, 3, 4]).unwrap_err();
    assert!(
        e.to_string().starts_with("malformed NEGOTIATE response: "),
        "{e}"
    );
    // Truncated, or longer than LENGTH says.
    let mut c = c0.clone();
    assert!(matches!(
        c.handle_frame(&good[..good.len() - 1]),
        Err(ClientError::Malformed { .. })
    ));
    let mut c = c0.clone();
    let mut long = good.clone();
    long.push(0);
    assert!(c.handle_frame(&long).is_err());
    // A keepalive is read past; a second session response is not.
    let mut c = c0.clone();
    assert_eq!(c.handle_frame(&[0x85, 0, 0, 0]), Ok(Progress::Wait));
    assert!(matches!(
        c.handle_frame(&[0x82, 0, 0, 0]),
        Err(ClientError::Unexpected { .. })
    ));
    // A header over the limit is refused before the rest is read: E bit, 17-bit length.
    let c = c0.clone();
    assert_eq!(
        c.check_header(&[0, 1, 0, 0]),
        Err(ClientError::FrameTooLarge {
            length: 0x1_0004,
            max: 0xFFFF + 4
        })
    );
    assert!(c.check_header(&[0, 2, 0, 0]).is_err(), "reserved FLAGS bit");
    assert_eq!(c.check_header(&[0, 0, 0xFF, 0xFF]), Ok(0xFFFF + 4));
    // Frames after the close.
    let mut c = c0;
    c.handle_frame(&[9]).unwrap_err();
    assert_eq!(
        c.handle_frame(&good),
        Err(ClientError::NotReady("reading a frame after the close"))
    );
    assert!(c.list_shares().is_err());
}

#[test]
fn transaction_pieces_and_rap_errors() {
    // Two pieces, in order: reassembled.
    let mut c = connected();
    let req = c.list_servers(ServerType::ALL, sname("wg")).unwrap();
    let t = TransactionRequest::parse(&req[4..]).unwrap();
    assert_eq!(t.header.uid, 77);
    assert_eq!(t.header.tid, 5);
    let call = RapCall::from_request(&crate::wire::rap::RapRequest::parse(&t.parameters).unwrap());
    let RapCall::NetServerEnum2(e) = call else {
        panic!("{call:?}")
    };
    assert_eq!(e.domain.as_deref(), Some(&b"WG"[..]), "upper-cased");
    let rap = server_reply(&[("A", "one"), ("B", "two")], 0);
    let pieces = rap_pieces(&req, &rap, Some(30));
    assert_eq!(pieces.len(), 2);
    assert_eq!(c.handle_frame(&pieces[0]), Ok(Progress::Wait));
    let Ok(Progress::Done(Outcome::Servers(s))) = c.handle_frame(&pieces[1]) else {
        panic!()
    };
    assert_eq!(names(&s), ["A", "B"]);

    // Out of order: an error.
    let mut c = connected();
    let req = c.list_servers(ServerType::ALL, sname("WG")).unwrap();
    let pieces = rap_pieces(&req, &rap, Some(30));
    let e = c.handle_frame(&pieces[1]).unwrap_err();
    assert!(e.to_string().contains("ParameterDisplacement"), "{e}");

    // More bytes than the totals.
    let mut c = connected();
    let req = c.list_servers(ServerType::ALL, sname("WG")).unwrap();
    let mut t = TransactionResponse::new(reply_to(&req, 0), rap.parameters(), rap.data.clone());
    t.total_data_count -= 1;
    let e = c
        .handle_frame(&session_message(&t.to_vec().unwrap()))
        .unwrap_err();
    assert!(e.to_string().contains("TotalDataCount"), "{e}");

    // A piece that carries nothing before the end.
    let mut c = connected();
    let req = c.list_servers(ServerType::ALL, sname("WG")).unwrap();
    let mut t = TransactionResponse::new(reply_to(&req, 0), Vec::new(), Vec::new());
    t.total_parameter_count = 8;
    let e = c
        .handle_frame(&session_message(&t.to_vec().unwrap()))
        .unwrap_err();
    assert!(e.to_string().contains("no bytes"), "{e}");

    // RAP access denied: a refusal.
    let mut c = connected();
    let req = c.list_shares().unwrap();
    let denied = RapResponse {
        status: 5,
        converter: 0,
        words: vec![0, 0],
        data: Vec::new(),
    };
    let e = c
        .handle_frame(&rap_pieces(&req, &denied, None)[0])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "RAP NetShareEnum failed with status 5 (access denied)"
    );
    assert!(e.is_refusal());

    // A string pointer out of the data block.
    let mut c = connected();
    let req = c.list_servers(ServerType::ALL, sname("WG")).unwrap();
    let mut bad = rap.clone();
    bad.data[22] = 0xF0;
    let e = c
        .handle_frame(&rap_pieces(&req, &bad, None)[0])
        .unwrap_err();
    assert!(e.to_string().starts_with("malformed RAP data block"), "{e}");

    // Fewer than 8 parameter bytes.
    let mut c = connected();
    let req = c.list_servers(ServerType::ALL, sname("WG")).unwrap();
    let short = RapResponse {
        words: Vec::new(),
        ..rap.clone()
    };
    assert!(matches!(
        c.handle_frame(&rap_pieces(&req, &short, None)[0]),
        Err(ClientError::Malformed { .. })
    ));

    // An error status on the TRANSACTION itself.
    let mut c = connected();
    let req = c.list_shares().unwrap();
    let e = c
        .handle_frame(&bare(
            reply_to(&req, ntstatus::NOT_SUPPORTED),
            vec![],
            vec![],
        ))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "NetShareEnum failed: STATUS_NOT_SUPPORTED (0xc00000bb)"
    );
}

#[test]
fn continuation_that_repeats_itself_stops() {
    let mut c = connected();
    let req = c.list_servers(ServerType::ALL, sname("WG")).unwrap();
    let page = server_reply(&[("A", ""), ("B", "")], rap_status::MORE_DATA);
    let Ok(Progress::Send(next)) = c.handle_frame(&rap_pieces(&req, &page, None)[0]) else {
        panic!()
    };
    // NetServerEnum3 from the last name.
    let t = TransactionRequest::parse(&next[4..]).unwrap();
    let r = crate::wire::rap::RapRequest::parse(&t.parameters).unwrap();
    let RapCall::NetServerEnum3(e) = RapCall::from_request(&r) else {
        panic!()
    };
    assert_eq!(e.first_name, b"B");
    // The server answers with the last name only, and more data: nothing new.
    let again = server_reply(&[("b", "")], rap_status::MORE_DATA);
    let Ok(Progress::Done(Outcome::Servers(s))) =
        c.handle_frame(&rap_pieces(&next, &again, None)[0])
    else {
        panic!()
    };
    assert_eq!(names(&s), ["A", "B"]);
    assert_eq!(s.incomplete, Some(Incomplete::NoProgress));
    assert_eq!(s.rounds, 2);
}

#[test]
fn calls_out_of_turn() {
    let mut c = ListingClient::new(config("SRV"));
    assert!(c.list_shares().is_err());
    assert!(c.disconnect().is_err());
    assert!(matches!(
        c.handle_frame(&[0x82, 0, 0, 0]),
        Err(ClientError::Unexpected { .. })
    ));
    let mut c = connected();
    assert!(c.session_request().is_err());
    let idle = c.handle_frame(&[0x82, 0, 0, 0]).unwrap_err();
    assert!(
        idle.to_string().contains("no request is outstanding"),
        "{idle}"
    );
    let mut c = connected();
    c.list_shares().unwrap();
    assert!(c.list_shares().is_err(), "one request at a time");
}
