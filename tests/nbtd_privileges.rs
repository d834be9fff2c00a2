//! nbtd started as root on the real ports drops to an unprivileged user once they are bound:
//! `/proc/PID/status` shows the user's IDs and CAP_NET_BIND_SERVICE alone, and nbtd still
//! answers, binds the ports of an address added later, and saves its state. Runs in network
//! namespaces of its own (nothing leaves them); skipped, saying why, without root.

mod nbtd_harness;

use std::net::Ipv4Addr;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use nbtd_harness::{Daemon, Netns, PATIENCE, active_on};

/// `CAP_NET_BIND_SERVICE` as a capability mask in `/proc/PID/status`.
const NET_BIND_SERVICE_MASK: &str = "0000000000000400";

/// A directory under /tmp (which every user may traverse), removed on drop.
struct TmpDir(PathBuf);

impl Drop for TmpDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The value of a `/proc/PID/status` field.
fn field(status: &str, key: &str) -> String {
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key} in {status}"))
        .trim()
        .to_owned()
}

#[test]
fn root_drops_to_the_user_and_keeps_only_net_bind_service() {
    let Some(ns) = Netns::create("privdrop") else {
        return;
    };
    let Some(client) = Netns::create("privdrop-client") else {
        return;
    };
    let nobody = nbtd::sys::user_by_name("nobody")
        .unwrap()
        .expect("a user nobody");
    // nbt0 faces the client's namespace; nbt1 gets an address once nbtd runs.
    ns.ip(&[
        "link", "add", "nbt0", "type", "veth", "peer", "name", "peer0",
    ]);
    ns.ip(&["link", "set", "peer0", "netns", &client.0]);
    ns.ip(&["addr", "add", "198.19.80.1/24", "dev", "nbt0"]);
    ns.ip(&["link", "set", "nbt0", "up"]);
    client.ip(&["addr", "add", "198.19.80.2/24", "dev", "peer0"]);
    client.ip(&["link", "set", "peer0", "up"]);
    ns.ip(&[
        "link", "add", "nbt1", "type", "veth", "peer", "name", "nbt1p",
    ]);
    ns.ip(&["link", "set", "nbt1", "up"]);
    ns.ip(&["link", "set", "nbt1p", "up"]);

    let dir = TmpDir(std::env::temp_dir().join(format!("nbtd-privdrop-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    std::fs::create_dir_all(&dir.0).unwrap();
    // nbtd creates both directories, and so gives them to the user.
    let state = dir.0.join("state");
    let control = dir.0.join("run").join("control.sock");
    let config = dir.0.join("nbtd.toml");
    std::fs::write(
        &config,
        "user = \"nobody\"\n[interfaces]\nrescan_interval_secs = 1\n",
    )
    .unwrap();
    let mut cmd = ns.command(nbtd_harness::NBTD);
    cmd.args(["--config", config.to_str().unwrap()])
        .args(["--interfaces", "nbt*", "--netbios-name", "PRIVTEST"])
        .args(["--state-dir", state.to_str().unwrap()])
        .args(["--control-socket", control.to_str().unwrap()])
        .args(["--log-level", "info"]);
    // Below this port binding needs the capability: what the address added later proves.
    let out = ns
        .command("sysctl")
        .args(["-n", "net.ipv4.ip_unprivileged_port_start"])
        .output()
        .unwrap();
    let start: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert!(
        start > 139,
        "ports 137 to 139 need CAP_NET_BIND_SERVICE here"
    );
    let mut d = Daemon::spawn_dropping_privileges(cmd);
    let first = Ipv4Addr::new(198, 19, 80, 1);
    d.wait_for_status(&control, "names active on nbt0", PATIENCE, |s| {
        active_on(s, first)
    });

    let status = std::fs::read_to_string(format!("/proc/{}/status", d.pid())).unwrap();
    let ids = |key| {
        field(&status, key)
            .split_whitespace()
            .map(|v| v.parse::<u32>().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids("Uid"), [nobody.uid; 4], "{status}");
    assert_eq!(ids("Gid"), [nobody.gid; 4], "{status}");
    assert_eq!(field(&status, "Groups"), "", "{status}");
    assert_eq!(field(&status, "CapEff"), NET_BIND_SERVICE_MASK, "{status}");
    assert_eq!(field(&status, "CapPrm"), NET_BIND_SERVICE_MASK, "{status}");
    assert_eq!(field(&status, "CapBnd"), NET_BIND_SERVICE_MASK, "{status}");
    assert_eq!(field(&status, "CapInh"), "0000000000000000", "{status}");
    assert_eq!(field(&status, "NoNewPrivs"), "1", "{status}");
    // Every thread, including the fast path's, which start before the switch: the same user,
    // and no capability but CAP_NET_BIND_SERVICE.
    let tasks = std::fs::read_dir(format!("/proc/{}/task", d.pid())).unwrap();
    let mut threads = 0;
    for task in tasks {
        let Ok(status) = std::fs::read_to_string(task.unwrap().path().join("status")) else {
            continue; // the thread ended meanwhile
        };
        threads += 1;
        let uids: Vec<String> = field(&status, "Uid")
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        assert_eq!(uids, vec![nobody.uid.to_string(); 4], "{status}");
        assert_eq!(field(&status, "Groups"), "", "{status}");
        for caps in ["CapEff", "CapPrm"] {
            let v = field(&status, caps);
            assert!(
                v == NET_BIND_SERVICE_MASK || v == "0000000000000000",
                "{caps} {status}"
            );
        }
    }
    assert!(threads >= 2, "the fast path's thread is missing");
    let meta = std::fs::symlink_metadata(&state).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (nobody.uid, nobody.gid));
    assert_eq!(meta.mode() & 0o7777, 0o700, "the state directory");
    // The control socket, and the directory made for it, stay root's, so that another service
    // running as nobody can neither use the socket nor put its own in its place.
    let meta = std::fs::symlink_metadata(&control).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (0, 0), "the control socket");
    assert_eq!(meta.mode() & 0o777, 0o660, "the control socket");
    let meta = std::fs::symlink_metadata(control.parent().unwrap()).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (0, 0), "the socket's directory");
    assert!(
        !nbt_daemon_as(&control, "nobody", "nogroup")
            .status
            .success(),
        "nobody is refused the control socket"
    );
    // Root is not: nbtd, as nobody, still accepts on it.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nbt"))
        .args(["daemon", "--control-socket", control.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");

    // It still answers, on UDP 137, from the client's namespace.
    let out = client
        .command(env!("CARGO_BIN_EXE_nbt"))
        .args(["lookup", "PRIVTEST", "--server", "198.19.80.1", "--json"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("198.19.80.1"), "{text}");

    // An address that appears later gets its ports 137, 138 and 139 all the same.
    ns.ip(&["addr", "add", "198.19.81.1/24", "dev", "nbt1"]);
    let second = Ipv4Addr::new(198, 19, 81, 1);
    let st = d.wait_for_status(&control, "the new address served", PATIENCE, |s| {
        active_on(s, second) && s.session.is_some_and(|x| x.serving == 2)
    });
    assert_eq!(st.interfaces.len(), 2, "{st:#?}");

    d.signal("TERM");
    let exit = d.wait(PATIENCE);
    let log = d.stderr();
    assert_eq!(exit.code(), Some(0), "{log}");
    assert!(
        log.contains("now running as nobody") && log.contains("with only CAP_NET_BIND_SERVICE"),
        "{log}"
    );
    assert!(log.contains("saved the browse list"), "{log}");
    assert!(!log.contains("cannot"), "no failure: {log}");
    let saved = std::fs::metadata(state.join("browse.json")).expect("the state is saved");
    assert_eq!(saved.uid(), nobody.uid);
}

/// `nbt daemon` on `control` run as `user` and `group` (setpriv, no supplementary groups
/// unless `extra` names one).
fn nbt_daemon_as(control: &std::path::Path, user: &str, group: &str) -> std::process::Output {
    nbt_daemon_with_groups(control, user, group, None)
}

fn nbt_daemon_with_groups(
    control: &std::path::Path,
    user: &str,
    group: &str,
    extra: Option<&str>,
) -> std::process::Output {
    let mut cmd = std::process::Command::new("setpriv");
    cmd.args(["--reuid", user, "--regid", group]);
    match extra {
        Some(g) => cmd.args(["--groups", g]),
        None => cmd.arg("--clear-groups"),
    };
    cmd.args([env!("CARGO_BIN_EXE_nbt"), "daemon", "--control-socket"])
        .arg(control)
        .output()
        .expect("run setpriv")
}

#[test]
fn the_control_socket_belongs_to_root_and_control_group() {
    let Some(ns) = Netns::create("privgroup") else {
        return;
    };
    ns.ip(&[
        "link", "add", "nbt0", "type", "veth", "peer", "name", "peer0",
    ]);
    ns.ip(&["addr", "add", "198.19.82.1/24", "dev", "nbt0"]);
    ns.ip(&["link", "set", "nbt0", "up"]);
    ns.ip(&["link", "set", "peer0", "up"]);
    let dir = TmpDir(std::env::temp_dir().join(format!("nbtd-privgroup-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    std::fs::create_dir_all(&dir.0).unwrap();
    let control = dir.0.join("control.sock");
    let config = dir.0.join("nbtd.toml");
    // `daemon` (GID 1 on Debian and its kin) stands for the group of nbt's users.
    let gid = nbtd::sys::group_by_name("daemon")
        .unwrap()
        .expect("a group daemon");
    std::fs::write(&config, "user = \"nobody\"\ncontrol_group = \"daemon\"\n").unwrap();
    let mut cmd = ns.command(nbtd_harness::NBTD);
    cmd.args(["--config", config.to_str().unwrap()])
        .args(["--interfaces", "nbt0", "--netbios-name", "PRIVGROUP"])
        .args(["--state-dir", dir.0.join("state").to_str().unwrap()])
        .args(["--control-socket", control.to_str().unwrap()]);
    let mut d = Daemon::spawn_dropping_privileges(cmd);
    d.wait_for_status(&control, "names active on nbt0", PATIENCE, |s| {
        active_on(s, Ipv4Addr::new(198, 19, 82, 1))
    });
    let meta = std::fs::symlink_metadata(&control).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (0, gid));
    assert_eq!(meta.mode() & 0o777, 0o660);
    // A member of the group may use it, nobody may not.
    let member = nbt_daemon_with_groups(&control, "nobody", "nogroup", Some("daemon"));
    assert!(member.status.success(), "{member:?}");
    assert!(String::from_utf8_lossy(&member.stdout).contains("PRIVGROUP"));
    assert!(
        !nbt_daemon_as(&control, "nobody", "nogroup")
            .status
            .success()
    );
    d.signal("TERM");
    assert_eq!(d.wait(PATIENCE).code(), Some(0), "{}", d.stderr());

    // A group that does not exist stops nbtd at start, with what to do.
    std::fs::write(&config, "control_group = \"no-such-group-nbtd\"\n").unwrap();
    let mut cmd = ns.command(nbtd_harness::NBTD);
    cmd.args(["--config", config.to_str().unwrap(), "--interfaces", "nbt0"])
        .args(["--state-dir", dir.0.join("state2").to_str().unwrap()])
        .args(["--control-socket", dir.0.join("c2.sock").to_str().unwrap()]);
    let mut d = Daemon::spawn_dropping_privileges(cmd);
    let exit = d.wait(PATIENCE);
    let log = d.stderr();
    assert_eq!(exit.code(), Some(1), "a configuration error: {log}");
    assert!(
        log.contains("control_group = \"no-such-group-nbtd\": there is no such group")
            && log.contains("groupadd"),
        "{log}"
    );
    assert!(!dir.0.join("c2.sock").exists(), "it stops before binding");
}

#[test]
fn an_unknown_user_is_named_with_the_key() {
    let Some(ns) = Netns::create("privdrop-unknown") else {
        return;
    };
    let dir = TmpDir(std::env::temp_dir().join(format!("nbtd-privunknown-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let mut cmd = ns.command(nbtd_harness::NBTD);
    cmd.args(["--interfaces", "lo", "--user", "no-such-user-nbtd"])
        .args(["--state-dir", dir.0.join("state").to_str().unwrap()])
        .args(["--control-socket", dir.0.join("c.sock").to_str().unwrap()]);
    let mut d = Daemon::spawn_dropping_privileges(cmd);
    let exit = d.wait(PATIENCE);
    let log = d.stderr();
    assert_eq!(exit.code(), Some(1), "a configuration error: {log}");
    assert!(
        log.contains("user = \"no-such-user-nbtd\": there is no such user"),
        "{log}"
    );
    assert!(log.contains("drop_privileges = false"), "{log}");
    assert!(
        !dir.0.join("state").exists(),
        "it stops before touching anything"
    );
}
