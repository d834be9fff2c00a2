//! `nbt-protocol`: NetBIOS over TCP/IP (RFC 1001/1002) and the CIFS Browser Protocol (MS-BRWS).
//!
//! This crate is deterministic and does no I/O: it reads no clock, opens no socket and spawns no
//! task. It holds the wire formats (parse and emit) of the name service (UDP 137), the datagram
//! service (UDP 138), the session service (TCP 139), the SMB1 transaction envelope that carries
//! mailslot messages, and the browser frames. The state machines that drive them are added on top
//! and are fed time and packets by their caller.
//!
//! Every parser takes untrusted bytes: it never panics, never loops without bound, and never
//! allocates more than the packet's own length warrants. Failures say which field, at which
//! offset, and what was expected ([`ParseError`]).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod engine;
pub mod error;
pub mod name;
pub mod roundtrip;
pub mod wire;

pub use error::{EmitError, ErrorKind, ParseError};
pub use name::{NetbiosName, Scope, ScopedName};
pub use wire::Emit;
