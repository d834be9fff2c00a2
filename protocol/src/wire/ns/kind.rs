//! The name service packets of RFC 1002 §4.2.2–4.2.18: how to tell them apart, and how to build
//! each one the way Samba and Windows send it.

use std::net::Ipv4Addr;

use super::{
    CLASS_IN, DomainName, NameServicePacket, NbAddress, NbFlags, NmFlags, NodeStatus, Opcode,
    Question, Rcode, Rdata, ResourceRecord, RrName, RrType,
};
use crate::name::ScopedName;

/// Which of the RFC's name service packets a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketKind {
    /// §4.2.12 NAME QUERY REQUEST.
    NameQueryRequest,
    /// §4.2.17 NODE STATUS REQUEST.
    NodeStatusRequest,
    /// §4.2.2 NAME REGISTRATION REQUEST (RD set).
    NameRegistrationRequest,
    /// §4.2.3 NAME OVERWRITE REQUEST & DEMAND (RD clear).
    NameOverwriteDemand,
    /// §4.2.4 NAME REFRESH REQUEST (opcode 8, or 9 as Microsoft sends it).
    NameRefreshRequest,
    /// §4.2.9 NAME RELEASE REQUEST & DEMAND.
    NameReleaseRequest,
    /// Microsoft's MULTI-HOMED NAME REGISTRATION REQUEST (opcode 15, WINS only).
    MultiHomedRegistrationRequest,
    /// §4.2.13 POSITIVE NAME QUERY RESPONSE.
    PositiveNameQueryResponse,
    /// §4.2.14 NEGATIVE NAME QUERY RESPONSE.
    NegativeNameQueryResponse,
    /// §4.2.15 REDIRECT NAME QUERY RESPONSE.
    RedirectNameQueryResponse,
    /// §4.2.18 NODE STATUS RESPONSE.
    NodeStatusResponse,
    /// §4.2.5 POSITIVE NAME REGISTRATION RESPONSE (also the positive refresh response).
    PositiveNameRegistrationResponse,
    /// §4.2.6 NEGATIVE NAME REGISTRATION RESPONSE (also the negative refresh response).
    NegativeNameRegistrationResponse,
    /// §4.2.7 END-NODE CHALLENGE REGISTRATION RESPONSE (RCODE 0 with RA clear).
    EndNodeChallengeRegistrationResponse,
    /// §4.2.8 NAME CONFLICT DEMAND: a registration response with CFT_ERR. A negative
    /// registration response with CFT_ERR has the same form; the name engine tells them apart by
    /// whether it has a registration in flight with that transaction ID.
    NameConflictDemand,
    /// §4.2.10 POSITIVE NAME RELEASE RESPONSE.
    PositiveNameReleaseResponse,
    /// §4.2.11 NEGATIVE NAME RELEASE RESPONSE.
    NegativeNameReleaseResponse,
    /// §4.2.16 WAIT FOR ACKNOWLEDGEMENT (WACK) RESPONSE.
    WaitForAcknowledgement,
    /// A combination the RFC does not define (for example a request with no question).
    Unknown,
}

impl NameServicePacket {
    /// Names the RFC packet this message is.
    pub fn kind(&self) -> PacketKind {
        use PacketKind::*;
        let rd = self.flags.contains(NmFlags::RECURSION_DESIRED);
        let ra = self.flags.contains(NmFlags::RECURSION_AVAILABLE);
        let aa = self.flags.contains(NmFlags::AUTHORITATIVE);
        let ok = self.rcode == Rcode::OK;
        if !self.response {
            let Some(q) = self.questions.first() else {
                return Unknown;
            };
            return match self.opcode {
                Opcode::Query if q.qtype == RrType::NBSTAT => NodeStatusRequest,
                Opcode::Query => NameQueryRequest,
                Opcode::Registration if rd => NameRegistrationRequest,
                Opcode::Registration => NameOverwriteDemand,
                Opcode::Refresh | Opcode::RefreshAlt => NameRefreshRequest,
                Opcode::Release => NameReleaseRequest,
                Opcode::MultiHomedRegistration => MultiHomedRegistrationRequest,
                Opcode::Wack => Unknown,
            };
        }
        match self.opcode {
            Opcode::Query => {
                if self.answers.iter().any(|a| a.rr_type == RrType::NBSTAT) {
                    NodeStatusResponse
                } else if !ok {
                    NegativeNameQueryResponse
                } else if !aa && !self.authority.is_empty() {
                    RedirectNameQueryResponse
                } else {
                    PositiveNameQueryResponse
                }
            }
            Opcode::Registration
            | Opcode::Refresh
            | Opcode::RefreshAlt
            | Opcode::MultiHomedRegistration => {
                if self.rcode == Rcode::CFT_ERR {
                    NameConflictDemand
                } else if !ok {
                    NegativeNameRegistrationResponse
                } else if !ra {
                    EndNodeChallengeRegistrationResponse
                } else {
                    PositiveNameRegistrationResponse
                }
            }
            Opcode::Release if ok => PositiveNameReleaseResponse,
            Opcode::Release => NegativeNameReleaseResponse,
            Opcode::Wack => WaitForAcknowledgement,
        }
    }

