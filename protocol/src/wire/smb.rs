//! SMB1 messages and the SMB_COM_TRANSACTION envelope that carries mailslot writes.
//!
//! SMB1 is little-endian throughout. A message is the 32-byte [`SmbHeader`], a parameter block
//! (WordCount, then WordCount 16-bit words) and a data block (ByteCount, then ByteCount bytes)
//! (MS-CIFS 2.2.3). [`SmbMessage`] holds any message in that generic shape and re-emits it byte
//! for byte. [`TransactionRequest`] and [`TransactionResponse`] read the SMB_COM_TRANSACTION
//! (0x25) layout on top of it: the mailslot writes of the browser protocol arrive as the user data
//! of a NetBIOS datagram (browser.md §1), and RAP calls on `\PIPE\LANMAN` arrive as session
//! messages on TCP 139 (rap-smb1.md §6).

use bitflags::bitflags;

use crate::error::{EmitError, ParseError};
use crate::wire::Emit;
use crate::wire::cursor::{Reader, Writer};

/// The Protocol field that opens every SMB1 header: `\xFFSMB`.
pub const PROTOCOL: [u8; 4] = *b"\xFFSMB";
/// Length of the SMB1 header (MS-CIFS 2.2.3.1).
pub const HEADER_LEN: usize = 32;
/// Offset of WordCount: the first byte after the header.
pub const WORD_COUNT_OFFSET: usize = HEADER_LEN;
/// Largest WordCount: it is one byte.
pub const MAX_WORD_COUNT: usize = 255;

/// SMB1 command codes (MS-CIFS 2.2.2.1) that nbtd handles.
pub mod command {
    /// SMB_COM_TRANSACTION: mailslot writes and RAP on `\PIPE\LANMAN`.
    pub const TRANSACTION: u8 = 0x25;
    /// SMB_COM_TRANSACTION_SECONDARY: further pieces of a transaction request.
    pub const TRANSACTION_SECONDARY: u8 = 0x26;
    /// SMB_COM_ECHO.
    pub const ECHO: u8 = 0x2B;
    /// SMB_COM_TREE_DISCONNECT.
    pub const TREE_DISCONNECT: u8 = 0x71;
    /// SMB_COM_NEGOTIATE.
    pub const NEGOTIATE: u8 = 0x72;
    /// SMB_COM_SESSION_SETUP_ANDX.
    pub const SESSION_SETUP_ANDX: u8 = 0x73;
    /// SMB_COM_LOGOFF_ANDX.
    pub const LOGOFF_ANDX: u8 = 0x74;
    /// SMB_COM_TREE_CONNECT_ANDX.
    pub const TREE_CONNECT_ANDX: u8 = 0x75;
    /// SMB_COM_NT_CREATE_ANDX.
    pub const NT_CREATE_ANDX: u8 = 0xA2;
}

/// Transaction names used with SMB_COM_TRANSACTION.
pub mod transaction_name {
    /// The browser protocol's mailslot (MS-BRWS 2.2).
    pub const MAILSLOT_BROWSE: &str = "\\MAILSLOT\\BROWSE";
    /// The LAN Manager announcement mailslot (browser.md §6).
    pub const MAILSLOT_LANMAN: &str = "\\MAILSLOT\\LANMAN";
    /// The named pipe of the Remote Administration Protocol (rap-smb1.md §6).
    pub const PIPE_LANMAN: &str = "\\PIPE\\LANMAN";
}

/// Setup words of a mailslot write (browser.md §1; Samba's `send_mailslot`).
pub mod mailslot {
    /// Setup[0]: the opcode of a mailslot write.
    pub const OPCODE_WRITE: u16 = 1;
    /// Setup[1]: the priority Samba sends (receivers must not check it).
    pub const PRIORITY: u16 = 1;
    /// Setup[2]: second-class (unreliable, broadcast-capable) mailslot.
    pub const CLASS_UNRELIABLE: u16 = 2;
    /// WordCount of a mailslot write: 14 words plus 3 setup words.
    pub const WORD_COUNT: u8 = 17;
}

bitflags! {
    /// The Flags byte of the SMB1 header (rap-smb1.md §2, MS-CIFS 2.2.3.1). Unknown bits are kept.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct SmbFlags: u8 {
        /// SMB_FLAGS_LOCK_AND_READ_OK (legacy).
        const LOCK_AND_READ_OK = 0x01;
        /// SMB_FLAGS_BUF_AVAIL (legacy).
        const BUF_AVAIL = 0x02;
        /// SMB_FLAGS_CASE_INSENSITIVE: path names are caseless.
        const CASE_INSENSITIVE = 0x08;
        /// SMB_FLAGS_CANONICALIZED_PATHS (legacy).
        const CANONICALIZED_PATHS = 0x10;
        /// SMB_FLAGS_OPLOCK (legacy).
        const OPLOCK = 0x20;
        /// SMB_FLAGS_OPBATCH (legacy).
        const OPBATCH = 0x40;
        /// SMB_FLAGS_REPLY: set in every response.
        const REPLY = 0x80;
    }
}

bitflags! {
    /// The Flags2 word of the SMB1 header (rap-smb1.md §2, MS-CIFS 2.2.3.1). Unknown bits are kept.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct SmbFlags2: u16 {
        /// SMB_FLAGS2_LONG_NAMES: the client understands long names.
        const LONG_NAMES = 0x0001;
        /// SMB_FLAGS2_EAS: the client understands extended attributes.
        const EAS = 0x0002;
        /// SMB_FLAGS2_SMB_SECURITY_SIGNATURE: the message is signed.
        const SMB_SECURITY_SIGNATURE = 0x0004;
        /// SMB_FLAGS2_SECURITY_SIGNATURE_REQUIRED.
        const SECURITY_SIGNATURE_REQUIRED = 0x0010;
        /// SMB_FLAGS2_IS_LONG_NAME: path names in the request are long names.
        const IS_LONG_NAME = 0x0040;
        /// SMB_FLAGS2_EXTENDED_SECURITY: SPNEGO session setup.
        const EXTENDED_SECURITY = 0x0800;
        /// SMB_FLAGS2_DFS.
        const DFS = 0x1000;
        /// SMB_FLAGS2_PAGING_IO.
        const PAGING_IO = 0x2000;
        /// SMB_FLAGS2_NT_STATUS: Status is a 32-bit NTSTATUS.
        const NT_STATUS = 0x4000;
        /// SMB_FLAGS2_UNICODE: strings are UTF-16LE.
        const UNICODE = 0x8000;
    }
}

bitflags! {
    /// The Flags word of a TRANSACTION request (MS-CIFS 2.2.4.33.1). Unknown bits are kept.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct TransactionFlags: u16 {
        /// DISCONNECT_TID: disconnect the tree after the transaction.
        const DISCONNECT_TID = 0x0001;
        /// NO_RESPONSE: one-way transaction, no response is sent.
        const NO_RESPONSE = 0x0002;
    }
}

/// The 32-byte SMB1 header (rap-smb1.md §2, MS-CIFS 2.2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SmbHeader {
    /// Command.
    pub command: u8,
    /// Status: an NTSTATUS when Flags2 has NT_STATUS, else ErrorClass, Reserved, ErrorCode.
    pub status: u32,
    /// Flags.
    pub flags: SmbFlags,
    /// Flags2.
    pub flags2: SmbFlags2,
    /// PIDHigh.
    pub pid_high: u16,
    /// SecurityFeatures: the signature, zero when not signing.
    pub security_features: [u8; 8],
    /// Reserved.
    pub reserved: u16,
    /// TID.
    pub tid: u16,
    /// PIDLow.
    pub pid_low: u16,
    /// UID.
    pub uid: u16,
    /// MID.
    pub mid: u16,
}

impl SmbHeader {
    /// A header for `command` with every other field zero, as Samba's nmbd writes mailslot writes.
    pub fn new(command: u8) -> Self {
        SmbHeader {
            command,
            status: 0,
            flags: SmbFlags::empty(),
            flags2: SmbFlags2::empty(),
            pid_high: 0,
            security_features: [0; 8],
            reserved: 0,
            tid: 0,
            pid_low: 0,
            uid: 0,
            mid: 0,
        }
    }

