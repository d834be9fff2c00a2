//! Our own name queries: sent up to three times, answers collected, the outcome reported.

use super::*;

impl NameEngine {
    /// Starts a name query on interface `id`: broadcast when `target` is `None`, else unicast to
    /// `target`. It goes out up to three times, 250 ms apart (RFC 1002 §6). A unicast query ends
    /// at the first answer; a broadcast query collects answers for the whole 750 ms. The outcome
    /// comes as [`NameEvent::QueryResult`]. Returns `None` when the interface is unknown or
    /// [`MAX_PENDING_QUERIES`] are in flight.
    pub fn query(
        &mut self,
        now: Instant,
        id: IfaceId,
        name: NetbiosName,
        target: Option<Ipv4Addr>,
    ) -> Option<QueryId> {
        if self.queries.len() >= MAX_PENDING_QUERIES || self.shut_down {
            return None;
        }
        let addr = self.ifaces.get(&id)?.addr.clone();
        let trn_id = self.trn_id();
        let qid = QueryId(self.next_query);
        self.next_query += 1;
        let q = Query {
            id: qid,
            iface: id,
            trn_id,
            name,
            target,
            sent: 1,
            due: now + BCAST_REQ_RETRY_TIMEOUT,
            answers: Vec::new(),
            negative: Vec::new(),
        };
        self.send_query(&addr, &q);
        self.queries.push(q);
        Some(qid)
    }

    pub(super) fn send_query(&mut self, addr: &IfaceAddr, q: &Query) {
        let p = NameServicePacket::name_query(
            q.trn_id,
            ScopedName {
                name: q.name,
                scope: self.config.scope.clone(),
            },
            q.target.is_none(),
        );
        let dst = SocketAddrV4::new(q.target.unwrap_or(addr.broadcast), self.config.port);
        self.queue(addr.id, dst, &p);
    }

    pub(super) fn finish_query(&mut self, index: usize) {
        let q = self.queries.swap_remove(index);
        if self.canary_result(&q) {
            return;
        }
        self.event(NameEvent::QueryResult {
            id: q.id,
            iface: q.iface,
            name: q.name,
            answers: q.answers,
            negative: q.negative,
        });
    }

    pub(super) fn advance_queries(&mut self, now: Instant) {
        let mut i = 0;
        while i < self.queries.len() {
            if self.queries[i].due > now {
                i += 1;
                continue;
            }
            let q = &mut self.queries[i];
            let answered = !q.answers.is_empty() || !q.negative.is_empty();
            if q.sent >= BCAST_REQ_RETRY_COUNT || (answered && q.target.is_some()) {
                self.finish_query(i);
                continue;
            }
            q.sent += 1;
            q.due = now + BCAST_REQ_RETRY_TIMEOUT;
            let q = q.clone();
            match self.ifaces.get(&q.iface) {
                Some(iface) => {
                    let addr = iface.addr.clone();
                    // A broadcast query that has answers need not ask again; it still listens.
                    if q.answers.is_empty() {
                        self.send_query(&addr, &q);
                    }
                    i += 1;
                }
                None => self.finish_query(i),
            }
        }
    }

    pub(super) fn on_query_response(
        &mut self,
        src: SocketAddrV4,
        p: &NameServicePacket,
    ) -> Disposition {
        let Some(qi) = self.queries.iter().position(|q| {
            q.trn_id == p.trn_id
                && p.answers
                    .first()
                    .and_then(|a| a.name.netbios())
                    .is_some_and(|n| n.name.eq_ignore_case(&q.name))
        }) else {
            return Disposition::Ignored("answer to no query of ours");
        };
        let q = &mut self.queries[qi];
        if let Some(t) = q.target {
            if t != *src.ip() {
                return Disposition::Ignored("answer from another host than the one asked");
            }
        }
        if p.rcode == Rcode::OK {
            for a in p.answers.iter().filter_map(|r| r.nb_addresses()).flatten() {
                if q.answers.len() < 64 && !q.answers.contains(&(*src.ip(), *a)) {
                    q.answers.push((*src.ip(), *a));
                }
            }
        } else if q.negative.len() < 64 {
            q.negative.push((*src.ip(), p.rcode));
        }
        if q.target.is_some() {
            self.finish_query(qi);
        }
        Disposition::Handled
    }
}
