//! Sockets and the request/answer loop shared by `lookup` and `status`: choose interfaces, open
//! UDP sockets, send a request a bounded number of times and hand every reply to the caller
//! until a deadline.

use std::future::poll_fn;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::task::Poll;
use std::time::Duration;

use anyhow::{Context, bail};
use nbtd::iface::{self, Filter, Interface, SkipReason};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::ReadBuf;
use tokio::net::UdpSocket;
use tokio::time::Instant;

/// Largest reply read; anything longer is cut and will not parse.
const RECV_BUF: usize = 65_536;
/// Receive errors tolerated in one exchange before giving up.
const MAX_RECV_ERRORS: u32 = 100;
/// Receive buffer asked of the kernel, so that a burst of answers is not dropped.
const SOCKET_RCVBUF: usize = 1 << 20;

/// Which interfaces a broadcast goes out on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum IfaceChoice {
    /// The first usable interface.
    #[default]
    First,
    /// The interface with this name.
    Named(String),
    /// Every usable interface.
    All,
}

/// Chooses the broadcast interfaces from this host's interfaces.
pub fn choose_interfaces(choice: &IfaceChoice) -> anyhow::Result<Vec<Interface>> {
    let filter = match choice {
        IfaceChoice::Named(n) => Filter {
            allow: vec![n.clone()],
            deny: Vec::new(),
        },
        _ => Filter::default(),
    };
    let (used, skipped) = iface::scan(&filter);
    let usable = || iface::scan(&Filter::default()).0;
    pick_interfaces(choice, used, &skipped, usable).map_err(anyhow::Error::msg)
}

/// The choice applied to a scan's result; `usable` lists the default choice for error messages.
fn pick_interfaces(
    choice: &IfaceChoice,
    used: Vec<Interface>,
    skipped: &[(String, SkipReason)],
    usable: impl FnOnce() -> Vec<Interface>,
) -> Result<Vec<Interface>, String> {
    let names = |v: &[Interface]| {
        let mut n: Vec<&str> = v.iter().map(|i| i.name.as_str()).collect();
        n.dedup();
        n.join(", ")
    };
    match choice {
        IfaceChoice::Named(n) => {
            let v: Vec<Interface> = used.into_iter().filter(|i| &i.name == n).collect();
            if let Some(first) = v.into_iter().next() {
                return Ok(vec![first]);
            }
            let why = skipped
                .iter()
                .find(|(s, _)| s == n)
                .map(|(_, r)| r.describe());
            let others = usable();
            let hint = if others.is_empty() {
                "no interface is usable; ask a server with --server IP".to_owned()
            } else {
                format!("usable interfaces: {}", names(&others))
            };
            Err(match why {
                Some(why) => format!("interface {n} cannot broadcast: {why}; {hint}"),
                None => format!("there is no interface named {n}; {hint}"),
            })
        }
        IfaceChoice::First | IfaceChoice::All => {
            if used.is_empty() {
                let mut why: Vec<String> = skipped
                    .iter()
                    .map(|(n, r)| format!("{n}: {}", r.describe()))
                    .collect();
                why.dedup();
                return Err(format!(
                    "no usable interface to broadcast on ({}); name one with --iface NAME, or \
                     ask a server with --server IP",
                    if why.is_empty() {
                        "none found".to_owned()
                    } else {
                        why.join("; ")
                    }
                ));
            }
            if *choice == IfaceChoice::First {
                Ok(used.into_iter().take(1).collect())
            } else {
                Ok(used)
            }
        }
    }
}

/// A socket and what it is for, as shown to the user.
#[derive(Debug)]
pub struct Endpoint {
    /// The socket.
    pub socket: UdpSocket,
    /// `lan0` for a broadcast interface, `unicast` otherwise.
    pub label: String,
}

fn udp_socket(bind: Ipv4Addr, broadcast: bool) -> io::Result<Socket> {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_broadcast(broadcast)?;
    // A larger buffer is only a help; the default works too.
    let _ = s.set_recv_buffer_size(SOCKET_RCVBUF);
    s.set_nonblocking(true)?;
    s.bind(&SocketAddrV4::new(bind, 0).into())?;
    Ok(s)
}