    /// Parses the header from the first 32 bytes of `bytes`; what follows is not read.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let mut r = Reader::new(bytes);
        let protocol = r.array::<4>("Protocol")?;
        if protocol != PROTOCOL {
            return Err(ParseError::bad_value(
                "Protocol",
                0,
                u64::from(u32::from_be_bytes(protocol)),
                "0xFF534D42 (\\xFFSMB)",
            ));
        }
        Ok(SmbHeader {
            command: r.u8("Command")?,
            status: r.u32_le("Status")?,
            flags: SmbFlags::from_bits_retain(r.u8("Flags")?),
            flags2: SmbFlags2::from_bits_retain(r.u16_le("Flags2")?),
            pid_high: r.u16_le("PIDHigh")?,
            security_features: r.array::<8>("SecurityFeatures")?,
            reserved: r.u16_le("Reserved")?,
            tid: r.u16_le("TID")?,
            pid_low: r.u16_le("PIDLow")?,
            uid: r.u16_le("UID")?,
            mid: r.u16_le("MID")?,
        })
    }

    /// Whether Flags has REPLY, i.e. this is a response.
    pub fn is_reply(&self) -> bool {
        self.flags.contains(SmbFlags::REPLY)
    }

    /// Whether Flags2 has UNICODE, i.e. strings are UTF-16LE.
    pub fn is_unicode(&self) -> bool {
        self.flags2.contains(SmbFlags2::UNICODE)
    }

    fn write(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.put(&PROTOCOL)?;
        w.u8(self.command)?;
        w.u32_le(self.status)?;
        w.u8(self.flags.bits())?;
        w.u16_le(self.flags2.bits())?;
        w.u16_le(self.pid_high)?;
        w.put(&self.security_features)?;
        w.u16_le(self.reserved)?;
        w.u16_le(self.tid)?;
        w.u16_le(self.pid_low)?;
        w.u16_le(self.uid)?;
        w.u16_le(self.mid)
    }
}

impl Emit for SmbHeader {
    fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        let mut w = Writer::new(buf);
        self.write(&mut w)?;
        Ok(w.pos())
    }
}

/// Any SMB1 message in its generic shape (MS-CIFS 2.2.3): header, parameter words, byte block.
///
/// Re-emits byte for byte: the parameter words and bytes are kept raw, and any bytes after the
/// byte block are kept in [`trailing`](Self::trailing). Such bytes belong to AndX-chained
/// commands, whose blocks follow the first command's (MS-CIFS 2.2.3.4), or are padding some
/// implementations add; none of the Samba 4.17 messages in the captures carries any.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SmbMessage {
    /// The 32-byte header.
    pub header: SmbHeader,
    /// The parameter words as raw little-endian bytes: 2 × WordCount bytes.
    pub words: Vec<u8>,
    /// The byte block: ByteCount bytes.
    pub bytes: Vec<u8>,
    /// Bytes after the byte block, up to the end of the message.
    pub trailing: Vec<u8>,
}

impl SmbMessage {
    /// Parses a message; `bytes` is one whole SMB message (e.g. a session message's payload).
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let header = SmbHeader::parse(bytes)?;
        let mut r = Reader::at(bytes, HEADER_LEN);
        let word_count = usize::from(r.u8("WordCount")?);
        let words = r.take(word_count * 2, "Words")?.to_vec();
        let byte_count = usize::from(r.u16_le("ByteCount")?);
        let block = r.take(byte_count, "Bytes")?.to_vec();
        let trailing = r.take_rest().to_vec();
        Ok(SmbMessage {
            header,
            words,
            bytes: block,
            trailing,
        })
    }

    /// WordCount.
    pub fn word_count(&self) -> usize {
        self.words.len() / 2
    }

    /// Parameter word `i`, if there is one.
    pub fn word(&self, i: usize) -> Option<u16> {
        let at = i.checked_mul(2)?;
        let w = self.words.get(at..at.checked_add(2)?)?;
        Some(u16::from_le_bytes(w.try_into().ok()?))
    }

    /// Offset of the byte block's first byte from the start of the header.
    pub fn byte_block_offset(&self) -> usize {
        byte_block_offset(self.words.len())
    }
}

impl Emit for SmbMessage {
    fn buffer_len(&self) -> usize {
        self.byte_block_offset()
            .saturating_add(self.bytes.len())
            .saturating_add(self.trailing.len())
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        if self.words.len() % 2 != 0 {
            return Err(EmitError::FieldTooLarge {
                field: "WordCount",
                why: "the parameter block must hold whole 16-bit words",
            });
        }
        let word_count = u8::try_from(self.words.len() / 2).map_err(|_| too_many_words())?;
        let byte_count = u16::try_from(self.bytes.len()).map_err(|_| EmitError::FieldTooLarge {
            field: "ByteCount",
            why: "the byte block holds at most 65535 bytes",
        })?;
        let mut w = Writer::new(buf);
        self.header.write(&mut w)?;
        w.u8(word_count)?;
        w.put(&self.words)?;
        w.u16_le(byte_count)?;
        w.put(&self.bytes)?;
        w.put(&self.trailing)?;
        Ok(w.pos())
    }
}

/// Offset of the byte block for a parameter block of `word_bytes` bytes: header, WordCount, words,
/// ByteCount.
fn byte_block_offset(word_bytes: usize) -> usize {
    (HEADER_LEN + 1 + 2).saturating_add(word_bytes)
}

fn too_many_words() -> EmitError {
    EmitError::FieldTooLarge {
        field: "WordCount",
        why: "at most 255 parameter words",
    }
}

/// Where a parameter or data region lies, as found on the wire or about to be written.
#[derive(Debug, Clone, Copy)]
struct Region {
    /// Offset from the start of the SMB header.
    offset: usize,
    /// Bytes.
    len: usize,
}

impl Region {
    fn end(self) -> usize {
        self.offset.saturating_add(self.len)
    }

    /// A region counts for the layout unless it is the "absent" form: offset 0 and no bytes.
    fn present(self) -> bool {
        self.offset != 0 || self.len != 0
    }

    fn overlaps(self, other: Region) -> bool {
        self.len != 0 && other.len != 0 && self.offset < other.end() && other.offset < self.end()
    }
}

/// Names and word offsets of the count/offset fields of one region, for errors.
struct RegionFields {
    count: &'static str,
    count_at: usize,
    offset: &'static str,
    offset_at: usize,
}

/// Checks a region read from the wire against the byte block: it must lie within
/// `[lo, block_end]`, where `lo` is the first byte after the transaction name (or the byte block
/// start when there is no name).
fn check_region(
    region: Region,
    lo: usize,
    block_end: usize,
    f: &RegionFields,
) -> Result<(), ParseError> {
    if !region.present() {
        return Ok(());
    }
    if region.offset < lo || region.offset > block_end {
        return Err(ParseError::bad_value(
            f.offset,
            f.offset_at,
            region.offset as u64,
            "an offset inside the byte block, after the transaction name",
        ));
    }
    if region.end() > block_end {
        // The count runs past the byte block: name the count, with the bytes that remain.
        return Err(ParseError::truncated(
            f.count,
            f.count_at,
            region.len,
            block_end - region.offset,
        ));
    }
    Ok(())
}

/// Checks a region about to be written: same rules as [`check_region`], for emit.
fn check_emit_region(
    region: Region,
    lo: usize,
    count_field: &'static str,
    offset_field: &'static str,
) -> Result<(), EmitError> {
    if region.len > usize::from(u16::MAX) {
        return Err(EmitError::FieldTooLarge {
            field: count_field,
            why: "at most 65535 bytes per message",
        });
    }
    if region.present() && region.offset < lo {
        return Err(EmitError::FieldTooLarge {
            field: offset_field,
            why: "the offset must lie after the transaction name (or after the padding)",
        });
    }
    if region.end() > usize::from(u16::MAX) {
        return Err(EmitError::FieldTooLarge {
            field: offset_field,
            why: "the region must end within 65535 bytes of the header start",
        });
    }
    Ok(())
}

