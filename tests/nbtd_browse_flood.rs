//! A browse-list flood (issue #7): 1,000,000 fake HostAnnouncements from 200 addresses, with
//! random server names, in our workgroup and 300 others, at nbtd while a real peer (another
//! nbtd) is listed. Throughout and after the flood:
//! - the browse list stays within its caps (2,048 servers a workgroup, 256 workgroups, 16,384
//!   servers in all), read through the control socket;
//! - nbtd's resident memory grows by no more than 16 MiB;
//! - the real peer and nbtd itself stay listed;
//! - name queries from a third host are answered; their latency is measured and its p99
//!   printed, not asserted (the issue asks for 100 ms or less).
//!
//! The per-source caps are lifted for the victim, so that the global caps are what hold. The
//! flood is paced at [`RATE`] a second, so it lasts about 25 s. Needs root and `ip`; without
//! them the test says why and passes, except under `CI=true`.

mod common;

use std::net::{SocketAddrV4, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::daemon::{self, Nbtd, WG};
use common::load::{Querier, add_addresses, alive, browser_datagram, percentile, rss_kib, udp_in};
use common::netns::Lan;
use nbtd::control::{query_browse_list, query_status};
use nbtd::protocol::NetbiosName;
use nbtd::protocol::engine::Rng;
use nbtd::protocol::wire::browse::{Announcement, BrowserFrame, ServerName, ServerType};

/// Announcements in the flood.
const ANNOUNCEMENTS: u64 = 1_000_000;
/// Announcements a second.
const RATE: u64 = 40_000;
/// Addresses they come from: 198.18.0.20 and up, on the flooding host.
const SOURCES: u8 = 200;
/// Workgroups besides ours that they name.
const OTHER_WORKGROUPS: usize = 300;
/// The default caps.
const PER_WORKGROUP: usize = 2048;
const WORKGROUPS: usize = 256;
const TOTAL: usize = 16_384;
/// How far resident memory may grow (the bound).
const RSS_BOUND_KIB: u64 = 16 * 1024;
/// How long one query may wait for its answer before it counts as lost.
const QUERY_WAIT: Duration = Duration::from_secs(2);

/// A HostAnnouncement datagram for `workgroup` whose server name is the placeholder
/// `ZZZZZZZZ`, and the offset of that name, to be overwritten for each announcement.
fn template(workgroup: &str) -> (Vec<u8>, usize) {
    let frame = BrowserFrame::HostAnnouncement(Announcement::new(
        ServerName::new("ZZZZZZZZ").unwrap(),
        ServerType::SERVER | ServerType::WORKSTATION,
        720_000,
        b"a fake server of the flood".to_vec(),
    ));
    let bytes = browser_datagram(
        std::net::Ipv4Addr::new(198, 18, 0, 20),
        "FLOODER",
        NetbiosName::new(workgroup, 0x1d).unwrap(),
        &frame,
    );
    let at = bytes
        .windows(8)
        .position(|w| w == b"ZZZZZZZZ")
        .expect("the placeholder name");
    (bytes, at)
}

/// Checks the caps on `d` now: totals from the status, and every workgroup's count.
fn check_caps(d: &Nbtd, workgroups: &[String], when: &str) -> (usize, usize) {
    let st = query_status(&d.control).expect("status");
    let b = &st.interfaces[0].browser;
    assert!(b.servers <= TOTAL, "{when}: {} servers listed", b.servers);
    assert!(
        b.workgroups <= WORKGROUPS,
        "{when}: {} workgroups listed",
        b.workgroups
    );
    for wg in workgroups {
        let n = d.listed(Some(wg)).len();
        assert!(n <= PER_WORKGROUP, "{when}: {n} servers listed in {wg}");
    }
    (b.servers, b.workgroups)
}

#[test]
fn a_million_fake_announcements_stay_within_the_caps_and_keep_the_real_hosts() {
    let Some(lan) = Lan::for_test(
        "a_million_fake_announcements_stay_within_the_caps_and_keep_the_real_hosts",
        4,
        &[],
    ) else {
        return;
    };
    // The per-source caps (8 servers, 4 workgroups) would stop 200 addresses well short of the
    // global caps; lifted here, so that the global caps are what hold (tests/sim_attacks.rs in
    // the protocol crate floods with them on).
    let lifted = "[browser]\nmax_servers_per_source = 16384\nmax_workgroups_per_source = 256\n";
    let victim = daemon::start(&lan, 1, "VICTIM", Some(lifted), &[]);
    let peer = daemon::start(&lan, 2, "PEER", None, &[]);
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let l = query_browse_list(&victim.control, None).map(|b| {
            b.interfaces[0]
                .servers
                .iter()
                .map(|s| s.name.clone())
                .collect::<Vec<_>>()
        });
        if l.as_ref()
            .is_ok_and(|l| l.contains(&"PEER".to_owned()) && l.contains(&"VICTIM".to_owned()))
        {
            break;
        }
        assert!(
            Instant::now() < until,
            "VICTIM does not list PEER and itself: {l:?}\n{}\n{}",
            victim.log_text(),
            peer.log_text()
        );
        sleep(Duration::from_millis(200));
    }
    let mut querier = Querier::new(&lan, 3);
    let victim_name = NetbiosName::new("VICTIM", 0x20).unwrap();
    querier
        .query(lan.ip(1), victim_name, QUERY_WAIT)
        .expect("VICTIM answers before the flood");
    sleep(Duration::from_secs(1));
    let base = rss_kib(victim.pid).expect("VmRSS");

    // The flood's sources and templates.
    let addrs = add_addresses(&lan, 4, 20..20 + SOURCES);
    let sockets: Vec<UdpSocket> = addrs
        .iter()
        .map(|a| udp_in(&lan, 4, SocketAddrV4::new(*a, 138)))
        .collect();
    let mut workgroups: Vec<String> = vec![WG.to_owned()];
    workgroups.extend((0..OTHER_WORKGROUPS).map(|k| format!("FLOOD{k:03}")));
    let templates: Vec<(Vec<u8>, usize)> = workgroups.iter().map(|w| template(w)).collect();

    // Queries from host 3, every 20 ms, while the flood runs.
    let flooding = AtomicBool::new(true);
    let (latencies, lost, samples) = std::thread::scope(|s| {
        let queries = s.spawn(|| {
            let mut got = Vec::new();
            let mut lost = 0u32;
            while flooding.load(Ordering::Relaxed) {
                match querier.query(lan.ip(1), victim_name, QUERY_WAIT) {
                    Some(t) => got.push(t),
                    None => lost += 1,
                }
                sleep(Duration::from_millis(20));
            }
            (got, lost)
        });
        // Memory and the caps, once a second.
        let watch = s.spawn(|| {
            let mut samples = Vec::new();
            while flooding.load(Ordering::Relaxed) {
                let rss = rss_kib(victim.pid).unwrap_or(0);
                let caps = check_caps(&victim, &workgroups[..1], "during the flood");
                samples.push((rss, caps));
                sleep(Duration::from_secs(1));
            }
            samples
        });

        let mut rng = Rng::new(0xb10d);
        let started = Instant::now();
        let dst = (lan.ip(1), 138);
        let per_tick = RATE / 100;
        let mut sent = 0u64;
        let mut buf = Vec::new();
        'flood: for t in 1u32.. {
            for _ in 0..per_tick {
                if sent == ANNOUNCEMENTS {
                    break 'flood;
                }
                // 40% ours, the rest spread over the other workgroups.
                let w = if rng.range(0, 9) < 4 {
                    0
                } else {
                    rng.range(1, OTHER_WORKGROUPS as u64) as usize
                };
                let (bytes, at) = &templates[w];
                buf.clear();
                buf.extend_from_slice(bytes);
                let name = format!("F{:07X}", rng.range(0, 0x0fff_ffff));
                buf[*at..*at + 8].copy_from_slice(name.as_bytes());
                // The datagram header's SOURCE_IP matches the socket's address.
                let src = rng.range(0, u64::from(SOURCES) - 1) as usize;
                buf[4..8].copy_from_slice(&addrs[src].octets());
                let _ = sockets[src].send_to(&buf, dst);
                sent += 1;
            }
            let due = started + Duration::from_millis(10) * t;
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                sleep(wait);
            }
        }
        let took = started.elapsed();
        eprintln!(
            "sent {sent} announcements in {took:.1?} ({:.0}/s)",
            sent as f64 / took.as_secs_f64()
        );
        // Let nbtd drain what it has queued.
        sleep(Duration::from_secs(1));
        flooding.store(false, Ordering::Relaxed);
        let (latencies, lost) = queries.join().unwrap();
        (latencies, lost, watch.join().unwrap())
    });

    assert!(alive(victim.pid), "nbtd is gone:\n{}", victim.log_text());
    let after = rss_kib(victim.pid).expect("VmRSS");
    let peak = samples.iter().map(|s| s.0).max().unwrap_or(0).max(after);
    let (servers, groups) = check_caps(&victim, &workgroups, "after the flood");
    let st = query_status(&victim.control).expect("status");
    let answered = latencies.len();
    eprintln!(
        "during the flood: {answered} queries answered, {lost} lost; latency p50 {:.1?}, p99 {:.1?}, \
         max {:.1?}\nVmRSS {base} KiB before, peak {peak} KiB ({:+} KiB), {after} KiB after\n\
         listed: {servers} servers in {groups} workgroups; browser frames {}, refused {}; \
         datagrams received {}; dropped (queue full) {}",
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        percentile(&latencies, 100.0),
        peak as i64 - base as i64,
        st.browser.frames,
        st.browser.refused,
        st.datagram_service.received,
        st.driver.dropped_queue_full,
    );
    assert!(
        peak <= base + RSS_BOUND_KIB,
        "VmRSS grew from {base} KiB to {peak} KiB, more than {RSS_BOUND_KIB} KiB"
    );
    assert!(
        st.browser.refused > 0 && servers >= PER_WORKGROUP,
        "the flood filled the list up to a cap: {servers} servers, {} refused",
        st.browser.refused
    );
    let ours = victim.listed(None);
    for real in ["VICTIM", "PEER"] {
        assert!(
            ours.iter().any(|n| n == real),
            "{real} is no longer listed in {WG} ({} servers)",
            ours.len()
        );
    }
    assert!(answered > 0, "no query was answered during the flood");
    assert!(
        lost as usize * 100 <= (answered + lost as usize),
        "{lost} of {} queries lost during the flood",
        answered + lost as usize
    );
    querier
        .query(lan.ip(1), victim_name, QUERY_WAIT)
        .expect("VICTIM answers after the flood");
}
