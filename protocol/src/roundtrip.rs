//! The round-trip invariant of every parser, as one function per packet family.
//!
//! Each function takes arbitrary bytes, parses them, and when that succeeds emits the value and
//! parses the result again: the two values must be equal. The fuzz targets in `protocol/fuzz`
//! and the property tests call these same functions, so a finding in one is a test in the other.
//!
//! These functions panic when the invariant breaks: that is their purpose. Nothing in the daemon
//! calls them.

use std::borrow::Cow;
use std::net::Ipv4Addr;

use crate::engine::Rng;
use crate::engine::session::client::{ClientConfig, ListingClient, Outcome, Progress};
use crate::engine::session::{
    Connection, ListedServer, ListedWorkgroup, ListingSource, Reply, SessionConfig, Share,
    SmbListingServer,
};
use crate::error::EmitError;
use crate::name::{NetbiosName, Pointers, ScopedName};
use crate::wire::Emit;
use crate::wire::browse::{BrowserFrame, LanmanFrame};
use crate::wire::browse::{ServerName, ServerType};
use crate::wire::cursor::{Reader, Writer};
use crate::wire::dgram::Datagram;
use crate::wire::ns::NameServicePacket;
use crate::wire::rap::records::{ServerInfo1, ShareInfo1, decode_entries, encode_all};
use crate::wire::rap::{RapCall, RapRequest, RapResponse};
use crate::wire::smb::commands::NegotiateRequest;
use crate::wire::smb::{
    SmbFlags2, SmbHeader, SmbMessage, TransactionRequest, TransactionResponse, command,
};
use crate::wire::ssn::{SessionHeader, SessionPacket, SessionRequest};

fn again<T, E: core::fmt::Debug>(what: &str, r: Result<T, E>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: re-parse of our own output failed: {e:?}"),
    }
}

/// Emits a parsed value. `Refusal::Allowed` is for families whose emitter refuses, with
/// [`EmitError::FieldTooLarge`], values that peers accept but nbtd never sends (for example a
/// browser frame over the size a datagram may carry); anything else must emit.
fn emit_all<T: Emit + core::fmt::Debug>(what: &str, v: &T, refusal: Refusal) -> Option<Vec<u8>> {
    let b = match v.to_vec() {
        Ok(b) => b,
        Err(EmitError::FieldTooLarge { .. }) if refusal == Refusal::Allowed => return None,
        Err(e) => panic!("{what}: a parsed value failed to emit: {e:?}: {v:?}"),
    };
    assert_eq!(
        b.len(),
        v.buffer_len(),
        "{what}: buffer_len disagrees with emit"
    );
    Some(b)
}

/// Whether an emitter may refuse a parsed value.
#[derive(PartialEq)]
enum Refusal {
    Never,
    Allowed,
}

/// NetBIOS names: encoded names at the start of the input (with and without pointers), and the
/// `NAME#XX` text form when the input is UTF-8.
pub fn names(data: &[u8]) {
    for pointers in [Pointers::Follow, Pointers::Reject] {
        let start = usize::from(data.first().copied().unwrap_or(0)) % data.len().max(1);
        let mut r = Reader::at(data, start);
        if let Ok(n) = ScopedName::parse(&mut r, pointers, "name") {
            assert!(r.pos() <= data.len());
            let mut buf = vec![0u8; n.wire_len()];
            let mut w = Writer::new(&mut buf);
            if n.emit(&mut w).is_ok() {
                let back = again(
                    "name",
                    ScopedName::parse(&mut Reader::new(&buf), Pointers::Reject, "name"),
                );
                assert_eq!(back, n, "name round trip");
            }
        }
    }
    if let Ok(s) = core::str::from_utf8(data) {
        if let Ok(n) = s.parse::<NetbiosName>() {
            let back = again("name text", n.to_string().parse::<NetbiosName>());
            assert_eq!(back, n, "name text round trip");
        }
    }
}

/// Name service packets (UDP 137).
pub fn name_service(data: &[u8]) {
    if let Ok(p) = NameServicePacket::parse(data) {
        let _ = p.kind();
        let b = emit_all("name service", &p, Refusal::Never).expect("never refused");
        let back = again("name service", NameServicePacket::parse(&b));
        assert_eq!(back, p, "name service round trip");
    }
}

