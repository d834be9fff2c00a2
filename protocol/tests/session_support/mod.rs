//! Test support for the listing server: listing sources, client frames as smbclient builds
//! them, reply reassembly, and a client that drives the handshake.

#![allow(dead_code)]

use std::net::Ipv4Addr;

use nbt_protocol::engine::browser::list::{BrowseLimits, BrowseList};
use nbt_protocol::engine::session::{
    Connection, ListingSource, LocalServer, Reply, SessionConfig, Share, SmbListingServer,
};
use nbt_protocol::engine::{Instant, Rng};
use nbt_protocol::wire::browse::{Announcement, ServerName, ServerType};
use nbt_protocol::wire::rap::records::{ServerInfo1, decode_entries, share_type};
use nbt_protocol::wire::rap::{InfoLevel, RapCall, RapResponse, ServerEnumRequest};
use nbt_protocol::wire::smb::commands::NegotiateRequest;
use nbt_protocol::wire::smb::{
    SmbFlags, SmbFlags2, SmbHeader, SmbMessage, TransactionRequest, TransactionResponse, command,
    transaction_name,
};
use nbt_protocol::wire::ssn::{SessionHeader, SessionPacket};
use nbt_protocol::{Emit, NetbiosName, ScopedName};

// ---------------------------------------------------------------------------------------------
// Listing sources.

pub fn sname(s: &str) -> ServerName {
    ServerName::new(s).unwrap()
}

pub fn local(name: &str, addr_wg: &str, server_type: u32, comment: &str) -> LocalServer {
    LocalServer {
        names: vec![NetbiosName::new(name, 0x20).unwrap()],
        workgroup: sname(addr_wg),
        name: sname(name),
        server_type: ServerType::from_bits_retain(server_type),
        version: (0, 0),
        comment: comment.as_bytes().to_vec(),
        shares: vec![Share {
            name: "pub".into(),
            share_type: share_type::DISKTREE,
            comment: "guest share".into(),
        }],
        workgroup_master: None,
    }
}

/// A browse list holding `servers` of `workgroup` and the given workgroups; versions 0.0, as
/// Samba's RAP replies show them (Samba leaves the version bytes zero).
pub fn browse_list(
    workgroup: &str,
    servers: &[ServerInfo1],
    workgroups: &[(&str, &str)],
) -> BrowseList {
    let mut list = BrowseList::new(BrowseLimits {
        max_servers_per_workgroup: 10_000,
        max_workgroups: 16,
        max_servers_total: 10_000,
        ..BrowseLimits::default()
    });
    let now = Instant::now();
    for s in servers {
        let mut a = Announcement::new(s.name, s.server_type, 720_000, s.comment.clone());
        (a.os_version_major, a.os_version_minor) = (s.version_major, s.version_minor);
        list.server_announced(now, &sname(workgroup), &a, None);
    }
    for (wg, master) in workgroups {
        list.workgroup_announced(
            now,
            &Announcement::domain(sname(wg), sname(master), 720_000),
            None,
        );
    }
    list
}

/// A server entry; the name keeps its case.
pub fn server(name: &str, ty: u32, comment: &str) -> ServerInfo1 {
    ServerInfo1 {
        name: ServerName::from_bytes(name.as_bytes()).unwrap(),
        version_major: 0,
        version_minor: 0,
        server_type: ServerType::from_bits_retain(ty),
        comment: comment.as_bytes().to_vec(),
    }
}

/// What BRAVO (198.18.0.2) listed in the first two captures.
pub fn labwg_bravo() -> (LocalServer, BrowseList) {
    let servers = [
        server("ALPHA", 0x0081_9a03, "lab host nb1"),
        server("BRAVO", 0x0084_9a03, "lab host nb2"),
        server("CHARLIE", 0x0081_9a03, "lab host nb3"),
    ];
    (
        local("BRAVO", "LABWG", 0x0084_9a03, "lab host nb2"),
        browse_list("LABWG", &servers, &[("LABWG", "BRAVO")]),
    )
}

pub fn conn(addr: [u8; 4]) -> Connection {
    Connection {
        local_addr: Ipv4Addr::from(addr),
        system_time: 0x01dd_79ff_4a0a_1680,
        time_zone: 0,
    }
}

pub fn new_server(addr: [u8; 4]) -> SmbListingServer {
    SmbListingServer::new(SessionConfig::default(), conn(addr), Rng::new(7))
}

// ---------------------------------------------------------------------------------------------
// Frames.

pub fn nbss_frames(stream: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < stream.len() {
        let h = SessionHeader::parse(&stream[at..]).unwrap();
        out.push(stream[at..at + h.frame_len()].to_vec());
        at += h.frame_len();
    }
    out
}

