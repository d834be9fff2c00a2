//! The SMB1 listing server of the session service (TCP 139): just enough NetBIOS session
//! service, SMB1 and RAP for `smbclient -L`, `smbtree` and `net view` to list our shares, the
//! servers of a workgroup and the workgroups (rap-smb1.md, session-service.md). Its
//! counterpart, the client that asks such a server, is [`client::ListingClient`].
//!
//! One [`SmbListingServer`] serves one TCP connection. The driver reads whole NBSS frames
//! (checking each header with [`SmbListingServer::check_header`] before reading the rest),
//! hands each to [`SmbListingServer::handle_frame`] with a [`ListingSource`], writes the
//! returned frames in order, and closes the connection when the [`Reply`] says so. Nothing here
//! reads a clock or draws entropy: the wall time comes in [`Connection`] and the challenge from
//! the [`Rng`] the driver seeds.
//!
//! The conversation it serves:
//! 1. SESSION REQUEST → POSITIVE RESPONSE for any well-formed called name, as smbd; an
//!    unparsable one → NEGATIVE RESPONSE "called name not present" and close.
//! 2. NEGOTIATE → NT LM 0.12 at its index in the client's list, no extended security.
//! 3. SESSION_SETUP_ANDX (13 words) → an anonymous guest session; PrimaryDomain = workgroup.
//! 4. TREE_CONNECT_ANDX to `IPC$` → the IPC tree.
//! 5. NT_CREATE_ANDX `\srvsvc` → STATUS_OBJECT_NAME_NOT_FOUND, so the client falls back to RAP.
//! 6. TRANSACTION on `\PIPE\LANMAN` → RAP NetShareEnum, NetServerEnum2 and NetServerEnum3.
//! 7. TREE_DISCONNECT, LOGOFF_ANDX, then the client closes.
//!
//! Any other command gets an SMB error reply, never a dropped connection. What cannot be
//! answered (a malformed frame or SMB header, SMB2, a protocol order violation) closes the
//! connection with a [`CloseReason`] for the driver's log.

use std::net::Ipv4Addr;

use crate::engine::Rng;
use crate::error::ParseError;
use crate::name::NetbiosName;
use crate::wire::Emit;
use crate::wire::rap::records::SessionInfo2;
use crate::wire::rap::{RapCall, RapRequest, RapResponse, status as rap_status};
use crate::wire::smb::commands::{
    ACTION_GUEST, ANDX_NONE, Capabilities, DIALECT_NT_LM_012, NegotiateRequest, NegotiateResponse,
    SUPPORT_SEARCH_BITS, SecurityMode, SessionSetupRequest, SessionSetupResponse, TreeConnectFlags,
    TreeConnectRequest, TreeConnectResponse, ntstatus,
};
use crate::wire::smb::{
    SMB2_PROTOCOL, SmbHeader, SmbMessage, TransactionFlags, TransactionRequest, command,
    transaction_name,
};
use crate::wire::ssn::{
    HEADER_LEN as NBSS_HEADER_LEN, NegativeResponseCode, SessionHeader, SessionPacket,
    SessionPacketType,
};
use info::CallContext;

pub mod client;
pub mod info;
pub mod listing;
mod reply;

use reply::{echo, error_frame, frame_of, reply_header, transaction_pieces};

pub use listing::{
    BrowseListing, ListedServer, ListedWorkgroup, ListingSource, LocalServer, Share,
};

/// Limits and identity strings of the listing server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// Largest NBSS frame accepted, header included; a bigger one closes the connection.
    /// MaxBufferSize in the NEGOTIATE response is this less the 4-byte header (smbclient
    /// needs at least 1024).
    pub max_frame_len: usize,
    /// Sessions (UIDs) one connection may hold (at most 4096).
    pub max_sessions: usize,
    /// Trees (TIDs) one connection may hold (at most 4096).
    pub max_trees: usize,
    /// MaxMpxCount advertised.
    pub max_mpx_count: u16,
    /// NativeOS in the SESSION_SETUP_ANDX response.
    pub native_os: String,
    /// NativeLanMan in the SESSION_SETUP_ANDX response.
    pub native_lanman: String,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            max_frame_len: 16 * 1024 + NBSS_HEADER_LEN,
            max_sessions: 4,
            max_trees: 8,
            max_mpx_count: 50,
            native_os: "Unix".into(),
            native_lanman: "nbtd".into(),
        }
    }
}

