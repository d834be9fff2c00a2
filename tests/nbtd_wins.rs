//! The WINS client (`wins_server`, Samba's `wins server`): nbtd on one subnet registers its
//! names with Samba's nmbd, the WINS server of another subnet on the same wire, which then
//! answers clients there for them. Neither hears the other's broadcasts, so nmbd can only know
//! nbtd's names from the registrations, which nbtd refreshes after half the TTL nmbd grants.
//! When nbtd stops, its releases take the names off the server.
//!
//! Needs root, `ip`, `nmbd` and `nmblookup`; without them the test says why and passes, except
//! under `CI=true`.

mod common;

use std::time::{Duration, Instant};

use common::daemon;
use common::netns::{Lan, NmbdConfig};
use nbtd::control::WinsNameState;

/// nmbd's own pace: it serves WINS once its names are registered.
const SAMBA: Duration = Duration::from_secs(60);
/// The client host, on the server's subnet.
const CLIENT: usize = 3;
/// The TTL nmbd grants (its `min wins ttl` and `max wins ttl`), in seconds: nbtd refreshes after
/// half of it, at 60 s.
const GRANT: u32 = 120;

/// Asks the WINS server at 198.18.0.1 for `name` (`nmblookup -U SERVER --recursion`) from the client
/// host; returns what nmblookup printed and whether it succeeded.
fn ask_wins(lan: &Lan, name: &str) -> (bool, String) {
    let conf = lan.client_conf();
    let out = lan.run(
        CLIENT,
        "nmblookup",
        &[
            "-s",
            conf.to_str().unwrap(),
            "-U",
            "198.18.0.1",
            "--recursion",
            name,
        ],
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Polls `done` until it holds, for at most `limit`; the message says what was awaited.
fn wait(limit: Duration, what: &str, done: &dyn Fn() -> Result<(), String>) {
    let until = Instant::now() + limit;
    loop {
        match done() {
            Ok(()) => return,
            Err(last) if Instant::now() >= until => panic!("waited {limit:?} for {what}: {last}"),
            Err(_) => std::thread::sleep(Duration::from_millis(300)),
        }
    }
}

#[test]
fn nmbd_as_wins_server_answers_for_nbtd_and_forgets_it_when_it_stops() {
    let Some(lan) = Lan::for_test(
        "nmbd_as_wins_server_answers_for_nbtd_and_forgets_it_when_it_stops",
        3,
        &["nmbd", "nmblookup"],
    ) else {
        return;
    };
    // Host 2 moves to 198.18.1.0/24; each subnet reaches the other on the wire, as through a
    // router that forwards unicast and no broadcast.
    lan.move_to_other_subnet(2, &[1, CLIENT]);
    let nmbd = lan.start_nmbd(
        1,
        &NmbdConfig::new("LABWG", "WINSSRV")
            .option("wins support = yes")
            // A short grant, so that nbtd refreshes within the test (after half of it).
            .option(&format!("min wins ttl = {GRANT}"))
            .option(&format!("max wins ttl = {GRANT}"))
            .log_level(3),
    );
    lan.wait_for_name(CLIENT, "WINSSRV", 1, SAMBA).unwrap();
    let (ok, text) = ask_wins(&lan, "FARNAS");
    assert!(
        !ok && text.contains("failed to find name FARNAS"),
        "the server knows FARNAS before nbtd runs: {text}"
    );

    let d = daemon::start(
        &lan,
        2,
        "FARNAS",
        Some("wins_server = \"198.18.0.1\"\n"),
        &[],
    );
    d.wait_active();
    // Every name registered with the server, for nbtd's one address.
    let st = d.wait_for_status_within(SAMBA, "nbtd's names registered with WINS", |st| {
        st.wins.as_ref().is_some_and(|w| {
            w.names
                .iter()
                .all(|n| matches!(n.state, WinsNameState::Registered { .. }))
        })
    });
    let w = st.wins.unwrap();
    assert_eq!(w.server.to_string(), "198.18.0.1");
    assert_eq!(
        w.address.map(|a| a.to_string()).as_deref(),
        Some("198.18.1.2")
    );
    let labels: Vec<String> = w
        .names
        .iter()
        .map(|n| format!("{}<{:02x}>", n.name, n.suffix))
        .collect();
    assert_eq!(
        labels,
        [
            "FARNAS<00>",
            "FARNAS<03>",
            "FARNAS<20>",
            "LABWG<00>",
            "LABWG<1e>"
        ]
    );
    for n in &w.names {
        // nmbd grants what its `min wins ttl` and `max wins ttl` allow; nbtd refreshes after
        // half of it.
        assert_eq!(n.state, WinsNameState::Registered { ttl: GRANT }, "{n:?}");
        assert!(
            n.next_in_secs.is_some_and(|s| s <= u64::from(GRANT / 2)),
            "{n:?}"
        );
    }

    // A client on the server's subnet asks the server, and gets nbtd's address.
    for name in ["FARNAS", "FARNAS#20"] {
        let (ok, text) = ask_wins(&lan, name);
        assert!(ok && text.contains("198.18.1.2 FARNAS<"), "{name}: {text}");
    }
    // `nbt lookup --wins` asks the same way: RD set, as nmblookup -R.
    let (_, out, err) = lan.nbt(CLIENT, &["lookup", "--wins", "198.18.0.1", "FARNAS#20"]);
    assert_eq!(out, "198.18.1.2 FARNAS<20>\n", "{err}");
    // Without RD nmbd answers from its own subnet's names only.
    let (code, _, err) = lan.nbt(CLIENT, &["lookup", "--server", "198.18.0.1", "FARNAS#20"]);
    assert_eq!(code, 1);
    assert!(err.contains("NAM_ERR"), "{err}");
    // And commands that take a host find it the same way: its shares over TCP 139, from the
    // other subnet, by name.
    let (code, shares, err) = lan.nbt(CLIENT, &["shares", "FARNAS", "--wins", "198.18.0.1"]);
    assert!(code == 0 && shares.contains("IPC$"), "{shares}{err}");
    let (_, _, err) = lan.nbt(CLIENT, &["shares", "NOSUCHHOST", "--wins", "198.18.0.1"]);
    assert!(
        err.contains("no answer for NOSUCHHOST<00> from the WINS server 198.18.0.1"),
        "{err}"
    );
    let text = daemon_text(&lan);
    assert!(
        text.contains("WINS server 198.18.0.1 (for 198.18.1.2):"),
        "{text}"
    );

    // Half the grant later nbtd refreshes each name, and nmbd renews it.
    let refreshed = || {
        d.log_text()
            .matches("name refreshed with the WINS server")
            .count()
    };
    let limit = Duration::from_secs(u64::from(GRANT));
    wait(
        limit,
        "nbtd to refresh its 5 names",
        &|| match refreshed() {
            n if n >= 5 => Ok(()),
            n => Err(format!("{n} refreshed\n{}", d.log_text())),
        },
    );
    let st = d.wait_for_status("status after the refresh", |_| true);
    assert!(
        st.wins
            .unwrap()
            .names
            .iter()
            .all(|n| n.state == WinsNameState::Registered { ttl: GRANT }),
    );
    let (ok, text) = ask_wins(&lan, "FARNAS");
    assert!(ok && text.contains("198.18.1.2 FARNAS<00>"), "{text}");

    // SIGTERM: the releases take the names off the server at once.
    d.signal("-TERM");
    wait(
        SAMBA,
        "the WINS server to forget FARNAS",
        &|| match ask_wins(&lan, "FARNAS") {
            (false, text) if text.contains("failed to find name FARNAS") => Ok(()),
            (_, text) => Err(text),
        },
    );
    assert!(
        d.log_text().contains("names released with the WINS server"),
        "{}",
        d.log_text()
    );
    drop(nmbd);
}

/// `nbt daemon` in text, from host 2 (the control socket is a file under the LAN directory).
fn daemon_text(lan: &Lan) -> String {
    let sock = lan.dir().join("nbtd2.sock");
    let (code, out, err) = lan.nbt(2, &["daemon", "--control-socket", sock.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    out
}
