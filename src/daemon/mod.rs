//! The daemon: the tokio driver around the protocol engines ([`Node`]: the name service and the
//! browser).
//!
//! One current-thread runtime. A receive task per socket (UDP 137 and 138, unicast and
//! broadcast) feeds a bounded queue (a full queue drops and counts); the main loop owns the
//! [`Node`], hands it each datagram and each due timeout, sends what it queues from the socket of
//! the service and interface concerned, and logs its events. It re-scans the interfaces
//! periodically, keeps the browse list on disk, answers the control socket, and on SIGTERM or
//! SIGINT says goodbye (a last announcement, a forced election if it is the master, the release
//! of every name), saves the browse list and stops.

mod browse;
mod copy;
mod error;
mod fastpath;
mod history;
mod ifaces;
mod mmsg;
mod netlink;
mod persist;
mod poisoners;
mod reload;
mod report;
mod rescan;
mod session;

use std::collections::{BTreeMap, HashSet};
use std::io::{self, Read};
use std::net::{SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tracing::{debug, error, info, trace, warn};

use crate::config::Settings;
use crate::control::{ControlCall, ControlError, ControlListener, DatagramServiceCounters};
use crate::exit;
use crate::iface::{self, Interface, SkipReason};
use crate::protocol::engine::answers::AnswerTable;
use crate::protocol::engine::browser::BrowserConfig;
use crate::protocol::engine::browser::BrowserEvent;
use crate::protocol::engine::browser::list::BrowseLimits;
use crate::protocol::engine::limit::RateLimit;
use crate::protocol::engine::names::{Disposition, NameConfig};
use crate::protocol::engine::node::{Event, Node};
use crate::protocol::engine::{IfaceAddr, IfaceId, Rng, Service, Transmit};
use crate::sockets::BindError;
use ifaces::{Inbound, Interfaces, Key, SendSocket, Shared, UdpPorts, Via};
use persist::{Persist, SaveResult};
use report::Summary;
use session::{SessionBindError, SessionRuntime};

pub use error::DaemonError;
pub use reload::{LogFilterSetter, Operations};

/// Datagrams queued between the receive tasks and the main loop, per service; past it they are
/// dropped.
const INBOUND_QUEUE: usize = 1024;
/// Datagrams handled before the loop sends what they caused.
const BATCH: usize = 64;
/// How long a send waits for room in a full socket buffer before it counts as failed.
const SEND_WAIT: Duration = Duration::from_millis(50);
/// How long after a reported interface change the interfaces are rescanned, so that a burst
/// of changes (an interface coming up with its addresses) makes one rescan.
const RESCAN_DEBOUNCE: Duration = Duration::from_millis(300);
/// How often the dropped-input summary may be logged.
const SUMMARY_INTERVAL: Duration = Duration::from_secs(60);
/// What the browser says of a datagram from outside the interface's subnet.
const OFF_SUBNET: &str = "source outside the interface's subnet";

/// How long the main loop waits before firing a timer that did not move on.
const STUCK_TIMER_PAUSE: Duration = Duration::from_millis(50);

/// Creates the state directory (and its parents) with mode 0700, so that no other user reads
/// or plants files there. One that exists and others may write is kept, with a warning.
fn make_state_dir(dir: &std::path::Path) -> Result<(), DaemonError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let err = |source| DaemonError::StateDir {
        path: dir.to_owned(),
        source,
    };
    // The parents as any directory, so that the user nbtd becomes can reach the last one.
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    match std::fs::DirBuilder::new().mode(STATE_DIR_MODE).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => {}
        Err(e) => return Err(err(e)),
    }
    let mode = std::fs::metadata(dir).map_err(err)?.permissions().mode();
    if mode & 0o022 != 0 {
        warn!(
            dir = %dir.display(),
            "the state directory {} may be written by other users (mode {:o}): chmod 0700 it, \
             or set state_dir to a directory of nbtd's own",
            dir.display(),
            mode & 0o7777
        );
    }
    Ok(())
}

