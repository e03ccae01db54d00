//! No query text, however malformed, panics the engine: arbitrary strings and
//! random soups of PromQL tokens are parsed and, when they parse, evaluated
//! as instant and range queries over a small storage.

use promlite_promql::{Engine, EngineOptions, Labels, MemStorage, STALE_NAN_BITS};
use proptest::prelude::*;

fn storage() -> MemStorage {
    let mut s = MemStorage::new();
    for (name, job, le) in [
        ("m_total", "a", ""),
        ("m_total", "b", ""),
        ("h_bucket", "a", "0.5"),
        ("h_bucket", "a", "+Inf"),
    ] {
        let l = Labels::from_pairs([("__name__", name), ("job", job), ("le", le)]);
        for k in 0..20i64 {
            let v = if k == 13 {
                f64::from_bits(STALE_NAN_BITS)
            } else {
                (k * k) as f64
            };
            s.add(l.clone(), k * 30_000, v);
        }
    }
    s
}

const TOKENS: &[&str] = &[
    "m_total",
    "h_bucket",
    "{job=\"a\"}",
    "{job=~\"a|b\"}",
    "[1m]",
    "[5m:30s]",
    "[0s]",
    "offset 1m",
    "offset -1m",
    "@ 100",
    "@ start()",
    "(",
    ")",
    ",",
    "+",
    "-",
    "*",
    "/",
    "%",
    "^",
    "==",
    "!=",
    ">",
    "<",
    "and",
    "or",
    "unless",
    "on(job)",
    "ignoring(le)",
    "group_left",
    "group_right(job)",
    "bool",
    "sum",
    "avg",
    "topk",
    "quantile",
    "count_values",
    "by (job)",
    "without (le)",
    "rate",
    "increase",
    "max_over_time",
    "histogram_quantile",
    "label_replace",
    "absent",
    "scalar",
    "vector",
    "time()",
    "sort_desc",
    "1",
    "0.5",
    "-1",
    "NaN",
    "Inf",
    "1e308",
    "\"job\"",
    "\"x\"",
    "anchored",
    "smoothed",
    "fill(0)",
    "step()",
    "limitk",
    "info",
    "timestamp",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 1..12).prop_map(|t| t.join(" "))
}

fn run(q: &str) {
    let s = storage();
    let engine = Engine::new(EngineOptions {
        enable_experimental_functions: true,
        ..EngineOptions::default()
    });
    let _ = engine.instant_query(&s, q, 300_000);
    let _ = engine.range_query(&s, q, 0, 600_000, 45_000);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(q in "\\PC{0,40}") {
        run(&q);
    }

    #[test]
    fn token_soups_never_panic(q in soup()) {
        run(&q);
    }
}
