//! Golden tests of the transport layers against the Samba 4.17 captures: datagrams on UDP 138
//! with their mailslot envelopes, and session service frames on TCP 139 with the SMB1 messages
//! they carry. Every packet must parse with the expected values and emit back byte for byte.

mod common;

use std::net::Ipv4Addr;

use nbt_protocol::wire::dgram::{Datagram, DirectDatagram, DirectType, SourceNodeType};
use nbt_protocol::wire::smb::{
    SmbMessage, TransactionRequest, TransactionResponse, command, transaction_name,
};
use nbt_protocol::wire::ssn::{SessionHeader, SessionPacket};
use nbt_protocol::{Emit, NetbiosName, ScopedName};

const BROWSER_CAPTURES: [&str; 6] = [
    "browser-announcement-request.pcapng",
    "browser-domain-announcement.pcapng",
    "browser-election-request.pcapng",
    "browser-getbackuplist.pcapng",
    "browser-host-announcement.pcapng",
    "browser-local-master-announcement.pcapng",
];

fn name(s: &str, suffix: u8) -> ScopedName {
    NetbiosName::new(s, suffix).unwrap().into()
}

/// Every datagram on port 138 of a capture, parsed, after checking that it round-trips and that
/// its user data is a mailslot write Samba's layout rebuilds.
fn datagrams(file: &str) -> Vec<(DirectDatagram, TransactionRequest)> {
    let mut out = Vec::new();
    for u in common::udp(file) {
        if u.dst.port() != 138 {
            continue;
        }
        let p = &u.payload;
        let Datagram::Direct(d) = Datagram::parse(p).unwrap_or_else(|e| panic!("{file}: {e}"))
        else {
            panic!("{file}: not a direct datagram");
        };
        // DGM_LENGTH on the wire is the RFC's: everything after the 14-byte header.
        let wire_len = u16::from_be_bytes([p[10], p[11]]);
        assert_eq!(usize::from(wire_len), p.len() - 14, "{file}");
        assert_eq!(d.dgm_length().unwrap(), wire_len, "{file}");
        assert_eq!(d.to_vec().unwrap(), *p, "{file}: datagram re-emits");
        assert_eq!(DirectDatagram::parse(p).unwrap(), d);

        let t = TransactionRequest::parse(&d.user_data).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(t.name, transaction_name::MAILSLOT_BROWSE, "{file}");
        assert!(t.is_mailslot_write(), "{file}");
        assert_eq!(
            t.to_vec().unwrap(),
            d.user_data,
            "{file}: envelope re-emits"
        );
        let rebuilt = TransactionRequest::mailslot(&t.name, t.data.clone());
        assert_eq!(rebuilt, t, "{file}: Samba's mailslot layout");
        assert_eq!(rebuilt.to_vec().unwrap(), d.user_data, "{file}");
        let m = SmbMessage::parse(&d.user_data).unwrap();
        assert!(m.trailing.is_empty(), "{file}");
        assert_eq!(m.to_vec().unwrap(), d.user_data);
        out.push((d, t));
    }
    out
}

#[test]
fn every_browser_datagram_round_trips() {
    let mut total = 0;
    for file in BROWSER_CAPTURES {
        let n = datagrams(file).len();
        assert!(n > 0, "{file}: no datagram on port 138");
        total += n;
    }
    assert_eq!(total, 44, "datagrams across the six browser captures");
}

#[test]
fn election_request_values() {
    // /work/shared/vectors/decoded/browser-election-request.txt, frame 1.
    let all = datagrams("browser-election-request.pcapng");
    let (d, t) = &all[0];
    assert_eq!(d.msg_type, DirectType::DirectGroup);
    assert_eq!(d.header.flags.bits(), 0x0a);
    assert_eq!(d.header.flags.node_type(), SourceNodeType::MNode);
    assert!(d.header.flags.is_first() && !d.header.flags.is_more());
    assert_eq!(d.header.dgm_id, 0x62db);
    assert_eq!(d.header.source_ip, Ipv4Addr::new(198, 18, 0, 1));
    assert_eq!(d.header.source_port, 138);
    assert_eq!(d.dgm_length().unwrap(), 174);
    assert_eq!(d.packet_offset, 0);
    assert_eq!(d.source_name, name("ALPHA", 0x00));
    assert_eq!(d.destination_name, name("LABWG", 0x1e));
    assert_eq!(d.user_data.len(), 188 - 14 - 68);
    // The SMB envelope: WordCount 17, TotalDataCount 20, DataOffset 86, Setup {1, 1, 2}.
    assert_eq!(t.total_data_count, 20);
    assert_eq!(t.data_offset, 86);
    assert_eq!(t.setup, [1, 1, 2]);
    assert_eq!(t.data.len(), 20);
    assert_eq!(t.data[0], 0x08, "browser opcode: RequestElection");
}

