//! The name service engine of a B-node (RFC 1001 §15, RFC 1002 §5.1.1): registers, defends,
//! answers and releases nbtd's names on every interface address.
//!
//! Rules, each where the code applies it:
//! - **Registration**: each name is broadcast in a NAME REGISTRATION REQUEST three times, 250 ms
//!   apart (BCAST_REQ_RETRY_TIMEOUT, BCAST_REQ_RETRY_COUNT, RFC 1002 §6), all with the same
//!   transaction ID. A NEGATIVE NAME REGISTRATION RESPONSE to it means another node owns the
//!   name: it is not used, and [`NameEvent::Conflict`] names the owner. Silence for 250 ms after
//!   the third try makes the name ours. Like Samba and Windows, nbtd sends no overwrite demand
//!   afterwards.
//! - **Defence**: a registration by another node of a unique name we hold gets a NEGATIVE NAME
//!   REGISTRATION RESPONSE with ACT_ERR and our address. Group names are never defended.
//! - **Queries**: a query for a name we hold gets a positive answer, broadcast or not. A unicast
//!   query for any other name gets NAM_ERR. A broadcast query is never answered negatively.
//! - **Node status**: a unicast request for `*` or for any name we hold, unique or group, is
//!   answered with every name on that interface and its MAC address as the unit ID (or zeros,
//!   with [`NameConfig::node_status_mac`] off); the rest of the statistics block is zero. The name table is cut to fit a 576-byte datagram.
//! - **Release**: [`NameEngine::shutdown`] broadcasts a NAME RELEASE REQUEST for every name held.
//!   Releases and conflict demands from other nodes for our names are ignored and reported.
//! - **Hygiene**: our own broadcasts (which the host loops back), packets with another scope, and,
//!   unless configured otherwise, packets from outside the interface's subnet are ignored, so
//!   nbtd cannot be used to reflect traffic off-link. Repeated reports about the same name are
//!   folded into one event a minute.

use std::collections::{BTreeMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use super::answers::{AnswerTable, FastAnswer, Precomputed};
use super::{IfaceAddr, IfaceId, Instant, Rng, Service, Transmit};
use crate::error::ParseError;
use crate::name::{NetbiosName, Scope, ScopedName, suffix};
use crate::wire::Emit;
use crate::wire::ns::{
    HEADER_LEN, MAX_DATAGRAM_LEN, NameFlags, NameServicePacket, NbAddress, NodeName, NodeStatus,
    NodeType, PacketKind, Rcode, Statistics,
};

/// BCAST_REQ_RETRY_TIMEOUT (RFC 1002 §6).
pub const BCAST_REQ_RETRY_TIMEOUT: Duration = Duration::from_millis(250);
/// BCAST_REQ_RETRY_COUNT (RFC 1002 §6): transmissions of a broadcast registration.
pub const BCAST_REQ_RETRY_COUNT: u8 = 3;
/// The TTL nbtd gives its names in answers: Samba's `max ttl`, three days.
pub const DEFAULT_ANSWER_TTL: u32 = 259_200;
/// The name service port.
pub const NAME_SERVICE_PORT: u16 = 137;
/// Most datagrams queued for sending; past it new ones are dropped and counted.
const MAX_QUEUED_TRANSMITS: usize = 4096;
/// Most events queued; past it new ones are dropped and counted.
const MAX_QUEUED_EVENTS: usize = 1024;
/// Reports about the same name and kind are folded for this long.
const REPORT_INTERVAL: Duration = Duration::from_secs(60);

/// What the name engine registers and how it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameConfig {
    /// The host's NetBIOS name (its suffix is ignored): registered as `<00>`, `<03>`, `<20>`.
    pub netbios_name: NetbiosName,
    /// The workgroup (its suffix is ignored): registered as group names `<00>` and `<1E>`.
    pub workgroup: NetbiosName,
    /// Extra host names, each registered like the NetBIOS name.
    pub aliases: Vec<NetbiosName>,
    /// The NetBIOS scope; packets with another scope are ignored.
    pub scope: Scope,
    /// The UDP port peers listen on: 137, or another for tests.
    pub port: u16,
    /// TTL of our names in positive answers, in seconds.
    pub answer_ttl: u32,
    /// Answer sources outside the receiving interface's subnet (off by default).
    pub answer_remote_subnets: bool,
    /// Put the interface's MAC address in node status answers as the unit ID (on by default,
    /// as Samba and Windows do); off, the whole statistics block is zero.
    pub node_status_mac: bool,
}

impl NameConfig {
    /// The built-in defaults for a host and workgroup.
    pub fn new(netbios_name: NetbiosName, workgroup: NetbiosName) -> Self {
        NameConfig {
            netbios_name,
            workgroup,
            aliases: Vec::new(),
            scope: Scope::none(),
            port: NAME_SERVICE_PORT,
            answer_ttl: DEFAULT_ANSWER_TTL,
            answer_remote_subnets: false,
            node_status_mac: true,
        }
    }