/// The mode of the state directory nbtd creates.
const STATE_DIR_MODE: u32 = 0o700;

/// Runs the daemon until SIGTERM or SIGINT. Call it inside a tokio runtime (a current-thread
/// one is enough). Returns once the names are released and the browse list is saved.
pub async fn run(settings: Settings) -> Result<(), DaemonError> {
    run_with(settings, Operations::default()).await
}

/// [`run`], reloading the configuration on SIGHUP as `ops` says. Started as root, it becomes
/// the configured user once every socket is bound (see [`crate::privileges`]); under a service
/// manager it reports readiness, reloads and the stop (see [`crate::notify`]).
pub async fn run_with(settings: Settings, ops: Operations) -> Result<(), DaemonError> {
    let mut sigterm = signal(SignalKind::terminate()).map_err(DaemonError::Signals)?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(DaemonError::Signals)?;
    let mut sighup = signal(SignalKind::hangup()).map_err(DaemonError::Signals)?;
    let notifier = crate::notify::Notifier::from_env();
    let privileges = crate::privileges::plan(settings.user.as_deref())?;
    let control_owner = crate::privileges::control_owner(settings.control_group.as_deref())?;
    let mut created = Vec::new();
    if !settings.state_dir.exists() {
        created.push(settings.state_dir.clone());
    }
    make_state_dir(&settings.state_dir)?;

    let (usable, skipped) = iface::scan(&settings.filter);
    for (name, reason) in &skipped {
        debug!(interface = %name, reason = reason.describe(), "not serving");
    }
    if usable.is_empty() {
        return Err(DaemonError::NoInterface {
            skipped,
            allow: settings.filter.allow.clone(),
        });
    }
    let shared = Arc::new(Shared::default());
    let (tx_name, mut inbound_name) = mpsc::channel(INBOUND_QUEUE);
    let (tx_datagram, mut inbound_datagram) = mpsc::channel(INBOUND_QUEUE);
    let ports = UdpPorts {
        name: settings.ports.name,
        datagram: settings.ports.datagram,
    };
    let mut ifaces = Interfaces::new(ports, tx_name, tx_datagram, shared.clone());
    for i in usable {
        ifaces.open(i)?;
    }
    // The control socket and a directory made for it stay root's: were they the user's,
    // another service running as that user (nobody, say) could use the socket or put its own
    // in its place.
    let control = ControlListener::bind(&settings.control_socket)?;
    if let Some(owner) = control_owner {
        crate::privileges::give_control_socket(
            &settings.control_socket,
            owner,
            crate::control::SOCKET_MODE,
        )
        .map_err(|source| crate::privileges::PrivilegeError::Chown {
            path: settings.control_socket.clone(),
            user: format!(
                "root:{}",
                settings.control_group.as_deref().unwrap_or("root")
            ),
            source,
        })?;
    }
    let (control_tx, mut control_rx) = mpsc::channel::<ControlCall>(16);
    let metrics = match settings.metrics_listen {
        Some(a) => Some(crate::metrics::MetricsListener::bind(a)?),
        None => None,
    };
    let metrics_task = metrics.map(|m| tokio::spawn(m.serve(control_tx.clone())));
    let control_task = tokio::spawn(control.serve(control_tx));
    let (save_tx, mut save_rx) = mpsc::channel::<SaveResult>(2);

    let now = Instant::now();
    let persist = Persist::load(&settings.state_dir, now);
    let (session, mut listing_requests) = SessionRuntime::new(&settings);
    let (copies, mut copied) = mpsc::channel(4);
    let mut d = Daemon {
        node: Node::new(
            name_config(&settings),
            browser_config(&settings),
            Rng::new(seed()),
        ),
        ifaces,
        shared,
        started: now,
        send_errors: 0,
        last_send_error: None,
        summary: Summary::default(),
        bind_failures: HashSet::new(),
        warned_empty: false,
        dgram: DatagramServiceCounters::default(),
        sent: [0; 2],
        history: history::History::default(),
        poisoners: poisoners::Poisoners::default(),
        reloads: crate::control::ReloadCounters::default(),
        persist,
        session,
        copies,
        status_sent: String::new(),
        status_dirty: false,
        settings,
    };
    let b = &d.settings.browser;
    info!(
        netbios_name = %d.settings.netbios_name.base_str(),
        workgroup = %d.settings.workgroup.base_str(),
        name_port = d.settings.ports.name,
        datagram_port = d.settings.ports.datagram,
        os_level = b.os_level,
        preferred_master = b.preferred_master,
        local_master = b.local_master,
        control_socket = %d.settings.control_socket.display(),
        "nbtd {} serving the NetBIOS name service and the browser",
        env!("CARGO_PKG_VERSION")
    );
    let addrs: Vec<_> = d.ifaces.served().map(|s| s.engine_addr()).collect();
    for a in addrs {
        d.log_serving(a.id, "serving");
        let (id, ip) = (a.id, a.addr);
        d.add_interface(now, a);
        d.open_session(id, ip)?;
    }
    if let Some(p) = &privileges {
        for path in &created {
            p.hand_over(path)?;
        }
        p.switch()?;
        p.check_state_dir(&d.settings.state_dir)?;
    }
    d.persist.settle(&d.node, d.ifaces.served().map(|s| s.id));
    d.flush().await;
    d.publish_answers();

    // Interfaces are rescanned when the kernel reports a change to links or addresses; only
    // where that cannot be watched, on the configured period. rescan_interval_secs = 0 scans
    // at start only.
    let mut watch = match d.settings.rescan_interval {
        Some(_) => match netlink::LinkWatch::open() {
            Ok(w) => Some(w),
            Err(e) => {
                warn!(error = %e, "cannot watch interface changes (netlink); rescanning them periodically");
                None
            }
        },
        None => None,
    };
    let mut period = d.settings.rescan_interval.filter(|_| watch.is_none());
    let mut watch_failed = false;
    let mut rescan_at: Option<tokio::time::Instant> = None;
    let mut rescan = tokio::time::interval_at(
        tokio::time::Instant::now() + d.settings.rescan_interval.unwrap_or(SUMMARY_INTERVAL),
        d.settings.rescan_interval.unwrap_or(SUMMARY_INTERVAL),
    );
    rescan.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Armed when there is something to summarise, so that an idle daemon sleeps.
    let mut summary_at: Option<tokio::time::Instant> = None;
    d.notify_ready(&notifier);

    let mut stuck_at: Option<Instant> = None;
    let mut warned_stuck = false;
    loop {
        let deadline = d.node.poll_timeout();
        let mut wake = deadline.map_or_else(
            || tokio::time::Instant::now() + Duration::from_secs(3600),
            tokio::time::Instant::from_std,
        );
        // An engine timer that handle_timeout left due would make this loop spin: wait a
        // little instead, and say so once (it is a bug).
        if let Some(t) = deadline.filter(|t| Some(*t) == stuck_at) {
            if !warned_stuck {
                warned_stuck = true;
                warn!(
                    "an engine timer did not move on after it fired; pacing the loop (a bug: please report it)"
                );
            }
            wake = wake.max(tokio::time::Instant::from_std(t) + STUCK_TIMER_PAUSE);
        }
        let save_due = d.persist.due();
        let save_at = save_due.map_or_else(
            || tokio::time::Instant::now() + Duration::from_secs(3600),
            tokio::time::Instant::from_std,
        );
        let listing_release = d.listing_release_at();
        tokio::select! {
            biased;
            _ = sigterm.recv() => {
                info!("SIGTERM: releasing names and stopping");
                break;
            }
            _ = sigint.recv() => {
                info!("SIGINT: releasing names and stopping");
                break;
            }
            _ = sighup.recv() => d.reload(&ops, &notifier).await,
            _ = tokio::time::sleep_until(wake), if deadline.is_some() => {
                let now = Instant::now();
                d.node.handle_timeout(now);
                stuck_at = d.node.poll_timeout().filter(|t| *t <= now);
            }
            Some(call) = control_rx.recv() => {
                d.count_fast_answers();
                let _ = call.reply.send(d.answer(call.request));
            }
            Some(req) = listing_requests.recv() => {
                let _ = req.send(d.listing_snapshot());
            }
            _ = tokio::time::sleep_until(listing_release.map_or_else(tokio::time::Instant::now, tokio::time::Instant::from_std)),
                if listing_release.is_some() => d.release_listing(Instant::now()),
            Some(c) = copied.recv() => d.finish_copy(c),
            _ = tokio::time::sleep_until(save_at), if save_due.is_some() => {
                let served = d.served_addrs();
                d.persist.start_save(Instant::now(), &d.node, &served, save_tx.clone());
            }
            Some(r) = save_rx.recv() => d.persist.finished(r),
            _ = rescan.tick(), if period.is_some() => d.rescan().await,
            r = async { watch.as_ref()?.changed().await.ok() }, if watch.is_some() && rescan_at.is_none() => {
                match r {
                    Some(()) => rescan_at = Some(tokio::time::Instant::now() + RESCAN_DEBOUNCE),
                    None => watch_failed = true,
                }
            }
            _ = tokio::time::sleep_until(rescan_at.unwrap_or_else(tokio::time::Instant::now)),
                if rescan_at.is_some() => {
                rescan_at = None;
                d.rescan().await;
            }
            _ = tokio::time::sleep_until(summary_at.unwrap_or_else(tokio::time::Instant::now)),
                if summary_at.is_some() => {
                summary_at = None;
                d.summarize();
            }
            // The name service first: a flood of datagrams cannot delay its answers. Datagrams
            // still move on under a flood of name-service packets.
            Some(m) = inbound_name.recv() => {
                d.on_inbound(m);
                drain(&mut d, &mut inbound_name, BATCH - 1);
                drain(&mut d, &mut inbound_datagram, BATCH / 4);
            }
            Some(m) = inbound_datagram.recv() => {
                d.on_inbound(m);
                drain(&mut d, &mut inbound_datagram, BATCH - 1);
            }
        }
        d.flush().await;
        d.persist.observe(&d.node, d.ifaces.served().map(|s| s.id));
        d.publish_answers();
        d.update_status(&notifier);
        if watch_failed {
            warn!("watching interface changes (netlink) failed; rescanning them periodically");
            (watch, watch_failed, period) = (None, false, d.settings.rescan_interval);
            rescan.reset();
        }
        if summary_at.is_none() && d.summary_pending() {
            summary_at = Some(tokio::time::Instant::now() + SUMMARY_INTERVAL);
        }
    }

    notifier.stopping();
    let releases_before = d.node.names().counters().sent;
    d.node.shutdown(Instant::now());
    // The fast path stops answering for the names being released.
    d.publish_answers();
    let sent = d.flush().await;
    let released = d.node.names().counters().sent - releases_before;
    let served = d.served_addrs();
    d.persist.save_at_exit(&d.node, &served, &mut save_rx).await;
    info!(
        releases = released,
        "stopped; sent {} ({} in all)",
        crate::plural::plural(released, "name release", "name releases"),
        crate::plural::plural(sent, "datagram", "datagrams")
    );
    control_task.abort();
    if let Some(t) = metrics_task {
        t.abort();
    }
    Ok(())
}

