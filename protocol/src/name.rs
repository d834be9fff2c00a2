//! NetBIOS names: 15 characters plus a suffix byte, first-level encoding and scope IDs
//! (RFC 1001 §14, RFC 1002 §4.1).
//!
//! A [`NetbiosName`] is the raw 16-byte name: up to 15 characters padded to 15 bytes, then the
//! suffix ("name type"). Names built from text are upper-cased and padded with spaces, except the
//! wildcard `*`, which is padded with NUL bytes. Names parsed from the wire keep their bytes as
//! they came, so that they emit back unchanged; compare them with
//! [`NetbiosName::eq_ignore_case`] when matching a peer's name against ours.
//!
//! A [`ScopedName`] is a name plus its [`Scope`], in its second-level (DNS label) encoding on the
//! wire: `0x20`, the 32 half-ASCII characters, one label per scope component, `0x00`.

use core::fmt;
use core::str::FromStr;

use crate::error::{EmitError, ParseError};
use crate::wire::cursor::{Reader, Writer};

/// Length of a raw NetBIOS name, suffix included.
pub const NAME_LEN: usize = 16;
/// Length of the first-level encoded name: two characters per raw byte.
pub const ENCODED_LEN: usize = 32;
/// Longest encoded name on the wire, as in DNS: all labels, length bytes and the final zero.
pub const MAX_WIRE_NAME_LEN: usize = 255;
/// Longest scope label.
pub const MAX_SCOPE_LABEL: usize = 63;
/// Length of an encoded name with no scope: `0x20`, 32 characters, `0x00`.
pub const UNSCOPED_WIRE_LEN: usize = 1 + ENCODED_LEN + 1;
/// Most label pointers followed while reading one name (Samba gives up after 10 labels).
const MAX_POINTER_HOPS: usize = 8;

/// Common suffix bytes (the 16th byte).
pub mod suffix {
    /// Workstation service; also the workgroup membership group name.
    pub const WORKSTATION: u8 = 0x00;
    /// `__MSBROWSE__`: the group of local master browsers.
    pub const MSBROWSE: u8 = 0x01;
    /// Messenger service.
    pub const MESSENGER: u8 = 0x03;
    /// Domain master browser.
    pub const DOMAIN_MASTER: u8 = 0x1B;
    /// Domain controllers (internet group).
    pub const DOMAIN_CONTROLLERS: u8 = 0x1C;
    /// Local master browser of a workgroup (unique per subnet).
    pub const LOCAL_MASTER: u8 = 0x1D;
    /// Browser election group of a workgroup.
    pub const BROWSER_ELECTION: u8 = 0x1E;
    /// File server service.
    pub const SERVER: u8 = 0x20;
}

/// Why text could not be made into a NetBIOS name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name is empty.
    #[error("a NetBIOS name cannot be empty")]
    Empty,
    /// The name is longer than 15 bytes.
    #[error("NetBIOS name {0:?} is longer than 15 characters")]
    TooLong(String),
    /// The name holds a byte that NetBIOS names cannot carry.
    #[error("NetBIOS name {name:?} contains {byte:#04x}, which names cannot carry")]
    BadByte {
        /// The offending name.
        name: String,
        /// The offending byte.
        byte: u8,
    },
    /// A `NAME#XX` suffix is not two hex digits.
    #[error("suffix {0:?} is not a hex byte: write NAME#20 or NAME<20>")]
    BadSuffix(String),
    /// A scope is not a dotted list of labels of 1 to 63 bytes.
    #[error("scope {0:?} is not valid: use dot-separated labels of 1 to 63 characters")]
    BadScope(String),
}

/// A raw 16-byte NetBIOS name: 15 padded characters and the suffix byte.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NetbiosName([u8; NAME_LEN]);

impl NetbiosName {
    /// The wildcard `*<00>`, NUL-padded, used in node status requests.
    pub const WILDCARD: NetbiosName = NetbiosName(*b"*\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");

