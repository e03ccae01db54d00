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

const SERIES: usize = 10_000;
const HOURS: i64 = 4;
const INTERVAL_MS: i64 = 60_000;
const BUCKETS: [&str; 10] = [
    "0.005", "0.01", "0.05", "0.1", "0.5", "1", "5", "10", "50", "+Inf",
];

/// A small deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn build_storage() -> MemStorage {
    let mut s = MemStorage::new();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let samples = HOURS * 3_600_000 / INTERVAL_MS;
    for i in 0..SERIES {
        let m = Labels::from_pairs([
            ("__name__", "m".to_string()),
            ("x", (i % 10).to_string()),
            ("i", i.to_string()),
        ]);
        let g = Labels::from_pairs([("__name__", "g".to_string()), ("i", i.to_string())]);
        let hist = i / BUCKETS.len();
        let le = BUCKETS[i % BUCKETS.len()];
        let h = Labels::from_pairs([
            ("__name__", "h_bucket".to_string()),
            ("i", hist.to_string()),
            ("le", le.to_string()),
        ]);
        let bucket_share = (i % BUCKETS.len() + 1) as f64;
        let (mut c, mut hc) = (0.0, 0.0);
        for k in 0..samples {
            let t = k * INTERVAL_MS;
            c += rng.next() * 10.0;
            hc += bucket_share;
            s.add(m.clone(), t, c);
            s.add(g.clone(), t, rng.next() * 100.0);
            s.add(h.clone(), t, hc);
        }
    }
    s
}

fn bench(c: &mut Criterion) {
    let storage = build_storage();
    let engine = Engine::new(EngineOptions::default());
    let end = HOURS * 3_600_000;
    let mut group = c.benchmark_group("engine_10k_series_4h_step_60s");
    group.sample_size(10);
    for (name, query) in [
        ("sum_by_rate", "sum by (x) (rate(m[5m]))"),
        (
            "histogram_quantile",
            "histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))",
        ),
        ("max_over_time", "max_over_time(g[1h])"),
    ] {
        // Check once that the query returns data, so the bench measures real work.
        match engine.range_query(&storage, query, 0, end, 60_000) {
            Ok(r) => assert!(
                matches!(r.value, promlite_promql::Value::Matrix(ref m) if !m.is_empty()),
                "{query}"
            ),
            Err(e) => panic!("{query}: {e}"),
        }
        group.bench_function(name, |b| {
            b.iter(|| engine.range_query(&storage, query, 0, end, 60_000));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
