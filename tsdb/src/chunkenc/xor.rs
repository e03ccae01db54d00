//! The Gorilla XOR chunk, bit-compatible with Prometheus's float chunk
//! encoding (`EncXOR`, tsdb/chunkenc/xor.go, v2.42).
//!
//! Layout (see `docs/format/chunks.md`): a 2-byte big-endian sample count, the
//! first timestamp as a zigzag varint, the first value as 64 raw bits, the
//! second timestamp as an unsigned varint delta, then per sample a
//! delta-of-delta timestamp in one of five buckets (`0`, `10`+14 bits,
//! `110`+17, `1110`+20, `1111`+64) and the value XORed with the previous one,
//! reusing the previous leading/trailing-zero window when it still fits.
//!
//! The chunk keeps its writer state, so [`XorChunk::append`] is O(1); the
//! iterator is reset onto new bytes instead of rebuilt. Decoding never panics:
//! corrupt or truncated bytes end iteration with [`XorIterator::err`] set.

use super::bstream::{write_uvarint, BitReader, BitWriter, PEEK_BITS};
use super::varint::zigzag;
use super::ChunkError;

/// Bytes of the sample-count header in front of the bit stream.
const HEADER_BYTES: usize = 2;
/// "No window yet": the first changed value always writes a new window.
const NO_WINDOW: u8 = 0xff;

/// A Gorilla XOR chunk being written (or reopened for appending).
#[derive(Debug, Clone)]
pub struct XorChunk {
    w: BitWriter,
    num: u16,
    first_t: i64,
    t: i64,
    t_delta: u64,
    values: XorValues,
}

impl Default for XorChunk {
    fn default() -> Self {
        Self::new()
    }
}

impl XorChunk {
    /// An empty chunk (just the zero sample-count header).
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(128);
        buf.extend_from_slice(&[0, 0]);
        XorChunk {
            w: BitWriter::from_vec(buf),
            num: 0,
            first_t: 0,
            t: 0,
            t_delta: 0,
            values: XorValues::new(0),
        }
    }

    /// Reopens chunk bytes (ours or Prometheus's) for reading and appending.
    ///
    /// All samples are decoded once to recover the writer state; appending
    /// afterwards produces the bytes Prometheus would produce for the same
    /// chunk. Fails on corrupt or truncated bytes.
    pub fn from_bytes(mut bytes: Vec<u8>) -> Result<XorChunk, ChunkError> {
        let mut it = XorIterator::new(&bytes);
        let mut first_t = 0;
        let mut n = 0u16;
        while it.next() {
            if n == 0 {
                first_t = it.t;
            }
            n += 1;
        }
        if let Some(err) = it.err.take() {
            return Err(err);
        }
        let (t, t_delta) = (it.t, it.t_delta);
        // Prometheus's appender takes the window from its iterator, whose
        // window starts at (0, 0), and only an empty chunk gets "no window".
        let values = if n == 0 { XorValues::new(0) } else { it.values };
        let used_bits = HEADER_BYTES * 8 + it.br.position_bits();
        let used_bytes = used_bits.div_ceil(8);
        bytes.truncate(used_bytes);
        let free = (used_bytes * 8 - used_bits) as u32;
        if free > 0 {
            if let Some(last) = bytes.last_mut() {
                // Padding must be zero for later appends to OR into it.
                *last &= !((1u8 << free) - 1);
            }
        }
        Ok(XorChunk {
            w: BitWriter::with_free_bits(bytes, free),
            num: n,
            first_t,
            t,
            t_delta,
            values,
        })
    }

    /// Number of samples in the chunk.
    pub fn num_samples(&self) -> u16 {
        self.num
    }

    /// Whether the chunk holds the maximum number of samples (`u16::MAX`).
    pub fn is_full(&self) -> bool {
        self.num == u16::MAX
    }

    /// The encoded chunk: header and bit stream, padding bits zero.
    pub fn bytes(&self) -> &[u8] {
        self.w.bytes()
    }

    /// Gives the encoded bytes back.
    pub fn into_bytes(self) -> Vec<u8> {
        self.w.into_vec()
    }

    /// An iterator over the samples appended so far.
    pub fn iter(&self) -> XorIterator<'_> {
        XorIterator::new(self.w.bytes())
    }

    /// Timestamp (ms) of the first sample, if any.
    pub fn first_time(&self) -> Option<i64> {
        (self.num > 0).then_some(self.first_t)
    }

    /// Timestamp (ms) of the last sample, if any.
    pub fn last_time(&self) -> Option<i64> {
        (self.num > 0).then_some(self.t)
    }

    /// Appends a sample; the caller guarantees `t` is greater than the last
    /// timestamp (any i64 delta is encodable, but iteration order is append
    /// order). A full chunk (`u16::MAX` samples) ignores the sample; use
    /// [`try_append`](Self::try_append) to be told.
    pub fn append(&mut self, t: i64, v: f64) {
        let appended = self.try_append(t, v);
        debug_assert!(appended.is_ok(), "append to a full XOR chunk");
    }

    /// Appends a sample, failing with [`ChunkError::Full`] when the chunk
    /// already holds `u16::MAX` samples.
    pub fn try_append(&mut self, t: i64, v: f64) -> Result<(), ChunkError> {
        if self.is_full() {
            return Err(ChunkError::Full);
        }
        let vbits = v.to_bits();
        match self.num {
            0 => {
                write_uvarint(&mut self.w, zigzag(t));
                self.w.write_bits(vbits, 64);
                self.values = XorValues::new(vbits);
                self.first_t = t;
            }
            1 => {
                let t_delta = t.wrapping_sub(self.t) as u64;
                write_uvarint(&mut self.w, t_delta);
                self.values.write(&mut self.w, vbits);
                self.t_delta = t_delta;
            }
            _ => {
                let t_delta = t.wrapping_sub(self.t) as u64;
                let dod = t_delta.wrapping_sub(self.t_delta) as i64;
                let (prefix, prefix_bits, payload_bits) = dod_bucket(dod);
                self.w.write_bits(prefix, prefix_bits);
                self.w.write_bits(dod as u64, payload_bits);
                self.values.write(&mut self.w, vbits);
                self.t_delta = t_delta;
            }
        }
        self.t = t;
        self.num += 1;
        let count = self.num.to_be_bytes();
        if let Some(header) = self.w.bytes_mut().get_mut(..HEADER_BYTES) {
            header.copy_from_slice(&count);
        }
        Ok(())
    }
}

