//! The Remote Administration Protocol (MS-RAP) as carried on `\PIPE\LANMAN` (rap-smb1.md §6).
//!
//! A RAP call is the parameter block of an SMB_COM_TRANSACTION request: `RAPOpcode` (u16),
//! `ParamDesc` and `DataDesc` (ASCIIZ descriptor strings), then the parameters that ParamDesc
//! describes ([`RapRequest`]). [`RapCall`] reads the calls nbtd answers on top of it. The reply
//! is a parameter block (`Status`, `Converter`, then e.g. EntriesReturned and EntriesAvailable)
//! and a data block of fixed-size records followed by a string heap ([`RapResponse`],
//! [`records`]).
//!
//! Descriptor characters in a request's ParamDesc (MS-RAP 2.5.x; Samba `smb1_lanman.c`):
//!
//! | char | request bytes |
//! | --- | --- |
//! | `W`, `L` (receive buffer length), `T` (send buffer length) | u16 |
//! | `D` | u32 |
//! | `B` / `Bn` | 1 / n bytes |
//! | `z` | ASCIIZ string |
//! | `O`, `r`, `s`, `e`, `h`, `g`, `i` | none: null or receive pointers, or reply-only items |

use crate::error::{EmitError, ParseError};
use crate::wire::Emit;
use crate::wire::browse::ServerType;
use crate::wire::cursor::{Reader, Writer};

pub mod records;

/// RAP opcodes nbtd recognises ([rap.idl]).
pub mod opcode {
    /// RAP_WshareEnum: NetShareEnum.
    pub const NET_SHARE_ENUM: u16 = 0;
    /// RAP_WsessionEnum: NetSessionEnum.
    pub const NET_SESSION_ENUM: u16 = 6;
    /// RAP_WsessionGetInfo: NetSessionGetInfo.
    pub const NET_SESSION_GET_INFO: u16 = 7;
    /// RAP_WserverGetInfo: NetServerGetInfo.
    pub const NET_SERVER_GET_INFO: u16 = 13;
    /// RAP_WWkstaGetInfo: NetWkstaGetInfo.
    pub const NET_WKSTA_GET_INFO: u16 = 63;
    /// RAP_NetRemoteTOD: the server's time of day.
    pub const NET_REMOTE_TOD: u16 = 91;
    /// RAP_NetServerEnum2.
    pub const NET_SERVER_ENUM2: u16 = 104;
    /// RAP_NetServerEnum3: NetServerEnum2 resuming at FirstNameToReturn.
    pub const NET_SERVER_ENUM3: u16 = 215;
}

/// RAP status codes in a reply's `Status` word (MS-RAP, lmerr.h).
pub mod status {
    /// NERR_Success.
    pub const SUCCESS: u16 = 0;
    /// ERROR_MORE_DATA: not every entry fitted the client's buffer.
    pub const MORE_DATA: u16 = 234;
    /// NERR_NotSupported (ERROR_NOT_SUPPORTED): Samba's answer to calls it does not serve.
    pub const NOT_SUPPORTED: u16 = 50;
    /// NERR_BufTooSmall: the reply does not fit the client's parameter or data buffer.
    pub const BUF_TOO_SMALL: u16 = 2123;
    /// NERR_ClientNameNotFound: NetSessionGetInfo names no session's client.
    pub const CLIENT_NAME_NOT_FOUND: u16 = 2312;
}

