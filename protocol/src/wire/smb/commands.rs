//! The SMB1 commands of a listing session's handshake (rap-smb1.md §3–5, MS-CIFS 2.2.4):
//! NEGOTIATE, SESSION_SETUP_ANDX and TREE_CONNECT_ANDX, read from and written to the generic
//! [`SmbMessage`] shape, and the NTSTATUS values nbtd answers with.
//!
//! Strings follow the message's Flags2: UTF-16LE when UNICODE is set, else ASCII. A UTF-16LE
//! string in a byte block starts at an even offset from the SMB header, after one pad byte when
//! needed; the NEGOTIATE response is the exception (Samba's client reads its names unaligned).

use bitflags::bitflags;

use super::{SmbHeader, SmbMessage};
use crate::error::{EmitError, ParseError};
use crate::wire::cursor::Reader;

/// NTSTATUS values a listing server replies with (MS-ERREF 2.3; MS-CIFS 2.2.2.4 for the
/// SMB-specific ones).
pub mod ntstatus {
    /// STATUS_SUCCESS.
    pub const SUCCESS: u32 = 0x0000_0000;
    /// STATUS_SMB_BAD_TID: the TID names no tree of this connection (ERRSRV/ERRinvtid).
    pub const SMB_BAD_TID: u32 = 0x0005_0002;
    /// STATUS_SMB_BAD_UID: the UID names no session of this connection (ERRSRV/ERRbaduid).
    pub const SMB_BAD_UID: u32 = 0x005B_0002;
    /// STATUS_INVALID_PARAMETER: a request whose fields do not make sense.
    pub const INVALID_PARAMETER: u32 = 0xC000_000D;
    /// STATUS_BUFFER_TOO_SMALL: the client's buffer cannot hold even the reply's header.
    pub const BUFFER_TOO_SMALL: u32 = 0xC000_0023;
    /// STATUS_OBJECT_NAME_NOT_FOUND: no such pipe (smbclient then falls back to RAP).
    pub const OBJECT_NAME_NOT_FOUND: u32 = 0xC000_0034;
    /// STATUS_INSUFFICIENT_RESOURCES: the per-connection cap on sessions or trees is reached.
    pub const INSUFFICIENT_RESOURCES: u32 = 0xC000_009A;
    /// STATUS_NOT_SUPPORTED: a command or form the server does not implement.
    pub const NOT_SUPPORTED: u32 = 0xC000_00BB;
    /// STATUS_BAD_NETWORK_NAME: no such share.
    pub const BAD_NETWORK_NAME: u32 = 0xC000_00CC;
    /// STATUS_BUFFER_OVERFLOW: a warning; the reply holds part of what there is.
    pub const BUFFER_OVERFLOW: u32 = 0x8000_0005;
    /// STATUS_MORE_PROCESSING_REQUIRED: an extended-security session setup goes on.
    pub const MORE_PROCESSING_REQUIRED: u32 = 0xC000_0016;
    /// STATUS_ACCESS_DENIED.
    pub const ACCESS_DENIED: u32 = 0xC000_0022;
    /// STATUS_LOGON_FAILURE: the account or password is refused.
    pub const LOGON_FAILURE: u32 = 0xC000_006D;
    /// STATUS_ACCOUNT_RESTRICTION: the account may not log on this way (e.g. without password).
    pub const ACCOUNT_RESTRICTION: u32 = 0xC000_006E;
    /// STATUS_ACCOUNT_DISABLED: the account (e.g. the guest account) is disabled.
    pub const ACCOUNT_DISABLED: u32 = 0xC000_0072;
    /// STATUS_NETWORK_ACCESS_DENIED.
    pub const NETWORK_ACCESS_DENIED: u32 = 0xC000_00CA;

