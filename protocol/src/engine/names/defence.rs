//! Registrations by other nodes: defending our unique names, and conflicts with our own
//! registrations; releases and conflict demands from others, ignored and reported.

use super::*;

impl NameEngine {
    pub(super) fn on_registration(
        &mut self,
        now: Instant,
        id: IfaceId,
        src: SocketAddrV4,
        p: &NameServicePacket,
        qname: ScopedName,
    ) -> Disposition {
        let Some(iface) = self.ifaces.get(&id) else {
            return Disposition::Ignored("unknown interface");
        };
        let challenger = p
            .additional
            .first()
            .and_then(|r| r.nb_addresses())
            .and_then(|a| a.first())
            .map_or(*src.ip(), |a| a.addr);
        let Some(e) = iface
            .entries
            .iter()
            .find(|e| e.name.eq_ignore_case(&qname.name))
        else {
            return Disposition::Ignored("registration of a name not ours");
        };
        if e.group {
            return Disposition::Ignored("registration of one of our group names");
        }
        if e.state != NameState::Active {
            return Disposition::Ignored("registration of a name we do not hold yet");
        }
        if challenger == iface.addr.addr {
            return Disposition::Ignored("registration with our own address");
        }
        // ACT_ERR (RFC 1002 §4.2.6: the name is active, owned by another node) answers a
        // registration and a refresh alike. A refresh is a WINS client's message, and Windows
        // and Samba's AD DC NBT server defend their names against it with ACT_ERR, which tells
        // the client another host holds the name. nmbd sends FMT_ERR, which tells it that its
        // packet was malformed, which it was not: the client learns nothing it can act on.
        let owner = NbAddress::b_node(iface.addr.addr, false);
        let answer = NameServicePacket::negative_registration_response(
            p.trn_id,
            qname.clone(),
            Rcode::ACT_ERR,
            self.config.answer_ttl,
            owner,
        );
        self.counters.defended += 1;
        self.queue(id, src, &answer);
        if let Some((name, repeats)) = self.fold_report(now, id, &qname.name, Report::Defended) {
            self.event(NameEvent::Defended {
                iface: id,
                name,
                challenger,
                repeats,
            });
        }
        Disposition::Handled
    }

    pub(super) fn on_negative_registration(
        &mut self,
        now: Instant,
        id: IfaceId,
        src: SocketAddrV4,
        p: &NameServicePacket,
        qname: ScopedName,
    ) -> Disposition {
        // The owner is whoever answered: Samba's nmbd echoes the registrant's own address in
        // the answer record of its refusal, so the record cannot be trusted to name the owner.
        let owner = *src.ip();
        let Some(iface) = self.ifaces.get_mut(&id) else {
            return Disposition::Ignored("unknown interface");
        };
        let pending = iface.entries.iter_mut().find(|e| {
            e.state == NameState::Registering
                && e.trn_id == p.trn_id
                && e.name.eq_ignore_case(&qname.name)
        });
        if let Some(e) = pending {
            // A group name cannot be refused; a node that tries is wrong, not an owner.
            if e.group {
                return Disposition::Ignored("negative response to a group registration");
            }
            e.state = NameState::Conflict { owner };
            self.generation += 1;
            e.due = None;
            let name = e.name;
            self.counters.conflicts += 1;
            self.event(NameEvent::Conflict {
                iface: id,
                name,
                owner,
                rcode: p.rcode,
            });
            return Disposition::Handled;
        }
        if p.kind() == PacketKind::NameConflictDemand {
            return self.on_hostile(now, id, src, qname.name, Report::ConflictDemand);
        }
        Disposition::Ignored("negative registration response to no registration of ours")
    }

    /// A release or conflict demand for one of our names: ignored, and reported.
    pub(super) fn on_hostile(
        &mut self,
        now: Instant,
        id: IfaceId,
        src: SocketAddrV4,
        name: NetbiosName,
        kind: Report,
    ) -> Disposition {
        let Some(group) = self
            .ifaces
            .get(&id)
            .and_then(|i| i.active(&name))
            .map(|e| e.group)
        else {
            return Disposition::Ignored("release or conflict demand for a name not ours");
        };
        if group {
            // Every member of a group name (the workgroup's <00> and <1E>) releases it when it
            // stops cleanly: that is normal, not an attack, and the group stays ours as well.
            // A conflict demand cannot apply to a group name at all.
            if kind != Report::Release {
                return Disposition::Ignored("conflict demand for one of our group names");
            }
            self.counters.group_releases += 1;
            if let Some((name, repeats)) = self.fold_report(now, id, &name, Report::GroupRelease) {
                let from = *src.ip();
                self.event(NameEvent::GroupReleaseSeen {
                    iface: id,
                    name,
                    from,
                    repeats,
                });
            }
            return Disposition::Handled;
        }
        self.counters.hostile_ignored += 1;
        let folded = self.fold_report(now, id, &name, kind);
        if folded.is_none() && self.folded_repeats(id, &name, kind) == HOSTILE_BURST - 1 {
            // The tenth within a minute: a burst, which the poisoner detector reports at once
            // rather than with the next report.
            self.event(NameEvent::HostileBurst {
                iface: id,
                name,
                from: *src.ip(),
                count: HOSTILE_BURST,
            });
        }
        if let Some((name, repeats)) = folded {
            let from = *src.ip();
            self.event(match kind {
                Report::Release => NameEvent::ReleaseIgnored {
                    iface: id,
                    name,
                    from,
                    repeats,
                },
                _ => NameEvent::ConflictDemandIgnored {
                    iface: id,
                    name,
                    from,
                    repeats,
                },
            });
        }
        Disposition::Ignored("release or conflict demand for our name: kept it")
    }

    /// How many reports of `kind` about `name` were folded since the last one went out.
    fn folded_repeats(&self, id: IfaceId, name: &NetbiosName, kind: Report) -> u32 {
        self.ifaces
            .get(&id)
            .and_then(|i| i.entries.iter().find(|e| e.name.eq_ignore_case(name)))
            .map_or(0, |e| e.reports[kind as usize].1)
    }

    /// Returns the name and the count of folded repeats when a report of `kind` is due, or
    /// counts one more repeat and returns `None`.
    pub(super) fn fold_report(
        &mut self,
        now: Instant,
        id: IfaceId,
        name: &NetbiosName,
        kind: Report,
    ) -> Option<(NetbiosName, u32)> {
        let e = self
            .ifaces
            .get_mut(&id)?
            .entries
            .iter_mut()
            .find(|e| e.name.eq_ignore_case(name))?;
        let slot = &mut e.reports[kind as usize];
        match slot.0 {
            Some(last) if now.saturating_duration_since(last) < REPORT_INTERVAL => {
                slot.1 = slot.1.saturating_add(1);
                None
            }
            _ => {
                let repeats = slot.1;
                *slot = (Some(now), 0);
                Some((e.name, repeats))
            }
        }
    }
}
