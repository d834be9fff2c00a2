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
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::iface::Filter;
use crate::protocol::NetbiosName;

/// Where nbtd looks for the host name the default NetBIOS name comes from.
pub const HOSTNAME_PATH: &str = "/proc/sys/kernel/hostname";
/// The default workgroup.
pub const DEFAULT_WORKGROUP: &str = "WORKGROUP";
/// The default state directory.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/nbtd";
/// The default control socket.
pub const DEFAULT_CONTROL_SOCKET: &str = "/run/nbtd/control.sock";
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
    /// Answer hosts outside the subnet of the interface a request came in on. Default `false`,
    /// so that nbtd cannot be used to reflect traffic off the local link.
    pub answer_remote_subnets: bool,
    /// Give the interface's MAC address as the unit ID in node status answers (what
    /// `nmblookup -A` and `nbtstat -A` show). `false` zeroes it, like the rest of the statistics
    /// block, which is always zero. Default `true`.
    pub node_status_mac: bool,
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
    /// Milliseconds between checks that the local master still answers; a master that stops
    /// answering is replaced within about four of them. Default 3000.
    pub master_probe_interval_ms: u64,
    /// Obey a ResetStateRequest (anyone on the LAN can send one). Default `false`.
    pub honour_reset_state: bool,
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
            master_probe_interval_ms: DEFAULT_MASTER_PROBE_MS,
            honour_reset_state: false,
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
    /// Seconds a new connection has to send its session request. Default 10.
    pub handshake_timeout_secs: u64,
    /// Seconds a connection may stay silent before it is closed. Default 120.
    pub idle_timeout_secs: u64,
    /// Largest frame accepted from a client, in bytes (1028 to 131075). Default 16388.
    pub max_frame_len: usize,
}