    /// The name of a status this module knows, e.g. `STATUS_ACCESS_DENIED`.
    pub fn name(status: u32) -> Option<&'static str> {
        Some(match status {
            SUCCESS => "STATUS_SUCCESS",
            SMB_BAD_TID => "STATUS_SMB_BAD_TID",
            SMB_BAD_UID => "STATUS_SMB_BAD_UID",
            INVALID_PARAMETER => "STATUS_INVALID_PARAMETER",
            BUFFER_TOO_SMALL => "STATUS_BUFFER_TOO_SMALL",
            OBJECT_NAME_NOT_FOUND => "STATUS_OBJECT_NAME_NOT_FOUND",
            INSUFFICIENT_RESOURCES => "STATUS_INSUFFICIENT_RESOURCES",
            NOT_SUPPORTED => "STATUS_NOT_SUPPORTED",
            BAD_NETWORK_NAME => "STATUS_BAD_NETWORK_NAME",
            BUFFER_OVERFLOW => "STATUS_BUFFER_OVERFLOW",
            MORE_PROCESSING_REQUIRED => "STATUS_MORE_PROCESSING_REQUIRED",
            ACCESS_DENIED => "STATUS_ACCESS_DENIED",
            LOGON_FAILURE => "STATUS_LOGON_FAILURE",
            ACCOUNT_RESTRICTION => "STATUS_ACCOUNT_RESTRICTION",
            ACCOUNT_DISABLED => "STATUS_ACCOUNT_DISABLED",
            NETWORK_ACCESS_DENIED => "STATUS_NETWORK_ACCESS_DENIED",
            _ => return None,
        })
    }
}

/// The dialects a listing client offers, in its order: the two names of NT LM 0.12 that
/// smbclient sends on its SMB1-only reconnect (rap-smb1.md §3).
pub const CLIENT_DIALECTS: [&[u8]; 2] = [b"NT LANMAN 1.0", DIALECT_NT_LM_012];

/// The dialect nbtd speaks.
pub const DIALECT_NT_LM_012: &[u8] = b"NT LM 0.12";
/// DialectIndex when none of the client's dialects is acceptable.
pub const NO_DIALECT: u16 = 0xFFFF;
/// BufferFormat byte before each dialect string of a NEGOTIATE request.
const DIALECT_BUFFER_FORMAT: u8 = 0x02;
/// AndXCommand meaning "no further command".
pub const ANDX_NONE: u8 = 0xFF;

bitflags! {
    /// Capabilities of a NEGOTIATE response or SESSION_SETUP_ANDX request (MS-CIFS 2.2.4.52.2).
    /// Unknown bits are kept.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Capabilities: u32 {
        /// CAP_RAW_MODE.
        const RAW_MODE = 0x0000_0001;
        /// CAP_MPX_MODE.
        const MPX_MODE = 0x0000_0002;
        /// CAP_UNICODE: UTF-16LE strings.
        const UNICODE = 0x0000_0004;
        /// CAP_LARGE_FILES.
        const LARGE_FILES = 0x0000_0008;
        /// CAP_NT_SMBS: the NT LM 0.12 commands.
        const NT_SMBS = 0x0000_0010;
        /// CAP_RPC_REMOTE_APIS: RAP over SMB.
        const RPC_REMOTE_APIS = 0x0000_0020;
        /// CAP_STATUS32: 32-bit NTSTATUS codes.
        const STATUS32 = 0x0000_0040;
        /// CAP_LEVEL_II_OPLOCKS.
        const LEVEL_II_OPLOCKS = 0x0000_0080;
        /// CAP_LOCK_AND_READ.
        const LOCK_AND_READ = 0x0000_0100;
        /// CAP_NT_FIND.
        const NT_FIND = 0x0000_0200;
        /// CAP_DFS.
        const DFS = 0x0000_1000;
        /// CAP_INFOLEVEL_PASSTHRU.
        const INFOLEVEL_PASSTHRU = 0x0000_2000;
        /// CAP_LARGE_READX.
        const LARGE_READX = 0x0000_4000;
        /// CAP_LARGE_WRITEX.
        const LARGE_WRITEX = 0x0000_8000;
        /// CAP_UNIX.
        const UNIX = 0x0080_0000;
        /// CAP_EXTENDED_SECURITY: SPNEGO session setup.
        const EXTENDED_SECURITY = 0x8000_0000;
    }
}

