//! Browser protocol frames (MS-BRWS 2.2) carried on `\MAILSLOT\BROWSE`, and the LAN Manager
//! announcements carried on `\MAILSLOT\LANMAN`.
//!
//! A frame is the data of a mailslot write: the bytes after the mailslot name inside the SMB
//! TRANSACTION, opcode first. The datagram and SMB envelopes around it belong to
//! [`crate::wire::dgram`] and [`crate::wire::smb`]. All integers are little-endian (MS-BRWS 2.2).
//!
//! What is accepted on receipt follows what Samba's nmbd accepts (`source3/nmbd/
//! nmbd_incomingdgrams.c`, `nmbd_elections.c`), so that nbtd hears the same peers Samba hears:
//! - Fields that Samba ignores are kept exactly as parsed, so frames emit back byte for byte:
//!   UpdateCount (Samba sends a running count although MS-BRWS 2.2.1 says 0), the OS and browser
//!   versions, the Signature (Samba never checks for 0xAA55), the RequestElection Unused field and
//!   the AnnouncementRequest Reserved byte (Samba puts a workgroup token there).
//! - Every string must end with a NUL within its field's maximum: names hold at most
//!   [`MAX_NAME_LEN`] bytes, received comments at most [`MAX_PARSED_COMMENT_LEN`].
//! - In the fixed 16-byte name field of announcements, the bytes after the NUL are padding that
//!   MS-BRWS 2.2.1 says to ignore; they are not kept and are written back as NULs.
//! - Bytes after a frame's last field are ignored, as Samba ignores them. The one exception is the
//!   AnnouncementRequest, where Samba's own frames put the requester's name there (see
//!   [`AnnouncementRequest`]); no other captured Samba frame has trailing bytes.
//!
//! [`Emit`] writes the canonical form and refuses what a peer would drop: comments over
//! [`MAX_COMMENT_LEN`] bytes, strings holding a NUL, more than 255 backup servers, and frames over
//! [`MAX_FRAME_LEN`] bytes. Names cannot be too long: [`ServerName`] holds at most 15 bytes.

use core::cmp::Ordering;
use core::fmt;
use core::str::FromStr;

use bitflags::bitflags;

use crate::error::{EmitError, ParseError};
use crate::name::{NameError, NetbiosName};
use crate::wire::Emit;
use crate::wire::cursor::{Reader, Writer};

/// Mailslot of the browser frames (MS-BRWS 2.1).
pub const MAILSLOT_BROWSE: &str = "\\MAILSLOT\\BROWSE";
/// Mailslot of the LAN Manager announcements (MS-BRWS 2.1).
pub const MAILSLOT_LANMAN: &str = "\\MAILSLOT\\LANMAN";

/// Longest server, workgroup or browser name in a frame: 16 bytes with the NUL (MS-BRWS 2.2.1).
pub const MAX_NAME_LEN: usize = 15;
/// Size of the NUL-padded name field of announcements (MS-BRWS 2.2.1).
pub const ANNOUNCEMENT_NAME_FIELD_LEN: usize = 16;
/// Longest comment nbtd sends, without its NUL: Samba's `MAX_SERVER_STRING_LENGTH` (48), beyond
/// which Windows NT ignores the announcement.
pub const MAX_COMMENT_LEN: usize = 48;
/// Longest comment accepted on receipt, without its NUL (Samba reads comments into 256 bytes).
pub const MAX_PARSED_COMMENT_LEN: usize = 255;
/// Largest frame nbtd emits: 576 bytes of NetBIOS datagram, less its 82-byte header with two
/// unscoped names, less the 86 bytes of SMB TRANSACTION before the data of a 16-character mailslot.
pub const MAX_FRAME_LEN: usize = 408;

/// BrowserVersionMajor of announcements (MS-BRWS 2.2.1): 15.
pub const BROWSER_VERSION_MAJOR: u8 = 0x0F;
/// BrowserVersionMinor of announcements (MS-BRWS 2.2.1): 1.
pub const BROWSER_VERSION_MINOR: u8 = 0x01;
/// Signature of announcements (MS-BRWS 2.2.1), bytes `55 AA` on the wire.
pub const SIGNATURE: u16 = 0xAA55;
/// OSVersionMajor that Samba 4 announces (`SAMBA_MAJOR_NBT_ANNOUNCE_VERSION`).
pub const SAMBA_OS_VERSION_MAJOR: u8 = 6;
/// OSVersionMinor that Samba 4 announces (`SAMBA_MINOR_NBT_ANNOUNCE_VERSION`).
pub const SAMBA_OS_VERSION_MINOR: u8 = 1;
/// Version byte of RequestElection (MS-BRWS 2.2.3), Samba's `ELECTION_VERSION`.
pub const ELECTION_VERSION: u8 = 1;

