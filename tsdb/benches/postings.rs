//! Postings intersection for a 3-matcher selector over 1M series, in the
//! head's in-memory postings and in a block's mmapped index file.
//!
//! Series carry `__name__` (100 metrics), `job` (20), `instance` (10,000) and
//! `pod` (unique), a Kubernetes-like shape. The selector
//! `{__name__="metric_7", job=~"job_3|job_5", instance!="host_42"}` exercises
//! one direct lookup, one literal alternation and one subtraction; the
//! `instance=~"host_1.*"` variant exercises the prefix scan. The result size
//! is checked once so the bench cannot measure a wrong answer.

#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "bench inputs are built here; a panic is a failed bench, not a crashed server"
)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use promlite_tsdb::{
    postings_for_matchers, write_block, Block, ChunkData, Labels, MatchOp, Matcher, MemPostings,
};

const SERIES: u32 = 1_000_000;

fn build() -> MemPostings {
    let p = MemPostings::new();
    for (id, labels) in (0..SERIES).zip(series()) {
        p.add(id, &labels);
    }
    p
}

fn series() -> impl Iterator<Item = Labels> {
    let metrics: Vec<String> = (0..100).map(|i| format!("metric_{i}")).collect();
    let jobs: Vec<String> = (0..20).map(|i| format!("job_{i}")).collect();
    let instances: Vec<String> = (0..10_000).map(|i| format!("host_{i}")).collect();
    (0..SERIES).map(move |id| {
        let i = id as usize;
        Labels::from_pairs([
            ("__name__", metrics[i % 100].as_str()),
            ("job", jobs[(i / 100) % 20].as_str()),
            ("instance", instances[(i / 7) % 10_000].as_str()),
            ("pod", &format!("pod-{id}")),
        ])
        .unwrap()
    })
}

/// The same series as a block (one one-sample chunk each), opened from disk.
fn build_block(dir: &std::path::Path) -> std::sync::Arc<Block> {
    let chunk = ChunkData::from_samples(&[(1_000, 1.0)]);
    let meta = write_block(dir, 0, 7_200_000, series().map(|l| (l, chunk.clone()))).unwrap();
    Block::open(&dir.join(meta.ulid.to_string())).unwrap()
}

fn reference_count(ms: &[Matcher]) -> u64 {
    (0..SERIES as usize)
        .filter(|&i| {
            let name = format!("metric_{}", i % 100);
            let job = format!("job_{}", (i / 100) % 20);
            let inst = format!("host_{}", (i / 7) % 10_000);
            ms.iter().all(|m| {
                let v = match m.name.as_str() {
                    "__name__" => &name,
                    "job" => &job,
                    _ => &inst,
                };
                m.matches(v)
            })
        })
        .count() as u64
}

fn bench(c: &mut Criterion) {
    let p = build();
    let selectors = [
        (
            "eq_alt_neq",
            vec![
                Matcher::equal("__name__", "metric_7"),
                Matcher::new(MatchOp::Regex, "job", "job_3|job_5").unwrap(),
                Matcher::new(MatchOp::NotEqual, "instance", "host_42").unwrap(),
            ],
        ),
        (
            "eq_eq_prefix",
            vec![
                Matcher::equal("__name__", "metric_7"),
                Matcher::equal("job", "job_3"),
                Matcher::new(MatchOp::Regex, "instance", "host_1.*").unwrap(),
            ],
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let block = build_block(dir.path());
    let mut g = c.benchmark_group("postings_1M_series");
    for (name, ms) in &selectors {
        let want = reference_count(ms);
        assert_eq!(postings_for_matchers(&p, ms).unwrap().len(), want, "{name}");
        assert_eq!(
            postings_for_matchers(block.index(), ms).unwrap().len(),
            want,
            "{name}"
        );
        g.bench_function(format!("head/{name}"), |b| {
            b.iter(|| postings_for_matchers(black_box(&p), black_box(ms)).unwrap())
        });
        g.bench_function(format!("block/{name}"), |b| {
            b.iter(|| postings_for_matchers(black_box(block.index()), black_box(ms)).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