bitflags! {
    /// SecurityMode of a NEGOTIATE response (MS-CIFS 2.2.4.52.2). Unknown bits are kept.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct SecurityMode: u8 {
        /// NEGOTIATE_USER_SECURITY: user-level security.
        const USER_SECURITY = 0x01;
        /// NEGOTIATE_ENCRYPT_PASSWORDS: challenge/response.
        const ENCRYPT_PASSWORDS = 0x02;
        /// NEGOTIATE_SECURITY_SIGNATURES_ENABLED.
        const SIGNATURES_ENABLED = 0x04;
        /// NEGOTIATE_SECURITY_SIGNATURES_REQUIRED.
        const SIGNATURES_REQUIRED = 0x08;
    }
}

bitflags! {
    /// Flags of a TREE_CONNECT_ANDX request (MS-SMB 2.2.4.7.1). Unknown bits are kept.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct TreeConnectFlags: u16 {
        /// TREE_CONNECT_ANDX_DISCONNECT_TID.
        const DISCONNECT_TID = 0x0001;
        /// TREE_CONNECT_ANDX_EXTENDED_SIGNATURES.
        const EXTENDED_SIGNATURES = 0x0004;
        /// TREE_CONNECT_ANDX_EXTENDED_RESPONSE: the client wants the 7-word response.
        const EXTENDED_RESPONSE = 0x0008;
    }
}

fn word(msg: &SmbMessage, i: usize) -> u16 {
    msg.word(i).unwrap_or(0)
}

fn dword(msg: &SmbMessage, i: usize) -> u32 {
    u32::from(word(msg, i)) | (u32::from(word(msg, i + 1)) << 16)
}

/// Offset of parameter word `i` from the header start, for errors.
fn word_at(i: usize) -> usize {
    super::WORD_COUNT_OFFSET + 1 + 2 * i
}

fn need_words(
    msg: &SmbMessage,
    allowed: &[usize],
    expected: &'static str,
) -> Result<(), ParseError> {
    if allowed.contains(&msg.word_count()) {
        Ok(())
    } else {
        Err(ParseError::bad_value(
            "WordCount",
            super::WORD_COUNT_OFFSET,
            msg.word_count() as u64,
            expected,
        ))
    }
}

/// Appends `s` as the message's strings are written: UTF-16LE (after a pad byte when `align`
/// and the string would start at an odd offset from the header) or ASCII (`?` for other
/// characters), NUL-terminated. `block_at` is the byte block's offset from the header.
fn put_string(bytes: &mut Vec<u8>, block_at: usize, s: &str, unicode: bool, align: bool) {
    if unicode {
        if align && (block_at + bytes.len()) % 2 == 1 {
            bytes.push(0);
        }
        for u in s.encode_utf16().take_while(|&u| u != 0) {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        bytes.extend_from_slice(&[0, 0]);
    } else {
        bytes.extend(
            s.chars()
                .take_while(|&c| c != '\0')
                .map(|c| if c.is_ascii() { c as u8 } else { b'?' }),
        );
        bytes.push(0);
    }
}

/// Reads a NUL-terminated string written as [`put_string`] writes it; the reader walks the
/// whole message, so offsets are from the header. Invalid UTF-16 is replaced, bytes above 0x7F
/// are read as Latin-1.
fn get_string(
    r: &mut Reader<'_>,
    unicode: bool,
    align: bool,
    field: &'static str,
) -> Result<String, ParseError> {
    if !unicode {
        let raw = r.cstr(r.remaining(), field)?;
        return Ok(raw.iter().map(|&b| char::from(b)).collect());
    }
    if align && r.pos() % 2 == 1 {
        r.take(1, "Pad")?;
    }
    let start = r.pos();
    let mut units = Vec::new();
    loop {
        if r.remaining() < 2 {
            return Err(ParseError::malformed(
                field,
                start,
                "the UTF-16LE string has no terminating NUL",
            ));
        }
        match r.u16_le(field)? {
            0 => break,
            u => units.push(u),
        }
    }
    Ok(String::from_utf16_lossy(&units))
}

/// Refuses a byte block that ByteCount cannot describe.
fn check_byte_count(bytes: &[u8]) -> Result<(), EmitError> {
    if bytes.len() > usize::from(u16::MAX) {
        return Err(EmitError::FieldTooLarge {
            field: "ByteCount",
            why: "the byte block holds at most 65535 bytes",
        });
    }
    Ok(())
}

/// A reader over the message's byte block, with offsets from the header start.
fn block_reader(msg: &SmbMessage) -> (Vec<u8>, usize) {
    let at = msg.byte_block_offset();
    let mut v = vec![0u8; at];
    v.extend_from_slice(&msg.bytes);
    (v, at)
}

/// A NEGOTIATE request (MS-CIFS 2.2.4.52.1): the client's dialects, in its order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NegotiateRequest {
    /// The dialect strings, without BufferFormat and NUL.
    pub dialects: Vec<Vec<u8>>,
}

