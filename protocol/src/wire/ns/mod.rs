//! Name service packets (UDP 137), RFC 1002 §4.2.
//!
//! A [`NameServicePacket`] is the general message: the 12-byte header, questions and three
//! record sections, shaped like DNS. [`NameServicePacket::kind`] names which of the RFC's
//! packets it is, and the constructors in [`kind`] build each of them the way Samba and Windows
//! send them.
//!
//! Names inside records may be label pointers; the parser follows them (strictly backwards, a
//! bounded number of times). The emitter writes the canonical form, which uses exactly one
//! pointer: the additional record of a registration, overwrite, refresh, release or multi-homed
//! registration request names the question as `C0 0C` (RFC 1002 §4.2.2, as Samba and Windows
//! send it).

pub mod kind;
pub mod rdata;

use core::fmt;

use bitflags::bitflags;

pub use kind::PacketKind;
pub use rdata::{
    DomainName, NameFlags, NbAddress, NbFlags, NodeName, NodeStatus, NodeType, Rdata, Statistics,
};

use crate::error::{EmitError, ParseError};
use crate::name::{Pointers, ScopedName};
use crate::wire::Emit;
use crate::wire::cursor::{Reader, Writer};

/// Length of the name service header.
pub const HEADER_LEN: usize = 12;
/// Offset of the first question name: the target of the `C0 0C` pointer.
pub const QUESTION_OFFSET: u16 = 12;
/// Largest name service datagram nbtd sends (RFC 1002 §6 MAX_DATAGRAM_LENGTH, Samba's too).
pub const MAX_DATAGRAM_LEN: usize = 576;
/// The one class the name service uses: IN.
pub const CLASS_IN: u16 = 0x0001;

mod offset {
    pub const FLAGS: usize = 2;
}

/// OPCODE of the header (RFC 1002 §4.2.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Opcode {
    /// 0: name query and node status.
    Query,
    /// 5: name registration, overwrite, and conflict demand.
    Registration,
    /// 6: name release.
    Release,
    /// 7: wait for acknowledgement (responses only).
    Wack,
    /// 8: name refresh, the RFC's value.
    Refresh,
    /// 9: name refresh as Microsoft clients send it; treated like 8.
    RefreshAlt,
    /// 15: multi-homed registration (Microsoft extension, WINS only).
    MultiHomedRegistration,
}

impl Opcode {
    /// The 4-bit value.
    pub const fn value(self) -> u8 {
        match self {
            Opcode::Query => 0,
            Opcode::Registration => 5,
            Opcode::Release => 6,
            Opcode::Wack => 7,
            Opcode::Refresh => 8,
            Opcode::RefreshAlt => 9,
            Opcode::MultiHomedRegistration => 15,
        }
    }

    /// The opcode of a 4-bit value, if it is one the protocol defines.
    pub const fn from_value(v: u8) -> Option<Self> {
        Some(match v {
            0 => Opcode::Query,
            5 => Opcode::Registration,
            6 => Opcode::Release,
            7 => Opcode::Wack,
            8 => Opcode::Refresh,
            9 => Opcode::RefreshAlt,
            15 => Opcode::MultiHomedRegistration,
            _ => return None,
        })
    }

    /// Whether a request with this opcode carries its question name as `C0 0C` in the
    /// additional record.
    fn points_to_question(self) -> bool {
        !matches!(self, Opcode::Query | Opcode::Wack)
    }
}

bitflags! {
    /// NM_FLAGS of the header, in place in the 16-bit flags word (RFC 1002 §4.2.1.1).
    /// The two reserved bits are kept as received.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct NmFlags: u16 {
        /// AA: authoritative answer.
        const AUTHORITATIVE = 0x0400;
        /// TC: truncated.
        const TRUNCATED = 0x0200;
        /// RD: recursion desired.
        const RECURSION_DESIRED = 0x0100;
        /// RA: recursion available.
        const RECURSION_AVAILABLE = 0x0080;
        /// Reserved bit.
        const RESERVED_HIGH = 0x0040;
        /// Reserved bit.
        const RESERVED_LOW = 0x0020;
        /// B: the packet was broadcast.
        const BROADCAST = 0x0010;
    }
}

/// RCODE of the header (RFC 1002 §4.2.6 and others). Any 4-bit value is kept.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rcode(u8);

