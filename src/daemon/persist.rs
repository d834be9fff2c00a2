//! The browse list across restarts: loaded from `<state_dir>/browse.json` at start, handed to
//! each interface address as it is served, and saved when it changed, at most every
//! [`SAVE_INTERVAL`], and at shutdown.
//!
//! - Whether the list changed is checked cheaply: a browser datagram was handled, or the number
//!   of servers or workgroups on some address is not what it was at the last save. Nothing wakes
//!   the daemon while nothing changes.
//! - Saves run on tokio's blocking pool, one at a time, so that a slow disk never holds up the
//!   name service. [`StateFile`] writes atomically, so a crash mid-save leaves the previous file.
//! - Entries of addresses not served (gone at a rescan, or not up yet at start) are kept, their
//!   lifetimes running down, and saved again until they run out or the address comes back.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::mpsc;
use tracing::{debug, error, info, warn};

use crate::protocol::engine::IfaceId;
use crate::protocol::engine::browser::list::Record;
use crate::protocol::engine::node::Node;
use crate::state::{StateError, StateFile};

/// Saves are at least this far apart.
pub(super) const SAVE_INTERVAL: Duration = Duration::from_secs(10);

/// The result of a save on the blocking pool.
pub(super) type SaveResult = Result<(), StateError>;

/// Lists not held by an interface address: the records and when they were current.
type Pending = BTreeMap<Ipv4Addr, (Instant, Vec<Record>)>;

/// The state file and what is known about the list since it was last written.
#[derive(Debug)]
pub(super) struct Persist {
    file: StateFile,
    pending: Pending,
    /// Something changed since the last save began.
    dirty: bool,
    /// (address, servers, workgroups) at the last look.
    seen: Vec<(IfaceId, usize, usize)>,
    last_save: Option<Instant>,
    saving: bool,
    failing: bool,
}

impl Persist {
    /// Loads the file in `dir`; a corrupt or unreadable one is logged and the list starts empty.
    pub fn load(dir: &Path, now: Instant) -> Persist {
        let file = StateFile::new(dir);
        let pending = match file.load(SystemTime::now()) {
            Ok(lists) => {
                let n: usize = lists.values().map(Vec::len).sum();
                if n > 0 {
                    info!(
                        entries = n,
                        file = %file.path().display(),
                        "loaded the saved browse list"
                    );
                }
                lists.into_iter().map(|(a, r)| (a, (now, r))).collect()
            }
            Err(e @ StateError::Corrupt { .. }) => {
                error!("{e}");
                Pending::new()
            }
            Err(e) => {
                warn!("cannot read the saved browse list: {e}; starting with an empty list");
                Pending::new()
            }
        };
        Persist {
            file,
            pending,
            dirty: false,
            seen: Vec::new(),
            last_save: None,
            saving: false,
            failing: false,
        }
    }

    /// Puts the saved entries of `addr` into the list of the address `id`, which must just have
    /// been added to the node. Returns how many were restored.
    pub fn restore(&mut self, node: &mut Node, now: Instant, id: IfaceId, addr: Ipv4Addr) -> usize {
        let Some((at, records)) = self.pending.remove(&addr) else {
            return 0;
        };
        let records = aged(records, now.saturating_duration_since(at));
        let n = records.len();
        if let Some(list) = node.browser_mut().list_mut(id) {
            list.restore(now, records);
        }
        n
    }

    /// Keeps the list of an address that is no longer served, for its return and for the file.
    pub fn keep(&mut self, now: Instant, addr: Ipv4Addr, records: Vec<Record>) {
        if !records.is_empty() {
            self.pending.insert(addr, (now, records));
            self.dirty = true;
        }
    }

    /// Notes that the list may have changed (a browser datagram was handled).
    pub fn touch(&mut self) {
        self.dirty = true;
    }

    /// Compares the size of every list with the last look; a difference is a change.
    pub fn observe(&mut self, node: &Node, ids: impl Iterator<Item = IfaceId>) {
        let browser = node.browser();
        let mut same = true;
        let mut k = 0;
        for id in ids {
            let sizes = browser
                .list(id)
                .map_or((0, 0), |l| (l.server_count(), l.workgroup_count()));
            let now = (id, sizes.0, sizes.1);
            match self.seen.get_mut(k) {
                Some(s) if *s == now => {}
                Some(s) => {
                    *s = now;
                    same = false;
                }
                None => {
                    self.seen.push(now);
                    same = false;
                }
            }
            k += 1;
        }
        if self.seen.len() != k {
            self.seen.truncate(k);
            same = false;
        }
        if !same {
            self.dirty = true;
        }
    }

    /// Starts afresh after a restore: what is listed now is what the file holds.
    pub fn settle(&mut self, node: &Node, ids: impl Iterator<Item = IfaceId>) {
        self.observe(node, ids);
        self.dirty = false;
    }

    /// When the next save is due: `None` while nothing changed or a save is running.
    pub fn due(&self) -> Option<Instant> {
        if !self.dirty || self.saving {
            return None;
        }
        Some(
            self.last_save
                .map_or_else(Instant::now, |t| t + SAVE_INTERVAL),
        )
    }