/// Opcode of a browser frame, its first byte (MS-BRWS 2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum BrowserOpcode {
    /// HostAnnouncement (MS-BRWS 2.2.1).
    HostAnnouncement = 0x01,
    /// AnnouncementRequest (MS-BRWS 2.2.2).
    AnnouncementRequest = 0x02,
    /// RequestElection (MS-BRWS 2.2.3).
    RequestElection = 0x08,
    /// GetBackupListRequest (MS-BRWS 2.2.4).
    GetBackupListRequest = 0x09,
    /// GetBackupListResponse (MS-BRWS 2.2.5).
    GetBackupListResponse = 0x0A,
    /// BecomeBackup (MS-BRWS 2.2.6).
    BecomeBackup = 0x0B,
    /// DomainAnnouncement (MS-BRWS 2.2.7).
    DomainAnnouncement = 0x0C,
    /// MasterAnnouncement (MS-BRWS 2.2.8).
    MasterAnnouncement = 0x0D,
    /// ResetStateRequest (MS-BRWS 2.2.9).
    ResetStateRequest = 0x0E,
    /// LocalMasterAnnouncement (MS-BRWS 2.2.10).
    LocalMasterAnnouncement = 0x0F,
}

impl BrowserOpcode {
    /// The opcode for a byte, if MS-BRWS 2.2 defines one.
    pub const fn from_u8(b: u8) -> Option<Self> {
        Some(match b {
            0x01 => Self::HostAnnouncement,
            0x02 => Self::AnnouncementRequest,
            0x08 => Self::RequestElection,
            0x09 => Self::GetBackupListRequest,
            0x0A => Self::GetBackupListResponse,
            0x0B => Self::BecomeBackup,
            0x0C => Self::DomainAnnouncement,
            0x0D => Self::MasterAnnouncement,
            0x0E => Self::ResetStateRequest,
            0x0F => Self::LocalMasterAnnouncement,
            _ => return None,
        })
    }

    /// The opcode byte.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }
}

bitflags! {
    /// Server type bits, `SV_TYPE_*` (MS-BRWS 2.2.1 ServerType, MS-SRVS 2.2.2.7); unknown bits
    /// are kept.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
    pub struct ServerType: u32 {
        /// SV_TYPE_WORKSTATION: a workstation.
        const WORKSTATION = 0x0000_0001;
        /// SV_TYPE_SERVER: a file server.
        const SERVER = 0x0000_0002;
        /// SV_TYPE_SQLSERVER: an SQL server.
        const SQLSERVER = 0x0000_0004;
        /// SV_TYPE_DOMAIN_CTRL: a primary domain controller.
        const DOMAIN_CTRL = 0x0000_0008;
        /// SV_TYPE_DOMAIN_BAKCTRL: a backup domain controller.
        const DOMAIN_BAKCTRL = 0x0000_0010;
        /// SV_TYPE_TIME_SOURCE: runs the time source service.
        const TIME_SOURCE = 0x0000_0020;
        /// SV_TYPE_AFP: an Apple File Protocol server.
        const AFP = 0x0000_0040;
        /// SV_TYPE_NOVELL: a Novell server.
        const NOVELL = 0x0000_0080;
        /// SV_TYPE_DOMAIN_MEMBER: a domain member.
        const DOMAIN_MEMBER = 0x0000_0100;
        /// SV_TYPE_PRINTQ_SERVER: shares a print queue.
        const PRINTQ_SERVER = 0x0000_0200;
        /// SV_TYPE_DIALIN_SERVER: a dial-in server.
        const DIALIN_SERVER = 0x0000_0400;
        /// SV_TYPE_SERVER_UNIX (a.k.a. XENIX): a Unix/Xenix server.
        const SERVER_UNIX = 0x0000_0800;
        /// SV_TYPE_NT: Windows NT (workstation or server).
        const NT = 0x0000_1000;
        /// SV_TYPE_WFW: Windows for Workgroups.
        const WFW = 0x0000_2000;
        /// SV_TYPE_SERVER_MFPN: a Microsoft File and Print for NetWare server.
        const SERVER_MFPN = 0x0000_4000;
        /// SV_TYPE_SERVER_NT: a Windows NT server that is not a domain controller.
        const SERVER_NT = 0x0000_8000;
        /// SV_TYPE_POTENTIAL_BROWSER: can run the browser service.
        const POTENTIAL_BROWSER = 0x0001_0000;
        /// SV_TYPE_BACKUP_BROWSER: a backup browser.
        const BACKUP_BROWSER = 0x0002_0000;
        /// SV_TYPE_MASTER_BROWSER: the local master browser.
        const MASTER_BROWSER = 0x0004_0000;
        /// SV_TYPE_DOMAIN_MASTER: the domain master browser.
        const DOMAIN_MASTER = 0x0008_0000;
        /// SV_TYPE_SERVER_OSF: an OSF server.
        const SERVER_OSF = 0x0010_0000;
        /// SV_TYPE_SERVER_VMS: a VMS server.
        const SERVER_VMS = 0x0020_0000;
        /// SV_TYPE_WIN95_PLUS: Windows 95 or later.
        const WIN95_PLUS = 0x0040_0000;
        /// SV_TYPE_DFS_SERVER: a DFS root.
        const DFS_SERVER = 0x0080_0000;
        /// SV_TYPE_ALTERNATE_XPORT: reached over an alternate transport.
        const ALTERNATE_XPORT = 0x2000_0000;
        /// SV_TYPE_LOCAL_LIST_ONLY: only in the local list; never sent in announcements.
        const LOCAL_LIST_ONLY = 0x4000_0000;
        /// SV_TYPE_DOMAIN_ENUM: a workgroup entry (DomainAnnouncement, NetServerEnum2).
        const DOMAIN_ENUM = 0x8000_0000;
    }
}

