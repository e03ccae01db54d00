//! Head benchmarks: append throughput on existing series (1 and 2 threads) and
//! select + iterate of 10k series × 2 h.
//!
//! Append: 10,000 series already in the head; one iteration appends one sample
//! to each through `append_ref` and commits (one WAL write), so throughput is
//! samples/s including WAL encoding and writing, chunk cutting and writing
//! full chunks to the chunk files. The WAL fsync runs every second in the
//! background (the default policy fsyncs every 100 ms). Select: 10,000 series
//! with a sample every 15 s for 2 h (480 samples, 4 chunks each), all selected
//! by one matcher and every sample iterated; the sum is checked once.

#![expect(
    clippy::unwrap_used,
    reason = "bench inputs are built here; a panic is a failed bench, not a crashed server"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use promlite_tsdb::{Db, FsyncPolicy, Labels, Matcher, Options, SeriesRef};

const SERIES: usize = 10_000;
const SCRAPE_MS: i64 = 15_000;

fn options() -> Options {
    Options {
        fsync: FsyncPolicy::Interval(Duration::from_secs(1)),
        ..Options::default()
    }
}

fn labels(i: usize) -> Labels {
    let inst = format!("host-{}", i % 500);
    let id = i.to_string();
    Labels::from_pairs([
        ("__name__", "node_cpu_seconds_total"),
        ("cpu", id.as_str()),
        ("instance", inst.as_str()),
        ("job", "node"),
        ("mode", "user"),
    ])
    .unwrap()
}

fn create_series(db: &Db, range: std::ops::Range<usize>) -> Vec<SeriesRef> {
    let mut app = db.appender();
    let refs = range
        .map(|i| app.append(&labels(i), 0, 0.0).unwrap())
        .collect();
    app.commit().unwrap();
    refs
}

/// Appends `batches` batches (one sample per series each) starting at batch `from`.
fn append_batches(db: &Db, refs: &[SeriesRef], from: i64, batches: i64) {
    for b in from..from + batches {
        let mut app = db.appender();
        for (i, r) in refs.iter().enumerate() {
            app.append_ref(*r, b * SCRAPE_MS, (b as f64) + i as f64)
                .unwrap();
        }
        app.commit().unwrap();
    }
}

/// CPU time (user + system) the calling thread has used, from
/// `/proc/thread-self/schedstat`; zero where that file does not exist.
fn thread_cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = stat
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

/// Two clocks: `wall` is elapsed time (what a client sees, but inflated when
/// other processes share the cores); `cpu` is the CPU time the appending
/// threads used, summed, so its throughput is samples per second per core
/// whatever the machine's load.
fn bench_append(c: &mut Criterion) {
    let mut g = c.benchmark_group("head_append");
    g.throughput(Throughput::Elements(SERIES as u64));
    g.sample_size(20).measurement_time(Duration::from_secs(6));
    for threads in [1usize, 2] {
        for clock in ["wall", "cpu"] {
            let dir = tempfile::tempdir().unwrap();
            let db = Db::open(dir.path(), options()).unwrap();
            let per = SERIES / threads;
            let refs: Vec<Vec<SeriesRef>> = (0..threads)
                .map(|t| create_series(&db, t * per..(t + 1) * per))
                .collect();
            let mut next = 1i64;
            let id = BenchmarkId::new(
                format!("existing_series_{clock}"),
                format!("{threads}_threads"),
            );
            g.bench_function(id, |b| {
                b.iter_custom(|iters| {
                    let iters = iters as i64;
                    let start = Instant::now();
                    let cpu: Duration = std::thread::scope(|s| {
                        let handles: Vec<_> = refs
                            .iter()
                            .map(|r| {
                                let db = db.clone();
                                s.spawn(move || {
                                    let before = thread_cpu_time();
                                    append_batches(&db, r, next, iters);
                                    thread_cpu_time().saturating_sub(before)
                                })
                            })
                            .collect();
                        handles.into_iter().map(|h| h.join().unwrap()).sum()
                    });
                    next += iters;
                    if clock == "cpu" {
                        cpu
                    } else {
                        start.elapsed()
                    }
                })
            });
        }
    }
    g.finish();
}

fn bench_select(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), options()).unwrap();
    let refs = create_series(&db, 0..SERIES);
    let samples_per_series = 2 * 3600 * 1000 / SCRAPE_MS; // 480
    append_batches(&db, &refs, 1, samples_per_series - 1);
    let total = SERIES as u64 * samples_per_series as u64;
    let m = [Matcher::equal("__name__", "node_cpu_seconds_total")];
    let iterate = || {
        let q = db.querier(0, 2 * 3600 * 1000).unwrap();
        let mut n = 0u64;
        let mut sum = 0f64;
        for s in q.select(&m).unwrap() {
            for (_, v) in s.iter() {
                n += 1;
                sum += v;
            }
        }
        (n, sum)
    };
    assert_eq!(iterate().0, total, "every sample is read back");

    let mut g = c.benchmark_group("head_select");
    g.throughput(Throughput::Elements(total));
    g.sample_size(10);
    g.bench_function("10k_series_x_2h_iterate", |b| {
        b.iter(|| black_box(iterate()))
    });
    g.finish();
}

criterion_group!(benches, bench_append, bench_select);
criterion_main!(benches);
