//! Resource record data of the name service: NB address entries, node status, A and NS records
//! (RFC 1002 §4.2.1.3, §4.2.13, §4.2.15, §4.2.18).

use std::net::Ipv4Addr;

use bitflags::bitflags;

use crate::error::{EmitError, ParseError};
use crate::name::{NAME_LEN, NetbiosName, Pointers, read_labels};
use crate::wire::cursor::{Reader, Writer};

/// Owner node type, the ONT field of NB_FLAGS and NAME_FLAGS (RFC 1002 §4.2.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeType {
    /// Broadcast node.
    B,
    /// Point-to-point node (WINS client).
    P,
    /// Mixed node.
    M,
    /// Hybrid node (Microsoft; reserved in the RFC).
    H,
}

impl NodeType {
    const MASK: u16 = 0x6000;

    fn from_bits(bits: u16) -> Self {
        match bits & Self::MASK {
            0x0000 => NodeType::B,
            0x2000 => NodeType::P,
            0x4000 => NodeType::M,
            _ => NodeType::H,
        }
    }

    /// The ONT bits of this node type, in place in a flags word.
    pub const fn bits(self) -> u16 {
        match self {
            NodeType::B => 0x0000,
            NodeType::P => 0x2000,
            NodeType::M => 0x4000,
            NodeType::H => 0x6000,
        }
    }
}

bitflags! {
    /// NB_FLAGS of an NB address entry (RFC 1002 §4.2.1.3). Reserved bits are kept as received.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct NbFlags: u16 {
        /// G: the name is a group name.
        const GROUP = 0x8000;
        /// ONT high bit.
        const ONT_HIGH = 0x4000;
        /// ONT low bit.
        const ONT_LOW = 0x2000;
    }
}

impl NbFlags {
    /// Flags for a name of the given kind and node type.
    pub fn new(group: bool, node_type: NodeType) -> Self {
        let g = if group { 0x8000 } else { 0 };
        NbFlags::from_bits_retain(g | node_type.bits())
    }

    /// The owner node type.
    pub fn node_type(self) -> NodeType {
        NodeType::from_bits(self.bits())
    }

    /// Whether the G bit is set.
    pub fn is_group(self) -> bool {
        self.contains(NbFlags::GROUP)
    }
}

bitflags! {
    /// NAME_FLAGS of a node status entry (RFC 1002 §4.2.18). Reserved bits are kept as received.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct NameFlags: u16 {
        /// G: group name.
        const GROUP = 0x8000;
        /// ONT high bit.
        const ONT_HIGH = 0x4000;
        /// ONT low bit.
        const ONT_LOW = 0x2000;
        /// DRG: the name is being deregistered.
        const DEREGISTERING = 0x1000;
        /// CNF: the name is in conflict.
        const CONFLICT = 0x0800;
        /// ACT: the name is active (set on every live name).
        const ACTIVE = 0x0400;
        /// PRM: the permanent node name.
        const PERMANENT = 0x0200;
    }
}

impl NameFlags {
    /// The owner node type.
    pub fn node_type(self) -> NodeType {
        NodeType::from_bits(self.bits())
    }

    /// Whether the G bit is set.
    pub fn is_group(self) -> bool {
        self.contains(NameFlags::GROUP)
    }
}

/// One NB address entry: NB_FLAGS and NB_ADDRESS (6 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NbAddress {
    /// NB_FLAGS.
    pub flags: NbFlags,
    /// NB_ADDRESS.
    pub addr: Ipv4Addr,
}

/// Length of one NB address entry.
pub const NB_ADDRESS_LEN: usize = 6;
/// Length of one node status name entry: 16 raw name bytes and NAME_FLAGS.
pub const NODE_NAME_LEN: usize = NAME_LEN + 2;
/// Length of the node status statistics block.
pub const STATISTICS_LEN: usize = 46;

