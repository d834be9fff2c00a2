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
//! - **Hygiene**: our own packets (from one of our addresses and our own port, as the host loops
//!   our broadcasts back; a client on this host sends from another port and is answered),
//!   packets with another scope, and, unless configured otherwise, packets from outside the
//!   interface's subnet are ignored, so nbtd cannot be used to reflect traffic off-link.
//!   Whether a request was broadcast is decided by the socket it arrived on, never by its B
//!   flag (nbtscan and pysmb set it on unicast requests). Repeated reports about the same name
//!   are folded into one event a minute.
//! - **Like nmbd**: a query for `*<00>` or `*<20>` is answered with our address, so that
//!   `nmblookup '*'` lists this host; a release of one of our group names by another member is
//!   normal (every member sends it when it stops) and is counted apart from attacks.

mod answer;
pub mod canary;
mod client;
mod defence;
pub mod wins;

use crate::engine::limit::{DEFAULT_STATUS_RATE, RateLimit, RateLimiter};
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
    NodeType, Opcode, PacketKind, Rcode, Statistics,
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
/// Releases or conflict demands for one of our names within [`REPORT_INTERVAL`] that make a
/// burst ([`NameEvent::HostileBurst`]).
pub const HOSTILE_BURST: u32 = 10;

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
    /// The WINS servers the names are also registered with by unicast, tried in order
    /// ([`wins`]); none by default.
    pub wins_servers: Vec<Ipv4Addr>,
    /// Node status answers one source may get ([`crate::engine::limit`]).
    pub status_rate: RateLimit,
    /// How often the poisoner detector asks for names nobody should answer ([`canary`]);
    /// `None` (the engine's default) never.
    pub canary_interval: Option<Duration>,
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
            status_rate: DEFAULT_STATUS_RATE,
            canary_interval: None,
            node_status_mac: true,
            wins_servers: Vec::new(),
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
    /// Another member of one of our group names released it, as a member does when it stops:
    /// normal, and nothing changes for us.
    GroupReleaseSeen {
        /// Interface address.
        iface: IfaceId,
        /// The group name.
        name: NetbiosName,
        /// The member that released it.
        from: Ipv4Addr,
        /// Further releases folded into this report.
        repeats: u32,
    },
    /// [`HOSTILE_BURST`] releases or conflict demands for one of our unique names came within a
    /// minute: what a poisoner or a name thief sends, reported at once.
    HostileBurst {
        /// Interface address.
        iface: IfaceId,
        /// The name.
        name: NetbiosName,
        /// The sender of the latest.
        from: Ipv4Addr,
        /// How many.
        count: u32,
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
    /// Another host answered one of the poisoner detector's canary queries ([`canary`]): a
    /// name nobody registered, our own unique name, or a second `<1D>`.
    PoisonerAnswered {
        /// Interface address.
        iface: IfaceId,
        /// Who answered.
        from: Ipv4Addr,
        /// The address its answer gave for the name.
        claimed: Ipv4Addr,
        /// The name asked for.
        name: NetbiosName,
        /// What was asked, and so what the answer means.
        kind: canary::CanaryKind,
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
    /// What happened with the WINS server.
    Wins(wins::WinsEvent),
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
    /// Datagrams from an address no host sends from (broadcast, network, 0.0.0.0, multicast,
    /// loopback on a LAN): forged to reflect an answer to the whole LAN, dropped.
    pub impossible_source: u64,
    /// Node status requests not answered: their source was over its rate limit.
    pub rate_limited: u64,
    /// Answers to the poisoner detector's canary queries that no honest host sends.
    pub poisoner_answers: u64,
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
    /// Releases and conflict demands for our unique names, ignored.
    pub hostile_ignored: u64,
    /// Releases of group names we are a member of, by other members (normal when one stops).
    pub group_releases: u64,
    /// Datagrams queued for sending.
    pub sent: u64,
    /// Datagrams or events dropped because the driver did not drain the queue.
    pub queue_overflow: u64,
}

/// Identifies a query started with [`NameEngine::query`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueryId(pub u64);

/// Why a datagram from an address no host sends from was dropped (see
/// [`IfaceAddr::is_impossible_source`]); the browser drops them for the same reason.
pub const IMPOSSIBLE_SOURCE: &str =
    "source is a broadcast, network, unspecified, multicast or loopback address";

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
    GroupRelease,
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
    reports: [(Option<Instant>, u32); 4],
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
    /// The WINS client, when a server is configured.
    wins: Option<wins::WinsClient>,
    /// Node status answers per source.
    status_limiter: RateLimiter,
    /// The poisoner detector.
    canary: canary::Canary,
}

