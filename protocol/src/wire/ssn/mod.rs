//! Session service packets (TCP 139), RFC 1002 §4.3.
//!
//! Every packet starts with a 4-byte header: TYPE, FLAGS and a 16-bit LENGTH that the E bit of
//! FLAGS extends to 17 bits (RFC 1002 §4.3.1). A TCP reader first parses the header alone with
//! [`SessionHeader::parse`] to learn how many bytes the frame holds, then parses the whole frame
//! with [`SessionPacket::parse`] (or [`SessionPacket::parse_prefix`] on a buffer that may hold
//! several frames).

use std::net::Ipv4Addr;

use crate::error::{EmitError, ParseError};
use crate::name::{Pointers, ScopedName};
use crate::wire::Emit;
use crate::wire::cursor::{Reader, Writer};

/// The TCP port of the session service (RFC 1002 §6, SSN_SRVC_TCP_PORT).
pub const SSN_SRVC_TCP_PORT: u16 = 139;
/// Length of the session packet header: TYPE, FLAGS, LENGTH (RFC 1002 §4.3.1).
pub const HEADER_LEN: usize = 4;
/// Largest LENGTH a packet can carry: 17 bits with the E flag (RFC 1002 §4.3.1).
pub const MAX_LENGTH: u32 = 0x1_FFFF;
/// The E (length extension) bit of FLAGS: the 17th, most significant, bit of LENGTH.
pub const FLAG_E: u8 = 0x01;
/// Length of a RETARGET SESSION RESPONSE trailer: IPv4 address and port (RFC 1002 §4.3.5).
const RETARGET_LEN: u32 = 6;

/// Session packet TYPE values (RFC 1002 §4.3.1).
pub mod packet_type {
    /// SESSION MESSAGE: the trailer is user data (an SMB message).
    pub const SESSION_MESSAGE: u8 = 0x00;
    /// SESSION REQUEST: CALLED_NAME and CALLING_NAME.
    pub const SESSION_REQUEST: u8 = 0x81;
    /// POSITIVE SESSION RESPONSE: no trailer.
    pub const POSITIVE_SESSION_RESPONSE: u8 = 0x82;
    /// NEGATIVE SESSION RESPONSE: one ERROR_CODE byte.
    pub const NEGATIVE_SESSION_RESPONSE: u8 = 0x83;
    /// RETARGET SESSION RESPONSE: RETARGET_IP_ADDRESS and PORT.
    pub const RETARGET_SESSION_RESPONSE: u8 = 0x84;
    /// SESSION KEEP ALIVE: no trailer.
    pub const SESSION_KEEP_ALIVE: u8 = 0x85;
}

/// The TYPE byte of a session packet (RFC 1002 §4.3.1); unknown values are kept so a stream
/// reader can still skip the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionPacketType {
    /// 0x00 SESSION MESSAGE.
    SessionMessage,
    /// 0x81 SESSION REQUEST.
    SessionRequest,
    /// 0x82 POSITIVE SESSION RESPONSE.
    PositiveSessionResponse,
    /// 0x83 NEGATIVE SESSION RESPONSE.
    NegativeSessionResponse,
    /// 0x84 RETARGET SESSION RESPONSE.
    RetargetSessionResponse,
    /// 0x85 SESSION KEEP ALIVE.
    SessionKeepAlive,
    /// A TYPE the RFC does not define.
    Unknown(u8),
}

impl SessionPacketType {
    /// The type for a TYPE byte.
    pub fn from_u8(v: u8) -> Self {
        match v {
            packet_type::SESSION_MESSAGE => Self::SessionMessage,
            packet_type::SESSION_REQUEST => Self::SessionRequest,
            packet_type::POSITIVE_SESSION_RESPONSE => Self::PositiveSessionResponse,
            packet_type::NEGATIVE_SESSION_RESPONSE => Self::NegativeSessionResponse,
            packet_type::RETARGET_SESSION_RESPONSE => Self::RetargetSessionResponse,
            packet_type::SESSION_KEEP_ALIVE => Self::SessionKeepAlive,
            other => Self::Unknown(other),
        }
    }

