//! Blocked integer columns for the cold codec: signed integers in blocks of
//! 128, each block bit-packed in whichever of three forms is smallest.
//!
//! A column starts with one byte: `0` means every integer is zero and nothing
//! follows (regular timestamps, exact decimals); `1` means blocks follow. The
//! count per block follows from the column length, which the caller knows.
//!
//! ```text
//! h = w           (0..=64)    frame of reference, base 0:  packed x
//! h = 65 + w      (65..=129)  frame of reference:           varint base | packed (x − base)
//! h = 130 + w     (130..=194) patched:                      packed low w bits of zigzag(x) |
//!                                                           uvarint k | k × (u8 index, uvarint zigzag(x) >> w)
//! packed: ceil(count × w / 8) bytes, integer i at bits i·w.., least significant bit first
//! ```
//!
//! Frame of reference suits steady counters (deltas in a narrow band); the
//! patched form suits columns that are almost all small with rare outliers
//! (timestamp jitter, stale markers). Decoding is bounded by the input and
//! never panics; a block whose bytes run short is an error.

use super::varint::{put_uvarint, put_varint, read_uvarint, read_varint, take, unzigzag, zigzag};
use super::CodecError;

/// Integers per block.
pub(crate) const BLOCK: usize = 128;
const ALL_ZERO: u8 = 0;
const BLOCKS: u8 = 1;
const FOR_BASE: u8 = 65;
const PATCHED: u8 = 130;
/// Payload of the largest packed block, plus slack for 16-byte loads.
const BUF: usize = BLOCK * 8 + 16;

/// Bytes of `x` as a uvarint.
#[inline]
fn uvarint_len(x: u64) -> usize {
    1 + (63 - (x | 1).leading_zeros() as usize) / 7
}

/// Width in bits of `x`.
#[inline]
fn width(x: u64) -> u32 {
    64 - x.leading_zeros()
}

/// Appends `xs` as a column.
pub(crate) fn encode(xs: &[i64], out: &mut Vec<u8>) {
    if xs.iter().all(|&x| x == 0) {
        out.push(ALL_ZERO);
        return;
    }
    out.push(BLOCKS);
    for block in xs.chunks(BLOCK) {
        encode_block(block, out);
    }
}

/// Size in bytes `encode` would produce, without writing.
pub(crate) fn encoded_len(xs: &[i64]) -> usize {
    if xs.iter().all(|&x| x == 0) {
        return 1;
    }
    1 + xs.chunks(BLOCK).map(|b| choose(b).1).sum::<usize>()
}

/// The best form for a block and its size in bytes.
#[derive(Debug, Clone, Copy)]
enum Form {
    /// Frame of reference with this base and width.
    For { base: i64, width: u32 },
    /// Patched zigzag with this width.
    Patched { width: u32 },
}

fn choose(block: &[i64]) -> (Form, usize) {
    let packed = |w: u32| (block.len() * w as usize).div_ceil(8);
    let (min, max) = block
        .iter()
        .fold((i64::MAX, i64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    let range_width = width(max.wrapping_sub(min) as u64);
    let mut best = (
        Form::For {
            base: min,
            width: range_width,
        },
        1 + uvarint_len(zigzag(min)) + packed(range_width),
    );
    let unbased = 1 + packed(width(max as u64));
    if min >= 0 && unbased <= best.1 {
        best = (
            Form::For {
                base: 0,
                width: width(max as u64),
            },
            unbased,
        );
    }
    // Patched: try each width present in the block.
    let mut count = [0usize; 65];
    for &x in block {
        if let Some(c) = count.get_mut(width(zigzag(x)) as usize) {
            *c += 1;
        }
    }
    for w in (0..=64u32).filter(|&w| count.get(w as usize).is_some_and(|&c| c > 0) || w == 0) {
        let mut patches = 0usize;
        let mut cost = 1 + packed(w);
        for (wd, &c) in count.iter().enumerate().skip(w as usize + 1) {
            patches += c;
            cost += c * (1 + (wd - w as usize).div_ceil(7));
        }
        cost += uvarint_len(patches as u64);
        if cost < best.1 {
            best = (Form::Patched { width: w }, cost);
        }
    }
    best
}

fn encode_block(block: &[i64], out: &mut Vec<u8>) {
    match choose(block).0 {
        Form::For { base, width } => {
            if base == 0 {
                out.push(width as u8);
            } else {
                out.push(FOR_BASE + width as u8);
                put_varint(out, base);
            }
            pack(
                block.iter().map(|&x| x.wrapping_sub(base) as u64),
                width,
                out,
            );
        }
        Form::Patched { width } => {
            out.push(PATCHED + width as u8);
            let mask = low_mask(width);
            pack(block.iter().map(|&x| zigzag(x) & mask), width, out);
            let high = |x: i64| zigzag(x).checked_shr(width).unwrap_or(0);
            put_uvarint(out, block.iter().filter(|&&x| high(x) != 0).count() as u64);
            for (i, &x) in block.iter().enumerate() {
                if high(x) != 0 {
                    out.push(i as u8);
                    put_uvarint(out, high(x));
                }
            }
        }
    }
}

fn low_mask(width: u32) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

/// Packs integers of `width` bits, least significant bit first.
fn pack(xs: impl Iterator<Item = u64>, width: u32, out: &mut Vec<u8>) {
    if width == 0 {
        return;
    }
    let mut acc: u128 = 0;
    let mut bits = 0u32;
    for x in xs {
        acc |= u128::from(x) << bits;
        bits += width;
        while bits >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            bits -= 8;
        }
    }
    if bits > 0 {
        out.push(acc as u8);
    }
}

/// A column being read block by block.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    all_zero: bool,
}

