//! The control socket: a Unix socket speaking newline-delimited JSON, one request a line and one
//! response a line.
//!
//! ```text
//! → {"request":"status"}
//! ← {"response":"status","version":"0.1.0","pid":42,"netbios_name":"ALPHA",…}
//! → {"request":"browse_list","workgroup":"LABWG"}
//! ← {"response":"browse_list","workgroup":"LABWG","our_workgroup":"LABWG","interfaces":[…]}
//! → {"request":"reboot"}
//! ← {"response":"error","message":"cannot read the request: …"}
//! ```
//!
//! This module holds the message types, blocking clients ([`query_status`],
//! [`query_browse_list`]), the side the daemon runs ([`ControlListener`], in `server.rs`) and a
//! text rendering ([`render_status`], in `render.rs`) for `nbt daemon`.

mod accept;
mod operations;
mod render;
mod server;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::protocol::engine::browser::{BrowserCounters as EngineBrowserCounters, Role};
use crate::protocol::engine::names::wins::WinsState;
use crate::protocol::engine::names::{NameCounters, NameState};
pub(crate) use accept::{Activity, Limits, accept_loop};
pub use operations::{ElectionKind, ElectionRecord, ReloadCounters, WorkgroupSize};
pub use render::render_status;
pub use server::{ControlError, ControlListener};

/// The longest request line the daemon reads.
pub const MAX_REQUEST_LEN: usize = 64 * 1024;
/// The longest response line the client reads (and the daemon sends).
pub const MAX_RESPONSE_LEN: usize = 8 * 1024 * 1024;
/// How long the client waits for the daemon.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// The permissions of the socket: owner and group may connect.
pub const SOCKET_MODE: u32 = 0o660;

/// A request to the daemon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum Request {
    /// The daemon's names, interfaces and counters.
    Status,
    /// The browse list of a workgroup on every interface address.
    BrowseList {
        /// The workgroup (any case; `\xNN` for other bytes); the daemon's own when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        workgroup: Option<String>,
    },
}

/// The daemon's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "response", rename_all = "snake_case")]
pub enum Response {
    /// The answer to [`Request::Status`].
    Status(Box<DaemonStatus>),
    /// The answer to [`Request::BrowseList`].
    BrowseList(Box<BrowseListReply>),
    /// The request could not be served.
    Error {
        /// What went wrong.
        message: String,
    },
}

/// What `{"request":"status"}` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonStatus {
    /// The daemon's version.
    pub version: String,
    /// Its process ID.
    pub pid: u32,
    /// Its NetBIOS name.
    pub netbios_name: String,
    /// Its workgroup.
    pub workgroup: String,
    /// Its extra names.
    pub aliases: Vec<String>,
    /// Seconds since it started.
    pub uptime_secs: u64,
    /// The interface addresses served, each with its names.
    pub interfaces: Vec<InterfaceStatus>,
    /// The name service's counters.
    pub name_service: NameServiceCounters,
    /// The datagram service's counters.
    pub datagram_service: DatagramServiceCounters,
    /// The browser's counters.
    pub browser: BrowserCounters,
    /// The session service on TCP 139, when it is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionStatus>,
    /// The driver's own counters.
    pub driver: DriverCounters,
    /// Configuration reloads (SIGHUP).
    #[serde(default)]
    pub reloads: ReloadCounters,
    /// Where this host is announced beyond its subnets (`[browser] remote_announce`).
    #[serde(default, skip_serializing_if = "RemoteAnnounceStatus::is_off")]
    pub remote_announce: RemoteAnnounceStatus,
    /// The names with the WINS server (`wins_server`), when one is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wins: Option<WinsClientStatus>,
    /// NBT-NS poisoners the canary found (`canary_interval_secs`), newest last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub poisoners: Vec<PoisonerStatus>,
}

/// A host that answered a canary query no honest host answers: an NBT-NS poisoner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoisonerStatus {
    /// Its address.
    pub address: Ipv4Addr,
    /// Its MAC address (`aa:bb:cc:dd:ee:ff`), when the neighbour table knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// The name of its latest answer, as `NAME<xx>`.
    pub name: String,
    /// What that name was: "a name nobody registered", "our own unique name", ...
    pub what: String,
    /// Its answers to canary queries.
    pub answers: u64,
    /// When it first answered (Unix seconds).
    pub first_seen_unix: u64,
    /// When it last answered (Unix seconds).
    pub last_seen_unix: u64,
}

