//! The control socket: a Unix socket speaking newline-delimited JSON, one request a line and one
//! response a line.
//!
//! ```text
//! → {"request":"status"}
//! ← {"response":"status","version":"0.1.0","pid":42,"netbios_name":"ALPHA",…}
//! → {"request":"reboot"}
//! ← {"response":"error","message":"cannot read the request: …"}
//! ```
//!
//! This module holds the message types, the server side the daemon runs ([`ControlListener`]),
//! a blocking client ([`query_status`]) and a text rendering ([`render_status`]) for `nbt daemon`.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::Ipv4Addr;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::protocol::engine::names::{NameCounters, NameState};

/// The longest request line the daemon reads.
pub const MAX_REQUEST_LEN: usize = 64 * 1024;
/// The longest response line the client reads.
pub const MAX_RESPONSE_LEN: usize = 8 * 1024 * 1024;
/// How long the client waits for the daemon.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// The permissions of the socket: owner and group may connect.
pub const SOCKET_MODE: u32 = 0o660;
/// Connections served at once; more wait.
const MAX_CONNECTIONS: usize = 16;
/// A connection idle this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Requests answered on one connection before it is closed.
const MAX_REQUESTS_PER_CONNECTION: usize = 10_000;

/// A request to the daemon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum Request {
    /// The daemon's names, interfaces and counters.
    Status,
}

/// The daemon's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "response", rename_all = "snake_case")]
pub enum Response {
    /// The answer to [`Request::Status`].
    Status(Box<DaemonStatus>),
    /// The request could not be served.
    Error {
        /// What went wrong.
        message: String,
    },
}

/// What `{"request":"status"}` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonStatus {
    /// The daemon's version.
    pub version: String,
    /// Its process ID.
    pub pid: u32,
    /// Its NetBIOS name.
    pub netbios_name: String,
    /// Its workgroup.
    pub workgroup: String,
    /// Its extra names.
    pub aliases: Vec<String>,
    /// Seconds since it started.
    pub uptime_secs: u64,
    /// The interface addresses served, each with its names.
    pub interfaces: Vec<InterfaceStatus>,
    /// The name service's counters.
    pub name_service: NameServiceCounters,
    /// The driver's own counters.
    pub driver: DriverCounters,
}

/// One interface address and the names on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterfaceStatus {
    /// Interface name, e.g. `eth0`.
    pub name: String,
    /// The address served.
    pub address: Ipv4Addr,
    /// The subnet mask.
    pub netmask: Ipv4Addr,
    /// The subnet broadcast address.
    pub broadcast: Ipv4Addr,
    /// The MAC address as `aa:bb:cc:dd:ee:ff`.
    pub mac: String,
    /// The names on this address.
    pub names: Vec<NameStatus>,
}

/// One of the daemon's names on one interface address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameStatus {
    /// The name without its suffix; bytes that are not printable are written `\xNN`.
    pub name: String,
    /// The suffix (name type), e.g. 32 for `<20>`.
    pub suffix: u8,
    /// Whether it is a group name.
    pub group: bool,
    /// Where it stands.
    #[serde(flatten)]
    pub state: NameStatusState,
}

/// Where a name stands, as `"state": "registering" | "active" | "conflict"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum NameStatusState {
    /// Registration requests are going out.
    Registering,
    /// The name is the daemon's: answered and defended.
    Active,
    /// Another host holds it; the daemon does not use it.
    Conflict {
        /// The holder's address.
        owner: Ipv4Addr,
    },
}

impl From<NameState> for NameStatusState {
    fn from(s: NameState) -> Self {
        match s {
            NameState::Registering => NameStatusState::Registering,
            NameState::Active => NameStatusState::Active,
            NameState::Conflict { owner } => NameStatusState::Conflict { owner },
        }
    }
}

/// The name engine's counters (see [`NameCounters`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameServiceCounters {
    /// Datagrams handed to the engine.
    pub received: u64,
    /// Datagrams that did not parse.
    pub malformed: u64,
    /// Datagrams ignored (our own, other scope, off-subnet, nothing to do).
    pub ignored: u64,
    /// Datagrams from outside the receiving interface's subnet.
    pub off_subnet: u64,
    /// Positive query answers sent.
    pub positive_answers: u64,
    /// Negative query answers sent.
    pub negative_answers: u64,
    /// Node status answers sent.
    pub node_status_answers: u64,
    /// Registrations of our unique names refused.
    pub defended: u64,
    /// Our registrations refused by another host.
    pub conflicts: u64,
    /// Releases and conflict demands for our names, ignored.
    pub hostile_ignored: u64,
    /// Datagrams queued for sending.
    pub sent: u64,
    /// Datagrams or events the engine dropped because its queue was full.
    pub queue_overflow: u64,
}