impl NegotiateRequest {
    /// Reads the request from a message: WordCount 0, then `0x02` + ASCIIZ per dialect.
    pub fn parse(msg: &SmbMessage) -> Result<Self, ParseError> {
        need_words(msg, &[0], "0 for a NEGOTIATE request")?;
        let (buf, at) = block_reader(msg);
        let mut r = Reader::at(&buf, at);
        let mut dialects = Vec::new();
        while r.remaining() > 0 {
            let f_at = r.pos();
            let f = r.u8("BufferFormat")?;
            if f != DIALECT_BUFFER_FORMAT {
                return Err(ParseError::bad_value(
                    "BufferFormat",
                    f_at,
                    u64::from(f),
                    "0x02 before each dialect string",
                ));
            }
            dialects.push(r.cstr(r.remaining(), "DialectString")?.to_vec());
        }
        Ok(NegotiateRequest { dialects })
    }

    /// The 0-based position of `dialect` in the client's list (the first occurrence).
    pub fn dialect_index(&self, dialect: &[u8]) -> Option<u16> {
        let i = self.dialects.iter().position(|d| d == dialect)?;
        u16::try_from(i).ok().filter(|&i| i != NO_DIALECT)
    }

    /// The request as a message with this header.
    pub fn to_message(&self, header: SmbHeader) -> SmbMessage {
        let mut bytes = Vec::new();
        for d in &self.dialects {
            bytes.push(DIALECT_BUFFER_FORMAT);
            bytes.extend(d.iter().take_while(|&&b| b != 0));
            bytes.push(0);
        }
        SmbMessage {
            header,
            words: Vec::new(),
            bytes,
            trailing: Vec::new(),
        }
    }
}

/// The NEGOTIATE response for NT LM 0.12 without extended security (MS-CIFS 2.2.4.52.2):
/// WordCount 17, the challenge, then DomainName and ServerName in UTF-16LE.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NegotiateResponse {
    /// DialectIndex: the chosen dialect's position in the request.
    pub dialect_index: u16,
    /// SecurityMode.
    pub security_mode: SecurityMode,
    /// MaxMpxCount: requests the client may have outstanding.
    pub max_mpx_count: u16,
    /// MaxNumberVcs.
    pub max_number_vcs: u16,
    /// MaxBufferSize: the largest SMB message the server accepts.
    pub max_buffer_size: u32,
    /// MaxRawSize.
    pub max_raw_size: u32,
    /// SessionKey: echoed by the client in its session setup.
    pub session_key: u32,
    /// Capabilities.
    pub capabilities: Capabilities,
    /// SystemTime: FILETIME, 100 ns since 1601.
    pub system_time: u64,
    /// ServerTimeZone: minutes from UTC.
    pub server_time_zone: i16,
    /// Challenge: 0 or 8 bytes (the client rejects other lengths).
    pub challenge: Vec<u8>,
    /// DomainName: the workgroup.
    pub domain_name: String,
    /// ServerName: the NetBIOS name.
    pub server_name: String,
}

/// WordCount of the NT LM 0.12 NEGOTIATE response.
pub const NEGOTIATE_RESPONSE_WORDS: usize = 17;

