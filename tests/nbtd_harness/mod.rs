//! Runs the real `nbtd` binary for end-to-end tests: on loopback only, on a free high port, with
//! its state and control socket in a scratch directory of the test's own. A guard kills the
//! daemon if the test panics. Every wait is bounded.

#![allow(dead_code)]

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

// Also part of `common` in test crates that use both; it holds only free functions.
#[allow(clippy::duplicate_mod)]
#[path = "../common/programs.rs"]
mod programs;
use programs::resolve;

use nbtd::control::{DaemonStatus, NameStatusState, query_status};
use nbtd::protocol::name::ScopedName;
use nbtd::protocol::wire::Emit;
use nbtd::protocol::wire::ns::NameServicePacket;

/// The daemon binary.
pub const NBTD: &str = env!("CARGO_BIN_EXE_nbtd");
/// The loopback broadcast address nbtd listens on with `--interfaces lo`.
pub const LO_BROADCAST: Ipv4Addr = Ipv4Addr::new(127, 255, 255, 255);
/// The longest any test waits for the daemon.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A scratch directory for one test, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(test: &str) -> Scratch {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("nbtd-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// `--state-dir` and `--control-socket` inside the scratch directory.
    pub fn daemon_paths(&self) -> Vec<String> {
        vec![
            "--state-dir".into(),
            self.path("state").display().to_string(),
            "--control-socket".into(),
            self.control_socket().display().to_string(),
        ]
    }

    pub fn control_socket(&self) -> PathBuf {
        self.path("control.sock")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A UDP port free on both 127.0.0.1 and the loopback broadcast address.
pub fn free_port() -> u16 {
    for _ in 0..100 {
        let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = probe.local_addr().unwrap().port();
        if UdpSocket::bind(SocketAddrV4::new(LO_BROADCAST, port)).is_ok() {
            return port;
        }
    }
    panic!("no free UDP port on loopback");
}

/// Two distinct ports from [`free_port`]: for the name and the datagram service.
pub fn free_ports() -> (u16, u16) {
    let name = free_port();
    for _ in 0..100 {
        let datagram = free_port();
        if datagram != name {
            return (name, datagram);
        }
    }
    panic!("no second free UDP port on loopback");
}

/// The entries in `dir` whose names start with `browse.json.corrupt-`: state files nbtd moved
/// aside.
pub fn moved_aside(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("browse.json.corrupt-"))
        })
        .collect()
}

/// Whether nbtd has names and every one of them is active.
pub fn all_active(st: &DaemonStatus) -> bool {
    let names: Vec<_> = st.interfaces.iter().flat_map(|i| &i.names).collect();
    !names.is_empty() && names.iter().all(|n| n.state == NameStatusState::Active)
}

/// Starts nbtd as `name` in workgroup TESTWG on loopback, on free test ports, logging at info,
/// with its state and control socket in `dir` and then `extra`; returns it and its ports.
pub fn start_loopback(dir: &Scratch, name: &str, extra: &[&str]) -> (Daemon, (u16, u16)) {
    let ports = free_ports();
    let mut args = port_args(ports);
    args.extend(
        [
            "--interfaces",
            "lo",
            "--netbios-name",
            name,
            "--workgroup",
            "TESTWG",
            "--log-level",
            "info",
        ]
        .map(String::from),
    );
    args.extend(extra.iter().map(|a| a.to_string()));
    args.extend(dir.daemon_paths());
    (Daemon::start(&args), ports)
}

/// A TCP port free on 127.0.0.1.
pub fn free_tcp_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap().port()
}

/// `--name-port`, `--datagram-port` and `--session-port` with free ports, so that nothing
/// binds 137, 138 or 139 on the machine's loopback.
pub fn port_args(ports: (u16, u16)) -> Vec<String> {
    vec![
        "--name-port".into(),
        ports.0.to_string(),
        "--datagram-port".into(),
        ports.1.to_string(),
        "--session-port".into(),
        free_tcp_port().to_string(),
    ]
}

