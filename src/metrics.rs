//! Prometheus metrics: an optional HTTP listener (`[metrics] listen`) serving `GET /metrics` in
//! the text exposition format (version 0.0.4).
//!
//! The HTTP is minimal on purpose: one request per connection, a request head of at most
//! [`MAX_HEAD`] bytes read within [`READ_TIMEOUT`], at most [`MAX_CONNECTIONS`] connections at
//! once ([`MAX_PER_ADDRESS`] from one address; past either, the oldest connection still sending
//! its request head is closed to make room, so slow clients cannot keep a scrape out), and
//! `Connection: close` on every answer. Anything else (an oversized head, garbage,
//! another method or path) gets an error status or is simply closed. The numbers come from the
//! main loop through the same channel as the control socket's status.

use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use crate::control::{
    Activity, BrowserRole, ControlCall, DaemonStatus, Limits, NameStatusState, Request, Response,
    WinsNameState, accept_loop,
};

/// The longest request head read.
pub const MAX_HEAD: usize = 8 * 1024;
/// How long a client has to send its request head.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long writing the answer may take.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 16;
/// Connections served at once from one address.
pub const MAX_PER_ADDRESS: usize = 8;
/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Why the metrics listener could not be opened.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot serve metrics on {addr}: {source}; choose another metrics.listen address or port, \
     or leave metrics.listen empty"
)]
pub struct MetricsError {
    /// The address.
    pub addr: SocketAddr,
    /// Why.
    pub source: io::Error,
}

/// The bound metrics listener.
#[derive(Debug)]
pub struct MetricsListener {
    listener: std::net::TcpListener,
}

impl MetricsListener {
    /// Binds `addr`; warns when it is not a loopback address, since the numbers tell anyone
    /// who can connect about the LAN.
    pub fn bind(addr: SocketAddr) -> Result<MetricsListener, MetricsError> {
        let err = |source| MetricsError { addr, source };
        let listener = std::net::TcpListener::bind(addr).map_err(err)?;
        listener.set_nonblocking(true).map_err(err)?;
        if !addr.ip().is_loopback() {
            tracing::warn!(
                %addr,
                "serving metrics on {addr}, which is not a loopback address: anyone who can \
                 reach it can read them; firewall it, or listen on 127.0.0.1"
            );
        }
        tracing::info!(%addr, "serving Prometheus metrics at http://{addr}/metrics");
        Ok(MetricsListener { listener })
    }

    /// The address bound (with the port the kernel chose for port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves requests until the main loop is gone. Run it as a task.
    pub async fn serve(self, status: mpsc::Sender<ControlCall>) {
        let Ok(listener) = TcpListener::from_std(self.listener) else {
            tracing::error!("cannot serve metrics: the listener cannot join the runtime");
            return;
        };
        let limits = Limits {
            max: MAX_CONNECTIONS,
            per_client: MAX_PER_ADDRESS,
        };
        accept_loop(
            "metrics",
            limits,
            status,
            || async { listener.accept().await.map(|(s, a)| (s, a.ip())) },
            |stream, status, activity| async move {
                let _ = connection(stream, status, activity).await;
            },
        )
        .await;
    }
}

/// What a request head asks for.
#[derive(Debug, PartialEq, Eq)]
enum Ask {
    /// `GET /metrics` (or `HEAD`: `body` false).
    Metrics { body: bool },
    /// An answer with this status line and no metrics.
    Refuse(&'static str),
}

/// Reads the request head: `None` when the client sent nothing usable in time.
async fn read_head(stream: &mut TcpStream) -> Option<Result<Vec<u8>, &'static str>> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    let read = async {
        loop {
            let n = match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => n,
            };
            head.extend_from_slice(&buf[..n]);
            if head.windows(4).any(|w| w == b"\r\n\r\n") {
                return Some(Ok(std::mem::take(&mut head)));
            }
            if head.len() > MAX_HEAD {
                return Some(Err("431 Request Header Fields Too Large"));
            }
        }
    };
    tokio::time::timeout(READ_TIMEOUT, read)
        .await
        .ok()
        .flatten()
}

