//! nbtd's configuration: one TOML file, every key optional, command-line flags on top.
//!
//! With no file at all nbtd runs on a normal LAN: the NetBIOS name is the host name (first label,
//! upper-cased, cut to 15 characters) and the workgroup is `WORKGROUP`. See `contrib/nbtd.toml`
//! for an annotated example of every key.
//!
//! Loading goes in three steps: [`Config::load`] reads the file (unknown keys are errors),
//! [`Config::apply`] lays the command-line [`Overrides`] over it, and [`Config::resolve`] checks
//! every value and fills in the host name, giving the [`Settings`] the daemon runs on.

use std::fmt;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::fsafe::{Links, ReadError};
use crate::iface::Filter;
use crate::protocol::NetbiosName;
use crate::protocol::engine::browser::list::BrowseLimits;
use crate::protocol::engine::limit::{DEFAULT_BROWSER_RATE, DEFAULT_STATUS_RATE};
use crate::protocol::engine::names::canary::DEFAULT_CANARY_INTERVAL;

/// The seconds `canary_interval_secs` may give, besides 0 (off): a round is three broadcasts an
/// interface, so not more often than every few seconds; at least once a week.
const CANARY_SECS: std::ops::RangeInclusive<u64> = 5..=604_800;
use crate::session::SessionLimits;
pub use check::{LOG_LEVELS, log_directive, remote_announce_targets};
use check::{
    check_browser, check_log_level, check_path, check_patterns, check_ports, check_session,
};

mod check;

/// Where nbtd looks for the host name the default NetBIOS name comes from.
pub const HOSTNAME_PATH: &str = "/proc/sys/kernel/hostname";
/// The default workgroup.
pub const DEFAULT_WORKGROUP: &str = "WORKGROUP";
/// The default state directory.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/nbtd";
/// The default control socket.
pub const DEFAULT_CONTROL_SOCKET: &str = "/run/nbtd/control.sock";
/// The largest configuration file read.
const MAX_CONFIG_FILE: u64 = 1024 * 1024;
/// The default interval between interface scans, in seconds.
pub const DEFAULT_RESCAN_SECS: u64 = 30;
/// The default log level.
pub const DEFAULT_LOG_LEVEL: &str = "info";
/// The user nbtd switches to when started as root.
pub const DEFAULT_USER: &str = "nbtd";
/// The user taken when [`DEFAULT_USER`] does not exist.
pub const FALLBACK_USER: &str = "nobody";
/// The default OS level: Samba's, so that nbtd neither beats nor loses to nmbd by default.
pub const DEFAULT_OS_LEVEL: u8 = 20;
/// The default interval between checks that the local master still answers, in milliseconds.
pub const DEFAULT_MASTER_PROBE_MS: u64 = 3000;
/// The longest server comment announced (Samba's `MAX_SERVER_STRING_LENGTH`).
pub const MAX_COMMENT_LEN: usize = 48;
/// The largest browse-list cap accepted, so that a typo cannot let a flood take all memory.
const MAX_BROWSE_CAP: usize = 1_000_000;
/// The master probe interval accepted, in milliseconds.
const MASTER_PROBE_RANGE_MS: std::ops::RangeInclusive<u64> = 500..=3_600_000;
/// Characters Windows does not allow in NetBIOS computer and workgroup names.
const FORBIDDEN_NAME_CHARS: &str = "\\/:*?\"<>|";
/// The longest path a Unix socket address holds (`sun_path` less its NUL).
const MAX_SOCKET_PATH: usize = 107;
/// The longest interface name Linux allows (IFNAMSIZ less its NUL).
const MAX_IFNAME: usize = 15;