/// Hands the main loop up to `n` more datagrams already queued.
fn drain(d: &mut Daemon, queue: &mut mpsc::Receiver<Inbound>, n: usize) {
    for _ in 0..n {
        match queue.try_recv() {
            Ok(m) => d.on_inbound(m),
            Err(_) => break,
        }
    }
}

/// Sends on the blocking name-service socket without blocking: `MSG_DONTWAIT`, and while its
/// buffer is full, a few more tries within [`SEND_WAIT`].
async fn send_without_blocking(
    socket: &std::net::UdpSocket,
    payload: &[u8],
    dst: SocketAddrV4,
) -> io::Result<usize> {
    let to = socket2::SockAddr::from(dst);
    let s = socket2::SockRef::from(socket);
    let until = tokio::time::Instant::now() + SEND_WAIT;
    loop {
        match s.send_to_with_flags(payload, &to, libc::MSG_DONTWAIT) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if tokio::time::Instant::now() >= until {
                    return Err(io::Error::new(e.kind(), "socket send buffer full"));
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            r => return r,
        }
    }
}

/// The name engine's configuration from the daemon's.
fn name_config(s: &Settings) -> NameConfig {
    let mut c = NameConfig::new(s.netbios_name, s.workgroup);
    c.aliases = s.aliases.clone();
    c.port = s.ports.name;
    c.answer_remote_subnets = s.answer_remote_subnets;
    c.node_status_mac = s.node_status_mac;
    c.status_rate = RateLimit::per_second(s.status_rate_per_source);
    c.canary_interval = s.canary_interval;
    c.wins_servers = s.wins_servers.clone();
    c
}