impl NegotiateResponse {
    /// The response as a message with this header; the strings are always UTF-16LE, unaligned.
    pub fn to_message(&self, header: SmbHeader) -> Result<SmbMessage, EmitError> {
        let challenge_len = u8::try_from(self.challenge.len())
            .ok()
            .filter(|&n| n == 0 || n == 8)
            .ok_or(EmitError::FieldTooLarge {
                field: "ChallengeLength",
                why: "the challenge has 0 or 8 bytes",
            })?;
        let mut w = Vec::with_capacity(NEGOTIATE_RESPONSE_WORDS * 2);
        w.extend_from_slice(&self.dialect_index.to_le_bytes());
        w.push(self.security_mode.bits());
        w.extend_from_slice(&self.max_mpx_count.to_le_bytes());
        w.extend_from_slice(&self.max_number_vcs.to_le_bytes());
        w.extend_from_slice(&self.max_buffer_size.to_le_bytes());
        w.extend_from_slice(&self.max_raw_size.to_le_bytes());
        w.extend_from_slice(&self.session_key.to_le_bytes());
        w.extend_from_slice(&self.capabilities.bits().to_le_bytes());
        w.extend_from_slice(&self.system_time.to_le_bytes());
        w.extend_from_slice(&self.server_time_zone.to_le_bytes());
        w.push(challenge_len);
        let mut bytes = self.challenge.clone();
        put_string(&mut bytes, 0, &self.domain_name, true, false);
        put_string(&mut bytes, 0, &self.server_name, true, false);
        Ok(SmbMessage {
            header,
            words: w,
            bytes,
            trailing: Vec::new(),
        })
    }

    /// Reads the response from a message.
    pub fn parse(msg: &SmbMessage) -> Result<Self, ParseError> {
        need_words(
            msg,
            &[NEGOTIATE_RESPONSE_WORDS],
            "17 for an NT LM 0.12 NEGOTIATE response",
        )?;
        let mut r = Reader::at(&msg.words, 0);
        let dialect_index = r.u16_le("DialectIndex")?;
        let security_mode = SecurityMode::from_bits_retain(r.u8("SecurityMode")?);
        let max_mpx_count = r.u16_le("MaxMpxCount")?;
        let max_number_vcs = r.u16_le("MaxNumberVcs")?;
        let max_buffer_size = r.u32_le("MaxBufferSize")?;
        let max_raw_size = r.u32_le("MaxRawSize")?;
        let session_key = r.u32_le("SessionKey")?;
        let capabilities = Capabilities::from_bits_retain(r.u32_le("Capabilities")?);
        let system_time = r.u64_le("SystemTime")?;
        let server_time_zone = r.u16_le("ServerTimeZone")? as i16;
        let challenge_len = r.u8("ChallengeLength")?;
        if challenge_len != 0 && challenge_len != 8 {
            return Err(ParseError::bad_value(
                "ChallengeLength",
                word_at(0) + 33,
                u64::from(challenge_len),
                "0 or 8",
            ));
        }
        let (buf, at) = block_reader(msg);
        let mut r = Reader::at(&buf, at);
        let challenge = r.take(usize::from(challenge_len), "Challenge")?.to_vec();
        let domain_name = get_string(&mut r, true, false, "DomainName")?;
        let server_name = get_string(&mut r, true, false, "ServerName")?;
        Ok(NegotiateResponse {
            dialect_index,
            security_mode,
            max_mpx_count,
            max_number_vcs,
            max_buffer_size,
            max_raw_size,
            session_key,
            capabilities,
            system_time,
            server_time_zone,
            challenge,
            domain_name,
            server_name,
        })
    }

    /// The response when no dialect is acceptable: WordCount 1, DialectIndex 0xFFFF.
    pub fn no_dialect(header: SmbHeader) -> SmbMessage {
        SmbMessage {
            header,
            words: NO_DIALECT.to_le_bytes().to_vec(),
            bytes: Vec::new(),
            trailing: Vec::new(),
        }
    }
}