/// The configuration file, as written. Every key is optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The host's NetBIOS name, registered as `<00>`, `<03>` and `<20>`. Up to 15 characters.
    /// Default: the host name's first label, upper-cased and cut to 15 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub netbios_name: Option<String>,
    /// The workgroup, registered as the group names `<00>` and `<1E>`. Default `WORKGROUP`.
    pub workgroup: String,
    /// Extra NetBIOS names for this host, each registered like `netbios_name`. Default none.
    pub aliases: Vec<String>,
    /// Which interfaces to serve and how often to look for new addresses.
    pub interfaces: InterfacesConfig,
    /// The UDP and TCP ports of the three services.
    pub ports: Ports,
    /// How nbtd takes part in browsing: announcements, elections and the browse list.
    pub browser: BrowserSection,
    /// The session service on TCP 139, which lists shares, servers and workgroups over SMB1.
    pub session: SessionSection,
    /// The shares listed to clients (`[[share]]` tables); `IPC$` is always listed. nbtd only
    /// lists them: the files are served by your SMB server (ksmbd, Samba's smbd).
    #[serde(rename = "share", skip_serializing_if = "Vec::is_empty")]
    pub shares: Vec<ShareConfig>,
    /// Where nbtd keeps state across restarts; created if missing. Default `/var/lib/nbtd`.
    pub state_dir: PathBuf,
    /// The Unix socket `nbt daemon` talks to; its directory is created if missing.
    /// Default `/run/nbtd/control.sock`.
    pub control_socket: PathBuf,
    /// The group that may use the control socket when nbtd starts as root: the socket is
    /// `root:GROUP`, mode 0660. Default empty: the group `root`, so only root may.
    pub control_group: String,
    /// Answer hosts outside the subnet of the interface a request came in on. Default `false`,
    /// so that nbtd cannot be used to reflect traffic off the local link.
    pub answer_remote_subnets: bool,
    /// Give the interface's MAC address as the unit ID in node status answers (what
    /// `nmblookup -A` and `nbtstat -A` show). `false` zeroes it, like the rest of the statistics
    /// block, which is always zero. Default `true`.
    pub node_status_mac: bool,
    /// Node status answers a second that one source address gets, with bursts of twice that
    /// (an answer is about 4.6 times its request, so unlimited answers amplify a flood of
    /// spoofed requests). 0 turns the limit off. Default 10.
    pub status_rate_per_source: u32,
    /// Seconds between the poisoner detector's rounds: a broadcast query on each interface for
    /// a random name nobody registered (and for this host's own name and the workgroup's
    /// master), which only an NBT-NS poisoner such as Responder answers. A poisoner is logged
    /// with its address and MAC and shown by `nbt daemon`. 0 turns it off. Default 300.
    pub canary_interval_secs: u64,
    /// WINS servers (IPv4 addresses, separated by spaces or commas) to register the host's names
    /// with, as Samba's `wins server`: clients on other subnets that ask them then find this
    /// host. The names are registered by unicast with the first server that answers, for the
    /// address of the interface on the first server's subnet (else the first interface),
    /// refreshed, and released when nbtd stops; broadcast registration goes on. Default empty:
    /// none.
    pub wins_server: String,
    /// The log level (`error`, `warn`, `info`, `debug`, `trace`) or a tracing filter such as
    /// `info,nbtd=debug`. The `RUST_LOG` environment variable takes precedence, and
    /// `--log-level` over both. Default `info`.
    pub log_level: String,
    /// The user nbtd becomes once its ports are bound, when started as root. Default `nbtd`,
    /// or `nobody` when no user `nbtd` exists.
    pub user: String,
    /// Become `user` when started as root. Default `true`.
    pub drop_privileges: bool,
    /// The Prometheus metrics listener.
    pub metrics: MetricsSection,
}

/// The `[metrics]` table: Prometheus metrics over HTTP.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSection {
    /// The address and port serving `GET /metrics`, e.g. `127.0.0.1:9137`. Default empty: off.
    pub listen: String,
}

/// The `[interfaces]` table: which interfaces nbtd serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InterfacesConfig {
    /// If not empty, only interfaces matching one of these patterns are served (`*` matches any
    /// run of characters). Naming loopback or a container bridge here allows it. Default empty:
    /// every interface that is up with an IPv4 broadcast address, except loopback and `docker*`,
    /// `veth*`, `br-*`, `virbr*`.
    pub allow: Vec<String>,
    /// Interfaces matching one of these patterns are never served. Default empty.
    pub deny: Vec<String>,
    /// Seconds between scans for added or removed interface addresses; 0 scans only at start.
    /// Default 30.
    pub rescan_interval_secs: u64,
}