/// Browser frames on `\MAILSLOT\BROWSE` and LAN Manager frames on `\MAILSLOT\LANMAN`.
pub fn browser(data: &[u8]) {
    if let Ok(f) = BrowserFrame::parse(data) {
        let _ = f.opcode();
        if let Some(b) = emit_all("browser frame", &f, Refusal::Allowed) {
            let back = again("browser frame", BrowserFrame::parse(&b));
            assert_eq!(back, f, "browser frame round trip");
        }
    }
    if let Ok(f) = LanmanFrame::parse(data) {
        if let Some(b) = emit_all("LANMAN frame", &f, Refusal::Allowed) {
            let back = again("LANMAN frame", LanmanFrame::parse(&b));
            assert_eq!(back, f, "LANMAN frame round trip");
        }
    }
}

/// Checks one family: parse, emit (never refused), parse again, compare.
fn strict<T, E>(what: &str, data: &[u8], parse: fn(&[u8]) -> Result<T, E>) -> Option<T>
where
    T: Emit + PartialEq + core::fmt::Debug,
    E: core::fmt::Debug,
{
    let v = parse(data).ok()?;
    let b = emit_all(what, &v, Refusal::Never).expect("never refused");
    let back = again(what, parse(&b));
    assert_eq!(back, v, "{what} round trip");
    Some(v)
}

/// Datagram service packets (UDP 138).
pub fn datagram(data: &[u8]) {
    strict("datagram", data, Datagram::parse);
}

/// Session service frames (TCP 139): the 4-byte header alone, a whole frame, and a frame at the
/// head of a stream.
pub fn session(data: &[u8]) {
    if let Ok(h) = SessionHeader::parse(data) {
        let b = emit_all("session header", &h, Refusal::Never).expect("never refused");
        assert_eq!(again("session header", SessionHeader::parse(&b)), h);
    }
    strict("session frame", data, SessionPacket::parse);
    if let Ok((p, used)) = SessionPacket::parse_prefix(data) {
        assert!(used <= data.len(), "session prefix used more than it had");
        let b = emit_all("session prefix", &p, Refusal::Never).expect("never refused");
        assert_eq!(b.len(), used, "a frame re-emits to the bytes it came from");
    }
}

/// SMB1 messages: the generic shape, and the TRANSACTION request and response envelopes.
pub fn smb(data: &[u8]) {
    strict("SMB message", data, SmbMessage::parse);
    strict("TRANSACTION request", data, TransactionRequest::parse);
    strict("TRANSACTION response", data, TransactionResponse::parse);
}

/// RAP: a request's parameter block re-emits byte for byte, a call nbtd serves frames back to
/// itself, and the records of a data block re-encode to the same values.
pub fn rap(data: &[u8]) {
    if let Some(req) = strict("RAP request", data, RapRequest::parse) {
        let b = emit_all("RAP request", &req, Refusal::Never).expect("never refused");
        assert_eq!(b, data, "a RAP request re-emits byte for byte");
        let call = RapCall::from_request(&req);
        if let Some(again_req) = call.to_request() {
            assert_eq!(
                RapCall::from_request(&again_req),
                call,
                "RAP call round trip"
            );
        }
    }
    let (count, converter) = match data {
        [n, c0, c1, ..] => (u16::from(*n % 8), u16::from_le_bytes([*c0, *c1])),
        _ => (0, 0),
    };
    let block = data.get(3..).unwrap_or_default();
    if let Ok(v) = decode_entries::<ServerInfo1>(block, count, converter) {
        let b = encode_all(&v, converter).expect("parsed records fit");
        assert_eq!(
            decode_entries::<ServerInfo1>(&b, count, converter).ok(),
            Some(v)
        );
    }
    if let Ok(v) = decode_entries::<ShareInfo1>(block, count, converter) {
        let b = encode_all(&v, converter).expect("parsed records fit");
        assert_eq!(
            decode_entries::<ShareInfo1>(&b, count, converter).ok(),
            Some(v)
        );
    }
    if let Ok(r) = RapResponse::parse(data, block) {
        assert_eq!(RapResponse::parse(&r.parameters(), &r.data).ok(), Some(r));
    }
}

/// A fixed listing for [`smb_server`]: a few servers, workgroups and shares.
struct FuzzListing {
    names: Vec<NetbiosName>,
    shares: Vec<Share>,
}

