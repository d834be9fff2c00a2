//! The WINS client (RFC 1002 §5.1.2, as Samba's nmbd does it with `wins server`): registers
//! nbtd's names with a NetBIOS name server by unicast, refreshes them before the server forgets
//! them, and releases them at shutdown. Broadcast registration on every interface goes on beside
//! it unchanged.
//!
//! Rules, each where the code applies it:
//! - **Address**: the names are registered with one address, that of the interface whose subnet
//!   holds the first server, else the first interface. When that choice changes, the names are
//!   released for the old address (if it still works) and registered for the new one.
//! - **Registration**: a NAME REGISTRATION REQUEST, unicast with RD set and H-node flags (nmbd's
//!   with a WINS server), goes to the server three times, 5 s apart (UCAST_REQ_RETRY_COUNT,
//!   UCAST_REQ_RETRY_TIMEOUT), with one transaction ID. Like nmbd, any answer with RCODE 0 grants
//!   the name, for the TTL it gives; any other RCODE refuses it for good (another host holds it
//!   there) and it is not asked for again until a restart.
//! - **WACK**: the server is checking the name's old owner; the client waits the TTL the WACK
//!   gives (1 s to 2 minutes), then asks once more.
//! - **Silence**: no answer after the last try of a registration or a refresh, and with more
//!   than one server configured every name is registered with the next one at once (the names
//!   stay with it until it fails too). When none has answered since the last answer, the whole
//!   registration starts again after [`WINS_RETRY`], with the first server.
//! - **Refresh**: a NAME REFRESH REQUEST goes out after half the granted TTL, and at least every
//!   [`MAX_REFRESH`] (nmbd's MAX_REFRESH_TIME), with the same retries. Silence starts the
//!   registration over (with the next server, when there is one); a refusal ends it.
//! - **Release**: at shutdown a NAME RELEASE REQUEST goes to the server for every name it holds;
//!   nothing waits for the answer.
//! - **Trust**: only a response from the current server's address, with the transaction ID of a
//!   request in flight and the same name, changes anything.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use super::{IfaceAddr, IfaceId, Instant};
use crate::name::{NetbiosName, Scope, ScopedName};
use crate::wire::ns::{NameServicePacket, NbAddress, NbFlags, NodeType, Opcode, Rcode};

/// UCAST_REQ_RETRY_TIMEOUT (RFC 1002 §6).
pub const UCAST_REQ_RETRY_TIMEOUT: Duration = Duration::from_secs(5);
/// UCAST_REQ_RETRY_COUNT (RFC 1002 §6): transmissions of a unicast request.
pub const UCAST_REQ_RETRY_COUNT: u8 = 3;
/// How long after an unanswered registration it starts again (Samba's `wins_retry`).
pub const WINS_RETRY: Duration = Duration::from_secs(300);
/// The longest time between two refreshes of a name (nmbd's MAX_REFRESH_TIME).
pub const MAX_REFRESH: Duration = Duration::from_secs(20 * 60);
/// Bounds of the wait a WACK asks for.
const WACK_WAIT: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(120));

/// Where one name stands with the WINS server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WinsState {
    /// Registration requests are going out.
    Registering,
    /// The server holds the name for us, for `ttl` seconds (0: for ever) from the last answer.
    Registered {
        /// The TTL the server granted, in seconds.
        ttl: u32,
    },
    /// A refresh is going out; the server still holds the name.
    Refreshing {
        /// The TTL of the last grant, in seconds.
        ttl: u32,
    },
    /// The server refused the name: another host holds it there. Not asked for again.
    Refused {
        /// The RCODE of the refusal.
        rcode: Rcode,
    },
    /// The server did not answer; the registration starts again at the next due time.
    NoAnswer,
}

/// One of our names with the WINS server, for the control socket.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WinsNameInfo {
    /// The name.
    pub name: NetbiosName,
    /// Whether it is a group name.
    pub group: bool,
    /// Its state.
    pub state: WinsState,
    /// When the client acts on it next: a retry, a refresh or a new registration.
    pub due: Option<Instant>,
}

