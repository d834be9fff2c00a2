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

/// session_info_2 (`zzWWWDDDz`, 30 bytes): one session of NetSessionEnum and
/// NetSessionGetInfo, as smbd fills it (`api_RNetSessionEnum`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionInfo2 {
    /// The client's (computer) name.
    pub client: Vec<u8>,
    /// The user logged on.
    pub user: Vec<u8>,
    /// Connections (trees) of the session.
    pub connections: u16,
    /// Files open.
    pub opens: u16,
    /// Users of the session.
    pub users: u16,
    /// Seconds since the session started.
    pub session_time: u32,
    /// Seconds idle.
    pub idle_time: u32,
    /// User flags (1 = guest, 2 = no encryption).
    pub user_flags: u32,
    /// The client type string, e.g. `Unknown Client`.
    pub client_type: Vec<u8>,
}

impl RapRecord for SessionInfo2 {
    const FIXED_LEN: usize = 30;

    fn heap_len(&self) -> usize {
        heap_string_len(&self.client)
            + heap_string_len(&self.user)
            + heap_string_len(&self.client_type)
    }

    fn write(&self, fixed: &mut Vec<u8>, heap: &mut Vec<u8>, pointers: &mut Vec<usize>) {
        put_pointer(fixed, heap, pointers, &self.client);
        put_pointer(fixed, heap, pointers, &self.user);
        for w in [self.connections, self.opens, self.users] {
            fixed.extend_from_slice(&w.to_le_bytes());
        }
        for d in [self.session_time, self.idle_time, self.user_flags] {
            fixed.extend_from_slice(&d.to_le_bytes());
        }
        put_pointer(fixed, heap, pointers, &self.client_type);
    }

    fn read(data: &[u8], at: usize, converter: u16) -> Result<Self, ParseError> {
        let mut r = Reader::at(data, at);
        Ok(SessionInfo2 {
            client: read_pointer(&mut r, data, converter, "sesi2_cname")?,
            user: read_pointer(&mut r, data, converter, "sesi2_username")?,
            connections: r.u16_le("sesi2_num_conns")?,
            opens: r.u16_le("sesi2_num_opens")?,
            users: r.u16_le("sesi2_num_users")?,
            session_time: r.u32_le("sesi2_time")?,
            idle_time: r.u32_le("sesi2_idle_time")?,
            user_flags: r.u32_le("sesi2_user_flags")?,
            client_type: read_pointer(&mut r, data, converter, "sesi2_cltype_name")?,
        })
    }
}

/// wksta_info_10 (`zzzBBzz`, 22 bytes): NetWkstaGetInfo level 10, as smbd fills it
/// (`api_NetWkstaGetInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WkstaInfo10 {
    /// The computer name (upper case).
    pub computer: Vec<u8>,
    /// The user of the session.
    pub user: Vec<u8>,
    /// The workgroup (LAN group, upper case).
    pub langroup: Vec<u8>,
    /// Major version.
    pub version_major: u8,
    /// Minor version.
    pub version_minor: u8,
    /// The logon domain.
    pub logon_domain: Vec<u8>,
    /// Other domains.
    pub other_domains: Vec<u8>,
}

impl RapRecord for WkstaInfo10 {
    const FIXED_LEN: usize = 22;

    fn heap_len(&self) -> usize {
        [
            &self.computer,
            &self.user,
            &self.langroup,
            &self.logon_domain,
            &self.other_domains,
        ]
        .iter()
        .map(|s| heap_string_len(s))
        .sum()
    }

    fn write(&self, fixed: &mut Vec<u8>, heap: &mut Vec<u8>, pointers: &mut Vec<usize>) {
        put_pointer(fixed, heap, pointers, &self.computer);
        put_pointer(fixed, heap, pointers, &self.user);
        put_pointer(fixed, heap, pointers, &self.langroup);
        fixed.push(self.version_major);
        fixed.push(self.version_minor);
        put_pointer(fixed, heap, pointers, &self.logon_domain);
        put_pointer(fixed, heap, pointers, &self.other_domains);
    }