impl From<NameCounters> for NameServiceCounters {
    fn from(c: NameCounters) -> Self {
        NameServiceCounters {
            received: c.received,
            malformed: c.malformed,
            ignored: c.ignored,
            off_subnet: c.off_subnet,
            positive_answers: c.positive_answers,
            negative_answers: c.negative_answers,
            node_status_answers: c.node_status_answers,
            defended: c.defended,
            conflicts: c.conflicts,
            hostile_ignored: c.hostile_ignored,
            sent: c.sent,
            queue_overflow: c.queue_overflow,
        }
    }
}

/// The driver's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriverCounters {
    /// Datagrams received but dropped because the daemon's queue was full.
    pub dropped_queue_full: u64,
    /// Datagrams that could not be sent.
    pub send_errors: u64,
    /// Failed receives.
    pub receive_errors: u64,
}

/// A status request from a connection, answered by the daemon's main loop.
pub type StatusRequest = oneshot::Sender<DaemonStatus>;

/// Why the control socket could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// Its directory could not be created.
    #[error(
        "cannot create the control socket's directory {}: {source}; create it or set \
         control_socket / --control-socket", path.display()
    )]
    Directory {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Another daemon answers on the socket.
    #[error(
        "another nbtd is running: it answers on {}; stop it first, or give this one another \
         control_socket / --control-socket", path.display()
    )]
    InUse {
        /// The socket.
        path: PathBuf,
    },
    /// Something that is not a socket is in the way.
    #[error(
        "{} exists and is not a socket; remove it or set control_socket / --control-socket",
        path.display()
    )]
    NotASocket {
        /// The path.
        path: PathBuf,
    },
    /// The socket could not be created.
    #[error("cannot open the control socket {}: {source}", path.display())]
    Bind {
        /// The socket.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The listening control socket; the socket file is removed when it is dropped.
#[derive(Debug)]
pub struct ControlListener {
    listener: Option<UnixListener>,
    path: PathBuf,
}

impl ControlListener {
    /// Creates the socket at `path` (and its directory), replacing a stale socket file that no
    /// daemon answers on, with permissions [`SOCKET_MODE`]. Needs a tokio runtime.
    pub fn bind(path: &Path) -> Result<ControlListener, ControlError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| ControlError::Directory {
                path: dir.to_owned(),
                source,
            })?;
        }
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            if !meta.file_type().is_socket() {
                return Err(ControlError::NotASocket {
                    path: path.to_owned(),
                });
            }
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(ControlError::InUse {
                    path: path.to_owned(),
                });
            }
            let _ = std::fs::remove_file(path);
        }
        let bind = |source| ControlError::Bind {
            path: path.to_owned(),
            source,
        };
        let listener = UnixListener::bind(path).map_err(bind)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(SOCKET_MODE))
            .map_err(bind)?;
        Ok(ControlListener {
            listener: Some(listener),
            path: path.to_owned(),
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Accepts connections until the receiving end of `requests` is gone, passing each status
    /// request to it. Run it as a task; dropping the task closes the socket.
    pub async fn serve(mut self, requests: mpsc::Sender<StatusRequest>) {
        let Some(listener) = self.listener.take() else {
            return;
        };
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        loop {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            let stream = match listener.accept().await {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::debug!(error = %e, "control socket: accept failed");
                    // Out of file descriptors, most likely: let some close.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            if requests.is_closed() {
                return;
            }
            let requests = requests.clone();
            tokio::spawn(async move {
                connection(stream, requests).await;
                drop(permit);
            });
        }
    }
}

impl Drop for ControlListener {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Serves one connection: a request a line, a response a line.
async fn connection(stream: UnixStream, requests: mpsc::Sender<StatusRequest>) {
    let (r, mut w) = stream.into_split();
    let mut r = tokio::io::BufReader::new(r);
    for _ in 0..MAX_REQUESTS_PER_CONNECTION {
        let mut line = Vec::new();
        let mut limited = (&mut r).take(MAX_REQUEST_LEN as u64);
        let read = limited.read_until(b'\n', &mut line);
        match tokio::time::timeout(IDLE_TIMEOUT, read).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
            Ok(Ok(_)) => {}
        }
        let complete = line.last() == Some(&b'\n');
        let response = if !complete && line.len() >= MAX_REQUEST_LEN {
            Response::Error {
                message: format!("request longer than {MAX_REQUEST_LEN} bytes"),
            }
        } else {
            answer(&line, &requests).await
        };
        let mut out = serde_json::to_vec(&response).unwrap_or_default();
        out.push(b'\n');
        let write = w.write_all(&out);
        if !matches!(tokio::time::timeout(IDLE_TIMEOUT, write).await, Ok(Ok(()))) || !complete {
            return;
        }
    }
}

async fn answer(line: &[u8], requests: &mpsc::Sender<StatusRequest>) -> Response {
    match serde_json::from_slice::<Request>(line) {
        Ok(Request::Status) => {
            let (tx, rx) = oneshot::channel();
            if requests.send(tx).await.is_err() {
                return stopping();
            }
            match rx.await {
                Ok(s) => Response::Status(Box::new(s)),
                Err(_) => stopping(),
            }
        }
        Err(e) => Response::Error {
            message: format!("cannot read the request: {e}; send {{\"request\":\"status\"}}"),
        },
    }
}

fn stopping() -> Response {
    Response::Error {
        message: "the daemon is stopping".into(),
    }
}

/// Asks the daemon listening on `path` for its status (blocking, with a 5-second timeout).
pub fn query_status(path: &Path) -> anyhow::Result<DaemonStatus> {
    let stream = std::os::unix::net::UnixStream::connect(path).map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
                "is nbtd running? (its control_socket setting names the path)"
            }
            std::io::ErrorKind::PermissionDenied => {
                "run as root or as a member of the socket's group"
            }
            _ => "is nbtd running?",
        };
        anyhow::anyhow!(
            "cannot connect to the nbtd control socket {}: {e}; {hint}",
            path.display()
        )
    })?;
    stream.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    let mut request = serde_json::to_vec(&Request::Status)?;
    request.push(b'\n');
    (&stream)
        .write_all(&request)
        .context("cannot send the request to nbtd")?;
    let mut line = Vec::new();
    BufReader::new(&stream)
        .take(MAX_RESPONSE_LEN as u64)
        .read_until(b'\n', &mut line)
        .context("no answer from nbtd")?;
    if line.is_empty() {
        bail!("nbtd closed the control connection without answering");
    }
    match serde_json::from_slice(&line).context("cannot read nbtd's answer")? {
        Response::Status(s) => Ok(*s),
        Response::Error { message } => bail!("nbtd: {message}"),
    }
}