impl ServerType {
    /// SV_TYPE_ALL: every bit, the NetServerEnum2 mask for "all servers".
    pub const ALL: ServerType = ServerType::from_bits_retain(u32::MAX);
}

bitflags! {
    /// The role ("desire") bits, bits 7..0 of the election criteria (MS-BRWS 2.2.3); unknown bits
    /// are kept.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
    pub struct ElectionDesire: u8 {
        /// 0x01: currently running as a backup browser.
        const RUNNING_BACKUP = 0x01;
        /// 0x02: standby browser (MaintainServerList=yes; Samba always sets it).
        const STANDBY = 0x02;
        /// 0x04: currently running as the local master browser.
        const RUNNING_MASTER = 0x04;
        /// 0x08: preferred master browser.
        const PREFERRED_MASTER = 0x08;
        /// 0x20: a WINS client.
        const WINS_CLIENT = 0x20;
        /// 0x80: running on the primary domain controller.
        const PDC = 0x80;
    }
}

bitflags! {
    /// Type byte of a ResetStateRequest (MS-BRWS 2.2.9); unknown bits are kept.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
    pub struct ResetStateType: u8 {
        /// RESET_STATE_STOP_MASTER: stop being the master browser (Samba: demote and re-elect).
        const STOP_MASTER = 0x01;
        /// RESET_STATE_CLEAR_ALL: drop all browser roles (Samba: discard the browse lists).
        const CLEAR_ALL = 0x02;
        /// RESET_STATE_STOP: stop the browser service (Samba ignores it).
        const STOP = 0x04;
    }
}

/// Values of the OS byte, bits 31..24 of the election criteria (MS-BRWS 2.2.3, Samba `os level`).
pub mod os_level {
    /// Windows for Workgroups and Windows 9x.
    pub const WFW: u8 = 0x01;
    /// Windows NT-family workstations and member servers.
    pub const NT_WORKSTATION: u8 = 0x10;
    /// Windows NT-family domain controllers.
    pub const NT_SERVER: u8 = 0x20;
    /// Samba's default `os level` (20).
    pub const SAMBA_DEFAULT: u8 = 20;
}

/// The election criteria DWORD of RequestElection (MS-BRWS 2.2.3): OS level in bits 31..24,
/// browser version 0x010F in bits 23..8 and [`ElectionDesire`] in bits 7..0.
///
/// Ordered as an unsigned 32-bit integer, which is how elections compare it (MS-BRWS 3.3.5.8).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ElectionCriteria(u32);

impl ElectionCriteria {
    /// Criteria 0, sent by a client that forces an election it does not take part in.
    pub const NONE: ElectionCriteria = ElectionCriteria(0);
    /// Browser version of the criteria (bits 23..8), Samba's `BROWSER_ELECTION_VERSION`.
    pub const BROWSER_VERSION: u16 = 0x010F;
    /// Samba's default criteria: os level 20, standby (0x14010F02).
    pub const SAMBA_DEFAULT: ElectionCriteria = ElectionCriteria(0x1401_0F02);

    /// Criteria with the given OS level and role bits and the browser version 0x010F.
    pub const fn new(os_level: u8, desire: ElectionDesire) -> Self {
        ElectionCriteria(
            ((os_level as u32) << 24)
                | ((Self::BROWSER_VERSION as u32) << 8)
                | desire.bits() as u32,
        )
    }

    /// Criteria from the raw DWORD.
    pub const fn from_bits(bits: u32) -> Self {
        ElectionCriteria(bits)
    }

    /// The raw DWORD.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// The OS level, bits 31..24.
    pub const fn os_level(self) -> u8 {
        (self.0 >> 24) as u8
    }

    /// The browser (election) version, bits 23..8; 0x010F from every current implementation.
    pub const fn browser_version(self) -> u16 {
        (self.0 >> 8) as u16
    }

    /// The role bits, bits 7..0.
    pub const fn desire(self) -> ElectionDesire {
        ElectionDesire::from_bits_retain(self.0 as u8)
    }

