//! Datagram service packets (UDP 138), RFC 1002 §4.4.
//!
//! All header integers are big-endian. The three packet shapes are:
//! - [`DirectDatagram`]: DIRECT_UNIQUE (0x10), DIRECT_GROUP (0x11) and BROADCAST (0x12)
//!   datagrams, with the 14-byte header, two names and the user data (§4.4.2);
//! - [`DatagramErrorPacket`]: DATAGRAM ERROR (0x13), the 10-byte header and an error code (§4.4.3);
//! - [`DatagramQuery`]: DATAGRAM QUERY REQUEST (0x14) and its positive (0x15) and negative (0x16)
//!   responses, the 10-byte header and a destination name (§4.4.4).
//!
//! [`Datagram`] parses any of them.
//!
//! # DGM_LENGTH
//!
//! RFC 1002 §4.4.1 defines DGM_LENGTH as the bytes after the 14-byte header: SOURCE_NAME,
//! DESTINATION_NAME and USER_DATA. Samba computes exactly that (`build_dgram` in
//! `source3/libsmb/nmblib.c` sets `dgm_length = offset - 14` after writing names and data), and
//! every datagram in the Samba 4.17 captures carries `DGM_LENGTH == packet length - 14` (for
//! instance the 188-byte election request carries `0x00ae` = 174; the `0x008a` that precedes it is
//! SOURCE_PORT 138, not DGM_LENGTH).
//!
//! So DGM_LENGTH is not stored: [`DirectDatagram`] computes it when it emits, and its user data is
//! every byte after the names up to the end of the packet. On parse the received DGM_LENGTH is not
//! trusted, for memory or for bounds, and a value that disagrees with the real length is accepted,
//! as Samba's `parse_dgram` accepts it (it never reads the field); such a packet emits back with
//! the corrected length. Keeping the wire value would make every constructed datagram carry a
//! length its builder must compute by hand, for no receiver that reads it.

use std::net::Ipv4Addr;

use bitflags::bitflags;

use crate::error::{EmitError, ParseError};
use crate::name::{Pointers, ScopedName};
use crate::wire::Emit;
use crate::wire::cursor::{Reader, Writer};

/// The UDP port of the datagram service (RFC 1002 §6, DGM_SRVC_UDP_PORT).
pub const DGM_SRVC_UDP_PORT: u16 = 138;
/// Length of the header of a direct or broadcast datagram, DGM_LENGTH and PACKET_OFFSET included
/// (RFC 1002 §4.4.1).
pub const DIRECT_HEADER_LEN: usize = 14;
/// Length of the header shared by every datagram packet: MSG_TYPE to SOURCE_PORT.
pub const COMMON_HEADER_LEN: usize = 10;
/// Length of a DATAGRAM ERROR packet: the common header and ERROR_CODE (RFC 1002 §4.4.3).
pub const ERROR_PACKET_LEN: usize = COMMON_HEADER_LEN + 1;
/// MAX_DATAGRAM_LENGTH: the RFC's default largest IP datagram, used to decide on fragmenting
/// (RFC 1002 §6).
pub const MAX_DATAGRAM_LENGTH: usize = 576;

/// MSG_TYPE values (RFC 1002 §4.4.1).
pub mod msg_type {
    /// DIRECT_UNIQUE DATAGRAM.
    pub const DIRECT_UNIQUE: u8 = 0x10;
    /// DIRECT_GROUP DATAGRAM.
    pub const DIRECT_GROUP: u8 = 0x11;
    /// BROADCAST DATAGRAM.
    pub const BROADCAST: u8 = 0x12;
    /// DATAGRAM ERROR.
    pub const DATAGRAM_ERROR: u8 = 0x13;
    /// DATAGRAM QUERY REQUEST.
    pub const DATAGRAM_QUERY_REQUEST: u8 = 0x14;
    /// DATAGRAM POSITIVE QUERY RESPONSE.
    pub const DATAGRAM_POSITIVE_QUERY_RESPONSE: u8 = 0x15;
    /// DATAGRAM NEGATIVE QUERY RESPONSE.
    pub const DATAGRAM_NEGATIVE_QUERY_RESPONSE: u8 = 0x16;
}

bitflags! {
    /// FLAGS of a datagram header (RFC 1002 §4.4.1): `M` (more fragments), `F` (first fragment)
    /// and the 2-bit source end-node type (`SNT`, mask 0x0C), read with
    /// [`node_type`](Self::node_type). Reserved bits (0xF0) are kept as received so the byte
    /// round-trips; receivers ignore them.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct DatagramFlags: u8 {
        /// M: more fragments of this datagram follow.
        const MORE = 0x01;
        /// F: this is the first fragment (set on an unfragmented datagram too).
        const FIRST = 0x02;
    }
}

