//! `nbt view`: the machines of a workgroup, or the workgroups with their masters, in the spirit
//! of `net view` and `smbtree`.
//!
//! Where the answer comes from, in order:
//! 1. the local nbtd, through its control socket, when one runs: it keeps the browse list;
//! 2. otherwise the LAN: the workgroup's master is found by a broadcast query for
//!    `WORKGROUP<1D>` and asked for its backup browsers (GetBackupListRequest); the members are
//!    found by a broadcast query for `WORKGROUP<00>` and each is asked for its node status, which
//!    gives its name, its address and its browser role. Then a backup, or the master, is asked
//!    for the browse list itself over TCP 139 (RAP NetServerEnum2, as `smbclient -L` does): the
//!    machines with their server types and comments, each with its address when the node status
//!    sweep saw it. When no browser lists anything there, the machines are those the sweep
//!    found (`via` says which). Workgroups are found through the masters that answer for
//!    `__MSBROWSE__<01>`: the first of them that answers NetServerEnum2 for SV_TYPE_DOMAIN_ENUM
//!    gives the workgroups with their masters, else each master's node status gives its own.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use nbtd::control::BrowseListReply;
use nbtd::protocol::engine::dgram::DatagramLayer;
use nbtd::protocol::engine::{IfaceAddr, IfaceId};
use nbtd::protocol::name::{NetbiosName, Scope, ScopedName, suffix};
use nbtd::protocol::wire::Emit;
use nbtd::protocol::wire::browse::{
    BrowserFrame, GetBackupListRequest, MAILSLOT_BROWSE, ServerName, ServerType,
};
use serde::Serialize;
use tokio::time::Instant;

use nbtd::protocol::engine::session::client::ServerListing;
use nbtd::protocol::wire::rap::records::ServerInfo1;

use crate::common::{Found, Global, base_text, out, print_json, random_u16, render_table};
use crate::exchange::{self, IfaceChoice, recv_any};
use crate::lookup::{self, QueryAnswer, StopAt, Target};
use crate::scan::{self, HostLine, Pacing};
use nbtd::plural::plural;
use nbtd::smbclient::{self as smb, rap_text};

/// The workgroup asked for when none is named and no daemon says which is ours.
pub const DEFAULT_WORKGROUP: &str = "WORKGROUP";

/// Where `nbt view` takes its answer from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The local daemon when it answers, else the LAN.
    Auto,
    /// The local daemon only.
    Daemon,
    /// The LAN only.
    Lan,
}

/// `nbt view` as the command line asks for it.
#[derive(Debug, Clone)]
pub struct Request {
    /// The workgroup; ours (or WORKGROUP) when absent.
    pub workgroup: Option<String>,
    /// List the workgroups instead of the machines.
    pub workgroups: bool,
    /// Where to look.
    pub source: Source,
    /// The local daemon's control socket.
    pub control_socket: PathBuf,
    /// Interfaces for the LAN queries.
    pub ifaces: IfaceChoice,
    /// How long each LAN step waits for answers.
    pub timeout: Duration,
    /// The datagram service port (138) for GetBackupListRequest.
    pub datagram_port: u16,
    /// The session service port (139) for the browse list.
    pub session_port: u16,
}

/// Most browsers asked for their browse list over TCP 139 before falling back.
const MAX_BROWSERS_ASKED: usize = 3;

/// One machine of a workgroup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Machine {
    /// Its name.
    pub name: String,
    /// Its address, when known.
    pub address: Option<Ipv4Addr>,
    /// SV_TYPE bits, when known from its announcements.
    pub server_type: Option<u32>,
    /// What it is, in words: server or workstation, and its browser role.
    pub kind: String,
    /// Its comment, when known.
    pub comment: Option<String>,
}

/// One workgroup with its master.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkgroupLine {
    /// The workgroup.
    pub name: String,
    /// Its local master's name, when known.
    pub master: Option<String>,
    /// The master's address, when known.
    pub address: Option<Ipv4Addr>,
}

