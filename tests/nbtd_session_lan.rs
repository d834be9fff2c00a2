//! The session service of nbtd on TCP 139, against Samba's smbclient on a namespace LAN:
//! - `smbclient -L` lists nbtd's shares, the servers of its workgroup and the workgroups, with
//!   and without SPNEGO;
//! - with 5,000 servers in the browse list, `smbclient -L` lists all 5,000 (NetServerEnum2 then
//!   NetServerEnum3 continuations);
//! - `smbtree` walks the workgroup, its servers and their shares from nbtd alone.
//!
//! Needs root, `ip`, `nmbd`, `nmblookup`, `smbclient` and `smbtree`; without them each test says why and
//! passes, except under `CI=true`, where it fails. Every wait is a bounded poll.

mod common;

use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::daemon::{self, Nbtd};
use common::netns::{Lan, NmbdConfig};
use common::smbclient;
use nbtd::control::query_browse_list;

fn start_nbtd(lan: &Lan, i: usize, name: &str, config: &str, extra: &[&str]) -> Nbtd {
    daemon::start(lan, i, name, Some(config), extra)
}

impl Nbtd {
    /// Polls the browse list until `pred` holds, for at most `limit`.
    fn wait_list(
        &self,
        limit: Duration,
        what: &str,
        pred: impl Fn(&nbtd::control::BrowseListReply) -> bool,
    ) {
        let until = Instant::now() + limit;
        loop {
            if let Ok(r) = query_browse_list(&self.control, None) {
                if pred(&r) {
                    return;
                }
            }
            assert!(
                Instant::now() < until,
                "{what}: not within {limit:?}\n{}",
                self.log_text()
            );
            sleep(Duration::from_millis(200));
        }
    }
}

const SHARES: &str = r#"
[[share]]
name = "public"
comment = "files for everyone"

[[share]]
name = "lp"
type = "printer"
comment = "the printer"
"#;

/// NBTDONE in host 1 (the shares above, preferred master at os level 65) and NBTDTWO in
/// host 2; returns NBTDONE.
fn two_nbtd_hosts(lan: &Lan) -> Nbtd {
    let master = start_nbtd(
        lan,
        1,
        "NBTDONE",
        SHARES,
        &["--preferred-master", "--os-level", "65"],
    );
    start_nbtd(lan, 2, "NBTDTWO", "", &[]);
    master
}