/// A socket bound to an interface's address with SO_BROADCAST set. Answers come back to it by
/// unicast.
pub fn broadcast_endpoint(i: &Interface) -> anyhow::Result<Endpoint> {
    let s = udp_socket(i.addr, true).with_context(|| {
        format!(
            "cannot open a UDP socket on {} ({}); check that the address is still there",
            i.name, i.addr
        )
    })?;
    // Pin the socket to the interface when allowed (root or CAP_NET_RAW); the bound address
    // already picks the interface on ordinary routing tables.
    let _ = s.bind_device(Some(i.name.as_bytes()));
    Ok(Endpoint {
        socket: UdpSocket::from_std(s.into())?,
        label: i.name.clone(),
    })
}

/// A socket on an ephemeral port of every address, without SO_BROADCAST: the kernel refuses
/// to send it to a broadcast address.
pub fn unicast_endpoint() -> anyhow::Result<Endpoint> {
    let s = udp_socket(Ipv4Addr::UNSPECIFIED, false)
        .context("cannot open a UDP socket on an ephemeral port")?;
    Ok(Endpoint {
        socket: UdpSocket::from_std(s.into())?,
        label: "unicast".to_owned(),
    })
}

/// Explains a failed send and what to do about it.
pub fn send_error(dest: SocketAddrV4, via: &str, e: &io::Error) -> String {
    let hint = match e.kind() {
        io::ErrorKind::PermissionDenied => {
            if via == "unicast" {
                "; is it a broadcast address? Use --iface to broadcast"
            } else {
                "; a firewall may block it"
            }
        }
        io::ErrorKind::NetworkUnreachable | io::ErrorKind::HostUnreachable => {
            "; check the address: there is no route to it"
        }
        _ => "",
    };
    format!("cannot send to {dest} ({via}): {e}{hint}")
}

/// The next datagram on any of the sockets: the socket's index, and the length and source.
pub async fn recv_any(
    sockets: &[&UdpSocket],
    buf: &mut [u8],
) -> (usize, io::Result<(usize, SocketAddr)>) {
    poll_fn(|cx| {
        for (i, s) in sockets.iter().enumerate() {
            let mut rb = ReadBuf::new(buf);
            match s.poll_recv_from(cx, &mut rb) {
                Poll::Ready(Ok(from)) => return Poll::Ready((i, Ok((rb.filled().len(), from)))),
                Poll::Ready(Err(e)) => return Poll::Ready((i, Err(e))),
                Poll::Pending => {}
            }
        }
        Poll::Pending
    })
    .await
}

/// What the caller wants after a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep collecting until the deadline.
    Continue,
    /// Done: stop now.
    Stop,
    /// Collect for at most this much longer (never past the deadline already set).
    Within(Duration),
}

/// One request sent to a list of destinations, `sends` times, `interval` apart, with replies
/// collected until `deadline` after the first send.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    /// The request's bytes.
    pub packet: &'a [u8],
    /// Destinations: the endpoint index and the address.
    pub dests: Vec<(usize, SocketAddrV4)>,
    /// How many times to send (at least 1).
    pub sends: u32,
    /// Time between sends.
    pub interval: Duration,
    /// When to stop collecting, from the first send.
    pub deadline: Duration,
}

