//! Labels-only lookups over the head and blocks together: `series_labels`,
//! `label_names_limited` and `label_values_limited` agree with what `select`
//! finds (sorted, deduplicated across head and blocks, time-bounded), and a
//! limit keeps the first items with `truncated` set.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a panic is a failed test"
)]

use promlite_tsdb::{Db, Labels, Matcher, Options};

const MIN: i64 = 60_000;

fn l(i: usize) -> Labels {
    Labels::from_pairs([
        ("__name__", format!("m{}", i % 3)),
        ("pod", format!("p{i:02}")),
    ])
    .unwrap()
}

#[test]
fn lookups_over_head_and_blocks_match_select() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        dir.path(),
        Options {
            block_range_ms: 120 * MIN,
            ..Options::default()
        },
    )
    .unwrap();
    // Series 0..20 early (they end in a block), 10..30 late (head only): 10..20 in both.
    let mut app = db.appender();
    for i in 0..20 {
        app.append(&l(i), 0, 1.0).unwrap();
    }
    app.commit().unwrap();
    let mut app = db.appender();
    for i in 10..30 {
        app.append(&l(i), 200 * MIN, 1.0).unwrap();
    }
    app.commit().unwrap();
    assert_eq!(db.compact().unwrap().head_blocks, 1);
    assert_eq!(db.blocks().len(), 1);

    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let m = [Matcher::new(promlite_tsdb::MatchOp::NotEqual, "__name__", "m1").unwrap()];
    let selected: Vec<Labels> = q
        .select(&m)
        .unwrap()
        .iter()
        .map(|s| s.labels().clone())
        .collect();
    assert_eq!(selected.len(), 20);
    let all = q.series_labels(&m, None).unwrap();
    assert_eq!((&all.items, all.truncated), (&selected, false));
    for limit in [0, 1, 5, 19] {
        let cut = q.series_labels(&m, Some(limit)).unwrap();
        assert!(cut.truncated, "limit {limit}");
        assert_eq!(cut.items, selected[..limit], "limit {limit}");
    }
    assert!(!q.series_labels(&m, Some(20)).unwrap().truncated);

    // Only the block's range: series 0..20.
    let early = db.querier(0, 10).unwrap();
    assert_eq!(early.series_labels(&[], None).unwrap().items.len(), 20);
    // Only the head's range: series 10..30.
    let late = db.querier(150 * MIN, 250 * MIN).unwrap();
    let late_pods = late.label_values("pod", &[]).unwrap();
    assert_eq!(late_pods.first().map(|s| &**s), Some("p10"));
    assert_eq!(late_pods.len(), 20);

    let pods = q.label_values_limited("pod", &m, Some(3)).unwrap();
    let want: Vec<&str> = selected.iter().filter_map(|s| s.get("pod")).collect();
    let mut want_sorted = want.clone();
    want_sorted.sort_unstable();
    assert!(pods.truncated);
    assert_eq!(
        pods.items.iter().map(|s| &**s).collect::<Vec<_>>(),
        want_sorted[..3]
    );
    let names = q.label_names_limited(&m, Some(5)).unwrap();
    assert!(!names.truncated);
    assert_eq!(
        names.items.iter().map(|s| &**s).collect::<Vec<_>>(),
        ["__name__", "pod"]
    );
}