/// What the driver knows about the connection when it accepts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connection {
    /// Our address on the connection: a client that typed it calls `a.b.c.d<20>`.
    pub local_addr: Ipv4Addr,
    /// The wall time at accept, as a FILETIME (100 ns since 1601): NEGOTIATE's SystemTime.
    pub system_time: u64,
    /// Our time zone, minutes west of UTC (UTC+2 is -120): NEGOTIATE's ServerTimeZone.
    pub time_zone: i16,
}

/// Why the connection must be closed; the driver logs it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloseReason {
    /// A Pathworks client (calling name of type `R`), which smbd refuses too; a NEGATIVE
    /// SESSION RESPONSE 0x82 was sent.
    #[error("calling name {calling} asks for a Pathworks session (negative session response sent)")]
    PathworksSession {
        /// The calling name.
        calling: String,
    },
    /// Something other than a SESSION REQUEST or keepalive came first.
    #[error("the first frame must be a SESSION REQUEST, got type {packet_type:#04x}")]
    NoSessionRequest {
        /// The frame's TYPE.
        packet_type: u8,
    },
    /// A second SESSION REQUEST on an established session.
    #[error("a second SESSION REQUEST on the same connection")]
    RepeatedSessionRequest,
    /// A frame type a client never sends (a session response).
    #[error("unexpected session packet type {packet_type:#04x} from the client")]
    UnexpectedPacket {
        /// The frame's TYPE.
        packet_type: u8,
    },
    /// A frame longer than the configured maximum.
    #[error("frame of {length} bytes exceeds the limit of {max}")]
    FrameTooLarge {
        /// The frame's length, header included.
        length: usize,
        /// The limit.
        max: usize,
    },
    /// A frame that does not parse as a session packet, or is truncated.
    #[error("malformed session frame: {0}")]
    MalformedFrame(ParseError),
    /// A session message that is not an SMB1 message, or whose header or blocks are malformed.
    #[error("malformed SMB message: {0}")]
    MalformedSmb(ParseError),
    /// The client sent an SMB2 message; this server speaks SMB1 only.
    #[error("SMB2 request; only SMB1 (NT LM 0.12) is served on this port")]
    Smb2,
    /// The client sent an SMB response.
    #[error("the client sent an SMB reply (command {command:#04x})")]
    SmbReply {
        /// Its command.
        command: u8,
    },
    /// The first SMB request was not NEGOTIATE.
    #[error("the first SMB request must be NEGOTIATE, got command {command:#04x}")]
    NotNegotiated {
        /// Its command.
        command: u8,
    },
    /// A second NEGOTIATE.
    #[error("a second NEGOTIATE on the same connection")]
    RepeatedNegotiate,
    /// The client offered no dialect we speak; DialectIndex 0xFFFF was sent.
    #[error("the client offers no NT LM 0.12 dialect (DialectIndex 0xFFFF sent)")]
    NoCommonDialect,
    /// A frame arrived after the connection was to be closed.
    #[error("frame after the connection was closed")]
    Closed,
}

/// The result of one frame: frames to send, in order, then whether to close.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    /// Whole NBSS frames to write.
    pub frames: Vec<Vec<u8>>,
    /// Close the connection after writing the frames.
    pub close: Option<CloseReason>,
}