/// Picks Prometheus's bucket for a timestamp delta-of-delta: (prefix bits,
/// prefix length, payload length). Ranges are upstream `bitRange`'s:
/// -(2^(n-1)-1) ..= 2^(n-1), shifted by one from two's complement; the reader
/// maps payloads above 2^(n-1) to negatives the same way.
#[inline]
fn dod_bucket(dod: i64) -> (u64, u32, u32) {
    let fits = |n: u32| {
        let half = 1i64 << (n - 1);
        -(half - 1) <= dod && dod <= half
    };
    if dod == 0 {
        // Regular scrapes: the common case costs one bit.
        (0b0, 1, 0)
    } else if fits(14) {
        (0b10, 2, 14)
    } else if fits(17) {
        (0b110, 3, 17)
    } else if fits(20) {
        (0b1110, 4, 20)
    } else {
        (0b1111, 4, 64)
    }
}

/// Bits the timestamps of `ts` take in XOR chunks of `chunk_len` samples
/// (2-byte header included), so that codec reports can split an XOR chunk's
/// bytes between timestamps and values.
pub(crate) fn timestamp_bits(ts: &[i64], chunk_len: usize) -> usize {
    let varint_bits = |x: u64| 8 * (1 + (63 - (x | 1).leading_zeros() as usize) / 7);
    let mut bits = 0;
    for chunk in ts.chunks(chunk_len.max(1)) {
        bits += 8 * HEADER_BYTES;
        let mut prev_t = 0i64;
        let mut prev_delta = 0u64;
        for (i, &t) in chunk.iter().enumerate() {
            let delta = t.wrapping_sub(prev_t) as u64;
            bits += match i {
                0 => varint_bits(zigzag(t)),
                1 => varint_bits(delta),
                _ => {
                    let (_, prefix, payload) = dod_bucket(delta.wrapping_sub(prev_delta) as i64);
                    (prefix + payload) as usize
                }
            };
            prev_t = t;
            prev_delta = delta;
        }
    }
    bits
}

/// The XOR value stream: each value XORed with the previous one, with the
/// leading/trailing-zero window carried between samples. Shared by the XOR
/// chunk and the column codecs that store values the Gorilla way.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct XorValues {
    /// Bits of the previous (for readers: the current) value.
    pub(crate) bits: u64,
    leading: u8,
    trailing: u8,
}

impl XorValues {
    /// A writer whose previous value is `first` and which has no window yet.
    pub(crate) fn new(first: u64) -> Self {
        XorValues {
            bits: first,
            leading: NO_WINDOW,
            trailing: 0,
        }
    }