impl Rcode {
    /// 0: success.
    pub const OK: Rcode = Rcode(0);
    /// 1: FMT_ERR, the request was malformed.
    pub const FMT_ERR: Rcode = Rcode(1);
    /// 2: SRV_ERR, server failure.
    pub const SRV_ERR: Rcode = Rcode(2);
    /// 3: NAM_ERR, the name does not exist.
    pub const NAM_ERR: Rcode = Rcode(3);
    /// 4: IMP_ERR, unsupported request.
    pub const IMP_ERR: Rcode = Rcode(4);
    /// 5: RFS_ERR, refused by policy.
    pub const RFS_ERR: Rcode = Rcode(5);
    /// 6: ACT_ERR, the name is active and owned by another node.
    pub const ACT_ERR: Rcode = Rcode(6);
    /// 7: CFT_ERR, the name is in conflict.
    pub const CFT_ERR: Rcode = Rcode(7);

    /// An RCODE from its low 4 bits.
    pub const fn new(v: u8) -> Self {
        Rcode(v & 0x0F)
    }

    /// The 4-bit value.
    pub const fn value(self) -> u8 {
        self.0
    }

    /// The RFC's name for this code.
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "OK",
            1 => "FMT_ERR",
            2 => "SRV_ERR",
            3 => "NAM_ERR",
            4 => "IMP_ERR",
            5 => "RFS_ERR",
            6 => "ACT_ERR",
            7 => "CFT_ERR",
            _ => "undefined",
        }
    }
}

impl fmt::Debug for Rcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rcode({} {})", self.0, self.name())
    }
}

/// QUESTION_TYPE and RR_TYPE (RFC 1002 §4.2.1.2–3). Any value is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RrType(pub u16);

impl RrType {
    /// A: an IP address (redirect additional record).
    pub const A: RrType = RrType(0x0001);
    /// NS: a name server (redirect authority record).
    pub const NS: RrType = RrType(0x0002);
    /// NULL: negative responses and WACK.
    pub const NULL: RrType = RrType(0x000A);
    /// NB: NetBIOS general name service.
    pub const NB: RrType = RrType(0x0020);
    /// NBSTAT: node status.
    pub const NBSTAT: RrType = RrType(0x0021);
}

/// A question entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Question {
    /// QUESTION_NAME.
    pub name: ScopedName,
    /// QUESTION_TYPE: NB for a name query, NBSTAT for node status.
    pub qtype: RrType,
    /// QUESTION_CLASS: IN.
    pub qclass: u16,
}

/// The owner name of a resource record: a NetBIOS name, or, only in the obsolete redirect
/// response, a DNS-style domain name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RrName {
    /// A NetBIOS name (every record but the redirect's name server records).
    Netbios(ScopedName),
    /// A domain name (RFC 1002 §4.2.15 NSD_NAME).
    Domain(DomainName),
}

impl RrName {
    /// The NetBIOS name, if this is one.
    pub fn netbios(&self) -> Option<&ScopedName> {
        match self {
            RrName::Netbios(n) => Some(n),
            RrName::Domain(_) => None,
        }
    }

    fn wire_len(&self) -> usize {
        match self {
            RrName::Netbios(n) => n.wire_len(),
            RrName::Domain(d) => d.wire_len(),
        }
    }

    fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        match self {
            RrName::Netbios(n) => n.emit(w),
            RrName::Domain(d) => d.emit(w),
        }
    }
}

impl From<ScopedName> for RrName {
    fn from(n: ScopedName) -> Self {
        RrName::Netbios(n)
    }
}

/// A resource record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceRecord {
    /// RR_NAME.
    pub name: RrName,
    /// RR_TYPE.
    pub rr_type: RrType,
    /// RR_CLASS: IN.
    pub rr_class: u16,
    /// TTL in seconds; 0 means infinite.
    pub ttl: u32,
    /// RDATA, read according to RR_TYPE.
    pub rdata: Rdata,
}

impl ResourceRecord {
    /// The NB address entries, if this is an NB record.
    pub fn nb_addresses(&self) -> Option<&[NbAddress]> {
        match &self.rdata {
            Rdata::Nb(v) => Some(v),
            _ => None,
        }
    }

    /// The node status, if this is an NBSTAT record.
    pub fn node_status(&self) -> Option<&NodeStatus> {
        match &self.rdata {
            Rdata::NodeStatus(s) => Some(s),
            _ => None,
        }
    }
}

/// A name service message (RFC 1002 §4.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NameServicePacket {
    /// NAME_TRN_ID; a response copies the request's.
    pub trn_id: u16,
    /// R: this is a response.
    pub response: bool,
    /// OPCODE.
    pub opcode: Opcode,
    /// NM_FLAGS.
    pub flags: NmFlags,
    /// RCODE.
    pub rcode: Rcode,
    /// Question entries.
    pub questions: Vec<Question>,
    /// Answer records.
    pub answers: Vec<ResourceRecord>,
    /// Authority records.
    pub authority: Vec<ResourceRecord>,
    /// Additional records.
    pub additional: Vec<ResourceRecord>,
}

