//! Snappy (raw block format, the `snap` crate) over raw sample columns; see
//! `general`. The same block format remote-write bodies use.

use super::general::{check_raw_len, ByteCompressor, ColumnCodec};
use super::{Codec, CodecError, EncodedSize};

/// The snappy block compressor.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Snappy;

fn lib(e: snap::Error) -> CodecError {
    CodecError::Library {
        codec: "snappy",
        source: Box::new(e),
    }
}

impl ByteCompressor for Snappy {
    const NAME: &'static str = "snappy";

    fn compress(&self, src: &[u8], out: &mut Vec<u8>) -> Result<(), CodecError> {
        let c = snap::raw::Encoder::new().compress_vec(src).map_err(lib)?;
        out.extend_from_slice(&c);
        Ok(())
    }

    fn decompress(&self, src: &[u8], raw_len: usize, out: &mut Vec<u8>) -> Result<(), CodecError> {
        // The block states its length; check it before allocating.
        check_raw_len(snap::raw::decompress_len(src).map_err(lib)?, raw_len)?;
        out.clear();
        out.resize(raw_len, 0);
        let n = snap::raw::Decoder::new()
            .decompress(src, out)
            .map_err(lib)?;
        check_raw_len(n, raw_len)
    }
}

/// Snappy over raw columns.
#[derive(Debug, Clone, Copy, Default)]
pub struct SnappyCodec;

impl Codec for SnappyCodec {
    fn name(&self) -> &'static str {
        Snappy::NAME
    }
    fn encode(&self, ts: &[i64], vs: &[f64], out: &mut Vec<u8>) -> Result<EncodedSize, CodecError> {
        ColumnCodec(Snappy).encode(ts, vs, out)
    }
    fn decode(&self, data: &[u8], ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<(), CodecError> {
        ColumnCodec(Snappy).decode(data, ts, vs)
    }
}
