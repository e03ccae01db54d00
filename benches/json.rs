//! The query API's JSON encoding of a large range-query result: 10,000 series
//! × 240 points (the shape of `max_over_time(g[1h])` in the query bench),
//! values with full precision as gauges have them and second timestamps
//! with milliseconds, as `promlite::http::format` writes them for every
//! `/api/v1/query_range` answer.
//!
//! Run: `cargo bench -p promlite --bench json`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use promlite::http::format::push_result_members;
use promlite_promql::{FPoint, Labels, Series, Value};

fn matrix() -> Value {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    let series = (0..10_000)
        .map(|i| Series {
            metric: Labels::from_pairs(vec![("i", i.to_string())]),
            floats: (0..240)
                .map(|k| FPoint {
                    t: 1_700_000_000_000 + 7 + k * 60_000,
                    f: next() * 100.0,
                })
                .collect(),
        })
        .collect();
    Value::Matrix(series)
}

fn bench(c: &mut Criterion) {
    let value = matrix();
    let mut out = String::new();
    push_result_members(&mut out, &value);
    let mut group = c.benchmark_group("json");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(out.len() as u64));
    group.bench_function("matrix_10k_series_240_points", |b| {
        b.iter(|| {
            out.clear();
            push_result_members(&mut out, &value);
            out.len()
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
