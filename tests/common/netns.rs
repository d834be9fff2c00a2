//! A LAN of network namespaces for end-to-end tests, after `../shared/lab/netlan.sh`.
//!
//! [`Lan::new`] builds N hosts. The bridge `br0` lives in a namespace of its own; host I is a
//! namespace with `lan0` = 198.18.0.I/24, broadcast 198.18.0.255, attached by a veth pair to
//! the bridge, with `lo` up, no uplink and no default route: nothing can leave 198.18.0.0/24.
//! The veth pairs are created directly inside their namespaces, so the root namespace never
//! sees them.
//!
//! Namespace names carry the process ID and a counter (`nbtt<pid>-<n>-br`, `nbtt<pid>-<n>-h1`),
//! so tests run in parallel. Dropping the [`Lan`] (also while a test panics) kills every
//! process in its namespaces and deletes them; a LAN left behind by a killed test run is
//! removed by the next one, once its process is gone.
//!
//! Samba's nmbd runs in a host with [`Lan::start_nmbd`], on a private smb.conf under the LAN's
//! temporary directory, in the foreground as a child of the test. [`Lan::start_smbd`] starts
//! Samba's smbd next to it on the same smb.conf: SMB1 on TCP 139 only, anonymous (guest)
//! listing allowed, one guest share `[pub]`.

use std::fmt::Write as _;
use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

pub use super::programs::{find_program, resolve};
use super::skip;

/// The test LAN's network; host I has address `NET.I`.
pub const NET: [u8; 3] = [198, 18, 0];
/// The LAN's broadcast address.
pub const BROADCAST: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 255);
/// Interface name of every host's LAN port.
pub const LAN_IFACE: &str = "lan0";
/// Most hosts a LAN may have (addresses .1 to .250).
pub const MAX_HOSTS: usize = 250;
/// Prefix of every namespace this harness creates.
const NS_PREFIX: &str = "nbtt";

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Checks what a namespace test needs: root, `ip`, and the given programs installed.
pub fn check_prerequisites(programs: &[&str]) -> Result<(), String> {
    if !is_root() {
        return Err("needs root to create network namespaces (run the tests as root)".into());
    }
    for p in std::iter::once(&"ip").chain(programs) {
        if find_program(p).is_none() {
            return Err(format!(
                "{p} is not installed (apt-get install -y iproute2 samba samba-common-bin smbclient)"
            ));
        }
    }
    Ok(())
}

