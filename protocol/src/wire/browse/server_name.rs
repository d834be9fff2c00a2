//! [`ServerName`]: a name inside a browser frame.

use super::*;

/// A server, workgroup or browser name inside a frame: at most 15 bytes, no NUL, kept as sent
/// (MS-BRWS 2.2: "null-terminated ASCII", 16 bytes with the terminator).
///
/// Unlike a [`NetbiosName`] it has no suffix and no padding. It may be empty: a forced election
/// from a non-candidate carries an empty name.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ServerName {
    len: u8,
    bytes: [u8; MAX_NAME_LEN],
}

impl ServerName {
    /// The empty name.
    pub const EMPTY: ServerName = ServerName {
        len: 0,
        bytes: [0; MAX_NAME_LEN],
    };

    /// A name from text, upper-cased as Samba and Windows send names; rejects names over 15 bytes
    /// and control bytes.
    pub fn new(name: &str) -> Result<Self, NameError> {
        let b = name.as_bytes();
        if let Some(&byte) = b.iter().find(|&&c| c < 0x20 || c == 0x7f) {
            return Err(NameError::BadByte {
                name: name.to_owned(),
                byte,
            });
        }
        let mut n = Self::from_bytes(b)?;
        n.bytes.make_ascii_uppercase();
        Ok(n)
    }

    /// A name from its bytes, kept exactly; rejects names over 15 bytes and NUL bytes.
    pub fn from_bytes(name: &[u8]) -> Result<Self, NameError> {
        let lossy = || String::from_utf8_lossy(name).into_owned();
        if name.len() > MAX_NAME_LEN {
            return Err(NameError::TooLong(lossy()));
        }
        if name.contains(&0) {
            return Err(NameError::BadByte {
                name: lossy(),
                byte: 0,
            });
        }
        let mut bytes = [0u8; MAX_NAME_LEN];
        for (d, s) in bytes.iter_mut().zip(name) {
            *d = *s;
        }
        Ok(ServerName {
            len: name.len() as u8,
            bytes,
        })
    }

    /// The name part of a NetBIOS name (padding and suffix removed).
    pub fn from_netbios_name(name: &NetbiosName) -> Result<Self, NameError> {
        Self::from_bytes(name.base())
    }

    /// The name's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether the name is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The name as text (lossy for bytes that are not UTF-8).
    pub fn to_string_lossy(&self) -> String {
        String::from_utf8_lossy(self.as_bytes()).into_owned()
    }

    /// Whether two names are equal ignoring ASCII case.
    pub fn eq_ignore_case(&self, other: &ServerName) -> bool {
        self.as_bytes().eq_ignore_ascii_case(other.as_bytes())
    }

    /// Compares names as Samba's `strcasecmp_m` does for ASCII: characters equal ignoring case
    /// are skipped, the first other difference compares the bytes as sent, and a prefix sorts
    /// first. Bytes above 0x7F compare as unsigned bytes.
    pub fn cmp_ignore_case(&self, other: &ServerName) -> Ordering {
        let (a, b) = (self.as_bytes(), other.as_bytes());
        for (&x, &y) in a.iter().zip(b) {
            if !x.eq_ignore_ascii_case(&y) {
                return x.cmp(&y);
            }
        }
        a.len().cmp(&b.len())
    }

    /// Reads a NUL-terminated name of at most 15 bytes.
    pub(super) fn read_cstr(r: &mut Reader<'_>, field: &'static str) -> Result<Self, ParseError> {
        let at = r.pos();
        let s = read_cstr(r, MAX_NAME_LEN, field)?;
        ServerName::from_bytes(s)
            .map_err(|_| ParseError::malformed(field, at, "name is longer than 15 bytes"))
    }

    /// Reads the 16-byte NUL-padded name field of an announcement.
    pub(super) fn read_padded(r: &mut Reader<'_>, field: &'static str) -> Result<Self, ParseError> {
        let at = r.pos();
        let raw: [u8; ANNOUNCEMENT_NAME_FIELD_LEN] = r.array(field)?;
        let end = raw
            .iter()
            .position(|&b| b == 0)
            .ok_or(ParseError::malformed(
                field,
                at,
                "16-byte name field has no terminating NUL",
            ))?;
        ServerName::from_bytes(raw.get(..end).unwrap_or(&[]))
            .map_err(|_| ParseError::malformed(field, at, "name is longer than 15 bytes"))
    }

    /// Writes the name and its NUL.
    pub(super) fn write_cstr(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.cstr(self.as_bytes())
    }

    /// Writes the name NUL-padded to 16 bytes.
    pub(super) fn write_padded(&self, w: &mut Writer<'_>) -> Result<(), EmitError> {
        w.put(self.as_bytes())?;
        w.zeros(ANNOUNCEMENT_NAME_FIELD_LEN - self.len())
    }

    /// Bytes of the name and its NUL.
    pub(super) fn cstr_len(&self) -> usize {
        self.len() + 1
    }
}

impl fmt::Display for ServerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_bytes().escape_ascii())
    }
}

impl fmt::Debug for ServerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerName(\"{}\")", self.as_bytes().escape_ascii())
    }
}

impl FromStr for ServerName {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ServerName::new(s)
    }
}
