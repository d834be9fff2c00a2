//! The command line of `nbtd`, on its own so that the manual page and shell completions can be
//! generated from it (`tests/generated.rs` includes this file): it needs only clap, std and the
//! `nbtd` library.
//!
//! The doc comments are the help texts: the first paragraph is the short help (`-h`), all of
//! them the long help (`--help`) and the manual page.

use std::path::PathBuf;

use clap::Parser;
use nbtd::exit;

/// NetBIOS name, datagram and session service with a browse master.
///
/// nbtd answers for this host's NetBIOS names on the LAN (UDP 137), takes part in browsing
/// (UDP 138: announcements, elections, the browse list) and lists this host's shares, the
/// workgroup's servers and the workgroups on TCP 139, in place of Samba's nmbd. It serves no
/// files: pair it with ksmbd, or with smbd while nmbd is stopped.
///
/// With no configuration file it runs on built-in defaults: the NetBIOS name is the host name,
/// the workgroup is WORKGROUP, and every interface that is up with an IPv4 broadcast address
/// is served, except loopback and container bridges. Flags override the file. The ports are
/// below 1024: run it as root or with CAP_NET_BIND_SERVICE. Started as root, it becomes the
/// unprivileged user `user` (default nbtd, else nobody) once its ports are bound, keeping only
/// CAP_NET_BIND_SERVICE. It logs to stderr. SIGHUP re-reads the configuration file; SIGTERM or
/// SIGINT stops it cleanly, releasing its names and saving the browse list.
#[derive(Debug, Parser)]
#[command(
    name = "nbtd",
    version,
    after_help = exit_status_help()
)]
pub struct Cli {
    /// The configuration file (TOML, see nbtd.toml(5); default: none, built-in defaults).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Check the configuration, print it with every default filled in, and exit.
    #[arg(long)]
    pub check_config: bool,
    /// The NetBIOS name (default: the host name, upper-cased, cut to 15 characters).
    #[arg(long, value_name = "NAME")]
    pub netbios_name: Option<String>,
    /// The workgroup (default WORKGROUP).
    #[arg(long, value_name = "NAME")]
    pub workgroup: Option<String>,
    /// Serve only these interfaces, in place of the file's [interfaces] allow list
    /// (comma-separated or repeated; * matches any run of characters). Naming lo or a
    /// container bridge allows it.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub interfaces: Option<Vec<String>>,
    /// Where state is kept (default /var/lib/nbtd).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// The control socket (default /run/nbtd/control.sock).
    #[arg(long, value_name = "PATH")]
    pub control_socket: Option<PathBuf>,
    /// The name service UDP port (default 137; change it only to test).
    #[arg(long, value_name = "PORT")]
    pub name_port: Option<u16>,
    /// The datagram service UDP port, where the browser runs (default 138; change it only to
    /// test).
    #[arg(long, value_name = "PORT")]
    pub datagram_port: Option<u16>,
    /// The session service TCP port, where shares and browse lists are listed (default 139;
    /// change it only to test).
    #[arg(long, value_name = "PORT")]
    pub session_port: Option<u16>,
    /// Log level or filter: off, error, warn (or warning), info, debug, trace, or e.g.
    /// info,nbtd=debug; any other word is an error.
    /// Takes precedence over RUST_LOG, which takes precedence over the file's log_level.
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// The browser's OS level in elections, 0 to 255: the highest wins (default 20, as Samba;
    /// 65 beats Samba and Windows).
    #[arg(long, value_name = "N")]
    pub os_level: Option<u8>,
    /// Stand as preferred master: start an election at once and win ties of OS level.
    #[arg(long)]
    pub preferred_master: bool,
    /// Never become a browser: only announce this host.
    #[arg(long)]
    pub no_local_master: bool,
    /// The comment others list next to this host (at most 48 printable ASCII characters).
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
    /// The user to become once the ports are bound, when started as root (default nbtd, or
    /// nobody when there is no user nbtd).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Keep running as root: do not become the unprivileged user.
    #[arg(long)]
    pub no_drop_privileges: bool,
}

/// nbtd's exit statuses and what each means, for `--help` and nbtd(8).
pub const EXIT_STATUSES: [(u8, &str); 7] = [
    (exit::OK, "stopped cleanly, or the configuration is valid"),
    (
        exit::CONFIG,
        "invalid configuration, or the file cannot be read",
    ),
    (exit::USAGE, "usage error"),
    (
        exit::NO_INTERFACE,
        "no usable interface (the message lists each interface and why it was skipped)",
    ),
    (
        exit::PORT_IN_USE,
        "a port is in use, most likely by Samba's nmbd: stop it, or set \"disable netbios = yes\" \
         in smb.conf",
    ),
    (
        exit::PERMISSION,
        "permission denied: ports below 1024 need root or CAP_NET_BIND_SERVICE",
    ),
    (
        exit::FAILURE,
        "any other failure (the state directory, the control socket)",
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