/// Renders a status for people: the daemon, then each interface address with its names, then
/// the counters.
pub fn render_status(s: &DaemonStatus) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "nbtd {} (pid {}), up {}",
        s.version,
        s.pid,
        duration(s.uptime_secs)
    );
    let _ = writeln!(
        out,
        "NetBIOS name {}, workgroup {}",
        s.netbios_name, s.workgroup
    );
    if !s.aliases.is_empty() {
        let _ = writeln!(out, "aliases: {}", s.aliases.join(", "));
    }
    if s.interfaces.is_empty() {
        let _ = writeln!(out, "\nno interface served");
    }
    for i in &s.interfaces {
        let _ = writeln!(
            out,
            "\n{} {}/{}, broadcast {}, MAC {}",
            i.name,
            i.address,
            u32::from(i.netmask).count_ones(),
            i.broadcast,
            i.mac
        );
        for n in &i.names {
            let label = format!("{}<{:02x}>", n.name, n.suffix);
            let state = match n.state {
                NameStatusState::Registering => "registering".to_owned(),
                NameStatusState::Active => "active".to_owned(),
                NameStatusState::Conflict { owner } => format!("conflict: held by {owner}"),
            };
            let group = if n.group { "group" } else { "" };
            let _ = writeln!(out, "  {label:<20} {group:<6} {state}");
        }
    }
    let c = &s.name_service;
    let d = &s.driver;
    let _ = writeln!(
        out,
        "\nreceived {}: malformed {}, off-subnet {}, ignored {}",
        c.received, c.malformed, c.off_subnet, c.ignored
    );
    let _ = writeln!(
        out,
        "answered: {} positive, {} negative, {} node status; defended {}, conflicts {}, \
         releases and demands ignored {}",
        c.positive_answers,
        c.negative_answers,
        c.node_status_answers,
        c.defended,
        c.conflicts,
        c.hostile_ignored
    );
    let _ = writeln!(
        out,
        "sent {}; send errors {}, receive errors {}, dropped on a full queue {} (daemon) {} \
         (engine)",
        c.sent, d.send_errors, d.receive_errors, d.dropped_queue_full, c.queue_overflow
    );
    out
}

