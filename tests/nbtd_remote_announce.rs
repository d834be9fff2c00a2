//! Remote announcements (`[browser] remote_announce`, Samba's `remote announce`): nbtd on one
//! subnet is listed by nmbd, the master browser of another subnet on the same wire. Neither
//! hears the other's broadcasts; only the HostAnnouncements nbtd sends to nmbd's address every
//! 3 minutes reach it. When nbtd stops, its ServerType 0 announcement there takes it off the
//! list at once.
//!
//! Needs root, `ip` and `nmbd`; without them the test says why and passes, except under
//! `CI=true`.

mod common;

use std::time::{Duration, Instant};

use common::daemon;
use common::netns::{Lan, NmbdConfig};
use nbtd::control::RemoteTarget;

/// nmbd's own pace: an election, then the announcement handled.
const SAMBA: Duration = Duration::from_secs(90);

#[test]
fn nmbd_on_another_subnet_lists_nbtd_and_drops_it_when_it_stops() {
    let Some(lan) = Lan::for_test(
        "nmbd_on_another_subnet_lists_nbtd_and_drops_it_when_it_stops",
        2,
        &["nmbd"],
    ) else {
        return;
    };
    // Host 2 moves to 198.18.1.0/24; each host reaches the other subnet on the wire, as through
    // a router that forwards unicast and no broadcast.
    lan.move_to_other_subnet(2, &[1]);
    let nmbd = lan.start_nmbd(
        2,
        &NmbdConfig::new("FARWG", "FARMASTER")
            .option("os level = 65")
            .option("preferred master = yes")
            .log_level(3),
    );
    nmbd.wait_for_log("is now a local master browser", SAMBA)
        .unwrap();

    let d = daemon::start(
        &lan,
        1,
        "NEARNAS",
        Some("[browser]\nremote_announce = [\"198.18.1.2/FARWG\"]\n"),
        &[],
    );
    let st = d.wait_active();
    // `nbt daemon` shows where it announces, and when next.
    let r = &st.remote_announce;
    assert_eq!(
        r.targets,
        [RemoteTarget {
            address: "198.18.1.2".parse().unwrap(),
            workgroup: "FARWG".into(),
        }]
    );
    assert!(r.next_in_secs.is_some_and(|s| s <= 180), "{r:?}");
    // nmbd's level-3 line from create_server_on_workgroup: listed in FARWG.
    if let Err(e) = nmbd.wait_for_log("Created server entry NEARNAS ", SAMBA) {
        panic!("{e}\nnbtd:\n{}", d.log_text());
    }
    // And in the list nmbd writes out (at most every 5 s), which smbd serves to clients.
    let browse_dat = nmbd.dir.join("cache/browse.dat");
    let listed = || std::fs::read_to_string(&browse_dat).is_ok_and(|t| t.contains("\"NEARNAS\""));
    wait(SAMBA, "nmbd's browse.dat to list NEARNAS", &listed);
    assert!(
        !nmbd.nmbd_log().contains("LABWG"),
        "nmbd heard nbtd's own subnet (a broadcast crossed):\n{}",
        nmbd.nmbd_log()
    );
    // SIGTERM: the ServerType 0 announcement takes nbtd off nmbd's list at once, not after
    // the 9 minutes its last announcement promised.
    d.signal("-TERM");
    wait(SAMBA, "nmbd's browse.dat to drop NEARNAS", &|| !listed());
}

/// Polls `done` until it holds, for at most `limit`.
fn wait(limit: Duration, what: &str, done: &dyn Fn() -> bool) {
    let until = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < until, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}
