use super::*;
use crate::error::ErrorKind;
use proptest::prelude::*;

const BROWSE: &str = transaction_name::MAILSLOT_BROWSE;

#[test]
fn mailslot_write_layout_from_the_reference() {
    // browser.md §1, for a 20-byte browser frame on \MAILSLOT\BROWSE.
    let data: Vec<u8> = (1..=20).collect();
    let t = TransactionRequest::mailslot(BROWSE, data.clone());
    let b = t.to_vec().unwrap();
    assert_eq!(b.len(), 86 + 20);
    assert_eq!(&b[..5], b"\xFFSMB\x25");
    assert!(
        b[5..32].iter().all(|&x| x == 0),
        "header is zero but Command"
    );
    assert_eq!(b[32], 17, "WordCount");
    let word = |at: usize| u16::from_le_bytes([b[at], b[at + 1]]);
    assert_eq!(word(33), 0, "TotalParameterCount");
    assert_eq!(word(35), 20, "TotalDataCount");
    assert_eq!(word(51), 0, "ParameterCount");
    assert_eq!(word(53), 0, "ParameterOffset");
    assert_eq!(word(55), 20, "DataCount");
    assert_eq!(word(57), 86, "DataOffset = 70 + strlen(name)");
    assert_eq!((b[59], b[60]), (3, 0), "SetupCount, Reserved3");
    assert_eq!(&b[61..67], &[1, 0, 1, 0, 2, 0], "Setup {{1, 1, 2}}");
    assert_eq!(word(67), 17 + 20, "ByteCount");
    assert_eq!(&b[69..86], b"\\MAILSLOT\\BROWSE\0");
    assert_eq!(&b[86..], &data[..]);
    assert_eq!(TransactionRequest::parse(&b).unwrap(), t);
    assert!(t.is_mailslot_write());
    assert_eq!(t.name_end(), 86);
    let m = SmbMessage::parse(&b).unwrap();
    assert_eq!(m.word_count(), 17);
    assert_eq!(m.word(12), Some(86));
    assert_eq!(m.word(17), None);
    assert_eq!(m.to_vec().unwrap(), b);
}

/// A request laid out as Samba's client lays out a RAP call: Unicode name after one pad
/// byte, parameters at 92, data offset padded by `offset % 4`.
fn samba_rap_request(params: usize) -> TransactionRequest {
    let mut header = SmbHeader::new(command::TRANSACTION);
    header.flags2 = SmbFlags2::from_bits_retain(0xc043);
    header.flags = SmbFlags::CASE_INSENSITIVE | SmbFlags::CANONICALIZED_PATHS;
    let end = 92 + params;
    TransactionRequest {
        header,
        total_parameter_count: params as u16,
        total_data_count: 0,
        max_parameter_count: 8,
        max_data_count: 0xFFFF,
        max_setup_count: 0,
        reserved1: 0,
        flags: TransactionFlags::empty(),
        timeout: 0,
        reserved2: 0,
        parameter_offset: 92,
        data_offset: (end + end % 4) as u16,
        reserved3: 0,
        setup: Vec::new(),
        name: transaction_name::PIPE_LANMAN.to_owned(),
        parameters: vec![0x68; params],
        data: Vec::new(),
    }
}

#[test]
fn unicode_request_layout() {
    let t = samba_rap_request(27);
    let b = t.to_vec().unwrap();
    assert_eq!(t.byte_block_offset(), 63);
    assert_eq!(t.name_offset(), 64);
    assert_eq!(t.name_end(), 90);
    assert_eq!(
        b.len(),
        122,
        "the byte block runs to DataOffset though DataCount is 0"
    );
    assert_eq!(u16::from_le_bytes([b[61], b[62]]), 59, "ByteCount");
    assert_eq!(b[63], 0, "pad before the UTF-16LE name");
    assert_eq!(&b[64..68], b"\\\0P\0");
    assert_eq!(&b[88..92], &[0, 0, 0, 0], "NUL, then 2 pad bytes");
    assert_eq!(&b[119..], &[0, 0, 0]);
    assert_eq!(TransactionRequest::parse(&b).unwrap(), t);
}

