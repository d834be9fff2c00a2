//! Two guards against a second master when election packets go missing (issue #7):
//!
//! - **Stand aside after losing.** A browser that heard a ballot better than its own within
//!   [`ELECTION_HOLD`] does not stand against ballots it beats: the sender of that better ballot
//!   beats them too (the comparison is a total order) and answers them itself. Without this, a
//!   browser that lost and then heard a late inferior ballot ran again, and if all of the
//!   winner's ballots, announcements and name defences to it were lost, took `WORKGROUP<1D>`
//!   beside the master. Elections the browser starts itself (the master stopped answering or
//!   went down) are not held back.
//! - **Look before taking over.** A browser that wins while it still knows another master (it
//!   was answering someone else's ballot), or whose own probes found the master gone, asks that
//!   master for `WORKGROUP<1D>` by unicast first, twice if the first look goes unanswered. If it
//!   answers, it is alive and has not heard our run: we run again (at most [`MAX_RERUNS`]
//!   times), so that it hears our ballots and either wins or gives way. If it does not answer,
//!   we take over as before; a master that is really gone so costs up to 1.5 s more. A master
//!   that said it is going down is not looked at. The broadcast registration's defence stays
//!   the last guard.
//!
//! Neither changes who wins on a LAN without loss; nmbd and Windows have neither (MS-BRWS
//! 3.3.5.8 lets every browser that beats a ballot stand), and peers need nothing new.

use std::net::Ipv4Addr;
use std::time::Duration;

use super::{BrowserEngine, Instant, NameEngine, Role, Subnet};
use crate::engine::IfaceId;
use crate::engine::names::QueryId;
use crate::name::{NetbiosName, suffix};
use crate::wire::ns::NbAddress;

/// After hearing a better ballot, how long a browser leaves the ballots it beats to that one.
pub const ELECTION_HOLD: Duration = Duration::from_secs(30);
/// How many times a winner runs again because the master it knew still holds `WORKGROUP<1D>`.
pub const MAX_RERUNS: u8 = 2;

/// The master to look at before taking over: the one we know, or the one our probes lost.
fn look_target(s: &Subnet) -> Option<Ipv4Addr> {
    s.master
        .map(|m| m.addr)
        .or(s.lost_master)
        .filter(|&a| a != s.addr.addr)
}

/// Whether the browser of `s` leaves a ballot it beats to the better one it heard lately.
pub(super) fn stands_aside(s: &Subnet, now: Instant) -> bool {
    s.role != Role::Master
        && !s.becoming
        && s.beaten_at
            .is_some_and(|t| now.saturating_duration_since(t) < ELECTION_HOLD)
}

impl BrowserEngine {
    /// We won on subnet `id` and are not master yet: look at the master we knew, or take over.
    pub(super) fn after_win(&mut self, now: Instant, id: IfaceId, names: &mut NameEngine) {
        let Some(s) = self.subnets.get(&id) else {
            return;
        };
        let known = look_target(s);
        match known {
            Some(addr) if s.reruns < MAX_RERUNS => self.look(now, id, addr, 1, names),
            _ => self.take_over(now, id, names),
        }
    }

    /// Asks `master` for `WORKGROUP<1D>` (look number `n`); takes over if the query cannot go.
    fn look(&mut self, now: Instant, id: IfaceId, master: Ipv4Addr, n: u8, names: &mut NameEngine) {
        let name = self.config.workgroup.with_suffix(suffix::LOCAL_MASTER);
        let Some(q) = names.query(now, id, name, Some(master)) else {
            self.take_over(now, id, names);
            return;
        };
        if let Some(s) = self.subnets.get_mut(&id) {
            // A probe in flight is dropped: its answer would say the same.
            s.query = Some(q);
            s.second_look = false;
            s.next_check = None;
            s.looking = n;
        }
    }

    /// The answer to a look (the caller checked that `q` is ours and `looking` is set).
    pub(super) fn on_look_result(
        &mut self,
        now: Instant,
        id: IfaceId,
        q: QueryId,
        answers: &[(Ipv4Addr, NbAddress)],
        names: &mut NameEngine,
    ) {
        let Some(s) = self.subnets.get_mut(&id) else {
            return;
        };
        debug_assert_eq!(s.query, Some(q));
        s.query = None;
        let n = std::mem::take(&mut s.looking);
        let ours = s.addr.addr;
        let holder = answers.iter().map(|(_, nb)| nb.addr).find(|&a| a != ours);
        match (holder, look_target(s)) {
            (Some(addr), _) => {
                // The master did not hear our run: run again so that it does.
                s.reruns += 1;
                self.set_master(now, id, None, addr);
                self.start_election(now, id, "the master still holds <1D> after our run", true);
            }
            (None, Some(addr)) if n == 1 => self.look(now, id, addr, 2, names),
            (None, _) => self.take_over(now, id, names),
        }
    }

    /// Registers our master names; [`BrowserEngine::become_master`] follows when `<1D>` is ours.
    fn take_over(&mut self, now: Instant, id: IfaceId, names: &mut NameEngine) {
        let Some(s) = self.subnets.get_mut(&id) else {
            return;
        };
        s.reruns = 0;
        s.lost_master = None;
        s.becoming = true;
        let wg = self.config.workgroup;
        names.add_name_on(now, id, NetbiosName::MSBROWSE, true);
        names.add_name_on(now, id, wg.with_suffix(suffix::LOCAL_MASTER), false);
    }
}
