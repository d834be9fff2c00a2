//! Golden test through the whole stack of a browser datagram: every captured datagram on UDP 138
//! unwraps as datagram → SMB TRANSACTION mailslot write → browser frame, and nbtd's own
//! constructors wrap the frame back into the very bytes Samba sent.

mod common;

use nbt_protocol::wire::Emit;
use nbt_protocol::wire::browse::{BrowserFrame, BrowserOpcode, MAILSLOT_BROWSE};
use nbt_protocol::wire::dgram::{Datagram, DirectDatagram, DirectType, SourceNodeType};
use nbt_protocol::wire::smb::TransactionRequest;

fn unwrap_all(file: &str) -> Vec<(DirectDatagram, BrowserFrame)> {
    common::udp(file)
        .into_iter()
        .filter(|u| u.dst.port() == 138)
        .map(|u| {
            let Datagram::Direct(d) = Datagram::parse(&u.payload).unwrap() else {
                panic!("{file}: not a direct datagram");
            };
            let t = TransactionRequest::parse(&d.user_data).unwrap();
            assert_eq!(t.name, MAILSLOT_BROWSE, "{file}");
            assert!(t.is_mailslot_write());
            let f = BrowserFrame::parse(&t.data).unwrap();
            // Wrap again with our own constructors: same bytes as Samba's, whole datagram.
            let rebuilt = DirectDatagram {
                user_data: TransactionRequest::mailslot(MAILSLOT_BROWSE, f.to_vec().unwrap())
                    .to_vec()
                    .unwrap(),
                ..d.clone()
            };
            assert_eq!(rebuilt.to_vec().unwrap(), u.payload, "{file}");
            assert_eq!(d.header.source_ip, *u.src.ip(), "SOURCE_IP is the sender");
            assert_eq!(d.header.source_port, 138);
            (d, f)
        })
        .collect()
}

#[test]
fn every_browser_capture_unwraps_and_rewraps() {
    let cases = [
        (
            "browser-host-announcement.pcapng",
            BrowserOpcode::HostAnnouncement,
            0x1D,
        ),
        (
            "browser-announcement-request.pcapng",
            BrowserOpcode::AnnouncementRequest,
            0x1E,
        ),
        (
            "browser-election-request.pcapng",
            BrowserOpcode::RequestElection,
            0x1E,
        ),
        (
            "browser-local-master-announcement.pcapng",
            BrowserOpcode::LocalMasterAnnouncement,
            0x1E,
        ),
        (
            "browser-domain-announcement.pcapng",
            BrowserOpcode::DomainAnnouncement,
            0x01,
        ),
        (
            "browser-getbackuplist.pcapng",
            BrowserOpcode::GetBackupListRequest,
            0x1D,
        ),
    ];
    for (file, opcode, dest_suffix) in cases {
        let v = unwrap_all(file);
        assert!(!v.is_empty(), "{file}");
        let (d, f) = &v[0];
        assert_eq!(f.opcode(), opcode, "{file}");
        assert_eq!(d.destination_name.name.suffix(), dest_suffix, "{file}");
        // Browser traffic goes as DIRECT_GROUP, even to the unique <1D> name. Samba's nmbd
        // flags itself an M-node; the lab's GetBackupList requester (a script) a B-node.
        assert_eq!(d.msg_type, DirectType::DirectGroup, "{file}");
        let expected = if file == "browser-getbackuplist.pcapng" {
            SourceNodeType::BNode
        } else {
            SourceNodeType::MNode
        };
        assert_eq!(d.header.flags.node_type(), expected, "{file}");
    }
}

#[test]
fn backup_list_response_is_direct_unique() {
    let v = unwrap_all("browser-getbackuplist.pcapng");
    let responses: Vec<_> = v
        .iter()
        .filter(|(_, f)| f.opcode() == BrowserOpcode::GetBackupListResponse)
        .collect();
    assert_eq!(
        responses.len(),
        4,
        "two requests, each answered twice by nmbd"
    );
    for (d, _) in responses {
        assert_eq!(d.msg_type, DirectType::DirectUnique);
        assert_eq!(d.header.flags.node_type(), SourceNodeType::MNode);
    }
}
