//! The snappy *block* format (not the framed/stream format) that remote-write and
//! remote-read bodies use.
//!
//! The decompressed length is read from the block header and checked against a cap
//! **before** any buffer is allocated, so a 20-byte body claiming 4 GiB costs nothing.

use crate::error::SnappyError;

/// Default cap on the decompressed size of one request: 32 MiB.
pub const DEFAULT_MAX_DECOMPRESSED_BYTES: usize = 32 << 20;

/// Decompresses a snappy block whose header claims at most `max_bytes` bytes.
pub fn decompress(block: &[u8], max_bytes: usize) -> Result<Vec<u8>, SnappyError> {
    let mut out = Vec::new();
    decompress_into(block, max_bytes, &mut out)?;
    Ok(out)
}

/// [`decompress`] into `out` (replacing its contents), reusing its allocation.
pub fn decompress_into(
    block: &[u8],
    max_bytes: usize,
    out: &mut Vec<u8>,
) -> Result<(), SnappyError> {
    if block.is_empty() {
        return Err(SnappyError::Empty);
    }
    // Read the header ourselves: snap refuses claims over 4 GiB with a generic
    // error, and the sender deserves to hear the size and the cap either way.
    let mut header = block;
    let claimed_bytes = prost::encoding::decode_varint(&mut header)
        .map_err(|_| SnappyError::Corrupt(snap::Error::Header))?;
    let claimed = usize::try_from(claimed_bytes)
        .ok()
        .filter(|&c| c <= max_bytes)
        .ok_or(SnappyError::TooLarge {
            claimed_bytes,
            max_bytes,
        })?;
    // Only newly grown bytes are zeroed: a reused buffer keeps the previous
    // request's bytes, which the decoder overwrites (zeroing 400 KiB per request
    // was measurable on the ingest path).
    out.resize(claimed, 0);
    let written = snap::raw::Decoder::new()
        .decompress(block, out)
        .map_err(SnappyError::Corrupt)?;
    out.truncate(written);
    Ok(())
}

/// Compresses `data` into one snappy block.
pub fn compress(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; snap::raw::max_compress_len(data.len())];
    // Compression into a buffer of `max_compress_len` bytes only fails for inputs over
    // snappy's 4 GiB block limit; an empty block is returned then, which any decoder
    // refuses, rather than a panic.
    match snap::raw::Encoder::new().compress(data, &mut out) {
        Ok(n) => {
            out.truncate(n);
            out
        }
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let data: Vec<u8> = (0..10_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let block = compress(&data);
        assert!(block.len() < data.len());
        assert_eq!(decompress(&block, data.len()).unwrap(), data);
    }

    #[test]
    fn header_over_cap_is_refused_before_allocating() {
        // Varint 4 GiB (2^32) followed by nothing: only the header is read.
        let block = [0x80, 0x80, 0x80, 0x80, 0x10];
        match decompress(&block, DEFAULT_MAX_DECOMPRESSED_BYTES) {
            Err(SnappyError::TooLarge {
                claimed_bytes,
                max_bytes,
            }) => {
                assert_eq!(claimed_bytes, 1 << 32);
                assert_eq!(max_bytes, DEFAULT_MAX_DECOMPRESSED_BYTES);
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }

    #[test]
    fn cap_is_inclusive() {
        let block = compress(&[7u8; 100]);
        assert_eq!(decompress(&block, 100).unwrap().len(), 100);
        assert!(matches!(
            decompress(&block, 99),
            Err(SnappyError::TooLarge { .. })
        ));
    }

    #[test]
    fn reused_buffer_holds_only_the_new_block() {
        let mut out = Vec::new();
        decompress_into(&compress(&[9u8; 1000]), 1 << 20, &mut out).unwrap();
        decompress_into(&compress(b"short"), 1 << 20, &mut out).unwrap();
        assert_eq!(out, b"short");
        decompress_into(&compress(&[3u8; 2000]), 1 << 20, &mut out).unwrap();
        assert_eq!(out, vec![3u8; 2000]);
    }

    #[test]
    fn truncated_block_is_an_error() {
        let data: Vec<u8> = (0..4096u32).flat_map(|i| i.to_le_bytes()).collect();
        let block = compress(&data);
        for cut in [1, 2, block.len() / 2, block.len() - 1] {
            let r = decompress(block.get(..cut).unwrap(), 1 << 20);
            assert!(
                matches!(r, Err(SnappyError::Corrupt(_))),
                "cut at {cut}: {r:?}"
            );
        }
        assert!(matches!(decompress(&[], 10), Err(SnappyError::Empty)));
    }
}
