//! Deterministic state machines, driven by their caller.
//!
//! An engine never reads a clock, opens a socket or draws entropy of its own. The driver feeds it:
//! - `handle_datagram(now, …)` for each datagram received;
//! - `handle_timeout(now)` once `now` has reached the instant `poll_timeout()` named (a spurious
//!   call is a harmless no-op);
//!
//! After each call the driver drains `poll_transmit()` (datagrams to send) and `poll_event()`
//! (what happened, for logs and for other engines), then sleeps until the next `poll_timeout()`.
//!
//! Randomness comes from the [`Rng`] passed in, so a test with a fixed seed replays exactly, and
//! time is whatever `Instant` the caller passes, so a 36-minute rule runs in microseconds under
//! simulated time.

pub mod answers;
pub mod browser;
pub mod dgram;
pub mod limit;
pub mod names;
pub mod node;
pub mod rng;
pub mod session;

use std::net::{Ipv4Addr, SocketAddrV4};

pub use rng::Rng;
pub use std::time::Instant;

/// The driver's handle for one interface address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IfaceId(pub u32);

/// One IPv4 interface address as the engines see it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IfaceAddr {
    /// The driver's handle.
    pub id: IfaceId,
    /// The interface's address: the source of everything sent on it.
    pub addr: Ipv4Addr,
    /// The subnet mask.
    pub netmask: Ipv4Addr,
    /// The subnet broadcast address.
    pub broadcast: Ipv4Addr,
    /// The MAC address, reported as the unit ID in node status.
    pub mac: [u8; 6],
}

impl IfaceAddr {
    /// Whether `ip` lies in this interface's subnet.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let m = u32::from(self.netmask);
        u32::from(ip) & m == u32::from(self.addr) & m
    }

    /// Whether a datagram from `src` on this interface must be forged, because no host sends
    /// from that address: the subnet's broadcast or network address, 0.0.0.0,
    /// 255.255.255.255, a multicast address, or a loopback address on an interface that is not
    /// loopback. Linux delivers such packets when rp_filter is off, and an answer to one goes
    /// to the whole LAN or nowhere: it is dropped, never answered.
    pub fn is_impossible_source(&self, src: Ipv4Addr) -> bool {
        let m = u32::from(self.netmask);
        // On a /31 or /32 the "network address" is a host's (RFC 3021).
        let network = m < 0xffff_fffe && u32::from(src) == u32::from(self.addr) & m;
        src.is_unspecified()
            || src.is_broadcast()
            || src.is_multicast()
            || (src == self.broadcast && src != self.addr)
            || network
            || (src.is_loopback() && !self.addr.is_loopback())
    }
}

/// Which service a datagram belongs to: it is sent from that service's socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// The name service, UDP 137.
    Name,
    /// The datagram service, UDP 138.
    Datagram,
}

/// A datagram for the driver to send from the interface's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The interface to send from.
    pub iface: IfaceId,
    /// The service whose socket sends it.
    pub service: Service,
    /// Where to: a peer's address and port, or the interface's broadcast address.
    pub dst: SocketAddrV4,
    /// The datagram.
    pub payload: Vec<u8>,
}