/// The WINS client's view, for the control socket.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WinsStatus {
    /// The server in use.
    pub server: Ipv4Addr,
    /// Every server configured, in order.
    pub servers: Vec<Ipv4Addr>,
    /// The interface address registered with it (none before an interface is up).
    pub address: Option<Ipv4Addr>,
    /// Each name.
    pub names: Vec<WinsNameInfo>,
}

/// What the WINS client reports; it reaches the driver as a [`super::NameEvent::Wins`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WinsEvent {
    /// The server granted a name (a registration or a refresh).
    Registered {
        /// The server.
        server: Ipv4Addr,
        /// The name.
        name: NetbiosName,
        /// Whether it is a group name.
        group: bool,
        /// The address registered.
        address: Ipv4Addr,
        /// The TTL granted, in seconds.
        ttl: u32,
        /// Whether it was a refresh of a name the server already held.
        refresh: bool,
    },
    /// The server refused a name.
    Refused {
        /// The server.
        server: Ipv4Addr,
        /// The name.
        name: NetbiosName,
        /// The address that was offered.
        address: Ipv4Addr,
        /// The RCODE of the refusal.
        rcode: Rcode,
    },
    /// The server `from` did not answer; every name is registered with `to` now.
    Switched {
        /// The server that went silent.
        from: Ipv4Addr,
        /// The next one.
        to: Ipv4Addr,
    },
    /// No server answered `names` requests; they start again after `retry`, with the first.
    NoAnswer {
        /// How many names went unanswered.
        names: usize,
        /// When the registration starts again.
        retry: Duration,
    },
    /// The names were released with the server for `address`.
    Released {
        /// The server.
        server: Ipv4Addr,
        /// How many names.
        names: usize,
        /// The address they were registered for.
        address: Ipv4Addr,
    },
}

#[derive(Debug, Clone)]
struct Entry {
    name: NetbiosName,
    group: bool,
    state: WinsState,
    trn_id: u16,
    /// Transmissions of the request in flight.
    sent: u8,
    due: Option<Instant>,
}

/// A request for the engine to send to the server, from interface `iface`.
pub(super) struct Request {
    /// The interface whose socket sends it.
    pub iface: IfaceId,
    /// The request.
    pub packet: NameServicePacket,
}

/// The WINS client of one host: one server in use, one registered address.
#[derive(Debug, Clone)]
pub(super) struct WinsClient {
    /// The servers in order; never empty.
    servers: Vec<Ipv4Addr>,
    /// The one in use.
    current: usize,
    /// Servers that went silent in a row since the last answer.
    silent: usize,
    port: u16,
    /// The TTL asked for.
    ttl: u32,
    scope: Scope,
    /// The interface address registered.
    iface: Option<IfaceAddr>,
    entries: Vec<Entry>,
}

impl WinsClient {
    /// A client for `servers` (tried in order) on `port` that will register `names` (with
    /// whether each is a group); `None` without a server.
    pub fn new(
        servers: &[Ipv4Addr],
        port: u16,
        ttl: u32,
        scope: Scope,
        names: &[(NetbiosName, bool)],
    ) -> Option<Self> {
        if servers.is_empty() {
            return None;
        }
        Some(WinsClient {
            servers: servers.to_vec(),
            current: 0,
            silent: 0,
            port,
            ttl,
            scope,
            iface: None,
            entries: names
                .iter()
                .map(|&(name, group)| Entry {
                    name,
                    group,
                    state: WinsState::Registering,
                    trn_id: 0,
                    sent: 0,
                    due: None,
                })
                .collect(),
        })
    }

    /// The address of the server in use.
    pub fn server(&self) -> Ipv4Addr {
        self.servers[self.current]
    }

    /// Where the server in use is.
    pub fn dst(&self) -> SocketAddrV4 {
        SocketAddrV4::new(self.server(), self.port)
    }

    /// The status for the control socket.
    pub fn status(&self) -> WinsStatus {
        WinsStatus {
            server: self.server(),
            servers: self.servers.clone(),
            address: self.iface.as_ref().map(|i| i.addr),
            names: self
                .entries
                .iter()
                .map(|e| WinsNameInfo {
                    name: e.name,
                    group: e.group,
                    state: e.state,
                    due: e.due,
                })
                .collect(),
        }
    }