#[test]
fn smbclient_lists_nbtd_shares_servers_and_workgroups() {
    let Some(lan) = Lan::for_test(
        "smbclient_lists_nbtd_shares_servers_and_workgroups",
        4,
        &["nmbd", "nmblookup", "smbclient"],
    ) else {
        return;
    };
    let master = two_nbtd_hosts(&lan);
    // Another workgroup's master tells ours about its workgroup (DomainAnnouncement).
    lan.start_nmbd(
        3,
        &NmbdConfig::new("OTHERWG", "CHARLIE").option("os level = 65"),
    );
    master.wait_list(Duration::from_secs(60), "NBTDTWO and OTHERWG listed", |r| {
        let i = &r.interfaces[0];
        i.servers.iter().any(|s| s.name == "NBTDTWO")
            && i.workgroups.iter().any(|w| w.name == "OTHERWG")
            && i.role == nbtd::control::BrowserRole::Master
    });

    for options in [&[][..], &["client use spnego=no"][..]] {
        let (out, l) = smbclient::list(&lan, 4, "198.18.0.1", options);
        let out = String::from_utf8_lossy(&out.stdout);
        for (name, kind, comment) in [
            ("public", "Disk", "files for everyone"),
            ("lp", "Printer", "the printer"),
        ] {
            assert!(
                l.shares
                    .contains(&(name.into(), kind.into(), comment.into())),
                "{options:?}: share {name} missing:\n{out}"
            );
        }
        assert!(
            l.shares.iter().any(|s| s.0 == "IPC$" && s.1 == "IPC"),
            "{out}"
        );
        let servers: Vec<&str> = l.servers.iter().map(|s| s.0.as_str()).collect();
        assert!(
            servers.contains(&"NBTDONE") && servers.contains(&"NBTDTWO"),
            "{options:?}: servers {servers:?}:\n{out}"
        );
        assert!(
            !servers.contains(&"CHARLIE"),
            "another workgroup's server: {out}"
        );
        assert!(
            l.workgroups.contains(&("LABWG".into(), "NBTDONE".into())),
            "{:?}:\n{out}",
            l.workgroups
        );
        assert!(
            l.workgroups.contains(&("OTHERWG".into(), "CHARLIE".into())),
            "{:?}:\n{out}",
            l.workgroups
        );
    }

    // Our own client lists the same shares from nbtd as smbclient does.
    let (_, l) = smbclient::list(&lan, 4, "198.18.0.1", &[]);
    let out = lan.run(
        4,
        env!("CARGO_BIN_EXE_nbt"),
        &["shares", "198.18.0.1", "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut ours: Vec<String> = v["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap().to_owned())
        .collect();
    let mut theirs: Vec<String> = l.shares.iter().map(|x| x.0.clone()).collect();
    ours.sort();
    theirs.sort();
    assert_eq!(ours, theirs);
}

/// Samba's smbtree walks the network the way file managers and media players browse it
/// (libsmbclient's `smb://`): it finds the masters by a broadcast for `__MSBROWSE__<01>` and
/// node status, lists the workgroups from one, the servers from each workgroup's master, and
/// each server's shares. With two nbtd hosts and no Samba server, all of it comes from nbtd.
#[test]
fn smbtree_walks_nbtd_workgroup_servers_and_shares() {
    let Some(lan) = Lan::for_test(
        "smbtree_walks_nbtd_workgroup_servers_and_shares",
        3,
        &["smbtree"],
    ) else {
        return;
    };
    let master = two_nbtd_hosts(&lan);
    master.wait_list(Duration::from_secs(60), "NBTDTWO listed", |r| {
        let i = &r.interfaces[0];
        i.servers.iter().any(|s| s.name == "NBTDTWO")
            && i.role == nbtd::control::BrowserRole::Master
    });
    let conf = lan.client_conf();
    let conf = conf.display().to_string();
    // smbtree of Samba 4.17 crashes without a user name (-N): the guest account, no password.
    let walk = |extra: &[&str]| {
        // -d 0: no debug lines among the tree (the LAN's client smb.conf has log level 1).
        let mut args = vec![
            "-d",
            "0",
            "-U",
            "guest%",
            "-s",
            &conf,
            "--option=client min protocol=NT1",
        ];
        args.extend(extra);
        let out = lan.run(3, "smbtree", &args);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "smbtree {extra:?} failed:\n{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Each line's first word: the workgroup, then \\SERVER and \\SERVER\share.
        text.lines()
            .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
            .collect::<Vec<_>>()
    };
    let tree = walk(&[]);
    for want in [
        "LABWG",
        r"\\NBTDONE",
        r"\\NBTDONE\public",
        r"\\NBTDONE\lp",
        r"\\NBTDONE\IPC$",
        r"\\NBTDTWO",
        r"\\NBTDTWO\IPC$",
    ] {
        assert!(tree.iter().any(|l| l == want), "{want} missing: {tree:#?}");
    }
    assert_eq!(walk(&["--domains"]), ["LABWG"]);
}

/// Writes a browse.json for address `ip` with `n` servers in LABWG, each with 30 minutes left.
fn state_file_with_servers(dir: &std::path::Path, ip: &str, n: usize) {
    let saved_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let servers: Vec<serde_json::Value> = (0..n)
        .map(|k| {
            serde_json::json!({
                "kind": "server",
                "workgroup": "LABWG",
                "name": format!("HOST{k:05}"),
                "server_type": 0x0000_1003u32,
                "version": [6, 1],
                "comment": format!("synthetic host {k}"),
                "addr": null,
                "periodicity_ms": 720_000,
                "remaining_ms": 1_800_000,
            })
        })
        .collect();
    let file = serde_json::json!({
        "format": 1,
        "saved_at": saved_at,
        "subnets": { ip: servers },
    });
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("browse.json"), serde_json::to_vec(&file).unwrap()).unwrap();
}

