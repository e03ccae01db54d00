//! The baseline: 16 bytes per sample, the timestamp and the value's bits as
//! little-endian 64-bit integers, interleaved. No header: the sample count is
//! the length divided by 16.

use super::{check_columns, Codec, CodecError, EncodedSize};

/// Uncompressed 16-byte samples.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlainCodec;

impl Codec for PlainCodec {
    fn name(&self) -> &'static str {
        "plain"
    }

    fn encode(&self, ts: &[i64], vs: &[f64], out: &mut Vec<u8>) -> Result<EncodedSize, CodecError> {
        check_columns(ts, vs)?;
        out.reserve(ts.len() * 16);
        for (&t, &v) in ts.iter().zip(vs) {
            out.extend_from_slice(&t.to_le_bytes());
            out.extend_from_slice(&v.to_bits().to_le_bytes());
        }
        Ok(EncodedSize {
            timestamps: ts.len() * 8,
            values: vs.len() * 8,
        })
    }

    fn decode(&self, data: &[u8], ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<(), CodecError> {
        let samples = data.chunks_exact(16);
        if !samples.remainder().is_empty() {
            return Err(CodecError::Truncated {
                offset: data.len() - samples.remainder().len(),
            });
        }
        ts.reserve(data.len() / 16);
        vs.reserve(data.len() / 16);
        for s in samples {
            let (t, v) = s.split_at(8);
            let mut t8 = [0u8; 8];
            let mut v8 = [0u8; 8];
            t8.copy_from_slice(t);
            v8.copy_from_slice(v);
            ts.push(i64::from_le_bytes(t8));
            vs.push(f64::from_bits(u64::from_le_bytes(v8)));
        }
        Ok(())
    }
}
