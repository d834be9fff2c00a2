//! The data block of a RAP enumeration reply: fixed-size records, then a heap of the ASCIIZ
//! strings they point to (MS-RAP 2.5.2; rap-smb1.md §6.1–6.3).
//!
//! Every `z` item of a record is a 32-bit pointer: the low 16 bits are the string's offset from
//! the start of the data block plus the reply's Converter, the high 16 bits are zero. Clients
//! compute `(pointer & 0xFFFF) - converter`.
//!
//! [`encode_entries`] writes as many records as fit a byte limit, as Samba does: once an entry
//! does not fit, no later one is written, and the reply says how many were available.

use crate::error::{EmitError, ParseError};
use crate::name::NameError;
use crate::wire::browse::{ServerName, ServerType};
use crate::wire::cursor::Reader;

/// Longest share name a share_info record holds (13 bytes with the NUL).
pub const MAX_SHARE_NAME_LEN: usize = 12;
/// Width of the name field of a share_info record.
const SHARE_NAME_FIELD: usize = 13;
/// Width of the name field of a server_info record.
const SERVER_NAME_FIELD: usize = 16;

/// Share types of share_info_1 (MS-RAP 2.5.5.1.2; smbclient prints `type & 7`).
pub mod share_type {
    /// STYPE_DISKTREE: a disk share.
    pub const DISKTREE: u16 = 0;
    /// STYPE_PRINTQ: a print queue.
    pub const PRINTQ: u16 = 1;
    /// STYPE_DEVICE: a communication device.
    pub const DEVICE: u16 = 2;
    /// STYPE_IPC: the IPC$ share.
    pub const IPC: u16 = 3;
}

/// A share name a share_info record can carry: 1 to 12 bytes, no NUL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ShareName(Vec<u8>);

impl ShareName {
    /// A name from its bytes; rejects names over 12 bytes, empty names and NUL bytes.
    pub fn new(name: &[u8]) -> Result<Self, NameError> {
        let lossy = || String::from_utf8_lossy(name).into_owned();
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name.len() > MAX_SHARE_NAME_LEN {
            return Err(NameError::TooLong(lossy()));
        }
        if name.contains(&0) {
            return Err(NameError::BadByte {
                name: lossy(),
                byte: 0,
            });
        }
        Ok(ShareName(name.to_vec()))
    }

    /// The name's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// A record of a RAP data block: a fixed part, and strings that go to the heap.
pub trait RapRecord: Sized {
    /// Bytes of the fixed part.
    const FIXED_LEN: usize;

    /// Bytes the record's strings take in the heap, NULs included.
    fn heap_len(&self) -> usize;

    /// Appends the fixed part to `fixed` and the strings to `heap`. Each string pointer is
    /// written as the string's offset in `heap`, and its position in `fixed` is pushed to
    /// `pointers`, so that [`encode_entries`] can rebase it once the fixed part is complete.
    fn write(&self, fixed: &mut Vec<u8>, heap: &mut Vec<u8>, pointers: &mut Vec<usize>);

    /// Reads the record at offset `at` of the data block `data`.
    fn read(data: &[u8], at: usize, converter: u16) -> Result<Self, ParseError>;
}

/// Bytes of a string in the heap: up to its first NUL, plus the NUL.
fn heap_string_len(s: &[u8]) -> usize {
    s.iter().position(|&b| b == 0).unwrap_or(s.len()) + 1
}

/// Appends a string (cut at its first NUL) and a NUL to the heap; pushes its pointer.
fn put_pointer(fixed: &mut Vec<u8>, heap: &mut Vec<u8>, pointers: &mut Vec<usize>, s: &[u8]) {
    pointers.push(fixed.len());
    fixed.extend_from_slice(&(heap.len() as u32).to_le_bytes());
    let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
    heap.extend_from_slice(&s[..end]);
    heap.push(0);
}

/// Appends a name NUL-padded to `width` bytes (the name is shorter than `width`).
fn put_name(fixed: &mut Vec<u8>, name: &[u8], width: usize) {
    let n = name.len().min(width - 1);
    fixed.extend_from_slice(&name[..n]);
    fixed.resize(fixed.len() + (width - n), 0);
}

/// Reads a NUL-terminated name from a fixed-width field.
fn read_name<'a>(
    r: &mut Reader<'a>,
    width: usize,
    field: &'static str,
) -> Result<&'a [u8], ParseError> {
    let at = r.pos();
    let raw = r.take(width, field)?;
    let end = raw
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| ParseError::malformed(field, at, "the name field has no terminating NUL"))?;
    Ok(&raw[..end])
}

