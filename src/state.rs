//! The browse-list state file, so that the list survives a restart.
//!
//! - Written atomically ([`fsafe::write_atomic`]): a temporary file in the same directory is
//!   created afresh (a link planted there is removed, not followed), written and fsynced, renamed
//!   over the old file, and the directory is fsynced. A crash at any point leaves either the old
//!   file or the new one, never a torn one.
//! - Read with care ([`fsafe::read_regular`]): only a regular file, never through a symbolic
//!   link, and at most 32 MiB of it; anything else is moved aside like a corrupt file.
//! - Each entry keeps the lifetime it had left, minus the time the daemon was down, so a restart
//!   neither resurrects dead hosts nor forgets live ones.
//! - A file that does not load is moved aside (`browse.json.corrupt-<unix time>`) with the reason,
//!   and the daemon starts with an empty list.
//! - Names and comments are kept byte for byte: bytes outside printable ASCII, and the
//!   backslash, are written as `\xNN`.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nbt_protocol::engine::Instant;
use nbt_protocol::engine::browser::list::{Record, ServerEntry};
use nbt_protocol::wire::browse::{ServerName, ServerType};
use serde::{Deserialize, Serialize};

use crate::fsafe::{self, Links, ReadError};

/// File name of the browse list in the state directory.
pub const BROWSE_FILE: &str = "browse.json";
/// Version of the file format.
const FORMAT: u32 = 1;
/// Largest state file read: far above 16,384 entries, far below what could hurt.
const MAX_FILE: u64 = 32 * 1024 * 1024;

/// Why the state file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The file did not parse; it was moved aside.
    #[error(
        "{path} is not a valid browse list ({why}); moved it to {moved_to} and started with an empty list"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        why: String,
        /// Where it is now.
        moved_to: PathBuf,
    },
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct File1 {
    format: u32,
    /// Unix time of the save, in seconds.
    saved_at: u64,
    /// Entries per interface address.
    subnets: BTreeMap<Ipv4Addr, Vec<Entry>>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum Entry {
    Server {
        workgroup: String,
        name: String,
        server_type: u32,
        version: [u8; 2],
        comment: String,
        addr: Option<Ipv4Addr>,
        periodicity_ms: u64,
        remaining_ms: u64,
    },
    Workgroup {
        name: String,
        master: String,
        addr: Option<Ipv4Addr>,
        periodicity_ms: u64,
        remaining_ms: u64,
    },
}

/// `File1` as it is written: borrows the records and converts each as it goes.
#[derive(Serialize)]
struct FileOut<'a> {
    format: u32,
    saved_at: u64,
    subnets: Subnets<'a>,
}

/// The records of every interface address, serialized as `File1::subnets`.
struct Subnets<'a>(&'a BTreeMap<Ipv4Addr, Vec<Record>>);

impl Serialize for Subnets<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(ip, records)| (ip, Entries(records))))
    }
}

/// One address's records, serialized as its `Vec<Entry>`.
struct Entries<'a>(&'a [Record]);

impl Serialize for Entries<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(to_entry))
    }
}

/// Writes bytes as text: printable ASCII as is, anything else and `\` as `\xNN`.
pub fn escape(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for &c in b {
        if (0x20..0x7f).contains(&c) && c != b'\\' {
            s.push(c as char);
        } else {
            s.push_str(&format!("\\x{c:02x}"));
        }
    }
    s
}