/// SNT, the source end-node type in FLAGS (RFC 1002 §4.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceNodeType {
    /// B node (0b00).
    BNode,
    /// P node (0b01).
    PNode,
    /// M node (0b10); Samba's nmbd sends this on every mailslot datagram.
    MNode,
    /// NBDD (0b11).
    Nbdd,
}

impl DatagramFlags {
    /// The mask of the SNT (source end-node type) bits.
    pub const SNT_MASK: u8 = 0x0C;

    /// Flags with the node type and fragment bits given; reserved bits zero.
    pub fn new(node_type: SourceNodeType, first: bool, more: bool) -> Self {
        let mut f = DatagramFlags::empty().with_node_type(node_type);
        f.set(DatagramFlags::FIRST, first);
        f.set(DatagramFlags::MORE, more);
        f
    }

    /// The source end-node type (SNT).
    pub fn node_type(self) -> SourceNodeType {
        match (self.bits() & Self::SNT_MASK) >> 2 {
            0 => SourceNodeType::BNode,
            1 => SourceNodeType::PNode,
            2 => SourceNodeType::MNode,
            _ => SourceNodeType::Nbdd,
        }
    }

    /// The same flags with another source end-node type.
    pub fn with_node_type(self, node_type: SourceNodeType) -> Self {
        let snt = match node_type {
            SourceNodeType::BNode => 0u8,
            SourceNodeType::PNode => 1,
            SourceNodeType::MNode => 2,
            SourceNodeType::Nbdd => 3,
        };
        DatagramFlags::from_bits_retain((self.bits() & !Self::SNT_MASK) | (snt << 2))
    }

    /// Whether F (first fragment) is set.
    pub fn is_first(self) -> bool {
        self.contains(DatagramFlags::FIRST)
    }

    /// Whether M (more fragments follow) is set.
    pub fn is_more(self) -> bool {
        self.contains(DatagramFlags::MORE)
    }

    /// Whether this packet is a whole datagram: first fragment and no more to come.
    pub fn is_unfragmented(self) -> bool {
        self.is_first() && !self.is_more()
    }
}

/// The fields shared by every datagram packet after MSG_TYPE (RFC 1002 §4.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DatagramHeader {
    /// FLAGS.
    pub flags: DatagramFlags,
    /// DGM_ID: chosen by the sender, the same for every fragment of one datagram.
    pub dgm_id: u16,
    /// SOURCE_IP: the sender's IPv4 address.
    pub source_ip: Ipv4Addr,
    /// SOURCE_PORT: the sender's UDP port, normally 138.
    pub source_port: u16,
}

impl DatagramHeader {
    /// Reads FLAGS to SOURCE_PORT; the reader stands after MSG_TYPE.
    fn parse(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        let flags = DatagramFlags::from_bits_retain(r.u8("FLAGS")?);
        let dgm_id = r.u16_be("DGM_ID")?;
        let source_ip = Ipv4Addr::from(r.array::<4>("SOURCE_IP")?);
        let source_port = r.u16_be("SOURCE_PORT")?;
        Ok(DatagramHeader {
            flags,
            dgm_id,
            source_ip,
            source_port,
        })
    }

    /// Writes MSG_TYPE to SOURCE_PORT.
    fn emit(&self, msg_type: u8, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.u8(msg_type)?;
        w.u8(self.flags.bits())?;
        w.u16_be(self.dgm_id)?;
        w.put(&self.source_ip.octets())?;
        w.u16_be(self.source_port)
    }
}

/// MSG_TYPE of a datagram that carries user data (RFC 1002 §4.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DirectType {
    /// 0x10 DIRECT_UNIQUE DATAGRAM: to a unique name.
    DirectUnique,
    /// 0x11 DIRECT_GROUP DATAGRAM: to a group name.
    DirectGroup,
    /// 0x12 BROADCAST DATAGRAM: to every NetBIOS node.
    Broadcast,
}

impl DirectType {
    /// The MSG_TYPE byte.
    pub fn msg_type(self) -> u8 {
        match self {
            Self::DirectUnique => msg_type::DIRECT_UNIQUE,
            Self::DirectGroup => msg_type::DIRECT_GROUP,
            Self::Broadcast => msg_type::BROADCAST,
        }
    }

    fn from_u8(v: u8) -> Option<Self> {
        match v {
            msg_type::DIRECT_UNIQUE => Some(Self::DirectUnique),
            msg_type::DIRECT_GROUP => Some(Self::DirectGroup),
            msg_type::BROADCAST => Some(Self::Broadcast),
            _ => None,
        }
    }
}

