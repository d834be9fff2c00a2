//! The nbtd driver: sockets, interfaces, configuration, persistence and the command lines,
//! on top of the I/O-free [`nbt_protocol`] crate.

// Unsafe code lives only in `sys` (privileges, capabilities, clocks), `daemon::netlink` (a
// netlink socket, which socket2 cannot bind) and `daemon::mmsg` (recvmmsg/sendmmsg), behind
// safe wrappers with SAFETY comments.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub use nbt_protocol as protocol;

pub mod config;
pub mod control;
pub mod daemon;
pub mod exit;
pub mod fsafe;
pub mod iface;
pub mod metrics;
pub mod notify;
pub mod plural;
pub mod privileges;
pub mod session;
pub mod smbclient;
pub mod sockets;
pub mod state;
pub mod sys;
