//! Elections under loss at scale (issue #7): 20 hosts, 20% random loss per delivery, many seeds.
//! For every seed it measures when the LAN first has exactly one master, and then, once stable,
//! whether the master changes over a long simulated time. It reports:
//! - the share of seeds with exactly one master within 10 s (the issue asks for at least 97%),
//! - whether every seed had exactly one master within 5 minutes (the issue asks for all),
//! - for the seeds watched for the long run, how many saw the master change (the issue: none
//!   over 24 simulated hours).
//!
//! It is `#[ignore]`d, so `cargo test` does not run it (`sim_browser.rs` runs 50 seeds with a one
//! hour watch on every `cargo test`). Knobs, all optional:
//! - `NBT_SIM_SEEDS` (default 10000): seeds `0..N` for the first two measures;
//! - `NBT_SIM_LONG_SEEDS` (default 100): the first M of them are also watched for the long run;
//! - `NBT_SIM_HOURS` (default 24): the length of that watch, in simulated hours;
//! - `NBT_SIM_ONLY` (a comma-separated list of seeds, e.g. `782,844`): run just these seeds,
//!   each with the long watch, instead of `0..N` (to replay a failure);
//! - `NBT_SIM_THREADS` (default: the number of cores): seeds run on this many threads, each
//!   seed on one thread, so the results do not depend on it;
//! - `NBT_SIM_FIRST` (default 0): start at this seed, to go on with a run that was stopped
//!   (seeds `FIRST..N`; the long watch covers the seeds below `NBT_SIM_LONG_SEEDS`).
//!
//! Run it in release, at low priority:
//!
//! ```sh
//! NBT_SIM_SEEDS=10000 NBT_SIM_LONG_SEEDS=100 NBT_SIM_HOURS=24 \
//!   nice -n 19 cargo test --release -p nbt-protocol --test sim_scale -- --ignored --nocapture
//! ```
//!
//! Cost: about 3 ms a seed for the first two measures, and 0.65 to 1.6 s a seed for a 24-hour
//! watch (release build, one core, more under contention), so 10,000 seeds with a 24-hour
//! watch of the first 1,000 take about half an hour at `nice -n 19` on a shared 2-core machine.
//! The full 24-hour watch of all 10,000 seeds takes about 2.2 hours on 2 idle cores.
//!
//! Results (`NBT_SIM_SEEDS=10000 NBT_SIM_LONG_SEEDS=1000 NBT_SIM_HOURS=24`):
//! - before the second look and the re-win announcement (commit 576c0a0): one master within
//!   10 s in 10,000 of 10,000 seeds, within 5 min in all (slowest 7.45 s); a second master
//!   appeared within 24 h in 4 of 1,000 watched seeds (373, 398, 769, 968);
//! - after: within 10 s in 10,000 of 10,000, within 5 min in all (slowest 9.2 s); a second
//!   master appeared in 2 of 1,000 (seed 782 at minute 232, seed 844 at minute 1362), so the
//!   test still fails. In seed 782, H01 lost to the master H00, then stood again 2 s later to
//!   answer a late inferior ballot, ran on although it heard H00 announce itself as master,
//!   missed H00's ballots and H00's defence of `LABWG<1D>` (all lost), and registered it too.
//! - after the guards of `engine/browser/takeover.rs` (a browser that lost leaves inferior
//!   ballots to the winner for 30 s; a winner looks at the master it knew, or that its probes
//!   lost, before taking over): seeds 782 and 844 keep one master for 24 h. With only the
//!   first two parts, seeds 69 and 228 (probes lost a live master, whose ballots and defences
//!   were then all lost too) still split, which the look at the lost master fixed. Then
//!   `NBT_SIM_SEEDS=1000 NBT_SIM_LONG_SEEDS=300`: one master within 10 s in 1,000 of 1,000
//!   (slowest 7.1 s), no master change in 300 of 300 watched for 24 h (623 s at `nice -n 19`,
//!   shared cores); `NBT_SIM_ONLY=69,228,782,844`: no change. Seeds 300..1000 were not
//!   watched for 24 h again, nor 10,000 seeds for the first two measures.
//! - the full run, `NBT_SIM_SEEDS=10000 NBT_SIM_LONG_SEEDS=10000 NBT_SIM_HOURS=24` on 2 threads:
//!   the binary of commit f87aa30 went through 9,850 seeds (its last progress line: all 9,850
//!   with one master within 10 s, no master change) before a machine restart stopped it, in
//!   2 h 58 min; then `NBT_SIM_FIRST=9740` (a margin below the seeds in flight) at commit a33aa60 (the backup choice of b0c7c18 picks
//!   the same backups in the same order, so seeds behave the same). Every one of the 10,000
//!   seeds had exactly one master within 10 s (slowest in the last part: 7 s), and none saw the
//!   master change in 24 simulated hours. The first two measures again at commit ee03cbd (the
//!   browser's code split into files, unchanged): 10,000 of 10,000 within 10 s, slowest 9.2 s.

mod sim;

use std::time::{Duration, Instant};

use sim::node::{NodeLan, configs};

fn knob(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a whole number; unset it or fix it")),
        Err(_) => default,
    }
}

/// A LAN of 20 hosts at os level 20 (so the election is decided by uptime and name, the hardest
/// case), 20% loss, seeded.
fn lossy_lan(seed: u64) -> NodeLan {
    let mut lan = NodeLan::new(seed);
    lan.keep_wire = false;
    lan.loss = 0.2;
    for i in 0..20u8 {
        let (nc, bc) = configs(&format!("H{i:02}"), "LABWG", 20);
        lan.add(i + 1, nc, bc, seed * 100 + u64::from(i));
    }
    lan
}