/// The descriptor strings of the calls nbtd answers, as smbclient sends them.
pub mod descriptor {
    /// NetShareEnum ParamDesc: level, receive buffer, its length, entries returned, available.
    pub const NET_SHARE_ENUM: &[u8] = b"WrLeh";
    /// NetServerEnum2 ParamDesc with the domain.
    pub const NET_SERVER_ENUM2: &[u8] = b"WrLehDz";
    /// What every NetServerEnum2 ParamDesc starts with (smbd's `prefix_ok`); only the exact
    /// [`NET_SERVER_ENUM2`] carries a domain.
    pub const NET_SERVER_ENUM2_PREFIX: &[u8] = b"WrLehD";
    /// NetServerEnum2 ParamDesc without the domain (the server's own workgroup is meant).
    pub const NET_SERVER_ENUM2_NO_DOMAIN: &[u8] = b"WrLehD";
    /// NetServerEnum3 ParamDesc: NetServerEnum2's and FirstNameToReturn.
    pub const NET_SERVER_ENUM3: &[u8] = b"WrLehDzz";
    /// NetServerGetInfo and NetWkstaGetInfo ParamDesc: level, receive buffer, its length,
    /// bytes available.
    pub const GET_INFO: &[u8] = b"WrLh";
    /// NetSessionEnum ParamDesc: level, receive buffer, its length, entries returned,
    /// available.
    pub const NET_SESSION_ENUM: &[u8] = b"WrLeh";
    /// NetSessionGetInfo ParamDesc: client name, level, receive buffer, its length, bytes
    /// available.
    pub const NET_SESSION_GET_INFO: &[u8] = b"zWrLh";
    /// NetRemoteTOD ParamDesc: receive buffer and its length.
    pub const NET_REMOTE_TOD: &[u8] = b"rL";
    /// session_info_2 DataDesc: client, user, connections, opens, users, session time, idle
    /// time, user flags, client type.
    pub const SESSION_INFO_2: &[u8] = b"zzWWWDDDz";
    /// time_of_day_info DataDesc.
    pub const TIME_OF_DAY_INFO: &[u8] = b"DDBBBBWWBBWB";
    /// wksta_info_10 DataDesc: computer, user, workgroup, version, logon domain, other
    /// domains.
    pub const WKSTA_INFO_10: &[u8] = b"zzzBBzz";
    /// share_info_0 DataDesc: the name.
    pub const SHARE_INFO_0: &[u8] = b"B13";
    /// share_info_1 DataDesc: name, pad, type, remark.
    pub const SHARE_INFO_1: &[u8] = b"B13BWz";
    /// server_info_0 DataDesc: the name.
    pub const SERVER_INFO_0: &[u8] = b"B16";
    /// server_info_1 DataDesc: name, version major and minor, type, comment.
    pub const SERVER_INFO_1: &[u8] = b"B16BBDz";
}

/// Longest descriptor string accepted; real ones have at most 13 characters.
pub const MAX_DESCRIPTOR_LEN: usize = 64;
/// Largest array count after `B` in a ParamDesc.
const MAX_ARRAY_COUNT: usize = 0xFFFF;

/// One parameter value of a request, as its ParamDesc character describes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RapValue {
    /// `W`, `L` or `T`: a 16-bit word.
    Word(u16),
    /// `D`: a 32-bit double word.
    Dword(u32),
    /// `B` or `Bn`: bytes.
    Bytes(Vec<u8>),
    /// `z`: an ASCIIZ string, without its NUL.
    Str(Vec<u8>),
}

/// What one ParamDesc item puts in a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Word(&'static str),
    Dword,
    Bytes(usize),
    Str,
    Nothing,
}

