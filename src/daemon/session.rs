//! The session service in the daemon: a TCP 139 listener per interface address, and the
//! listing the connections ask the main loop for.
//!
//! With `[session] enabled = "auto"` (the default) a taken port is left to whoever holds it
//! (typically Samba's smbd, which then lists shares itself) with one warning per address;
//! with `"yes"` it is an error; with `"no"` nothing listens.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use tracing::{info, warn};

use super::Daemon;
use crate::config::{SessionMode, Settings, ShareKind};
use crate::protocol::engine::IfaceId;
use crate::protocol::engine::browser::{OS_VERSION, Role};
use crate::protocol::engine::session::{LocalServer, Share};
use crate::protocol::name::suffix;
use crate::protocol::wire::browse::ServerName;
use crate::protocol::wire::rap::records::share_type;
use crate::session::{ListingSnapshot, SessionLimits, SessionService, Snapshots};

/// How long a listing built for a connection is reused.
const SNAPSHOT_TTL: Duration = Duration::from_secs(1);
/// How soon to look again at an expired listing that a connection still reads.
const RELEASE_RETRY: Duration = Duration::from_millis(100);

/// A listing kept for the connections of the next [`SNAPSHOT_TTL`].
struct CachedListing {
    built: Instant,
    snapshot: Arc<ListingSnapshot>,
    /// When to let it go (it copies the whole browse list: kept, it would double its memory).
    release_at: Instant,
}

/// Why TCP 139 could not be served on an address.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SessionBindError {
    /// The message for the user.
    pub message: String,
    /// The underlying error.
    pub kind: io::ErrorKind,
}

/// The session service's state in the daemon.
pub(super) struct SessionRuntime {
    service: SessionService,
    mode: SessionMode,
    port: u16,
    tasks: HashMap<IfaceId, JoinHandle<()>>,
    cache: Option<CachedListing>,
    warned: HashSet<Ipv4Addr>,
}

impl SessionRuntime {
    /// The runtime for these settings (none when the service is off), and the receiver of the
    /// connections' listing requests.
    pub(super) fn new(
        settings: &Settings,
    ) -> (
        Option<SessionRuntime>,
        tokio::sync::mpsc::Receiver<crate::session::SnapshotRequest>,
    ) {
        let (snapshots, rx) = Snapshots::channel();
        if settings.session.enabled == SessionMode::No {
            return (None, rx);
        }
        let s = &settings.session;
        let limits = SessionLimits {
            max_connections: s.max_connections,
            max_connections_per_source: s.max_connections_per_source,
            handshake_timeout: Duration::from_secs(s.handshake_timeout_secs),
            idle_timeout: Duration::from_secs(s.idle_timeout_secs),
            write_timeout: Duration::from_secs(s.write_timeout_secs),
            max_frame_len: s.max_frame_len,
        };
        (
            Some(SessionRuntime {
                service: SessionService::new(limits, snapshots),
                mode: s.enabled,
                port: settings.ports.session,
                tasks: HashMap::new(),
                cache: None,
                warned: HashSet::new(),
            }),
            rx,
        )
    }

    /// The counters, for the control socket.
    pub(super) fn counters(&self) -> crate::session::SessionCountersSnapshot {
        self.service.counters.snapshot()
    }

    /// Addresses served.
    pub(super) fn serving(&self) -> usize {
        self.tasks.len()
    }
}

fn bind_message(addr: Ipv4Addr, port: u16, e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::AddrInUse => format!(
            "TCP {port} on {addr} is in use, probably by Samba's smbd, which then lists the \
             shares itself: leave it so, or stop smbd's NetBIOS port (smb ports = 445), or set \
             [session] enabled = \"no\" to silence this"
        ),
        io::ErrorKind::PermissionDenied => format!(
            "cannot listen on TCP {port} on {addr}: ports below 1024 need root or \
             CAP_NET_BIND_SERVICE"
        ),
        _ => format!("cannot listen on TCP {port} on {addr}: {e}"),
    }
}

fn listen(addr: Ipv4Addr, port: u16) -> io::Result<tokio::net::TcpListener> {
    let s = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    // A restarted daemon must not wait for old connections' TIME_WAIT; this does not let it
    // share the port with a live listener.
    s.set_reuse_address(true)?;
    s.set_nonblocking(true)?;
    s.bind(&SocketAddr::from((addr, port)).into())?;
    s.listen(128)?;
    tokio::net::TcpListener::from_std(s.into())
}