    /// The TYPE byte.
    pub fn to_u8(self) -> u8 {
        match self {
            Self::SessionMessage => packet_type::SESSION_MESSAGE,
            Self::SessionRequest => packet_type::SESSION_REQUEST,
            Self::PositiveSessionResponse => packet_type::POSITIVE_SESSION_RESPONSE,
            Self::NegativeSessionResponse => packet_type::NEGATIVE_SESSION_RESPONSE,
            Self::RetargetSessionResponse => packet_type::RETARGET_SESSION_RESPONSE,
            Self::SessionKeepAlive => packet_type::SESSION_KEEP_ALIVE,
            Self::Unknown(v) => v,
        }
    }
}

/// The 4-byte session packet header: TYPE and the 17-bit LENGTH (RFC 1002 §4.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionHeader {
    /// TYPE.
    pub packet_type: SessionPacketType,
    /// LENGTH: bytes that follow the header, at most [`MAX_LENGTH`].
    pub length: u32,
}

impl SessionHeader {
    /// Parses the header from the first 4 bytes of `bytes` (anything after them is ignored), so a
    /// stream reader learns the frame length before it holds the whole frame.
    ///
    /// FLAGS bits other than E are reserved and must be zero (RFC 1002 §4.3.1).
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let mut r = Reader::new(bytes);
        let packet_type = SessionPacketType::from_u8(r.u8("TYPE")?);
        let flags = r.u8("FLAGS")?;
        if flags & !FLAG_E != 0 {
            return Err(ParseError::bad_value(
                "FLAGS",
                1,
                u64::from(flags),
                "0x00 or 0x01: bits other than E are reserved and zero",
            ));
        }
        let low = r.u16_be("LENGTH")?;
        let length = (u32::from(flags & FLAG_E) << 16) | u32::from(low);
        Ok(SessionHeader {
            packet_type,
            length,
        })
    }

    /// Bytes of the whole frame: header plus LENGTH.
    pub fn frame_len(&self) -> usize {
        HEADER_LEN.saturating_add(self.length as usize)
    }
}

impl Emit for SessionHeader {
    fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        if self.length > MAX_LENGTH {
            return Err(EmitError::FieldTooLarge {
                field: "LENGTH",
                why: "session packets carry at most 0x1FFFF bytes",
            });
        }
        let mut w = Writer::new(buf);
        w.u8(self.packet_type.to_u8())?;
        w.u8((self.length >> 16) as u8 & FLAG_E)?;
        w.u16_be((self.length & 0xFFFF) as u16)?;
        Ok(w.pos())
    }
}

/// ERROR_CODE of a NEGATIVE SESSION RESPONSE (RFC 1002 §4.3.4); unknown codes are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NegativeResponseCode {
    /// 0x80 Not listening on called name.
    NotListeningOnCalledName,
    /// 0x81 Not listening for calling name.
    NotListeningForCallingName,
    /// 0x82 Called name not present.
    CalledNameNotPresent,
    /// 0x83 Called name present, but insufficient resources.
    InsufficientResources,
    /// 0x8F Unspecified error.
    UnspecifiedError,
    /// A code the RFC does not define.
    Unknown(u8),
}

impl NegativeResponseCode {
    /// The code for an ERROR_CODE byte.
    pub fn from_u8(v: u8) -> Self {
        match v {
            0x80 => Self::NotListeningOnCalledName,
            0x81 => Self::NotListeningForCallingName,
            0x82 => Self::CalledNameNotPresent,
            0x83 => Self::InsufficientResources,
            0x8F => Self::UnspecifiedError,
            other => Self::Unknown(other),
        }
    }

    /// The ERROR_CODE byte.
    pub fn to_u8(self) -> u8 {
        match self {
            Self::NotListeningOnCalledName => 0x80,
            Self::NotListeningForCallingName => 0x81,
            Self::CalledNameNotPresent => 0x82,
            Self::InsufficientResources => 0x83,
            Self::UnspecifiedError => 0x8F,
            Self::Unknown(v) => v,
        }
    }
}

/// The trailer of a SESSION REQUEST (RFC 1002 §4.3.2): two names written in full, no pointers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionRequest {
    /// CALLED_NAME: the name the caller wants to reach, e.g. `HOST<20>`.
    pub called_name: ScopedName,
    /// CALLING_NAME: the caller's own name, e.g. `CLIENT<00>`.
    pub calling_name: ScopedName,
    /// Bytes after CALLING_NAME that LENGTH still covers: some clients pad the frame, and
    /// smbd ignores them (`reply_special`). Kept so the frame re-emits byte for byte.
    pub trailing: Vec<u8>,
}

