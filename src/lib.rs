//! The nbtd driver: sockets, interfaces, configuration, persistence and the command lines,
//! on top of the I/O-free [`nbt_protocol`] crate.

// One module, src/daemon/netlink.rs, binds a netlink socket, which socket2 cannot do safely.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub use nbt_protocol as protocol;

pub mod config;
pub mod control;
pub mod daemon;
pub mod exit;
pub mod iface;
pub mod session;
pub mod smbclient;
pub mod sockets;
pub mod state;
