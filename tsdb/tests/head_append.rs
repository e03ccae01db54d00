//! Appending to the head: commit makes a batch visible and durable together,
//! rollback discards it, duplicates and bounds are typed errors, many threads
//! append at once, and everything committed is there again after reopen.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a panic is a failed test"
)]

use std::sync::Arc;

use promlite_tsdb::{AppendError, Db, FsyncPolicy, Labels, Matcher, Options};

fn labels(name: &str, instance: &str) -> Labels {
    Labels::from_pairs([("__name__", name), ("instance", instance), ("job", "test")]).unwrap()
}

fn read_all(db: &Db, matchers: &[Matcher]) -> Vec<(String, Vec<(i64, u64)>)> {
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    q.select(matchers)
        .unwrap()
        .iter()
        .map(|s| {
            (
                s.labels().to_string(),
                s.iter().map(|(t, v)| (t, v.to_bits())).collect(),
            )
        })
        .collect()
}

#[test]
fn commit_makes_the_batch_visible_rollback_discards_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let mut app = db.appender();
    let r = app.append(&labels("up", "a"), 1000, 1.0).unwrap();
    app.append_ref(r, 2000, 2.0).unwrap();
    app.append(&labels("up", "b"), 1000, 5.0).unwrap();
    assert!(
        read_all(&db, &[]).is_empty(),
        "nothing is visible before commit"
    );
    app.commit().unwrap();

    let mut app = db.appender();
    app.append_ref(r, 3000, 3.0).unwrap();
    app.append(&labels("up", "c"), 3000, 3.0).unwrap();
    app.rollback();

    let got = read_all(&db, &[Matcher::equal("__name__", "up")]);
    assert_eq!(
        got,
        vec![
            (
                labels("up", "a").to_string(),
                vec![(1000, 1f64.to_bits()), (2000, 2f64.to_bits())]
            ),
            (labels("up", "b").to_string(), vec![(1000, 5f64.to_bits())]),
        ]
    );
    let only_b = read_all(&db, &[Matcher::equal("instance", "b")]);
    assert_eq!(only_b.len(), 1);
}

#[test]
fn duplicates_and_out_of_order_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let l = labels("x", "a");
    let mut app = db.appender();
    app.append(&l, 1000, 1.0).unwrap();
    // Same timestamp, same value, within the batch: a no-op.
    app.append(&l, 1000, 1.0).unwrap();
    assert_eq!(
        app.append(&l, 1000, 2.0),
        Err(AppendError::DuplicateSampleForTimestamp { t: 1000 })
    );
    app.commit().unwrap();

    let mut app = db.appender();
    app.append(&l, 1000, 1.0).unwrap();
    assert_eq!(
        app.append(&l, 1000, 2.0),
        Err(AppendError::DuplicateSampleForTimestamp { t: 1000 })
    );
    assert_eq!(
        app.append(&l, 999, 1.0),
        Err(AppendError::OutOfOrder {
            t: 999,
            newest: 1000
        })
    );
    assert!(app.is_empty(), "refused and no-op samples are not buffered");
    app.commit().unwrap();
    assert_eq!(read_all(&db, &[])[0].1, vec![(1000, 1f64.to_bits())]);
}

#[test]
fn samples_far_behind_the_head_are_out_of_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options::default();
    let half_range = opts.block_range_ms / 2;
    let db = Db::open(dir.path(), opts).unwrap();
    let mut app = db.appender();
    app.append(&labels("x", "a"), 10 * half_range, 1.0).unwrap();
    app.commit().unwrap();
    let mut app = db.appender();
    let t = 10 * half_range - half_range - 1;
    assert!(matches!(
        app.append(&labels("x", "new"), t, 1.0),
        Err(AppendError::OutOfBounds { .. })
    ));
}

#[test]
fn stale_markers_and_nan_payloads_are_stored_bit_exact() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let values = [
        f64::from_bits(0x7ff0_0000_0000_0002),
        f64::NAN,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    let mut app = db.appender();
    for (i, v) in values.iter().enumerate() {
        app.append(&labels("x", "a"), i as i64, *v).unwrap();
    }
    app.commit().unwrap();
    db.close().unwrap();
    drop(db);
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let got: Vec<u64> = read_all(&db, &[])[0].1.iter().map(|s| s.1).collect();
    assert_eq!(got, values.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
}

#[test]
fn many_threads_append_and_everything_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        fsync: FsyncPolicy::Always,
        ..Options::default()
    };
    let db = Db::open(dir.path(), opts.clone()).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|th| {
            let db = db.clone();
            std::thread::spawn(move || {
                for batch in 0..50i64 {
                    let mut app = db.appender();
                    for s in 0..20 {
                        // Half the series are shared by all threads, half are the thread's own.
                        let inst = if s % 2 == 0 {
                            format!("shared{s}")
                        } else {
                            format!("t{th}s{s}")
                        };
                        let l = Labels::from_pairs([
                            ("__name__", "m"),
                            ("instance", inst.as_str()),
                            ("th", ""),
                        ])
                        .unwrap();
                        let t = batch * 1000;
                        match app.append(&l, t, t as f64) {
                            Ok(_) => {}
                            // Another thread may be ahead on a shared series.
                            Err(AppendError::OutOfOrder { .. }) if s % 2 == 0 => {}
                            Err(e) => panic!("{e}"),
                        }
                    }
                    app.commit().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let before = read_all(&db, &[]);
    assert_eq!(before.len(), 10 + 4 * 10);
    let own: usize = before
        .iter()
        .filter(|(l, _)| l.contains("t0s"))
        .map(|(_, s)| s.len())
        .sum();
    assert_eq!(own, 10 * 50);
    db.close().unwrap();
    drop(db);
    let db = Arc::new(Db::open(dir.path(), opts).unwrap());
    assert_eq!(
        read_all(&db, &[]),
        before,
        "reopen replays exactly what was visible"
    );
}