/// The smallest MaxBufferSize honoured: a smaller one from the client is raised to it, so that
/// each piece of a split reply carries data.
pub const MIN_CLIENT_BUFFER: usize = 500;
/// MaximalShareAccessRights and GuestMaximalShareAccessRights of the IPC$ tree (Samba's).
const IPC_ACCESS: u32 = 0x0000_01FF;
/// Hard cap on UIDs and TIDs per connection, whatever the configuration says, so that a free
/// 16-bit ID always exists.
const MAX_IDS: usize = 4096;
/// First UID handed out.
const FIRST_UID: u16 = 100;
/// First TID handed out.
const FIRST_TID: u16 = 1;
/// FILETIME ticks (100 ns) in a second.
const FILETIME_PER_SEC: u64 = 10_000_000;
/// Seconds from 1601-01-01 (FILETIME's epoch) to 1970-01-01.
const FILETIME_UNIX_EPOCH: i64 = 11_644_473_600;
/// The calling name type of a DEC Pathworks client, refused as smbd refuses it.
const PATHWORKS_SUFFIX: u8 = b'R';

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    AwaitSessionRequest,
    AwaitNegotiate,
    Active,
    Closed,
}

#[derive(Debug, Clone, Copy)]
struct Session {
    uid: u16,
    /// The client's MaxBufferSize (raised to [`MIN_CLIENT_BUFFER`]).
    max_buffer: usize,
}

#[derive(Debug, Clone, Copy)]
struct Tree {
    tid: u16,
    uid: u16,
}

/// One connection's SMB1 listing server; see the module documentation.
#[derive(Debug, Clone)]
pub struct SmbListingServer {
    config: SessionConfig,
    conn: Connection,
    rng: Rng,
    phase: Phase,
    session_key: u32,
    sessions: Vec<Session>,
    trees: Vec<Tree>,
    next_uid: u16,
    next_tid: u16,
    /// CALLING_NAME of the accepted SESSION REQUEST.
    calling_name: Option<NetbiosName>,
}

impl SmbListingServer {
    /// A server for one accepted connection.
    pub fn new(config: SessionConfig, conn: Connection, rng: Rng) -> Self {
        SmbListingServer {
            config,
            conn,
            rng,
            phase: Phase::AwaitSessionRequest,
            session_key: 0,
            sessions: Vec::new(),
            trees: Vec::new(),
            next_uid: FIRST_UID,
            next_tid: FIRST_TID,
            calling_name: None,
        }
    }

    /// Whether the connection is to be closed (a close was returned).
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Checks a frame's 4-byte header before the driver reads the rest: the whole frame's
    /// length, or why the connection must close (malformed header, frame over the limit).
    pub fn check_header(&self, header: &[u8]) -> Result<usize, CloseReason> {
        let h = SessionHeader::parse(header).map_err(CloseReason::MalformedFrame)?;
        let length = h.frame_len();
        if length > self.config.max_frame_len {
            return Err(CloseReason::FrameTooLarge {
                length,
                max: self.config.max_frame_len,
            });
        }
        Ok(length)
    }

    fn close(&mut self, frames: Vec<Vec<u8>>, reason: CloseReason) -> Reply {
        self.phase = Phase::Closed;
        Reply {
            frames,
            close: Some(reason),
        }
    }

    fn send(frames: Vec<Vec<u8>>) -> Reply {
        Reply {
            frames,
            close: None,
        }
    }