/// One of our names another host holds: nbtd does not use it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameConflict {
    /// `NAME<xx>`.
    pub name: String,
    /// The holder's address.
    pub owner: Ipv4Addr,
    /// The interface, and our address on it, where the holder answered.
    pub on: String,
}

impl DaemonStatus {
    /// Our names in conflict, on every interface address, in the order they are listed.
    pub fn name_conflicts(&self) -> Vec<NameConflict> {
        let mut out = Vec::new();
        for i in &self.interfaces {
            for n in &i.names {
                if let NameStatusState::Conflict { owner } = n.state {
                    out.push(NameConflict {
                        name: format!("{}<{:02x}>", n.name, n.suffix),
                        owner,
                        on: format!("{} {}", i.name, i.address),
                    });
                }
            }
        }
        out
    }
}

/// The WINS client: the server in use, the address registered there and each name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WinsClientStatus {
    /// The WINS server in use.
    pub server: Ipv4Addr,
    /// Every WINS server configured, in the order they are tried.
    pub servers: Vec<Ipv4Addr>,
    /// The interface address registered (none while no interface is served).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Ipv4Addr>,
    /// Each name.
    pub names: Vec<WinsNameStatus>,
}

/// One name with the WINS server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WinsNameStatus {
    /// The name without its suffix; bytes that are not printable are written `\xNN`.
    pub name: String,
    /// The suffix (name type).
    pub suffix: u8,
    /// Whether it is a group name.
    pub group: bool,
    /// Where it stands.
    #[serde(flatten)]
    pub state: WinsNameState,
    /// Seconds until the next step: a retry, a refresh or a new registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_in_secs: Option<u64>,
}

/// Where a name stands with the WINS server, as `"state": "registering" | "registered" |
/// "refused" | "no_answer"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum WinsNameState {
    /// Registration requests are going out.
    Registering,
    /// The server holds the name (also while a refresh is going out).
    Registered {
        /// The TTL it granted, in seconds (0: for ever).
        ttl: u32,
    },
    /// The server refused the name: another host holds it there.
    Refused {
        /// The RCODE's name (ACT_ERR, CFT_ERR, ...).
        rcode: String,
    },
    /// The server did not answer; registration starts again later.
    NoAnswer,
}

impl From<WinsState> for WinsNameState {
    fn from(s: WinsState) -> Self {
        match s {
            WinsState::Registering => WinsNameState::Registering,
            WinsState::Registered { ttl } | WinsState::Refreshing { ttl } => {
                WinsNameState::Registered { ttl }
            }
            WinsState::Refused { rcode } => WinsNameState::Refused {
                rcode: rcode.name().to_owned(),
            },
            WinsState::NoAnswer => WinsNameState::NoAnswer,
        }
    }
}

/// The remote announcements: where they go, and when next.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteAnnounceStatus {
    /// Each address with the workgroup announced in there.
    pub targets: Vec<RemoteTarget>,
    /// Seconds until the next announcements (none while no interface address is served).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_in_secs: Option<u64>,
}

impl RemoteAnnounceStatus {
    /// Whether none are configured.
    pub fn is_off(&self) -> bool {
        self.targets.is_empty()
    }
}

/// One address the host is announced to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteTarget {
    /// The address (a browser, or a subnet's broadcast address).
    pub address: Ipv4Addr,
    /// The workgroup whose list the host joins there.
    pub workgroup: String,
}

/// The session service's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionStatus {
    /// Addresses where TCP 139 is served.
    pub serving: usize,
    /// Its counters.
    #[serde(flatten)]
    pub counters: crate::session::SessionCountersSnapshot,
}