    /// The same criteria with other role bits.
    pub const fn with_desire(self, desire: ElectionDesire) -> Self {
        ElectionCriteria((self.0 & !0xFF) | desire.bits() as u32)
    }
}

impl fmt::Debug for ElectionCriteria {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ElectionCriteria({:#010x}: os level {:#04x}, version {:#06x}, {:?})",
            self.0,
            self.os_level(),
            self.browser_version(),
            self.desire()
        )
    }
}

/// Reads a NUL-terminated string of at most `max` bytes; an empty remainder is "truncated".
fn read_cstr<'a>(
    r: &mut Reader<'a>,
    max: usize,
    field: &'static str,
) -> Result<&'a [u8], ParseError> {
    if r.remaining() == 0 {
        return Err(ParseError::truncated(field, r.pos(), 1, 0));
    }
    r.cstr(max, field)
}

/// Checks a comment-like string for emission: at most [`MAX_COMMENT_LEN`] bytes, no NUL.
fn check_comment(s: &[u8], field: &'static str) -> Result<(), EmitError> {
    if s.len() > MAX_COMMENT_LEN {
        return Err(EmitError::FieldTooLarge {
            field,
            why: "longer than 48 bytes, which Samba truncates and Windows NT ignores",
        });
    }
    if s.contains(&0) {
        return Err(EmitError::FieldTooLarge {
            field,
            why: "contains a NUL byte, which would end the string early",
        });
    }
    Ok(())
}

/// Checks a frame's total length for emission.
fn check_frame_len(len: usize, frame: &'static str) -> Result<(), EmitError> {
    if len > MAX_FRAME_LEN {
        return Err(EmitError::FieldTooLarge {
            field: frame,
            why: "frame is longer than 408 bytes, more than a 576-byte mailslot datagram carries",
        });
    }
    Ok(())
}

/// Protocol names of an announcement's fields, per frame type, for errors.
#[derive(Clone, Copy)]
struct AnnouncementFields {
    frame: &'static str,
    update_count: &'static str,
    periodicity: &'static str,
    server_name: &'static str,
    os_major: &'static str,
    os_minor: &'static str,
    server_type: &'static str,
    browser_major: &'static str,
    browser_minor: &'static str,
    signature: &'static str,
    comment: &'static str,
}

const HOST_FIELDS: AnnouncementFields = AnnouncementFields {
    frame: "HostAnnouncement",
    update_count: "HostAnnouncement UpdateCount",
    periodicity: "HostAnnouncement Periodicity",
    server_name: "HostAnnouncement ServerName",
    os_major: "HostAnnouncement OSVersionMajor",
    os_minor: "HostAnnouncement OSVersionMinor",
    server_type: "HostAnnouncement ServerType",
    browser_major: "HostAnnouncement BrowserVersionMajor",
    browser_minor: "HostAnnouncement BrowserVersionMinor",
    signature: "HostAnnouncement Signature",
    comment: "HostAnnouncement Comment",
};

const LOCAL_MASTER_FIELDS: AnnouncementFields = AnnouncementFields {
    frame: "LocalMasterAnnouncement",
    update_count: "LocalMasterAnnouncement UpdateCount",
    periodicity: "LocalMasterAnnouncement Periodicity",
    server_name: "LocalMasterAnnouncement ServerName",
    os_major: "LocalMasterAnnouncement OSVersionMajor",
    os_minor: "LocalMasterAnnouncement OSVersionMinor",
    server_type: "LocalMasterAnnouncement ServerType",
    browser_major: "LocalMasterAnnouncement BrowserVersionMajor",
    browser_minor: "LocalMasterAnnouncement BrowserVersionMinor",
    signature: "LocalMasterAnnouncement Signature",
    comment: "LocalMasterAnnouncement Comment",
};

const DOMAIN_FIELDS: AnnouncementFields = AnnouncementFields {
    frame: "DomainAnnouncement",
    update_count: "DomainAnnouncement UpdateCount",
    periodicity: "DomainAnnouncement Periodicity",
    server_name: "DomainAnnouncement MachineGroup",
    os_major: "DomainAnnouncement BrowserConfigVersionMajor",
    os_minor: "DomainAnnouncement BrowserConfigVersionMinor",
    server_type: "DomainAnnouncement ServerType",
    browser_major: "DomainAnnouncement BrowserVersionMajor",
    browser_minor: "DomainAnnouncement BrowserVersionMinor",
    signature: "DomainAnnouncement Signature",
    comment: "DomainAnnouncement LocalMasterBrowserName",
};