impl SessionRequest {
    /// A request from `calling_name` to `called_name`, with nothing after the names.
    pub fn new(called_name: ScopedName, calling_name: ScopedName) -> Self {
        SessionRequest {
            called_name,
            calling_name,
            trailing: Vec::new(),
        }
    }
}

/// The trailer of a RETARGET SESSION RESPONSE (RFC 1002 §4.3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Retarget {
    /// RETARGET_IP_ADDRESS.
    pub ip: Ipv4Addr,
    /// PORT.
    pub port: u16,
}

/// A whole session service packet (RFC 1002 §4.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SessionPacket {
    /// SESSION MESSAGE (§4.3.6): the user data, an SMB message on port 139.
    SessionMessage(Vec<u8>),
    /// SESSION REQUEST (§4.3.2).
    SessionRequest(SessionRequest),
    /// POSITIVE SESSION RESPONSE (§4.3.3).
    PositiveSessionResponse,
    /// NEGATIVE SESSION RESPONSE (§4.3.4).
    NegativeSessionResponse(NegativeResponseCode),
    /// RETARGET SESSION RESPONSE (§4.3.5).
    RetargetSessionResponse(Retarget),
    /// SESSION KEEP ALIVE (§4.3.7).
    SessionKeepAlive,
}

impl SessionPacket {
    /// Parses exactly one whole frame; `bytes` must end where LENGTH says the frame ends.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let (packet, used) = Self::parse_prefix(bytes)?;
        if used != bytes.len() {
            return Err(ParseError::malformed(
                "LENGTH",
                2,
                "bytes follow the end of the frame that LENGTH describes",
            ));
        }
        Ok(packet)
    }

    /// Parses the frame at the start of `bytes` and returns it with the number of bytes it used;
    /// bytes after it (the next frames of a stream) are left alone.
    pub fn parse_prefix(bytes: &[u8]) -> Result<(Self, usize), ParseError> {
        let header = SessionHeader::parse(bytes)?;
        let available = bytes.len().saturating_sub(HEADER_LEN);
        let frame = bytes.get(..header.frame_len()).ok_or_else(|| {
            ParseError::truncated("TRAILER", HEADER_LEN, header.length as usize, available)
        })?;
        let mut r = Reader::at(frame, HEADER_LEN);
        let need_length = |expected_len: u32, expected: &'static str| {
            if header.length == expected_len {
                Ok(())
            } else {
                Err(ParseError::bad_value(
                    "LENGTH",
                    2,
                    u64::from(header.length),
                    expected,
                ))
            }
        };
        let packet = match header.packet_type {
            SessionPacketType::SessionMessage => {
                SessionPacket::SessionMessage(r.take_rest().to_vec())
            }
            SessionPacketType::SessionRequest => {
                let called_name = ScopedName::parse(&mut r, Pointers::Reject, "CALLED_NAME")?;
                let calling_name = ScopedName::parse(&mut r, Pointers::Reject, "CALLING_NAME")?;
                SessionPacket::SessionRequest(SessionRequest {
                    called_name,
                    calling_name,
                    trailing: r.take_rest().to_vec(),
                })
            }
            SessionPacketType::PositiveSessionResponse => {
                need_length(0, "0 for a POSITIVE SESSION RESPONSE")?;
                SessionPacket::PositiveSessionResponse
            }
            SessionPacketType::NegativeSessionResponse => {
                need_length(1, "1 for a NEGATIVE SESSION RESPONSE")?;
                SessionPacket::NegativeSessionResponse(NegativeResponseCode::from_u8(
                    r.u8("ERROR_CODE")?,
                ))
            }
            SessionPacketType::RetargetSessionResponse => {
                need_length(RETARGET_LEN, "6 for a RETARGET SESSION RESPONSE")?;
                let ip = Ipv4Addr::from(r.array::<4>("RETARGET_IP_ADDRESS")?);
                let port = r.u16_be("PORT")?;
                SessionPacket::RetargetSessionResponse(Retarget { ip, port })
            }
            SessionPacketType::SessionKeepAlive => {
                need_length(0, "0 for a SESSION KEEP ALIVE")?;
                SessionPacket::SessionKeepAlive
            }
            SessionPacketType::Unknown(t) => {
                return Err(ParseError::bad_value(
                    "TYPE",
                    0,
                    u64::from(t),
                    "a session packet type: 0x00 or 0x81 to 0x85",
                ));
            }
        };
        Ok((packet, frame.len()))
    }

    /// The TYPE of this packet.
    pub fn packet_type(&self) -> SessionPacketType {
        match self {
            Self::SessionMessage(_) => SessionPacketType::SessionMessage,
            Self::SessionRequest(_) => SessionPacketType::SessionRequest,
            Self::PositiveSessionResponse => SessionPacketType::PositiveSessionResponse,
            Self::NegativeSessionResponse(_) => SessionPacketType::NegativeSessionResponse,
            Self::RetargetSessionResponse(_) => SessionPacketType::RetargetSessionResponse,
            Self::SessionKeepAlive => SessionPacketType::SessionKeepAlive,
        }
    }

    /// Bytes after the header (the value of LENGTH), not checked against [`MAX_LENGTH`].
    fn trailer_len(&self) -> usize {
        match self {
            Self::SessionMessage(data) => data.len(),
            Self::SessionRequest(req) => req
                .called_name
                .wire_len()
                .saturating_add(req.calling_name.wire_len())
                .saturating_add(req.trailing.len()),
            Self::PositiveSessionResponse | Self::SessionKeepAlive => 0,
            Self::NegativeSessionResponse(_) => 1,
            Self::RetargetSessionResponse(_) => RETARGET_LEN as usize,
        }
    }

    /// The header this packet is written with.
    pub fn header(&self) -> Result<SessionHeader, EmitError> {
        let length = u32::try_from(self.trailer_len())
            .ok()
            .filter(|&l| l <= MAX_LENGTH)
            .ok_or(EmitError::FieldTooLarge {
                field: "LENGTH",
                why: "session packets carry at most 0x1FFFF bytes",
            })?;
        Ok(SessionHeader {
            packet_type: self.packet_type(),
            length,
        })
    }
}