/// One interface address and the names on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterfaceStatus {
    /// Interface name, e.g. `eth0`.
    pub name: String,
    /// The address served.
    pub address: Ipv4Addr,
    /// The subnet mask.
    pub netmask: Ipv4Addr,
    /// The subnet broadcast address.
    pub broadcast: Ipv4Addr,
    /// The MAC address as `aa:bb:cc:dd:ee:ff`.
    pub mac: String,
    /// The names on this address.
    pub names: Vec<NameStatus>,
    /// The browser on this address's subnet.
    pub browser: InterfaceBrowser,
}

/// The browser on one interface address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterfaceBrowser {
    /// The browser role.
    pub role: BrowserRole,
    /// The local master browser known, if any (this host when it is the master).
    pub master: Option<MasterStatus>,
    /// Servers in the browse list, all workgroups together.
    pub servers: usize,
    /// Workgroups in the browse list.
    pub workgroups: usize,
    /// Servers listed in each workgroup, by workgroup name.
    #[serde(default)]
    pub per_workgroup: Vec<WorkgroupSize>,
    /// The last elections and role changes here, oldest first.
    #[serde(default)]
    pub elections: Vec<ElectionRecord>,
}

/// A browser role, as `"master" | "backup" | "potential" | "non_browser"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrowserRole {
    /// The local master browser.
    Master,
    /// A backup browser, appointed by the master.
    Backup,
    /// A potential browser: stands in elections.
    Potential,
    /// Announces itself only.
    NonBrowser,
}

impl From<Role> for BrowserRole {
    fn from(r: Role) -> Self {
        match r {
            Role::Master => BrowserRole::Master,
            Role::Backup => BrowserRole::Backup,
            Role::Potential => BrowserRole::Potential,
            Role::NonBrowser => BrowserRole::NonBrowser,
        }
    }
}

impl BrowserRole {
    /// The role as the JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            BrowserRole::Master => "master",
            BrowserRole::Backup => "backup",
            BrowserRole::Potential => "potential",
            BrowserRole::NonBrowser => "non_browser",
        }
    }
}

/// The local master browser of a subnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterStatus {
    /// Its name, once an announcement told it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its address.
    pub address: Ipv4Addr,
}

/// One of the daemon's names on one interface address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameStatus {
    /// The name without its suffix; bytes that are not printable are written `\xNN`.
    pub name: String,
    /// The suffix (name type), e.g. 32 for `<20>`.
    pub suffix: u8,
    /// Whether it is a group name.
    pub group: bool,
    /// Where it stands.
    #[serde(flatten)]
    pub state: NameStatusState,
}

/// Where a name stands, as `"state": "registering" | "active" | "conflict"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum NameStatusState {
    /// Registration requests are going out.
    Registering,
    /// The name is the daemon's: answered and defended.
    Active,
    /// Another host holds it; the daemon does not use it.
    Conflict {
        /// The holder's address.
        owner: Ipv4Addr,
    },
}

impl From<NameState> for NameStatusState {
    fn from(s: NameState) -> Self {
        match s {
            NameState::Registering => NameStatusState::Registering,
            NameState::Active => NameStatusState::Active,
            NameState::Conflict { owner } => NameStatusState::Conflict { owner },
        }
    }
}

/// The name engine's counters (see [`NameCounters`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameServiceCounters {
    /// Datagrams handed to the engine.
    pub received: u64,
    /// Datagrams that did not parse.
    pub malformed: u64,
    /// Datagrams ignored (our own, other scope, off-subnet, nothing to do).
    pub ignored: u64,
    /// Datagrams from outside the receiving interface's subnet.
    pub off_subnet: u64,
    /// Datagrams from an address no host sends from (broadcast, network, 0.0.0.0, multicast,
    /// loopback on a LAN), dropped.
    #[serde(default)]
    pub impossible_source: u64,
    /// Node status requests not answered: their source was over its rate limit.
    #[serde(default)]
    pub rate_limited: u64,
    /// Answers to the poisoner detector's canary queries that no honest host sends.
    #[serde(default)]
    pub poisoner_answers: u64,
    /// Positive query answers sent.
    pub positive_answers: u64,
    /// Negative query answers sent.
    pub negative_answers: u64,
    /// Node status answers sent.
    pub node_status_answers: u64,
    /// Registrations of our unique names refused.
    pub defended: u64,
    /// Our registrations refused by another host.
    pub conflicts: u64,
    /// Releases and conflict demands for our unique names, ignored.
    pub hostile_ignored: u64,
    /// Releases of our group names by other members: normal, when a member stops.
    #[serde(default)]
    pub group_releases: u64,
    /// Datagrams queued for sending.
    pub sent: u64,
    /// Datagrams or events the engine dropped because its queue was full.
    pub queue_overflow: u64,
}

