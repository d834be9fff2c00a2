//! The session service on TCP 139: one task per connection drives the I/O-free
//! [`SmbListingServer`] with whole NBSS frames, under limits.
//!
//! - Connections beyond [`SessionLimits::max_connections`], or beyond
//!   [`SessionLimits::max_connections_per_source`] from one address, are closed at once.
//! - The client must send its whole first frame within [`SessionLimits::handshake_timeout`],
//!   and then each whole frame within [`SessionLimits::idle_timeout`] of the last reply.
//! - A frame longer than [`SessionLimits::max_frame_len`] is refused before it is read.
//! - Each reply must be taken by the client within [`SessionLimits::write_timeout`]. At most
//!   [`MAX_QUEUED_BYTES`] of replies wait in nbtd for one connection, and its kernel send
//!   buffer is [`SEND_BUFFER`]: a client that sends requests and never reads holds no more.
//! - Refusals over the per-source cap, handshake and write timeouts are logged at debug for
//!   each connection and warned of at most once a minute for each kind, naming the source.
//! - What the connection lists comes from the daemon's main loop, which owns the browse list:
//!   each frame asks it for a [`ListingSnapshot`] (the main loop caches one for a second), so
//!   nothing runs while no client is connected.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nbt_protocol::engine::Rng;
use nbt_protocol::engine::browser::list::BrowseList;
use nbt_protocol::engine::session::{
    BrowseListing, CloseReason, Connection, LocalServer, SessionConfig, SmbListingServer,
};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tracing::{debug, info, warn};

/// Limits of the session service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionLimits {
    /// Connections served at once, over all addresses.
    pub max_connections: usize,
    /// Connections served at once from one source address (within `max_connections`).
    pub max_connections_per_source: usize,
    /// Time allowed for the whole first frame (the session request), from the accept.
    pub handshake_timeout: Duration,
    /// Time allowed for each whole frame afterwards, from the last reply.
    pub idle_timeout: Duration,
    /// Time allowed for the client to take each reply.
    pub write_timeout: Duration,
    /// Largest frame accepted, the 4-byte header included.
    pub max_frame_len: usize,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            max_connections: 64,
            max_connections_per_source: 8,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            write_timeout: Duration::from_secs(20),
            max_frame_len: SessionConfig::default().max_frame_len,
        }
    }
}

/// Most bytes of replies nbtd holds for one connection: a reply longer than this (only an ECHO
/// asking for many large copies can be) is cut there and the connection closed after it. A
/// listing is at most 64 KiB of RAP data and its frames' headers.
pub const MAX_QUEUED_BYTES: usize = 128 * 1024;

/// The kernel send buffer of each connection (Linux doubles it for its own bookkeeping), so
/// that a client that does not read holds at most this much kernel memory too.
pub const SEND_BUFFER: usize = 64 * 1024;

/// How often each kind of warning (per-source refusals, handshake and write timeouts) is
/// logged at most; the others in between are counted in the next one.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// What every connection lists: our identity and shares, and the browse list of each interface
/// address.
#[derive(Debug, Clone)]
pub struct ListingSnapshot {
    /// Our names, workgroup, entry and shares.
    pub local: LocalServer,
    /// The browse list of each interface address, when browsing runs there.
    pub lists: BTreeMap<Ipv4Addr, BrowseList>,
}

/// A request for the current listing, answered by the main loop.
pub type SnapshotRequest = oneshot::Sender<Arc<ListingSnapshot>>;

/// The connections' way to the main loop's listing.
#[derive(Debug, Clone)]
pub struct Snapshots(mpsc::Sender<SnapshotRequest>);

impl Snapshots {
    /// A channel: connections hold the [`Snapshots`], the main loop answers the receiver.
    pub fn channel() -> (Snapshots, mpsc::Receiver<SnapshotRequest>) {
        let (tx, rx) = mpsc::channel(64);
        (Snapshots(tx), rx)
    }

    async fn get(&self) -> Option<Arc<ListingSnapshot>> {
        let (tx, rx) = oneshot::channel();
        self.0.send(tx).await.ok()?;
        rx.await.ok()
    }
}

