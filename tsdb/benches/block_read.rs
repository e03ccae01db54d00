//! Reading a block: select every series and iterate every sample through the
//! querier, for the same data written as XOR chunks and as cold runs.
//!
//! 1,000 series × 2 h at 15 s (480,000 samples), Kubernetes-like: counters
//! with integer increments, gauges with two decimals, constant series, with a
//! fixed seed. Throughput is samples per second, decode and iteration
//! included (label decoding and chunk lookup too, amortized over 480 samples
//! per series). The sample count and the XOR of all value bits are checked
//! once, so the bench cannot measure a wrong answer.

#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "bench inputs are built here; a panic is a failed bench, not a crashed server"
)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use promlite_tsdb::{
    write_block_with, BlockEncoding, ChunkData, Db, Labels, MatchOp, Matcher, Options,
};

const SERIES: usize = 1_000;
const STEP: i64 = 15_000;
const RANGE: i64 = 2 * 3600 * 1000;

/// SplitMix64: a fixed-seed generator, enough for bench data.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn series(i: usize, seed: &mut u64) -> (Labels, Vec<(i64, f64)>) {
    let kind = ["counter", "gauge", "constant"][i % 3];
    let labels = Labels::from_pairs([
        ("__name__", format!("metric_{kind}_{}", i % 17).as_str()),
        ("pod", format!("pod-{i}").as_str()),
    ])
    .unwrap();
    let mut v = 0.0f64;
    let samples = (0..RANGE / STEP)
        .map(|k| {
            v = match kind {
                "counter" => v + (next(seed) % 50) as f64,
                "gauge" => (next(seed) % 100_000) as f64 / 100.0,
                _ => 1.0,
            };
            (k * STEP, v)
        })
        .collect();
    (labels, samples)
}

fn open(encoding: BlockEncoding) -> (tempfile::TempDir, Db, u64) {
    let dir = tempfile::tempdir().unwrap();
    let mut seed = 42;
    let data: Vec<_> = (0..SERIES).map(|i| series(i, &mut seed)).collect();
    let checksum = data
        .iter()
        .flat_map(|(_, s)| s.iter().map(|x| x.1.to_bits()))
        .fold(0, |a, b| a ^ b);
    let input = data
        .iter()
        .map(|(l, s)| (l.clone(), ChunkData::from_samples(s)));
    write_block_with(dir.path(), 0, RANGE, encoding, input).unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    (dir, db, checksum)
}

/// Samples read and the XOR of their value bits (independent of order),
/// through `next` or, with `streamed`, through `for_each_sample`.
fn select_iterate(db: &Db, streamed: bool) -> (usize, u64) {
    let q = db.querier(0, RANGE).unwrap();
    let all = q
        .select(&[Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap()])
        .unwrap();
    let (mut n, mut sum) = (0, 0);
    for s in &all {
        let mut it = s.iter();
        if streamed {
            it.for_each_sample(|_, v| {
                n += 1;
                sum ^= v.to_bits();
            });
        } else {
            for (_, v) in it.by_ref() {
                n += 1;
                sum ^= v.to_bits();
            }
        }
        assert!(it.err().is_none());
    }
    (n, sum)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("block_select_iterate");
    g.throughput(Throughput::Elements((SERIES as i64 * RANGE / STEP) as u64));
    for (name, encoding) in [("xor", BlockEncoding::Xor), ("cold", BlockEncoding::Cold)] {
        let (_dir, db, checksum) = open(encoding);
        for (how, streamed) in [("next", false), ("for_each", true)] {
            let (n, sum) = select_iterate(&db, streamed);
            assert_eq!(n as i64, SERIES as i64 * RANGE / STEP);
            assert_eq!(sum, checksum);
            g.bench_function(format!("{name}/{how}"), |b| {
                b.iter(|| black_box(select_iterate(&db, streamed)))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
