//! The browse list: servers per workgroup and the workgroups with their masters, as a local
//! master browser or a backup keeps them (MS-BRWS 3.3.1).
//!
//! - An entry lives for three of its announced periods: a server that misses three announcements
//!   is dropped, so 36 minutes at the usual 12 (Samba `nmbd_serverlistdb.c`: `ttl * 3`).
//! - The period is clamped to [`MIN_PERIODICITY`]..=[`MAX_PERIODICITY`]: a tiny value must not make
//!   an entry flap, nor a huge one make it live forever.
//! - ServerType 0 ("going down") removes the entry at once.
//! - Caps bound the list per workgroup, in workgroups and in total. A new entry beyond a cap is
//!   refused; entries already listed are still refreshed, so a flood of fake names cannot push
//!   out the hosts that were there first.
//! - Caps also bound what one source address holds through announcements heard on the wire
//!   (servers and workgroups), so that one host cannot squat the whole list and lock out the
//!   hosts and workgroups that come after it. Entries copied from a master over TCP carry no
//!   source and are not held to them.
//! - Names compare without regard to ASCII case; the list is kept sorted that way.
//! - Expiry runs when the earliest entry is due, and at most once a second, so an idle list
//!   wakes nobody.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use crate::engine::Instant;
use crate::wire::browse::{Announcement, MAX_NAME_LEN, ServerName, ServerType};

/// Shortest announcement period honoured (the first interval of the MS-BRWS 3.2.6 schedule).
pub const MIN_PERIODICITY: Duration = Duration::from_secs(60);
/// Longest announcement period honoured (the DomainAnnouncement period, MS-BRWS 3.3.6).
pub const MAX_PERIODICITY: Duration = Duration::from_secs(15 * 60);
/// Announcements an entry may miss before it is dropped.
pub const MISSED_ANNOUNCEMENTS: u32 = 3;
/// Expiry never runs more often than this.
const EXPIRY_GRANULARITY: Duration = Duration::from_secs(1);
/// Longest comment kept; longer ones are cut.
pub const MAX_KEPT_COMMENT: usize = 255;

/// How large the browse list may grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrowseLimits {
    /// Servers listed in one workgroup.
    pub max_servers_per_workgroup: usize,
    /// Workgroups listed.
    pub max_workgroups: usize,
    /// Servers listed in all workgroups together.
    pub max_servers_total: usize,
    /// Servers that the announcements from one address may hold (a host announces its name
    /// and its aliases).
    pub max_servers_per_source: usize,
    /// Workgroups that the DomainAnnouncements from one address may hold.
    pub max_workgroups_per_source: usize,
}

impl Default for BrowseLimits {
    fn default() -> Self {
        BrowseLimits {
            max_servers_per_workgroup: 2048,
            max_workgroups: 256,
            max_servers_total: 16384,
            max_servers_per_source: 8,
            max_workgroups_per_source: 4,
        }
    }
}

/// A server in the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerEntry {
    /// Its name.
    pub name: ServerName,
    /// SV_TYPE bits, without LOCAL_LIST_ONLY and DOMAIN_ENUM.
    pub server_type: ServerType,
    /// OS version (major, minor) from its announcement.
    pub version: (u8, u8),
    /// Its comment.
    pub comment: Box<[u8]>,
    /// The address its announcement came from, when known.
    pub addr: Option<Ipv4Addr>,
    /// Its announced period, clamped.
    pub periodicity: Duration,
    /// When it was last heard.
    pub last_seen: Instant,
}

impl ServerEntry {
    /// When it is dropped unless heard again.
    pub fn expires(&self) -> Instant {
        self.last_seen + self.periodicity * MISSED_ANNOUNCEMENTS
    }
}

/// A workgroup in the list, as its local master announced it (DomainAnnouncement, MS-BRWS 2.2.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkgroupEntry {
    /// The workgroup.
    pub name: ServerName,
    /// Its local master browser.
    pub master: ServerName,
    /// The address of the master's announcement, when known.
    pub addr: Option<Ipv4Addr>,
    /// Announced period, clamped.
    pub periodicity: Duration,
    /// When it was last heard.
    pub last_seen: Instant,
}

