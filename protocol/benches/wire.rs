//! Parse and emit cost of the packets on nbtd's hot paths: a name query, a node status response,
//! and a host announcement (the frame alone and wrapped in its SMB and datagram envelopes).
//!
//! Run with `cargo bench -p nbt-protocol --bench wire`.

use std::hint::black_box;
use std::net::Ipv4Addr;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nbt_protocol::name::{NetbiosName, ScopedName};
use nbt_protocol::wire::Emit;
use nbt_protocol::wire::browse::{
    Announcement, BrowserFrame, MAILSLOT_BROWSE, ServerName, ServerType,
};
use nbt_protocol::wire::dgram::{
    Datagram, DatagramFlags, DatagramHeader, DirectDatagram, DirectType,
};
use nbt_protocol::wire::ns::{NameFlags, NameServicePacket, NodeName, NodeStatus, Statistics};
use nbt_protocol::wire::smb::TransactionRequest;

fn name(s: &str, sfx: u8) -> NetbiosName {
    NetbiosName::new(s, sfx).unwrap()
}

fn node_status() -> NameServicePacket {
    let act = NameFlags::ACTIVE;
    let grp = NameFlags::ACTIVE | NameFlags::GROUP;
    let names = [
        (name("BRAVO", 0x00), act),
        (name("BRAVO", 0x03), act),
        (name("BRAVO", 0x20), act),
        (NetbiosName::MSBROWSE, grp),
        (name("LABWG", 0x00), grp),
        (name("LABWG", 0x1D), act),
        (name("LABWG", 0x1E), grp),
    ]
    .into_iter()
    .map(|(name, flags)| NodeName { name, flags })
    .collect();
    NameServicePacket::node_status_response(
        0x5f92,
        ScopedName::unscoped(name("BRAVO", 0)),
        NodeStatus {
            names,
            statistics: Statistics::with_unit_id([0x02, 0, 0, 0, 0, 1]),
        },
    )
}

fn host_announcement() -> BrowserFrame {
    BrowserFrame::HostAnnouncement(Announcement::new(
        ServerName::new("ALPHA").unwrap(),
        ServerType::WORKSTATION | ServerType::SERVER | ServerType::POTENTIAL_BROWSER,
        720_000,
        b"lab host nb1".to_vec(),
    ))
}

fn announcement_datagram(frame: &BrowserFrame) -> DirectDatagram {
    DirectDatagram {
        msg_type: DirectType::DirectGroup,
        header: DatagramHeader {
            flags: DatagramFlags::FIRST,
            dgm_id: 0x62db,
            source_ip: Ipv4Addr::new(198, 18, 0, 1),
            source_port: 138,
        },
        packet_offset: 0,
        source_name: ScopedName::unscoped(name("ALPHA", 0)),
        destination_name: ScopedName::unscoped(name("LABWG", 0x1D)),
        user_data: TransactionRequest::mailslot(MAILSLOT_BROWSE, frame.to_vec().unwrap())
            .to_vec()
            .unwrap(),
    }
}

fn bench<T: Emit>(c: &mut Criterion, group: &str, value: &T, parse: impl Fn(&[u8]) -> bool) {
    let bytes = value.to_vec().unwrap();
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse", |b| b.iter(|| assert!(parse(black_box(&bytes)))));
    let mut buf = vec![0u8; 1024];
    g.bench_function("emit", |b| {
        b.iter(|| black_box(value).emit(black_box(&mut buf)).unwrap())
    });
    g.finish();
}

fn wire(c: &mut Criterion) {
    let query =
        NameServicePacket::name_query(0xabcd, ScopedName::unscoped(name("WORKGROUP", 0x1D)), true);
    bench(c, "name_query", &query, |b| {
        NameServicePacket::parse(b).is_ok()
    });
    bench(c, "node_status_response", &node_status(), |b| {
        NameServicePacket::parse(b).is_ok()
    });
    let frame = host_announcement();
    bench(c, "host_announcement_frame", &frame, |b| {
        BrowserFrame::parse(b).is_ok()
    });
    let dgram = announcement_datagram(&frame);
    bench(c, "host_announcement_datagram", &dgram, |b| {
        let Ok(Datagram::Direct(d)) = Datagram::parse(b) else {
            return false;
        };
        let Ok(t) = TransactionRequest::parse(&d.user_data) else {
            return false;
        };
        BrowserFrame::parse(&t.data).is_ok()
    });
}

criterion_group!(benches, wire);
criterion_main!(benches);