/// The browser's configuration from the daemon's.
fn browser_config(s: &Settings) -> BrowserConfig {
    let b = &s.browser;
    let mut c = BrowserConfig::new(s.netbios_name, s.workgroup);
    c.comment = b.comment.as_bytes().to_vec();
    c.os_level = b.os_level;
    c.preferred_master = b.preferred_master;
    c.local_master = b.local_master;
    c.limits = BrowseLimits {
        max_servers_per_workgroup: b.max_servers_per_workgroup,
        max_workgroups: b.max_workgroups,
        max_servers_total: b.max_servers_total,
        max_servers_per_source: b.max_servers_per_source,
        max_workgroups_per_source: b.max_workgroups_per_source,
    };
    c.port = s.ports.datagram;
    c.master_probe_interval = Duration::from_millis(b.master_probe_interval_ms);
    c.honour_reset_state = b.honour_reset_state;
    c.response_rate = RateLimit::per_second(b.backup_list_rate_per_source);
    c.answer_remote_subnets = s.answer_remote_subnets;
    // Checked when the settings were resolved.
    c.remote_announce = crate::config::remote_announce_targets(b, s.workgroup).unwrap_or_default();
    c
}

/// 64 bits from the OS for the engine's generator (transaction IDs); the clock and PID if
/// `/dev/urandom` cannot be read.
fn seed() -> u64 {
    let mut b = [0u8; 8];
    match std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b)) {
        Ok(()) => u64::from_ne_bytes(b),
        Err(e) => {
            warn!(error = %e, "cannot read /dev/urandom; seeding from the clock");
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            (t.as_nanos() as u64) ^ (u64::from(std::process::id()) << 32)
        }
    }
}

