//! The ingest path (snappy decompress → decode → validate → append → WAL commit)
//! in CPU-seconds per million samples, in the shape Prometheus sends: 10,000
//! series, 2,000 samples per request (one sample per series), a new round of
//! timestamps every 15 s of sample time. Target: ≤ 0.6 CPU-s per million (the
//! issue's figures on this 2-core machine: Prometheus 2.42 5.1, VictoriaMetrics 1.3).
//!
//! In the steady state the ingest path recognises each series by its raw label
//! bytes and decodes only its samples; the separate decode figure is the full
//! decode (every label decoded and validated), what a request of new series costs.
//!
//! CPU time is the whole process's (`CLOCK_PROCESS_CPUTIME_ID`, so the WAL's
//! background fsync thread counts), measured only around `Ingester::ingest`;
//! building the request bodies is excluded. Besides criterion's per-request
//! figure, a fixed run of 1M samples prints the CPU-s per million directly.
//!
//! Run: `cargo bench --bench ingest` (`INGEST_FSYNC=always` to fsync every commit).

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use promlite::ingest::Ingester;
use promlite::metadata::MetadataStore;
use promlite::metrics::Metrics;
use promlite_remote_write::proto::{v1, Label, Sample};
use promlite_remote_write::{
    decode_write_request_with, decompress_body_into, encode_v1, DecodeBuffers, Limits,
    WriteProtocol,
};
use promlite_tsdb::{Db, FsyncPolicy, Options};

const SERIES: usize = 10_000;
const PER_REQUEST: usize = 2_000;
const METRICS: usize = 100;

/// Endless remote-write bodies: request `n` carries series
/// `(n % 5) * 2000 .. + 2000` at time `start + (n / 5) * 15 s`. The requests are
/// built once and only their samples change, so generating a body costs an
/// encode and a compress, no allocation per series.
struct Requests {
    n: usize,
    parts: Vec<v1::WriteRequest>,
}

impl Requests {
    fn new() -> Self {
        let modes = ["user", "system", "idle", "iowait"];
        let series = |i: usize| v1::TimeSeries {
            labels: vec![
                Label {
                    name: "__name__".into(),
                    value: format!("node_metric_{}_total", i % METRICS),
                },
                Label {
                    name: "cpu".into(),
                    value: (i % 16).to_string(),
                },
                Label {
                    name: "datacenter".into(),
                    value: "eu-west-1".into(),
                },
                Label {
                    name: "instance".into(),
                    value: format!("host-{}.example.com:9100", i / METRICS),
                },
                Label {
                    name: "job".into(),
                    value: "node".into(),
                },
                Label {
                    name: "mode".into(),
                    value: modes[i % modes.len()].into(),
                },
                Label {
                    name: "team".into(),
                    value: format!("team-{}", i % 7),
                },
            ],
            samples: vec![Sample {
                value: 0.0,
                timestamp: 0,
            }],
            ..Default::default()
        };
        let parts = (0..SERIES / PER_REQUEST)
            .map(|p| v1::WriteRequest {
                timeseries: (p * PER_REQUEST..(p + 1) * PER_REQUEST)
                    .map(series)
                    .collect(),
                metadata: vec![],
            })
            .collect();
        Requests { n: 0, parts }
    }

    fn next_body(&mut self) -> Vec<u8> {
        let round = self.n / self.parts.len();
        let part = self.n % self.parts.len();
        self.n += 1;
        let t = 1_700_000_000_000 + round as i64 * 15_000;
        let request = &mut self.parts[part];
        for (i, ts) in request.timeseries.iter_mut().enumerate() {
            ts.samples[0] = Sample {
                value: (round * 10 + i % 10) as f64,
                timestamp: t,
            };
        }
        encode_v1(request)
    }
}

/// CPU time used by the whole process so far.
fn process_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The WAL fsync policy: `INGEST_FSYNC=always` for fsync-per-commit, else the default.
fn fsync_policy() -> FsyncPolicy {
    match std::env::var("INGEST_FSYNC").as_deref() {
        Ok("always") => FsyncPolicy::Always,
        _ => FsyncPolicy::default(),
    }
}

fn ingester() -> (Ingester, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Db::open(
        dir.path(),
        Options {
            fsync: fsync_policy(),
            ..Options::default()
        },
    )
    .expect("open db");
    let ingester = Ingester::new(
        db,
        Limits::default(),
        Arc::new(Metrics::new()),
        Arc::new(MetadataStore::default()),
    );
    (ingester, dir)
}

/// Ingests `count` requests, returning the CPU time spent inside `ingest`.
fn ingest_cpu(ingester: &Ingester, requests: &mut Requests, count: u64) -> Duration {
    let mut cpu = Duration::ZERO;
    for _ in 0..count {
        let body = requests.next_body();
        let before = process_cpu();
        let report = ingester.ingest(WriteProtocol::V1, &body).expect("ingest");
        cpu += process_cpu() - before;
        assert_eq!(
            report.samples_written,
            PER_REQUEST,
            "{:?}",
            report.rejection_summary()
        );
    }
    cpu
}

/// Decompresses and decodes `count` requests (no storage), returning the CPU time.
fn decode_cpu(requests: &mut Requests, count: u64) -> Duration {
    let limits = Limits::default();
    let (mut raw, mut buffers) = (Vec::new(), DecodeBuffers::default());
    let mut cpu = Duration::ZERO;
    for _ in 0..count {
        let body = requests.next_body();
        let before = process_cpu();
        decompress_body_into(&body, &limits, &mut raw).expect("decompress");
        let decoded =
            decode_write_request_with(WriteProtocol::V1, &raw, &limits, buffers).expect("decode");
        assert_eq!(decoded.sample_count(), PER_REQUEST);
        buffers = decoded.into_buffers();
        cpu += process_cpu() - before;
    }
    cpu
}

fn bench_ingest(c: &mut Criterion) {
    let (ingester, _dir) = ingester();
    let mut requests = Requests::new();
    // Create every series first: the steady state is what Prometheus sends.
    ingest_cpu(&ingester, &mut requests, (SERIES / PER_REQUEST) as u64);

    let million = (1_000_000 / PER_REQUEST) as u64;
    let wall = std::time::Instant::now();
    let cpu = ingest_cpu(&ingester, &mut requests, million);
    println!(
        "ingest: {:.3} CPU-s per million samples ({SERIES} series, {PER_REQUEST} samples per request, \
         fsync {:?}, {:.2} ms wall per request including body encoding)",
        cpu.as_secs_f64(),
        fsync_policy(),
        wall.elapsed().as_secs_f64() * 1000.0 / million as f64
    );

    let decode = decode_cpu(&mut Requests::new(), million);
    println!(
        "  decompress + full decode + validation of every series (the cost of new series): \
         {:.3} CPU-s per million samples",
        decode.as_secs_f64()
    );

    let mut group = c.benchmark_group("ingest");
    group.throughput(Throughput::Elements(PER_REQUEST as u64));
    group.bench_function("remote_write_v1_2000_samples_cpu", |b| {
        b.iter_custom(|iters| ingest_cpu(&ingester, &mut requests, iters))
    });
    let mut decode_requests = Requests::new();
    group.bench_function("decode_only_v1_2000_samples_cpu", |b| {
        b.iter_custom(|iters| decode_cpu(&mut decode_requests, iters))
    });
    group.finish();
}

criterion_group!(benches, bench_ingest);
criterion_main!(benches);
