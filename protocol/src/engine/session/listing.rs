//! What a listing session lists, and the RAP answers built from it (rap-smb1.md §6.2–6.4).
//!
//! The driver passes a [`ListingSource`] with every frame: our names and workgroup, our own
//! server entry, the configured shares, and the browse list. [`BrowseListing`] is the ready-made
//! source over a [`LocalServer`] and a [`BrowseList`].

use std::borrow::Cow;
use std::cmp::Ordering;

use super::info::{self, CallContext};
use crate::engine::browser::list::BrowseList;
use crate::name::NetbiosName;
use crate::wire::browse::{ServerName, ServerType};
use crate::wire::rap::records::{
    ServerInfo0, ServerInfo1, ShareInfo0, ShareInfo1, ShareName, encode_entries, share_type,
};
use crate::wire::rap::{InfoLevel, RapCall, RapResponse, ServerEnumRequest};

/// A configured share, as NetShareEnum lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// The share name; names over 12 bytes or not ASCII cannot be listed over RAP and are left
    /// out, as Samba leaves them out.
    pub name: String,
    /// The share type: a [`share_type`] value.
    pub share_type: u16,
    /// The comment; characters outside ASCII are sent as `?`.
    pub comment: String,
}

/// A server (or a workgroup, for DOMAIN_ENUM) as server_info_1 lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedServer<'a> {
    /// The server's name.
    pub name: ServerName,
    /// Its SV_TYPE bits.
    pub server_type: ServerType,
    /// Its OS version (major, minor) from its announcement.
    pub version: (u8, u8),
    /// Its comment (for a workgroup: the master browser's name).
    pub comment: Cow<'a, [u8]>,
}

/// A workgroup and its local master browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListedWorkgroup {
    /// The workgroup.
    pub name: ServerName,
    /// Its local master browser; empty when not known.
    pub master: ServerName,
}

/// What the listing server lists; the driver passes it with every frame, read-only.
pub trait ListingSource {
    /// The NetBIOS names the session service answers for (normally `NAME<20>` and aliases).
    fn server_names(&self) -> &[NetbiosName];
    /// Our workgroup: returned as PrimaryDomain and meant by an empty or unknown domain.
    fn workgroup(&self) -> ServerName;
    /// Our own entry in our workgroup's server list.
    fn local_server(&self) -> ListedServer<'_>;
    /// The configured shares (`IPC$` is added when not among them).
    fn shares(&self) -> &[Share];
    /// The browse list's servers of `workgroup`, in any order.
    fn servers<'a>(
        &'a self,
        workgroup: &ServerName,
    ) -> Box<dyn Iterator<Item = ListedServer<'a>> + 'a>;
    /// The browse list's workgroups with their masters, in any order.
    fn workgroups<'a>(&'a self) -> Box<dyn Iterator<Item = ListedWorkgroup> + 'a>;
    /// The master browser of our workgroup, when known (ourselves when we are it).
    fn workgroup_master(&self) -> Option<ServerName>;
}

/// Our own identity and configuration, as a [`BrowseListing`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalServer {
    /// Called names to answer for, e.g. `HOST<20>`.
    pub names: Vec<NetbiosName>,
    /// Our workgroup.
    pub workgroup: ServerName,
    /// Our server name.
    pub name: ServerName,
    /// Our SV_TYPE bits, as we announce them.
    pub server_type: ServerType,
    /// Our OS version as we announce it.
    pub version: (u8, u8),
    /// Our server comment.
    pub comment: Vec<u8>,
    /// The configured shares.
    pub shares: Vec<Share>,
    /// The master browser of our workgroup, when known.
    pub workgroup_master: Option<ServerName>,
}

/// A [`ListingSource`] over our configuration and a browse list (none when browsing is off).
#[derive(Debug, Clone, Copy)]
pub struct BrowseListing<'a> {
    /// Our identity and shares.
    pub local: &'a LocalServer,
    /// The browse list of the interface the connection arrived on.
    pub list: Option<&'a BrowseList>,
}

