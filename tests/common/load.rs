//! Abuse and load from inside a namespace LAN, for the hardening tests (issue #7): sockets opened
//! in a host's namespace from the test process itself, spoofed browser datagrams, a name query
//! client that measures latency, and readers of a process's memory and CPU time from `/proc`.
//!
//! A socket belongs to the network namespace of the thread that opened it, so
//! [`in_netns`] opens sockets on a short-lived thread that has joined the host's namespace
//! (`setns`); the sockets are then used from any thread. Nothing is sent outside the LAN.

#![allow(dead_code)]

use std::fs::File;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::{Duration, Instant};

use nbtd::protocol::NetbiosName;
use nbtd::protocol::engine::dgram::DatagramLayer;
use nbtd::protocol::engine::{IfaceAddr, IfaceId};
use nbtd::protocol::name::{Scope, ScopedName};
use nbtd::protocol::wire::Emit;
use nbtd::protocol::wire::browse::{BrowserFrame, MAILSLOT_BROWSE};
use nbtd::protocol::wire::ns::NameServicePacket;

use super::netns::{BROADCAST, LAN_IFACE, Lan};

/// Runs `f` on a thread that has joined the network namespace `ns` (`/run/netns/<ns>`).
pub fn in_netns<T: Send>(ns: &str, f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            let path = format!("/run/netns/{ns}");
            let file = File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
            // SAFETY: setns on a valid namespace file descriptor affects only this thread.
            let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns {path}: {}", io::Error::last_os_error());
            f()
        })
        .join()
        .expect("the namespace thread panicked")
    })
}

/// A UDP socket bound to `bind` in host `host`, allowed to broadcast.
pub fn udp_in(lan: &Lan, host: usize, bind: SocketAddrV4) -> UdpSocket {
    in_netns(&lan.ns(host), || {
        let s = UdpSocket::bind(bind).unwrap_or_else(|e| panic!("bind {bind}: {e}"));
        s.set_broadcast(true).unwrap();
        s
    })
}

/// A TCP connection from host `host` to `to`, or why not.
pub fn tcp_in(
    lan: &Lan,
    host: usize,
    to: SocketAddrV4,
    timeout: Duration,
) -> io::Result<TcpStream> {
    in_netns(&lan.ns(host), || {
        TcpStream::connect_timeout(&SocketAddr::V4(to), timeout)
    })
}

/// Adds addresses `198.18.0.<last>` for every `last` in `lasts` to host `host`'s LAN port, so
/// that it can send from many addresses of the subnet.
pub fn add_addresses(lan: &Lan, host: usize, lasts: impl IntoIterator<Item = u8>) -> Vec<Ipv4Addr> {
    let mut added = Vec::new();
    for last in lasts {
        let a = Ipv4Addr::new(198, 18, 0, last);
        let out = Command::new(super::programs::resolve("ip"))
            .args([
                "-n",
                &lan.ns(host),
                "addr",
                "add",
                &format!("{a}/24"),
                "dev",
                LAN_IFACE,
            ])
            .output()
            .expect("run ip");
        assert!(
            out.status.success(),
            "ip addr add {a}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        added.push(a);
    }
    added
}

/// VmRSS of process `pid` in KiB, or `None` once it is gone.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// CPU time (user and system) process `pid` has used so far.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: fields count from the last ')'.
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state.
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(Duration::from_millis(ticks * 1000 / hz))
}

/// Whether process `pid` is running (not gone, not a zombie).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.rfind(')').is_some_and(|i| !s[i..].starts_with(") Z")))
        .unwrap_or(false)
}

/// A browser frame as the datagram host `src` (port 138) sends to `dest` (`WORKGROUP<xx>`):
/// the datagram header's SOURCE_IP is `src` too.
pub fn browser_datagram(
    src: Ipv4Addr,
    from: &str,
    dest: NetbiosName,
    frame: &BrowserFrame,
) -> Vec<u8> {
    let iface = IfaceAddr {
        id: IfaceId(1),
        addr: src,
        netmask: Ipv4Addr::new(255, 255, 255, 0),
        broadcast: BROADCAST,
        mac: [0; 6],
    };
    let mut layer = DatagramLayer::new(138, Scope::none(), src.octets()[3].into());
    layer
        .mailslot(
            &iface,
            NetbiosName::new(from, 0).expect("a NetBIOS name"),
            ScopedName::unscoped(dest),
            None,
            MAILSLOT_BROWSE,
            frame.to_vec().expect("emit the frame"),
        )
        .expect("one datagram")
        .payload
}

/// A name query client that measures how long answers take.
pub struct Querier {
    socket: UdpSocket,
    next_id: u16,
}

impl Querier {
    /// A client on an ephemeral port of host `host`'s address.
    pub fn new(lan: &Lan, host: usize) -> Querier {
        let socket = udp_in(lan, host, SocketAddrV4::new(lan.ip(host), 0));
        Querier {
            socket,
            next_id: 0x7000,
        }
    }

    /// Sends a unicast query for `name` to `server` (UDP 137) and waits up to `wait` for the
    /// positive answer with its transaction ID; returns how long it took.
    pub fn query(
        &mut self,
        server: Ipv4Addr,
        name: NetbiosName,
        wait: Duration,
    ) -> Option<Duration> {
        self.next_id = self.next_id.wrapping_add(1);
        let id = self.next_id;
        let q = NameServicePacket::name_query(id, ScopedName::unscoped(name), false)
            .to_vec()
            .expect("emit a query");
        let sent = Instant::now();
        self.socket.send_to(&q, (server, 137)).ok()?;
        let until = sent + wait;
        let mut buf = [0u8; 1024];
        loop {
            let left = until.checked_duration_since(Instant::now())?;
            self.socket
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .ok()?;
            let Ok((n, _)) = self.socket.recv_from(&mut buf) else {
                return None;
            };
            if let Ok(p) = NameServicePacket::parse(&buf[..n]) {
                if p.trn_id == id && !p.answers.is_empty() {
                    return Some(sent.elapsed());
                }
            }
        }
    }
}

/// The `p`-th percentile (0 to 100) of `samples`, by the nearest-rank method.
pub fn percentile(samples: &[Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let mut v = samples.to_vec();
    v.sort();
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}