/// Reads what [`escape`] wrote.
pub fn unescape(s: &str) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            let hex = b
                .get(i + 1..i + 4)
                .filter(|h| h[0] == b'x')
                .and_then(|h| std::str::from_utf8(&h[1..]).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad escape in {s:?}"))?;
            out.push(hex);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn name(s: &str) -> Result<ServerName, String> {
    ServerName::from_bytes(&unescape(s)?).map_err(|e| e.to_string())
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The state file of one state directory.
#[derive(Debug, Clone)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    /// The browse list file in `dir`.
    pub fn new(dir: &Path) -> Self {
        StateFile {
            path: dir.join(BROWSE_FILE),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Saves the lists of every interface address, atomically. Each record becomes its entry
    /// only as it is written, straight into the file: a save never holds a second copy of the
    /// list, nor the whole JSON text.
    pub fn save(
        &self,
        wall: SystemTime,
        lists: &BTreeMap<Ipv4Addr, Vec<Record>>,
    ) -> Result<(), StateError> {
        let file = FileOut {
            format: FORMAT,
            saved_at: wall
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs(),
            subnets: Subnets(lists),
        };
        self.write_atomically(|w| serde_json::to_writer(w, &file).map_err(io::Error::other))
    }

    fn io(&self, source: io::Error) -> StateError {
        StateError::Io {
            path: self.path.clone(),
            source,
        }
    }

    fn write_atomically(
        &self,
        write: impl FnOnce(&mut BufWriter<&File>) -> io::Result<()>,
    ) -> Result<(), StateError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let name = self
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(BROWSE_FILE);
        fsafe::write_atomic(dir, name, write).map_err(|e| self.io(e))
    }

    /// Loads the saved lists, with each entry's remaining lifetime reduced by the time since the
    /// save. A missing file is an empty list; a corrupt one is moved aside.
    pub fn load(&self, wall: SystemTime) -> Result<BTreeMap<Ipv4Addr, Vec<Record>>, StateError> {
        let bytes = match fsafe::read_regular(&self.path, MAX_FILE, Links::Refuse) {
            Ok(b) => b,
            Err(ReadError::Io(e)) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(BTreeMap::new());
            }
            Err(ReadError::Io(e)) => return Err(self.io(e)),
            Err(ReadError::Refused(what)) => {
                return Err(self.corrupt(format!(
                    "{what}; nbtd reads only a regular file it wrote itself"
                )));
            }
        };
        let file: File1 = match serde_json::from_slice(&bytes) {
            Ok(f) => f,
            Err(e) => return Err(self.corrupt(e.to_string())),
        };
        if file.format != FORMAT {
            return Err(self.corrupt(format!("unknown format {}", file.format)));
        }
        let now = wall
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let down = Duration::from_secs(now.saturating_sub(file.saved_at));
        let mut out = BTreeMap::new();
        for (ip, entries) in file.subnets {
            let mut records = Vec::with_capacity(entries.len());
            for e in entries {
                match from_entry(e, down) {
                    Ok(Some(r)) => records.push(r),
                    Ok(None) => {}
                    Err(why) => return Err(self.corrupt(why)),
                }
            }
            out.insert(ip, records);
        }
        Ok(out)
    }

    fn corrupt(&self, why: String) -> StateError {
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let moved_to = self
            .path
            .with_file_name(format!("{BROWSE_FILE}.corrupt-{stamp}"));
        if let Err(e) = fs::rename(&self.path, &moved_to) {
            return StateError::Io {
                path: self.path.clone(),
                source: io::Error::new(
                    e.kind(),
                    format!("corrupt ({why}) and cannot be moved aside: {e}"),
                ),
            };
        }
        StateError::Corrupt {
            path: self.path.clone(),
            why,
            moved_to,
        }
    }
}

fn to_entry(r: &Record) -> Entry {
    match r {
        Record::Server {
            workgroup,
            entry,
            remaining,
        } => Entry::Server {
            workgroup: escape(workgroup.as_bytes()),
            name: escape(entry.name.as_bytes()),
            server_type: entry.server_type.bits(),
            version: [entry.version.0, entry.version.1],
            comment: escape(&entry.comment),
            addr: entry.addr,
            periodicity_ms: ms(entry.periodicity),
            remaining_ms: ms(*remaining),
        },
        Record::Workgroup {
            name,
            master,
            addr,
            periodicity,
            remaining,
        } => Entry::Workgroup {
            name: escape(name.as_bytes()),
            master: escape(master.as_bytes()),
            addr: *addr,
            periodicity_ms: ms(*periodicity),
            remaining_ms: ms(*remaining),
        },
    }
}

/// The record an entry stands for, or `None` when it ran out while the daemon was down.
fn from_entry(e: Entry, down: Duration) -> Result<Option<Record>, String> {
    let left = |remaining_ms: u64| Duration::from_millis(remaining_ms).checked_sub(down);
    Ok(match e {
        Entry::Server {
            workgroup,
            name: n,
            server_type,
            version,
            comment,
            addr,
            periodicity_ms,
            remaining_ms,
        } => {
            let (workgroup, n, comment) = (name(&workgroup)?, name(&n)?, unescape(&comment)?);
            left(remaining_ms)
                .filter(|d| !d.is_zero())
                .map(|remaining| Record::Server {
                    workgroup,
                    entry: ServerEntry {
                        name: n,
                        server_type: ServerType::from_bits_retain(server_type),
                        version: (version[0], version[1]),
                        comment: comment.into_boxed_slice(),
                        addr,
                        periodicity: Duration::from_millis(periodicity_ms),
                        // The list sets it again from the remaining lifetime on restore.
                        last_seen: Instant::now(),
                    },
                    remaining,
                })
        }
        Entry::Workgroup {
            name: n,
            master,
            addr,
            periodicity_ms,
            remaining_ms,
        } => {
            let (n, master) = (name(&n)?, name(&master)?);
            left(remaining_ms)
                .filter(|d| !d.is_zero())
                .map(|remaining| Record::Workgroup {
                    name: n,
                    master,
                    addr,
                    periodicity: Duration::from_millis(periodicity_ms),
                    remaining,
                })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nbt_protocol::engine::browser::list::{BrowseLimits, BrowseList};
    use nbt_protocol::wire::browse::Announcement;

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("nbtd-state-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn sample(now: Instant) -> BrowseList {
        let mut l = BrowseList::new(BrowseLimits::default());
        let a = Announcement::new(
            ServerName::new("ALPHA").unwrap(),
            ServerType::WORKSTATION | ServerType::SERVER,
            720_000,
            b"caf\xe9 \\ share".to_vec(),
        );
        l.server_announced(
            now,
            &ServerName::new("LABWG").unwrap(),
            &a,
            Some(Ipv4Addr::new(198, 18, 0, 1)),
        );
        l.workgroup_announced(
            now,
            &Announcement::domain(
                ServerName::new("LABWG").unwrap(),
                ServerName::new("ALPHA").unwrap(),
                720_000,
            ),
            None,
        );
        l
    }

    #[test]
    fn escape_round_trips_any_bytes() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(unescape(&escape(&all)).unwrap(), all);
        assert!(unescape("bad\\q").is_err());
        assert!(unescape("short\\x4").is_err());
    }

    #[test]
    fn save_then_load_keeps_entries_less_the_downtime() {
        let dir = tmpdir("roundtrip");
        let f = StateFile::new(&dir);
        let now = Instant::now();
        let wall = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let list = sample(now);
        let mut lists = BTreeMap::new();
        lists.insert(Ipv4Addr::new(198, 18, 0, 1), list.snapshot(now));
        f.save(wall, &lists).unwrap();
        assert!(
            !dir.join("browse.json.tmp").exists(),
            "no temporary file left"
        );

        let later = wall + Duration::from_secs(100);
        let back = f.load(later).unwrap();
        let records = &back[&Ipv4Addr::new(198, 18, 0, 1)];
        assert_eq!(records.len(), 2);
        let mut restored = BrowseList::new(BrowseLimits::default());
        restored.restore(now, records.clone());
        let s = restored
            .server(
                &ServerName::new("LABWG").unwrap(),
                &ServerName::new("ALPHA").unwrap(),
            )
            .unwrap();
        assert_eq!(&*s.comment, b"caf\xe9 \\ share");
        assert_eq!(s.expires(), now + Duration::from_secs(36 * 60 - 100));
        // After 36 minutes down nothing is left.
        let gone = f.load(wall + Duration::from_secs(36 * 60)).unwrap();
        assert!(gone[&Ipv4Addr::new(198, 18, 0, 1)].is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_streamed_file_is_the_file_built_whole() {
        let dir = tmpdir("streamed");
        let f = StateFile::new(&dir);
        let now = Instant::now();
        let wall = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let mut lists = BTreeMap::new();
        lists.insert(Ipv4Addr::new(198, 18, 0, 1), sample(now).snapshot(now));
        lists.insert(Ipv4Addr::new(198, 18, 1, 1), Vec::new());
        f.save(wall, &lists).unwrap();
        let whole = File1 {
            format: FORMAT,
            saved_at: 1_800_000_000,
            subnets: lists
                .iter()
                .map(|(ip, records)| (*ip, records.iter().map(to_entry).collect()))
                .collect(),
        };
        assert_eq!(
            fs::read(f.path()).unwrap(),
            serde_json::to_vec(&whole).unwrap()
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_file_is_an_empty_list_and_a_corrupt_one_is_moved_aside() {
        let dir = tmpdir("corrupt");
        let f = StateFile::new(&dir);
        assert!(f.load(SystemTime::now()).unwrap().is_empty());
        fs::write(f.path(), b"{\"format\": 1, \"saved_at\": 5, \"subn").unwrap();
        let e = f.load(SystemTime::now()).unwrap_err();
        let StateError::Corrupt { moved_to, .. } = &e else {
            panic!("{e}")
        };
        assert!(moved_to.exists());
        assert!(!f.path().exists());
        assert!(e.to_string().contains("moved it to"), "{e}");
        assert!(f.load(SystemTime::now()).unwrap().is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }
}