/// A DIRECT_UNIQUE, DIRECT_GROUP or BROADCAST datagram (RFC 1002 §4.4.2).
///
/// DGM_LENGTH is computed on emit and not stored; see the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DirectDatagram {
    /// MSG_TYPE.
    pub msg_type: DirectType,
    /// FLAGS, DGM_ID, SOURCE_IP, SOURCE_PORT.
    pub header: DatagramHeader,
    /// PACKET_OFFSET: where this fragment's user data starts within the whole datagram's.
    pub packet_offset: u16,
    /// SOURCE_NAME.
    pub source_name: ScopedName,
    /// DESTINATION_NAME.
    pub destination_name: ScopedName,
    /// USER_DATA: for browser traffic an SMB TRANSACTION mailslot write.
    pub user_data: Vec<u8>,
}

impl DirectDatagram {
    /// Parses a direct or broadcast datagram; the user data runs to the end of `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let mut r = Reader::new(bytes);
        let t = r.u8("MSG_TYPE")?;
        let msg_type = DirectType::from_u8(t).ok_or_else(|| {
            ParseError::bad_value(
                "MSG_TYPE",
                0,
                u64::from(t),
                "0x10, 0x11 or 0x12 (a datagram with user data)",
            )
        })?;
        Self::parse_after_type(msg_type, &mut r)
    }

    fn parse_after_type(msg_type: DirectType, r: &mut Reader<'_>) -> Result<Self, ParseError> {
        let header = DatagramHeader::parse(r)?;
        // DGM_LENGTH is read for its bounds check only; see the module documentation.
        let _dgm_length = r.u16_be("DGM_LENGTH")?;
        let packet_offset = r.u16_be("PACKET_OFFSET")?;
        let source_name = ScopedName::parse(r, Pointers::Reject, "SOURCE_NAME")?;
        let destination_name = ScopedName::parse(r, Pointers::Reject, "DESTINATION_NAME")?;
        let user_data = r.take_rest().to_vec();
        Ok(DirectDatagram {
            msg_type,
            header,
            packet_offset,
            source_name,
            destination_name,
            user_data,
        })
    }

    /// DGM_LENGTH as it will be emitted: names plus user data (RFC 1002 §4.4.1).
    pub fn dgm_length(&self) -> Result<u16, EmitError> {
        let len = self
            .source_name
            .wire_len()
            .saturating_add(self.destination_name.wire_len())
            .saturating_add(self.user_data.len());
        u16::try_from(len).map_err(|_| EmitError::FieldTooLarge {
            field: "DGM_LENGTH",
            why: "names and user data exceed 65535 bytes",
        })
    }
}

impl Emit for DirectDatagram {
    fn buffer_len(&self) -> usize {
        DIRECT_HEADER_LEN
            .saturating_add(self.source_name.wire_len())
            .saturating_add(self.destination_name.wire_len())
            .saturating_add(self.user_data.len())
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        let dgm_length = self.dgm_length()?;
        let mut w = Writer::new(buf);
        self.header.emit(self.msg_type.msg_type(), &mut w)?;
        w.u16_be(dgm_length)?;
        w.u16_be(self.packet_offset)?;
        self.source_name.emit(&mut w)?;
        self.destination_name.emit(&mut w)?;
        w.put(&self.user_data)?;
        Ok(w.pos())
    }
}

/// ERROR_CODE of a DATAGRAM ERROR packet (RFC 1002 §4.4.3); unknown codes are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatagramErrorCode {
    /// 0x82 DESTINATION NAME NOT PRESENT.
    DestinationNameNotPresent,
    /// 0x83 INVALID SOURCE NAME FORMAT.
    InvalidSourceNameFormat,
    /// 0x84 INVALID DESTINATION NAME FORMAT.
    InvalidDestinationNameFormat,
    /// A code the RFC does not define.
    Unknown(u8),
}

impl DatagramErrorCode {
    /// The code for an ERROR_CODE byte.
    pub fn from_u8(v: u8) -> Self {
        match v {
            0x82 => Self::DestinationNameNotPresent,
            0x83 => Self::InvalidSourceNameFormat,
            0x84 => Self::InvalidDestinationNameFormat,
            other => Self::Unknown(other),
        }
    }

    /// The ERROR_CODE byte.
    pub fn to_u8(self) -> u8 {
        match self {
            Self::DestinationNameNotPresent => 0x82,
            Self::InvalidSourceNameFormat => 0x83,
            Self::InvalidDestinationNameFormat => 0x84,
            Self::Unknown(v) => v,
        }
    }
}

