//! SIGHUP: re-reads the configuration file and applies what can change while nbtd runs,
//! without losing names or browse lists.
//!
//! Applied at once: the shares, the browser's comment, OS level, preferred master, list caps,
//! master probe interval, `honour_reset_state` and `remote_announce`, the interface allow and
//! deny lists (the interfaces are scanned again at once), and `log_level` (unless
//! `--log-level` or `RUST_LOG` chose the filter). Everything else (the names, the workgroup,
//! the aliases, the ports, the paths, `local_master`, `answer_remote_subnets`, `wins_server`,
//! the rescan interval, the `[session]` table, the user and the metrics listener) keeps its
//! running value and is named in a warning: it takes effect at the next restart. Renaming a host while it runs would mean releasing names
//! that clients and browse lists know it by, so nbtd leaves that to a deliberate restart.
//!
//! A file that does not load or does not check keeps the running configuration, and the error
//! is logged.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Instant;

use tracing::{error, info, warn};

use super::{Daemon, browser_config};
use crate::config::{Config, Overrides, Settings, read_hostname};
use crate::notify::Notifier;
use crate::protocol::engine::names::NameState;

/// Sets the log filter of the running process; the error says why the filter is not valid.
pub type LogFilterSetter = Box<dyn Fn(&str) -> Result<(), String> + Send>;

/// What the daemon needs beyond its settings to reload them.
#[derive(Default)]
pub struct Operations {
    /// The configuration file SIGHUP re-reads; without one, SIGHUP re-applies the defaults
    /// and the flags (which changes nothing).
    pub config_path: Option<PathBuf>,
    /// The command-line flags, laid over the file again at each reload.
    pub overrides: Overrides,
    /// Changes the log filter, when the file's `log_level` chose it (no `--log-level` and no
    /// `RUST_LOG`).
    pub set_log_filter: Option<LogFilterSetter>,
}

impl std::fmt::Debug for Operations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operations")
            .field("config_path", &self.config_path)
            .field("overrides", &self.overrides)
            .field("set_log_filter", &self.set_log_filter.is_some())
            .finish()
    }
}

/// The outcome of a reload, for the log and the control socket.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Applied {
    /// Keys applied.
    pub live: Vec<&'static str>,
    /// Keys that changed but wait for a restart.
    pub restart: Vec<&'static str>,
}

impl Operations {
    /// Loads and checks the configuration as at start.
    fn load(&self) -> Result<Settings, crate::config::ConfigError> {
        let mut config = match &self.config_path {
            Some(path) => Config::load(path)?,
            None => Config::default(),
        };
        config.apply(&self.overrides);
        config.resolve(read_hostname)
    }
}

impl Daemon {
    /// Handles SIGHUP: reloads the configuration and tells the service manager around it.
    pub(super) async fn reload(&mut self, ops: &Operations, notifier: &Notifier) {
        notifier.reloading();
        let from = ops.config_path.as_ref().map_or_else(
            || "no file (defaults and flags)".to_owned(),
            |p| p.display().to_string(),
        );
        match ops.load() {
            Err(e) => {
                self.reloads.failed += 1;
                let hint = match &e {
                    crate::config::ConfigError::Read { source, .. }
                        if source.kind() == std::io::ErrorKind::PermissionDenied =>
                    {
                        "; nbtd no longer runs as root: let its user read the file (e.g. chmod \
                         644, or chgrp it to the user's group and chmod 640)"
                    }
                    _ => "",
                };
                error!("SIGHUP: {e}{hint}; still running on the previous configuration");
            }
            Ok(new) => {
                self.reloads.applied += 1;
                let a = self.apply_settings(new, ops).await;
                if a.live.is_empty() && a.restart.is_empty() {
                    info!(file = %from, "SIGHUP: configuration reloaded; nothing changed");
                } else if !a.live.is_empty() {
                    info!(
                        file = %from,
                        applied = %a.live.join(", "),
                        "SIGHUP: configuration reloaded; applied {}",
                        a.live.join(", ")
                    );
                }
                if !a.restart.is_empty() {
                    warn!(
                        file = %from,
                        pending = %a.restart.join(", "),
                        "SIGHUP: {} changed but take effect only at the next restart; nbtd \
                         keeps the running values until then",
                        a.restart.join(", ")
                    );
                }
            }
        }
        self.notify_ready(notifier);
    }