    /// The names registered on every interface, with whether each is a group name.
    pub fn names(&self) -> Vec<(NetbiosName, bool)> {
        let mut v = Vec::new();
        for host in std::iter::once(&self.netbios_name).chain(&self.aliases) {
            for sfx in [suffix::WORKSTATION, suffix::MESSENGER, suffix::SERVER] {
                v.push((host.with_suffix(sfx), false));
            }
        }
        v.push((self.workgroup.with_suffix(suffix::WORKSTATION), true));
        v.push((self.workgroup.with_suffix(suffix::BROWSER_ELECTION), true));
        v.dedup();
        v
    }
}

/// Where a name stands on one interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameState {
    /// Registration requests are going out; the name is not used yet.
    Registering,
    /// The name is ours: answered and defended.
    Active,
    /// Another node owns it; nbtd does not use it.
    Conflict {
        /// The owner's address, from its negative response.
        owner: Ipv4Addr,
    },
}

/// One of our names on one interface, as reported to the control socket.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NameInfo {
    /// The interface address.
    pub iface: IfaceId,
    /// The name.
    pub name: NetbiosName,
    /// Whether it is a group name.
    pub group: bool,
    /// Its state.
    pub state: NameState,
}

/// What happened, for logs and for the engines that depend on names (the browser).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameEvent {
    /// A registration drew no objection: the name is ours on this interface.
    Registered {
        /// Interface address.
        iface: IfaceId,
        /// The name.
        name: NetbiosName,
        /// Whether it is a group name.
        group: bool,
    },
    /// Another node answered our registration negatively: the name is not used.
    Conflict {
        /// Interface address.
        iface: IfaceId,
        /// The name.
        name: NetbiosName,
        /// The owner's address.
        owner: Ipv4Addr,
        /// The RCODE of its answer.
        rcode: Rcode,
    },
    /// Another node tried to register a unique name of ours; we refused it.
    Defended {
        /// Interface address.
        iface: IfaceId,
        /// The name.
        name: NetbiosName,
        /// Who tried.
        challenger: Ipv4Addr,
        /// Further attempts folded into this report.
        repeats: u32,
    },
    /// Another node sent a release for one of our names; nbtd keeps the name.
    ReleaseIgnored {
        /// Interface address.
        iface: IfaceId,
        /// The name.
        name: NetbiosName,
        /// The sender.
        from: Ipv4Addr,
        /// Further releases folded into this report.
        repeats: u32,
    },
    /// Another node sent a name conflict demand for one of our names; nbtd keeps the name.
    ConflictDemandIgnored {
        /// Interface address.
        iface: IfaceId,
        /// The name.
        name: NetbiosName,
        /// The sender.
        from: Ipv4Addr,
        /// Further demands folded into this report.
        repeats: u32,
    },
    /// A query started with [`NameEngine::query`] finished.
    QueryResult {
        /// The query.
        id: QueryId,
        /// Interface address it went out on.
        iface: IfaceId,
        /// The name asked for.
        name: NetbiosName,
        /// Positive answers: who answered, and the address entries they gave.
        answers: Vec<(Ipv4Addr, NbAddress)>,
        /// Negative answers: who answered and the RCODE.
        negative: Vec<(Ipv4Addr, Rcode)>,
    },
    /// A release of one of our names went out.
    Released {
        /// Interface address.
        iface: IfaceId,
        /// The name.
        name: NetbiosName,
    },
}

/// What the engine did with one datagram; the driver counts and logs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// The datagram was acted on (answered, or changed a name's state).
    Handled,
    /// Well-formed, but nothing to do, with the reason.
    Ignored(&'static str),
    /// Not a valid name service packet.
    Malformed(ParseError),
}

/// Counters for the control socket and the periodic summary of dropped input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NameCounters {
    /// Datagrams handed to the engine.
    pub received: u64,
    /// Datagrams that did not parse.
    pub malformed: u64,
    /// Datagrams ignored (ours, other scope, off-subnet, nothing to do).
    pub ignored: u64,
    /// Datagrams from outside the receiving interface's subnet, dropped.
    pub off_subnet: u64,
    /// Positive query answers sent.
    pub positive_answers: u64,
    /// Negative query answers sent.
    pub negative_answers: u64,
    /// Node status answers sent.
    pub node_status_answers: u64,
    /// Registrations of our unique names refused.
    pub defended: u64,
    /// Our registrations refused by another node.
    pub conflicts: u64,
    /// Releases and conflict demands for our names, ignored.
    pub hostile_ignored: u64,
    /// Datagrams queued for sending.
    pub sent: u64,
    /// Datagrams or events dropped because the driver did not drain the queue.
    pub queue_overflow: u64,
}

/// Identifies a query started with [`NameEngine::query`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueryId(pub u64);

