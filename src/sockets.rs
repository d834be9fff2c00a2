//! The name service's UDP sockets, and what a failed bind means for the user.
//!
//! Each interface address gets one socket bound to `addr:port`, which receives unicast and sends
//! everything (SO_BROADCAST is set), and shares one bound to `broadcast:port`, which receives the
//! subnet's broadcasts. Neither sets SO_REUSEADDR: Samba's nmbd holds `0.0.0.0:137`, and a bind
//! that fails is how nbtd finds out it would be fighting nmbd for the port.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};

use socket2::{Domain, Protocol, Socket, Type};

/// The receive buffer asked for (the kernel caps it at `net.core.rmem_max`), so that a burst of
/// queries is queued rather than dropped while the daemon answers the previous ones.
const RECV_BUFFER: usize = 1 << 20;

/// Why a socket could not be bound, worded for the user.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// Another socket holds the port on that address (or on all addresses).
    #[error(
        "UDP {port} on {addr} ({iface}) is in use, probably by Samba's nmbd: stop it \
         (systemctl stop nmbd) or set \"disable netbios = yes\" in smb.conf; \
         `ss -ulpn 'sport = :{port}'` shows who holds it"
    )]
    InUse {
        /// The interface.
        iface: String,
        /// The address.
        addr: Ipv4Addr,
        /// The port.
        port: u16,
    },
    /// The process may not bind the port.
    #[error(
        "cannot bind UDP {port} on {addr} ({iface}): permission denied; ports below 1024 need \
         root or CAP_NET_BIND_SERVICE (run as root, or give the capability, e.g. \
         AmbientCapabilities=CAP_NET_BIND_SERVICE in the systemd unit)"
    )]
    PermissionDenied {
        /// The interface.
        iface: String,
        /// The address.
        addr: Ipv4Addr,
        /// The port.
        port: u16,
    },
    /// Any other failure.
    #[error("cannot open UDP {port} on {addr} ({iface}): {source}")]
    Other {
        /// The interface.
        iface: String,
        /// The address.
        addr: Ipv4Addr,
        /// The port.
        port: u16,
        /// The system's error.
        source: io::Error,
    },
}

/// Opens a non-blocking UDP socket bound to `addr:port`, able to send broadcasts when
/// `send_broadcast` is set. `iface` names the interface in errors.
pub fn bind_udp(
    iface: &str,
    addr: Ipv4Addr,
    port: u16,
    send_broadcast: bool,
) -> Result<std::net::UdpSocket, BindError> {
    open_udp(iface, addr, port, send_broadcast, false)
}

/// Opens a non-blocking UDP socket bound to `addr:port` that receives only what arrives on
/// interface `iface` (`SO_BINDTODEVICE`): for the limited broadcast address 255.255.255.255,
/// which every interface shares, so that each interface has its own.
pub fn bind_udp_on_device(
    iface: &str,
    addr: Ipv4Addr,
    port: u16,
) -> Result<std::net::UdpSocket, BindError> {
    open_udp(iface, addr, port, false, true)
}

fn open_udp(
    iface: &str,
    addr: Ipv4Addr,
    port: u16,
    send_broadcast: bool,
    on_device: bool,
) -> Result<std::net::UdpSocket, BindError> {
    let fail = |source: io::Error| {
        let iface = iface.to_owned();
        match source.kind() {
            io::ErrorKind::AddrInUse => BindError::InUse { iface, addr, port },
            io::ErrorKind::PermissionDenied => BindError::PermissionDenied { iface, addr, port },
            _ => BindError::Other {
                iface,
                addr,
                port,
                source,
            },
        }
    };
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).map_err(fail)?;
    if send_broadcast {
        s.set_broadcast(true).map_err(fail)?;
    }
    // Best effort: a smaller buffer only means earlier drops under load.
    let _ = s.set_recv_buffer_size(RECV_BUFFER);
    s.set_nonblocking(true).map_err(fail)?;
    if on_device {
        s.bind_device(Some(iface.as_bytes())).map_err(fail)?;
    }
    s.bind(&SocketAddrV4::new(addr, port).into())
        .map_err(fail)?;
    Ok(s.into())
}

impl BindError {
    /// Whether the port is taken.
    pub fn is_in_use(&self) -> bool {
        matches!(self, BindError::InUse { .. })
    }

    /// Whether the process lacks the privilege.
    pub fn is_permission(&self) -> bool {
        matches!(self, BindError::PermissionDenied { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_port_names_nmbd_and_what_to_do() {
        let held = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let e = bind_udp("lo", Ipv4Addr::LOCALHOST, port, true).unwrap_err();
        assert!(e.is_in_use());
        let text = e.to_string();
        assert!(text.contains(&format!("UDP {port} on 127.0.0.1 (lo) is in use")));
        assert!(text.contains("probably by Samba's nmbd"));
        assert!(text.contains("disable netbios = yes"));
        drop(held);
        let s = bind_udp("lo", Ipv4Addr::LOCALHOST, port, true).unwrap();
        assert!(s.broadcast().unwrap());
    }
}