pub fn session_message(msg: &[u8]) -> Vec<u8> {
    SessionPacket::SessionMessage(msg.to_vec())
        .to_vec()
        .unwrap()
}

pub fn smb_of(frame: &[u8]) -> SmbMessage {
    let SessionPacket::SessionMessage(b) = SessionPacket::parse(frame).unwrap() else {
        panic!("not a session message: {:02x?}", &frame[..4])
    };
    SmbMessage::parse(&b).unwrap()
}

pub fn header(cmd: u8, uid: u16, tid: u16, mid: u16) -> SmbHeader {
    let mut h = SmbHeader::new(cmd);
    h.flags = SmbFlags::CASE_INSENSITIVE | SmbFlags::CANONICALIZED_PATHS;
    h.flags2 = SmbFlags2::from_bits_retain(0xC043);
    (h.uid, h.tid, h.mid, h.pid_low) = (uid, tid, mid, 0x2f19);
    h
}

pub fn msg_frame(m: &SmbMessage) -> Vec<u8> {
    session_message(&m.to_vec().unwrap())
}

pub fn session_request(called: &str) -> Vec<u8> {
    SessionPacket::SessionRequest(nbt_protocol::wire::ssn::SessionRequest {
        called_name: ScopedName::from(NetbiosName::new(called, 0x20).unwrap()),
        calling_name: ScopedName::from(NetbiosName::new("CLIENT", 0).unwrap()),
        trailing: Vec::new(),
    })
    .to_vec()
    .unwrap()
}

pub fn negotiate(dialects: &[&str]) -> Vec<u8> {
    let req = NegotiateRequest {
        dialects: dialects.iter().map(|d| d.as_bytes().to_vec()).collect(),
    };
    msg_frame(&req.to_message(header(command::NEGOTIATE, 0, 0, 1)))
}

/// The anonymous 13-word SESSION_SETUP_ANDX smbclient sends without extended security.
pub fn session_setup(max_buffer: u16) -> Vec<u8> {
    let mut w = vec![0xFF, 0, 0, 0];
    for v in [max_buffer, 2, 0] {
        w.extend_from_slice(&v.to_le_bytes());
    }
    w.extend_from_slice(&0u32.to_le_bytes()); // SessionKey
    w.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]); // password lengths, Reserved
    w.extend_from_slice(&0x0000_c054u32.to_le_bytes());
    let mut b = vec![0]; // pad to an even offset
    for s in ["", "", "Unix", "Samba"] {
        for u in s.encode_utf16() {
            b.extend_from_slice(&u.to_le_bytes());
        }
        b.extend_from_slice(&[0, 0]);
    }
    msg_frame(&SmbMessage {
        header: header(command::SESSION_SETUP_ANDX, 0, 0, 2),
        words: w,
        bytes: b,
        trailing: Vec::new(),
    })
}

pub fn tree_connect(uid: u16, path: &str, extended: bool) -> Vec<u8> {
    let mut w = vec![0xFF, 0, 0, 0];
    w.extend_from_slice(&(if extended { 0x0008u16 } else { 0 }).to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    let mut b = vec![0]; // password; the path then starts at offset 44, even
    for u in path.encode_utf16() {
        b.extend_from_slice(&u.to_le_bytes());
    }
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(b"?????\0");
    msg_frame(&SmbMessage {
        header: header(command::TREE_CONNECT_ANDX, uid, 0xFFFF, 3),
        words: w,
        bytes: b,
        trailing: Vec::new(),
    })
}

pub fn simple(cmd: u8, uid: u16, tid: u16, words: Vec<u8>, bytes: Vec<u8>) -> Vec<u8> {
    msg_frame(&SmbMessage {
        header: header(cmd, uid, tid, 9),
        words,
        bytes,
        trailing: Vec::new(),
    })
}

/// A TRANSACTION on `\PIPE\LANMAN` laid out as smbclient lays it out.
pub fn transaction(uid: u16, tid: u16, params: Vec<u8>, max_param: u16, max_data: u16) -> Vec<u8> {
    let header = header(command::TRANSACTION, uid, tid, 4);
    let t = TransactionRequest::named_pipe(
        header,
        transaction_name::PIPE_LANMAN,
        params,
        max_param,
        max_data,
    )
    .unwrap();
    session_message(&t.to_vec().unwrap())
}

pub fn rap_frame(uid: u16, tid: u16, call: &RapCall, max_data: u16) -> Vec<u8> {
    let params = call.to_request().unwrap().to_vec().unwrap();
    transaction(uid, tid, params, 8, max_data)
}

/// Reassembles the TRANSACTION responses of one reply by their displacements, checking each
/// piece's totals and the client's limits.
pub fn reassemble(frames: &[Vec<u8>], max_msg: usize) -> (Vec<u8>, Vec<u8>) {
    assert!(!frames.is_empty(), "no TRANSACTION response");
    let mut params = Vec::new();
    let mut data = Vec::new();
    let mut totals = None;
    for f in frames {
        assert!(
            f.len() - 4 <= max_msg,
            "piece of {} bytes over {max_msg}",
            f.len() - 4
        );
        let SessionPacket::SessionMessage(b) = SessionPacket::parse(f).unwrap() else {
            panic!()
        };
        let r = TransactionResponse::parse(&b).unwrap();
        assert_eq!(r.header.status, 0);
        assert_eq!(usize::from(r.parameter_displacement), params.len());
        assert_eq!(usize::from(r.data_displacement), data.len());
        let t = (r.total_parameter_count, r.total_data_count);
        assert_eq!(*totals.get_or_insert(t), t, "totals agree across pieces");
        params.extend_from_slice(&r.parameters);
        data.extend_from_slice(&r.data);
    }
    let (tp, td) = totals.unwrap();
    assert_eq!(
        (params.len(), data.len()),
        (usize::from(tp), usize::from(td))
    );
    (params, data)
}

pub fn rap_reply(frames: &[Vec<u8>], max_msg: usize) -> RapResponse {
    let (p, d) = reassemble(frames, max_msg);
    RapResponse::parse(&p, &d).unwrap()
}

pub fn servers_of(r: &RapResponse) -> Vec<ServerInfo1> {
    decode_entries(&r.data, r.entries_returned().unwrap(), r.converter).unwrap()
}

pub fn names(v: &[ServerInfo1]) -> Vec<String> {
    v.iter().map(|s| s.name.to_string_lossy()).collect()
}

// ---------------------------------------------------------------------------------------------
// A client that drives our server through the handshake.

pub struct Client<'a> {
    /// The server under test.
    pub server: SmbListingServer,
    /// The source it lists.
    pub src: &'a dyn ListingSource,
    /// The UID our server handed out.
    pub uid: u16,
    /// The TID of IPC$.
    pub tid: u16,
}

