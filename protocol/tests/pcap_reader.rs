//! The capture reader used by the golden tests reads every vector.

mod common;

#[test]
fn every_vector_yields_packets() {
    let mut names: Vec<String> = std::fs::read_dir(common::vector(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".pcapng"))
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        17,
        "the 17 Samba captures are fixtures: {names:?}"
    );
    for n in &names {
        if n.starts_with("smb1-") {
            let conns = common::tcp(n);
            assert!(!conns.is_empty(), "{n}: no TCP connection");
            assert!(
                conns
                    .iter()
                    .all(|c| !c.to_server.is_empty() && !c.to_client.is_empty()),
                "{n}"
            );
        } else {
            assert!(!common::udp(n).is_empty(), "{n}: no UDP datagram");
        }
    }
}

#[test]
fn tcp_streams_hold_whole_nbss_frames() {
    // Every reassembled stream must be an exact sequence of NBSS frames (4-byte header with a
    // 17-bit length); a reassembly gap or overlap would break the chain.
    for n in [
        "smb1-netserverenum2.pcapng",
        "smb1-netserverenum2-emptydomain.pcapng",
        "smb1-netserverenum3-continuation.pcapng",
    ] {
        for c in common::tcp(n) {
            for s in [&c.to_server, &c.to_client] {
                let mut i = 0;
                while i < s.len() {
                    let len = (usize::from(s[i + 1] & 1) << 16)
                        | usize::from(u16::from_be_bytes([s[i + 2], s[i + 3]]));
                    i += 4 + len;
                }
                assert_eq!(i, s.len(), "{n}");
            }
        }
    }
}
