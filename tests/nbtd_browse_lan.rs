//! The browser of nbtd on a LAN of network namespaces, against other nbtd hosts and Samba's
//! nmbd:
//! - three nbtd hosts elect exactly one master, which `nmblookup -M` finds, and each lists all
//!   three within 5 s of the last start;
//! - with nmbd, both ways: the higher os level becomes master, and each side lists the other;
//! - a master killed with SIGKILL is replaced within 15 s (the acceptance criterion);
//! - the browse list survives a restart of the master, from its state file.
//!
//! Needs root, `ip`, `nmbd` and `nmblookup`; without them each test says why and passes, except
//! under `CI=true`, where it fails. Every wait is a bounded poll.

mod common;

use std::net::Ipv4Addr;
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::daemon::{self, Nbtd, WG};
use common::netns::{Lan, NmbdConfig};
use nbtd::control::{BrowseListReply, BrowserRole, DaemonStatus, query_browse_list, query_status};

/// How long Samba gets to settle: it is master about 20 s after it starts.
const SAMBA: Duration = Duration::from_secs(60);
/// How long an election among nbtd hosts may take.
const ELECTION: Duration = Duration::from_secs(30);

/// Starts nbtd in host `i` and waits until its control socket answers.
fn start_nbtd(lan: &Lan, i: usize, name: &str, extra: &[&str]) -> Nbtd {
    let d = daemon::start(lan, i, name, None, extra);
    d.wait_up();
    d
}

impl Nbtd {
    /// Waits (bounded) until the control socket answers.
    fn wait_up(&self) {
        let until = Instant::now() + Duration::from_secs(10);
        while query_status(&self.control).is_err() {
            assert!(
                Instant::now() < until,
                "nbtd {} did not come up: {}",
                self.name,
                self.log_text()
            );
            sleep(Duration::from_millis(50));
        }
    }

    fn status(&self) -> DaemonStatus {
        query_status(&self.control)
            .unwrap_or_else(|e| panic!("{}: {e:#}\n{}", self.name, self.log_text()))
    }

    fn browse(&self) -> BrowseListReply {
        query_browse_list(&self.control, None)
            .unwrap_or_else(|e| panic!("{}: {e:#}\n{}", self.name, self.log_text()))
    }

    fn role(&self) -> BrowserRole {
        self.status().interfaces[0].browser.role
    }

    /// Waits (bounded) until the process is gone (or a zombie the LAN reaps later).
    fn wait_gone(&self) {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let stat =
                std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap_or_default();
            if stat.is_empty() || stat.contains(") Z") {
                return;
            }
            assert!(Instant::now() < until, "nbtd {} did not stop", self.name);
            sleep(Duration::from_millis(20));
        }
    }
}

/// Polls `check` every 200 ms until it gives a value, for at most `limit`; panics with `what`
/// and the logs otherwise.
fn poll<T>(limit: Duration, what: &str, logs: &[&Nbtd], mut check: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + limit;
    loop {
        if let Some(v) = check() {
            return v;
        }
        if Instant::now() >= until {
            let mut text = String::new();
            for d in logs {
                text.push_str(&format!("--- {} ---\n{}\n", d.name, d.log_text()));
            }
            panic!("{what}: not within {limit:?}\n{text}");
        }
        sleep(Duration::from_millis(200));
    }
}

/// `nmblookup -M WG` from host `from`: the addresses that answer for `WG<1d>`.
fn nmblookup_master(lan: &Lan, from: usize) -> Vec<Ipv4Addr> {
    let conf = lan.client_conf();
    let out = lan.run(
        from,
        "nmblookup",
        &["-s", conf.to_str().unwrap(), "-B", "198.18.0.255", "-M", WG],
    );
    answers(&String::from_utf8_lossy(&out.stdout), "<1d>")
}

/// A quick broadcast query for `WG<1d>` from host `from` (`nbt lookup`, 300 ms, no retries).
fn quick_master(lan: &Lan, from: usize) -> Vec<Ipv4Addr> {
    let out = lan.run(
        from,
        env!("CARGO_BIN_EXE_nbt"),
        &[
            "lookup",
            &format!("{WG}#1d"),
            "--iface",
            "lan0",
            "--timeout",
            "300ms",
            "--retries",
            "0",
        ],
    );
    answers(&String::from_utf8_lossy(&out.stdout), "<1d>")
}