/// Reads a descriptor into its items; `at` is the descriptor's offset, for errors.
fn param_items(desc: &[u8], at: usize) -> Result<Vec<Item>, ParseError> {
    let mut items = Vec::with_capacity(desc.len());
    let mut i = 0;
    while i < desc.len() {
        let c = desc[i];
        let c_at = at.saturating_add(i);
        i += 1;
        let digits_start = i;
        let mut count: usize = 0;
        while i < desc.len() && desc[i].is_ascii_digit() {
            count = count * 10 + usize::from(desc[i] - b'0');
            if count > MAX_ARRAY_COUNT {
                return Err(ParseError::bad_value(
                    "ParamDesc",
                    c_at,
                    count as u64,
                    "an array count of at most 65535",
                ));
            }
            i += 1;
        }
        let counted = i > digits_start;
        if counted && c != b'B' {
            return Err(ParseError::malformed(
                "ParamDesc",
                c_at,
                "only B takes an array count in a request's ParamDesc",
            ));
        }
        items.push(match c {
            b'W' => Item::Word("RAP parameter W"),
            b'L' => Item::Word("RAP parameter L (receive buffer length)"),
            b'T' => Item::Word("RAP parameter T (send buffer length)"),
            b'D' => Item::Dword,
            b'B' => Item::Bytes(if counted { count } else { 1 }),
            b'z' => Item::Str,
            b'O' | b'r' | b's' | b'e' | b'h' | b'g' | b'i' => Item::Nothing,
            other => {
                return Err(ParseError::bad_value(
                    "ParamDesc",
                    c_at,
                    u64::from(other),
                    "a request descriptor character: W L T D B z O r s e h g i",
                ));
            }
        });
    }
    Ok(items)
}

/// Reads an ASCIIZ descriptor of at most [`MAX_DESCRIPTOR_LEN`] characters.
fn read_descriptor(r: &mut Reader<'_>, field: &'static str) -> Result<Vec<u8>, ParseError> {
    let at = r.pos();
    let d = r.cstr(MAX_DESCRIPTOR_LEN, field)?;
    if let Some((i, &b)) = d.iter().enumerate().find(|(_, b)| !b.is_ascii_graphic()) {
        return Err(ParseError::bad_value(
            field,
            at.saturating_add(i),
            u64::from(b),
            "a printable ASCII descriptor character",
        ));
    }
    Ok(d.to_vec())
}

/// A RAP request: the parameter block of a TRANSACTION on `\PIPE\LANMAN` (MS-RAP 2.5.1).
///
/// The parameters are read generically from ParamDesc, so any call frames: [`RapCall`] reads the
/// ones nbtd answers. Bytes after the described parameters are kept in
/// [`extra`](Self::extra) (Samba ignores them), so every request re-emits byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RapRequest {
    /// RAPOpcode, e.g. 104 for NetServerEnum2.
    pub opcode: u16,
    /// ParamDesc, without its NUL, e.g. `WrLehDz`.
    pub param_desc: Vec<u8>,
    /// DataDesc, without its NUL, e.g. `B16BBDz`; may be empty.
    pub data_desc: Vec<u8>,
    /// The values ParamDesc describes, in order (items with no request bytes have none).
    pub values: Vec<RapValue>,
    /// Bytes after the described parameters.
    pub extra: Vec<u8>,
}

