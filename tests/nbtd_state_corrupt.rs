//! nbtd started on a corrupt state file (issue #7, crash safety): the file is moved aside with a
//! log line that says where, nbtd starts, answers queries, and saves a good file again on stop.
//! Runs on loopback with test ports (no root needed).

mod nbtd_harness;

use std::net::Ipv4Addr;
use std::time::SystemTime;

use nbtd::protocol::name::{NetbiosName, ScopedName};
use nbtd::protocol::wire::ns::PacketKind;
use nbtd::state::StateFile;
use nbtd_harness::{Client, PATIENCE, Scratch, moved_aside, start_loopback};

/// Corrupt contents a crash, a full disk or a stray editor could leave, by what they are.
fn cases() -> Vec<(&'static str, Vec<u8>)> {
    let good = br#"{"format":1,"saved_at":1700000000,"subnets":{"127.0.0.1":[{"kind":"server","workgroup":"TESTWG","name":"OLDHOST","server_type":3,"version":[6,1],"comment":"x","addr":"127.0.0.9","periodicity_ms":720000,"remaining_ms":2000000}]}}"#;
    vec![
        (
            "binary garbage",
            (0..4096u32).map(|i| (i * 7 + 13) as u8).collect(),
        ),
        ("truncated JSON", good[..good.len() / 2].to_vec()),
        (
            "an unknown format",
            br#"{"format":99,"saved_at":0,"subnets":{}}"#.to_vec(),
        ),
        ("an empty file", Vec::new()),
    ]
}

#[test]
fn a_corrupt_state_file_is_moved_aside_logged_and_nbtd_serves() {
    for (what, bytes) in cases() {
        let dir = Scratch::new("state-corrupt");
        let state = dir.path("state");
        std::fs::create_dir_all(&state).unwrap();
        let file = state.join("browse.json");
        std::fs::write(&file, &bytes).unwrap();

        let (mut d, ports) = start_loopback(&dir, "CORRUPTTEST", &[]);

        // It starts: every name active, within a bounded wait.
        d.wait_active(&dir, &format!("{what}: nbtd did not come up"));

        // The file was moved aside, unchanged, and the log says so and where.
        let aside = moved_aside(&state);
        assert_eq!(aside.len(), 1, "{what}: {aside:?}\n{}", d.stderr());
        assert_eq!(std::fs::read(&aside[0]).unwrap(), bytes, "{what}");
        let log = d.stderr();
        let line = log
            .lines()
            .find(|l| l.contains("is not a valid browse list"))
            .unwrap_or_else(|| panic!("{what}: no log line about the corrupt file:\n{log}"));
        assert!(
            line.contains("moved it to") && line.contains(&*aside[0].to_string_lossy()),
            "{what}: the line names where the file went: {line}"
        );

        // It serves.
        let mut c = Client::new(ports.0);
        let q = ScopedName::unscoped(NetbiosName::new("CORRUPTTEST", 0x20).unwrap());
        let (p, _) = c
            .query(q)
            .unwrap_or_else(|| panic!("{what}: no answer:\n{}", d.stderr()));
        assert_eq!(p.kind(), PacketKind::PositiveNameQueryResponse, "{what}");
        assert_eq!(
            p.answers[0].nb_addresses().unwrap()[0].addr,
            Ipv4Addr::LOCALHOST
        );

        // A clean stop writes a file that loads.
        d.signal("TERM");
        assert_eq!(d.wait(PATIENCE).code(), Some(0), "{what}: {}", d.stderr());
        if file.exists() {
            StateFile::new(&state)
                .load(SystemTime::now())
                .unwrap_or_else(|e| panic!("{what}: the new file does not load: {e}"));
        }
        assert_eq!(moved_aside(&state).len(), 1, "{what}: nothing else moved");
    }
}