/// The body shared by HostAnnouncement (MS-BRWS 2.2.1), LocalMasterAnnouncement (MS-BRWS 2.2.10)
/// and DomainAnnouncement (MS-BRWS 2.2.7).
///
/// In a DomainAnnouncement `server_name` is the workgroup (MachineGroup), the OS version is the
/// BrowserConfigVersion and `comment` is the local master browser's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Announcement {
    /// UpdateCount: MS-BRWS says send 0 and ignore; Samba sends a running count.
    pub update_count: u8,
    /// Periodicity: the announcement interval in milliseconds (Samba: ms "despite the spec").
    pub periodicity_ms: u32,
    /// ServerName (MachineGroup in a DomainAnnouncement).
    pub server_name: ServerName,
    /// OSVersionMajor (BrowserConfigVersionMajor in a DomainAnnouncement); informational.
    pub os_version_major: u8,
    /// OSVersionMinor (BrowserConfigVersionMinor in a DomainAnnouncement); informational.
    pub os_version_minor: u8,
    /// ServerType; 0 announces that the server is going down (Samba drops the entry).
    pub server_type: ServerType,
    /// BrowserVersionMajor, normally [`BROWSER_VERSION_MAJOR`].
    pub browser_version_major: u8,
    /// BrowserVersionMinor, normally [`BROWSER_VERSION_MINOR`].
    pub browser_version_minor: u8,
    /// Signature, normally [`SIGNATURE`]; not checked on receipt (Samba does not check it).
    pub signature: u16,
    /// Comment without its NUL (LocalMasterBrowserName in a DomainAnnouncement).
    pub comment: Vec<u8>,
}

impl Announcement {
    /// An announcement with Samba's constant fields (update count 0, OS version 6.1, browser
    /// version 15.1, signature 0xAA55). The comment is checked when emitted.
    pub fn new(
        server_name: ServerName,
        server_type: ServerType,
        periodicity_ms: u32,
        comment: impl Into<Vec<u8>>,
    ) -> Self {
        Announcement {
            update_count: 0,
            periodicity_ms,
            server_name,
            os_version_major: SAMBA_OS_VERSION_MAJOR,
            os_version_minor: SAMBA_OS_VERSION_MINOR,
            server_type,
            browser_version_major: BROWSER_VERSION_MAJOR,
            browser_version_minor: BROWSER_VERSION_MINOR,
            signature: SIGNATURE,
            comment: comment.into(),
        }
    }

    /// The body of a DomainAnnouncement as Samba sends it: the workgroup, type
    /// `DOMAIN_ENUM | NT`, and the local master's name as the comment (MS-BRWS 2.2.7).
    pub fn domain(workgroup: ServerName, local_master: ServerName, periodicity_ms: u32) -> Self {
        Announcement::new(
            workgroup,
            ServerType::DOMAIN_ENUM | ServerType::NT,
            periodicity_ms,
            local_master.as_bytes(),
        )
    }

    /// The comment as text (lossy for bytes that are not UTF-8).
    pub fn comment_lossy(&self) -> String {
        String::from_utf8_lossy(&self.comment).into_owned()
    }

    /// Whether this announces a server going down (ServerType 0, as Samba sends at shutdown).
    pub fn is_going_down(&self) -> bool {
        self.server_type.is_empty()
    }

    fn parse(r: &mut Reader<'_>, f: AnnouncementFields) -> Result<Self, ParseError> {
        let update_count = r.u8(f.update_count)?;
        let periodicity_ms = r.u32_le(f.periodicity)?;
        let server_name = ServerName::read_padded(r, f.server_name)?;
        let os_version_major = r.u8(f.os_major)?;
        let os_version_minor = r.u8(f.os_minor)?;
        let server_type = ServerType::from_bits_retain(r.u32_le(f.server_type)?);
        let browser_version_major = r.u8(f.browser_major)?;
        let browser_version_minor = r.u8(f.browser_minor)?;
        let signature = r.u16_le(f.signature)?;
        let comment = read_cstr(r, MAX_PARSED_COMMENT_LEN, f.comment)?.to_vec();
        Ok(Announcement {
            update_count,
            periodicity_ms,
            server_name,
            os_version_major,
            os_version_minor,
            server_type,
            browser_version_major,
            browser_version_minor,
            signature,
            comment,
        })
    }

    /// Length with the opcode.
    fn frame_len(&self) -> usize {
        32usize.saturating_add(self.comment.len()).saturating_add(1)
    }

    fn check(&self, f: AnnouncementFields) -> Result<(), EmitError> {
        check_comment(&self.comment, f.comment)?;
        check_frame_len(self.frame_len(), f.frame)
    }

    fn write(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.u8(self.update_count)?;
        w.u32_le(self.periodicity_ms)?;
        self.server_name.write_padded(w)?;
        w.u8(self.os_version_major)?;
        w.u8(self.os_version_minor)?;
        w.u32_le(self.server_type.bits())?;
        w.u8(self.browser_version_major)?;
        w.u8(self.browser_version_minor)?;
        w.u16_le(self.signature)?;
        w.cstr(&self.comment)
    }
}