struct Daemon {
    settings: Settings,
    node: Node,
    ifaces: Interfaces,
    shared: Arc<Shared>,
    started: Instant,
    send_errors: u64,
    last_send_error: Option<String>,
    summary: Summary,
    /// Addresses whose sockets failed to open at a rescan, reported once until they work.
    bind_failures: HashSet<Key>,
    warned_empty: bool,
    /// The datagram service's counters.
    dgram: DatagramServiceCounters,
    /// Datagrams sent by the name and the datagram service.
    sent: [u64; 2],
    /// The last elections and role changes on each interface address.
    history: history::History,
    /// NBT-NS poisoners the canary found.
    poisoners: poisoners::Poisoners,
    /// Configuration reloads.
    reloads: crate::control::ReloadCounters,
    /// The browse list on disk.
    persist: Persist,
    /// The session service on TCP 139, when on.
    session: Option<SessionRuntime>,
    /// Where backups' copies of the master's list come back.
    copies: mpsc::Sender<copy::Copied>,
    /// The status line last sent to the service manager.
    status_sent: String,
    /// Whether the status line may have changed since (a name event, a rescan).
    status_dirty: bool,
}

impl Daemon {
    fn on_inbound(&mut self, m: Inbound) {
        let now = Instant::now();
        match m.via {
            Via::Unicast(id) => self.handle(now, m.service, id, m.src, false, &m.data),
            Via::Broadcast(b) => {
                for id in self.ifaces.members(b).to_vec() {
                    self.handle(now, m.service, id, m.src, true, &m.data);
                }
            }
            Via::Limited(index) => {
                for id in self.ifaces.limited_members(index).to_vec() {
                    self.handle(now, m.service, id, m.src, true, &m.data);
                }
            }
        }
    }

