//! Result shapes: instant queries give scalars, strings, vectors or matrices;
//! range queries give matrices sorted by labels; names are dropped as in 3.x.

use promlite_promql::{Engine, Labels, MemStorage, Value};

fn storage() -> MemStorage {
    let mut s = MemStorage::new();
    for (job, step) in [("b", 2.0), ("a", 1.0)] {
        let l = Labels::from_pairs([("__name__", "reqs_total"), ("job", job)]);
        for k in 0..=20 {
            s.add(l.clone(), k * 60_000, k as f64 * step * 60.0);
        }
    }
    s
}

#[test]
fn instant_shapes() {
    let s = storage();
    let e = Engine::default();
    assert_eq!(
        e.instant_query(&s, "1 + 2", 5_000).unwrap().value,
        Value::Scalar { t: 5_000, f: 3.0 }
    );
    assert_eq!(
        e.instant_query(&s, "\"x\"", 5_000).unwrap().value,
        Value::String {
            t: 5_000,
            s: "x".into()
        }
    );
    let Value::Vector(v) = e
        .instant_query(&s, "rate(reqs_total[5m])", 600_000)
        .unwrap()
        .value
    else {
        panic!("not a vector")
    };
    assert_eq!(v.len(), 2);
    for sample in &v {
        assert_eq!(sample.t, 600_000);
        assert_eq!(sample.metric.metric_name(), None, "rate drops the name");
        let want = if sample.metric.get("job") == Some("a") {
            1.0
        } else {
            2.0
        };
        assert!((sample.f - want).abs() < 1e-9, "{sample:?}");
    }
    let Value::Matrix(m) = e
        .instant_query(&s, "reqs_total[3m]", 600_000)
        .unwrap()
        .value
    else {
        panic!("not a matrix")
    };
    // Left-open window: (420s, 600s] holds 480s, 540s and 600s.
    assert!(m.iter().all(|s| s.floats.len() == 3));
}

#[test]
fn range_results_are_sorted_and_step_aligned() {
    let s = storage();
    let e = Engine::default();
    let Value::Matrix(m) = e
        .range_query(&s, "reqs_total", 0, 300_000, 60_000)
        .unwrap()
        .value
    else {
        panic!("not a matrix")
    };
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].metric.get("job"), Some("a"));
    assert_eq!(
        m[0].floats.iter().map(|p| p.t).collect::<Vec<_>>(),
        vec![0, 60_000, 120_000, 180_000, 240_000, 300_000]
    );
    let Value::Matrix(m) = e
        .range_query(&s, "time()", 0, 120_000, 60_000)
        .unwrap()
        .value
    else {
        panic!("not a matrix")
    };
    assert_eq!(
        m[0].floats.iter().map(|p| p.f).collect::<Vec<_>>(),
        vec![0.0, 60.0, 120.0]
    );
}

#[test]
fn not_a_counter_info_names_the_metric() {
    let mut s = MemStorage::new();
    let l = Labels::from_pairs([("__name__", "temperature")]);
    for k in 0..10 {
        s.add(l.clone(), k * 60_000, 20.0);
    }
    let r = Engine::default()
        .instant_query(&s, "rate(temperature[5m])", 540_000)
        .unwrap();
    assert_eq!(
        r.infos,
        vec![
            "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"temperature\" (1:6)"
                .to_string()
        ]
    );
    assert!(r.warnings.is_empty());
}

#[test]
fn many_to_many_error_text() {
    let mut s = MemStorage::new();
    for (n, job) in [("a", "x"), ("a", "y"), ("b", "x")] {
        s.add(
            Labels::from_pairs([("__name__", n), ("job", job), ("k", "1")]),
            0,
            1.0,
        );
    }
    let err = Engine::default()
        .instant_query(&s, "b + on(k) a", 0)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "found duplicate series for the match group {k=\"1\"} on the right hand-side of the operation: \
         [{__name__=\"a\", job=\"x\", k=\"1\"}, {__name__=\"a\", job=\"y\", k=\"1\"}];\
         many-to-many matching not allowed: matching labels must be unique on one side"
    );
}

#[test]
fn no_counter_info_without_a_metric_name() {
    let mut s = MemStorage::new();
    let l = Labels::from_pairs([("__name__", "temperature"), ("room", "a")]);
    for k in 0..10 {
        s.add(l.clone(), k * 60_000, 20.0 + k as f64);
    }
    let r = Engine::default()
        .instant_query(&s, "rate(sum(temperature)[5m:1m])", 540_000)
        .unwrap();
    assert!(r.infos.is_empty(), "{:?}", r.infos);
}