/// Runs a plan: calls `on_reply(endpoint index, source, bytes)` for every IPv4 datagram.
pub async fn run(
    endpoints: &[Endpoint],
    plan: &Plan<'_>,
    verbose: bool,
    mut on_reply: impl FnMut(usize, SocketAddrV4, &[u8]) -> Flow,
) -> anyhow::Result<()> {
    let sockets: Vec<&UdpSocket> = endpoints.iter().map(|e| &e.socket).collect();
    let mut buf = vec![0u8; RECV_BUF];
    let start = Instant::now();
    let mut deadline = start + plan.deadline;
    let mut sent_rounds = 0u32;
    let mut failed: Vec<bool> = vec![false; plan.dests.len()];
    let mut recv_errors = 0u32;
    let sends = plan.sends.max(1);
    loop {
        let now = Instant::now();
        let next_send = start + plan.interval * sent_rounds;
        if sent_rounds < sends && now >= next_send && (sent_rounds == 0 || now < deadline) {
            let mut errors = Vec::new();
            for (k, &(i, dest)) in plan.dests.iter().enumerate() {
                let ep = &endpoints[i];
                if verbose {
                    eprintln!(
                        "nbt: sending {} bytes to {dest} ({}), try {}",
                        plan.packet.len(),
                        ep.label,
                        sent_rounds + 1
                    );
                }
                if let Err(e) = ep.socket.send_to(plan.packet, SocketAddr::V4(dest)).await {
                    let msg = send_error(dest, &ep.label, &e);
                    if !failed[k] {
                        failed[k] = true;
                        if sent_rounds > 0 || plan.dests.len() > 1 {
                            eprintln!("nbt: warning: {msg}");
                        }
                    }
                    errors.push(msg);
                }
            }
            if sent_rounds == 0 && errors.len() == plan.dests.len() {
                bail!("{}", errors.swap_remove(0));
            }
            sent_rounds += 1;
            continue;
        }
        if now >= deadline {
            return Ok(());
        }
        let wake = if sent_rounds < sends {
            next_send.min(deadline)
        } else {
            deadline
        };
        let event = tokio::select! {
            r = recv_any(&sockets, &mut buf) => Some(r),
            _ = tokio::time::sleep_until(wake) => None,
        };
        match event {
            None => {}
            Some((i, Ok((n, SocketAddr::V4(from))))) => match on_reply(i, from, &buf[..n]) {
                Flow::Continue => {}
                Flow::Stop => return Ok(()),
                Flow::Within(d) => deadline = deadline.min(Instant::now() + d),
            },
            Some((_, Ok((_, SocketAddr::V6(_))))) => {}
            Some((i, Err(e))) => {
                recv_errors += 1;
                if verbose {
                    eprintln!("nbt: receive error on {}: {e}", endpoints[i].label);
                }
                if recv_errors > MAX_RECV_ERRORS {
                    bail!(
                        "receiving on {} keeps failing ({e}); check the interface",
                        endpoints[i].label
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lan(name: &str, last: u8) -> Interface {
        Interface {
            name: name.into(),
            index: 2,
            addr: Ipv4Addr::new(198, 18, 0, last),
            prefix: 24,
            netmask: Ipv4Addr::new(255, 255, 255, 0),
            broadcast: Ipv4Addr::new(198, 18, 0, 255),
            mac: [0; 6],
        }
    }

    #[test]
    fn first_and_all() {
        let used = vec![lan("eth0", 1), lan("eth1", 2)];
        let got = pick_interfaces(&IfaceChoice::First, used.clone(), &[], Vec::new).unwrap();
        assert_eq!(got, vec![lan("eth0", 1)]);
        let got = pick_interfaces(&IfaceChoice::All, used.clone(), &[], Vec::new).unwrap();
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn none_usable_says_why_and_what_to_do() {
        let skipped = vec![
            ("lo".to_owned(), SkipReason::Loopback),
            ("eth0".to_owned(), SkipReason::Down),
        ];
        let e = pick_interfaces(&IfaceChoice::First, Vec::new(), &skipped, Vec::new).unwrap_err();
        assert!(e.contains("eth0: down"), "{e}");
        assert!(e.contains("--iface") && e.contains("--server"), "{e}");
    }

    #[test]
    fn named_interface() {
        let named = IfaceChoice::Named("lan0".into());
        let got = pick_interfaces(&named, vec![lan("lan0", 3)], &[], Vec::new).unwrap();
        assert_eq!(got[0].name, "lan0");
        let e = pick_interfaces(&named, Vec::new(), &[], || vec![lan("eth0", 1)]).unwrap_err();
        assert_eq!(
            e,
            "there is no interface named lan0; usable interfaces: eth0"
        );
        let skipped = vec![("lan0".to_owned(), SkipReason::Down)];
        let e = pick_interfaces(&named, Vec::new(), &skipped, Vec::new).unwrap_err();
        assert!(
            e.starts_with("interface lan0 cannot broadcast: down;"),
            "{e}"
        );
    }

    #[test]
    fn send_error_hints() {
        let d: SocketAddrV4 = "198.18.0.255:137".parse().unwrap();
        let e = io::Error::from(io::ErrorKind::PermissionDenied);
        assert!(send_error(d, "unicast", &e).contains("--iface"));
    }
}
