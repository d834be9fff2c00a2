//! What the browser says of itself: the server type of each role, the announcements on their
//! schedule, the master's choice of backups, and the goodbye when it stops.

use super::*;

/// A browser that could be made a backup: ordered the most recently heard first, then in the
/// list's order.
struct Candidate {
    recent: std::cmp::Reverse<Instant>,
    order: usize,
    name: ServerName,
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for Candidate {}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.recent, self.order).cmp(&(other.recent, other.order))
    }
}

impl BrowserEngine {
    /// The SV_TYPE bits announced in a role.
    pub fn server_type(&self, role: Role) -> ServerType {
        let mut t = self.config.server_type;
        match role {
            Role::NonBrowser => {}
            Role::Potential => t |= ServerType::POTENTIAL_BROWSER,
            Role::Backup => t |= ServerType::POTENTIAL_BROWSER | ServerType::BACKUP_BROWSER,
            Role::Master => t |= ServerType::MASTER_BROWSER,
        }
        t
    }

    pub(super) fn our_announcement(
        &self,
        s: &Subnet,
        periodicity: Duration,
        going_down: bool,
    ) -> Announcement {
        let comment = &self.config.comment[..self.config.comment.len().min(48)];
        let (t, p) = if going_down {
            (ServerType::empty(), 0)
        } else {
            (
                self.server_type(s.role),
                u32::try_from(periodicity.as_millis()).unwrap_or(u32::MAX),
            )
        };
        Announcement {
            update_count: s.update_count,
            os_version_major: OS_VERSION.0,
            os_version_minor: OS_VERSION.1,
            ..Announcement::new(self.name, t, p, comment.to_vec())
        }
    }

    pub(super) fn announce(&mut self, now: Instant, id: IfaceId) {
        let Some(s) = self.subnets.get(&id) else {
            return;
        };
        let k = s.announcements as usize;
        let interval = ANNOUNCE_SCHEDULE
            .get(k)
            .copied()
            .unwrap_or(ANNOUNCE_INTERVAL);
        let a = self.our_announcement(s, interval, false);
        let role = s.role;
        let addr = s.addr.addr;
        let ask = !s.asked
            && role != Role::NonBrowser
            && s.list.workgroup_server_count(&self.workgroup) < ASK_BELOW_SERVERS;
        if role == Role::Master {
            let domain = Announcement::domain(
                self.workgroup,
                self.name,
                u32::try_from(interval.as_millis()).unwrap_or(u32::MAX),
            );
            self.send_frame(
                id,
                BrowserFrame::LocalMasterAnnouncement(a.clone()),
                suffix::BROWSER_ELECTION,
            );
            self.send_frame_to(
                id,
                BrowserFrame::DomainAnnouncement(domain.clone()),
                NetbiosName::MSBROWSE,
            );
            self.appoint_backups(now, id);
            if let Some(s) = self.subnets.get_mut(&id) {
                s.list.workgroup_announced(now, &domain, Some(addr));
            }
        } else {
            self.send_frame(
                id,
                BrowserFrame::HostAnnouncement(a.clone()),
                suffix::LOCAL_MASTER,
            );
        }
        if ask && role != Role::Master {
            // Fill a new browser's list fast: everyone announces again (MS-BRWS 3.3.5.1).
            let req = AnnouncementRequest::new(self.name);
            self.send_frame(
                id,
                BrowserFrame::AnnouncementRequest(req),
                suffix::BROWSER_ELECTION,
            );
        }
        let wg = self.workgroup;
        if let Some(s) = self.subnets.get_mut(&id) {
            // We hear ourselves like any other server, so listings include us.
            s.list.server_announced(now, &wg, &a, Some(addr));
            s.announcements = s.announcements.saturating_add(1);
            s.update_count = s.update_count.wrapping_add(1);
            s.asked = true;
            s.next_announce = now + interval;
        }
    }

