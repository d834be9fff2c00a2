//! The fuzz targets' invariant (parse → emit → parse agrees, and nothing panics), run by
//! `cargo test` on the real captures and on mutations of them. The fuzzers in `protocol/fuzz`
//! explore further; this keeps the invariant checked on every build.

mod common;

use nbt_protocol::roundtrip;
use nbt_protocol::wire::smb::TransactionRequest;
use proptest::prelude::*;

type Check = fn(&[u8]);

/// A `smb_server` input: the mode byte, then the client's frames after the first `skip`.
fn client_frames(mode: u8, stream: &[u8], skip: usize) -> Vec<u8> {
    let mut out = vec![mode];
    let (mut i, mut n) = (0, 0);
    while i + 4 <= stream.len() {
        let len = (usize::from(stream[i + 1] & 1) << 16)
            | usize::from(u16::from_be_bytes([stream[i + 2], stream[i + 3]]));
        if n >= skip {
            out.extend_from_slice(&stream[i..i + 4 + len]);
        }
        i += 4 + len;
        n += 1;
    }
    out
}

/// Every payload of the captures, with the invariant check of its family.
fn seeds() -> Vec<(Check, Vec<u8>)> {
    let mut v: Vec<(Check, Vec<u8>)> = Vec::new();
    let dir = common::vector("");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    for f in &files {
        if f.starts_with("smb1-") {
            for c in common::tcp(f) {
                for (mode, skip) in [(0u8, 0usize), (3, 4), (7, 4)] {
                    v.push((
                        roundtrip::smb_server,
                        client_frames(mode, &c.to_server, skip),
                    ));
                }
                for mode in [0u8, 1, 3] {
                    let mut input = vec![mode];
                    input.extend_from_slice(&c.to_client);
                    v.push((roundtrip::smb_client, input));
                }
                for s in [c.to_server, c.to_client] {
                    let mut i = 0;
                    while i + 4 <= s.len() {
                        let len = (usize::from(s[i + 1] & 1) << 16)
                            | usize::from(u16::from_be_bytes([s[i + 2], s[i + 3]]));
                        let frame = s[i..i + 4 + len].to_vec();
                        if frame.len() <= 4096 {
                            if let Ok(t) = TransactionRequest::parse(&frame[4..]) {
                                v.push((roundtrip::rap, t.parameters));
                            }
                            v.push((roundtrip::smb, frame[4..].to_vec()));
                            v.push((roundtrip::session, frame));
                        }
                        i += 4 + len;
                    }
                }
            }
            continue;
        }
        for u in common::udp(f) {
            let p = u.payload;
            if u.dst.port() == 137 || u.src.port() == 137 {
                v.push((roundtrip::names, p[12..].to_vec()));
                v.push((roundtrip::name_service, p));
            } else {
                if let Some(k) = p.windows(4).position(|w| w == b"\xffSMB") {
                    v.push((roundtrip::smb, p[k..].to_vec()));
                }
                let slot = b"\\MAILSLOT\\BROWSE\0";
                if let Some(k) = p.windows(slot.len()).position(|w| w == slot) {
                    v.push((roundtrip::browser, p[k + slot.len()..].to_vec()));
                }
                v.push((roundtrip::datagram, p));
            }
        }
    }
    v
}

