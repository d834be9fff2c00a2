//! The daemon: the tokio driver around the name engine.
//!
//! One current-thread runtime. A receive task per socket feeds a bounded queue (a full queue
//! drops and counts); the main loop owns the [`NameEngine`], hands it each datagram and each
//! due timeout, sends what it queues from the address of the interface concerned, and logs its
//! events. It re-scans the interfaces periodically, answers the control socket, and on SIGTERM
//! or SIGINT releases its names and stops.

mod ifaces;
mod report;

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
use crate::control::{ControlError, ControlListener, StatusRequest};
use crate::exit;
use crate::iface::{self, Interface, SkipReason};
use crate::protocol::engine::names::{Disposition, NameConfig, NameEngine};
use crate::protocol::engine::{IfaceId, Rng, Transmit};
use crate::sockets::BindError;
use ifaces::{Inbound, Interfaces, Key, Shared, Via};
use report::Summary;

/// Datagrams queued between the receive tasks and the main loop; past it they are dropped.
const INBOUND_QUEUE: usize = 1024;
/// Datagrams handled before the loop sends what they caused.
const BATCH: usize = 64;
/// How long a send waits for room in a full socket buffer before it counts as failed.
const SEND_WAIT: Duration = Duration::from_millis(50);
/// How often the dropped-input summary may be logged.
const SUMMARY_INTERVAL: Duration = Duration::from_secs(60);

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The state directory could not be created.
    #[error(
        "cannot create the state directory {}: {source}; create it, or set state_dir / \
         --state-dir to a writable directory", path.display()
    )]
    StateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Every interface seen was skipped.
    #[error("{}", no_interface_message(.skipped, .allow))]
    NoInterface {
        /// Each interface seen, with why it was skipped.
        skipped: Vec<(String, SkipReason)>,
        /// The allow list in force.
        allow: Vec<String>,
    },
    /// A name service socket could not be bound.
    #[error(transparent)]
    Bind(#[from] BindError),
    /// The control socket could not be opened.
    #[error(transparent)]
    Control(#[from] ControlError),
    /// Signal handlers could not be installed.
    #[error("cannot set up signal handling: {0}")]
    Signals(io::Error),
}

impl DaemonError {
    /// The exit status for this failure (see [`crate::exit`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            DaemonError::NoInterface { .. } => exit::NO_INTERFACE,
            DaemonError::Bind(e) if e.is_in_use() => exit::PORT_IN_USE,
            DaemonError::Bind(e) if e.is_permission() => exit::PERMISSION,
            _ => exit::FAILURE,
        }
    }
}

fn no_interface_message(skipped: &[(String, SkipReason)], allow: &[String]) -> String {
    let mut m = String::from("no usable network interface: every interface seen was skipped\n");
    if skipped.is_empty() {
        m.push_str("  (no interface seen at all)\n");
    }
    for (name, reason) in skipped {
        m.push_str(&format!("  {name}: {}\n", reason.describe()));
    }
    for p in allow {
        if !skipped.iter().any(|(n, _)| iface::glob(p, n)) {
            m.push_str(&format!(
                "no interface matches {p:?} from the allow list (check the name with `ip -br addr`)\n"
            ));
        }
    }
    m.push_str(
        "to serve an interface, name it: --interfaces NAME on the command line, or \
         interfaces.allow = [\"NAME\"] in the configuration file; it must be up and have an \
         IPv4 address with a broadcast address",
    );
    m
}

