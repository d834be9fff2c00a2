//! The addresses served: taking up added, changed and removed interface addresses (at a
//! rescan, a netlink event or a reload), and starting and stopping them in the node.

use super::*;

impl Daemon {
    /// Starts serving an interface address in the node, with its saved browse list.
    pub(super) fn add_interface(&mut self, now: Instant, a: IfaceAddr) {
        let (id, addr) = (a.id, a.addr);
        self.node.add_interface(now, a);
        let n = self.persist.restore(&mut self.node, now, id, addr);
        if n > 0 {
            info!(entries = n, address = %addr, "restored the saved browse list");
        }
    }

    /// Stops serving an interface address in the node, keeping its browse list for its return.
    pub(super) fn remove_interface(&mut self, now: Instant, id: IfaceId, release: bool) {
        let kept = self.node.browser().list(id).map(|l| l.snapshot(now));
        if let (Some(records), Some(s)) = (kept, self.ifaces.get(id)) {
            let addr = s.iface.addr;
            self.persist.keep(now, addr, records);
        }
        self.node.remove_interface(now, id, release);
        self.close_session(id);
    }

    /// The interface addresses served, with their IDs.
    pub(super) fn served_addrs(&self) -> Vec<(IfaceId, std::net::Ipv4Addr)> {
        self.ifaces.served().map(|s| (s.id, s.iface.addr)).collect()
    }

    /// Logs a served address with a verb ("serving", "now serving").
    pub(super) fn log_serving(&self, id: IfaceId, what: &str) {
        if let Some(s) = self.ifaces.get(id) {
            let i = &s.iface;
            info!(
                interface = %i.name,
                address = %i.addr,
                prefix = i.prefix,
                broadcast = %i.broadcast,
                "{what}"
            );
        }
    }

    /// Takes up added, changed and removed interface addresses.
    pub(super) async fn rescan(&mut self) {
        let now = Instant::now();
        self.status_dirty = true;
        let (usable, _) = iface::scan(&self.settings.filter);
        let want: BTreeMap<Key, Interface> = usable
            .into_iter()
            .map(|i| ((i.name.clone(), i.addr), i))
            .collect();
        self.bind_failures.retain(|k| want.contains_key(k));
        let gone: Vec<IfaceId> = self
            .ifaces
            .served()
            .filter(|s| !want.contains_key(&(s.iface.name.clone(), s.iface.addr)))
            .map(|s| s.id)
            .collect();
        for &id in &gone {
            let Some((name, addr)) = self
                .ifaces
                .get(id)
                .map(|s| (s.iface.name.clone(), s.iface.addr))
            else {
                continue;
            };
            // Excluded by the configuration but still working: the names are released and the
            // browser says goodbye from it before its sockets close. Gone or down: nothing can
            // be sent from it.
            let working = iface::still_has(&name, addr);
            self.remove_interface(now, id, working);
            if working {
                self.flush().await;
            }
            self.ifaces.close(id);
            if working {
                info!(
                    interface = %name,
                    address = %addr,
                    "no longer serving: the configuration excludes it; its names were released"
                );
            } else {
                info!(
                    interface = %name,
                    address = %addr,
                    "no longer serving: the address is gone or the interface is down"
                );
            }
        }
        if !gone.is_empty() {
            // Let the aborted receive tasks drop their sockets before anything binds again.
            tokio::task::yield_now().await;
        }
        for (key, i) in want {
            let existing = self.ifaces.lookup(&key).map(|s| (s.id, s.iface == i));
            match existing {
                Some((_, true)) => {}
                Some((id, false)) => match self.ifaces.update(id, i) {
                    Ok(()) => {
                        if let Some(a) = self.ifaces.get(id).map(|s| s.engine_addr()) {
                            self.log_serving(id, "address changed; serving");
                            // The node starts the address afresh; its browse list goes along.
                            self.remove_interface(now, id, false);
                            let ip = a.addr;
                            self.add_interface(now, a);
                            if let Err(e) = self.open_session(id, ip) {
                                error!("{e}");
                            }
                        }
                    }
                    Err(e) => {
                        self.remove_interface(now, id, false);
                        self.ifaces.close(id);
                        error!("{e}; no longer serving {} {}", key.0, key.1);
                    }
                },
                None => match self.ifaces.open(i) {
                    Ok(id) => {
                        self.bind_failures.remove(&key);
                        if let Some(a) = self.ifaces.get(id).map(|s| s.engine_addr()) {
                            self.log_serving(id, "new address; serving");
                            let ip = a.addr;
                            self.add_interface(now, a);
                            if let Err(e) = self.open_session(id, ip) {
                                error!("{e}");
                            }
                        }
                    }
                    Err(e) => {
                        if self.bind_failures.insert(key) {
                            error!("{e}; nbtd tries again at the next interface scan");
                        } else {
                            debug!(error = %e, "still cannot open the sockets");
                        }
                    }
                },
            }
        }
        if self.ifaces.is_empty() {
            if !self.warned_empty {
                warn!("no usable interface left: nbtd answers nothing until one comes back");
                self.warned_empty = true;
            }
        } else {
            self.warned_empty = false;
        }
    }
}
