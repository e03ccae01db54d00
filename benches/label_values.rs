//! Label values for one label over 1M series, through the whole HTTP path
//! (router → postings → JSON), as Grafana's variables and metrics browser ask
//! for them. Target: p99 under 50 ms.
//!
//! Series: `bench_metric_<i % 1000>{job="job-<i % 100>", instance="host-<i>"}`,
//! one sample each. Cases: every value of `job` (100 values over 1M series),
//! the metric names of one job (a `match[]` intersecting postings), and every
//! value of `instance` (1M values: the worst case, mostly JSON size), and
//! Grafana's match-all `/api/v1/series` lookup with its default `limit=40000`.
//! Besides criterion's figures, each case prints its p50/p99 over 200 runs
//! (fewer, at least 20, for cases slower than 0.3 s).
//!
//! Run: `cargo bench --bench label_values` (`BENCH_SERIES=100000` for a smaller set).

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use axum::Router;
use criterion::{criterion_group, criterion_main, Criterion};
use http_body_util::BodyExt;
use promlite::http::read_state::{self, ReadState, ServerInfo};
use promlite_promql::{Engine, EngineOptions};
use promlite_tsdb::{Db, Labels, Options};
use tower::ServiceExt;

const CASES: [(&str, &str); 4] = [
    ("job_values_1M_series", "/api/v1/label/job/values"),
    (
        "metric_names_of_one_job",
        "/api/v1/label/__name__/values?match[]=%7Bjob%3D%22job-7%22%7D",
    ),
    ("instance_values_1M", "/api/v1/label/instance/values"),
    // Grafana's match-all series lookup with its default limit.
    (
        "series_match_all_limit_40000",
        "/api/v1/series?match[]=%7B__name__%21%3D%22%22%7D&limit=40000",
    ),
];

fn series_count() -> usize {
    std::env::var("BENCH_SERIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000)
}

fn load(db: &Db, n: usize) {
    let mut app = db.appender();
    for i in 0..n {
        let labels = Labels::from_pairs([
            ("__name__", format!("bench_metric_{}", i % 1000)),
            ("job", format!("job-{}", i % 100)),
            ("instance", format!("host-{i}")),
        ])
        .expect("valid labels");
        app.append(&labels, 1_700_000_000_000, i as f64)
            .expect("append");
        if i % 10_000 == 9_999 {
            std::mem::replace(&mut app, db.appender())
                .commit()
                .expect("commit");
        }
    }
    app.commit().expect("commit");
}

async fn call(router: &Router, uri: &str) -> usize {
    let resp = router
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    assert!(resp.status().is_success(), "{uri}: {}", resp.status());
    resp.into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .len()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Db::open(dir.path(), Options::default()).expect("open");
    let n = series_count();
    let started = Instant::now();
    load(&db, n);
    eprintln!("loaded {n} series in {:?}", started.elapsed());
    let state = ReadState::new(
        db.clone(),
        Engine::new(EngineOptions::default()),
        ServerInfo::default(),
    );
    let router = read_state::routes().with_state(state);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");

    for (name, uri) in CASES {
        let bytes = rt.block_on(call(&router, uri));
        // 200 runs, or fewer for the slow cases: at most about 60 s each.
        let budget = Instant::now();
        let mut times: Vec<Duration> = Vec::with_capacity(200);
        while times.len() < 200 && (times.len() < 20 || budget.elapsed() < Duration::from_secs(60))
        {
            let t = Instant::now();
            rt.block_on(call(&router, uri));
            times.push(t.elapsed());
        }
        times.sort();
        let pct = |p: usize| {
            times
                .get(times.len() * p / 100)
                .copied()
                .unwrap_or_default()
        };
        eprintln!(
            "{name}: {bytes} bytes, p50 {:?}, p99 {:?} over {} runs ({n} series)",
            pct(50),
            pct(99),
            times.len()
        );
    }

    let mut group = c.benchmark_group("label_values");
    group.sample_size(20);
    for (name, uri) in CASES {
        group.bench_function(name, |b| b.iter(|| rt.block_on(call(&router, uri))));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
