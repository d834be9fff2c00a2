//! Test support: reads the pcapng captures of real Samba traffic in `tests/vectors/` and hands
//! back UDP payloads and reassembled TCP streams. Only what those captures use is supported:
//! pcapng with Ethernet link type, IPv4, UDP and TCP.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;

/// One UDP datagram from a capture.
#[derive(Debug, Clone)]
pub struct Udp {
    /// Source address and port.
    pub src: SocketAddrV4,
    /// Destination address and port.
    pub dst: SocketAddrV4,
    /// The UDP payload.
    pub payload: Vec<u8>,
}

/// One TCP connection from a capture, each direction reassembled in sequence order.
#[derive(Debug, Clone, Default)]
pub struct TcpConn {
    /// The side that sent the first SYN.
    pub client: Option<SocketAddrV4>,
    /// The other side.
    pub server: Option<SocketAddrV4>,
    /// Bytes sent by the client, in order.
    pub to_server: Vec<u8>,
    /// Bytes sent by the server, in order.
    pub to_client: Vec<u8>,
}

/// Path of a capture in `tests/vectors/`.
pub fn vector(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name)
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes(b[at..at + 2].try_into().unwrap())
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

/// Ethernet frames of every Enhanced Packet Block in a pcapng file.
pub fn frames(name: &str) -> Vec<Vec<u8>> {
    let path = vector(name);
    let d = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(le32(&d, 0), 0x0A0D_0D0A, "{name}: not a pcapng file");
    assert_eq!(
        le32(&d, 8),
        0x1A2B_3C4D,
        "{name}: only little-endian pcapng is supported"
    );
    let mut out = Vec::new();
    let mut i = 0;
    while i + 12 <= d.len() {
        let (bt, bl) = (le32(&d, i), le32(&d, i + 4) as usize);
        assert!(bl >= 12 && i + bl <= d.len(), "{name}: bad block at {i}");
        if bt == 1 {
            assert_eq!(
                u16::from_le_bytes([d[i + 8], d[i + 9]]),
                1,
                "{name}: link type must be Ethernet"
            );
        }
        if bt == 6 {
            let cap = le32(&d, i + 20) as usize;
            out.push(d[i + 28..i + 28 + cap].to_vec());
        }
        i += bl;
    }
    out
}

enum L4<'a> {
    Udp(SocketAddrV4, SocketAddrV4, &'a [u8]),
    Tcp {
        src: SocketAddrV4,
        dst: SocketAddrV4,
        seq: u32,
        syn: bool,
        payload: &'a [u8],
    },
}

fn decode(frame: &[u8]) -> Option<L4<'_>> {
    if be16(frame, 12) != 0x0800 {
        return None;
    }
    let ip = &frame[14..];
    let ihl = usize::from(ip[0] & 0x0F) * 4;
    let total = usize::from(be16(ip, 2));
    let ip = &ip[..total];
    let src_ip = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let dst_ip = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
    let l4 = &ip[ihl..];
    let src = SocketAddrV4::new(src_ip, be16(l4, 0));
    let dst = SocketAddrV4::new(dst_ip, be16(l4, 2));
    match ip[9] {
        17 => Some(L4::Udp(src, dst, &l4[8..usize::from(be16(l4, 4))])),
        6 => {
            let off = usize::from(l4[12] >> 4) * 4;
            Some(L4::Tcp {
                src,
                dst,
                seq: be32(l4, 4),
                syn: l4[13] & 0x02 != 0,
                payload: &l4[off..],
            })
        }
        _ => None,
    }
}

/// Every UDP datagram of a capture, in capture order.
pub fn udp(name: &str) -> Vec<Udp> {
    frames(name)
        .iter()
        .filter_map(|f| match decode(f) {
            Some(L4::Udp(src, dst, p)) => Some(Udp {
                src,
                dst,
                payload: p.to_vec(),
            }),
            _ => None,
        })
        .collect()
}

/// Every TCP connection of a capture, in the order their first SYN appears, each direction
/// reassembled by sequence number (retransmissions are folded).
pub fn tcp(name: &str) -> Vec<TcpConn> {
    type Key = (SocketAddrV4, SocketAddrV4);
    let mut order: Vec<Key> = Vec::new();
    let mut isn: BTreeMap<(SocketAddrV4, SocketAddrV4), u32> = BTreeMap::new();
    let mut segs: BTreeMap<(SocketAddrV4, SocketAddrV4), BTreeMap<u32, Vec<u8>>> = BTreeMap::new();
    for f in frames(name) {
        let Some(L4::Tcp {
            src,
            dst,
            seq,
            syn,
            payload,
        }) = decode(&f)
        else {
            continue;
        };
        if syn {
            isn.insert((src, dst), seq.wrapping_add(1));
            if !order
                .iter()
                .any(|&(a, b)| (a, b) == (src, dst) || (a, b) == (dst, src))
            {
                order.push((src, dst));
            }
            continue;
        }
        if payload.is_empty() {
            continue;
        }
        let base = *isn
            .get(&(src, dst))
            .unwrap_or_else(|| panic!("{name}: data before SYN on {src}->{dst}"));
        segs.entry((src, dst))
            .or_default()
            .insert(seq.wrapping_sub(base), payload.to_vec());
    }
    let join = |k: Key| {
        let mut out = Vec::new();
        for (off, p) in segs.get(&k).into_iter().flatten() {
            let off = *off as usize;
            assert!(
                off <= out.len(),
                "{name}: gap in TCP stream {}->{}",
                k.0,
                k.1
            );
            if off + p.len() > out.len() {
                out.extend_from_slice(&p[out.len() - off..]);
            }
        }
        out
    };
    order
        .into_iter()
        .map(|(c, s)| TcpConn {
            client: Some(c),
            server: Some(s),
            to_server: join((c, s)),
            to_client: join((s, c)),
        })
        .collect()
}

/// Parses a hex string with optional white space, for byte literals in tests.
pub fn hex(s: &str) -> Vec<u8> {
    let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    s.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}