/// A SESSION_SETUP_ANDX request: its fixed words (MS-CIFS 2.2.4.53.1, MS-SMB 2.2.4.6.1).
///
/// The strings (account, domain, native OS and LAN manager) are not read: a listing server
/// grants every session the same anonymous access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionSetupRequest {
    /// WordCount 13: NT LM 0.12 with passwords (empty when anonymous).
    Nt1 {
        /// AndXCommand.
        andx_command: u8,
        /// MaxBufferSize: the largest SMB message the client accepts.
        max_buffer_size: u16,
        /// MaxMpxCount.
        max_mpx_count: u16,
        /// VcNumber.
        vc_number: u16,
        /// SessionKey.
        session_key: u32,
        /// OEMPasswordLen.
        oem_password_len: u16,
        /// UnicodePasswordLen.
        unicode_password_len: u16,
        /// Capabilities.
        capabilities: Capabilities,
    },
    /// WordCount 12: extended security, a SPNEGO blob.
    ExtendedSecurity {
        /// MaxBufferSize.
        max_buffer_size: u16,
        /// SecurityBlobLength.
        security_blob_len: u16,
    },
}

impl SessionSetupRequest {
    /// Reads the request's words; WordCount must be 13 or 12.
    pub fn parse(msg: &SmbMessage) -> Result<Self, ParseError> {
        need_words(msg, &[13, 12], "13 (NT LM 0.12) or 12 (extended security)")?;
        if msg.word_count() == 12 {
            return Ok(SessionSetupRequest::ExtendedSecurity {
                max_buffer_size: word(msg, 2),
                security_blob_len: word(msg, 7),
            });
        }
        let oem_password_len = word(msg, 7);
        let unicode_password_len = word(msg, 8);
        let passwords = usize::from(oem_password_len) + usize::from(unicode_password_len);
        if passwords > msg.bytes.len() {
            return Err(ParseError::truncated(
                "UnicodePasswordLen",
                word_at(8),
                passwords,
                msg.bytes.len(),
            ));
        }
        Ok(SessionSetupRequest::Nt1 {
            andx_command: msg.words.first().copied().unwrap_or(ANDX_NONE),
            max_buffer_size: word(msg, 2),
            max_mpx_count: word(msg, 3),
            vc_number: word(msg, 4),
            session_key: dword(msg, 5),
            oem_password_len,
            unicode_password_len,
            capabilities: Capabilities::from_bits_retain(dword(msg, 11)),
        })
    }

    /// The request as a message with this header: the 13-word form, its password fields as
    /// zero bytes of the declared lengths (a listing client logs on anonymously, with none),
    /// then the strings, following the header's Flags2. The extended-security form cannot be
    /// written: its blob is not kept.
    pub fn to_message(
        &self,
        header: SmbHeader,
        strings: &SessionSetupStrings,
    ) -> Result<SmbMessage, EmitError> {
        let SessionSetupRequest::Nt1 {
            andx_command,
            max_buffer_size,
            max_mpx_count,
            vc_number,
            session_key,
            oem_password_len,
            unicode_password_len,
            capabilities,
        } = *self
        else {
            return Err(EmitError::FieldTooLarge {
                field: "WordCount",
                why: "only the 13-word (NT LM 0.12) session setup is written",
            });
        };
        let mut w = vec![andx_command, 0, 0, 0];
        for v in [max_buffer_size, max_mpx_count, vc_number] {
            w.extend_from_slice(&v.to_le_bytes());
        }
        w.extend_from_slice(&session_key.to_le_bytes());
        w.extend_from_slice(&oem_password_len.to_le_bytes());
        w.extend_from_slice(&unicode_password_len.to_le_bytes());
        w.extend_from_slice(&[0; 4]);
        w.extend_from_slice(&capabilities.bits().to_le_bytes());
        let at = super::byte_block_offset(w.len());
        let u = header.is_unicode();
        let passwords = usize::from(oem_password_len) + usize::from(unicode_password_len);
        let mut bytes = vec![0; passwords];
        for s in [
            &strings.account,
            &strings.primary_domain,
            &strings.native_os,
            &strings.native_lanman,
        ] {
            put_string(&mut bytes, at, s, u, true);
        }
        check_byte_count(&bytes)?;
        Ok(SmbMessage {
            header,
            words: w,
            bytes,
            trailing: Vec::new(),
        })
    }

