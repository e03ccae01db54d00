//! A cold block's series share timestamp columns, which an iterator reads in
//! place from its decode buffers' column cache. Reading many series with one
//! set of buffers passed along (`Series::iter_with`), across series of
//! different columns and with `next`, `seek` and `for_each_sample` mixed,
//! must give what fresh buffers give; so must `for_each_batch`.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a panic is a failed test"
)]

use promlite_tsdb::{Db, DecodeBuffers, Labels, Matcher, Options, Samples};

const STEP: i64 = 15_000;
const HOUR: i64 = 3_600_000;

#[test]
fn reused_buffers_read_shared_columns_as_fresh_ones_do() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    // Three scrape groups, each its own timestamp column (offset, one late scrape).
    let labels: Vec<Labels> = (0..30)
        .map(|i| Labels::from_pairs([("__name__", "m"), ("i", &format!("{i:02}"))]).unwrap())
        .collect();
    for k in 0..(5 * HOUR / STEP) {
        let mut app = db.appender();
        for (i, l) in labels.iter().enumerate() {
            let group = (i % 3) as i64;
            let late = if group == 2 && k == 50 { 700 } else { 0 };
            let t = k * STEP + group * 1_000 + late;
            app.append(l, t, (k * (i as i64 + 1)) as f64 * 0.5).unwrap();
        }
        app.commit().unwrap();
    }
    assert!(
        db.compact().unwrap().head_blocks > 0,
        "some data in a cold block"
    );

    for (mint, maxt) in [(0, i64::MAX), (HOUR / 2 + 1, 3 * HOUR), (7_000, 7_000)] {
        let q = db.querier(mint, maxt).unwrap();
        let series = q.select(&[Matcher::equal("__name__", "m")]).unwrap();
        assert_eq!(series.len(), 30);
        let mut bufs = DecodeBuffers::default();
        for (n, s) in series.iter().enumerate() {
            let want: Vec<(i64, f64)> = s.iter().collect();
            let mut it = s.iter_with(bufs);
            let mut got = Vec::new();
            match n % 4 {
                0 => it.for_each_sample(|t, v| got.push((t, v))),
                3 => it.for_each_batch(|batch| match batch {
                    Samples::One(t, v) => got.push((t, v)),
                    Samples::Run(ts, vs) => {
                        assert!(!ts.is_empty() && ts.len() == vs.len());
                        got.extend(ts.iter().copied().zip(vs.iter().copied()));
                    }
                }),
                1 => got.extend(it.by_ref()),
                _ => {
                    let target = mint.saturating_add(HOUR);
                    let first = it.seek(target);
                    got.extend(first);
                    it.for_each_sample(|t, v| got.push((t, v)));
                    let skipped = want.iter().filter(|(t, _)| *t < target).count();
                    assert_eq!(got.as_slice(), &want[skipped..], "series {n} after seek");
                    bufs = it.into_buffers();
                    continue;
                }
            }
            assert!(it.err().is_none());
            assert_eq!(got, want, "series {n} in [{mint}, {maxt}]");
            bufs = it.into_buffers();
        }
    }
}