    /// `\x01\x02__MSBROWSE__\x02<01>`, the group of local master browsers.
    pub const MSBROWSE: NetbiosName = NetbiosName(*b"\x01\x02__MSBROWSE__\x02\x01");

    /// Builds a name from text: upper-cased, padded with spaces (NULs for `*`).
    ///
    /// Rejects empty or blank names, names over 15 bytes, and control bytes. Use
    /// [`from_raw`](Self::from_raw) for special names such as `__MSBROWSE__`, or the `\xNN`
    /// escapes of the text form ([`FromStr`]).
    pub fn new(name: &str, suffix: u8) -> Result<Self, NameError> {
        if let Some(&byte) = name.as_bytes().iter().find(|&&b| b < 0x20 || b == 0x7f) {
            return Err(NameError::BadByte {
                name: name.to_owned(),
                byte,
            });
        }
        Self::from_bytes(name.as_bytes(), suffix)
    }

    /// Builds a name from up to 15 bytes: ASCII letters upper-cased, padded with spaces (NULs
    /// for `*`). Any byte is allowed; empty or blank names are not.
    pub fn from_bytes(bytes: &[u8], suffix: u8) -> Result<Self, NameError> {
        let shown = || String::from_utf8_lossy(bytes).into_owned();
        // Trailing spaces are padding; a trailing NUL would be taken for padding too.
        let end = bytes.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
        let bytes = &bytes[..end];
        if bytes.is_empty() {
            return Err(NameError::Empty);
        }
        if bytes.last() == Some(&0) && bytes != b"*" {
            return Err(NameError::BadByte {
                name: shown(),
                byte: 0,
            });
        }
        if bytes.len() > NAME_LEN - 1 {
            return Err(NameError::TooLong(shown()));
        }
        let pad = if bytes == b"*" { 0 } else { b' ' };
        let mut raw = [pad; NAME_LEN];
        for (d, s) in raw.iter_mut().zip(bytes) {
            *d = s.to_ascii_uppercase();
        }
        raw[NAME_LEN - 1] = suffix;
        Ok(NetbiosName(raw))
    }

    /// A name from its 16 raw bytes, kept exactly.
    pub const fn from_raw(raw: [u8; NAME_LEN]) -> Self {
        NetbiosName(raw)
    }

    /// The 16 raw bytes.
    pub const fn raw(&self) -> &[u8; NAME_LEN] {
        &self.0
    }

    /// The suffix byte (name type).
    pub const fn suffix(&self) -> u8 {
        self.0[NAME_LEN - 1]
    }

    /// The same name with another suffix.
    pub const fn with_suffix(mut self, suffix: u8) -> Self {
        self.0[NAME_LEN - 1] = suffix;
        self
    }

    /// The 15 name bytes with trailing space or NUL padding removed.
    pub fn base(&self) -> &[u8] {
        let b = &self.0[..NAME_LEN - 1];
        let end = b
            .iter()
            .rposition(|&c| c != b' ' && c != 0)
            .map_or(0, |i| i + 1);
        &b[..end]
    }

    /// The name part as text (lossy for non-UTF-8 bytes), without padding or suffix.
    pub fn base_str(&self) -> String {
        String::from_utf8_lossy(self.base()).into_owned()
    }

    /// Whether this is the wildcard `*` name (any suffix).
    pub fn is_wildcard(&self) -> bool {
        self.0[0] == b'*' && self.0[1..NAME_LEN - 1].iter().all(|&b| b == 0 || b == b' ')
    }

