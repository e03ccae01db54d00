//! Sample codec speed: the XOR chunk (append and iterate, 120-sample chunks,
//! per data shape) and every codec behind the `Codec` trait on block-sized
//! runs (960 samples = 4 h at 15 s) of a mixed set of shapes. Throughput is in
//! samples; each decode is checked against its input once before timing.
//! Run: `cargo bench -p promlite-tsdb --bench chunkenc`.

#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a bench; a panic is a failed bench"
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use promlite_tsdb::chunkenc::{codecs, XorChunk, XorIterator};

const CHUNK: usize = 120;
const RUN: usize = 960;
const SERIES: usize = 64;

/// SplitMix64 with a fixed seed, so every run measures the same data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// One series of `n` samples of a shape: regular 15 s timestamps with rare
/// jitter, and values by shape.
fn series(shape: &str, n: usize, rng: &mut Rng) -> (Vec<i64>, Vec<f64>) {
    let ts = (0..n as i64)
        .map(|i| {
            1_700_000_000_000 + i * 15_000 + if rng.next().is_multiple_of(100) { 7 } else { 0 }
        })
        .collect();
    let mut acc = 0.0;
    let vs = (0..n)
        .map(|_| match shape {
            "constant" => 1.0,
            "counter" => {
                acc += (rng.next() % 50) as f64;
                acc
            }
            "gauge-2dp" => (rng.next() % 10_000) as f64 / 100.0,
            _ => f64::from_bits(0x3ff0_0000_0000_0000 | (rng.next() >> 12)),
        })
        .collect();
    (ts, vs)
}

const SHAPES: [&str; 4] = ["constant", "counter", "gauge-2dp", "random"];

fn xor_chunk(c: &mut Criterion) {
    let mut g = c.benchmark_group("xor_chunk");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    let mut rng = Rng(42);
    for shape in SHAPES {
        let runs: Vec<(Vec<i64>, Vec<f64>)> = (0..SERIES * RUN / CHUNK)
            .map(|_| series(shape, CHUNK, &mut rng))
            .collect();
        let samples = (runs.len() * CHUNK) as u64;
        g.throughput(Throughput::Elements(samples));
        g.bench_function(BenchmarkId::new("append", shape), |b| {
            b.iter(|| {
                for (ts, vs) in &runs {
                    let mut chunk = XorChunk::new();
                    for (&t, &v) in ts.iter().zip(vs) {
                        chunk.append(t, v);
                    }
                    black_box(chunk.bytes());
                }
            })
        });
        let chunks: Vec<XorChunk> = runs
            .iter()
            .map(|(ts, vs)| {
                let mut chunk = XorChunk::new();
                ts.iter().zip(vs).for_each(|(&t, &v)| chunk.append(t, v));
                chunk
            })
            .collect();
        for (chunk, (ts, _)) in chunks.iter().zip(&runs) {
            let mut it = chunk.iter();
            let mut got = Vec::new();
            while it.next() {
                got.push(it.at().0);
            }
            assert_eq!(&got, ts);
        }
        g.bench_function(BenchmarkId::new("iterate", shape), |b| {
            let mut it = XorIterator::default();
            b.iter(|| {
                let mut sum = 0.0;
                for chunk in &chunks {
                    it.reset(chunk.bytes());
                    while it.next() {
                        sum += it.at().1;
                    }
                }
                black_box(sum)
            })
        });
    }
    g.finish();
}

fn codec_runs(c: &mut Criterion) {
    let mut g = c.benchmark_group("codec_960");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    let mut rng = Rng(7);
    let runs: Vec<(Vec<i64>, Vec<f64>)> = (0..SERIES)
        .map(|i| series(SHAPES[i % SHAPES.len()], RUN, &mut rng))
        .collect();
    g.throughput(Throughput::Elements((SERIES * RUN) as u64));
    for codec in codecs() {
        let encoded: Vec<Vec<u8>> = runs
            .iter()
            .map(|(ts, vs)| {
                let mut out = Vec::new();
                codec.encode(ts, vs, &mut out).unwrap();
                out
            })
            .collect();
        for (data, (ts, vs)) in encoded.iter().zip(&runs) {
            let (mut dts, mut dvs) = (Vec::new(), Vec::new());
            codec.decode(data, &mut dts, &mut dvs).unwrap();
            assert_eq!(&dts, ts);
            assert!(dvs.iter().zip(vs).all(|(a, b)| a.to_bits() == b.to_bits()));
        }
        g.bench_function(BenchmarkId::new("encode", codec.name()), |b| {
            let mut out = Vec::new();
            b.iter(|| {
                for (ts, vs) in &runs {
                    out.clear();
                    codec.encode(ts, vs, &mut out).unwrap();
                }
                black_box(out.len())
            })
        });
        g.bench_function(BenchmarkId::new("decode", codec.name()), |b| {
            let (mut ts, mut vs) = (Vec::with_capacity(RUN), Vec::with_capacity(RUN));
            b.iter(|| {
                for data in &encoded {
                    ts.clear();
                    vs.clear();
                    codec.decode(data, &mut ts, &mut vs).unwrap();
                }
                black_box((ts.len(), vs.len()))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, xor_chunk, codec_runs);
criterion_main!(benches);
