//! Answers to queries and node status requests for our names, and the tables of precomputed
//! answers that a driver's fast path sends from.

use super::*;

impl NameEngine {
    pub(super) fn on_query(
        &mut self,
        id: IfaceId,
        src: SocketAddrV4,
        broadcast: bool,
        p: &NameServicePacket,
        qname: ScopedName,
    ) -> Disposition {
        let Some(iface) = self.ifaces.get(&id) else {
            return Disposition::Ignored("unknown interface");
        };
        let answer = match iface.active(&qname.name) {
            Some(e) => {
                let answer = self.query_answer(iface, e.group, p.trn_id, qname);
                self.counters.positive_answers += 1;
                answer
            }
            None if answers_star(&qname.name) => {
                let answer = self.query_answer(iface, false, p.trn_id, qname);
                self.counters.positive_answers += 1;
                answer
            }
            // RFC 1002 §5.1.1: a broadcast query is never answered negatively.
            None if broadcast => {
                return Disposition::Ignored("broadcast query for a name not ours");
            }
            None => {
                self.counters.negative_answers += 1;
                NameServicePacket::negative_query_response(p.trn_id, qname, Rcode::NAM_ERR)
            }
        };
        self.queue(id, src, &answer);
        Disposition::Handled
    }

    pub(super) fn on_node_status(
        &mut self,
        now: Instant,
        id: IfaceId,
        src: SocketAddrV4,
        broadcast: bool,
        p: &NameServicePacket,
        qname: ScopedName,
    ) -> Disposition {
        let Some(iface) = self.ifaces.get(&id) else {
            return Disposition::Ignored("unknown interface");
        };
        let ours = iface.active(&qname.name).is_some();
        let wildcard_unicast = qname.name.is_wildcard() && !broadcast;
        if !ours && !wildcard_unicast {
            return Disposition::Ignored("node status for a name not ours");
        }
        // A node status answer is about 4.6 times its request: each source gets a few a second.
        if !self.status_limiter.allow(now, *src.ip()) {
            self.counters.rate_limited += 1;
            return Disposition::Ignored("node status over the source's rate limit");
        }
        let answer = self.status_answer(iface, p.trn_id, qname);
        self.counters.node_status_answers += 1;
        self.queue(id, src, &answer);
        Disposition::Handled
    }

    /// The positive answer to a query for one of our active names, a group name or not
    /// (RFC 1002 §4.2.13).
    pub(super) fn query_answer(
        &self,
        iface: &Iface,
        group: bool,
        trn_id: u16,
        qname: ScopedName,
    ) -> NameServicePacket {
        NameServicePacket::positive_query_response(
            trn_id,
            qname,
            self.config.answer_ttl,
            vec![NbAddress::b_node(iface.addr.addr, group)],
        )
    }

    /// The node status answer of an interface (RFC 1002 §4.2.18): every name not still
    /// registering, and the MAC address.
    pub(super) fn status_answer(
        &self,
        iface: &Iface,
        trn_id: u16,
        qname: ScopedName,
    ) -> NameServicePacket {
        // Fit the answer into one 576-byte datagram: header, name, RR fixed part, NUM_NAMES,
        // statistics, then 18 bytes a name.
        let fixed = HEADER_LEN + qname.wire_len() + 10 + 1 + 46;
        let room = MAX_DATAGRAM_LEN.saturating_sub(fixed) / 18;
        let names = iface
            .entries
            .iter()
            .filter(|e| e.state != NameState::Registering)
            .take(room)
            .map(|e| {
                let mut flags = NameFlags::ACTIVE;
                if e.group {
                    flags |= NameFlags::GROUP;
                }
                if matches!(e.state, NameState::Conflict { .. }) {
                    flags |= NameFlags::CONFLICT;
                }
                flags |= NameFlags::from_bits_retain(NodeType::B.bits());
                NodeName {
                    name: e.name,
                    flags,
                }
            })
            .collect();
        // Every statistic is zero; only the unit ID may say something (the MAC, by default).
        let unit_id = if self.config.node_status_mac {
            iface.addr.mac
        } else {
            [0; 6]
        };
        let status = NodeStatus {
            names,
            statistics: Statistics::with_unit_id(unit_id),
        };
        NameServicePacket::node_status_response(trn_id, qname, status)
    }