fn parse(head: &[u8]) -> Ask {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let Ok(line) = std::str::from_utf8(line) else {
        return Ask::Refuse("400 Bad Request");
    };
    let mut parts = line.trim_end_matches('\r').split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Ask::Refuse("400 Bad Request");
    };
    if !version.starts_with("HTTP/1.") {
        return Ask::Refuse("400 Bad Request");
    }
    let path = target.split('?').next().unwrap_or_default();
    match (method, path) {
        ("GET", "/metrics") => Ask::Metrics { body: true },
        ("HEAD", "/metrics") => Ask::Metrics { body: false },
        (_, "/metrics") => Ask::Refuse("405 Method Not Allowed"),
        _ => Ask::Refuse("404 Not Found"),
    }
}

async fn connection(
    mut stream: TcpStream,
    status: mpsc::Sender<ControlCall>,
    activity: Activity,
) -> io::Result<()> {
    let ask = match read_head(&mut stream).await {
        None => return Ok(()),
        Some(Err(line)) => Ask::Refuse(line),
        Some(Ok(head)) => parse(&head),
    };
    activity.answering();
    let (line, body, send_body) = match ask {
        Ask::Refuse(line) => (line, format!("{line}: only GET /metrics is served\n"), true),
        Ask::Metrics { body } => match fetch(&status).await {
            Some(s) => ("200 OK", render(&s), body),
            None => (
                "503 Service Unavailable",
                "nbtd is stopping\n".to_owned(),
                body,
            ),
        },
    };
    let content_type = if line.starts_with("200") {
        CONTENT_TYPE
    } else {
        "text/plain; charset=utf-8"
    };
    let mut out = format!(
        "HTTP/1.1 {line}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if send_body {
        out.extend_from_slice(body.as_bytes());
    }
    let write = async {
        stream.write_all(&out).await?;
        stream.shutdown().await
    };
    tokio::time::timeout(WRITE_TIMEOUT, write)
        .await
        .unwrap_or(Ok(()))
}

async fn fetch(status: &mpsc::Sender<ControlCall>) -> Option<DaemonStatus> {
    let (reply, rx) = oneshot::channel();
    status
        .send(ControlCall {
            request: Request::Status,
            reply,
        })
        .await
        .ok()?;
    match rx.await.ok()? {
        Response::Status(s) => Some(*s),
        _ => None,
    }
}

/// A label value as the exposition format writes it.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The text exposition of one metric family.
struct Family<'a> {
    out: &'a mut String,
    name: &'static str,
}

impl<'a> Family<'a> {
    fn new(out: &'a mut String, name: &'static str, kind: &str, help: &str) -> Self {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        Family { out, name }
    }

    fn sample(&mut self, labels: &[(&str, &str)], value: impl std::fmt::Display) -> &mut Self {
        let name = self.name;
        if labels.is_empty() {
            let _ = writeln!(self.out, "{name} {value}");
        } else {
            let l: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", label(v)))
                .collect();
            let _ = writeln!(self.out, "{name}{{{}}} {value}", l.join(","));
        }
        self
    }
}