impl WorkgroupEntry {
    /// When it is dropped unless heard again.
    pub fn expires(&self) -> Instant {
        self.last_seen + self.periodicity * MISSED_ANNOUNCEMENTS
    }
}

/// What an announcement did to the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// A new entry.
    Added,
    /// An entry already listed was refreshed.
    Refreshed,
    /// ServerType 0: the entry was removed.
    Removed,
    /// ServerType 0 for an entry not listed.
    Unknown,
    /// A new entry beyond a cap was refused.
    Refused,
    /// A new entry, or an entry moving to this source, was refused: its source address already
    /// holds as many entries as one source may.
    SourceCapped,
    /// The announcement carried an empty name.
    Invalid,
}

/// An entry that expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expired {
    /// A server of a workgroup.
    Server {
        /// The workgroup.
        workgroup: ServerName,
        /// The server.
        name: ServerName,
    },
    /// A workgroup.
    Workgroup(ServerName),
}

/// Case-insensitive sort key of a name: upper-cased bytes, then the length.
type Key = [u8; MAX_NAME_LEN + 1];

fn key(n: &ServerName) -> Key {
    let mut k = [0u8; MAX_NAME_LEN + 1];
    let b = n.as_bytes();
    for (d, s) in k.iter_mut().zip(b) {
        *d = s.to_ascii_uppercase();
    }
    k[MAX_NAME_LEN] = b.len() as u8;
    k
}

/// A server name that sorts and compares without regard to ASCII case, as the key of a
/// workgroup's servers (it keeps the case the server announced).
#[derive(Debug, Clone, Copy)]
struct Caseless(ServerName);

impl Ord for Caseless {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        key(&self.0).cmp(&key(&other.0))
    }
}

impl PartialOrd for Caseless {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Caseless {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Caseless {}

/// A server entry as the list keeps it, small because a list may hold tens of thousands: the
/// name is the map's key, the time an offset from the list's base, the period in milliseconds.
#[derive(Debug, Clone)]
struct Stored {
    server_type: ServerType,
    addr: [u8; 4],
    has_addr: bool,
    version: (u8, u8),
    periodicity_ms: u32,
    /// `last_seen` minus the list's base, in nanoseconds (negative for a time before it).
    last_seen_ns: i64,
    comment: Box<[u8]>,
}

#[derive(Debug, Clone, Default)]
struct Group {
    entry: Option<WorkgroupEntry>,
    servers: BTreeMap<Caseless, Stored>,
}

/// The instant every stored time is counted from.
#[derive(Debug, Clone, Copy)]
struct Base(Instant);

impl Base {
    fn offset(self, t: Instant) -> i64 {
        match t.checked_duration_since(self.0) {
            Some(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
            None => -i64::try_from(self.0.duration_since(t).as_nanos()).unwrap_or(i64::MAX),
        }
    }

    fn at(self, offset_ns: i64) -> Instant {
        let d = Duration::from_nanos(offset_ns.unsigned_abs());
        if offset_ns >= 0 {
            self.0 + d
        } else {
            self.0.checked_sub(d).unwrap_or(self.0)
        }
    }

    fn store(self, e: ServerEntry) -> (Caseless, Stored) {
        let stored = Stored {
            server_type: e.server_type,
            addr: e.addr.map_or([0; 4], |a| a.octets()),
            has_addr: e.addr.is_some(),
            version: e.version,
            periodicity_ms: u32::try_from(e.periodicity.as_millis()).unwrap_or(u32::MAX),
            last_seen_ns: self.offset(e.last_seen),
            comment: e.comment,
        };
        (Caseless(e.name), stored)
    }

    fn entry(self, name: &Caseless, s: &Stored) -> ServerEntry {
        ServerEntry {
            name: name.0,
            server_type: s.server_type,
            version: s.version,
            comment: s.comment.clone(),
            addr: s.has_addr.then(|| Ipv4Addr::from(s.addr)),
            periodicity: Duration::from_millis(u64::from(s.periodicity_ms)),
            last_seen: self.at(s.last_seen_ns),
        }
    }

    fn expires(self, s: &Stored) -> Instant {
        self.at(s.last_seen_ns)
            + Duration::from_millis(u64::from(s.periodicity_ms)) * MISSED_ANNOUNCEMENTS
    }
}

/// The browse list.
#[derive(Debug, Clone)]
pub struct BrowseList {
    groups: BTreeMap<Key, Group>,
    /// Where stored times count from: the first time the list heard of anything.
    base: Option<Base>,
    total_servers: usize,
    limits: BrowseLimits,
    /// The earliest expiry, when anything is listed.
    next_expiry: Option<Instant>,
    last_scan: Option<Instant>,
    /// What each source address holds through its announcements.
    held: BTreeMap<Ipv4Addr, Held>,
}

/// The entries one source address holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Held {
    servers: u32,
    workgroups: u32,
}

/// Which kind of entry a source holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Server,
    Workgroup,
}

/// Counts one more entry of `kind` for `source`, or one less.
fn hold(held: &mut BTreeMap<Ipv4Addr, Held>, source: Option<Ipv4Addr>, kind: Kind, more: bool) {
    let Some(a) = source else {
        return;
    };
    let h = held.entry(a).or_default();
    let n = match kind {
        Kind::Server => &mut h.servers,
        Kind::Workgroup => &mut h.workgroups,
    };
    *n = if more {
        n.saturating_add(1)
    } else {
        n.saturating_sub(1)
    };
    if *h == Held::default() {
        held.remove(&a);
    }
}

/// The source address a stored server entry counts for.
fn source_of(s: &Stored) -> Option<Ipv4Addr> {
    s.has_addr.then(|| Ipv4Addr::from(s.addr))
}

fn clamp(periodicity_ms: u32) -> Duration {
    Duration::from_millis(u64::from(periodicity_ms)).clamp(MIN_PERIODICITY, MAX_PERIODICITY)
}

fn comment(c: &[u8]) -> Box<[u8]> {
    c[..c.len().min(MAX_KEPT_COMMENT)].into()
}

impl BrowseList {
    /// An empty list with these caps.
    pub fn new(limits: BrowseLimits) -> Self {
        BrowseList {
            groups: BTreeMap::new(),
            base: None,
            total_servers: 0,
            limits,
            next_expiry: None,
            last_scan: None,
            held: BTreeMap::new(),
        }
    }

