//! The head becomes blocks: once the head spans more than 1.5 block ranges its
//! oldest range is written as a block, queries read head and blocks as one,
//! the WAL is checkpointed, blocks are compacted and removed by retention, and
//! everything reopens the same.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a panic is a failed test"
)]

use promlite_tsdb::{Db, Labels, Matcher, Options};

const HOUR: i64 = 3600 * 1000;
const STEP: i64 = 15_000;

fn series(i: usize) -> Labels {
    Labels::from_pairs([("__name__", "up"), ("instance", format!("i{i}").as_str())]).unwrap()
}

/// Appends a sample every 15 s in `[from, to)` to 3 series, one commit per step.
fn fill(db: &Db, from: i64, to: i64) {
    let mut t = from;
    while t < to {
        let mut app = db.appender();
        for i in 0..3 {
            app.append(&series(i), t, (t / STEP) as f64 + i as f64)
                .unwrap();
        }
        app.commit().unwrap();
        t += STEP;
    }
}

fn read(db: &Db, mint: i64) -> Vec<(String, Vec<(i64, f64)>)> {
    let q = db.querier(mint, i64::MAX).unwrap();
    q.select(&[Matcher::equal("__name__", "up")])
        .unwrap()
        .iter()
        .map(|s| (s.labels().to_string(), s.iter().collect()))
        .collect()
}

fn expected(from: i64, to: i64) -> Vec<(String, Vec<(i64, f64)>)> {
    (0..3)
        .map(|i| {
            let samples = (from / STEP..to / STEP)
                .map(|k| (k * STEP, k as f64 + i as f64))
                .collect();
            (series(i).to_string(), samples)
        })
        .collect()
}

#[test]
fn head_is_cut_into_blocks_and_reopens_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    fill(&db, 0, 5 * HOUR);
    let report = db.compact().unwrap();
    assert_eq!(
        report.head_blocks, 1,
        "5h of head: [0, 2h) goes to a block, 3h stay"
    );
    let blocks = db.blocks();
    assert_eq!(
        (blocks[0].meta().min_time, blocks[0].meta().max_time),
        (0, 2 * HOUR)
    );
    assert_eq!(db.stats().head_min_time_ms, Some(2 * HOUR));
    assert_eq!(
        read(&db, 0),
        expected(0, 5 * HOUR),
        "block + head read as one, no duplicates"
    );

    // Old samples now belong to a block and are refused.
    let mut app = db.appender();
    assert!(app.append(&series(0), HOUR, 0.0).is_err());
    drop(app);

    // The WAL was checkpointed: replay reads only the checkpoint and newer segments.
    let wal: Vec<String> = std::fs::read_dir(dir.path().join("wal"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(wal.iter().any(|n| n.starts_with("checkpoint.")), "{wal:?}");
    assert!(
        !wal.iter().any(|n| n == "00000000"),
        "the first segment was folded into the checkpoint: {wal:?}"
    );

    db.close().unwrap();
    drop(db);
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(db.blocks().len(), 1);
    assert_eq!(read(&db, 0), expected(0, 5 * HOUR), "after reopen");
    // The head keeps taking samples after the block.
    fill(&db, 5 * HOUR, 5 * HOUR + 4 * STEP);
    assert_eq!(read(&db, 0), expected(0, 5 * HOUR + 4 * STEP));

    // Label values over a range only the block covers come from the block alone.
    let mut app = db.appender();
    app.append(&series(9), 5 * HOUR + 10 * STEP, 1.0).unwrap();
    app.commit().unwrap();
    let values = |mint, maxt| -> Vec<String> {
        let q = db.querier(mint, maxt).unwrap();
        q.label_values("instance", &[])
            .unwrap()
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    assert_eq!(values(0, HOUR), vec!["i0", "i1", "i2"]);
    assert_eq!(values(0, 6 * HOUR), vec!["i0", "i1", "i2", "i9"]);
}

#[test]
fn blocks_are_compacted_and_reopen_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    fill(&db, 0, 10 * HOUR);
    let report = db.compact().unwrap();
    assert_eq!(
        report.head_blocks, 4,
        "[0,2) [2,4) [4,6) [6,8) written, 2h stay in the head"
    );
    assert!(
        report.compactions >= 1,
        "[0,6) fills a 6h window: {report:?}"
    );
    let ranges: Vec<(i64, i64)> = db
        .blocks()
        .iter()
        .map(|b| (b.meta().min_time, b.meta().max_time))
        .collect();
    assert_eq!(ranges, vec![(0, 6 * HOUR), (6 * HOUR, 8 * HOUR)]);
    assert_eq!(read(&db, 0), expected(0, 10 * HOUR));
    db.close().unwrap();
    drop(db);
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(read(&db, 0), expected(0, 10 * HOUR));
    let names = db
        .querier(0, i64::MAX)
        .unwrap()
        .label_values("instance", &[])
        .unwrap();
    assert_eq!(
        names.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        vec!["i0", "i1", "i2"]
    );
}

#[test]
fn retention_removes_old_blocks_but_not_under_a_running_query() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        retention_ms: 3 * HOUR,
        ..Options::default()
    };
    let db = Db::open(dir.path(), opts).unwrap();
    fill(&db, 0, 10 * HOUR);
    // First pass writes the blocks; a query opened now holds them.
    let report = db.compact().unwrap();
    assert_eq!(report.head_blocks, 4);
    assert_eq!(
        report.removed_blocks, 3,
        "blocks ending at or before 10h - 3h go: {report:?}"
    );
    let ranges: Vec<(i64, i64)> = db
        .blocks()
        .iter()
        .map(|b| (b.meta().min_time, b.meta().max_time))
        .collect();
    assert_eq!(ranges, vec![(6 * HOUR, 8 * HOUR)]);
    assert_eq!(read(&db, 0), expected(6 * HOUR, 10 * HOUR));

    // Series selected before retention keep reading the removed block's chunks.
    let q = db.querier(0, i64::MAX).unwrap();
    let selected = q.select(&[]).unwrap();
    fill(&db, 10 * HOUR, 13 * HOUR);
    let report = db.compact().unwrap();
    assert!(report.removed_blocks >= 1, "{report:?}");
    assert!(db.blocks().iter().all(|b| b.meta().min_time >= 8 * HOUR));
    let held: usize = selected.iter().map(|s| s.iter().count()).sum();
    assert_eq!(
        held,
        3 * ((10 * HOUR - 6 * HOUR) / STEP) as usize,
        "selected series still iterate"
    );
    drop(selected);
    drop(q);
    let first = db.blocks().first().map(|b| b.meta().min_time);
    assert!(first >= Some(8 * HOUR), "{first:?}");
}

#[test]
fn snapshot_with_head_opens_as_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    fill(&db, 0, 5 * HOUR);
    db.compact().unwrap();
    let snap = tempfile::tempdir().unwrap();
    db.snapshot(snap.path().join("s"), true).unwrap();
    let copy = Db::open(snap.path().join("s"), Options::default()).unwrap();
    assert_eq!(
        copy.blocks().len(),
        2,
        "one linked block and one from the head"
    );
    assert_eq!(read(&copy, 0), expected(0, 5 * HOUR));
}