impl From<NameCounters> for NameServiceCounters {
    fn from(c: NameCounters) -> Self {
        NameServiceCounters {
            received: c.received,
            malformed: c.malformed,
            ignored: c.ignored,
            off_subnet: c.off_subnet,
            impossible_source: c.impossible_source,
            rate_limited: c.rate_limited,
            poisoner_answers: c.poisoner_answers,
            positive_answers: c.positive_answers,
            negative_answers: c.negative_answers,
            node_status_answers: c.node_status_answers,
            defended: c.defended,
            conflicts: c.conflicts,
            hostile_ignored: c.hostile_ignored,
            group_releases: c.group_releases,
            sent: c.sent,
            queue_overflow: c.queue_overflow,
        }
    }
}

/// The datagram service's counters (UDP 138), as the driver sees them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatagramServiceCounters {
    /// Datagrams handed to the browser, once per interface address they concern.
    pub received: u64,
    /// Datagrams or browser frames that did not parse.
    pub malformed: u64,
    /// Datagrams from outside the receiving interface's subnet, dropped.
    pub off_subnet: u64,
}

/// The browser's counters (see [`EngineBrowserCounters`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrowserCounters {
    /// Browser frames handled.
    pub frames: u64,
    /// Browser frames that did not parse.
    pub malformed: u64,
    /// Frames ignored (our own, off-subnet, other workgroups' elections, …).
    pub ignored: u64,
    /// New browse-list entries refused by a cap (the caps per source included).
    pub refused: u64,
    /// Announcements refused because their source holds as many entries as one address may.
    #[serde(default)]
    pub source_capped: u64,
    /// Frames from another host under our own name, ignored.
    #[serde(default)]
    pub forged_own_name: u64,
    /// GetBackupList requests not answered: their source was over its rate limit.
    #[serde(default)]
    pub rate_limited: u64,
    /// Frames from an address no host sends from (broadcast, network, 0.0.0.0, multicast,
    /// loopback on a LAN), dropped.
    #[serde(default)]
    pub impossible_source: u64,
    /// Elections this host started.
    pub elections_started: u64,
    /// Elections this host won.
    pub elections_won: u64,
    /// Elections this host lost.
    pub elections_lost: u64,
}

impl From<EngineBrowserCounters> for BrowserCounters {
    fn from(c: EngineBrowserCounters) -> Self {
        BrowserCounters {
            frames: c.frames,
            malformed: c.malformed,
            ignored: c.ignored,
            refused: c.refused,
            source_capped: c.source_capped,
            forged_own_name: c.forged_own_name,
            rate_limited: c.rate_limited,
            impossible_source: c.impossible_source,
            elections_started: c.elections_started,
            elections_won: c.elections_won,
            elections_lost: c.elections_lost,
        }
    }
}

/// What `{"request":"browse_list"}` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrowseListReply {
    /// The workgroup listed.
    pub workgroup: String,
    /// The daemon's own workgroup.
    pub our_workgroup: String,
    /// The list on each interface address (one subnet each).
    pub interfaces: Vec<BrowseInterface>,
}

/// The browse list of one interface address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrowseInterface {
    /// Interface name, e.g. `eth0`.
    pub interface: String,
    /// The address served.
    pub address: Ipv4Addr,
    /// The browser role there.
    pub role: BrowserRole,
    /// The local master browser known there.
    pub master: Option<MasterStatus>,
    /// The workgroup's servers, sorted by name.
    pub servers: Vec<BrowseServer>,
    /// Every workgroup heard of, with its master, sorted by name.
    pub workgroups: Vec<BrowseWorkgroup>,
}

