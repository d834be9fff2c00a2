//! What the subcommands share: options, the found/not-found outcome, durations, transaction
//! IDs, ignored-reply accounting and the text forms of names, flags and MAC addresses.

use std::collections::hash_map::RandomState;
use std::fmt::Display;
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::net::SocketAddrV4;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use anyhow::Context;
use nbtd::protocol::NetbiosName;
use nbtd::protocol::wire::ns::{NameFlags, NodeName, NodeType, Rcode};
use serde::Serialize;

/// Options every subcommand takes.
#[derive(Debug, Clone)]
pub struct Global {
    /// Print JSON instead of text.
    pub json: bool,
    /// Destination UDP port.
    pub port: u16,
    /// Explain on stderr.
    pub verbose: bool,
}

/// Whether a subcommand found what it was asked for; decides the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// Exit status 0.
    Yes,
    /// Exit status 1.
    No,
    /// Something was found that must not be there (`nbt canary`: a poisoner answered): exit
    /// status 4.
    Alarm,
}

/// Shows a duration the way users write it: `1.5 s`, `800 ms`.
pub use nbtd::smbclient::show_duration;

/// A transaction ID nobody can predict from outside (seeded by the standard library's random
/// hash keys, the clock and the process ID).
pub fn random_u16() -> u16 {
    let mut h = RandomState::new().build_hasher();
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    h.write_u128(now.as_nanos());
    h.write_u32(std::process::id());
    (h.finish() >> 17) as u16
}

/// Why a reply was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ignore {
    /// It does not parse as a name service packet.
    Malformed(String),
    /// Its transaction ID is not one of ours.
    WrongId(u16),
    /// It parses and has our ID, but it is not an answer to what we asked.
    Unexpected(String),
}

/// Counts of ignored replies, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Ignored {
    /// Replies that do not parse.
    pub malformed: u64,
    /// Replies with a transaction ID we did not use.
    pub wrong_id: u64,
    /// Replies that are not answers to our question.
    pub unexpected: u64,
}

/// At most this many ignored replies are described one by one with `--verbose`.
const MAX_IGNORE_LINES: u64 = 20;

impl Ignored {
    /// Counts one ignored reply and, with `verbose`, says why (the first few only).
    pub fn note(&mut self, from: SocketAddrV4, why: &Ignore, verbose: bool) {
        let seen = self.total();
        match why {
            Ignore::Malformed(_) => self.malformed += 1,
            Ignore::WrongId(_) => self.wrong_id += 1,
            Ignore::Unexpected(_) => self.unexpected += 1,
        }
        if verbose && seen < MAX_IGNORE_LINES {
            let text = match why {
                Ignore::Malformed(e) => format!("malformed reply: {e}"),
                Ignore::WrongId(id) => format!("reply with transaction ID {id:#06x}, not ours"),
                Ignore::Unexpected(what) => what.clone(),
            };
            eprintln!("nbt: ignored {from}: {text}");
        } else if verbose && seen == MAX_IGNORE_LINES {
            eprintln!("nbt: (further ignored replies are only counted)");
        }
    }

    /// All ignored replies.
    pub fn total(&self) -> u64 {
        self.malformed + self.wrong_id + self.unexpected
    }

    /// One line summary, e.g. `3 replies ignored (1 malformed, 2 with another transaction ID)`.
    pub fn summary(&self) -> Option<String> {
        if self.total() == 0 {
            return None;
        }
        let mut parts = Vec::new();
        if self.malformed > 0 {
            parts.push(format!("{} malformed", self.malformed));
        }
        if self.wrong_id > 0 {
            parts.push(format!("{} with another transaction ID", self.wrong_id));
        }
        if self.unexpected > 0 {
            parts.push(format!("{} not answering our question", self.unexpected));
        }
        Some(format!(
            "{} ignored ({})",
            nbtd::plural::plural(self.total(), "reply", "replies"),
            parts.join(", ")
        ))
    }
}

/// What an RCODE means, in words.
pub fn rcode_meaning(rcode: Rcode) -> &'static str {
    match rcode.value() {
        0 => "success",
        1 => "the request was malformed",
        2 => "server failure",
        3 => "the name does not exist",
        4 => "unsupported request",
        5 => "refused",
        6 => "the name is active on another node",
        7 => "the name is in conflict",
        _ => "an undefined error code",
    }
}

/// The name part of a NetBIOS name as text, escaped like its `Display` form but without the
/// suffix (`ALPHA`, `\x01\x02__MSBROWSE__\x02`).
pub fn base_text(name: &NetbiosName) -> String {
    let full = name.to_string();
    // Display writes `<xx>` last and escapes `<` in the name, so the last `<` starts the suffix.
    match full.rsplit_once('<') {
        Some((base, _)) => base.to_owned(),
        None => full,
    }
}

/// Text of the owner node type.
pub fn node_type_text(t: NodeType) -> &'static str {
    match t {
        NodeType::B => "B",
        NodeType::P => "P",
        NodeType::M => "M",
        NodeType::H => "H",
    }
}