impl<'a> Reader<'a> {
    /// Starts reading a column at `*pos`; `pos` is not advanced past the
    /// column's blocks (use [`Reader::position`] after the last block).
    pub(crate) fn new(data: &'a [u8], pos: usize) -> Result<Self, CodecError> {
        let mut p = pos;
        let all_zero = match take(data, &mut p, 1)?.first() {
            Some(&ALL_ZERO) => true,
            Some(&BLOCKS) => false,
            _ => {
                return Err(CodecError::Corrupt {
                    offset: pos,
                    what: "bad integer column header",
                })
            }
        };
        Ok(Reader {
            data,
            pos: p,
            all_zero,
        })
    }

    /// Byte position after what has been read.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// Whether every integer of the column is zero.
    pub(crate) fn is_all_zero(&self) -> bool {
        self.all_zero
    }

    /// Reads the next block of `out.len()` (≤ 128) integers.
    #[inline]
    pub(crate) fn next_block(&mut self, out: &mut [i64]) -> Result<(), CodecError> {
        if self.all_zero {
            out.fill(0);
            return Ok(());
        }
        let at = self.pos;
        let h = *take(self.data, &mut self.pos, 1)?.first().unwrap_or(&0);
        match h {
            0..=64 => self.unpack_into(u32::from(h), 0, out),
            FOR_BASE..=129 => {
                let base = read_varint(self.data, &mut self.pos)?;
                self.unpack_into(u32::from(h - FOR_BASE), base, out)
            }
            PATCHED..=194 => self.read_patched(u32::from(h - PATCHED), out),
            _ => Err(CodecError::Corrupt {
                offset: at,
                what: "bad integer block header",
            }),
        }
    }

    /// Unpacks `width`-bit integers and adds `base`.
    #[inline]
    fn unpack_into(&mut self, width: u32, base: i64, out: &mut [i64]) -> Result<(), CodecError> {
        if width == 0 {
            // A constant block: idle counters, constant gauges, regular timestamps.
            out.fill(base);
            return Ok(());
        }
        let len = (out.len() * width as usize).div_ceil(8);
        let payload = take(self.data, &mut self.pos, len)?;
        let mut buf = [0u8; BUF];
        buf.get_mut(..len)
            .unwrap_or(&mut [])
            .copy_from_slice(payload);
        unpack(&buf, width, out, |x| (x as i64).wrapping_add(base));
        Ok(())
    }

