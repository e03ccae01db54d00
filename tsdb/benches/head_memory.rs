//! Head memory per active series: 100,000 series with 6 labels each (two of
//! them unique per series, like `pod` and `instance`) that received 180
//! samples (one full chunk, written to the chunk files, plus an open chunk of
//! 60 samples). Two figures, each divided by the series count: live heap
//! bytes (a counting global allocator: what the head and its postings hold)
//! and resident memory growth (VmRSS from `/proc/self/status`, which also
//! counts allocator slack and freed-but-unreturned pages). The WAL and
//! chunk-file page cache is not resident memory of this process; mapped chunk
//! segments would count once touched, and are not touched here.
//! Run: `cargo bench -p promlite-tsdb --bench head_memory`.

#![expect(clippy::unwrap_used, reason = "a bench; a panic is a failed bench")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use promlite_tsdb::{Db, FsyncPolicy, Labels, MemPostings, Options};

/// The system allocator, counting live bytes.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to `System` unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

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
    // The postings index alone, built apart for the breakdown.
    let postings_before = LIVE.load(Ordering::Relaxed);
    let postings = MemPostings::new();
    for (i, l) in all.iter().enumerate() {
        postings.add(i as u32, l);
    }
    let postings_bytes = LIVE.load(Ordering::Relaxed).saturating_sub(postings_before);
    drop(postings);
    println!(
        "of which the postings index (roaring bitmaps per label pair): {:.0} bytes per series",
        postings_bytes as f64 / SERIES as f64
    );
    let before = rss_bytes();
    let live_before = LIVE.load(Ordering::Relaxed);
    let mut refs = Vec::with_capacity(SERIES);
    let mut app = db.appender();
    for l in &all {
        refs.push(app.append(l, 0, 0.0).unwrap());
    }
    app.commit().unwrap();
    let live_created = LIVE
        .load(Ordering::Relaxed)
        .saturating_sub(live_before + refs.capacity() * 4);
    println!(
        "after creating the series (1 sample each): live heap {:.0} bytes per series",
        live_created as f64 / SERIES as f64
    );
    for t in 1..SAMPLES {
        let mut app = db.appender();
        for (i, r) in refs.iter().enumerate() {
            app.append_ref(*r, t * 15_000, (t as f64) * 0.25 + (i % 7) as f64)
                .unwrap();
        }
        app.commit().unwrap();
    }
    let after = rss_bytes();
    // Counted before `refs` goes: the caller's Vec of refs is not head memory.
    let live = LIVE
        .load(Ordering::Relaxed)
        .saturating_sub(live_before + refs.capacity() * 4);
    let stats = db.stats();
    let per_series = after.saturating_sub(before) as f64 / SERIES as f64;
    println!(
        "head memory: {} series, {} samples each: live heap {:.1} MiB = {:.0} bytes per series; \
         RSS grew {:.1} MiB = {per_series:.0} bytes per series",
        stats.num_series,
        SAMPLES,
        live as f64 / (1024.0 * 1024.0),
        live as f64 / SERIES as f64,
        after.saturating_sub(before) as f64 / (1024.0 * 1024.0)
    );
}
