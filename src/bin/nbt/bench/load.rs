//! The load generator: keeps a window of unicast name queries (or node status requests) in
//! flight against one server, with random transaction IDs, and matches each answer to its
//! request. Bounded by a request count and a time; reports answered/s and p50/p99 latency from a
//! histogram, plus the CPU time the server (and the generator) used.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use anyhow::Context;
use nbtd::protocol::NetbiosName;
use nbtd::protocol::name::ScopedName;
use nbtd::protocol::wire::Emit;
use nbtd::protocol::wire::ns::NameServicePacket;
use serde::Serialize;

/// What to ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// NAME QUERY REQUEST for the name.
    Query,
    /// NODE STATUS REQUEST for the name.
    Status,
}

/// One measurement.
#[derive(Debug, Clone)]
pub struct LoadRequest {
    /// The server.
    pub target: SocketAddrV4,
    /// The name asked for.
    pub name: NetbiosName,
    /// Query or node status.
    pub kind: Kind,
    /// Requests in flight.
    pub window: usize,
    /// How long to measure, after the warm-up.
    pub duration: Duration,
    /// Not measured: the first part of the run.
    pub warmup: Duration,
    /// Most requests sent in all (a bound besides the time).
    pub max_requests: u64,
    /// A request unanswered after this is counted lost and its slot reused.
    pub timeout: Duration,
    /// The server's process, for its CPU time.
    pub server_pid: Option<u32>,
    /// Poll the socket instead of sleeping in it while waiting for answers.
    pub busy_poll: bool,
}

/// What a measurement found.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    /// Query or node status.
    pub kind: Kind,
    /// Requests in flight.
    pub window: usize,
    /// Seconds measured.
    pub seconds: f64,
    /// Requests sent while measuring.
    pub sent: u64,
    /// Matching positive answers while measuring.
    pub answered: u64,
    /// Requests that timed out while measuring.
    pub lost: u64,
    /// Datagrams that matched no request in flight (late, duplicate or foreign).
    pub unmatched: u64,
    /// Answers per second.
    pub per_second: f64,
    /// Median latency, µs.
    pub p50_us: u64,
    /// 99th percentile latency, µs.
    pub p99_us: u64,
    /// The server's CPU use over the measurement, in % of one core, when its PID was given.
    pub server_cpu_percent: Option<f64>,
    /// The generator's own CPU use, in % of one core.
    pub generator_cpu_percent: Option<f64>,
}

/// Latencies up to this many µs are counted one by one; slower ones share the last bucket.
const HISTOGRAM_US: usize = 200_000;
/// Longest run accepted.
const MAX_DURATION: Duration = Duration::from_secs(120);
/// Largest window accepted.
const MAX_WINDOW: usize = 1024;

/// Latency counts with 1 µs resolution.
struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

impl Histogram {
    fn new() -> Self {
        Histogram {
            counts: vec![0; HISTOGRAM_US + 1],
            total: 0,
        }
    }

    fn record(&mut self, d: Duration) {
        let us = usize::try_from(d.as_micros()).unwrap_or(usize::MAX);
        self.counts[us.min(HISTOGRAM_US)] += 1;
        self.total += 1;
    }

    /// The smallest latency (µs) at or below which a fraction `q` of the samples lie.
    fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let want = ((self.total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (us, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= want {
                return us as u64;
            }
        }
        HISTOGRAM_US as u64
    }
}

/// A small fast generator for transaction IDs (xorshift64*), seeded from the clock and PID.
struct Ids(u64);

impl Ids {
    fn new() -> Self {
        let seed = u64::from(crate::common::random_u16()) << 32 | u64::from(std::process::id());
        Ids(seed | 1)
    }

    fn next(&mut self) -> u16 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 48) as u16
    }
}

/// CPU time (user + system) of a process so far, from `/proc/PID/stat`, in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: fields count from after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Clock ticks per second (USER_HZ); 100 on every Linux architecture we build for.
const TICKS_PER_SECOND: f64 = 100.0;

fn cpu_percent(before: Option<u64>, after: Option<u64>, wall: Duration) -> Option<f64> {
    let used = after?.checked_sub(before?)? as f64 / TICKS_PER_SECOND;
    Some((used / wall.as_secs_f64() * 1000.0).round() / 10.0)
}

/// The request datagram, with a transaction ID of 0 to patch.
fn request_bytes(kind: Kind, name: NetbiosName) -> anyhow::Result<Vec<u8>> {
    let q = ScopedName::unscoped(name);
    let p = match kind {
        Kind::Query => NameServicePacket::name_query(0, q, false),
        Kind::Status => NameServicePacket::node_status_request(0, q),
    };
    p.to_vec().context("cannot build the request")
}

/// Whether `answer` is a positive answer of the right kind: the response bit, RCODE 0, one
/// answer record whose type follows the echoed name (`qlen` bytes, as in the request).
fn is_positive(answer: &[u8], kind: Kind, qlen: usize) -> bool {
    let rr_type = match kind {
        Kind::Query => 0x0020,
        Kind::Status => 0x0021,
    };
    let at = 12 + qlen;
    answer.len() >= at + 2
        && answer[2] & 0x80 != 0
        && answer[3] & 0x0f == 0
        && u16::from_be_bytes([answer[6], answer[7]]) >= 1
        && u16::from_be_bytes([answer[at], answer[at + 1]]) == rr_type
}

