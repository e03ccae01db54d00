//! Head memory per active series: resident memory (VmRSS from
//! `/proc/self/status`) grown by 100,000 series with 6 labels each that
//! received 180 samples (one full chunk, written to the chunk files, plus an
//! open chunk of 60 samples), divided by the series count. The WAL and
//! chunk-file page cache is not resident memory of this process; the mapped
//! chunk segments would count once touched, and are not touched here.
//! Run: `cargo bench -p promlite-tsdb --bench head_memory`.

#![expect(clippy::unwrap_used, reason = "a bench; a panic is a failed bench")]

use std::time::Duration;

use promlite_tsdb::{Db, FsyncPolicy, Labels, Options};

const SERIES: usize = 100_000;
const SAMPLES: i64 = 180;

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` lists benches; nothing to list here.
    }
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        dir.path(),
        Options {
            fsync: FsyncPolicy::Interval(Duration::from_secs(1)),
            ..Options::default()
        },
    )
    .unwrap();
    let all: Vec<Labels> = (0..SERIES)
        .map(|i| {
            let (pod, inst) = (
                format!("pod-{i}"),
                format!("10.0.{}.{}:9100", i / 250, i % 250),
            );
            Labels::from_pairs([
                ("__name__", format!("metric_{}", i % 200).as_str()),
                ("instance", inst.as_str()),
                ("job", "kubernetes-pods"),
                ("namespace", format!("ns-{}", i % 20).as_str()),
                ("pod", pod.as_str()),
                ("container", "app"),
            ])
            .unwrap()
        })
        .collect();
    let before = rss_bytes();
    let mut refs = Vec::with_capacity(SERIES);
    let mut app = db.appender();
    for l in &all {
        refs.push(app.append(l, 0, 0.0).unwrap());
    }
    app.commit().unwrap();
    drop(all); // the caller's copies are not head memory
    for t in 1..SAMPLES {
        let mut app = db.appender();
        for (i, r) in refs.iter().enumerate() {
            app.append_ref(*r, t * 15_000, (t as f64) * 0.25 + (i % 7) as f64)
                .unwrap();
        }
        app.commit().unwrap();
    }
    let after = rss_bytes();
    let stats = db.stats();
    let per_series = after.saturating_sub(before) as f64 / SERIES as f64;
    println!(
        "head memory: {} series, {} samples each: RSS grew {:.1} MiB = {per_series:.0} bytes per series",
        stats.num_series,
        SAMPLES,
        after.saturating_sub(before) as f64 / (1024.0 * 1024.0)
    );
}