    /// Handles one whole NBSS frame (header and trailer, nothing more).
    pub fn handle_frame(&mut self, frame: &[u8], src: &dyn ListingSource) -> Reply {
        if self.phase == Phase::Closed {
            return Reply {
                frames: Vec::new(),
                close: Some(CloseReason::Closed),
            };
        }
        let length = match self.check_header(frame) {
            Ok(l) => l,
            Err(e) => return self.close(Vec::new(), e),
        };
        if frame.len() != length {
            let e = if frame.len() < length {
                ParseError::truncated(
                    "TRAILER",
                    NBSS_HEADER_LEN,
                    length - NBSS_HEADER_LEN,
                    frame.len().saturating_sub(NBSS_HEADER_LEN),
                )
            } else {
                ParseError::malformed("LENGTH", 2, "bytes follow the end of the frame")
            };
            return self.close(Vec::new(), CloseReason::MalformedFrame(e));
        }
        let packet_type = SessionPacketType::from_u8(frame[0]);
        match (packet_type, self.phase) {
            (SessionPacketType::SessionKeepAlive, _) => {
                if length == NBSS_HEADER_LEN {
                    Self::send(Vec::new())
                } else {
                    let e = ParseError::bad_value(
                        "LENGTH",
                        2,
                        (length - NBSS_HEADER_LEN) as u64,
                        "0 for a SESSION KEEP ALIVE",
                    );
                    self.close(Vec::new(), CloseReason::MalformedFrame(e))
                }
            }
            (SessionPacketType::SessionRequest, Phase::AwaitSessionRequest) => {
                self.session_request(frame)
            }
            (SessionPacketType::SessionRequest, _) => {
                self.close(Vec::new(), CloseReason::RepeatedSessionRequest)
            }
            (t, Phase::AwaitSessionRequest) => self.close(
                Vec::new(),
                CloseReason::NoSessionRequest {
                    packet_type: t.to_u8(),
                },
            ),
            (SessionPacketType::SessionMessage, _) => {
                self.session_message(&frame[NBSS_HEADER_LEN..], src)
            }
            (t, _) => self.close(
                Vec::new(),
                CloseReason::UnexpectedPacket {
                    packet_type: t.to_u8(),
                },
            ),
        }
    }

    /// RFC 1002 §5.2.2, as smbd answers it (`reply_special`): POSITIVE for any well-formed
    /// request, whatever the called name (`*SMBSERVER`, our address, `*<00>`, a name padded
    /// with NULs) and whatever bytes follow the calling name; NEGATIVE 0x82 and close for a
    /// request whose names do not parse, or a Pathworks calling name (type `R`).
    fn session_request(&mut self, frame: &[u8]) -> Reply {
        let negative = || {
            SessionPacket::NegativeSessionResponse(NegativeResponseCode::CalledNameNotPresent)
                .to_vec()
                .unwrap_or_default()
        };
        let req = match SessionPacket::parse(frame) {
            Ok(SessionPacket::SessionRequest(r)) => r,
            // The TYPE byte was 0x81, so the parse yields a SESSION REQUEST or an error.
            Ok(p) => {
                let e =
                    ParseError::bad_value("TYPE", 0, u64::from(p.packet_type().to_u8()), "0x81");
                return self.close(vec![negative()], CloseReason::MalformedFrame(e));
            }
            Err(e) => return self.close(vec![negative()], CloseReason::MalformedFrame(e)),
        };
        let calling = req.calling_name.name;
        if calling.suffix() == PATHWORKS_SUFFIX {
            return self.close(
                vec![negative()],
                CloseReason::PathworksSession {
                    calling: calling.to_string(),
                },
            );
        }
        self.calling_name = Some(calling);
        self.phase = Phase::AwaitNegotiate;
        Self::send(vec![
            SessionPacket::PositiveSessionResponse
                .to_vec()
                .unwrap_or_default(),
        ])
    }

    /// Sets the wall clock (FILETIME) and time zone (minutes west of UTC) that NetRemoteTOD
    /// answers with; the driver calls it before each frame. The values at accept come in
    /// [`Connection`].
    pub fn set_clock(&mut self, system_time: u64, time_zone: i16) {
        self.conn.system_time = system_time;
        self.conn.time_zone = time_zone;
    }

    /// This connection's sessions, as NetSessionEnum lists them (smbd's fields: one
    /// connection, one user, no times, `Unknown Client`), and the clock.
    fn call_context(&self) -> CallContext {
        let client = self
            .calling_name
            .map(|n| n.base().to_ascii_lowercase())
            .unwrap_or_default();
        let sessions = self
            .sessions
            .iter()
            .map(|_| SessionInfo2 {
                client: client.clone(),
                user: Vec::new(),
                connections: 1,
                opens: 0,
                users: 1,
                session_time: 0,
                idle_time: 0,
                user_flags: 0,
                client_type: info::UNKNOWN_CLIENT.to_vec(),
            })
            .collect();
        CallContext {
            sessions,
            unix_secs: (self.conn.system_time / FILETIME_PER_SEC) as i64 - FILETIME_UNIX_EPOCH,
            zone_minutes: self.conn.time_zone,
        }
    }