/// AnnouncementRequest (MS-BRWS 2.2.2): asks every server to announce itself soon.
///
/// Samba's frames are not what MS-BRWS describes: `broadcast_announce_request` writes its workgroup
/// token into Reserved, skips a byte (left 0) and writes the name after it without its NUL, so
/// ResponseName parses as empty and the name lands in [`trailing`](Self::trailing). Both are
/// kept so the frame emits back unchanged; receivers must ignore the name anyway.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AnnouncementRequest {
    /// Reserved: MS-BRWS says 0x00; Samba sends its workgroup token (e.g. 0x01).
    pub reserved: u8,
    /// ResponseName: the requester's name.
    pub response_name: ServerName,
    /// Bytes after ResponseName's NUL (Samba's name, without a NUL); empty when canonical.
    pub trailing: Vec<u8>,
}

impl AnnouncementRequest {
    /// A canonical request from `response_name`.
    pub fn new(response_name: ServerName) -> Self {
        AnnouncementRequest {
            reserved: 0,
            response_name,
            trailing: Vec::new(),
        }
    }

    /// The requester's name: ResponseName, or Samba's name after the empty ResponseName.
    pub fn requester_name(&self) -> &[u8] {
        if self.response_name.is_empty() {
            let end = self
                .trailing
                .iter()
                .position(|&b| b == 0)
                .unwrap_or(self.trailing.len());
            self.trailing.get(..end).unwrap_or(&[])
        } else {
            self.response_name.as_bytes()
        }
    }
}

/// RequestElection (MS-BRWS 2.2.3): a candidate's election ballot, or a forced election.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RequestElection {
    /// Version: [`ELECTION_VERSION`] (1); 0 in Samba's forced elections.
    pub version: u8,
    /// Criteria (MS-BRWS 2.2.3).
    pub criteria: ElectionCriteria,
    /// Uptime of the sender's browser in milliseconds, as Samba sends it and nbt.idl and Wireshark
    /// read it (MS-BRWS 3.3.5.8 speaks of seconds).
    pub uptime_ms: u32,
    /// Unused: sent as 0, ignored on receipt.
    pub unused: u32,
    /// ServerName of the sender, upper case; empty in a forced election.
    pub server_name: ServerName,
}

impl RequestElection {
    /// A candidate's ballot: version 1, the given criteria, uptime and name.
    pub fn new(criteria: ElectionCriteria, uptime_ms: u32, server_name: ServerName) -> Self {
        RequestElection {
            version: ELECTION_VERSION,
            criteria,
            uptime_ms,
            unused: 0,
            server_name,
        }
    }

    /// The election Samba sends to make others elect a master when it will not stand itself
    /// (`local master = no`): version 0, criteria 0, uptime 0, empty name. It loses to any
    /// candidate.
    pub fn force() -> Self {
        RequestElection::default()
    }

    /// Who wins between `self` and `other`: `Greater` when `self` wins (MS-BRWS 3.3.5.8, Samba
    /// `win_election` in `nmbd_elections.c`).
    ///
    /// In order: the higher Version byte wins (Samba only); the higher criteria as an unsigned
    /// 32-bit integer wins; the longer uptime wins, compared in whole seconds as Samba does
    /// (`IVAL(buf,5)/1000`) so both sides agree on the outcome; the alphabetically lower name
    /// wins, compared ignoring case ([`ServerName::cmp_ignore_case`]). `Equal` remains only for
    /// the same ballot; Samba then counts itself the winner, so "we lose" is
    /// `theirs.beats(&ours)`.
    pub fn compare(&self, other: &RequestElection) -> Ordering {
        self.version
            .cmp(&other.version)
            .then(self.criteria.cmp(&other.criteria))
            .then((self.uptime_ms / 1000).cmp(&(other.uptime_ms / 1000)))
            .then_with(|| other.server_name.cmp_ignore_case(&self.server_name))
    }

    /// Whether `self` strictly wins against `other` ([`compare`](Self::compare) is `Greater`).
    pub fn beats(&self, other: &RequestElection) -> bool {
        self.compare(other) == Ordering::Greater
    }
}

/// GetBackupListRequest (MS-BRWS 2.2.4): a client asks the master for backup browsers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct GetBackupListRequest {
    /// RequestedCount: how many names the client wants.
    pub requested_count: u8,
    /// Token: opaque, echoed in the response.
    pub token: u32,
}

/// GetBackupListResponse (MS-BRWS 2.2.5): the master's list of backup browsers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct GetBackupListResponse {
    /// Token copied from the request.
    pub token: u32,
    /// BackupServerList; BackupServerCount is its length (at most 255).
    pub servers: Vec<ServerName>,
}

