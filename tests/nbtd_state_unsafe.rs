//! nbtd's state directory with hostile entries in it (issue "Hold under attack, round 2",
//! point 9): a `browse.json` that is a symbolic link to /dev/zero or a FIFO is refused with a
//! log line, moved aside, and nbtd starts and serves with its memory bounded; a symbolic link
//! planted at `browse.json.tmp` is not followed by a save, so its target is unchanged; and the
//! state directory nbtd creates is 0700. Runs on loopback with test ports (no root needed).

mod nbtd_harness;

use std::os::unix::fs::{FileTypeExt, PermissionsExt, symlink};
use std::path::Path;
use std::time::SystemTime;

use nbtd::protocol::name::{NetbiosName, ScopedName};
use nbtd::protocol::wire::ns::PacketKind;
use nbtd::state::StateFile;
use nbtd_harness::{Client, PATIENCE, Scratch, moved_aside, start_loopback};

/// Far above what nbtd needs with an empty list, far below a state file read without end.
const MAX_RSS_KIB: u64 = 64 * 1024;

/// VmRSS of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in {status}"))
}

#[test]
fn a_state_file_that_is_a_link_to_dev_zero_or_a_fifo_is_refused_and_nbtd_serves() {
    type Plant = fn(&Path);
    let cases: [(&str, Plant, &str); 2] = [
        (
            "a symbolic link to /dev/zero",
            |p| symlink("/dev/zero", p).unwrap(),
            "a symbolic link",
        ),
        (
            "a FIFO",
            |p| {
                let made = std::process::Command::new("mkfifo").arg(p).status();
                assert!(made.unwrap().success(), "mkfifo {p:?}");
            },
            "a FIFO",
        ),
    ];
    for (what, plant, said) in cases {
        let dir = Scratch::new("state-unsafe");
        let state = dir.path("state");
        std::fs::create_dir_all(&state).unwrap();
        plant(&state.join("browse.json"));

        let (mut d, ports) = start_loopback(&dir, "UNSAFETEST", &[]);
        d.wait_active(&dir, what);
        let rss = rss_kib(d.pid());
        assert!(rss < MAX_RSS_KIB, "{what}: VmRSS {rss} KiB");

        // The log says what was wrong and where the entry went.
        let aside = moved_aside(&state);
        assert_eq!(aside.len(), 1, "{what}: {aside:?}\n{}", d.stderr());
        let log = d.stderr();
        let line = log
            .lines()
            .find(|l| l.contains("is not a valid browse list"))
            .unwrap_or_else(|| panic!("{what}: no log line about the state file:\n{log}"));
        assert!(
            line.contains(said) && line.contains(&*aside[0].to_string_lossy()),
            "{what}: {line}"
        );
        // What was moved is the link or the FIFO itself.
        let kind = std::fs::symlink_metadata(&aside[0]).unwrap().file_type();
        assert!(kind.is_symlink() || kind.is_fifo(), "{what}: {kind:?}");

        // It serves.
        let mut c = Client::new(ports.0);
        let q = ScopedName::unscoped(NetbiosName::new("UNSAFETEST", 0x20).unwrap());
        let (p, _) = c
            .query(q)
            .unwrap_or_else(|| panic!("{what}: no answer:\n{}", d.stderr()));
        assert_eq!(p.kind(), PacketKind::PositiveNameQueryResponse, "{what}");

        // A clean stop writes a regular file that loads.
        d.signal("TERM");
        assert_eq!(d.wait(PATIENCE).code(), Some(0), "{what}: {}", d.stderr());
        let meta = std::fs::symlink_metadata(state.join("browse.json")).unwrap();
        assert!(meta.file_type().is_file(), "{what}: {meta:?}");
        StateFile::new(&state)
            .load(SystemTime::now())
            .unwrap_or_else(|e| panic!("{what}: the new file does not load: {e}"));
    }
}

#[test]
fn a_link_planted_at_the_temporary_file_is_not_followed_by_a_save() {
    let dir = Scratch::new("state-tmplink");
    let state = dir.path("state");
    std::fs::create_dir_all(&state).unwrap();
    let victim = dir.path("victim");
    std::fs::write(&victim, b"not nbtd's to write\n").unwrap();
    symlink(&victim, state.join("browse.json.tmp")).unwrap();

    let (mut d, _) = start_loopback(&dir, "TMPLINKTEST", &[]);
    d.wait_active(&dir, "a link at browse.json.tmp");
    // The stop saves the list through browse.json.tmp.
    d.signal("TERM");
    assert_eq!(d.wait(PATIENCE).code(), Some(0), "{}", d.stderr());
    let log = d.stderr();
    assert!(log.contains("saved the browse list"), "{log}");

    assert_eq!(std::fs::read(&victim).unwrap(), b"not nbtd's to write\n");
    assert!(
        std::fs::symlink_metadata(&victim)
            .unwrap()
            .file_type()
            .is_file()
    );
    let saved = std::fs::symlink_metadata(state.join("browse.json")).unwrap();
    assert!(saved.file_type().is_file(), "{saved:?}");
    assert_eq!(saved.permissions().mode() & 0o777, 0o600);
    assert!(!state.join("browse.json.tmp").exists(), "no temporary left");
    StateFile::new(&state).load(SystemTime::now()).unwrap();
}

#[test]
fn the_state_directory_nbtd_creates_is_0700() {
    let dir = Scratch::new("state-mode");
    let (mut d, _) = start_loopback(&dir, "MODETEST", &[]);
    d.wait_active(&dir, "a new state directory");
    let mode = std::fs::metadata(dir.path("state"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700, "{mode:o}");
    d.signal("TERM");
    assert_eq!(d.wait(PATIENCE).code(), Some(0), "{}", d.stderr());
}