/// A DATAGRAM ERROR packet, MSG_TYPE 0x13 (RFC 1002 §4.4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DatagramErrorPacket {
    /// FLAGS, DGM_ID, SOURCE_IP, SOURCE_PORT.
    pub header: DatagramHeader,
    /// ERROR_CODE.
    pub error_code: DatagramErrorCode,
}

impl DatagramErrorPacket {
    /// Parses a DATAGRAM ERROR packet of exactly 11 bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let mut r = Reader::new(bytes);
        let t = r.u8("MSG_TYPE")?;
        if t != msg_type::DATAGRAM_ERROR {
            return Err(ParseError::bad_value(
                "MSG_TYPE",
                0,
                u64::from(t),
                "0x13 (DATAGRAM ERROR)",
            ));
        }
        Self::parse_after_type(&mut r)
    }

    fn parse_after_type(r: &mut Reader<'_>) -> Result<Self, ParseError> {
        let header = DatagramHeader::parse(r)?;
        let error_code = DatagramErrorCode::from_u8(r.u8("ERROR_CODE")?);
        r.finish("ERROR_CODE")?;
        Ok(DatagramErrorPacket { header, error_code })
    }
}

impl Emit for DatagramErrorPacket {
    fn buffer_len(&self) -> usize {
        ERROR_PACKET_LEN
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        let mut w = Writer::new(buf);
        self.header.emit(msg_type::DATAGRAM_ERROR, &mut w)?;
        w.u8(self.error_code.to_u8())?;
        Ok(w.pos())
    }
}

/// MSG_TYPE of a datagram query packet (RFC 1002 §4.4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryType {
    /// 0x14 DATAGRAM QUERY REQUEST: can the NBDD relay to DESTINATION_NAME?
    Request,
    /// 0x15 DATAGRAM POSITIVE QUERY RESPONSE.
    PositiveResponse,
    /// 0x16 DATAGRAM NEGATIVE QUERY RESPONSE.
    NegativeResponse,
}

impl QueryType {
    /// The MSG_TYPE byte.
    pub fn msg_type(self) -> u8 {
        match self {
            Self::Request => msg_type::DATAGRAM_QUERY_REQUEST,
            Self::PositiveResponse => msg_type::DATAGRAM_POSITIVE_QUERY_RESPONSE,
            Self::NegativeResponse => msg_type::DATAGRAM_NEGATIVE_QUERY_RESPONSE,
        }
    }

    fn from_u8(v: u8) -> Option<Self> {
        match v {
            msg_type::DATAGRAM_QUERY_REQUEST => Some(Self::Request),
            msg_type::DATAGRAM_POSITIVE_QUERY_RESPONSE => Some(Self::PositiveResponse),
            msg_type::DATAGRAM_NEGATIVE_QUERY_RESPONSE => Some(Self::NegativeResponse),
            _ => None,
        }
    }
}

/// A DATAGRAM QUERY REQUEST or a positive or negative query response (RFC 1002 §4.4.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DatagramQuery {
    /// MSG_TYPE.
    pub msg_type: QueryType,
    /// FLAGS, DGM_ID, SOURCE_IP, SOURCE_PORT.
    pub header: DatagramHeader,
    /// DESTINATION_NAME.
    pub destination_name: ScopedName,
}

impl DatagramQuery {
    /// Parses a query request or response; nothing may follow DESTINATION_NAME.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let mut r = Reader::new(bytes);
        let t = r.u8("MSG_TYPE")?;
        let msg_type = QueryType::from_u8(t).ok_or_else(|| {
            ParseError::bad_value(
                "MSG_TYPE",
                0,
                u64::from(t),
                "0x14, 0x15 or 0x16 (a datagram query)",
            )
        })?;
        Self::parse_after_type(msg_type, &mut r)
    }

    fn parse_after_type(msg_type: QueryType, r: &mut Reader<'_>) -> Result<Self, ParseError> {
        let header = DatagramHeader::parse(r)?;
        let destination_name = ScopedName::parse(r, Pointers::Reject, "DESTINATION_NAME")?;
        r.finish("DESTINATION_NAME")?;
        Ok(DatagramQuery {
            msg_type,
            header,
            destination_name,
        })
    }
}

impl Emit for DatagramQuery {
    fn buffer_len(&self) -> usize {
        COMMON_HEADER_LEN.saturating_add(self.destination_name.wire_len())
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        let mut w = Writer::new(buf);
        self.header.emit(self.msg_type.msg_type(), &mut w)?;
        self.destination_name.emit(&mut w)?;
        Ok(w.pos())
    }
}

