//! pcodec (`pco` crate, standalone format) over the timestamp column (i64) and
//! the value column (f64), each compressed on its own.
//!
//! Layout: `uvarint n | uvarint ts_bytes | pco(ts) | pco(values)`. pco
//! picks delta orders and float modes itself; it shines on long runs (block
//! sized) and pays a header of tens of bytes per column on short ones.

use super::varint::{put_uvarint, read_len, take};
use super::{check_columns, Codec, CodecError, EncodedSize, MAX_RUN_SAMPLES};

/// pcodec at a compression level.
#[derive(Debug, Clone, Copy)]
pub struct PcoCodec {
    /// pco compression level (0..=12; 8 is pco's default).
    pub level: usize,
}

impl Default for PcoCodec {
    fn default() -> Self {
        PcoCodec { level: 8 }
    }
}

fn lib(e: pco::errors::PcoError) -> CodecError {
    CodecError::Library {
        codec: "pco",
        source: Box::new(e),
    }
}

impl Codec for PcoCodec {
    fn name(&self) -> &'static str {
        "pco"
    }

    fn encode(&self, ts: &[i64], vs: &[f64], out: &mut Vec<u8>) -> Result<EncodedSize, CodecError> {
        check_columns(ts, vs)?;
        let config = pco::ChunkConfig::default().with_compression_level(self.level);
        let start = out.len();
        let ts_col = pco::standalone::simple_compress(ts, &config).map_err(lib)?;
        put_uvarint(out, ts.len() as u64);
        put_uvarint(out, ts_col.len() as u64);
        out.extend_from_slice(&ts_col);
        let timestamps = out.len() - start;
        let vs_col = pco::standalone::simple_compress(vs, &config).map_err(lib)?;
        out.extend_from_slice(&vs_col);
        Ok(EncodedSize {
            timestamps,
            values: vs_col.len(),
        })
    }

    fn decode(&self, data: &[u8], ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<(), CodecError> {
        let mut pos = 0;
        let n = read_len(data, &mut pos, MAX_RUN_SAMPLES)?;
        let ts_len = read_len(data, &mut pos, data.len())?;
        let ts_col = take(data, &mut pos, ts_len)?;
        let vs_col = data.get(pos..).unwrap_or(&[]);
        let t0 = ts.len();
        ts.resize(t0 + n, 0);
        let got =
            pco::standalone::simple_decompress_into(ts_col, ts.get_mut(t0..).unwrap_or(&mut []))
                .map_err(lib)?;
        let v0 = vs.len();
        vs.resize(v0 + n, 0.0);
        let got_v =
            pco::standalone::simple_decompress_into(vs_col, vs.get_mut(v0..).unwrap_or(&mut []))
                .map_err(lib)?;
        if got.n_processed != n || !got.finished || got_v.n_processed != n || !got_v.finished {
            ts.truncate(t0);
            vs.truncate(v0);
            return Err(CodecError::Corrupt {
                offset: pos,
                what: "pco column holds the wrong number of samples",
            });
        }
        Ok(())
    }
}
