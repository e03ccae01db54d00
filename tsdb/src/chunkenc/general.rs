//! General-purpose byte compressors applied to raw sample columns: the
//! timestamps as little-endian i64s and the value bits as little-endian u64s,
//! each column compressed on its own (columns compress better than
//! interleaved samples and give the timestamp/value split for free).
//!
//! Layout: `uvarint n | uvarint ts_bytes | compressed ts column | compressed
//! value column`. Decoding knows each column's raw size (8 × n, with n bounded
//! by [`MAX_RUN_SAMPLES`]) before it decompresses.

use super::varint::{put_uvarint, read_len, take};
use super::{check_columns, Codec, CodecError, EncodedSize, MAX_RUN_SAMPLES};

/// One general-purpose compressor (zstd, lz4, snappy).
pub(crate) trait ByteCompressor: Send + Sync {
    /// Codec name for reports.
    const NAME: &'static str;

    /// Appends the compression of `src` to `out`.
    fn compress(&self, src: &[u8], out: &mut Vec<u8>) -> Result<(), CodecError>;

    /// Decompresses `src`, which must hold exactly `raw_len` bytes, into `out`
    /// (cleared first).
    fn decompress(&self, src: &[u8], raw_len: usize, out: &mut Vec<u8>) -> Result<(), CodecError>;
}

/// A [`Codec`] compressing the two raw columns with `C`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ColumnCodec<C>(pub(crate) C);

impl<C: ByteCompressor> Codec for ColumnCodec<C> {
    fn name(&self) -> &'static str {
        C::NAME
    }

    fn encode(&self, ts: &[i64], vs: &[f64], out: &mut Vec<u8>) -> Result<EncodedSize, CodecError> {
        check_columns(ts, vs)?;
        let start = out.len();
        let raw_ts: Vec<u8> = ts.iter().flat_map(|t| t.to_le_bytes()).collect();
        let raw_vs: Vec<u8> = vs.iter().flat_map(|v| v.to_bits().to_le_bytes()).collect();
        let mut col = Vec::new();
        self.0.compress(&raw_ts, &mut col)?;
        put_uvarint(out, ts.len() as u64);
        put_uvarint(out, col.len() as u64);
        out.extend_from_slice(&col);
        let timestamps = out.len() - start;
        self.0.compress(&raw_vs, out)?;
        Ok(EncodedSize {
            timestamps,
            values: out.len() - start - timestamps,
        })
    }

    fn decode(&self, data: &[u8], ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<(), CodecError> {
        let mut pos = 0;
        let n = read_len(data, &mut pos, MAX_RUN_SAMPLES)?;
        let ts_len = read_len(data, &mut pos, data.len())?;
        let ts_col = take(data, &mut pos, ts_len)?;
        let vs_col = data.get(pos..).unwrap_or(&[]);
        let mut raw = Vec::new();
        self.0.decompress(ts_col, n * 8, &mut raw)?;
        ts.extend(raw.chunks_exact(8).map(|b| i64::from_le_bytes(le8(b))));
        self.0.decompress(vs_col, n * 8, &mut raw)?;
        vs.extend(
            raw.chunks_exact(8)
                .map(|b| f64::from_bits(u64::from_le_bytes(le8(b)))),
        );
        Ok(())
    }
}

/// Copies an 8-byte chunk into an array (callers pass `chunks_exact(8)` items).
fn le8(b: &[u8]) -> [u8; 8] {
    let mut a = [0u8; 8];
    a.copy_from_slice(b.get(..8).unwrap_or(&[0; 8]));
    a
}

/// Fails unless a decompressor produced exactly `want` bytes.
pub(crate) fn check_raw_len(got: usize, want: usize) -> Result<(), CodecError> {
    if got == want {
        Ok(())
    } else {
        Err(CodecError::Corrupt {
            offset: 0,
            what: "decompressed column has the wrong length",
        })
    }
}