/// Any datagram service packet (RFC 1002 §4.4), chosen by MSG_TYPE.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Datagram {
    /// 0x10, 0x11, 0x12: a datagram with user data.
    Direct(DirectDatagram),
    /// 0x13: DATAGRAM ERROR.
    Error(DatagramErrorPacket),
    /// 0x14, 0x15, 0x16: a datagram query.
    Query(DatagramQuery),
}

impl Datagram {
    /// Parses any datagram service packet.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let mut r = Reader::new(bytes);
        let t = r.u8("MSG_TYPE")?;
        if let Some(d) = DirectType::from_u8(t) {
            DirectDatagram::parse_after_type(d, &mut r).map(Datagram::Direct)
        } else if t == msg_type::DATAGRAM_ERROR {
            DatagramErrorPacket::parse_after_type(&mut r).map(Datagram::Error)
        } else if let Some(q) = QueryType::from_u8(t) {
            DatagramQuery::parse_after_type(q, &mut r).map(Datagram::Query)
        } else {
            Err(ParseError::bad_value(
                "MSG_TYPE",
                0,
                u64::from(t),
                "a datagram type from 0x10 to 0x16",
            ))
        }
    }

    /// The MSG_TYPE byte.
    pub fn msg_type(&self) -> u8 {
        match self {
            Self::Direct(d) => d.msg_type.msg_type(),
            Self::Error(_) => msg_type::DATAGRAM_ERROR,
            Self::Query(q) => q.msg_type.msg_type(),
        }
    }

    /// FLAGS, DGM_ID, SOURCE_IP and SOURCE_PORT.
    pub fn header(&self) -> &DatagramHeader {
        match self {
            Self::Direct(d) => &d.header,
            Self::Error(e) => &e.header,
            Self::Query(q) => &q.header,
        }
    }
}

impl Emit for Datagram {
    fn buffer_len(&self) -> usize {
        match self {
            Self::Direct(d) => d.buffer_len(),
            Self::Error(e) => e.buffer_len(),
            Self::Query(q) => q.buffer_len(),
        }
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        match self {
            Self::Direct(d) => d.emit(buf),
            Self::Error(e) => e.emit(buf),
            Self::Query(q) => q.emit(buf),
        }
    }
}

#[cfg(test)]
pub(crate) mod strategy {
    //! Proptest strategies for datagram packets.
    use super::*;
    use crate::name::strategy::scoped_name;
    use proptest::prelude::*;

    /// Any datagram header, reserved flag bits included.
    pub fn header() -> impl Strategy<Value = DatagramHeader> {
        (any::<u8>(), any::<u16>(), any::<[u8; 4]>(), any::<u16>()).prop_map(
            |(flags, dgm_id, ip, source_port)| DatagramHeader {
                flags: DatagramFlags::from_bits_retain(flags),
                dgm_id,
                source_ip: Ipv4Addr::from(ip),
                source_port,
            },
        )
    }

    /// Any direct or broadcast datagram with up to 600 bytes of user data.
    pub fn direct() -> impl Strategy<Value = DirectDatagram> {
        (
            prop_oneof![
                Just(DirectType::DirectUnique),
                Just(DirectType::DirectGroup),
                Just(DirectType::Broadcast)
            ],
            header(),
            any::<u16>(),
            scoped_name(),
            scoped_name(),
            proptest::collection::vec(any::<u8>(), 0..600),
        )
            .prop_map(
                |(msg_type, header, packet_offset, source_name, destination_name, user_data)| {
                    DirectDatagram {
                        msg_type,
                        header,
                        packet_offset,
                        source_name,
                        destination_name,
                        user_data,
                    }
                },
            )
    }

    /// Any datagram service packet.
    pub fn datagram() -> impl Strategy<Value = Datagram> {
        prop_oneof![
            direct().prop_map(Datagram::Direct),
            (header(), any::<u8>()).prop_map(|(header, c)| Datagram::Error(DatagramErrorPacket {
                header,
                error_code: DatagramErrorCode::from_u8(c),
            })),
            (
                prop_oneof![
                    Just(QueryType::Request),
                    Just(QueryType::PositiveResponse),
                    Just(QueryType::NegativeResponse)
                ],
                header(),
                scoped_name()
            )
                .prop_map(|(msg_type, header, destination_name)| {
                    Datagram::Query(DatagramQuery {
                        msg_type,
                        header,
                        destination_name,
                    })
                }),
        ]
    }
}

#[cfg(test)]
mod tests;
