//! The workload of the query benches, shared by `promql/benches/engine.rs`
//! (in-memory `MemStorage`) and the root `benches/query.rs` (a real tsdb),
//! so both time the same data: 10,000 counters `m{x="0".."9", i}`, 10,000
//! gauges `g{i}` and 1,000 classic histograms `h_bucket{i, le}` of 10
//! buckets, a sample every 60 s for 4 hours. Each bench includes this file
//! with `#[path]`: the two crates cannot share a library (promql must not
//! depend on the root crate).

/// Series per metric.
pub const SERIES: usize = 10_000;
/// Hours of data.
const HOURS: i64 = 4;
/// Sample interval, ms.
pub const INTERVAL_MS: i64 = 60_000;
/// Samples per series.
pub const SAMPLES: i64 = HOURS * 3_600_000 / INTERVAL_MS;
/// The `le` bounds of every histogram.
const BUCKETS: [&str; 10] = [
    "0.005", "0.01", "0.05", "0.1", "0.5", "1", "5", "10", "50", "+Inf",
];

/// A small deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Label pairs of one series.
pub type Pairs = Vec<(&'static str, String)>;

/// Series index `i`'s three series: its counter, gauge and histogram bucket,
/// and the state of their values.
pub struct Source {
    /// `m{x, i}` labels.
    pub m: Pairs,
    /// `g{i}` labels.
    pub g: Pairs,
    /// `h_bucket{i, le}` labels.
    pub h: Pairs,
    bucket_share: f64,
    counter: f64,
    bucket: f64,
    rng: Rng,
}

impl Source {
    /// The series of index `i`, with values at their start.
    pub fn new(i: usize) -> Self {
        Source {
            m: vec![
                ("__name__", "m".into()),
                ("x", (i % 10).to_string()),
                ("i", i.to_string()),
            ],
            g: vec![("__name__", "g".into()), ("i", i.to_string())],
            h: vec![
                ("__name__", "h_bucket".into()),
                ("i", (i / BUCKETS.len()).to_string()),
                ("le", BUCKETS[i % BUCKETS.len()].to_string()),
            ],
            bucket_share: (i % BUCKETS.len() + 1) as f64,
            counter: 0.0,
            bucket: 0.0,
            rng: Rng(0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1).wrapping_mul(0x2545_f491)),
        }
    }

    /// The next sample's values: counter, gauge, bucket count.
    pub fn next_values(&mut self) -> (f64, f64, f64) {
        self.counter += self.rng.next() * 10.0;
        self.bucket += self.bucket_share;
        (self.counter, self.rng.next() * 100.0, self.bucket)
    }
}

/// End of the data and of every query range, ms.
pub const END_MS: i64 = HOURS * 3_600_000;

/// The three queries both benches time, by bench name.
const QUERIES: [(&str, &str); 3] = [
    ("sum_by_rate", "sum by (x) (rate(m[5m]))"),
    (
        "histogram_quantile",
        "histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))",
    ),
    ("max_over_time", "max_over_time(g[1h])"),
];

/// Adds one bench per query to `group`: a range query over `[0, END_MS]` at a
/// 60 s step on `storage`. Each query is checked once to return data, so the
/// bench measures real work.
pub fn bench_queries<S: promlite_promql::Storage>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    engine: &promlite_promql::Engine,
    storage: &S,
) {
    for (name, query) in QUERIES {
        match engine.range_query(storage, query, 0, END_MS, 60_000) {
            Ok(r) => assert!(
                matches!(r.value, promlite_promql::Value::Matrix(ref m) if !m.is_empty()),
                "{query}"
            ),
            Err(e) => panic!("{query}: {e}"),
        }
        group.bench_function(name, |b| {
            b.iter(|| engine.range_query(storage, query, 0, END_MS, 60_000));
        });
    }
}