    /// A reader starting at value bits `first` with Prometheus's reader
    /// window (0, 0).
    pub(crate) fn reader(first: u64) -> Self {
        XorValues {
            bits: first,
            leading: 0,
            trailing: 0,
        }
    }

    /// Writes `vbits` as the XOR with the previous value.
    #[inline]
    pub(crate) fn write(&mut self, w: &mut BitWriter, vbits: u64) {
        let delta = vbits ^ self.bits;
        self.bits = vbits;
        if delta == 0 {
            // Unchanged value (constant gauges, idle counters): one bit.
            w.write_bit(false);
            return;
        }
        // The 5-bit field holds at most 31 leading zeros.
        let leading = (delta.leading_zeros() as u8).min(31);
        let trailing = delta.trailing_zeros() as u8;
        if self.leading != NO_WINDOW && leading >= self.leading && trailing >= self.trailing {
            // The meaningful bits fit the previous window: `10` + the window.
            w.write_bits(0b10, 2);
            let sig = 64 - u32::from(self.leading) - u32::from(self.trailing);
            w.write_bits(delta >> self.trailing, sig);
            return;
        }
        self.leading = leading;
        self.trailing = trailing;
        let sig = 64 - u32::from(leading) - u32::from(trailing);
        w.write_bits(0b11, 2);
        w.write_bits(u64::from(leading), 5);
        // 64 significant bits do not fit 6 bits; they are written as 0, which
        // cannot otherwise occur (a zero delta took the branch above).
        w.write_bits(u64::from(sig), 6);
        w.write_bits(delta >> trailing, sig);
    }

    /// Reads the next value into `self.bits`.
    // Inlined into the iterator's `next`, which is inlined into decode loops.
    #[inline(always)]
    pub(crate) fn read(&mut self, br: &mut BitReader<'_>) -> Result<(), ChunkError> {
        // Each peek asks only for the bits it needs, so the register is
        // refilled about once per 32+ bits read rather than once per sample.
        let peek = br.peek_min(2);
        if peek >> 63 == 0 {
            // Unchanged value: one bit.
            return br.skip(1);
        }
        let sig;
        if (peek >> 62) & 1 == 0 {
            // `10`: reuse the previous window.
            sig = 64 - u32::from(self.leading) - u32::from(self.trailing);
            if sig + 2 <= PEEK_BITS {
                let word = br.peek_min(2 + sig);
                br.skip(2 + sig)?;
                let bits = if sig == 0 {
                    0
                } else {
                    (word << 2) >> (64 - sig)
                };
                self.bits ^= bits << self.trailing;
                return Ok(());
            }
            br.skip(2)?;
        } else {
            // `11`: new window, 5 bits of leading zeros, 6 bits of length.
            let peek = br.peek_min(13);
            let leading = ((peek >> 57) & 0x1f) as u32;
            let mut len = ((peek >> 51) & 0x3f) as u32;
            if len == 0 {
                len = 64;
            }
            if leading + len > 64 {
                return Err(ChunkError::BadWindow {
                    bit: br.position_bits() + 13,
                    leading: leading as u8,
                    significant: len as u8,
                });
            }
            self.leading = leading as u8;
            self.trailing = (64 - leading - len) as u8;
            if 13 + len <= PEEK_BITS {
                // Header and bits are both in one peeked word.
                let word = br.peek_min(13 + len);
                br.skip(13 + len)?;
                self.bits ^= ((word << 13) >> (64 - len)) << self.trailing;
                return Ok(());
            }
            br.skip(13)?;
            sig = len;
        }
        let bits = br.read_bits(sig)?;
        self.bits ^= bits.checked_shl(u32::from(self.trailing)).unwrap_or(0);
        Ok(())
    }
}

/// Pull iterator over the samples of an XOR chunk.
///
/// `next` advances, `at` reads the current sample, `seek` skips forward, and
/// `err` reports why iteration stopped early (corrupt or truncated bytes).
#[derive(Debug, Clone, Default)]
pub struct XorIterator<'a> {
    br: BitReader<'a>,
    num_total: u16,
    num_read: u16,
    t: i64,
    t_delta: u64,
    values: XorValues,
    err: Option<ChunkError>,
}

impl<'a> XorIterator<'a> {
    /// An iterator over chunk bytes (header included).
    pub fn new(bytes: &'a [u8]) -> Self {
        let mut it = XorIterator::default();
        it.reset(bytes);
        it
    }

