//! A simulated LAN for engine tests: hosts on one broadcast segment, a simulated clock that jumps
//! to the next timer, and a fake client whose packets the test injects and whose answers it reads.

#![allow(dead_code)]

pub mod node;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use nbt_protocol::engine::names::{Disposition, NameConfig, NameEngine, NameEvent};
use nbt_protocol::engine::{IfaceAddr, IfaceId, Rng, Transmit};
use nbt_protocol::name::{NetbiosName, ScopedName};
use nbt_protocol::wire::ns::NameServicePacket;

/// The subnet: 198.18.0.0/24.
pub const NETMASK: Ipv4Addr = Ipv4Addr::new(255, 255, 255, 0);
/// Its broadcast address.
pub const BROADCAST: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 255);

/// Address of host `i` (1-based).
pub fn ip(i: u8) -> Ipv4Addr {
    Ipv4Addr::new(198, 18, 0, i)
}

/// One simulated host running a name engine on one interface address.
pub struct Host {
    pub engine: NameEngine,
    pub iface: IfaceAddr,
    pub events: Vec<(Instant, NameEvent)>,
    pub up: bool,
}

/// A datagram seen on the wire, with when and from whom.
#[derive(Debug, Clone)]
pub struct Sent {
    pub at: Instant,
    pub from: Ipv4Addr,
    pub dst: SocketAddrV4,
    pub payload: Vec<u8>,
}

/// The LAN: hosts, the clock, and everything sent.
pub struct Lan {
    pub hosts: Vec<Host>,
    pub start: Instant,
    pub now: Instant,
    /// Every datagram any host sent, in order.
    pub wire: Vec<Sent>,
    /// Datagrams sent to addresses no host has (answers to the fake client).
    pub outside: Vec<Sent>,
}

pub fn name(s: &str, sfx: u8) -> NetbiosName {
    NetbiosName::new(s, sfx).unwrap()
}

/// The name engine's defaults for `host` in workgroup LABWG.
pub fn host_config(host: &str) -> NameConfig {
    NameConfig::new(name(host, 0), name("LABWG", 0))
}

/// A name without a scope.
pub fn scoped(s: &str, sfx: u8) -> ScopedName {
    ScopedName::unscoped(name(s, sfx))
}

/// A datagram the test knows to be a valid name-service packet.
pub fn parse(b: &[u8]) -> NameServicePacket {
    NameServicePacket::parse(b).unwrap()
}

impl Lan {
    pub fn new() -> Self {
        let start = Instant::now();
        Lan {
            hosts: Vec::new(),
            start,
            now: start,
            wire: Vec::new(),
            outside: Vec::new(),
        }
    }

    /// Adds host number `i` (address 198.18.0.i) with `config`; it starts registering now.
    pub fn add_host(&mut self, i: u8, config: NameConfig, seed: u64) -> usize {
        let iface = IfaceAddr {
            id: IfaceId(1),
            addr: ip(i),
            netmask: NETMASK,
            broadcast: BROADCAST,
            mac: [0x02, 0, 0, 0, 0, i],
        };
        let mut engine = NameEngine::new(config, Rng::new(seed));
        engine.add_interface(self.now, iface.clone());
        self.hosts.push(Host {
            engine,
            iface,
            events: Vec::new(),
            up: true,
        });
        self.hosts.len() - 1
    }

    /// Seconds since the start, for messages.
    pub fn t(&self) -> Duration {
        self.now - self.start
    }

    /// Delivers every queued datagram (and what answers provoke) until all queues are empty.
    pub fn deliver(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            for h in 0..self.hosts.len() {
                while let Some(t) = self.hosts[h].engine.poll_transmit() {
                    moved = true;
                    let from = self.hosts[h].iface.addr;
                    self.route(from, t);
                }
                while let Some(e) = self.hosts[h].engine.poll_event() {
                    self.hosts[h].events.push((self.now, e));
                }
            }
            if !moved {
                return;
            }
        }
        panic!("the LAN did not settle");
    }

    fn route(&mut self, from: Ipv4Addr, t: Transmit) {
        let sent = Sent {
            at: self.now,
            from,
            dst: t.dst,
            payload: t.payload.clone(),
        };
        self.wire.push(sent.clone());
        let src = SocketAddrV4::new(from, 137);
        if *t.dst.ip() == BROADCAST {
            // The sender's own kernel loops broadcasts back to it, as on a real host.
            for h in 0..self.hosts.len() {
                if self.hosts[h].up {
                    self.inject_to(h, src, true, &t.payload);
                }
            }
        } else if let Some(h) = self.hosts.iter().position(|h| h.iface.addr == *t.dst.ip()) {
            if self.hosts[h].up {
                self.inject_to(h, src, false, &t.payload);
            }
        } else {
            self.outside.push(sent);
        }
    }

    /// Hands a datagram to host `h` as if it arrived from `src`.
    pub fn inject_to(
        &mut self,
        h: usize,
        src: SocketAddrV4,
        broadcast: bool,
        bytes: &[u8],
    ) -> Disposition {
        let now = self.now;
        self.hosts[h]
            .engine
            .handle_datagram(now, IfaceId(1), src, broadcast, bytes)
    }

    /// Sends a datagram from a client outside the hosts (at `src`) and delivers what follows.
    pub fn client_send(
        &mut self,
        src: SocketAddrV4,
        dst: Ipv4Addr,
        bytes: &[u8],
    ) -> Vec<Disposition> {
        let mut out = Vec::new();
        for h in 0..self.hosts.len() {
            if self.hosts[h].up && (dst == BROADCAST || self.hosts[h].iface.addr == dst) {
                out.push(self.inject_to(h, src, dst == BROADCAST, bytes));
            }
        }
        self.deliver();
        out
    }

    /// Runs timers and deliveries until `until` (simulated), jumping from timer to timer.
    pub fn run_until(&mut self, until: Instant) {
        for _ in 0..1_000_000 {
            self.deliver();
            let next = self
                .hosts
                .iter()
                .filter(|h| h.up)
                .filter_map(|h| h.engine.poll_timeout())
                .min();
            match next {
                Some(t) if t <= until => {
                    self.now = self.now.max(t);
                    for h in self.hosts.iter_mut().filter(|h| h.up) {
                        h.engine.handle_timeout(self.now);
                        // A timer left due would make a real driver spin.
                        if let Some(t) = h.engine.poll_timeout() {
                            assert!(t > self.now, "a timer stays due after handle_timeout");
                        }
                    }
                }
                _ => {
                    self.now = self.now.max(until);
                    self.deliver();
                    return;
                }
            }
        }
        panic!("timers did not settle");
    }

    /// Runs for `d` more simulated time.
    pub fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    /// Takes the answers sent to addresses outside the LAN's hosts.
    pub fn take_outside(&mut self) -> Vec<Sent> {
        std::mem::take(&mut self.outside)
    }
}