/// Most queries in flight at once; a further one is refused.
pub const MAX_PENDING_QUERIES: usize = 64;

#[derive(Debug, Clone)]
struct Query {
    id: QueryId,
    iface: IfaceId,
    trn_id: u16,
    name: NetbiosName,
    target: Option<Ipv4Addr>,
    sent: u8,
    due: Instant,
    answers: Vec<(Ipv4Addr, NbAddress)>,
    negative: Vec<(Ipv4Addr, Rcode)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Report {
    Defended,
    Release,
    ConflictDemand,
}

#[derive(Debug, Clone)]
struct Entry {
    name: NetbiosName,
    group: bool,
    state: NameState,
    trn_id: u16,
    /// Registration transmissions so far.
    sent: u8,
    /// When the next registration step is due.
    due: Option<Instant>,
    /// Last report of each kind and how many were folded since.
    reports: [(Option<Instant>, u32); 3],
}

#[derive(Debug, Clone)]
struct Iface {
    addr: IfaceAddr,
    entries: Vec<Entry>,
}

impl Iface {
    /// Our active name that matches `name` without regard to case.
    fn active(&self, name: &NetbiosName) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.state == NameState::Active && e.name.eq_ignore_case(name))
    }
}

/// The name service engine for all interface addresses of one host.
#[derive(Debug)]
pub struct NameEngine {
    config: NameConfig,
    rng: Rng,
    next_trn_id: u16,
    ifaces: BTreeMap<IfaceId, Iface>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<NameEvent>,
    counters: NameCounters,
    shut_down: bool,
    queries: Vec<Query>,
    next_query: u64,
    /// Moves on whenever what the answer tables are built from changes.
    generation: u64,
}

