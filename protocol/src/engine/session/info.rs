//! The RAP calls beyond the listings, answered as smbd answers them (`smb1_lanman.c`):
//! NetServerGetInfo levels 0 and 1, NetWkstaGetInfo level 10, NetSessionEnum and
//! NetSessionGetInfo level 2, and NetRemoteTOD. Their parameter blocks follow the ParamDesc:
//! Status, Converter, then EntriesReturned and EntriesAvailable (`WrLeh`) or the bytes
//! available (`WrLh`, `zWrLh`); NetRemoteTOD (`rL`) has neither.

use super::listing::ListingSource;
use crate::wire::browse::{ServerName, ServerType};
use crate::wire::rap::records::{
    RapRecord, ServerInfo0, ServerInfo1, SessionInfo2, TimeOfDayInfo, WkstaInfo10, encode_entries,
};
use crate::wire::rap::{RapResponse, descriptor, status};

/// Converter of every reply (Samba's).
const CONVERTER: u16 = 0;
/// The client type smbd gives every session.
pub const UNKNOWN_CLIENT: &[u8] = b"Unknown Client";

/// What a RAP call needs beyond the listing: this connection's sessions and the wall clock,
/// both from the driver.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallContext {
    /// The sessions NetSessionEnum lists.
    pub sessions: Vec<SessionInfo2>,
    /// The wall time, seconds since 1970-01-01 UTC.
    pub unix_secs: i64,
    /// The time zone, minutes west of UTC (UTC+2 is -120), as NEGOTIATE carries it.
    pub zone_minutes: i16,
}

/// The name upper-cased, as smbd writes server and workgroup names.
fn upper(n: ServerName) -> ServerName {
    let b = n.as_bytes().to_ascii_uppercase();
    ServerName::from_bytes(&b).unwrap_or(n)
}

/// A one-record GetInfo reply: the record when it fits `limit` bytes, else NERR_BufTooSmall
/// with the bytes it needs.
fn one<R: RapRecord>(record: R, limit: usize) -> RapResponse {
    let needed = R::FIXED_LEN + record.heap_len();
    let e = encode_entries(std::iter::once(record), CONVERTER, limit);
    if e.returned == 0 {
        let needed = needed.min(usize::from(u16::MAX)) as u16;
        return RapResponse::info(status::BUF_TOO_SMALL, CONVERTER, needed, Vec::new());
    }
    RapResponse::info(status::SUCCESS, CONVERTER, e.data.len() as u16, e.data)
}

/// NetServerGetInfo: level 0 (`B16`, the name) or 1 (`B16BBDz`: name, version, type,
/// comment), the name upper-cased as smbd writes it.
pub fn server_get_info(
    level: u16,
    data_desc: &[u8],
    max_data: usize,
    src: &dyn ListingSource,
) -> RapResponse {
    let me = src.local_server();
    let name = upper(me.name);
    match (level, data_desc) {
        (0, descriptor::SERVER_INFO_0) => one(ServerInfo0 { name }, max_data),
        (1, descriptor::SERVER_INFO_1) => one(
            ServerInfo1 {
                name,
                version_major: me.version.0,
                version_minor: me.version.1,
                server_type: me.server_type - ServerType::LOCAL_LIST_ONLY,
                comment: me.comment.into_owned(),
            },
            max_data,
        ),
        _ => RapResponse::not_supported(descriptor::GET_INFO),
    }
}

/// NetWkstaGetInfo level 10 (`zzzBBzz`): our name, the user, the workgroup, the version, the
/// logon domain (the workgroup) and no other domains.
pub fn wksta_get_info(
    level: u16,
    data_desc: &[u8],
    max_data: usize,
    user: &[u8],
    src: &dyn ListingSource,
) -> RapResponse {
    if level != 10 || data_desc != descriptor::WKSTA_INFO_10 {
        return RapResponse::not_supported(descriptor::GET_INFO);
    }
    let me = src.local_server();
    let workgroup = upper(src.workgroup());
    one(
        WkstaInfo10 {
            computer: upper(me.name).as_bytes().to_vec(),
            user: user.to_vec(),
            langroup: workgroup.as_bytes().to_vec(),
            version_major: me.version.0,
            version_minor: me.version.1,
            logon_domain: workgroup.as_bytes().to_vec(),
            other_domains: Vec::new(),
        },
        max_data,
    )
}

/// NetSessionEnum level 2 (`zzWWWDDDz`): the sessions that fit `max_data` (smbd fills the
/// client's MaxDataCount, not ReceiveBufferLen).
pub fn session_enum(
    level: u16,
    data_desc: &[u8],
    max_data: usize,
    ctx: &CallContext,
) -> RapResponse {
    if level != 2 || data_desc != descriptor::SESSION_INFO_2 {
        return RapResponse::not_supported(descriptor::NET_SESSION_ENUM);
    }
    let e = encode_entries(ctx.sessions.iter().cloned(), CONVERTER, max_data);
    RapResponse::enumeration(CONVERTER, e.returned, e.available, e.data)
}

/// NetSessionGetInfo level 2: the session of the client named (with or without a leading
/// `\\`, any case), or NERR_ClientNameNotFound.
pub fn session_get_info(
    client: &[u8],
    level: u16,
    data_desc: &[u8],
    max_data: usize,
    ctx: &CallContext,
) -> RapResponse {
    if level != 2 || data_desc != descriptor::SESSION_INFO_2 {
        return RapResponse::not_supported(descriptor::NET_SESSION_GET_INFO);
    }
    let wanted = client.strip_prefix(b"\\\\").unwrap_or(client);
    match ctx
        .sessions
        .iter()
        .find(|s| s.client.eq_ignore_ascii_case(wanted))
    {
        Some(s) => one(s.clone(), max_data),
        None => RapResponse::info(status::CLIENT_NAME_NOT_FOUND, CONVERTER, 0, Vec::new()),
    }
}

/// NetRemoteTOD: the time of day in local time and the zone (smbd ignores the descriptors);
/// NERR_BufTooSmall when the 21 bytes do not fit.
pub fn remote_tod(max_data: usize, ctx: &CallContext) -> RapResponse {
    let tod = TimeOfDayInfo::at(ctx.unix_secs, ctx.zone_minutes);
    let e = encode_entries(std::iter::once(tod), CONVERTER, max_data);
    RapResponse {
        status: if e.returned == 1 {
            status::SUCCESS
        } else {
            status::BUF_TOO_SMALL
        },
        converter: CONVERTER,
        words: Vec::new(),
        data: e.data,
    }
}
