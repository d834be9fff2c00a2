//! Finding the master: the answers to our queries for `WORKGROUP<1D>`, the probes that watch
//! it, and the copy of its browse list that a backup keeps.

use super::*;

impl BrowserEngine {
    pub(super) fn on_query_result(
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
        if answers.is_empty() && s.master.is_none() {
            if let Some(w) = s.winner.filter(|w| w.waited_for(now)) {
                // A real candidate beat us while this look was out: its names may take a
                // while yet (nmbd needs about 8 s after it wins). Look again once its grace
                // is over.
                s.next_check = Some(w.last + WINNER_GRACE);
                return;
            }
        }
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
    pub(super) fn step_copy(&mut self, now: Instant, id: IfaceId) {
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

    pub(super) fn find_master(&mut self, now: Instant, id: IfaceId, names: &mut NameEngine) {
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

    pub(super) fn step_check(&mut self, now: Instant, id: IfaceId, names: &mut NameEngine) {
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

    pub(super) fn set_master(
        &mut self,
        now: Instant,
        id: IfaceId,
        name: Option<ServerName>,
        addr: Ipv4Addr,
    ) {
        let interval = self.config.master_probe_interval;
        let Some(s) = self.subnets.get_mut(&id) else {
            return;
        };
        let known = s.master;
        let name = name.or(known.filter(|m| m.addr == addr).and_then(|m| m.name));
        s.master = Some(Master { name, addr });
        s.lost_master = None;
        // The winner we waited for (if any) is now a master like any other: probed, and
        // replaced as soon as it stops answering.
        s.winner = None;
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
}
