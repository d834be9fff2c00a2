//! Errors of the wire layer: every parse failure names the field, its offset and what was expected.

use core::fmt;

/// Why a field could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The packet ended before the field did.
    Truncated {
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the packet at the field's offset.
        available: usize,
    },
    /// The field holds a value that is not allowed here.
    BadValue {
        /// The value found on the wire.
        found: u64,
        /// What the protocol allows, in words.
        expected: &'static str,
    },
    /// The field is structurally wrong in a way a single value does not describe.
    Malformed(&'static str),
}

/// A parse failure: which field, at which byte offset of the packet, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// The protocol's name for the field, e.g. `"QDCOUNT"` or `"NBSTAT NUM_NAMES"`.
    pub field: &'static str,
    /// Byte offset of the field from the start of the buffer that was parsed.
    pub offset: usize,
    /// What went wrong.
    pub kind: ErrorKind,
}

impl ParseError {
    /// A field that runs past the end of the packet.
    pub fn truncated(field: &'static str, offset: usize, needed: usize, available: usize) -> Self {
        ParseError {
            field,
            offset,
            kind: ErrorKind::Truncated { needed, available },
        }
    }

    /// A field that holds a value the protocol does not allow.
    pub fn bad_value(
        field: &'static str,
        offset: usize,
        found: u64,
        expected: &'static str,
    ) -> Self {
        ParseError {
            field,
            offset,
            kind: ErrorKind::BadValue { found, expected },
        }
    }

    /// A field that is wrong in shape, described in words.
    pub fn malformed(field: &'static str, offset: usize, why: &'static str) -> Self {
        ParseError {
            field,
            offset,
            kind: ErrorKind::Malformed(why),
        }
    }

    /// The same error with its offset moved by `base`, for a buffer nested inside a larger one.
    pub fn shifted(mut self, base: usize) -> Self {
        self.offset = self.offset.saturating_add(base);
        self
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Truncated { needed, available } => write!(
                f,
                "{} at offset {}: truncated, needs {} bytes but {} remain",
                self.field, self.offset, needed, available
            ),
            ErrorKind::BadValue { found, expected } => write!(
                f,
                "{} at offset {}: found {:#x}, expected {}",
                self.field, self.offset, found, expected
            ),
            ErrorKind::Malformed(why) => {
                write!(f, "{} at offset {}: {}", self.field, self.offset, why)
            }
        }
    }
}

/// An emit failure: the value cannot be written as the protocol requires.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    /// The output buffer is smaller than [`buffer_len`](crate::wire::Emit::buffer_len) said.
    #[error("output buffer too small: need {needed} bytes, have {available}")]
    BufferTooSmall {
        /// Bytes the packet needs.
        needed: usize,
        /// Bytes the buffer has.
        available: usize,
    },
    /// A field's value does not fit the wire format (too long, too many entries, out of range).
    #[error("{field} cannot be emitted: {why}")]
    FieldTooLarge {
        /// The protocol's name for the field.
        field: &'static str,
        /// What limit it breaks.
        why: &'static str,
    },
}