impl NameEngine {
    /// An engine with no interface yet.
    pub fn new(config: NameConfig, mut rng: Rng) -> Self {
        let next_trn_id = rng.next_u16();
        NameEngine {
            config,
            rng,
            next_trn_id,
            ifaces: BTreeMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            counters: NameCounters::default(),
            shut_down: false,
            queries: Vec::new(),
            next_query: 0,
            generation: 0,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &NameConfig {
        &self.config
    }

    /// The engine's random generator, for engines built on top of it.
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// Starts serving an interface address: registration of every configured name begins.
    /// Adding an address that is already known replaces it (its names register again).
    pub fn add_interface(&mut self, now: Instant, addr: IfaceAddr) {
        let id = addr.id;
        self.generation += 1;
        self.ifaces.insert(
            id,
            Iface {
                addr,
                entries: Vec::new(),
            },
        );
        for (name, group) in self.config.names() {
            self.register(now, id, name, group);
        }
    }

    /// Stops serving an interface address. With `release`, its names are released by broadcast
    /// first (the address still works); without, they are dropped silently (it is gone).
    pub fn remove_interface(&mut self, now: Instant, id: IfaceId, release: bool) {
        if release {
            self.release_all_on(now, id);
        }
        self.generation += 1;
        self.ifaces.remove(&id);
    }

    /// The interface addresses served.
    pub fn interfaces(&self) -> impl Iterator<Item = &IfaceAddr> {
        self.ifaces.values().map(|i| &i.addr)
    }

    /// Registers one more name on every interface. The outcome comes as
    /// [`NameEvent::Registered`] or [`NameEvent::Conflict`].
    pub fn add_name(&mut self, now: Instant, name: NetbiosName, group: bool) {
        let ids: Vec<IfaceId> = self.ifaces.keys().copied().collect();
        for id in ids {
            self.register(now, id, name, group);
        }
    }

    /// Registers one more name on one interface only (the browser adds `WORKGROUP<1D>` and
    /// `__MSBROWSE__<01>` where it won the election).
    pub fn add_name_on(&mut self, now: Instant, id: IfaceId, name: NetbiosName, group: bool) {
        self.register(now, id, name, group);
    }

    /// Releases a name on every interface (by broadcast where it is held) and forgets it.
    pub fn remove_name(&mut self, now: Instant, name: NetbiosName) {
        let ids: Vec<IfaceId> = self.ifaces.keys().copied().collect();
        for id in ids {
            self.remove_name_on(now, id, name);
        }
    }

    /// Releases a name on one interface (by broadcast if it is held) and forgets it there.
    pub fn remove_name_on(&mut self, now: Instant, id: IfaceId, name: NetbiosName) {
        let _ = now;
        let Some(iface) = self.ifaces.get_mut(&id) else {
            return;
        };
        let Some(pos) = iface.entries.iter().position(|e| e.name == name) else {
            return;
        };
        let e = iface.entries.remove(pos);
        self.generation += 1;
        if e.state == NameState::Active {
            let addr = iface.addr.clone();
            self.send_release(&addr, &e);
        }
    }

    /// Every name on every interface, with its state.
    pub fn names(&self) -> Vec<NameInfo> {
        self.ifaces
            .values()
            .flat_map(|i| {
                i.entries.iter().map(move |e| NameInfo {
                    iface: i.addr.id,
                    name: e.name,
                    group: e.group,
                    state: e.state,
                })
            })
            .collect()
    }

    /// Whether `name` is ours (active) on interface `id`.
    pub fn holds(&self, id: IfaceId, name: &NetbiosName) -> bool {
        self.ifaces
            .get(&id)
            .is_some_and(|i| i.active(name).is_some())
    }

    /// The counters.
    pub fn counters(&self) -> NameCounters {
        self.counters
    }

    /// Releases every name held, by broadcast, and stops answering. Drain
    /// [`poll_transmit`](Self::poll_transmit) afterwards to send the releases.
    pub fn shutdown(&mut self, now: Instant) {
        let ids: Vec<IfaceId> = self.ifaces.keys().copied().collect();
        for id in ids {
            self.release_all_on(now, id);
        }
        self.shut_down = true;
        self.generation += 1;
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<NameEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.ifaces
            .values()
            .flat_map(|i| i.entries.iter().filter_map(|e| e.due))
            .chain(self.queries.iter().map(|q| q.due))
            .min()
    }

    /// Starts a name query on interface `id`: broadcast when `target` is `None`, else unicast to
    /// `target`. It goes out up to three times, 250 ms apart (RFC 1002 §6). A unicast query ends
    /// at the first answer; a broadcast query collects answers for the whole 750 ms. The outcome
    /// comes as [`NameEvent::QueryResult`]. Returns `None` when the interface is unknown or
    /// [`MAX_PENDING_QUERIES`] are in flight.
    pub fn query(
        &mut self,
        now: Instant,
        id: IfaceId,
        name: NetbiosName,
        target: Option<Ipv4Addr>,
    ) -> Option<QueryId> {
        if self.queries.len() >= MAX_PENDING_QUERIES || self.shut_down {
            return None;
        }
        let addr = self.ifaces.get(&id)?.addr.clone();
        let trn_id = self.next_trn_id;
        self.next_trn_id = self.next_trn_id.wrapping_add(1);
        let qid = QueryId(self.next_query);
        self.next_query += 1;
        let q = Query {
            id: qid,
            iface: id,
            trn_id,
            name,
            target,
            sent: 1,
            due: now + BCAST_REQ_RETRY_TIMEOUT,
            answers: Vec::new(),
            negative: Vec::new(),
        };
        self.send_query(&addr, &q);
        self.queries.push(q);
        Some(qid)
    }

    fn send_query(&mut self, addr: &IfaceAddr, q: &Query) {
        let p = NameServicePacket::name_query(
            q.trn_id,
            ScopedName {
                name: q.name,
                scope: self.config.scope.clone(),
            },
            q.target.is_none(),
        );
        let dst = SocketAddrV4::new(q.target.unwrap_or(addr.broadcast), self.config.port);
        self.queue(addr.id, dst, &p);
    }

    fn finish_query(&mut self, index: usize) {
        let q = self.queries.swap_remove(index);
        self.event(NameEvent::QueryResult {
            id: q.id,
            iface: q.iface,
            name: q.name,
            answers: q.answers,
            negative: q.negative,
        });
    }

    fn advance_queries(&mut self, now: Instant) {
        let mut i = 0;
        while i < self.queries.len() {
            if self.queries[i].due > now {
                i += 1;
                continue;
            }
            let q = &mut self.queries[i];
            let answered = !q.answers.is_empty() || !q.negative.is_empty();
            if q.sent >= BCAST_REQ_RETRY_COUNT || (answered && q.target.is_some()) {
                self.finish_query(i);
                continue;
            }
            q.sent += 1;
            q.due = now + BCAST_REQ_RETRY_TIMEOUT;
            let q = q.clone();
            match self.ifaces.get(&q.iface) {
                Some(iface) => {
                    let addr = iface.addr.clone();
                    // A broadcast query that has answers need not ask again; it still listens.
                    if q.answers.is_empty() {
                        self.send_query(&addr, &q);
                    }
                    i += 1;
                }
                None => self.finish_query(i),
            }
        }
    }

    fn on_query_response(&mut self, src: SocketAddrV4, p: &NameServicePacket) -> Disposition {
        let Some(qi) = self.queries.iter().position(|q| {
            q.trn_id == p.trn_id
                && p.answers
                    .first()
                    .and_then(|a| a.name.netbios())
                    .is_some_and(|n| n.name.eq_ignore_case(&q.name))
        }) else {
            return Disposition::Ignored("answer to no query of ours");
        };
        let q = &mut self.queries[qi];
        if let Some(t) = q.target {
            if t != *src.ip() {
                return Disposition::Ignored("answer from another host than the one asked");
            }
        }
        if p.rcode == Rcode::OK {
            for a in p.answers.iter().filter_map(|r| r.nb_addresses()).flatten() {
                if q.answers.len() < 64 && !q.answers.contains(&(*src.ip(), *a)) {
                    q.answers.push((*src.ip(), *a));
                }
            }
        } else if q.negative.len() < 64 {
            q.negative.push((*src.ip(), p.rcode));
        }
        if q.target.is_some() {
            self.finish_query(qi);
        }
        Disposition::Handled
    }

    /// Advances registrations whose timer has run out. A call before anything is due does
    /// nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance_queries(now);
        let ids: Vec<IfaceId> = self.ifaces.keys().copied().collect();
        for id in ids {
            let Some(iface) = self.ifaces.get_mut(&id) else {
                continue;
            };
            let addr = iface.addr.clone();
            let mut out = Vec::new();
            let mut registered = Vec::new();
            for e in iface.entries.iter_mut() {
                if e.state != NameState::Registering || e.due.is_none_or(|d| d > now) {
                    continue;
                }
                if e.sent < BCAST_REQ_RETRY_COUNT {
                    e.sent += 1;
                    e.due = Some(now + BCAST_REQ_RETRY_TIMEOUT);
                    out.push(registration(&addr, e, &self.config.scope));
                } else {
                    e.state = NameState::Active;
                    self.generation += 1;
                    e.due = None;
                    registered.push((e.name, e.group));
                }
            }
            for p in out {
                self.queue(id, SocketAddrV4::new(addr.broadcast, self.config.port), &p);
            }
            for (name, group) in registered {
                self.event(NameEvent::Registered {
                    iface: id,
                    name,
                    group,
                });
            }
        }
    }

    /// Handles one datagram that arrived on interface `id` from `src`. `to_broadcast` says it was
    /// sent to the broadcast address (it arrived on the broadcast socket).
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        id: IfaceId,
        src: SocketAddrV4,
        to_broadcast: bool,
        bytes: &[u8],
    ) -> Disposition {
        self.counters.received += 1;
        let d = self.dispatch(now, id, src, to_broadcast, bytes);
        match &d {
            Disposition::Malformed(_) => self.counters.malformed += 1,
            Disposition::Ignored(_) => self.counters.ignored += 1,
            Disposition::Handled => {}
        }
        d
    }

