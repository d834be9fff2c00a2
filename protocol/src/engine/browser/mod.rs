//! The browser (MS-BRWS) of one host: announcements, the browse list, elections, the local
//! master and its backups, and fast recovery when the master dies.
//!
//! Per interface address (one subnet each), the engine holds a [`Role`]:
//! - **Potential browser** (`local master = yes`, the default): announces itself, keeps the
//!   browse list from every announcement it hears, and stands in elections.
//! - **Backup**: a potential browser the master appointed with BecomeBackup.
//! - **Local master**: won the election and holds `WORKGROUP<1D>` and `__MSBROWSE__<01>`; sends
//!   LocalMasterAnnouncement and DomainAnnouncement, answers GetBackupListRequest, appoints backups.
//! - **Non-browser** (`local master = no`): announces itself and never stands.
//!
//! Announcements go out at start, then after 1, 2, 4 and 8 minutes, then every 12 (MS-BRWS
//! 3.2.6); the Periodicity field says when the next one comes, in milliseconds. A role change
//! starts the schedule again. An AnnouncementRequest brings the next one forward to a random
//! moment within [`ANNOUNCE_REQUEST_JITTER`]. A browser that starts on a subnet knowing fewer
//! than [`ASK_BELOW_SERVERS`] servers sends one with its first announcement, so that its list
//! holds the hosts already there within seconds rather than after their next announcement, up
//! to 12 minutes away (Samba's new master does the same, `nmbd_become_lmb.c`).
//!
//! **Finding the master.** Once `WORKGROUP<1E>` is registered, the engine asks for
//! `WORKGROUP<1D>` by broadcast; no answer starts an election (Samba does the same, after its 5
//! minute check). A preferred master starts an election at once.
//!
//! **Elections** follow MS-BRWS 3.3.5.8: a RequestElection we would win starts our own after a
//! delay by role (master 100 ms, backup 200–600 ms, potential browser 800–3000 ms); we then send
//! one a second, and after four with no better candidate heard we have won. A better ballot ends
//! our run, and a master that loses gives its names up. Samba paces its ballots every 2 s and wins
//! on the fifth; both schemes agree on who wins, because the comparison is the same.
//! Two guards keep loss from making a second master (the `takeover` submodule): a browser that
//! heard a better ballot within [`ELECTION_HOLD`] leaves the ballots it beats to that one, and a
//! winner that still knows another master asks it for `WORKGROUP<1D>` before taking over, and
//! runs again (up to [`MAX_RERUNS`] times) if it answers.
//!
//! **Fast failover**, beyond nmbd's up to 5 minutes: every browser that is not the master asks the
//! master for `WORKGROUP<1D>` by unicast every [`BrowserConfig::master_probe_interval`] (3 s by
//! default). A master that does not answer three tries (750 ms), and then three more at once (so
//! that loss alone rarely looks like a dead master), is gone: the browser that noticed sends its
//! ballot at once, the election runs as above, and the winner registers its names. Worst case
//! with the defaults: 4.5 s to notice, up to 3 s of delay, 4 s of ballots, 1.5 s to look at
//! the lost master once more and 0.75 s of registration, under 14 s in all. A master that wins an election it already held announces
//! itself at once, so that the browsers that lost know it again. A master that stops gracefully announces ServerType 0 and
//! forces an election (Criteria 0), so the others start at once. The probes are ordinary name
//! queries, and the ballots ordinary RequestElections, so Samba and Windows peers take part
//! unchanged.

mod announce;
mod election;
pub mod list;
mod mailslot;
mod master;
mod reconfigure;
mod remote;
mod takeover;

