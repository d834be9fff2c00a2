//! Precomputed answers for a driver's fast path: the name queries and node status requests that
//! the [`NameEngine`](super::names::NameEngine) would answer on one interface address, in the
//! one plain shape peers send them, with the exact bytes it would send back.
//!
//! The engine builds an [`AnswerTable`] per interface from its state
//! ([`NameEngine::answer_table`](super::names::NameEngine::answer_table)) and says when the
//! tables are stale ([`NameEngine::answers_generation`](super::names::NameEngine::answers_generation)).
//! A driver answers a request from the table by copying the answer and patching the transaction
//! ID, with no parsing and no allocation, and hands everything the table declines to the engine
//! as usual. The table declines whatever it cannot answer exactly as the engine would: packets
//! that nbtd sent itself or (unless configured otherwise) from outside the subnet, any other
//! shape (other flags, counts, trailing bytes, compressed or differently cased names), and names
//! not active. The engine is told what was answered
//! ([`NameEngine::count_fast_answers`](super::names::NameEngine::count_fast_answers)) so that its
//! counters stay whole.

use std::net::{Ipv4Addr, SocketAddrV4};

use super::IfaceAddr;
use super::limit::RateLimit;

/// What a fast answer answered, for the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FastAnswer {
    /// A positive name query response.
    Query,
    /// A node status response.
    NodeStatus,
}

/// One answerable request: the bytes after the header, and the answer with a zero
/// transaction ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Precomputed {
    /// The question section as the request must carry it: encoded name, QTYPE, QCLASS.
    pub question: Vec<u8>,
    /// The whole answer datagram, transaction ID 0.
    pub answer: Vec<u8>,
    /// What it answers.
    pub kind: FastAnswer,
}

/// The header a request must have after its transaction ID: no flags but RD in byte 2 and B in
/// byte 3 (opcode QUERY, a request, RCODE 0), QDCOUNT 1 and no records.
const COUNTS: [u8; 8] = [0, 1, 0, 0, 0, 0, 0, 0];
/// NM_FLAGS bits a request may carry: RD (byte 2).
const ALLOWED_BYTE2: u8 = 0x01;
/// NM_FLAGS bits a request may carry: B (byte 3).
const BROADCAST_BIT: u8 = 0x10;

/// The fast answers of one interface address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerTable {
    /// The node status answers one source may get: the driver keeps its own
    /// [`RateLimiter`](super::limit::RateLimiter) with this limit for the table's answers.
    pub(crate) status_rate: RateLimit,
    /// The name service port: a packet from it and one of `own` is our own, and ignored.
    pub(crate) port: u16,
    /// Every address of this host.
    pub(crate) own: Vec<Ipv4Addr>,
    /// The interface address the table answers on (for the sources no host sends from).
    pub(crate) iface: Option<IfaceAddr>,
    /// The interface, when sources outside its subnet are ignored.
    pub(crate) subnet: Option<IfaceAddr>,
    /// The answerable requests, in the engine's order of lookup.
    pub(crate) entries: Vec<Precomputed>,
}

impl AnswerTable {
    /// A table that answers nothing.
    pub fn empty() -> Self {
        AnswerTable {
            status_rate: RateLimit::OFF,
            port: 0,
            own: Vec::new(),
            iface: None,
            subnet: None,
            entries: Vec::new(),
        }
    }

    /// Whether the table answers nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The node status answers one source may get from the table's answers (see
    /// [`RateLimiter`](super::limit::RateLimiter)): the driver limits them as the engine limits
    /// its own.
    pub fn status_rate(&self) -> RateLimit {
        self.status_rate
    }

    /// The longest answer in the table: a buffer this long holds any of them.
    pub fn max_answer_len(&self) -> usize {
        self.entries
            .iter()
            .map(|e| e.answer.len())
            .max()
            .unwrap_or(0)
    }

    /// Writes the answer to `request` from `src` into `out` and returns what it answers and its
    /// length, or `None` when the engine must see the request (including when `out` is too
    /// short). Never allocates and never panics.
    pub fn answer_into(
        &self,
        src: SocketAddrV4,
        request: &[u8],
        out: &mut [u8],
    ) -> Option<(FastAnswer, usize)> {
        if self.entries.is_empty() || request.len() < 12 {
            return None;
        }
        if src.port() == self.port && self.own.contains(src.ip()) {
            return None;
        }
        if self
            .iface
            .as_ref()
            .is_none_or(|i| i.is_impossible_source(*src.ip()))
        {
            return None;
        }
        if self.subnet.as_ref().is_some_and(|i| !i.contains(*src.ip())) {
            return None;
        }
        if request[2] & !ALLOWED_BYTE2 != 0
            || request[3] & !BROADCAST_BIT != 0
            || request[4..12] != COUNTS
        {
            return None;
        }
        // The B flag says nothing here: a driver serves the table on its unicast socket only,
        // and the engine decides by the socket too.
        let question = &request[12..];
        let e = self.entries.iter().find(|e| e.question == question)?;
        let out = out.get_mut(..e.answer.len())?;
        out.copy_from_slice(&e.answer);
        out[..2].copy_from_slice(&request[..2]);
        Some((e.kind, e.answer.len()))
    }
}
