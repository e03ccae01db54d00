//! LZ4 (the `lz4_flex` block format) over raw sample columns; see `general`.

use super::general::{check_raw_len, ByteCompressor, ColumnCodec};
use super::{Codec, CodecError, EncodedSize};

/// The LZ4 block compressor.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Lz4;

impl ByteCompressor for Lz4 {
    const NAME: &'static str = "lz4";

    fn compress(&self, src: &[u8], out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(&lz4_flex::block::compress(src));
        Ok(())
    }

    fn decompress(&self, src: &[u8], raw_len: usize, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.clear();
        out.resize(raw_len, 0);
        let n = lz4_flex::block::decompress_into(src, out).map_err(|e| CodecError::Library {
            codec: "lz4",
            source: Box::new(e),
        })?;
        check_raw_len(n, raw_len)
    }
}

/// LZ4 over raw columns.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lz4Codec;

impl Codec for Lz4Codec {
    fn name(&self) -> &'static str {
        Lz4::NAME
    }
    fn encode(&self, ts: &[i64], vs: &[f64], out: &mut Vec<u8>) -> Result<EncodedSize, CodecError> {
        ColumnCodec(Lz4).encode(ts, vs, out)
    }
    fn decode(&self, data: &[u8], ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<(), CodecError> {
        ColumnCodec(Lz4).decode(data, ts, vs)
    }
}
