//! Engine benchmarks over an in-memory storage: 10,000 series × 4 hours of
//! samples every 60 s, queried as a 4-hour range at a 60 s step.
//!
//! - `sum by (x) (rate(m[5m]))`: counters `m{x="0".."9", i=...}`;
//! - `histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))`: 1,000
//!   classic histograms of 10 buckets each;
//! - `max_over_time(g[1h])`: gauges.
//!
//! Run: `cargo bench -p promlite-promql --bench engine`.

use criterion::{criterion_group, criterion_main, Criterion};
use promlite_promql::{Engine, EngineOptions, Labels, MemStorage};

#[path = "support/workload.rs"]
mod workload;

use workload::{Source, INTERVAL_MS, SAMPLES, SERIES};

fn build_storage() -> MemStorage {
    let mut s = MemStorage::new();
    for i in 0..SERIES {
        let mut src = Source::new(i);
        let (m, g, h) = (
            Labels::from_pairs(src.m.clone()),
            Labels::from_pairs(src.g.clone()),
            Labels::from_pairs(src.h.clone()),
        );
        for k in 0..SAMPLES {
            let t = k * INTERVAL_MS;
            let (counter, gauge, bucket) = src.next_values();
            s.add(m.clone(), t, counter);
            s.add(g.clone(), t, gauge);
            s.add(h.clone(), t, bucket);
        }
    }
    s
}

fn bench(c: &mut Criterion) {
    let storage = build_storage();
    let engine = Engine::new(EngineOptions::default());
    let mut group = c.benchmark_group("engine_10k_series_4h_step_60s");
    group.sample_size(10);
    workload::bench_queries(&mut group, &engine, &storage);
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
