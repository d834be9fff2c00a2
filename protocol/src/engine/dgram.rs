//! The datagram service of a B-node (RFC 1002 §5.3): receive direct and broadcast datagrams,
//! reassemble fragments, unwrap mailslot writes, and build the datagrams the browser sends.
//!
//! - Fragments are reassembled by (source IP, DGM_ID), in order, within FRAGMENT_TO = 2 s. At
//!   most [`MAX_PARTIAL`] datagrams are held at once (the oldest is dropped past that), each up
//!   to [`MAX_REASSEMBLED`] bytes, so a flood of first fragments cannot grow memory.
//! - Dispatch is by destination name, not by message type: peers send to the unique
//!   `WORKGROUP<1D>` as DIRECT_GROUP broadcasts (Samba `send_mailslot`), so the type says little.
//! - nbtd sends every browser frame as a DIRECT_GROUP broadcast, as Samba does, except the
//!   GetBackupListResponse, which goes DIRECT_UNIQUE to the requester's address and port.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use super::{IfaceAddr, Instant, Service, Transmit};
use crate::error::ParseError;
use crate::name::{NetbiosName, Scope, ScopedName};
use crate::wire::Emit;
use crate::wire::dgram::{
    Datagram, DatagramFlags, DatagramHeader, DirectDatagram, DirectType, SourceNodeType,
};
use crate::wire::smb::TransactionRequest;

/// FRAGMENT_TO (RFC 1002 §6): how long a partial datagram waits for its other fragments.
pub const FRAGMENT_TO: Duration = Duration::from_secs(2);
/// Most partial datagrams held at once.
pub const MAX_PARTIAL: usize = 16;
/// Largest reassembled user data accepted.
pub const MAX_REASSEMBLED: usize = 8 * 1024;
/// The datagram service port.
pub const DATAGRAM_SERVICE_PORT: u16 = 138;

/// A mailslot write that arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailslot {
    /// The UDP source.
    pub src: SocketAddrV4,
    /// The datagram's message type.
    pub msg_type: DirectType,
    /// SOURCE_NAME.
    pub source_name: ScopedName,
    /// DESTINATION_NAME: what decides who handles it.
    pub destination_name: ScopedName,
    /// The mailslot, e.g. `\MAILSLOT\BROWSE`.
    pub mailslot: String,
    /// The mailslot data: for `\MAILSLOT\BROWSE`, a browser frame.
    pub data: Vec<u8>,
}

/// Why a datagram was not handed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DgramDrop {
    /// Not a valid datagram service packet or mailslot write, or a fragment that fits nothing.
    Malformed(ParseError),
    /// A fragment was kept for reassembly.
    Fragment,
    /// Valid, but nothing nbtd handles (error and query packets, other SMB commands).
    Unhandled,
}

#[derive(Debug, Clone)]
struct Partial {
    source: Ipv4Addr,
    dgm_id: u16,
    first: DirectDatagram,
    data: Vec<u8>,
    expires: Instant,
}

fn fragment_error(why: &'static str) -> DgramDrop {
    DgramDrop::Malformed(ParseError::malformed("PACKET_OFFSET", 12, why))
}

/// Reassembly state and the DGM_ID counter of one host.
#[derive(Debug, Clone)]
pub struct DatagramLayer {
    next_id: u16,
    port: u16,
    scope: Scope,
    partial: Vec<Partial>,
}

impl DatagramLayer {
    /// A layer that sends to `port` (138, or another for tests); `first_id` seeds DGM_ID.
    pub fn new(port: u16, scope: Scope, first_id: u16) -> Self {
        DatagramLayer {
            next_id: first_id,
            port,
            scope,
            partial: Vec::new(),
        }
    }