/// Counters of the session service, for the control socket.
#[derive(Debug, Default)]
pub struct SessionCounters {
    /// Connections accepted.
    pub accepted: AtomicU64,
    /// Connections refused because too many were open.
    pub refused_busy: AtomicU64,
    /// Connections refused because their source address held its share already.
    pub refused_per_source: AtomicU64,
    /// Connections closed for a protocol error or a limit.
    pub closed_on_error: AtomicU64,
    /// Connections closed for a timeout (of any kind).
    pub timed_out: AtomicU64,
    /// Of those, connections that did not send their whole first frame in time.
    pub handshake_timeouts: AtomicU64,
    /// Of those, connections that did not take a reply in time.
    pub write_timeouts: AtomicU64,
    /// RAP listings and other requests answered (frames sent).
    pub frames_sent: AtomicU64,
}

/// A copy of the counters for JSON (a counter a daemon does not send reads as 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SessionCountersSnapshot {
    /// Connections accepted.
    pub accepted: u64,
    /// Connections refused because too many were open.
    pub refused_busy: u64,
    /// Connections refused because their source address held its share already.
    pub refused_per_source: u64,
    /// Connections closed for a protocol error or a limit.
    pub closed_on_error: u64,
    /// Connections closed for a timeout (of any kind).
    pub timed_out: u64,
    /// Of those, connections that did not send their whole first frame in time.
    pub handshake_timeouts: u64,
    /// Of those, connections that did not take a reply in time.
    pub write_timeouts: u64,
    /// Frames sent.
    pub frames_sent: u64,
}

impl SessionCounters {
    /// The counters' current values.
    pub fn snapshot(&self) -> SessionCountersSnapshot {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        SessionCountersSnapshot {
            accepted: g(&self.accepted),
            refused_busy: g(&self.refused_busy),
            refused_per_source: g(&self.refused_per_source),
            closed_on_error: g(&self.closed_on_error),
            timed_out: g(&self.timed_out),
            handshake_timeouts: g(&self.handshake_timeouts),
            write_timeouts: g(&self.write_timeouts),
            frames_sent: g(&self.frames_sent),
        }
    }
}

/// Everything a listener shares with its connections.
#[derive(Debug, Clone)]
pub struct SessionService {
    /// Limits.
    pub limits: SessionLimits,
    /// Where the listing comes from.
    pub snapshots: Snapshots,
    /// Counters.
    pub counters: Arc<SessionCounters>,
    /// Connection slots, shared by all addresses.
    pub slots: Arc<Semaphore>,
    /// Connections open from each source address, shared by all addresses we listen on.
    sources: Arc<Mutex<HashMap<IpAddr, usize>>>,
    /// The warnings folded to one a minute, one for each kind.
    warnings: Arc<Warnings>,
    /// Clients already told of at info level (only NT LM 0.12 is served, or SMB2 is not), up
    /// to [`MAX_TOLD`]: once each, so that a client retrying cannot fill the log.
    told: Arc<Mutex<HashSet<(IpAddr, Notice)>>>,
}

/// What a client is told of at info level, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Notice {
    /// It offers only dialects older than NT LM 0.12.
    OldDialects,
    /// It speaks SMB2 or later only.
    Smb2Only,
}

/// Most clients remembered as told of (see [`SessionService`]); later ones log at debug only.
const MAX_TOLD: usize = 256;

/// A warning logged at most once every [`WARN_EVERY`]; the events in between are counted.
#[derive(Debug, Default)]
struct Folded(Mutex<FoldState>);

#[derive(Debug, Default)]
struct FoldState {
    last: Option<Instant>,
    since: u64,
}

impl Folded {
    /// Whether to warn of an event at `now`: `Some(n)` with the `n` events not warned of
    /// since the last warning, or `None` when this one is only counted.
    fn due(&self, now: Instant) -> Option<u64> {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if s.last.is_some_and(|t| now.duration_since(t) < WARN_EVERY) {
            s.since += 1;
            return None;
        }
        s.last = Some(now);
        Some(std::mem::take(&mut s.since))
    }
}

/// The session service's folded warnings.
#[derive(Debug, Default)]
struct Warnings {
    per_source: Folded,
    handshake: Folded,
    write: Folded,
}

/// ` (and N more since the last report)` for a folded warning, or nothing.
fn more(n: u64) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(" (and {n} more since the last report)")
    }
}

