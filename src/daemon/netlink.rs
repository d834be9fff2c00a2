//! Interface changes as the kernel announces them: a NETLINK_ROUTE socket in the groups of
//! links and IPv4 addresses. Any message means "something changed": the daemon then rescans
//! the interfaces (debounced), instead of polling them on a timer, so that an idle daemon
//! sleeps.

// socket2 cannot name a netlink address, and tokio asks callers to vouch for the descriptors
// it polls: the two unsafe calls of the driver are here.
#![allow(unsafe_code)]

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::AsRawFd;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// A subscription to link and IPv4 address changes.
#[derive(Debug)]
pub(crate) struct LinkWatch {
    socket: AsyncFd<Socket>,
}

impl LinkWatch {
    /// Opens the subscription (in the daemon's network namespace).
    pub fn open() -> io::Result<Self> {
        let socket = Socket::new(
            Domain::from(libc::AF_NETLINK),
            Type::RAW.cloexec(),
            Some(Protocol::from(libc::NETLINK_ROUTE)),
        )?;
        socket.set_nonblocking(true)?;
        // SAFETY: sockaddr_nl is plain data, valid when zeroed; the pointer and length passed
        // to bind describe exactly that value, which outlives the call.
        let r = unsafe {
            let mut sa: libc::sockaddr_nl = std::mem::zeroed();
            sa.nl_family = libc::AF_NETLINK as libc::sa_family_t;
            sa.nl_groups = (libc::RTMGRP_LINK | libc::RTMGRP_IPV4_IFADDR) as u32;
            libc::bind(
                socket.as_raw_fd(),
                (&raw const sa).cast::<libc::sockaddr>(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the socket is owned by the AsyncFd from here on, so its descriptor stays
        // open and the same until the AsyncFd is dropped.
        let socket = unsafe { AsyncFd::register_with_interest(socket, Interest::READABLE) }
            .map_err(io::Error::from)?;
        Ok(LinkWatch { socket })
    }

    /// Waits until the kernel reports a change, then reads every message already queued.
    /// A lost message (the socket's buffer overflowed) counts as a change too.
    pub async fn changed(&self) -> io::Result<()> {
        let mut buf = vec![MaybeUninit::<u8>::uninit(); 16 * 1024];
        loop {
            let mut guard = self.socket.readable().await?;
            match guard.try_io(|s| s.get_ref().recv(&mut buf)) {
                Ok(Ok(_)) => break,
                Ok(Err(e)) if e.raw_os_error() == Some(libc::ENOBUFS) => break,
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
        // Drain what else is queued: one rescan covers it all.
        for _ in 0..1024 {
            match self.socket.get_ref().recv(&mut buf) {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {}
                Err(_) => break,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The subscription opens without privileges (any process may listen to rtnetlink).
    #[tokio::test]
    async fn opens() {
        LinkWatch::open().expect("a NETLINK_ROUTE socket");
    }
}
