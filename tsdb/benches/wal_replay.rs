//! WAL replay speed: how long `Db::open` takes to rebuild the head from the
//! WAL. Writes 10,000 series × 720 samples (3 h at 15 s, 7.2M samples, one
//! commit per scrape), closes, then reopens three times and prints samples
//! replayed per second for each open (wall clock).
//! Run: `cargo bench -p promlite-tsdb --bench wal_replay`.

#![expect(clippy::unwrap_used, reason = "a bench; a panic is a failed bench")]

use std::time::{Duration, Instant};

use promlite_tsdb::{Db, FsyncPolicy, Labels, Options};

const SERIES: usize = 10_000;
const SAMPLES: i64 = 720;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` lists benches; nothing to list here.
    }
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        fsync: FsyncPolicy::Interval(Duration::from_secs(1)),
        ..Options::default()
    };
    let db = Db::open(dir.path(), opts.clone()).unwrap();
    let mut app = db.appender();
    let refs: Vec<_> = (0..SERIES)
        .map(|i| {
            let id = i.to_string();
            let l = Labels::from_pairs([
                ("__name__", "replay_test"),
                ("id", id.as_str()),
                ("job", "bench"),
            ])
            .unwrap();
            app.append(&l, 0, 0.0).unwrap()
        })
        .collect();
    app.commit().unwrap();
    for t in 1..SAMPLES {
        let mut app = db.appender();
        for (i, r) in refs.iter().enumerate() {
            app.append_ref(*r, t * 15_000, (t * i as i64) as f64)
                .unwrap();
        }
        app.commit().unwrap();
    }
    db.close().unwrap();
    drop(db);
    let total = SERIES as f64 * SAMPLES as f64;
    for round in 1..=3 {
        let start = Instant::now();
        let db = Db::open(dir.path(), opts.clone()).unwrap();
        let took = start.elapsed();
        assert_eq!(db.stats().num_series, SERIES as u64);
        println!(
            "replay {round}: {total:.0} samples in {:.2} s = {:.1} M samples/s",
            took.as_secs_f64(),
            total / took.as_secs_f64() / 1e6
        );
        db.close().unwrap();
    }
}