/// The `[browser]` table: the browser (MS-BRWS) on the datagram service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrowserSection {
    /// OS level, the top byte of the election criteria: the highest wins. Samba's default is
    /// 20, Windows servers use 16 to 32, and 65 beats them all. Default 20.
    pub os_level: u8,
    /// Stand as preferred master: start an election at once and win ties. Default `false`.
    pub preferred_master: bool,
    /// Stand in elections at all; `false` only announces this host. Default `true`.
    pub local_master: bool,
    /// The server comment others list ("server string"); at most 48 printable ASCII
    /// characters. Default `nbtd` and the version.
    pub comment: String,
    /// Servers listed in one workgroup; new ones beyond are refused. Default 2048.
    pub max_servers_per_workgroup: usize,
    /// Workgroups listed. Default 256.
    pub max_workgroups: usize,
    /// Servers listed in all workgroups together. Default 16384.
    pub max_servers_total: usize,
    /// Servers that the announcements heard from one address may hold (a host announces its
    /// name and its aliases); more from it are refused, so one host cannot fill the list.
    /// Lists copied from a master are not held to it. Default 8.
    pub max_servers_per_source: usize,
    /// Workgroups that the DomainAnnouncements heard from one address may hold. Default 4.
    pub max_workgroups_per_source: usize,
    /// GetBackupList responses a second that one source address gets, with bursts of twice
    /// that. 0 turns the limit off. Default 5.
    pub backup_list_rate_per_source: u32,
    /// Milliseconds between checks that the local master still answers; a master that stops
    /// answering is replaced within about four of them. Default 3000.
    pub master_probe_interval_ms: u64,
    /// Obey a ResetStateRequest (anyone on the LAN can send one). Default `false`.
    pub honour_reset_state: bool,
    /// Announce this host on other subnets too, as Samba's `remote announce`: each entry is
    /// the address of a browser there (or that subnet's broadcast address, where routers
    /// forward it), optionally with `/WORKGROUP` (default: this host's workgroup). A
    /// HostAnnouncement goes to each every 3 minutes. Default empty.
    pub remote_announce: Vec<String>,
}

impl Default for BrowserSection {
    fn default() -> Self {
        BrowserSection {
            os_level: DEFAULT_OS_LEVEL,
            preferred_master: false,
            local_master: true,
            comment: default_comment(),
            max_servers_per_workgroup: 2048,
            max_workgroups: 256,
            max_servers_total: 16384,
            max_servers_per_source: BrowseLimits::default().max_servers_per_source,
            max_workgroups_per_source: BrowseLimits::default().max_workgroups_per_source,
            backup_list_rate_per_source: DEFAULT_BROWSER_RATE.per_sec,
            master_probe_interval_ms: DEFAULT_MASTER_PROBE_MS,
            honour_reset_state: false,
            remote_announce: Vec::new(),
        }
    }
}

/// Whether nbtd serves TCP 139.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionMode {
    /// Serve it where TCP 139 is free; leave it to another server (Samba's smbd) where it is
    /// taken, with one warning.
    Auto,
    /// Serve it; a taken port is an error.
    Yes,
    /// Do not listen on TCP 139.
    No,
}

/// The `[session]` table: the session service on TCP 139.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionSection {
    /// `auto` (serve TCP 139 where it is free), `yes` (a taken port is an error) or `no`.
    /// Default `auto`.
    pub enabled: SessionMode,
    /// Connections served at once; more are closed at once. Default 64.
    pub max_connections: usize,
    /// Connections served at once from one source address (at most `max_connections`); more
    /// from it are closed at once. Default 8.
    pub max_connections_per_source: usize,
    /// Seconds a new connection has to send its whole session request. Default 10.
    pub handshake_timeout_secs: u64,
    /// Seconds a connection may stay silent before it is closed. Default 120.
    pub idle_timeout_secs: u64,
    /// Seconds a client has to take each reply before it is closed. Default 20.
    pub write_timeout_secs: u64,
    /// Largest frame accepted from a client, in bytes (1028 to 131075). Default 16388.
    pub max_frame_len: usize,
}

impl Default for SessionSection {
    fn default() -> Self {
        SessionSection {
            enabled: SessionMode::Auto,
            max_connections: 64,
            max_connections_per_source: SessionLimits::default().max_connections_per_source,
            handshake_timeout_secs: 10,
            idle_timeout_secs: 120,
            write_timeout_secs: SessionLimits::default().write_timeout.as_secs(),
            max_frame_len: 16 * 1024 + 4,
        }
    }
}

/// A share type as NetShareEnum reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShareKind {
    /// A disk share.
    Disk,
    /// A print queue.
    Printer,
    /// A communication device.
    Device,
    /// Interprocess communication.
    Ipc,
}

