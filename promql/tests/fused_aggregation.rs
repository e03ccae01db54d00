//! `agg(selector)` and `agg(range_fn(selector))` are evaluated in one fused pass (on two threads
//! for many series); it must agree with the general path, which `* 1` forces.

use promlite_promql::{Engine, Labels, MemStorage, Value};

fn storage() -> MemStorage {
    let mut s = MemStorage::new();
    let mut seed = 7u64;
    for i in 0..3_000 {
        let l = Labels::from_pairs([
            ("__name__", "m_total".to_string()),
            ("x", (i % 7).to_string()),
            ("i", i.to_string()),
        ]);
        let mut v = 0.0;
        for k in 0..40 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            v += (seed >> 40) as f64 / 1e6;
            if k == 20 && i % 5 == 0 {
                v = 0.0; // a counter reset
            }
            s.add(l.clone(), k * 30_000, v);
        }
    }
    s
}

fn matrix(v: Value) -> Vec<(String, Vec<(i64, f64)>)> {
    let Value::Matrix(m) = v else {
        panic!("not a matrix")
    };
    m.into_iter()
        .map(|s| {
            (
                s.metric.to_string(),
                s.floats.iter().map(|p| (p.t, p.f)).collect(),
            )
        })
        .collect()
}

#[test]
fn fused_matches_general_path() {
    let s = storage();
    let e = Engine::default();
    for agg in [
        "sum by (x)",
        "count by (x)",
        "min",
        "max without (i)",
        "group by (x)",
        "sum",
        "avg by (x)",
        "stddev",
        "stdvar by (x)",
    ] {
        for f in [
            "rate(m_total[2m])",
            "max_over_time(m_total[3m])",
            "m_total",
            "m_total offset 1m",
        ] {
            let fused = matrix(
                e.range_query(&s, &format!("{agg} ({f})"), 0, 1_170_000, 60_000)
                    .unwrap()
                    .value,
            );
            let general = matrix(
                e.range_query(&s, &format!("{agg} ({f} * 1)"), 0, 1_170_000, 60_000)
                    .unwrap()
                    .value,
            );
            assert_eq!(fused.len(), general.len(), "{agg} {f}");
            assert!(!fused.is_empty());
            for ((la, pa), (lb, pb)) in fused.iter().zip(&general) {
                assert_eq!(la, lb, "{agg} {f}");
                assert_eq!(pa.len(), pb.len(), "{agg} {f} {la}");
                for ((ta, a), (tb, b)) in pa.iter().zip(pb) {
                    assert_eq!(ta, tb);
                    assert!(
                        (a - b).abs() <= 1e-9 * a.abs().max(1.0),
                        "{agg} {f} {la} @{ta}: {a} vs {b}"
                    );
                }
            }
        }
    }
}