impl RapRequest {
    /// Parses a transaction's parameter block.
    pub fn parse(params: &[u8]) -> Result<Self, ParseError> {
        let mut r = Reader::new(params);
        let opcode = r.u16_le("RAPOpcode")?;
        let desc_at = r.pos();
        let param_desc = read_descriptor(&mut r, "ParamDesc")?;
        let data_desc = read_descriptor(&mut r, "DataDesc")?;
        let items = param_items(&param_desc, desc_at)?;
        let mut values = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Item::Word(field) => values.push(RapValue::Word(r.u16_le(field)?)),
                Item::Dword => values.push(RapValue::Dword(r.u32_le("RAP parameter D")?)),
                Item::Bytes(n) => {
                    values.push(RapValue::Bytes(r.take(n, "RAP parameter B")?.to_vec()))
                }
                Item::Str => values.push(RapValue::Str(
                    r.cstr(r.remaining(), "RAP parameter z")?.to_vec(),
                )),
                Item::Nothing => {}
            }
        }
        Ok(RapRequest {
            opcode,
            param_desc,
            data_desc,
            values,
            extra: r.take_rest().to_vec(),
        })
    }

    /// A request with standard framing and no extra bytes.
    pub fn new(opcode: u16, param_desc: &[u8], data_desc: &[u8], values: Vec<RapValue>) -> Self {
        RapRequest {
            opcode,
            param_desc: param_desc.to_vec(),
            data_desc: data_desc.to_vec(),
            values,
            extra: Vec::new(),
        }
    }

    /// Checks the descriptors and that the values match ParamDesc item by item.
    fn check(&self) -> Result<Vec<Item>, EmitError> {
        let bad = |why| EmitError::FieldTooLarge {
            field: "ParamDesc",
            why,
        };
        for d in [&self.param_desc, &self.data_desc] {
            if d.len() > MAX_DESCRIPTOR_LEN {
                return Err(bad("a descriptor has at most 64 characters"));
            }
            if !d.iter().all(u8::is_ascii_graphic) {
                return Err(bad("descriptors are printable ASCII"));
            }
        }
        let items =
            param_items(&self.param_desc, 2).map_err(|_| bad("not a request descriptor"))?;
        let wanted = items.iter().filter(|i| **i != Item::Nothing);
        if wanted.clone().count() != self.values.len() {
            return Err(bad("the values do not match ParamDesc"));
        }
        for (item, value) in wanted.zip(&self.values) {
            let ok = match (item, value) {
                (Item::Word(_), RapValue::Word(_)) | (Item::Dword, RapValue::Dword(_)) => true,
                (Item::Bytes(n), RapValue::Bytes(b)) => b.len() == *n,
                (Item::Str, RapValue::Str(s)) => !s.contains(&0),
                _ => false,
            };
            if !ok {
                return Err(bad("the values do not match ParamDesc"));
            }
        }
        Ok(items)
    }
}

impl Emit for RapRequest {
    fn buffer_len(&self) -> usize {
        let values: usize = self
            .values
            .iter()
            .map(|v| match v {
                RapValue::Word(_) => 2,
                RapValue::Dword(_) => 4,
                RapValue::Bytes(b) => b.len(),
                RapValue::Str(s) => s.len().saturating_add(1),
            })
            .sum();
        4usize
            .saturating_add(self.param_desc.len())
            .saturating_add(self.data_desc.len())
            .saturating_add(values)
            .saturating_add(self.extra.len())
    }

    fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        self.check()?;
        let mut w = Writer::new(buf);
        w.u16_le(self.opcode)?;
        w.cstr(&self.param_desc)?;
        w.cstr(&self.data_desc)?;
        for v in &self.values {
            match v {
                RapValue::Word(x) => w.u16_le(*x)?,
                RapValue::Dword(x) => w.u32_le(*x)?,
                RapValue::Bytes(b) => w.put(b)?,
                RapValue::Str(s) => w.cstr(s)?,
            }
        }
        w.put(&self.extra)?;
        Ok(w.pos())
    }
}

/// The information level of an enumeration nbtd answers: 0 (names) or 1 (names and details).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InfoLevel {
    /// Level 0: share_info_0 (`B13`) or server_info_0 (`B16`).
    Zero,
    /// Level 1: share_info_1 (`B13BWz`) or server_info_1 (`B16BBDz`).
    One,
}

impl InfoLevel {
    /// The level number on the wire.
    pub fn to_u16(self) -> u16 {
        match self {
            InfoLevel::Zero => 0,
            InfoLevel::One => 1,
        }
    }

    fn share_desc(self) -> &'static [u8] {
        match self {
            InfoLevel::Zero => descriptor::SHARE_INFO_0,
            InfoLevel::One => descriptor::SHARE_INFO_1,
        }
    }

    fn server_desc(self) -> &'static [u8] {
        match self {
            InfoLevel::Zero => descriptor::SERVER_INFO_0,
            InfoLevel::One => descriptor::SERVER_INFO_1,
        }
    }
}

