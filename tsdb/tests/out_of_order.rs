//! Out-of-order ingestion: refused with a typed error when the window is 0 (the
//! default); within a configured window accepted, merged with in-order data at
//! query time in timestamp order without duplicates, and replayed from the WAL.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a panic is a failed test"
)]

use promlite_tsdb::{AppendError, Db, Labels, Options};

const MIN: i64 = 60_000;

fn l() -> Labels {
    Labels::from_pairs([("__name__", "ooo"), ("job", "t")]).unwrap()
}

fn commit(db: &Db, samples: &[(i64, f64)]) -> Vec<Result<(), AppendError>> {
    let mut app = db.appender();
    let res = samples
        .iter()
        .map(|&(t, v)| app.append(&l(), t, v).map(|_| ()))
        .collect();
    app.commit().unwrap();
    res
}

fn read(db: &Db) -> Vec<(i64, f64)> {
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    q.select(&[])
        .unwrap()
        .iter()
        .flat_map(|s| s.iter().collect::<Vec<_>>())
        .collect()
}

#[test]
fn window_zero_refuses_out_of_order_samples() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    commit(&db, &[(10 * MIN, 1.0)]);
    assert_eq!(
        commit(&db, &[(9 * MIN, 2.0)]),
        vec![Err(AppendError::OutOfOrder {
            t: 9 * MIN,
            newest: 10 * MIN
        })]
    );
    assert_eq!(read(&db), vec![(10 * MIN, 1.0)]);
}

#[test]
fn window_accepts_merges_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        out_of_order_window_ms: 30 * MIN,
        ..Options::default()
    };
    let db = Db::open(dir.path(), opts.clone()).unwrap();
    // In-order every other minute from 0 to 100, then the odd minutes late, newest first.
    let even: Vec<(i64, f64)> = (0..=50).map(|i| (2 * i * MIN + 1000, i as f64)).collect();
    assert!(commit(&db, &even).iter().all(Result::is_ok));
    let odd: Vec<(i64, f64)> = (35..50)
        .rev()
        .map(|i| ((2 * i + 1) * MIN + 1000, -(i as f64)))
        .collect();
    assert!(commit(&db, &odd).iter().all(Result::is_ok));

    // Too old for the window: newest is 100 min, window 30 min.
    let too_old = 69 * MIN;
    assert_eq!(
        commit(&db, &[(too_old, 0.0)]),
        vec![Err(AppendError::TooOldSample {
            t: too_old,
            min_valid: 70 * MIN + 1000
        })]
    );
    // A late sample with the timestamp of an in-order one: the in-order value wins the merge.
    assert!(commit(&db, &[(90 * MIN + 1000, 1234.0)])[0].is_ok());
    // The same late sample again: a no-op; with another value: a duplicate.
    assert_eq!(commit(&db, &[(71 * MIN + 1000, -35.0)]), vec![Ok(())]);
    assert_eq!(
        commit(&db, &[(71 * MIN + 1000, 7.0)]),
        vec![Err(AppendError::DuplicateSampleForTimestamp {
            t: 71 * MIN + 1000
        })]
    );

    let mut want: Vec<(i64, f64)> = even.iter().copied().chain(odd.iter().copied()).collect();
    want.sort_by_key(|s| s.0);
    let got = read(&db);
    assert_eq!(got, want);

    // Raw chunks for remote read hold the same merged samples.
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let series = q.select(&[]).unwrap();
    let mut from_chunks = Vec::new();
    for c in series[0].chunks() {
        let mut it = promlite_tsdb::chunkenc::XorIterator::new(&c.data);
        while it.next() {
            from_chunks.push(it.at());
        }
    }
    assert_eq!(from_chunks, want);

    // Range restriction applies to merged data too.
    let q = db.querier(70 * MIN, 80 * MIN).unwrap();
    let part: Vec<(i64, f64)> = q.select(&[]).unwrap()[0].iter().collect();
    assert_eq!(
        part,
        want.iter()
            .copied()
            .filter(|s| s.0 >= 70 * MIN && s.0 <= 80 * MIN)
            .collect::<Vec<_>>()
    );

    db.close().unwrap();
    drop(db);
    let db = Db::open(dir.path(), opts).unwrap();
    assert_eq!(read(&db), want, "replay rebuilds the merged view");
}

#[test]
fn out_of_order_data_moves_into_blocks_with_the_head() {
    const HOUR: i64 = 60 * MIN;
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        out_of_order_window_ms: 4 * HOUR,
        ..Options::default()
    };
    let db = Db::open(dir.path(), opts.clone()).unwrap();
    let in_order: Vec<(i64, f64)> = (0..5 * 60).map(|m| (m * MIN, m as f64)).collect();
    for s in &in_order {
        assert_eq!(commit(&db, &[*s]), vec![Ok(())]);
    }
    // Late samples half a minute after each minute from 1h to 3h: they straddle the
    // first block's end (2h), so the head must split its out-of-order chunks there.
    let late: Vec<(i64, f64)> = (60..180)
        .rev()
        .map(|m| (m * MIN + 30_000, -(m as f64)))
        .collect();
    assert!(commit(&db, &late).iter().all(Result::is_ok));
    let mut want: Vec<(i64, f64)> = in_order.iter().chain(&late).copied().collect();
    want.sort_by_key(|s| s.0);
    assert_eq!(read(&db), want);

    let report = db.compact().unwrap();
    assert_eq!(report.head_blocks, 1);
    assert_eq!(
        read(&db),
        want,
        "block [0, 2h) holds in-order and late samples; the head the rest"
    );
    db.close().unwrap();
    drop(db);
    let db = Db::open(dir.path(), opts).unwrap();
    assert_eq!(read(&db), want, "after reopen");
}