    fn request(trn_id: u16, opcode: Opcode, flags: NmFlags, question: Question) -> Self {
        NameServicePacket {
            trn_id,
            response: false,
            opcode,
            flags,
            rcode: Rcode::OK,
            questions: vec![question],
            answers: Vec::new(),
            authority: Vec::new(),
            additional: Vec::new(),
        }
    }

    fn response(
        trn_id: u16,
        opcode: Opcode,
        flags: NmFlags,
        rcode: Rcode,
        answer: ResourceRecord,
    ) -> Self {
        NameServicePacket {
            trn_id,
            response: true,
            opcode,
            flags,
            rcode,
            questions: Vec::new(),
            answers: vec![answer],
            authority: Vec::new(),
            additional: Vec::new(),
        }
    }

    /// §4.2.12 NAME QUERY REQUEST. A broadcast query sets B and RD, as nmblookup and Windows do;
    /// a unicast query to a node sets neither.
    pub fn name_query(trn_id: u16, name: ScopedName, broadcast: bool) -> Self {
        let flags = if broadcast {
            NmFlags::BROADCAST | NmFlags::RECURSION_DESIRED
        } else {
            NmFlags::empty()
        };
        Self::request(trn_id, Opcode::Query, flags, nb_question(name))
    }

    /// §4.2.17 NODE STATUS REQUEST, unicast, usually for `*<00>`.
    pub fn node_status_request(trn_id: u16, name: ScopedName) -> Self {
        Self::request(
            trn_id,
            Opcode::Query,
            NmFlags::empty(),
            Question {
                name,
                qtype: RrType::NBSTAT,
                qclass: CLASS_IN,
            },
        )
    }

    fn with_additional(
        trn_id: u16,
        opcode: Opcode,
        flags: NmFlags,
        name: ScopedName,
        ttl: u32,
        nb: NbAddress,
    ) -> Self {
        let mut p = Self::request(trn_id, opcode, flags, nb_question(name.clone()));
        p.additional.push(nb_record(name, ttl, vec![nb]));
        p
    }

    fn bcast_flags(broadcast: bool) -> NmFlags {
        if broadcast {
            NmFlags::BROADCAST
        } else {
            NmFlags::empty()
        }
    }

    /// §4.2.2 NAME REGISTRATION REQUEST (RD set; B when broadcast). The additional record names
    /// the question by the `C0 0C` pointer.
    pub fn registration_request(
        trn_id: u16,
        name: ScopedName,
        ttl: u32,
        nb: NbAddress,
        broadcast: bool,
    ) -> Self {
        let flags = NmFlags::RECURSION_DESIRED | Self::bcast_flags(broadcast);
        Self::with_additional(trn_id, Opcode::Registration, flags, name, ttl, nb)
    }

    /// §4.2.3 NAME OVERWRITE REQUEST & DEMAND: a broadcast registration with RD clear, sent once
    /// the retries drew no objection.
    pub fn overwrite_demand(trn_id: u16, name: ScopedName, ttl: u32, nb: NbAddress) -> Self {
        Self::with_additional(
            trn_id,
            Opcode::Registration,
            NmFlags::BROADCAST,
            name,
            ttl,
            nb,
        )
    }

    /// §4.2.4 NAME REFRESH REQUEST, with opcode 8 (the RFC's value).
    pub fn refresh_request(
        trn_id: u16,
        name: ScopedName,
        ttl: u32,
        nb: NbAddress,
        broadcast: bool,
    ) -> Self {
        Self::with_additional(
            trn_id,
            Opcode::Refresh,
            Self::bcast_flags(broadcast),
            name,
            ttl,
            nb,
        )
    }

    /// §4.2.9 NAME RELEASE REQUEST & DEMAND (TTL 0; B when broadcast).
    pub fn release_request(trn_id: u16, name: ScopedName, nb: NbAddress, broadcast: bool) -> Self {
        Self::with_additional(
            trn_id,
            Opcode::Release,
            Self::bcast_flags(broadcast),
            name,
            0,
            nb,
        )
    }

    /// §4.2.13 POSITIVE NAME QUERY RESPONSE, with AA, RD and RA as Samba sends it.
    pub fn positive_query_response(
        trn_id: u16,
        name: ScopedName,
        ttl: u32,
        addresses: Vec<NbAddress>,
    ) -> Self {
        Self::response(
            trn_id,
            Opcode::Query,
            answer_flags(),
            Rcode::OK,
            nb_record(name, ttl, addresses),
        )
    }

    /// §4.2.14 NEGATIVE NAME QUERY RESPONSE: a NULL record with TTL 0 and no data.
    pub fn negative_query_response(trn_id: u16, name: ScopedName, rcode: Rcode) -> Self {
        Self::response(
            trn_id,
            Opcode::Query,
            answer_flags(),
            rcode,
            ResourceRecord {
                name: RrName::Netbios(name),
                rr_type: RrType::NULL,
                rr_class: CLASS_IN,
                ttl: 0,
                rdata: Rdata::Raw(Vec::new()),
            },
        )
    }