fn duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d {h:02}h {m:02}m")
    } else if h > 0 {
        format!("{h}h {m:02}m {s:02}s")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> DaemonStatus {
        DaemonStatus {
            version: "0.1.0".into(),
            pid: 42,
            netbios_name: "ALPHA".into(),
            workgroup: "LABWG".into(),
            aliases: vec![],
            uptime_secs: 3725,
            interfaces: vec![InterfaceStatus {
                name: "eth0".into(),
                address: Ipv4Addr::new(198, 18, 0, 1),
                netmask: Ipv4Addr::new(255, 255, 255, 0),
                broadcast: Ipv4Addr::new(198, 18, 0, 255),
                mac: "02:00:00:00:00:01".into(),
                names: vec![
                    NameStatus {
                        name: "ALPHA".into(),
                        suffix: 0x20,
                        group: false,
                        state: NameStatusState::Conflict {
                            owner: Ipv4Addr::new(198, 18, 0, 9),
                        },
                    },
                    NameStatus {
                        name: "LABWG".into(),
                        suffix: 0x1e,
                        group: true,
                        state: NameStatusState::Active,
                    },
                ],
            }],
            name_service: NameServiceCounters::default(),
            driver: DriverCounters {
                send_errors: 3,
                ..DriverCounters::default()
            },
        }
    }

    #[test]
    fn json_shape() {
        let r = Response::Status(Box::new(sample()));
        let v: serde_json::Value = serde_json::to_value(&r).unwrap();
        assert_eq!(v["response"], "status");
        assert_eq!(v["netbios_name"], "ALPHA");
        let n = &v["interfaces"][0]["names"][0];
        assert_eq!(n["suffix"], 32);
        assert_eq!(n["state"], "conflict");
        assert_eq!(n["owner"], "198.18.0.9");
        assert_eq!(v["interfaces"][0]["names"][1]["state"], "active");
        assert_eq!(v["driver"]["send_errors"], 3);
        let back: Response = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
        assert_eq!(
            serde_json::to_string(&Request::Status).unwrap(),
            r#"{"request":"status"}"#
        );
    }

    #[test]
    fn text_rendering() {
        let t = render_status(&sample());
        assert!(t.starts_with("nbtd 0.1.0 (pid 42), up 1h 02m 05s\n"), "{t}");
        assert!(
            t.contains("eth0 198.18.0.1/24, broadcast 198.18.0.255"),
            "{t}"
        );
        assert!(t.contains("ALPHA<20>"), "{t}");
        assert!(t.contains("conflict: held by 198.18.0.9"), "{t}");
        assert!(t.contains("LABWG<1e>            group  active"), "{t}");
        assert_eq!(duration(59), "59s");
        assert_eq!(duration(90_061), "1d 01h 01m");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn serves_status_and_refuses_nonsense() {
        let dir = std::env::temp_dir().join(format!("nbtd-control-unit-{}", std::process::id()));
        let path = dir.join("sub").join("control.sock");
        let listener = ControlListener::bind(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, SOCKET_MODE);
        // A second daemon on the same path is refused while the first answers.
        assert!(matches!(
            ControlListener::bind(&path),
            Err(ControlError::InUse { .. })
        ));
        let (tx, mut rx) = mpsc::channel::<StatusRequest>(4);
        tokio::spawn(listener.serve(tx));
        tokio::spawn(async move {
            while let Some(reply) = rx.recv().await {
                let _ = reply.send(sample());
            }
        });
        let p = path.clone();
        let status = tokio::task::spawn_blocking(move || query_status(&p))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status, sample());

        let p = path.clone();
        let answer = tokio::task::spawn_blocking(move || {
            let mut s = std::os::unix::net::UnixStream::connect(p).unwrap();
            s.set_read_timeout(Some(CLIENT_TIMEOUT)).unwrap();
            s.write_all(b"{\"request\":\"reboot\"}\n").unwrap();
            let mut line = String::new();
            BufReader::new(&s).read_line(&mut line).unwrap();
            line
        })
        .await
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(v["response"], "error");
        assert!(v["message"].as_str().unwrap().contains("reboot"), "{v}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_missing_daemon_is_explained() {
        let e = query_status(Path::new("/nonexistent/nbtd.sock")).unwrap_err();
        assert!(e.to_string().contains("is nbtd running?"), "{e}");
    }
}
