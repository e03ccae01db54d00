//! PromQL over the real storage: the workload of the engine's own bench
//! (`promql/benches/engine.rs`, which reads an in-memory `MemStorage`), here
//! ingested into a tsdb in a temp dir and read through the server's adapter
//! (`promlite::storage::TsdbStorage`), so the figures include postings,
//! chunk snapshots and chunk decoding.
//!
//! Data: 10,000 counters `m{x="0".."9", i}`, 10,000 gauges `g{i}` and 1,000
//! classic histograms `h_bucket{i, le}` of 10 buckets, a sample every 60 s for
//! 4 hours, appended one timestamp at a time as scrapes would. Then one
//! maintenance pass does what the server does after 4 hours: the oldest 2-hour
//! range becomes a block (in the default, cold, encoding) and the last 2 hours
//! stay in the head. Queries are 4-hour ranges at a 60 s step, so each one
//! reads both the block and the head.
//!
//! Besides the three engine queries, `storage_read/<metric>` measures the
//! storage alone: `select` plus `read_floats` of every series of one metric,
//! which is the part of a query below the engine; `storage_select/m` the
//! select alone. On a busy machine `QUERY_BENCH_CPU=1` makes these storage
//! cases report CPU time instead of wall time.
//!
//! Run: `cargo bench -p promlite --bench query` (a name filter after `--`
//! picks cases, e.g. `-- max_over_time`).

use criterion::{criterion_group, criterion_main, Criterion};
use promlite::storage::TsdbStorage;
use promlite_promql::{Engine, EngineOptions, FPoint, MatchOp, Matcher, Storage};
use promlite_tsdb::{Db, Labels, Options};

#[path = "../promql/benches/support/workload.rs"]
mod workload;

use workload::{Source, END_MS, INTERVAL_MS, SAMPLES, SERIES};

/// Series index `i`'s sources with tsdb label sets.
struct TsdbSource {
    m: Labels,
    g: Labels,
    h: Labels,
    values: Source,
}

fn sources() -> Vec<TsdbSource> {
    let labels = |pairs: &workload::Pairs| {
        Labels::from_pairs(pairs.iter().map(|(n, v)| (*n, v.as_str()))).expect("labels")
    };
    (0..SERIES)
        .map(|i| {
            let values = Source::new(i);
            TsdbSource {
                m: labels(&values.m),
                g: labels(&values.g),
                h: labels(&values.h),
                values,
            }
        })
        .collect()
}

/// Ingests the workload scrape by scrape, then cuts the head as the server's
/// maintenance would after 4 hours: `[0, 2h)` becomes a block. Runs on its
/// own thread, as ingestion does in the server: with glibc's per-thread
/// arenas, a query thread whose heap the ingestion had fragmented would
/// measure the allocator's free-list upkeep rather than the query (2× here).
fn build_db(dir: &std::path::Path) -> Db {
    std::thread::scope(|s| s.spawn(|| ingest(dir)).join()).expect("ingest thread")
}

fn ingest(dir: &std::path::Path) -> Db {
    let db = Db::open(dir, Options::default()).expect("open");
    let mut sources = sources();
    for k in 0..SAMPLES {
        let t = k * INTERVAL_MS;
        let mut app = db.appender();
        for s in &mut sources {
            let (counter, gauge, bucket) = s.values.next_values();
            app.append(&s.m, t, counter).expect("append");
            app.append(&s.g, t, gauge).expect("append");
            app.append(&s.h, t, bucket).expect("append");
        }
        app.commit().expect("commit");
    }
    let report = db.compact().expect("compact");
    assert_eq!(report.head_blocks, 1, "4h of head: [0, 2h) becomes a block");
    db
}

/// `select` and `read_floats` of every series of `metric` over the query's
/// data range; returns the number of samples read.
fn read_all(
    storage: &TsdbStorage,
    metric: &str,
    mint: i64,
    maxt: i64,
    buf: &mut Vec<FPoint>,
) -> usize {
    let matchers = [Matcher::new(MatchOp::Equal, "__name__", metric).expect("matcher")];
    let series = storage.select(&matchers, mint, maxt).expect("select");
    let mut n = 0;
    for s in &series {
        buf.clear();
        s.read_floats(buf).expect("read");
        n += buf.len();
    }
    n
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let started = std::time::Instant::now();
    let db = build_db(dir.path());
    eprintln!("built the database in {:?}", started.elapsed());
    let storage = TsdbStorage::new(db);
    let engine = Engine::new(EngineOptions::default());
    let end = END_MS;

    let mut group = c.benchmark_group("query_tsdb_10k_series_4h_step_60s");
    group.sample_size(10);
    workload::bench_queries(&mut group, &engine, &storage);
    let mut buf = Vec::new();
    for metric in ["m", "g"] {
        let n = read_all(&storage, metric, -300_000, end, &mut buf);
        assert_eq!(n, SERIES * (end / INTERVAL_MS) as usize, "{metric}");
        group.bench_function(format!("storage_read/{metric}"), |b| {
            timed(b, || read_all(&storage, metric, -300_000, end, &mut buf));
        });
    }
    // The select alone (postings, head snapshots, block index and chunk
    // reads, merge, label conversion): the part of a query before the
    // engine's workers start.
    let matchers = [Matcher::new(MatchOp::Equal, "__name__", "m").expect("matcher")];
    group.bench_function("storage_select/m", |b| {
        timed(b, || {
            storage
                .select(&matchers, -300_000, end)
                .expect("select")
                .len()
        });
    });
    group.finish();
}

/// Runs `f` under `b`: wall time, or with `QUERY_BENCH_CPU=1` the CPU time
/// of the whole process (all threads; 10 ms ticks, so keep batches long),
/// which on a shared machine does not count waiting for a core. It counts the
/// work, not the latency: a select spread over two threads costs the same.
fn timed<R>(b: &mut criterion::Bencher<'_>, mut f: impl FnMut() -> R) {
    if std::env::var_os("QUERY_BENCH_CPU").is_none() {
        b.iter(f);
        return;
    }
    b.iter_custom(|iters| {
        let start = process_cpu();
        for _ in 0..iters {
            std::hint::black_box(f());
        }
        process_cpu().saturating_sub(start)
    });
}

/// User plus system CPU time of this process (`/proc/self/stat`, in clock ticks of 10 ms).
fn process_cpu() -> std::time::Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: u64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|f| f.parse::<u64>().expect("tick count"))
        .sum();
    std::time::Duration::from_millis(ticks * 10)
}

criterion_group!(benches, bench);
criterion_main!(benches);