/// The end of the byte block: the name end, or the end of the last present region.
fn block_end(lo: usize, a: Region, b: Region) -> usize {
    let mut end = lo;
    for r in [a, b] {
        if r.present() {
            end = end.max(r.end());
        }
    }
    end
}

/// Writes zero padding and the two regions in offset order; the writer stands at `lo`.
fn write_regions(
    w: &mut Writer<'_>,
    first: (Region, &[u8]),
    second: (Region, &[u8]),
) -> Result<(), EmitError> {
    let (mut a, mut b) = (first, second);
    if b.0.present() && (!a.0.present() || b.0.offset < a.0.offset) {
        core::mem::swap(&mut a, &mut b);
    }
    for (r, data) in [a, b] {
        if !r.present() {
            continue;
        }
        let gap = r.offset.saturating_sub(w.pos());
        w.zeros(gap)?;
        w.put(data)?;
    }
    Ok(())
}

/// Reads a NUL-terminated transaction name at the reader's position, ASCII or UTF-16LE.
fn read_name(r: &mut Reader<'_>, unicode: bool) -> Result<String, ParseError> {
    let start = r.pos();
    if !unicode {
        let raw = r.cstr(r.remaining(), "Name")?;
        if let Some((i, &b)) = raw.iter().enumerate().find(|(_, b)| !b.is_ascii()) {
            return Err(ParseError::bad_value(
                "Name",
                start.saturating_add(i),
                u64::from(b),
                "an ASCII transaction name",
            ));
        }
        // All ASCII, so this is valid UTF-8.
        return Ok(raw.iter().map(|&b| char::from(b)).collect());
    }
    let mut units = Vec::new();
    loop {
        if r.remaining() < 2 {
            return Err(ParseError::malformed(
                "Name",
                start,
                "transaction name has no terminating NUL",
            ));
        }
        let u = r.u16_le("Name")?;
        if u == 0 {
            break;
        }
        units.push(u);
    }
    char::decode_utf16(units.iter().copied())
        .collect::<Result<String, _>>()
        .map_err(|_| ParseError::malformed("Name", start, "transaction name is not valid UTF-16"))
}

/// Bytes the encoded name takes, NUL included.
fn name_wire_len(name: &str, unicode: bool) -> usize {
    if unicode {
        name.encode_utf16()
            .count()
            .saturating_add(1)
            .saturating_mul(2)
    } else {
        name.len().saturating_add(1)
    }
}

/// Refuses a transaction name the message cannot carry.
fn check_name(name: &str, unicode: bool) -> Result<(), EmitError> {
    if name.contains('\0') {
        return Err(EmitError::FieldTooLarge {
            field: "Name",
            why: "the transaction name cannot hold a NUL",
        });
    }
    if !unicode && !name.is_ascii() {
        return Err(EmitError::FieldTooLarge {
            field: "Name",
            why: "the transaction name must be ASCII when Flags2 UNICODE is clear",
        });
    }
    Ok(())
}

/// Writes a name that [`check_name`] accepted.
fn write_name(w: &mut Writer<'_>, name: &str, unicode: bool) -> Result<(), EmitError> {
    if unicode {
        for u in name.encode_utf16() {
            w.u16_le(u)?;
        }
        w.u16_le(0)
    } else {
        w.cstr(name.as_bytes())
    }
}

fn count_u16(n: usize, field: &'static str) -> Result<u16, EmitError> {
    u16::try_from(n).map_err(|_| EmitError::FieldTooLarge {
        field,
        why: "at most 65535",
    })
}

fn offset_u16(n: usize, field: &'static str) -> Result<u16, EmitError> {
    u16::try_from(n).map_err(|_| EmitError::FieldTooLarge {
        field,
        why: "offsets are at most 65535",
    })
}

/// Reads `count` setup words at the reader's position.
fn read_setup(r: &mut Reader<'_>, count: usize) -> Result<Vec<u16>, ParseError> {
    let raw = r.take(count * 2, "Setup")?;
    Ok(raw
        .chunks_exact(2)
        .filter_map(|c| c.try_into().ok().map(u16::from_le_bytes))
        .collect())
}

/// An SMB_COM_TRANSACTION request (rap-smb1.md §6, browser.md §1, MS-CIFS 2.2.4.33.1).
///
/// ParameterCount, DataCount, SetupCount and WordCount come from the vectors' lengths;
/// ParameterOffset and DataOffset are kept as received, since senders place the regions
/// differently (Samba's nmbd puts the data right after the name; Samba's client pads with
/// `offset % 4` bytes, which is not an alignment). A region with offset 0 and no bytes is
/// "absent" and does not extend the byte block.
///
/// Canonical form: the byte block holds the transaction name (after one pad byte when it is
/// UTF-16LE and would start at an odd offset), then the parameters and data at their offsets,
/// with zero bytes in between, and ends with the last of them. Parsing accepts any pad contents,
/// bytes in the byte block after the last region, and bytes after the byte block; those are not
/// kept, so such a message emits in canonical form. Every request in the Samba captures is
/// canonical.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TransactionRequest {
    /// The SMB header; Command is 0x25 and Flags has no REPLY.
    pub header: SmbHeader,
    /// TotalParameterCount: parameter bytes of the whole transaction.
    pub total_parameter_count: u16,
    /// TotalDataCount: data bytes of the whole transaction.
    pub total_data_count: u16,
    /// MaxParameterCount: most parameter bytes the client accepts in the response.
    pub max_parameter_count: u16,
    /// MaxDataCount: most data bytes the client accepts in the response.
    pub max_data_count: u16,
    /// MaxSetupCount: most setup words the client accepts in the response.
    pub max_setup_count: u8,
    /// Reserved1.
    pub reserved1: u8,
    /// Flags.
    pub flags: TransactionFlags,
    /// Timeout in milliseconds.
    pub timeout: u32,
    /// Reserved2.
    pub reserved2: u16,
    /// ParameterOffset: from the start of the SMB header.
    pub parameter_offset: u16,
    /// DataOffset: from the start of the SMB header.
    pub data_offset: u16,
    /// Reserved3, the byte after SetupCount.
    pub reserved3: u8,
    /// Setup words; for a mailslot write `{1, priority, class}`.
    pub setup: Vec<u16>,
    /// The transaction name, e.g. `\MAILSLOT\BROWSE` or `\PIPE\LANMAN`.
    pub name: String,
    /// Parameters: ParameterCount bytes at ParameterOffset.
    pub parameters: Vec<u8>,
    /// Data: DataCount bytes at DataOffset.
    pub data: Vec<u8>,
}

/// Word offsets of the request's fields from the header start, for errors.
mod req_at {
    pub const PARAMETER_COUNT: usize = 33 + 18;
    pub const PARAMETER_OFFSET: usize = 33 + 20;
    pub const DATA_COUNT: usize = 33 + 22;
    pub const DATA_OFFSET: usize = 33 + 24;
    pub const SETUP_COUNT: usize = 33 + 26;
}

/// WordCount of a TRANSACTION request without setup words.
const REQUEST_WORDS: usize = 14;
/// WordCount of a TRANSACTION response without setup words.
const RESPONSE_WORDS: usize = 10;

impl TransactionRequest {
    /// The mailslot write Samba's nmbd sends (browser.md §1): header all zero but Command,
    /// WordCount 17, Setup `{1, 1, 2}`, no parameters, DataOffset `70 + strlen(name)` with the
    /// data right after the ASCII name.
    pub fn mailslot(name: &str, data: Vec<u8>) -> Self {
        let total_data_count = u16::try_from(data.len()).unwrap_or(u16::MAX);
        let data_offset = u16::try_from(70usize.saturating_add(name.len())).unwrap_or(u16::MAX);
        TransactionRequest {
            header: SmbHeader::new(command::TRANSACTION),
            total_parameter_count: 0,
            total_data_count,
            max_parameter_count: 0,
            max_data_count: 0,
            max_setup_count: 0,
            reserved1: 0,
            flags: TransactionFlags::empty(),
            timeout: 0,
            reserved2: 0,
            parameter_offset: 0,
            data_offset,
            reserved3: 0,
            setup: vec![
                mailslot::OPCODE_WRITE,
                mailslot::PRIORITY,
                mailslot::CLASS_UNRELIABLE,
            ],
            name: name.to_owned(),
            parameters: Vec::new(),
            data,
        }
    }