/// A connection's share of its source address's allowance, given back on drop.
struct SourceSlot {
    sources: Arc<Mutex<HashMap<IpAddr, usize>>>,
    ip: IpAddr,
}

impl Drop for SourceSlot {
    fn drop(&mut self) {
        let mut open = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

impl SessionService {
    /// A service with these limits, listing from `snapshots`.
    pub fn new(limits: SessionLimits, snapshots: Snapshots) -> Self {
        let slots = Arc::new(Semaphore::new(limits.max_connections));
        SessionService {
            limits,
            snapshots,
            counters: Arc::new(SessionCounters::default()),
            slots,
            sources: Arc::default(),
            warnings: Arc::default(),
            told: Arc::default(),
        }
    }

    /// A slot for one more connection from `ip`, unless it holds its share already.
    fn source_slot(&self, ip: IpAddr) -> Option<SourceSlot> {
        let mut open = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(ip).or_insert(0);
        if *n >= self.limits.max_connections_per_source {
            return None;
        }
        *n += 1;
        Some(SourceSlot {
            sources: self.sources.clone(),
            ip,
        })
    }

    /// Accepts connections on `listener` (bound to our address `local`) until the task is
    /// dropped.
    pub async fn serve(self, listener: TcpListener, local: Ipv4Addr) {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(x) => x,
                Err(e) => {
                    debug!(error = %e, "session service: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Some(source_slot) = self.source_slot(peer.ip()) else {
                self.counters
                    .refused_per_source
                    .fetch_add(1, Ordering::Relaxed);
                let cap = self.limits.max_connections_per_source;
                let source = peer.ip();
                debug!(%peer, "session service: {source} holds {cap} connections already; closed");
                if let Some(n) = self.warnings.per_source.due(Instant::now()) {
                    warn!(
                        %source,
                        "{source} holds {cap} session connections already \
                         (session.max_connections_per_source); refused another{}",
                        more(n)
                    );
                }
                drop(stream);
                continue;
            };
            let Ok(permit) = self.slots.clone().try_acquire_owned() else {
                self.counters.refused_busy.fetch_add(1, Ordering::Relaxed);
                debug!(%peer, "session service: too many connections; closed");
                drop(stream);
                continue;
            };
            self.counters.accepted.fetch_add(1, Ordering::Relaxed);
            let svc = self.clone();
            tokio::spawn(async move {
                let outcome = svc.connection(stream, local).await;
                svc.report(peer, &outcome);
                drop(permit);
                drop(source_slot);
            });
        }
    }

    /// Counts and logs how a connection ended.
    fn report(&self, peer: SocketAddr, outcome: &Outcome) {
        let source = peer.ip();
        match outcome {
            Outcome::Closed(None) => {}
            Outcome::Closed(Some(r)) => {
                self.counters
                    .closed_on_error
                    .fetch_add(1, Ordering::Relaxed);
                if *r == CloseReason::Smb2 && self.first_time(source, Notice::Smb2Only) {
                    info!(
                        %peer,
                        "{source} speaks SMB2 or later only; nbtd lists over SMB1 (the files \
                         are served on port 445)"
                    );
                } else if *r == CloseReason::NoCommonDialect
                    && self.first_time(source, Notice::OldDialects)
                {
                    info!(
                        %peer,
                        "{source} offers only dialects older than NT LM 0.12 (a LAN Manager \
                         client: DOS, OS/2 or Windows for Workgroups); nbtd lists shares \
                         and servers over NT LM 0.12 only, so this client cannot list \
                         through it"
                    );
                } else {
                    debug!(%peer, reason = %r, "session closed");
                }
            }
            Outcome::ReplyTooLong(len) => {
                self.counters
                    .closed_on_error
                    .fetch_add(1, Ordering::Relaxed);
                debug!(
                    %peer, len,
                    "session closed: a reply of {len} bytes is over the {MAX_QUEUED_BYTES} \
                     nbtd holds for one connection"
                );
            }
            Outcome::TimedOut => {
                self.counters.timed_out.fetch_add(1, Ordering::Relaxed);
                debug!(%peer, "session timed out");
            }
            Outcome::HandshakeTimedOut => {
                self.counters.timed_out.fetch_add(1, Ordering::Relaxed);
                self.counters
                    .handshake_timeouts
                    .fetch_add(1, Ordering::Relaxed);
                let secs = self.limits.handshake_timeout.as_secs_f64();
                debug!(%peer, "session closed: no whole session request within {secs} s");
                if let Some(n) = self.warnings.handshake.due(Instant::now()) {
                    warn!(
                        %source,
                        "{source} did not send a whole session request within {secs} s \
                         (session.handshake_timeout_secs); closed the connection{}",
                        more(n)
                    );
                }
            }
            Outcome::WriteTimedOut => {
                self.counters.timed_out.fetch_add(1, Ordering::Relaxed);
                self.counters.write_timeouts.fetch_add(1, Ordering::Relaxed);
                let secs = self.limits.write_timeout.as_secs_f64();
                debug!(%peer, "session closed: the client took no reply within {secs} s");
                if let Some(n) = self.warnings.write.due(Instant::now()) {
                    warn!(
                        %source,
                        "{source} did not read a reply within {secs} s \
                         (session.write_timeout_secs); closed the connection{}",
                        more(n)
                    );
                }
            }
            Outcome::Io(e) => debug!(%peer, error = %e, "session I/O error"),
        }
    }

    /// Whether `ip` is to be told `notice` at info level: the first time, while room remains.
    fn first_time(&self, ip: IpAddr, notice: Notice) -> bool {
        let mut told = self.told.lock().unwrap_or_else(|e| e.into_inner());
        told.len() < MAX_TOLD && told.insert((ip, notice))
    }

    async fn connection(&self, mut stream: TcpStream, local: Ipv4Addr) -> Outcome {
        let accepted = tokio::time::Instant::now();
        let _ = stream.set_nodelay(true);
        let _ = socket2::SockRef::from(&stream).set_send_buffer_size(SEND_BUFFER);
        let config = SessionConfig {
            max_frame_len: self.limits.max_frame_len,
            ..SessionConfig::default()
        };
        let conn = Connection {
            local_addr: local,
            system_time: filetime(SystemTime::now()),
            time_zone: crate::sys::time_zone(SystemTime::now()),
        };
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos() as u64
            ^ u64::from(std::process::id());
        let mut server = SmbListingServer::new(config, conn, Rng::new(seed));
        // One deadline covers the whole of each frame, header and body: the first from the
        // accept, the others from the last reply.
        let mut deadline = accepted + self.limits.handshake_timeout;
        let mut first = true;
        let timed_out = |first: bool| {
            if first {
                Outcome::HandshakeTimedOut
            } else {
                Outcome::TimedOut
            }
        };
        loop {
            let mut header = [0u8; 4];
            match tokio::time::timeout_at(deadline, stream.read_exact(&mut header)).await {
                Err(_) => return timed_out(first),
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Outcome::Closed(None);
                }
                Ok(Err(e)) => return Outcome::Io(e),
                Ok(Ok(_)) => {}
            }
            let len = match server.check_header(&header) {
                Ok(len) => len,
                Err(r) => return Outcome::Closed(Some(r)),
            };
            let mut frame = vec![0u8; len];
            frame[..4].copy_from_slice(&header);
            match tokio::time::timeout_at(deadline, stream.read_exact(&mut frame[4..])).await {
                Err(_) => return timed_out(first),
                Ok(Err(e)) => return Outcome::Io(e),
                Ok(Ok(_)) => {}
            }
            let Some(snapshot) = self.snapshots.get().await else {
                return Outcome::Closed(None);
            };
            let source = BrowseListing {
                local: &snapshot.local,
                list: snapshot.lists.get(&local),
            };
            let now = SystemTime::now();
            server.set_clock(filetime(now), crate::sys::time_zone(now));
            let mut reply = server.handle_frame(&frame, &source);
            drop(snapshot);
            drop(frame);
            // Hold at most MAX_QUEUED_BYTES of it: cut the rest, and close after what is kept.
            let total: usize = reply.frames.iter().map(Vec::len).sum();
            let mut too_long = None;
            if total > MAX_QUEUED_BYTES {
                let mut kept = 0;
                reply.frames.retain(|f| {
                    kept += f.len();
                    kept <= MAX_QUEUED_BYTES
                });
                reply.frames.shrink_to_fit();
                too_long = Some(total);
            }
            let write = async {
                for f in std::mem::take(&mut reply.frames) {
                    stream.write_all(&f).await?;
                    self.counters.frames_sent.fetch_add(1, Ordering::Relaxed);
                }
                Ok::<_, std::io::Error>(())
            };
            match tokio::time::timeout(self.limits.write_timeout, write).await {
                Err(_) => {
                    // Reset rather than close: the unread replies go at once, and the kernel
                    // does not keep the socket to deliver them.
                    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
                    return Outcome::WriteTimedOut;
                }
                Ok(Err(e)) => return Outcome::Io(e),
                Ok(Ok(())) => {}
            }
            if let Some(len) = too_long {
                let _ = stream.shutdown().await;
                return Outcome::ReplyTooLong(len);
            }
            if let Some(r) = reply.close {
                let _ = stream.shutdown().await;
                return Outcome::Closed(Some(r));
            }
            first = false;
            deadline = tokio::time::Instant::now() + self.limits.idle_timeout;
        }
    }
}

enum Outcome {
    Closed(Option<CloseReason>),
    /// A reply longer than [`MAX_QUEUED_BYTES`] (its length): the part that fit was sent.
    ReplyTooLong(usize),
    /// No whole frame within the idle timeout.
    TimedOut,
    /// No whole first frame within the handshake timeout.
    HandshakeTimedOut,
    /// A reply not taken within the write timeout.
    WriteTimedOut,
    Io(std::io::Error),
}

/// 100-nanosecond intervals since 1601-01-01, as SMB carries time.
pub fn filetime(t: SystemTime) -> u64 {
    const EPOCH_DIFF_SECS: u64 = 11_644_473_600;
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    (d.as_secs() + EPOCH_DIFF_SECS) * 10_000_000 + u64::from(d.subsec_nanos() / 100)
}

/// Binds TCP on `addr:port` for the session service.
pub async fn bind(addr: Ipv4Addr, port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind(SocketAddr::from((addr, port))).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use nbt_protocol::engine::session::Share;
    use nbt_protocol::name::NetbiosName;
    use nbt_protocol::wire::browse::{ServerName, ServerType};

    #[test]
    fn filetime_of_the_unix_epoch() {
        assert_eq!(filetime(UNIX_EPOCH), 116_444_736_000_000_000);
    }

    fn local() -> LocalServer {
        LocalServer {
            names: vec![NetbiosName::new("NBTD", 0x20).unwrap()],
            workgroup: ServerName::new("LABWG").unwrap(),
            name: ServerName::new("NBTD").unwrap(),
            server_type: ServerType::SERVER | ServerType::WORKSTATION,
            version: (6, 1),
            comment: b"test".to_vec(),
            shares: vec![Share {
                name: "pub".into(),
                share_type: 0,
                comment: "public".into(),
            }],
            workgroup_master: None,
        }
    }

    /// Serves the listing of [`local`] on a loopback port with `limits`; returns the address
    /// and the service's counters.
    async fn serve(limits: SessionLimits) -> (std::net::SocketAddr, Arc<SessionCounters>) {
        let (snapshots, mut requests) = Snapshots::channel();
        let snap = Arc::new(ListingSnapshot {
            local: local(),
            lists: BTreeMap::new(),
        });
        tokio::spawn(async move {
            while let Some(tx) = requests.recv().await {
                let _ = tx.send(snap.clone());
            }
        });
        let svc = SessionService::new(limits, snapshots);
        let counters = svc.counters.clone();
        let listener = bind(Ipv4Addr::LOCALHOST, 0).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(svc.serve(listener, Ipv4Addr::LOCALHOST));
        (addr, counters)
    }

    /// A SESSION REQUEST from CLIENT for NBTD, as bytes.
    fn session_request() -> Vec<u8> {
        use nbt_protocol::wire::Emit;
        nbt_protocol::wire::ssn::SessionPacket::SessionRequest(
            nbt_protocol::wire::ssn::SessionRequest {
                called_name: NetbiosName::new("NBTD", 0x20).unwrap().into(),
                calling_name: NetbiosName::new("CLIENT", 0).unwrap().into(),
                trailing: Vec::new(),
            },
        )
        .to_vec()
        .unwrap()
    }

    /// A client that connects and says nothing is closed after the handshake timeout; one that
    /// sends an oversize header is closed at once; the service keeps serving afterwards.
    #[tokio::test(flavor = "current_thread")]
    async fn limits_close_bad_clients_and_the_service_goes_on() {
        let (addr, counters) = serve(SessionLimits {
            max_connections: 2,
            handshake_timeout: Duration::from_millis(200),
            ..SessionLimits::default()
        })
        .await;

        let mut silent = TcpStream::connect(addr).await.unwrap();
        let mut buf = [0u8; 16];
        let n = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buf))
            .await
            .expect("closed by the server, not by our timeout")
            .unwrap_or(0);
        assert_eq!(n, 0, "closed without a word");

