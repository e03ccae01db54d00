//! Columns instead of an interleaved bit stream: timestamps as a zigzag varint
//! first timestamp, first delta and then delta-of-deltas (byte-aligned, so a
//! regular scrape costs one byte per sample, not one bit), and values as the
//! Gorilla XOR bit stream.
//!
//! Layout: `uvarint n | uvarint ts_bytes | ts column | value bit stream`.
//! It shows what byte-aligned timestamps cost against Gorilla's bit buckets.

use super::bstream::{BitReader, BitWriter};
use super::varint::{put_uvarint, put_varint, read_len, read_varint, take};
use super::xor::XorValues;
use super::{check_columns, Codec, CodecError, EncodedSize, MAX_RUN_SAMPLES};

/// Delta-of-delta zigzag varint timestamps with XOR values.
#[derive(Debug, Clone, Copy, Default)]
pub struct DodXorCodec;

impl Codec for DodXorCodec {
    fn name(&self) -> &'static str {
        "dod-varint-xor"
    }

    fn encode(&self, ts: &[i64], vs: &[f64], out: &mut Vec<u8>) -> Result<EncodedSize, CodecError> {
        check_columns(ts, vs)?;
        let start = out.len();
        put_uvarint(out, ts.len() as u64);
        let mut col = Vec::with_capacity(ts.len() + 16);
        let (mut prev_t, mut prev_delta) = (0i64, 0i64);
        for (i, &t) in ts.iter().enumerate() {
            let delta = t.wrapping_sub(prev_t);
            put_varint(
                &mut col,
                if i < 2 {
                    delta
                } else {
                    delta.wrapping_sub(prev_delta)
                },
            );
            prev_t = t;
            prev_delta = delta;
        }
        put_uvarint(out, col.len() as u64);
        out.extend_from_slice(&col);
        let timestamps = out.len() - start;

        let mut w = BitWriter::from_vec(std::mem::take(out));
        if let Some((first, rest)) = vs.split_first() {
            w.write_bits(first.to_bits(), 64);
            let mut values = XorValues::new(first.to_bits());
            for v in rest {
                values.write(&mut w, v.to_bits());
            }
        }
        *out = w.into_vec();
        Ok(EncodedSize {
            timestamps,
            values: out.len() - start - timestamps,
        })
    }

    fn decode(&self, data: &[u8], ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<(), CodecError> {
        let mut pos = 0;
        let n = read_len(data, &mut pos, MAX_RUN_SAMPLES)?;
        let col_len = read_len(data, &mut pos, data.len())?;
        let col = take(data, &mut pos, col_len)?;
        ts.reserve(n);
        vs.reserve(n);
        let mut cpos = 0;
        let (mut t, mut delta) = (0i64, 0i64);
        for i in 0..n {
            let d = read_varint(col, &mut cpos)?;
            delta = if i < 2 { d } else { delta.wrapping_add(d) };
            t = t.wrapping_add(delta);
            ts.push(t);
        }
        let mut br = BitReader::new(data.get(pos..).unwrap_or(&[]));
        if n > 0 {
            let mut values = XorValues::reader(br.read_bits(64)?);
            vs.push(f64::from_bits(values.bits));
            for _ in 1..n {
                values.read(&mut br)?;
                vs.push(f64::from_bits(values.bits));
            }
        }
        Ok(())
    }
}