    /// Whether `source` already holds as many entries of `kind` as one source may.
    fn source_full(&self, source: Option<Ipv4Addr>, kind: Kind) -> bool {
        let Some(a) = source else {
            return false;
        };
        let h = self.held.get(&a).copied().unwrap_or_default();
        match kind {
            Kind::Server => h.servers as usize >= self.limits.max_servers_per_source,
            Kind::Workgroup => h.workgroups as usize >= self.limits.max_workgroups_per_source,
        }
    }

    /// Source addresses that hold entries through announcements.
    pub fn source_count(&self) -> usize {
        self.held.len()
    }

    /// The caps.
    pub fn limits(&self) -> BrowseLimits {
        self.limits
    }

    /// Changes the caps: they refuse new entries from now on, and entries already listed stay
    /// (as when a cap is reached).
    pub fn set_limits(&mut self, limits: BrowseLimits) {
        self.limits = limits;
    }

    /// Servers listed in all workgroups.
    pub fn server_count(&self) -> usize {
        self.total_servers
    }

    /// Workgroups known: those with a listed master or listed servers.
    pub fn workgroup_count(&self) -> usize {
        self.groups.len()
    }

    fn note_expiry(&mut self, at: Instant) {
        self.next_expiry = Some(self.next_expiry.map_or(at, |n| n.min(at)));
    }

    /// Records a HostAnnouncement or LocalMasterAnnouncement heard for `workgroup` (the
    /// datagram's destination name) from `addr` (MS-BRWS 3.3.5.2).
    pub fn server_announced(
        &mut self,
        now: Instant,
        workgroup: &ServerName,
        a: &Announcement,
        addr: Option<Ipv4Addr>,
    ) -> Update {
        if a.server_name.is_empty() || workgroup.is_empty() {
            return Update::Invalid;
        }
        let wk = key(workgroup);
        if a.server_type.is_empty() {
            return match self
                .groups
                .get_mut(&wk)
                .and_then(|g| g.servers.remove(&Caseless(a.server_name)))
            {
                Some(old) => {
                    hold(&mut self.held, source_of(&old), Kind::Server, false);
                    self.total_servers -= 1;
                    self.drop_empty_group(&wk);
                    Update::Removed
                }
                None => Update::Unknown,
            };
        }
        let entry = ServerEntry {
            name: a.server_name,
            server_type: a.server_type - (ServerType::LOCAL_LIST_ONLY | ServerType::DOMAIN_ENUM),
            version: (a.os_version_major, a.os_version_minor),
            comment: comment(&a.comment),
            addr,
            periodicity: clamp(a.periodicity_ms),
            last_seen: now,
        };
        self.insert_server(wk, entry)
    }

