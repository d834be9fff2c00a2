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

/// The Protocol field of an SMB2 message: `\xFESMB` (MS-SMB2 2.2.1).
pub const SMB2_PROTOCOL: [u8; 4] = *b"\xFESMB";

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
    /// `Setup[0]`: the opcode of a mailslot write.
    pub const OPCODE_WRITE: u16 = 1;
    /// `Setup[1]`: the priority Samba sends (receivers must not check it).
    pub const PRIORITY: u16 = 1;
    /// `Setup[2]`: second-class (unreliable, broadcast-capable) mailslot.
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

pub mod commands;
mod transaction;
pub use transaction::{TransactionRequest, TransactionResponse};

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
mod tests;