/// Runs the daemon until SIGTERM or SIGINT. Call it inside a tokio runtime (a current-thread
/// one is enough). Returns once the names are released.
pub async fn run(settings: Settings) -> Result<(), DaemonError> {
    let mut sigterm = signal(SignalKind::terminate()).map_err(DaemonError::Signals)?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(DaemonError::Signals)?;
    std::fs::create_dir_all(&settings.state_dir).map_err(|source| DaemonError::StateDir {
        path: settings.state_dir.clone(),
        source,
    })?;

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
    let (tx, mut inbound) = mpsc::channel(INBOUND_QUEUE);
    let mut ifaces = Interfaces::new(settings.ports.name, tx, shared.clone());
    for i in usable {
        ifaces.open(i)?;
    }
    let control = ControlListener::bind(&settings.control_socket)?;
    let (control_tx, mut control_rx) = mpsc::channel::<StatusRequest>(16);
    let control_task = tokio::spawn(control.serve(control_tx));

    let now = Instant::now();
    let mut d = Daemon {
        engine: NameEngine::new(name_config(&settings), Rng::new(seed())),
        ifaces,
        shared,
        started: now,
        send_errors: 0,
        last_send_error: None,
        summary: Summary::default(),
        bind_failures: HashSet::new(),
        warned_empty: false,
        settings,
    };
    info!(
        netbios_name = %d.settings.netbios_name.base_str(),
        workgroup = %d.settings.workgroup.base_str(),
        port = d.settings.ports.name,
        control_socket = %d.settings.control_socket.display(),
        "nbtd {} serving the NetBIOS name service",
        env!("CARGO_PKG_VERSION")
    );
    let addrs: Vec<_> = d.ifaces.served().map(|s| s.engine_addr()).collect();
    for a in addrs {
        d.log_serving(a.id, "serving");
        d.engine.add_interface(now, a);
    }
    d.flush().await;

    let period = d.settings.rescan_interval;
    let mut rescan = tokio::time::interval_at(
        tokio::time::Instant::now() + period.unwrap_or(SUMMARY_INTERVAL),
        period.unwrap_or(SUMMARY_INTERVAL),
    );
    rescan.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut summary = tokio::time::interval_at(
        tokio::time::Instant::now() + SUMMARY_INTERVAL,
        SUMMARY_INTERVAL,
    );
    summary.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    loop {
        let deadline = d.engine.poll_timeout();
        let wake = deadline.map_or_else(
            || tokio::time::Instant::now() + Duration::from_secs(3600),
            tokio::time::Instant::from_std,
        );
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
            _ = tokio::time::sleep_until(wake), if deadline.is_some() => {
                d.engine.handle_timeout(Instant::now());
            }
            Some(reply) = control_rx.recv() => {
                let _ = reply.send(d.status());
            }
            _ = rescan.tick(), if period.is_some() => d.rescan().await,
            _ = summary.tick() => d.summarize(),
            Some(m) = inbound.recv() => {
                d.on_inbound(m);
                for _ in 1..BATCH {
                    match inbound.try_recv() {
                        Ok(m) => d.on_inbound(m),
                        Err(_) => break,
                    }
                }
            }
        }
        d.flush().await;
    }

    d.engine.shutdown(Instant::now());
    let released = d.flush().await;
    info!(
        releases = released,
        "stopped; sent {released} name releases"
    );
    control_task.abort();
    Ok(())
}

/// The engine's configuration from the daemon's.
fn name_config(s: &Settings) -> NameConfig {
    let mut c = NameConfig::new(s.netbios_name, s.workgroup);
    c.aliases = s.aliases.clone();
    c.port = s.ports.name;
    c.answer_remote_subnets = s.answer_remote_subnets;
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
    engine: NameEngine,
    ifaces: Interfaces,
    shared: Arc<Shared>,
    started: Instant,
    send_errors: u64,
    last_send_error: Option<String>,
    summary: Summary,
    /// Addresses whose sockets failed to open at a rescan, reported once until they work.
    bind_failures: HashSet<Key>,
    warned_empty: bool,
}

impl Daemon {
    fn on_inbound(&mut self, m: Inbound) {
        let now = Instant::now();
        match m.via {
            Via::Unicast(id) => self.handle(now, id, m.src, false, &m.data),
            Via::Broadcast(b) => {
                for id in self.ifaces.members(b).to_vec() {
                    self.handle(now, id, m.src, true, &m.data);
                }
            }
        }
    }

    fn handle(&mut self, now: Instant, id: IfaceId, src: SocketAddrV4, bcast: bool, data: &[u8]) {
        let off_subnet = self.engine.counters().off_subnet;
        match self.engine.handle_datagram(now, id, src, bcast, data) {
            Disposition::Handled => trace!(%src, "handled"),
            Disposition::Malformed(e) => debug!(%src, error = %e, "malformed datagram dropped"),
            Disposition::Ignored(reason) if self.engine.counters().off_subnet > off_subnet => {
                debug!(%src, reason, "off-subnet datagram dropped (answer_remote_subnets is off)")
            }
            Disposition::Ignored(reason) => trace!(%src, reason, "ignored"),
        }
    }

    /// Sends every datagram the engine queued and logs its events; returns how many were sent.
    async fn flush(&mut self) -> usize {
        let mut sent = 0;
        while let Some(t) = self.engine.poll_transmit() {
            if self.send(t).await {
                sent += 1;
            }
        }
        while let Some(e) = self.engine.poll_event() {
            self.log_event(e);
        }
        sent
    }