fn fuzz_name(s: &str) -> ServerName {
    ServerName::new(s).unwrap_or_default()
}

impl ListingSource for FuzzListing {
    fn server_names(&self) -> &[NetbiosName] {
        &self.names
    }
    fn workgroup(&self) -> ServerName {
        fuzz_name("FUZZWG")
    }
    fn local_server(&self) -> ListedServer<'_> {
        ListedServer {
            name: fuzz_name("FUZZ"),
            server_type: ServerType::SERVER | ServerType::MASTER_BROWSER,
            version: (6, 1),
            comment: Cow::Borrowed(b"fuzz host"),
        }
    }
    fn shares(&self) -> &[Share] {
        &self.shares
    }
    fn servers<'a>(&'a self, wg: &ServerName) -> Box<dyn Iterator<Item = ListedServer<'a>> + 'a> {
        let n = if wg.eq_ignore_case(&self.workgroup()) {
            300
        } else {
            0
        };
        Box::new((0..n).map(|i| ListedServer {
            name: fuzz_name(&format!("HOST{i:04}")),
            server_type: ServerType::from_bits_retain(1 << (i % 32)),
            version: (6, 1),
            comment: Cow::Owned(format!("comment {i}").into_bytes()),
        }))
    }
    fn workgroups<'a>(&'a self) -> Box<dyn Iterator<Item = ListedWorkgroup> + 'a> {
        Box::new(["FUZZWG", "OTHER"].into_iter().map(|w| ListedWorkgroup {
            name: fuzz_name(w),
            master: fuzz_name("FUZZ"),
        }))
    }
    fn workgroup_master(&self) -> Option<ServerName> {
        None
    }
}

/// Checks one reply of the listing server: every frame parses and re-emits; SMB messages are
/// replies; TRANSACTION replies parse as such and stay within `max_msg`.
fn check_reply(reply: &Reply, max_msg: usize) {
    for f in &reply.frames {
        let p = again("listing server frame", SessionPacket::parse(f));
        match p {
            SessionPacket::SessionMessage(b) => {
                let m = again("listing server SMB reply", SmbMessage::parse(&b));
                assert!(m.header.is_reply(), "an SMB reply has REPLY set");
                assert!(m.trailing.is_empty(), "no bytes after the byte block");
                assert_eq!(m.to_vec().ok().as_deref(), Some(b.as_slice()));
                if m.header.command == command::TRANSACTION && m.header.status == 0 {
                    again("TRANSACTION reply", TransactionResponse::parse(&b));
                    assert!(b.len() <= max_msg, "a piece of {} bytes", b.len());
                }
            }
            SessionPacket::PositiveSessionResponse | SessionPacket::NegativeSessionResponse(_) => {}
            other => panic!("the listing server sent {other:?}"),
        }
    }
}

fn handshake_frames(max_buffer: u16) -> [Vec<u8>; 3] {
    let mut h = SmbHeader::new(command::NEGOTIATE);
    h.flags2 = SmbFlags2::from_bits_retain(0xC043);
    let nego = NegotiateRequest {
        dialects: vec![b"NT LANMAN 1.0".to_vec(), b"NT LM 0.12".to_vec()],
    };
    let frame = |m: &SmbMessage| {
        SessionPacket::SessionMessage(m.to_vec().unwrap_or_default())
            .to_vec()
            .unwrap_or_default()
    };
    let mut words = vec![0xFF, 0, 0, 0];
    words.extend_from_slice(&max_buffer.to_le_bytes());
    words.extend_from_slice(&[
        2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x54, 0xC0, 0, 0,
    ]);
    h.command = command::SESSION_SETUP_ANDX;
    let setup = SmbMessage {
        header: h,
        words,
        bytes: vec![0, 0, 0, 0, 0],
        trailing: Vec::new(),
    };
    h.command = command::TREE_CONNECT_ANDX;
    let mut path: Vec<u8> = vec![0];
    for u in "\\\\FUZZ\\IPC$".encode_utf16() {
        path.extend_from_slice(&u.to_le_bytes());
    }
    path.extend_from_slice(&[0, 0]);
    path.extend_from_slice(b"?????\0");
    let tcon = SmbMessage {
        header: h,
        words: vec![0xFF, 0, 0, 0, 8, 0, 1, 0],
        bytes: path,
        trailing: Vec::new(),
    };
    [
        frame(&nego.to_message(SmbHeader {
            command: command::NEGOTIATE,
            ..h
        })),
        frame(&setup),
        frame(&tcon),
    ]
}