    fn read(data: &[u8], at: usize, converter: u16) -> Result<Self, ParseError> {
        let mut r = Reader::at(data, at);
        Ok(WkstaInfo10 {
            computer: read_pointer(&mut r, data, converter, "wki10_computername")?,
            user: read_pointer(&mut r, data, converter, "wki10_username")?,
            langroup: read_pointer(&mut r, data, converter, "wki10_langroup")?,
            version_major: r.u8("wki10_ver_major")?,
            version_minor: r.u8("wki10_ver_minor")?,
            logon_domain: read_pointer(&mut r, data, converter, "wki10_logon_domain")?,
            other_domains: read_pointer(&mut r, data, converter, "wki10_oth_domains")?,
        })
    }
}

/// time_of_day_info (`DDBBBBWWBBWB`, 21 bytes): NetRemoteTOD, as smbd fills it
/// (`api_NetRemoteTOD`): the local time, and the zone in minutes west of UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeOfDayInfo {
    /// Seconds since 1970 (smbd writes the local time: UTC less the zone).
    pub elapsed: u32,
    /// Milliseconds (smbd writes 0).
    pub msecs: u32,
    /// Hour, local time.
    pub hours: u8,
    /// Minute.
    pub mins: u8,
    /// Second.
    pub secs: u8,
    /// Hundredths of a second.
    pub hunds: u8,
    /// Minutes west of UTC (UTC+2 is -120).
    pub timezone: i16,
    /// Clock tick in ten-thousandths of a second (smbd: 10000).
    pub tinterval: u16,
    /// Day of the month, 1 to 31.
    pub day: u8,
    /// Month, 1 to 12.
    pub month: u8,
    /// Year, e.g. 2026.
    pub year: u16,
    /// Day of the week, 0 = Sunday.
    pub weekday: u8,
}

impl RapRecord for TimeOfDayInfo {
    const FIXED_LEN: usize = 21;

    fn heap_len(&self) -> usize {
        0
    }

    fn write(&self, fixed: &mut Vec<u8>, _heap: &mut Vec<u8>, _pointers: &mut Vec<usize>) {
        fixed.extend_from_slice(&self.elapsed.to_le_bytes());
        fixed.extend_from_slice(&self.msecs.to_le_bytes());
        fixed.extend_from_slice(&[self.hours, self.mins, self.secs, self.hunds]);
        fixed.extend_from_slice(&self.timezone.to_le_bytes());
        fixed.extend_from_slice(&self.tinterval.to_le_bytes());
        fixed.extend_from_slice(&[self.day, self.month]);
        fixed.extend_from_slice(&self.year.to_le_bytes());
        fixed.push(self.weekday);
    }

    fn read(data: &[u8], at: usize, _converter: u16) -> Result<Self, ParseError> {
        let mut r = Reader::at(data, at);
        Ok(TimeOfDayInfo {
            elapsed: r.u32_le("tod_elapsedt")?,
            msecs: r.u32_le("tod_msecs")?,
            hours: r.u8("tod_hours")?,
            mins: r.u8("tod_mins")?,
            secs: r.u8("tod_secs")?,
            hunds: r.u8("tod_hunds")?,
            timezone: r.u16_le("tod_timezone")? as i16,
            tinterval: r.u16_le("tod_tinterval")?,
            day: r.u8("tod_day")?,
            month: r.u8("tod_month")?,
            year: r.u16_le("tod_year")?,
            weekday: r.u8("tod_weekday")?,
        })
    }
}

impl TimeOfDayInfo {
    /// The time of day at `unix_secs` (UTC) in a zone `zone_minutes` west of UTC, as smbd
    /// answers NetRemoteTOD: every field in local time.
    pub fn at(unix_secs: i64, zone_minutes: i16) -> Self {
        let local = unix_secs - i64::from(zone_minutes) * 60;
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        TimeOfDayInfo {
            elapsed: local as u32,
            msecs: 0,
            hours: (secs / 3600) as u8,
            mins: (secs / 60 % 60) as u8,
            secs: (secs % 60) as u8,
            hunds: 0,
            timezone: zone_minutes,
            tinterval: 10_000,
            day,
            month,
            year: year.clamp(0, i64::from(u16::MAX)) as u16,
            // 1970-01-01 was a Thursday (4).
            weekday: (days + 4).rem_euclid(7) as u8,
        }
    }
}

/// The proleptic Gregorian date of a day number (days since 1970-01-01); Howard Hinnant's
/// `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
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