    fn handle(
        &mut self,
        now: Instant,
        service: Service,
        id: IfaceId,
        src: SocketAddrV4,
        bcast: bool,
        data: &[u8],
    ) {
        let off_subnet = self.node.names().counters().off_subnet;
        let d = self
            .node
            .handle_datagram(now, service, id, src, bcast, data);
        let off_subnet = match service {
            Service::Name => self.node.names().counters().off_subnet > off_subnet,
            Service::Datagram => {
                self.dgram.received += 1;
                match &d {
                    Disposition::Handled => self.persist.touch(),
                    Disposition::Malformed(_) => self.dgram.malformed += 1,
                    Disposition::Ignored(reason) if *reason == OFF_SUBNET => {
                        self.dgram.off_subnet += 1
                    }
                    Disposition::Ignored(_) => {}
                }
                matches!(d, Disposition::Ignored(OFF_SUBNET))
            }
        };
        match d {
            Disposition::Handled => trace!(%src, ?service, "handled"),
            Disposition::Malformed(e) => {
                debug!(%src, ?service, error = %e, "malformed datagram dropped")
            }
            Disposition::Ignored(reason) if off_subnet => debug!(
                %src, ?service, reason,
                "off-subnet datagram dropped (answer_remote_subnets is off)"
            ),
            Disposition::Ignored(reason) => trace!(%src, ?service, reason, "ignored"),
        }
    }

    /// Sends every datagram the node queued and logs its events; returns how many were sent.
    async fn flush(&mut self) -> usize {
        let mut sent = 0;
        while let Some(t) = self.node.poll_transmit() {
            if self.send(t).await {
                sent += 1;
            }
        }
        while let Some(e) = self.node.poll_event() {
            if let Event::Browser(BrowserEvent::CopyListFromMaster { iface, master }) = &e {
                self.start_copy(*iface, *master, self.copies.clone());
            }
            self.log_event(e);
        }
        sent
    }

