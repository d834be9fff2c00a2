//! `nbt shares`: a host's shares, asked over SMB1 on TCP 139 with RAP NetShareEnum, in the
//! spirit of `smbclient -L HOST -N`.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use serde::Serialize;

use nbtd::plural::plural;

use crate::common::{Found, Global, out, print_json, render_table};
use crate::lookup;
use nbtd::smbclient::{Session, SmbError, Target, rap_text, share_type_text};

/// `nbt shares` as the command line asks for it.
#[derive(Debug, Clone)]
pub struct Request {
    /// An IPv4 address or a NetBIOS name.
    pub host: String,
    /// Where to look a name up.
    pub resolver: crate::lookup::Target,
    /// How long the connect and each reply may take.
    pub timeout: Duration,
    /// The session service's TCP port.
    pub session_port: u16,
}

/// One share, for text and JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShareLine {
    /// Its name.
    pub name: String,
    /// Disk, Printer, Device or IPC.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The type number as sent (STYPE_*).
    pub type_code: u16,
    /// Its comment.
    pub comment: String,
}

/// What `nbt shares` found, for JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The address asked.
    pub host: Ipv4Addr,
    /// The name it was resolved from, if one was given.
    pub resolved_from: Option<String>,
    /// The server's name, as it gave it in the negotiation.
    pub server: Option<String>,
    /// The server's workgroup, as it gave it in the session setup.
    pub workgroup: Option<String>,
    /// The shares, in the server's order.
    pub shares: Vec<ShareLine>,
    /// Why the list is partial, when it is.
    pub incomplete: Option<String>,
}

/// The shares as text lines: name, type, comment.
pub fn table(shares: &[ShareLine]) -> Vec<String> {
    let rows: Vec<[String; 3]> = shares
        .iter()
        .map(|s| [s.name.clone(), s.kind.to_owned(), s.comment.clone()])
        .collect();
    render_table(["NAME", "TYPE", "COMMENT"], rows)
}

/// Reports a failure: a refusal by the server is "not found" (exit 1), anything else an error.
pub fn failed(e: SmbError) -> anyhow::Result<Found> {
    if e.is_refusal() {
        eprintln!("nbt: {}", e.message());
        Ok(Found::No)
    } else {
        Err(e.into())
    }
}

fn some(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// Runs `nbt shares`.
pub async fn run(req: Request, global: &Global) -> anyhow::Result<Found> {
    let Some((ip, name)) = lookup::resolve_host(&req.host, &req.resolver, global).await? else {
        return Ok(Found::No);
    };
    let target = Target {
        addr: SocketAddrV4::new(ip, req.session_port),
        name: name.as_ref().map(|n| n.name.base_str()),
        label: req.host.clone(),
    };
    let mut session = match Session::open(&target, req.timeout, global.verbose).await {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    let listing = session.shares().await;
    let info = session.info().clone();
    session.close().await;
    let listing = match listing {
        Ok(l) => l,
        Err(e) => return failed(e),
    };
    let report = Report {
        host: ip,
        resolved_from: name.map(|n| n.to_string()),
        server: some(&info.server_name),
        workgroup: some(&info.primary_domain),
        shares: listing
            .shares
            .iter()
            .map(|s| ShareLine {
                name: rap_text(s.name.as_bytes()),
                kind: share_type_text(s.share_type),
                type_code: s.share_type,
                comment: rap_text(&s.remark),
            })
            .collect(),
        incomplete: listing.incomplete.map(|i| i.to_string()),
    };
    let found = if report.shares.is_empty() {
        Found::No
    } else {
        Found::Yes
    };
    if global.json {
        print_json(&report)?;
    } else {
        for l in table(&report.shares) {
            out(l)?;
        }
        let who = match (&report.server, &report.workgroup) {
            (Some(s), Some(w)) => format!("{s} ({ip}, workgroup {w})"),
            (Some(s), None) => format!("{s} ({ip})"),
            _ => ip.to_string(),
        };
        eprintln!(
            "nbt: {} on {who}",
            plural(report.shares.len(), "share", "shares")
        );
    }
    if let Some(why) = &report.incomplete {
        eprintln!("nbt: the list is partial: {why}");
    }
    if found == Found::No {
        eprintln!("nbt: {ip} listed no shares");
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_like_smbclient() {
        let s = [
            ShareLine {
                name: "pub".into(),
                kind: share_type_text(0),
                type_code: 0,
                comment: "lab share".into(),
            },
            ShareLine {
                name: "IPC$".into(),
                kind: share_type_text(3),
                type_code: 3,
                comment: "IPC Service (lab)".into(),
            },
        ];
        assert_eq!(
            table(&s),
            [
                "NAME  TYPE  COMMENT",
                "pub   Disk  lab share",
                "IPC$  IPC   IPC Service (lab)",
            ]
        );
        let v = serde_json::to_value(&s[1]).unwrap();
        assert_eq!(v["type"], "IPC");
        assert_eq!(v["type_code"], 3);
    }
}