/// One `[[share]]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareConfig {
    /// The share name: 1 to 12 ASCII characters (what RAP can list).
    pub name: String,
    /// `disk` (default), `printer`, `device` or `ipc`.
    #[serde(rename = "type", default = "default_share_kind")]
    pub kind: ShareKind,
    /// The comment shown next to it: printable ASCII. Default empty.
    #[serde(default)]
    pub comment: String,
}

fn default_share_kind() -> ShareKind {
    ShareKind::Disk
}

/// The default server comment: `nbtd` and its version.
pub fn default_comment() -> String {
    format!("nbtd {}", env!("CARGO_PKG_VERSION"))
}

/// The `[ports]` table. Change them only to test; peers use the standard ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ports {
    /// The name service, UDP. Default 137.
    pub name: u16,
    /// The datagram service (the browser), UDP. Default 138.
    pub datagram: u16,
    /// The session service, TCP. Default 139.
    pub session: u16,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            netbios_name: None,
            workgroup: DEFAULT_WORKGROUP.to_owned(),
            aliases: Vec::new(),
            interfaces: InterfacesConfig::default(),
            ports: Ports::default(),
            browser: BrowserSection::default(),
            session: SessionSection::default(),
            shares: Vec::new(),
            state_dir: PathBuf::from(DEFAULT_STATE_DIR),
            control_socket: PathBuf::from(DEFAULT_CONTROL_SOCKET),
            control_group: String::new(),
            answer_remote_subnets: false,
            node_status_mac: true,
            status_rate_per_source: DEFAULT_STATUS_RATE.per_sec,
            canary_interval_secs: DEFAULT_CANARY_INTERVAL.as_secs(),
            wins_server: String::new(),
            log_level: DEFAULT_LOG_LEVEL.to_owned(),
            user: DEFAULT_USER.to_owned(),
            drop_privileges: true,
            metrics: MetricsSection::default(),
        }
    }
}

impl Default for InterfacesConfig {
    fn default() -> Self {
        InterfacesConfig {
            allow: Vec::new(),
            deny: Vec::new(),
            rescan_interval_secs: DEFAULT_RESCAN_SECS,
        }
    }
}

impl Default for Ports {
    fn default() -> Self {
        Ports {
            name: 137,
            datagram: 138,
            session: 139,
        }
    }
}

/// Settings given on the command line; each one given replaces the file's value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--netbios-name`.
    pub netbios_name: Option<String>,
    /// `--workgroup`.
    pub workgroup: Option<String>,
    /// `--interfaces`: the allow list.
    pub interfaces: Option<Vec<String>>,
    /// `--state-dir`.
    pub state_dir: Option<PathBuf>,
    /// `--control-socket`.
    pub control_socket: Option<PathBuf>,
    /// `--name-port`.
    pub name_port: Option<u16>,
    /// `--datagram-port`.
    pub datagram_port: Option<u16>,
    /// `--session-port`.
    pub session_port: Option<u16>,
    /// `--log-level`.
    pub log_level: Option<String>,
    /// `--os-level`.
    pub os_level: Option<u8>,
    /// `--preferred-master`.
    pub preferred_master: Option<bool>,
    /// `--no-local-master` (as `Some(false)`).
    pub local_master: Option<bool>,
    /// `--comment`.
    pub comment: Option<String>,
    /// `--user`.
    pub user: Option<String>,
    /// `--no-drop-privileges` (as `Some(false)`).
    pub drop_privileges: Option<bool>,
}