    /// Moves on whenever anything [`answer_table`](Self::answer_table) is built from changes
    /// (names and their states, interface addresses, shutdown): a driver rebuilds its tables
    /// when it differs from the one they were built at.
    pub fn answers_generation(&self) -> u64 {
        self.generation
    }

    /// The requests the engine answers on interface `id` in the plain shape (a unicast name
    /// query or node status request for one of our active names, or node status for `*`), with
    /// the exact answers it sends: see [`AnswerTable`]. Empty once shut down; `None` for an
    /// unknown interface.
    pub fn answer_table(&self, id: IfaceId) -> Option<AnswerTable> {
        let iface = self.ifaces.get(&id)?;
        if self.shut_down {
            return Some(AnswerTable::empty());
        }
        let mut entries = Vec::new();
        let scoped = |name| ScopedName {
            name,
            scope: self.config.scope.clone(),
        };
        let question = |p: NameServicePacket| p.to_vec().ok().map(|b| b[HEADER_LEN..].to_vec());
        let mut push = |request: NameServicePacket, answer: NameServicePacket, kind| {
            if let (Some(question), Ok(answer)) = (question(request), answer.to_vec()) {
                entries.push(Precomputed {
                    question,
                    answer,
                    kind,
                });
            }
        };
        for (i, e) in iface.entries.iter().enumerate() {
            // The engine answers with the first active entry of a name.
            let first = iface
                .active(&e.name)
                .is_some_and(|a| std::ptr::eq(a, &iface.entries[i]));
            if e.state != NameState::Active || !first {
                continue;
            }
            let q = scoped(e.name);
            push(
                NameServicePacket::name_query(0, q.clone(), false),
                self.query_answer(iface, e.group, 0, q.clone()),
                FastAnswer::Query,
            );
            push(
                NameServicePacket::node_status_request(0, q.clone()),
                self.status_answer(iface, 0, q),
                FastAnswer::NodeStatus,
            );
        }
        for suffix in STAR_SUFFIXES {
            let star = scoped(NetbiosName::WILDCARD.with_suffix(suffix));
            push(
                NameServicePacket::name_query(0, star.clone(), false),
                self.query_answer(iface, false, 0, star),
                FastAnswer::Query,
            );
        }
        let any = scoped(NetbiosName::WILDCARD);
        push(
            NameServicePacket::node_status_request(0, any.clone()),
            self.status_answer(iface, 0, any),
            FastAnswer::NodeStatus,
        );
        Some(AnswerTable {
            status_rate: self.config.status_rate,
            port: self.config.port,
            own: self.ifaces.values().map(|i| i.addr.addr).collect(),
            iface: Some(iface.addr.clone()),
            subnet: (!self.config.answer_remote_subnets).then(|| iface.addr.clone()),
            entries,
        })
    }

    /// Counts requests a driver answered from an [`AnswerTable`], as if the engine had answered
    /// them: `queries` positive query answers and `statuses` node status answers.
    pub fn count_fast_answers(&mut self, queries: u64, statuses: u64) {
        let c = &mut self.counters;
        c.received += queries + statuses;
        c.positive_answers += queries;
        c.node_status_answers += statuses;
        c.sent += queries + statuses;
    }

    /// Counts node status requests a driver did not answer from an [`AnswerTable`] because
    /// their source was over [`AnswerTable::status_rate`], as if the engine had dropped them.
    pub fn count_fast_rate_limited(&mut self, statuses: u64) {
        let c = &mut self.counters;
        c.received += statuses;
        c.ignored += statuses;
        c.rate_limited += statuses;
    }
}

/// The suffixes of the name `*` that every host answers a query for, as nmbd does: it holds
/// `*<00>` and `*<20>` as permanent names (`add_samba_names_to_subnet`), so that
/// `nmblookup '*'` lists every host on the wire. They are not in the node status.
const STAR_SUFFIXES: [u8; 2] = [0x00, 0x20];

/// Whether a query for `name` is answered with our address although we hold no such name.
fn answers_star(name: &NetbiosName) -> bool {
    name.is_wildcard() && STAR_SUFFIXES.contains(&name.suffix())
}