/// The addresses of lines `ADDRESS WG<xx>` with the given suffix.
fn answers(text: &str, suffix: &str) -> Vec<Ipv4Addr> {
    let mut v: Vec<Ipv4Addr> = text
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let addr = w.next()?.parse().ok()?;
            let name = w.next()?;
            name.eq_ignore_ascii_case(&format!("{WG}{suffix}"))
                .then_some(addr)
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Starts three nbtd hosts in hosts 1 to 3, one after another, and waits until exactly one is
/// master and the other two know it. Returns them and the master's index.
fn three_hosts(lan: &Lan) -> (Vec<Nbtd>, usize) {
    let hosts: Vec<Nbtd> = ["ALPHA", "BRAVO", "CHARLIE"]
        .iter()
        .enumerate()
        .map(|(k, name)| start_nbtd(lan, k + 1, name, &[]))
        .collect();
    let master = elected(lan, &hosts, &[]);
    (hosts, master)
}

/// Waits until exactly one of `hosts` (skipping the indexes in `dead`) is master, every other
/// is a potential or backup browser, and all know the master's address.
fn elected(lan: &Lan, hosts: &[Nbtd], dead: &[usize]) -> usize {
    let logs: Vec<&Nbtd> = hosts.iter().collect();
    poll(ELECTION, "exactly one master", &logs, || {
        let live: Vec<(usize, DaemonStatus)> = hosts
            .iter()
            .enumerate()
            .filter(|(k, _)| !dead.contains(k))
            .map(|(k, h)| (k, h.status()))
            .collect();
        let masters: Vec<usize> = live
            .iter()
            .filter(|(_, s)| s.interfaces[0].browser.role == BrowserRole::Master)
            .map(|(k, _)| *k)
            .collect();
        let [m] = masters[..] else {
            return None;
        };
        let addr = lan.ip(hosts[m].host);
        let settled = live.iter().all(|(k, s)| {
            let b = &s.interfaces[0].browser;
            let role_ok = *k == m || matches!(b.role, BrowserRole::Potential | BrowserRole::Backup);
            role_ok && b.master.as_ref().is_some_and(|x| x.address == addr)
        });
        settled.then_some(m)
    })
}

#[test]
fn three_nbtd_hosts_elect_one_master_and_list_each_other() {
    let Some(lan) = Lan::for_test(
        "three_nbtd_hosts_elect_one_master_and_list_each_other",
        4,
        &["nmblookup"],
    ) else {
        return;
    };
    let hosts: Vec<Nbtd> = ["ALPHA", "BRAVO", "CHARLIE"]
        .iter()
        .enumerate()
        .map(|(k, name)| start_nbtd(&lan, k + 1, name, &[]))
        .collect();
    let logs: Vec<&Nbtd> = hosts.iter().collect();
    // Within 5 s of the last start, every host lists all three.
    poll(
        Duration::from_secs(5),
        "every host lists all three",
        &logs,
        || {
            hosts
                .iter()
                .all(|h| h.listed(None) == ["ALPHA", "BRAVO", "CHARLIE"])
                .then_some(())
        },
    );

    // `nbt view` on each host, from its local nbtd, lists the three machines.
    for h in &hosts {
        let ctl = h.control.to_str().unwrap();
        let out = lan.run(
            h.host,
            env!("CARGO_BIN_EXE_nbt"),
            &["view", "--daemon", "--control-socket", ctl, "--json"],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["source"], "daemon");
        assert_eq!(v["workgroup"], WG);
        let names: Vec<&str> = v["machines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["ALPHA", "BRAVO", "CHARLIE"]);
        let text = lan.run(
            h.host,
            env!("CARGO_BIN_EXE_nbt"),
            &["view", "--control-socket", ctl],
        );
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(
            text.starts_with("NAME") && text.contains("CHARLIE"),
            "{text}"
        );
    }

    let m = elected(&lan, &hosts, &[]);
    let master_ip = lan.ip(hosts[m].host);
    // Samba's client finds the master from a fourth host.
    let found = poll(SAMBA, "nmblookup -M finds the master", &logs, || {
        let a = nmblookup_master(&lan, 4);
        (!a.is_empty()).then_some(a)
    });
    assert_eq!(found, [master_ip]);
    // Each host names the master, and the master lists itself as one.
    for h in &hosts {
        let b = h.browse();
        let i = &b.interfaces[0];
        assert_eq!(b.workgroup, WG);
        assert_eq!(b.our_workgroup, WG);
        assert_eq!(i.interface, "lan0");
        assert_eq!(i.master.as_ref().unwrap().address, master_ip, "{b:?}");
        let me = i.servers.iter().find(|s| s.name == hosts[m].name).unwrap();
        assert_ne!(me.server_type & 0x0004_0000, 0, "MASTER_BROWSER: {me:?}");
        assert_eq!(me.address, Some(master_ip));
        assert!(
            me.expires_in_secs > 0 && me.periodicity_secs >= 60,
            "{me:?}"
        );
    }
    let s = hosts[m].status();
    assert!(s.browser.elections_won >= 1, "{:?}", s.browser);
    assert!(s.datagram_service.received > 0, "{:?}", s.datagram_service);
    assert!(
        hosts[m]
            .log_text()
            .contains("now the local master browser of LABWG"),
        "{}",
        hosts[m].log_text()
    );
    // Another workgroup, asked for in lower case: the list holds none of its servers.
    let other = query_browse_list(&hosts[0].control, Some("otherwg")).unwrap();
    assert_eq!(other.workgroup, "OTHERWG");
    assert!(other.interfaces[0].servers.is_empty());
    // The master's DomainAnnouncement names it as LABWG's master everywhere.
    poll(
        Duration::from_secs(10),
        "LABWG and its master in the workgroup list",
        &logs,
        || {
            hosts
                .iter()
                .all(|h| {
                    h.browse().interfaces[0]
                        .workgroups
                        .iter()
                        .any(|w| w.name == WG && w.master == hosts[m].name)
                })
                .then_some(())
        },
    );
}

#[test]
fn nmbd_at_os_level_65_is_master_over_nbtd_at_20_and_lists_it() {
    let Some(lan) = Lan::for_test(
        "nmbd_at_os_level_65_is_master_over_nbtd_at_20_and_lists_it",
        3,
        &["nmbd", "nmblookup"],
    ) else {
        return;
    };
    let nmbd = lan.start_nmbd(
        1,
        &NmbdConfig::new(WG, "SAMBA65")
            .option("os level = 65")
            .log_level(3),
    );
    nmbd.wait_for_log("is now a local master browser", SAMBA)
        .unwrap();
    let nbtd = start_nbtd(&lan, 2, "NBTD20", &["--os-level", "20"]);
    let logs = [&nbtd];

    // nbtd takes nmbd as its master, and stays a potential browser.
    let master = poll(ELECTION, "nbtd reports nmbd as its master", &logs, || {
        let s = nbtd.status();
        let b = &s.interfaces[0].browser;
        b.master
            .as_ref()
            .filter(|m| m.address == lan.ip(1) && m.name.is_some())
            .cloned()
    });
    assert_eq!(master.name.as_deref(), Some("SAMBA65"));
    assert_eq!(nbtd.role(), BrowserRole::Potential);
    assert_eq!(nmblookup_master(&lan, 3), [lan.ip(1)]);
    // nmbd lists nbtd's host (its level-3 line from create_server_on_workgroup).
    nmbd.wait_for_log("Created server entry NBTD20 ", SAMBA)
        .unwrap();
    // And nbtd lists nmbd's.
    poll(SAMBA, "nbtd lists SAMBA65", &logs, || {
        nbtd.listed(None)
            .contains(&"SAMBA65".to_owned())
            .then_some(())
    });
    // nmbd never lost its place.
    let log = nmbd.nmbd_log();
    assert!(!log.contains("Lost election"), "{log}");
    assert_eq!(nbtd.role(), BrowserRole::Potential);
}

#[test]
fn nbtd_at_os_level_65_is_master_over_nmbd_at_20_and_lists_it() {
    let Some(lan) = Lan::for_test(
        "nbtd_at_os_level_65_is_master_over_nmbd_at_20_and_lists_it",
        3,
        &["nmbd", "nmblookup"],
    ) else {
        return;
    };
    let nbtd = start_nbtd(&lan, 1, "NBTD65", &["--os-level", "65"]);
    let logs = [&nbtd];
    poll(ELECTION, "nbtd becomes master", &logs, || {
        (nbtd.role() == BrowserRole::Master).then_some(())
    });
    let nmbd = lan.start_nmbd(
        2,
        &NmbdConfig::new(WG, "SAMBA20")
            .option("os level = 20")
            .log_level(3),
    );
    // nbtd lists nmbd's host.
    poll(SAMBA, "nbtd's browse list holds SAMBA20", &logs, || {
        let b = nbtd.browse();
        b.interfaces[0]
            .servers
            .iter()
            .find(|s| s.name == "SAMBA20")
            .map(|s| {
                assert_eq!(s.address, Some(lan.ip(2)));
                assert_eq!(s.comment, "nbtd test host", "nmbd's server string");
            })
    });
    // Give nmbd the time it would need to take over if it were going to, then check.
    sleep(Duration::from_secs(25));
    assert_eq!(nbtd.role(), BrowserRole::Master, "{}", nbtd.log_text());
    assert_eq!(nmblookup_master(&lan, 3), [lan.ip(1)]);
    let log = nmbd.nmbd_log();
    assert!(!log.contains("now a local master browser"), "{log}");
    let s = nbtd.status();
    assert_eq!(s.browser.elections_lost, 0, "{:?}", s.browser);
}

#[test]
fn a_killed_master_is_replaced_within_fifteen_seconds() {
    let Some(lan) = Lan::for_test(
        "a_killed_master_is_replaced_within_fifteen_seconds",
        4,
        &["nmblookup"],
    ) else {
        return;
    };
    let (hosts, m) = three_hosts(&lan);
    let old = lan.ip(hosts[m].host);
    // The client sees the master before the kill.
    poll(
        Duration::from_secs(10),
        "the master answers",
        &[&hosts[m]],
        || (quick_master(&lan, 4) == [old]).then_some(()),
    );
    hosts[m].signal("-KILL");
    let killed = Instant::now();
    let logs: Vec<&Nbtd> = hosts.iter().collect();
    let (new, took) = poll(
        Duration::from_secs(60),
        "another host answers for LABWG<1d>",
        &logs,
        || {
            let a = quick_master(&lan, 4);
            let t = killed.elapsed();
            a.iter().find(|ip| **ip != old).map(|ip| (*ip, t))
        },
    );
    eprintln!("failover: {new} answers for {WG}<1d> {took:?} after the master was killed");
    assert!(
        took <= Duration::from_secs(15),
        "a new master answered only after {took:?}"
    );
    hosts[m].wait_gone();
    let m2 = elected(&lan, &hosts, &[m]);
    assert_eq!(lan.ip(hosts[m2].host), new);
    assert_eq!(nmblookup_master(&lan, 4), [new]);
    let survivor = &hosts[(m + 1) % 3];
    let text = survivor.log_text();
    assert!(
        text.contains("lost the local master browser of LABWG") || m2 == (m + 1) % 3,
        "{text}"
    );
}

#[test]
fn the_browse_list_survives_a_restart_of_the_master() {
    let Some(lan) = Lan::for_test(
        "the_browse_list_survives_a_restart_of_the_master",
        3,
        &["nmblookup"],
    ) else {
        return;
    };
    let (mut hosts, m) = three_hosts(&lan);
    let logs: Vec<&Nbtd> = hosts.iter().collect();
    poll(
        Duration::from_secs(10),
        "the master lists all three",
        &logs,
        || (hosts[m].listed(None).len() == 3).then_some(()),
    );
    // A host that is not the master dies without a word.
    let k = (m + 1) % 3;
    let gone = hosts[k].name.clone();
    hosts[k].signal("-KILL");
    hosts[k].wait_gone();
    // The master stops cleanly: it says it is going down and forces an election, which the
    // third host wins at once, and it releases all its names, the master's two included.
    hosts[m].signal("-TERM");
    hosts[m].wait_gone();
    let text = hosts[m].log_text();
    assert!(text.contains("stopped; sent 7 name releases"), "{text}");
    assert!(text.contains("saved the browse list"), "{text}");
    let saved = lan
        .dir()
        .join(format!("state{}/browse.json", hosts[m].host));
    assert!(saved.exists(), "{text}");
    let third = 3 - m - k;
    let m2 = elected(&lan, &hosts, &[m, k]);
    assert_eq!(m2, third);
    let text = hosts[third].log_text();
    assert!(
        text.contains("it announced that it is going down"),
        "{text}"
    );
    // It starts again on the same state directory.
    let name = hosts[m].name.clone();
    hosts[m] = start_nbtd(&lan, hosts[m].host, &name, &[]);
    // Right after it is up, the dead host is still listed: only the file can say so.
    let listed = hosts[m].listed(None);
    assert!(
        listed.contains(&gone),
        "{gone} not in {listed:?}\n{}",
        hosts[m].log_text()
    );
    assert!(
        hosts[m]
            .log_text()
            .contains("restored the saved browse list")
    );
    let entry = hosts[m].browse().interfaces[0]
        .servers
        .iter()
        .find(|s| s.name == gone)
        .cloned()
        .unwrap();
    assert_eq!(entry.address, Some(lan.ip(hosts[k].host)));
    assert!(entry.expires_in_secs > 0);
}