/// A frame on `\MAILSLOT\BROWSE` (MS-BRWS 2.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BrowserFrame {
    /// 0x01 HostAnnouncement (MS-BRWS 2.2.1).
    HostAnnouncement(Announcement),
    /// 0x02 AnnouncementRequest (MS-BRWS 2.2.2).
    AnnouncementRequest(AnnouncementRequest),
    /// 0x08 RequestElection (MS-BRWS 2.2.3).
    RequestElection(RequestElection),
    /// 0x09 GetBackupListRequest (MS-BRWS 2.2.4).
    GetBackupListRequest(GetBackupListRequest),
    /// 0x0A GetBackupListResponse (MS-BRWS 2.2.5).
    GetBackupListResponse(GetBackupListResponse),
    /// 0x0B BecomeBackup (MS-BRWS 2.2.6).
    BecomeBackup {
        /// BrowserToPromote: the potential browser that is to become a backup.
        browser_to_promote: ServerName,
    },
    /// 0x0C DomainAnnouncement (MS-BRWS 2.2.7).
    DomainAnnouncement(Announcement),
    /// 0x0D MasterAnnouncement (MS-BRWS 2.2.8).
    MasterAnnouncement {
        /// MasterBrowserServerName: the local master announcing itself to the domain master.
        master_browser_server_name: ServerName,
    },
    /// 0x0E ResetStateRequest (MS-BRWS 2.2.9).
    ResetStateRequest {
        /// Type: what to reset.
        reset_type: ResetStateType,
    },
    /// 0x0F LocalMasterAnnouncement (MS-BRWS 2.2.10).
    LocalMasterAnnouncement(Announcement),
}

impl BrowserFrame {
    /// The frame's opcode (MS-BRWS 2.2).
    pub fn opcode(&self) -> BrowserOpcode {
        match self {
            Self::HostAnnouncement(_) => BrowserOpcode::HostAnnouncement,
            Self::AnnouncementRequest(_) => BrowserOpcode::AnnouncementRequest,
            Self::RequestElection(_) => BrowserOpcode::RequestElection,
            Self::GetBackupListRequest(_) => BrowserOpcode::GetBackupListRequest,
            Self::GetBackupListResponse(_) => BrowserOpcode::GetBackupListResponse,
            Self::BecomeBackup { .. } => BrowserOpcode::BecomeBackup,
            Self::DomainAnnouncement(_) => BrowserOpcode::DomainAnnouncement,
            Self::MasterAnnouncement { .. } => BrowserOpcode::MasterAnnouncement,
            Self::ResetStateRequest { .. } => BrowserOpcode::ResetStateRequest,
            Self::LocalMasterAnnouncement(_) => BrowserOpcode::LocalMasterAnnouncement,
        }
    }

    /// Parses a frame: the mailslot data, opcode first (MS-BRWS 2.2).
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let mut r = Reader::new(bytes);
        let op = r.u8("browser opcode")?;
        let opcode = BrowserOpcode::from_u8(op).ok_or(ParseError::bad_value(
            "browser opcode",
            0,
            u64::from(op),
            "a MS-BRWS 2.2 opcode: 0x01, 0x02 or 0x08 to 0x0F",
        ))?;
        let r = &mut r;
        Ok(match opcode {
            BrowserOpcode::HostAnnouncement => {
                Self::HostAnnouncement(Announcement::parse(r, HOST_FIELDS)?)
            }
            BrowserOpcode::LocalMasterAnnouncement => {
                Self::LocalMasterAnnouncement(Announcement::parse(r, LOCAL_MASTER_FIELDS)?)
            }
            BrowserOpcode::DomainAnnouncement => {
                Self::DomainAnnouncement(Announcement::parse(r, DOMAIN_FIELDS)?)
            }
            BrowserOpcode::AnnouncementRequest => {
                let reserved = r.u8("AnnouncementRequest Reserved")?;
                let response_name = ServerName::read_cstr(r, "AnnouncementRequest ResponseName")?;
                let trailing = r.take_rest().to_vec();
                Self::AnnouncementRequest(AnnouncementRequest {
                    reserved,
                    response_name,
                    trailing,
                })
            }
            BrowserOpcode::RequestElection => Self::RequestElection(RequestElection {
                version: r.u8("RequestElection Version")?,
                criteria: ElectionCriteria(r.u32_le("RequestElection Criteria")?),
                uptime_ms: r.u32_le("RequestElection Uptime")?,
                unused: r.u32_le("RequestElection Unused")?,
                server_name: ServerName::read_cstr(r, "RequestElection ServerName")?,
            }),
            BrowserOpcode::GetBackupListRequest => {
                Self::GetBackupListRequest(GetBackupListRequest {
                    requested_count: r.u8("GetBackupListRequest RequestedCount")?,
                    token: r.u32_le("GetBackupListRequest Token")?,
                })
            }
            BrowserOpcode::GetBackupListResponse => {
                let count = usize::from(r.u8("GetBackupListResponse BackupServerCount")?);
                let token = r.u32_le("GetBackupListResponse Token")?;
                // Each name takes at least its NUL: refuse a count the bytes cannot hold before
                // reserving room for it.
                if count > r.remaining() {
                    return Err(ParseError::truncated(
                        "GetBackupListResponse BackupServerList",
                        r.pos(),
                        count,
                        r.remaining(),
                    ));
                }
                let mut servers = Vec::with_capacity(count);
                for _ in 0..count {
                    servers.push(ServerName::read_cstr(
                        r,
                        "GetBackupListResponse BackupServerList",
                    )?);
                }
                Self::GetBackupListResponse(GetBackupListResponse { token, servers })
            }
            BrowserOpcode::BecomeBackup => Self::BecomeBackup {
                browser_to_promote: ServerName::read_cstr(r, "BecomeBackup BrowserToPromote")?,
            },
            BrowserOpcode::MasterAnnouncement => Self::MasterAnnouncement {
                master_browser_server_name: ServerName::read_cstr(
                    r,
                    "MasterAnnouncement MasterBrowserServerName",
                )?,
            },
            BrowserOpcode::ResetStateRequest => Self::ResetStateRequest {
                reset_type: ResetStateType::from_bits_retain(r.u8("ResetStateRequest Type")?),
            },
        })
    }

    /// Checks that the frame can be emitted.
    fn check(&self) -> Result<(), EmitError> {
        match self {
            Self::HostAnnouncement(a) => a.check(HOST_FIELDS),
            Self::LocalMasterAnnouncement(a) => a.check(LOCAL_MASTER_FIELDS),
            Self::DomainAnnouncement(a) => a.check(DOMAIN_FIELDS),
            Self::AnnouncementRequest(_) => {
                check_frame_len(self.buffer_len(), "AnnouncementRequest")
            }
            Self::GetBackupListResponse(g) => {
                if g.servers.len() > usize::from(u8::MAX) {
                    return Err(EmitError::FieldTooLarge {
                        field: "GetBackupListResponse BackupServerCount",
                        why: "more than 255 backup servers",
                    });
                }
                check_frame_len(self.buffer_len(), "GetBackupListResponse")
            }
            Self::RequestElection(_)
            | Self::GetBackupListRequest(_)
            | Self::BecomeBackup { .. }
            | Self::MasterAnnouncement { .. }
            | Self::ResetStateRequest { .. } => Ok(()),
        }
    }
}