    /// Compares two names ignoring ASCII case, as NetBIOS matching does.
    pub fn eq_ignore_case(&self, other: &NetbiosName) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }

    /// The same name with ASCII letters upper-cased.
    pub fn to_uppercase(&self) -> NetbiosName {
        let mut raw = self.0;
        raw[..NAME_LEN - 1].make_ascii_uppercase();
        NetbiosName(raw)
    }

    /// First-level ("half-ASCII") encoding: each byte becomes `'A' + high nibble`, `'A' + low`.
    pub fn first_level(&self) -> [u8; ENCODED_LEN] {
        let mut out = [0u8; ENCODED_LEN];
        for (i, &b) in self.0.iter().enumerate() {
            out[2 * i] = b'A' + (b >> 4);
            out[2 * i + 1] = b'A' + (b & 0x0f);
        }
        out
    }

    /// Decodes the 32 first-level characters; `offset` is where they start, for errors.
    pub fn from_first_level(enc: &[u8], offset: usize) -> Result<Self, ParseError> {
        if enc.len() != ENCODED_LEN {
            return Err(ParseError::bad_value(
                "NetBIOS name label length",
                offset,
                enc.len() as u64,
                "32",
            ));
        }
        let mut raw = [0u8; NAME_LEN];
        for (i, pair) in enc.chunks_exact(2).enumerate() {
            let nib = |c: u8, at: usize| {
                if (b'A'..=b'P').contains(&c) {
                    Ok(c - b'A')
                } else {
                    Err(ParseError::bad_value(
                        "NetBIOS name character",
                        at,
                        u64::from(c),
                        "a letter from 'A' to 'P'",
                    ))
                }
            };
            raw[i] = (nib(pair[0], offset + 2 * i)? << 4) | nib(pair[1], offset + 2 * i + 1)?;
        }
        Ok(NetbiosName(raw))
    }
}

impl fmt::Display for NetbiosName {
    /// Writes `NAME<xx>`, escaping `\\ # < >` and bytes that are not printable ASCII as
    /// `\xNN`, so that [`FromStr`] reads the text back to the same name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in self.base() {
            if (0x20..0x7f).contains(&b) && !matches!(b, b'\\' | b'#' | b'<' | b'>') {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        write!(f, "<{:02x}>", self.suffix())
    }
}

impl fmt::Debug for NetbiosName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NetbiosName(\"{self}\")")
    }
}

impl FromStr for NetbiosName {
    type Err = NameError;

    /// Parses `NAME`, `NAME#XX` or `NAME<XX>` (suffix in hex; `<00>` when absent). In the name,
    /// `\xNN` stands for the byte NN, as [`Display`](fmt::Display) writes it.
    fn from_str(s: &str) -> Result<Self, NameError> {
        let (base, suffix) = if let Some((b, x)) = s.rsplit_once('#') {
            (b, Some(x))
        } else if let Some(b) = s.strip_suffix('>') {
            match b.rsplit_once('<') {
                Some((b, x)) => (b, Some(x)),
                None => (s, None),
            }
        } else {
            (s, None)
        };
        let suffix = match suffix {
            None => 0,
            Some(x) if (1..=2).contains(&x.len()) => {
                u8::from_str_radix(x, 16).map_err(|_| NameError::BadSuffix(x.to_owned()))?
            }
            Some(x) => return Err(NameError::BadSuffix(x.to_owned())),
        };
        if let Some(&byte) = base.as_bytes().iter().find(|&&b| b < 0x20 || b == 0x7f) {
            return Err(NameError::BadByte {
                name: base.to_owned(),
                byte,
            });
        }
        NetbiosName::from_bytes(&unescape(base.as_bytes()), suffix)
    }
}

