//! The SMB1 listing client over TCP 139: the tokio side of
//! [`crate::protocol::engine::session::client`], which holds every rule of the conversation.
//!
//! [`Session::open`] connects, calls the server by its NetBIOS name (or its address as text)
//! and, when the server refuses that name, reconnects calling `*SMBSERVER<20>` as smbclient
//! does; then it negotiates, logs on anonymously and connects to `IPC$`. [`Session::shares`]
//! and [`Session::servers`] ask for listings; [`Session::close`] logs off. The connect and each
//! reply are bounded by the timeout, frames by the engine's size limit, and every failure says
//! what happened and what to do ([`SmbError::message`]).

use std::io;
use std::net::SocketAddrV4;
use std::time::Duration;

use crate::protocol::NetbiosName;
use crate::protocol::engine::session::client::{
    ClientConfig, ClientError, ListingClient, Outcome, Progress, SMBSERVER, ServerInfo,
    ServerListing, ShareListing, negative_meaning,
};
use crate::protocol::wire::browse::{ServerName, ServerType};
use crate::protocol::wire::ssn::NegativeResponseCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

/// Our CALLING_NAME.
const CALLING_NAME: &str = "NBT";

/// The server to list.
#[derive(Debug, Clone)]
pub struct Target {
    /// Its address and session service port.
    pub addr: SocketAddrV4,
    /// Its NetBIOS name when known: called as `NAME<20>`; else its address is called.
    pub name: Option<String>,
    /// The server as the user named it: the server part of `\\SERVER\IPC$`.
    pub label: String,
}

/// Why a listing over TCP 139 failed.
#[derive(Debug)]
pub enum SmbError {
    /// The connection was refused: nothing listens on the port.
    Refused(SocketAddrV4),
    /// The connection did not complete in time.
    ConnectTimeout(SocketAddrV4, Duration),
    /// The connection failed otherwise.
    Connect(SocketAddrV4, io::Error),
    /// No complete reply in time.
    Timeout {
        /// The server.
        addr: SocketAddrV4,
        /// The reply awaited.
        awaiting: &'static str,
        /// The time allowed.
        timeout: Duration,
    },
    /// The server closed (or reset) the connection.
    Closed {
        /// The server.
        addr: SocketAddrV4,
        /// The reply awaited.
        awaiting: &'static str,
        /// The error, for a reset.
        error: Option<io::Error>,
    },
    /// The server refused the session for every name we called it by.
    SessionRefused {
        /// The server.
        addr: SocketAddrV4,
        /// The names called, e.g. `ALPHA<20>` and `*SMBSERVER<20>`.
        called: Vec<String>,
        /// The last NEGATIVE SESSION RESPONSE's ERROR_CODE.
        code: NegativeResponseCode,
    },
    /// The server's reply broke the protocol, or refused us.
    Protocol(SocketAddrV4, ClientError),
}

impl SmbError {
    /// Whether the server refused us (exit status 1), as opposed to an error (exit status 2).
    pub fn is_refusal(&self) -> bool {
        match self {
            SmbError::SessionRefused { .. } => true,
            SmbError::Protocol(_, e) => e.is_refusal(),
            _ => false,
        }
    }

    /// What happened and what to do, for the user.
    pub fn message(&self) -> String {
        const SMB1_HINT: &str = "it speaks SMB2 or later only, and nbt lists over SMB1 (NT LM \
                                 0.12) with NetBIOS (on Samba: server min protocol = NT1)";
        match self {
            SmbError::Refused(a) => format!(
                "nothing listens on TCP {} at {}: is it an SMB1 server with NetBIOS enabled?",
                a.port(),
                a.ip()
            ),
            SmbError::ConnectTimeout(a, t) => format!(
                "no answer from {} on TCP {} within {}: is the host up, and does no firewall \
                 drop TCP {}?",
                a.ip(),
                a.port(),
                show_duration(*t),
                a.port()
            ),
            SmbError::Connect(a, e) => format!("cannot connect to {a}: {e}"),
            SmbError::Timeout {
                addr,
                awaiting,
                timeout,
            } => format!(
                "{} sent no {awaiting} within {}; try a longer --timeout",
                addr.ip(),
                show_duration(*timeout)
            ),
            SmbError::Closed {
                addr,
                awaiting: "NEGOTIATE response",
                ..
            } => format!(
                "{} closed the connection instead of answering our SMB1 NEGOTIATE: probably \
                 {SMB1_HINT}",
                addr.ip()
            ),
            SmbError::Closed {
                addr,
                awaiting,
                error,
            } => format!(
                "{} closed the connection while we waited for its {awaiting}{}",
                addr.ip(),
                error
                    .as_ref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            ),
            SmbError::SessionRefused { addr, called, code } => format!(
                "{} refused the NetBIOS session for {} ({}); give the host's NetBIOS name \
                 (nbt status {} lists it)",
                addr.ip(),
                called.join(" and for "),
                negative_meaning(*code),
                addr.ip()
            ),
            SmbError::Protocol(a, e) => {
                let ip = a.ip();
                match e {
                    ClientError::Smb2 | ClientError::NoCommonDialect => {
                        format!("{ip}: {e}; {SMB1_HINT}")
                    }
                    ClientError::ExtendedSecurity => format!(
                        "{ip}: {e}; nbt logs on anonymously without it, as smbclient does with \
                         --option='client use spnego=no'"
                    ),
                    ClientError::Status { status, .. } if status.is_access_denied() => format!(
                        "{ip} refused anonymous access: {e}; the server does not let guests \
                         list (Samba: map to guest = bad user, restrict anonymous = 0)"
                    ),
                    _ => format!("{ip}: {e}"),
                }
            }
        }
    }
}