#[test]
fn get_backup_list_values() {
    // The request comes from smbtree (198.18.0.5) as a B node; nmbd answers unicast with a
    // DIRECT_UNIQUE datagram as an M node.
    let all = datagrams("browser-getbackuplist.pcapng");
    let (req, rt) = &all[0];
    assert_eq!(req.msg_type, DirectType::DirectGroup);
    assert_eq!(req.header.flags.bits(), 0x02);
    assert_eq!(req.header.flags.node_type(), SourceNodeType::BNode);
    assert_eq!(req.header.dgm_id, 0xe813);
    assert_eq!(req.header.source_ip, Ipv4Addr::new(198, 18, 0, 5));
    assert_eq!(req.source_name, name("LABCLIENT", 0x00));
    assert_eq!(req.destination_name, name("LABWG", 0x1d));
    assert_eq!(rt.data[0], 0x09, "GetBackupListRequest");
    let (resp, st) = &all[1];
    assert_eq!(resp.msg_type, DirectType::DirectUnique);
    assert_eq!(resp.header.flags.bits(), 0x0a);
    assert_eq!(resp.header.source_ip, Ipv4Addr::new(198, 18, 0, 1));
    assert_eq!(resp.source_name, name("ALPHA", 0x00));
    assert_eq!(resp.destination_name, name("LABCLIENT", 0x00));
    assert_eq!(st.data[0], 0x0a, "GetBackupListResponse");
}

/// Splits a reassembled TCP stream into NBSS frames with the streaming header parse, checking
/// that each frame parses and re-emits identically.
fn frames(file: &str, stream: &[u8]) -> Vec<SessionPacket> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < stream.len() {
        let h = SessionHeader::parse(&stream[at..]).unwrap_or_else(|e| panic!("{file}: {e}"));
        let end = at + h.frame_len();
        let frame = &stream[at..end];
        let p = SessionPacket::parse(frame).unwrap_or_else(|e| panic!("{file}@{at}: {e}"));
        assert_eq!(p.to_vec().unwrap(), frame, "{file}@{at}: frame re-emits");
        assert_eq!(h, p.header().unwrap());
        let (q, used) = SessionPacket::parse_prefix(&stream[at..]).unwrap();
        assert_eq!((q, used), (p.clone(), frame.len()));
        out.push(p);
        at = end;
    }
    out
}