impl<'a> Client<'a> {
    pub fn connect(src: &'a dyn ListingSource, addr: [u8; 4], max_buffer: u16) -> Self {
        let called = Ipv4Addr::from(addr).to_string();
        Self::connect_with(src, addr, max_buffer, session_request(&called))
    }

    /// The handshake, opened with the given SESSION REQUEST frame.
    pub fn connect_with(
        src: &'a dyn ListingSource,
        addr: [u8; 4],
        max_buffer: u16,
        request: Vec<u8>,
    ) -> Self {
        let mut server = new_server(addr);
        let ok = |r: Reply| {
            assert_eq!(r.close, None);
            r.frames
        };
        assert_eq!(ok(server.handle_frame(&request, src)), [[0x82, 0, 0, 0]]);
        let f = ok(server.handle_frame(&negotiate(&["NT LANMAN 1.0", "NT LM 0.12"]), src));
        assert_eq!(smb_of(&f[0]).word_count(), 17);
        let f = ok(server.handle_frame(&session_setup(max_buffer), src));
        let uid = smb_of(&f[0]).header.uid;
        let f = ok(server.handle_frame(&tree_connect(uid, "\\\\HOST\\IPC$", true), src));
        let tid = smb_of(&f[0]).header.tid;
        Client {
            server,
            src,
            uid,
            tid,
        }
    }

    pub fn send(&mut self, frame: &[u8]) -> Reply {
        self.server.handle_frame(frame, self.src)
    }

    pub fn rap(&mut self, call: &RapCall, max_data: u16) -> RapResponse {
        let r = self.send(&rap_frame(self.uid, self.tid, call, max_data));
        assert_eq!(r.close, None);
        rap_reply(&r.frames, 65535)
    }

    pub fn status_of(&mut self, frame: &[u8]) -> u32 {
        let r = self.send(frame);
        assert_eq!(r.close, None, "the connection stays up");
        assert_eq!(r.frames.len(), 1);
        let m = smb_of(&r.frames[0]);
        assert!(m.header.is_reply());
        m.header.status
    }
}

pub fn enum2(server_type: u32, domain: &str) -> RapCall {
    RapCall::NetServerEnum2(ServerEnumRequest {
        level: InfoLevel::One,
        receive_buffer_len: 0xFFFF,
        server_type: ServerType::from_bits_retain(server_type),
        domain: Some(domain.as_bytes().to_vec()),
        first_name: Vec::new(),
    })
}

pub fn enum3(domain: &str, first: &[u8]) -> RapCall {
    RapCall::NetServerEnum3(ServerEnumRequest {
        level: InfoLevel::One,
        receive_buffer_len: 0xFFFF,
        server_type: ServerType::from_bits_retain(0xFFFF_FFFF),
        domain: Some(domain.as_bytes().to_vec()),
        first_name: first.to_vec(),
    })
}
