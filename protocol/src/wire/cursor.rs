//! Bounds-checked readers and writers over byte slices. Nothing here can panic or allocate.

use crate::error::{EmitError, ParseError};

/// A forward-only reader over a packet; every read names its field for the error.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at offset 0 of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// A reader over `buf` positioned at `pos` (offsets stay relative to `buf`).
    pub fn at(buf: &'a [u8], pos: usize) -> Self {
        Reader {
            buf,
            pos: pos.min(buf.len()),
        }
    }

    /// The whole buffer this reader walks.
    pub fn buffer(&self) -> &'a [u8] {
        self.buf
    }

    /// The current offset.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Moves to `pos` (clamped to the end of the buffer).
    pub fn seek(&mut self, pos: usize) {
        self.pos = pos.min(self.buf.len());
    }

    /// Bytes left after the current offset.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The bytes left, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Takes `n` bytes as field `field`.
    pub fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], ParseError> {
        if n > self.remaining() {
            return Err(ParseError::truncated(field, self.pos, n, self.remaining()));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Takes everything left.
    pub fn take_rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }

    /// Takes a fixed-size array.
    pub fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], ParseError> {
        let s = self.take(N, field)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// Reads one byte.
    pub fn u8(&mut self, field: &'static str) -> Result<u8, ParseError> {
        Ok(self.take(1, field)?[0])
    }

    /// Reads a big-endian u16.
    pub fn u16_be(&mut self, field: &'static str) -> Result<u16, ParseError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    /// Reads a big-endian u32.
    pub fn u32_be(&mut self, field: &'static str) -> Result<u32, ParseError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    /// Reads a little-endian u16.
    pub fn u16_le(&mut self, field: &'static str) -> Result<u16, ParseError> {
        Ok(u16::from_le_bytes(self.array(field)?))
    }

    /// Reads a little-endian u32.
    pub fn u32_le(&mut self, field: &'static str) -> Result<u32, ParseError> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }

    /// Reads a little-endian u64.
    pub fn u64_le(&mut self, field: &'static str) -> Result<u64, ParseError> {
        Ok(u64::from_le_bytes(self.array(field)?))
    }

    /// Reads a NUL-terminated string of at most `max` bytes before the NUL; consumes the NUL.
    pub fn cstr(&mut self, max: usize, field: &'static str) -> Result<&'a [u8], ParseError> {
        let rest = self.rest();
        let limit = rest.len().min(max.saturating_add(1));
        match rest[..limit].iter().position(|&b| b == 0) {
            Some(n) => {
                let s = &rest[..n];
                self.pos += n + 1;
                Ok(s)
            }
            None if rest.len() > max => Err(ParseError::malformed(
                field,
                self.pos,
                "string is longer than the field allows",
            )),
            None => Err(ParseError::malformed(
                field,
                self.pos,
                "string has no terminating NUL",
            )),
        }
    }

    /// Fails unless the whole buffer was consumed.
    pub fn finish(&self, field: &'static str) -> Result<(), ParseError> {
        if self.remaining() != 0 {
            return Err(ParseError::malformed(
                field,
                self.pos,
                "unexpected bytes after the end of the packet",
            ));
        }
        Ok(())
    }
}

/// A forward-only writer into a caller's buffer.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    /// A writer at offset 0 of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, pos: 0 }
    }

    /// Bytes written so far.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The bytes written so far.
    pub fn written(&self) -> &[u8] {
        &self.buf[..self.pos]
    }

    /// Mutable access to bytes already written, e.g. to patch a length.
    pub fn written_mut(&mut self) -> &mut [u8] {
        &mut self.buf[..self.pos]
    }

    /// Appends bytes.
    pub fn put(&mut self, bytes: &[u8]) -> Result<(), EmitError> {
        let end = self.pos + bytes.len();
        if end > self.buf.len() {
            return Err(EmitError::BufferTooSmall {
                needed: end,
                available: self.buf.len(),
            });
        }
        self.buf[self.pos..end].copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    /// Appends `n` zero bytes.
    pub fn zeros(&mut self, n: usize) -> Result<(), EmitError> {
        let end = self.pos + n;
        if end > self.buf.len() {
            return Err(EmitError::BufferTooSmall {
                needed: end,
                available: self.buf.len(),
            });
        }
        self.buf[self.pos..end].fill(0);
        self.pos = end;
        Ok(())
    }

    /// Appends one byte.
    pub fn u8(&mut self, v: u8) -> Result<(), EmitError> {
        self.put(&[v])
    }

    /// Appends a big-endian u16.
    pub fn u16_be(&mut self, v: u16) -> Result<(), EmitError> {
        self.put(&v.to_be_bytes())
    }

    /// Appends a big-endian u32.
    pub fn u32_be(&mut self, v: u32) -> Result<(), EmitError> {
        self.put(&v.to_be_bytes())
    }

    /// Appends a little-endian u16.
    pub fn u16_le(&mut self, v: u16) -> Result<(), EmitError> {
        self.put(&v.to_le_bytes())
    }

    /// Appends a little-endian u32.
    pub fn u32_le(&mut self, v: u32) -> Result<(), EmitError> {
        self.put(&v.to_le_bytes())
    }

    /// Appends a little-endian u64.
    pub fn u64_le(&mut self, v: u64) -> Result<(), EmitError> {
        self.put(&v.to_le_bytes())
    }

    /// Appends `s` and a terminating NUL.
    pub fn cstr(&mut self, s: &[u8]) -> Result<(), EmitError> {
        self.put(s)?;
        self.u8(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn truncated_read_names_field_and_offset() {
        let mut r = Reader::new(&[1, 2, 3]);
        r.u8("A").unwrap();
        let e = r.u32_be("B").unwrap_err();
        assert_eq!(e.field, "B");
        assert_eq!(e.offset, 1);
        assert_eq!(
            e.kind,
            ErrorKind::Truncated {
                needed: 4,
                available: 2
            }
        );
    }

    #[test]
    fn cstr_bounds() {
        let mut r = Reader::new(b"abc\0def");
        assert_eq!(r.cstr(3, "S").unwrap(), b"abc");
        assert!(r.clone().cstr(16, "S").is_err(), "no NUL");
        let mut r = Reader::new(b"abcdef\0");
        assert!(r.cstr(3, "S").is_err(), "too long");
    }

    #[test]
    fn writer_refuses_overflow() {
        let mut b = [0u8; 3];
        let mut w = Writer::new(&mut b);
        w.u16_be(7).unwrap();
        assert_eq!(
            w.u16_be(7),
            Err(EmitError::BufferTooSmall {
                needed: 4,
                available: 3
            })
        );
    }
}