/// The 12-byte header alone, for a fast first look at a packet before parsing the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// NAME_TRN_ID.
    pub trn_id: u16,
    /// R.
    pub response: bool,
    /// OPCODE.
    pub opcode: Opcode,
    /// NM_FLAGS.
    pub flags: NmFlags,
    /// RCODE.
    pub rcode: Rcode,
    /// QDCOUNT.
    pub qdcount: u16,
    /// ANCOUNT.
    pub ancount: u16,
    /// NSCOUNT.
    pub nscount: u16,
    /// ARCOUNT.
    pub arcount: u16,
}

impl Header {
    /// Reads the header from the start of a packet.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let mut r = Reader::new(bytes);
        Self::read(&mut r)
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        let trn_id = r.u16_be("NAME_TRN_ID")?;
        let word = r.u16_be("flags word")?;
        let op = ((word >> 11) & 0x0F) as u8;
        let opcode = Opcode::from_value(op).ok_or_else(|| {
            ParseError::bad_value(
                "OPCODE",
                offset::FLAGS,
                u64::from(op),
                "0, 5, 6, 7, 8, 9 or 15",
            )
        })?;
        Ok(Header {
            trn_id,
            response: word & 0x8000 != 0,
            opcode,
            flags: NmFlags::from_bits_retain(word & 0x07F0),
            rcode: Rcode::new((word & 0x000F) as u8),
            qdcount: r.u16_be("QDCOUNT")?,
            ancount: r.u16_be("ANCOUNT")?,
            nscount: r.u16_be("NSCOUNT")?,
            arcount: r.u16_be("ARCOUNT")?,
        })
    }

    /// The 16-bit flags word: R, OPCODE, NM_FLAGS and RCODE.
    pub fn flags_word(&self) -> u16 {
        flags_word(self.response, self.opcode, self.flags, self.rcode)
    }
}

fn flags_word(response: bool, opcode: Opcode, flags: NmFlags, rcode: Rcode) -> u16 {
    (u16::from(response) << 15)
        | (u16::from(opcode.value()) << 11)
        | (flags.bits() & 0x07F0)
        | u16::from(rcode.value())
}

/// Smallest question: a 2-byte pointer, type and class.
const MIN_QUESTION_LEN: usize = 6;
/// Smallest record: a 2-byte pointer, type, class, TTL and RDLENGTH.
const MIN_RECORD_LEN: usize = 12;

fn section_capacity(count: u16, remaining: usize, min: usize) -> usize {
    usize::from(count).min(remaining / min)
}

impl NameServicePacket {
    /// Parses a whole name service datagram. Bytes after the last record are ignored, as Samba
    /// does.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let mut r = Reader::new(bytes);
        let h = Header::read(&mut r)?;
        let mut questions =
            Vec::with_capacity(section_capacity(h.qdcount, r.remaining(), MIN_QUESTION_LEN));
        for _ in 0..h.qdcount {
            let name = ScopedName::parse(&mut r, Pointers::Follow, "QUESTION_NAME")?;
            questions.push(Question {
                name,
                qtype: RrType(r.u16_be("QUESTION_TYPE")?),
                qclass: r.u16_be("QUESTION_CLASS")?,
            });
        }
        // WACK carries the request's flags word in an NB (or NULL) record: keep it as bytes.
        let raw_nb = h.opcode == Opcode::Wack;
        let section = |count: u16, r: &mut Reader<'_>| -> Result<Vec<ResourceRecord>, ParseError> {
            let mut v = Vec::with_capacity(section_capacity(count, r.remaining(), MIN_RECORD_LEN));
            for _ in 0..count {
                v.push(read_record(r, raw_nb)?);
            }
            Ok(v)
        };
        let answers = section(h.ancount, &mut r)?;
        let authority = section(h.nscount, &mut r)?;
        let additional = section(h.arcount, &mut r)?;
        Ok(NameServicePacket {
            trn_id: h.trn_id,
            response: h.response,
            opcode: h.opcode,
            flags: h.flags,
            rcode: h.rcode,
            questions,
            answers,
            authority,
            additional,
        })
    }

    /// The header of this packet.
    pub fn header(&self) -> Header {
        let count = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
        Header {
            trn_id: self.trn_id,
            response: self.response,
            opcode: self.opcode,
            flags: self.flags,
            rcode: self.rcode,
            qdcount: count(self.questions.len()),
            ancount: count(self.answers.len()),
            nscount: count(self.authority.len()),
            arcount: count(self.additional.len()),
        }
    }

    /// The first question, which is the only one in every packet the RFC defines.
    pub fn question(&self) -> Option<&Question> {
        self.questions.first()
    }

    /// Whether the additional record at `index` is written as the `C0 0C` pointer.
    fn compress_additional(&self, index: usize) -> bool {
        index == 0
            && !self.response
            && self.opcode.points_to_question()
            && matches!(
                (self.questions.first(), self.additional.first()),
                (Some(q), Some(ResourceRecord { name: RrName::Netbios(n), .. })) if *n == q.name
            )
    }
}

