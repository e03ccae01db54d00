//! The cold-block codec (encoding byte 0x40): one run of a series' samples,
//! written once when a block is made and read many times, so it spends
//! encode time to save bytes and keeps decode a tight loop over columns.
//!
//! Timestamps, whichever of two forms is smaller: the first delta and then the
//! delta-of-deltas, or the most common interval and each timestamp's offset
//! from that grid (a late scrape is one non-zero offset, but three non-zero
//! delta-of-deltas); either column is a blocked integer column (`intstream`),
//! and regular scrapes make it all zero, one byte in all.
//!
//! Values, whichever of three modes is smaller for the run:
//! - **decimal**: most monitoring values are decimals with few digits
//!   (`0.25`, `73.5`, integer counters). With `e` decimals, each value is
//!   `m / 10^e` for an integer `m` (the division of two exactly representable
//!   doubles is correctly rounded, so this reproduces the double a decimal
//!   string parses to). The run stores `m` as first or second differences,
//!   divided by their greatest common divisor (memory in 4 KiB pages), and
//!   a correction column `c = bits(v) − bits(m / 10^e)`, which is zero almost
//!   everywhere; values that are not such decimals (NaN, stale markers, ±Inf,
//!   −0.0, noise) are exact through `c`, so the mode is lossless for any input.
//! - **xor**: the Gorilla XOR value stream, for runs of high-entropy floats;
//! - **pco**: pcodec's standalone format over the value column, tried when
//!   XOR beat decimal (full-precision sums); slower to decode, so only
//!   where it saves bytes.
//!
//! ```text
//! uvarint n | [n≥1] varint t0 | [n≥2] timestamps
//! timestamps 0 (dod):  u8 0 | varint Δ1 | column(dod, n−2)
//! timestamps 1 (grid): u8 1 | varint interval | column(t_k − t0 − k·interval for k ≥ 1, n−1)
//! value mode 0 (decimal): u8 0 | u8 e | u8 order | varint m0 | uvarint g | uvarint len
//!                         | column(diffs, n) (len bytes; diffs[0] = 0) | column(c, n)
//! value mode 1 (xor):     u8 1 | 64-bit first value | XOR stream
//! value mode 2 (pco):     u8 2 | pco standalone file of the f64 values
//! ```
//!
//! Decoding is bounded by the input and never panics (sizes are checked
//! before allocation, counts against [`MAX_RUN_SAMPLES`]).

use super::bstream::{BitReader, BitWriter};
use super::intstream::{self, BLOCK};
use super::varint::{put_uvarint, put_varint, read_len, read_uvarint, read_varint, take};
use super::xor::XorValues;
use super::{check_columns, Codec, CodecError, EncodedSize, MAX_RUN_SAMPLES};

/// Most decimals tried: 10^18 is exact in a double, and beyond it `m` no longer fits 53 bits
/// for values ≥ 0.01.
const MAX_DECIMALS: usize = 18;
/// Exact powers of ten 10^0 ..= 10^18.
const POW10: [f64; MAX_DECIMALS + 1] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18,
];
/// Integers up to 2^53 convert to doubles exactly.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;
const TS_DOD: u8 = 0;
const TS_GRID: u8 = 1;
const MODE_DECIMAL: u8 = 0;
const MODE_XOR: u8 = 1;
const MODE_PCO: u8 = 2;
/// Runs longer than this choose the decimals from evenly spaced windows.
const SAMPLE_WINDOW: usize = 512;

/// Encodes a run of samples of one series (timestamps in ms, increasing for
/// good compression; any order stays lossless).
pub fn encode(ts: &[i64], vs: &[f64]) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(16 + ts.len());
    encode_into(ts, vs, &mut out)?;
    Ok(out)
}