    fn session_message(&mut self, bytes: &[u8], src: &dyn ListingSource) -> Reply {
        if bytes.starts_with(&SMB2_PROTOCOL) {
            return self.close(Vec::new(), CloseReason::Smb2);
        }
        let msg = match SmbMessage::parse(bytes) {
            Ok(m) => m,
            Err(e) => return self.close(Vec::new(), CloseReason::MalformedSmb(e)),
        };
        let h = msg.header;
        if h.is_reply() {
            return self.close(Vec::new(), CloseReason::SmbReply { command: h.command });
        }
        if self.phase == Phase::AwaitNegotiate {
            if h.command != command::NEGOTIATE {
                return self.close(
                    Vec::new(),
                    CloseReason::NotNegotiated { command: h.command },
                );
            }
            return self.negotiate(&msg, src);
        }
        let frames = match h.command {
            command::NEGOTIATE => return self.close(Vec::new(), CloseReason::RepeatedNegotiate),
            command::SESSION_SETUP_ANDX => self.session_setup(&msg, src),
            command::ECHO => echo(&msg),
            command::LOGOFF_ANDX => self.logoff(&msg),
            command::TREE_CONNECT_ANDX => self.tree_connect(&msg),
            command::TREE_DISCONNECT => self.tree_disconnect(&msg),
            command::TRANSACTION => self.transaction(bytes, &msg, src),
            command::NT_CREATE_ANDX => match self.check_ids(&h) {
                Err(f) => vec![f],
                // No named pipes: smbclient falls back from srvsvc to RAP (rap-smb1.md §1).
                Ok(_) => vec![error_frame(&h, ntstatus::OBJECT_NAME_NOT_FOUND)],
            },
            _ => vec![error_frame(&h, ntstatus::NOT_SUPPORTED)],
        };
        Self::send(frames)
    }

    /// NEGOTIATE: NT LM 0.12 at its index in the client's list, or 0xFFFF and close.
    fn negotiate(&mut self, msg: &SmbMessage, src: &dyn ListingSource) -> Reply {
        let req = match NegotiateRequest::parse(msg) {
            Ok(r) => r,
            Err(e) => return self.close(Vec::new(), CloseReason::MalformedSmb(e)),
        };
        let header = reply_header(&msg.header, ntstatus::SUCCESS);
        let Some(dialect_index) = req.dialect_index(DIALECT_NT_LM_012) else {
            let f = frame_of(&NegotiateResponse::no_dialect(header));
            return self.close(vec![f], CloseReason::NoCommonDialect);
        };
        self.session_key = self.rng.next_u64() as u32;
        let challenge = self.rng.next_u64().to_le_bytes().to_vec();
        let r = NegotiateResponse {
            dialect_index,
            security_mode: SecurityMode::USER_SECURITY | SecurityMode::ENCRYPT_PASSWORDS,
            max_mpx_count: self.config.max_mpx_count,
            max_number_vcs: 1,
            max_buffer_size: (self.config.max_frame_len.saturating_sub(NBSS_HEADER_LEN))
                .min(u32::MAX as usize) as u32,
            max_raw_size: 65536,
            session_key: self.session_key,
            capabilities: Capabilities::UNICODE
                | Capabilities::LARGE_FILES
                | Capabilities::NT_SMBS
                | Capabilities::RPC_REMOTE_APIS
                | Capabilities::STATUS32
                | Capabilities::LEVEL_II_OPLOCKS,
            system_time: self.conn.system_time,
            server_time_zone: self.conn.time_zone,
            challenge,
            domain_name: src.workgroup().to_string_lossy(),
            server_name: src.local_server().name.to_string_lossy(),
        };
        self.phase = Phase::Active;
        // The challenge has 8 bytes, so the message always builds.
        let m = r
            .to_message(header)
            .unwrap_or_else(|_| NegotiateResponse::no_dialect(header));
        Self::send(vec![frame_of(&m)])
    }

