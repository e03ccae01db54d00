//! Gorilla as Prometheus stores it: a run cut into XOR chunks of at most
//! `chunk_len` samples (120, as Prometheus cuts head chunks), each framed by a
//! uvarint byte length, the way a chunk segment file frames them (without the
//! encoding byte and CRC, which belong to the segment).
//!
//! This is the reference every other codec is compared against.

use super::varint::{put_uvarint, read_len, take};
use super::xor::timestamp_bits;
use super::{check_columns, Codec, CodecError, EncodedSize, XorChunk, XorIterator};

/// Samples per XOR chunk Prometheus aims for.
pub const PROMETHEUS_CHUNK_SAMPLES: usize = 120;

/// Runs of XOR chunks (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct GorillaCodec {
    /// Samples per chunk (1..=65535).
    pub chunk_len: usize,
}

impl Default for GorillaCodec {
    fn default() -> Self {
        GorillaCodec {
            chunk_len: PROMETHEUS_CHUNK_SAMPLES,
        }
    }
}

impl Codec for GorillaCodec {
    fn name(&self) -> &'static str {
        "gorilla"
    }

    fn encode(&self, ts: &[i64], vs: &[f64], out: &mut Vec<u8>) -> Result<EncodedSize, CodecError> {
        check_columns(ts, vs)?;
        let chunk_len = self.chunk_len.clamp(1, usize::from(u16::MAX));
        let start = out.len();
        for (cts, cvs) in ts.chunks(chunk_len).zip(vs.chunks(chunk_len)) {
            let mut c = XorChunk::new();
            for (&t, &v) in cts.iter().zip(cvs) {
                c.try_append(t, v)?;
            }
            put_uvarint(out, c.bytes().len() as u64);
            out.extend_from_slice(c.bytes());
        }
        let total = out.len() - start;
        // Whole-byte padding at each chunk end is counted with the values.
        let timestamps = (timestamp_bits(ts, chunk_len) / 8).min(total);
        Ok(EncodedSize {
            timestamps,
            values: total - timestamps,
        })
    }

    fn decode(&self, data: &[u8], ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<(), CodecError> {
        let mut pos = 0;
        let mut it = XorIterator::default();
        while pos < data.len() {
            let len = read_len(data, &mut pos, data.len())?;
            let chunk = take(data, &mut pos, len)?;
            it.reset(chunk);
            let n = usize::from(it.remaining());
            ts.reserve(n);
            vs.reserve(n);
            while it.next() {
                let (t, v) = it.at();
                ts.push(t);
                vs.push(v);
            }
            if let Some(err) = it.err() {
                return Err(err.clone().into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_counts_timestamp_bits_exactly() {
        // Constant values cost 64 bits for the first and 1 bit for each other,
        // so the rest of each chunk is timestamps.
        let ts: Vec<i64> = (0..300).map(|i| i * 15_000 + (i % 5) * 3).collect();
        let vs = vec![1.5; 300];
        let mut out = Vec::new();
        let size = GorillaCodec::default().encode(&ts, &vs, &mut out).unwrap();
        assert_eq!(size.total(), out.len());
        let mut exact_ts_bits = 0;
        let mut pos = 0;
        for chunk in ts.chunks(120) {
            let len = read_len(&out, &mut pos, out.len()).unwrap();
            pos += len;
            let value_bits = 64 + (chunk.len() - 1);
            // One byte of framing per chunk, padding below 8 bits.
            assert!(len * 8 - value_bits >= timestamp_bits(chunk, 120));
            assert!(len * 8 - value_bits < timestamp_bits(chunk, 120) + 8);
            exact_ts_bits += timestamp_bits(chunk, 120);
        }
        assert_eq!(exact_ts_bits, timestamp_bits(&ts, 120));
        let (mut dts, mut dvs) = (Vec::new(), Vec::new());
        GorillaCodec::default()
            .decode(&out, &mut dts, &mut dvs)
            .unwrap();
        assert_eq!(dts, ts);
    }
}