impl Emit for BrowserFrame {
    fn buffer_len(&self) -> usize {
        match self {
            Self::HostAnnouncement(a)
            | Self::LocalMasterAnnouncement(a)
            | Self::DomainAnnouncement(a) => a.frame_len(),
            Self::AnnouncementRequest(q) => {
                (2 + q.response_name.cstr_len()).saturating_add(q.trailing.len())
            }
            Self::RequestElection(e) => 14 + e.server_name.cstr_len(),
            Self::GetBackupListRequest(_) => 6,
            Self::GetBackupListResponse(g) => g
                .servers
                .iter()
                .fold(6usize, |n, s| n.saturating_add(s.cstr_len())),
            Self::BecomeBackup {
                browser_to_promote: n,
            }
            | Self::MasterAnnouncement {
                master_browser_server_name: n,
            } => 1 + n.cstr_len(),
            Self::ResetStateRequest { .. } => 2,
        }
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        self.check()?;
        let mut w = Writer::new(buf);
        w.u8(self.opcode().as_u8())?;
        match self {
            Self::HostAnnouncement(a)
            | Self::LocalMasterAnnouncement(a)
            | Self::DomainAnnouncement(a) => a.write(&mut w)?,
            Self::AnnouncementRequest(q) => {
                w.u8(q.reserved)?;
                q.response_name.write_cstr(&mut w)?;
                w.put(&q.trailing)?;
            }
            Self::RequestElection(e) => {
                w.u8(e.version)?;
                w.u32_le(e.criteria.bits())?;
                w.u32_le(e.uptime_ms)?;
                w.u32_le(e.unused)?;
                e.server_name.write_cstr(&mut w)?;
            }
            Self::GetBackupListRequest(g) => {
                w.u8(g.requested_count)?;
                w.u32_le(g.token)?;
            }
            Self::GetBackupListResponse(g) => {
                // check() keeps the count within a byte.
                w.u8(u8::try_from(g.servers.len()).unwrap_or(u8::MAX))?;
                w.u32_le(g.token)?;
                for s in &g.servers {
                    s.write_cstr(&mut w)?;
                }
            }
            Self::BecomeBackup {
                browser_to_promote: n,
            }
            | Self::MasterAnnouncement {
                master_browser_server_name: n,
            } => n.write_cstr(&mut w)?,
            Self::ResetStateRequest { reset_type } => w.u8(reset_type.bits())?,
        }
        Ok(w.pos())
    }
}

mod lanman;
mod server_name;
pub use lanman::{
    LANMAN_ANNOUNCEMENT_REQUEST, LANMAN_HOST_ANNOUNCEMENT, LanmanAnnouncement, LanmanFrame,
};
pub use server_name::ServerName;

/// Proptest strategies for browser frames, shared with the envelope layers' round-trip tests.
#[cfg(test)]
pub(crate) mod strategy;

#[cfg(test)]
mod tests;