/// What is wrong with a configuration; each message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or has an unknown key or a value of the wrong type.
    #[error("configuration file {}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A name is not a valid NetBIOS name.
    #[error("{key} = {value:?} is not a valid NetBIOS name: {reason}")]
    BadName {
        /// The key or flag.
        key: &'static str,
        /// The value given.
        value: String,
        /// What is wrong and what is allowed.
        reason: String,
    },
    /// No NetBIOS name was configured and none could be made from the host name.
    #[error(
        "cannot make a NetBIOS name from the host name {hostname:?}: {reason}; \
         set netbios_name in the configuration file or pass --netbios-name"
    )]
    Hostname {
        /// The host name read, or empty.
        hostname: String,
        /// What went wrong.
        reason: String,
    },
    /// A port is 0, or two services share one.
    #[error("{0}")]
    BadPort(String),
    /// An interface pattern cannot match an interface name.
    #[error(
        "interfaces.{list} pattern {pattern:?} is not valid: {reason} \
         (give interface names such as eth0, with * matching any run of characters)"
    )]
    BadPattern {
        /// `allow` or `deny`.
        list: &'static str,
        /// The pattern.
        pattern: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A path cannot be used.
    #[error("{key} = {}: {reason}", path.display())]
    BadPath {
        /// The key.
        key: &'static str,
        /// The path.
        path: PathBuf,
        /// What is wrong.
        reason: &'static str,
    },
    /// A `[session]` value or a `[[share]]` is not valid.
    #[error("{key} = {value}: {reason}")]
    BadSession {
        /// The key, e.g. `session.max_connections` or `share.name`.
        key: &'static str,
        /// The value given.
        value: String,
        /// What is wrong and what is allowed.
        reason: String,
    },
    /// A `[browser]` value is out of range.
    #[error("browser.{key} = {value}: {reason}")]
    BadBrowser {
        /// The key.
        key: &'static str,
        /// The value given.
        value: String,
        /// What is wrong and what is allowed.
        reason: String,
    },
    /// `canary_interval_secs` is out of range.
    #[error(
        "canary_interval_secs = {value}: give 0 to turn the poisoner detector off, or {} to {} \
         seconds between its rounds (300 by default)",
        CANARY_SECS.start(),
        CANARY_SECS.end()
    )]
    BadCanary {
        /// The value given.
        value: u64,
    },
    /// `user` cannot name a user.
    #[error(
        "user = {value:?} is not a user name: give an unprivileged user such as \"nbtd\", or \
         set drop_privileges = false to keep running as root"
    )]
    BadUser {
        /// The value.
        value: String,
    },
    /// `control_group` cannot name a group.
    #[error(
        "control_group = {value:?} is not a group name: give the group whose members may use \
         the control socket, or leave it empty for root alone"
    )]
    BadGroup {
        /// The value.
        value: String,
    },
    /// `metrics.listen` is not an address and port.
    #[error(
        "metrics.listen = {value:?} is not an address and port: give one such as \
         \"127.0.0.1:9137\", or leave it empty to serve no metrics"
    )]
    BadMetrics {
        /// The value.
        value: String,
    },
    /// A WINS server is not an address a server can have.
    #[error("wins_server = {value:?}: {reason}")]
    BadWinsServer {
        /// The value.
        value: String,
        /// Why, and what to give.
        reason: &'static str,
    },
    /// The log level is not a level or a filter.
    #[error(
        "log_level = {value:?} is not valid: {reason} \
         (or a filter such as info,nbtd=debug)"
    )]
    BadLogLevel {
        /// The value.
        value: String,
        /// The filter parser's message.
        reason: String,
    },
}

/// The validated configuration the daemon runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The host's NetBIOS name (suffix 0).
    pub netbios_name: NetbiosName,
    /// The workgroup (suffix 0).
    pub workgroup: NetbiosName,
    /// Extra host names (suffix 0).
    pub aliases: Vec<NetbiosName>,
    /// Which interfaces to serve.
    pub filter: Filter,
    /// Time between interface scans; `None` scans only at start.
    pub rescan_interval: Option<Duration>,
    /// The service ports.
    pub ports: Ports,
    /// The state directory.
    pub state_dir: PathBuf,
    /// The control socket path.
    pub control_socket: PathBuf,
    /// The control socket's group when nbtd runs as root; `None` is root's.
    pub control_group: Option<String>,
    /// Answer hosts outside the receiving interface's subnet.
    pub answer_remote_subnets: bool,
    /// The MAC address as the unit ID of node status answers.
    pub node_status_mac: bool,
    /// Node status answers a second per source address (0: no limit).
    pub status_rate_per_source: u32,
    /// How often the poisoner detector runs (`None`: never).
    pub canary_interval: Option<Duration>,
    /// The WINS servers the names are registered with, in order (empty: none).
    pub wins_servers: Vec<Ipv4Addr>,
    /// The log filter.
    pub log_level: String,
    /// The user to become when started as root; `None` stays as started.
    pub user: Option<String>,
    /// Where Prometheus metrics are served, if anywhere.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// The browser's settings, checked.
    pub browser: BrowserSection,
    /// The session service's settings, checked.
    pub session: SessionSection,
    /// The shares to list, checked.
    pub shares: Vec<ShareConfig>,
    /// The configuration these settings came from, with the NetBIOS name filled in.
    pub effective: Config,
}