    /// Parses a TRANSACTION request from one whole SMB message.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let msg = SmbMessage::parse(bytes)?;
        let header = msg.header;
        if header.command != command::TRANSACTION {
            return Err(ParseError::bad_value(
                "Command",
                4,
                u64::from(header.command),
                "0x25 (SMB_COM_TRANSACTION)",
            ));
        }
        if header.is_reply() {
            return Err(ParseError::bad_value(
                "Flags",
                9,
                u64::from(header.flags.bits()),
                "REPLY (0x80) clear in a request",
            ));
        }
        let word_count = msg.word_count();
        if word_count < REQUEST_WORDS {
            return Err(ParseError::bad_value(
                "WordCount",
                WORD_COUNT_OFFSET,
                word_count as u64,
                "14 + SetupCount for a TRANSACTION request",
            ));
        }
        let mut r = Reader::at(bytes, WORD_COUNT_OFFSET + 1);
        let total_parameter_count = r.u16_le("TotalParameterCount")?;
        let total_data_count = r.u16_le("TotalDataCount")?;
        let max_parameter_count = r.u16_le("MaxParameterCount")?;
        let max_data_count = r.u16_le("MaxDataCount")?;
        let max_setup_count = r.u8("MaxSetupCount")?;
        let reserved1 = r.u8("Reserved1")?;
        let flags = TransactionFlags::from_bits_retain(r.u16_le("Flags")?);
        let timeout = r.u32_le("Timeout")?;
        let reserved2 = r.u16_le("Reserved2")?;
        let parameter_count = r.u16_le("ParameterCount")?;
        let parameter_offset = r.u16_le("ParameterOffset")?;
        let data_count = r.u16_le("DataCount")?;
        let data_offset = r.u16_le("DataOffset")?;
        let setup_count = r.u8("SetupCount")?;
        let reserved3 = r.u8("Reserved3")?;
        if word_count != REQUEST_WORDS + usize::from(setup_count) {
            return Err(ParseError::bad_value(
                "SetupCount",
                req_at::SETUP_COUNT,
                u64::from(setup_count),
                "WordCount - 14",
            ));
        }
        let setup = read_setup(&mut r, usize::from(setup_count))?;

        let block_start = msg.byte_block_offset();
        let block_end = block_start + msg.bytes.len();
        let block = bytes.get(..block_end).unwrap_or(bytes);
        let mut r = Reader::at(block, block_start);
        if header.is_unicode() && block_start % 2 == 1 {
            r.take(1, "Pad")?;
        }
        let name = read_name(&mut r, header.is_unicode())?;
        let name_end = r.pos();

        let params = Region {
            offset: usize::from(parameter_offset),
            len: usize::from(parameter_count),
        };
        let data = Region {
            offset: usize::from(data_offset),
            len: usize::from(data_count),
        };
        check_region(
            params,
            name_end,
            block_end,
            &RegionFields {
                count: "ParameterCount",
                count_at: req_at::PARAMETER_COUNT,
                offset: "ParameterOffset",
                offset_at: req_at::PARAMETER_OFFSET,
            },
        )?;
        check_region(
            data,
            name_end,
            block_end,
            &RegionFields {
                count: "DataCount",
                count_at: req_at::DATA_COUNT,
                offset: "DataOffset",
                offset_at: req_at::DATA_OFFSET,
            },
        )?;
        if params.overlaps(data) {
            return Err(ParseError::malformed(
                "DataOffset",
                req_at::DATA_OFFSET,
                "the data overlaps the parameters",
            ));
        }
        let slice = |reg: Region| -> Vec<u8> {
            if reg.len == 0 {
                Vec::new()
            } else {
                block
                    .get(reg.offset..reg.end())
                    .unwrap_or_default()
                    .to_vec()
            }
        };
        Ok(TransactionRequest {
            header,
            total_parameter_count,
            total_data_count,
            max_parameter_count,
            max_data_count,
            max_setup_count,
            reserved1,
            flags,
            timeout,
            reserved2,
            parameter_offset,
            data_offset,
            reserved3,
            setup,
            name,
            parameters: slice(params),
            data: slice(data),
        })
    }

    /// Offset of the byte block from the start of the SMB header.
    pub fn byte_block_offset(&self) -> usize {
        byte_block_offset(
            REQUEST_WORDS
                .saturating_add(self.setup.len())
                .saturating_mul(2),
        )
    }

    /// Offset where the transaction name starts: the byte block, plus a pad byte when the name is
    /// UTF-16LE and the byte block starts at an odd offset.
    pub fn name_offset(&self) -> usize {
        let start = self.byte_block_offset();
        if self.header.is_unicode() && start % 2 == 1 {
            start.saturating_add(1)
        } else {
            start
        }
    }

    /// Offset just after the transaction name's NUL: the first place parameters or data may go.
    pub fn name_end(&self) -> usize {
        self.name_offset()
            .saturating_add(name_wire_len(&self.name, self.header.is_unicode()))
    }

    /// Whether this is a mailslot write: Setup[0] is opcode 1 and the name is a `\MAILSLOT\` path.
    pub fn is_mailslot_write(&self) -> bool {
        self.setup.first() == Some(&mailslot::OPCODE_WRITE)
            && self
                .name
                .get(..10)
                .is_some_and(|p| p.eq_ignore_ascii_case("\\MAILSLOT\\"))
    }

    fn regions(&self) -> (Region, Region) {
        (
            Region {
                offset: usize::from(self.parameter_offset),
                len: self.parameters.len(),
            },
            Region {
                offset: usize::from(self.data_offset),
                len: self.data.len(),
            },
        )
    }
}

impl Emit for TransactionRequest {
    fn buffer_len(&self) -> usize {
        let (p, d) = self.regions();
        block_end(self.name_end(), p, d)
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        if self.header.command != command::TRANSACTION || self.header.is_reply() {
            return Err(EmitError::FieldTooLarge {
                field: "Command",
                why: "a TRANSACTION request has Command 0x25 and no REPLY flag",
            });
        }
        let setup_count = u8::try_from(self.setup.len())
            .ok()
            .filter(|&n| usize::from(n) + REQUEST_WORDS <= MAX_WORD_COUNT)
            .ok_or(EmitError::FieldTooLarge {
                field: "SetupCount",
                why: "at most 241 setup words (WordCount is one byte)",
            })?;
        check_name(&self.name, self.header.is_unicode())?;
        let (p, d) = self.regions();
        let lo = self.name_end();
        check_emit_region(p, lo, "ParameterCount", "ParameterOffset")?;
        check_emit_region(d, lo, "DataCount", "DataOffset")?;
        if p.overlaps(d) {
            return Err(EmitError::FieldTooLarge {
                field: "DataOffset",
                why: "the data overlaps the parameters",
            });
        }
        let end = block_end(lo, p, d);
        let byte_count = count_u16(end - self.byte_block_offset(), "ByteCount")?;
        let needed = end;
        if buf.len() < needed {
            return Err(EmitError::BufferTooSmall {
                needed,
                available: buf.len(),
            });
        }
        let mut w = Writer::new(buf);
        self.header.write(&mut w)?;
        w.u8(setup_count + REQUEST_WORDS as u8)?;
        w.u16_le(self.total_parameter_count)?;
        w.u16_le(self.total_data_count)?;
        w.u16_le(self.max_parameter_count)?;
        w.u16_le(self.max_data_count)?;
        w.u8(self.max_setup_count)?;
        w.u8(self.reserved1)?;
        w.u16_le(self.flags.bits())?;
        w.u32_le(self.timeout)?;
        w.u16_le(self.reserved2)?;
        w.u16_le(count_u16(p.len, "ParameterCount")?)?;
        w.u16_le(offset_u16(p.offset, "ParameterOffset")?)?;
        w.u16_le(count_u16(d.len, "DataCount")?)?;
        w.u16_le(offset_u16(d.offset, "DataOffset")?)?;
        w.u8(setup_count)?;
        w.u8(self.reserved3)?;
        for s in &self.setup {
            w.u16_le(*s)?;
        }
        w.u16_le(byte_count)?;
        w.zeros(self.name_offset().saturating_sub(w.pos()))?;
        write_name(&mut w, &self.name, self.header.is_unicode())?;
        write_regions(&mut w, (p, &self.parameters), (d, &self.data))?;
        Ok(w.pos())
    }
}

