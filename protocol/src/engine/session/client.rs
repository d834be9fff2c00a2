//! The SMB1 listing client of the session service: the conversation `smbclient -L` has with a
//! server on TCP 139, to list its shares, the servers of a workgroup and the workgroups
//! (rap-smb1.md §1, §6; session-service.md §4).
//!
//! One [`ListingClient`] drives one TCP connection, one request at a time. The driver writes the
//! frame [`ListingClient::session_request`] returns, then reads whole NBSS frames (checking each
//! header with [`ListingClient::check_header`] before reading the rest) and hands each to
//! [`ListingClient::handle_frame`], which says what to do next: write a frame
//! ([`Progress::Send`]), read on ([`Progress::Wait`]), or the step is over
//! ([`Progress::Done`]). Once [`Outcome::Connected`], the driver asks for listings with
//! [`ListingClient::list_shares`] and [`ListingClient::list_servers`], and ends with
//! [`ListingClient::disconnect`]. Nothing here reads a clock: the driver bounds each step in
//! time.
//!
//! The conversation:
//! 1. SESSION REQUEST to the called name → POSITIVE RESPONSE. A NEGATIVE one is
//!    [`ClientError::SessionRefused`]; smbclient then reconnects calling `*SMBSERVER<20>`
//!    ([`SMBSERVER`]), and so should the driver.
//! 2. NEGOTIATE offering `NT LANMAN 1.0` and `NT LM 0.12`, without extended security.
//! 3. SESSION_SETUP_ANDX, 13 words, anonymous: no account, no passwords.
//! 4. TREE_CONNECT_ANDX to `\\SERVER\IPC$`.
//! 5. TRANSACTION on `\PIPE\LANMAN`: RAP NetShareEnum level 1, or NetServerEnum2 level 1
//!    followed, while the status is 234 (ERROR_MORE_DATA), by NetServerEnum3 from the last name
//!    received (its repetition skipped), within caps on rounds and entries.
//! 6. TREE_DISCONNECT, LOGOFF_ANDX; then the driver closes the connection.
//!
//! Every reply is checked against the request it answers (REPLY flag, command, MID, status,
//! shape); anything else is a [`ClientError`] that says what was wrong, and the client is closed.
//! Frames over the configured size are refused from their header alone, and a reply is
//! reassembled into at most 65535 parameter and 65535 data bytes.

use crate::error::ParseError;
use crate::name::{NetbiosName, ScopedName};
use crate::wire::Emit;
use crate::wire::browse::{ServerName, ServerType};
use crate::wire::rap::records::{RapRecord, ServerInfo1, ShareInfo1, decode_entries};
use crate::wire::rap::{InfoLevel, RapCall, RapResponse, ServerEnumRequest, status as rap_status};
use crate::wire::smb::commands::{
    ANDX_NONE, CLIENT_DIALECTS, Capabilities, NO_DIALECT, NegotiateRequest, NegotiateResponse,
    SessionSetupRequest, SessionSetupResponse, SessionSetupStrings, TreeConnectFlags,
    TreeConnectRequest, TreeConnectResponse, ntstatus,
};
use crate::wire::smb::{
    SMB2_PROTOCOL, SmbFlags, SmbFlags2, SmbHeader, SmbMessage, TransactionRequest,
    TransactionResponse, command, transaction_name,
};
use crate::wire::ssn::{
    HEADER_LEN as NBSS_HEADER_LEN, SessionHeader, SessionPacket, SessionRequest,
};

/// The called name smbclient falls back to when the server refuses the first one
/// (session-service.md §2).
pub const SMBSERVER: &str = "*SMBSERVER";
/// ReceiveBufferLen and MaxDataCount of NetShareEnum, as smbclient sends them.
const SHARE_ENUM_BUFFER: u16 = 0xFFE0;
/// MaxParameterCount of NetShareEnum, as smbclient sends it.
const SHARE_ENUM_MAX_PARAMS: u16 = 1024;
/// ReceiveBufferLen and MaxDataCount of NetServerEnum2/3 (smbclient's CLI_BUFFER_SIZE).
const SERVER_ENUM_BUFFER: u16 = 0xFFFF;
/// MaxParameterCount of NetServerEnum2/3: Status, Converter, EntriesReturned, EntriesAvailable.
const SERVER_ENUM_MAX_PARAMS: u16 = 8;
/// The process ID in every request.
const PID: u16 = 0x4e42;
/// The MID that servers reserve for oplock breaks; never used for a request.
const MID_OPLOCK_BREAK: u16 = 0xFFFF;