    /// When [`WinsClient::on_timeout`] is next due.
    pub fn due(&self) -> Option<Instant> {
        self.entries.iter().filter_map(|e| e.due).min()
    }

    /// Picks the interface address to register among `ifaces` (the one whose subnet holds
    /// the first server, else the first). When it changes, the names held for the old one are
    /// released (if `old_works`: that address is still up) and registration starts for the
    /// new one.
    pub fn choose<'a>(
        &mut self,
        now: Instant,
        ifaces: impl Iterator<Item = &'a IfaceAddr> + Clone,
        old_works: bool,
        trn: &mut impl FnMut() -> u16,
        out: &mut Vec<Request>,
        events: &mut Vec<WinsEvent>,
    ) {
        let server = self.servers[0];
        let pick = ifaces
            .clone()
            .find(|i| i.contains(server))
            .or_else(|| ifaces.clone().next())
            .cloned();
        let same = match (&pick, &self.iface) {
            (Some(a), Some(b)) => a.id == b.id && a.addr == b.addr,
            (None, None) => true,
            _ => false,
        };
        if same {
            return;
        }
        if old_works {
            self.release(trn, out, events);
        }
        self.iface = pick;
        if self.iface.is_none() {
            for e in &mut self.entries {
                if !matches!(e.state, WinsState::Refused { .. }) {
                    e.state = WinsState::Registering;
                }
                e.due = None;
            }
            return;
        }
        for i in 0..self.entries.len() {
            if !matches!(self.entries[i].state, WinsState::Refused { .. }) {
                self.start_registration(now, i, trn, out);
            }
        }
    }

    /// Releases every name the server holds for us, and stops (shutdown, or a new address).
    pub fn release(
        &mut self,
        trn: &mut impl FnMut() -> u16,
        out: &mut Vec<Request>,
        events: &mut Vec<WinsEvent>,
    ) {
        let Some(iface) = self.iface.clone() else {
            return;
        };
        let mut released = 0;
        for e in &mut self.entries {
            let held = matches!(
                e.state,
                WinsState::Registered { .. } | WinsState::Refreshing { .. }
            );
            if held {
                let p = NameServicePacket::release_request(
                    trn(),
                    ScopedName {
                        name: e.name,
                        scope: self.scope.clone(),
                    },
                    nb(iface.addr, e.group),
                    false,
                );
                out.push(Request {
                    iface: iface.id,
                    packet: p,
                });
                released += 1;
            }
            if !matches!(e.state, WinsState::Refused { .. }) {
                e.state = WinsState::Registering;
            }
            e.due = None;
        }
        if released > 0 {
            events.push(WinsEvent::Released {
                server: self.server(),
                names: released,
                address: iface.addr,
            });
        }
    }

    /// Retries, refreshes and restarts whatever is due at `now`.
    pub fn on_timeout(
        &mut self,
        now: Instant,
        trn: &mut impl FnMut() -> u16,
        out: &mut Vec<Request>,
        events: &mut Vec<WinsEvent>,
    ) {
        // Registrations and refreshes that ran out of tries: the server in use is silent.
        // They are dealt with first, so that everything sent below goes to one server.
        let silent: Vec<usize> = (0..self.entries.len())
            .filter(|&i| {
                let e = &self.entries[i];
                e.due.is_some_and(|d| d <= now)
                    && e.sent >= UCAST_REQ_RETRY_COUNT
                    && matches!(
                        e.state,
                        WinsState::Registering | WinsState::Refreshing { .. }
                    )
            })
            .collect();
        if !silent.is_empty() {
            self.silent += 1;
            if self.silent < self.servers.len() {
                // The next server takes every name at once.
                let from = self.server();
                self.current = (self.current + 1) % self.servers.len();
                events.push(WinsEvent::Switched {
                    from,
                    to: self.server(),
                });
                for i in 0..self.entries.len() {
                    if !matches!(self.entries[i].state, WinsState::Refused { .. }) {
                        self.start_registration(now, i, trn, out);
                    }
                }
                return;
            }
            // None answered: the next round starts with the first server.
            self.silent = 0;
            self.current = 0;
            let mut unanswered = 0;
            for i in silent {
                if self.entries[i].state == WinsState::Registering {
                    let e = &mut self.entries[i];
                    e.state = WinsState::NoAnswer;
                    e.due = Some(now + WINS_RETRY);
                    unanswered += 1;
                } else {
                    // A refresh: the server forgot us, or is gone; register from scratch, as
                    // Samba does.
                    self.start_registration(now, i, trn, out);
                }
            }
            if unanswered > 0 {
                events.push(WinsEvent::NoAnswer {
                    names: unanswered,
                    retry: WINS_RETRY,
                });
            }
        }
        for i in 0..self.entries.len() {
            let Entry { state, due, .. } = self.entries[i];
            if due.is_none_or(|d| d > now) {
                continue;
            }
            match state {
                WinsState::Registering | WinsState::Refreshing { .. } => {
                    // A retry: the ones out of tries were dealt with above.
                    let e = &mut self.entries[i];
                    e.sent += 1;
                    e.due = Some(now + UCAST_REQ_RETRY_TIMEOUT);
                    self.send(i, out);
                }
                WinsState::Registered { ttl } => {
                    let e = &mut self.entries[i];
                    e.state = WinsState::Refreshing { ttl };
                    e.trn_id = trn();
                    e.sent = 1;
                    e.due = Some(now + UCAST_REQ_RETRY_TIMEOUT);
                    self.send(i, out);
                }
                WinsState::NoAnswer => self.start_registration(now, i, trn, out),
                WinsState::Refused { .. } => self.entries[i].due = None,
            }
        }
    }

    /// Handles a registration, refresh or WACK response from the server. Returns whether it
    /// answered a request in flight.
    pub fn on_response(
        &mut self,
        now: Instant,
        p: &NameServicePacket,
        name: &NetbiosName,
        events: &mut Vec<WinsEvent>,
    ) -> bool {
        let Some(address) = self.iface.as_ref().map(|i| i.addr) else {
            return false;
        };
        let server = self.server();
        let Some(e) = self.entries.iter_mut().find(|e| {
            e.trn_id == p.trn_id
                && e.name == *name
                && matches!(
                    e.state,
                    WinsState::Registering | WinsState::Refreshing { .. }
                )
                && e.sent > 0
        }) else {
            return false;
        };
        let ttl = p.answers.first().map_or(0, |a| a.ttl);
        if p.opcode == Opcode::Wack {
            let wait = Duration::from_secs(u64::from(ttl)).clamp(WACK_WAIT.0, WACK_WAIT.1);
            // One more request once the wait is over, then silence counts as no answer.
            e.sent = UCAST_REQ_RETRY_COUNT - 1;
            e.due = Some(now + wait);
            return true;
        }
        let refresh = matches!(e.state, WinsState::Refreshing { .. });
        self.silent = 0;
        if p.rcode == Rcode::OK {
            e.state = WinsState::Registered { ttl };
            e.sent = 0;
            e.due = Some(now + refresh_after(ttl));
            events.push(WinsEvent::Registered {
                server,
                name: e.name,
                group: e.group,
                address,
                ttl,
                refresh,
            });
        } else {
            e.state = WinsState::Refused { rcode: p.rcode };
            e.sent = 0;
            e.due = None;
            events.push(WinsEvent::Refused {
                server,
                name: e.name,
                address,
                rcode: p.rcode,
            });
        }
        true
    }

    fn start_registration(
        &mut self,
        now: Instant,
        i: usize,
        trn: &mut impl FnMut() -> u16,
        out: &mut Vec<Request>,
    ) {
        let e = &mut self.entries[i];
        e.state = WinsState::Registering;
        e.trn_id = trn();
        e.sent = 1;
        e.due = Some(now + UCAST_REQ_RETRY_TIMEOUT);
        self.send(i, out);
    }

    /// Sends entry `i`'s request in flight (registration or refresh).
    fn send(&self, i: usize, out: &mut Vec<Request>) {
        let Some(iface) = &self.iface else {
            return;
        };
        let e = &self.entries[i];
        let name = ScopedName {
            name: e.name,
            scope: self.scope.clone(),
        };
        let nb = nb(iface.addr, e.group);
        let packet = if matches!(e.state, WinsState::Refreshing { .. }) {
            NameServicePacket::refresh_request(e.trn_id, name, self.ttl, nb, false)
        } else {
            NameServicePacket::registration_request(e.trn_id, name, self.ttl, nb, false)
        };
        out.push(Request {
            iface: iface.id,
            packet,
        });
    }
}