fn read_record(r: &mut Reader<'_>, raw_nb: bool) -> Result<ResourceRecord, ParseError> {
    let at = r.pos();
    let name = match ScopedName::parse(r, Pointers::Follow, "RR_NAME") {
        Ok(n) => RrName::Netbios(n),
        Err(e) => {
            // Only the redirect response carries domain names; accept one if the labels are
            // well-formed DNS, and otherwise report the NetBIOS error, which is more telling.
            r.seek(at);
            match DomainName::parse(r, "RR_NAME") {
                Ok(d) if !d.0.is_empty() => RrName::Domain(d),
                _ => return Err(e),
            }
        }
    };
    let rr_type = RrType(r.u16_be("RR_TYPE")?);
    let rr_class = r.u16_be("RR_CLASS")?;
    let ttl = r.u32_be("TTL")?;
    let len = usize::from(r.u16_be("RDLENGTH")?);
    let start = r.pos();
    r.take(len, "RDATA")?;
    let rdata = Rdata::parse(r.buffer(), start, len, rr_type, raw_nb)?;
    Ok(ResourceRecord {
        name,
        rr_type,
        rr_class,
        ttl,
        rdata,
    })
}

fn record_len(rr: &ResourceRecord, compressed: bool) -> usize {
    let name = if compressed { 2 } else { rr.name.wire_len() };
    name + 10 + rr.rdata.wire_len()
}

impl Emit for NameServicePacket {
    fn buffer_len(&self) -> usize {
        let q: usize = self.questions.iter().map(|q| q.name.wire_len() + 4).sum();
        let rrs = |v: &[ResourceRecord], add: bool| -> usize {
            v.iter()
                .enumerate()
                .map(|(i, rr)| record_len(rr, add && self.compress_additional(i)))
                .sum()
        };
        HEADER_LEN
            + q
            + rrs(&self.answers, false)
            + rrs(&self.authority, false)
            + rrs(&self.additional, true)
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        let count = |n: usize, field: &'static str| {
            u16::try_from(n).map_err(|_| EmitError::FieldTooLarge {
                field,
                why: "more than 65535 entries",
            })
        };
        let mut w = Writer::new(buf);
        w.u16_be(self.trn_id)?;
        w.u16_be(flags_word(
            self.response,
            self.opcode,
            self.flags,
            self.rcode,
        ))?;
        w.u16_be(count(self.questions.len(), "QDCOUNT")?)?;
        w.u16_be(count(self.answers.len(), "ANCOUNT")?)?;
        w.u16_be(count(self.authority.len(), "NSCOUNT")?)?;
        w.u16_be(count(self.additional.len(), "ARCOUNT")?)?;
        for q in &self.questions {
            q.name.emit(&mut w)?;
            w.u16_be(q.qtype.0)?;
            w.u16_be(q.qclass)?;
        }
        for (section, add) in [
            (&self.answers, false),
            (&self.authority, false),
            (&self.additional, true),
        ] {
            for (i, rr) in section.iter().enumerate() {
                if add && self.compress_additional(i) {
                    w.u16_be(0xC000 | QUESTION_OFFSET)?;
                } else {
                    rr.name.emit(&mut w)?;
                }
                w.u16_be(rr.rr_type.0)?;
                w.u16_be(rr.rr_class)?;
                w.u32_be(rr.ttl)?;
                let len =
                    u16::try_from(rr.rdata.wire_len()).map_err(|_| EmitError::FieldTooLarge {
                        field: "RDLENGTH",
                        why: "record data longer than 65535 bytes",
                    })?;
                w.u16_be(len)?;
                rr.rdata.emit(&mut w)?;
            }
        }
        Ok(w.pos())
    }
}

#[cfg(test)]
mod tests;