/// The SMB1 listing server: arbitrary frames never make it panic, every reply is a well-formed
/// frame whose SMB message parses (TRANSACTION replies as such, within the client's buffer), and
/// after a close it answers nothing.
///
/// Input: a mode byte, then NBSS frames back to back (the last is fed as far as the input goes).
/// Mode bit 0: first a valid handshake (session request, NEGOTIATE, SESSION_SETUP_ANDX,
/// TREE_CONNECT_ANDX to IPC$); bit 1: write the handshake's UID and TID into every SMB header
/// fed; bit 2: a 600-byte client buffer, so that replies are split.
pub fn smb_server(data: &[u8]) {
    let mode = data.first().copied().unwrap_or(0);
    let mut rest = data.get(1..).unwrap_or_default();
    let src = FuzzListing {
        names: NetbiosName::new("FUZZ", 0x20).into_iter().collect(),
        shares: vec![Share {
            name: "pub".into(),
            share_type: 0,
            comment: "a share".into(),
        }],
    };
    let conn = Connection {
        local_addr: Ipv4Addr::new(10, 0, 0, 1),
        system_time: 0,
        time_zone: 0,
    };
    let mut server = SmbListingServer::new(SessionConfig::default(), conn, Rng::new(1));
    let max_buffer: u16 = if mode & 4 != 0 { 600 } else { 0xFFFF };
    let (mut uid, mut tid) = (None, None);
    if mode & 1 != 0 {
        let called =
            ScopedName::from(NetbiosName::new("FUZZ", 0x20).unwrap_or(NetbiosName::WILDCARD));
        let calling = called.clone();
        let req = SessionPacket::SessionRequest(SessionRequest {
            called_name: called,
            calling_name: calling,
            trailing: Vec::new(),
        });
        let mut frames = vec![req.to_vec().unwrap_or_default()];
        frames.extend(handshake_frames(max_buffer));
        for f in frames {
            let r = server.handle_frame(&f, &src);
            assert_eq!(r.close, None, "the handshake is accepted");
            check_reply(&r, 0xFFFF);
            for out in &r.frames {
                if let Ok(SessionPacket::SessionMessage(b)) = SessionPacket::parse(out) {
                    if let Ok(h) = SmbHeader::parse(&b) {
                        match h.command {
                            command::SESSION_SETUP_ANDX => uid = Some(h.uid),
                            command::TREE_CONNECT_ANDX => tid = Some(h.tid),
                            _ => {}
                        }
                    }
                }
            }
        }
        assert!(
            uid.is_some() && tid.is_some(),
            "the handshake yields a UID and a TID"
        );
    }
    let patch = mode & 2 != 0;
    let max_msg = if patch {
        usize::from(max_buffer)
    } else {
        0xFFFF
    };
    while !rest.is_empty() {
        let mut frame = next_frame(&mut rest).to_vec();
        if patch && frame.len() >= 4 + 32 && frame[4..8] == *b"\xFFSMB" {
            if let Some(u) = uid {
                frame[4 + 28..4 + 30].copy_from_slice(&u.to_le_bytes());
            }
            if let Some(t) = tid {
                frame[4 + 24..4 + 26].copy_from_slice(&t.to_le_bytes());
            }
        }
        let was_closed = server.is_closed();
        let r = server.handle_frame(&frame, &src);
        if was_closed {
            assert!(r.frames.is_empty(), "nothing is sent after a close");
        }
        check_reply(&r, max_msg);
        if r.close.is_some() {
            assert!(server.is_closed());
        }
    }
}

/// Splits the next NBSS frame off `rest`: as long as its header says, or what is left.
fn next_frame<'a>(rest: &mut &'a [u8]) -> &'a [u8] {
    let len = match SessionHeader::parse(rest) {
        Ok(h) => h.frame_len().min(rest.len()),
        Err(_) => rest.len().min(4),
    };
    let (frame, next) = rest.split_at(len);
    *rest = next;
    frame
}