/// A running `nbtd`, killed on drop; its stderr is collected as it goes.
pub struct Daemon {
    child: Child,
    stderr: Arc<Mutex<String>>,
    reader: Option<JoinHandle<()>>,
    status: Option<ExitStatus>,
}

impl Daemon {
    /// Starts `nbtd` with `args` (RUST_LOG cleared, so the flags decide the log level).
    pub fn start<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Daemon {
        let mut cmd = Command::new(NBTD);
        cmd.args(args);
        Daemon::spawn(cmd)
    }

    /// Starts a command that runs `nbtd` in its own process (e.g. through `ip netns exec`).
    /// Tests run as root, and nbtd stays root here (`--no-drop-privileges`, added last), so
    /// that its state may live in any scratch directory; the privilege tests use
    /// [`Daemon::spawn_dropping_privileges`].
    pub fn spawn(mut cmd: Command) -> Daemon {
        cmd.arg("--no-drop-privileges");
        Daemon::spawn_dropping_privileges(cmd)
    }

    /// Starts a command that runs `nbtd`, which drops its privileges as configured when it
    /// runs as root.
    pub fn spawn_dropping_privileges(mut cmd: Command) -> Daemon {
        let mut child = cmd
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start nbtd");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Daemon {
            child,
            stderr,
            reader: Some(reader),
            status: None,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it wrote to stderr so far (all of it once it has exited).
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Its stderr once it holds `text`, waiting a bounded time for the reader thread to catch
    /// up (a line nbtd logged before it answered a query may not be read yet); panics with
    /// the stderr if it never does.
    pub fn stderr_with(&self, text: &str) -> String {
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.stderr();
            if log.contains(text) {
                return log;
            }
            assert!(Instant::now() < end, "nbtd never logged {text:?}:\n{log}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Polls its status on `control` until `done` holds, for at most `patience`; panics with
    /// `what`, the last status and the stderr if it never does, or at once if nbtd exits.
    pub fn wait_for_status(
        &mut self,
        control: &Path,
        what: &str,
        patience: Duration,
        done: impl Fn(&DaemonStatus) -> bool,
    ) -> DaemonStatus {
        let end = Instant::now() + patience;
        let mut last = None;
        while Instant::now() < end {
            if let Some(s) = self.exited() {
                panic!("nbtd exited with {s:?}:\n{}", self.stderr());
            }
            if let Ok(st) = query_status(control) {
                if done(&st) {
                    return st;
                }
                last = Some(st);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "{what}: not within {patience:?}: {last:#?}\n{}",
            self.stderr()
        );
    }

    /// Waits up to [`PATIENCE`] until every name is active ([`all_active`]), and returns the
    /// status then; panics with `what` otherwise, or at once if nbtd exits.
    pub fn wait_active(&mut self, dir: &Scratch, what: &str) -> DaemonStatus {
        self.wait_for_status(&dir.control_socket(), what, PATIENCE, all_active)
    }

    /// Whether it has exited, without waiting.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().unwrap();
        }
        self.status
    }

    /// Waits (bounded) for it to exit; panics with its stderr if it does not.
    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if let Some(s) = self.exited() {
                if let Some(r) = self.reader.take() {
                    let _ = r.join();
                }
                return s;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "nbtd did not exit within {limit:?}; stderr:\n{}",
            self.stderr()
        );
    }

    /// Sends a signal by name (`TERM`, `INT`).
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig} {}", self.pid());
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.exited().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

/// Runs `nbtd` to completion (bounded) and returns (status, stdout, stderr).
pub fn run_captured<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (ExitStatus, String, String) {
    let mut child = Command::new(NBTD)
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nbtd");
    let end = Instant::now() + PATIENCE;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("nbtd did not exit within {PATIENCE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A name service client on 127.0.0.2 (inside lo's 127.0.0.0/8, and not the daemon's own
/// address, whose packets it ignores as its own).
pub struct Client {
    socket: UdpSocket,
    server: SocketAddrV4,
    next_id: u16,
}

impl Client {
    pub fn new(port: u16) -> Client {
        let socket = UdpSocket::bind("127.0.0.2:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        Client {
            socket,
            server: SocketAddrV4::new(Ipv4Addr::LOCALHOST, port),
            next_id: 0x4100,
        }
    }

    fn trn_id(&mut self) -> u16 {
        self.next_id = self.next_id.wrapping_add(1);
        self.next_id
    }

    /// Sends raw bytes to the daemon.
    pub fn send_raw(&self, bytes: &[u8]) {
        self.socket.send_to(bytes, self.server).unwrap();
    }

    /// The next datagram from the daemon, if one comes within half a second.
    pub fn recv(&self) -> Option<(NameServicePacket, std::net::SocketAddr)> {
        let mut buf = [0u8; 2048];
        let (n, from) = self.socket.recv_from(&mut buf).ok()?;
        Some((NameServicePacket::parse(&buf[..n]).unwrap(), from))
    }

    /// Sends `p` (with a fresh transaction ID) and returns the answer with that ID, trying up to
    /// three times.
    pub fn ask(
        &mut self,
        mut p: NameServicePacket,
    ) -> Option<(NameServicePacket, std::net::SocketAddr)> {
        let id = self.trn_id();
        p.trn_id = id;
        let bytes = p.to_vec().unwrap();
        for _ in 0..3 {
            self.send_raw(&bytes);
            while let Some((answer, from)) = self.recv() {
                if answer.trn_id == id {
                    return Some((answer, from));
                }
            }
        }
        None
    }

    /// A unicast name query.
    pub fn query(&mut self, name: ScopedName) -> Option<(NameServicePacket, std::net::SocketAddr)> {
        self.ask(NameServicePacket::name_query(0, name, false))
    }

    /// A node status request.
    pub fn node_status(
        &mut self,
        name: ScopedName,
    ) -> Option<(NameServicePacket, std::net::SocketAddr)> {
        self.ask(NameServicePacket::node_status_request(0, name))
    }
}

/// Runs a command that must succeed (bounded by its own nature: `ip` calls).
pub fn must(program: &str, args: &[&str]) {
    let out = Command::new(resolve(program)).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A network namespace of the test's own, deleted on drop (with every process still in it).
pub struct Netns(pub String);

impl Netns {
    /// Creates a namespace with loopback up, or says why it cannot: not root, or no `ip netns`.
    /// Under `CI=true` that is a failure rather than a reason to skip.
    pub fn create(test: &str) -> Option<Netns> {
        let name = format!("nbtd-{test}-{}", std::process::id());
        let why = match Command::new(resolve("ip"))
            .args(["netns", "add", &name])
            .output()
        {
            Ok(o) if o.status.success() => None,
            Ok(o) => Some(String::from_utf8_lossy(&o.stderr).trim().to_owned()),
            Err(e) => Some(format!("cannot run ip: {e}")),
        };
        if let Some(why) = why {
            let msg = format!("needs root and `ip netns` (iproute2): {why}");
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{msg}");
            }
            eprintln!("skipped: {msg}");
            return None;
        }
        let ns = Netns(name);
        ns.ip(&["link", "set", "lo", "up"]);
        Some(ns)
    }

    /// `ip -n NS ARGS`, which must succeed.
    pub fn ip(&self, args: &[&str]) {
        let mut all = vec!["-n", self.0.as_str()];
        all.extend_from_slice(args);
        must("ip", &all);
    }

    /// A command that runs `program` inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new(resolve("ip"));
        c.args(["netns", "exec", &self.0]).arg(resolve(program));
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new(resolve("ip"))
            .args(["netns", "pids", &self.0])
            .output()
            .map(|o| {
                for pid in String::from_utf8_lossy(&o.stdout).split_whitespace() {
                    let _ = Command::new("kill").args(["-KILL", pid]).status();
                }
            });
        let _ = Command::new(resolve("ip"))
            .args(["netns", "del", &self.0])
            .status();
    }
}

/// Whether the status shows `addr` served with every one of its names active.
pub fn active_on(st: &DaemonStatus, addr: Ipv4Addr) -> bool {
    st.interfaces.iter().any(|i| {
        i.address == addr
            && !i.names.is_empty()
            && i.names.iter().all(|n| n.state == NameStatusState::Active)
    })
}