/// Follows a string pointer into the data block.
fn read_pointer(
    r: &mut Reader<'_>,
    data: &[u8],
    converter: u16,
    field: &'static str,
) -> Result<Vec<u8>, ParseError> {
    let at = r.pos();
    let ptr = r.u32_le(field)?;
    let off = usize::from((ptr as u16).wrapping_sub(converter));
    let Some(rest) = data.get(off..).filter(|rest| !rest.is_empty()) else {
        return Err(ParseError::bad_value(
            field,
            at,
            u64::from(ptr),
            "a pointer (offset + converter) into the data block",
        ));
    };
    let end = rest.iter().position(|&b| b == 0).ok_or_else(|| {
        ParseError::malformed(field, at, "the string it points to has no terminating NUL")
    })?;
    Ok(rest[..end].to_vec())
}

/// share_info_0 (`B13`): the share name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ShareInfo0 {
    /// NetName.
    pub name: ShareName,
}

/// share_info_1 (`B13BWz`): name, pad, type, remark (20 bytes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ShareInfo1 {
    /// NetName.
    pub name: ShareName,
    /// Type: a [`share_type`].
    pub share_type: u16,
    /// Remark, without its NUL.
    pub remark: Vec<u8>,
}

fn read_share_name(r: &mut Reader<'_>) -> Result<ShareName, ParseError> {
    let at = r.pos();
    let n = read_name(r, SHARE_NAME_FIELD, "NetName")?;
    ShareName::new(n).map_err(|_| ParseError::malformed("NetName", at, "the share name is empty"))
}

impl RapRecord for ShareInfo0 {
    const FIXED_LEN: usize = SHARE_NAME_FIELD;

    fn heap_len(&self) -> usize {
        0
    }

    fn write(&self, fixed: &mut Vec<u8>, _heap: &mut Vec<u8>, _pointers: &mut Vec<usize>) {
        put_name(fixed, self.name.as_bytes(), SHARE_NAME_FIELD);
    }

    fn read(data: &[u8], at: usize, _converter: u16) -> Result<Self, ParseError> {
        let mut r = Reader::at(data, at);
        Ok(ShareInfo0 {
            name: read_share_name(&mut r)?,
        })
    }
}

impl RapRecord for ShareInfo1 {
    const FIXED_LEN: usize = 20;

    fn heap_len(&self) -> usize {
        heap_string_len(&self.remark)
    }

    fn write(&self, fixed: &mut Vec<u8>, heap: &mut Vec<u8>, pointers: &mut Vec<usize>) {
        put_name(fixed, self.name.as_bytes(), SHARE_NAME_FIELD);
        fixed.push(0);
        fixed.extend_from_slice(&self.share_type.to_le_bytes());
        put_pointer(fixed, heap, pointers, &self.remark);
    }

    fn read(data: &[u8], at: usize, converter: u16) -> Result<Self, ParseError> {
        let mut r = Reader::at(data, at);
        let name = read_share_name(&mut r)?;
        r.take(1, "Pad")?;
        let share_type = r.u16_le("Type")?;
        let remark = read_pointer(&mut r, data, converter, "Remark")?;
        Ok(ShareInfo1 {
            name,
            share_type,
            remark,
        })
    }
}

/// server_info_0 (`B16`): the server (or workgroup) name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerInfo0 {
    /// Name.
    pub name: ServerName,
}

/// server_info_1 (`B16BBDz`): name, version, type, comment (26 bytes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerInfo1 {
    /// Name: a server, or for DOMAIN_ENUM a workgroup.
    pub name: ServerName,
    /// VersionMajor.
    pub version_major: u8,
    /// VersionMinor.
    pub version_minor: u8,
    /// Type: SV_TYPE bits.
    pub server_type: ServerType,
    /// Comment, without its NUL; for DOMAIN_ENUM the workgroup's master browser.
    pub comment: Vec<u8>,
}

fn read_server_name(r: &mut Reader<'_>) -> Result<ServerName, ParseError> {
    let at = r.pos();
    let n = read_name(r, SERVER_NAME_FIELD, "Name")?;
    ServerName::from_bytes(n).map_err(|_| ParseError::malformed("Name", at, "not a server name"))
}

impl RapRecord for ServerInfo0 {
    const FIXED_LEN: usize = SERVER_NAME_FIELD;

