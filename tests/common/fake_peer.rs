//! A scripted name service peer on loopback: a thread that answers each request it receives
//! with whatever datagrams the test's script returns, well-formed or hostile.
//!
//! It binds to a loopback address (or to the loopback broadcast address, to hear broadcasts
//! on `lo`), never to a real interface. It stops when dropped, and in any case after
//! [`MAX_LIFETIME`] or [`MAX_REQUESTS`].

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nbtd::protocol::wire::ns::NameServicePacket;

/// Longest a fake peer runs.
pub const MAX_LIFETIME: Duration = Duration::from_secs(60);
/// Most requests a fake peer answers.
pub const MAX_REQUESTS: usize = 1000;
/// Longest a reply may wait before it is sent.
pub const MAX_DELAY: Duration = Duration::from_secs(2);

/// A datagram the peer sends back.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Send it from this loopback address (any port) instead of the listening socket; lets
    /// one peer play several responders, and answer what it heard on a broadcast address.
    pub from: Option<Ipv4Addr>,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// How long to wait, after the reply before it was sent, before sending this one.
    pub delay: Duration,
}

impl Reply {
    /// A reply from the listening socket.
    pub fn plain(bytes: Vec<u8>) -> Reply {
        Reply {
            from: None,
            bytes,
            delay: Duration::ZERO,
        }
    }

    /// A reply from another loopback address.
    pub fn from(ip: Ipv4Addr, bytes: Vec<u8>) -> Reply {
        assert!(ip.is_loopback(), "replies come from loopback only");
        Reply {
            from: Some(ip),
            bytes,
            delay: Duration::ZERO,
        }
    }

    /// The same reply, sent `delay` (at most [`MAX_DELAY`]) after the one before it.
    pub fn after(self, delay: Duration) -> Reply {
        assert!(delay <= MAX_DELAY, "a reply waits at most {MAX_DELAY:?}");
        Reply { delay, ..self }
    }
}

/// A request as the peer saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Its source.
    pub from: SocketAddr,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A running fake peer.
pub struct FakePeer {
    /// Where it listens.
    pub addr: SocketAddrV4,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<Seen>>>,
    thread: Option<JoinHandle<()>>,
}

impl FakePeer {
    /// Starts a peer on `bind` (a loopback address, on a free port). For every datagram it
    /// receives, `script` gets the parsed request (or `None` if it does not parse) and returns
    /// the datagrams to send back to its source, in order.
    pub fn start(
        bind: Ipv4Addr,
        script: impl Fn(Option<&NameServicePacket>) -> Vec<Reply> + Send + 'static,
    ) -> FakePeer {
        Self::start_at(SocketAddrV4::new(bind, 0), script)
    }

    /// Starts a peer on a given loopback address and port, e.g. one of many peers on the same
    /// port at 127.0.0.1, 127.0.0.2, ... for a scan.
    pub fn start_at(
        bind: SocketAddrV4,
        script: impl Fn(Option<&NameServicePacket>) -> Vec<Reply> + Send + 'static,
    ) -> FakePeer {
        assert!(
            bind.ip().is_loopback(),
            "fake peers live on loopback only, not {bind}"
        );
        let socket =
            UdpSocket::bind(bind).unwrap_or_else(|e| panic!("bind a fake peer to {bind}: {e}"));
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("set a read timeout");
        let SocketAddr::V4(addr) = socket.local_addr().expect("local address") else {
            unreachable!("bound to IPv4");
        };
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (stop2, seen2) = (stop.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            let start = Instant::now();
            let mut buf = [0u8; 2048];
            let mut answered = 0;
            let mut responders: HashMap<Ipv4Addr, UdpSocket> = HashMap::new();
            while !stop2.load(Ordering::Relaxed)
                && start.elapsed() < MAX_LIFETIME
                && answered < MAX_REQUESTS
            {
                let Ok((n, from)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                if stop2.load(Ordering::Relaxed) {
                    break;
                }
                answered += 1;
                let bytes = buf[..n].to_vec();
                let request = NameServicePacket::parse(&bytes).ok();
                for reply in script(request.as_ref()) {
                    std::thread::sleep(reply.delay);
                    match reply.from {
                        None => {
                            let _ = socket.send_to(&reply.bytes, from);
                        }
                        Some(ip) => {
                            let s = responders.entry(ip).or_insert_with(|| {
                                UdpSocket::bind((ip, 0)).expect("bind a responder socket")
                            });
                            let _ = s.send_to(&reply.bytes, from);
                        }
                    }
                }
                seen2.lock().unwrap().push(Seen { from, bytes });
            }
        });
        FakePeer {
            addr,
            stop,
            seen,
            thread: Some(thread),
        }
    }

    /// The requests received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for FakePeer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the thread at once rather than at its next read timeout.
        if let Ok(s) = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)) {
            let _ = s.send_to(&[], self.addr);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