/// The parameters of NetServerEnum2 and NetServerEnum3 (MS-RAP 2.5.5.2, 2.5.5.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerEnumRequest {
    /// The information level.
    pub level: InfoLevel,
    /// ReceiveBufferLen: the most data bytes the client accepts.
    pub receive_buffer_len: u16,
    /// ServerType: the SV_TYPE mask of wanted entries.
    pub server_type: ServerType,
    /// Domain, as sent (ASCII, upper-cased by smbclient); `None` for ParamDesc `WrLehD`.
    pub domain: Option<Vec<u8>>,
    /// FirstNameToReturn (NetServerEnum3 only; empty for NetServerEnum2).
    pub first_name: Vec<u8>,
}

/// Why a RAP call is answered "not supported" (Samba's `api_Unsupported`: `{50, 0}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unsupported {
    /// An opcode nbtd does not serve.
    Opcode(u16),
    /// A served opcode with a ParamDesc of another shape.
    ParamDesc(u16),
    /// A served opcode at an information level nbtd does not produce.
    Level {
        /// RAPOpcode.
        opcode: u16,
        /// The level asked for.
        level: u16,
    },
    /// A DataDesc that does not match the level (Samba's `check_share_info`).
    DataDesc(u16),
}

/// A RAP call nbtd understands, read from a [`RapRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RapCall {
    /// NetShareEnum (0), ParamDesc `WrLeh`.
    NetShareEnum {
        /// Level 0 or 1.
        level: InfoLevel,
        /// ReceiveBufferLen.
        receive_buffer_len: u16,
    },
    /// NetServerEnum2 (104), ParamDesc `WrLehDz` or `WrLehD`.
    NetServerEnum2(ServerEnumRequest),
    /// NetServerEnum3 (215), ParamDesc `WrLehDzz`.
    NetServerEnum3(ServerEnumRequest),
    /// NetServerGetInfo (13), ParamDesc `WrLh`.
    NetServerGetInfo {
        /// The level asked for.
        level: u16,
        /// ReceiveBufferLen.
        receive_buffer_len: u16,
        /// DataDesc as sent.
        data_desc: Vec<u8>,
    },
    /// NetWkstaGetInfo (63), ParamDesc `WrLh`.
    NetWkstaGetInfo {
        /// The level asked for.
        level: u16,
        /// ReceiveBufferLen.
        receive_buffer_len: u16,
        /// DataDesc as sent.
        data_desc: Vec<u8>,
    },
    /// NetSessionEnum (6), ParamDesc `WrLeh`.
    NetSessionEnum {
        /// The level asked for (smbd serves 2).
        level: u16,
        /// ReceiveBufferLen.
        receive_buffer_len: u16,
        /// DataDesc as sent.
        data_desc: Vec<u8>,
    },
    /// NetSessionGetInfo (7), ParamDesc `zWrLh`.
    NetSessionGetInfo {
        /// The client (workstation) whose session is asked for.
        client: Vec<u8>,
        /// The level asked for.
        level: u16,
        /// ReceiveBufferLen.
        receive_buffer_len: u16,
        /// DataDesc as sent.
        data_desc: Vec<u8>,
    },
    /// NetRemoteTOD (91), ParamDesc `rL`.
    NetRemoteTod {
        /// ReceiveBufferLen.
        receive_buffer_len: u16,
        /// DataDesc as sent.
        data_desc: Vec<u8>,
    },
    /// Anything else: answered NERR_NotSupported ([`RapResponse::not_supported`]).
    Unsupported(Unsupported),
}

fn word(v: Option<&RapValue>) -> u16 {
    match v {
        Some(RapValue::Word(w)) => *w,
        _ => 0,
    }
}

fn dword(v: Option<&RapValue>) -> u32 {
    match v {
        Some(RapValue::Dword(d)) => *d,
        _ => 0,
    }
}

fn string(v: Option<&RapValue>) -> Vec<u8> {
    match v {
        Some(RapValue::Str(s)) => s.clone(),
        _ => Vec::new(),
    }
}

