//! Selects of many series over head and blocks: they return what small
//! selects return, and a select racing with appends, head truncation and
//! block compaction still sees every sample acknowledged before it started
//! (the head is read before the block list, and a truncation adds its block
//! before it drops the head's copy).

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a panic is a failed test"
)]

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use promlite_tsdb::{Db, Labels, Matcher, Options};

const MIN: i64 = 60_000;
const STEP: i64 = 15_000;
/// Enough series that a select takes milliseconds, widening the race.
const SERIES: usize = 1_100;

fn series(i: usize) -> Labels {
    Labels::from_pairs([
        ("__name__", "up"),
        ("instance", format!("i{i:04}").as_str()),
    ])
    .unwrap()
}

fn value(i: usize, t: i64) -> f64 {
    (t / STEP) as f64 * 10.0 + i as f64
}

fn opts() -> Options {
    Options {
        block_range_ms: 10 * MIN,
        ..Options::default()
    }
}

/// One commit per step, every series, for `[from, to)`.
fn fill(db: &Db, labels: &[Labels], from: i64, to: i64, acked: Option<&AtomicI64>) {
    let mut t = from;
    while t < to {
        let mut app = db.appender();
        for (i, l) in labels.iter().enumerate() {
            app.append(l, t, value(i, t)).unwrap();
        }
        app.commit().unwrap();
        if let Some(a) = acked {
            a.store(t, Ordering::Release);
        }
        t += STEP;
    }
}

type Read = Vec<(String, Vec<(i64, f64)>)>;

fn read(db: &Db, matcher: Matcher) -> Read {
    let q = db.querier(0, i64::MAX).unwrap();
    q.select(&[matcher])
        .unwrap()
        .iter()
        .map(|s| (s.labels().to_string(), s.iter().collect()))
        .collect()
}

#[test]
fn large_selects_over_head_and_blocks_match_small_ones() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    let labels: Vec<Labels> = (0..SERIES).map(series).collect();
    fill(&db, &labels, 0, 40 * MIN, None);
    assert!(db.compact().unwrap().head_blocks > 0, "some data in blocks");

    let all = read(&db, Matcher::equal("__name__", "up"));
    assert_eq!(all.len(), SERIES);
    for (i, (name, samples)) in all.iter().enumerate() {
        assert_eq!(*name, series(i).to_string());
        let want: Vec<(i64, f64)> = (0..40 * MIN / STEP)
            .map(|k| (k * STEP, value(i, k * STEP)))
            .collect();
        assert_eq!(*samples, want, "{name}");
    }
    // A select of a few of them returns the same series.
    let few = read(
        &db,
        Matcher::new(promlite_tsdb::MatchOp::Regex, "instance", "i00[0-4].").unwrap(),
    );
    assert_eq!(few.len(), 50);
    assert_eq!(few, all[..50]);
}

#[test]
fn selects_racing_truncation_and_compaction_miss_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    let labels: Vec<Labels> = (0..SERIES).map(series).collect();
    let acked = AtomicI64::new(-1);
    let done = AtomicBool::new(false);
    let mut checked = 0;
    std::thread::scope(|scope| {
        scope.spawn(|| {
            // Cut the head into blocks (and compact them) every 5 minutes of data.
            for from in (0..60 * MIN).step_by(5 * MIN as usize) {
                fill(&db, &labels, from, from + 5 * MIN, Some(&acked));
                db.compact().unwrap();
            }
            done.store(true, Ordering::Release);
        });
        while !done.load(Ordering::Acquire) {
            let watermark = acked.load(Ordering::Acquire);
            let got = read(&db, Matcher::equal("__name__", "up"));
            if watermark < 0 {
                continue;
            }
            assert_eq!(got.len(), SERIES, "every series once");
            for (i, (name, samples)) in got.iter().enumerate() {
                assert_eq!(*name, series(i).to_string());
                assert!(
                    samples.windows(2).all(|w| w[0].0 < w[1].0),
                    "{name}: sorted, unique"
                );
                let acknowledged = usize::try_from(watermark / STEP + 1).unwrap();
                assert!(samples.len() >= acknowledged, "{name}: samples lost");
                for (k, s) in samples.iter().enumerate() {
                    let t = k as i64 * STEP;
                    assert_eq!(*s, (t, value(i, t)), "{name}");
                }
            }
            checked += 1;
        }
    });
    assert!(checked > 0);
    assert_eq!(read(&db, Matcher::equal("__name__", "up")).len(), SERIES);
}
