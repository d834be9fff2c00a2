//! `nbt view` on a LAN of network namespaces against Samba: the LAN path (no local daemon)
//! finds the master, its backup list, and every machine of the workgroup, and the workgroups
//! with their masters. With smbd next to the masters it reads their browse lists over TCP 139
//! and lists what `smbclient -L` lists; with nmbd alone it falls back to node status.
//!
//! Needs root, `ip`, `nmbd` and `nmblookup` (and `smbd` and `smbclient` for the browse list);
//! without them the test says why and passes, except under `CI=true`, where it fails.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::netns::{Lan, NmbdConfig};
use common::smbclient;

fn nbt(lan: &Lan, i: usize, args: &[&str]) -> (i32, String, String) {
    lan.nbt(i, args)
}

#[test]
fn nbt_view_from_the_lan_against_nmbd() {
    let Some(lan) = Lan::for_test(
        "nbt_view_from_the_lan_against_nmbd",
        4,
        &["nmbd", "nmblookup"],
    ) else {
        return;
    };
    lan.start_nmbd(
        1,
        &NmbdConfig::new("LABWG", "ALPHA").option("os level = 65"),
    );
    lan.start_nmbd(2, &NmbdConfig::new("LABWG", "BRAVO"));
    lan.start_nmbd(
        3,
        &NmbdConfig::new("OTHERWG", "CHARLIE").option("os level = 65"),
    );
    // nmbd elects on a 2 s pace and registers its master names after: wait for both masters.
    for (wg, owner) in [("LABWG#1d", 1), ("OTHERWG#1d", 3)] {
        lan.wait_for_name(4, wg, owner, Duration::from_secs(90))
            .unwrap();
    }
    let until = Instant::now() + Duration::from_secs(30);
    let (code, out, err) = loop {
        let r = nbt(&lan, 4, &["view", "LABWG", "--lan", "--json"]);
        let done = r.1.contains("ALPHA") && r.1.contains("BRAVO");
        if done || Instant::now() > until {
            break r;
        }
    };
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["source"], "lan");
    // No smbd: nothing listens on TCP 139, so the machines come from node status.
    assert_eq!(v["via"], "node_status");
    assert!(
        err.contains("nothing listens on TCP 139 at 198.18.0.1")
            && err.contains("listing the hosts that answered node status instead"),
        "{err}"
    );
    assert_eq!(v["workgroup"], "LABWG");
    assert_eq!(v["master"]["address"], "198.18.0.1");
    assert_eq!(v["master"]["name"], "ALPHA");
    assert_eq!(
        v["backups"][0], "ALPHA",
        "nmbd lists itself as its only backup"
    );
    let names: Vec<&str> = v["machines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ALPHA", "BRAVO"], "CHARLIE is in another workgroup");
    assert_eq!(v["machines"][0]["kind"], "server, master browser");

    let (code, out, err) = nbt(&lan, 4, &["view", "LABWG", "--lan"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("NAME"), "{out}");
    assert!(out.contains("ALPHA") && out.contains("198.18.0.2"), "{out}");
    assert!(err.contains("master ALPHA (198.18.0.1)"), "{err}");

    let (code, out, err) = nbt(&lan, 4, &["view", "--workgroups", "--lan", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let wgs: Vec<(String, String)> = v["workgroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["name"].as_str().unwrap().into(),
                w["master"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        wgs,
        [
            ("LABWG".into(), "ALPHA".into()),
            ("OTHERWG".into(), "CHARLIE".into())
        ]
    );

    // A workgroup nobody is in: nothing listed, exit 1.
    let (code, _, err) = nbt(&lan, 4, &["view", "NOSUCHWG", "--lan"]);
    assert_eq!(code, 1, "{err}");
}

/// Names with their comments (or workgroups with their masters).
type Pairs = BTreeSet<(String, String)>;

/// (name, comment) pairs of `nbt view --json`'s machines, and of its workgroups (name, master).
fn listed(v: &serde_json::Value) -> (Pairs, Pairs) {
    let pairs = |key: &str, a: &str, b: &str| -> Pairs {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m[a].as_str().unwrap().to_owned(),
                    m[b].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    };
    (
        pairs("machines", "name", "comment"),
        pairs("workgroups", "name", "master"),
    )
}

#[test]
fn nbt_view_reads_the_browse_list_as_smbclient_does() {
    let test = "nbt_view_reads_the_browse_list_as_smbclient_does";
    let Some(lan) = Lan::for_test(test, 4, &["nmbd", "smbd", "smbclient", "nmblookup"]) else {
        return;
    };
    let alpha = NmbdConfig::new("LABWG", "ALPHA")
        .option("os level = 65")
        .option("server string = alpha the master");
    lan.start_nmbd(1, &alpha);
    lan.start_smbd(1, &alpha);
    lan.start_nmbd(
        2,
        &NmbdConfig::new("LABWG", "BRAVO").option("server string = bravo"),
    );
    let charlie = NmbdConfig::new("OTHERWG", "CHARLIE")
        .option("os level = 65")
        .option("server string = charlie elsewhere");
    lan.start_nmbd(3, &charlie);
    lan.start_smbd(3, &charlie);
    for (wg, owner) in [("LABWG#1d", 1), ("OTHERWG#1d", 3)] {
        lan.wait_for_name(4, wg, owner, Duration::from_secs(90))
            .unwrap();
    }
    for i in [1, 3] {
        lan.wait_for_listener(i, 139, Duration::from_secs(30))
            .unwrap();
    }
    // smbd serves the list nmbd writes to browse.dat, lazily: compare until both agree and
    // hold what the LAN announced (smbclient without SPNEGO, which names the domain).
    let nospnego = ["client use spnego=no"];
    let until = Instant::now() + Duration::from_secs(120);
    let (ours, theirs, out, err) = loop {
        let (_, theirs) = smbclient::list(&lan, 4, "198.18.0.1", &nospnego);
        let theirs: Pairs = theirs.servers.into_iter().collect();
        let (code, out, err) = nbt(&lan, 4, &["view", "LABWG", "--lan", "--json"]);
        let ours = if code == 0 {
            listed(&serde_json::from_str(&out).unwrap()).0
        } else {
            BTreeSet::new()
        };
        let complete = ["ALPHA", "BRAVO"]
            .iter()
            .all(|n| ours.iter().any(|(m, _)| m == n));
        if (complete && ours == theirs) || Instant::now() > until {
            break (ours, theirs, out, err);
        }
        std::thread::sleep(Duration::from_secs(2));
    };
    assert_eq!(ours, theirs, "nbt view against smbclient -L\n{out}{err}");
    assert!(
        ours.contains(&("ALPHA".into(), "alpha the master".into()))
            && ours.contains(&("BRAVO".into(), "bravo".into())),
        "{ours:?}"
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["via"], "rap", "{err}");
    assert_eq!(v["browser"]["address"], "198.18.0.1");
    let alpha = v["machines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "ALPHA")
        .unwrap();
    assert_eq!(alpha["address"], "198.18.0.1", "from the node status sweep");
    assert_eq!(alpha["kind"], "server, master browser");
    assert_ne!(alpha["server_type"].as_u64().unwrap() & 0x0004_0000, 0);
    let (_, _, err) = nbt(&lan, 4, &["view", "LABWG", "--lan"]);
    assert!(
        err.contains("from the browse list of ALPHA (198.18.0.1)"),
        "{err}"
    );

    // The workgroups, from the first master that lists them, against smbclient -L of that
    // master.
    let until = Instant::now() + Duration::from_secs(120);
    let (ours, theirs, out) = loop {
        let (code, out, err) = nbt(&lan, 4, &["view", "--workgroups", "--lan", "--json"]);
        assert_eq!(code, 0, "{out}{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["via"], "rap", "{err}");
        let browser = v["browser"]["address"].as_str().unwrap().to_owned();
        let ours = listed(&v).1;
        let (_, theirs) = smbclient::list(&lan, 4, &browser, &nospnego);
        let theirs: Pairs = theirs.workgroups.into_iter().collect();
        let complete = ours.len() == 2;
        if (complete && ours == theirs) || Instant::now() > until {
            break (ours, theirs, out);
        }
        std::thread::sleep(Duration::from_secs(2));
    };
    assert_eq!(
        ours, theirs,
        "nbt view --workgroups against smbclient -L\n{out}"
    );
    assert_eq!(
        ours,
        BTreeSet::from([
            ("LABWG".into(), "ALPHA".into()),
            ("OTHERWG".into(), "CHARLIE".into())
        ])
    );
}