#[test]
fn captures_satisfy_the_invariant() {
    let s = seeds();
    assert!(s.len() > 150, "only {} seeds", s.len());
    for (check, bytes) in &s {
        check(bytes);
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Set(prop::sample::Index, u8),
    Truncate(prop::sample::Index),
    Insert(prop::sample::Index, Vec<u8>),
    Remove(prop::sample::Index, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        1 => any::<prop::sample::Index>().prop_map(Mutation::Truncate),
        1 => (any::<prop::sample::Index>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        1 => (any::<prop::sample::Index>(), 1u8..8).prop_map(|(i, n)| Mutation::Remove(i, n)),
    ]
}

fn apply(mut b: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        if b.is_empty() {
            break;
        }
        match m {
            Mutation::Set(i, v) => {
                let i = i.index(b.len());
                b[i] = *v;
            }
            Mutation::Truncate(i) => b.truncate(i.index(b.len())),
            Mutation::Insert(i, bytes) => {
                let i = i.index(b.len());
                b.splice(i..i, bytes.iter().copied());
            }
            Mutation::Remove(i, n) => {
                let i = i.index(b.len());
                let end = (i + usize::from(*n)).min(b.len());
                b.drain(i..end);
            }
        }
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_captures_satisfy_the_invariant(
        which in any::<prop::sample::Index>(),
        muts in prop::collection::vec(mutation(), 1..6),
    ) {
        thread_local!(static SEEDS: Vec<(Check, Vec<u8>)> = seeds());
        SEEDS.with(|s| {
            let (check, bytes) = &s[which.index(s.len())];
            check(&apply(bytes.clone(), &muts));
        });
    }

    #[test]
    fn arbitrary_bytes_satisfy_the_invariant(b in prop::collection::vec(any::<u8>(), 0..700)) {
        roundtrip::names(&b);
        roundtrip::name_service(&b);
        roundtrip::datagram(&b);
        roundtrip::session(&b);
        roundtrip::smb(&b);
        roundtrip::browser(&b);
        roundtrip::rap(&b);
        roundtrip::smb_server(&b);
        roundtrip::smb_client(&b);
        roundtrip::fast_answers(std::time::Instant::now(), &b);
        roundtrip::wins_client(std::time::Instant::now(), &b);
    }

    #[test]
    fn the_wins_client_holds_together_whatever_its_server_answers(
        steps in prop::collection::vec((any::<u8>(), any::<u8>(), any::<bool>()), 0..80),
    ) {
        // Mostly answers to its own requests (bit 7), some raw datagrams of a few bytes.
        let mut b = Vec::new();
        for (op, arg, answer) in steps {
            if answer {
                b.extend([op | 0x80, arg]);
            } else {
                b.extend([op & 0x7f, arg % 8]);
                b.extend(std::iter::repeat_n(arg, usize::from(arg % 8)));
            }
        }
        roundtrip::wins_client(std::time::Instant::now(), &b);
    }

    #[test]
    fn mutated_requests_get_the_engines_answer_from_the_fast_path(
        which in any::<prop::sample::Index>(),
        muts in prop::collection::vec(mutation(), 0..4),
    ) {
        thread_local!(static REQUESTS: Vec<Vec<u8>> = fast_answer_seeds());
        REQUESTS.with(|r| {
            let bytes = apply(r[which.index(r.len())].clone(), &muts);
            roundtrip::fast_answers(std::time::Instant::now(), &bytes);
        });
    }
}

/// Requests the fast path answers, or nearly: queries and node status requests for the names
/// of `roundtrip::fast_answers`'s engine and others, each after every settings byte.
fn fast_answer_seeds() -> Vec<Vec<u8>> {
    use nbt_protocol::name::{NetbiosName, Scope, ScopedName};
    use nbt_protocol::wire::Emit;
    use nbt_protocol::wire::ns::NameServicePacket;
    use nbt_protocol::wire::ns::NmFlags;
    let mut v = Vec::new();
    // Settings bits 0-2, the sender in bits 3-4, its port (137 or ephemeral) in bit 5.
    for pick in 0u8..64 {
        for (name, suffix) in [
            ("ALPHA", 0),
            ("ALPHA", 0x20),
            ("MEDIA", 0),
            ("LABWG", 0x1e),
            ("*", 0),
            ("*", 0x20),
        ] {
            for scoped in [false, true] {
                let name = if name == "*" {
                    NetbiosName::WILDCARD.with_suffix(suffix)
                } else {
                    NetbiosName::new(name, suffix).unwrap()
                };
                let scope = if scoped {
                    Scope::new("corp.example").unwrap()
                } else {
                    Scope::none()
                };
                let q = ScopedName { name, scope };
                // nbtscan's node status and pysmb's queries carry the B flag by unicast.
                let mut flagged = NameServicePacket::node_status_request(0x4321, q.clone());
                flagged.flags |= NmFlags::BROADCAST;
                for p in [
                    NameServicePacket::name_query(0x1234, q.clone(), false),
                    NameServicePacket::name_query(0x1234, q.clone(), true),
                    NameServicePacket::node_status_request(0x4321, q),
                    flagged,
                ] {
                    let mut b = vec![pick];
                    b.extend(p.to_vec().unwrap());
                    v.push(b);
                }
            }
        }
    }
    v
}

#[test]
fn the_fast_path_answers_as_the_engine_does() {
    for b in fast_answer_seeds() {
        roundtrip::fast_answers(std::time::Instant::now(), &b);
    }
}

/// A scripted life of the WINS client: every name granted, refreshed, one refused, a WACK, a
/// silence that starts a name over, then the shutdown's releases.
#[test]
fn the_wins_client_holds_together_on_a_scripted_life() {
    let mut b = Vec::new();
    // The five registrations, granted (600 s); the newest request is answered first.
    for _ in 0..5 {
        b.extend([0x80, 0]);
    }
    // 300 s later the refreshes go out: two granted, one refused (ACT_ERR), one WACK'd.
    b.extend([0x3c, 0]);
    b.extend([0x80, 0, 0x80, 3, 0x80, 1 | (6 << 2), 0x80, 2 | (8 << 2)]);
    // The rest go unanswered for 20 minutes, then one more grant with a TTL of 255 s.
    for _ in 0..4 {
        b.extend([0x3c, 0]);
    }
    b.extend([0x80, 255]);
    roundtrip::wins_client(std::time::Instant::now(), &b);
}