    /// Sends one datagram from the unicast socket of its interface address.
    async fn send(&mut self, t: Transmit) -> bool {
        let Some(socket) = self.ifaces.get(t.iface).map(|s| s.socket.clone()) else {
            self.send_failed(t.dst, "the interface address is no longer served".into());
            return false;
        };
        let dst = SocketAddr::V4(t.dst);
        let r = match socket.try_send_to(&t.payload, dst) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                match tokio::time::timeout(SEND_WAIT, socket.send_to(&t.payload, dst)).await {
                    Ok(r) => r,
                    Err(_) => Err(io::Error::new(e.kind(), "socket send buffer full")),
                }
            }
            r => r,
        };
        match r {
            Ok(_) => true,
            Err(e) => {
                self.send_failed(t.dst, e.to_string());
                false
            }
        }
    }

    fn send_failed(&mut self, dst: SocketAddrV4, error: String) {
        self.send_errors += 1;
        debug!(%dst, %error, "send failed");
        self.last_send_error = Some(format!("to {dst}: {error}"));
    }

    /// Logs a served address with a verb ("serving", "now serving").
    fn log_serving(&self, id: IfaceId, what: &str) {
        if let Some(s) = self.ifaces.get(id) {
            let i = &s.iface;
            info!(
                interface = %i.name,
                address = %i.addr,
                prefix = i.prefix,
                broadcast = %i.broadcast,
                "{what}"
            );
        }
    }

    /// Takes up added, changed and removed interface addresses.
    async fn rescan(&mut self) {
        let now = Instant::now();
        let (usable, _) = iface::scan(&self.settings.filter);
        let want: BTreeMap<Key, Interface> = usable
            .into_iter()
            .map(|i| ((i.name.clone(), i.addr), i))
            .collect();
        self.bind_failures.retain(|k| want.contains_key(k));
        let gone: Vec<IfaceId> = self
            .ifaces
            .served()
            .filter(|s| !want.contains_key(&(s.iface.name.clone(), s.iface.addr)))
            .map(|s| s.id)
            .collect();
        for &id in &gone {
            // The address is gone: releases could not be sent from it.
            self.engine.remove_interface(now, id, false);
            if let Some(s) = self.ifaces.close(id) {
                info!(
                    interface = %s.iface.name,
                    address = %s.iface.addr,
                    "no longer serving: the address is gone or the interface is down"
                );
            }
        }
        if !gone.is_empty() {
            // Let the aborted receive tasks drop their sockets before anything binds again.
            tokio::task::yield_now().await;
        }
        for (key, i) in want {
            let existing = self.ifaces.lookup(&key).map(|s| (s.id, s.iface == i));
            match existing {
                Some((_, true)) => {}
                Some((id, false)) => match self.ifaces.update(id, i) {
                    Ok(()) => {
                        if let Some(a) = self.ifaces.get(id).map(|s| s.engine_addr()) {
                            self.log_serving(id, "address changed; serving");
                            self.engine.add_interface(now, a);
                        }
                    }
                    Err(e) => {
                        self.engine.remove_interface(now, id, false);
                        self.ifaces.close(id);
                        error!("{e}; no longer serving {} {}", key.0, key.1);
                    }
                },
                None => match self.ifaces.open(i) {
                    Ok(id) => {
                        self.bind_failures.remove(&key);
                        if let Some(a) = self.ifaces.get(id).map(|s| s.engine_addr()) {
                            self.log_serving(id, "new address; serving");
                            self.engine.add_interface(now, a);
                        }
                    }
                    Err(e) => {
                        if self.bind_failures.insert(key) {
                            error!("{e}; nbtd tries again at the next interface scan");
                        } else {
                            debug!(error = %e, "still cannot open the sockets");
                        }
                    }
                },
            }
        }
        if self.ifaces.is_empty() {
            if !self.warned_empty {
                warn!("no usable interface left: nbtd answers nothing until one comes back");
                self.warned_empty = true;
            }
        } else {
            self.warned_empty = false;
        }
    }

    /// The driver's counters.
    fn driver_counters(&self) -> crate::control::DriverCounters {
        crate::control::DriverCounters {
            dropped_queue_full: self.shared.dropped_queue_full.load(Ordering::Relaxed),
            send_errors: self.send_errors,
            receive_errors: self.shared.receive_errors.load(Ordering::Relaxed),
        }
    }
}