impl Config {
    /// Reads a configuration file. Unknown keys and wrongly typed values are errors.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let read = |source| ConfigError::Read {
            path: path.to_owned(),
            source,
        };
        let bytes = crate::fsafe::read_regular(path, MAX_CONFIG_FILE, Links::Follow).map_err(
            |e| match e {
                ReadError::Io(e) => read(e),
                ReadError::Refused(what) => read(std::io::Error::other(format!(
                    "it is {what}; give --config a regular TOML file"
                ))),
            },
        )?;
        let text = String::from_utf8(bytes).map_err(|_| {
            read(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "not UTF-8 text",
            ))
        })?;
        Config::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.to_owned(),
            message,
        })
    }

    /// Parses configuration text; the error is the parser's message with line and column.
    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())
    }

    /// Lays command-line settings over the file's.
    pub fn apply(&mut self, o: &Overrides) {
        if let Some(v) = &o.netbios_name {
            self.netbios_name = Some(v.clone());
        }
        if let Some(v) = &o.workgroup {
            self.workgroup = v.clone();
        }
        if let Some(v) = &o.interfaces {
            self.interfaces.allow = v.clone();
        }
        if let Some(v) = &o.state_dir {
            self.state_dir = v.clone();
        }
        if let Some(v) = &o.control_socket {
            self.control_socket = v.clone();
        }
        if let Some(v) = o.name_port {
            self.ports.name = v;
        }
        if let Some(v) = o.datagram_port {
            self.ports.datagram = v;
        }
        if let Some(v) = o.session_port {
            self.ports.session = v;
        }
        if let Some(v) = &o.log_level {
            self.log_level = v.clone();
        }
        if let Some(v) = o.os_level {
            self.browser.os_level = v;
        }
        if let Some(v) = o.preferred_master {
            self.browser.preferred_master = v;
        }
        if let Some(v) = o.local_master {
            self.browser.local_master = v;
        }
        if let Some(v) = &o.comment {
            self.browser.comment = v.clone();
        }
        if let Some(v) = &o.user {
            self.user = v.clone();
        }
        if let Some(v) = o.drop_privileges {
            self.drop_privileges = v;
        }
    }

    /// Checks every value and fills in the NetBIOS name from `hostname` when none is set.
    /// `hostname` is called only then; [`read_hostname`] is the usual source.
    pub fn resolve(
        mut self,
        hostname: impl FnOnce() -> std::io::Result<String>,
    ) -> Result<Settings, ConfigError> {
        let netbios_name = match &self.netbios_name {
            Some(n) => parse_netbios_name("netbios_name", n)?,
            None => {
                let host = hostname().map_err(|e| ConfigError::Hostname {
                    hostname: String::new(),
                    reason: format!("cannot read {HOSTNAME_PATH}: {e}"),
                })?;
                let derived = netbios_name_from_hostname(&host);
                let name = parse_netbios_name("netbios_name", &derived).map_err(|e| {
                    ConfigError::Hostname {
                        hostname: host.trim().to_owned(),
                        reason: match e {
                            ConfigError::BadName { reason, .. } => reason,
                            other => other.to_string(),
                        },
                    }
                })?;
                self.netbios_name = Some(derived);
                name
            }
        };
        let workgroup = parse_netbios_name("workgroup", &self.workgroup)?;
        let aliases = self
            .aliases
            .iter()
            .map(|a| parse_netbios_name("aliases", a))
            .collect::<Result<Vec<_>, _>>()?;
        check_ports(&self.ports)?;
        check_patterns("allow", &self.interfaces.allow)?;
        check_patterns("deny", &self.interfaces.deny)?;
        if let Some(p) = self
            .interfaces
            .allow
            .iter()
            .find(|p| self.interfaces.deny.contains(p))
        {
            return Err(ConfigError::BadPattern {
                list: "deny",
                pattern: p.clone(),
                reason: "it is in the allow list too; keep it in one of them",
            });
        }
        check_path("state_dir", &self.state_dir)?;
        check_path("control_socket", &self.control_socket)?;
        if self.control_socket.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(ConfigError::BadPath {
                key: "control_socket",
                path: self.control_socket.clone(),
                reason: "longer than the 107 bytes a Unix socket path can hold",
            });
        }
        let log_level = check_log_level(&self.log_level)?;
        if self.drop_privileges && (self.user.is_empty() || self.user.contains(['\0', '/', ':'])) {
            return Err(ConfigError::BadUser {
                value: self.user.clone(),
            });
        }
        if self.control_group.contains(['\0', '/', ':'])
            || self.control_group.trim() != self.control_group
        {
            return Err(ConfigError::BadGroup {
                value: self.control_group.clone(),
            });
        }
        let metrics_listen = match self.metrics.listen.trim() {
            "" => None,
            a => Some(a.parse().map_err(|_| ConfigError::BadMetrics {
                value: a.to_owned(),
            })?),
        };
        let wins_servers = check::wins_servers(&self.wins_server)?;
        check_browser(&self.browser)?;
        if self.canary_interval_secs != 0 && !CANARY_SECS.contains(&self.canary_interval_secs) {
            return Err(ConfigError::BadCanary {
                value: self.canary_interval_secs,
            });
        }
        remote_announce_targets(&self.browser, workgroup)?;
        check_session(&self.session, &self.shares)?;
        let secs = self.interfaces.rescan_interval_secs;
        Ok(Settings {
            netbios_name,
            workgroup,
            aliases,
            filter: Filter {
                allow: self.interfaces.allow.clone(),
                deny: self.interfaces.deny.clone(),
            },
            rescan_interval: (secs > 0).then(|| Duration::from_secs(secs)),
            ports: self.ports,
            state_dir: self.state_dir.clone(),
            control_socket: self.control_socket.clone(),
            control_group: (!self.control_group.is_empty()).then(|| self.control_group.clone()),
            answer_remote_subnets: self.answer_remote_subnets,
            node_status_mac: self.node_status_mac,
            status_rate_per_source: self.status_rate_per_source,
            canary_interval: (self.canary_interval_secs > 0)
                .then(|| Duration::from_secs(self.canary_interval_secs)),
            wins_servers,
            log_level,
            user: self.drop_privileges.then(|| self.user.clone()),
            metrics_listen,
            browser: self.browser.clone(),
            session: self.session.clone(),
            shares: self.shares.clone(),
            effective: self,
        })
    }
}

