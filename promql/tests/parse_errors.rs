//! No query text panics the engine; bad input is `BadData`, never another kind.

use promlite_promql::{Engine, MemStorage, QueryError};

#[test]
fn hostile_queries_are_bad_data() {
    let s = MemStorage::new();
    let engine = Engine::default();
    for q in [
        "foo offset 1e30",
        "foo[1e30]",
        "foo[1y1000000000000000w]",
        "rate(foo[5m:1e30])",
        "sum(",
        "foo{",
        "foo{a=~\"(\"}",
        "1 +",
        "",
        "label_replace(foo, \"a\", \"b\", \"c\", \"(\")",
        "histogram_quantile(foo)",
        "rate(foo)",
    ] {
        match engine.instant_query(&s, q, 0) {
            Err(QueryError::BadData { .. }) | Err(QueryError::Execution { .. }) => {}
            other => panic!("{q:?}: {other:?}"),
        }
    }
}

#[test]
fn compound_durations_parse() {
    let s = MemStorage::new();
    let engine = Engine::default();
    assert!(engine.instant_query(&s, "rate(x[1m15s])", 0).is_ok());
    assert!(engine
        .instant_query(&s, "max_over_time(x[1h30m:1m15s])", 0)
        .is_ok());
}

#[test]
fn range_query_rejects_range_vectors_and_strings() {
    let s = MemStorage::new();
    let engine = Engine::default();
    for q in ["foo[5m]", "\"a\""] {
        let err = engine.range_query(&s, q, 0, 60_000, 15_000).unwrap_err();
        assert!(matches!(err, QueryError::BadData { .. }), "{q}: {err}");
    }
    let err = engine.range_query(&s, "foo", 0, 60_000, 0).unwrap_err();
    assert!(matches!(err, QueryError::BadData { .. }));
}
