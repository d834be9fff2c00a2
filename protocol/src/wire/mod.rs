//! Wire formats: parse and emit for every packet nbtd speaks.
//!
//! Each module follows the same contract:
//! - `parse(&[u8]) -> Result<T, ParseError>` never panics, never loops without bound, and never
//!   allocates more than the packet's own length warrants (counts read from the wire are checked
//!   against the bytes that remain before anything is reserved).
//! - [`Emit`] writes the canonical form into a caller's buffer, so a hot path can reuse one buffer
//!   and allocate nothing.
//! - For every type, `parse(emit(x)) == x`.

pub mod browse;
pub mod cursor;
pub mod dgram;
pub mod ns;
pub mod rap;
pub mod smb;
pub mod ssn;

use crate::error::EmitError;

/// A value with a wire form that can be written into a caller's buffer.
pub trait Emit {
    /// The exact number of bytes [`emit`](Emit::emit) writes.
    fn buffer_len(&self) -> usize;

    /// Writes the wire form at the start of `buf` and returns the number of bytes written.
    fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError>;

    /// Writes the wire form into a new vector.
    fn to_vec(&self) -> Result<Vec<u8>, EmitError> {
        let mut v = vec![0u8; self.buffer_len()];
        let n = self.emit(&mut v)?;
        v.truncate(n);
        Ok(v)
    }
}