/// One server in a browse list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrowseServer {
    /// Its name; bytes that are not printable ASCII (and `\`) are written `\xNN`.
    pub name: String,
    /// Its SV_TYPE bits.
    pub server_type: u32,
    /// Its OS version, major and minor.
    pub version: [u8; 2],
    /// Its comment, escaped like the name.
    pub comment: String,
    /// The address its announcement came from, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Ipv4Addr>,
    /// Its announced period, in seconds.
    pub periodicity_secs: u64,
    /// Seconds until it is dropped unless heard again.
    pub expires_in_secs: u64,
}

/// One workgroup in a browse list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrowseWorkgroup {
    /// The workgroup, escaped like a server name.
    pub name: String,
    /// Its local master browser.
    pub master: String,
    /// The address of the master's announcement, when known.
    pub address: Option<Ipv4Addr>,
    /// Seconds until it is dropped unless heard again.
    pub expires_in_secs: u64,
}

/// The driver's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriverCounters {
    /// Datagrams received but dropped because the daemon's queue was full.
    pub dropped_queue_full: u64,
    /// Datagrams that could not be sent.
    pub send_errors: u64,
    /// Failed receives.
    pub receive_errors: u64,
    /// Datagrams sent by the name service (UDP 137).
    #[serde(default)]
    pub sent_name: u64,
    /// Datagrams sent by the datagram service and the browser (UDP 138).
    #[serde(default)]
    pub sent_datagram: u64,
}

/// A request from a connection, for the daemon's main loop to answer on `reply`.
#[derive(Debug)]
pub struct ControlCall {
    /// What was asked.
    pub request: Request,
    /// Where the answer goes.
    pub reply: oneshot::Sender<Response>,
}

/// Sends one request to the daemon listening on `path` and reads its answer (blocking, with a
/// 5-second timeout, reading at most [`MAX_RESPONSE_LEN`] bytes). An error answer is an error.
pub fn request(path: &Path, request: &Request) -> anyhow::Result<Response> {
    let stream = std::os::unix::net::UnixStream::connect(path).map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
                "is nbtd running? (its control_socket setting names the path)"
            }
            std::io::ErrorKind::PermissionDenied => {
                "run as root or as a member of the socket's group"
            }
            _ => "is nbtd running?",
        };
        anyhow::anyhow!(
            "cannot connect to the nbtd control socket {}: {e}; {hint}",
            path.display()
        )
    })?;
    stream.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    let mut line = serde_json::to_vec(request)?;
    line.push(b'\n');
    (&stream)
        .write_all(&line)
        .context("cannot send the request to nbtd")?;
    let mut line = Vec::new();
    BufReader::new(&stream)
        .take(MAX_RESPONSE_LEN as u64)
        .read_until(b'\n', &mut line)
        .context("no answer from nbtd")?;
    if line.is_empty() {
        bail!("nbtd closed the control connection without answering");
    }
    match serde_json::from_slice(&line).context("cannot read nbtd's answer")? {
        Response::Error { message } => bail!("nbtd: {message}"),
        r => Ok(r),
    }
}

/// Asks the daemon listening on `path` for its status (blocking, with a 5-second timeout).
pub fn query_status(path: &Path) -> anyhow::Result<DaemonStatus> {
    match request(path, &Request::Status)? {
        Response::Status(s) => Ok(*s),
        other => bail!("nbtd answered a status request with {}", kind(&other)),
    }
}

/// Asks the daemon listening on `path` for the browse list of `workgroup` (its own when
/// `None`), blocking, with a 5-second timeout.
pub fn query_browse_list(path: &Path, workgroup: Option<&str>) -> anyhow::Result<BrowseListReply> {
    let r = Request::BrowseList {
        workgroup: workgroup.map(str::to_owned),
    };
    match request(path, &r)? {
        Response::BrowseList(b) => Ok(*b),
        other => bail!("nbtd answered a browse_list request with {}", kind(&other)),
    }
}

fn kind(r: &Response) -> &'static str {
    match r {
        Response::Status(_) => "a status",
        Response::BrowseList(_) => "a browse list",
        Response::Error { .. } => "an error",
    }
}

#[cfg(test)]
pub(crate) mod tests;
