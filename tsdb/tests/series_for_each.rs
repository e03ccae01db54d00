//! `SeriesIter::for_each_sample` hands over exactly the samples `next` does:
//! across chunk boundaries (full chunks in chunk files, the open chunk in
//! memory), for ranges that cut chunks at both ends, and after a partial read.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a panic is a failed test"
)]

use promlite_tsdb::{Db, Labels, Matcher, Options};

#[test]
fn for_each_sample_matches_next_for_every_range() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let labels = Labels::from_pairs([("__name__", "m"), ("job", "test")]).unwrap();
    let mut app = db.appender();
    // 1,000 samples at an irregular 15 s interval: 8 full chunks and an open one.
    for k in 0..1000i64 {
        app.append(&labels, k * 15_000 + k % 7, (k * 3 % 17) as f64 * 0.25)
            .unwrap();
    }
    app.commit().unwrap();

    let ranges = [
        (0, i64::MAX),
        (1, 3_000_000),
        (1_799_999, 1_800_000),
        (2_000_000, 9_000_000),
        (14_000_000, 20_000_000),
        (20_000_000, 30_000_000),
    ];
    for (mint, maxt) in ranges {
        let q = db.querier(mint, maxt).unwrap();
        for s in q.select(&[Matcher::equal("__name__", "m")]).unwrap() {
            let want: Vec<(i64, f64)> = s.iter().collect();
            assert!(want.iter().all(|(t, _)| (mint..=maxt).contains(t)));
            let mut got = Vec::new();
            let mut it = s.iter();
            it.for_each_sample(|t, v| got.push((t, v)));
            assert!(it.err().is_none());
            assert_eq!(got, want, "range [{mint}, {maxt}]");

            // Resuming after some `next` calls continues where they stopped.
            let mut it = s.iter();
            let mut got: Vec<(i64, f64)> = it.by_ref().take(130).collect();
            it.for_each_sample(|t, v| got.push((t, v)));
            assert_eq!(got, want, "range [{mint}, {maxt}] after 130 samples");
        }
    }
}