/// The engine's side of the client: it owns it, feeds it and queues what it produces.
impl super::NameEngine {
    /// The WINS client's view, when a server is configured.
    pub fn wins_status(&self) -> Option<WinsStatus> {
        self.wins.as_ref().map(|w| w.status())
    }

    /// Hands a response from the WINS server to the client; false if it answers no request
    /// of the client's (it may answer a broadcast registration: the server is a host too).
    pub(super) fn on_wins_response(
        &mut self,
        now: Instant,
        p: &NameServicePacket,
        name: &NetbiosName,
    ) -> bool {
        let Some(mut w) = self.wins.take() else {
            return false;
        };
        let mut events = Vec::new();
        let answered = w.on_response(now, p, name, &mut events);
        self.wins_output(w, Vec::new(), events);
        answered
    }

    /// Lets the WINS client pick its interface address again after the interfaces changed;
    /// `old_works` says whether a previously chosen address still works (to release there).
    pub(super) fn wins_choose(&mut self, now: Instant, old_works: bool) {
        let Some(mut w) = self.wins.take() else {
            return;
        };
        let mut out = Vec::new();
        let mut events = Vec::new();
        let mut next = self.next_trn_id;
        let mut trn = || {
            let t = next;
            next = next.wrapping_add(1);
            t
        };
        w.choose(
            now,
            self.ifaces.values().map(|i| &i.addr),
            old_works,
            &mut trn,
            &mut out,
            &mut events,
        );
        self.next_trn_id = next;
        self.wins_output(w, out, events);
    }

