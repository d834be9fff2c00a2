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
mod reconfigure;
mod takeover;

use std::collections::{BTreeMap, VecDeque};
use std::net::Ipv4Addr;
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
    /// New browse-list entries refused by a cap.
    pub refused: u64,
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
}

fn server_name(n: &NetbiosName) -> ServerName {
    ServerName::from_netbios_name(n).unwrap_or_default()
}

impl BrowserEngine {
    /// An engine with no interface yet; `rng` seeds its datagram IDs and election delays.
    pub fn new(config: BrowserConfig, mut rng: Rng) -> Self {
        let dgram = DatagramLayer::new(config.port, config.scope.clone(), rng.next_u16());
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
        subnets.chain([self.dgram.poll_timeout()]).flatten().min()
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

    fn on_query_result(
        &mut self,
        now: Instant,
        iface: IfaceId,
        id: QueryId,
        answers: &[(Ipv4Addr, NbAddress)],
        names: &mut NameEngine,
    ) {
        let Some(s) = self.subnets.get_mut(&iface) else {
            return;
        };
        if s.query != Some(id) {
            return;
        }
        if s.looking != 0 {
            self.on_look_result(now, iface, id, answers, names);
            return;
        }
        s.query = None;
        let second_look = std::mem::take(&mut s.second_look);
        if answers.is_empty() && !second_look {
            // Three tries unanswered happen on a lossy LAN (one in twenty at 20% loss each
            // way) and would start an election the master must then win again. Look once
            // more at once: the master is gone only if that goes unanswered too.
            s.second_look = true;
            self.find_master(now, iface, names);
            return;
        }
        let Some(s) = self.subnets.get_mut(&iface) else {
            return;
        };
        let probing = s.master;
        match (answers.first(), probing) {
            (Some(&(_, nb)), _) => {
                s.next_check = Some(now + self.config.master_probe_interval);
                if probing.is_none_or(|m| m.addr != nb.addr) {
                    self.set_master(now, iface, None, nb.addr);
                }
            }
            (None, Some(m)) => {
                s.master = None;
                s.next_check = None;
                s.beaten_at = None;
                s.lost_master = Some(m.addr);
                self.event(BrowserEvent::MasterLost {
                    iface,
                    addr: m.addr,
                    reason: "it stopped answering for the workgroup's <1D> name",
                });
                self.start_election(now, iface, "the master stopped answering", true);
            }
            (None, None) => {
                if self.config.local_master {
                    self.start_election(now, iface, "no local master answered", true);
                } else {
                    // Make the others elect one, and look again later (Samba does the same).
                    self.send_frame(
                        iface,
                        BrowserFrame::RequestElection(RequestElection::force()),
                        suffix::BROWSER_ELECTION,
                    );
                    if let Some(s) = self.subnets.get_mut(&iface) {
                        s.next_check = Some(now + FIND_MASTER_RETRY);
                    }
                }
            }
        }
    }

    /// A backup's periodic copy of the master's list: asks the driver for it.
    fn step_copy(&mut self, now: Instant, id: IfaceId) {
        let Some(s) = self.subnets.get_mut(&id) else {
            return;
        };
        if s.next_copy.is_none_or(|t| t > now) {
            return;
        }
        if s.role != Role::Backup {
            s.next_copy = None;
            return;
        }
        match s.master.filter(|m| m.addr != s.addr.addr) {
            Some(m) => {
                s.next_copy = Some(now + BACKUP_REFRESH);
                self.event(BrowserEvent::CopyListFromMaster {
                    iface: id,
                    master: m.addr,
                });
            }
            // Appointed before the master is known (a backup may be told at its very start):
            // look again shortly rather than in 15 minutes.
            None => s.next_copy = Some(now + COPY_RETRY),
        }
    }

    /// Takes the browse list a backup copied from its master: servers of our workgroup (name,
    /// type, OS version, comment) and workgroups with their masters. Entries already heard
    /// directly keep their own data; the others are listed as if announced every 12 minutes,
    /// so they stay while the master lists them.
    pub fn list_copied(
        &mut self,
        now: Instant,
        id: IfaceId,
        servers: &[CopiedServer],
        workgroups: &[(ServerName, ServerName)],
    ) -> usize {
        let wg = self.workgroup;
        let Some(s) = self.subnets.get_mut(&id) else {
            return 0;
        };
        let period = u32::try_from(COPIED_PERIODICITY.as_millis()).unwrap_or(u32::MAX);
        let mut added = 0;
        for (name, t, version, comment) in servers {
            if name.is_empty() || t.is_empty() || s.list.server(&wg, name).is_some() {
                continue;
            }
            let a = Announcement {
                os_version_major: version.0,
                os_version_minor: version.1,
                ..Announcement::new(*name, *t, period, comment.clone())
            };
            if s.list.server_announced(now, &wg, &a, None) == Update::Added {
                added += 1;
            }
        }
        for (name, master) in workgroups {
            if s.list.workgroups().any(|w| w.name.eq_ignore_case(name)) {
                continue;
            }
            let d = Announcement::domain(*name, *master, period);
            if s.list.workgroup_announced(now, &d, None) == Update::Added {
                added += 1;
            }
        }
        added
    }

    fn find_master(&mut self, now: Instant, id: IfaceId, names: &mut NameEngine) {
        let target = self.subnets.get(&id).and_then(|s| s.master).map(|m| m.addr);
        let name = self.config.workgroup.with_suffix(suffix::LOCAL_MASTER);
        let q = names.query(now, id, name, target);
        if let Some(s) = self.subnets.get_mut(&id) {
            s.query = q;
            if q.is_none() {
                s.second_look = false;
                s.next_check = Some(now + self.config.master_probe_interval);
            }
        }
    }

    fn step_check(&mut self, now: Instant, id: IfaceId, names: &mut NameEngine) {
        let due = self
            .subnets
            .get(&id)
            .and_then(check_due)
            .is_some_and(|t| t <= now);
        if due {
            if let Some(s) = self.subnets.get_mut(&id) {
                s.next_check = None;
            }
            self.find_master(now, id, names);
        }
    }

    fn set_master(&mut self, now: Instant, id: IfaceId, name: Option<ServerName>, addr: Ipv4Addr) {
        let interval = self.config.master_probe_interval;
        let Some(s) = self.subnets.get_mut(&id) else {
            return;
        };
        let known = s.master;
        let name = name.or(known.filter(|m| m.addr == addr).and_then(|m| m.name));
        s.master = Some(Master { name, addr });
        s.lost_master = None;
        // A new master is probed from now on: this also ends the wait for the winner of an
        // election we lost, which would otherwise leave it unwatched for WINNER_GRACE.
        let new = known.is_none_or(|m| m.addr != addr);
        if (s.next_check.is_none() || new) && s.query.is_none() {
            s.next_check = Some(now + interval);
        }
        if known.is_none_or(|m| m.addr != addr || (m.name.is_none() && name.is_some())) {
            self.event(BrowserEvent::MasterFound {
                iface: id,
                name,
                addr,
            });
        }
    }

    /// Handles a mailslot write that arrived on interface `id`.
    pub fn handle_mailslot(
        &mut self,
        now: Instant,
        id: IfaceId,
        m: &Mailslot,
        names: &mut NameEngine,
    ) -> Disposition {
        let d = self.dispatch(now, id, m, names);
        match &d {
            Disposition::Handled => self.counters.frames += 1,
            Disposition::Ignored(_) => self.counters.ignored += 1,
            Disposition::Malformed(_) => self.counters.malformed += 1,
        }
        d
    }

    fn dispatch(
        &mut self,
        now: Instant,
        id: IfaceId,
        m: &Mailslot,
        names: &mut NameEngine,
    ) -> Disposition {
        use Disposition::Ignored;
        if self.shut_down {
            return Ignored("shutting down");
        }
        let Some(s) = self.subnets.get(&id) else {
            return Ignored("unknown interface");
        };
        let src = *m.src.ip();
        if self.subnets.values().any(|s| s.addr.addr == src) {
            return Ignored("our own datagram");
        }
        if !self.config.answer_remote_subnets && !s.addr.contains(src) {
            return Ignored("source outside the interface's subnet");
        }
        if !m.mailslot.eq_ignore_ascii_case(MAILSLOT_BROWSE) {
            return Ignored("not the browser mailslot");
        }
        if !m.destination_name.scope.eq_ignore_case(&self.config.scope) {
            return Ignored("another NetBIOS scope");
        }
        let frame = match BrowserFrame::parse(&m.data) {
            Ok(f) => f,
            Err(e) => return Disposition::Malformed(e),
        };
        let dest = m.destination_name.name;
        let dest_wg = server_name(&dest);
        let ours = dest_wg.eq_ignore_case(&self.workgroup);
        match frame {
            BrowserFrame::HostAnnouncement(a) => {
                self.on_announcement(now, id, &dest_wg, &a, src, false, names)
            }
            BrowserFrame::LocalMasterAnnouncement(a) => {
                self.on_announcement(now, id, &dest_wg, &a, src, true, names)
            }
            BrowserFrame::DomainAnnouncement(a) => {
                if let Some(s) = self.subnets.get_mut(&id) {
                    if s.list.workgroup_announced(now, &a, Some(src)) == Update::Refused {
                        self.counters.refused += 1;
                    }
                }
                Disposition::Handled
            }
            BrowserFrame::AnnouncementRequest(_) if ours => {
                let jitter = self
                    .rng
                    .range(0, ANNOUNCE_REQUEST_JITTER.as_millis() as u64);
                if let Some(s) = self.subnets.get_mut(&id) {
                    s.next_announce = s.next_announce.min(now + Duration::from_millis(jitter));
                }
                Disposition::Handled
            }
            BrowserFrame::RequestElection(e) if ours => self.on_election(now, id, &e, src, names),
            BrowserFrame::GetBackupListRequest(r) if ours => self.on_backup_list_request(id, &r, m),
            BrowserFrame::BecomeBackup { browser_to_promote }
                if ours && browser_to_promote.eq_ignore_case(&self.name) =>
            {
                let Some(s) = self.subnets.get_mut(&id) else {
                    return Ignored("unknown interface");
                };
                if s.role != Role::Potential {
                    return Ignored("BecomeBackup for a browser that is not a potential browser");
                }
                s.role = Role::Backup;
                s.announcements = 0;
                s.next_announce = now;
                s.next_copy = Some(now);
                self.event(BrowserEvent::RoleChanged {
                    iface: id,
                    role: Role::Backup,
                });
                Disposition::Handled
            }
            BrowserFrame::ResetStateRequest { reset_type } if ours => {
                let is_master = self
                    .subnets
                    .get(&id)
                    .is_some_and(|s| s.role == Role::Master);
                if self.config.honour_reset_state
                    && is_master
                    && reset_type
                        .intersects(ResetStateType::STOP_MASTER | ResetStateType::CLEAR_ALL)
                {
                    self.demote(now, id, names);
                    self.start_election(now, id, "ResetStateRequest", false);
                    return Disposition::Handled;
                }
                self.event(BrowserEvent::ResetStateIgnored {
                    iface: id,
                    from: src,
                });
                Ignored("ResetStateRequest not honoured")
            }
            _ => Ignored("frame for another workgroup or role"),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_announcement(
        &mut self,
        now: Instant,
        id: IfaceId,
        workgroup: &ServerName,
        a: &Announcement,
        src: Ipv4Addr,
        local_master: bool,
        names: &mut NameEngine,
    ) -> Disposition {
        let Some(s) = self.subnets.get_mut(&id) else {
            return Disposition::Ignored("unknown interface");
        };
        let update = s.list.server_announced(now, workgroup, a, Some(src));
        if update == Update::Refused {
            self.counters.refused += 1;
        }
        if !workgroup.eq_ignore_case(&self.workgroup) {
            return Disposition::Handled;
        }
        // A master appoints backups as the workgroup grows, not only at its next announcement.
        let newcomer = update == Update::Added
            && a.server_type.contains(ServerType::POTENTIAL_BROWSER)
            && s.role == Role::Master;
        if newcomer {
            self.appoint_backups(now, id);
        }
        let Some(s) = self.subnets.get_mut(&id) else {
            return Disposition::Ignored("unknown interface");
        };
        let is_master = s.master.is_some_and(|m| m.addr == src);
        let announces_master = local_master || a.server_type.contains(ServerType::MASTER_BROWSER);
        if a.is_going_down() {
            if is_master {
                s.master = None;
                s.next_check = None;
                s.beaten_at = None;
                self.event(BrowserEvent::MasterLost {
                    iface: id,
                    addr: src,
                    reason: "it announced that it is going down",
                });
                self.start_election(now, id, "the master is going down", true);
            }
            return Disposition::Handled;
        }
        if announces_master {
            let we_lead = s.role == Role::Master || s.becoming;
            if we_lead {
                // Two masters: MS-BRWS 3.3.5.8 says hold an election, which the better one wins.
                self.start_election(now, id, "another local master announced itself", false);
            } else {
                self.set_master(now, id, Some(a.server_name), src);
            }
        }
        let _ = names;
        Disposition::Handled
    }

    fn on_backup_list_request(
        &mut self,
        id: IfaceId,
        r: &GetBackupListRequest,
        m: &Mailslot,
    ) -> Disposition {
        let Some(s) = self.subnets.get(&id) else {
            return Disposition::Ignored("unknown interface");
        };
        if s.role != Role::Master {
            return Disposition::Ignored("GetBackupListRequest to a browser that is not master");
        }
        let want = usize::from(r.requested_count.max(1));
        let mut servers = vec![self.name];
        servers.extend(
            s.list
                .servers(&self.workgroup)
                .filter(|e| e.server_type.contains(ServerType::BACKUP_BROWSER))
                .map(|e| e.name)
                .filter(|n| !n.eq_ignore_case(&self.name)),
        );
        servers.truncate(want);
        let frame = BrowserFrame::GetBackupListResponse(GetBackupListResponse {
            token: r.token,
            servers,
        });
        let iface = s.addr.clone();
        let Ok(bytes) = frame.to_vec() else {
            return Disposition::Ignored("backup list does not fit a datagram");
        };
        if let Some(t) = self.dgram.mailslot(
            &iface,
            self.config.netbios_name.with_suffix(suffix::WORKSTATION),
            m.source_name.clone(),
            Some(m.src),
            MAILSLOT_BROWSE,
            bytes,
        ) {
            self.transmits.push_back(t);
        }
        Disposition::Handled
    }

    fn send_frame(&mut self, id: IfaceId, frame: BrowserFrame, workgroup_suffix: u8) {
        let dest = self.config.workgroup.with_suffix(workgroup_suffix);
        self.send_frame_to(id, frame, dest);
    }

    fn send_frame_to(&mut self, id: IfaceId, frame: BrowserFrame, dest: NetbiosName) {
        let Some(s) = self.subnets.get(&id) else {
            return;
        };
        let Ok(bytes) = frame.to_vec() else {
            return;
        };
        let iface = s.addr.clone();
        let dest = ScopedName {
            name: dest,
            scope: self.config.scope.clone(),
        };
        let source = self.config.netbios_name.with_suffix(suffix::WORKSTATION);
        if let Some(t) = self
            .dgram
            .mailslot(&iface, source, dest, None, MAILSLOT_BROWSE, bytes)
        {
            self.transmits.push_back(t);
        }
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