    fn dispatch(
        &mut self,
        now: Instant,
        id: IfaceId,
        src: SocketAddrV4,
        to_broadcast: bool,
        bytes: &[u8],
    ) -> Disposition {
        use Disposition::Ignored;
        if self.shut_down {
            return Ignored("shutting down");
        }
        let Some(iface) = self.ifaces.get(&id) else {
            return Ignored("unknown interface");
        };
        if self.ifaces.values().any(|i| i.addr.addr == *src.ip()) {
            return Ignored("our own packet");
        }
        if !self.config.answer_remote_subnets && !iface.addr.contains(*src.ip()) {
            self.counters.off_subnet += 1;
            return Ignored("source outside the interface's subnet");
        }
        let p = match NameServicePacket::parse(bytes) {
            Ok(p) => p,
            Err(e) => return Disposition::Malformed(e),
        };
        let question = p
            .questions
            .first()
            .map(|q| &q.name)
            .or_else(|| p.answers.first().and_then(|a| a.name.netbios()));
        let Some(qname) = question else {
            return Ignored("no name in the packet");
        };
        if !qname.scope.eq_ignore_case(&self.config.scope) {
            return Ignored("another NetBIOS scope");
        }
        let qname = qname.clone();
        let broadcast = to_broadcast || p.flags.contains(crate::wire::ns::NmFlags::BROADCAST);
        match p.kind() {
            PacketKind::NameQueryRequest => self.on_query(id, src, broadcast, &p, qname),
            PacketKind::NodeStatusRequest => self.on_node_status(id, src, broadcast, &p, qname),
            PacketKind::NameRegistrationRequest | PacketKind::NameOverwriteDemand => {
                self.on_registration(now, id, src, &p, qname)
            }
            PacketKind::NameReleaseRequest => {
                self.on_hostile(now, id, src, qname.name, Report::Release)
            }
            PacketKind::NegativeNameRegistrationResponse | PacketKind::NameConflictDemand => {
                self.on_negative_registration(now, id, src, &p, qname)
            }
            PacketKind::PositiveNameQueryResponse | PacketKind::NegativeNameQueryResponse => {
                self.on_query_response(src, &p)
            }
            PacketKind::NameRefreshRequest | PacketKind::MultiHomedRegistrationRequest => {
                Ignored("WINS request; nbtd is a B-node")
            }
            _ => Ignored("nothing to do for this packet"),
        }
    }