    /// §4.2.15 REDIRECT NAME QUERY RESPONSE: names another name server and its address.
    pub fn redirect_query_response(
        trn_id: u16,
        name: ScopedName,
        server: DomainName,
        server_ip: Ipv4Addr,
    ) -> Self {
        NameServicePacket {
            trn_id,
            response: true,
            opcode: Opcode::Query,
            flags: NmFlags::RECURSION_DESIRED,
            rcode: Rcode::OK,
            questions: Vec::new(),
            answers: Vec::new(),
            authority: vec![ResourceRecord {
                name: RrName::Netbios(name),
                rr_type: RrType::NS,
                rr_class: CLASS_IN,
                ttl: 0,
                rdata: Rdata::Ns(server.clone()),
            }],
            additional: vec![ResourceRecord {
                name: RrName::Domain(server),
                rr_type: RrType::A,
                rr_class: CLASS_IN,
                ttl: 0,
                rdata: Rdata::A(server_ip),
            }],
        }
    }

    /// §4.2.18 NODE STATUS RESPONSE (AA set, TTL 0).
    pub fn node_status_response(trn_id: u16, name: ScopedName, status: NodeStatus) -> Self {
        Self::response(
            trn_id,
            Opcode::Query,
            NmFlags::AUTHORITATIVE,
            Rcode::OK,
            ResourceRecord {
                name: RrName::Netbios(name),
                rr_type: RrType::NBSTAT,
                rr_class: CLASS_IN,
                ttl: 0,
                rdata: Rdata::NodeStatus(status),
            },
        )
    }

    /// §4.2.5 POSITIVE NAME REGISTRATION RESPONSE.
    pub fn positive_registration_response(
        trn_id: u16,
        name: ScopedName,
        ttl: u32,
        nb: NbAddress,
    ) -> Self {
        Self::response(
            trn_id,
            Opcode::Registration,
            answer_flags(),
            Rcode::OK,
            nb_record(name, ttl, vec![nb]),
        )
    }

    /// §4.2.6 NEGATIVE NAME REGISTRATION RESPONSE: how a B-node defends a unique name, with
    /// ACT_ERR and the owner's address.
    pub fn negative_registration_response(
        trn_id: u16,
        name: ScopedName,
        rcode: Rcode,
        ttl: u32,
        owner: NbAddress,
    ) -> Self {
        Self::response(
            trn_id,
            Opcode::Registration,
            answer_flags(),
            rcode,
            nb_record(name, ttl, vec![owner]),
        )
    }

    /// §4.2.8 NAME CONFLICT DEMAND: CFT_ERR with the name and the address in conflict.
    pub fn conflict_demand(trn_id: u16, name: ScopedName, nb: NbAddress) -> Self {
        Self::response(
            trn_id,
            Opcode::Registration,
            answer_flags(),
            Rcode::CFT_ERR,
            nb_record(name, 0, vec![nb]),
        )
    }

    /// §4.2.10 and §4.2.11 NAME RELEASE RESPONSE, positive when `rcode` is OK.
    pub fn release_response(trn_id: u16, name: ScopedName, rcode: Rcode, nb: NbAddress) -> Self {
        Self::response(
            trn_id,
            Opcode::Release,
            NmFlags::AUTHORITATIVE,
            rcode,
            nb_record(name, 0, vec![nb]),
        )
    }

    /// §4.2.16 WAIT FOR ACKNOWLEDGEMENT: asks the requester to wait `ttl` seconds; the data is
    /// the request's 16-bit flags word.
    pub fn wack(trn_id: u16, name: ScopedName, ttl: u32, request_flags_word: u16) -> Self {
        Self::response(
            trn_id,
            Opcode::Wack,
            NmFlags::AUTHORITATIVE,
            Rcode::OK,
            ResourceRecord {
                name: RrName::Netbios(name),
                rr_type: RrType::NULL,
                rr_class: CLASS_IN,
                ttl,
                rdata: Rdata::Raw(request_flags_word.to_be_bytes().to_vec()),
            },
        )
    }
}

/// AA, RD and RA: what Samba sets in its positive and negative answers (the capture
/// `name-query-unicast` shows 0x8580 even for a request with RD clear).
fn answer_flags() -> NmFlags {
    NmFlags::AUTHORITATIVE | NmFlags::RECURSION_DESIRED | NmFlags::RECURSION_AVAILABLE
}

fn nb_question(name: ScopedName) -> Question {
    Question {
        name,
        qtype: RrType::NB,
        qclass: CLASS_IN,
    }
}

fn nb_record(name: ScopedName, ttl: u32, addresses: Vec<NbAddress>) -> ResourceRecord {
    ResourceRecord {
        name: RrName::Netbios(name),
        rr_type: RrType::NB,
        rr_class: CLASS_IN,
        ttl,
        rdata: Rdata::Nb(addresses),
    }
}

impl NbAddress {
    /// An address entry for a unique or group name of a B-node.
    pub fn b_node(addr: Ipv4Addr, group: bool) -> Self {
        NbAddress {
            flags: NbFlags::new(group, super::NodeType::B),
            addr,
        }
    }
}