    /// SESSION_SETUP_ANDX: every 13-word request gets a guest session; PrimaryDomain is our
    /// workgroup, which smbclient then enumerates.
    fn session_setup(&mut self, msg: &SmbMessage, src: &dyn ListingSource) -> Vec<Vec<u8>> {
        let h = &msg.header;
        let max_buffer = match SessionSetupRequest::parse(msg) {
            Err(_) => return vec![error_frame(h, ntstatus::INVALID_PARAMETER)],
            // We never advertise CAP_EXTENDED_SECURITY, so a client must not use it.
            Ok(SessionSetupRequest::ExtendedSecurity { .. }) => {
                return vec![error_frame(h, ntstatus::NOT_SUPPORTED)];
            }
            Ok(r) => usize::from(r.max_buffer_size()).max(MIN_CLIENT_BUFFER),
        };
        if self.sessions.len() >= self.config.max_sessions.min(MAX_IDS) {
            return vec![error_frame(h, ntstatus::INSUFFICIENT_RESOURCES)];
        }
        let uid = self.allocate_uid();
        self.sessions.push(Session { uid, max_buffer });
        let mut header = reply_header(h, ntstatus::SUCCESS);
        header.uid = uid;
        let r = SessionSetupResponse {
            action: ACTION_GUEST,
            native_os: self.config.native_os.clone(),
            native_lanman: self.config.native_lanman.clone(),
            primary_domain: src.workgroup().to_string_lossy(),
        };
        vec![frame_of(&r.to_message(header))]
    }

    fn allocate_uid(&mut self) -> u16 {
        loop {
            let uid = self.next_uid;
            self.next_uid = self.next_uid.wrapping_add(1);
            if uid != 0 && uid != 0xFFFF && !self.sessions.iter().any(|s| s.uid == uid) {
                return uid;
            }
        }
    }

    fn allocate_tid(&mut self) -> u16 {
        loop {
            let tid = self.next_tid;
            self.next_tid = self.next_tid.wrapping_add(1);
            if tid != 0 && tid != 0xFFFF && !self.trees.iter().any(|t| t.tid == tid) {
                return tid;
            }
        }
    }

    fn session(&self, h: &SmbHeader) -> Result<Session, Vec<u8>> {
        self.sessions
            .iter()
            .find(|s| s.uid == h.uid)
            .copied()
            .ok_or_else(|| error_frame(h, ntstatus::SMB_BAD_UID))
    }

    /// The session and tree a request names, or the error reply.
    fn check_ids(&self, h: &SmbHeader) -> Result<Session, Vec<u8>> {
        let s = self.session(h)?;
        if !self.trees.iter().any(|t| t.tid == h.tid) {
            return Err(error_frame(h, ntstatus::SMB_BAD_TID));
        }
        Ok(s)
    }

    fn logoff(&mut self, msg: &SmbMessage) -> Vec<Vec<u8>> {
        let h = &msg.header;
        if let Err(f) = self.session(h) {
            return vec![f];
        }
        self.sessions.retain(|s| s.uid != h.uid);
        self.trees.retain(|t| t.uid != h.uid);
        vec![frame_of(&SmbMessage {
            header: reply_header(h, ntstatus::SUCCESS),
            words: vec![ANDX_NONE, 0, 0, 0],
            bytes: Vec::new(),
            trailing: Vec::new(),
        })]
    }