/// One entry of a node status name table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NodeName {
    /// The raw (not half-ASCII encoded) name.
    pub name: NetbiosName,
    /// NAME_FLAGS.
    pub flags: NameFlags,
}

/// The statistics block of a node status response (RFC 1002 §4.2.18). nbtd sends it zeroed but
/// for the unit ID, as Samba does, so that it reveals nothing useful to an attacker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Statistics {
    /// UNIT_ID: the MAC address of the interface, by convention.
    pub unit_id: [u8; 6],
    /// JUMPERS.
    pub jumpers: u8,
    /// TEST_RESULT.
    pub test_result: u8,
    /// VERSION_NUMBER.
    pub version_number: u16,
    /// PERIOD_OF_STATISTICS.
    pub period_of_statistics: u16,
    /// NUMBER_OF_CRCs.
    pub number_of_crcs: u16,
    /// NUMBER_ALIGNMENT_ERRORS.
    pub number_alignment_errors: u16,
    /// NUMBER_OF_COLLISIONS.
    pub number_of_collisions: u16,
    /// NUMBER_SEND_ABORTS.
    pub number_send_aborts: u16,
    /// NUMBER_GOOD_SENDS.
    pub number_good_sends: u32,
    /// NUMBER_GOOD_RECEIVES.
    pub number_good_receives: u32,
    /// NUMBER_RETRANSMITS.
    pub number_retransmits: u16,
    /// NUMBER_NO_RESOURCE_CONDITIONS.
    pub number_no_resource_conditions: u16,
    /// NUMBER_FREE_COMMAND_BLOCKS.
    pub number_free_command_blocks: u16,
    /// TOTAL_NUMBER_COMMAND_BLOCKS.
    pub total_number_command_blocks: u16,
    /// MAX_TOTAL_NUMBER_COMMAND_BLOCKS.
    pub max_total_number_command_blocks: u16,
    /// NUMBER_PENDING_SESSIONS.
    pub number_pending_sessions: u16,
    /// MAX_NUMBER_PENDING_SESSIONS.
    pub max_number_pending_sessions: u16,
    /// MAX_TOTAL_SESSIONS_POSSIBLE.
    pub max_total_sessions_possible: u16,
    /// SESSION_DATA_PACKET_SIZE.
    pub session_data_packet_size: u16,
}

impl Statistics {
    /// A zeroed block that carries only the unit ID.
    pub fn with_unit_id(unit_id: [u8; 6]) -> Self {
        Statistics {
            unit_id,
            ..Statistics::default()
        }
    }

    /// Reads the block. Some stacks send it short: missing trailing fields read as zero, and
    /// bytes past the 46 of the block are ignored.
    pub fn parse(bytes: &[u8]) -> Self {
        let mut full = [0u8; STATISTICS_LEN];
        let n = bytes.len().min(STATISTICS_LEN);
        full[..n].copy_from_slice(&bytes[..n]);
        let b = |i: usize| u16::from_be_bytes([full[i], full[i + 1]]);
        let d = |i: usize| u32::from_be_bytes([full[i], full[i + 1], full[i + 2], full[i + 3]]);
        let mut unit_id = [0u8; 6];
        unit_id.copy_from_slice(&full[..6]);
        Statistics {
            unit_id,
            jumpers: full[6],
            test_result: full[7],
            version_number: b(8),
            period_of_statistics: b(10),
            number_of_crcs: b(12),
            number_alignment_errors: b(14),
            number_of_collisions: b(16),
            number_send_aborts: b(18),
            number_good_sends: d(20),
            number_good_receives: d(24),
            number_retransmits: b(28),
            number_no_resource_conditions: b(30),
            number_free_command_blocks: b(32),
            total_number_command_blocks: b(34),
            max_total_number_command_blocks: b(36),
            number_pending_sessions: b(38),
            max_number_pending_sessions: b(40),
            max_total_sessions_possible: b(42),
            session_data_packet_size: b(44),
        }
    }

    fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.put(&self.unit_id)?;
        w.u8(self.jumpers)?;
        w.u8(self.test_result)?;
        for v in [
            self.version_number,
            self.period_of_statistics,
            self.number_of_crcs,
            self.number_alignment_errors,
            self.number_of_collisions,
            self.number_send_aborts,
        ] {
            w.u16_be(v)?;
        }
        w.u32_be(self.number_good_sends)?;
        w.u32_be(self.number_good_receives)?;
        for v in [
            self.number_retransmits,
            self.number_no_resource_conditions,
            self.number_free_command_blocks,
            self.total_number_command_blocks,
            self.max_total_number_command_blocks,
            self.number_pending_sessions,
            self.max_number_pending_sessions,
            self.max_total_sessions_possible,
            self.session_data_packet_size,
        ] {
            w.u16_be(v)?;
        }
        Ok(())
    }
}

/// The RDATA of a node status response: the name table and the statistics block.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct NodeStatus {
    /// NODE_NAME entries; at most 255 (NUM_NAMES is one byte).
    pub names: Vec<NodeName>,
    /// The statistics block.
    pub statistics: Statistics,
}

impl NodeStatus {
    /// RDLENGTH of this node status: 1 + 18 × names + 46.
    pub fn rdata_len(&self) -> usize {
        1 + NODE_NAME_LEN * self.names.len() + STATISTICS_LEN
    }
}

/// A domain name (DNS labels), as used by the obsolete redirect response (RFC 1002 §4.2.15).
/// Kept as dotted bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct DomainName(pub Vec<u8>);

impl DomainName {
    /// Encoded length: one length byte per label, the labels, and the final zero.
    pub fn wire_len(&self) -> usize {
        if self.0.is_empty() {
            1
        } else {
            self.0.len() + 2
        }
    }

    pub(crate) fn parse(r: &mut Reader<'_>, field: &'static str) -> Result<Self, ParseError> {
        let labels = read_labels(r, Pointers::Follow, field)?;
        let mut out = Vec::new();
        for (off, l) in labels {
            if l.contains(&b'.') {
                return Err(ParseError::malformed(
                    field,
                    off,
                    "domain label holds a dot",
                ));
            }
            if !out.is_empty() {
                out.push(b'.');
            }
            out.extend_from_slice(l);
        }
        Ok(DomainName(out))
    }

    pub(crate) fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        if self.wire_len() > crate::name::MAX_WIRE_NAME_LEN {
            return Err(EmitError::FieldTooLarge {
                field: "domain name",
                why: "longer than 255 bytes",
            });
        }
        if !self.0.is_empty() {
            for l in self.0.split(|&b| b == b'.') {
                if l.is_empty() || l.len() > 63 {
                    return Err(EmitError::FieldTooLarge {
                        field: "domain name",
                        why: "labels must be 1 to 63 bytes",
                    });
                }
                w.u8(l.len() as u8)?;
                w.put(l)?;
            }
        }
        w.u8(0)
    }
}

/// The RDATA of a resource record, read according to RR_TYPE.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Rdata {
    /// NB (0x0020): address entries, 6 bytes each.
    Nb(Vec<NbAddress>),
    /// NBSTAT (0x0021): a node status answer.
    NodeStatus(NodeStatus),
    /// A (0x0001): an IPv4 address (redirect responses).
    A(Ipv4Addr),
    /// NS (0x0002): a name server's domain name (redirect responses).
    Ns(DomainName),
    /// Anything else, and NULL records (negative responses, WACK), kept as bytes.
    Raw(Vec<u8>),
}

impl Rdata {
    /// RDLENGTH of this data.
    pub fn wire_len(&self) -> usize {
        match self {
            Rdata::Nb(v) => NB_ADDRESS_LEN * v.len(),
            Rdata::NodeStatus(s) => s.rdata_len(),
            Rdata::A(_) => 4,
            Rdata::Ns(d) => d.wire_len(),
            Rdata::Raw(b) => b.len(),
        }
    }

