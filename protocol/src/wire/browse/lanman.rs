//! LAN Manager announcements on `\MAILSLOT\LANMAN` (Samba `send_lm_announcement`).

use crate::error::{EmitError, ParseError};
use crate::wire::Emit;
use crate::wire::cursor::{Reader, Writer};

use super::*;

/// Opcode (u16) of a LAN Manager host announcement on `\MAILSLOT\LANMAN`.
pub const LANMAN_HOST_ANNOUNCEMENT: u16 = 1;
/// Opcode (u16) of a LAN Manager announcement request on `\MAILSLOT\LANMAN`.
pub const LANMAN_ANNOUNCEMENT_REQUEST: u16 = 2;

/// A LAN Manager host announcement (Samba `send_lm_announcement`; the `\MAILSLOT\LANMAN`
/// counterpart of MS-BRWS 2.2.1), sent to `WORKGROUP<00>` for OS/2 and DOS clients.
///
/// Samba accepts received ones only from OS/2 (OS version 36.0 to 38.0), yet sends its own with
/// its NBT announce version (6.1); nothing here checks the version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LanmanAnnouncement {
    /// ServerType (SV_TYPE_* bits).
    pub server_type: ServerType,
    /// OS major version.
    pub os_version_major: u8,
    /// OS minor version.
    pub os_version_minor: u8,
    /// Announcement interval in SECONDS (unlike MS-BRWS 2.2.1's milliseconds).
    pub periodicity_secs: u16,
    /// Server name, NUL-terminated on the wire (not padded).
    pub server_name: ServerName,
    /// Comment without its NUL (Samba upper-cases it).
    pub comment: Vec<u8>,
}

impl LanmanAnnouncement {
    /// An announcement with Samba's OS version (6.1).
    pub fn new(
        server_name: ServerName,
        server_type: ServerType,
        periodicity_secs: u16,
        comment: impl Into<Vec<u8>>,
    ) -> Self {
        LanmanAnnouncement {
            server_type,
            os_version_major: SAMBA_OS_VERSION_MAJOR,
            os_version_minor: SAMBA_OS_VERSION_MINOR,
            periodicity_secs,
            server_name,
            comment: comment.into(),
        }
    }
}

/// A frame on `\MAILSLOT\LANMAN` (LAN Manager browsing, browser.md §6; MS-BRWS 2.1 names the
/// mailslot but not the frames).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LanmanFrame {
    /// Opcode 1: host announcement.
    HostAnnouncement(LanmanAnnouncement),
    /// Opcode 2: announcement request. Its body is undocumented and ignored by Samba; it is
    /// kept as sent.
    AnnouncementRequest {
        /// The bytes after the opcode.
        body: Vec<u8>,
    },
}

impl LanmanFrame {
    /// The frame's u16 opcode.
    pub fn opcode(&self) -> u16 {
        match self {
            Self::HostAnnouncement(_) => LANMAN_HOST_ANNOUNCEMENT,
            Self::AnnouncementRequest { .. } => LANMAN_ANNOUNCEMENT_REQUEST,
        }
    }

    /// Parses a frame: the mailslot data, u16 opcode first.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let mut r = Reader::new(bytes);
        match r.u16_le("LANMAN opcode")? {
            LANMAN_HOST_ANNOUNCEMENT => {
                let server_type =
                    ServerType::from_bits_retain(r.u32_le("LANMAN HostAnnouncement ServerType")?);
                let os_version_major = r.u8("LANMAN HostAnnouncement OSVersionMajor")?;
                let os_version_minor = r.u8("LANMAN HostAnnouncement OSVersionMinor")?;
                let periodicity_secs = r.u16_le("LANMAN HostAnnouncement Periodicity")?;
                let server_name =
                    ServerName::read_cstr(&mut r, "LANMAN HostAnnouncement ServerName")?;
                let comment = read_cstr(
                    &mut r,
                    MAX_PARSED_COMMENT_LEN,
                    "LANMAN HostAnnouncement Comment",
                )?
                .to_vec();
                Ok(Self::HostAnnouncement(LanmanAnnouncement {
                    server_type,
                    os_version_major,
                    os_version_minor,
                    periodicity_secs,
                    server_name,
                    comment,
                }))
            }
            LANMAN_ANNOUNCEMENT_REQUEST => Ok(Self::AnnouncementRequest {
                body: r.take_rest().to_vec(),
            }),
            op => Err(ParseError::bad_value(
                "LANMAN opcode",
                0,
                u64::from(op),
                "1 (host announcement) or 2 (announcement request)",
            )),
        }
    }

    fn check(&self) -> Result<(), EmitError> {
        if let Self::HostAnnouncement(a) = self {
            check_comment(&a.comment, "LANMAN HostAnnouncement Comment")?;
        }
        check_frame_len(self.buffer_len(), "LANMAN frame")
    }
}

impl Emit for LanmanFrame {
    fn buffer_len(&self) -> usize {
        match self {
            Self::HostAnnouncement(a) => (10 + a.server_name.cstr_len())
                .saturating_add(a.comment.len())
                .saturating_add(1),
            Self::AnnouncementRequest { body } => 2usize.saturating_add(body.len()),
        }
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        self.check()?;
        let mut w = Writer::new(buf);
        w.u16_le(self.opcode())?;
        match self {
            Self::HostAnnouncement(a) => {
                w.u32_le(a.server_type.bits())?;
                w.u8(a.os_version_major)?;
                w.u8(a.os_version_minor)?;
                w.u16_le(a.periodicity_secs)?;
                a.server_name.write_cstr(&mut w)?;
                w.cstr(&a.comment)?;
            }
            Self::AnnouncementRequest { body } => w.put(body)?,
        }
        Ok(w.pos())
    }
}