/// Decodes `\xNN` escapes; any other backslash stays as it is.
fn unescape(s: &[u8]) -> Vec<u8> {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' && i + 3 < s.len() && s[i + 1] == b'x' {
            if let (Some(h), Some(l)) = (hex(s[i + 2]), hex(s[i + 3])) {
                out.push((h << 4) | l);
                i += 4;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// A NetBIOS scope ID: dot-separated DNS-style labels appended to every encoded name.
/// The empty scope is the default and by far the most common.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(Vec<u8>);

impl Scope {
    /// The empty scope.
    pub const fn none() -> Self {
        Scope(Vec::new())
    }

    /// A scope from dotted text such as `corp.example`; labels are 1 to 63 bytes and the whole
    /// encoded name must stay within 255 bytes.
    pub fn new(dotted: &str) -> Result<Self, NameError> {
        let bytes = dotted.as_bytes();
        let ok = bytes.is_empty()
            || (bytes.len() + 2 + UNSCOPED_WIRE_LEN <= MAX_WIRE_NAME_LEN
                && bytes
                    .split(|&b| b == b'.')
                    .all(|l| !l.is_empty() && l.len() <= MAX_SCOPE_LABEL)
                && bytes.iter().all(|&b| b > 0x20 && b < 0x7f));
        if ok {
            Ok(Scope(bytes.to_vec()))
        } else {
            Err(NameError::BadScope(dotted.to_owned()))
        }
    }

    /// Whether this is the empty scope.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The dotted form.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Bytes the scope adds to an encoded name: one length byte per label plus the labels.
    pub fn wire_len(&self) -> usize {
        if self.0.is_empty() {
            0
        } else {
            self.0.len() + 1
        }
    }

    /// Compares scopes ignoring ASCII case, as DNS does.
    pub fn eq_ignore_case(&self, other: &Scope) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scope({:?})", String::from_utf8_lossy(&self.0))
    }
}

/// A NetBIOS name with its scope, as it appears encoded on the wire.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScopedName {
    /// The 16-byte name.
    pub name: NetbiosName,
    /// The scope ID; empty on almost every LAN.
    pub scope: Scope,
}

/// Whether label pointers (`0xC0` + 14-bit offset) may appear where a name is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pointers {
    /// Name service packets: follow pointers to earlier offsets of the same packet.
    Follow,
    /// Datagram and session service packets: names are always written out in full.
    Reject,
}

impl ScopedName {
    /// A name with the empty scope.
    pub fn unscoped(name: NetbiosName) -> Self {
        ScopedName {
            name,
            scope: Scope::none(),
        }
    }

    /// Encoded length on the wire when written in full (no pointer).
    pub fn wire_len(&self) -> usize {
        UNSCOPED_WIRE_LEN + self.scope.wire_len()
    }

    /// Writes the second-level encoding in full: `0x20`, 32 characters, scope labels, `0x00`.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        if self.wire_len() > MAX_WIRE_NAME_LEN {
            return Err(EmitError::FieldTooLarge {
                field: "NetBIOS name",
                why: "name and scope exceed 255 bytes",
            });
        }
        w.u8(ENCODED_LEN as u8)?;
        w.put(&self.name.first_level())?;
        if !self.scope.is_empty() {
            for label in self.scope.0.split(|&b| b == b'.') {
                if label.is_empty() || label.len() > MAX_SCOPE_LABEL {
                    return Err(EmitError::FieldTooLarge {
                        field: "NetBIOS scope",
                        why: "scope labels must be 1 to 63 bytes",
                    });
                }
                w.u8(label.len() as u8)?;
                w.put(label)?;
            }
        }
        w.u8(0)
    }

    /// Reads an encoded name at the reader's position and moves past it.
    ///
    /// With [`Pointers::Follow`], a label may be a pointer to an earlier offset of the reader's
    /// buffer; each pointer must point strictly before the label that holds it, and at most a few
    /// are followed, so hostile pointer loops end with an error.
    pub fn parse(
        r: &mut Reader<'_>,
        pointers: Pointers,
        field: &'static str,
    ) -> Result<Self, ParseError> {
        let at = r.pos();
        let labels = read_labels(r, pointers, field)?;
        let mut it = labels.iter();
        let &(off, first) = it
            .next()
            .ok_or_else(|| ParseError::bad_value(field, at, 0, "a first label of 32 bytes"))?;
        if first.len() != ENCODED_LEN {
            return Err(ParseError::bad_value(
                field,
                off.saturating_sub(1),
                first.len() as u64,
                "a first label of 32 bytes",
            ));
        }
        let name = NetbiosName::from_first_level(first, off)?;
        let mut scope = Vec::new();
        for &(off, label) in it {
            if label.iter().any(|&b| b <= 0x20 || b >= 0x7f || b == b'.') {
                return Err(ParseError::malformed(
                    field,
                    off,
                    "scope label holds a byte that scopes cannot carry",
                ));
            }
            if !scope.is_empty() {
                scope.push(b'.');
            }
            scope.extend_from_slice(label);
        }
        Ok(ScopedName {
            name,
            scope: Scope(scope),
        })
    }
}

