//! The reference ceiling: the least any name server can do per request. One blocking
//! `recv_from`, a fixed answer (a positive name query answer, or a node status answer when the
//! request asks for NBSTAT) with the request's transaction ID, one `send_to`. It checks nothing
//! else, so no real server can be faster on the same socket calls.

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};

use anyhow::Context;
use nbtd::protocol::NetbiosName;
use nbtd::protocol::name::{ScopedName, suffix};
use nbtd::protocol::wire::Emit;
use nbtd::protocol::wire::ns::{
    NameFlags, NameServicePacket, NbAddress, NodeName, NodeStatus, NodeType, Statistics,
};

/// Where the question type sits in a request for an unscoped name.
const QTYPE_AT: usize = 12 + 34;

/// The two fixed answers for `name` at `addr`: a name query answer and a node status answer
/// with the five names a host registers (as nbtd and nmbd answer).
fn answers(
    name: NetbiosName,
    workgroup: NetbiosName,
    addr: Ipv4Addr,
) -> anyhow::Result<[Vec<u8>; 2]> {
    let q = ScopedName::unscoped(name);
    let query = NameServicePacket::positive_query_response(
        0,
        q.clone(),
        259_200,
        vec![NbAddress::b_node(addr, false)],
    );
    let b = NameFlags::ACTIVE | NameFlags::from_bits_retain(NodeType::B.bits());
    let mut names: Vec<NodeName> = [suffix::WORKSTATION, suffix::MESSENGER, suffix::SERVER]
        .into_iter()
        .map(|s| NodeName {
            name: name.with_suffix(s),
            flags: b,
        })
        .collect();
    for s in [suffix::WORKSTATION, suffix::BROWSER_ELECTION] {
        names.push(NodeName {
            name: workgroup.with_suffix(s),
            flags: b | NameFlags::GROUP,
        });
    }
    let status = NameServicePacket::node_status_response(
        0,
        q,
        NodeStatus {
            names,
            statistics: Statistics::with_unit_id([2, 0, 0, 0, 0, 1]),
        },
    );
    Ok([
        query.to_vec().context("cannot build the query answer")?,
        status
            .to_vec()
            .context("cannot build the node status answer")?,
    ])
}

/// Answers on `bind` until killed.
pub fn run(bind: SocketAddrV4, name: NetbiosName, workgroup: NetbiosName) -> anyhow::Result<()> {
    let socket = UdpSocket::bind(bind).with_context(|| format!("cannot bind UDP {bind}"))?;
    let [mut query, mut status] = answers(name, workgroup, *bind.ip())?;
    let mut buf = [0u8; 1024];
    loop {
        let (n, from) = socket.recv_from(&mut buf).context("cannot receive")?;
        if n < 12 {
            continue;
        }
        let answer = if n > QTYPE_AT + 1 && buf[QTYPE_AT + 1] == 0x21 {
            &mut status
        } else {
            &mut query
        };
        answer[..2].copy_from_slice(&buf[..2]);
        // A failed send (a full buffer) is a lost answer, as for any server.
        let _ = socket.send_to(answer, from);
    }
}
