//! The bit stream under the XOR chunk: a writer that appends bits most
//! significant bit first into a byte vector, and a reader that walks the same
//! bits back.
//!
//! Bit order matches Prometheus's `bstream` (tsdb/chunkenc/bstream.go, v2.42):
//! the first bit written is the most significant bit of the first byte, and the
//! last byte is zero-padded. The writer appends in place so that a chunk can
//! keep its writer and grow in O(1) per sample. The reader never panics: every
//! read past the end of the data is a [`ChunkError::Truncated`], and reads are
//! bounded by the slice it was given.

use super::varint::unzigzag;
use super::ChunkError;

/// Appends bits to a byte vector, most significant bit first.
///
/// The vector may already hold bytes (the XOR chunk keeps its 2-byte header in
/// front); new bits start after them, or inside the last byte when it has free
/// low bits.
#[derive(Debug, Clone, Default)]
pub(crate) struct BitWriter {
    buf: Vec<u8>,
    /// Unused low bits in the last byte of `buf` (0..=7; 0 means a new byte
    /// is needed for the next bit).
    free: u32,
}

impl BitWriter {
    /// A writer appending after the whole bytes in `buf`.
    pub(crate) fn from_vec(buf: Vec<u8>) -> Self {
        BitWriter { buf, free: 0 }
    }

    /// A writer continuing a stream whose last byte has `free` unused low bits,
    /// which must be zero.
    pub(crate) fn with_free_bits(buf: Vec<u8>, free: u32) -> Self {
        BitWriter {
            buf,
            free: free % 8,
        }
    }

    /// The bytes written so far, padding bits zero.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Mutable access for patching already written whole bytes (the chunk
    /// header); the caller must not change the length.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.buf
    }

    /// Gives the bytes back.
    pub(crate) fn into_vec(self) -> Vec<u8> {
        self.buf
    }

    /// Appends one bit.
    #[inline]
    pub(crate) fn write_bit(&mut self, bit: bool) {
        self.write_bits(u64::from(bit), 1);
    }

    /// Appends whole bytes (byte-aligned or not).
    pub(crate) fn write_byte(&mut self, byte: u8) {
        self.write_bits(u64::from(byte), 8);
    }

    /// Appends the low `n` bits of `value` (`n` in 0..=64), most significant first.
    #[inline]
    pub(crate) fn write_bits(&mut self, value: u64, n: u32) {
        debug_assert!(n <= 64);
        let mut remaining = n.min(64);
        let value = if remaining < 64 {
            value & ((1u64 << remaining) - 1)
        } else {
            value
        };
        // Fill the free low bits of the last byte first.
        if self.free > 0 && remaining > 0 {
            let take = remaining.min(self.free);
            let chunk = (value >> (remaining - take)) & ((1u64 << take) - 1);
            if let Some(last) = self.buf.last_mut() {
                *last |= (chunk as u8) << (self.free - take);
            }
            self.free -= take;
            remaining -= take;
        }
        // Then whole bytes.
        while remaining >= 8 {
            remaining -= 8;
            self.buf.push((value >> remaining) as u8);
        }
        // Then the start of a new, partially used byte.
        if remaining > 0 {
            let chunk = (value & ((1u64 << remaining) - 1)) as u8;
            self.buf.push(chunk << (8 - remaining));
            self.free = 8 - remaining;
        }
    }
}

/// Reads bits from a byte slice, most significant bit first.
#[derive(Debug, Clone, Default)]
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    /// Position of the next bit to read.
    pos: usize,
}