#[test]
fn smbclient_lists_five_thousand_servers() {
    let Some(lan) = Lan::for_test("smbclient_lists_five_thousand_servers", 2, &["smbclient"])
    else {
        return;
    };
    state_file_with_servers(&lan.dir().join("state1"), "198.18.0.1", 5000);
    let config = "[browser]\nmax_servers_per_workgroup = 8192\n";
    let nbtd = start_nbtd(&lan, 1, "BIGLIST", config, &["--no-local-master"]);
    nbtd.wait_list(Duration::from_secs(20), "5,000 servers restored", |r| {
        r.interfaces
            .first()
            .is_some_and(|i| i.servers.len() >= 5000)
    });
    let (out, l) = smbclient::list(&lan, 2, "198.18.0.1", &["client use spnego=no"]);
    let out = String::from_utf8_lossy(&out.stdout);
    let servers: Vec<String> = l.servers.into_iter().map(|s| s.0).collect();
    let synthetic: Vec<&String> = servers.iter().filter(|s| s.starts_with("HOST")).collect();
    assert_eq!(
        synthetic.len(),
        5000,
        "all 5,000, each once:\n{}",
        &out[..out.len().min(2000)]
    );
    let mut sorted = synthetic.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 5000, "no duplicates");
    assert!(servers.contains(&"BIGLIST".into()), "ourselves too");
}

#[test]
fn a_backup_copies_the_masters_list_over_tcp_139() {
    let Some(lan) = Lan::for_test("a_backup_copies_the_masters_list_over_tcp_139", 3, &[]) else {
        return;
    };
    // Only the master knows HOST00000 (from its saved list); the others can learn it only by
    // copying the master's list.
    state_file_with_servers(&lan.dir().join("state1"), "198.18.0.1", 1);
    let master = start_nbtd(
        &lan,
        1,
        "MASTER",
        "",
        &["--preferred-master", "--os-level", "65"],
    );
    master.wait_list(Duration::from_secs(30), "MASTER is master", |r| {
        r.interfaces[0].role == nbtd::control::BrowserRole::Master
    });
    let others = [
        start_nbtd(&lan, 2, "OTHERONE", "", &[]),
        start_nbtd(&lan, 3, "OTHERTWO", "", &[]),
    ];
    // The master appoints one backup (two potential browsers: 1 + 0 per 32 servers), which
    // copies its list at once.
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let lists: Vec<_> = others
            .iter()
            .filter_map(|o| query_browse_list(&o.control, None).ok())
            .collect();
        let backups = lists
            .iter()
            .filter(|r| r.interfaces[0].role == nbtd::control::BrowserRole::Backup)
            .count();
        assert!(
            backups <= 1,
            "one backup is enough for three hosts: {lists:#?}"
        );
        let backup = lists
            .iter()
            .find(|r| r.interfaces[0].role == nbtd::control::BrowserRole::Backup);
        if let Some(b) = backup {
            if b.interfaces[0]
                .servers
                .iter()
                .any(|s| s.name == "HOST00000")
            {
                let s = b.interfaces[0]
                    .servers
                    .iter()
                    .find(|s| s.name == "HOST00000")
                    .unwrap();
                assert_eq!(s.comment, "synthetic host 0");
                // The other, not a backup, never heard of it.
                let plain = lists
                    .iter()
                    .find(|r| r.interfaces[0].role != nbtd::control::BrowserRole::Backup)
                    .unwrap();
                assert!(
                    !plain.interfaces[0]
                        .servers
                        .iter()
                        .any(|s| s.name == "HOST00000")
                );
                return;
            }
        }
        assert!(
            Instant::now() < until,
            "no backup copied the master's list: {lists:#?}\n{}\n{}",
            others[0].log_text(),
            others[1].log_text()
        );
        sleep(Duration::from_millis(300));
    }
}
