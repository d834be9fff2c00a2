//! The command line of `nbt`, on its own so that the manual pages and shell completions can be
//! generated from it (`tests/generated.rs` includes this file): it needs only clap, std and the
//! `nbtd` library.
//!
//! The doc comments are the help texts: the first paragraph is the short help (`-h`), all of
//! them the long help (`--help`) and the manual page.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// NetBIOS name lookups, node status, subnet scans, shares and browse lists.
///
/// nbt asks the LAN the questions nmblookup, nbtstat, nbtscan, smbclient -L and net view ask:
/// who has a NetBIOS name, what names and MAC address a host has, which hosts of a subnet
/// answer, which shares a host lists, and which machines and workgroups the browse list holds.
/// It needs no configuration and no daemon; nbt view and nbt daemon use the local nbtd when one
/// runs.
///
/// Every subcommand prints text, or JSON with --json. Identical answers are folded (nmbd
/// answers each broadcast twice), and different addresses for a unique name are marked
/// CONFLICT.
#[derive(Debug, Parser)]
#[command(
    name = "nbt",
    version,
    after_help = exit_status_help()
)]
pub struct Cli {
    /// Options every subcommand accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Print JSON on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// UDP port of the name service to send to (change it only to test).
    #[arg(long, global = true, default_value_t = 137, value_name = "PORT")]
    pub port: u16,
    /// Say on stderr what is sent and which replies are ignored, and why.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Look a NetBIOS name up, by broadcast on the LAN or by asking one server.
    ///
    /// A broadcast query is sent 250 ms apart as often as --retries says, and every answer
    /// that arrives within the timeout is listed; for a unique name the wait ends 100 ms
    /// after the first answer (time enough for a second host claiming it, shown as a
    /// conflict), unless --all is given. With --server the query goes to one host by unicast,
    /// and with --wins to a WINS server, which then answers from its database; the first
    /// answer ends the wait. The name is NAME, NAME#XX or NAME<XX> with the suffix in hex
    /// (<00> when none is given): ALPHA#20 is the file server ALPHA, WORKGROUP#1d the local
    /// master browser of WORKGROUP, WORKGROUP#1b the domain master. Write \xNN for other bytes.
    Lookup(LookupArgs),
    /// Ask one host for its name table and MAC address (node status, like nbtstat -A).
    ///
    /// The host is an IPv4 address, or a NetBIOS name that is first looked up by broadcast.
    /// The answer lists each name with its suffix, whether it is unique or a group, its flags
    /// and the service its suffix stands for, and the MAC address the host reports.
    Status(StatusArgs),
    /// Ask every address of a range for its node status.
    ///
    /// Requests are paced at --rate per second and each address that did not answer is asked
    /// again --retries times; the hosts that answered are listed with their name, workgroup and
    /// MAC address, like nbtscan. The range is at most a /16.
    Scan(ScanArgs),
    /// List a host's shares over SMB1 on TCP 139 (like smbclient -L HOST -N).
    ///
    /// nbt opens a NetBIOS session (calling *SMBSERVER when the server refuses its name),
    /// negotiates SMB1 NT LM 0.12, logs on anonymously, connects to IPC$ and asks RAP
    /// NetShareEnum on \PIPE\LANMAN. A host with nothing on TCP 139, a server that speaks only
    /// SMB2, or one that refuses anonymous listing is named as such.
    Shares(SharesArgs),
    /// List a workgroup's machines, or the workgroups with their masters (like net view).
    ///
    /// The local nbtd is asked when one runs. Otherwise nbt asks the LAN: it finds the master
    /// with a broadcast query for WORKGROUP<1D>, asks it for its backup browsers
    /// (GetBackupList), finds the members with a query for WORKGROUP<00> and asks each for its
    /// node status, and reads the browse list from a backup, or the master, over TCP 139 (RAP
    /// NetServerEnum2). When no browser answers there, it lists the members that answered node
    /// status and says so (via in the JSON: rap or node_status). --workgroups reads the
    /// workgroups the same way from a master that answers for __MSBROWSE__.
    View(ViewArgs),
    /// Show the local nbtd's state: the role, names and election history on each interface,
    /// the browse-list sizes, and counters (with the input it dropped).
    ///
    /// nbt asks the daemon through its control socket (mode 0660): run it as root, or as the
    /// socket's owner or group.
    Daemon(DaemonArgs),
    /// Check the LAN for NBT-NS poisoners (Responder and the like), once.
    ///
    /// A query for a random name that nobody registered is broadcast on the chosen interfaces.
    /// An honest host never answers it, so every host that does is named, with its MAC address
    /// when the neighbour table knows it. Exit status 0 when nobody answered, 4 when a poisoner
    /// did, for scripts and monitoring. nbtd runs the same check every canary_interval_secs.
    Canary(CanaryArgs),
}