impl<'a> BitReader<'a> {
    /// A reader at the first bit of `data`.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        BitReader { data, pos: 0 }
    }

    /// Number of bits consumed so far.
    pub(crate) fn position_bits(&self) -> usize {
        self.pos
    }

    /// Bits left to read.
    #[inline]
    pub(crate) fn remaining_bits(&self) -> usize {
        (self.data.len() * 8).saturating_sub(self.pos)
    }

    /// The next 64 bits without consuming them; bits past the end read as zero.
    #[inline]
    pub(crate) fn peek(&self) -> u64 {
        let byte = self.pos >> 3;
        let shift = (self.pos & 7) as u32;
        let word: Option<[u8; 8]> = self
            .data
            .get(byte..byte.wrapping_add(8))
            .and_then(|s| s.try_into().ok());
        match word {
            Some(w) => {
                let hi = u64::from_be_bytes(w) << shift;
                let next = u64::from(self.data.get(byte + 8).copied().unwrap_or(0));
                // `next >> 8` is 0 when shift is 0, so no special case.
                hi | (next >> (8 - shift))
            }
            None => self.peek_slow(byte, shift),
        }
    }

    /// `peek` near the end of the data, zero-filling missing bytes.
    #[cold]
    fn peek_slow(&self, byte: usize, shift: u32) -> u64 {
        let mut word = [0u8; 9];
        if let Some(tail) = self.data.get(byte..) {
            for (dst, src) in word.iter_mut().zip(tail) {
                *dst = *src;
            }
        }
        let (head, last) = word.split_at(8);
        let mut hi = [0u8; 8];
        hi.copy_from_slice(head);
        let next = u64::from(last.first().copied().unwrap_or(0));
        (u64::from_be_bytes(hi) << shift) | (next >> (8 - shift))
    }

    /// Consumes `n` bits that the caller already looked at with [`peek`](Self::peek).
    #[inline]
    pub(crate) fn skip(&mut self, n: u32) -> Result<(), ChunkError> {
        if (n as usize) > self.remaining_bits() {
            return Err(ChunkError::Truncated { bit: self.pos });
        }
        self.pos += n as usize;
        Ok(())
    }

    /// Reads `n` bits (0..=64) as the low bits of the result.
    #[inline]
    pub(crate) fn read_bits(&mut self, n: u32) -> Result<u64, ChunkError> {
        if n == 0 {
            return Ok(0);
        }
        if n > 64 || (n as usize) > self.remaining_bits() {
            return Err(ChunkError::Truncated { bit: self.pos });
        }
        let v = self.peek() >> (64 - n);
        self.pos += n as usize;
        Ok(v)
    }

    /// Reads 8 bits.
    pub(crate) fn read_byte(&mut self) -> Result<u8, ChunkError> {
        Ok(self.read_bits(8)? as u8)
    }

    /// Reads an unsigned LEB128 varint (Go's `binary.Uvarint`): at most 10
    /// bytes, the tenth holding at most one bit.
    pub(crate) fn read_uvarint(&mut self) -> Result<u64, ChunkError> {
        let start = self.pos;
        let mut value = 0u64;
        for i in 0..10u32 {
            let b = self.read_byte()?;
            if b < 0x80 {
                if i == 9 && b > 1 {
                    return Err(ChunkError::VarintOverflow { bit: start });
                }
                return Ok(value | (u64::from(b) << (7 * i)));
            }
            value |= u64::from(b & 0x7f) << (7 * i);
        }
        Err(ChunkError::VarintOverflow { bit: start })
    }

    /// Reads a zigzag signed varint (Go's `binary.Varint`).
    pub(crate) fn read_varint(&mut self) -> Result<i64, ChunkError> {
        let u = self.read_uvarint()?;
        Ok(unzigzag(u))
    }
}

/// Writes `x` as an unsigned LEB128 varint into a bit stream.
pub(crate) fn write_uvarint(w: &mut BitWriter, mut x: u64) {
    while x >= 0x80 {
        w.write_byte((x as u8) | 0x80);
        x >>= 7;
    }
    w.write_byte(x as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip_across_byte_boundaries() {
        let fields: Vec<(u64, u32)> = vec![
            (1, 1),
            (0b101, 3),
            (0x3fff, 14),
            (u64::MAX, 64),
            (0, 7),
            (0x1_2345, 17),
            (0xdead_beef, 32),
            (1, 1),
        ];
        let mut w = BitWriter::from_vec(Vec::new());
        for &(v, n) in &fields {
            w.write_bits(v, n);
        }
        let total: u32 = fields.iter().map(|f| f.1).sum();
        let bytes = w.into_vec();
        assert_eq!(bytes.len(), (total as usize).div_ceil(8));
        let mut r = BitReader::new(&bytes);
        for &(v, n) in &fields {
            assert_eq!(r.read_bits(n).unwrap(), v, "field of {n} bits");
        }
        // Only padding is left, then the end.
        assert!(r.remaining_bits() < 8);
        assert!(r.read_bits(8).is_err());
    }

    #[test]
    fn first_bit_is_the_most_significant_bit() {
        let mut w = BitWriter::from_vec(vec![0xAA]);
        w.write_bits(0b1, 1);
        w.write_bits(0b01, 2);
        assert_eq!(w.bytes(), &[0xAA, 0b1010_0000]);
    }

    #[test]
    fn varints_match_go_encoding() {
        for x in [0u64, 1, 127, 128, 300, u64::MAX, 1 << 63] {
            let mut w = BitWriter::from_vec(Vec::new());
            write_uvarint(&mut w, x);
            let buf = w.into_vec();
            let mut r = BitReader::new(&buf);
            assert_eq!(r.read_uvarint().unwrap(), x);
        }
        // 11 continuation bytes overflow.
        let mut r = BitReader::new(&[0xff; 11]);
        assert!(matches!(
            r.read_uvarint(),
            Err(ChunkError::VarintOverflow { .. })
        ));
    }
}