/// The SMB1 listing client: arbitrary server frames never make it panic; every frame it sends
/// is an SMB request that parses; after an error it is closed and stays closed.
///
/// Input: a mode byte, then the server's NBSS frames back to back (the last is fed as far as the
/// input goes). Mode bit 0: write the MID of our last request into every SMB reply fed, so that
/// replies reach the readers behind the MID check. Once connected, the client lists the servers
/// (mode bit 1: the shares), then disconnects.
pub fn smb_client(data: &[u8]) {
    let mode = data.first().copied().unwrap_or(0);
    let mut rest = data.get(1..).unwrap_or_default();
    let name = |s: &str, sfx: u8| NetbiosName::new(s, sfx).unwrap_or(NetbiosName::WILDCARD);
    let config = ClientConfig::new(name("FUZZ", 0x20), name("NBT", 0), "FUZZ");
    let mut client = ListingClient::new(config);
    let mut last = client
        .session_request()
        .expect("the first SESSION REQUEST is written");
    let mut listed = false;
    while !rest.is_empty() {
        let mut frame = next_frame(&mut rest).to_vec();
        let mid = last.get(4 + 30..4 + 32).map(<[u8]>::to_vec);
        if mode & 1 != 0 && frame.len() >= 4 + 32 && frame[4..8] == *b"\xFFSMB" {
            if let Some(mid) = mid {
                frame[4 + 30..4 + 32].copy_from_slice(&mid);
            }
        }
        let was_closed = client.is_closed();
        let r = client.handle_frame(&frame);
        if was_closed {
            assert!(r.is_err(), "a closed client reads nothing");
        }
        let next = match r {
            Err(_) => {
                assert!(client.is_closed(), "an error closes the client");
                continue;
            }
            Ok(Progress::Wait) => continue,
            Ok(Progress::Send(f)) => Ok(f),
            Ok(Progress::Done(Outcome::Disconnected)) => {
                assert!(client.is_closed());
                continue;
            }
            Ok(Progress::Done(_)) if listed => client.disconnect(),
            Ok(Progress::Done(_)) => {
                listed = true;
                if mode & 2 != 0 {
                    client.list_shares()
                } else {
                    client.list_servers(ServerType::ALL, fuzz_name("FUZZWG"))
                }
            }
        };
        let next = next.expect("a ready client writes its request");
        let p = again("client frame", SessionPacket::parse(&next));
        let SessionPacket::SessionMessage(b) = p else {
            panic!("the client sent {p:?} after the session request")
        };
        let m = again("client SMB request", SmbMessage::parse(&b));
        assert!(!m.header.is_reply(), "a request has REPLY clear");
        if m.header.command == command::TRANSACTION {
            let t = again("client TRANSACTION", TransactionRequest::parse(&b));
            again("client RAP call", RapRequest::parse(&t.parameters));
        }
        last = next;
    }
}