#[test]
fn response_layout_like_smbd() {
    let mut h = SmbHeader::new(command::TRANSACTION);
    h.flags = SmbFlags::REPLY | SmbFlags::CASE_INSENSITIVE;
    let t = TransactionResponse::new(h, vec![0; 8], vec![7; 117]);
    assert_eq!((t.parameter_offset, t.data_offset), (56, 64));
    let b = t.to_vec().unwrap();
    assert_eq!(b.len(), 181);
    assert_eq!(u16::from_le_bytes([b[53], b[54]]), 126, "ByteCount");
    assert_eq!(TransactionResponse::parse(&b).unwrap(), t);
    // ParameterCount % 4 pad bytes between parameters and data, as smbd writes them.
    let t = TransactionResponse::new(h, vec![1; 6], vec![2; 3]);
    assert_eq!((t.parameter_offset, t.data_offset), (56, 64));
    let t = TransactionResponse::new(h, Vec::new(), vec![2; 3]);
    assert_eq!((t.parameter_offset, t.data_offset), (56, 56));
    assert_eq!(TransactionResponse::parse(&t.to_vec().unwrap()).unwrap(), t);
}

fn set_word(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn bad_offsets_are_specific() {
    let good = TransactionRequest::mailslot(BROWSE, vec![9; 10])
        .to_vec()
        .unwrap();
    // DataOffset into the name.
    let mut b = good.clone();
    set_word(&mut b, 57, 80);
    let e = TransactionRequest::parse(&b).unwrap_err();
    assert_eq!((e.field, e.offset), ("DataOffset", 57));
    // DataOffset into the header.
    set_word(&mut b, 57, 4);
    assert_eq!(
        TransactionRequest::parse(&b).unwrap_err().field,
        "DataOffset"
    );
    // DataOffset past the end of the message.
    set_word(&mut b, 57, 200);
    let e = TransactionRequest::parse(&b).unwrap_err();
    assert_eq!((e.field, e.offset), ("DataOffset", 57));
    // DataCount past the end of the byte block.
    let mut b = good.clone();
    set_word(&mut b, 55, 11);
    let e = TransactionRequest::parse(&b).unwrap_err();
    assert_eq!((e.field, e.offset), ("DataCount", 55));
    assert_eq!(
        e.kind,
        ErrorKind::Truncated {
            needed: 11,
            available: 10
        }
    );
    // Parameters overlapping the data.
    let mut b = good.clone();
    set_word(&mut b, 51, 2);
    set_word(&mut b, 53, 90);
    let e = TransactionRequest::parse(&b).unwrap_err();
    assert_eq!((e.field, e.offset), ("DataOffset", 57));
    assert!(matches!(e.kind, ErrorKind::Malformed(_)));
    // Parameters with a count but offset 0.
    let mut b = good.clone();
    set_word(&mut b, 51, 2);
    let e = TransactionRequest::parse(&b).unwrap_err();
    assert_eq!((e.field, e.offset), ("ParameterOffset", 53));
    // Touching regions are fine.
    let mut b = good.clone();
    set_word(&mut b, 51, 2);
    set_word(&mut b, 53, 86);
    set_word(&mut b, 55, 8);
    set_word(&mut b, 57, 88);
    let t = TransactionRequest::parse(&b).unwrap();
    assert_eq!((t.parameters.len(), t.data.len()), (2, 8));
    assert_eq!(t.to_vec().unwrap(), b);
}

#[test]
fn bad_envelopes_are_specific() {
    let good = TransactionRequest::mailslot(BROWSE, vec![9; 10])
        .to_vec()
        .unwrap();
    let mut b = good.clone();
    b[0] = 0xFE;
    assert_eq!(TransactionRequest::parse(&b).unwrap_err().field, "Protocol");
    let mut b = good.clone();
    b[4] = 0x32;
    let e = TransactionRequest::parse(&b).unwrap_err();
    assert_eq!((e.field, e.offset), ("Command", 4));
    let mut b = good.clone();
    b[9] = 0x80;
    let e = TransactionRequest::parse(&b).unwrap_err();
    assert_eq!((e.field, e.offset), ("Flags", 9));
    assert_eq!(
        TransactionResponse::parse(&good).unwrap_err().field,
        "Flags"
    );
    let mut b = good.clone();
    b[59] = 2;
    let e = TransactionRequest::parse(&b).unwrap_err();
    assert_eq!((e.field, e.offset), ("SetupCount", 59));
    // WordCount 13: the ByteCount then falls elsewhere, but the count is refused first.
    let m = SmbMessage {
        header: SmbHeader::new(command::TRANSACTION),
        words: vec![0; 26],
        bytes: Vec::new(),
        trailing: Vec::new(),
    };
    let e = TransactionRequest::parse(&m.to_vec().unwrap()).unwrap_err();
    assert_eq!((e.field, e.offset), ("WordCount", 32));
    // A name with no NUL inside the byte block.
    let mut b = good.clone();
    set_word(&mut b, 67, 5);
    b.truncate(69 + 5);
    let e = TransactionRequest::parse(&b).unwrap_err();
    assert_eq!((e.field, e.offset), ("Name", 69));
    // A non-ASCII byte in an ASCII name.
    let mut b = good.clone();
    b[70] = 0xC9;
    let e = TransactionRequest::parse(&b).unwrap_err();
    assert_eq!((e.field, e.offset), ("Name", 70));
    // An unpaired surrogate in a Unicode name.
    let t = samba_rap_request(4);
    let mut b = t.to_vec().unwrap();
    set_word(&mut b, 64, 0xD800);
    let e = TransactionRequest::parse(&b).unwrap_err();
    assert_eq!((e.field, e.offset), ("Name", 64));
}

#[test]
fn generic_message_errors_and_trailing_bytes() {
    let e = SmbMessage::parse(b"\xFFSMB").unwrap_err();
    assert_eq!((e.field, e.offset), ("Command", 4));
    let mut b = SmbHeader::new(command::ECHO).to_vec().unwrap();
    let e = SmbMessage::parse(&b).unwrap_err();
    assert_eq!((e.field, e.offset), ("WordCount", 32));
    b.push(1);
    b.push(0x34);
    let e = SmbMessage::parse(&b).unwrap_err();
    assert_eq!((e.field, e.offset), ("Words", 33));
    b.push(0x12);
    let e = SmbMessage::parse(&b).unwrap_err();
    assert_eq!((e.field, e.offset), ("ByteCount", 35));
    b.extend_from_slice(&[0xFF, 0xFF, 1, 2]);
    let e = SmbMessage::parse(&b).unwrap_err();
    assert_eq!((e.field, e.offset), ("Bytes", 37));
    assert_eq!(
        e.kind,
        ErrorKind::Truncated {
            needed: 0xFFFF,
            available: 2
        }
    );
    b[35] = 1;
    b[36] = 0;
    let m = SmbMessage::parse(&b).unwrap();
    assert_eq!(m.word(0), Some(0x1234));
    assert_eq!(m.bytes, [1]);
    assert_eq!(m.trailing, [2]);
    assert_eq!(m.to_vec().unwrap(), b);
}

#[test]
fn emit_refuses_what_the_wire_cannot_carry() {
    let mut m = SmbMessage {
        header: SmbHeader::new(command::ECHO),
        words: vec![0; 3],
        bytes: Vec::new(),
        trailing: Vec::new(),
    };
    assert!(matches!(
        m.to_vec(),
        Err(EmitError::FieldTooLarge {
            field: "WordCount",
            ..
        })
    ));
    m.words = vec![0; 512];
    assert!(matches!(
        m.to_vec(),
        Err(EmitError::FieldTooLarge {
            field: "WordCount",
            ..
        })
    ));
    m.words = vec![0; 510];
    m.bytes = vec![0; 0x1_0000];
    assert!(matches!(
        m.to_vec(),
        Err(EmitError::FieldTooLarge {
            field: "ByteCount",
            ..
        })
    ));

    let ms = TransactionRequest::mailslot(BROWSE, vec![0; 10]);
    let mut t = ms.clone();
    t.name = "\\MAILSLOT\\BRÖWSE".into();
    assert!(matches!(
        t.to_vec(),
        Err(EmitError::FieldTooLarge { field: "Name", .. })
    ));
    t.header.flags2 = SmbFlags2::UNICODE;
    t.data_offset = t.name_end() as u16;
    assert!(t.to_vec().is_ok(), "Unicode carries it");
    let mut t = ms.clone();
    t.data_offset -= 1;
    assert!(matches!(
        t.to_vec(),
        Err(EmitError::FieldTooLarge {
            field: "DataOffset",
            ..
        })
    ));
    let mut t = ms.clone();
    t.parameters = vec![1; 4];
    t.parameter_offset = t.data_offset + 2;
    assert!(matches!(
        t.to_vec(),
        Err(EmitError::FieldTooLarge {
            field: "DataOffset",
            ..
        })
    ));
    let mut t = ms.clone();
    t.data = vec![0; 0x1_0000];
    assert!(matches!(
        t.to_vec(),
        Err(EmitError::FieldTooLarge {
            field: "DataCount",
            ..
        })
    ));
    let mut t = ms.clone();
    t.data = vec![0; 0xFFFF - 86];
    assert!(t.to_vec().is_ok());
    t.data.push(0);
    assert!(matches!(
        t.to_vec(),
        Err(EmitError::FieldTooLarge {
            field: "DataOffset",
            ..
        })
    ));
    let mut t = ms.clone();
    t.setup = vec![0; 242];
    assert!(matches!(
        t.to_vec(),
        Err(EmitError::FieldTooLarge {
            field: "SetupCount",
            ..
        })
    ));
    let mut t = ms.clone();
    t.header.command = command::ECHO;
    assert!(t.to_vec().is_err());
    let mut small = [0u8; 50];
    assert!(matches!(
        ms.emit(&mut small),
        Err(EmitError::BufferTooSmall { .. })
    ));
}

#[test]
fn mailslot_name_checks() {
    let t = TransactionRequest::mailslot(transaction_name::MAILSLOT_LANMAN, vec![1]);
    assert!(t.is_mailslot_write());
    assert_eq!(t.data_offset, 86);
    let mut t = TransactionRequest::mailslot("\\PIPE\\LANMAN", vec![1]);
    assert!(!t.is_mailslot_write());
    t.name = "\\mailslot\\browse".into();
    assert!(t.is_mailslot_write());
}

proptest! {
    #[test]
    fn message_round_trip(m in strategy::message()) {
        let b = m.to_vec().unwrap();
        prop_assert_eq!(b.len(), m.buffer_len());
        prop_assert_eq!(SmbMessage::parse(&b).unwrap(), m);
    }

    #[test]
    fn header_round_trip(h in strategy::header()) {
        let b = h.to_vec().unwrap();
        prop_assert_eq!(b.len(), HEADER_LEN);
        prop_assert_eq!(SmbHeader::parse(&b).unwrap(), h);
    }

    #[test]
    fn request_round_trip(t in strategy::transaction_request()) {
        let b = t.to_vec().unwrap();
        prop_assert_eq!(b.len(), t.buffer_len());
        prop_assert_eq!(TransactionRequest::parse(&b).unwrap(), t.clone());
        prop_assert_eq!(SmbMessage::parse(&b).unwrap().to_vec().unwrap(), b);
    }

    #[test]
    fn response_round_trip(t in strategy::transaction_response()) {
        let b = t.to_vec().unwrap();
        prop_assert_eq!(b.len(), t.buffer_len());
        prop_assert_eq!(TransactionResponse::parse(&b).unwrap(), t);
    }

    #[test]
    fn mailslot_round_trip(name in "\\\\MAILSLOT\\\\[A-Z]{1,12}", data in proptest::collection::vec(any::<u8>(), 0..500)) {
        let t = TransactionRequest::mailslot(&name, data);
        let b = t.to_vec().unwrap();
        prop_assert_eq!(TransactionRequest::parse(&b).unwrap(), t);
    }

    #[test]
    fn parse_never_panics(b in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = SmbMessage::parse(&b);
        let _ = TransactionRequest::parse(&b);
        let _ = TransactionResponse::parse(&b);
    }

    #[test]
    fn parse_never_panics_on_mutated_transactions(
        t in strategy::transaction_request(),
        r in strategy::transaction_response(),
        muts in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        for mut b in [t.to_vec().unwrap(), r.to_vec().unwrap()] {
            for (i, x) in &muts {
                let i = i.index(b.len());
                b[i] = *x;
            }
            let _ = TransactionRequest::parse(&b);
            let _ = TransactionResponse::parse(&b);
            b.truncate(cut.index(b.len() + 1));
            let _ = TransactionRequest::parse(&b);
            let _ = TransactionResponse::parse(&b);
            let _ = SmbMessage::parse(&b);
        }
    }
}