use crate::engine::limit::{RateLimit, RateLimiter};
use std::collections::{BTreeMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use super::dgram::{DatagramLayer, Mailslot};
use super::names::{Disposition, NameEngine, NameEvent, QueryId};
use super::{IfaceAddr, IfaceId, Instant, Rng, Transmit};
use crate::name::{NetbiosName, Scope, ScopedName, suffix};
use crate::wire::Emit;
use crate::wire::browse::{
    Announcement, AnnouncementRequest, BrowserFrame, ElectionCriteria, ElectionDesire,
    GetBackupListRequest, GetBackupListResponse, MAILSLOT_BROWSE, RequestElection, ResetStateType,
    ServerName, ServerType,
};
use crate::wire::ns::NbAddress;
use list::{BrowseLimits, BrowseList, Update};
pub use takeover::{ELECTION_HOLD, MAX_RERUNS};

/// Host announcement intervals after the first announcement (MS-BRWS 3.2.6), then 12 minutes.
pub const ANNOUNCE_SCHEDULE: [Duration; 4] = [
    Duration::from_secs(60),
    Duration::from_secs(120),
    Duration::from_secs(240),
    Duration::from_secs(480),
];
/// The steady announcement interval.
pub const ANNOUNCE_INTERVAL: Duration = Duration::from_secs(12 * 60);
/// An AnnouncementRequest is answered within this random delay.
pub const ANNOUNCE_REQUEST_JITTER: Duration = Duration::from_secs(2);
/// Interval between a candidate's ballots (MS-BRWS 3.3.6 election resend timer).
pub const ELECTION_RESEND: Duration = Duration::from_secs(1);
/// Ballots sent unopposed to win (MS-BRWS 4.2).
pub const ELECTION_SENDS_TO_WIN: u8 = 4;
/// How long after a lost election a browser waits for the winner before looking again. Samba's
/// nmbd needs up to 10 s more of ballots and about 8 s to register its names after it wins; a
/// ballot of ours in that window would make it start over (`process_election` in
/// `nmbd_elections.c`), so the grace is longer than both.
pub const WINNER_GRACE: Duration = Duration::from_secs(30);
/// A candidate that beat us is taken for real once a second ballot of its arrives within this
/// long (nmbd sends its ballots about 2 s apart, nbtd 1 s): only then does it get
/// [`WINNER_GRACE`]. A lone ballot may be forged (MS-BRWS has no authentication), so without a
/// second one the browser probes for the winner's `WORKGROUP<1D>` after this long and, if
/// nobody holds it, stands at once: a new master serves within 15 s of a forged ballot.
pub const WINNER_CONFIRM: Duration = Duration::from_secs(3);
/// A browser starting with fewer servers than this listed asks everyone to announce.
pub const ASK_BELOW_SERVERS: usize = 10;
/// How often a browser without a master looks for one, when it will not stand itself.
pub const FIND_MASTER_RETRY: Duration = Duration::from_secs(60);
/// A server as a master lists it over RAP (server_info_1): name, type, OS version, comment.
pub type CopiedServer = (ServerName, ServerType, (u8, u8), Vec<u8>);

/// How often a backup browser copies the browse list from the master (Hertel §23.2).
pub const BACKUP_REFRESH: Duration = Duration::from_secs(15 * 60);
/// The period given to entries copied from the master: they last three of them unless copied
/// or heard again.
pub const COPIED_PERIODICITY: Duration = Duration::from_secs(12 * 60);
/// How soon a backup that does not know its master yet tries the copy again.
pub const COPY_RETRY: Duration = Duration::from_secs(5);
/// How long an appointment counts before the appointee announces itself as a backup.
pub const APPOINTMENT_GRACE: Duration = Duration::from_secs(60);
/// Servers per backup browser the master appoints (one more for every this many).
pub const SERVERS_PER_BACKUP: usize = 32;
/// The OS version nbtd announces (what Samba sends; informational).
pub const OS_VERSION: (u8, u8) = (6, 1);
/// How often the remote announcements go out (Samba's `REMOTE_ANNOUNCE_INTERVAL`); each says
/// so in its Periodicity, and the remote browser drops us three periods after the last.
pub const REMOTE_ANNOUNCE_INTERVAL: Duration = Duration::from_secs(180);

/// Where this host is announced beyond its own subnets (Samba's `remote announce`): the
/// address of a browser on another subnet, or that subnet's directed broadcast address, and
/// the workgroup whose list it joins there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteAnnounce {
    /// Where the HostAnnouncement goes (UDP, the datagram port).
    pub addr: Ipv4Addr,
    /// The workgroup: the announcement is addressed to its `<1D>` name.
    pub workgroup: NetbiosName,
}