/// Settings of one listing connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// CALLED_NAME of the session request: the server's `NAME<20>`, its address as text with
    /// `<20>`, or `*SMBSERVER<20>`.
    pub called_name: NetbiosName,
    /// CALLING_NAME: our own name, `<00>`.
    pub calling_name: NetbiosName,
    /// The server part of the tree connect path `\\SERVER\IPC$`: the server as the user named it.
    pub server: String,
    /// MaxBufferSize of the session setup: the largest SMB message the server may send. A frame
    /// longer than this (plus the 4-byte NBSS header) is refused from its header.
    pub max_buffer_size: u16,
    /// Most NetServerEnum2/3 calls for one server listing.
    pub max_rounds: usize,
    /// Most entries kept from one server listing.
    pub max_entries: usize,
    /// NativeOS of the session setup.
    pub native_os: String,
    /// NativeLanMan of the session setup.
    pub native_lanman: String,
}

impl ClientConfig {
    /// Settings for `server` called by `called_name`, with smbclient's buffer size (65535), at
    /// most 64 rounds and 50,000 entries per server listing.
    pub fn new(called_name: NetbiosName, calling_name: NetbiosName, server: &str) -> Self {
        ClientConfig {
            called_name,
            calling_name,
            server: server.to_owned(),
            max_buffer_size: u16::MAX,
            max_rounds: 64,
            max_entries: 50_000,
            native_os: "Unix".into(),
            native_lanman: "nbtd".into(),
        }
    }
}

/// A server listing in progress.
#[derive(Debug, Clone)]
struct ServerEnum {
    server_type: ServerType,
    domain: ServerName,
    servers: Vec<ServerInfo1>,
    rounds: usize,
}

#[derive(Debug, Clone)]
enum Call {
    Shares,
    Servers(ServerEnum),
}

impl Call {
    fn name(&self) -> &'static str {
        match self {
            Call::Shares => "NetShareEnum",
            Call::Servers(e) if e.rounds > 1 => "NetServerEnum3",
            Call::Servers(_) => "NetServerEnum2",
        }
    }
}

#[derive(Debug, Clone)]
enum Phase {
    Start,
    SessionRequest,
    Negotiate,
    SessionSetup,
    TreeConnect,
    Ready,
    Transaction { call: Call, reply: Reassembly },
    TreeDisconnect,
    Logoff,
    Closed,
}

impl Phase {
    /// The reply awaited, in words, and its command.
    fn awaiting(&self) -> (&'static str, Option<u8>) {
        match self {
            Phase::SessionRequest => ("session response", None),
            Phase::Negotiate => ("NEGOTIATE response", Some(command::NEGOTIATE)),
            Phase::SessionSetup => (
                "SESSION_SETUP_ANDX response",
                Some(command::SESSION_SETUP_ANDX),
            ),
            Phase::TreeConnect => (
                "TREE_CONNECT_ANDX response",
                Some(command::TREE_CONNECT_ANDX),
            ),
            Phase::Transaction { .. } => ("TRANSACTION response", Some(command::TRANSACTION)),
            Phase::TreeDisconnect => ("TREE_DISCONNECT response", Some(command::TREE_DISCONNECT)),
            Phase::Logoff => ("LOGOFF_ANDX response", Some(command::LOGOFF_ANDX)),
            Phase::Start | Phase::Ready | Phase::Closed => ("(no request outstanding)", None),
        }
    }
}

/// One connection's SMB1 listing client; see the module documentation.
#[derive(Debug, Clone)]
pub struct ListingClient {
    config: ClientConfig,
    phase: Phase,
    /// MID of the request awaiting its reply.
    mid: u16,
    uid: u16,
    tid: u16,
    session_key: u32,
    unicode: bool,
    info: ServerInfo,
}