/// Runs one measurement.
pub fn run(req: &LoadRequest) -> anyhow::Result<LoadReport> {
    anyhow::ensure!(
        (1..=MAX_WINDOW).contains(&req.window),
        "the window must be 1 to {MAX_WINDOW} requests"
    );
    anyhow::ensure!(
        req.duration + req.warmup <= MAX_DURATION,
        "a run may last at most {} s, warm-up included",
        MAX_DURATION.as_secs()
    );
    let socket = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
        .context("cannot open a UDP socket")?;
    if req.busy_poll {
        // The loop below ends by the clock and the request count, so it spins for at most the
        // run's length.
        socket
            .set_nonblocking(true)
            .context("cannot make the socket non-blocking")?;
    } else {
        socket
            .set_read_timeout(Some(Duration::from_millis(5)))
            .context("cannot set the socket's read timeout")?;
    }
    let mut template = request_bytes(req.kind, req.name)?;
    let qlen = template.len() - 12 - 4;
    // The send time of each transaction ID in flight.
    let mut in_flight: Vec<Option<Instant>> = vec![None; 1 << 16];
    let mut flying: Vec<u16> = Vec::with_capacity(req.window);
    let mut ids = Ids::new();
    let mut hist = Histogram::new();
    let mut buf = [0u8; 2048];
    let (mut sent, mut answered, mut lost, mut unmatched) = (0u64, 0u64, 0u64, 0u64);
    let start = Instant::now();
    let measure_from = start + req.warmup;
    let end = measure_from + req.duration;
    let mut measuring = false;
    let (mut server_before, mut self_before) = (None, None);
    let mut last_sweep = start;
    let mut total_sent = 0u64;
    loop {
        let now = Instant::now();
        if !measuring && now >= measure_from {
            measuring = true;
            (sent, answered, lost, unmatched) = (0, 0, 0, 0);
            hist = Histogram::new();
            server_before = req.server_pid.and_then(cpu_ticks);
            self_before = cpu_ticks(std::process::id());
        }
        if now >= end || total_sent >= req.max_requests {
            break;
        }
        while flying.len() < req.window && total_sent < req.max_requests {
            let id = loop {
                let id = ids.next();
                if in_flight[usize::from(id)].is_none() {
                    break id;
                }
            };
            template[..2].copy_from_slice(&id.to_be_bytes());
            // Timed from before the send: over veth the answer may be back when it returns.
            let at = Instant::now();
            match socket.send_to(&template, req.target) {
                Ok(_) => {}
                // A full socket buffer: try again after reading answers.
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e).context(format!("cannot send to {}", req.target)),
            }
            in_flight[usize::from(id)] = Some(at);
            flying.push(id);
            sent += 1;
            total_sent += 1;
        }
        match socket.recv_from(&mut buf) {
            Ok((n, SocketAddr::V4(from))) if from == req.target && n >= 12 => {
                let id = u16::from_be_bytes([buf[0], buf[1]]);
                match in_flight[usize::from(id)] {
                    Some(at) if is_positive(&buf[..n], req.kind, qlen) => {
                        hist.record(at.elapsed());
                        answered += 1;
                        in_flight[usize::from(id)] = None;
                        if let Some(i) = flying.iter().position(|f| *f == id) {
                            flying.swap_remove(i);
                        }
                    }
                    _ => unmatched += 1,
                }
            }
            Ok(_) => unmatched += 1,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e).context("cannot receive"),
        }
        let now = Instant::now();
        if now.duration_since(last_sweep) >= Duration::from_millis(10) {
            last_sweep = now;
            flying.retain(|id| {
                let slot = &mut in_flight[usize::from(*id)];
                match slot {
                    Some(at) if now.duration_since(*at) >= req.timeout => {
                        *slot = None;
                        lost += 1;
                        false
                    }
                    _ => true,
                }
            });
        }
    }
    let wall = Instant::now().duration_since(measure_from.min(Instant::now()));
    let seconds = wall.as_secs_f64();
    Ok(LoadReport {
        kind: req.kind,
        window: req.window,
        seconds,
        sent,
        answered,
        lost,
        unmatched,
        per_second: if seconds > 0.0 {
            (answered as f64 / seconds).round()
        } else {
            0.0
        },
        p50_us: hist.quantile(0.50),
        p99_us: hist.quantile(0.99),
        server_cpu_percent: cpu_percent(server_before, req.server_pid.and_then(cpu_ticks), wall),
        generator_cpu_percent: cpu_percent(self_before, cpu_ticks(std::process::id()), wall),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_come_from_the_recorded_latencies() {
        let mut h = Histogram::new();
        for us in 1..=100 {
            h.record(Duration::from_micros(us));
        }
        assert_eq!(h.quantile(0.5), 50);
        assert_eq!(h.quantile(0.99), 99);
        h.record(Duration::from_secs(5));
        assert_eq!(h.quantile(1.0), HISTOGRAM_US as u64);
    }

    #[test]
    fn only_positive_answers_of_the_asked_kind_count() {
        let name = NetbiosName::new("ALPHA", 0).unwrap();
        let q = ScopedName::unscoped(name);
        let qlen = request_bytes(Kind::Query, name).unwrap().len() - 16;
        let pos = NameServicePacket::positive_query_response(7, q.clone(), 60, Vec::new())
            .to_vec()
            .unwrap();
        let neg = NameServicePacket::negative_query_response(
            7,
            q,
            nbtd::protocol::wire::ns::Rcode::NAM_ERR,
        )
        .to_vec()
        .unwrap();
        assert!(is_positive(&pos, Kind::Query, qlen));
        assert!(!is_positive(&pos, Kind::Status, qlen));
        assert!(!is_positive(&neg, Kind::Query, qlen));
        assert!(!is_positive(&pos[..20], Kind::Query, qlen));
    }
}