/// What the browser announces and how it takes part in elections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserConfig {
    /// The host's NetBIOS name (suffix ignored).
    pub netbios_name: NetbiosName,
    /// The workgroup (suffix ignored).
    pub workgroup: NetbiosName,
    /// The NetBIOS scope.
    pub scope: Scope,
    /// SV_TYPE bits announced besides the browser roles.
    pub server_type: ServerType,
    /// The server comment (at most 48 bytes are announced).
    pub comment: Vec<u8>,
    /// OS level, the top byte of the election criteria (Samba's default: 20).
    pub os_level: u8,
    /// Preferred master: stands with the preferred bit and forces an election at start.
    pub preferred_master: bool,
    /// Stand in elections at all (`local master`).
    pub local_master: bool,
    /// Caps of the browse list.
    pub limits: BrowseLimits,
    /// The UDP port of the datagram service.
    pub port: u16,
    /// How often a browser checks that the master still answers.
    pub master_probe_interval: Duration,
    /// Honour ResetStateRequest (off by default: anyone on the LAN can send one).
    pub honour_reset_state: bool,
    /// Handle frames from outside the interface's subnet (off by default).
    pub answer_remote_subnets: bool,
    /// Announce this host to these addresses as well, every [`REMOTE_ANNOUNCE_INTERVAL`], from
    /// the first interface address (none by default).
    pub remote_announce: Vec<RemoteAnnounce>,
    /// GetBackupList responses one source may get ([`crate::engine::limit`]).
    pub response_rate: RateLimit,
}

impl BrowserConfig {
    /// The built-in defaults: a potential browser at os level 20 announcing a file server.
    pub fn new(netbios_name: NetbiosName, workgroup: NetbiosName) -> Self {
        BrowserConfig {
            netbios_name,
            workgroup,
            scope: Scope::none(),
            server_type: ServerType::WORKSTATION
                | ServerType::SERVER
                | ServerType::SERVER_UNIX
                | ServerType::NT
                | ServerType::SERVER_NT,
            comment: Vec::new(),
            os_level: 20,
            preferred_master: false,
            local_master: true,
            limits: BrowseLimits::default(),
            port: super::dgram::DATAGRAM_SERVICE_PORT,
            master_probe_interval: Duration::from_secs(3),
            honour_reset_state: false,
            answer_remote_subnets: false,
            remote_announce: Vec::new(),
            response_rate: crate::engine::limit::DEFAULT_BROWSER_RATE,
        }
    }
}

/// The browser role on one subnet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Announces only; never stands in elections.
    NonBrowser,
    /// Stands in elections; keeps the list.
    Potential,
    /// Appointed by the master.
    Backup,
    /// The local master browser.
    Master,
}

/// What happened, for logs and the control socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowserEvent {
    /// The role changed.
    RoleChanged {
        /// Interface address.
        iface: IfaceId,
        /// The new role.
        role: Role,
    },
    /// We started running for master.
    ElectionStarted {
        /// Interface address.
        iface: IfaceId,
        /// Why.
        reason: &'static str,
    },
    /// Four ballots went unopposed; the names of a master are being registered.
    ElectionWon {
        /// Interface address.
        iface: IfaceId,
    },
    /// A better candidate's ballot ended our run or our term.
    ElectionLost {
        /// Interface address.
        iface: IfaceId,
        /// The better candidate.
        winner: ServerName,
        /// Its address.
        from: Ipv4Addr,
    },
    /// The master of our workgroup is known.
    MasterFound {
        /// Interface address.
        iface: IfaceId,
        /// Its name, when an announcement told it.
        name: Option<ServerName>,
        /// Its address.
        addr: Ipv4Addr,
    },
    /// The master stopped answering or announced that it is going down.
    MasterLost {
        /// Interface address.
        iface: IfaceId,
        /// Its address.
        addr: Ipv4Addr,
        /// How we know.
        reason: &'static str,
    },
    /// A backup browser's time to copy the browse list from the master (MS-BRWS 3.3.1): the
    /// driver asks the master over TCP 139 (NetServerEnum2) and hands the answer to
    /// [`BrowserEngine::list_copied`].
    CopyListFromMaster {
        /// Interface address.
        iface: IfaceId,
        /// The master's address.
        master: Ipv4Addr,
    },
    /// A ResetStateRequest arrived and was not honoured.
    ResetStateIgnored {
        /// Interface address.
        iface: IfaceId,
        /// The sender.
        from: Ipv4Addr,
    },
    /// Announcements were refused because their source already holds as many entries as one
    /// address may: reported at most once a minute while it goes on.
    SourceCapped {
        /// Interface address.
        iface: IfaceId,
        /// The source of the latest refused announcement.
        source: Ipv4Addr,
        /// Announcements refused this way since the last report, this one included.
        refused: u64,
    },
    /// Another host sent a frame under our own name (an announcement or an election ballot),
    /// which nbtd ignored: reported at most once a minute while it goes on.
    ForgedOwnName {
        /// Interface address.
        iface: IfaceId,
        /// The sender.
        from: Ipv4Addr,
        /// The frame's kind.
        frame: &'static str,
        /// Further forged frames folded into this report.
        repeats: u64,
    },
}

