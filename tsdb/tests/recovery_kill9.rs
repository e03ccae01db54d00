//! Crash recovery: a child process commits batches and is killed with SIGKILL
//! at random points; after each kill the database reopens with every
//! acknowledged batch complete, no rolled-back batch, and the one batch that
//! may have been in flight either whole or absent.
//!
//! The child is this test binary re-run on the ignored test
//! `kill9_child_process` with `PROMLITE_KILL9_DIR` set. It prints `acked <b>`
//! after each `commit()` returns Ok and `rolledback <b>` after each rollback.
//! With a 10 s block range and one batch per second, it also runs maintenance
//! every few batches, so kills land inside block writes, WAL checkpoints and
//! compactions too.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a panic is a failed test"
)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use promlite_tsdb::{Db, FsyncPolicy, Labels, Options};
use rand::{Rng, SeedableRng};

const SERIES_PER_BATCH: i64 = 20;
const DIR_ENV: &str = "PROMLITE_KILL9_DIR";
const START_ENV: &str = "PROMLITE_KILL9_START";
const POLICY_ENV: &str = "PROMLITE_KILL9_ALWAYS";

fn labels(series: i64) -> Labels {
    Labels::from_pairs([
        ("__name__", "kill9"),
        ("series", series.to_string().as_str()),
    ])
    .unwrap()
}

fn options(always: bool) -> Options {
    let fsync = if always {
        FsyncPolicy::Always
    } else {
        FsyncPolicy::Interval(Duration::from_millis(50))
    };
    Options {
        fsync,
        block_range_ms: 10_000,
        ..Options::default()
    }
}

/// The child: commits batch after batch until killed. Batch `b` writes value
/// `b` at `t = b` seconds to every series; every fifth batch is rolled back.
#[test]
#[ignore = "child process of kill9_loses_no_acknowledged_sample"]
fn kill9_child_process() {
    let Ok(dir) = std::env::var(DIR_ENV) else {
        return;
    };
    let start: i64 = std::env::var(START_ENV).unwrap().parse().unwrap();
    let always = std::env::var(POLICY_ENV).is_ok();
    let db = Db::open(&dir, options(always)).unwrap();
    for b in start..start + 1_000_000 {
        let mut app = db.appender();
        for s in 0..SERIES_PER_BATCH {
            app.append(&labels(s), b * 1000, b as f64).unwrap();
        }
        if b % 5 == 3 {
            app.rollback();
            println!("rolledback {b}");
        } else {
            app.commit().unwrap();
            println!("acked {b}");
        }
        if b % 7 == 0 {
            db.compact().unwrap();
        }
    }
}

/// Kills the child if the test fails before it does.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Batch → number of series holding it, read back from the database.
fn stored_batches(dir: &Path) -> BTreeMap<i64, i64> {
    let db = Db::open(dir, options(false)).unwrap();
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let mut out = BTreeMap::new();
    for s in q.select(&[]).unwrap() {
        for (t, v) in s.iter() {
            assert_eq!(
                v,
                (t / 1000) as f64,
                "value of batch at {t} in {}",
                s.labels()
            );
            *out.entry(t / 1000).or_insert(0) += 1;
        }
    }
    db.close().unwrap();
    out
}

#[test]
fn kill9_loses_no_acknowledged_sample() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x6b_696c_6c39);
    let mut acked = Vec::new();
    let mut rolled_back = Vec::new();
    // Batches a kill may have caught between commit and its `acked` line.
    let mut in_flight = Vec::new();
    let mut start = 0i64;
    for round in 0..6 {
        let kill_after: usize = rng.gen_range(1..400);
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "--exact",
            "kill9_child_process",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(DIR_ENV, dir.path())
        .env(START_ENV, start.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
        if round % 2 == 0 {
            cmd.env(POLICY_ENV, "1");
        }
        let mut child = KillOnDrop(cmd.spawn().unwrap());
        let stdout = BufReader::new(child.0.stdout.take().unwrap());
        let mut seen = 0usize;
        let mut last = start;
        for line in stdout.lines() {
            let line = line.unwrap();
            // libtest's "test kill9_child_process ... " may precede the first line.
            let mut words = line.split_whitespace().rev();
            let (kind, b) = match (words.next(), words.next()) {
                (Some(b), Some(k @ ("acked" | "rolledback"))) => (k, b.parse::<i64>().unwrap()),
                _ => continue,
            };
            last = last.max(b);
            if kind == "acked" {
                acked.push(b);
            } else {
                rolled_back.push(b);
            }
            seen += 1;
            if seen == kill_after {
                child.0.kill().unwrap(); // SIGKILL; keep reading what it printed before dying
            }
        }
        child.0.wait().unwrap();
        assert!(
            seen >= kill_after,
            "round {round}: child exited early after {seen} lines"
        );

        in_flight.push(last + 1);
        let stored = stored_batches(dir.path());
        for b in &acked {
            assert_eq!(
                stored.get(b),
                Some(&SERIES_PER_BATCH),
                "round {round}: acknowledged batch {b} incomplete"
            );
        }
        for b in &rolled_back {
            assert_eq!(
                stored.get(b),
                None,
                "round {round}: rolled-back batch {b} is stored"
            );
        }
        for (b, n) in &stored {
            assert_eq!(*n, SERIES_PER_BATCH, "round {round}: batch {b} is partial");
            // Only acked batches and the one in flight at the kill may exist.
            assert!(
                acked.contains(b) || in_flight.contains(b),
                "round {round}: unexpected batch {b}"
            );
        }
        // Leave room for the batch that was in flight.
        start = last + 2;
    }
    assert!(acked.len() > 6, "the loop acknowledged batches");
    let blocks = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().join("meta.json").exists());
    assert!(
        blocks.count() > 0,
        "maintenance wrote blocks, so kills could hit it"
    );
}
