//! nbtd in a namespace of a test LAN: one way to start it for every namespace test.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use nbtd::control::{DaemonStatus, NameStatusState, query_browse_list, query_status};

use super::netns::Lan;

/// The workgroup every namespace test uses.
pub const WG: &str = "LABWG";

/// A running nbtd in host `host` of a LAN.
pub struct Nbtd {
    /// The host it runs in.
    pub host: usize,
    /// Its NetBIOS name.
    pub name: String,
    /// Its process ID.
    pub pid: u32,
    /// Its control socket.
    pub control: PathBuf,
    /// Its log (stdout and stderr).
    pub log: PathBuf,
}

/// Starts nbtd in host `i` on `lan0`, in workgroup [`WG`], logging at `info,nbtd=debug`. Its
/// control socket is `nbtd<i>.sock` and its state `state<i>` under the LAN directory (kept
/// across restarts); each start logs to a new file. `config`, when given, is written to
/// `nbtd<i>.toml` and passed with `--config`; `extra` arguments come last.
pub fn start(lan: &Lan, i: usize, name: &str, config: Option<&str>, extra: &[&str]) -> Nbtd {
    start_with_env(lan, i, name, config, extra, &[])
}

/// [`start`] with `env` (`KEY=value`) set in nbtd's environment, e.g. a `NOTIFY_SOCKET`.
pub fn start_with_env(
    lan: &Lan,
    i: usize,
    name: &str,
    config: Option<&str>,
    extra: &[&str],
    env: &[&str],
) -> Nbtd {
    let dir = lan.dir();
    let control = dir.join(format!("nbtd{i}.sock"));
    let state = dir.join(format!("state{i}"));
    let mut log = format!("nbtd{i}.log");
    for n in 2.. {
        if !dir.join(&log).exists() {
            break;
        }
        log = format!("nbtd{i}-{n}.log");
    }
    let conf = config.map(|text| {
        let path = dir.join(format!("nbtd{i}.toml"));
        std::fs::write(&path, text).expect("write the nbtd config");
        path.to_str().expect("UTF-8 path").to_owned()
    });
    let (c, s) = (
        control.to_str().expect("UTF-8 path").to_owned(),
        state.to_str().expect("UTF-8 path").to_owned(),
    );
    let mut args = vec![
        "--interfaces",
        "lan0",
        "--netbios-name",
        name,
        "--workgroup",
        WG,
        "--log-level",
        "info,nbtd=debug",
        "--control-socket",
        &c,
        "--state-dir",
        &s,
        // The LAN's directory may not be reachable by an unprivileged user: stay root.
        "--no-drop-privileges",
    ];
    if let Some(f) = &conf {
        args.extend(["--config", f]);
    }
    args.extend(extra);
    let pid = if env.is_empty() {
        lan.spawn(i, env!("CARGO_BIN_EXE_nbtd"), &args, &log)
    } else {
        // env(1) execs nbtd, which keeps the process ID.
        let mut with_env = env.to_vec();
        with_env.push(env!("CARGO_BIN_EXE_nbtd"));
        with_env.extend(args);
        lan.spawn(i, "env", &with_env, &log)
    };
    Nbtd {
        host: i,
        name: name.to_owned(),
        pid,
        control,
        log: dir.join(log),
    }
}

impl Nbtd {
    /// Its log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits up to 15 s for a status that satisfies `done`, and returns it; fails the test
    /// with `what` and the log otherwise.
    pub fn wait_for_status(
        &self,
        what: &str,
        done: impl Fn(&DaemonStatus) -> bool,
    ) -> DaemonStatus {
        self.wait_for_status_within(Duration::from_secs(15), what, done)
    }

    /// [`wait_for_status`](Self::wait_for_status) with a limit of `limit`.
    pub fn wait_for_status_within(
        &self,
        limit: Duration,
        what: &str,
        done: impl Fn(&DaemonStatus) -> bool,
    ) -> DaemonStatus {
        let until = Instant::now() + limit;
        loop {
            if let Ok(st) = query_status(&self.control) {
                if done(&st) {
                    return st;
                }
            }
            assert!(Instant::now() < until, "{what}:\n{}", self.log_text());
            sleep(Duration::from_millis(50));
        }
    }

    /// The server names in its browse list of `workgroup` (its own workgroup with `None`).
    pub fn listed(&self, workgroup: Option<&str>) -> Vec<String> {
        let b = query_browse_list(&self.control, workgroup)
            .unwrap_or_else(|e| panic!("{}: {e:#}\n{}", self.name, self.log_text()));
        b.interfaces[0]
            .servers
            .iter()
            .map(|s| s.name.clone())
            .collect()
    }

    /// Sends it signal `sig` (`-HUP`, `-TERM`, ...).
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.pid.to_string()])
            .status()
            .unwrap();
        assert!(ok.success(), "kill {sig} {}", self.pid);
    }

    /// Waits until every name is active on every address, and returns the status then.
    pub fn wait_active(&self) -> DaemonStatus {
        self.wait_for_status("nbtd did not come up", |st| {
            let names: Vec<_> = st.interfaces.iter().flat_map(|i| &i.names).collect();
            !names.is_empty() && names.iter().all(|n| n.state == NameStatusState::Active)
        })
    }
}