/// How often a repeated report (capped sources, forged frames) reaches the log.
pub const REPORT_INTERVAL: Duration = Duration::from_secs(60);

/// A report folded to one event per [`REPORT_INTERVAL`].
#[derive(Debug, Clone, Copy, Default)]
struct Folded {
    last: Option<Instant>,
    since: u64,
}

impl Folded {
    /// Counts one occurrence; returns how many the report covers when one is due.
    fn due(&mut self, now: Instant) -> Option<u64> {
        self.since = self.since.saturating_add(1);
        match self.last {
            Some(t) if now.saturating_duration_since(t) < REPORT_INTERVAL => None,
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.since))
            }
        }
    }
}

/// Counters for the control socket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BrowserCounters {
    /// Browser frames handled.
    pub frames: u64,
    /// Frames that did not parse.
    pub malformed: u64,
    /// Frames ignored (ours, off-subnet, other workgroups' elections, …).
    pub ignored: u64,
    /// New browse-list entries refused by a cap (the caps per source included).
    pub refused: u64,
    /// Announcements refused because their source holds as many entries as one may.
    pub source_capped: u64,
    /// Frames from another host under our own name, ignored.
    pub forged_own_name: u64,
    /// GetBackupList requests not answered: their source was over its rate limit.
    pub rate_limited: u64,
    /// Frames from an address no host sends from (broadcast, network, 0.0.0.0, multicast,
    /// loopback on a LAN), dropped.
    pub impossible_source: u64,
    /// Elections we started.
    pub elections_started: u64,
    /// Elections we won.
    pub elections_won: u64,
    /// Elections we lost.
    pub elections_lost: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Election {
    Idle,
    Delaying { at: Instant },
    Running { sends: u8, next: Instant },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Master {
    name: Option<ServerName>,
    addr: Ipv4Addr,
}

#[derive(Debug, Clone)]
struct Subnet {
    addr: IfaceAddr,
    role: Role,
    list: BrowseList,
    announcements: u32,
    next_announce: Instant,
    election: Election,
    /// Won; waiting for `WORKGROUP<1D>` to register.
    becoming: bool,
    master: Option<Master>,
    /// A find (broadcast) or probe (unicast) query in flight.
    query: Option<QueryId>,
    /// The query in flight is the second look after one that nobody answered.
    second_look: bool,
    /// When to look for, or probe, the master next.
    next_check: Option<Instant>,
    /// `WORKGROUP<1E>` is registered: we may take part.
    ready: bool,
    update_count: u8,
    /// An AnnouncementRequest went out (or was not needed) at the first announcement.
    asked: bool,
    /// When a backup next copies the list from the master.
    next_copy: Option<Instant>,
    /// Browsers this master told to become backups, and when; counted as backups until they
    /// announce the role or [`APPOINTMENT_GRACE`] passes.
    appointed: Vec<(ServerName, Instant)>,
    /// When we last heard a ballot better than ours (see [`takeover`]).
    beaten_at: Option<Instant>,
    /// Which look at the master we knew is in flight before we take over (0: none).
    looking: u8,
    /// How many times we ran again because that master still held `WORKGROUP<1D>`.
    reruns: u8,
    /// The master our probes last found gone, looked at again before we take over.
    lost_master: Option<Ipv4Addr>,
    /// The candidate whose ballot beat us last (see [`WINNER_CONFIRM`]).
    winner: Option<Winner>,
}

/// A candidate that beat us, and whether it is known to be real.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Winner {
    addr: Ipv4Addr,
    /// When its latest ballot arrived.
    last: Instant,
    /// A second ballot of its arrived within [`WINNER_CONFIRM`] of the one before.
    confirmed: bool,
}

impl Winner {
    /// Whether we still leave the workgroup to this winner at `now`: a confirmed one for
    /// [`WINNER_GRACE`] after its latest ballot.
    fn waited_for(&self, now: Instant) -> bool {
        self.confirmed && now.saturating_duration_since(self.last) < WINNER_GRACE
    }
}

/// When the master check of a subnet runs: only while no query is in flight, once
/// `WORKGROUP<1E>` is registered, and never on the master or while it registers its names.
/// [`BrowserEngine::poll_timeout`] and the check itself use this one rule, so a timer that
/// cannot fire is never reported (which would make the driver spin).
fn check_due(s: &Subnet) -> Option<Instant> {
    let idle = s.query.is_none() && s.ready && s.role != Role::Master && !s.becoming;
    if idle { s.next_check } else { None }
}

