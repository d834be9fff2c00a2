//! Reading a large browse list does not leave a copy of it resident: after clients list
//! 10,000 servers over TCP 139 (NetServerEnum2) and through the control socket, nbtd's
//! resident memory comes back to within a bound of what it was before.
//!
//! Each listing copies the list. The session service's copy used to stay cached until the next
//! connection, and the allocator kept the pages of the control socket's: either way about
//! 470 bytes per entry stayed resident, more than three times the list itself.
//!
//! Needs root and network namespaces (see tests/README.md).

mod common;

use std::thread::sleep;
use std::time::{Duration, Instant};

use common::daemon::{self, Nbtd, WG};
use common::load::rss_kib;
use common::netns::Lan;
use nbtd::control::{BrowserRole, query_browse_list};

/// Servers announced.
const SERVERS: usize = 10_000;
/// What may stay resident after the listings: 100 bytes per server (a copy is about 470).
const SLACK_KIB: u64 = (SERVERS as u64 * 100) / 1024;
/// How long the memory may take to come back (the session service reuses a copy for 1 s).
const SETTLE: Duration = Duration::from_secs(10);

fn nbt(lan: &Lan, host: usize, args: &[&str]) -> String {
    let out = lan.run(host, env!("CARGO_BIN_EXE_nbt"), args);
    assert!(
        out.status.success(),
        "nbt {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Waits until nbtd's VmRSS is at most `bound` KiB, and returns the last reading.
fn settle_below(d: &Nbtd, bound: u64) -> u64 {
    let until = Instant::now() + SETTLE;
    loop {
        let rss = rss_kib(d.pid).expect("VmRSS");
        if rss <= bound || Instant::now() >= until {
            return rss;
        }
        sleep(Duration::from_millis(200));
    }
}

#[test]
fn listing_a_large_browse_list_leaves_no_copy_resident() {
    let Some(lan) = Lan::for_test(
        "listing_a_large_browse_list_leaves_no_copy_resident",
        2,
        &[],
    ) else {
        return;
    };
    // Room for them all in one workgroup (the default cap is 2,048), announced from one host
    // (the default cap per source is 8).
    let config = "[browser]\nmax_servers_per_workgroup = 20000\nmax_servers_total = 20000\n\
                  max_servers_per_source = 20000\n";
    let d = daemon::start(&lan, 1, "HOLDER", Some(config), &[]);
    d.wait_for_status_within(
        Duration::from_secs(60),
        "nbtd did not become the master",
        |st| st.interfaces[0].browser.role == BrowserRole::Master,
    );
    let (me, master) = (lan.ip(2).to_string(), lan.ip(1).to_string());
    let count = SERVERS.to_string();
    nbt(
        &lan,
        2,
        &[
            "bench", "announce", &me, &master, WG, "--count", &count, "--prefix", "LM", "--rate",
            "4000",
        ],
    );
    let st = d.wait_for_status_within(
        Duration::from_secs(30),
        "nbtd did not list the announced servers",
        |st| st.interfaces[0].browser.servers > SERVERS,
    );
    eprintln!("listed: {} servers", st.interfaces[0].browser.servers);
    // The save the announcements set off (every 10 s while the list changes) is done by now,
    // and handed back what it freed.
    sleep(Duration::from_secs(12));
    let base = rss_kib(d.pid).expect("VmRSS");

    for _ in 0..3 {
        let out = nbt(&lan, 2, &["bench", "list", &master, WG]);
        assert!(
            out.contains(&format!("\"servers\":{}", SERVERS + 1)),
            "the listing over TCP 139 is incomplete: {out}"
        );
    }
    let after_smb = settle_below(&d, base + SLACK_KIB);
    for _ in 0..3 {
        let reply = query_browse_list(&d.control, None).expect("browse list");
        assert!(reply.interfaces[0].servers.len() > SERVERS);
    }
    let after_control = settle_below(&d, base + SLACK_KIB);
    eprintln!(
        "VmRSS: {base} KiB before, {after_smb} KiB after 3 listings over TCP 139, \
         {after_control} KiB after 3 through the control socket"
    );
    assert!(
        after_smb <= base + SLACK_KIB,
        "3 listings over TCP 139 left {} KiB resident (VmRSS {base} -> {after_smb} KiB)\n{}",
        after_smb - base,
        d.log_text()
    );
    assert!(
        after_control <= base + SLACK_KIB,
        "3 listings through the control socket left {} KiB resident (VmRSS {after_smb} -> \
         {after_control} KiB)",
        after_control.saturating_sub(base)
    );
}