/// The seeds of `NBT_SIM_ONLY`, if set.
fn only_seeds() -> Option<Vec<u64>> {
    let v = std::env::var("NBT_SIM_ONLY").ok()?;
    let seeds: Vec<u64> = v
        .split(',')
        .map(|s| {
            s.trim().parse().unwrap_or_else(|_| {
                panic!("NBT_SIM_ONLY={v:?}: {s:?} is not a whole number; give seeds like 782,844")
            })
        })
        .collect();
    Some(seeds)
}

/// What one seed showed.
enum Outcome {
    /// No single master within 5 minutes.
    NoMaster,
    /// A single master after this long; and if watched, the minute the master changed.
    Master(Duration, Option<u64>),
}

/// Runs one seed: the time to a single master, then (if `watch_hours` is not zero) the watch.
fn run_seed(seed: u64, watch_hours: u64) -> Outcome {
    let mut lan = lossy_lan(seed);
    let Some(took) =
        lan.run_until_true(Duration::from_secs(300), |l| l.masters("LABWG").len() == 1)
    else {
        return Outcome::NoMaster;
    };
    if watch_hours == 0 {
        return Outcome::Master(took, None);
    }
    // Stable: a minute after the first single master, then watched minute by minute.
    lan.run_for(Duration::from_secs(60));
    let master = lan.masters("LABWG");
    for minute in 0..watch_hours * 60 {
        lan.run_for(Duration::from_secs(60));
        if lan.masters("LABWG") != master {
            return Outcome::Master(took, Some(minute));
        }
    }
    Outcome::Master(took, None)
}

/// What all seeds showed, gathered from the worker threads.
#[derive(Default)]
struct Tally {
    done: u64,
    fast: u64,
    slowest: Duration,
    no_master: Vec<u64>,
    changed: Vec<(u64, u64)>,
    /// Seeds being run now, to say below which seed all are done.
    running: std::collections::BTreeSet<u64>,
}

#[test]
#[ignore = "long: run by hand in release, see the module doc"]
fn twenty_hosts_under_twenty_percent_loss_at_scale() {
    let only = only_seeds();
    let seeds = only
        .as_ref()
        .map_or_else(|| knob("NBT_SIM_SEEDS", 10_000), |v| v.len() as u64);
    let long_seeds = knob("NBT_SIM_LONG_SEEDS", 100).min(seeds);
    let long_seeds = if only.is_some() { seeds } else { long_seeds };
    let first = if only.is_some() {
        0
    } else {
        knob("NBT_SIM_FIRST", 0).min(seeds)
    };
    let hours = knob("NBT_SIM_HOURS", 24);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    let threads = knob("NBT_SIM_THREADS", cores).clamp(1, 64);
    let started = Instant::now();
    let tally = std::sync::Mutex::new(Tally::default());
    let next = std::sync::atomic::AtomicU64::new(first);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    // Taken under the lock, so that `running` always holds every seed handed out
                    // and not finished.
                    let n = {
                        let mut t = tally.lock().unwrap();
                        let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if n >= seeds {
                            break;
                        }
                        t.running.insert(n);
                        n
                    };
                    let seed = only.as_ref().map_or(n, |v| v[n as usize]);
                    let outcome = run_seed(seed, if n < long_seeds { hours } else { 0 });
                    let mut t = tally.lock().unwrap();
                    t.done += 1;
                    t.running.remove(&n);
                    match outcome {
                        Outcome::NoMaster => t.no_master.push(seed),
                        Outcome::Master(took, change) => {
                            t.slowest = t.slowest.max(took);
                            if took <= Duration::from_secs(10) {
                                t.fast += 1;
                            }
                            if let Some(minute) = change {
                                t.changed.push((seed, minute));
                            }
                        }
                    }
                    if t.done % 50 == 0 {
                        // Every seed below this one is done: where to go on with NBT_SIM_FIRST.
                        let below = t.running.first().copied().unwrap_or_else(|| {
                            next.load(std::sync::atomic::Ordering::Relaxed).min(seeds)
                        });
                        eprintln!(
                            "{} seeds (all below {below} done), {:.0?} so far: {} with one master \
                             within 10 s, master changed in {:?}",
                            t.done,
                            started.elapsed(),
                            t.fast,
                            t.changed
                        );
                    }
                }
            });
        }
    });
    let Tally {
        fast,
        slowest,
        mut no_master,
        mut changed,
        ..
    } = tally.into_inner().unwrap();
    no_master.sort_unstable();
    changed.sort_unstable();
    let ran = seeds - first;
    let watched = long_seeds.saturating_sub(first);
    let share = fast as f64 * 100.0 / ran.max(1) as f64;
    eprintln!(
        "20 hosts, 20% loss, seeds {first}..{seeds} on {threads} threads in {:.1?}:\n\
         - exactly one master within 10 s: {fast} of {ran} ({share:.2}%)\n\
         - exactly one master within 5 min: {} of {ran} (slowest {slowest:?}; none: {no_master:?})\n\
         - master changed within {hours} simulated hours after it was stable: {} of {watched} \
           watched (seed, minute): {changed:?}",
        started.elapsed(),
        ran - no_master.len() as u64,
        changed.len(),
    );
    assert!(
        no_master.is_empty(),
        "no single master within 5 minutes: seeds {no_master:?}"
    );
    assert!(changed.is_empty(), "the master changed: {changed:?}");
    assert!(fast * 100 >= ran * 97, "{fast} of {ran} within 10 s");
}