/// Reads a sequence of DNS-style labels at the reader's position, following label pointers when
/// allowed, and moves the reader past the name. Returns each label with the offset of its first
/// byte. The walk is bounded: the name may not exceed 255 bytes and at most a few pointers are
/// followed, each strictly backwards.
pub(crate) fn read_labels<'a>(
    r: &mut Reader<'a>,
    pointers: Pointers,
    field: &'static str,
) -> Result<Vec<(usize, &'a [u8])>, ParseError> {
    let buf = r.buffer();
    let mut pos = r.pos();
    // Where the caller's reader continues: after the first pointer, or after the final zero.
    let mut resume: Option<usize> = None;
    let mut hops = 0usize;
    let mut total = 0usize;
    let mut labels = Vec::new();
    loop {
        let len = *buf
            .get(pos)
            .ok_or_else(|| ParseError::truncated(field, pos, 1, 0))?;
        match len & 0xC0 {
            0xC0 => {
                if pointers == Pointers::Reject {
                    return Err(ParseError::malformed(
                        field,
                        pos,
                        "label pointer where a full name is required",
                    ));
                }
                let lo = *buf
                    .get(pos + 1)
                    .ok_or_else(|| ParseError::truncated(field, pos, 2, buf.len() - pos))?;
                let target = (usize::from(len & 0x3F) << 8) | usize::from(lo);
                hops += 1;
                if hops > MAX_POINTER_HOPS {
                    return Err(ParseError::malformed(field, pos, "too many label pointers"));
                }
                if target >= pos {
                    return Err(ParseError::bad_value(
                        field,
                        pos,
                        target as u64,
                        "a label pointer to an earlier offset",
                    ));
                }
                resume.get_or_insert(pos + 2);
                pos = target;
            }
            0x00 => {
                let n = usize::from(len);
                if n == 0 {
                    r.seek(resume.unwrap_or(pos + 1));
                    return Ok(labels);
                }
                total += 1 + n;
                if total + 1 > MAX_WIRE_NAME_LEN {
                    return Err(ParseError::malformed(
                        field,
                        pos,
                        "name is longer than 255 bytes",
                    ));
                }
                let label = buf
                    .get(pos + 1..pos + 1 + n)
                    .ok_or_else(|| ParseError::truncated(field, pos + 1, n, buf.len() - pos - 1))?;
                labels.push((pos + 1, label));
                pos += 1 + n;
            }
            _ => {
                return Err(ParseError::bad_value(
                    field,
                    pos,
                    u64::from(len),
                    "a label length below 64 or a pointer (0xC0)",
                ));
            }
        }
    }
}

impl fmt::Display for ScopedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scope.is_empty() {
            write!(f, "{}", self.name)
        } else {
            write!(f, "{}.{}", self.name, self.scope)
        }
    }
}

impl fmt::Debug for ScopedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScopedName(\"{self}\")")
    }
}

impl From<NetbiosName> for ScopedName {
    fn from(name: NetbiosName) -> Self {
        ScopedName::unscoped(name)
    }
}

/// Proptest strategies for names, shared by the wire modules' round-trip tests.
#[cfg(test)]
pub(crate) mod strategy {
    use super::*;
    use proptest::prelude::*;