    fn on_query(
        &mut self,
        id: IfaceId,
        src: SocketAddrV4,
        broadcast: bool,
        p: &NameServicePacket,
        qname: ScopedName,
    ) -> Disposition {
        let Some(iface) = self.ifaces.get(&id) else {
            return Disposition::Ignored("unknown interface");
        };
        let answer = match iface.active(&qname.name) {
            Some(e) => {
                let answer = self.query_answer(iface, e, p.trn_id, qname);
                self.counters.positive_answers += 1;
                answer
            }
            // RFC 1002 §5.1.1: a broadcast query is never answered negatively.
            None if broadcast => {
                return Disposition::Ignored("broadcast query for a name not ours");
            }
            None => {
                self.counters.negative_answers += 1;
                NameServicePacket::negative_query_response(p.trn_id, qname, Rcode::NAM_ERR)
            }
        };
        self.queue(id, src, &answer);
        Disposition::Handled
    }

    fn on_node_status(
        &mut self,
        id: IfaceId,
        src: SocketAddrV4,
        broadcast: bool,
        p: &NameServicePacket,
        qname: ScopedName,
    ) -> Disposition {
        let Some(iface) = self.ifaces.get(&id) else {
            return Disposition::Ignored("unknown interface");
        };
        let ours = iface.active(&qname.name).is_some();
        let wildcard_unicast = qname.name.is_wildcard() && !broadcast;
        if !ours && !wildcard_unicast {
            return Disposition::Ignored("node status for a name not ours");
        }
        let answer = self.status_answer(iface, p.trn_id, qname);
        self.counters.node_status_answers += 1;
        self.queue(id, src, &answer);
        Disposition::Handled
    }

    /// The positive answer to a query for our active name `e` (RFC 1002 §4.2.13).
    fn query_answer(
        &self,
        iface: &Iface,
        e: &Entry,
        trn_id: u16,
        qname: ScopedName,
    ) -> NameServicePacket {
        NameServicePacket::positive_query_response(
            trn_id,
            qname,
            self.config.answer_ttl,
            vec![NbAddress::b_node(iface.addr.addr, e.group)],
        )
    }

    /// The node status answer of an interface (RFC 1002 §4.2.18): every name not still
    /// registering, and the MAC address.
    fn status_answer(&self, iface: &Iface, trn_id: u16, qname: ScopedName) -> NameServicePacket {
        // Fit the answer into one 576-byte datagram: header, name, RR fixed part, NUM_NAMES,
        // statistics, then 18 bytes a name.
        let fixed = HEADER_LEN + qname.wire_len() + 10 + 1 + 46;
        let room = MAX_DATAGRAM_LEN.saturating_sub(fixed) / 18;
        let names = iface
            .entries
            .iter()
            .filter(|e| e.state != NameState::Registering)
            .take(room)
            .map(|e| {
                let mut flags = NameFlags::ACTIVE;
                if e.group {
                    flags |= NameFlags::GROUP;
                }
                if matches!(e.state, NameState::Conflict { .. }) {
                    flags |= NameFlags::CONFLICT;
                }
                flags |= NameFlags::from_bits_retain(NodeType::B.bits());
                NodeName {
                    name: e.name,
                    flags,
                }
            })
            .collect();
        // Every statistic is zero; only the unit ID may say something (the MAC, by default).
        let unit_id = if self.config.node_status_mac {
            iface.addr.mac
        } else {
            [0; 6]
        };
        let status = NodeStatus {
            names,
            statistics: Statistics::with_unit_id(unit_id),
        };
        NameServicePacket::node_status_response(trn_id, qname, status)
    }

    /// Moves on whenever anything [`answer_table`](Self::answer_table) is built from changes
    /// (names and their states, interface addresses, shutdown): a driver rebuilds its tables
    /// when it differs from the one they were built at.
    pub fn answers_generation(&self) -> u64 {
        self.generation
    }

    /// The requests the engine answers on interface `id` in the plain shape (a unicast name
    /// query or node status request for one of our active names, or node status for `*`), with
    /// the exact answers it sends: see [`AnswerTable`]. Empty once shut down; `None` for an
    /// unknown interface.
    pub fn answer_table(&self, id: IfaceId) -> Option<AnswerTable> {
        let iface = self.ifaces.get(&id)?;
        if self.shut_down {
            return Some(AnswerTable::empty());
        }
        let mut entries = Vec::new();
        let scoped = |name| ScopedName {
            name,
            scope: self.config.scope.clone(),
        };
        let question = |p: NameServicePacket| p.to_vec().ok().map(|b| b[HEADER_LEN..].to_vec());
        let mut push =
            |request: NameServicePacket, answer: NameServicePacket, kind, unicast_only| {
                if let (Some(question), Ok(answer)) = (question(request), answer.to_vec()) {
                    entries.push(Precomputed {
                        question,
                        unicast_only,
                        answer,
                        kind,
                    });
                }
            };
        for (i, e) in iface.entries.iter().enumerate() {
            // The engine answers with the first active entry of a name.
            let first = iface
                .active(&e.name)
                .is_some_and(|a| std::ptr::eq(a, &iface.entries[i]));
            if e.state != NameState::Active || !first {
                continue;
            }
            let q = scoped(e.name);
            push(
                NameServicePacket::name_query(0, q.clone(), false),
                self.query_answer(iface, e, 0, q.clone()),
                FastAnswer::Query,
                false,
            );
            push(
                NameServicePacket::node_status_request(0, q.clone()),
                self.status_answer(iface, 0, q),
                FastAnswer::NodeStatus,
                false,
            );
        }
        let any = scoped(NetbiosName::WILDCARD);
        push(
            NameServicePacket::node_status_request(0, any.clone()),
            self.status_answer(iface, 0, any),
            FastAnswer::NodeStatus,
            true,
        );
        Some(AnswerTable {
            own: self.ifaces.values().map(|i| i.addr.addr).collect(),
            subnet: (!self.config.answer_remote_subnets).then(|| iface.addr.clone()),
            entries,
        })
    }