/// The SMB messages of a direction, each checked to round-trip in generic form and, for
/// TRANSACTION, in the envelope's form.
fn smb_messages(file: &str, packets: &[SessionPacket]) -> Vec<SmbMessage> {
    let mut out = Vec::new();
    for p in packets {
        let SessionPacket::SessionMessage(bytes) = p else {
            continue;
        };
        let m = SmbMessage::parse(bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(m.to_vec().unwrap(), *bytes, "{file}: SMB message re-emits");
        // No Samba message in these captures carries bytes after its byte block.
        assert!(
            m.trailing.is_empty(),
            "{file}: command {:#x}",
            m.header.command
        );
        if m.header.command == command::TRANSACTION {
            if m.header.is_reply() {
                let r = TransactionResponse::parse(bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
                assert_eq!(r.to_vec().unwrap(), *bytes, "{file}: response re-emits");
                // smbd's layout (`send_trans_reply`): one pad byte, parameters,
                // ParameterCount % 4 pad bytes, data. Single-piece responses rebuild exactly.
                if r.parameter_displacement == 0
                    && r.data_displacement == 0
                    && usize::from(r.total_parameter_count) == r.parameters.len()
                    && usize::from(r.total_data_count) == r.data.len()
                {
                    let rebuilt =
                        TransactionResponse::new(r.header, r.parameters.clone(), r.data.clone());
                    assert_eq!(rebuilt, r, "{file}");
                }
            } else {
                let t = TransactionRequest::parse(bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
                assert_eq!(t.name, transaction_name::PIPE_LANMAN, "{file}");
                assert!(t.header.is_unicode(), "{file}");
                assert!(t.setup.is_empty());
                assert_eq!(
                    t.parameter_offset, 92,
                    "{file}: 63 + pad + 26-byte name + 2 pad"
                );
                // Samba's client pads before DataOffset with `offset % 4` bytes (smb1cli_trans.c),
                // which is not an alignment: 92 + 27 = 119 becomes 122. The offset is kept as
                // received, so the request still re-emits byte for byte.
                let after_params = 92 + t.parameters.len();
                assert_eq!(
                    usize::from(t.data_offset),
                    after_params + after_params % 4,
                    "{file}"
                );
                assert_eq!(t.to_vec().unwrap(), *bytes, "{file}: request re-emits");
            }
        }
        out.push(m);
    }
    out
}

fn commands(ms: &[SmbMessage]) -> Vec<u8> {
    ms.iter().map(|m| m.header.command).collect()
}

struct Expect {
    file: &'static str,
    called: &'static str,
    calling: &'static str,
    requests: &'static [u8],
    responses: &'static [u8],
}

#[test]
fn every_session_frame_round_trips() {
    const TRANS: u8 = command::TRANSACTION;
    let cases = [
        Expect {
            file: "smb1-netserverenum2.pcapng",
            called: "198.18.0.2",
            calling: "ALPHA",
            requests: &[0x72, 0x73, 0x75, TRANS, TRANS, 0x71],
            responses: &[0x72, 0x73, 0x75, TRANS, TRANS, 0x71],
        },
        Expect {
            file: "smb1-netserverenum2-emptydomain.pcapng",
            called: "198.18.0.2",
            calling: "ALPHA",
            // Extended-security session setup: two legs.
            requests: &[0x72, 0x73, 0x73, 0x75, TRANS, TRANS, 0x71],
            responses: &[0x72, 0x73, 0x73, 0x75, TRANS, TRANS, 0x71],
        },
        Expect {
            file: "smb1-netserverenum3-continuation.pcapng",
            called: "198.18.0.1",
            calling: "VM",
            requests: &[0x72, 0x73, 0x75, TRANS, TRANS, TRANS, TRANS, TRANS, 0x71],
            // Three of the five RAP replies exceed the client's buffer and come in two pieces.
            responses: &[
                0x72, 0x73, 0x75, TRANS, TRANS, TRANS, TRANS, TRANS, TRANS, TRANS, TRANS, 0x71,
            ],
        },
    ];
    for c in cases {
        let conns = common::tcp(c.file);
        assert_eq!(conns.len(), 1, "{}", c.file);
        let conn = &conns[0];
        assert_eq!(conn.server.unwrap().port(), 139);

        let up = frames(c.file, &conn.to_server);
        let SessionPacket::SessionRequest(req) = &up[0] else {
            panic!("{}: the first frame is not a SESSION REQUEST", c.file);
        };
        assert_eq!(req.called_name, name(c.called, 0x20), "{}", c.file);
        assert_eq!(req.calling_name, name(c.calling, 0x00), "{}", c.file);
        assert!(
            up[1..]
                .iter()
                .all(|p| matches!(p, SessionPacket::SessionMessage(_)))
        );

        let down = frames(c.file, &conn.to_client);
        assert_eq!(
            down[0],
            SessionPacket::PositiveSessionResponse,
            "{}",
            c.file
        );
        assert_eq!(down[0].to_vec().unwrap(), [0x82, 0, 0, 0]);

        let requests = smb_messages(c.file, &up);
        let responses = smb_messages(c.file, &down);
        assert_eq!(commands(&requests), c.requests, "{}", c.file);
        assert_eq!(commands(&responses), c.responses, "{}", c.file);
        assert!(requests.iter().all(|m| !m.header.is_reply()));
        assert!(responses.iter().all(|m| m.header.is_reply()));
    }
}

#[test]
fn continuation_response_pieces() {
    // The first NetServerEnum2 reply of the continuation capture comes in two TRANSACTION
    // responses: the parameters and most of the data, then the rest of the data with
    // ParameterCount 0 at the same offset as the data (an empty region may share it).
    let conn = &common::tcp("smb1-netserverenum3-continuation.pcapng")[0];
    let down = frames("continuation", &conn.to_client);
    let pieces: Vec<TransactionResponse> = down
        .iter()
        .filter_map(|p| match p {
            SessionPacket::SessionMessage(b) if b[4] == command::TRANSACTION => {
                Some(TransactionResponse::parse(b).unwrap())
            }
            _ => None,
        })
        .collect();
    let (a, b) = (&pieces[0], &pieces[1]);
    assert_eq!((a.total_parameter_count, a.total_data_count), (8, 65519));
    assert_eq!((a.parameters.len(), a.data.len()), (8, 65155));
    assert_eq!((a.parameter_offset, a.data_offset), (56, 64));
    assert_eq!(b.parameters.len(), 0);
    assert_eq!((b.parameter_offset, b.parameter_displacement), (56, 8));
    assert_eq!((b.data_offset, b.data_displacement), (56, 65155));
    assert_eq!(b.data.len(), 364);
    assert_eq!(a.data.len() + b.data.len(), usize::from(a.total_data_count));
}