    /// MaxBufferSize: the largest SMB message the client accepts.
    pub fn max_buffer_size(&self) -> u16 {
        match self {
            SessionSetupRequest::Nt1 {
                max_buffer_size, ..
            }
            | SessionSetupRequest::ExtendedSecurity {
                max_buffer_size, ..
            } => *max_buffer_size,
        }
    }
}

/// The strings of a SESSION_SETUP_ANDX request (MS-CIFS 2.2.4.53.1): empty account and domain
/// for an anonymous logon.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct SessionSetupStrings {
    /// AccountName.
    pub account: String,
    /// PrimaryDomain.
    pub primary_domain: String,
    /// NativeOS.
    pub native_os: String,
    /// NativeLanMan.
    pub native_lanman: String,
}

/// The SESSION_SETUP_ANDX response without extended security (MS-CIFS 2.2.4.53.2):
/// WordCount 3, then NativeOS, NativeLanMan and PrimaryDomain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionSetupResponse {
    /// Action: bit 0 set when logged on as guest.
    pub action: u16,
    /// NativeOS.
    pub native_os: String,
    /// NativeLanMan.
    pub native_lanman: String,
    /// PrimaryDomain: smbclient enumerates this workgroup's servers.
    pub primary_domain: String,
}

/// Action bit: the session is a guest logon.
pub const ACTION_GUEST: u16 = 0x0001;

fn andx_none() -> [u8; 4] {
    [ANDX_NONE, 0, 0, 0]
}

impl SessionSetupResponse {
    /// The response as a message with this header; strings follow the header's Flags2.
    pub fn to_message(&self, header: SmbHeader) -> SmbMessage {
        let mut words = andx_none().to_vec();
        words.extend_from_slice(&self.action.to_le_bytes());
        let at = super::byte_block_offset(words.len());
        let u = header.is_unicode();
        let mut bytes = Vec::new();
        put_string(&mut bytes, at, &self.native_os, u, true);
        put_string(&mut bytes, at, &self.native_lanman, u, true);
        put_string(&mut bytes, at, &self.primary_domain, u, true);
        SmbMessage {
            header,
            words,
            bytes,
            trailing: Vec::new(),
        }
    }

    /// Reads the response from a message.
    pub fn parse(msg: &SmbMessage) -> Result<Self, ParseError> {
        need_words(msg, &[3], "3 for a SESSION_SETUP_ANDX response")?;
        let (buf, at) = block_reader(msg);
        let mut r = Reader::at(&buf, at);
        let u = msg.header.is_unicode();
        Ok(SessionSetupResponse {
            action: word(msg, 2),
            native_os: get_string(&mut r, u, true, "NativeOS")?,
            native_lanman: get_string(&mut r, u, true, "NativeLanMan")?,
            primary_domain: get_string(&mut r, u, true, "PrimaryDomain")?,
        })
    }
}

/// A TREE_CONNECT_ANDX request (MS-CIFS 2.2.4.55.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TreeConnectRequest {
    /// Flags.
    pub flags: TreeConnectFlags,
    /// Password (one NUL byte under user-level security).
    pub password: Vec<u8>,
    /// Path, e.g. `\\HOST\IPC$`.
    pub path: String,
    /// Service, e.g. `?????` or `IPC`; always ASCII.
    pub service: Vec<u8>,
}

impl TreeConnectRequest {
    /// Reads the request; WordCount must be 4.
    pub fn parse(msg: &SmbMessage) -> Result<Self, ParseError> {
        need_words(msg, &[4], "4 for a TREE_CONNECT_ANDX request")?;
        let flags = TreeConnectFlags::from_bits_retain(word(msg, 2));
        let (buf, at) = block_reader(msg);
        let mut r = Reader::at(&buf, at);
        let pw_len = usize::from(word(msg, 3));
        if pw_len > msg.bytes.len() {
            return Err(ParseError::truncated(
                "PasswordLength",
                word_at(3),
                pw_len,
                msg.bytes.len(),
            ));
        }
        let password = r.take(pw_len, "Password")?.to_vec();
        let path = get_string(&mut r, msg.header.is_unicode(), true, "Path")?;
        let service = r.cstr(r.remaining(), "Service")?.to_vec();
        Ok(TreeConnectRequest {
            flags,
            password,
            path,
            service,
        })
    }