    /// Counts requests a driver answered from an [`AnswerTable`], as if the engine had answered
    /// them: `queries` positive query answers and `statuses` node status answers.
    pub fn count_fast_answers(&mut self, queries: u64, statuses: u64) {
        let c = &mut self.counters;
        c.received += queries + statuses;
        c.positive_answers += queries;
        c.node_status_answers += statuses;
        c.sent += queries + statuses;
    }

    fn on_registration(
        &mut self,
        now: Instant,
        id: IfaceId,
        src: SocketAddrV4,
        p: &NameServicePacket,
        qname: ScopedName,
    ) -> Disposition {
        let Some(iface) = self.ifaces.get(&id) else {
            return Disposition::Ignored("unknown interface");
        };
        let challenger = p
            .additional
            .first()
            .and_then(|r| r.nb_addresses())
            .and_then(|a| a.first())
            .map_or(*src.ip(), |a| a.addr);
        let Some(e) = iface
            .entries
            .iter()
            .find(|e| e.name.eq_ignore_case(&qname.name))
        else {
            return Disposition::Ignored("registration of a name not ours");
        };
        if e.group {
            return Disposition::Ignored("registration of one of our group names");
        }
        if e.state != NameState::Active {
            return Disposition::Ignored("registration of a name we do not hold yet");
        }
        if challenger == iface.addr.addr {
            return Disposition::Ignored("registration with our own address");
        }
        let owner = NbAddress::b_node(iface.addr.addr, false);
        let answer = NameServicePacket::negative_registration_response(
            p.trn_id,
            qname.clone(),
            Rcode::ACT_ERR,
            self.config.answer_ttl,
            owner,
        );
        self.counters.defended += 1;
        self.queue(id, src, &answer);
        if let Some((name, repeats)) = self.fold_report(now, id, &qname.name, Report::Defended) {
            self.event(NameEvent::Defended {
                iface: id,
                name,
                challenger,
                repeats,
            });
        }
        Disposition::Handled
    }

    fn on_negative_registration(
        &mut self,
        now: Instant,
        id: IfaceId,
        src: SocketAddrV4,
        p: &NameServicePacket,
        qname: ScopedName,
    ) -> Disposition {
        // The owner is whoever answered: Samba's nmbd echoes the registrant's own address in
        // the answer record of its refusal, so the record cannot be trusted to name the owner.
        let owner = *src.ip();
        let Some(iface) = self.ifaces.get_mut(&id) else {
            return Disposition::Ignored("unknown interface");
        };
        let pending = iface.entries.iter_mut().find(|e| {
            e.state == NameState::Registering
                && e.trn_id == p.trn_id
                && e.name.eq_ignore_case(&qname.name)
        });
        if let Some(e) = pending {
            // A group name cannot be refused; a node that tries is wrong, not an owner.
            if e.group {
                return Disposition::Ignored("negative response to a group registration");
            }
            e.state = NameState::Conflict { owner };
            self.generation += 1;
            e.due = None;
            let name = e.name;
            self.counters.conflicts += 1;
            self.event(NameEvent::Conflict {
                iface: id,
                name,
                owner,
                rcode: p.rcode,
            });
            return Disposition::Handled;
        }
        if p.kind() == PacketKind::NameConflictDemand {
            return self.on_hostile(now, id, src, qname.name, Report::ConflictDemand);
        }
        Disposition::Ignored("negative registration response to no registration of ours")
    }

    /// A release or conflict demand for one of our names: ignored, and reported.
    fn on_hostile(
        &mut self,
        now: Instant,
        id: IfaceId,
        src: SocketAddrV4,
        name: NetbiosName,
        kind: Report,
    ) -> Disposition {
        if !self.holds(id, &name) {
            return Disposition::Ignored("release or conflict demand for a name not ours");
        }
        self.counters.hostile_ignored += 1;
        if let Some((name, repeats)) = self.fold_report(now, id, &name, kind) {
            let from = *src.ip();
            self.event(match kind {
                Report::Release => NameEvent::ReleaseIgnored {
                    iface: id,
                    name,
                    from,
                    repeats,
                },
                _ => NameEvent::ConflictDemandIgnored {
                    iface: id,
                    name,
                    from,
                    repeats,
                },
            });
        }
        Disposition::Ignored("release or conflict demand for our name: kept it")
    }