impl Emit for SessionPacket {
    fn buffer_len(&self) -> usize {
        HEADER_LEN.saturating_add(self.trailer_len())
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        let header = self.header()?;
        let needed = header.frame_len();
        if buf.len() < needed {
            return Err(EmitError::BufferTooSmall {
                needed,
                available: buf.len(),
            });
        }
        let mut w = Writer::new(buf);
        let mut hdr = [0u8; HEADER_LEN];
        header.emit(&mut hdr)?;
        w.put(&hdr)?;
        match self {
            Self::SessionMessage(data) => w.put(data)?,
            Self::SessionRequest(req) => {
                req.called_name.emit(&mut w)?;
                req.calling_name.emit(&mut w)?;
                w.put(&req.trailing)?;
            }
            Self::PositiveSessionResponse | Self::SessionKeepAlive => {}
            Self::NegativeSessionResponse(code) => w.u8(code.to_u8())?,
            Self::RetargetSessionResponse(t) => {
                w.put(&t.ip.octets())?;
                w.u16_be(t.port)?;
            }
        }
        Ok(w.pos())
    }
}

#[cfg(test)]
pub(crate) mod strategy {
    //! Proptest strategies for session packets.
    use super::*;
    use crate::name::strategy::scoped_name;
    use proptest::prelude::*;

    /// Any negative response code, known or not.
    pub fn negative_code() -> impl Strategy<Value = NegativeResponseCode> {
        any::<u8>().prop_map(NegativeResponseCode::from_u8)
    }

    /// Any session packet; messages are kept small, with an occasional one past 64 KiB so the E
    /// bit is exercised.
    pub fn session_packet() -> impl Strategy<Value = SessionPacket> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..300).prop_map(SessionPacket::SessionMessage),
            (0x1_0000usize..=0x1_FFFF, any::<u8>())
                .prop_map(|(n, b)| SessionPacket::SessionMessage(vec![b; n])),
            (
                scoped_name(),
                scoped_name(),
                proptest::collection::vec(any::<u8>(), 0..8)
            )
                .prop_map(|(called_name, calling_name, trailing)| {
                    SessionPacket::SessionRequest(SessionRequest {
                        called_name,
                        calling_name,
                        trailing,
                    })
                }),
            Just(SessionPacket::PositiveSessionResponse),
            negative_code().prop_map(SessionPacket::NegativeSessionResponse),
            (any::<[u8; 4]>(), any::<u16>()).prop_map(|(ip, port)| {
                SessionPacket::RetargetSessionResponse(Retarget {
                    ip: Ipv4Addr::from(ip),
                    port,
                })
            }),
            Just(SessionPacket::SessionKeepAlive),
        ]
    }
}

#[cfg(test)]
mod tests;
