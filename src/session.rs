//! The session service on TCP 139: one task per connection drives the I/O-free
//! [`SmbListingServer`] with whole NBSS frames, under limits.
//!
//! - Connections beyond [`SessionLimits::max_connections`] are closed at once.
//! - The client must send its first frame within [`SessionLimits::handshake_timeout`] and then
//!   each frame within [`SessionLimits::idle_timeout`].
//! - A frame longer than [`SessionLimits::max_frame_len`] is refused before it is read.
//! - What the connection lists comes from the daemon's main loop, which owns the browse list:
//!   each frame asks it for a [`ListingSnapshot`] (the main loop caches one for a second), so
//!   nothing runs while no client is connected.

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nbt_protocol::engine::Rng;
use nbt_protocol::engine::browser::list::BrowseList;
use nbt_protocol::engine::session::{
    BrowseListing, CloseReason, Connection, LocalServer, SessionConfig, SmbListingServer,
};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tracing::{debug, info};

/// Limits of the session service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionLimits {
    /// Connections served at once, over all addresses.
    pub max_connections: usize,
    /// Time allowed for the first frame (the session request).
    pub handshake_timeout: Duration,
    /// Time allowed between frames afterwards.
    pub idle_timeout: Duration,
    /// Largest frame accepted, the 4-byte header included.
    pub max_frame_len: usize,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            max_connections: 64,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            max_frame_len: SessionConfig::default().max_frame_len,
        }
    }
}

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
    /// Connections closed for a protocol error or a limit.
    pub closed_on_error: AtomicU64,
    /// Connections closed for a timeout.
    pub timed_out: AtomicU64,
    /// RAP listings and other requests answered (frames sent).
    pub frames_sent: AtomicU64,
}

/// A copy of the counters for JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SessionCountersSnapshot {
    /// Connections accepted.
    pub accepted: u64,
    /// Connections refused because too many were open.
    pub refused_busy: u64,
    /// Connections closed for a protocol error or a limit.
    pub closed_on_error: u64,
    /// Connections closed for a timeout.
    pub timed_out: u64,
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
            closed_on_error: g(&self.closed_on_error),
            timed_out: g(&self.timed_out),
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

impl SessionService {
    /// A service with these limits, listing from `snapshots`.
    pub fn new(limits: SessionLimits, snapshots: Snapshots) -> Self {
        let slots = Arc::new(Semaphore::new(limits.max_connections));
        SessionService {
            limits,
            snapshots,
            counters: Arc::new(SessionCounters::default()),
            slots,
            told: Arc::default(),
        }
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
                match &outcome {
                    Outcome::Closed(None) => {}
                    Outcome::Closed(Some(r)) => {
                        svc.counters.closed_on_error.fetch_add(1, Ordering::Relaxed);
                        if *r == CloseReason::Smb2 && svc.first_time(peer.ip(), Notice::Smb2Only) {
                            info!(
                                %peer,
                                "{} speaks SMB2 or later only; nbtd lists over SMB1 (the files \
                                 are served on port 445)",
                                peer.ip()
                            );
                        } else if *r == CloseReason::NoCommonDialect
                            && svc.first_time(peer.ip(), Notice::OldDialects)
                        {
                            info!(
                                %peer,
                                "{} offers only dialects older than NT LM 0.12 (a LAN Manager \
                                 client: DOS, OS/2 or Windows for Workgroups); nbtd lists shares \
                                 and servers over NT LM 0.12 only, so this client cannot list \
                                 through it",
                                peer.ip()
                            );
                        } else {
                            debug!(%peer, reason = %r, "session closed");
                        }
                    }
                    Outcome::TimedOut => {
                        svc.counters.timed_out.fetch_add(1, Ordering::Relaxed);
                        debug!(%peer, "session timed out");
                    }
                    Outcome::Io(e) => debug!(%peer, error = %e, "session I/O error"),
                }
                drop(permit);
            });
        }
    }

    /// Whether `ip` is to be told `notice` at info level: the first time, while room remains.
    fn first_time(&self, ip: IpAddr, notice: Notice) -> bool {
        let mut told = self.told.lock().unwrap_or_else(|e| e.into_inner());
        told.len() < MAX_TOLD && told.insert((ip, notice))
    }

    async fn connection(&self, mut stream: TcpStream, local: Ipv4Addr) -> Outcome {
        let _ = stream.set_nodelay(true);
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
        let mut timeout = self.limits.handshake_timeout;
        loop {
            let mut header = [0u8; 4];
            match tokio::time::timeout(timeout, stream.read_exact(&mut header)).await {
                Err(_) => return Outcome::TimedOut,
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
            match tokio::time::timeout(self.limits.idle_timeout, stream.read_exact(&mut frame[4..]))
                .await
            {
                Err(_) => return Outcome::TimedOut,
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
            let reply = server.handle_frame(&frame, &source);
            drop(snapshot);
            for f in &reply.frames {
                if let Err(e) = stream.write_all(f).await {
                    return Outcome::Io(e);
                }
                self.counters.frames_sent.fetch_add(1, Ordering::Relaxed);
            }
            if let Some(r) = reply.close {
                let _ = stream.shutdown().await;
                return Outcome::Closed(Some(r));
            }
            timeout = self.limits.idle_timeout;
        }
    }
}

enum Outcome {
    Closed(Option<CloseReason>),
    TimedOut,
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

    /// A client that connects and says nothing is closed after the handshake timeout; one that
    /// sends an oversize header is closed at once; the service keeps serving afterwards.
    #[tokio::test(flavor = "current_thread")]
    async fn limits_close_bad_clients_and_the_service_goes_on() {
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
        let limits = SessionLimits {
            max_connections: 2,
            handshake_timeout: Duration::from_millis(200),
            ..SessionLimits::default()
        };
        let svc = SessionService::new(limits, snapshots);
        let counters = svc.counters.clone();
        let listener = bind(Ipv4Addr::LOCALHOST, 0).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(svc.serve(listener, Ipv4Addr::LOCALHOST));

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
        let req = nbt_protocol::wire::ssn::SessionPacket::SessionRequest(
            nbt_protocol::wire::ssn::SessionRequest {
                called_name: NetbiosName::new("NBTD", 0x20).unwrap().into(),
                calling_name: NetbiosName::new("CLIENT", 0).unwrap().into(),
                trailing: Vec::new(),
            },
        );
        use nbt_protocol::wire::Emit;
        ok.write_all(&req.to_vec().unwrap()).await.unwrap();
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
}
