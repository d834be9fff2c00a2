use super::listing::list_order;
use super::*;
use crate::wire::browse::ServerType;
use crate::wire::smb::{SmbFlags2, TransactionResponse};
use std::cmp::Ordering;

#[test]
fn list_order_is_case_insensitive_with_prefixes_first() {
    assert_eq!(list_order(b"alpha", b"ALPHA"), Ordering::Equal);
    assert_eq!(list_order(b"ALP", b"alpha"), Ordering::Less);
    assert_eq!(
        list_order(b"a_", b"AB"),
        Ordering::Greater,
        "'_' (0x5F) after 'B' (0x42)"
    );
    assert_eq!(
        list_order(b"a_", b"Ab"),
        Ordering::Greater,
        "compared upper-cased, as the browse list sorts"
    );
}

#[test]
fn transaction_pieces_cover_everything_once() {
    let h = reply_header(&SmbHeader::new(command::TRANSACTION), 0);
    let params: Vec<u8> = (0..8).collect();
    let data: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
    for max in [MIN_CLIENT_BUFFER, 1000, 4096, 65535] {
        let pieces = transaction_pieces(h, &params, &data, max);
        let (mut p, mut d) = (Vec::new(), Vec::new());
        for f in &pieces {
            assert!(f.len() - 4 <= max);
            let t = TransactionResponse::parse(&f[4..]).unwrap();
            assert_eq!((t.total_parameter_count, t.total_data_count), (8, 5000));
            assert_eq!(usize::from(t.parameter_displacement), p.len());
            assert_eq!(usize::from(t.data_displacement), d.len());
            assert_eq!(t.parameter_offset, 56, "smbd's layout: one pad byte");
            p.extend(t.parameters);
            d.extend(t.data);
        }
        assert_eq!((p, d), (params.clone(), data.clone()), "max {max}");
    }
    // An empty reply is one piece.
    assert_eq!(transaction_pieces(h, &[], &[], 500).len(), 1);
    // Even a buffer too small for the fixed part makes progress and ends.
    assert!(!transaction_pieces(h, &params, &data, 10).is_empty());
}

#[test]
fn reply_header_copies_ids_and_follows_unicode() {
    let mut req = SmbHeader::new(command::ECHO);
    (req.uid, req.tid, req.mid, req.pid_low, req.pid_high) = (1, 2, 3, 4, 5);
    req.flags2 = SmbFlags2::UNICODE | SmbFlags2::EXTENDED_SECURITY;
    let r = reply_header(&req, 0xC000_00BB);
    assert!(r.is_reply() && r.is_unicode());
    assert!(!r.flags2.contains(SmbFlags2::EXTENDED_SECURITY));
    assert!(r.flags2.contains(SmbFlags2::NT_STATUS));
    assert_eq!(
        (r.uid, r.tid, r.mid, r.pid_low, r.pid_high, r.status),
        (1, 2, 3, 4, 5, 0xC000_00BB)
    );
    req.flags2 = SmbFlags2::empty();
    assert!(!reply_header(&req, 0).is_unicode());
}

#[test]
fn default_config_advertises_a_buffer_smbclient_accepts() {
    let c = SessionConfig::default();
    assert!(c.max_frame_len - NBSS_HEADER_LEN >= 1024);
    let _ = ServerType::empty();
}