/// The fast path's answer tables ([`crate::engine::answers`]): for a name engine whose names
/// are active, a request the table answers gets byte for byte the answer the engine sends, and
/// the engine's counters move as the fast path reports. The first byte of `data` picks the
/// engine's settings (remote subnets, a scope, an alias) and the sender; the rest is the
/// request. `now` is any instant: the engine is driven from it.
pub fn fast_answers(now: std::time::Instant, data: &[u8]) {
    use crate::engine::answers::FastAnswer;
    use crate::engine::names::{Disposition, NameConfig, NameEngine};
    use crate::engine::{IfaceAddr, IfaceId};
    use crate::name::Scope;
    use std::net::SocketAddrV4;
    use std::time::Duration;

    let Some((&pick, request)) = data.split_first() else {
        return;
    };
    let name = |n: &str, s: u8| NetbiosName::new(n, s).expect("a valid name");
    let mut c = NameConfig::new(name("ALPHA", 0), name("LABWG", 0));
    c.answer_remote_subnets = pick & 1 != 0;
    if pick & 2 != 0 {
        c.scope = Scope::new("corp.example").expect("a valid scope");
    }
    if pick & 4 != 0 {
        c.aliases.push(name("MEDIA", 0));
    }
    let iface = IfaceAddr {
        id: IfaceId(1),
        addr: Ipv4Addr::new(10, 0, 0, 1),
        netmask: Ipv4Addr::new(255, 255, 255, 0),
        broadcast: Ipv4Addr::new(10, 0, 0, 255),
        mac: [2, 0, 0, 0, 0, 1],
    };
    let mut e = NameEngine::new(c, Rng::new(u64::from(pick)));
    e.add_interface(now, iface);
    let mut at = now;
    for _ in 0..5 {
        at += Duration::from_millis(250);
        e.handle_timeout(at);
    }
    while e.poll_transmit().is_some() {}
    while e.poll_event().is_some() {}
    let src = match pick >> 3 & 3 {
        0 => Ipv4Addr::new(10, 0, 0, 5),
        1 => Ipv4Addr::new(10, 0, 0, 1),
        2 => Ipv4Addr::new(172, 16, 0, 5),
        _ => Ipv4Addr::new(10, 0, 0, 255),
    };
    // From the name service port, or from an ephemeral one, as a client on this host (our own
    // address) or on the LAN sends.
    let port = if pick & 0x20 != 0 { 50_000 } else { 137 };
    let src = SocketAddrV4::new(src, port);

    let table = e.answer_table(IfaceId(1)).expect("the interface is known");
    let mut out = [0u8; 1024];
    let fast = table.answer_into(src, request, &mut out);
    let before = e.counters();
    let d = e.handle_datagram(at, IfaceId(1), src, false, request);
    let sent: Vec<_> = core::iter::from_fn(|| e.poll_transmit()).collect();
    let Some((kind, len)) = fast else {
        return;
    };
    assert_eq!(
        d,
        Disposition::Handled,
        "the engine did not answer {request:02x?}"
    );
    assert_eq!(sent.len(), 1, "the engine sent {sent:?} for {request:02x?}");
    assert_eq!(sent[0].dst, src);
    assert_eq!(sent[0].payload, out[..len], "for {request:02x?}");
    let mut twin = before;
    let (q, s) = match kind {
        FastAnswer::Query => (1, 0),
        FastAnswer::NodeStatus => (0, 1),
    };
    twin.received += q + s;
    twin.positive_answers += q;
    twin.node_status_answers += s;
    twin.sent += q + s;
    assert_eq!(e.counters(), twin, "counters for {request:02x?}");
}

