//! Reading `smbclient -L`'s tables, to compare `nbt` with Samba's own client.
//!
//! smbclient prints each table as a header line (`Sharename`, `Server` or `Workgroup`), a line
//! of dashes, then one tab-indented row per entry: the name, then (for shares) the type, then
//! the comment, in padded columns.

use std::path::Path;
use std::process::Output;

use super::netns::Lan;

/// The three tables of `smbclient -L`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Share name, type (`Disk`, `IPC`, ...), comment.
    pub shares: Vec<(String, String, String)>,
    /// Server name, comment.
    pub servers: Vec<(String, String)>,
    /// Workgroup, master.
    pub workgroups: Vec<(String, String)>,
}

/// The rows of the table whose header starts with `head`: each row split into its first
/// `columns - 1` words and the rest of the line (the comment, spaces kept).
fn rows(text: &str, head: &str, columns: usize) -> Vec<Vec<String>> {
    let mut lines = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with(head));
    if lines.next().is_none() {
        return Vec::new();
    }
    lines
        .skip_while(|l| l.trim().starts_with("---"))
        .take_while(|l| l.starts_with('\t') && !l.trim().is_empty())
        .map(|l| {
            let mut rest = l.trim();
            let mut row = Vec::new();
            for _ in 1..columns {
                let (word, tail) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                row.push(word.to_owned());
                rest = tail.trim_start();
            }
            row.push(rest.trim_end().to_owned());
            row
        })
        .collect()
}

/// Reads the tables from smbclient's standard output.
pub fn parse(text: &str) -> Listing {
    let pair = |r: Vec<String>| (r[0].clone(), r[1].clone());
    Listing {
        shares: rows(text, "Sharename", 3)
            .into_iter()
            .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
            .collect(),
        servers: rows(text, "Server", 2).into_iter().map(pair).collect(),
        workgroups: rows(text, "Workgroup", 2).into_iter().map(pair).collect(),
    }
}

/// Runs `smbclient -L HOST -N` over SMB1 in host `from`, with the LAN's client smb.conf and
/// `extra` options (e.g. `client use spnego=no`).
pub fn list(lan: &Lan, from: usize, host: &str, extra: &[&str]) -> (Output, Listing) {
    let conf = lan.client_conf();
    let conf: &Path = conf.as_ref();
    let mut args = vec![
        "-L".to_owned(),
        host.to_owned(),
        "-N".to_owned(),
        "-s".to_owned(),
        conf.display().to_string(),
        "--option=client min protocol=NT1".to_owned(),
    ];
    args.extend(extra.iter().map(|o| format!("--option={o}")));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = lan.run(from, "smbclient", &args);
    let listing = parse(&String::from_utf8_lossy(&out.stdout));
    (out, listing)
}
