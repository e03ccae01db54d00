//! zstd (level 3 by default) over raw sample columns; see `general`.

use super::general::{check_raw_len, ByteCompressor, ColumnCodec};
use super::{Codec, CodecError, EncodedSize};

/// The zstd compressor at a level.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Zstd {
    level: i32,
}

impl ByteCompressor for Zstd {
    const NAME: &'static str = "zstd";

    fn compress(&self, src: &[u8], out: &mut Vec<u8>) -> Result<(), CodecError> {
        let c = zstd::bulk::compress(src, self.level).map_err(lib)?;
        out.extend_from_slice(&c);
        Ok(())
    }

    fn decompress(&self, src: &[u8], raw_len: usize, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.clear();
        // `capacity` bounds the output: a frame claiming more is an error.
        *out = zstd::bulk::decompress(src, raw_len).map_err(lib)?;
        check_raw_len(out.len(), raw_len)
    }
}

fn lib(e: std::io::Error) -> CodecError {
    CodecError::Library {
        codec: "zstd",
        source: Box::new(e),
    }
}

/// zstd over raw columns.
#[derive(Debug, Clone, Copy)]
pub struct ZstdCodec(ColumnCodec<Zstd>);

impl ZstdCodec {
    /// zstd at `level` (1..=22).
    pub fn with_level(level: i32) -> Self {
        ZstdCodec(ColumnCodec(Zstd { level }))
    }
}

impl Default for ZstdCodec {
    fn default() -> Self {
        Self::with_level(3)
    }
}

impl Codec for ZstdCodec {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn encode(&self, ts: &[i64], vs: &[f64], out: &mut Vec<u8>) -> Result<EncodedSize, CodecError> {
        self.0.encode(ts, vs, out)
    }
    fn decode(&self, data: &[u8], ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<(), CodecError> {
        self.0.decode(data, ts, vs)
    }
}
