//! Byte-aligned integer helpers shared by the codecs: LEB128 varints (Go's
//! `binary.PutUvarint` layout) and zigzag mapping of signed integers.
//!
//! Readers take the position to read from and bound every read by the slice;
//! a varint longer than 10 bytes or running off the end is an error.

use super::CodecError;

/// Maps a signed integer to its zigzag encoding (small magnitudes → small values).
#[inline]
pub(crate) fn zigzag(x: i64) -> u64 {
    ((x << 1) ^ (x >> 63)) as u64
}

/// Maps a zigzag-encoded unsigned integer back to its signed value.
#[inline]
pub(crate) fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// Appends `x` as an unsigned LEB128 varint.
#[inline]
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        out.push((x as u8) | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

/// Appends `x` as a zigzag varint.
#[inline]
pub(crate) fn put_varint(out: &mut Vec<u8>, x: i64) {
    put_uvarint(out, zigzag(x));
}

/// Reads an unsigned LEB128 varint at `*pos`, advancing it.
#[inline]
pub(crate) fn read_uvarint(data: &[u8], pos: &mut usize) -> Result<u64, CodecError> {
    let mut value = 0u64;
    for i in 0..10u32 {
        let Some(&b) = data.get(*pos) else {
            return Err(CodecError::Truncated { offset: *pos });
        };
        *pos += 1;
        if b < 0x80 {
            if i == 9 && b > 1 {
                return Err(CodecError::Corrupt {
                    offset: *pos - 1,
                    what: "varint over 64 bits",
                });
            }
            return Ok(value | (u64::from(b) << (7 * i)));
        }
        value |= u64::from(b & 0x7f) << (7 * i);
    }
    Err(CodecError::Corrupt {
        offset: *pos,
        what: "varint over 10 bytes",
    })
}

/// Reads a zigzag varint at `*pos`, advancing it.
#[inline]
pub(crate) fn read_varint(data: &[u8], pos: &mut usize) -> Result<i64, CodecError> {
    read_uvarint(data, pos).map(unzigzag)
}

/// Reads a length (a uvarint) and checks it against `max`.
pub(crate) fn read_len(data: &[u8], pos: &mut usize, max: usize) -> Result<usize, CodecError> {
    let at = *pos;
    let n = read_uvarint(data, pos)?;
    match usize::try_from(n) {
        Ok(n) if n <= max => Ok(n),
        _ => Err(CodecError::TooLarge {
            offset: at,
            len: n,
            max: max as u64,
        }),
    }
}

/// Takes `len` bytes at `*pos`, advancing it.
pub(crate) fn take<'a>(
    data: &'a [u8],
    pos: &mut usize,
    len: usize,
) -> Result<&'a [u8], CodecError> {
    let end = pos
        .checked_add(len)
        .ok_or(CodecError::Truncated { offset: *pos })?;
    let s = data
        .get(*pos..end)
        .ok_or(CodecError::Truncated { offset: *pos })?;
    *pos = end;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_reject_overflow() {
        let mut buf = Vec::new();
        let xs = [0u64, 1, 127, 128, 300, 1 << 35, u64::MAX];
        for &x in &xs {
            put_uvarint(&mut buf, x);
        }
        let mut pos = 0;
        for &x in &xs {
            assert_eq!(read_uvarint(&buf, &mut pos).unwrap(), x);
        }
        assert_eq!(pos, buf.len());
        assert!(read_uvarint(&buf, &mut pos).is_err());
        assert!(read_uvarint(&[0xff; 11], &mut 0).is_err());
        assert!(read_uvarint(
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
            &mut 0
        )
        .is_err());
        for x in [0i64, -1, 1, i64::MIN, i64::MAX] {
            assert_eq!(unzigzag(zigzag(x)), x);
        }
        assert!(read_len(&[0x05], &mut 0, 4).is_err());
        assert!(take(&[1, 2], &mut 1, 2).is_err());
    }
}