/// The metrics of a status, in the Prometheus text format.
pub fn render(s: &DaemonStatus) -> String {
    let mut out = String::new();
    let o = &mut out;
    let (c, g, b, d) = (&s.name_service, &s.datagram_service, &s.browser, &s.driver);
    Family::new(
        o,
        "nbtd_info",
        "gauge",
        "nbtd's version, NetBIOS name and workgroup.",
    )
    .sample(
        &[
            ("version", &s.version),
            ("netbios_name", &s.netbios_name),
            ("workgroup", &s.workgroup),
        ],
        1,
    );
    Family::new(
        o,
        "nbtd_uptime_seconds",
        "gauge",
        "Seconds since nbtd started.",
    )
    .sample(&[], s.uptime_secs);
    Family::new(
        o,
        "nbtd_packets_received_total",
        "counter",
        "Datagrams handed to the engines, per service (a broadcast counts once per address).",
    )
    .sample(&[("service", "name")], c.received)
    .sample(&[("service", "datagram")], g.received);
    Family::new(
        o,
        "nbtd_packets_sent_total",
        "counter",
        "Datagrams sent, per service.",
    )
    .sample(&[("service", "name")], d.sent_name)
    .sample(&[("service", "datagram")], d.sent_datagram);
    Family::new(
        o,
        "nbtd_dropped_input_total",
        "counter",
        "Input dropped, per service and reason.",
    )
    .sample(&[("service", "name"), ("reason", "malformed")], c.malformed)
    .sample(
        &[("service", "datagram"), ("reason", "malformed")],
        g.malformed,
    )
    .sample(
        &[("service", "name"), ("reason", "off_subnet")],
        c.off_subnet,
    )
    .sample(
        &[("service", "datagram"), ("reason", "off_subnet")],
        g.off_subnet,
    )
    .sample(
        &[("service", "name"), ("reason", "hostile")],
        c.hostile_ignored,
    )
    .sample(
        &[("service", "name"), ("reason", "engine_queue_full")],
        c.queue_overflow,
    )
    .sample(
        &[("service", "all"), ("reason", "queue_full")],
        d.dropped_queue_full,
    )
    .sample(
        &[("service", "datagram"), ("reason", "browse_list_full")],
        b.refused - b.source_capped,
    )
    .sample(
        &[("service", "datagram"), ("reason", "source_cap")],
        b.source_capped,
    )
    .sample(
        &[("service", "datagram"), ("reason", "forged_own_name")],
        b.forged_own_name,
    )
    .sample(
        &[("service", "name"), ("reason", "impossible_source")],
        c.impossible_source,
    )
    .sample(
        &[("service", "datagram"), ("reason", "impossible_source")],
        b.impossible_source,
    )
    .sample(
        &[("service", "name"), ("reason", "rate_limit")],
        c.rate_limited,
    )
    .sample(
        &[("service", "datagram"), ("reason", "rate_limit")],
        b.rate_limited,
    );
    Family::new(
        o,
        "nbtd_poisoner_answers_total",
        "counter",
        "Answers to the poisoner detector's canary queries, which no honest host sends.",
    )
    .sample(&[], c.poisoner_answers);
    Family::new(
        o,
        "nbtd_poisoners",
        "gauge",
        "NBT-NS poisoners the canary found (the 16 latest).",
    )
    .sample(&[], s.poisoners.len() as u64);
    Family::new(
        o,
        "nbtd_group_releases_total",
        "counter",
        "Releases of our group names by other members, as each sends when it stops (normal).",
    )
    .sample(&[], c.group_releases);
    Family::new(
        o,
        "nbtd_send_errors_total",
        "counter",
        "Datagrams that could not be sent.",
    )
    .sample(&[], d.send_errors);
    Family::new(
        o,
        "nbtd_receive_errors_total",
        "counter",
        "Failed receives.",
    )
    .sample(&[], d.receive_errors);
    let mut names = [0usize; 3];
    for n in s.interfaces.iter().flat_map(|i| &i.names) {
        names[match n.state {
            NameStatusState::Active => 0,
            NameStatusState::Registering => 1,
            NameStatusState::Conflict { .. } => 2,
        }] += 1;
    }
    Family::new(
        o,
        "nbtd_names",
        "gauge",
        "Our names on all interface addresses, by state (active ones are held).",
    )
    .sample(&[("state", "active")], names[0])
    .sample(&[("state", "registering")], names[1])
    .sample(&[("state", "conflict")], names[2]);
    let mut conflicts: Vec<String> = s.name_conflicts().into_iter().map(|c| c.name).collect();
    conflicts.sort_unstable();
    conflicts.dedup();
    Family::new(
        o,
        "nbtd_name_conflicts",
        "gauge",
        "Our names another host holds, so nbtd does not use them (0 when healthy).",
    )
    .sample(&[], conflicts.len());
    Family::new(o, "nbtd_interfaces", "gauge", "Interface addresses served.")
        .sample(&[], s.interfaces.len());
    let mut f = Family::new(
        o,
        "nbtd_browser_role",
        "gauge",
        "The browser role on each interface address: 1 for the current role.",
    );
    for i in &s.interfaces {
        let addr = i.address.to_string();
        for r in [
            BrowserRole::Master,
            BrowserRole::Backup,
            BrowserRole::Potential,
            BrowserRole::NonBrowser,
        ] {
            let v = u8::from(i.browser.role == r);
            f.sample(
                &[
                    ("interface", &i.name),
                    ("address", &addr),
                    ("role", r.as_str()),
                ],
                v,
            );
        }
    }
    let mut f = Family::new(
        o,
        "nbtd_browse_list_servers",
        "gauge",
        "Servers in the browse list of each interface address, all workgroups together.",
    );
    for i in &s.interfaces {
        let addr = i.address.to_string();
        f.sample(
            &[("interface", &i.name), ("address", &addr)],
            i.browser.servers,
        );
    }
    let mut f = Family::new(
        o,
        "nbtd_browse_list_workgroups",
        "gauge",
        "Workgroups in the browse list of each interface address.",
    );
    for i in &s.interfaces {
        let addr = i.address.to_string();
        f.sample(
            &[("interface", &i.name), ("address", &addr)],
            i.browser.workgroups,
        );
    }
    let mut f = Family::new(
        o,
        "nbtd_browse_list_workgroup_servers",
        "gauge",
        "Servers listed in each workgroup of each interface address's browse list.",
    );
    for i in &s.interfaces {
        let addr = i.address.to_string();
        for w in &i.browser.per_workgroup {
            f.sample(
                &[
                    ("interface", &i.name),
                    ("address", &addr),
                    ("workgroup", &w.workgroup),
                ],
                w.servers,
            );
        }
    }
    Family::new(
        o,
        "nbtd_elections_total",
        "counter",
        "Browser elections this host started, won and lost.",
    )
    .sample(&[("result", "started")], b.elections_started)
    .sample(&[("result", "won")], b.elections_won)
    .sample(&[("result", "lost")], b.elections_lost);
    if let Some(x) = &s.session {
        let k = &x.counters;
        Family::new(
            o,
            "nbtd_session_listeners",
            "gauge",
            "Addresses where the session service listens on TCP.",
        )
        .sample(&[], x.serving);
        Family::new(
            o,
            "nbtd_session_connections_total",
            "counter",
            "Session service connections, by outcome.",
        )
        .sample(&[("outcome", "accepted")], k.accepted)
        .sample(&[("outcome", "refused_busy")], k.refused_busy)
        .sample(&[("outcome", "refused_per_source")], k.refused_per_source)
        .sample(&[("outcome", "closed_on_error")], k.closed_on_error)
        .sample(&[("outcome", "timed_out")], k.timed_out);
        Family::new(
            o,
            "nbtd_session_timeouts_total",
            "counter",
            "Session service connections closed for a timeout, by phase (handshake: no whole \
             session request in time; write: a reply not read in time; idle: no request).",
        )
        .sample(&[("phase", "handshake")], k.handshake_timeouts)
        .sample(&[("phase", "write")], k.write_timeouts)
        .sample(
            &[("phase", "idle")],
            k.timed_out
                .saturating_sub(k.handshake_timeouts)
                .saturating_sub(k.write_timeouts),
        );
    }
    if let Some(w) = &s.wins {
        let mut by_state = [0usize; 4];
        for n in &w.names {
            by_state[match n.state {
                WinsNameState::Registered { .. } => 0,
                WinsNameState::Registering => 1,
                WinsNameState::Refused { .. } => 2,
                WinsNameState::NoAnswer => 3,
            }] += 1;
        }
        let server = w.server.to_string();
        Family::new(
            o,
            "nbtd_wins_names",
            "gauge",
            "Our names with the WINS server (wins_server), by state.",
        )
        .sample(&[("server", &server), ("state", "registered")], by_state[0])
        .sample(
            &[("server", &server), ("state", "registering")],
            by_state[1],
        )
        .sample(&[("server", &server), ("state", "refused")], by_state[2])
        .sample(&[("server", &server), ("state", "no_answer")], by_state[3]);
    }
    Family::new(
        o,
        "nbtd_config_reloads_total",
        "counter",
        "Configuration reloads (SIGHUP), applied or refused.",
    )
    .sample(&[("result", "applied")], s.reloads.applied)
    .sample(&[("result", "failed")], s.reloads.failed);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::tests::sample;

    #[test]
    fn requests_are_parsed_strictly() {
        assert_eq!(
            parse(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Ask::Metrics { body: true }
        );
        assert_eq!(
            parse(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n"),
            Ask::Metrics { body: true }
        );
        assert_eq!(
            parse(b"HEAD /metrics HTTP/1.1\r\n\r\n"),
            Ask::Metrics { body: false }
        );
        assert_eq!(
            parse(b"POST /metrics HTTP/1.1\r\n\r\n"),
            Ask::Refuse("405 Method Not Allowed")
        );
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\n\r\n"),
            Ask::Refuse("404 Not Found")
        );
        for garbage in [
            &b"\xff\xfe\r\n\r\n"[..],
            b"GET /metrics\r\n\r\n",
            b"GET /metrics SMB/1.0\r\n\r\n",
            b"GET  /metrics HTTP/1.1\r\n\r\n",
            b"\r\n\r\n",
        ] {
            assert_eq!(
                parse(garbage),
                Ask::Refuse("400 Bad Request"),
                "{garbage:?}"
            );
        }
    }

    #[test]
    fn the_exposition_format() {
        let t = render(&sample());
        // Every sample belongs to a family announced with HELP and TYPE just before.
        let mut family = String::new();
        for line in t.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                family = rest.split(' ').next().unwrap().to_owned();
                continue;
            }
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                assert_eq!(name, family);
                assert!(kind == "gauge" || kind == "counter", "{line}");
                assert_eq!(kind == "counter", name.ends_with("_total"), "{line}");
                continue;
            }
            let name = line.split(['{', ' ']).next().unwrap();
            assert_eq!(name, family, "{line}");
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
        assert!(t.contains("nbtd_send_errors_total 3\n"), "{t}");
        assert!(
            t.contains(
                "nbtd_browser_role{interface=\"eth0\",address=\"198.18.0.1\",role=\"backup\"} 1\n"
            ),
            "{t}"
        );
        assert!(
            t.contains(
                "nbtd_browser_role{interface=\"eth0\",address=\"198.18.0.1\",role=\"master\"} 0\n"
            ),
            "{t}"
        );
        assert!(
            t.contains("nbtd_packets_received_total{service=\"datagram\"} 7\n"),
            "{t}"
        );
        assert!(
            t.contains("nbtd_elections_total{result=\"won\"} 2\n"),
            "{t}"
        );
        assert!(t.contains("nbtd_names{state=\"active\"} 1\n"), "{t}");
        assert!(t.contains("nbtd_name_conflicts 1\n"), "{t}");
        assert!(!t.contains("nbtd_wins_names"), "no WINS server: {t}");
        let mut w = sample();
        w.wins = Some(crate::control::tests::sample_wins());
        let t = render(&w);
        for state in ["registered", "registering", "refused", "no_answer"] {
            let line = format!("nbtd_wins_names{{server=\"198.19.0.1\",state=\"{state}\"}} 1\n");
            assert!(t.contains(&line), "{line} in {t}");
        }
        assert!(t.contains("nbtd_names{state=\"conflict\"} 1\n"), "{t}");
        assert!(
            t.contains("nbtd_browse_list_workgroup_servers{interface=\"eth0\",address=\"198.18.0.1\",workgroup=\"LABWG\"} 3\n"),
            "{t}"
        );
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