    /// Returns the name and the count of folded repeats when a report of `kind` is due, or
    /// counts one more repeat and returns `None`.
    fn fold_report(
        &mut self,
        now: Instant,
        id: IfaceId,
        name: &NetbiosName,
        kind: Report,
    ) -> Option<(NetbiosName, u32)> {
        let e = self
            .ifaces
            .get_mut(&id)?
            .entries
            .iter_mut()
            .find(|e| e.name.eq_ignore_case(name))?;
        let slot = &mut e.reports[kind as usize];
        match slot.0 {
            Some(last) if now.saturating_duration_since(last) < REPORT_INTERVAL => {
                slot.1 = slot.1.saturating_add(1);
                None
            }
            _ => {
                let repeats = slot.1;
                *slot = (Some(now), 0);
                Some((e.name, repeats))
            }
        }
    }

    fn register(&mut self, now: Instant, id: IfaceId, name: NetbiosName, group: bool) {
        let trn_id = self.next_trn_id;
        self.next_trn_id = self.next_trn_id.wrapping_add(1);
        let Some(iface) = self.ifaces.get_mut(&id) else {
            return;
        };
        if iface.entries.iter().any(|e| e.name == name) {
            return;
        }
        let e = Entry {
            name,
            group,
            state: NameState::Registering,
            trn_id,
            sent: 1,
            due: Some(now + BCAST_REQ_RETRY_TIMEOUT),
            reports: [(None, 0); 3],
        };
        let p = registration(&iface.addr, &e, &self.config.scope);
        let dst = SocketAddrV4::new(iface.addr.broadcast, self.config.port);
        iface.entries.push(e);
        self.generation += 1;
        self.queue(id, dst, &p);
    }

    fn release_all_on(&mut self, _now: Instant, id: IfaceId) {
        let Some(iface) = self.ifaces.get_mut(&id) else {
            return;
        };
        let addr = iface.addr.clone();
        self.generation += 1;
        let held: Vec<Entry> = iface
            .entries
            .drain(..)
            .filter(|e| e.state == NameState::Active)
            .collect();
        for e in held {
            self.send_release(&addr, &e);
        }
    }

    fn send_release(&mut self, addr: &IfaceAddr, e: &Entry) {
        let trn_id = self.next_trn_id;
        self.next_trn_id = self.next_trn_id.wrapping_add(1);
        let p = NameServicePacket::release_request(
            trn_id,
            ScopedName {
                name: e.name,
                scope: self.config.scope.clone(),
            },
            NbAddress::b_node(addr.addr, e.group),
            true,
        );
        self.queue(
            addr.id,
            SocketAddrV4::new(addr.broadcast, self.config.port),
            &p,
        );
        self.event(NameEvent::Released {
            iface: addr.id,
            name: e.name,
        });
    }

    fn queue(&mut self, iface: IfaceId, dst: SocketAddrV4, p: &NameServicePacket) {
        if self.transmits.len() >= MAX_QUEUED_TRANSMITS {
            self.counters.queue_overflow += 1;
            return;
        }
        // Everything nbtd builds is small and valid; a failure here is a bug worth seeing in
        // tests, and is dropped rather than sent malformed in production.
        match p.to_vec() {
            Ok(payload) => {
                self.counters.sent += 1;
                self.transmits.push_back(Transmit {
                    iface,
                    service: Service::Name,
                    dst,
                    payload,
                });
            }
            Err(e) => debug_assert!(false, "cannot emit {p:?}: {e}"),
        }
    }

    fn event(&mut self, e: NameEvent) {
        if self.events.len() >= MAX_QUEUED_EVENTS {
            self.counters.queue_overflow += 1;
            return;
        }
        self.events.push_back(e);
    }
}

fn registration(addr: &IfaceAddr, e: &Entry, scope: &Scope) -> NameServicePacket {
    NameServicePacket::registration_request(
        e.trn_id,
        ScopedName {
            name: e.name,
            scope: scope.clone(),
        },
        0,
        NbAddress::b_node(addr.addr, e.group),
        true,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_follow_samba() {
        let c = NameConfig::new(
            NetbiosName::new("ALPHA", 0).unwrap(),
            NetbiosName::new("LABWG", 0).unwrap(),
        );
        let names: Vec<String> = c
            .names()
            .iter()
            .map(|(n, g)| format!("{n}{}", if *g { " G" } else { "" }))
            .collect();
        assert_eq!(
            names,
            [
                "ALPHA<00>",
                "ALPHA<03>",
                "ALPHA<20>",
                "LABWG<00> G",
                "LABWG<1e> G"
            ]
        );
    }
}