/// The browser engine of one host, for all its interface addresses.
#[derive(Debug)]
pub struct BrowserEngine {
    config: BrowserConfig,
    name: ServerName,
    workgroup: ServerName,
    started: Option<Instant>,
    subnets: BTreeMap<IfaceId, Subnet>,
    dgram: DatagramLayer,
    rng: Rng,
    transmits: VecDeque<Transmit>,
    events: VecDeque<BrowserEvent>,
    counters: BrowserCounters,
    shut_down: bool,
    /// When the remote announcements go out next (none configured, or no interface: none).
    next_remote: Option<Instant>,
    /// Reports of capped sources, folded.
    capped_report: Folded,
    /// Reports of forged frames under our name, folded.
    forged_report: Folded,
    /// GetBackupList responses per source.
    response_limiter: RateLimiter,
}

fn server_name(n: &NetbiosName) -> ServerName {
    ServerName::from_netbios_name(n).unwrap_or_default()
}

impl BrowserEngine {
    /// An engine with no interface yet; `rng` seeds its datagram IDs and election delays.
    pub fn new(config: BrowserConfig, mut rng: Rng) -> Self {
        let dgram = DatagramLayer::new(config.port, config.scope.clone(), rng.next_u16());
        let response_rate = config.response_rate;
        BrowserEngine {
            name: server_name(&config.netbios_name),
            workgroup: server_name(&config.workgroup),
            config,
            started: None,
            subnets: BTreeMap::new(),
            dgram,
            rng,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            counters: BrowserCounters::default(),
            shut_down: false,
            next_remote: None,
            capped_report: Folded::default(),
            forged_report: Folded::default(),
            response_limiter: RateLimiter::new(response_rate),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &BrowserConfig {
        &self.config
    }

    /// The counters.
    pub fn counters(&self) -> BrowserCounters {
        self.counters
    }

    /// The role on an interface address.
    pub fn role(&self, id: IfaceId) -> Option<Role> {
        self.subnets.get(&id).map(|s| s.role)
    }

    /// The master known on an interface address: its name when known, and its address.
    pub fn master(&self, id: IfaceId) -> Option<(Option<ServerName>, Ipv4Addr)> {
        self.subnets
            .get(&id)
            .and_then(|s| s.master)
            .map(|m| (m.name, m.addr))
    }

    /// The browse list of an interface address.
    pub fn list(&self, id: IfaceId) -> Option<&BrowseList> {
        self.subnets.get(&id).map(|s| &s.list)
    }

    /// The browse list of an interface address, for restoring a saved one.
    pub fn list_mut(&mut self, id: IfaceId) -> Option<&mut BrowseList> {
        self.subnets.get_mut(&id).map(|s| &mut s.list)
    }

    /// Starts browsing on an interface address: the first announcement goes out now.
    pub fn add_interface(&mut self, now: Instant, addr: IfaceAddr) {
        self.started.get_or_insert(now);
        if !self.config.remote_announce.is_empty() {
            self.next_remote.get_or_insert(now);
        }
        let role = if self.config.local_master {
            Role::Potential
        } else {
            Role::NonBrowser
        };
        let id = addr.id;
        self.subnets.insert(
            id,
            Subnet {
                addr,
                role,
                list: BrowseList::new(self.config.limits),
                announcements: 0,
                next_announce: now,
                election: Election::Idle,
                becoming: false,
                master: None,
                query: None,
                second_look: false,
                next_check: None,
                ready: false,
                update_count: 0,
                asked: false,
                next_copy: None,
                appointed: Vec::new(),
                beaten_at: None,
                looking: 0,
                reruns: 0,
                lost_master: None,
                winner: None,
            },
        );
    }

    /// Stops browsing on an interface address. With `farewell` (the address still works), says
    /// goodbye on its subnet first, as [`shutdown`](Self::shutdown) does on every subnet.
    pub fn remove_interface(&mut self, id: IfaceId, farewell: bool) {
        if farewell {
            self.say_goodbye(id);
        }
        self.subnets.remove(&id);
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<BrowserEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.shut_down {
            return None;
        }
        let subnets = self.subnets.values().flat_map(|s| {
            let election = match s.election {
                Election::Idle => None,
                Election::Delaying { at } => Some(at),
                Election::Running { next, .. } => Some(next),
            };
            let check = check_due(s);
            [
                Some(s.next_announce),
                election,
                check,
                s.list.next_expiry(),
                s.next_copy,
            ]
        });
        subnets
            .chain([self.dgram.poll_timeout(), self.next_remote])
            .flatten()
            .min()
    }

    /// Runs what is due: announcements, election steps, master checks and list expiry.
    pub fn handle_timeout(&mut self, now: Instant, names: &mut NameEngine) {
        if self.shut_down {
            return;
        }
        self.dgram.handle_timeout(now);
        let ids: Vec<IfaceId> = self.subnets.keys().copied().collect();
        for id in ids {
            if let Some(s) = self.subnets.get_mut(&id) {
                s.list.expire(now);
            }
            self.step_election(now, id, names);
            self.step_check(now, id, names);
            self.step_copy(now, id);
            if self
                .subnets
                .get(&id)
                .is_some_and(|s| s.next_announce <= now)
            {
                self.announce(now, id);
            }
        }
        if self.next_remote.is_some_and(|t| t <= now) {
            self.announce_remote(now);
        }
    }

    /// Takes what the name engine reported: our names' registrations and our queries' answers.
    pub fn on_name_event(&mut self, now: Instant, names: &mut NameEngine, e: &NameEvent) {
        if self.shut_down {
            return;
        }
        let wg = self.config.workgroup;
        match e {
            NameEvent::Registered { iface, name, .. } => {
                if name.eq_ignore_case(&wg.with_suffix(suffix::BROWSER_ELECTION)) {
                    if let Some(s) = self.subnets.get_mut(iface) {
                        s.ready = true;
                    }
                    if self.config.local_master && self.config.preferred_master {
                        self.start_election(now, *iface, "preferred master starting", true);
                    } else {
                        self.find_master(now, *iface, names);
                    }
                } else if name.eq_ignore_case(&wg.with_suffix(suffix::LOCAL_MASTER)) {
                    self.become_master(now, *iface);
                }
            }
            NameEvent::Conflict {
                iface, name, owner, ..
            } if name.eq_ignore_case(&wg.with_suffix(suffix::LOCAL_MASTER)) => {
                // Someone holds <1D> after all: it is the master, not us.
                names.remove_name_on(now, *iface, NetbiosName::MSBROWSE);
                if let Some(s) = self.subnets.get_mut(iface) {
                    s.becoming = false;
                }
                self.set_master(now, *iface, None, *owner);
            }
            NameEvent::QueryResult {
                id, iface, answers, ..
            } => self.on_query_result(now, *iface, *id, answers, names),
            _ => {}
        }
    }

    fn send_frame(&mut self, id: IfaceId, frame: BrowserFrame, workgroup_suffix: u8) {
        let dest = self.config.workgroup.with_suffix(workgroup_suffix);
        self.send_frame_to(id, frame, dest);
    }

    fn send_frame_to(&mut self, id: IfaceId, frame: BrowserFrame, dest: NetbiosName) {
        let Ok(bytes) = frame.to_vec() else {
            return;
        };
        let dest = ScopedName {
            name: dest,
            scope: self.config.scope.clone(),
        };
        self.send_mailslot(id, bytes, dest, None);
    }

    /// Queues a browser frame (already emitted) from our `<00>` name on interface `id` to
    /// `dest`: broadcast on the subnet when `to` is `None`, else unicast to `to`.
    fn send_mailslot(
        &mut self,
        id: IfaceId,
        bytes: Vec<u8>,
        dest: ScopedName,
        to: Option<SocketAddrV4>,
    ) {
        let Some(s) = self.subnets.get(&id) else {
            return;
        };
        let iface = s.addr.clone();
        let source = self.config.netbios_name.with_suffix(suffix::WORKSTATION);
        if let Some(t) = self
            .dgram
            .mailslot(&iface, source, dest, to, MAILSLOT_BROWSE, bytes)
        {
            self.transmits.push_back(t);
        }
    }

    /// When the remote announcements go out next (none configured, or no interface address
    /// to send them from: `None`).
    pub fn remote_announce_due(&self) -> Option<Instant> {
        self.next_remote
    }

    /// The datagram layer, to unwrap what arrives on the datagram port.
    pub fn datagram_layer(&mut self) -> &mut DatagramLayer {
        &mut self.dgram
    }

    fn event(&mut self, e: BrowserEvent) {
        if self.events.len() < 1024 {
            self.events.push_back(e);
        }
    }
}