    fn read_patched(&mut self, width: u32, out: &mut [i64]) -> Result<(), CodecError> {
        let len = (out.len() * width as usize).div_ceil(8);
        let payload = take(self.data, &mut self.pos, len)?;
        let mut buf = [0u8; BUF];
        buf.get_mut(..len)
            .unwrap_or(&mut [])
            .copy_from_slice(payload);
        // Zigzagged low bits for now; patches add high bits, then unzigzag.
        if width == 0 {
            out.fill(0);
        } else {
            unpack(&buf, width, out, |x| x as i64);
        }
        let k = read_uvarint(self.data, &mut self.pos)?;
        let mut next = 0usize;
        for _ in 0..k {
            let at = self.pos;
            let i = usize::from(*take(self.data, &mut self.pos, 1)?.first().unwrap_or(&0));
            let high = read_uvarint(self.data, &mut self.pos)?;
            match out.get_mut(i) {
                Some(slot) if i >= next => {
                    *slot = ((*slot as u64) | high.checked_shl(width).unwrap_or(0)) as i64
                }
                _ => {
                    return Err(CodecError::Corrupt {
                        offset: at,
                        what: "patch index out of order",
                    })
                }
            }
            next = i + 1;
        }
        for x in out.iter_mut() {
            *x = unzigzag(*x as u64);
        }
        Ok(())
    }
}

/// Unpacks `out.len()` integers of `width` bits (1..=64) from a padded buffer.
#[inline]
fn unpack(buf: &[u8; BUF], width: u32, out: &mut [i64], map: impl Fn(u64) -> i64) {
    let mask = low_mask(width);
    let mut bit = 0usize;
    if width <= 56 {
        for slot in out.iter_mut() {
            let b = bit >> 3;
            let word = buf
                .get(b..b + 8)
                .and_then(|s| <[u8; 8]>::try_from(s).ok())
                .unwrap_or([0; 8]);
            *slot = map((u64::from_le_bytes(word) >> (bit & 7)) & mask);
            bit += width as usize;
        }
    } else {
        for slot in out.iter_mut() {
            let b = bit >> 3;
            let word = buf
                .get(b..b + 16)
                .and_then(|s| <[u8; 16]>::try_from(s).ok())
                .unwrap_or([0; 16]);
            *slot = map(((u128::from_le_bytes(word) >> (bit & 7)) as u64) & mask);
            bit += width as usize;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(data: &[u8], count: usize) -> Result<(Vec<i64>, usize), CodecError> {
        let mut r = Reader::new(data, 0)?;
        let mut out = Vec::new();
        let mut block = [0i64; BLOCK];
        let mut left = count;
        while left > 0 {
            let k = left.min(BLOCK);
            r.next_block(&mut block[..k])?;
            out.extend_from_slice(&block[..k]);
            left -= k;
        }
        Ok((out, r.position()))
    }

    fn round_trip(xs: &[i64]) -> usize {
        let mut out = Vec::new();
        encode(xs, &mut out);
        assert_eq!(out.len(), encoded_len(xs));
        let (got, pos) = decode(&out, xs.len()).unwrap();
        assert_eq!(pos, out.len());
        assert_eq!(got, xs);
        out.len()
    }

    #[test]
    fn every_form_round_trips() {
        assert_eq!(round_trip(&[0; 300]), 1);
        round_trip(&[i64::MAX; 130]);
        round_trip(&[i64::MIN, i64::MAX, 0, -1, 1]);
        round_trip(
            &(0..1000i64)
                .map(|i| i * 2_654_435_761 % (1 << 57))
                .collect::<Vec<_>>(),
        );
        for w in 0..=63u32 {
            let top = i64::MAX >> (63 - w);
            round_trip(&(0..200i64).map(|i| top - i).collect::<Vec<_>>());
            round_trip(&(0..200i64).map(|i| -top + i).collect::<Vec<_>>());
        }
        // A steady counter: deltas 300..=310 take 4 bits after the base.
        let steady: Vec<i64> = (0..128).map(|i| 300 + i % 11).collect();
        assert_eq!(round_trip(&steady), 1 + 1 + 2 + 64);
        // Jittered timestamps: zeros with two outliers → patched at width 0.
        let mut jitter = vec![0i64; 128];
        jitter[5] = 17;
        jitter[6] = -17;
        assert_eq!(round_trip(&jitter), 1 + 1 + 1 + 2 * 2);
    }

    #[test]
    fn bad_blocks_are_errors() {
        assert!(decode(&[2], 1).is_err());
        assert!(decode(&[1, 65], 1).is_err());
        assert!(decode(&[1, 8, 1], 2).is_err());
        assert!(decode(&[1, 130, 2, 5, 1, 4, 1], 10).is_err());
        assert!(decode(&[1, 130, 1, 200, 1], 10).is_err());
        assert!(decode(&[1, 195], 1).is_err());
    }
}
