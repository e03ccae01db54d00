//! Blocked integer streams for the cold codec: unsigned integers (callers
//! zigzag signed ones) in blocks of 128, each block either bit-packed at one
//! width or, when almost all its integers are zero, listed sparsely.
//!
//! Block layout (the count per block follows from the stream length, which
//! the caller knows):
//!
//! ```text
//! dense:  [w: u8 < 0x80] [ceil(count*w/8) bytes, integer i at bits i*w.., LSB first]
//! sparse: [0x80] [uvarint k] k × [index: u8] [uvarint value]   (indices increasing)
//! ```
//!
//! An all-zero block is the single byte `0x00`. Decoding is bounded by the
//! input slice and never panics; a block whose bytes run short is an error.

use super::varint::{put_uvarint, read_uvarint, take};
use super::CodecError;

/// Integers per block.
pub(crate) const BLOCK: usize = 128;
const SPARSE: u8 = 0x80;
/// Payload of the largest dense block, plus slack for 16-byte loads.
const BUF: usize = BLOCK * 8 + 16;

/// Bytes of `x` as a uvarint.
#[inline]
fn uvarint_len(x: u64) -> usize {
    1 + (63 - (x | 1).leading_zeros() as usize) / 7
}

/// Appends `xs` as a blocked stream.
pub(crate) fn encode(xs: &[u64], out: &mut Vec<u8>) {
    for block in xs.chunks(BLOCK) {
        encode_block(block, out);
    }
}

fn encode_block(block: &[u64], out: &mut Vec<u8>) {
    let or = block.iter().fold(0u64, |a, &x| a | x);
    let width = 64 - or.leading_zeros();
    let dense = 1 + (block.len() * width as usize).div_ceil(8);
    let nonzero = block.iter().filter(|&&x| x != 0).count();
    let sparse = 1
        + uvarint_len(nonzero as u64)
        + block
            .iter()
            .filter(|&&x| x != 0)
            .map(|&x| 1 + uvarint_len(x))
            .sum::<usize>();
    if sparse < dense {
        out.push(SPARSE);
        put_uvarint(out, nonzero as u64);
        for (i, &x) in block.iter().enumerate().filter(|(_, &x)| x != 0) {
            out.push(i as u8);
            put_uvarint(out, x);
        }
        return;
    }
    out.push(width as u8);
    if width == 0 {
        return;
    }
    // Accumulate LSB-first into a 128-bit window, flushing whole bytes.
    let mut acc: u128 = 0;
    let mut bits = 0u32;
    for &x in block {
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

/// Decodes one block of `out.len()` integers.
#[inline]
pub(crate) fn decode_block(
    data: &[u8],
    pos: &mut usize,
    out: &mut [u64],
) -> Result<(), CodecError> {
    let header_at = *pos;
    let header = *take(data, pos, 1)?.first().unwrap_or(&0);
    if header == SPARSE {
        out.fill(0);
        let k = read_uvarint(data, pos)?;
        let mut next = 0usize;
        for _ in 0..k {
            let at = *pos;
            let i = usize::from(*take(data, pos, 1)?.first().unwrap_or(&0));
            let x = read_uvarint(data, pos)?;
            match out.get_mut(i) {
                Some(slot) if i >= next => *slot = x,
                _ => {
                    return Err(CodecError::Corrupt {
                        offset: at,
                        what: "sparse block index out of order",
                    })
                }
            }
            next = i + 1;
        }
        return Ok(());
    }
    let width = u32::from(header);
    if width > 64 {
        return Err(CodecError::Corrupt {
            offset: header_at,
            what: "bit width over 64",
        });
    }
    if width == 0 {
        // All zero: idle counters, constant gauges, regular timestamps.
        out.fill(0);
        return Ok(());
    }
    let len = (out.len() * width as usize).div_ceil(8);
    let payload = take(data, pos, len)?;
    let mut buf = [0u8; BUF];
    buf.get_mut(..len)
        .unwrap_or(&mut [])
        .copy_from_slice(payload);
    unpack(&buf, width, out);
    Ok(())
}

/// Unpacks `out.len()` integers of `width` bits (1..=64) from a padded buffer.
#[inline]
fn unpack(buf: &[u8; BUF], width: u32, out: &mut [u64]) {
    let mask = if width == 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    };
    let mut bit = 0usize;
    if width <= 56 {
        for slot in out.iter_mut() {
            let b = bit >> 3;
            let word = buf
                .get(b..b + 8)
                .and_then(|s| <[u8; 8]>::try_from(s).ok())
                .unwrap_or([0; 8]);
            *slot = (u64::from_le_bytes(word) >> (bit & 7)) & mask;
            bit += width as usize;
        }
    } else {
        for slot in out.iter_mut() {
            let b = bit >> 3;
            let word = buf
                .get(b..b + 16)
                .and_then(|s| <[u8; 16]>::try_from(s).ok())
                .unwrap_or([0; 16]);
            *slot = ((u128::from_le_bytes(word) >> (bit & 7)) as u64) & mask;
            bit += width as usize;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `count` integers at `*pos` into `out` (cleared first), advancing `pos`.
    pub(crate) fn decode(
        data: &[u8],
        pos: &mut usize,
        count: usize,
        out: &mut Vec<u64>,
    ) -> Result<(), CodecError> {
        out.clear();
        out.reserve(count);
        let mut left = count;
        let mut block = [0u64; BLOCK];
        while left > 0 {
            let n = left.min(BLOCK);
            let got = block.get_mut(..n).unwrap_or(&mut []);
            decode_block(data, pos, got)?;
            out.extend_from_slice(got);
            left -= n;
        }
        Ok(())
    }

    fn round_trip(xs: &[u64]) -> usize {
        let mut out = Vec::new();
        encode(xs, &mut out);
        let mut got = Vec::new();
        let mut pos = 0;
        decode(&out, &mut pos, xs.len(), &mut got).unwrap();
        assert_eq!(pos, out.len());
        assert_eq!(got, xs);
        out.len()
    }

    #[test]
    fn widths_sparse_and_zero_blocks_round_trip() {
        assert_eq!(round_trip(&[0; 300]), 3);
        round_trip(&[u64::MAX; 130]);
        round_trip(
            &(0..1000u64)
                .map(|i| i * 2_654_435_761 % (1 << 57))
                .collect::<Vec<_>>(),
        );
        for w in 0..=64u32 {
            let top = if w == 64 {
                u64::MAX
            } else {
                (1u64 << w).wrapping_sub(1)
            };
            round_trip(
                &(0..200u64)
                    .map(|i| top.wrapping_sub(i) & top)
                    .collect::<Vec<_>>(),
            );
        }
        let mut sparse = vec![0u64; 128];
        sparse[5] = 1 << 40;
        sparse[100] = 3;
        // Header, count, two entries: far below a 41-bit dense block.
        assert_eq!(round_trip(&sparse), 1 + 1 + (1 + 6) + (1 + 1));
    }

    #[test]
    fn bad_blocks_are_errors() {
        let mut got = Vec::new();
        assert!(decode(&[65], &mut 0, 1, &mut got).is_err());
        assert!(decode(&[8, 1], &mut 0, 2, &mut got).is_err());
        assert!(decode(&[0x80, 2, 5, 1, 4, 1], &mut 0, 10, &mut got).is_err());
        assert!(decode(&[0x80, 1, 200, 1], &mut 0, 10, &mut got).is_err());
    }
}