    fn heap_len(&self) -> usize {
        0
    }

    fn write(&self, fixed: &mut Vec<u8>, _heap: &mut Vec<u8>, _pointers: &mut Vec<usize>) {
        put_name(fixed, self.name.as_bytes(), SERVER_NAME_FIELD);
    }

    fn read(data: &[u8], at: usize, _converter: u16) -> Result<Self, ParseError> {
        let mut r = Reader::at(data, at);
        Ok(ServerInfo0 {
            name: read_server_name(&mut r)?,
        })
    }
}

impl RapRecord for ServerInfo1 {
    const FIXED_LEN: usize = 26;

    fn heap_len(&self) -> usize {
        heap_string_len(&self.comment)
    }

    fn write(&self, fixed: &mut Vec<u8>, heap: &mut Vec<u8>, pointers: &mut Vec<usize>) {
        put_name(fixed, self.name.as_bytes(), SERVER_NAME_FIELD);
        fixed.push(self.version_major);
        fixed.push(self.version_minor);
        fixed.extend_from_slice(&self.server_type.bits().to_le_bytes());
        put_pointer(fixed, heap, pointers, &self.comment);
    }

    fn read(data: &[u8], at: usize, converter: u16) -> Result<Self, ParseError> {
        let mut r = Reader::at(data, at);
        let name = read_server_name(&mut r)?;
        let version_major = r.u8("VersionMajor")?;
        let version_minor = r.u8("VersionMinor")?;
        let server_type = ServerType::from_bits_retain(r.u32_le("Type")?);
        let comment = read_pointer(&mut r, data, converter, "Comment")?;
        Ok(ServerInfo1 {
            name,
            version_major,
            version_minor,
            server_type,
            comment,
        })
    }
}

/// A data block with the number of records written and offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The data block.
    pub data: Vec<u8>,
    /// Records written: EntriesReturned.
    pub returned: u16,
    /// Records offered: EntriesAvailable (at most 65535).
    pub available: u16,
}

/// Writes the records that fit in `limit` bytes (at most 65535, so that every pointer fits its
/// 16 bits): records in order until the first one that does not fit. Every record offered is
/// counted in `available`.
pub fn encode_entries<R: RapRecord>(
    records: impl IntoIterator<Item = R>,
    converter: u16,
    limit: usize,
) -> Encoded {
    let limit = limit.min(usize::from(u16::MAX));
    let (mut fixed, mut heap, mut pointers) = (Vec::new(), Vec::new(), Vec::new());
    let (mut returned, mut available, mut full) = (0u16, 0u16, false);
    for r in records {
        available = available.saturating_add(1);
        if full {
            continue;
        }
        let used = fixed.len() + heap.len();
        if used + R::FIXED_LEN + r.heap_len() > limit || returned == u16::MAX {
            full = true;
            continue;
        }
        r.write(&mut fixed, &mut heap, &mut pointers);
        returned += 1;
    }
    let base = fixed.len() as u32;
    for at in pointers {
        if let Some(p) = fixed.get_mut(at..at + 4) {
            let off = u32::from_le_bytes([p[0], p[1], p[2], p[3]]);
            let ptr = (off + base) as u16;
            p.copy_from_slice(&u32::from(ptr.wrapping_add(converter)).to_le_bytes());
        }
    }
    fixed.extend_from_slice(&heap);
    Encoded {
        data: fixed,
        returned,
        available,
    }
}

/// Writes every record, or fails when they do not fit a data block (65535 bytes).
pub fn encode_all<R: RapRecord + Clone>(
    records: &[R],
    converter: u16,
) -> Result<Vec<u8>, EmitError> {
    let e = encode_entries(records.iter().cloned(), converter, usize::from(u16::MAX));
    if usize::from(e.returned) != records.len() {
        return Err(EmitError::FieldTooLarge {
            field: "RAP data block",
            why: "the records do not fit in 65535 bytes",
        });
    }
    Ok(e.data)
}

/// Reads `count` records from a data block.
pub fn decode_entries<R: RapRecord>(
    data: &[u8],
    count: u16,
    converter: u16,
) -> Result<Vec<R>, ParseError> {
    let need = usize::from(count) * R::FIXED_LEN;
    if need > data.len() {
        return Err(ParseError::truncated("RAP records", 0, need, data.len()));
    }
    (0..usize::from(count))
        .map(|i| R::read(data, i * R::FIXED_LEN, converter))
        .collect()
}