/// The state flags of a node status entry, in the order nbtstat lists them.
pub fn name_flag_words(flags: NameFlags) -> Vec<&'static str> {
    let mut v = Vec::new();
    for (bit, word) in [
        (NameFlags::ACTIVE, "ACTIVE"),
        (NameFlags::CONFLICT, "CONFLICT"),
        (NameFlags::DEREGISTERING, "DEREGISTERING"),
        (NameFlags::PERMANENT, "PERMANENT"),
    ] {
        if flags.contains(bit) {
            v.push(word);
        }
    }
    v
}

/// A MAC address as `00-1a-2b-3c-4d-5e`, as nbtstat and nmblookup print it.
pub fn mac_text(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join("-")
}

/// What a well-known suffix means, for the status table.
pub fn suffix_meaning(name: &NodeName) -> &'static str {
    let group = name.flags.is_group();
    if name.name == NetbiosName::MSBROWSE {
        return "master browsers";
    }
    match (name.name.suffix(), group) {
        (0x00, false) => "workstation",
        (0x00, true) => "workgroup",
        (0x03, _) => "messenger",
        (0x1b, _) => "domain master browser",
        (0x1c, _) => "domain controllers",
        (0x1d, _) => "local master browser",
        (0x1e, _) => "browser elections",
        (0x20, _) => "file server",
        _ => "",
    }
}

/// One entry of a node status name table, for JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NameEntry {
    /// The name without suffix, escaped as text.
    pub name: String,
    /// The suffix byte.
    pub suffix: u8,
    /// `NAME<xx>`.
    pub netbios_name: String,
    /// Whether this is a group name.
    pub group: bool,
    /// Owner node type: B, P, M or H.
    pub node_type: &'static str,
    /// ACTIVE, CONFLICT, DEREGISTERING, PERMANENT as set.
    pub flags: Vec<&'static str>,
}

impl From<&NodeName> for NameEntry {
    fn from(n: &NodeName) -> Self {
        NameEntry {
            name: base_text(&n.name),
            suffix: n.name.suffix(),
            netbios_name: n.name.to_string(),
            group: n.flags.is_group(),
            node_type: node_type_text(n.flags.node_type()),
            flags: name_flag_words(n.flags),
        }
    }
}

/// Aligns rows under a header into columns two spaces apart, trailing spaces trimmed.
pub fn render_table<const N: usize>(head: [&str; N], rows: Vec<[String; N]>) -> Vec<String> {
    let head = head.map(str::to_owned);
    let mut width = [0usize; N];
    for r in std::iter::once(&head).chain(&rows) {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    std::iter::once(&head)
        .chain(&rows)
        .map(|r| {
            let cells: Vec<String> = r
                .iter()
                .zip(width)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            cells.join("  ").trim_end().to_owned()
        })
        .collect()
}

/// Prints JSON on stdout.
pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    out(serde_json::to_string_pretty(value)?)
}

/// Set once a write to stdout found the pipe closed.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Prints a line on stdout. Once the reader has closed the pipe (`nbt view | head -1`), this
/// and every later line are dropped quietly and the command ends with its own exit status.
pub fn out(line: impl Display) -> anyhow::Result<()> {
    out_text(&format!("{line}\n"))
}

/// Prints text as it is on stdout, as [`out`] does a line.
pub fn out_text(text: &str) -> anyhow::Result<()> {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        r => r.context("cannot write to stdout"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations_for_people() {
        assert_eq!(show_duration(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(show_duration(Duration::from_millis(800)), "800 ms");
    }

    #[test]
    fn ignored_summary() {
        let mut i = Ignored::default();
        assert_eq!(i.summary(), None);
        let from = "127.0.0.1:137".parse().unwrap();
        i.note(from, &Ignore::Malformed("x".into()), false);
        i.note(from, &Ignore::WrongId(7), false);
        i.note(from, &Ignore::WrongId(8), false);
        assert_eq!(
            i.summary().unwrap(),
            "3 replies ignored (1 malformed, 2 with another transaction ID)"
        );
    }

    #[test]
    fn name_texts() {
        let n: NetbiosName = "ALPHA#20".parse().unwrap();
        assert_eq!(base_text(&n), "ALPHA");
        assert_eq!(
            base_text(&NetbiosName::MSBROWSE),
            "\\x01\\x02__MSBROWSE__\\x02"
        );
        let odd: NetbiosName = "A\\x3cB#1d".parse().unwrap();
        assert_eq!(base_text(&odd), "A\\x3cB");
        assert_eq!(mac_text(&[0, 0x1a, 2, 3, 4, 0xff]), "00-1a-02-03-04-ff");
        let f = NameFlags::ACTIVE | NameFlags::PERMANENT | NameFlags::GROUP;
        assert_eq!(name_flag_words(f), ["ACTIVE", "PERMANENT"]);
    }
}