impl std::fmt::Display for SmbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for SmbError {}

/// An open listing session: TCP connected, logged on, `IPC$` connected.
pub struct Session {
    stream: TcpStream,
    client: ListingClient,
    addr: SocketAddrV4,
    timeout: Duration,
}

/// Connects within `timeout`.
async fn connect(addr: SocketAddrV4, timeout: Duration) -> Result<TcpStream, SmbError> {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Err(_) => Err(SmbError::ConnectTimeout(addr, timeout)),
        Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => Err(SmbError::Refused(addr)),
        Ok(Err(e)) => Err(SmbError::Connect(addr, e)),
        Ok(Ok(s)) => {
            let _ = s.set_nodelay(true);
            Ok(s)
        }
    }
}

impl Session {
    /// Connects to `target` and sets the session up; `timeout` bounds the connect and each
    /// reply. A refused called name is retried once as `*SMBSERVER<20>`.
    pub async fn open(target: &Target, timeout: Duration, verbose: bool) -> Result<Self, SmbError> {
        let addr = target.addr;
        let first = target.name.clone().unwrap_or_else(|| addr.ip().to_string());
        let calling = NetbiosName::new(CALLING_NAME, 0).map_err(|_| {
            SmbError::Protocol(
                addr,
                ClientError::Bug("our calling name is no NetBIOS name"),
            )
        })?;
        let mut refused = Vec::new();
        for called in [first, SMBSERVER.to_owned()] {
            // A name that is no NetBIOS name (too long) cannot be called: go to *SMBSERVER.
            let Ok(called_name) = NetbiosName::new(&called, 0x20) else {
                continue;
            };
            let stream = connect(addr, timeout).await?;
            let config = ClientConfig::new(called_name, calling, &target.label);
            let mut s = Session {
                stream,
                client: ListingClient::new(config),
                addr,
                timeout,
            };
            let request = s
                .client
                .session_request()
                .map_err(|e| SmbError::Protocol(addr, e))?;
            match s.step(request).await {
                Ok(Outcome::Connected) => {
                    if verbose {
                        let info = s.info();
                        eprintln!(
                            "nbt: {addr}: session with {called_name}, {} with {} of {} ({}), {}",
                            info.dialect,
                            show_or(&info.server_name, "an unnamed server"),
                            show_or(&info.primary_domain, "no workgroup"),
                            show_or(&info.native_lanman, "?"),
                            if info.guest { "as guest" } else { "anonymous" }
                        );
                    }
                    return Ok(s);
                }
                Err(SmbError::Protocol(_, e @ ClientError::SessionRefused { code, .. })) => {
                    if verbose {
                        eprintln!("nbt: {addr}: {e}");
                    }
                    refused.push((called_name.to_string(), code));
                }
                Err(e) => return Err(e),
                Ok(other) => {
                    return Err(SmbError::Protocol(
                        addr,
                        ClientError::Unexpected {
                            expected: "the end of the handshake",
                            got: format!("{other:?}"),
                        },
                    ));
                }
            }
        }
        let code = refused
            .last()
            .map_or(NegativeResponseCode::UnspecifiedError, |r| r.1);
        Err(SmbError::SessionRefused {
            addr,
            called: refused.into_iter().map(|r| r.0).collect(),
            code,
        })
    }

    /// What the server said about itself.
    pub fn info(&self) -> &ServerInfo {
        self.client.server_info()
    }

