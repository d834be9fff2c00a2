//! nbtd's exit statuses, one per kind of failure, so that scripts and service managers can tell
//! them apart. nbtd(8) lists them too.

/// A clean stop (SIGTERM or SIGINT), or `--check-config` found the configuration valid.
pub const OK: u8 = 0;
/// The configuration is invalid (also `--check-config`), or the configuration file cannot be
/// read.
pub const CONFIG: u8 = 1;
/// The command line is wrong (clap's own status).
pub const USAGE: u8 = 2;
/// No interface is usable: every one seen was skipped.
pub const NO_INTERFACE: u8 = 3;
/// A port is in use, most likely by Samba's nmbd.
pub const PORT_IN_USE: u8 = 4;
/// Permission denied: binding ports below 1024 needs root or CAP_NET_BIND_SERVICE.
pub const PERMISSION: u8 = 5;
/// Any other failure: the state directory, the control socket, the runtime.
pub const FAILURE: u8 = 6;