fn is_root() -> bool {
    // The effective UID is the fifth field of the Uid line.
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new(resolve("ip"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn list_namespaces() -> Vec<String> {
    Command::new(resolve("ip"))
        .args(["netns", "list"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Kills every process in a namespace (TERM, then KILL after up to 2 s) and deletes it.
fn destroy_namespace(ns: &str) {
    for signal in ["-TERM", "-KILL"] {
        let pids = namespace_pids(ns);
        if pids.is_empty() {
            break;
        }
        let _ = Command::new(resolve("kill"))
            .arg(signal)
            .args(&pids)
            .stderr(Stdio::null())
            .status();
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until && !namespace_pids(ns).is_empty() {
            sleep(Duration::from_millis(50));
        }
    }
    let _ = ip(&["netns", "del", ns]);
}

fn namespace_pids(ns: &str) -> Vec<String> {
    Command::new(resolve("ip"))
        .args(["netns", "pids", ns])
        .stderr(Stdio::null())
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Deletes the namespaces of LANs whose test process no longer exists.
fn remove_stale_lans() {
    for ns in list_namespaces() {
        let Some(rest) = ns.strip_prefix(NS_PREFIX) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            destroy_namespace(&ns);
        }
    }
}

/// How to configure one nmbd.
#[derive(Debug, Clone)]
pub struct NmbdConfig {
    /// `workgroup`.
    pub workgroup: String,
    /// `netbios name`.
    pub netbios_name: String,
    /// Extra `[global]` lines, e.g. `"os level = 65"`.
    pub options: Vec<String>,
    /// `log level`.
    pub log_level: u8,
}

impl NmbdConfig {
    /// A configuration with the given workgroup and name, log level 1 and no extra options.
    pub fn new(workgroup: &str, netbios_name: &str) -> Self {
        NmbdConfig {
            workgroup: workgroup.into(),
            netbios_name: netbios_name.into(),
            options: Vec::new(),
            log_level: 1,
        }
    }

    /// Adds a `[global]` line.
    pub fn option(mut self, line: &str) -> Self {
        self.options.push(line.into());
        self
    }

    /// Sets `log level`.
    pub fn log_level(mut self, level: u8) -> Self {
        self.log_level = level;
        self
    }
}

/// The guest share every generated smb.conf has, for smbd.
pub const SHARE: &str = "pub";

/// The comment of [`SHARE`] on a host named `netbios_name`.
pub fn share_comment(netbios_name: &str) -> String {
    format!("nbtd test share on {netbios_name}")
}

/// A private smb.conf whose every directory lies under `dir`. It serves nmbd, and smbd too:
/// SMB1 (NT1) on TCP 139 only, guests may list, and the guest share [`SHARE`] (after the
/// lab's `nmbd-host.sh`).
pub fn smb_conf(dir: &Path, c: &NmbdConfig) -> String {
    let d = dir.display();
    let mut s = format!(
        "# generated by the nbtd test harness\n\
         [global]\n\
         \x20 workgroup = {wg}\n\
         \x20 netbios name = {name}\n\
         \x20 server string = nbtd test host\n\
         \x20 server role = standalone server\n\
         \x20 interfaces = {LAN_IFACE}\n\
         \x20 bind interfaces only = yes\n\
         \x20 disable netbios = no\n\
         \x20 name resolve order = bcast\n\
         \x20 local master = yes\n\
         \x20 domain master = no\n\
         \x20 dns proxy = no\n\
         \x20 wins support = no\n\
         \x20 load printers = no\n\
         \x20 printcap name = /dev/null\n\
         \x20 disable spoolss = yes\n\
         \x20 printing = bsd\n\
         \x20 smb ports = 139\n\
         \x20 server min protocol = NT1\n\
         \x20 map to guest = bad user\n\
         \x20 restrict anonymous = 0\n\
         \x20 lock directory = {d}/lock\n\
         \x20 state directory = {d}/state\n\
         \x20 cache directory = {d}/cache\n\
         \x20 private dir = {d}/private\n\
         \x20 pid directory = {d}/pid\n\
         \x20 ncalrpc dir = {d}/ncalrpc\n\
         \x20 binddns dir = {d}/binddns\n\
         \x20 usershare path =\n\
         \x20 log file = {d}/log/log.%m\n\
         \x20 log level = {level}\n\
         \x20 max log size = 0\n\
         \x20 debug hires timestamp = yes\n",
        wg = c.workgroup,
        name = c.netbios_name,
        level = c.log_level,
    );
    for o in &c.options {
        let _ = writeln!(s, "  {o}");
    }
    let _ = write!(
        s,
        "\n[{SHARE}]\n  path = {d}/share\n  read only = yes\n  guest ok = yes\n  comment = {}\n",
        share_comment(&c.netbios_name)
    );
    s
}

/// Creates the directories an smb.conf from [`smb_conf`] names.
fn make_samba_dirs(dir: &Path) -> std::io::Result<()> {
    for sub in [
        "lock", "state", "cache", "private", "pid", "ncalrpc", "binddns", "log", "share",
    ] {
        fs::create_dir_all(dir.join(sub))?;
    }
    Ok(())
}

/// A running Samba daemon: nmbd or smbd.
#[derive(Debug, Clone)]
pub struct SambaDaemon {
    /// The host it runs in.
    pub host: usize,
    /// Its process ID.
    pub pid: u32,
    /// Its smb.conf (one per host, shared by its nmbd and smbd).
    pub conf: PathBuf,
    /// The host's directory (logs in `log/`, stdout and stderr in `nmbd.out` or `smbd.out`).
    pub dir: PathBuf,
}

impl SambaDaemon {
    /// nmbd's log so far (`log/log.nmbd`).
    pub fn nmbd_log(&self) -> String {
        fs::read_to_string(self.dir.join("log/log.nmbd")).unwrap_or_default()
    }

    /// Polls nmbd's log until it holds `needle`, for at most `limit`; the error quotes the log.
    pub fn wait_for_log(&self, needle: &str, limit: Duration) -> Result<(), String> {
        let until = Instant::now() + limit;
        loop {
            let text = self.nmbd_log();
            if text.contains(needle) {
                return Ok(());
            }
            if Instant::now() >= until {
                return Err(format!(
                    "nmbd's log has no {needle:?} within {limit:?}:\n{text}"
                ));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// A running nmbd.
pub type Nmbd = SambaDaemon;
/// A running smbd.
pub type Smbd = SambaDaemon;

/// A LAN of namespaces; dropping it tears everything down.
pub struct Lan {
    tag: String,
    hosts: usize,
    dir: PathBuf,
    namespaces: Vec<String>,
    children: Mutex<Vec<Child>>,
}

impl Lan {
    /// Builds a LAN of `hosts` hosts, or says why it cannot.
    pub fn new(hosts: usize) -> Result<Lan, String> {
        assert!((1..=MAX_HOSTS).contains(&hosts), "1 to {MAX_HOSTS} hosts");
        remove_stale_lans();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let tag = format!("{NS_PREFIX}{}-{n}", std::process::id());
        let dir = std::env::temp_dir().join(&tag);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let mut lan = Lan {
            tag,
            hosts,
            dir,
            namespaces: Vec::new(),
            children: Mutex::new(Vec::new()),
        };
        // On error the partly built LAN is dropped, which deletes what was made.
        lan.build()
            .map_err(|e| format!("cannot build the namespace LAN: {e}"))?;
        Ok(lan)
    }

    /// Builds a LAN for a test, or reports why not ([`super::skip`]) and returns `None`.
    /// `programs` are the tools the test needs besides `ip`.
    pub fn for_test(test: &str, hosts: usize, programs: &[&str]) -> Option<Lan> {
        if let Err(why) = check_prerequisites(programs) {
            skip(test, &why);
            return None;
        }
        match Lan::new(hosts) {
            Ok(l) => Some(l),
            Err(why) => {
                skip(test, &why);
                None
            }
        }
    }

    fn add_namespace(&mut self, ns: String) -> Result<(), String> {
        ip(&["netns", "add", &ns])?;
        self.namespaces.push(ns.clone());
        ip(&["-n", &ns, "link", "set", "lo", "up"])
    }

    fn build(&mut self) -> Result<(), String> {
        let br = self.bridge_ns();
        self.add_namespace(br.clone())?;
        ip(&["-n", &br, "link", "add", "br0", "type", "bridge"])?;
        ip(&[
            "-n",
            &br,
            "link",
            "set",
            "br0",
            "type",
            "bridge",
            "stp_state",
            "0",
            "forward_delay",
            "0",
        ])?;
        let _ = ip(&[
            "-n",
            &br,
            "link",
            "set",
            "br0",
            "type",
            "bridge",
            "mcast_snooping",
            "0",
        ]);
        ip(&["-n", &br, "link", "set", "br0", "up"])?;
        for i in 1..=self.hosts {
            let ns = self.ns(i);
            self.add_namespace(ns.clone())?;
            let port = format!("p{i}");
            ip(&[
                "link", "add", LAN_IFACE, "netns", &ns, "type", "veth", "peer", "name", &port,
                "netns", &br,
            ])?;
            ip(&["-n", &br, "link", "set", &port, "master", "br0"])?;
            ip(&["-n", &br, "link", "set", &port, "up"])?;
            let addr = format!("{}/24", self.ip(i));
            let brd = BROADCAST.to_string();
            ip(&[
                "-n", &ns, "addr", "add", &addr, "brd", &brd, "dev", LAN_IFACE,
            ])?;
            ip(&["-n", &ns, "link", "set", LAN_IFACE, "up"])?;
        }
        Ok(())
    }

    /// Name of the bridge's namespace.
    pub fn bridge_ns(&self) -> String {
        format!("{}-br", self.tag)
    }

    /// Name of host `i`'s namespace (1-based).
    pub fn ns(&self, i: usize) -> String {
        assert!((1..=self.hosts).contains(&i), "host {i} of {}", self.hosts);
        format!("{}-h{i}", self.tag)
    }

    /// Address of host `i`.
    pub fn ip(&self, i: usize) -> Ipv4Addr {
        Ipv4Addr::new(NET[0], NET[1], NET[2], i as u8)
    }

    /// Moves host `i` to 198.18.1.i/24 (broadcast 198.18.1.255) on the same wire, and gives it
    /// and each of `peers` an on-link route to the other's subnet: as through a router that
    /// forwards unicast and no broadcast. Neither subnet hears the other's broadcasts.
    pub fn move_to_other_subnet(&self, i: usize, peers: &[usize]) {
        let ns = self.ns(i);
        let addr = format!("198.18.1.{i}/24");
        ip(&["-n", &ns, "addr", "flush", "dev", LAN_IFACE]).unwrap();
        ip(&[
            "-n",
            &ns,
            "addr",
            "add",
            &addr,
            "brd",
            "198.18.1.255",
            "dev",
            LAN_IFACE,
        ])
        .unwrap();
        ip(&["-n", &ns, "route", "add", "198.18.0.0/24", "dev", LAN_IFACE]).unwrap();
        for &p in peers {
            ip(&[
                "-n",
                &self.ns(p),
                "route",
                "add",
                "198.18.1.0/24",
                "dev",
                LAN_IFACE,
            ])
            .unwrap();
        }
    }

    /// Number of hosts.
    pub fn hosts(&self) -> usize {
        self.hosts
    }

    /// The LAN's temporary directory (configs and logs).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A command that runs `program` inside host `i` (`ip netns exec`).
    pub fn command(&self, i: usize, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(resolve("ip"));
        c.args(["netns", "exec", &self.ns(i)])
            .arg(resolve(program))
            .stdin(Stdio::null());
        c
    }

    /// Runs `program args` in host `i` to completion and returns its output.
    pub fn run(&self, i: usize, program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Output {
        self.command(i, program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run a command in host {i}: {e}"))
    }

    /// Runs this build's `nbt` with `args` in host `i`: its exit code (-1 when killed by a
    /// signal), stdout and stderr.
    pub fn nbt(&self, i: usize, args: &[&str]) -> (i32, String, String) {
        let o = self.run(i, env!("CARGO_BIN_EXE_nbt"), args);
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    }

    /// Starts `program args` in host `i` as a long-running child, with stdout and stderr in
    /// `log` under the LAN directory; it is killed when the LAN is dropped. Returns its PID.
    pub fn spawn(
        &self,
        i: usize,
        program: impl AsRef<std::ffi::OsStr>,
        args: &[&str],
        log: &str,
    ) -> u32 {
        let out = fs::File::create(self.dir.join(log)).expect("create the log file");
        let err = out.try_clone().expect("clone the log file");
        let child = self
            .command(i, program)
            .args(args)
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start a process in host {i}: {e}"));
        let pid = child.id();
        self.children.lock().unwrap().push(child);
        pid
    }

    /// Host `i`'s directory and smb.conf for `config`, created; an identical file is left
    /// alone, so that starting smbd next to a running nmbd does not make it reload.
    fn host_conf(&self, i: usize, config: &NmbdConfig) -> (PathBuf, PathBuf) {
        let dir = self.dir.join(format!("h{i}"));
        make_samba_dirs(&dir).expect("create Samba's directories");
        let conf = dir.join("smb.conf");
        let text = smb_conf(&dir, config);
        if fs::read_to_string(&conf).ok().as_deref() != Some(text.as_str()) {
            fs::write(&conf, text).expect("write smb.conf");
        }
        (dir, conf)
    }

    /// Starts Samba's nmbd in host `i` on a generated smb.conf, in the foreground. Its names
    /// are usable after about 4 s: see [`Lan::wait_for_name`].
    pub fn start_nmbd(&self, i: usize, config: &NmbdConfig) -> Nmbd {
        self.start_samba(i, "nmbd", config)
    }

    /// Starts Samba's smbd in host `i`, in the foreground, on the same generated smb.conf as
    /// [`Lan::start_nmbd`] writes for the same `config`. It listens on TCP 139 within a second
    /// or two: see [`Lan::wait_for_listener`].
    pub fn start_smbd(&self, i: usize, config: &NmbdConfig) -> Smbd {
        self.start_samba(i, "smbd", config)
    }

    /// Starts `program` (nmbd or smbd) in host `i`, in the foreground, on the host's smb.conf.
    fn start_samba(&self, i: usize, program: &str, config: &NmbdConfig) -> SambaDaemon {
        let (dir, conf) = self.host_conf(i, config);
        let conf_s = conf.to_str().expect("UTF-8 path");
        let log_s = format!("{}/log", dir.display());
        let pid = self.spawn(
            i,
            program,
            &[
                "--foreground",
                "--no-process-group",
                "-s",
                conf_s,
                "-l",
                &log_s,
            ],
            &format!("h{i}/{program}.out"),
        );
        SambaDaemon {
            host: i,
            pid,
            conf,
            dir,
        }
    }

    /// Polls host `i`'s TCP sockets (its `/proc/net/tcp`) until one listens on `port`, for at
    /// most `timeout`.
    pub fn wait_for_listener(&self, i: usize, port: u16, timeout: Duration) -> Result<(), String> {
        let until = Instant::now() + timeout;
        // Lines: `sl local_address rem_address st ...`, addresses as HEX:PORT; 0A is LISTEN.
        let want = format!(":{port:04X}");
        while Instant::now() < until {
            let out = self.run(i, "cat", &["/proc/net/tcp"]);
            let text = String::from_utf8_lossy(&out.stdout);
            let listening = text.lines().skip(1).any(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.len() > 3 && f[1].ends_with(&want) && f[3] == "0A"
            });
            if listening {
                return Ok(());
            }
            sleep(Duration::from_millis(200));
        }
        Err(format!(
            "nothing listened on TCP {port} in host {i} within {timeout:?}{}",
            self.report()
        ))
    }

    /// An smb.conf for Samba's client tools (nmblookup) in the LAN, created once.
    pub fn client_conf(&self) -> PathBuf {
        let dir = self.dir.join("client");
        let conf = dir.join("smb.conf");
        if !conf.exists() {
            make_samba_dirs(&dir).expect("create the client's directories");
            let c = NmbdConfig::new("WORKGROUP", "NBTTCLIENT");
            fs::write(&conf, smb_conf(&dir, &c)).expect("write the client smb.conf");
        }
        conf
    }

    /// Polls with `nmblookup` from host `from` (by broadcast) until `name` resolves to host
    /// `owner`'s address, for at most `timeout`.
    pub fn wait_for_name(
        &self,
        from: usize,
        name: &str,
        owner: usize,
        timeout: Duration,
    ) -> Result<(), String> {
        let conf = self.client_conf();
        let conf = conf.to_str().expect("UTF-8 path");
        // nmblookup prints `198.18.0.1 NAME<1d>` for `NAME#1d`.
        let want = match name.split_once('#') {
            Some((base, sfx)) => format!(
                "{} {}<{}>",
                self.ip(owner),
                base.to_uppercase(),
                sfx.to_lowercase()
            ),
            None => format!("{} {}<", self.ip(owner), name.to_uppercase()),
        };
        let brd = BROADCAST.to_string();
        let until = Instant::now() + timeout;
        let mut last = String::new();
        while Instant::now() < until {
            let out = self.run(from, "nmblookup", &["-s", conf, "-B", &brd, name]);
            let text = String::from_utf8_lossy(&out.stdout);
            if out.status.success() && text.contains(&want) {
                return Ok(());
            }
            last = format!("{text}{}", String::from_utf8_lossy(&out.stderr));
            sleep(Duration::from_millis(300));
        }
        Err(format!(
            "{name} did not resolve to {} within {timeout:?}; last nmblookup said: {}{}",
            self.ip(owner),
            last.trim(),
            self.report()
        ))
    }

    /// What a failed wait should show: the processes started with [`Lan::spawn`] that have
    /// ended, and the last lines of every non-empty output file of the Samba daemons.
    pub fn report(&self) -> String {
        let mut r = String::new();
        for c in self.children.lock().unwrap().iter_mut() {
            if let Ok(Some(status)) = c.try_wait() {
                let _ = write!(r, "\nprocess {} has ended: {status}", c.id());
            }
        }
        for i in 1..=self.hosts {
            for program in ["nmbd", "smbd"] {
                let file = self.dir.join(format!("h{i}/{program}.out"));
                let text = fs::read_to_string(&file).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                if !lines.is_empty() {
                    let tail = lines[lines.len().saturating_sub(10)..].join("\n  ");
                    let _ = write!(r, "\n{} says:\n  {tail}", file.display());
                }
            }
        }
        r
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for c in self
            .children
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default()
        {
            let mut c = c;
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in self.namespaces.iter().rev() {
            destroy_namespace(ns);
        }
        if std::thread::panicking() {
            eprintln!("test LAN {}: logs kept in {}", self.tag, self.dir.display());
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}