/// Options of `nbt canary`.
#[derive(Debug, Args)]
pub struct CanaryArgs {
    /// Which interfaces to broadcast on.
    #[command(flatten)]
    pub iface: IfaceArgs,
    /// How long to wait for answers, e.g. 1.5, 2s or 800ms.
    #[arg(long, value_parser = parse_duration, default_value = "1.5s", value_name = "TIME")]
    pub timeout: Duration,
}

/// Options of `nbt view`.
#[derive(Debug, Args)]
pub struct ViewArgs {
    /// The workgroup (default: the local nbtd's, else WORKGROUP).
    pub workgroup: Option<String>,
    /// List the workgroups and their masters instead.
    #[arg(long, conflicts_with = "workgroup")]
    pub workgroups: bool,
    /// Ask the LAN even when a local nbtd runs.
    #[arg(long, conflicts_with = "daemon")]
    pub lan: bool,
    /// Ask only the local nbtd.
    #[arg(long)]
    pub daemon: bool,
    /// The local nbtd's control socket.
    #[arg(long, value_name = "PATH", default_value = nbtd::config::DEFAULT_CONTROL_SOCKET)]
    pub control_socket: PathBuf,
    /// Which interfaces to broadcast on.
    #[command(flatten)]
    pub iface: IfaceArgs,
    /// How long each step on the LAN waits for answers, e.g. 1, 1s or 500ms.
    #[arg(long, value_parser = parse_duration, default_value = "1s", value_name = "TIME")]
    pub timeout: Duration,
    /// UDP port of the datagram service (GetBackupList; change it only to test).
    #[arg(long, default_value_t = 138, value_name = "PORT")]
    pub datagram_port: u16,
    /// TCP port of the session service, where the browse list is read.
    #[arg(long, default_value_t = 139, value_name = "PORT")]
    pub session_port: u16,
}

/// Options of `nbt shares`.
#[derive(Debug, Args)]
pub struct SharesArgs {
    /// The host: an IPv4 address, or a NetBIOS name to look up first (by broadcast, or with
    /// --wins).
    pub host: String,
    /// Which interfaces to broadcast on.
    #[command(flatten)]
    pub iface: IfaceArgs,
    /// Look the host's name up with this WINS server instead of broadcasting (a host on
    /// another subnet).
    #[arg(long, value_name = "IP", conflicts_with_all = ["iface", "all_ifaces"])]
    pub wins: Option<Ipv4Addr>,
    /// How long the connection and each reply may take, e.g. 5, 5s or 800ms.
    #[arg(long, default_value = "5s", value_parser = parse_duration, value_name = "TIME")]
    pub timeout: Duration,
    /// TCP port of the session service.
    #[arg(long, default_value_t = 139, value_name = "PORT")]
    pub session_port: u16,
}

/// Options of `nbt daemon`.
#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// The daemon's control socket.
    #[arg(long, value_name = "PATH", default_value = nbtd::config::DEFAULT_CONTROL_SOCKET)]
    pub control_socket: PathBuf,
}

/// Where a broadcast goes: one interface, the first usable one, or all of them.
#[derive(Debug, Args, Clone, Default)]
pub struct IfaceArgs {
    /// Broadcast on this interface (default: the first usable one).
    #[arg(long, value_name = "NAME", conflicts_with = "all_ifaces")]
    pub iface: Option<String>,
    /// Broadcast on every usable interface.
    #[arg(long)]
    pub all_ifaces: bool,
}

