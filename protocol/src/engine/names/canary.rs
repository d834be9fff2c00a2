//! The poisoner detector. NBT-NS poisoners (Responder and its kind) answer broadcast name
//! queries for names they do not hold, so that the querier connects to them and hands over its
//! credentials. Every [`NameConfig::canary_interval`] the engine asks, by broadcast on each
//! interface address:
//! - for a random name that nobody registered: any answer is a poisoner;
//! - for our own unique name (`<20>`, the file server): our own broadcast is dropped as ours,
//!   so any answer comes from another host that claims the name;
//! - for the workgroup's `<1D>`: answers from two hosts, or any while we hold it ourselves, are a
//!   second master browser, as a poisoner that answers every name makes.
//!
//! Each answerer is reported once a round as [`NameEvent::PoisonerAnswered`] and counted; the
//! queries are ours, so they come out of [`NameEngine::handle_timeout`] and never as a
//! [`NameEvent::QueryResult`].

use super::*;

/// The daemon's default interval between canary rounds.
pub const DEFAULT_CANARY_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// Letters of a canary name: a name nobody registers by accident.
const CANARY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/// Length of a canary name.
const CANARY_LEN: usize = 15;

/// What a canary query asked for, and so what an answer to it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CanaryKind {
    /// A random name nobody registered.
    Unregistered,
    /// Our own unique name.
    OurName,
    /// The workgroup's `<1D>` (its local master browser).
    Master,
}

impl CanaryKind {
    /// What an answer means, in a log line's words.
    pub fn describe(self) -> &'static str {
        match self {
            CanaryKind::Unregistered => "a name nobody registered",
            CanaryKind::OurName => "our own unique name",
            CanaryKind::Master => "the workgroup's master browser name (<1D>)",
        }
    }
}

/// The canary's state: when the next round goes out, and the queries of the round in flight.
#[derive(Debug, Clone, Default)]
pub(super) struct Canary {
    pub(super) next: Option<Instant>,
    pub(super) pending: Vec<(QueryId, CanaryKind)>,
}

impl NameEngine {
    /// Schedules the first round one interval after the first interface appears.
    pub(super) fn arm_canary(&mut self, now: Instant) {
        if let Some(every) = self.config.canary_interval {
            if self.canary.next.is_none() {
                self.canary.next = Some(now + every);
            }
        }
    }

    /// A random name that nobody registered, upper-case letters and digits.
    fn canary_name(&mut self) -> NetbiosName {
        let mut text = [0u8; CANARY_LEN];
        for c in &mut text {
            // `range` includes its upper bound.
            let i = self.rng.range(0, CANARY_ALPHABET.len() as u64 - 1) as usize;
            *c = CANARY_ALPHABET.get(i).copied().unwrap_or(b'X');
        }
        let text = std::str::from_utf8(&text).unwrap_or("NBTDCANARY");
        NetbiosName::new(text, 0x00).unwrap_or(NetbiosName::WILDCARD)
    }

    /// Sends a round of canary queries when one is due.
    pub(super) fn canary_timeout(&mut self, now: Instant) {
        let (Some(every), Some(due)) = (self.config.canary_interval, self.canary.next) else {
            return;
        };
        if due > now {
            return;
        }
        self.canary.next = Some(now + every);
        if self.shut_down || !self.canary.pending.is_empty() {
            return;
        }
        let ids: Vec<IfaceId> = self.ifaces.keys().copied().collect();
        let ours = self.config.netbios_name.with_suffix(suffix::SERVER);
        let master = self.config.workgroup.with_suffix(suffix::LOCAL_MASTER);
        for id in ids {
            let random = self.canary_name();
            let mut asks = vec![
                (random, CanaryKind::Unregistered),
                (master, CanaryKind::Master),
            ];
            // Only while we hold it: before, or in conflict, another holder is not a poisoner.
            if self.holds(id, &ours) {
                asks.push((ours, CanaryKind::OurName));
            }
            for (name, kind) in asks {
                if let Some(q) = self.query(now, id, name, None) {
                    self.canary.pending.push((q, kind));
                }
            }
        }
    }

    /// Takes the outcome of a finished query if it was a canary's; returns whether it was.
    pub(super) fn canary_result(&mut self, q: &Query) -> bool {
        let Some(at) = self.canary.pending.iter().position(|(id, _)| *id == q.id) else {
            return false;
        };
        let (_, kind) = self.canary.pending.swap_remove(at);
        let mut answerers: Vec<(Ipv4Addr, Ipv4Addr)> = Vec::new();
        for (from, nb) in &q.answers {
            if !answerers.iter().any(|(a, _)| a == from) {
                answerers.push((*from, nb.addr));
            }
        }
        let suspicious = match kind {
            CanaryKind::Unregistered | CanaryKind::OurName => !answerers.is_empty(),
            // One master answering is normal; two, or any while we are the master, are not.
            CanaryKind::Master => answerers.len() > 1 || self.holds(q.iface, &q.name),
        };
        if suspicious {
            for (from, claimed) in answerers {
                self.counters.poisoner_answers += 1;
                self.event(NameEvent::PoisonerAnswered {
                    iface: q.iface,
                    from,
                    claimed,
                    name: q.name,
                    kind,
                });
            }
        }
        true
    }
}