impl Default for SessionSection {
    fn default() -> Self {
        SessionSection {
            enabled: SessionMode::Auto,
            max_connections: 64,
            handshake_timeout_secs: 10,
            idle_timeout_secs: 120,
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
            answer_remote_subnets: false,
            node_status_mac: true,
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
    /// `user` cannot name a user.
    #[error(
        "user = {value:?} is not a user name: give an unprivileged user such as \"nbtd\", or \
         set drop_privileges = false to keep running as root"
    )]
    BadUser {
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
    /// The log level is not a level or a filter.
    #[error(
        "log_level = {value:?} is not valid: {reason} \
         (use error, warn, info, debug or trace, or a filter such as info,nbtd=debug)"
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
    /// Answer hosts outside the receiving interface's subnet.
    pub answer_remote_subnets: bool,
    /// The MAC address as the unit ID of node status answers.
    pub node_status_mac: bool,
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
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
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
        check_log_level(&self.log_level)?;
        if self.drop_privileges && (self.user.is_empty() || self.user.contains(['\0', '/', ':'])) {
            return Err(ConfigError::BadUser {
                value: self.user.clone(),
            });
        }
        let metrics_listen = match self.metrics.listen.trim() {
            "" => None,
            a => Some(a.parse().map_err(|_| ConfigError::BadMetrics {
                value: a.to_owned(),
            })?),
        };
        check_browser(&self.browser)?;
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
            answer_remote_subnets: self.answer_remote_subnets,
            node_status_mac: self.node_status_mac,
            log_level: self.log_level.clone(),
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
    std::fs::read_to_string(HOSTNAME_PATH)
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

fn check_ports(p: &Ports) -> Result<(), ConfigError> {
    for (key, v) in [
        ("ports.name", p.name),
        ("ports.datagram", p.datagram),
        ("ports.session", p.session),
    ] {
        if v == 0 {
            return Err(ConfigError::BadPort(format!(
                "{key} = 0 is not valid: give a port from 1 to 65535"
            )));
        }
    }
    // The session service is TCP, so only the two UDP services may not share a port.
    if p.name == p.datagram {
        return Err(ConfigError::BadPort(format!(
            "ports.name and ports.datagram are both {}: the name and datagram services need \
             their own UDP ports",
            p.name
        )));
    }
    Ok(())
}

fn check_patterns(list: &'static str, patterns: &[String]) -> Result<(), ConfigError> {
    for p in patterns {
        let bad = |reason| ConfigError::BadPattern {
            list,
            pattern: p.clone(),
            reason,
        };
        if p.is_empty() {
            return Err(bad("it is empty"));
        }
        if p.chars().any(|c| c.is_whitespace() || c == '/' || c == ',') {
            return Err(bad(
                "interface names have no spaces, commas or slashes (give one name a pattern)",
            ));
        }
        if !p.contains('*') && p.len() > MAX_IFNAME {
            return Err(bad("longer than the 15 characters of an interface name"));
        }
    }
    Ok(())
}

fn check_path(key: &'static str, path: &Path) -> Result<(), ConfigError> {
    if path.as_os_str().is_empty() {
        return Err(ConfigError::BadPath {
            key,
            path: path.to_owned(),
            reason: "empty: give a path",
        });
    }
    Ok(())
}

fn check_session(s: &SessionSection, shares: &[ShareConfig]) -> Result<(), ConfigError> {
    let bad = |key, value: String, reason: String| ConfigError::BadSession { key, value, reason };
    if !(1..=4096).contains(&s.max_connections) {
        return Err(bad(
            "session.max_connections",
            s.max_connections.to_string(),
            "give a number from 1 to 4096".into(),
        ));
    }
    for (key, v) in [
        ("session.handshake_timeout_secs", s.handshake_timeout_secs),
        ("session.idle_timeout_secs", s.idle_timeout_secs),
    ] {
        if !(1..=3600).contains(&v) {
            return Err(bad(key, v.to_string(), "give 1 to 3600 seconds".into()));
        }
    }
    if !(1028..=0x1_FFFF + 4).contains(&s.max_frame_len) {
        return Err(bad(
            "session.max_frame_len",
            s.max_frame_len.to_string(),
            "give 1028 to 131075 bytes (clients need at least 1024 bytes of SMB)".into(),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for sh in shares {
        let n = &sh.name;
        if n.is_empty() || n.len() > 12 || !n.chars().all(|c| c.is_ascii_graphic()) {
            return Err(bad(
                "share.name",
                format!("{n:?}"),
                "give 1 to 12 printable ASCII characters: RAP lists share names in 13 bytes".into(),
            ));
        }
        if !seen.insert(n.to_ascii_uppercase()) {
            return Err(bad(
                "share.name",
                format!("{n:?}"),
                "listed twice (share names compare without regard to case)".into(),
            ));
        }
        if sh.comment.len() > 255 || !sh.comment.chars().all(|c| c == ' ' || c.is_ascii_graphic()) {
            return Err(bad(
                "share.comment",
                format!("{:?}", sh.comment),
                "use at most 255 printable ASCII characters".into(),
            ));
        }
    }
    Ok(())
}

fn check_browser(b: &BrowserSection) -> Result<(), ConfigError> {
    let bad = |key, value: String, reason: String| ConfigError::BadBrowser { key, value, reason };
    if b.comment.len() > MAX_COMMENT_LEN {
        return Err(bad(
            "comment",
            format!("{:?}", b.comment),
            format!(
                "it has {} bytes; peers list at most {MAX_COMMENT_LEN}, so shorten it",
                b.comment.len()
            ),
        ));
    }
    if let Some(c) = b
        .comment
        .chars()
        .find(|c| !c.is_ascii() || c.is_ascii_control())
    {
        return Err(bad(
            "comment",
            format!("{:?}", b.comment),
            format!("{c:?} is not allowed: use printable ASCII characters"),
        ));
    }
    for (key, v) in [
        ("max_servers_per_workgroup", b.max_servers_per_workgroup),
        ("max_workgroups", b.max_workgroups),
        ("max_servers_total", b.max_servers_total),
    ] {
        if !(1..=MAX_BROWSE_CAP).contains(&v) {
            return Err(bad(
                key,
                v.to_string(),
                format!("give a number from 1 to {MAX_BROWSE_CAP}"),
            ));
        }
    }
    if b.max_servers_per_workgroup > b.max_servers_total {
        return Err(bad(
            "max_servers_per_workgroup",
            b.max_servers_per_workgroup.to_string(),
            format!(
                "more than max_servers_total ({}); lower it or raise max_servers_total",
                b.max_servers_total
            ),
        ));
    }
    if !MASTER_PROBE_RANGE_MS.contains(&b.master_probe_interval_ms) {
        return Err(bad(
            "master_probe_interval_ms",
            b.master_probe_interval_ms.to_string(),
            format!(
                "give {} to {} milliseconds (3000 replaces a dead master within 15 s)",
                MASTER_PROBE_RANGE_MS.start(),
                MASTER_PROBE_RANGE_MS.end()
            ),
        ));
    }
    Ok(())
}

fn check_log_level(value: &str) -> Result<(), ConfigError> {
    tracing_subscriber::EnvFilter::builder()
        .parse(value)
        .map(|_| ())
        .map_err(|e| ConfigError::BadLogLevel {
            value: value.to_owned(),
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str) -> impl FnOnce() -> std::io::Result<String> + use<> {
        let name = name.to_owned();
        move || Ok(name)
    }

    #[test]
    fn session_and_shares() {
        let c = Config::parse(
            "[session]\nenabled = \"yes\"\nmax_connections = 8\n\
             [[share]]\nname = \"public\"\ncomment = \"files\"\n\
             [[share]]\nname = \"lp\"\ntype = \"printer\"\n",
        )
        .unwrap();
        let s = c.resolve(host("h")).unwrap();
        assert_eq!(s.session.enabled, SessionMode::Yes);
        assert_eq!(s.session.max_connections, 8);
        assert_eq!(s.session.idle_timeout_secs, 120, "defaults fill the rest");
        assert_eq!(s.shares.len(), 2);
        assert_eq!(s.shares[0].kind, ShareKind::Disk);
        assert_eq!(s.shares[1].kind, ShareKind::Printer);
        for (text, key) in [
            ("[[share]]\nname = \"thirteenchars\"", "share.name"),
            (
                "[[share]]\nname = \"a\"\n[[share]]\nname = \"A\"",
                "share.name",
            ),
            ("[session]\nmax_connections = 0", "session.max_connections"),
            ("[session]\nmax_frame_len = 100", "session.max_frame_len"),
        ] {
            let e = Config::parse(text).unwrap().resolve(host("h")).unwrap_err();
            assert!(e.to_string().starts_with(key), "{text}: {e}");
        }
        assert!(Config::parse("[session]\nenabled = \"maybe\"").is_err());
        assert!(Config::parse("[[share]]\nname = \"x\"\nsize = 1").is_err());
    }

    #[test]
    fn user_and_metrics() {
        let s = Config::default().resolve(host("h")).unwrap();
        assert_eq!(s.user.as_deref(), Some(DEFAULT_USER));
        assert_eq!(s.metrics_listen, None);
        let s = Config::parse("user = \"daemon\"\n[metrics]\nlisten = \"127.0.0.1:9137\"")
            .unwrap()
            .resolve(host("h"))
            .unwrap();
        assert_eq!(s.user.as_deref(), Some("daemon"));
        assert_eq!(s.metrics_listen, Some("127.0.0.1:9137".parse().unwrap()));
        let s = Config::parse("drop_privileges = false\nuser = \"\"")
            .unwrap()
            .resolve(host("h"))
            .unwrap();
        assert_eq!(s.user, None, "disabled: no user needed");
        for (text, key) in [
            ("user = \"\"", "user = \"\""),
            ("user = \"a/b\"", "user = \"a/b\""),
            ("[metrics]\nlisten = \"localhost\"", "metrics.listen"),
        ] {
            let e = Config::parse(text).unwrap().resolve(host("h")).unwrap_err();
            assert!(e.to_string().starts_with(key), "{text}: {e}");
        }
    }

    #[test]
    fn defaults_need_no_file() {
        let s = Config::default().resolve(host("myhost\n")).unwrap();
        assert_eq!(s.netbios_name, NetbiosName::new("MYHOST", 0).unwrap());
        assert_eq!(s.workgroup, NetbiosName::new("WORKGROUP", 0).unwrap());
        assert!(s.aliases.is_empty());
        assert_eq!(s.filter, Filter::default());
        assert_eq!(s.ports.name, 137);
        assert_eq!(s.ports.datagram, 138);
        assert_eq!(s.ports.session, 139);
        assert_eq!(s.rescan_interval, Some(Duration::from_secs(30)));
        assert_eq!(s.state_dir, Path::new("/var/lib/nbtd"));
        assert_eq!(s.control_socket, Path::new("/run/nbtd/control.sock"));
        assert!(!s.answer_remote_subnets);
        assert!(s.node_status_mac);
        assert_eq!(s.log_level, "info");
        let b = &s.browser;
        assert_eq!(b.os_level, 20);
        assert!(!b.preferred_master);
        assert!(b.local_master);
        assert_eq!(b.comment, format!("nbtd {}", env!("CARGO_PKG_VERSION")));
        assert_eq!(
            (
                b.max_servers_per_workgroup,
                b.max_workgroups,
                b.max_servers_total
            ),
            (2048, 256, 16384)
        );
        assert_eq!(b.master_probe_interval_ms, 3000);
        assert!(!b.honour_reset_state);
        assert_eq!(s.effective.netbios_name.as_deref(), Some("MYHOST"));
        // An empty file is the defaults.
        assert_eq!(Config::parse("").unwrap(), Config::default());
    }

    #[test]
    fn hostname_becomes_netbios_name() {
        assert_eq!(netbios_name_from_hostname("myhost\n"), "MYHOST");
        assert_eq!(netbios_name_from_hostname("files.example.com"), "FILES");
        assert_eq!(
            netbios_name_from_hostname("a-very-long-host-name-indeed"),
            "A-VERY-LONG-HOS"
        );
        assert_eq!(netbios_name_from_hostname(""), "");
        // A host name that makes no valid NetBIOS name says what to set.
        let e = Config::default().resolve(host("\n")).unwrap_err();
        assert!(e.to_string().contains("set netbios_name"), "{e}");
        let e = Config::default()
            .resolve(|| Err(std::io::Error::other("gone")))
            .unwrap_err();
        assert!(e.to_string().contains(HOSTNAME_PATH), "{e}");
        // A configured name does not read the host name.
        let c = Config {
            netbios_name: Some("alpha".into()),
            ..Config::default()
        };
        let s = c.resolve(|| panic!("not read")).unwrap();
        assert_eq!(s.netbios_name, NetbiosName::new("ALPHA", 0).unwrap());
    }

    #[test]
    fn full_file_parses() {
        let c = Config::parse(
            r#"
            netbios_name = "alpha"
            workgroup = "LABWG"
            aliases = ["files", "media"]
            state_dir = "/tmp/s"
            control_socket = "/tmp/c.sock"
            answer_remote_subnets = true
            node_status_mac = false
            log_level = "debug"
            [interfaces]
            allow = ["eth*", "lo"]
            deny = ["eth9"]
            rescan_interval_secs = 0
            [ports]
            name = 10137
            datagram = 10138
            session = 10139
            [browser]
            os_level = 65
            preferred_master = true
            local_master = false
            comment = "Files on the first floor"
            max_servers_per_workgroup = 100
            max_workgroups = 10
            max_servers_total = 500
            master_probe_interval_ms = 1000
            honour_reset_state = true
            "#,
        )
        .unwrap();
        let s = c.resolve(host("ignored")).unwrap();
        assert_eq!(
            s.browser,
            BrowserSection {
                os_level: 65,
                preferred_master: true,
                local_master: false,
                comment: "Files on the first floor".into(),
                max_servers_per_workgroup: 100,
                max_workgroups: 10,
                max_servers_total: 500,
                master_probe_interval_ms: 1000,
                honour_reset_state: true,
            }
        );
        assert_eq!(s.aliases.len(), 2);
        assert_eq!(s.filter.allow, ["eth*", "lo"]);
        assert_eq!(s.filter.deny, ["eth9"]);
        assert_eq!(s.rescan_interval, None);
        assert_eq!(s.ports.name, 10137);
        assert!(s.answer_remote_subnets);
        assert!(!s.node_status_mac);
        // The effective configuration prints as TOML that reads back the same.
        let again = Config::parse(&s.effective.to_string()).unwrap();
        assert_eq!(again, s.effective);
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_errors() {
        let e = Config::parse("netbios_nam = \"X\"").unwrap_err();
        assert!(e.contains("unknown field `netbios_nam`"), "{e}");
        let e = Config::parse("[ports]\nnmae = 1").unwrap_err();
        assert!(e.contains("unknown field `nmae`"), "{e}");
        let e = Config::parse("[ports]\nname = 70000").unwrap_err();
        assert!(e.contains("name"), "{e}");
        let e = Config::parse("[browser]\nos_levle = 3").unwrap_err();
        assert!(e.contains("unknown field `os_levle`"), "{e}");
        let e = Config::parse("[browser]\nos_level = 300").unwrap_err();
        assert!(e.contains("os_level"), "{e}");
    }

    #[test]
    fn flags_override_the_file() {
        let mut c =
            Config::parse("workgroup = \"FILEWG\"\n[interfaces]\nallow = [\"eth0\"]").unwrap();
        c.apply(&Overrides {
            netbios_name: Some("flagname".into()),
            workgroup: Some("FLAGWG".into()),
            interfaces: Some(vec!["lo".into()]),
            state_dir: Some("/tmp/st".into()),
            control_socket: Some("/tmp/ctl".into()),
            name_port: Some(20137),
            datagram_port: Some(20138),
            session_port: Some(20139),
            log_level: Some("warn".into()),
            os_level: Some(65),
            preferred_master: Some(true),
            local_master: Some(false),
            comment: Some("from the flag".into()),
            user: Some("flaguser".into()),
            drop_privileges: Some(true),
        });
        let s = c.resolve(host("h")).unwrap();
        assert_eq!(s.browser.os_level, 65);
        assert!(s.browser.preferred_master);
        assert!(!s.browser.local_master);
        assert_eq!(s.browser.comment, "from the flag");
        assert_eq!(s.netbios_name, NetbiosName::new("FLAGNAME", 0).unwrap());
        assert_eq!(s.workgroup, NetbiosName::new("FLAGWG", 0).unwrap());
        assert_eq!(s.filter.allow, ["lo"]);
        assert_eq!(s.state_dir, Path::new("/tmp/st"));
        assert_eq!(s.control_socket, Path::new("/tmp/ctl"));
        assert_eq!(
            (s.ports.name, s.ports.datagram, s.ports.session),
            (20137, 20138, 20139)
        );
        assert_eq!(s.log_level, "warn");
        assert_eq!(s.user.as_deref(), Some("flaguser"));
        // Flags not given leave the file's values.
        let mut c = Config::parse("workgroup = \"FILEWG\"").unwrap();
        c.apply(&Overrides::default());
        assert_eq!(c.workgroup, "FILEWG");
    }

    #[test]
    fn bad_values_say_what_to_do() {
        let with = |f: &dyn Fn(&mut Config)| {
            let mut c = Config::default();
            f(&mut c);
            c.resolve(host("h")).unwrap_err().to_string()
        };
        let e = with(&|c| c.netbios_name = Some("THIS-NAME-IS-TOO-LONG".into()));
        assert!(e.contains("at most 15"), "{e}");
        let e = with(&|c| c.workgroup = "BAD*WG".into());
        assert!(
            e.contains("workgroup") && e.contains("'*' is not allowed"),
            "{e}"
        );
        let e = with(&|c| c.aliases = vec!["".into()]);
        assert!(e.contains("aliases") && e.contains("empty"), "{e}");
        let e = with(&|c| c.netbios_name = Some("caf\u{e9}".into()));
        assert!(e.contains("printable ASCII"), "{e}");
        let e = with(&|c| c.ports.name = 0);
        assert!(e.contains("ports.name = 0"), "{e}");
        let e = with(&|c| c.ports.datagram = 137);
        assert!(e.contains("their own UDP ports"), "{e}");
        let e = with(&|c| c.interfaces.allow = vec!["eth0 eth1".into()]);
        assert!(e.contains("interfaces.allow"), "{e}");
        let e = with(&|c| {
            c.interfaces.allow = vec!["eth0".into()];
            c.interfaces.deny = vec!["eth0".into()];
        });
        assert!(e.contains("allow list too"), "{e}");
        let e = with(&|c| c.control_socket = PathBuf::from("/x".repeat(60)));
        assert!(e.contains("107 bytes"), "{e}");
        let e = with(&|c| c.log_level = "loud=[".into());
        assert!(e.contains("log_level"), "{e}");
        let e = with(&|c| c.browser.comment = "x".repeat(49));
        assert!(
            e.contains("browser.comment") && e.contains("at most 48"),
            "{e}"
        );
        let e = with(&|c| c.browser.comment = "tab\there".into());
        assert!(e.contains("printable ASCII"), "{e}");
        let e = with(&|c| c.browser.max_workgroups = 0);
        assert!(e.contains("browser.max_workgroups = 0"), "{e}");
        let e = with(&|c| c.browser.max_servers_per_workgroup = 20_000);
        assert!(e.contains("more than max_servers_total"), "{e}");
        let e = with(&|c| c.browser.master_probe_interval_ms = 10);
        assert!(e.contains("master_probe_interval_ms = 10"), "{e}");
    }
}