    /// Sends one datagram from the unicast socket of its service and interface address.
    async fn send(&mut self, t: Transmit) -> bool {
        let socket = self.ifaces.get(t.iface).map(|s| s.socket(t.service));
        let Some(socket) = socket else {
            self.send_failed(t.dst, "the interface address is no longer served".into());
            return false;
        };
        let dst = SocketAddr::V4(t.dst);
        let r = match socket {
            SendSocket::Name(s) => send_without_blocking(&s, &t.payload, t.dst).await,
            SendSocket::Datagram(s) => match s.try_send_to(&t.payload, dst) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    match tokio::time::timeout(SEND_WAIT, s.send_to(&t.payload, dst)).await {
                        Ok(r) => r,
                        Err(_) => Err(io::Error::new(e.kind(), "socket send buffer full")),
                    }
                }
                r => r,
            },
        };
        match r {
            Ok(_) => {
                self.sent[usize::from(t.service == Service::Datagram)] += 1;
                true
            }
            Err(e) => {
                self.send_failed(t.dst, e.to_string());
                false
            }
        }
    }

    /// Rebuilds the fast path's answers when the name engine's state behind them changed.
    fn publish_answers(&self) {
        let generation = self.node.names().answers_generation();
        for s in self.ifaces.served() {
            if s.answers().generation() != generation {
                let table = self
                    .node
                    .names()
                    .answer_table(s.id)
                    .unwrap_or_else(AnswerTable::empty);
                s.answers().publish(table, generation);
            }
        }
    }

    /// Adds what the fast path answered to the name engine's counters.
    fn count_fast_answers(&mut self) {
        let q = self.shared.fast_queries.swap(0, Ordering::Relaxed);
        let s = self.shared.fast_statuses.swap(0, Ordering::Relaxed);
        if q + s > 0 {
            self.node.count_fast_answers(q, s);
            // Queued by the fast path; those it failed to send are counted as send errors.
            self.sent[0] += q + s;
        }
        let limited = self.shared.fast_rate_limited.swap(0, Ordering::Relaxed);
        if limited > 0 {
            self.node.count_fast_rate_limited(limited);
        }
    }

    fn send_failed(&mut self, dst: SocketAddrV4, error: String) {
        self.send_errors += 1;
        debug!(%dst, %error, "send failed");
        self.last_send_error = Some(format!("to {dst}: {error}"));
    }

    /// The driver's counters.
    fn driver_counters(&self) -> crate::control::DriverCounters {
        crate::control::DriverCounters {
            dropped_queue_full: self.shared.dropped_queue_full.load(Ordering::Relaxed),
            send_errors: self.send_errors + self.shared.fast_send_errors.load(Ordering::Relaxed),
            receive_errors: self.shared.receive_errors.load(Ordering::Relaxed),
            sent_name: self.sent[0],
            sent_datagram: self.sent[1],
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::protocol::NetbiosName;
    use crate::protocol::engine::dgram::DatagramLayer;
    use crate::protocol::name::{Scope, ScopedName};
    use crate::protocol::wire::Emit;
    use crate::protocol::wire::browse::{
        Announcement, BrowserFrame, MAILSLOT_BROWSE, ServerName, ServerType,
    };

    fn iface(id: u32, a: [u8; 4]) -> IfaceAddr {
        IfaceAddr {
            id: IfaceId(id),
            addr: Ipv4Addr::from(a),
            netmask: Ipv4Addr::new(255, 255, 255, 0),
            broadcast: Ipv4Addr::new(a[0], a[1], a[2], 255),
            mac: [0; 6],
        }
    }

    /// The driver counts off-subnet datagrams by the browser's reason: it must stay the same.
    #[test]
    fn the_browser_drops_off_subnet_datagrams_with_the_reason_the_driver_counts() {
        let wg = NetbiosName::new("LABWG", 0).unwrap();
        let name = NetbiosName::new("ALPHA", 0).unwrap();
        let mut node = Node::new(
            NameConfig::new(name, wg),
            BrowserConfig::new(name, wg),
            Rng::new(1),
        );
        let now = Instant::now();
        node.add_interface(now, iface(1, [10, 0, 0, 1]));
        let frame = BrowserFrame::HostAnnouncement(Announcement::new(
            ServerName::new("FARAWAY").unwrap(),
            ServerType::SERVER,
            60_000,
            Vec::new(),
        ));
        let far = iface(9, [192, 168, 7, 5]);
        let t = DatagramLayer::new(138, Scope::none(), 1)
            .mailslot(
                &far,
                NetbiosName::new("FARAWAY", 0).unwrap(),
                ScopedName::unscoped(wg.with_suffix(0x1d)),
                None,
                MAILSLOT_BROWSE,
                frame.to_vec().unwrap(),
            )
            .unwrap();
        let src = SocketAddrV4::new(far.addr, 138);
        let d = node.handle_datagram(now, Service::Datagram, IfaceId(1), src, true, &t.payload);
        assert_eq!(d, Disposition::Ignored(OFF_SUBNET));
    }
}