    pub(crate) fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        match self {
            Rdata::Nb(v) => {
                for a in v {
                    w.u16_be(a.flags.bits())?;
                    w.put(&a.addr.octets())?;
                }
                Ok(())
            }
            Rdata::NodeStatus(s) => {
                let n = u8::try_from(s.names.len()).map_err(|_| EmitError::FieldTooLarge {
                    field: "NBSTAT NUM_NAMES",
                    why: "a node status holds at most 255 names",
                })?;
                w.u8(n)?;
                for e in &s.names {
                    w.put(e.name.raw())?;
                    w.u16_be(e.flags.bits())?;
                }
                s.statistics.emit(w)
            }
            Rdata::A(a) => w.put(&a.octets()),
            Rdata::Ns(d) => d.emit(w),
            Rdata::Raw(b) => w.put(b),
        }
    }

    /// Reads RDATA of `rr_type` from `r`, which holds exactly RDLENGTH bytes; `base` is the
    /// RDATA's offset in the packet, for errors. `raw_nb` forces raw bytes for an NB record
    /// whose data is not an address list (WACK carries the request's flags word there).
    pub(crate) fn parse(
        packet: &[u8],
        start: usize,
        len: usize,
        rr_type: super::RrType,
        raw_nb: bool,
    ) -> Result<Self, ParseError> {
        use super::RrType;
        let bytes = &packet[start..start + len];
        match rr_type {
            RrType::NB if !raw_nb => {
                if len % NB_ADDRESS_LEN != 0 {
                    return Err(ParseError::bad_value(
                        "NB RDLENGTH",
                        start - 2,
                        len as u64,
                        "a multiple of 6",
                    ));
                }
                Ok(Rdata::Nb(
                    bytes
                        .chunks_exact(NB_ADDRESS_LEN)
                        .map(|c| NbAddress {
                            flags: NbFlags::from_bits_retain(u16::from_be_bytes([c[0], c[1]])),
                            addr: Ipv4Addr::new(c[2], c[3], c[4], c[5]),
                        })
                        .collect(),
                ))
            }
            RrType::NBSTAT => {
                let mut r = Reader::new(bytes);
                let n = usize::from(r.u8("NBSTAT NUM_NAMES").map_err(|e| e.shifted(start))?);
                let table = r
                    .take(n * NODE_NAME_LEN, "NBSTAT NODE_NAME table")
                    .map_err(|e| e.shifted(start))?;
                let names = table
                    .chunks_exact(NODE_NAME_LEN)
                    .map(|c| {
                        let mut raw = [0u8; NAME_LEN];
                        raw.copy_from_slice(&c[..NAME_LEN]);
                        NodeName {
                            name: NetbiosName::from_raw(raw),
                            flags: NameFlags::from_bits_retain(u16::from_be_bytes([
                                c[NAME_LEN],
                                c[NAME_LEN + 1],
                            ])),
                        }
                    })
                    .collect();
                Ok(Rdata::NodeStatus(NodeStatus {
                    names,
                    statistics: Statistics::parse(r.rest()),
                }))
            }
            RrType::A if len == 4 => Ok(Rdata::A(Ipv4Addr::new(
                bytes[0], bytes[1], bytes[2], bytes[3],
            ))),
            RrType::A => Err(ParseError::bad_value(
                "A RDLENGTH",
                start - 2,
                len as u64,
                "4",
            )),
            RrType::NS => {
                // The domain name may point back into the packet, so read it in place.
                let mut r = Reader::at(&packet[..start + len], start);
                let d = DomainName::parse(&mut r, "NS RDATA NSD_NAME")?;
                if r.pos() != start + len {
                    return Err(ParseError::malformed(
                        "NS RDATA",
                        r.pos(),
                        "RDLENGTH does not match the name server's domain name",
                    ));
                }
                Ok(Rdata::Ns(d))
            }
            _ => Ok(Rdata::Raw(bytes.to_vec())),
        }
    }
}
