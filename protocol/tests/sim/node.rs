//! A simulated LAN of whole hosts (name service and browser): broadcast and unicast delivery by
//! service, a clock that jumps from timer to timer, seeded loss, and hosts that can be killed.

#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use nbt_protocol::engine::browser::{BrowserConfig, Role};
use nbt_protocol::engine::names::NameConfig;
use nbt_protocol::engine::node::{Event, Node};
use nbt_protocol::engine::{IfaceAddr, IfaceId, Rng, Service};
use nbt_protocol::name::NetbiosName;

use super::{BROADCAST, NETMASK, ip};

pub const IFACE: IfaceId = IfaceId(1);

pub struct NodeHost {
    pub node: Node,
    pub addr: Ipv4Addr,
    pub up: bool,
    pub events: Vec<(Instant, Event)>,
}

/// A datagram on the wire.
#[derive(Debug, Clone)]
pub struct Frame {
    pub at: Instant,
    pub from: Ipv4Addr,
    pub service: Service,
    pub dst: SocketAddrV4,
    pub payload: Vec<u8>,
}

pub struct NodeLan {
    pub hosts: Vec<NodeHost>,
    pub start: Instant,
    pub now: Instant,
    pub wire: Vec<Frame>,
    pub keep_wire: bool,
    /// Probability in [0, 1) that a delivery is lost, per receiver.
    pub loss: f64,
    /// Deliveries to drop on purpose: `(from, to, service, payload)` gives true to drop one.
    pub cut: Option<Cut>,
    loss_rng: Rng,
}

/// A deterministic filter of deliveries, for [`NodeLan::cut`].
pub type Cut = Box<dyn FnMut(Ipv4Addr, Ipv4Addr, Service, &[u8]) -> bool>;

pub fn nb(s: &str, sfx: u8) -> NetbiosName {
    NetbiosName::new(s, sfx).unwrap()
}

pub fn configs(host: &str, wg: &str, os_level: u8) -> (NameConfig, BrowserConfig) {
    let n = NameConfig::new(nb(host, 0), nb(wg, 0));
    let mut b = BrowserConfig::new(nb(host, 0), nb(wg, 0));
    b.os_level = os_level;
    (n, b)
}

impl NodeLan {
    pub fn new(seed: u64) -> Self {
        let start = Instant::now();
        NodeLan {
            hosts: Vec::new(),
            start,
            now: start,
            wire: Vec::new(),
            keep_wire: true,
            loss: 0.0,
            cut: None,
            loss_rng: Rng::new(seed ^ 0x5eed),
        }
    }

    pub fn add(&mut self, i: u8, names: NameConfig, browser: BrowserConfig, seed: u64) -> usize {
        let addr = ip(i);
        let mut node = Node::new(names, browser, Rng::new(seed));
        node.add_interface(
            self.now,
            IfaceAddr {
                id: IFACE,
                addr,
                netmask: NETMASK,
                broadcast: BROADCAST,
                mac: [2, 0, 0, 0, 0, i],
            },
        );
        self.hosts.push(NodeHost {
            node,
            addr,
            up: true,
            events: Vec::new(),
        });
        self.hosts.len() - 1
    }

    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    fn lost(&mut self) -> bool {
        self.loss > 0.0 && (self.loss_rng.next_u64() as f64 / u64::MAX as f64) < self.loss
    }

    pub fn deliver(&mut self) {
        for _ in 0..100_000 {
            let mut moved = false;
            for h in 0..self.hosts.len() {
                if !self.hosts[h].up {
                    continue;
                }
                while let Some(e) = self.hosts[h].node.poll_event() {
                    self.hosts[h].events.push((self.now, e));
                }
                while let Some(t) = self.hosts[h].node.poll_transmit() {
                    moved = true;
                    let from = self.hosts[h].addr;
                    if self.keep_wire {
                        self.wire.push(Frame {
                            at: self.now,
                            from,
                            service: t.service,
                            dst: t.dst,
                            payload: t.payload.clone(),
                        });
                    }
                    let port = match t.service {
                        Service::Name => 137,
                        Service::Datagram => 138,
                    };
                    let src = SocketAddrV4::new(from, port);
                    let bcast = *t.dst.ip() == BROADCAST;
                    for r in 0..self.hosts.len() {
                        let to_it = bcast || self.hosts[r].addr == *t.dst.ip();
                        if !to_it || !self.hosts[r].up {
                            continue;
                        }
                        // Our own broadcasts come back without loss, as from the local kernel.
                        if r != h && self.lost() {
                            continue;
                        }
                        let to = self.hosts[r].addr;
                        if r != h
                            && self
                                .cut
                                .as_mut()
                                .is_some_and(|f| f(from, to, t.service, &t.payload))
                        {
                            continue;
                        }
                        let now = self.now;
                        self.hosts[r]
                            .node
                            .handle_datagram(now, t.service, IFACE, src, bcast, &t.payload);
                    }
                }
                while let Some(e) = self.hosts[h].node.poll_event() {
                    self.hosts[h].events.push((self.now, e));
                }
            }
            if !moved {
                return;
            }
        }
        panic!("the LAN did not settle");
    }

    pub fn run_until(&mut self, until: Instant) {
        for _ in 0..10_000_000 {
            self.deliver();
            let next = self
                .hosts
                .iter()
                .filter(|h| h.up)
                .filter_map(|h| h.node.poll_timeout())
                .min();
            match next {
                Some(t) if t <= until => {
                    self.now = self.now.max(t);
                    let now = self.now;
                    for (k, h) in self.hosts.iter_mut().enumerate().filter(|(_, h)| h.up) {
                        if h.node.poll_timeout().is_some_and(|t| t <= now) {
                            h.node.handle_timeout(now);
                            // A timer that handle_timeout leaves in the past would make a real
                            // driver spin: every timer must move on.
                            if let Some(t) = h.node.poll_timeout() {
                                assert!(
                                    t > now,
                                    "host {k}: a timer stays due after handle_timeout"
                                );
                            }
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

    pub fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    /// Runs until `pred` holds, checking after every timer, for at most `limit`; returns the
    /// simulated time it took, or `None`.
    pub fn run_until_true(
        &mut self,
        limit: Duration,
        mut pred: impl FnMut(&NodeLan) -> bool,
    ) -> Option<Duration> {
        let from = self.now;
        let until = self.now + limit;
        loop {
            if pred(self) {
                return Some(self.now - from);
            }
            let next = self
                .hosts
                .iter()
                .filter(|h| h.up)
                .filter_map(|h| h.node.poll_timeout())
                .min();
            match next {
                Some(t) if t <= until => self.run_until(t),
                _ => {
                    self.run_until(until);
                    return pred(self).then(|| self.now - from);
                }
            }
        }
    }

    pub fn role(&self, h: usize) -> Role {
        self.hosts[h].node.browser().role(IFACE).unwrap()
    }

    /// Hosts that are up, serving as master and holding `WORKGROUP<1D>`.
    pub fn masters(&self, wg: &str) -> Vec<usize> {
        (0..self.hosts.len())
            .filter(|&h| {
                self.hosts[h].up
                    && self.role(h) == Role::Master
                    && self.hosts[h].node.names().holds(IFACE, &nb(wg, 0x1D))
            })
            .collect()
    }

    /// Kills host `h` as `kill -9` would: no goodbye, no more packets.
    pub fn kill(&mut self, h: usize) {
        self.hosts[h].up = false;
    }
}