    pub(super) fn appoint_backups(&mut self, now: Instant, id: IfaceId) {
        let Some(s) = self.subnets.get_mut(&id) else {
            return;
        };
        let wg = self.workgroup;
        let me = self.name;
        // Appointments still in flight: not yet announced as backups, within the grace.
        let list = &s.list;
        s.appointed.retain(|(n, at)| {
            now.saturating_duration_since(*at) < APPOINTMENT_GRACE
                && !list
                    .server(&wg, n)
                    .is_some_and(|e| e.server_type.contains(ServerType::BACKUP_BROWSER))
        });
        // Counted and chosen in passes over the list, one entry at a time: a copy of the list
        // here (up to 16,384 entries, at every announcement) would stay in the allocator.
        let list = &s.list;
        let peers = || list.servers(&wg).filter(|e| !e.name.eq_ignore_case(&me));
        let have = peers()
            .filter(|e| e.server_type.contains(ServerType::BACKUP_BROWSER))
            .count()
            + s.appointed.len();
        let want = 1 + list.workgroup_server_count(&wg) / SERVERS_PER_BACKUP;
        let room = want.saturating_sub(have);
        // Candidates: potential browsers heard directly (not restored or copied), the most
        // recently heard first, so that a host that went away is not chosen again and again.
        // The best `room` of them are kept in a heap whose top is the worst kept.
        let mut best: std::collections::BinaryHeap<Candidate> =
            std::collections::BinaryHeap::with_capacity(room.min(64) + 1);
        if room > 0 {
            for (order, e) in peers().enumerate() {
                let candidate = e.addr.is_some()
                    && e.server_type.contains(ServerType::POTENTIAL_BROWSER)
                    && !e
                        .server_type
                        .intersects(ServerType::BACKUP_BROWSER | ServerType::MASTER_BROWSER)
                    && !s.appointed.iter().any(|(n, _)| n.eq_ignore_case(&e.name));
                if candidate {
                    best.push(Candidate {
                        recent: std::cmp::Reverse(e.last_seen),
                        order,
                        name: e.name,
                    });
                    if best.len() > room {
                        best.pop();
                    }
                }
            }
        }
        let chosen: Vec<ServerName> = best.into_sorted_vec().into_iter().map(|c| c.name).collect();
        s.appointed.extend(chosen.iter().map(|n| (*n, now)));
        for name in chosen {
            self.send_frame(
                id,
                BrowserFrame::BecomeBackup {
                    browser_to_promote: name,
                },
                suffix::BROWSER_ELECTION,
            );
        }
    }

    /// Says goodbye: announces ServerType 0 so listeners drop us at once (on every subnet and
    /// to the remote announcement addresses), and, where we are the master, forces an election
    /// so that a successor takes over without waiting.
    pub fn shutdown(&mut self, now: Instant) {
        let remote = self.config.remote_announce.clone();
        self.send_remote(&remote, true);
        let ids: Vec<IfaceId> = self.subnets.keys().copied().collect();
        for id in ids {
            self.say_goodbye(id);
        }
        let _ = now;
        self.shut_down = true;
    }

    /// The goodbye on one subnet: a ServerType 0 announcement, and where we are the master, a
    /// forced election.
    pub(super) fn say_goodbye(&mut self, id: IfaceId) {
        let Some(s) = self.subnets.get(&id) else {
            return;
        };
        let a = self.our_announcement(s, Duration::ZERO, true);
        let master = s.role == Role::Master;
        self.send_frame(
            id,
            BrowserFrame::HostAnnouncement(a.clone()),
            suffix::LOCAL_MASTER,
        );
        if master {
            self.send_frame(
                id,
                BrowserFrame::LocalMasterAnnouncement(a),
                suffix::BROWSER_ELECTION,
            );
            self.send_frame(
                id,
                BrowserFrame::RequestElection(RequestElection::force()),
                suffix::BROWSER_ELECTION,
            );
        }
    }
}
