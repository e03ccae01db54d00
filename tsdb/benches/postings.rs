//! Postings intersection for a 3-matcher selector over 1M head series.
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
use promlite_tsdb::{postings_for_matchers, Labels, MatchOp, Matcher, MemPostings};

const SERIES: u32 = 1_000_000;

fn build() -> MemPostings {
    let p = MemPostings::new();
    let metrics: Vec<String> = (0..100).map(|i| format!("metric_{i}")).collect();
    let jobs: Vec<String> = (0..20).map(|i| format!("job_{i}")).collect();
    let instances: Vec<String> = (0..10_000).map(|i| format!("host_{i}")).collect();
    for id in 0..SERIES {
        let i = id as usize;
        let labels = Labels::from_pairs([
            ("__name__", metrics[i % 100].as_str()),
            ("job", jobs[(i / 100) % 20].as_str()),
            ("instance", instances[(i / 7) % 10_000].as_str()),
            ("pod", &format!("pod-{id}")),
        ])
        .unwrap();
        p.add(id, &labels);
    }
    p
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
    let mut g = c.benchmark_group("postings_1M_series");
    for (name, ms) in &selectors {
        let got = postings_for_matchers(&p, ms).unwrap().len();
        assert_eq!(got, reference_count(ms), "{name}");
        g.bench_function(*name, |b| {
            b.iter(|| postings_for_matchers(black_box(&p), black_box(ms)).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
