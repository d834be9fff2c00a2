//! Why the daemon could not start, with the exit status and the words that say what to do.

use super::*;

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
    /// A name or datagram service socket could not be bound.
    #[error(transparent)]
    Bind(#[from] BindError),
    /// The control socket could not be opened.
    #[error(transparent)]
    Control(#[from] ControlError),
    /// Signal handlers could not be installed.
    #[error("cannot set up signal handling: {0}")]
    Signals(io::Error),
    /// TCP 139 could not be served and `[session] enabled = "yes"`.
    #[error(transparent)]
    Session(#[from] SessionBindError),
    /// nbtd could not become its unprivileged user.
    #[error(transparent)]
    Privileges(#[from] crate::privileges::PrivilegeError),
    /// The metrics listener could not be opened.
    #[error(transparent)]
    Metrics(#[from] crate::metrics::MetricsError),
}

impl DaemonError {
    /// The exit status for this failure (see [`crate::exit`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            DaemonError::NoInterface { .. } => exit::NO_INTERFACE,
            DaemonError::Bind(e) if e.is_in_use() => exit::PORT_IN_USE,
            DaemonError::Bind(e) if e.is_permission() => exit::PERMISSION,
            DaemonError::Session(e) if e.kind == io::ErrorKind::AddrInUse => exit::PORT_IN_USE,
            DaemonError::Session(e) if e.kind == io::ErrorKind::PermissionDenied => {
                exit::PERMISSION
            }
            DaemonError::Privileges(
                crate::privileges::PrivilegeError::NoSuchUser { .. }
                | crate::privileges::PrivilegeError::Root { .. }
                | crate::privileges::PrivilegeError::NoSuchGroup { .. },
            ) => exit::CONFIG,
            DaemonError::Metrics(e) if e.source.kind() == io::ErrorKind::AddrInUse => {
                exit::PORT_IN_USE
            }
            DaemonError::Metrics(e) if e.source.kind() == io::ErrorKind::PermissionDenied => {
                exit::PERMISSION
            }
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
