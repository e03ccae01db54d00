//! Per-window cost of the range-function kernels and of the classic
//! `histogram_quantile`, independent of storage and the evaluator.
//!
//! Windows are 60 samples (a `[1h]` range at a 60 s scrape interval) of a
//! deterministic counter/gauge; histograms have 10 buckets.
//!
//! Run: `cargo bench -p promlite-promql --bench functions`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use promlite_promql::functions::histogram::{bucket_quantile, Bucket};
use promlite_promql::functions::{lookup, Implementation, RangeWindow, WindowMode};
use promlite_promql::FPoint;

const WINDOW: i64 = 60;
const INTERVAL_MS: i64 = 60_000;

fn window_points() -> Vec<FPoint> {
    // A counter with an irregular increase and one reset, like a real scrape.
    let mut v = 0.0;
    (1..=WINDOW)
        .map(|i| {
            v = if i == 30 {
                1.0
            } else {
                v + (i * 7 % 13) as f64
            };
            FPoint {
                t: i * INTERVAL_MS + i % 3,
                f: v,
            }
        })
        .collect()
}

fn kernels(c: &mut Criterion) {
    let points = window_points();
    let w = RangeWindow {
        points: &points,
        range_start_ms: 0,
        range_end_ms: WINDOW * INTERVAL_MS,
        eval_ts_ms: WINDOW * INTERVAL_MS,
        mode: WindowMode::Plain,
    };
    let mut scratch = Vec::with_capacity(points.len());
    for (name, params) in [
        ("rate", &[][..]),
        ("increase", &[]),
        ("avg_over_time", &[]),
        ("sum_over_time", &[]),
        ("max_over_time", &[]),
        ("stddev_over_time", &[]),
        ("deriv", &[]),
        ("quantile_over_time", &[0.9]),
    ] {
        let Some(Implementation::Range(kernel)) = lookup(name).map(|f| f.implementation) else {
            continue;
        };
        c.bench_function(&format!("{name}/60 samples"), |b| {
            b.iter(|| kernel(std::hint::black_box(&w), params, &mut scratch))
        });
    }
}

fn histogram(c: &mut Criterion) {
    let bounds = [
        0.005,
        0.01,
        0.05,
        0.1,
        0.5,
        1.0,
        5.0,
        10.0,
        50.0,
        f64::INFINITY,
    ];
    let buckets: Vec<Bucket> = bounds
        .iter()
        .enumerate()
        .rev()
        .map(|(i, &upper_bound)| Bucket {
            upper_bound,
            count: (i * i + 1) as f64,
        })
        .collect();
    c.bench_function("bucket_quantile/10 buckets", |b| {
        b.iter_batched_ref(
            || buckets.clone(),
            |bk| bucket_quantile(0.99, bk),
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, kernels, histogram);
criterion_main!(benches);