fn malformed(what: &'static str) -> impl FnOnce(ParseError) -> ClientError {
    move |error| ClientError::Malformed { what, error }
}

fn emit_failed(what: &'static str) -> ClientError {
    // Every request is built from checked values; an emit failure is a bug, reported as such.
    ClientError::Bug(what)
}

impl ListingClient {
    /// A client for one connection.
    pub fn new(config: ClientConfig) -> Self {
        ListingClient {
            config,
            phase: Phase::Start,
            mid: 0,
            uid: 0,
            tid: 0,
            session_key: 0,
            unicode: true,
            info: ServerInfo::default(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// What the server said about itself (filled in as the handshake goes).
    pub fn server_info(&self) -> &ServerInfo {
        &self.info
    }

    /// Whether the connection is idle: connected, no request outstanding.
    pub fn is_ready(&self) -> bool {
        matches!(self.phase, Phase::Ready)
    }

    /// Whether the client is closed (after an error or the logoff).
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    /// The reply awaited, in words (e.g. `NEGOTIATE response`), for a driver's message about a
    /// timeout or a closed connection.
    pub fn awaiting(&self) -> &'static str {
        self.phase.awaiting().0
    }

    /// Longest frame accepted: the NBSS header and MaxBufferSize.
    pub fn max_frame_len(&self) -> usize {
        NBSS_HEADER_LEN + usize::from(self.config.max_buffer_size)
    }

    /// The SESSION REQUEST that opens the connection (RFC 1002 §4.3.2); first call only.
    pub fn session_request(&mut self) -> Result<Vec<u8>, ClientError> {
        if !matches!(self.phase, Phase::Start) {
            return Err(ClientError::NotReady("a second SESSION REQUEST"));
        }
        let frame = SessionPacket::SessionRequest(SessionRequest {
            called_name: ScopedName::unscoped(self.config.called_name),
            calling_name: ScopedName::unscoped(self.config.calling_name),
            trailing: Vec::new(),
        })
        .to_vec()
        .map_err(|_| emit_failed("writing the SESSION REQUEST"))?;
        self.phase = Phase::SessionRequest;
        Ok(frame)
    }

    /// Checks a frame's 4-byte header before the driver reads the rest: the whole frame's
    /// length, or why not to read it.
    pub fn check_header(&self, header: &[u8]) -> Result<usize, ClientError> {
        let h = SessionHeader::parse(header).map_err(malformed("session frame header"))?;
        let length = h.frame_len();
        if length > self.max_frame_len() {
            return Err(ClientError::FrameTooLarge {
                length,
                max: self.max_frame_len(),
            });
        }
        Ok(length)
    }

    /// Handles one whole NBSS frame from the server (header and trailer, nothing more).
    pub fn handle_frame(&mut self, frame: &[u8]) -> Result<Progress, ClientError> {
        let r = self.frame(frame);
        if r.is_err() {
            self.phase = Phase::Closed;
        }
        r
    }

    /// Asks for the shares: RAP NetShareEnum level 1.
    pub fn list_shares(&mut self) -> Result<Vec<u8>, ClientError> {
        self.rap(
            Call::Shares,
            &RapCall::NetShareEnum {
                level: InfoLevel::One,
                receive_buffer_len: SHARE_ENUM_BUFFER,
            },
        )
    }

    /// Asks for the servers of `domain` whose type has a bit of `server_type` (all servers:
    /// [`ServerType::ALL`]; the workgroups with their masters: [`ServerType::DOMAIN_ENUM`]).
    /// Windows and nbtd read an empty domain as their own workgroup, but Samba's smbd lists no
    /// server for it (FINDINGS: the SPNEGO case), so name the workgroup; DOMAIN_ENUM ignores it.
    pub fn list_servers(
        &mut self,
        server_type: ServerType,
        domain: ServerName,
    ) -> Result<Vec<u8>, ClientError> {
        let mut domain = domain;
        let upper = domain.as_bytes().to_ascii_uppercase();
        domain = ServerName::from_bytes(&upper).unwrap_or(domain);
        let e = ServerEnum {
            server_type,
            domain,
            servers: Vec::new(),
            rounds: 1,
        };
        let call = server_enum_call(&e, None);
        self.rap(Call::Servers(e), &call)
    }

    /// Ends the session: TREE_DISCONNECT, then LOGOFF_ANDX.
    pub fn disconnect(&mut self) -> Result<Vec<u8>, ClientError> {
        if !self.is_ready() {
            return Err(ClientError::NotReady("TREE_DISCONNECT"));
        }
        self.phase = Phase::TreeDisconnect;
        let h = self.request_header(command::TREE_DISCONNECT);
        Ok(frame_of(&SmbMessage {
            header: h,
            words: Vec::new(),
            bytes: Vec::new(),
            trailing: Vec::new(),
        }))
    }

    fn next_mid(&mut self) -> u16 {
        self.mid = self.mid.wrapping_add(1);
        if self.mid == MID_OPLOCK_BREAK {
            self.mid = 0;
        }
        self.mid
    }

    fn request_header(&mut self, cmd: u8) -> SmbHeader {
        let mut h = SmbHeader::new(cmd);
        h.flags = SmbFlags::CASE_INSENSITIVE | SmbFlags::CANONICALIZED_PATHS;
        h.flags2 = SmbFlags2::LONG_NAMES | SmbFlags2::IS_LONG_NAME | SmbFlags2::NT_STATUS;
        if self.unicode {
            h.flags2 |= SmbFlags2::UNICODE;
        }
        h.pid_low = PID;
        h.uid = self.uid;
        h.tid = self.tid;
        h.mid = self.next_mid();
        h
    }

    fn rap(&mut self, call: Call, rap: &RapCall) -> Result<Vec<u8>, ClientError> {
        if !self.is_ready() {
            return Err(ClientError::NotReady("a RAP call"));
        }
        let frame = self.rap_frame(rap)?;
        self.phase = Phase::Transaction {
            call,
            reply: Reassembly::default(),
        };
        Ok(frame)
    }

    /// A TRANSACTION on `\PIPE\LANMAN` carrying `call`, laid out as smbclient lays it out
    /// (parameters at a 4-byte boundary after the name, no data).
    fn rap_frame(&mut self, call: &RapCall) -> Result<Vec<u8>, ClientError> {
        let bug = || emit_failed("writing a RAP request");
        let params = call
            .to_request()
            .ok_or_else(bug)?
            .to_vec()
            .map_err(|_| bug())?;
        let (max_parameter_count, max_data_count) = match call {
            RapCall::NetShareEnum { .. } => (SHARE_ENUM_MAX_PARAMS, SHARE_ENUM_BUFFER),
            _ => (SERVER_ENUM_MAX_PARAMS, SERVER_ENUM_BUFFER),
        };
        let header = self.request_header(command::TRANSACTION);
        let t = TransactionRequest::named_pipe(
            header,
            transaction_name::PIPE_LANMAN,
            params,
            max_parameter_count,
            max_data_count,
        )
        .map_err(|_| bug())?;
        Ok(session_message(&t.to_vec().map_err(|_| bug())?))
    }

    fn frame(&mut self, frame: &[u8]) -> Result<Progress, ClientError> {
        if matches!(self.phase, Phase::Closed) {
            return Err(ClientError::NotReady("reading a frame after the close"));
        }
        // The header first, for the size limit; the parse then refuses a frame that is not
        // exactly as long as its LENGTH says.
        self.check_header(frame)?;
        let packet = SessionPacket::parse(frame).map_err(malformed("session frame"))?;
        let (expected, _) = self.phase.awaiting();
        match (packet, &self.phase) {
            (SessionPacket::SessionKeepAlive, _) => Ok(Progress::Wait),
            (_, Phase::Start | Phase::Ready) => Err(ClientError::Unexpected {
                expected,
                got: "a frame while no request is outstanding".into(),
            }),
            (SessionPacket::PositiveSessionResponse, Phase::SessionRequest) => {
                self.phase = Phase::Negotiate;
                Ok(Progress::Send(self.negotiate_frame()))
            }
            (SessionPacket::NegativeSessionResponse(code), Phase::SessionRequest) => {
                Err(ClientError::SessionRefused {
                    called: self.config.called_name.to_string(),
                    code,
                })
            }
            (SessionPacket::RetargetSessionResponse(r), Phase::SessionRequest) => {
                Err(ClientError::Retarget(r))
            }
            (SessionPacket::SessionMessage(bytes), phase)
                if !matches!(phase, Phase::SessionRequest) =>
            {
                self.smb(&bytes)
            }
            (other, _) => Err(ClientError::Unexpected {
                expected,
                got: format!(
                    "a session packet of type {:#04x}",
                    other.packet_type().to_u8()
                ),
            }),
        }
    }

    fn negotiate_frame(&mut self) -> Vec<u8> {
        let req = NegotiateRequest {
            dialects: CLIENT_DIALECTS.iter().map(|d| d.to_vec()).collect(),
        };
        let h = self.request_header(command::NEGOTIATE);
        frame_of(&req.to_message(h))
    }

    /// One SMB reply: checked against the request it must answer, then read by phase.
    fn smb(&mut self, bytes: &[u8]) -> Result<Progress, ClientError> {
        let (expected, cmd) = self.phase.awaiting();
        if bytes.starts_with(&SMB2_PROTOCOL) {
            return Err(ClientError::Smb2);
        }
        let msg = SmbMessage::parse(bytes).map_err(malformed(expected))?;
        let h = msg.header;
        let unexpected = |got: String| ClientError::Unexpected { expected, got };
        if !h.is_reply() {
            return Err(unexpected(format!(
                "a request (command {:#04x}, REPLY flag clear)",
                h.command
            )));
        }
        if Some(h.command) != cmd {
            return Err(unexpected(format!("a reply to command {:#04x}", h.command)));
        }
        if h.mid != self.mid {
            return Err(unexpected(format!(
                "a reply with MID {}, not ours ({})",
                h.mid, self.mid
            )));
        }
        let status = SmbStatus::of(&h);
        match std::mem::replace(&mut self.phase, Phase::Closed) {
            Phase::Negotiate => self.negotiated(&msg, status),
            Phase::SessionSetup => self.session_set_up(&msg, status),
            Phase::TreeConnect => self.tree_connected(&msg, status),
            Phase::Transaction { call, mut reply } => {
                let ok = status.is_success() || status == SmbStatus::Nt(ntstatus::BUFFER_OVERFLOW);
                if !ok {
                    return Err(ClientError::Status {
                        what: call.name(),
                        status,
                    });
                }
                let t = TransactionResponse::parse(bytes).map_err(malformed(expected))?;
                if !reply.add(&t).map_err(malformed(expected))? {
                    self.phase = Phase::Transaction { call, reply };
                    return Ok(Progress::Wait);
                }
                self.rap_reply(call, &reply)
            }
            // Whatever the status: the tree or session is gone for us either way.
            Phase::TreeDisconnect => {
                self.phase = Phase::Logoff;
                let h = self.request_header(command::LOGOFF_ANDX);
                Ok(Progress::Send(frame_of(&SmbMessage {
                    header: h,
                    words: vec![ANDX_NONE, 0, 0, 0],
                    bytes: Vec::new(),
                    trailing: Vec::new(),
                })))
            }
            Phase::Logoff => Ok(Progress::Done(Outcome::Disconnected)),
            Phase::Start | Phase::SessionRequest | Phase::Ready | Phase::Closed => {
                Err(unexpected("an SMB message".into()))
            }
        }
    }

    fn negotiated(&mut self, msg: &SmbMessage, status: SmbStatus) -> Result<Progress, ClientError> {
        if !status.is_success() {
            return Err(ClientError::Status {
                what: "NEGOTIATE",
                status,
            });
        }
        if msg.word_count() == 1 && msg.word(0) == Some(NO_DIALECT) {
            return Err(ClientError::NoCommonDialect);
        }
        // Capabilities sit at byte 19 of the 17 words: with extended security the byte block
        // holds a GUID and a blob instead of the names, so look before parsing it.
        let caps = msg
            .words
            .get(19..23)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
            .map(Capabilities::from_bits_retain);
        if msg.word_count() == 17
            && caps.is_some_and(|c| c.contains(Capabilities::EXTENDED_SECURITY))
        {
            return Err(ClientError::ExtendedSecurity);
        }
        let r = NegotiateResponse::parse(msg).map_err(malformed("NEGOTIATE response"))?;
        let Some(dialect) = CLIENT_DIALECTS.get(usize::from(r.dialect_index)) else {
            return Err(ClientError::Unexpected {
                expected: "NEGOTIATE response",
                got: format!(
                    "DialectIndex {}, but only {} dialects were offered",
                    r.dialect_index,
                    CLIENT_DIALECTS.len()
                ),
            });
        };
        self.session_key = r.session_key;
        self.unicode = r.capabilities.contains(Capabilities::UNICODE);
        self.info.dialect = String::from_utf8_lossy(dialect).into_owned();
        self.info.domain_name = r.domain_name;
        self.info.server_name = r.server_name;
        let setup = SessionSetupRequest::Nt1 {
            andx_command: ANDX_NONE,
            max_buffer_size: self.config.max_buffer_size,
            max_mpx_count: 2,
            // Not 0: VcNumber 0 asks a Windows server to drop our other connections.
            vc_number: 1,
            session_key: self.session_key,
            oem_password_len: 0,
            unicode_password_len: 0,
            capabilities: Capabilities::UNICODE | Capabilities::NT_SMBS | Capabilities::STATUS32,
        };
        let strings = SessionSetupStrings {
            account: String::new(),
            primary_domain: String::new(),
            native_os: self.config.native_os.clone(),
            native_lanman: self.config.native_lanman.clone(),
        };
        let h = self.request_header(command::SESSION_SETUP_ANDX);
        let m = setup
            .to_message(h, &strings)
            .map_err(|_| emit_failed("writing the SESSION_SETUP_ANDX"))?;
        self.phase = Phase::SessionSetup;
        Ok(Progress::Send(frame_of(&m)))
    }

    fn session_set_up(
        &mut self,
        msg: &SmbMessage,
        status: SmbStatus,
    ) -> Result<Progress, ClientError> {
        if status == SmbStatus::Nt(ntstatus::MORE_PROCESSING_REQUIRED) {
            return Err(ClientError::ExtendedSecurity);
        }
        if !status.is_success() {
            return Err(ClientError::Status {
                what: "the anonymous session setup",
                status,
            });
        }
        let r =
            SessionSetupResponse::parse(msg).map_err(malformed("SESSION_SETUP_ANDX response"))?;
        self.uid = msg.header.uid;
        self.info.native_os = r.native_os;
        self.info.native_lanman = r.native_lanman;
        self.info.primary_domain = r.primary_domain;
        self.info.guest = r.action & crate::wire::smb::commands::ACTION_GUEST != 0;
        let req = TreeConnectRequest {
            flags: TreeConnectFlags::EXTENDED_RESPONSE,
            password: vec![0],
            path: format!("\\\\{}\\IPC$", self.config.server.to_uppercase()),
            service: b"?????".to_vec(),
        };
        let h = self.request_header(command::TREE_CONNECT_ANDX);
        let m = req
            .to_message(h)
            .map_err(|_| emit_failed("writing the TREE_CONNECT_ANDX"))?;
        self.phase = Phase::TreeConnect;
        Ok(Progress::Send(frame_of(&m)))
    }

    fn tree_connected(
        &mut self,
        msg: &SmbMessage,
        status: SmbStatus,
    ) -> Result<Progress, ClientError> {
        if !status.is_success() {
            return Err(ClientError::Status {
                what: "the tree connect to IPC$",
                status,
            });
        }
        TreeConnectResponse::parse(msg).map_err(malformed("TREE_CONNECT_ANDX response"))?;
        self.tid = msg.header.tid;
        self.phase = Phase::Ready;
        Ok(Progress::Done(Outcome::Connected))
    }

    /// A complete RAP reply.
    fn rap_reply(&mut self, call: Call, reply: &Reassembly) -> Result<Progress, ClientError> {
        let what = "RAP reply";
        let rap = RapResponse::parse(&reply.params, &reply.data).map_err(malformed(what))?;
        if rap.status != rap_status::SUCCESS && rap.status != rap_status::MORE_DATA {
            return Err(ClientError::Rap {
                call: call.name(),
                status: rap.status,
            });
        }
        let (Some(returned), Some(available)) = (rap.entries_returned(), rap.entries_available())
        else {
            return Err(ClientError::Malformed {
                what,
                error: ParseError::truncated("EntriesAvailable", 4, 4, rap.words.len() * 2),
            });
        };
        let more = rap.status == rap_status::MORE_DATA;
        match call {
            Call::Shares => {
                let shares = entries::<ShareInfo1>(&rap, returned)?;
                self.phase = Phase::Ready;
                Ok(Progress::Done(Outcome::Shares(ShareListing {
                    shares,
                    incomplete: (more || returned < available)
                        .then_some(Incomplete::MoreData { available }),
                })))
            }
            Call::Servers(mut e) => {
                let got = entries::<ServerInfo1>(&rap, returned)?;
                // A continuation starts again with the last name of the previous reply.
                let skip = usize::from(
                    e.rounds > 1
                        && e.servers
                            .last()
                            .zip(got.first())
                            .is_some_and(|(l, f)| l.name.eq_ignore_case(&f.name)),
                );
                let new = got.len().saturating_sub(skip);
                let room = self.config.max_entries.saturating_sub(e.servers.len());
                e.servers.extend(got.into_iter().skip(skip).take(room));
                let incomplete = if new > room {
                    Some(Incomplete::EntryCap(self.config.max_entries))
                } else if !more {
                    None
                } else if new == 0 {
                    Some(Incomplete::NoProgress)
                } else if e.rounds >= self.config.max_rounds {
                    Some(Incomplete::RoundCap(e.rounds))
                } else if e.servers.len() >= self.config.max_entries {
                    Some(Incomplete::EntryCap(self.config.max_entries))
                } else {
                    // Continue from the last name (smbclient's `cli_NetServerEnum`).
                    let last = e.servers.last().map(|s| s.name);
                    e.rounds += 1;
                    let rap = server_enum_call(&e, last);
                    let frame = self.rap_frame(&rap)?;
                    self.phase = Phase::Transaction {
                        call: Call::Servers(e),
                        reply: Reassembly::default(),
                    };
                    return Ok(Progress::Send(frame));
                };
                self.phase = Phase::Ready;
                Ok(Progress::Done(Outcome::Servers(ServerListing {
                    servers: e.servers,
                    rounds: e.rounds,
                    incomplete,
                })))
            }
        }
    }
}

/// The records of a RAP enumeration reply.
fn entries<R: RapRecord>(rap: &RapResponse, returned: u16) -> Result<Vec<R>, ClientError> {
    decode_entries(&rap.data, returned, rap.converter).map_err(malformed("RAP data block"))
}

/// NetServerEnum2, or NetServerEnum3 from `first` on.
fn server_enum_call(e: &ServerEnum, first: Option<ServerName>) -> RapCall {
    let req = ServerEnumRequest {
        level: InfoLevel::One,
        receive_buffer_len: SERVER_ENUM_BUFFER,
        server_type: e.server_type,
        domain: Some(e.domain.as_bytes().to_vec()),
        first_name: first.map(|n| n.as_bytes().to_vec()).unwrap_or_default(),
    };
    match first {
        Some(_) => RapCall::NetServerEnum3(req),
        None => RapCall::NetServerEnum2(req),
    }
}

/// Wraps an SMB message in a SESSION MESSAGE frame.
fn session_message(msg: &[u8]) -> Vec<u8> {
    SessionPacket::SessionMessage(msg.to_vec())
        .to_vec()
        .unwrap_or_default()
}

fn frame_of(m: &SmbMessage) -> Vec<u8> {
    // Requests are small: a message built here always fits a frame.
    session_message(&m.to_vec().unwrap_or_default())
}

mod error;
mod outcome;
mod reassembly;

pub use error::{ClientError, SmbStatus, negative_meaning, rap_status_meaning};
pub use outcome::{Incomplete, Outcome, Progress, ServerInfo, ServerListing, ShareListing};
use reassembly::Reassembly;

#[cfg(test)]
mod tests;
