//! Bounded integer codecs shared by the on-disk formats (chunk segments, block index).
//!
//! Encoders append to a caller-owned `Vec<u8>`; [`Decoder`] is a cursor over a
//! byte slice whose every read is bounds-checked and returns `None` instead of
//! panicking, so each format can turn "ran off the end" into its own typed
//! corruption error carrying the offset. Integers are big-endian (as in
//! Prometheus's formats); varints are Go's `binary.Uvarint`/`Varint`
//! (LEB128, zig-zag for signed), at most 10 bytes.

/// Appends `v` as an unsigned LEB128 varint.
pub(crate) fn put_uvarint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Appends `v` as a zig-zag signed varint.
pub(crate) fn put_varint(buf: &mut Vec<u8>, v: i64) {
    put_uvarint(buf, ((v << 1) ^ (v >> 63)) as u64);
}

/// Number of bytes `put_uvarint` writes for `v`.
pub(crate) fn uvarint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// A bounds-checked read cursor. Every method returns `None` when the bytes
/// run out or a varint is malformed, leaving the position unspecified.
pub(crate) struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    /// A cursor at the start of `buf`.
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Decoder { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// The next `n` bytes.
    pub(crate) fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    /// One byte.
    pub(crate) fn u8(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    /// A big-endian `u32`.
    pub(crate) fn be_u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.bytes(4)?.try_into().ok()?))
    }

    /// A big-endian `u64`.
    pub(crate) fn be_u64(&mut self) -> Option<u64> {
        Some(u64::from_be_bytes(self.bytes(8)?.try_into().ok()?))
    }

    /// An unsigned varint of at most 10 bytes that fits in 64 bits.
    pub(crate) fn uvarint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for i in 0..10u32 {
            let b = self.u8()?;
            if i == 9 && b > 1 {
                return None;
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }

    /// A zig-zag signed varint.
    pub(crate) fn varint(&mut self) -> Option<i64> {
        let u = self.uvarint()?;
        Some(((u >> 1) as i64) ^ -((u & 1) as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_the_edges() {
        let mut buf = Vec::new();
        let us = [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX];
        let is = [0i64, -1, 1, i64::MIN, i64::MAX, -300];
        for u in us {
            put_uvarint(&mut buf, u);
            assert_eq!(uvarint_len(u), {
                let mut b = Vec::new();
                put_uvarint(&mut b, u);
                b.len()
            });
        }
        for i in is {
            put_varint(&mut buf, i);
        }
        let mut d = Decoder::new(&buf);
        for u in us {
            assert_eq!(d.uvarint(), Some(u));
        }
        for i in is {
            assert_eq!(d.varint(), Some(i));
        }
        assert_eq!(d.remaining(), 0);
        assert_eq!(d.u8(), None);
    }

    #[test]
    fn malformed_input_is_none() {
        assert_eq!(Decoder::new(&[0x80, 0x80]).uvarint(), None);
        assert_eq!(Decoder::new(&[0xff; 10]).uvarint(), None);
        assert_eq!(Decoder::new(&[0xff; 11]).uvarint(), None);
        assert_eq!(Decoder::new(&[1, 2, 3]).be_u32(), None);
        assert_eq!(Decoder::new(&[1, 2]).bytes(3), None);
    }
}