/// Decodes a run written by [`encode`], appending its samples.
pub fn decode(data: &[u8], ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<(), CodecError> {
    let mut pos = 0;
    let n = read_len(data, &mut pos, MAX_RUN_SAMPLES)?;
    let (t0, v0) = (ts.len(), vs.len());
    let res = decode_timestamps(data, &mut pos, n, ts)
        .and_then(|()| decode_values(data, &mut pos, n, vs));
    if res.is_err() {
        ts.truncate(t0);
        vs.truncate(v0);
    }
    res
}

fn encode_into(ts: &[i64], vs: &[f64], out: &mut Vec<u8>) -> Result<EncodedSize, CodecError> {
    check_columns(ts, vs)?;
    let start = out.len();
    put_uvarint(out, ts.len() as u64);
    encode_timestamps(ts, out);
    let timestamps = out.len() - start;

    let mut best = Vec::new();
    encode_xor(vs, &mut best);
    if let Some((e, order)) = choose_decimal(vs) {
        let mut dec = Vec::new();
        encode_decimal(vs, e, order, &mut dec);
        if dec.len() <= best.len() {
            best = dec;
        }
    }
    if best.first() == Some(&MODE_XOR) {
        // Noise (full-precision sums, ratios): pcodec often beats XOR on it,
        // at a slower decode for these runs only.
        let config = pco::ChunkConfig::default();
        if let Ok(packed) = pco::standalone::simple_compress(vs, &config) {
            if 1 + packed.len() < best.len() {
                best.clear();
                best.push(MODE_PCO);
                best.extend_from_slice(&packed);
            }
        }
    }
    out.extend_from_slice(&best);
    Ok(EncodedSize {
        timestamps,
        values: out.len() - start - timestamps,
    })
}

fn encode_timestamps(ts: &[i64], out: &mut Vec<u8>) {
    let Some(&t0) = ts.first() else {
        return;
    };
    put_varint(out, t0);
    let Some(&t1) = ts.get(1) else {
        return;
    };
    // Delta-of-deltas: best when the interval drifts or data has gaps.
    let mut delta = t1.wrapping_sub(t0);
    let first_delta = delta;
    let dods: Vec<i64> = ts
        .windows(2)
        .skip(1)
        .map(|w| match *w {
            [a, b] => {
                let d = b.wrapping_sub(a);
                let dod = d.wrapping_sub(delta);
                delta = d;
                dod
            }
            _ => 0,
        })
        .collect();
    // Deviations from a grid at the most common interval: a late scrape that
    // returns to the grid is one non-zero entry here but three delta-of-deltas.
    let interval = most_common_delta(ts);
    let offsets: Vec<i64> = ts
        .iter()
        .enumerate()
        .skip(1)
        .map(|(k, &t)| {
            t.wrapping_sub(t0)
                .wrapping_sub((k as i64).wrapping_mul(interval))
        })
        .collect();
    let dod_len = varint_len(first_delta) + intstream::encoded_len(&dods);
    let grid_len = varint_len(interval) + intstream::encoded_len(&offsets);
    if grid_len < dod_len {
        out.push(TS_GRID);
        put_varint(out, interval);
        intstream::encode(&offsets, out);
    } else {
        out.push(TS_DOD);
        put_varint(out, first_delta);
        intstream::encode(&dods, out);
    }
}

/// The most frequent difference between consecutive timestamps.
fn most_common_delta(ts: &[i64]) -> i64 {
    let mut deltas: Vec<i64> = ts
        .windows(2)
        .map(|w| match *w {
            [a, b] => b.wrapping_sub(a),
            _ => 0,
        })
        .collect();
    deltas.sort_unstable();
    let mut best = (0usize, deltas.first().copied().unwrap_or(0));
    for run in deltas.chunk_by(|a, b| a == b) {
        if run.len() > best.0 {
            best = (run.len(), run.first().copied().unwrap_or(0));
        }
    }
    best.1
}

/// Bytes of `x` as a zigzag varint.
fn varint_len(x: i64) -> usize {
    let mut buf = Vec::with_capacity(10);
    put_varint(&mut buf, x);
    buf.len()
}

fn decode_timestamps(
    data: &[u8],
    pos: &mut usize,
    n: usize,
    ts: &mut Vec<i64>,
) -> Result<(), CodecError> {
    if n == 0 {
        return Ok(());
    }
    ts.reserve(n);
    let t0 = read_varint(data, pos)?;
    ts.push(t0);
    if n == 1 {
        return Ok(());
    }
    let mode_at = *pos;
    let mode = take(data, pos, 1)?.first().copied();
    let mut delta = read_varint(data, pos)?;
    let mut column = intstream::Reader::new(data, *pos)?;
    match mode {
        Some(TS_DOD) => {
            let mut t = t0.wrapping_add(delta);
            ts.push(t);
            if column.is_all_zero() {
                // Regular scrapes: every delta is the first one.
                for _ in 2..n {
                    t = t.wrapping_add(delta);
                    ts.push(t);
                }
            } else {
                for_each_block(&mut column, n - 2, |block| {
                    for &dod in block {
                        delta = delta.wrapping_add(dod);
                        t = t.wrapping_add(delta);
                        ts.push(t);
                    }
                })?;
            }
        }
        Some(TS_GRID) => {
            let mut grid = t0;
            for_each_block(&mut column, n - 1, |block| {
                for &offset in block {
                    grid = grid.wrapping_add(delta);
                    ts.push(grid.wrapping_add(offset));
                }
            })?;
        }
        _ => {
            return Err(CodecError::Corrupt {
                offset: mode_at,
                what: "unknown timestamp mode",
            })
        }
    }
    *pos = column.position();
    Ok(())
}

/// Reads `count` integers of a column block by block into `f`.
#[inline]
fn for_each_block(
    column: &mut intstream::Reader<'_>,
    count: usize,
    mut f: impl FnMut(&[i64]),
) -> Result<(), CodecError> {
    let mut left = count;
    let mut buf = [0i64; BLOCK];
    while left > 0 {
        let k = left.min(BLOCK);
        let block = buf.get_mut(..k).unwrap_or(&mut []);
        column.next_block(block)?;
        f(block);
        left -= k;
    }
    Ok(())
}

/// `m` and correction for `v` at scale `p`; `prev_m` stands in for values
/// that have no scaled integer (non-finite or too large), keeping deltas small.
#[inline]
fn split(v: f64, p: f64, prev_m: i64) -> (i64, u64) {
    let x = v * p;
    let m = if x.abs() < MAX_EXACT {
        x.round() as i64
    } else {
        prev_m
    };
    (m, v.to_bits().wrapping_sub(unscale(m, p)))
}

/// The double `m / p`, as bits (the decoder's formula).
#[inline]
fn unscale(m: i64, p: f64) -> u64 {
    (m as f64 / p).to_bits()
}

/// The decimal mode's columns at `e` decimals and difference `order`.
struct DecimalColumns {
    m0: i64,
    gcd: u64,
    diffs: Vec<i64>,
    corrections: Vec<i64>,
}

impl DecimalColumns {
    fn new(vs: &[f64], e: usize, order: u8) -> Self {
        let p = POW10.get(e).copied().unwrap_or(1.0);
        let mut corrections = Vec::with_capacity(vs.len());
        let mut deltas = Vec::with_capacity(vs.len());
        let mut prev_m = None;
        let mut m0 = 0;
        for &v in vs {
            let (m, c) = split(v, p, prev_m.unwrap_or(0));
            match prev_m {
                None => m0 = m,
                Some(prev) => deltas.push(m.wrapping_sub(prev)),
            }
            corrections.push(c as i64);
            prev_m = Some(m);
        }
        let gcd = deltas
            .iter()
            .fold(0u64, |g, &d| gcd(g, d.unsigned_abs()))
            .max(1);
        let mut diffs = Vec::with_capacity(vs.len());
        if !vs.is_empty() {
            diffs.push(0);
        }
        let mut prev_d = 0i64;
        for &d in &deltas {
            let d = d.wrapping_div(gcd as i64);
            diffs.push(if order == 1 {
                d
            } else {
                d.wrapping_sub(prev_d)
            });
            prev_d = d;
        }
        DecimalColumns {
            m0,
            gcd,
            diffs,
            corrections,
        }
    }

    fn encoded_len(&self) -> usize {
        intstream::encoded_len(&self.diffs) + intstream::encoded_len(&self.corrections)
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Chooses decimals `e` and difference order (1 or 2) by the encoded size on
/// (windows of) the run; `None` when no value is finite.
fn choose_decimal(vs: &[f64]) -> Option<(usize, u8)> {
    if !vs.iter().any(|v| v.is_finite()) {
        return None;
    }
    let windows: Vec<&[f64]> = if vs.len() <= 8 * SAMPLE_WINDOW {
        vec![vs]
    } else {
        let stride = vs.len() / 8;
        (0..8)
            .filter_map(|i| vs.get(i * stride..i * stride + SAMPLE_WINDOW))
            .collect()
    };
    let mut best: Option<(usize, usize, u8)> = None;
    for e in 0..POW10.len() {
        for order in [1u8, 2] {
            let bytes: usize = windows
                .iter()
                .map(|w| DecimalColumns::new(w, e, order).encoded_len())
                .sum();
            if best.is_none_or(|(b, _, _)| bytes < b) {
                best = Some((bytes, e, order));
            }
        }
    }
    best.map(|(_, e, order)| (e, order))
}

fn encode_decimal(vs: &[f64], e: usize, order: u8, out: &mut Vec<u8>) {
    let cols = DecimalColumns::new(vs, e, order);
    out.extend_from_slice(&[MODE_DECIMAL, e as u8, order]);
    put_varint(out, cols.m0);
    put_uvarint(out, cols.gcd);
    let mut m_col = Vec::new();
    intstream::encode(&cols.diffs, &mut m_col);
    put_uvarint(out, m_col.len() as u64);
    out.extend_from_slice(&m_col);
    intstream::encode(&cols.corrections, out);
}

fn encode_xor(vs: &[f64], out: &mut Vec<u8>) {
    out.push(MODE_XOR);
    let mut w = BitWriter::from_vec(std::mem::take(out));
    if let Some((first, rest)) = vs.split_first() {
        w.write_bits(first.to_bits(), 64);
        let mut values = XorValues::new(first.to_bits());
        for v in rest {
            values.write(&mut w, v.to_bits());
        }
    }
    *out = w.into_vec();
}

fn decode_values(
    data: &[u8],
    pos: &mut usize,
    n: usize,
    vs: &mut Vec<f64>,
) -> Result<(), CodecError> {
    if n == 0 {
        return Ok(());
    }
    let mode_at = *pos;
    match take(data, pos, 1)?.first().copied() {
        Some(MODE_DECIMAL) => decode_decimal(data, pos, n, vs),
        Some(MODE_XOR) => {
            let mut br = BitReader::new(data.get(*pos..).unwrap_or(&[]));
            let mut values = XorValues::reader(br.read_bits(64)?);
            vs.reserve(n);
            vs.push(f64::from_bits(values.bits));
            for _ in 1..n {
                values.read(&mut br)?;
                vs.push(f64::from_bits(values.bits));
            }
            *pos = data.len();
            Ok(())
        }
        Some(MODE_PCO) => {
            let v0 = vs.len();
            vs.resize(v0 + n, 0.0);
            let packed = data.get(*pos..).unwrap_or(&[]);
            let progress = pco::standalone::simple_decompress_into(
                packed,
                vs.get_mut(v0..).unwrap_or(&mut []),
            )
            .map_err(|e| CodecError::Library {
                codec: "cold/pco",
                source: Box::new(e),
            })?;
            if progress.n_processed != n || !progress.finished {
                return Err(CodecError::Corrupt {
                    offset: *pos,
                    what: "pco value column has the wrong length",
                });
            }
            *pos = data.len();
            Ok(())
        }
        _ => Err(CodecError::Corrupt {
            offset: mode_at,
            what: "unknown value mode",
        }),
    }
}

fn decode_decimal(
    data: &[u8],
    pos: &mut usize,
    n: usize,
    vs: &mut Vec<f64>,
) -> Result<(), CodecError> {
    let head_at = *pos;
    let (e, order) = match *take(data, pos, 2)? {
        [e, order] => (usize::from(e), order),
        _ => return Err(CodecError::Truncated { offset: head_at }),
    };
    let p = match (POW10.get(e), order) {
        (Some(&p), 1 | 2) => p,
        _ => {
            return Err(CodecError::Corrupt {
                offset: head_at,
                what: "bad decimal header",
            })
        }
    };
    let mut m = read_varint(data, pos)?;
    let g = read_uvarint(data, pos)? as i64;
    let m_len = read_len(data, pos, data.len())?;
    let m_col = take(data, pos, m_len)?;
    let mut diffs = intstream::Reader::new(m_col, 0)?;
    let mut fixes = intstream::Reader::new(data, *pos)?;
    let mut d = 0i64;
    let mut dbuf = [0i64; BLOCK];
    let mut cbuf = [0i64; BLOCK];
    vs.reserve(n);
    let mut left = n;
    while left > 0 {
        let k = left.min(BLOCK);
        let dblock = dbuf.get_mut(..k).unwrap_or(&mut []);
        let cblock = cbuf.get_mut(..k).unwrap_or(&mut []);
        diffs.next_block(dblock)?;
        fixes.next_block(cblock)?;
        if order == 1 {
            for (&x, &c) in dblock.iter().zip(cblock.iter()) {
                m = m.wrapping_add(x.wrapping_mul(g));
                vs.push(f64::from_bits(unscale(m, p).wrapping_add(c as u64)));
            }
        } else {
            for (&x, &c) in dblock.iter().zip(cblock.iter()) {
                d = d.wrapping_add(x);
                m = m.wrapping_add(d.wrapping_mul(g));
                vs.push(f64::from_bits(unscale(m, p).wrapping_add(c as u64)));
            }
        }
        left -= k;
    }
    *pos = fixes.position();
    Ok(())
}

/// The cold-block codec behind the [`Codec`] trait (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct ColdCodec;

impl Codec for ColdCodec {
    fn name(&self) -> &'static str {
        "cold"
    }

    fn encode(&self, ts: &[i64], vs: &[f64], out: &mut Vec<u8>) -> Result<EncodedSize, CodecError> {
        encode_into(ts, vs, out)
    }

    fn decode(&self, data: &[u8], ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<(), CodecError> {
        decode(data, ts, vs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(ts: &[i64], vs: &[f64]) -> Vec<u8> {
        let enc = encode(ts, vs).unwrap();
        let (mut dts, mut dvs) = (Vec::new(), Vec::new());
        decode(&enc, &mut dts, &mut dvs).unwrap();
        assert_eq!(dts, ts);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&dvs), bits(vs));
        enc
    }

    #[test]
    fn regular_decimal_gauge_is_tiny() {
        let ts: Vec<i64> = (0..960).map(|i| 1_700_000_000_000 + i * 15_000).collect();
        let vs: Vec<f64> = (0..960)
            .map(|i| ((i * 37 % 200) as f64) / 100.0 + 50.0)
            .collect();
        let enc = round_trip(&ts, &vs);
        // 2-decimal values within 0..2 → ~8-9 bit differences per sample;
        // regular timestamps cost one byte after t0 and Δ1.
        assert!(enc.len() < 960 * 10 / 8 + 40, "{} bytes", enc.len());
        let mut out = Vec::new();
        let size = ColdCodec.encode(&ts, &vs, &mut out).unwrap();
        assert_eq!(size.timestamps, 2 + 6 + 1 + 3 + 1);
        assert_eq!(out.get(size.timestamps), Some(&MODE_DECIMAL));
    }

    #[test]
    fn specials_inside_a_decimal_run_are_exact() {
        let ts: Vec<i64> = (0..300).map(|i| i * 15_000).collect();
        let mut vs: Vec<f64> = (0..300).map(|i| i as f64 * 0.5).collect();
        vs[10] = f64::from_bits(0x7ff0_0000_0000_0002);
        vs[11] = f64::NAN;
        vs[12] = f64::INFINITY;
        vs[13] = -0.0;
        vs[14] = f64::from_bits(0x7ff8_dead_beef_0001);
        vs[15] = 1e300;
        vs[16] = 18.324918539200002; // a decimal off by one ulp
        round_trip(&ts, &vs);
    }

    #[test]
    fn late_scrapes_cost_one_offset_each() {
        let mut ts: Vec<i64> = (0..960).map(|i| 1_700_000_000_000 + i * 15_000).collect();
        for k in [5, 300, 301, 700] {
            ts[k] += 17;
        }
        let mut out = Vec::new();
        let size = ColdCodec.encode(&ts, &[0.0; 960], &mut out).unwrap();
        // n, t0, mode, interval, column flag, 8 block headers, 4 patches
        // (count byte per patched block, index and value per patch).
        assert!(
            size.timestamps <= 2 + 6 + 1 + 3 + 1 + 8 + 3 + 4 * 2,
            "{size:?}"
        );
        assert_eq!(out.get(2 + 6), Some(&TS_GRID));
        round_trip(&ts, &[0.0; 960]);
        // Gaps move the grid for good: delta-of-deltas win.
        let gappy: Vec<i64> = (0..500).map(|i| i * 1000 + (i / 50) * 777_777).collect();
        let mut out = Vec::new();
        ColdCodec.encode(&gappy, &[0.0; 500], &mut out).unwrap();
        assert_eq!(out.get(2 + 1), Some(&TS_DOD));
        round_trip(&gappy, &[0.0; 500]);
    }

    #[test]
    fn constant_series_costs_almost_nothing() {
        let ts: Vec<i64> = (0..960).map(|i| i * 15_000).collect();
        let enc = round_trip(&ts, &[1.0; 960]);
        assert!(enc.len() < 20, "{} bytes", enc.len());
    }

    #[test]
    fn page_sized_memory_steps_are_divided_out() {
        let ts: Vec<i64> = (0..960).map(|i| i * 15_000).collect();
        let vs: Vec<f64> = (0..960)
            .map(|i| ((100_000 + (i * 7919) % 200) * 4096) as f64)
            .collect();
        let enc = round_trip(&ts, &vs);
        // Steps of up to 200 pages: 8-9 bits a sample, not 20.
        assert!(enc.len() < 960 * 9 / 8 + 60, "{} bytes", enc.len());
    }

    #[test]
    fn noise_falls_back_to_xor_and_empty_runs_work() {
        let mut x = 0x1234_5678_9abc_def0u64;
        let vs: Vec<f64> = (0..500)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                f64::from_bits(x)
            })
            .collect();
        let ts: Vec<i64> = (0..500).map(|i| i * 1000 + (i % 3)).collect();
        round_trip(&ts, &vs);
        round_trip(&[], &[]);
        round_trip(&[5], &[f64::NAN]);
        round_trip(&[i64::MIN, i64::MAX, 0], &[f64::NEG_INFINITY, -0.0, 1e-320]);
    }

    #[test]
    fn counts_over_the_bound_are_refused_before_allocating() {
        let mut data = Vec::new();
        put_uvarint(&mut data, (MAX_RUN_SAMPLES + 1) as u64);
        data.push(0);
        assert!(decode(&data, &mut Vec::new(), &mut Vec::new()).is_err());
    }

    #[test]
    fn long_flat_runs_are_a_few_bytes() {
        // NAB's art_flatline: 4032 equal values at a fixed interval.
        let ts: Vec<i64> = (0..4032).map(|i| 1_396_310_400_000 + i * 300_000).collect();
        let enc = round_trip(&ts, &[42.0; 4032]);
        assert!(enc.len() < 24, "{} bytes", enc.len());
    }
}