/// An SMB_COM_TRANSACTION response (rap-smb1.md §6, MS-CIFS 2.2.4.33.2).
///
/// As for [`TransactionRequest`], the counts come from the vectors and the offsets are kept as
/// received; the byte block has no name, and the regions may start right at the byte block.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TransactionResponse {
    /// The SMB header; Command is 0x25 and Flags has REPLY.
    pub header: SmbHeader,
    /// TotalParameterCount: parameter bytes of the whole response.
    pub total_parameter_count: u16,
    /// TotalDataCount: data bytes of the whole response.
    pub total_data_count: u16,
    /// Reserved1, the word after TotalDataCount.
    pub reserved1: u16,
    /// ParameterOffset: from the start of the SMB header.
    pub parameter_offset: u16,
    /// ParameterDisplacement: where these parameters go within the whole response's.
    pub parameter_displacement: u16,
    /// DataOffset: from the start of the SMB header.
    pub data_offset: u16,
    /// DataDisplacement: where this data goes within the whole response's.
    pub data_displacement: u16,
    /// Reserved2, the byte after SetupCount.
    pub reserved2: u8,
    /// Setup words (none for RAP).
    pub setup: Vec<u16>,
    /// Parameters: ParameterCount bytes at ParameterOffset.
    pub parameters: Vec<u8>,
    /// Data: DataCount bytes at DataOffset.
    pub data: Vec<u8>,
}

/// Word offsets of the response's fields from the header start, for errors.
mod rsp_at {
    pub const PARAMETER_COUNT: usize = 33 + 6;
    pub const PARAMETER_OFFSET: usize = 33 + 8;
    pub const DATA_COUNT: usize = 33 + 12;
    pub const DATA_OFFSET: usize = 33 + 14;
    pub const SETUP_COUNT: usize = 33 + 18;
}

impl TransactionResponse {
    /// A single-piece response laid out as Samba's smbd does (`send_trans_reply`): no setup, one
    /// pad byte after ByteCount, the parameters, `ParameterCount % 4` zero bytes, the data.
    /// `header` is used as given (set REPLY and copy TID, PID, UID and MID from the request).
    pub fn new(header: SmbHeader, parameters: Vec<u8>, data: Vec<u8>) -> Self {
        let start = byte_block_offset(RESPONSE_WORDS * 2);
        let parameter_offset = start + 1;
        let data_offset = parameter_offset
            .saturating_add(parameters.len())
            .saturating_add(parameters.len() % 4);
        TransactionResponse {
            header,
            total_parameter_count: u16::try_from(parameters.len()).unwrap_or(u16::MAX),
            total_data_count: u16::try_from(data.len()).unwrap_or(u16::MAX),
            reserved1: 0,
            parameter_offset: u16::try_from(parameter_offset).unwrap_or(u16::MAX),
            parameter_displacement: 0,
            data_offset: u16::try_from(data_offset).unwrap_or(u16::MAX),
            data_displacement: 0,
            reserved2: 0,
            setup: Vec::new(),
            parameters,
            data,
        }
    }

    /// Parses a TRANSACTION response from one whole SMB message.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let msg = SmbMessage::parse(bytes)?;
        let header = msg.header;
        if header.command != command::TRANSACTION {
            return Err(ParseError::bad_value(
                "Command",
                4,
                u64::from(header.command),
                "0x25 (SMB_COM_TRANSACTION)",
            ));
        }
        if !header.is_reply() {
            return Err(ParseError::bad_value(
                "Flags",
                9,
                u64::from(header.flags.bits()),
                "REPLY (0x80) set in a response",
            ));
        }
        let word_count = msg.word_count();
        if word_count < RESPONSE_WORDS {
            return Err(ParseError::bad_value(
                "WordCount",
                WORD_COUNT_OFFSET,
                word_count as u64,
                "10 + SetupCount for a TRANSACTION response",
            ));
        }
        let mut r = Reader::at(bytes, WORD_COUNT_OFFSET + 1);
        let total_parameter_count = r.u16_le("TotalParameterCount")?;
        let total_data_count = r.u16_le("TotalDataCount")?;
        let reserved1 = r.u16_le("Reserved1")?;
        let parameter_count = r.u16_le("ParameterCount")?;
        let parameter_offset = r.u16_le("ParameterOffset")?;
        let parameter_displacement = r.u16_le("ParameterDisplacement")?;
        let data_count = r.u16_le("DataCount")?;
        let data_offset = r.u16_le("DataOffset")?;
        let data_displacement = r.u16_le("DataDisplacement")?;
        let setup_count = r.u8("SetupCount")?;
        let reserved2 = r.u8("Reserved2")?;
        if word_count != RESPONSE_WORDS + usize::from(setup_count) {
            return Err(ParseError::bad_value(
                "SetupCount",
                rsp_at::SETUP_COUNT,
                u64::from(setup_count),
                "WordCount - 10",
            ));
        }
        let setup = read_setup(&mut r, usize::from(setup_count))?;
        let block_start = msg.byte_block_offset();
        let block_end = block_start + msg.bytes.len();
        let block = bytes.get(..block_end).unwrap_or(bytes);
        let params = Region {
            offset: usize::from(parameter_offset),
            len: usize::from(parameter_count),
        };
        let data = Region {
            offset: usize::from(data_offset),
            len: usize::from(data_count),
        };
        check_region(
            params,
            block_start,
            block_end,
            &RegionFields {
                count: "ParameterCount",
                count_at: rsp_at::PARAMETER_COUNT,
                offset: "ParameterOffset",
                offset_at: rsp_at::PARAMETER_OFFSET,
            },
        )?;
        check_region(
            data,
            block_start,
            block_end,
            &RegionFields {
                count: "DataCount",
                count_at: rsp_at::DATA_COUNT,
                offset: "DataOffset",
                offset_at: rsp_at::DATA_OFFSET,
            },
        )?;
        if params.overlaps(data) {
            return Err(ParseError::malformed(
                "DataOffset",
                rsp_at::DATA_OFFSET,
                "the data overlaps the parameters",
            ));
        }
        let slice = |reg: Region| -> Vec<u8> {
            if reg.len == 0 {
                Vec::new()
            } else {
                block
                    .get(reg.offset..reg.end())
                    .unwrap_or_default()
                    .to_vec()
            }
        };
        Ok(TransactionResponse {
            header,
            total_parameter_count,
            total_data_count,
            reserved1,
            parameter_offset,
            parameter_displacement,
            data_offset,
            data_displacement,
            reserved2,
            setup,
            parameters: slice(params),
            data: slice(data),
        })
    }

    /// Offset of the byte block from the start of the SMB header.
    pub fn byte_block_offset(&self) -> usize {
        byte_block_offset(
            RESPONSE_WORDS
                .saturating_add(self.setup.len())
                .saturating_mul(2),
        )
    }

    fn regions(&self) -> (Region, Region) {
        (
            Region {
                offset: usize::from(self.parameter_offset),
                len: self.parameters.len(),
            },
            Region {
                offset: usize::from(self.data_offset),
                len: self.data.len(),
            },
        )
    }
}