impl ListingSource for BrowseListing<'_> {
    fn server_names(&self) -> &[NetbiosName] {
        &self.local.names
    }

    fn workgroup(&self) -> ServerName {
        self.local.workgroup
    }

    fn local_server(&self) -> ListedServer<'_> {
        ListedServer {
            name: self.local.name,
            server_type: self.local.server_type,
            version: self.local.version,
            comment: Cow::Borrowed(&self.local.comment),
        }
    }

    fn shares(&self) -> &[Share] {
        &self.local.shares
    }

    fn servers<'a>(
        &'a self,
        workgroup: &ServerName,
    ) -> Box<dyn Iterator<Item = ListedServer<'a>> + 'a> {
        let Some(list) = self.list else {
            return Box::new(std::iter::empty());
        };
        // `BrowseList::servers` borrows the workgroup name for its whole iterator, so the
        // entries are collected before the name goes out of scope.
        let entries: Vec<_> = list.servers(workgroup).collect();
        Box::new(entries.into_iter().map(|s| ListedServer {
            name: s.name,
            server_type: s.server_type,
            version: s.version,
            comment: Cow::Owned(s.comment.into_vec()),
        }))
    }

    fn workgroups<'a>(&'a self) -> Box<dyn Iterator<Item = ListedWorkgroup> + 'a> {
        let Some(list) = self.list else {
            return Box::new(std::iter::empty());
        };
        Box::new(list.workgroups().map(|w| ListedWorkgroup {
            name: w.name,
            master: w.master,
        }))
    }

    fn workgroup_master(&self) -> Option<ServerName> {
        self.local.workgroup_master
    }
}

/// The order of every server list: names compared upper-cased, byte by byte (a prefix first),
/// the order of the browse list itself. NetServerEnum3 resumes in this order.
pub fn list_order(a: &[u8], b: &[u8]) -> Ordering {
    a.iter()
        .map(u8::to_ascii_uppercase)
        .cmp(b.iter().map(u8::to_ascii_uppercase))
}

/// The SV_TYPE of a workgroup entry, as Samba lists workgroups.
const WORKGROUP_TYPE: ServerType = ServerType::DOMAIN_ENUM.union(ServerType::NT);

/// The mask as Samba reads it (`api_RNetServerEnum2`): all bits means all servers but not
/// workgroups, and LOCAL_LIST_ONLY alone means every locally seen server.
fn effective_mask(requested: ServerType) -> ServerType {
    let all = ServerType::from_bits_retain(u32::MAX);
    if requested == all {
        return all - (ServerType::DOMAIN_ENUM | ServerType::LOCAL_LIST_ONLY);
    }
    if requested.contains(ServerType::LOCAL_LIST_ONLY)
        && !requested.contains(ServerType::DOMAIN_ENUM)
    {
        return all - ServerType::DOMAIN_ENUM;
    }
    requested
}

/// The workgroup a request means: the one named when we know it, else ours.
fn resolve_domain(domain: Option<&[u8]>, src: &dyn ListingSource) -> ServerName {
    let ours = src.workgroup();
    let Some(named) = domain
        .filter(|d| !d.is_empty())
        .and_then(|d| ServerName::from_bytes(d).ok())
    else {
        return ours;
    };
    if named.eq_ignore_case(&ours) {
        return ours;
    }
    let known = src.servers(&named).next().is_some()
        || src.workgroups().any(|w| w.name.eq_ignore_case(&named));
    if known { named } else { ours }
}

/// Sorts in [`list_order`] and keeps the first of names equal without regard to case.
fn sort_dedup(v: &mut Vec<ListedServer<'_>>) {
    v.sort_by(|a, b| list_order(a.name.as_bytes(), b.name.as_bytes()));
    v.dedup_by(|later, first| later.name.eq_ignore_case(&first.name));
}

/// The entries a NetServerEnum2/3 request asks for, sorted, deduplicated, from
/// FirstNameToReturn on (rap-smb1.md §6.3).
pub fn server_entries<'a>(
    e: &ServerEnumRequest,
    src: &'a dyn ListingSource,
) -> Vec<ListedServer<'a>> {
    let mask = effective_mask(e.server_type);
    let mut v: Vec<ListedServer<'a>> = Vec::new();
    if mask.contains(ServerType::DOMAIN_ENUM) {
        let ours = src.workgroup();
        let master = src.workgroup_master().or_else(|| {
            src.workgroups()
                .find(|w| w.name.eq_ignore_case(&ours))
                .map(|w| w.master)
        });
        let entry = |name: ServerName, master: ServerName| ListedServer {
            name,
            server_type: WORKGROUP_TYPE,
            version: (0, 0),
            comment: Cow::Owned(master.as_bytes().to_vec()),
        };
        v.push(entry(ours, master.unwrap_or_default()));
        v.extend(
            src.workgroups()
                .filter(|w| !w.name.is_empty())
                .map(|w| entry(w.name, w.master)),
        );
    } else if !mask.is_empty() {
        let domain = resolve_domain(e.domain.as_deref(), src);
        if domain.eq_ignore_case(&src.workgroup()) {
            v.push(src.local_server());
        }
        v.extend(src.servers(&domain).filter(|s| !s.name.is_empty()));
        v.retain(|s| {
            s.server_type.intersects(mask) && !s.server_type.contains(ServerType::DOMAIN_ENUM)
        });
    }
    sort_dedup(&mut v);
    if !e.first_name.is_empty() {
        let start =
            v.partition_point(|s| list_order(s.name.as_bytes(), &e.first_name) == Ordering::Less);
        v.drain(..start);
    }
    v
}