    /// Any 16 raw bytes.
    pub fn netbios_name() -> impl Strategy<Value = NetbiosName> {
        any::<[u8; NAME_LEN]>().prop_map(NetbiosName::from_raw)
    }

    /// A scope: empty most of the time, else one to three short labels.
    pub fn scope() -> impl Strategy<Value = Scope> {
        prop_oneof![
            3 => Just(Scope::none()),
            1 => proptest::collection::vec("[a-zA-Z0-9-]{1,20}", 1..4)
                .prop_map(|ls| Scope::new(&ls.join(".")).expect("valid scope")),
        ]
    }

    /// A name with a scope.
    pub fn scoped_name() -> impl Strategy<Value = ScopedName> {
        (netbios_name(), scope()).prop_map(|(name, scope)| ScopedName { name, scope })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode(n: &ScopedName) -> Vec<u8> {
        let mut b = vec![0u8; n.wire_len()];
        let mut w = Writer::new(&mut b);
        n.emit(&mut w).unwrap();
        assert_eq!(w.pos(), n.wire_len());
        b
    }

    #[test]
    fn worked_examples_from_the_reference() {
        let cases: [(NetbiosName, &[u8; 32]); 5] = [
            (
                NetbiosName::new("WORKGROUP", 0x1D).unwrap(),
                b"FHEPFCELEHFCEPFFFACACACACACACABN",
            ),
            (NetbiosName::WILDCARD, b"CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            (
                NetbiosName::new("workgroup", 0x1E).unwrap(),
                b"FHEPFCELEHFCEPFFFACACACACACACABO",
            ),
            (NetbiosName::MSBROWSE, b"ABACFPFPENFDECFCEPFHFDEFFPFPACAB"),
            (
                NetbiosName::new("*SMBSERVER", 0x20).unwrap(),
                b"CKFDENECFDEFFCFGEFFCCACACACACACA",
            ),
        ];
        for (n, enc) in cases {
            assert_eq!(&n.first_level(), enc, "{n}");
            assert_eq!(NetbiosName::from_first_level(enc, 0).unwrap(), n);
        }
    }

    #[test]
    fn wildcard_is_nul_padded_and_others_space_padded() {
        assert_eq!(NetbiosName::new("*", 0).unwrap(), NetbiosName::WILDCARD);
        assert_eq!(
            NetbiosName::new("ab", 0x20).unwrap().raw(),
            b"AB             \x20"
        );
        assert!(NetbiosName::WILDCARD.is_wildcard());
    }

    #[test]
    fn rejects_bad_text() {
        assert_eq!(NetbiosName::new("", 0), Err(NameError::Empty));
        assert!(matches!(
            NetbiosName::new("SIXTEENCHARSLONG", 0),
            Err(NameError::TooLong(_))
        ));
        assert!(matches!(
            NetbiosName::new("A\nB", 0),
            Err(NameError::BadByte { byte: b'\n', .. })
        ));
    }

    #[test]
    fn from_str_forms() {
        let a: NetbiosName = "labwg#1d".parse().unwrap();
        let b: NetbiosName = "LABWG<1D>".parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.suffix(), 0x1D);
        assert_eq!("alpha".parse::<NetbiosName>().unwrap().suffix(), 0);
        assert!("x#zz".parse::<NetbiosName>().is_err());
        assert_eq!(
            "\\x01\\x02__MSBROWSE__\\x02#01"
                .parse::<NetbiosName>()
                .unwrap(),
            NetbiosName::MSBROWSE
        );
        assert_eq!(" ".parse::<NetbiosName>(), Err(NameError::Empty));
        let odd = NetbiosName::from_raw(*b"A#<>\\\xe9\x00B       \x20");
        assert_eq!(odd.to_string(), "A\\x23\\x3c\\x3e\\x5c\\xe9\\x00B<20>");
        assert_eq!(odd.to_string().parse::<NetbiosName>().unwrap(), odd);
        assert_eq!(a.to_string(), "LABWG<1d>");
        assert_eq!(
            NetbiosName::MSBROWSE.to_string(),
            "\\x01\\x02__MSBROWSE__\\x02<01>"
        );
    }