    /// The request as a message with this header: the path follows the header's Flags2,
    /// the service is ASCII.
    pub fn to_message(&self, header: SmbHeader) -> Result<SmbMessage, EmitError> {
        let pw_len = u16::try_from(self.password.len()).map_err(|_| EmitError::FieldTooLarge {
            field: "PasswordLength",
            why: "at most 65535 bytes",
        })?;
        let mut words = andx_none().to_vec();
        words.extend_from_slice(&self.flags.bits().to_le_bytes());
        words.extend_from_slice(&pw_len.to_le_bytes());
        let at = super::byte_block_offset(words.len());
        let mut bytes = self.password.clone();
        put_string(&mut bytes, at, &self.path, header.is_unicode(), true);
        bytes.extend(self.service.iter().copied().take_while(|&b| b != 0));
        bytes.push(0);
        check_byte_count(&bytes)?;
        Ok(SmbMessage {
            header,
            words,
            bytes,
            trailing: Vec::new(),
        })
    }

    /// The share: the path's last component (`IPC$` for `\\HOST\IPC$`).
    pub fn share(&self) -> &str {
        self.path
            .rsplit(['\\', '/'])
            .next()
            .unwrap_or(self.path.as_str())
    }
}

/// A TREE_CONNECT_ANDX response (MS-CIFS 2.2.4.55.2; MS-SMB 2.2.4.7.2 for the 7-word form).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TreeConnectResponse {
    /// OptionalSupport.
    pub optional_support: u16,
    /// MaximalShareAccessRights and GuestMaximalShareAccessRights: the extended (7-word) form.
    pub access_rights: Option<(u32, u32)>,
    /// Service, e.g. `IPC`; always ASCII.
    pub service: Vec<u8>,
    /// NativeFileSystem; empty for IPC$.
    pub native_file_system: String,
}

/// OptionalSupport bit SMB_SUPPORT_SEARCH_BITS.
pub const SUPPORT_SEARCH_BITS: u16 = 0x0001;

impl TreeConnectResponse {
    /// The response as a message with this header.
    pub fn to_message(&self, header: SmbHeader) -> SmbMessage {
        let mut words = andx_none().to_vec();
        words.extend_from_slice(&self.optional_support.to_le_bytes());
        if let Some((max, guest)) = self.access_rights {
            words.extend_from_slice(&max.to_le_bytes());
            words.extend_from_slice(&guest.to_le_bytes());
        }
        let at = super::byte_block_offset(words.len());
        let mut bytes: Vec<u8> = self
            .service
            .iter()
            .copied()
            .take_while(|&b| b != 0)
            .collect();
        bytes.push(0);
        put_string(
            &mut bytes,
            at,
            &self.native_file_system,
            header.is_unicode(),
            true,
        );
        SmbMessage {
            header,
            words,
            bytes,
            trailing: Vec::new(),
        }
    }

    /// Reads the response; WordCount must be 3 or 7.
    pub fn parse(msg: &SmbMessage) -> Result<Self, ParseError> {
        need_words(msg, &[3, 7], "3 or 7 for a TREE_CONNECT_ANDX response")?;
        let access_rights = (msg.word_count() == 7).then(|| (dword(msg, 3), dword(msg, 5)));
        let (buf, at) = block_reader(msg);
        let mut r = Reader::at(&buf, at);
        let service = r.cstr(r.remaining(), "Service")?.to_vec();
        let native_file_system =
            get_string(&mut r, msg.header.is_unicode(), true, "NativeFileSystem")?;
        Ok(TreeConnectResponse {
            optional_support: word(msg, 2),
            access_rights,
            service,
            native_file_system,
        })
    }
}

#[cfg(test)]
mod tests;