    /// Points the iterator at new chunk bytes, reusing it without allocating.
    pub fn reset(&mut self, bytes: &'a [u8]) {
        *self = XorIterator {
            br: BitReader::new(bytes.get(HEADER_BYTES..).unwrap_or(&[])),
            num_total: 0,
            num_read: 0,
            t: 0,
            t_delta: 0,
            values: XorValues::reader(0),
            err: None,
        };
        match bytes {
            [hi, lo, ..] => self.num_total = u16::from_be_bytes([*hi, *lo]),
            _ => self.err = Some(ChunkError::Truncated { bit: 0 }),
        }
    }

    /// Advances to the next sample; false at the end or on an error.
    // Inlined into callers' loops: a call per sample cost ~15 % of decoding.
    #[inline(always)]
    #[expect(
        clippy::should_implement_trait,
        reason = "a lending next/at/err cursor like Prometheus's iterators; not an Iterator"
    )]
    pub fn next(&mut self) -> bool {
        // An error sets `num_read` to `num_total`, so one compare covers both.
        if self.num_read >= self.num_total {
            return false;
        }
        let read = if self.num_read >= 2 {
            // Every sample after the second: the common case first.
            self.read_dod()
                .and_then(|()| self.values.read(&mut self.br))
        } else if self.num_read == 0 {
            self.read_first()
        } else {
            self.read_second()
        };
        match read {
            Ok(()) => {
                self.num_read += 1;
                true
            }
            Err(e) => {
                self.err = Some(e);
                self.num_read = self.num_total;
                false
            }
        }
    }

    /// The current sample: timestamp (ms) and value. Only meaningful after
    /// `next` or `seek` returned true.
    #[inline]
    pub fn at(&self) -> (i64, f64) {
        (self.t, f64::from_bits(self.values.bits))
    }

    /// Advances to the first sample with timestamp ≥ `t`; stays put if the
    /// current sample already qualifies. False when there is none.
    pub fn seek(&mut self, t: i64) -> bool {
        if self.err.is_some() {
            return false;
        }
        while self.num_read == 0 || self.t < t {
            if !self.next() {
                return false;
            }
        }
        true
    }

    /// Why iteration stopped early, if it did.
    pub fn err(&self) -> Option<&ChunkError> {
        self.err.as_ref()
    }

    /// Samples left in the chunk after the current one, by its header.
    pub fn remaining(&self) -> u16 {
        self.num_total.saturating_sub(self.num_read)
    }

    fn read_first(&mut self) -> Result<(), ChunkError> {
        self.t = self.br.read_varint()?;
        self.values = XorValues::reader(self.br.read_bits(64)?);
        Ok(())
    }

    fn read_second(&mut self) -> Result<(), ChunkError> {
        self.t_delta = self.br.read_uvarint()?;
        self.t = self.t.wrapping_add(self.t_delta as i64);
        self.values.read(&mut self.br)
    }

    /// Reads the next timestamp's delta of delta.
    // Inlined into `next` like the value read: as a call it cost ~8 % of a
    // range query's decoding.
    #[inline(always)]
    fn read_dod(&mut self) -> Result<(), ChunkError> {
        // Enough for every bucket but the 64-bit one: 4 prefix + 20 bits.
        let peek = self.br.peek_min(24);
        if peek >> 63 == 0 {
            // Regular scrapes: dod 0, one bit. Tested before the other
            // buckets so it is one well-predicted branch, not a jump table.
            self.br.skip(1)?;
            self.t = self.t.wrapping_add(self.t_delta as i64);
            return Ok(());
        }
        // Leading one bits name the bucket: 10 → 14 bits, 110 → 17,
        // 1110 → 20, 1111 → 64.
        let ones = (!peek).leading_zeros();
        let (prefix, size) = if ones == 1 {
            (2, 14)
        } else if ones == 2 {
            (3, 17)
        } else if ones == 3 {
            (4, 20)
        } else {
            (4, 64)
        };
        let dod = if size < 64 {
            // Prefix and payload are both inside the peeked word.
            self.br.skip(prefix + size)?;
            let raw = (peek << prefix) >> (64 - size);
            // Values above 2^(size-1) are negative (see `dod_bucket`).
            if raw > (1u64 << (size - 1)) {
                raw.wrapping_sub(1u64 << size) as i64
            } else {
                raw as i64
            }
        } else {
            self.br.skip(prefix)?;
            self.br.read_bits(64)? as i64
        };
        self.t_delta = self.t_delta.wrapping_add(dod as u64);
        self.t = self.t.wrapping_add(self.t_delta as i64);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(bytes: &[u8]) -> Vec<(i64, u64)> {
        let mut it = XorIterator::new(bytes);
        let mut out = Vec::new();
        while it.next() {
            let (t, v) = it.at();
            out.push((t, v.to_bits()));
        }
        assert!(it.err().is_none(), "{:?}", it.err());
        out
    }

    #[test]
    fn empty_chunk_is_two_zero_bytes() {
        let c = XorChunk::new();
        assert_eq!(c.bytes(), &[0, 0]);
        assert_eq!(c.first_time(), None);
        assert!(collect(c.bytes()).is_empty());
    }

    #[test]
    fn known_bytes_for_two_samples() {
        // Worked out by hand from the format: count=2, varint(1000)=zigzag 2000
        // = 0xd0 0x0f, value 1.0 = 3ff0..., delta 15000 = 0x98 0x75, then the
        // value 2.0 XOR 1.0 = 0x7ff0000000000000: `11`, leading 1 (00001),
        // 11 significant bits (001011), bits 11111111111.
        let mut c = XorChunk::new();
        c.append(1000, 1.0);
        c.append(16000, 2.0);
        let mut expect = vec![0, 2, 0xd0, 0x0f, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x98, 0x75];
        // 11 00001 001011 11111111111 = 24 bits.
        expect.extend_from_slice(&[0b1100_0010, 0b0101_1111, 0b1111_1111]);
        assert_eq!(c.bytes(), expect.as_slice());
    }

    #[test]
    fn dod_buckets_and_their_edges() {
        let mut ts = vec![0i64, 10];
        let mut delta = 10i64;
        for dod in [
            0,
            1,
            -1,
            8192,
            -8191,
            8193,
            65536,
            -65535,
            65537,
            524288,
            524289,
            -524287,
            -524288,
            i64::MAX / 4,
        ] {
            delta = delta.wrapping_add(dod);
            let last = *ts.last().unwrap();
            ts.push(last.wrapping_add(delta));
        }
        let mut c = XorChunk::new();
        for (i, &t) in ts.iter().enumerate() {
            c.append(t, i as f64);
        }
        let got: Vec<i64> = collect(c.bytes()).iter().map(|s| s.0).collect();
        assert_eq!(got, ts);
    }

    #[test]
    fn reopened_chunk_appends_like_the_original() {
        let samples: Vec<(i64, f64)> = (0..50)
            .map(|i| (i * 15_000 + (i % 3), (i as f64).sqrt()))
            .collect();
        let mut whole = XorChunk::new();
        for &(t, v) in &samples {
            whole.append(t, v);
        }
        let mut first = XorChunk::new();
        for &(t, v) in &samples[..20] {
            first.append(t, v);
        }
        let mut reopened = XorChunk::from_bytes(first.bytes().to_vec()).unwrap();
        assert_eq!(reopened.first_time(), Some(0));
        assert_eq!(reopened.last_time(), Some(samples[19].0));
        for &(t, v) in &samples[20..] {
            reopened.append(t, v);
        }
        let want: Vec<(i64, u64)> = samples.iter().map(|&(t, v)| (t, v.to_bits())).collect();
        assert_eq!(collect(reopened.bytes()), want);
        assert_eq!(collect(whole.bytes()), want);
    }

    #[test]
    fn seek_stays_or_advances() {
        let mut c = XorChunk::new();
        for i in 0..10 {
            c.append(i * 10, i as f64);
        }
        let mut it = c.iter();
        assert!(it.seek(25));
        assert_eq!(it.at().0, 30);
        assert!(it.seek(5));
        assert_eq!(it.at().0, 30);
        assert!(it.seek(90));
        assert!(!it.seek(91));
        assert!(it.err().is_none());
    }

    #[test]
    fn truncation_is_an_error_not_a_panic() {
        let mut c = XorChunk::new();
        for i in 0..120 {
            c.append(i * 15_000, (i as f64) * 1.5);
        }
        let bytes = c.bytes();
        for cut in 0..bytes.len() - 1 {
            let mut it = XorIterator::new(&bytes[..cut]);
            let mut n = 0;
            while it.next() {
                n += 1;
            }
            assert!(n < 120);
            assert!(it.err().is_some(), "cut at {cut}");
            assert!(XorChunk::from_bytes(bytes[..cut].to_vec()).is_err());
        }
    }

    #[test]
    fn full_chunk_refuses_appends() {
        let mut c = XorChunk::new();
        for i in 0..u16::MAX as i64 {
            c.append(i, 0.0);
        }
        assert!(c.is_full());
        assert!(matches!(c.try_append(1 << 20, 1.0), Err(ChunkError::Full)));
        assert_eq!(c.iter().remaining(), u16::MAX);
    }
}