    /// What the file is to hold: the list of every address served, and the kept lists.
    fn snapshot(
        &mut self,
        now: Instant,
        node: &Node,
        served: &[(IfaceId, Ipv4Addr)],
    ) -> BTreeMap<Ipv4Addr, Vec<Record>> {
        self.pending.retain(|_, (at, records)| {
            *records = aged(std::mem::take(records), now.saturating_duration_since(*at));
            *at = now;
            !records.is_empty()
        });
        let mut lists: BTreeMap<Ipv4Addr, Vec<Record>> = self
            .pending
            .iter()
            .map(|(a, (_, r))| (*a, r.clone()))
            .collect();
        for &(id, addr) in served {
            if let Some(l) = node.browser().list(id) {
                lists.insert(addr, l.snapshot(now));
            }
        }
        lists
    }

    /// Starts a save on the blocking pool; its result comes back on `done`.
    pub fn start_save(
        &mut self,
        now: Instant,
        node: &Node,
        served: &[(IfaceId, Ipv4Addr)],
        done: mpsc::Sender<SaveResult>,
    ) {
        let lists = self.snapshot(now, node, served);
        let file = self.file.clone();
        self.dirty = false;
        self.saving = true;
        self.last_save = Some(now);
        tokio::task::spawn_blocking(move || {
            let r = file.save(SystemTime::now(), &lists);
            drop(lists);
            // The snapshot and the writer's buffers are freed; give the pages back.
            crate::sys::trim_heap();
            let _ = done.blocking_send(r);
        });
    }

    /// Takes the result of a save.
    pub fn finished(&mut self, r: SaveResult) {
        self.saving = false;
        match r {
            Ok(()) => {
                if self.failing {
                    info!(file = %self.file.path().display(), "saving the browse list works again");
                }
                self.failing = false;
                debug!(file = %self.file.path().display(), "browse list saved");
            }
            Err(e) => {
                // Try again at the next interval.
                self.dirty = true;
                if self.failing {
                    debug!("still cannot save the browse list: {e}");
                } else {
                    error!(
                        "cannot save the browse list: {e}; it is kept in memory and saved again \
                         in {} s",
                        SAVE_INTERVAL.as_secs()
                    );
                }
                self.failing = true;
            }
        }
    }

    /// The last save, at shutdown: waits for one still running (bounded), then writes the list.
    pub async fn save_at_exit(
        &mut self,
        node: &Node,
        served: &[(IfaceId, Ipv4Addr)],
        done: &mut mpsc::Receiver<SaveResult>,
    ) {
        if self.saving {
            match tokio::time::timeout(Duration::from_secs(10), done.recv()).await {
                Ok(Some(r)) => self.finished(r),
                _ => {
                    warn!("a save of the browse list did not finish; not saving it again");
                    return;
                }
            }
        }
        let lists = self.snapshot(Instant::now(), node, served);
        let file = self.file.clone();
        let n: usize = lists.values().map(Vec::len).sum();
        match tokio::task::spawn_blocking(move || file.save(SystemTime::now(), &lists)).await {
            Ok(Ok(())) => info!(
                entries = n,
                file = %self.file.path().display(),
                "saved the browse list"
            ),
            Ok(Err(e)) => error!("cannot save the browse list: {e}"),
            Err(e) => error!("cannot save the browse list: {e}"),
        }
    }
}

/// The records with `by` less lifetime; those that ran out are dropped.
fn aged(records: Vec<Record>, by: Duration) -> Vec<Record> {
    if by.is_zero() {
        return records;
    }
    records
        .into_iter()
        .filter_map(|r| match r {
            Record::Server {
                workgroup,
                entry,
                remaining,
            } => remaining
                .checked_sub(by)
                .filter(|d| !d.is_zero())
                .map(|remaining| Record::Server {
                    workgroup,
                    entry,
                    remaining,
                }),
            Record::Workgroup {
                name,
                master,
                addr,
                periodicity,
                remaining,
            } => remaining
                .checked_sub(by)
                .filter(|d| !d.is_zero())
                .map(|remaining| Record::Workgroup {
                    name,
                    master,
                    addr,
                    periodicity,
                    remaining,
                }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::engine::browser::list::{BrowseLimits, BrowseList};
    use crate::protocol::wire::browse::{Announcement, ServerName, ServerType};

    #[test]
    fn ageing_takes_lifetime_off_and_drops_what_ran_out() {
        let now = Instant::now();
        let mut l = BrowseList::new(BrowseLimits::default());
        for (name, period) in [("SHORT", 60_000), ("LONG", 720_000)] {
            let a = Announcement::new(
                ServerName::new(name).unwrap(),
                ServerType::SERVER,
                period,
                Vec::new(),
            );
            l.server_announced(now, &ServerName::new("LABWG").unwrap(), &a, None);
        }
        let records = l.snapshot(now);
        assert_eq!(aged(records.clone(), Duration::ZERO), records);
        let left = aged(records, Duration::from_secs(180));
        assert_eq!(left.len(), 1, "{left:?}");
        let Record::Server {
            entry, remaining, ..
        } = &left[0]
        else {
            panic!("{left:?}")
        };
        assert_eq!(entry.name, ServerName::new("LONG").unwrap());
        assert_eq!(*remaining, Duration::from_secs(36 * 60 - 180));
    }
}
