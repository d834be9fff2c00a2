//! SMB_COM_TRANSACTION request and response (MS-CIFS 2.2.4.33): the envelope of mailslot
//! writes and of RAP calls on `\PIPE\LANMAN`.

use super::*;

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

/// Checks what every TRANSACTION message starts with: the command, the REPLY flag for its
/// direction, and enough parameter words; returns WordCount.
fn check_transaction(msg: &SmbMessage, reply: bool) -> Result<usize, ParseError> {
    let header = &msg.header;
    if header.command != command::TRANSACTION {
        return Err(ParseError::bad_value(
            "Command",
            4,
            u64::from(header.command),
            "0x25 (SMB_COM_TRANSACTION)",
        ));
    }
    if header.is_reply() != reply {
        return Err(ParseError::bad_value(
            "Flags",
            9,
            u64::from(header.flags.bits()),
            if reply {
                "REPLY (0x80) set in a response"
            } else {
                "REPLY (0x80) clear in a request"
            },
        ));
    }
    let (min, expected) = if reply {
        (RESPONSE_WORDS, "10 + SetupCount for a TRANSACTION response")
    } else {
        (REQUEST_WORDS, "14 + SetupCount for a TRANSACTION request")
    };
    let word_count = msg.word_count();
    if word_count < min {
        return Err(ParseError::bad_value(
            "WordCount",
            WORD_COUNT_OFFSET,
            word_count as u64,
            expected,
        ));
    }
    Ok(word_count)
}

/// Where a transaction's count and offset fields sit, for errors: `(count, offset)` word
/// offsets of the parameter and of the data region.
struct RegionLayout {
    parameter_count_at: usize,
    parameter_offset_at: usize,
    data_count_at: usize,
    data_offset_at: usize,
}

/// Checks the parameter and data regions of a transaction against its byte block (each within
/// `[lo, block end]`, not overlapping) and copies them out of `block`.
fn read_regions(
    block: &[u8],
    (lo, block_end): (usize, usize),
    params: Region,
    data: Region,
    at: &RegionLayout,
) -> Result<(Vec<u8>, Vec<u8>), ParseError> {
    check_region(
        params,
        lo,
        block_end,
        &RegionFields {
            count: "ParameterCount",
            count_at: at.parameter_count_at,
            offset: "ParameterOffset",
            offset_at: at.parameter_offset_at,
        },
    )?;
    check_region(
        data,
        lo,
        block_end,
        &RegionFields {
            count: "DataCount",
            count_at: at.data_count_at,
            offset: "DataOffset",
            offset_at: at.data_offset_at,
        },
    )?;
    if params.overlaps(data) {
        return Err(ParseError::malformed(
            "DataOffset",
            at.data_offset_at,
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
    Ok((slice(params), slice(data)))
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

    /// A transaction on a named pipe with parameters only, laid out as smbclient lays out its
    /// RAP calls on `\PIPE\LANMAN` (rap-smb1.md §6): no setup, the parameters at the first
    /// 4-byte boundary after the name, no data. Fails when the parameters do not fit a message.
    pub fn named_pipe(
        header: SmbHeader,
        name: &str,
        parameters: Vec<u8>,
        max_parameter_count: u16,
        max_data_count: u16,
    ) -> Result<Self, EmitError> {
        let too_large = |field| EmitError::FieldTooLarge {
            field,
            why: "the parameters must end within 65535 bytes of the header start",
        };
        let mut t = TransactionRequest {
            header,
            total_parameter_count: count_u16(parameters.len(), "TotalParameterCount")?,
            total_data_count: 0,
            max_parameter_count,
            max_data_count,
            max_setup_count: 0,
            reserved1: 0,
            flags: TransactionFlags::empty(),
            timeout: 0,
            reserved2: 0,
            parameter_offset: 0,
            data_offset: 0,
            reserved3: 0,
            setup: Vec::new(),
            name: name.to_owned(),
            parameters,
            data: Vec::new(),
        };
        let end = t.name_end();
        let parameter_offset = end + (4 - end % 4) % 4;
        let data_offset = parameter_offset + t.parameters.len();
        t.parameter_offset =
            u16::try_from(parameter_offset).map_err(|_| too_large("ParameterOffset"))?;
        t.data_offset = u16::try_from(data_offset).map_err(|_| too_large("DataOffset"))?;
        Ok(t)
    }

    /// Parses a TRANSACTION request from one whole SMB message.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let msg = SmbMessage::parse(bytes)?;
        let header = msg.header;
        let word_count = check_transaction(&msg, false)?;
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
        let (parameter_bytes, data_bytes) = read_regions(
            block,
            (name_end, block_end),
            params,
            data,
            &RegionLayout {
                parameter_count_at: req_at::PARAMETER_COUNT,
                parameter_offset_at: req_at::PARAMETER_OFFSET,
                data_count_at: req_at::DATA_COUNT,
                data_offset_at: req_at::DATA_OFFSET,
            },
        )?;
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
            parameters: parameter_bytes,
            data: data_bytes,
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

    /// Whether this is a mailslot write: `Setup[0]` is opcode 1 and the name is a `\MAILSLOT\` path.
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
        let word_count = check_transaction(&msg, true)?;
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
        let (parameter_bytes, data_bytes) = read_regions(
            block,
            (block_start, block_end),
            params,
            data,
            &RegionLayout {
                parameter_count_at: rsp_at::PARAMETER_COUNT,
                parameter_offset_at: rsp_at::PARAMETER_OFFSET,
                data_count_at: rsp_at::DATA_COUNT,
                data_offset_at: rsp_at::DATA_OFFSET,
            },
        )?;
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
            parameters: parameter_bytes,
            data: data_bytes,
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