impl NameEngine {
    /// An engine with no interface yet.
    pub fn new(config: NameConfig, mut rng: Rng) -> Self {
        let next_trn_id = rng.next_u16();
        let wins = wins::WinsClient::new(
            &config.wins_servers,
            config.port,
            config.answer_ttl,
            config.scope.clone(),
            &config.names(),
        );
        let config_status_rate = config.status_rate;
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
            status_limiter: RateLimiter::new(config_status_rate),
            canary: canary::Canary::default(),
            wins,
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
        self.arm_canary(now);
        self.wins_choose(now, true);
    }

    /// Stops serving an interface address. With `release`, its names are released by broadcast
    /// first (the address still works); without, they are dropped silently (it is gone).
    pub fn remove_interface(&mut self, now: Instant, id: IfaceId, release: bool) {
        if release {
            self.release_all_on(now, id);
        }
        self.generation += 1;
        self.ifaces.remove(&id);
        self.wins_choose(now, release);
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
        self.wins_release();
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
            .chain(self.wins.as_ref().and_then(|w| w.due()))
            .chain(self.canary.next)
            .min()
    }

    /// Advances registrations whose timer has run out. A call before anything is due does
    /// nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance_queries(now);
        self.wins_timeout(now);
        self.canary_timeout(now);
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
        if iface.addr.is_impossible_source(*src.ip()) {
            self.counters.impossible_source += 1;
            return Ignored(IMPOSSIBLE_SOURCE);
        }
        // Only what nbtd itself sent (one of its addresses, from its own port) is dropped: a
        // client on this host (nmblookup, nbt) sends from another port and gets its answer.
        if src.port() == self.config.port && self.ifaces.values().any(|i| i.addr.addr == *src.ip())
        {
            return Ignored("our own packet");
        }
        // The WINS server may well be on another subnet; only its responses are let through.
        let from_wins = self.wins.as_ref().is_some_and(|w| w.server() == *src.ip());
        let on_subnet = iface.addr.contains(*src.ip());
        if !self.config.answer_remote_subnets && !from_wins && !on_subnet {
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
        if from_wins
            && p.response
            && matches!(
                p.opcode,
                Opcode::Registration | Opcode::Refresh | Opcode::RefreshAlt | Opcode::Wack
            )
            && self.on_wins_response(now, &p, &qname.name)
        {
            return Disposition::Handled;
        }
        // Anything else from the WINS server's host is handled like any host's.
        if !self.config.answer_remote_subnets && !on_subnet {
            self.counters.off_subnet += 1;
            return Ignored("source outside the interface's subnet");
        }
        // Broadcast is where the datagram arrived (the broadcast or limited-broadcast socket),
        // not its B flag: nbtscan sends its node status requests by unicast with B set.
        let broadcast = to_broadcast;
        match p.kind() {
            PacketKind::NameQueryRequest => self.on_query(id, src, broadcast, &p, qname),
            PacketKind::NodeStatusRequest => {
                self.on_node_status(now, id, src, broadcast, &p, qname)
            }
            // A refresh of one of our unique names by another host claims the name just as a
            // registration does, and is defended the same way (see `on_registration`).
            PacketKind::NameRegistrationRequest
            | PacketKind::NameOverwriteDemand
            | PacketKind::NameRefreshRequest => self.on_registration(now, id, src, &p, qname),
            PacketKind::NameReleaseRequest => {
                self.on_hostile(now, id, src, qname.name, Report::Release)
            }
            PacketKind::NegativeNameRegistrationResponse | PacketKind::NameConflictDemand => {
                self.on_negative_registration(now, id, src, &p, qname)
            }
            PacketKind::PositiveNameQueryResponse | PacketKind::NegativeNameQueryResponse => {
                self.on_query_response(src, &p)
            }
            PacketKind::MultiHomedRegistrationRequest => Ignored("WINS request; nbtd is a B-node"),
            _ => Ignored("nothing to do for this packet"),
        }
    }

    fn register(&mut self, now: Instant, id: IfaceId, name: NetbiosName, group: bool) {
        let trn_id = self.trn_id();
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
            reports: [(None, 0); 4],
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
        let trn_id = self.trn_id();
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