fn level_of(opcode: u16, level: u16) -> Result<InfoLevel, Unsupported> {
    match level {
        0 => Ok(InfoLevel::Zero),
        1 => Ok(InfoLevel::One),
        _ => Err(Unsupported::Level { opcode, level }),
    }
}

impl RapCall {
    /// Reads the call from a request; calls nbtd does not serve are [`RapCall::Unsupported`].
    pub fn from_request(req: &RapRequest) -> RapCall {
        match Self::read(req) {
            Ok(c) => c,
            Err(u) => RapCall::Unsupported(u),
        }
    }

    fn read(req: &RapRequest) -> Result<RapCall, Unsupported> {
        let op = req.opcode;
        let v = &req.values;
        let pd = req.param_desc.as_slice();
        match op {
            opcode::NET_SHARE_ENUM => {
                if pd != descriptor::NET_SHARE_ENUM {
                    return Err(Unsupported::ParamDesc(op));
                }
                let level = level_of(op, word(v.first()))?;
                if req.data_desc != level.share_desc() {
                    return Err(Unsupported::DataDesc(op));
                }
                Ok(RapCall::NetShareEnum {
                    level,
                    receive_buffer_len: word(v.get(1)),
                })
            }
            opcode::NET_SERVER_ENUM2 | opcode::NET_SERVER_ENUM3 => {
                let enum3 = op == opcode::NET_SERVER_ENUM3;
                let with_domain = match pd {
                    descriptor::NET_SERVER_ENUM3 if enum3 => true,
                    descriptor::NET_SERVER_ENUM2 if !enum3 => true,
                    // smbd takes any ParamDesc that starts `WrLehD` (`prefix_ok`).
                    _ if !enum3 && pd.starts_with(descriptor::NET_SERVER_ENUM2_PREFIX) => false,
                    _ => return Err(Unsupported::ParamDesc(op)),
                };
                let level = level_of(op, word(v.first()))?;
                if req.data_desc != level.server_desc() {
                    return Err(Unsupported::DataDesc(op));
                }
                let e = ServerEnumRequest {
                    level,
                    receive_buffer_len: word(v.get(1)),
                    server_type: ServerType::from_bits_retain(dword(v.get(2))),
                    domain: with_domain.then(|| string(v.get(3))),
                    first_name: if enum3 { string(v.get(4)) } else { Vec::new() },
                };
                Ok(if enum3 {
                    RapCall::NetServerEnum3(e)
                } else {
                    RapCall::NetServerEnum2(e)
                })
            }
            opcode::NET_SERVER_GET_INFO | opcode::NET_WKSTA_GET_INFO => {
                if pd != descriptor::GET_INFO {
                    return Err(Unsupported::ParamDesc(op));
                }
                let (level, receive_buffer_len) = (word(v.first()), word(v.get(1)));
                let data_desc = req.data_desc.clone();
                Ok(if op == opcode::NET_SERVER_GET_INFO {
                    RapCall::NetServerGetInfo {
                        level,
                        receive_buffer_len,
                        data_desc,
                    }
                } else {
                    RapCall::NetWkstaGetInfo {
                        level,
                        receive_buffer_len,
                        data_desc,
                    }
                })
            }
            opcode::NET_SESSION_ENUM => {
                if pd != descriptor::NET_SESSION_ENUM {
                    return Err(Unsupported::ParamDesc(op));
                }
                Ok(RapCall::NetSessionEnum {
                    level: word(v.first()),
                    receive_buffer_len: word(v.get(1)),
                    data_desc: req.data_desc.clone(),
                })
            }
            opcode::NET_SESSION_GET_INFO => {
                if pd != descriptor::NET_SESSION_GET_INFO {
                    return Err(Unsupported::ParamDesc(op));
                }
                Ok(RapCall::NetSessionGetInfo {
                    client: string(v.first()),
                    level: word(v.get(1)),
                    receive_buffer_len: word(v.get(2)),
                    data_desc: req.data_desc.clone(),
                })
            }
            opcode::NET_REMOTE_TOD => {
                if pd != descriptor::NET_REMOTE_TOD {
                    return Err(Unsupported::ParamDesc(op));
                }
                Ok(RapCall::NetRemoteTod {
                    receive_buffer_len: word(v.first()),
                    data_desc: req.data_desc.clone(),
                })
            }
            other => Err(Unsupported::Opcode(other)),
        }
    }

