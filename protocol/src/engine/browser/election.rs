//! Elections (MS-BRWS 3.3.5.8): our ballot, starting and running an election, winning (the
//! names of the local master, then the master's duties) and stepping down, and what a ballot
//! from another browser does.

use super::*;

impl BrowserEngine {
    /// Our ballot on a subnet (MS-BRWS 2.2.3).
    pub(super) fn ballot(&self, now: Instant, s: &Subnet) -> RequestElection {
        let mut desire = ElectionDesire::STANDBY;
        if self.config.preferred_master {
            desire |= ElectionDesire::PREFERRED_MASTER;
        }
        match s.role {
            Role::Master => {
                desire |= ElectionDesire::RUNNING_MASTER | ElectionDesire::RUNNING_BACKUP
            }
            Role::Backup => desire |= ElectionDesire::RUNNING_BACKUP,
            _ => {}
        }
        let uptime = self
            .started
            .map_or(Duration::ZERO, |t| now.saturating_duration_since(t));
        RequestElection::new(
            ElectionCriteria::new(self.config.os_level, desire),
            u32::try_from(uptime.as_millis()).unwrap_or(u32::MAX),
            self.name,
        )
    }

    /// Starts our run for master: at once (`now_`) when we noticed the need ourselves, else
    /// after the delay of our role (MS-BRWS 3.3.6).
    pub(super) fn start_election(
        &mut self,
        now: Instant,
        id: IfaceId,
        reason: &'static str,
        now_: bool,
    ) {
        if !self.config.local_master {
            return;
        }
        let delay = match self.subnets.get(&id).map(|s| s.role) {
            Some(Role::Master) => Duration::from_millis(100),
            Some(Role::Backup) => Duration::from_millis(self.rng.range(200, 600)),
            _ => Duration::from_millis(self.rng.range(800, 3000)),
        };
        let Some(s) = self.subnets.get(&id) else {
            return;
        };
        if s.election != Election::Idle || s.becoming || s.looking != 0 {
            return;
        }
        let at = if now_ { now } else { now + delay };
        if let Some(s) = self.subnets.get_mut(&id) {
            s.election = Election::Delaying { at };
        }
        self.counters.elections_started += 1;
        self.event(BrowserEvent::ElectionStarted { iface: id, reason });
    }

    pub(super) fn step_election(&mut self, now: Instant, id: IfaceId, names: &mut NameEngine) {
        let Some(s) = self.subnets.get(&id) else {
            return;
        };
        let (sends, due) = match s.election {
            Election::Idle => return,
            Election::Delaying { at } => (0, at),
            Election::Running { sends, next } => (sends, next),
        };
        if due > now {
            return;
        }
        if sends >= ELECTION_SENDS_TO_WIN {
            self.win(now, id, names);
            return;
        }
        let ballot = self.ballot(now, s);
        self.send_frame(
            id,
            BrowserFrame::RequestElection(ballot),
            suffix::BROWSER_ELECTION,
        );
        if let Some(s) = self.subnets.get_mut(&id) {
            s.election = Election::Running {
                sends: sends + 1,
                next: now + ELECTION_RESEND,
            };
        }
    }

    pub(super) fn win(&mut self, now: Instant, id: IfaceId, names: &mut NameEngine) {
        let Some(s) = self.subnets.get_mut(&id) else {
            return;
        };
        s.election = Election::Idle;
        self.counters.elections_won += 1;
        self.event(BrowserEvent::ElectionWon { iface: id });
        let Some(s) = self.subnets.get_mut(&id) else {
            return;
        };
        if s.role == Role::Master {
            // Still master: say so at once, so that the losers, who stopped watching the
            // master when they lost, know it again now rather than after WINNER_GRACE.
            self.announce(now, id);
            return;
        }
        self.after_win(now, id, names);
    }

