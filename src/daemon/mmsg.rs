//! Batched datagram I/O for the fast path: `recvmmsg` takes every request already queued (up to
//! [`BATCH`]) in one call, blocking until there is at least one, and `sendmmsg` sends their
//! answers in one call. std and socket2 have neither, so this module calls libc.

// The two system calls take arrays of C headers that point into our buffers: this module is
// the driver's only other unsafe code (see netlink.rs).
#![allow(unsafe_code)]

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsRawFd, RawFd};

/// Datagrams taken or sent in one call.
pub(crate) const BATCH: usize = 32;
/// The largest datagram read (as for the other sockets); longer ones are cut.
const RECV_LEN: usize = 4096;
/// Room for one answer: node status answers are cut to 576 bytes.
pub(crate) const SEND_LEN: usize = 1024;

fn sockaddr(a: SocketAddrV4) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: a.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*a.ip()).to_be(),
        },
        sin_zero: [0; 8],
    }
}

fn empty_header() -> libc::mmsghdr {
    // SAFETY: mmsghdr is plain data (pointers, lengths, flags); all zeroes is a valid value.
    unsafe { std::mem::zeroed() }
}

/// Receive buffers for [`BATCH`] datagrams.
pub(crate) struct RecvBatch {
    bufs: Vec<u8>,
    addrs: Vec<libc::sockaddr_in>,
    iovs: Vec<libc::iovec>,
    headers: Vec<libc::mmsghdr>,
    received: usize,
}

impl RecvBatch {
    /// Buffers for a batch.
    pub fn new() -> Self {
        RecvBatch {
            bufs: vec![0; BATCH * RECV_LEN],
            addrs: vec![sockaddr(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)); BATCH],
            iovs: (0..BATCH)
                .map(|_| libc::iovec {
                    iov_base: std::ptr::null_mut(),
                    iov_len: 0,
                })
                .collect(),
            headers: (0..BATCH).map(|_| empty_header()).collect(),
            received: 0,
        }
    }

    /// Waits for at least one datagram on `socket` (a blocking socket) and takes every one
    /// already queued, up to [`BATCH`]; returns how many.
    pub fn receive(&mut self, socket: &impl AsRawFd) -> io::Result<usize> {
        self.received = 0;
        for i in 0..BATCH {
            self.iovs[i] = libc::iovec {
                iov_base: self.bufs[i * RECV_LEN..].as_mut_ptr().cast(),
                iov_len: RECV_LEN,
            };
            let mut h = empty_header();
            h.msg_hdr.msg_name = (&raw mut self.addrs[i]).cast();
            h.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            h.msg_hdr.msg_iov = &raw mut self.iovs[i];
            h.msg_hdr.msg_iovlen = 1;
            self.headers[i] = h;
        }
        // SAFETY: the headers point at BATCH address slots and BATCH iovecs, each iovec at its
        // own RECV_LEN bytes of `bufs`; all live in `self`, which the call borrows mutably and
        // which outlives it.
        let n = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd() as RawFd,
                self.headers.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        self.received = (n as usize).min(BATCH);
        Ok(self.received)
    }

    /// The `i`-th datagram of the last batch and its IPv4 source.
    pub fn get(&self, i: usize) -> Option<(SocketAddrV4, &[u8])> {
        if i >= self.received {
            return None;
        }
        let a = &self.addrs[i];
        if a.sin_family != libc::AF_INET as libc::sa_family_t {
            return None;
        }
        let src = SocketAddrV4::new(
            Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
            u16::from_be(a.sin_port),
        );
        let len = (self.headers[i].msg_len as usize).min(RECV_LEN);
        Some((src, &self.bufs[i * RECV_LEN..i * RECV_LEN + len]))
    }
}

/// Up to [`BATCH`] answers waiting to be sent, each with its destination and a tag.
pub(crate) struct SendBatch<T> {
    bufs: Vec<u8>,
    lens: Vec<usize>,
    addrs: Vec<libc::sockaddr_in>,
    tags: Vec<T>,
    iovs: Vec<libc::iovec>,
    headers: Vec<libc::mmsghdr>,
}

impl<T: Copy> SendBatch<T> {
    /// An empty batch.
    pub fn new() -> Self {
        SendBatch {
            bufs: vec![0; BATCH * SEND_LEN],
            lens: Vec::with_capacity(BATCH),
            addrs: Vec::with_capacity(BATCH),
            tags: Vec::with_capacity(BATCH),
            iovs: Vec::with_capacity(BATCH),
            headers: Vec::with_capacity(BATCH),
        }
    }

    /// Room for the next answer ([`SEND_LEN`] bytes), or `None` when the batch is full.
    pub fn slot(&mut self) -> Option<&mut [u8]> {
        let i = self.lens.len();
        (i < BATCH).then(|| &mut self.bufs[i * SEND_LEN..(i + 1) * SEND_LEN])
    }

    /// Queues the answer written into [`slot`](Self::slot): `len` bytes for `dst`.
    pub fn commit(&mut self, dst: SocketAddrV4, len: usize, tag: T) {
        if self.lens.len() < BATCH {
            self.lens.push(len.min(SEND_LEN));
            self.addrs.push(sockaddr(dst));
            self.tags.push(tag);
        }
    }

    /// Sends every queued answer on `socket` (blocking), and empties the batch. Calls `sent`
    /// with the tag of each answer sent; returns how many could not be sent, and the last error.
    pub fn flush(
        &mut self,
        socket: &impl AsRawFd,
        mut sent: impl FnMut(T),
    ) -> (usize, Option<io::Error>) {
        let n = self.lens.len();
        self.iovs.clear();
        self.headers.clear();
        for i in 0..n {
            self.iovs.push(libc::iovec {
                iov_base: self.bufs[i * SEND_LEN..].as_mut_ptr().cast(),
                iov_len: self.lens[i],
            });
        }
        for i in 0..n {
            let mut h = empty_header();
            h.msg_hdr.msg_name = (&raw mut self.addrs[i]).cast();
            h.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            h.msg_hdr.msg_iov = &raw mut self.iovs[i];
            h.msg_hdr.msg_iovlen = 1;
            self.headers.push(h);
        }
        let mut done = 0;
        let (mut failed, mut error) = (0, None);
        while done < n {
            // SAFETY: headers[done..n] point at their address and iovec, each iovec at `lens[i]`
            // bytes of `bufs`; all live in `self` and are not touched during the call.
            let r = unsafe {
                libc::sendmmsg(
                    socket.as_raw_fd() as RawFd,
                    self.headers[done..].as_mut_ptr(),
                    (n - done) as libc::c_uint,
                    0,
                )
            };
            if r <= 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                // The first datagram could not be sent: count it failed, go on with the rest.
                error = Some(e);
                failed += 1;
                done += 1;
                continue;
            }
            for &tag in &self.tags[done..done + r as usize] {
                sent(tag);
            }
            done += r as usize;
        }
        self.lens.clear();
        self.addrs.clear();
        self.tags.clear();
        (failed, error)
    }
}