/// A browser: the master of a workgroup, or the server whose browse list was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MasterLine {
    /// Its name, when known.
    pub name: Option<String>,
    /// Its address.
    pub address: Ipv4Addr,
}

/// What `nbt view` found, for text and JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct View {
    /// `daemon` or `lan`.
    pub source: &'static str,
    /// How the list was made: `control_socket` (the local nbtd's browse list), `rap` (a LAN
    /// browser's browse list, over TCP 139) or `node_status` (the hosts that answered on the
    /// LAN).
    pub via: &'static str,
    /// The browser whose browse list was read (with `via` = `rap`).
    pub browser: Option<MasterLine>,
    /// The workgroup listed (absent with `--workgroups`).
    pub workgroup: Option<String>,
    /// Its master, when known.
    pub master: Option<MasterLine>,
    /// Its backup browsers, as the master named them.
    pub backups: Vec<String>,
    /// Its machines.
    pub machines: Vec<Machine>,
    /// The workgroups (with `--workgroups`).
    pub workgroups: Vec<WorkgroupLine>,
}

/// SV_TYPE bits in words: server or workstation, then the browser role.
pub fn describe_type(t: ServerType) -> String {
    let mut words = Vec::new();
    if t.contains(ServerType::DOMAIN_CTRL) {
        words.push("domain controller");
    } else if t.contains(ServerType::SERVER) {
        words.push("server");
    } else if t.contains(ServerType::WORKSTATION) {
        words.push("workstation");
    }
    if t.contains(ServerType::MASTER_BROWSER) {
        words.push("master browser");
    } else if t.contains(ServerType::BACKUP_BROWSER) {
        words.push("backup browser");
    } else if t.contains(ServerType::POTENTIAL_BROWSER) {
        words.push("potential browser");
    }
    if words.is_empty() {
        "unknown".to_owned()
    } else {
        words.join(", ")
    }
}

/// The view from the local daemon's browse list: every interface's list, merged by name.
pub fn from_daemon(reply: BrowseListReply, workgroups: bool) -> View {
    let master = reply
        .interfaces
        .iter()
        .find_map(|i| i.master.clone())
        .map(|m| MasterLine {
            name: m.name,
            address: m.address,
        });
    if workgroups {
        let mut seen = BTreeSet::new();
        let workgroups = reply
            .interfaces
            .iter()
            .flat_map(|i| &i.workgroups)
            .filter(|w| seen.insert(w.name.to_uppercase()))
            .map(|w| WorkgroupLine {
                name: w.name.clone(),
                master: Some(w.master.clone()).filter(|m| !m.is_empty()),
                address: w.address,
            })
            .collect();
        return View {
            source: "daemon",
            via: "control_socket",
            browser: None,
            workgroup: None,
            master: None,
            backups: Vec::new(),
            machines: Vec::new(),
            workgroups,
        };
    }
    let mut seen = BTreeSet::new();
    let mut machines: Vec<Machine> = reply
        .interfaces
        .iter()
        .flat_map(|i| &i.servers)
        .filter(|s| seen.insert(s.name.to_uppercase()))
        .map(|s| {
            let t = ServerType::from_bits_retain(s.server_type);
            Machine {
                name: s.name.clone(),
                address: s.address,
                server_type: Some(s.server_type),
                kind: describe_type(t),
                comment: Some(s.comment.clone()).filter(|c| !c.is_empty()),
            }
        })
        .collect();
    machines.sort_by_key(|m| m.name.to_uppercase());
    View {
        source: "daemon",
        via: "control_socket",
        browser: None,
        workgroup: Some(reply.workgroup),
        master,
        backups: Vec::new(),
        machines,
        workgroups: Vec::new(),
    }
}