    /// Adds or refreshes a server entry, within the caps.
    fn insert_server(&mut self, wk: Key, entry: ServerEntry) -> Update {
        let expires = entry.expires();
        let source = entry.addr;
        let base = *self.base.get_or_insert(Base(entry.last_seen));
        let (sk, stored) = base.store(entry);
        let listed = self
            .groups
            .get(&wk)
            .and_then(|g| g.servers.get_key_value(&sk))
            .map(|(old, s)| (old.0 != sk.0, source_of(s)));
        if let Some((renamed, old_source)) = listed {
            // Same name: the entry is refreshed, under the name as now announced. One that
            // moves to another source counts there, within that source's cap.
            let moves = old_source != source;
            if moves && self.source_full(source, Kind::Server) {
                return Update::SourceCapped;
            }
            if let Some(g) = self.groups.get_mut(&wk) {
                if renamed {
                    g.servers.remove(&sk);
                }
                g.servers.insert(sk, stored);
            }
            if moves {
                hold(&mut self.held, old_source, Kind::Server, false);
                hold(&mut self.held, source, Kind::Server, true);
            }
            self.note_expiry(expires);
            return Update::Refreshed;
        }
        if self.source_full(source, Kind::Server) {
            return Update::SourceCapped;
        }
        if self.total_servers >= self.limits.max_servers_total {
            return Update::Refused;
        }
        if !self.groups.contains_key(&wk) && self.groups.len() >= self.limits.max_workgroups {
            return Update::Refused;
        }
        let g = self.groups.entry(wk).or_default();
        if g.servers.len() >= self.limits.max_servers_per_workgroup {
            return Update::Refused;
        }
        g.servers.insert(sk, stored);
        self.total_servers += 1;
        hold(&mut self.held, source, Kind::Server, true);
        self.note_expiry(expires);
        Update::Added
    }

    /// Records a DomainAnnouncement heard from `addr`: the workgroup named in it and its master,
    /// named in the comment (MS-BRWS 3.3.5.5).
    pub fn workgroup_announced(
        &mut self,
        now: Instant,
        a: &Announcement,
        addr: Option<Ipv4Addr>,
    ) -> Update {
        if a.server_name.is_empty() {
            return Update::Invalid;
        }
        let wk = key(&a.server_name);
        let master_bytes = &a.comment[..a.comment.len().min(MAX_NAME_LEN)];
        let master = ServerName::from_bytes(master_bytes).unwrap_or_default();
        if a.server_type.is_empty() {
            let Some(g) = self.groups.get_mut(&wk) else {
                return Update::Unknown;
            };
            let Some(old) = g.entry.take() else {
                return Update::Unknown;
            };
            hold(&mut self.held, old.addr, Kind::Workgroup, false);
            self.drop_empty_group(&wk);
            return Update::Removed;
        }
        let entry = WorkgroupEntry {
            name: a.server_name,
            master,
            addr,
            periodicity: clamp(a.periodicity_ms),
            last_seen: now,
        };
        self.insert_workgroup(wk, entry)
    }

    /// Adds or refreshes a workgroup entry, within the caps.
    fn insert_workgroup(&mut self, wk: Key, entry: WorkgroupEntry) -> Update {
        let expires = entry.expires();
        let source = entry.addr;
        let listed = self
            .groups
            .get(&wk)
            .and_then(|g| g.entry.as_ref())
            .map(|e| e.addr);
        if listed.is_none_or(|old| old != source) && self.source_full(source, Kind::Workgroup) {
            return Update::SourceCapped;
        }
        if !self.groups.contains_key(&wk) && self.groups.len() >= self.limits.max_workgroups {
            return Update::Refused;
        }
        let g = self.groups.entry(wk).or_default();
        g.entry = Some(entry);
        if listed != Some(source) {
            hold(&mut self.held, listed.flatten(), Kind::Workgroup, false);
            hold(&mut self.held, source, Kind::Workgroup, true);
        }
        self.note_expiry(expires);
        if listed.is_some() {
            Update::Refreshed
        } else {
            Update::Added
        }
    }