impl Emit for TransactionResponse {
    fn buffer_len(&self) -> usize {
        let (p, d) = self.regions();
        block_end(self.byte_block_offset(), p, d)
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        if self.header.command != command::TRANSACTION || !self.header.is_reply() {
            return Err(EmitError::FieldTooLarge {
                field: "Command",
                why: "a TRANSACTION response has Command 0x25 and the REPLY flag",
            });
        }
        let setup_count = u8::try_from(self.setup.len())
            .ok()
            .filter(|&n| usize::from(n) + RESPONSE_WORDS <= MAX_WORD_COUNT)
            .ok_or(EmitError::FieldTooLarge {
                field: "SetupCount",
                why: "at most 245 setup words (WordCount is one byte)",
            })?;
        let (p, d) = self.regions();
        let lo = self.byte_block_offset();
        check_emit_region(p, lo, "ParameterCount", "ParameterOffset")?;
        check_emit_region(d, lo, "DataCount", "DataOffset")?;
        if p.overlaps(d) {
            return Err(EmitError::FieldTooLarge {
                field: "DataOffset",
                why: "the data overlaps the parameters",
            });
        }
        let end = block_end(lo, p, d);
        let byte_count = count_u16(end - lo, "ByteCount")?;
        if buf.len() < end {
            return Err(EmitError::BufferTooSmall {
                needed: end,
                available: buf.len(),
            });
        }
        let mut w = Writer::new(buf);
        self.header.write(&mut w)?;
        w.u8(setup_count + RESPONSE_WORDS as u8)?;
        w.u16_le(self.total_parameter_count)?;
        w.u16_le(self.total_data_count)?;
        w.u16_le(self.reserved1)?;
        w.u16_le(count_u16(p.len, "ParameterCount")?)?;
        w.u16_le(offset_u16(p.offset, "ParameterOffset")?)?;
        w.u16_le(self.parameter_displacement)?;
        w.u16_le(count_u16(d.len, "DataCount")?)?;
        w.u16_le(offset_u16(d.offset, "DataOffset")?)?;
        w.u16_le(self.data_displacement)?;
        w.u8(setup_count)?;
        w.u8(self.reserved2)?;
        for s in &self.setup {
            w.u16_le(*s)?;
        }
        w.u16_le(byte_count)?;
        write_regions(&mut w, (p, &self.parameters), (d, &self.data))?;
        Ok(w.pos())
    }
}

#[cfg(test)]
pub(crate) mod strategy {
    //! Proptest strategies for SMB1 messages.
    use super::*;
    use proptest::prelude::*;

    /// Any SMB1 header.
    pub fn header() -> impl Strategy<Value = SmbHeader> {
        (
            (any::<u8>(), any::<u32>(), any::<u8>(), any::<u16>()),
            (any::<u16>(), any::<[u8; 8]>(), any::<u16>()),
            (any::<u16>(), any::<u16>(), any::<u16>(), any::<u16>()),
        )
            .prop_map(
                |(
                    (command, status, flags, flags2),
                    (pid_high, security_features, reserved),
                    (tid, pid_low, uid, mid),
                )| SmbHeader {
                    command,
                    status,
                    flags: SmbFlags::from_bits_retain(flags),
                    flags2: SmbFlags2::from_bits_retain(flags2),
                    pid_high,
                    security_features,
                    reserved,
                    tid,
                    pid_low,
                    uid,
                    mid,
                },
            )
    }

    /// Any SMB1 message in generic form.
    pub fn message() -> impl Strategy<Value = SmbMessage> {
        (
            header(),
            proptest::collection::vec(any::<u16>(), 0..40),
            proptest::collection::vec(any::<u8>(), 0..200),
            proptest::collection::vec(any::<u8>(), 0..8),
        )
            .prop_map(|(header, words, bytes, trailing)| SmbMessage {
                header,
                words: words.iter().flat_map(|w| w.to_le_bytes()).collect(),
                bytes,
                trailing,
            })
    }

    /// A header for a TRANSACTION request or response, ASCII or Unicode.
    fn transaction_header(reply: bool) -> impl Strategy<Value = SmbHeader> {
        header().prop_map(move |mut h| {
            h.command = command::TRANSACTION;
            h.flags.set(SmbFlags::REPLY, reply);
            h
        })
    }

    /// A transaction name that the header's Flags2 can carry.
    fn name_for(h: &SmbHeader) -> BoxedStrategy<String> {
        if h.is_unicode() {
            "[\\\\A-Za-z0-9é€😀]{0,12}".boxed()
        } else {
            "[\\\\A-Z0-9$]{0,16}".boxed()
        }
    }

    /// Offsets for two regions placed after `lo`, in either order, with small gaps; an empty
    /// region is sometimes written in the "absent" form (offset 0).
    fn place(
        lo: usize,
        lens: (usize, usize),
        gaps: (usize, usize),
        params_first: bool,
        absent: (bool, bool),
    ) -> (u16, u16) {
        let (pl, dl) = lens;
        let (po, dof) = if params_first {
            let po = lo + gaps.0;
            (po, po + pl + gaps.1)
        } else {
            let dof = lo + gaps.0;
            (dof + dl + gaps.1, dof)
        };
        let po = if pl == 0 && absent.0 { 0 } else { po };
        let dof = if dl == 0 && absent.1 { 0 } else { dof };
        (po as u16, dof as u16)
    }

    /// Any TRANSACTION request with a valid layout.
    pub fn transaction_request() -> impl Strategy<Value = TransactionRequest> {
        transaction_header(false)
            .prop_flat_map(|h| (Just(h), name_for(&h)))
            .prop_flat_map(|(header, name)| {
                (
                    Just((header, name)),
                    (
                        any::<[u16; 4]>(),
                        any::<[u8; 3]>(),
                        any::<u32>(),
                        any::<[u16; 2]>(),
                    ),
                    proptest::collection::vec(any::<u16>(), 0..4),
                    proptest::collection::vec(any::<u8>(), 0..64),
                    proptest::collection::vec(any::<u8>(), 0..128),
                    (0usize..5, 0usize..5, any::<bool>(), any::<(bool, bool)>()),
                )
            })
            .prop_map(
                |(
                    (header, name),
                    (counts, bytes, timeout, words),
                    setup,
                    parameters,
                    data,
                    lay,
                )| {
                    let mut t = TransactionRequest {
                        header,
                        total_parameter_count: counts[0],
                        total_data_count: counts[1],
                        max_parameter_count: counts[2],
                        max_data_count: counts[3],
                        max_setup_count: bytes[0],
                        reserved1: bytes[1],
                        flags: TransactionFlags::from_bits_retain(words[0]),
                        timeout,
                        reserved2: words[1],
                        parameter_offset: 0,
                        data_offset: 0,
                        reserved3: bytes[2],
                        setup,
                        name,
                        parameters,
                        data,
                    };
                    let lens = (t.parameters.len(), t.data.len());
                    (t.parameter_offset, t.data_offset) =
                        place(t.name_end(), lens, (lay.0, lay.1), lay.2, lay.3);
                    t
                },
            )
    }