impl Daemon {
    /// Starts listening on TCP 139 at `addr`. A failure is returned only when
    /// `enabled = "yes"`; otherwise it is logged once per address.
    pub(super) fn open_session(
        &mut self,
        id: IfaceId,
        addr: Ipv4Addr,
    ) -> Result<(), SessionBindError> {
        let Some(rt) = self.session.as_mut() else {
            return Ok(());
        };
        if rt.tasks.contains_key(&id) {
            return Ok(());
        }
        match listen(addr, rt.port) {
            Ok(l) => {
                let task = tokio::spawn(rt.service.clone().serve(l, addr));
                rt.tasks.insert(id, task);
                rt.warned.remove(&addr);
                info!(address = %addr, port = rt.port, "serving the session service (TCP)");
                Ok(())
            }
            Err(e) => {
                let message = bind_message(addr, rt.port, &e);
                if rt.mode == SessionMode::Yes {
                    return Err(SessionBindError {
                        message,
                        kind: e.kind(),
                    });
                }
                if rt.warned.insert(addr) {
                    warn!("{message}");
                }
                Ok(())
            }
        }
    }

    /// Drops the cached listing, so that the next connection sees new settings.
    pub(super) fn forget_listing(&mut self) {
        if let Some(rt) = self.session.as_mut() {
            rt.cache = None;
        }
    }

    /// Stops listening on an address (its open connections finish on their own).
    pub(super) fn close_session(&mut self, id: IfaceId) {
        if let Some(t) = self.session.as_mut().and_then(|rt| rt.tasks.remove(&id)) {
            t.abort();
        }
    }

    /// The listing for a connection: built at most once a second.
    pub(super) fn listing_snapshot(&mut self) -> Arc<ListingSnapshot> {
        let now = Instant::now();
        if let Some(c) = self.session.as_ref().and_then(|rt| rt.cache.as_ref()) {
            if now.duration_since(c.built) < SNAPSHOT_TTL {
                return c.snapshot.clone();
            }
        }
        let snapshot = Arc::new(self.build_listing());
        if let Some(rt) = self.session.as_mut() {
            rt.cache = Some(CachedListing {
                built: now,
                snapshot: snapshot.clone(),
                release_at: now + SNAPSHOT_TTL,
            });
        }
        snapshot
    }

    /// When the cached listing is to be let go, if one is kept.
    pub(super) fn listing_release_at(&self) -> Option<Instant> {
        self.session.as_ref()?.cache.as_ref().map(|c| c.release_at)
    }

    /// Lets the cached listing go once no connection reads it any more, and hands the memory
    /// of that copy of the browse list back to the kernel. While a connection still reads it,
    /// looks again shortly.
    pub(super) fn release_listing(&mut self, now: Instant) {
        let Some(rt) = self.session.as_mut() else {
            return;
        };
        let Some(c) = rt.cache.take() else {
            return;
        };
        if c.release_at > now {
            rt.cache = Some(c);
            return;
        }
        match Arc::try_unwrap(c.snapshot) {
            Ok(snapshot) => {
                drop(snapshot);
                crate::sys::trim_heap();
            }
            Err(snapshot) => {
                rt.cache = Some(CachedListing {
                    snapshot,
                    release_at: now + RELEASE_RETRY,
                    ..c
                });
            }
        }
    }

    fn build_listing(&self) -> ListingSnapshot {
        let s = &self.settings;
        let browser = self.node.browser();
        let first = self.ifaces.served().next().map(|x| x.id);
        let role = first
            .and_then(|id| browser.role(id))
            .unwrap_or(Role::NonBrowser);
        let name = ServerName::from_netbios_name(&s.netbios_name).unwrap_or_default();
        let workgroup_master = first.and_then(|id| {
            if browser.role(id) == Some(Role::Master) {
                Some(name)
            } else {
                browser.master(id).and_then(|m| m.0)
            }
        });
        let local = LocalServer {
            names: std::iter::once(&s.netbios_name)
                .chain(&s.aliases)
                .map(|n| n.with_suffix(suffix::SERVER))
                .collect(),
            workgroup: ServerName::from_netbios_name(&s.workgroup).unwrap_or_default(),
            name,
            server_type: browser.server_type(role),
            version: OS_VERSION,
            comment: s.browser.comment.as_bytes().to_vec(),
            shares: s
                .shares
                .iter()
                .map(|sh| Share {
                    name: sh.name.clone(),
                    share_type: match sh.kind {
                        ShareKind::Disk => share_type::DISKTREE,
                        ShareKind::Printer => share_type::PRINTQ,
                        ShareKind::Device => share_type::DEVICE,
                        ShareKind::Ipc => share_type::IPC,
                    },
                    comment: sh.comment.clone(),
                })
                .collect(),
            workgroup_master,
        };
        let lists: BTreeMap<Ipv4Addr, _> = self
            .ifaces
            .served()
            .filter_map(|x| browser.list(x.id).map(|l| (x.iface.addr, l.clone())))
            .collect();
        ListingSnapshot { local, lists }
    }
}
