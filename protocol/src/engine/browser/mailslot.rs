//! What arrives on `\MAILSLOT\BROWSE`: each browser frame dispatched to its handler,
//! announcements into the browse list, and the master's answers to GetBackupListRequest.

use super::*;

impl BrowserEngine {
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

    pub(super) fn dispatch(
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
        if s.addr.is_impossible_source(src) {
            self.counters.impossible_source += 1;
            return Ignored(crate::engine::names::IMPOSSIBLE_SOURCE);
        }
        // Only what nbtd itself sent (from its own port) is ours: `nbt view` on this host asks
        // for the backup list from another port and gets its answer.
        if m.src.port() == self.config.port && self.subnets.values().any(|s| s.addr.addr == src) {
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
        // Our own frames were dropped above: one under our name is another host's forgery, to
        // overwrite our entry in the list or to win an election as us.
        let forged = match &frame {
            BrowserFrame::HostAnnouncement(a) | BrowserFrame::LocalMasterAnnouncement(a) => a
                .server_name
                .eq_ignore_case(&self.name)
                .then_some("announcement"),
            BrowserFrame::RequestElection(r) => r
                .server_name
                .eq_ignore_case(&self.name)
                .then_some("election request"),
            _ => None,
        };
        if let Some(kind) = forged {
            self.counters.forged_own_name += 1;
            if let Some(n) = self.forged_report.due(now) {
                self.event(BrowserEvent::ForgedOwnName {
                    iface: id,
                    from: src,
                    frame: kind,
                    repeats: n - 1,
                });
            }
            return Ignored("a frame from another host under our own name");
        }
        match frame {
            BrowserFrame::HostAnnouncement(a) => {
                self.on_announcement(now, id, &dest_wg, &a, src, false, names)
            }
            BrowserFrame::LocalMasterAnnouncement(a) => {
                self.on_announcement(now, id, &dest_wg, &a, src, true, names)
            }
            BrowserFrame::DomainAnnouncement(a) => {
                if let Some(s) = self.subnets.get_mut(&id) {
                    let update = s.list.workgroup_announced(now, &a, Some(src));
                    self.count_update(now, id, src, update);
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
            BrowserFrame::GetBackupListRequest(r) if ours => {
                self.on_backup_list_request(now, id, &r, m)
            }
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
    pub(super) fn on_announcement(
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
        let master = s.role == Role::Master;
        self.count_update(now, id, src, update);
        if !workgroup.eq_ignore_case(&self.workgroup) {
            return Disposition::Handled;
        }
        // A master appoints backups as the workgroup grows, not only at its next announcement.
        let newcomer = update == Update::Added
            && a.server_type.contains(ServerType::POTENTIAL_BROWSER)
            && master;
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

    /// Counts what an announcement from `src` did to the list, and reports a capped source.
    fn count_update(&mut self, now: Instant, id: IfaceId, src: Ipv4Addr, update: Update) {
        match update {
            Update::Refused => self.counters.refused += 1,
            Update::SourceCapped => {
                self.counters.refused += 1;
                self.counters.source_capped += 1;
                if let Some(refused) = self.capped_report.due(now) {
                    self.event(BrowserEvent::SourceCapped {
                        iface: id,
                        source: src,
                        refused,
                    });
                }
            }
            _ => {}
        }
    }

    pub(super) fn on_backup_list_request(
        &mut self,
        now: Instant,
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
        if !self.response_limiter.allow(now, *m.src.ip()) {
            self.counters.rate_limited += 1;
            return Disposition::Ignored("GetBackupListRequest over the source's rate limit");
        }
        let Some(s) = self.subnets.get(&id) else {
            return Disposition::Ignored("unknown interface");
        };
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
        let Ok(bytes) = frame.to_vec() else {
            return Disposition::Ignored("backup list does not fit a datagram");
        };
        self.send_mailslot(id, bytes, m.source_name.clone(), Some(m.src));
        Disposition::Handled
    }
}
