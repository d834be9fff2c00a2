//! The round-trip invariant of every parser, as one function per packet family.
//!
//! Each function takes arbitrary bytes, parses them, and when that succeeds emits the value and
//! parses the result again: the two values must be equal. The fuzz targets in `protocol/fuzz`
//! and the property tests call these same functions, so a finding in one is a test in the other.
//!
//! These functions panic when the invariant breaks: that is their purpose. Nothing in the daemon
//! calls them.

use crate::error::EmitError;
use crate::name::{NetbiosName, Pointers, ScopedName};
use crate::wire::Emit;
use crate::wire::browse::{BrowserFrame, LanmanFrame};
use crate::wire::cursor::{Reader, Writer};
use crate::wire::dgram::Datagram;
use crate::wire::ns::NameServicePacket;
use crate::wire::smb::{SmbMessage, TransactionRequest, TransactionResponse};
use crate::wire::ssn::{SessionHeader, SessionPacket};

fn again<T, E: core::fmt::Debug>(what: &str, r: Result<T, E>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: re-parse of our own output failed: {e:?}"),
    }
}

/// Emits a parsed value. `Refusal::Allowed` is for families whose emitter refuses, with
/// [`EmitError::FieldTooLarge`], values that peers accept but nbtd never sends (for example a
/// browser frame over the size a datagram may carry); anything else must emit.
fn emit_all<T: Emit + core::fmt::Debug>(what: &str, v: &T, refusal: Refusal) -> Option<Vec<u8>> {
    let b = match v.to_vec() {
        Ok(b) => b,
        Err(EmitError::FieldTooLarge { .. }) if refusal == Refusal::Allowed => return None,
        Err(e) => panic!("{what}: a parsed value failed to emit: {e:?}: {v:?}"),
    };
    assert_eq!(
        b.len(),
        v.buffer_len(),
        "{what}: buffer_len disagrees with emit"
    );
    Some(b)
}

/// Whether an emitter may refuse a parsed value.
#[derive(PartialEq)]
enum Refusal {
    Never,
    Allowed,
}

/// NetBIOS names: encoded names at the start of the input (with and without pointers), and the
/// `NAME#XX` text form when the input is UTF-8.
pub fn names(data: &[u8]) {
    for pointers in [Pointers::Follow, Pointers::Reject] {
        let start = usize::from(data.first().copied().unwrap_or(0)) % data.len().max(1);
        let mut r = Reader::at(data, start);
        if let Ok(n) = ScopedName::parse(&mut r, pointers, "name") {
            assert!(r.pos() <= data.len());
            let mut buf = vec![0u8; n.wire_len()];
            let mut w = Writer::new(&mut buf);
            if n.emit(&mut w).is_ok() {
                let back = again(
                    "name",
                    ScopedName::parse(&mut Reader::new(&buf), Pointers::Reject, "name"),
                );
                assert_eq!(back, n, "name round trip");
            }
        }
    }
    if let Ok(s) = core::str::from_utf8(data) {
        if let Ok(n) = s.parse::<NetbiosName>() {
            let back = again("name text", n.to_string().parse::<NetbiosName>());
            assert_eq!(back, n, "name text round trip");
        }
    }
}

/// Name service packets (UDP 137).
pub fn name_service(data: &[u8]) {
    if let Ok(p) = NameServicePacket::parse(data) {
        let _ = p.kind();
        let b = emit_all("name service", &p, Refusal::Never).expect("never refused");
        let back = again("name service", NameServicePacket::parse(&b));
        assert_eq!(back, p, "name service round trip");
    }
}

/// Browser frames on `\MAILSLOT\BROWSE` and LAN Manager frames on `\MAILSLOT\LANMAN`.
pub fn browser(data: &[u8]) {
    if let Ok(f) = BrowserFrame::parse(data) {
        let _ = f.opcode();
        if let Some(b) = emit_all("browser frame", &f, Refusal::Allowed) {
            let back = again("browser frame", BrowserFrame::parse(&b));
            assert_eq!(back, f, "browser frame round trip");
        }
    }
    if let Ok(f) = LanmanFrame::parse(data) {
        if let Some(b) = emit_all("LANMAN frame", &f, Refusal::Allowed) {
            let back = again("LANMAN frame", LanmanFrame::parse(&b));
            assert_eq!(back, f, "LANMAN frame round trip");
        }
    }
}

/// Checks one family: parse, emit (never refused), parse again, compare.
fn strict<T, E>(what: &str, data: &[u8], parse: fn(&[u8]) -> Result<T, E>) -> Option<T>
where
    T: Emit + PartialEq + core::fmt::Debug,
    E: core::fmt::Debug,
{
    let v = parse(data).ok()?;
    let b = emit_all(what, &v, Refusal::Never).expect("never refused");
    let back = again(what, parse(&b));
    assert_eq!(back, v, "{what} round trip");
    Some(v)
}

/// Datagram service packets (UDP 138).
pub fn datagram(data: &[u8]) {
    strict("datagram", data, Datagram::parse);
}

/// Session service frames (TCP 139): the 4-byte header alone, a whole frame, and a frame at the
/// head of a stream.
pub fn session(data: &[u8]) {
    if let Ok(h) = SessionHeader::parse(data) {
        let b = emit_all("session header", &h, Refusal::Never).expect("never refused");
        assert_eq!(again("session header", SessionHeader::parse(&b)), h);
    }
    strict("session frame", data, SessionPacket::parse);
    if let Ok((p, used)) = SessionPacket::parse_prefix(data) {
        assert!(used <= data.len(), "session prefix used more than it had");
        let b = emit_all("session prefix", &p, Refusal::Never).expect("never refused");
        assert_eq!(b.len(), used, "a frame re-emits to the bytes it came from");
    }
}

/// SMB1 messages: the generic shape, and the TRANSACTION request and response envelopes.
pub fn smb(data: &[u8]) {
    strict("SMB message", data, SmbMessage::parse);
    strict("TRANSACTION request", data, TransactionRequest::parse);
    strict("TRANSACTION response", data, TransactionResponse::parse);
}
