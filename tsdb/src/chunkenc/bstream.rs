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

/// Bits a [`BitReader::peek`] guarantees to be valid, unless the data ends first.
pub(crate) const PEEK_BITS: u32 = 57;

/// Reads bits from a byte slice, most significant bit first.
///
/// Keeps up to 64 unread bits in a register, refilled a whole word at a time,
/// so the common reads (a control bit, a 14-bit delta) touch no memory.
#[derive(Debug, Clone, Default)]
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    /// Next byte of `data` to load into `buf`.
    next: usize,
    /// Unread bits, most significant first; bits after the `valid` ones are zero.
    buf: u64,
    valid: u32,
}

impl<'a> BitReader<'a> {
    /// A reader at the first bit of `data`.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        BitReader {
            data,
            next: 0,
            buf: 0,
            valid: 0,
        }
    }

    /// Number of bits consumed so far.
    pub(crate) fn position_bits(&self) -> usize {
        self.next * 8 - self.valid as usize
    }

    /// Loads whole bytes into the register until it holds at least
    /// [`PEEK_BITS`] bits or the data ends.
    #[inline]
    fn refill(&mut self) {
        let word: Option<[u8; 8]> = self
            .data
            .get(self.next..self.next.wrapping_add(8))
            .and_then(|s| s.try_into().ok());
        match word {
            Some(w) => {
                let bytes = (64 - self.valid) / 8;
                let valid = self.valid + bytes * 8;
                // Keep only the whole bytes taken; the rest stays in `data`.
                let keep = !u64::MAX.checked_shr(valid).unwrap_or(0);
                self.buf = (self.buf | (u64::from_be_bytes(w) >> self.valid)) & keep;
                self.valid = valid;
                self.next += bytes as usize;
            }
            None => self.refill_tail(),
        }
    }

    /// `refill` within the last 8 bytes, one byte at a time.
    #[cold]
    fn refill_tail(&mut self) {
        while self.valid <= 56 {
            let Some(&b) = self.data.get(self.next) else {
                return;
            };
            self.buf |= u64::from(b) << (56 - self.valid);
            self.valid += 8;
            self.next += 1;
        }
    }

    /// The next bits without consuming them, most significant first: at least
    /// [`PEEK_BITS`] are valid unless the data ends first; bits past the end
    /// read as zero.
    #[inline]
    pub(crate) fn peek(&mut self) -> u64 {
        if self.valid < PEEK_BITS {
            self.refill();
        }
        self.buf
    }

    /// Like [`peek`](Self::peek), but refills only when fewer than `n`
    /// (≤ [`PEEK_BITS`]) bits are buffered: at least `n` are valid unless the
    /// data ends first.
    #[inline]
    pub(crate) fn peek_min(&mut self, n: u32) -> u64 {
        if self.valid < n {
            self.refill();
        }
        self.buf
    }

    /// Consumes `n` ≤ [`PEEK_BITS`] bits the caller looked at with
    /// [`peek`](Self::peek); fails if the data ends first.
    #[inline]
    pub(crate) fn skip(&mut self, n: u32) -> Result<(), ChunkError> {
        if n > self.valid {
            return Err(ChunkError::Truncated {
                bit: self.position_bits(),
            });
        }
        self.buf = self.buf.checked_shl(n).unwrap_or(0);
        self.valid -= n;
        Ok(())
    }

    /// Reads `n` bits (0..=64) as the low bits of the result.
    #[inline]
    pub(crate) fn read_bits(&mut self, n: u32) -> Result<u64, ChunkError> {
        if n == 0 {
            return Ok(0);
        }
        if n > PEEK_BITS {
            if n > 64 {
                return Err(ChunkError::Truncated {
                    bit: self.position_bits(),
                });
            }
            let hi = self.read_bits(n - 32)?;
            let lo = self.read_bits(32)?;
            return Ok((hi << 32) | lo);
        }
        // Up to `PEEK_BITS` in one peek: the XOR values of noisy gauges and
        // counters have 40-57 significant bits, and two reads per sample
        // showed as ~8% of a query's decoding.
        let v = self.peek() >> (64 - n);
        self.skip(n)?;
        Ok(v)
    }

    /// Reads 8 bits.
    pub(crate) fn read_byte(&mut self) -> Result<u8, ChunkError> {
        Ok(self.read_bits(8)? as u8)
    }

    /// Reads an unsigned LEB128 varint (Go's `binary.Uvarint`): at most 10
    /// bytes, the tenth holding at most one bit.
    pub(crate) fn read_uvarint(&mut self) -> Result<u64, ChunkError> {
        let start = self.position_bits();
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
        assert!(bytes.len() * 8 - r.position_bits() < 8);
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