/// A machine from its node status: server when it has `<20>`, master when it holds the
/// workgroup's `<1D>`.
fn machine_from_status(h: &HostLine, workgroup: &str) -> Option<Machine> {
    let name = h.name.clone()?;
    let has = |sfx: u8, group: bool, base: Option<&str>| {
        h.names.iter().any(|n| {
            n.suffix == sfx
                && n.group == group
                && base.is_none_or(|b| n.name.eq_ignore_ascii_case(b))
        })
    };
    let mut words = vec![if has(suffix::SERVER, false, None) {
        "server"
    } else {
        "workstation"
    }];
    if has(suffix::LOCAL_MASTER, false, Some(workgroup)) {
        words.push("master browser");
    }
    Some(Machine {
        name,
        address: Some(h.address),
        server_type: None,
        kind: words.join(", "),
        comment: None,
    })
}

/// A machine from a browse list entry; its address when the node status sweep saw it.
fn machine_from_entry(e: &ServerInfo1, hosts: &[HostLine]) -> Machine {
    let name = rap_text(e.name.as_bytes());
    let address = hosts
        .iter()
        .find(|h| {
            h.name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(&name))
        })
        .map(|h| h.address);
    Machine {
        name,
        address,
        server_type: Some(e.server_type.bits()),
        kind: describe_type(e.server_type),
        comment: Some(rap_text(&e.comment)),
    }
}

/// A browser as text: `NAME (address)` or the address.
fn browser_text(b: &MasterLine) -> String {
    match &b.name {
        Some(n) => format!("{n} ({})", b.address),
        None => b.address.to_string(),
    }
}

/// Reads a browse list over TCP 139 (RAP NetServerEnum2 for `server_type` in `domain`, continued
/// as needed): from the first of `browsers` (at most [`MAX_BROWSERS_ASKED`]) that lists
/// something. The browser that did and its list, or why none did.
async fn read_browse_list(
    browsers: &[MasterLine],
    server_type: ServerType,
    domain: ServerName,
    req: &Request,
    global: &Global,
) -> Result<(MasterLine, ServerListing), String> {
    let mut why = Vec::new();
    for b in browsers.iter().take(MAX_BROWSERS_ASKED) {
        let target = smb::Target {
            addr: SocketAddrV4::new(b.address, req.session_port),
            name: b.name.clone(),
            label: b.name.clone().unwrap_or_else(|| b.address.to_string()),
        };
        let listing = match smb::Session::open(&target, req.timeout, global.verbose).await {
            Ok(mut s) => {
                let l = s.servers(server_type, domain).await;
                s.close().await;
                l
            }
            Err(e) => Err(e),
        };
        match listing {
            Ok(l) if l.servers.is_empty() => {
                why.push(format!("the browse list of {} is empty", browser_text(b)));
            }
            Ok(l) => {
                if let Some(i) = &l.incomplete {
                    eprintln!(
                        "nbt: the browse list of {} is partial: {i}",
                        browser_text(b)
                    );
                }
                return Ok((b.clone(), l));
            }
            Err(e) => why.push(e.message()),
        }
    }
    Err(why.join("; "))
}

/// The browsers of a sweep in the order to ask them: the backups the master named (other than
/// the master), then the master.
fn browsers_to_ask(
    master: Option<&MasterLine>,
    backups: &[String],
    hosts: &[HostLine],
) -> Vec<MasterLine> {
    let mut v: Vec<MasterLine> = backups
        .iter()
        .filter(|b| {
            master
                .and_then(|m| m.name.as_deref())
                .is_none_or(|m| !m.eq_ignore_ascii_case(b))
        })
        .filter_map(|b| {
            let h = hosts
                .iter()
                .find(|h| h.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(b)))?;
            Some(MasterLine {
                name: h.name.clone(),
                address: h.address,
            })
        })
        .collect();
    v.extend(master.cloned());
    v
}