    /// The request a client sends for this call, framed as smbclient frames it; `None` for
    /// [`RapCall::Unsupported`].
    pub fn to_request(&self) -> Option<RapRequest> {
        Some(match self {
            RapCall::NetShareEnum {
                level,
                receive_buffer_len,
            } => RapRequest::new(
                opcode::NET_SHARE_ENUM,
                descriptor::NET_SHARE_ENUM,
                level.share_desc(),
                vec![
                    RapValue::Word(level.to_u16()),
                    RapValue::Word(*receive_buffer_len),
                ],
            ),
            RapCall::NetServerEnum2(e) | RapCall::NetServerEnum3(e) => {
                let enum3 = matches!(self, RapCall::NetServerEnum3(_));
                let mut values = vec![
                    RapValue::Word(e.level.to_u16()),
                    RapValue::Word(e.receive_buffer_len),
                    RapValue::Dword(e.server_type.bits()),
                ];
                let pd = match (&e.domain, enum3) {
                    (_, true) => {
                        values.push(RapValue::Str(e.domain.clone().unwrap_or_default()));
                        values.push(RapValue::Str(e.first_name.clone()));
                        descriptor::NET_SERVER_ENUM3
                    }
                    (Some(d), false) => {
                        values.push(RapValue::Str(d.clone()));
                        descriptor::NET_SERVER_ENUM2
                    }
                    (None, false) => descriptor::NET_SERVER_ENUM2_NO_DOMAIN,
                };
                let op = if enum3 {
                    opcode::NET_SERVER_ENUM3
                } else {
                    opcode::NET_SERVER_ENUM2
                };
                RapRequest::new(op, pd, e.level.server_desc(), values)
            }
            RapCall::NetServerGetInfo {
                level,
                receive_buffer_len,
                data_desc,
            }
            | RapCall::NetWkstaGetInfo {
                level,
                receive_buffer_len,
                data_desc,
            } => RapRequest::new(
                if matches!(self, RapCall::NetServerGetInfo { .. }) {
                    opcode::NET_SERVER_GET_INFO
                } else {
                    opcode::NET_WKSTA_GET_INFO
                },
                descriptor::GET_INFO,
                data_desc,
                vec![RapValue::Word(*level), RapValue::Word(*receive_buffer_len)],
            ),
            RapCall::NetSessionEnum {
                level,
                receive_buffer_len,
                data_desc,
            } => RapRequest::new(
                opcode::NET_SESSION_ENUM,
                descriptor::NET_SESSION_ENUM,
                data_desc,
                vec![RapValue::Word(*level), RapValue::Word(*receive_buffer_len)],
            ),
            RapCall::NetSessionGetInfo {
                client,
                level,
                receive_buffer_len,
                data_desc,
            } => RapRequest::new(
                opcode::NET_SESSION_GET_INFO,
                descriptor::NET_SESSION_GET_INFO,
                data_desc,
                vec![
                    RapValue::Str(client.clone()),
                    RapValue::Word(*level),
                    RapValue::Word(*receive_buffer_len),
                ],
            ),
            RapCall::NetRemoteTod {
                receive_buffer_len,
                data_desc,
            } => RapRequest::new(
                opcode::NET_REMOTE_TOD,
                descriptor::NET_REMOTE_TOD,
                data_desc,
                vec![RapValue::Word(*receive_buffer_len)],
            ),
            RapCall::Unsupported(_) => return None,
        })
    }
}

