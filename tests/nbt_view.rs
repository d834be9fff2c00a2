//! `nbt view` on a LAN of network namespaces against Samba's nmbd: the LAN path (no local
//! daemon) finds the master, its backup list, and every machine of the workgroup, and the
//! workgroups with their masters.
//!
//! Needs root, `ip`, `nmbd` and `nmblookup`; without them the test says why and passes, except
//! under `CI=true`, where it fails.

mod common;

use std::time::{Duration, Instant};

use common::netns::{Lan, NmbdConfig};

fn nbt(lan: &Lan, i: usize, args: &[&str]) -> (i32, String, String) {
    let o = lan.run(i, env!("CARGO_BIN_EXE_nbt"), args);
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
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
