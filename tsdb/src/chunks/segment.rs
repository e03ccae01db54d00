//! The byte layout of a chunk segment and the naming of segment files.
//!
//! ```text
//! header:  magic u32 BE 0x85BD40DD | version u8 = 1 | 3 zero bytes
//! chunk:   len uvarint | encoding u8 | data (len bytes) | CRC32C(encoding, data) u32 BE
//! ```
//! This is Prometheus's block chunk file layout (tsdb/docs/format/chunks.md),
//! so a segment can be read by either implementation.

use std::fs;
use std::path::{Path, PathBuf};

use super::{ChunkFileError, ChunkRef};
use crate::chunkenc::Encoding;
use crate::codec::{put_uvarint, uvarint_len, Decoder};

/// Magic number opening every segment.
pub(crate) const MAGIC: u32 = 0x85BD_40DD;
/// Format version written and accepted.
pub(crate) const VERSION: u8 = 1;
/// Size of the segment header in bytes.
pub(crate) const HEADER_LEN: usize = 8;
/// Largest chunk data accepted on read and write (a 120-sample XOR chunk is
/// ~150 bytes; this leaves room for any future codec while bounding a corrupt length).
pub(crate) const MAX_CHUNK_LEN: usize = 16 * 1024 * 1024;

/// The segment header bytes.
pub(crate) fn header() -> [u8; HEADER_LEN] {
    let m = MAGIC.to_be_bytes();
    [m[0], m[1], m[2], m[3], VERSION, 0, 0, 0]
}

/// Checks a segment's first bytes.
pub(crate) fn check_header(path: &Path, bytes: &[u8]) -> Result<(), ChunkFileError> {
    let bad = |reason| ChunkFileError::BadHeader {
        path: path.to_owned(),
        reason,
    };
    if bytes.len() < HEADER_LEN {
        return Err(bad("file shorter than header"));
    }
    let mut d = Decoder::new(bytes);
    if d.be_u32() != Some(MAGIC) {
        return Err(bad("wrong magic number"));
    }
    if d.u8() != Some(VERSION) {
        return Err(bad("unsupported version"));
    }
    Ok(())
}

/// Size of the record `encode_record` writes for `len` data bytes.
pub(crate) fn record_len(len: usize) -> usize {
    uvarint_len(len as u64) + 1 + len + 4
}

/// Appends one chunk record to `buf`.
pub(crate) fn encode_record(buf: &mut Vec<u8>, encoding: Encoding, data: &[u8]) {
    put_uvarint(buf, data.len() as u64);
    buf.push(encoding.as_u8());
    buf.extend_from_slice(data);
    let crc = crc32c::crc32c_append(crc32c::crc32c(&[encoding.as_u8()]), data);
    buf.extend_from_slice(&crc.to_be_bytes());
}

/// Decodes the record at the start of `bytes` (the segment from the chunk's
/// offset on); returns the encoding and the data's range within `bytes`.
pub(crate) fn decode_record(
    chunk: ChunkRef,
    bytes: &[u8],
) -> Result<(Encoding, std::ops::Range<usize>), ChunkFileError> {
    read_record(chunk, bytes, Checksum::Verify)
}

/// Whether reading a record recomputes its checksum.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Checksum {
    /// Bytes from a file: verify.
    Verify,
    /// Bytes this process encoded and kept in memory: lengths are still
    /// checked, the CRC is not recomputed.
    Trust,
}

/// [`decode_record`], verifying the checksum or not.
pub(crate) fn read_record(
    chunk: ChunkRef,
    bytes: &[u8],
    checksum: Checksum,
) -> Result<(Encoding, std::ops::Range<usize>), ChunkFileError> {
    let corrupt = |reason| ChunkFileError::Corrupt { chunk, reason };
    let mut d = Decoder::new(bytes);
    let len = d
        .uvarint()
        .ok_or_else(|| corrupt("truncated or malformed length"))?;
    let len = usize::try_from(len)
        .ok()
        .filter(|&l| l <= MAX_CHUNK_LEN)
        .ok_or_else(|| corrupt("length too large"))?;
    let enc_byte = d.u8().ok_or_else(|| corrupt("truncated before encoding"))?;
    let start = d.pos();
    let data = d
        .bytes(len)
        .ok_or_else(|| corrupt("data runs past end of segment"))?;
    let expected = d.be_u32().ok_or_else(|| corrupt("truncated checksum"))?;
    let got = match checksum {
        // Encoding byte and data are contiguous: one pass (a query checks
        // thousands of short chunks, so the second call's setup showed).
        Checksum::Verify => match bytes.get(start - 1..start + len) {
            Some(covered) => crc32c::crc32c(covered),
            None => crc32c::crc32c_append(crc32c::crc32c(&[enc_byte]), data),
        },
        Checksum::Trust => expected,
    };
    if got != expected {
        return Err(ChunkFileError::Checksum {
            chunk,
            got,
            expected,
        });
    }
    let encoding = Encoding::from_u8(enc_byte).map_err(|_| ChunkFileError::UnknownEncoding {
        chunk,
        encoding: enc_byte,
    })?;
    Ok((encoding, start..start + len))
}