    /// Removes a server (for example when it was seen to leave by other means).
    pub fn remove_server(&mut self, workgroup: &ServerName, name: &ServerName) -> bool {
        let wk = key(workgroup);
        let removed = self
            .groups
            .get_mut(&wk)
            .and_then(|g| g.servers.remove(&Caseless(*name)));
        if let Some(old) = &removed {
            hold(&mut self.held, source_of(old), Kind::Server, false);
            self.total_servers -= 1;
            self.drop_empty_group(&wk);
        }
        removed.is_some()
    }

    fn drop_empty_group(&mut self, wk: &Key) {
        if self
            .groups
            .get(wk)
            .is_some_and(|g| g.entry.is_none() && g.servers.is_empty())
        {
            self.groups.remove(wk);
        }
    }

    /// The servers of a workgroup, sorted by name without regard to case.
    pub fn servers<'a>(&'a self, workgroup: &ServerName) -> impl Iterator<Item = ServerEntry> + 'a {
        let base = self.base;
        self.groups
            .get(&key(workgroup))
            .into_iter()
            .flat_map(|g| g.servers.iter())
            .filter_map(move |(k, s)| Some(base?.entry(k, s)))
    }

    /// How many servers a workgroup lists.
    pub fn workgroup_server_count(&self, workgroup: &ServerName) -> usize {
        self.groups
            .get(&key(workgroup))
            .map_or(0, |g| g.servers.len())
    }

    /// One server of a workgroup.
    pub fn server(&self, workgroup: &ServerName, name: &ServerName) -> Option<ServerEntry> {
        let (k, s) = self
            .groups
            .get(&key(workgroup))?
            .servers
            .get_key_value(&Caseless(*name))?;
        Some(self.base?.entry(k, s))
    }

    /// How many servers each workgroup lists, for those that list any, sorted by name. A
    /// workgroup no DomainAnnouncement spelt is named in capitals.
    pub fn servers_per_workgroup(&self) -> impl Iterator<Item = (ServerName, usize)> + '_ {
        self.groups
            .iter()
            .filter(|(_, g)| !g.servers.is_empty())
            .map(|(k, g)| {
                let name = g.entry.as_ref().map_or_else(
                    || {
                        let len = usize::from(k[MAX_NAME_LEN]).min(MAX_NAME_LEN);
                        ServerName::from_bytes(&k[..len]).unwrap_or_default()
                    },
                    |e| e.name,
                );
                (name, g.servers.len())
            })
    }

    /// The workgroups heard through DomainAnnouncements, sorted by name.
    pub fn workgroups(&self) -> impl Iterator<Item = &WorkgroupEntry> {
        self.groups.values().filter_map(|g| g.entry.as_ref())
    }

    /// When [`expire`](Self::expire) next has work: the earliest expiry, but not sooner than a
    /// second after the previous scan.
    pub fn next_expiry(&self) -> Option<Instant> {
        let next = self.next_expiry?;
        Some(match self.last_scan {
            Some(last) => next.max(last + EXPIRY_GRANULARITY),
            None => next,
        })
    }

    /// Drops every entry whose time has come, and returns them.
    pub fn expire(&mut self, now: Instant) -> Vec<Expired> {
        if self.next_expiry().is_none_or(|t| t > now) {
            return Vec::new();
        }
        self.last_scan = Some(now);
        let mut out = Vec::new();
        let mut next: Option<Instant> = None;
        let mut keep = |t: Instant| next = Some(next.map_or(t, |n: Instant| n.min(t)));
        let mut removed = 0usize;
        let base = self.base;
        let held = &mut self.held;
        self.groups.retain(|wk, g| {
            g.servers.retain(|k, s| {
                let Some(expires) = base.map(|b| b.expires(s)) else {
                    return true;
                };
                if expires <= now {
                    removed += 1;
                    hold(held, source_of(s), Kind::Server, false);
                    out.push(Expired::Server {
                        workgroup: name_of_key(wk),
                        name: k.0,
                    });
                    false
                } else {
                    keep(expires);
                    true
                }
            });
            if let Some(e) = &g.entry {
                if e.expires() <= now {
                    out.push(Expired::Workgroup(e.name));
                    hold(held, e.addr, Kind::Workgroup, false);
                    g.entry = None;
                } else {
                    keep(e.expires());
                }
            }
            g.entry.is_some() || !g.servers.is_empty()
        });
        self.total_servers -= removed;
        self.next_expiry = next;
        out
    }

    /// Every entry with its remaining lifetime, for a state file.
    pub fn snapshot(&self, now: Instant) -> Vec<Record> {
        let mut v = Vec::with_capacity(self.total_servers + self.groups.len());
        for g in self.groups.values() {
            if let Some(e) = &g.entry {
                v.push(Record::Workgroup {
                    name: e.name,
                    master: e.master,
                    addr: e.addr,
                    periodicity: e.periodicity,
                    remaining: e.expires().saturating_duration_since(now),
                });
            }
        }
        for (wk, g) in &self.groups {
            let Some(base) = self.base else {
                break;
            };
            for (k, s) in &g.servers {
                v.push(Record::Server {
                    workgroup: name_of_key(wk),
                    entry: base.entry(k, s),
                    remaining: base.expires(s).saturating_duration_since(now),
                });
            }
        }
        v
    }

    /// Loads entries from a snapshot: each keeps the lifetime it had left. Caps apply.
    pub fn restore(&mut self, now: Instant, records: impl IntoIterator<Item = Record>) {
        for r in records {
            match r {
                Record::Workgroup {
                    name,
                    master,
                    addr,
                    periodicity,
                    remaining,
                } => {
                    let periodicity = periodicity.clamp(MIN_PERIODICITY, MAX_PERIODICITY);
                    let remaining = remaining.min(periodicity * MISSED_ANNOUNCEMENTS);
                    if remaining.is_zero() {
                        continue;
                    }
                    let entry = WorkgroupEntry {
                        name,
                        master,
                        addr,
                        periodicity,
                        last_seen: backdate(now, periodicity * MISSED_ANNOUNCEMENTS - remaining),
                    };
                    self.insert_workgroup(key(&name), entry);
                }
                Record::Server {
                    workgroup,
                    mut entry,
                    remaining,
                } => {
                    entry.periodicity = entry.periodicity.clamp(MIN_PERIODICITY, MAX_PERIODICITY);
                    let life = entry.periodicity * MISSED_ANNOUNCEMENTS;
                    let remaining = remaining.min(life);
                    if remaining.is_zero() || entry.name.is_empty() {
                        continue;
                    }
                    entry.last_seen = backdate(now, life - remaining);
                    entry.server_type -= ServerType::LOCAL_LIST_ONLY | ServerType::DOMAIN_ENUM;
                    self.insert_server(key(&workgroup), entry);
                }
            }
        }
    }
}

/// `now - by`, or `now` when the clock cannot go back that far (shortly after boot).
fn backdate(now: Instant, by: Duration) -> Instant {
    now.checked_sub(by).unwrap_or(now)
}

fn name_of_key(k: &Key) -> ServerName {
    let len = usize::from(k[MAX_NAME_LEN]).min(MAX_NAME_LEN);
    ServerName::from_bytes(&k[..len]).unwrap_or_default()
}

/// One entry of a snapshot, with the lifetime it has left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A server of a workgroup.
    Server {
        /// The workgroup (upper-cased).
        workgroup: ServerName,
        /// The entry.
        entry: ServerEntry,
        /// Lifetime left.
        remaining: Duration,
    },
    /// A workgroup.
    Workgroup {
        /// The workgroup.
        name: ServerName,
        /// Its master.
        master: ServerName,
        /// Where its announcement came from.
        addr: Option<Ipv4Addr>,
        /// Its period.
        periodicity: Duration,
        /// Lifetime left.
        remaining: Duration,
    },
}

#[cfg(test)]
mod tests;