    #[test]
    fn label_pointer_is_followed_backwards_only() {
        // A name at offset 0, then a pointer to it at offset 34.
        let n = ScopedName::unscoped(NetbiosName::new("ALPHA", 0x20).unwrap());
        let mut b = encode(&n);
        b.extend_from_slice(&[0xC0, 0x00, 0xAA]);
        let mut r = Reader::at(&b, 34);
        assert_eq!(ScopedName::parse(&mut r, Pointers::Follow, "N").unwrap(), n);
        assert_eq!(r.pos(), 36, "reader resumes after the pointer");
        let mut r = Reader::at(&b, 34);
        assert!(ScopedName::parse(&mut r, Pointers::Reject, "N").is_err());
        // A pointer to itself or forward is refused, so loops cannot happen.
        let lp = [0xC0u8, 0x00];
        let e = ScopedName::parse(&mut Reader::new(&lp), Pointers::Follow, "N").unwrap_err();
        assert_eq!(e.offset, 0);
    }

    #[test]
    fn rejects_bad_labels() {
        let mut short = vec![0x10u8];
        short.extend_from_slice(&[b'A'; 16]);
        short.push(0);
        assert!(ScopedName::parse(&mut Reader::new(&short), Pointers::Follow, "N").is_err());
        let mut bad = vec![0x20u8];
        bad.extend_from_slice(&[b'Z'; 32]);
        bad.push(0);
        let e = ScopedName::parse(&mut Reader::new(&bad), Pointers::Follow, "N").unwrap_err();
        assert_eq!(e.offset, 1);
    }

    #[test]
    fn scoped_round_trip() {
        let n = ScopedName {
            name: NetbiosName::new("HOST", 0).unwrap(),
            scope: Scope::new("corp.example").unwrap(),
        };
        let b = encode(&n);
        assert_eq!(b.len(), 34 + 13);
        assert_eq!(&b[33..], b"\x04corp\x07example\x00");
        let mut r = Reader::new(&b);
        assert_eq!(ScopedName::parse(&mut r, Pointers::Reject, "N").unwrap(), n);
        assert_eq!(r.remaining(), 0);
    }

    proptest! {
        #[test]
        fn emit_parse_round_trip(n in strategy::scoped_name()) {
            let b = encode(&n);
            let mut r = Reader::new(&b);
            prop_assert_eq!(ScopedName::parse(&mut r, Pointers::Follow, "N").unwrap(), n);
            prop_assert_eq!(r.remaining(), 0);
        }

        #[test]
        fn parse_never_panics(b in proptest::collection::vec(any::<u8>(), 0..300), at in 0usize..300) {
            let mut r = Reader::at(&b, at);
            let _ = ScopedName::parse(&mut r, Pointers::Follow, "N");
        }

        #[test]
        fn display_parse_round_trip(s in "[A-Z0-9_-]{1,15}", sfx in any::<u8>()) {
            let n = NetbiosName::new(&s, sfx).unwrap();
            prop_assert_eq!(n.to_string().parse::<NetbiosName>().unwrap(), n);
        }

        #[test]
        fn display_parse_round_trip_any_upper_case_bytes(mut raw in any::<[u8; 16]>()) {
            raw[..15].make_ascii_uppercase();
            let n = NetbiosName::from_raw(raw);
            if let Ok(back) = n.to_string().parse::<NetbiosName>() {
                // Padding differs only for the wildcard; everything else comes back the same.
                prop_assert_eq!(back.base(), n.base());
                prop_assert_eq!(back.suffix(), n.suffix());
            } else {
                prop_assert!(n.base().iter().all(|&b| b == b' '), "{:?}", n);
            }
        }
    }
}