    /// The port peers listen on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// When stale fragments are next dropped.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.partial.iter().map(|p| p.expires).min()
    }

    /// Drops partial datagrams older than FRAGMENT_TO.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.partial.retain(|p| p.expires > now);
    }

    /// Parses a datagram, reassembling fragments, and unwraps the mailslot write it carries.
    pub fn receive(
        &mut self,
        now: Instant,
        src: SocketAddrV4,
        bytes: &[u8],
    ) -> Result<Mailslot, DgramDrop> {
        let d = match Datagram::parse(bytes) {
            Ok(Datagram::Direct(d)) => d,
            Ok(_) => return Err(DgramDrop::Unhandled),
            Err(e) => return Err(DgramDrop::Malformed(e)),
        };
        let flags = d.header.flags;
        let first = flags.contains(DatagramFlags::FIRST);
        let more = flags.contains(DatagramFlags::MORE);
        let whole = match (first, more) {
            (true, false) => d,
            _ => self.reassemble(now, *src.ip(), d)?,
        };
        let t = TransactionRequest::parse(&whole.user_data)
            .map_err(|e| DgramDrop::Malformed(e.shifted(14)))?;
        if !t.is_mailslot_write() {
            return Err(DgramDrop::Unhandled);
        }
        Ok(Mailslot {
            src,
            msg_type: whole.msg_type,
            source_name: whole.source_name,
            destination_name: whole.destination_name,
            mailslot: t.name,
            data: t.data,
        })
    }

    fn reassemble(
        &mut self,
        now: Instant,
        source: Ipv4Addr,
        d: DirectDatagram,
    ) -> Result<DirectDatagram, DgramDrop> {
        self.handle_timeout(now);
        let id = d.header.dgm_id;
        let flags = d.header.flags;
        if flags.contains(DatagramFlags::FIRST) {
            if d.packet_offset != 0 || d.user_data.len() > MAX_REASSEMBLED {
                return Err(fragment_error("a first fragment must start at offset 0"));
            }
            self.partial
                .retain(|p| !(p.source == source && p.dgm_id == id));
            if self.partial.len() >= MAX_PARTIAL {
                self.partial.remove(0);
            }
            let data = d.user_data.clone();
            self.partial.push(Partial {
                source,
                dgm_id: id,
                first: d,
                data,
                expires: now + FRAGMENT_TO,
            });
            return Err(DgramDrop::Fragment);
        }
        let Some(i) = self
            .partial
            .iter()
            .position(|p| p.source == source && p.dgm_id == id)
        else {
            return Err(fragment_error("a later fragment with no first fragment"));
        };
        let p = &mut self.partial[i];
        if usize::from(d.packet_offset) != p.data.len()
            || p.data.len() + d.user_data.len() > MAX_REASSEMBLED
        {
            self.partial.swap_remove(i);
            return Err(fragment_error("fragments out of order or too large"));
        }
        p.data.extend_from_slice(&d.user_data);
        if flags.contains(DatagramFlags::MORE) {
            return Err(DgramDrop::Fragment);
        }
        let p = self.partial.swap_remove(i);
        Ok(DirectDatagram {
            user_data: p.data,
            ..p.first
        })
    }

    /// Builds a datagram carrying `frame` on `mailslot` from `source` to `destination`: a
    /// DIRECT_GROUP broadcast when `to` is `None`, else DIRECT_UNIQUE to `to`.
    pub fn mailslot(
        &mut self,
        iface: &IfaceAddr,
        source: NetbiosName,
        destination: ScopedName,
        to: Option<SocketAddrV4>,
        mailslot: &str,
        frame: Vec<u8>,
    ) -> Option<Transmit> {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let user_data = TransactionRequest::mailslot(mailslot, frame)
            .to_vec()
            .ok()?;
        let d = DirectDatagram {
            msg_type: if to.is_some() {
                DirectType::DirectUnique
            } else {
                DirectType::DirectGroup
            },
            header: DatagramHeader {
                flags: DatagramFlags::FIRST.with_node_type(SourceNodeType::BNode),
                dgm_id: id,
                source_ip: iface.addr,
                source_port: self.port,
            },
            packet_offset: 0,
            source_name: ScopedName {
                name: source,
                scope: self.scope.clone(),
            },
            destination_name: destination,
            user_data,
        };
        let payload = d.to_vec().ok()?;
        Some(Transmit {
            iface: iface.id,
            service: Service::Datagram,
            dst: to.unwrap_or(SocketAddrV4::new(iface.broadcast, self.port)),
            payload,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::IfaceId;

    fn iface() -> IfaceAddr {
        IfaceAddr {
            id: IfaceId(1),
            addr: Ipv4Addr::new(198, 18, 0, 1),
            netmask: Ipv4Addr::new(255, 255, 255, 0),
            broadcast: Ipv4Addr::new(198, 18, 0, 255),
            mac: [0; 6],
        }
    }

    fn name(s: &str, sfx: u8) -> NetbiosName {
        NetbiosName::new(s, sfx).unwrap()
    }

    #[test]
    fn a_built_datagram_is_received_as_the_same_mailslot_write() {
        let mut l = DatagramLayer::new(138, Scope::none(), 7);
        let t = l
            .mailslot(
                &iface(),
                name("ALPHA", 0),
                name("LABWG", 0x1D).into(),
                None,
                "\\MAILSLOT\\BROWSE",
                vec![1, 2, 3],
            )
            .unwrap();
        assert_eq!(
            t.dst,
            SocketAddrV4::new(Ipv4Addr::new(198, 18, 0, 255), 138)
        );
        let src = SocketAddrV4::new(Ipv4Addr::new(198, 18, 0, 1), 138);
        let m = l.receive(Instant::now(), src, &t.payload).unwrap();
        assert_eq!(m.mailslot, "\\MAILSLOT\\BROWSE");
        assert_eq!(m.data, [1, 2, 3]);
        assert_eq!(m.msg_type, DirectType::DirectGroup);
        assert_eq!(m.destination_name.name, name("LABWG", 0x1D));
    }

    fn fragment(
        whole: &DirectDatagram,
        range: std::ops::Range<usize>,
        first: bool,
        more: bool,
    ) -> Vec<u8> {
        let mut flags = DatagramFlags::empty();
        if first {
            flags |= DatagramFlags::FIRST;
        }
        if more {
            flags |= DatagramFlags::MORE;
        }
        DirectDatagram {
            header: DatagramHeader {
                flags,
                ..whole.header
            },
            packet_offset: range.start as u16,
            user_data: whole.user_data[range].to_vec(),
            ..whole.clone()
        }
        .to_vec()
        .unwrap()
    }

    /// A layer, and a browser datagram from it carrying `data`, parsed back.
    fn browse_datagram(first_id: u16, data: Vec<u8>) -> (DatagramLayer, DirectDatagram) {
        let mut l = DatagramLayer::new(138, Scope::none(), first_id);
        let t = l
            .mailslot(
                &iface(),
                name("ALPHA", 0),
                name("LABWG", 0x1D).into(),
                None,
                "\\MAILSLOT\\BROWSE",
                data,
            )
            .unwrap();
        let Ok(Datagram::Direct(whole)) = Datagram::parse(&t.payload) else {
            panic!("our own datagram does not parse")
        };
        (l, whole)
    }

    #[test]
    fn fragments_reassemble_in_order_and_expire() {
        let (mut l, whole) = browse_datagram(7, vec![9; 300]);
        let n = whole.user_data.len();
        let src = SocketAddrV4::new(Ipv4Addr::new(198, 18, 0, 2), 138);
        let now = Instant::now();
        assert_eq!(
            l.receive(now, src, &fragment(&whole, 0..100, true, true)),
            Err(DgramDrop::Fragment)
        );
        assert_eq!(
            l.receive(now, src, &fragment(&whole, 100..200, false, true)),
            Err(DgramDrop::Fragment)
        );
        let m = l
            .receive(now, src, &fragment(&whole, 200..n, false, false))
            .unwrap();
        assert_eq!(m.data, vec![9; 300]);
        // A second fragment after FRAGMENT_TO finds nothing to join.
        assert_eq!(
            l.receive(now, src, &fragment(&whole, 0..100, true, true)),
            Err(DgramDrop::Fragment)
        );
        let late = now + FRAGMENT_TO;
        assert!(matches!(
            l.receive(late, src, &fragment(&whole, 100..n, false, false)),
            Err(DgramDrop::Malformed(_))
        ));
        // A gap is refused.
        assert_eq!(
            l.receive(now, src, &fragment(&whole, 0..100, true, true)),
            Err(DgramDrop::Fragment)
        );
        assert!(matches!(
            l.receive(now, src, &fragment(&whole, 150..n, false, false)),
            Err(DgramDrop::Malformed(_))
        ));
    }

    #[test]
    fn partial_datagrams_are_bounded() {
        let (mut l, mut whole) = browse_datagram(0, vec![1; 50]);
        let now = Instant::now();
        for id in 0..1000u16 {
            whole.header.dgm_id = id;
            let src = SocketAddrV4::new(Ipv4Addr::new(198, 18, 0, 2), 138);
            let _ = l.receive(now, src, &fragment(&whole, 0..10, true, true));
            assert!(l.partial.len() <= MAX_PARTIAL);
        }
    }
}