/// The table of machines: name, type, comment, address.
pub fn machines_table(machines: &[Machine]) -> Vec<String> {
    let rows: Vec<[String; 4]> = machines
        .iter()
        .map(|m| {
            [
                m.name.clone(),
                m.kind.clone(),
                m.comment.clone().unwrap_or_else(|| "-".into()),
                m.address.map_or_else(|| "-".into(), |a| a.to_string()),
            ]
        })
        .collect();
    render_table(["NAME", "TYPE", "COMMENT", "ADDRESS"], rows)
}

/// The table of workgroups: name, master, master's address.
pub fn workgroups_table(w: &[WorkgroupLine]) -> Vec<String> {
    let rows: Vec<[String; 3]> = w
        .iter()
        .map(|w| {
            [
                w.name.clone(),
                w.master.clone().unwrap_or_else(|| "-".into()),
                w.address.map_or_else(|| "-".into(), |a| a.to_string()),
            ]
        })
        .collect();
    render_table(["WORKGROUP", "MASTER", "ADDRESS"], rows)
}

/// The addresses that answered a broadcast query for `name` positively.
async fn members(
    name: NetbiosName,
    req: &Request,
    global: &Global,
) -> anyhow::Result<Vec<Ipv4Addr>> {
    let q = ScopedName::unscoped(name);
    let target = Target::Broadcast(req.ifaces.clone());
    let c = lookup::query(&q, &target, Some(req.timeout), 2, StopAt::Timeout, global).await?;
    let mut out = BTreeSet::new();
    for a in c.answers {
        if let QueryAnswer::Positive { addresses, .. } = a.result {
            for nb in addresses {
                out.insert(nb.addr);
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// Asks the master for its backup browsers (MS-BRWS 3.1.5.1): a GetBackupListRequest to
/// `WORKGROUP<1D>`, answered by unicast to our socket.
async fn backup_list(
    workgroup: NetbiosName,
    req: &Request,
    global: &Global,
) -> anyhow::Result<Vec<String>> {
    let Some(i) = exchange::choose_interfaces(&req.ifaces)?.into_iter().next() else {
        return Ok(Vec::new());
    };
    let ep = exchange::broadcast_endpoint(&i)?;
    let local = match ep.socket.local_addr()? {
        SocketAddr::V4(a) => a,
        SocketAddr::V6(_) => return Ok(Vec::new()),
    };
    let iface = IfaceAddr {
        id: IfaceId(0),
        addr: i.addr,
        netmask: i.netmask,
        broadcast: i.broadcast,
        mac: i.mac,
    };
    let token = u32::from(random_u16()) << 16 | u32::from(random_u16());
    let frame = BrowserFrame::GetBackupListRequest(GetBackupListRequest {
        requested_count: 16,
        token,
    });
    let mut layer = DatagramLayer::new(local.port(), Scope::none(), random_u16());
    let me = NetbiosName::new("NBT", 0).context("our NetBIOS name")?;
    let t = layer
        .mailslot(
            &iface,
            me,
            ScopedName::unscoped(workgroup.with_suffix(suffix::LOCAL_MASTER)),
            None,
            MAILSLOT_BROWSE,
            frame.to_vec()?,
        )
        .context("build the GetBackupListRequest")?;
    let dst = SocketAddrV4::new(i.broadcast, req.datagram_port);
    if global.verbose {
        eprintln!("nbt: GetBackupListRequest to {dst} ({})", ep.label);
    }
    ep.socket.send_to(&t.payload, SocketAddr::V4(dst)).await?;
    let deadline = Instant::now() + req.timeout;
    let mut buf = vec![0u8; 65_536];
    let mut names = BTreeSet::new();
    let sockets = [&ep.socket];
    loop {
        let event = tokio::select! {
            r = recv_any(&sockets, &mut buf) => Some(r),
            _ = tokio::time::sleep_until(deadline) => None,
        };
        let Some((_, Ok((n, SocketAddr::V4(from))))) = event else {
            break;
        };
        let now = std::time::Instant::now();
        let Ok(m) = layer.receive(now, from, &buf[..n]) else {
            continue;
        };
        if let Ok(BrowserFrame::GetBackupListResponse(r)) = BrowserFrame::parse(&m.data) {
            if r.token == token {
                names.extend(r.servers.iter().map(|s| s.to_string_lossy()));
                // nmbd answers twice; one is enough.
                break;
            }
        }
    }
    Ok(names.into_iter().collect())
}

fn workgroup_name(req: &Request) -> anyhow::Result<NetbiosName> {
    let text = req.workgroup.as_deref().unwrap_or(DEFAULT_WORKGROUP);
    NetbiosName::new(text, 0).map_err(|e| anyhow::anyhow!("{e}"))
}

fn pacing(req: &Request) -> Pacing {
    Pacing {
        rate: 250,
        retries: 1,
        timeout: req.timeout,
        progress: false,
    }
}

/// The view from the LAN alone.
pub async fn from_lan(req: &Request, global: &Global) -> anyhow::Result<View> {
    if req.workgroups {
        let masters = members(NetbiosName::MSBROWSE, req, global).await?;
        let swept = scan::sweep(masters.clone(), pacing(req), global).await?;
        let (hosts, _) = swept.scan.results();
        let browsers: Vec<MasterLine> = masters
            .iter()
            .map(|&address| MasterLine {
                name: hosts
                    .iter()
                    .find(|h| h.address == address)
                    .and_then(|h| h.name.clone()),
                address,
            })
            .collect();
        let listed = if browsers.is_empty() {
            None
        } else {
            match read_browse_list(
                &browsers,
                ServerType::DOMAIN_ENUM,
                ServerName::EMPTY,
                req,
                global,
            )
            .await
            {
                Ok(l) => Some(l),
                Err(why) => {
                    eprintln!(
                        "nbt: no master listed the workgroups over TCP 139 ({why}); listing each \
                         master's own workgroup from its node status instead"
                    );
                    None
                }
            }
        };
        if let Some((browser, l)) = listed {
            let workgroups = l
                .servers
                .iter()
                .map(|w| {
                    let master = Some(rap_text(&w.comment)).filter(|m| !m.is_empty());
                    let address = master.as_deref().and_then(|m| {
                        hosts
                            .iter()
                            .find(|h| h.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(m)))
                            .map(|h| h.address)
                    });
                    WorkgroupLine {
                        name: rap_text(w.name.as_bytes()),
                        master,
                        address,
                    }
                })
                .collect();
            return Ok(View {
                source: "lan",
                via: "rap",
                browser: Some(browser),
                workgroup: None,
                master: None,
                backups: Vec::new(),
                machines: Vec::new(),
                workgroups,
            });
        }
        let mut workgroups: Vec<WorkgroupLine> = hosts
            .iter()
            .filter_map(|h| {
                let wg = h
                    .names
                    .iter()
                    .find(|n| !n.group && n.suffix == suffix::LOCAL_MASTER)?;
                Some(WorkgroupLine {
                    name: wg.name.clone(),
                    master: h.name.clone(),
                    address: Some(h.address),
                })
            })
            .collect();
        workgroups.sort_by(|a, b| a.name.cmp(&b.name));
        workgroups.dedup_by(|a, b| a.name == b.name);
        return Ok(View {
            source: "lan",
            via: "node_status",
            browser: None,
            workgroup: None,
            master: None,
            backups: Vec::new(),
            machines: Vec::new(),
            workgroups,
        });
    }
    let wg = workgroup_name(req)?;
    let wg_text = base_text(&wg);
    let master = members(wg.with_suffix(suffix::LOCAL_MASTER), req, global)
        .await?
        .into_iter()
        .next();
    let backups = match master {
        Some(_) => backup_list(wg, req, global).await?,
        None => Vec::new(),
    };
    let mut addrs = members(wg.with_suffix(suffix::WORKSTATION), req, global).await?;
    addrs.extend(master);
    addrs.sort();
    addrs.dedup();
    let swept = scan::sweep(addrs, pacing(req), global).await?;
    let (hosts, _) = swept.scan.results();
    let master = master.map(|address| MasterLine {
        name: hosts
            .iter()
            .find(|h| h.address == address)
            .and_then(|h| h.name.clone()),
        address,
    });
    let browsers = browsers_to_ask(master.as_ref(), &backups, &hosts);
    let domain = ServerName::from_bytes(wg.base()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let listed = if browsers.is_empty() {
        None
    } else {
        match read_browse_list(&browsers, ServerType::ALL, domain, req, global).await {
            Ok(l) => Some(l),
            Err(why) => {
                eprintln!(
                    "nbt: no browser listed {wg_text} over TCP 139 ({why}); listing the hosts \
                     that answered node status instead"
                );
                None
            }
        }
    };
    let (via, browser, mut machines) = match listed {
        Some((b, l)) => (
            "rap",
            Some(b),
            l.servers
                .iter()
                .map(|e| machine_from_entry(e, &hosts))
                .collect::<Vec<_>>(),
        ),
        None => (
            "node_status",
            None,
            hosts
                .iter()
                .filter_map(|h| machine_from_status(h, &wg_text))
                .collect(),
        ),
    };
    machines.sort_by_key(|m| m.name.to_uppercase());
    Ok(View {
        source: "lan",
        via,
        browser,
        workgroup: Some(wg_text),
        master,
        backups,
        machines,
        workgroups: Vec::new(),
    })
}

/// Runs `nbt view`.
pub async fn run(req: &Request, global: &Global) -> anyhow::Result<Found> {
    let daemon = match req.source {
        Source::Lan => None,
        Source::Auto => {
            match nbtd::control::query_browse_list(&req.control_socket, req.workgroup.as_deref()) {
                Ok(r) => Some(r),
                Err(e) => {
                    if global.verbose {
                        eprintln!("nbt: no local nbtd ({e:#}); asking the LAN");
                    }
                    None
                }
            }
        }
        Source::Daemon => Some(nbtd::control::query_browse_list(
            &req.control_socket,
            req.workgroup.as_deref(),
        )?),
    };
    let view = match daemon {
        Some(reply) => from_daemon(reply, req.workgroups),
        None => from_lan(req, global).await?,
    };
    print(&view, global)
}

/// Where a view comes from, in words.
fn origin(view: &View) -> String {
    match (view.source, &view.browser) {
        ("daemon", _) => "from the local nbtd".into(),
        (_, Some(b)) => format!("from the browse list of {}", browser_text(b)),
        _ => "from node status on the LAN".into(),
    }
}

/// Prints a view as text or JSON; says whether anything was listed.
pub fn print(view: &View, global: &Global) -> anyhow::Result<Found> {
    let found = !view.machines.is_empty() || !view.workgroups.is_empty();
    if global.json {
        print_json(view)?;
        return Ok(if found { Found::Yes } else { Found::No });
    }
    if let Some(wg) = &view.workgroup {
        for l in machines_table(&view.machines) {
            out(l)?;
        }
        let master = view.master.as_ref().map_or_else(
            || "no master answered".to_owned(),
            |m| match &m.name {
                Some(n) => format!("master {n} ({})", m.address),
                None => format!("master at {}", m.address),
            },
        );
        let backups = if view.backups.is_empty() {
            String::new()
        } else {
            format!(", backups {}", view.backups.join(" "))
        };
        eprintln!(
            "nbt: {} in {wg}, {master}{backups} ({})",
            plural(view.machines.len(), "machine", "machines"),
            origin(view)
        );
    } else {
        for l in workgroups_table(&view.workgroups) {
            out(l)?;
        }
        eprintln!(
            "nbt: {} ({})",
            plural(view.workgroups.len(), "workgroup", "workgroups"),
            origin(view)
        );
    }
    Ok(if found { Found::Yes } else { Found::No })
}

#[cfg(test)]
mod tests;