    /// Applies what can change live and returns what changed.
    pub(super) async fn apply_settings(&mut self, new: Settings, ops: &Operations) -> Applied {
        let old = &self.settings;
        let mut a = Applied::default();
        let mut restart = |changed: bool, key: &'static str| {
            if changed {
                a.restart.push(key);
            }
        };
        restart(old.netbios_name != new.netbios_name, "netbios_name");
        restart(old.workgroup != new.workgroup, "workgroup");
        restart(old.aliases != new.aliases, "aliases");
        restart(old.ports != new.ports, "ports");
        restart(old.state_dir != new.state_dir, "state_dir");
        restart(old.control_socket != new.control_socket, "control_socket");
        restart(
            old.answer_remote_subnets != new.answer_remote_subnets,
            "answer_remote_subnets",
        );
        restart(
            old.rescan_interval != new.rescan_interval,
            "interfaces.rescan_interval_secs",
        );
        restart(old.wins_servers != new.wins_servers, "wins_server");
        restart(
            old.node_status_mac != new.node_status_mac,
            "node_status_mac",
        );
        restart(
            old.status_rate_per_source != new.status_rate_per_source,
            "status_rate_per_source",
        );
        restart(
            old.canary_interval != new.canary_interval,
            "canary_interval_secs",
        );
        restart(old.session != new.session, "session");
        restart(
            old.browser.local_master != new.browser.local_master,
            "browser.local_master",
        );
        restart(old.user != new.user, "user");
        restart(old.metrics_listen != new.metrics_listen, "metrics.listen");

        let mut s = self.settings.clone();
        if s.shares != new.shares {
            a.live.push("shares");
            s.shares = new.shares.clone();
        }
        let mut browser = new.browser.clone();
        browser.local_master = s.browser.local_master;
        if s.browser != browser {
            a.live.push("browser");
            s.browser = browser;
        }
        let filter_changed = s.filter != new.filter;
        if filter_changed {
            a.live.push("interfaces");
            s.filter = new.filter.clone();
        }
        if s.log_level != new.log_level {
            match &ops.set_log_filter {
                Some(set) => match set(&new.log_level) {
                    Ok(()) => {
                        a.live.push("log_level");
                        s.log_level = new.log_level.clone();
                    }
                    Err(e) => error!("SIGHUP: cannot apply log_level {:?}: {e}", new.log_level),
                },
                None => info!(
                    "SIGHUP: log_level changed in the file, but --log-level or RUST_LOG chose \
                     the log filter, and they take precedence"
                ),
            }
        }
        self.settings = s;
        self.node
            .browser_mut()
            .reconfigure(Instant::now(), &browser_config(&self.settings));
        self.forget_listing();
        if filter_changed {
            self.rescan().await;
        }
        a
    }

    /// The status line for the service manager: what nbtd serves, after the names another
    /// host holds (`NAME CONFLICT: ALPHA<00>, ALPHA<20> held by 198.18.0.9; serving ...`).
    pub(super) fn ready_status(&self) -> String {
        let n = self.ifaces.served().count();
        let serving = format!(
            "serving {} in {} on {n} interface address{}",
            super::report::base_text(&self.settings.netbios_name),
            super::report::base_text(&self.settings.workgroup),
            if n == 1 { "" } else { "es" }
        );
        let mut held: Vec<(Ipv4Addr, Vec<String>)> = Vec::new();
        for name in self.node.names().names() {
            let NameState::Conflict { owner } = name.state else {
                continue;
            };
            let text = name.name.to_string();
            match held.iter_mut().find(|(o, _)| *o == owner) {
                Some((_, names)) if names.contains(&text) => {}
                Some((_, names)) => names.push(text),
                None => held.push((owner, vec![text])),
            }
        }
        if held.is_empty() {
            return serving;
        }
        let held: Vec<String> = held
            .iter()
            .map(|(owner, names)| format!("{} held by {owner}", names.join(", ")))
            .collect();
        format!("NAME CONFLICT: {}; {serving}", held.join(", "))
    }

    /// Sends the status line again when it changed since it was last sent: a name fell into
    /// conflict, or an address is served or dropped.
    pub(super) fn update_status(&mut self, notifier: &Notifier) {
        if !std::mem::take(&mut self.status_dirty) || !notifier.enabled() {
            return;
        }
        let status = self.ready_status();
        if status != self.status_sent {
            notifier.status(&status);
            self.status_sent = status;
        }
    }

    /// `READY=1` with the status line.
    pub(super) fn notify_ready(&mut self, notifier: &Notifier) {
        self.status_sent = self.ready_status();
        self.status_dirty = false;
        notifier.ready(&self.status_sent);
    }
}