/// A RAP reply: the parameter block (Status, Converter, then the ParamDesc's reply words) and
/// the data block (MS-RAP 2.5.2).
///
/// For the enumerations the reply words are EntriesReturned and EntriesAvailable, so the
/// parameter block has 8 bytes; Samba's "not supported" reply has none (4 bytes in all).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RapResponse {
    /// Status: a [`status`] code.
    pub status: u16,
    /// Converter: subtracted from the low 16 bits of every string pointer in the data block.
    pub converter: u16,
    /// The words after Converter, e.g. `[EntriesReturned, EntriesAvailable]`.
    pub words: Vec<u16>,
    /// The data block: fixed-size records, then the strings they point to.
    pub data: Vec<u8>,
}

impl RapResponse {
    /// Samba's `api_Unsupported` reply: Status 50, Converter 0, nothing else; for a parameter
    /// block that cannot be read, whose descriptor is not known.
    pub fn unsupported() -> Self {
        RapResponse {
            status: status::NOT_SUPPORTED,
            converter: 0,
            words: Vec::new(),
            data: Vec::new(),
        }
    }

    /// NERR_NotSupported with the parameter block `param_desc` asks for: Status, Converter,
    /// then a zero word for each `e` and `h` and a zero double word for each `i`, so that a
    /// client (or tshark) reading the reply by its descriptor finds every field.
    pub fn not_supported(param_desc: &[u8]) -> Self {
        let words = param_desc
            .iter()
            .map(|c| match c {
                b'e' | b'h' => 1,
                b'i' => 2,
                _ => 0,
            })
            .sum::<usize>()
            .min(MAX_DESCRIPTOR_LEN * 2);
        RapResponse {
            status: status::NOT_SUPPORTED,
            converter: 0,
            words: vec![0; words],
            data: Vec::new(),
        }
    }

    /// A GetInfo reply (ParamDesc ending `h`): Status, Converter, and the bytes available.
    pub fn info(status: u16, converter: u16, available: u16, data: Vec<u8>) -> Self {
        RapResponse {
            status,
            converter,
            words: vec![available],
            data,
        }
    }

    /// An enumeration reply: Status 0 when every entry is returned, 234 (more data) otherwise.
    pub fn enumeration(converter: u16, returned: u16, available: u16, data: Vec<u8>) -> Self {
        RapResponse {
            status: if returned < available {
                status::MORE_DATA
            } else {
                status::SUCCESS
            },
            converter,
            words: vec![returned, available],
            data,
        }
    }

    /// EntriesReturned of an enumeration reply.
    pub fn entries_returned(&self) -> Option<u16> {
        self.words.first().copied()
    }

    /// EntriesAvailable of an enumeration reply.
    pub fn entries_available(&self) -> Option<u16> {
        self.words.get(1).copied()
    }

    /// Reads a reply from a transaction response's parameters and data.
    pub fn parse(parameters: &[u8], data: &[u8]) -> Result<Self, ParseError> {
        let mut r = Reader::new(parameters);
        let status = r.u16_le("Status")?;
        let converter = r.u16_le("Converter")?;
        if r.remaining() % 2 != 0 {
            return Err(ParseError::malformed(
                "RAP reply parameters",
                r.pos(),
                "the parameters after Converter are not whole 16-bit words",
            ));
        }
        let mut words = Vec::with_capacity(r.remaining() / 2);
        while r.remaining() >= 2 {
            words.push(r.u16_le("RAP reply word")?);
        }
        Ok(RapResponse {
            status,
            converter,
            words,
            data: data.to_vec(),
        })
    }

    /// The parameter block.
    pub fn parameters(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(4 + 2 * self.words.len());
        p.extend_from_slice(&self.status.to_le_bytes());
        p.extend_from_slice(&self.converter.to_le_bytes());
        for w in &self.words {
            p.extend_from_slice(&w.to_le_bytes());
        }
        p
    }
}

#[cfg(test)]
pub(crate) mod strategy;
#[cfg(test)]
mod tests;