/// The shares NetShareEnum lists: the configured ones that RAP can carry, and `IPC$`.
pub fn share_entries(src: &dyn ListingSource) -> Vec<ShareInfo1> {
    let ascii = |s: &str| -> Vec<u8> {
        s.chars()
            .take_while(|&c| c != '\0')
            .map(|c| if c.is_ascii() { c as u8 } else { b'?' })
            .collect()
    };
    let mut v: Vec<ShareInfo1> = src
        .shares()
        .iter()
        .filter(|s| s.name.is_ascii())
        .filter_map(|s| {
            Some(ShareInfo1 {
                name: ShareName::new(s.name.as_bytes()).ok()?,
                share_type: s.share_type,
                remark: ascii(&s.comment),
            })
        })
        .collect();
    if !v
        .iter()
        .any(|s| s.name.as_bytes().eq_ignore_ascii_case(b"IPC$"))
    {
        let mut remark = b"IPC Service (".to_vec();
        remark.extend(src.local_server().comment.iter().take_while(|&&b| b != 0));
        remark.push(b')');
        v.push(ShareInfo1 {
            name: ShareName::new(b"IPC$").expect("a valid share name"),
            share_type: share_type::IPC,
            remark,
        });
    }
    v
}

/// The RAP answer to a call, with at most `max_data` bytes of data (the transaction's
/// MaxDataCount; an enumeration's ReceiveBufferLen limits it further). `user` is the session's
/// user, for NetWkstaGetInfo.
pub fn answer(
    call: &RapCall,
    max_data: usize,
    src: &dyn ListingSource,
    ctx: &CallContext,
    user: &[u8],
) -> RapResponse {
    const CONVERTER: u16 = 0;
    match call {
        RapCall::NetShareEnum {
            level,
            receive_buffer_len,
        } => {
            let limit = max_data.min(usize::from(*receive_buffer_len));
            let shares = share_entries(src);
            let e = match level {
                InfoLevel::Zero => encode_entries(
                    shares.into_iter().map(|s| ShareInfo0 { name: s.name }),
                    CONVERTER,
                    limit,
                ),
                InfoLevel::One => encode_entries(shares, CONVERTER, limit),
            };
            RapResponse::enumeration(CONVERTER, e.returned, e.available, e.data)
        }
        RapCall::NetServerEnum2(req) | RapCall::NetServerEnum3(req) => {
            let limit = max_data.min(usize::from(req.receive_buffer_len));
            let entries = server_entries(req, src);
            let e = match req.level {
                InfoLevel::Zero => encode_entries(
                    entries.into_iter().map(|s| ServerInfo0 { name: s.name }),
                    CONVERTER,
                    limit,
                ),
                InfoLevel::One => encode_entries(
                    entries.into_iter().map(|s| ServerInfo1 {
                        name: s.name,
                        version_major: s.version.0,
                        version_minor: s.version.1,
                        server_type: s.server_type - ServerType::LOCAL_LIST_ONLY,
                        comment: s.comment.into_owned(),
                    }),
                    CONVERTER,
                    limit,
                ),
            };
            RapResponse::enumeration(CONVERTER, e.returned, e.available, e.data)
        }
        RapCall::NetServerGetInfo {
            level, data_desc, ..
        } => info::server_get_info(*level, data_desc, max_data, src),
        RapCall::NetWkstaGetInfo {
            level, data_desc, ..
        } => info::wksta_get_info(*level, data_desc, max_data, user, src),
        RapCall::NetSessionEnum {
            level, data_desc, ..
        } => info::session_enum(*level, data_desc, max_data, ctx),
        RapCall::NetSessionGetInfo {
            client,
            level,
            data_desc,
            ..
        } => info::session_get_info(client, *level, data_desc, max_data, ctx),
        RapCall::NetRemoteTod { .. } => info::remote_tod(max_data, ctx),
        // The caller answers these by the request's ParamDesc (RapResponse::not_supported).
        RapCall::Unsupported(_) => RapResponse::unsupported(),
    }
}