    pub(super) fn become_master(&mut self, now: Instant, id: IfaceId) {
        let (name, addr) = (self.name, self.subnets.get(&id).map(|s| s.addr.addr));
        let Some(s) = self.subnets.get_mut(&id) else {
            return;
        };
        if !s.becoming {
            return;
        }
        s.becoming = false;
        s.role = Role::Master;
        s.master = addr.map(|a| Master {
            name: Some(name),
            addr: a,
        });
        s.next_check = None;
        s.announcements = 0;
        s.next_announce = now;
        self.event(BrowserEvent::RoleChanged {
            iface: id,
            role: Role::Master,
        });
        // Fill the list fast: everyone announces again (MS-BRWS 3.3.5.1).
        let req = AnnouncementRequest::new(self.name);
        self.send_frame(
            id,
            BrowserFrame::AnnouncementRequest(req),
            suffix::BROWSER_ELECTION,
        );
        self.announce(now, id);
    }

    pub(super) fn demote(&mut self, now: Instant, id: IfaceId, names: &mut NameEngine) {
        let Some(s) = self.subnets.get_mut(&id) else {
            return;
        };
        let was = s.role;
        if was != Role::Master && !s.becoming {
            return;
        }
        s.becoming = false;
        s.role = Role::Potential;
        s.announcements = 0;
        s.next_announce = now;
        names.remove_name_on(
            now,
            id,
            self.config.workgroup.with_suffix(suffix::LOCAL_MASTER),
        );
        names.remove_name_on(now, id, NetbiosName::MSBROWSE);
        if was == Role::Master {
            self.event(BrowserEvent::RoleChanged {
                iface: id,
                role: Role::Potential,
            });
        }
    }

    pub(super) fn on_election(
        &mut self,
        now: Instant,
        id: IfaceId,
        theirs: &RequestElection,
        from: Ipv4Addr,
        names: &mut NameEngine,
    ) -> Disposition {
        if !self.config.local_master {
            return Disposition::Ignored("not standing in elections");
        }
        let Some(s) = self.subnets.get(&id) else {
            return Disposition::Ignored("unknown interface");
        };
        let ours = self.ballot(now, s);
        if ours.beats(theirs) {
            if takeover::stands_aside(s, now) {
                return Disposition::Ignored(
                    "a better browser we heard lately answers this ballot",
                );
            }
            self.start_election(now, id, "answering a ballot we beat", false);
            return Disposition::Handled;
        }
        // We lose (a full tie cannot happen between two hosts: names differ).
        let was_running = s.election != Election::Idle || s.role == Role::Master || s.becoming;
        // A second ballot from the same candidate soon after the first says it really runs;
        // a lone one may be forged, and gets a probe for its <1D> instead of the full grace.
        let confirmed = s.winner.is_some_and(|w| {
            let since = now.saturating_duration_since(w.last);
            w.addr == from && (since <= WINNER_CONFIRM || w.waited_for(now))
        });
        if s.role == Role::Master && !confirmed {
            // A master gives way only to a candidate that really runs: its next ballot comes
            // within WINNER_CONFIRM, long before it registers <1D> (4 ballots, 1 s apart, for
            // nbtd; 5, 2 s apart, for nmbd). A lone forged ballot so costs no master at all.
            if let Some(s) = self.subnets.get_mut(&id) {
                s.winner = Some(Winner {
                    addr: from,
                    last: now,
                    confirmed: false,
                });
            }
            return Disposition::Handled;
        }
        let wait = if confirmed {
            WINNER_GRACE
        } else {
            self.config.master_probe_interval.max(WINNER_CONFIRM)
        };
        if let Some(s) = self.subnets.get_mut(&id) {
            s.winner = Some(Winner {
                addr: from,
                last: now,
                confirmed,
            });
            s.election = Election::Idle;
            s.master = None;
            s.next_check = Some(now + wait);
            s.beaten_at = Some(now);
            s.reruns = 0;
            s.lost_master = None;
            if std::mem::take(&mut s.looking) != 0 {
                // The look's answer no longer matters.
                s.query = None;
            }
        }
        self.demote(now, id, names);
        if was_running {
            self.counters.elections_lost += 1;
            self.event(BrowserEvent::ElectionLost {
                iface: id,
                winner: theirs.server_name,
                from,
            });
        }
        Disposition::Handled
    }
}