/// The final path of segment `n` in `dir`.
pub(crate) fn segment_path(dir: &Path, n: u32) -> PathBuf {
    dir.join(format!("{n:06}"))
}

/// The path segment `n` is written under until sealed.
pub(crate) fn temp_path(dir: &Path, n: u32) -> PathBuf {
    dir.join(format!("{n:06}.tmp"))
}

/// Sealed segment numbers in `dir`, ascending, and the temp files found.
pub(crate) fn list(dir: &Path) -> Result<(Vec<u32>, Vec<PathBuf>), ChunkFileError> {
    let mut sealed = Vec::new();
    let mut temps = Vec::new();
    for entry in fs::read_dir(dir).map_err(ChunkFileError::io(dir))? {
        let entry = entry.map_err(ChunkFileError::io(dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(stem) = name.strip_suffix(".tmp") {
            if parse_number(stem).is_some() {
                temps.push(entry.path());
            }
        } else if let Some(n) = parse_number(name) {
            sealed.push(n);
        }
    }
    sealed.sort_unstable();
    Ok((sealed, temps))
}

fn parse_number(name: &str) -> Option<u32> {
    (name.len() == 6 && name.bytes().all(|b| b.is_ascii_digit()))
        .then(|| name.parse().ok())
        .flatten()
}

/// Fsyncs a directory so renames and creations in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), ChunkFileError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(ChunkFileError::io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trip_and_corruptions() {
        let r = ChunkRef::new(1, 8);
        let mut buf = Vec::new();
        encode_record(&mut buf, Encoding::Xor, b"hello");
        assert_eq!(buf.len(), record_len(5));
        let (enc, range) = decode_record(r, &buf).unwrap();
        assert_eq!(enc, Encoding::Xor);
        assert_eq!(&buf[range], b"hello");

        let mut flipped = buf.clone();
        flipped[3] ^= 1;
        assert!(matches!(
            decode_record(r, &flipped),
            Err(ChunkFileError::Checksum { .. })
        ));
        assert!(matches!(
            decode_record(r, &buf[..buf.len() - 1]),
            Err(ChunkFileError::Corrupt { .. })
        ));
        assert!(matches!(
            decode_record(r, &[0xff, 0xff, 0xff, 0x7f]),
            Err(ChunkFileError::Corrupt { .. })
        ));
        let mut unknown = Vec::new();
        encode_record(&mut unknown, Encoding::Xor, b"x");
        unknown[1] = 0x3f;
        let crc = crc32c::crc32c(&unknown[1..3]);
        let n = unknown.len();
        unknown[n - 4..].copy_from_slice(&crc.to_be_bytes());
        assert!(matches!(
            decode_record(r, &unknown),
            Err(ChunkFileError::UnknownEncoding { encoding: 0x3f, .. })
        ));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..300 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            let _ = decode_record(ChunkRef::new(1, 0), &bytes);
            let _ = check_header(Path::new("x"), &bytes);
        }
    }

    #[test]
    fn header_checks() {
        let p = Path::new("seg");
        assert!(check_header(p, &header()).is_ok());
        assert!(check_header(p, &header()[..5]).is_err());
        let mut h = header();
        h[4] = 9;
        assert!(matches!(
            check_header(p, &h),
            Err(ChunkFileError::BadHeader {
                reason: "unsupported version",
                ..
            })
        ));
        assert!(matches!(
            check_header(p, &[0; 8]),
            Err(ChunkFileError::BadHeader {
                reason: "wrong magic number",
                ..
            })
        ));
    }
}