    /// Any TRANSACTION response with a valid layout.
    pub fn transaction_response() -> impl Strategy<Value = TransactionResponse> {
        (
            transaction_header(true),
            any::<[u16; 5]>(),
            any::<u8>(),
            proptest::collection::vec(any::<u16>(), 0..4),
            proptest::collection::vec(any::<u8>(), 0..64),
            proptest::collection::vec(any::<u8>(), 0..128),
            (0usize..5, 0usize..5, any::<bool>(), any::<(bool, bool)>()),
        )
            .prop_map(|(header, w, reserved2, setup, parameters, data, lay)| {
                let mut t = TransactionResponse {
                    header,
                    total_parameter_count: w[0],
                    total_data_count: w[1],
                    reserved1: w[2],
                    parameter_offset: 0,
                    parameter_displacement: w[3],
                    data_offset: 0,
                    data_displacement: w[4],
                    reserved2,
                    setup,
                    parameters,
                    data,
                };
                let lens = (t.parameters.len(), t.data.len());
                (t.parameter_offset, t.data_offset) =
                    place(t.byte_block_offset(), lens, (lay.0, lay.1), lay.2, lay.3);
                t
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use proptest::prelude::*;

    const BROWSE: &str = transaction_name::MAILSLOT_BROWSE;

    #[test]
    fn mailslot_write_layout_from_the_reference() {
        // browser.md §1, for a 20-byte browser frame on \MAILSLOT\BROWSE.
        let data: Vec<u8> = (1..=20).collect();
        let t = TransactionRequest::mailslot(BROWSE, data.clone());
        let b = t.to_vec().unwrap();
        assert_eq!(b.len(), 86 + 20);
        assert_eq!(&b[..5], b"\xFFSMB\x25");
        assert!(
            b[5..32].iter().all(|&x| x == 0),
            "header is zero but Command"
        );
        assert_eq!(b[32], 17, "WordCount");
        let word = |at: usize| u16::from_le_bytes([b[at], b[at + 1]]);
        assert_eq!(word(33), 0, "TotalParameterCount");
        assert_eq!(word(35), 20, "TotalDataCount");
        assert_eq!(word(51), 0, "ParameterCount");
        assert_eq!(word(53), 0, "ParameterOffset");
        assert_eq!(word(55), 20, "DataCount");
        assert_eq!(word(57), 86, "DataOffset = 70 + strlen(name)");
        assert_eq!((b[59], b[60]), (3, 0), "SetupCount, Reserved3");
        assert_eq!(&b[61..67], &[1, 0, 1, 0, 2, 0], "Setup {{1, 1, 2}}");
        assert_eq!(word(67), 17 + 20, "ByteCount");
        assert_eq!(&b[69..86], b"\\MAILSLOT\\BROWSE\0");
        assert_eq!(&b[86..], &data[..]);
        assert_eq!(TransactionRequest::parse(&b).unwrap(), t);
        assert!(t.is_mailslot_write());
        assert_eq!(t.name_end(), 86);
        let m = SmbMessage::parse(&b).unwrap();
        assert_eq!(m.word_count(), 17);
        assert_eq!(m.word(12), Some(86));
        assert_eq!(m.word(17), None);
        assert_eq!(m.to_vec().unwrap(), b);
    }

    /// A request laid out as Samba's client lays out a RAP call: Unicode name after one pad
    /// byte, parameters at 92, data offset padded by `offset % 4`.
    fn samba_rap_request(params: usize) -> TransactionRequest {
        let mut header = SmbHeader::new(command::TRANSACTION);
        header.flags2 = SmbFlags2::from_bits_retain(0xc043);
        header.flags = SmbFlags::CASE_INSENSITIVE | SmbFlags::CANONICALIZED_PATHS;
        let end = 92 + params;
        TransactionRequest {
            header,
            total_parameter_count: params as u16,
            total_data_count: 0,
            max_parameter_count: 8,
            max_data_count: 0xFFFF,
            max_setup_count: 0,
            reserved1: 0,
            flags: TransactionFlags::empty(),
            timeout: 0,
            reserved2: 0,
            parameter_offset: 92,
            data_offset: (end + end % 4) as u16,
            reserved3: 0,
            setup: Vec::new(),
            name: transaction_name::PIPE_LANMAN.to_owned(),
            parameters: vec![0x68; params],
            data: Vec::new(),
        }
    }

    #[test]
    fn unicode_request_layout() {
        let t = samba_rap_request(27);
        let b = t.to_vec().unwrap();
        assert_eq!(t.byte_block_offset(), 63);
        assert_eq!(t.name_offset(), 64);
        assert_eq!(t.name_end(), 90);
        assert_eq!(
            b.len(),
            122,
            "the byte block runs to DataOffset though DataCount is 0"
        );
        assert_eq!(u16::from_le_bytes([b[61], b[62]]), 59, "ByteCount");
        assert_eq!(b[63], 0, "pad before the UTF-16LE name");
        assert_eq!(&b[64..68], b"\\\0P\0");
        assert_eq!(&b[88..92], &[0, 0, 0, 0], "NUL, then 2 pad bytes");
        assert_eq!(&b[119..], &[0, 0, 0]);
        assert_eq!(TransactionRequest::parse(&b).unwrap(), t);
    }

    #[test]
    fn response_layout_like_smbd() {
        let mut h = SmbHeader::new(command::TRANSACTION);
        h.flags = SmbFlags::REPLY | SmbFlags::CASE_INSENSITIVE;
        let t = TransactionResponse::new(h, vec![0; 8], vec![7; 117]);
        assert_eq!((t.parameter_offset, t.data_offset), (56, 64));
        let b = t.to_vec().unwrap();
        assert_eq!(b.len(), 181);
        assert_eq!(u16::from_le_bytes([b[53], b[54]]), 126, "ByteCount");
        assert_eq!(TransactionResponse::parse(&b).unwrap(), t);
        // ParameterCount % 4 pad bytes between parameters and data, as smbd writes them.
        let t = TransactionResponse::new(h, vec![1; 6], vec![2; 3]);
        assert_eq!((t.parameter_offset, t.data_offset), (56, 64));
        let t = TransactionResponse::new(h, Vec::new(), vec![2; 3]);
        assert_eq!((t.parameter_offset, t.data_offset), (56, 56));
        assert_eq!(TransactionResponse::parse(&t.to_vec().unwrap()).unwrap(), t);
    }

    fn set_word(b: &mut [u8], at: usize, v: u16) {
        b[at..at + 2].copy_from_slice(&v.to_le_bytes());
    }

    #[test]
    fn bad_offsets_are_specific() {
        let good = TransactionRequest::mailslot(BROWSE, vec![9; 10])
            .to_vec()
            .unwrap();
        // DataOffset into the name.
        let mut b = good.clone();
        set_word(&mut b, 57, 80);
        let e = TransactionRequest::parse(&b).unwrap_err();
        assert_eq!((e.field, e.offset), ("DataOffset", 57));
        // DataOffset into the header.
        set_word(&mut b, 57, 4);
        assert_eq!(
            TransactionRequest::parse(&b).unwrap_err().field,
            "DataOffset"
        );
        // DataOffset past the end of the message.
        set_word(&mut b, 57, 200);
        let e = TransactionRequest::parse(&b).unwrap_err();
        assert_eq!((e.field, e.offset), ("DataOffset", 57));
        // DataCount past the end of the byte block.
        let mut b = good.clone();
        set_word(&mut b, 55, 11);
        let e = TransactionRequest::parse(&b).unwrap_err();
        assert_eq!((e.field, e.offset), ("DataCount", 55));
        assert_eq!(
            e.kind,
            ErrorKind::Truncated {
                needed: 11,
                available: 10
            }
        );
        // Parameters overlapping the data.
        let mut b = good.clone();
        set_word(&mut b, 51, 2);
        set_word(&mut b, 53, 90);
        let e = TransactionRequest::parse(&b).unwrap_err();
        assert_eq!((e.field, e.offset), ("DataOffset", 57));
        assert!(matches!(e.kind, ErrorKind::Malformed(_)));
        // Parameters with a count but offset 0.
        let mut b = good.clone();
        set_word(&mut b, 51, 2);
        let e = TransactionRequest::parse(&b).unwrap_err();
        assert_eq!((e.field, e.offset), ("ParameterOffset", 53));
        // Touching regions are fine.
        let mut b = good.clone();
        set_word(&mut b, 51, 2);
        set_word(&mut b, 53, 86);
        set_word(&mut b, 55, 8);
        set_word(&mut b, 57, 88);
        let t = TransactionRequest::parse(&b).unwrap();
        assert_eq!((t.parameters.len(), t.data.len()), (2, 8));
        assert_eq!(t.to_vec().unwrap(), b);
    }

    #[test]
    fn bad_envelopes_are_specific() {
        let good = TransactionRequest::mailslot(BROWSE, vec![9; 10])
            .to_vec()
            .unwrap();
        let mut b = good.clone();
        b[0] = 0xFE;
        assert_eq!(TransactionRequest::parse(&b).unwrap_err().field, "Protocol");
        let mut b = good.clone();
        b[4] = 0x32;
        let e = TransactionRequest::parse(&b).unwrap_err();
        assert_eq!((e.field, e.offset), ("Command", 4));
        let mut b = good.clone();
        b[9] = 0x80;
        let e = TransactionRequest::parse(&b).unwrap_err();
        assert_eq!((e.field, e.offset), ("Flags", 9));
        assert_eq!(
            TransactionResponse::parse(&good).unwrap_err().field,
            "Flags"
        );
        let mut b = good.clone();
        b[59] = 2;
        let e = TransactionRequest::parse(&b).unwrap_err();
        assert_eq!((e.field, e.offset), ("SetupCount", 59));
        // WordCount 13: the ByteCount then falls elsewhere, but the count is refused first.
        let m = SmbMessage {
            header: SmbHeader::new(command::TRANSACTION),
            words: vec![0; 26],
            bytes: Vec::new(),
            trailing: Vec::new(),
        };
        let e = TransactionRequest::parse(&m.to_vec().unwrap()).unwrap_err();
        assert_eq!((e.field, e.offset), ("WordCount", 32));
        // A name with no NUL inside the byte block.
        let mut b = good.clone();
        set_word(&mut b, 67, 5);
        b.truncate(69 + 5);
        let e = TransactionRequest::parse(&b).unwrap_err();
        assert_eq!((e.field, e.offset), ("Name", 69));
        // A non-ASCII byte in an ASCII name.
        let mut b = good.clone();
        b[70] = 0xC9;
        let e = TransactionRequest::parse(&b).unwrap_err();
        assert_eq!((e.field, e.offset), ("Name", 70));
        // An unpaired surrogate in a Unicode name.
        let t = samba_rap_request(4);
        let mut b = t.to_vec().unwrap();
        set_word(&mut b, 64, 0xD800);
        let e = TransactionRequest::parse(&b).unwrap_err();
        assert_eq!((e.field, e.offset), ("Name", 64));
    }

    #[test]
    fn generic_message_errors_and_trailing_bytes() {
        let e = SmbMessage::parse(b"\xFFSMB").unwrap_err();
        assert_eq!((e.field, e.offset), ("Command", 4));
        let mut b = SmbHeader::new(command::ECHO).to_vec().unwrap();
        let e = SmbMessage::parse(&b).unwrap_err();
        assert_eq!((e.field, e.offset), ("WordCount", 32));
        b.push(1);
        b.push(0x34);
        let e = SmbMessage::parse(&b).unwrap_err();
        assert_eq!((e.field, e.offset), ("Words", 33));
        b.push(0x12);
        let e = SmbMessage::parse(&b).unwrap_err();
        assert_eq!((e.field, e.offset), ("ByteCount", 35));
        b.extend_from_slice(&[0xFF, 0xFF, 1, 2]);
        let e = SmbMessage::parse(&b).unwrap_err();
        assert_eq!((e.field, e.offset), ("Bytes", 37));
        assert_eq!(
            e.kind,
            ErrorKind::Truncated {
                needed: 0xFFFF,
                available: 2
            }
        );
        b[35] = 1;
        b[36] = 0;
        let m = SmbMessage::parse(&b).unwrap();
        assert_eq!(m.word(0), Some(0x1234));
        assert_eq!(m.bytes, [1]);
        assert_eq!(m.trailing, [2]);
        assert_eq!(m.to_vec().unwrap(), b);
    }

    #[test]
    fn emit_refuses_what_the_wire_cannot_carry() {
        let mut m = SmbMessage {
            header: SmbHeader::new(command::ECHO),
            words: vec![0; 3],
            bytes: Vec::new(),
            trailing: Vec::new(),
        };
        assert!(matches!(
            m.to_vec(),
            Err(EmitError::FieldTooLarge {
                field: "WordCount",
                ..
            })
        ));
        m.words = vec![0; 512];
        assert!(matches!(
            m.to_vec(),
            Err(EmitError::FieldTooLarge {
                field: "WordCount",
                ..
            })
        ));
        m.words = vec![0; 510];
        m.bytes = vec![0; 0x1_0000];
        assert!(matches!(
            m.to_vec(),
            Err(EmitError::FieldTooLarge {
                field: "ByteCount",
                ..
            })
        ));

        let ms = TransactionRequest::mailslot(BROWSE, vec![0; 10]);
        let mut t = ms.clone();
        t.name = "\\MAILSLOT\\BRÖWSE".into();
        assert!(matches!(
            t.to_vec(),
            Err(EmitError::FieldTooLarge { field: "Name", .. })
        ));
        t.header.flags2 = SmbFlags2::UNICODE;
        t.data_offset = t.name_end() as u16;
        assert!(t.to_vec().is_ok(), "Unicode carries it");
        let mut t = ms.clone();
        t.data_offset -= 1;
        assert!(matches!(
            t.to_vec(),
            Err(EmitError::FieldTooLarge {
                field: "DataOffset",
                ..
            })
        ));
        let mut t = ms.clone();
        t.parameters = vec![1; 4];
        t.parameter_offset = t.data_offset + 2;
        assert!(matches!(
            t.to_vec(),
            Err(EmitError::FieldTooLarge {
                field: "DataOffset",
                ..
            })
        ));
        let mut t = ms.clone();
        t.data = vec![0; 0x1_0000];
        assert!(matches!(
            t.to_vec(),
            Err(EmitError::FieldTooLarge {
                field: "DataCount",
                ..
            })
        ));
        let mut t = ms.clone();
        t.data = vec![0; 0xFFFF - 86];
        assert!(t.to_vec().is_ok());
        t.data.push(0);
        assert!(matches!(
            t.to_vec(),
            Err(EmitError::FieldTooLarge {
                field: "DataOffset",
                ..
            })
        ));
        let mut t = ms.clone();
        t.setup = vec![0; 242];
        assert!(matches!(
            t.to_vec(),
            Err(EmitError::FieldTooLarge {
                field: "SetupCount",
                ..
            })
        ));
        let mut t = ms.clone();
        t.header.command = command::ECHO;
        assert!(t.to_vec().is_err());
        let mut small = [0u8; 50];
        assert!(matches!(
            ms.emit(&mut small),
            Err(EmitError::BufferTooSmall { .. })
        ));
    }

    #[test]
    fn mailslot_name_checks() {
        let t = TransactionRequest::mailslot(transaction_name::MAILSLOT_LANMAN, vec![1]);
        assert!(t.is_mailslot_write());
        assert_eq!(t.data_offset, 86);
        let mut t = TransactionRequest::mailslot("\\PIPE\\LANMAN", vec![1]);
        assert!(!t.is_mailslot_write());
        t.name = "\\mailslot\\browse".into();
        assert!(t.is_mailslot_write());
    }

    proptest! {
        #[test]
        fn message_round_trip(m in strategy::message()) {
            let b = m.to_vec().unwrap();
            prop_assert_eq!(b.len(), m.buffer_len());
            prop_assert_eq!(SmbMessage::parse(&b).unwrap(), m);
        }

        #[test]
        fn header_round_trip(h in strategy::header()) {
            let b = h.to_vec().unwrap();
            prop_assert_eq!(b.len(), HEADER_LEN);
            prop_assert_eq!(SmbHeader::parse(&b).unwrap(), h);
        }

        #[test]
        fn request_round_trip(t in strategy::transaction_request()) {
            let b = t.to_vec().unwrap();
            prop_assert_eq!(b.len(), t.buffer_len());
            prop_assert_eq!(TransactionRequest::parse(&b).unwrap(), t.clone());
            prop_assert_eq!(SmbMessage::parse(&b).unwrap().to_vec().unwrap(), b);
        }

        #[test]
        fn response_round_trip(t in strategy::transaction_response()) {
            let b = t.to_vec().unwrap();
            prop_assert_eq!(b.len(), t.buffer_len());
            prop_assert_eq!(TransactionResponse::parse(&b).unwrap(), t);
        }

        #[test]
        fn mailslot_round_trip(name in "\\\\MAILSLOT\\\\[A-Z]{1,12}", data in proptest::collection::vec(any::<u8>(), 0..500)) {
            let t = TransactionRequest::mailslot(&name, data);
            let b = t.to_vec().unwrap();
            prop_assert_eq!(TransactionRequest::parse(&b).unwrap(), t);
        }

        #[test]
        fn parse_never_panics(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = SmbMessage::parse(&b);
            let _ = TransactionRequest::parse(&b);
            let _ = TransactionResponse::parse(&b);
        }

        #[test]
        fn parse_never_panics_on_mutated_transactions(
            t in strategy::transaction_request(),
            r in strategy::transaction_response(),
            muts in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
            cut in any::<prop::sample::Index>(),
        ) {
            for mut b in [t.to_vec().unwrap(), r.to_vec().unwrap()] {
                for (i, x) in &muts {
                    let i = i.index(b.len());
                    b[i] = *x;
                }
                let _ = TransactionRequest::parse(&b);
                let _ = TransactionResponse::parse(&b);
                b.truncate(cut.index(b.len() + 1));
                let _ = TransactionRequest::parse(&b);
                let _ = TransactionResponse::parse(&b);
                let _ = SmbMessage::parse(&b);
            }
        }
    }
}