    /// The server's shares (RAP NetShareEnum).
    pub async fn shares(&mut self) -> Result<ShareListing, SmbError> {
        let f = self
            .client
            .list_shares()
            .map_err(|e| SmbError::Protocol(self.addr, e))?;
        match self.step(f).await? {
            Outcome::Shares(s) => Ok(s),
            other => Err(self.unexpected("a share list", other)),
        }
    }

    /// The servers of `domain` (empty: the server's workgroup) whose type has a bit of
    /// `server_type` (RAP NetServerEnum2, continued by NetServerEnum3).
    pub async fn servers(
        &mut self,
        server_type: ServerType,
        domain: ServerName,
    ) -> Result<ServerListing, SmbError> {
        let f = self
            .client
            .list_servers(server_type, domain)
            .map_err(|e| SmbError::Protocol(self.addr, e))?;
        match self.step(f).await? {
            Outcome::Servers(s) => Ok(s),
            other => Err(self.unexpected("a server list", other)),
        }
    }

    /// Disconnects the tree and logs off within one timeout (failures ignored: the listing is
    /// done), then closes.
    pub async fn close(mut self) {
        if let Ok(f) = self.client.disconnect() {
            let _ = tokio::time::timeout(self.timeout, self.step(f)).await;
        }
        let _ = self.stream.shutdown().await;
    }

    fn unexpected(&self, expected: &'static str, got: Outcome) -> SmbError {
        SmbError::Protocol(
            self.addr,
            ClientError::Unexpected {
                expected,
                got: format!("{got:?}"),
            },
        )
    }

    /// Writes `first` and every request that follows until the step is over; each reply must
    /// be complete within the timeout.
    async fn step(&mut self, first: Vec<u8>) -> Result<Outcome, SmbError> {
        let mut request = first;
        loop {
            let deadline = Instant::now() + self.timeout;
            self.write(&request, deadline).await?;
            loop {
                let frame = self.read_frame(deadline).await?;
                match self.client.handle_frame(&frame) {
                    Ok(Progress::Send(next)) => {
                        request = next;
                        break;
                    }
                    Ok(Progress::Wait) => {}
                    Ok(Progress::Done(outcome)) => return Ok(outcome),
                    Err(e) => return Err(SmbError::Protocol(self.addr, e)),
                }
            }
        }
    }

    fn io_error(&self, e: io::Error) -> SmbError {
        SmbError::Closed {
            addr: self.addr,
            awaiting: self.client.awaiting(),
            error: (e.kind() != io::ErrorKind::UnexpectedEof).then_some(e),
        }
    }

    fn timed_out(&self) -> SmbError {
        SmbError::Timeout {
            addr: self.addr,
            awaiting: self.client.awaiting(),
            timeout: self.timeout,
        }
    }

    async fn write(&mut self, frame: &[u8], deadline: Instant) -> Result<(), SmbError> {
        match timeout_at(deadline, self.stream.write_all(frame)).await {
            Err(_) => Err(self.timed_out()),
            Ok(Err(e)) => Err(self.io_error(e)),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// Reads one NBSS frame: the header, checked by the engine, then exactly the rest.
    async fn read_frame(&mut self, deadline: Instant) -> Result<Vec<u8>, SmbError> {
        let mut header = [0u8; 4];
        match timeout_at(deadline, self.stream.read_exact(&mut header)).await {
            Err(_) => return Err(self.timed_out()),
            Ok(Err(e)) => return Err(self.io_error(e)),
            Ok(Ok(_)) => {}
        }
        let length = self
            .client
            .check_header(&header)
            .map_err(|e| SmbError::Protocol(self.addr, e))?;
        let mut frame = vec![0u8; length];
        frame[..4].copy_from_slice(&header);
        match timeout_at(deadline, self.stream.read_exact(&mut frame[4..])).await {
            Err(_) => Err(self.timed_out()),
            Ok(Err(e)) => Err(self.io_error(e)),
            Ok(Ok(_)) => Ok(frame),
        }
    }
}

fn show_or<'a>(s: &'a str, absent: &'a str) -> &'a str {
    if s.is_empty() { absent } else { s }
}

/// The text of a share type, as smbclient prints it (`type & 7`).
pub fn share_type_text(share_type: u16) -> &'static str {
    match share_type & 7 {
        0 => "Disk",
        1 => "Printer",
        2 => "Device",
        3 => "IPC",
        _ => "Unknown",
    }
}

/// Text from a RAP string: UTF-8 when it is, else each byte as the Latin-1 character.
pub fn rap_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

#[cfg(test)]
mod tests;

/// A duration for people: milliseconds under a second, else seconds.
pub fn show_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{} s", (d.as_secs_f64() * 1000.0).round() / 1000.0)
    }
}