/// Options of `nbt lookup`.
#[derive(Debug, Args)]
pub struct LookupArgs {
    /// The name: NAME, NAME#XX or NAME<XX> with the suffix in hex (default <00>).
    pub name: String,
    /// Which interfaces to broadcast on.
    #[command(flatten)]
    pub iface: IfaceArgs,
    /// Ask this server by unicast instead of broadcasting.
    #[arg(long, value_name = "IP", conflicts_with_all = ["iface", "all_ifaces", "wins"])]
    pub server: Option<Ipv4Addr>,
    /// Ask this WINS server: by unicast with RD set, which it needs to answer from its
    /// database (as nmblookup -U IP -R).
    #[arg(long, value_name = "IP", conflicts_with_all = ["iface", "all_ifaces"])]
    pub wins: Option<Ipv4Addr>,
    /// How long to collect answers, e.g. 1.5, 2s or 800ms [default: 1.5s broadcast, 2s unicast].
    #[arg(long, value_parser = parse_duration, value_name = "TIME")]
    pub timeout: Option<Duration>,
    /// Times to repeat the query after the first (250 ms apart for broadcasts, spread over the
    /// timeout for unicast), 0 to 10.
    #[arg(long, default_value_t = 2, value_name = "N",
          value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retries: u32,
    /// Collect answers for the whole timeout, also after one for a unique name came (every
    /// late or duplicate answer).
    #[arg(long)]
    pub all: bool,
}

/// Options of `nbt status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The host: an IPv4 address, or a NetBIOS name to look up first (by broadcast, or with
    /// --wins).
    pub host: String,
    /// Which interfaces to broadcast on.
    #[command(flatten)]
    pub iface: IfaceArgs,
    /// Look the host's name up with this WINS server instead of broadcasting (a host on
    /// another subnet).
    #[arg(long, value_name = "IP", conflicts_with_all = ["iface", "all_ifaces"])]
    pub wins: Option<Ipv4Addr>,
    /// How long to wait for the answer, e.g. 2, 2s or 800ms.
    #[arg(long, default_value = "2s", value_parser = parse_duration, value_name = "TIME")]
    pub timeout: Duration,
    /// Times to repeat the request after the first, spread over the timeout, 0 to 10.
    #[arg(long, default_value_t = 2, value_name = "N",
          value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retries: u32,
}

/// Options of `nbt scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The range: ADDRESS/PREFIX (at most a /16) or one address.
    pub range: String,
    /// Requests per second, 1 to 100000.
    #[arg(long, default_value_t = 250, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub rate: u32,
    /// Times to ask an address again when it did not answer, 0 to 5.
    #[arg(long, default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u32).range(0..=5))]
    pub retries: u32,
    /// How long to wait for answers after the last request of each round, e.g. 1, 1s or 500ms.
    #[arg(long, default_value = "1s", value_parser = parse_duration, value_name = "TIME")]
    pub timeout: Duration,
}

/// nbt's exit statuses and what each means, for `--help` and nbt(1).
pub const EXIT_STATUSES: [(u8, &str); 4] = [
    (
        0,
        "found: a name, a node status, a share or a machine (nbt canary: no poisoner answered)",
    ),
    (
        1,
        "not found: no answer, a negative answer, a server that refused us or listed nothing",
    ),
    (2, "usage error, or any other error"),
    (
        4,
        "nbt canary: a poisoner answered a name nobody registered",
    ),
];

/// The exit statuses in one paragraph, for the end of `--help`.
fn exit_status_help() -> String {
    let list: Vec<String> = EXIT_STATUSES
        .iter()
        .map(|(code, meaning)| format!("{code} {meaning}"))
        .collect();
    format!("Exit status: {}.", list.join("; "))
}

/// Longest timeout the command line accepts.
const MAX_TIMEOUT: Duration = Duration::from_secs(600);

/// Reads a duration: `1.5` or `1.5s` (seconds) or `800ms`, above zero and at most 10 minutes.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else {
        (t, 1.0)
    };
    let bad =
        || format!("{s:?} is not a duration: write seconds (1.5, 2s) or milliseconds (800ms)");
    let v: f64 = num.trim().parse().map_err(|_| bad())?;
    if !v.is_finite() {
        return Err(bad());
    }
    let secs = v * scale;
    if secs <= 0.0 {
        return Err(format!("{s:?}: the time must be above zero"));
    }
    let d = Duration::from_secs_f64(secs);
    if d > MAX_TIMEOUT {
        return Err(format!("{s:?}: at most {} s", MAX_TIMEOUT.as_secs()));
    }
    Ok(d)
}