impl fmt::Display for Config {
    /// Writes the configuration as TOML, every key present.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = toml::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

/// Reads the host name from [`HOSTNAME_PATH`].
pub fn read_hostname() -> std::io::Result<String> {
    let bytes =
        crate::fsafe::read_regular(Path::new(HOSTNAME_PATH), 4096, Links::Follow).map_err(|e| {
            match e {
                ReadError::Io(e) => e,
                ReadError::Refused(what) => std::io::Error::other(format!("it is {what}")),
            }
        })?;
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// The default NetBIOS name for a host name: its first label, upper-cased, cut to 15
/// characters. The result may still be invalid (empty, or with characters NetBIOS names cannot
/// carry); [`Config::resolve`] says so.
pub fn netbios_name_from_hostname(hostname: &str) -> String {
    let label = hostname.trim().split('.').next().unwrap_or_default();
    label.chars().take(15).collect::<String>().to_uppercase()
}

/// Checks a configured NetBIOS name: 1 to 15 printable ASCII characters, none of
/// `\ / : * ? " < > |`, no leading or trailing space, not starting with a dot.
pub fn parse_netbios_name(key: &'static str, value: &str) -> Result<NetbiosName, ConfigError> {
    let bad = |reason: String| ConfigError::BadName {
        key,
        value: value.to_owned(),
        reason,
    };
    if value.is_empty() {
        return Err(bad("it is empty".into()));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !c.is_ascii() || c.is_ascii_control())
    {
        return Err(bad(format!(
            "{c:?} is not allowed: use printable ASCII characters"
        )));
    }
    if value.len() > 15 {
        return Err(bad(format!(
            "it has {} characters; NetBIOS names have at most 15",
            value.len()
        )));
    }
    if let Some(c) = value.chars().find(|c| FORBIDDEN_NAME_CHARS.contains(*c)) {
        return Err(bad(format!(
            "{c:?} is not allowed (none of {FORBIDDEN_NAME_CHARS} is)"
        )));
    }
    if value.starts_with(' ') || value.ends_with(' ') {
        return Err(bad("it starts or ends with a space".into()));
    }
    if value.starts_with('.') {
        return Err(bad("it starts with a dot".into()));
    }
    NetbiosName::new(value, 0).map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
mod tests;
