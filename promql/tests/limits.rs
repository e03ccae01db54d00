//! Query limits stop work and keep their error kind: max samples, timeout,
//! cancellation.

use std::time::Duration;

use promlite_promql::{
    CancelToken, Engine, EngineOptions, Labels, MemStorage, QueryError, QueryRange,
};

fn storage(series: usize, samples: i64) -> MemStorage {
    let mut s = MemStorage::new();
    for i in 0..series {
        let l = Labels::from_pairs([("__name__", "m".to_string()), ("i", i.to_string())]);
        for k in 0..samples {
            s.add(l.clone(), k * 15_000, k as f64);
        }
    }
    s
}

#[test]
fn too_many_samples_is_its_own_error() {
    let s = storage(20, 100);
    let engine = Engine::new(EngineOptions {
        max_samples: 50,
        ..EngineOptions::default()
    });
    let err = engine
        .range_query(&s, "m", 0, 1_500_000, 15_000)
        .unwrap_err();
    assert!(matches!(err, QueryError::TooManySamples { .. }), "{err}");
    let err = engine
        .instant_query(&s, "sum_over_time(m[10m])", 1_500_000)
        .unwrap_err();
    assert!(matches!(err, QueryError::TooManySamples { .. }), "{err}");
    // The same queries fit under the default limit.
    let engine = Engine::default();
    assert!(engine.range_query(&s, "m", 0, 1_500_000, 15_000).is_ok());
}

#[test]
fn canceled_query_stops() {
    let s = storage(5, 10);
    let engine = Engine::default();
    let cancel = CancelToken::new();
    cancel.cancel();
    let err = engine
        .query(
            &s,
            "rate(m[1m])",
            QueryRange::Instant { t_ms: 60_000 },
            &cancel,
        )
        .unwrap_err();
    assert!(matches!(err, QueryError::Canceled { .. }), "{err}");
    assert_eq!(err.to_string(), "query was canceled in query execution");
}

#[test]
fn timed_out_query_stops() {
    let s = storage(5, 10);
    let engine = Engine::new(EngineOptions {
        timeout: Duration::ZERO,
        ..EngineOptions::default()
    });
    let err = engine.instant_query(&s, "m", 60_000).unwrap_err();
    assert!(matches!(err, QueryError::Timeout { .. }), "{err}");
}

#[test]
fn samples_loaded_are_counted() {
    let s = storage(3, 10);
    let r = Engine::default()
        .instant_query(&s, "count_over_time(m[10m])", 135_000)
        .unwrap();
    assert_eq!(r.stats.samples_loaded, 30);
}

#[test]
fn unbounded_grids_are_refused_before_allocating() {
    let s = storage(1, 10);
    let engine = Engine::default();
    let err = engine
        .range_query(&s, "m", 0, 1_000_000_000, 1)
        .unwrap_err();
    assert!(matches!(err, QueryError::BadData { .. }), "{err}");
    let err = engine
        .range_query(&s, "m", i64::MIN, i64::MAX, 1)
        .unwrap_err();
    assert!(matches!(err, QueryError::BadData { .. }), "{err}");
    let err = engine
        .instant_query(&s, "max_over_time(vector(1)[1000y:1ms])", 0)
        .unwrap_err();
    assert!(matches!(err, QueryError::TooManySamples { .. }), "{err}");
}