        let mut big = TcpStream::connect(addr).await.unwrap();
        big.write_all(&[0x00, 0x01, 0xFF, 0xFF]).await.unwrap();
        let n = tokio::time::timeout(Duration::from_secs(5), big.read(&mut buf))
            .await
            .unwrap()
            .unwrap_or(0);
        assert_eq!(n, 0);

        // A proper session request still gets its positive response.
        let mut ok = TcpStream::connect(addr).await.unwrap();
        ok.write_all(&session_request()).await.unwrap();
        let mut resp = [0u8; 4];
        tokio::time::timeout(Duration::from_secs(5), ok.read_exact(&mut resp))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp, [0x82, 0, 0, 0]);
        let c = counters.snapshot();
        assert_eq!(c.accepted, 3);
        assert!(c.timed_out >= 1 && c.closed_on_error >= 1, "{c:?}");
    }

    /// A client that asks for more echo than nbtd holds for one connection gets the copies
    /// that fit in [`MAX_QUEUED_BYTES`] and a close, not all ten.
    #[tokio::test(flavor = "current_thread")]
    async fn a_reply_is_cut_at_the_queue_cap_and_the_connection_closed() {
        let (addr, counters) = serve(SessionLimits::default()).await;

        let message = |smb: &[u8]| {
            let n = smb.len();
            let mut f = vec![0x00, (n >> 16) as u8 & 1, (n >> 8) as u8, n as u8];
            f.extend_from_slice(smb);
            f
        };
        let header = |command: u8| {
            let mut h = vec![
                0xFF, b'S', b'M', b'B', command, 0, 0, 0, 0, 0x18, 0x01, 0x40,
            ];
            h.resize(32, 0);
            h
        };
        let mut out = session_request();
        let mut negotiate = header(0x72);
        let dialects = b"\x02NT LM 0.12\x00";
        negotiate.push(0);
        negotiate.extend_from_slice(&(dialects.len() as u16).to_le_bytes());
        negotiate.extend_from_slice(dialects);
        out.extend(message(&negotiate));
        // ECHO: ten copies of 16,000 bytes, 160 KB of replies.
        let mut echo = header(0x2B);
        echo.push(1);
        echo.extend_from_slice(&10u16.to_le_bytes());
        echo.extend_from_slice(&16_000u16.to_le_bytes());
        echo.resize(echo.len() + 16_000, b'e');
        out.extend(message(&echo));

        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(&out).await.unwrap();
        let mut got = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), c.read_to_end(&mut got))
            .await
            .expect("closed by the server after the cut reply")
            .unwrap();
        let mut echoes = 0;
        let mut at = 0;
        while at + 4 <= got.len() {
            let len = (usize::from(got[at + 1] & 1) << 16)
                | (usize::from(got[at + 2]) << 8)
                | usize::from(got[at + 3]);
            if got.get(at + 8) == Some(&0x2B) {
                echoes += 1;
            }
            at += 4 + len;
        }
        assert_eq!(at, got.len(), "whole frames only");
        let fit = MAX_QUEUED_BYTES / (4 + 32 + 1 + 2 + 2 + 16_000);
        assert_eq!(
            echoes, fit,
            "the copies that fit in {MAX_QUEUED_BYTES} bytes"
        );
        assert!(echoes < 10);
        assert_eq!(counters.snapshot().closed_on_error, 1);
    }
}