    /// Runs the client's due timers.
    pub(super) fn wins_timeout(&mut self, now: Instant) {
        if let Some(mut w) = self.wins.take() {
            let mut out = Vec::new();
            let mut events = Vec::new();
            w.on_timeout(now, &mut || self.trn_id(), &mut out, &mut events);
            self.wins_output(w, out, events);
        }
    }

    /// Releases the names the server holds (shutdown).
    pub(super) fn wins_release(&mut self) {
        if let Some(mut w) = self.wins.take() {
            let mut out = Vec::new();
            let mut events = Vec::new();
            w.release(&mut || self.trn_id(), &mut out, &mut events);
            self.wins_output(w, out, events);
        }
    }

    /// Puts the WINS client back and queues what it produced.
    pub(super) fn wins_output(&mut self, w: WinsClient, out: Vec<Request>, events: Vec<WinsEvent>) {
        let dst = w.dst();
        self.wins = Some(w);
        for r in out {
            self.queue(r.iface, dst, &r.packet);
        }
        for e in events {
            self.event(super::NameEvent::Wins(e));
        }
    }

    pub(super) fn trn_id(&mut self) -> u16 {
        let t = self.next_trn_id;
        self.next_trn_id = self.next_trn_id.wrapping_add(1);
        t
    }
}

/// How long after a grant of `ttl` seconds the name is refreshed: half the TTL, at most
/// [`MAX_REFRESH`], at least a minute.
fn refresh_after(ttl: u32) -> Duration {
    if ttl == 0 {
        return MAX_REFRESH;
    }
    (Duration::from_secs(u64::from(ttl)) / 2).clamp(Duration::from_secs(60), MAX_REFRESH)
}

/// Our address entry as registered with WINS: H-node, as nmbd's with a WINS server.
fn nb(addr: Ipv4Addr, group: bool) -> NbAddress {
    NbAddress {
        flags: NbFlags::new(group, NodeType::H),
        addr,
    }
}