/// The WINS client ([`crate::engine::names::wins`]) driven by its servers' answers: a name
/// engine with two WINS servers on another subnet goes through the steps `data` describes, and
/// after each one its timers, its requests and its view must hold together.
///
/// `data` is a list of steps. A step's first byte moves the clock on by `(byte & 0x3f) × 5` s
/// and runs the timers; then, with bit 7 set, the server answers the newest request in flight,
/// as the next byte says (low 2 bits: positive, negative with the RCODE in the upper bits, a
/// WACK, or a positive answer with the byte as the TTL); with bit 7 clear, the next byte is a
/// length and that many bytes arrive from the server in use as they are.
pub fn wins_client(now: std::time::Instant, data: &[u8]) {
    use crate::engine::names::wins::WinsState;
    use crate::engine::names::{NameConfig, NameEngine};
    use crate::engine::{IfaceAddr, IfaceId};
    use crate::wire::ns::{NmFlags, Opcode, Rcode};
    use std::net::SocketAddrV4;
    use std::time::Duration;

    let name = |n: &str, s: u8| NetbiosName::new(n, s).expect("a valid name");
    let servers = [Ipv4Addr::new(10, 0, 1, 1), Ipv4Addr::new(10, 0, 1, 2)];
    let ours = Ipv4Addr::new(10, 0, 0, 1);
    let mut c = NameConfig::new(name("ALPHA", 0), name("LABWG", 0));
    c.wins_servers = servers.to_vec();
    // The poisoner detector's rounds run beside the WINS client, on the same timers.
    c.canary_interval = Some(std::time::Duration::from_secs(60));
    let names = c.names();
    let mut e = NameEngine::new(c, Rng::new(7));
    e.add_interface(
        now,
        IfaceAddr {
            id: IfaceId(1),
            addr: ours,
            netmask: Ipv4Addr::new(255, 255, 255, 0),
            broadcast: Ipv4Addr::new(10, 0, 0, 255),
            mac: [2, 0, 0, 0, 0, 1],
        },
    );
    let mut at = now;
    let mut in_flight: Vec<(SocketAddrV4, NameServicePacket)> = Vec::new();
    // Every request to a server is a well-formed unicast request for one of our names, with
    // our address, to the server in use; the newest are kept to be answered.
    let drain = |e: &mut NameEngine, in_flight: &mut Vec<(SocketAddrV4, NameServicePacket)>| {
        while let Some(t) = e.poll_transmit() {
            if !servers.contains(t.dst.ip()) {
                continue;
            }
            let current = e.wins_status().expect("a server is configured").server;
            assert_eq!(*t.dst.ip(), current, "a request to a server not in use");
            assert_eq!(t.dst.port(), 137);
            let p = NameServicePacket::parse(&t.payload).expect("our request parses");
            assert!(
                !p.response && !p.flags.contains(NmFlags::BROADCAST),
                "{p:?}"
            );
            assert!(matches!(
                p.opcode,
                Opcode::Registration | Opcode::Refresh | Opcode::Release
            ));
            let q = &p.questions[0].name.name;
            assert!(names.iter().any(|(n, _)| n == q), "{q}");
            let nb = p.additional[0].nb_addresses().expect("an NB record");
            assert_eq!(nb[0].addr, ours);
            in_flight.push((t.dst, p));
            if in_flight.len() > 16 {
                in_flight.remove(0);
            }
        }
        while e.poll_event().is_some() {}
    };
    drain(&mut e, &mut in_flight);
    let mut rest = data;
    for _ in 0..256 {
        let Some((&op, tail)) = rest.split_first() else {
            break;
        };
        let Some((&arg, tail)) = tail.split_first() else {
            break;
        };
        rest = tail;
        at += Duration::from_secs(u64::from(op & 0x3f) * 5);
        if e.poll_timeout().is_some_and(|t| t <= at) {
            e.handle_timeout(at);
        }
        assert!(
            e.poll_timeout().is_none_or(|t| t > at),
            "a timer stays due after handle_timeout"
        );
        drain(&mut e, &mut in_flight);
        let (from, bytes) = if op & 0x80 != 0 {
            let Some((from, p)) = in_flight.pop() else {
                continue;
            };
            let qname = p.questions[0].name.clone();
            let nb = p.additional[0].nb_addresses().expect("an NB record")[0];
            let mut r = match arg & 3 {
                0 => NameServicePacket::positive_registration_response(p.trn_id, qname, 600, nb),
                1 => NameServicePacket::negative_registration_response(
                    p.trn_id,
                    qname,
                    Rcode::new((arg >> 2) & 0x0f),
                    0,
                    nb,
                ),
                2 => NameServicePacket::wack(p.trn_id, qname, u32::from(arg), 0x2910),
                _ => NameServicePacket::positive_registration_response(
                    p.trn_id,
                    qname,
                    u32::from(arg),
                    nb,
                ),
            };
            if arg & 3 != 2 {
                r.opcode = p.opcode;
            }
            (from, r.to_vec().expect("an answer emits"))
        } else {
            let n = usize::from(arg).min(rest.len());
            let (b, tail) = rest.split_at(n);
            rest = tail;
            let server = e.wins_status().expect("a server is configured").server;
            (SocketAddrV4::new(server, 137), b.to_vec())
        };
        let _ = e.handle_datagram(at, IfaceId(1), from, false, &bytes);
        drain(&mut e, &mut in_flight);
        let st = e.wins_status().expect("a server is configured");
        assert_eq!(st.address, Some(ours));
        assert!(servers.contains(&st.server));
        let listed: Vec<_> = st.names.iter().map(|n| (n.name, n.group)).collect();
        assert_eq!(listed, names, "the names never change");
        for n in &st.names {
            match n.state {
                WinsState::Refused { .. } => assert_eq!(n.due, None, "a refusal is final"),
                _ => assert!(n.due.is_some_and(|d| d > at), "{n:?} has no timer"),
            }
        }
    }
    // Shutdown releases exactly the names the server holds.
    let held = e
        .wins_status()
        .expect("a server is configured")
        .names
        .iter()
        .filter(|n| {
            matches!(
                n.state,
                WinsState::Registered { .. } | WinsState::Refreshing { .. }
            )
        })
        .count();
    in_flight.clear();
    e.shutdown(at);
    drain(&mut e, &mut in_flight);
    assert_eq!(in_flight.len(), held);
    assert!(in_flight.iter().all(|(_, p)| p.opcode == Opcode::Release));
}