    /// TREE_CONNECT_ANDX: `IPC$` (any case, any host part) only.
    fn tree_connect(&mut self, msg: &SmbMessage) -> Vec<Vec<u8>> {
        let h = &msg.header;
        let session = match self.session(h) {
            Ok(s) => s,
            Err(f) => return vec![f],
        };
        let req = match TreeConnectRequest::parse(msg) {
            Ok(r) => r,
            Err(_) => return vec![error_frame(h, ntstatus::INVALID_PARAMETER)],
        };
        if !req.share().eq_ignore_ascii_case("IPC$") {
            return vec![error_frame(h, ntstatus::BAD_NETWORK_NAME)];
        }
        if self.trees.len() >= self.config.max_trees.min(MAX_IDS) {
            return vec![error_frame(h, ntstatus::INSUFFICIENT_RESOURCES)];
        }
        let tid = self.allocate_tid();
        self.trees.push(Tree {
            tid,
            uid: session.uid,
        });
        let mut header = reply_header(h, ntstatus::SUCCESS);
        header.tid = tid;
        let r = TreeConnectResponse {
            optional_support: SUPPORT_SEARCH_BITS,
            access_rights: req
                .flags
                .contains(TreeConnectFlags::EXTENDED_RESPONSE)
                .then_some((IPC_ACCESS, IPC_ACCESS)),
            service: b"IPC".to_vec(),
            native_file_system: String::new(),
        };
        vec![frame_of(&r.to_message(header))]
    }

    fn tree_disconnect(&mut self, msg: &SmbMessage) -> Vec<Vec<u8>> {
        let h = &msg.header;
        if let Err(f) = self.check_ids(h) {
            return vec![f];
        }
        self.trees.retain(|t| t.tid != h.tid);
        vec![error_frame(h, ntstatus::SUCCESS)]
    }

    /// TRANSACTION on `\PIPE\LANMAN`: one RAP call, the reply split to the client's buffer.
    fn transaction(
        &mut self,
        bytes: &[u8],
        msg: &SmbMessage,
        src: &dyn ListingSource,
    ) -> Vec<Vec<u8>> {
        let h = &msg.header;
        let session = match self.check_ids(h) {
            Ok(s) => s,
            Err(f) => return vec![f],
        };
        let t = match TransactionRequest::parse(bytes) {
            Ok(t) => t,
            Err(_) => return vec![error_frame(h, ntstatus::INVALID_PARAMETER)],
        };
        if !t.name.eq_ignore_ascii_case(transaction_name::PIPE_LANMAN) {
            return vec![error_frame(h, ntstatus::NOT_SUPPORTED)];
        }
        // RAP calls fit one message; TRANSACTION_SECONDARY is not implemented.
        if usize::from(t.total_parameter_count) != t.parameters.len()
            || usize::from(t.total_data_count) != t.data.len()
        {
            return vec![error_frame(h, ntstatus::NOT_SUPPORTED)];
        }
        if t.flags.contains(TransactionFlags::NO_RESPONSE) {
            return Vec::new();
        }
        let rap = match RapRequest::parse(&t.parameters) {
            // Samba answers a parameter block it cannot read as an unsupported call.
            Err(_) => RapResponse::unsupported(),
            Ok(r) => match RapCall::from_request(&r) {
                // The parameter block its ParamDesc asks for, so that it reads well-formed.
                RapCall::Unsupported(_) => RapResponse::not_supported(&r.param_desc),
                call => listing::answer(
                    &call,
                    usize::from(t.max_data_count),
                    src,
                    &self.call_context(),
                    b"",
                ),
            },
        };
        let mut params = rap.parameters();
        let mut data = rap.data;
        if params.len() > usize::from(t.max_parameter_count) {
            // Samba's api_TooSmall: NERR_BufTooSmall and no data, when even that fits.
            let too_small = RapResponse {
                status: rap_status::BUF_TOO_SMALL,
                converter: 0,
                words: Vec::new(),
                data: Vec::new(),
            };
            params = too_small.parameters();
            data = Vec::new();
            if params.len() > usize::from(t.max_parameter_count) {
                return vec![error_frame(h, ntstatus::BUFFER_TOO_SMALL)];
            }
        }
        data.truncate(usize::from(t.max_data_count));
        transaction_pieces(
            reply_header(h, ntstatus::SUCCESS),
            &params,
            &data,
            session.max_buffer,
        )
    }
}

#[cfg(test)]
mod tests;
