//! `promlite bench write`: a remote-write load generator.
//!
//! It sends a deterministic Kubernetes-like data set (see [`super::dataset`]) to any
//! remote-write URL — promlite, Prometheus with `--web.enable-remote-write-receiver`, or
//! VictoriaMetrics — and reports samples/s, request latency percentiles and errors.
//!
//! Every request body is generated and snappy-compressed before the clock starts, so the
//! figures measure the receiver, not the generator. Series are split into one shard per
//! connection (as Prometheus's remote-write queue does), and each shard sends its requests
//! in time order, so no receiver ever sees a series' samples out of order.

use std::io::Write as _;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use promlite_remote_write::proto::{self, v1, v2};
use promlite_remote_write::{encode_v1, encode_v2, SymbolTable, WriteProtocol};

use super::dataset::{self, Series};

/// Command-line arguments of `promlite bench write`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Remote-write URL to send to.
    #[arg(long, default_value = "http://127.0.0.1:9201/api/v1/write")]
    pub url: String,
    #[command(flatten)]
    pub workload: WorkloadArgs,
    /// Concurrent connections (one shard of series each).
    #[arg(long, default_value_t = 2)]
    pub concurrency: usize,
    /// Output: a human-readable summary or one JSON object.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// What data to send and how to batch it.
#[derive(clap::Args, Debug, Clone)]
pub struct WorkloadArgs {
    /// Which synthetic data set to generate.
    #[arg(long, value_enum, default_value_t = DataSet::Kubernetes)]
    pub data: DataSet,
    /// Number of series: of the whole mix (`kubernetes`), or of each metric (`engine-bench`).
    #[arg(long, default_value_t = 10_000)]
    pub series: usize,
    /// Time span of the data, e.g. `4h`.
    #[arg(long, default_value = "4h", value_parser = parse_duration_arg)]
    pub duration: i64,
    /// Scrape interval of the data, e.g. `15s`.
    #[arg(long, default_value = "15s", value_parser = parse_duration_arg)]
    pub interval: i64,
    /// Samples per request.
    #[arg(long, default_value_t = 2000)]
    pub batch_size: usize,
    /// Seed of the data generator.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Remote-write protocol version of the bodies.
    #[arg(long, value_enum, default_value_t = Protocol::V1)]
    pub protocol: Protocol,
}

/// The synthetic data sets.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataSet {
    /// A Kubernetes-like mix of counters, gauges and histogram buckets
    /// ([`dataset::kubernetes_like`]).
    Kubernetes,
    /// The PromQL engine bench's data: counters `m`, gauges `g` and 10-bucket
    /// histograms `h_bucket` ([`dataset::engine_bench`]).
    EngineBench,
}

/// Remote-write protocol version.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `prometheus.WriteRequest`
    V1,
    /// `io.prometheus.write.v2.Request`
    V2,
}

/// Output format of a report.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// A short human-readable summary.
    Table,
    /// One JSON object.
    Json,
}

fn parse_duration_arg(s: &str) -> Result<i64, String> {
    match promlite_promql::parse_duration_ms(s) {
        Some(ms) if ms > 0 => Ok(ms),
        _ => Err(format!("invalid duration {s:?} (want e.g. 15s, 4h, 1h30m)")),
    }
}

/// One snappy-compressed request body and the samples in it.
pub struct Body {
    /// The HTTP body.
    pub bytes: Vec<u8>,
    /// Samples encoded in it.
    pub samples: u64,
}

/// Pre-encoded request bodies, one queue per connection, each in time order.
pub struct Workload {
    /// Bodies per shard; shard `i` is sent over connection `i`.
    pub shards: Vec<Vec<Body>>,
    /// Samples in all bodies together.
    pub samples: u64,
    /// Content-Type header of the bodies.
    pub content_type: &'static str,
    /// First and last sample timestamp, ms.
    pub time_range: (i64, i64),
    /// Remainders (ms, modulo the scrape interval) of every sample timestamp, for
    /// [`Workload::off_grid_time`].
    occupied: Vec<bool>,
}

impl Workload {
    /// Generates the data set and encodes it into `shards` queues of request bodies.
    pub fn build(args: &WorkloadArgs, shards: usize) -> anyhow::Result<Workload> {
        let (series, duration, interval, seed) =
            (args.series, args.duration, args.interval, args.seed);
        let data = match args.data {
            DataSet::Kubernetes => dataset::kubernetes_like(series, duration, interval, seed),
            DataSet::EngineBench => dataset::engine_bench(series, duration, interval, seed),
        };
        Workload::from_series(&data, args, shards)
    }

    /// Encodes given series (instead of generating them) into `shards` queues, batched
    /// and encoded as `args` says; `args.series`, `duration` and `seed` are not used.
    /// Series are sent sample index by sample index, so a receiver that rejects samples
    /// far behind its newest one (Prometheus: half a block range) needs series whose
    /// k-th samples lie close together in time.
    pub fn from_series(
        data: &[Series],
        args: &WorkloadArgs,
        shards: usize,
    ) -> anyhow::Result<Workload> {
        if args.batch_size == 0 || shards == 0 {
            bail!("--batch-size and --concurrency must be positive");
        }
        let mut occupied = vec![false; usize::try_from(args.interval)?];
        let (mut start, mut end) = (i64::MAX, i64::MIN);
        for t in data
            .iter()
            .flat_map(|(_, samples)| samples.iter().map(|s| s.0))
        {
            start = start.min(t);
            end = end.max(t);
            if let Some(slot) = usize::try_from(t.rem_euclid(args.interval))
                .ok()
                .and_then(|r| occupied.get_mut(r))
            {
                *slot = true;
            }
        }
        if start > end {
            bail!("the workload has no samples");
        }
        let mut queues: Vec<Vec<&Series>> = vec![Vec::new(); shards];
        for (i, s) in data.iter().enumerate() {
            if let Some(q) = queues.get_mut(i % shards) {
                q.push(s);
            }
        }
        let mut samples = 0u64;
        let shards = queues
            .iter()
            .map(|series| {
                let bodies = encode_shard(series, args.batch_size, args.protocol);
                samples += bodies.iter().map(|b| b.samples).sum::<u64>();
                bodies
            })
            .collect();
        let content_type = match args.protocol {
            Protocol::V1 => WriteProtocol::V1.content_type(),
            Protocol::V2 => WriteProtocol::V2.content_type(),
        };
        Ok(Workload {
            shards,
            samples,
            content_type,
            time_range: (start, end),
            occupied,
        })
    }

    /// The first time at or after `t` that is congruent to no sample's timestamp modulo
    /// the scrape interval. Queries evaluated from there, with steps and ranges that are
    /// multiples of the interval, never have a sample on a window edge — where Prometheus
    /// 2.42 (left-closed windows) and 3.x (left-open) legitimately disagree.
    pub fn off_grid_time(&self, t: i64) -> Option<i64> {
        let n = i64::try_from(self.occupied.len()).ok()?;
        (0..n).map(|d| t + d).find(|c| {
            usize::try_from(c.rem_euclid(n))
                .ok()
                .and_then(|r| self.occupied.get(r))
                == Some(&false)
        })
    }
}

/// Cuts one shard's series into bodies of about `batch` samples, sample time ascending:
/// each body holds the next few samples of every series in the shard.
fn encode_shard(series: &[&Series], batch: usize, protocol: Protocol) -> Vec<Body> {
    let per_series = (batch / series.len().max(1)).max(1);
    let longest = series.iter().map(|s| s.1.len()).max().unwrap_or(0);
    let mut bodies = Vec::new();
    let mut from = 0;
    while from < longest {
        let to = (from + per_series).min(longest);
        // Series are grouped so a body stays near `batch` samples even when one series
        // contributes fewer than `per_series` samples per body.
        for group in series.chunks((batch / (to - from)).max(1)) {
            let slices: Vec<(&Series, &[(i64, f64)])> = group
                .iter()
                .filter_map(|s| s.1.get(from..to.min(s.1.len())).map(|w| (*s, w)))
                .filter(|(_, w)| !w.is_empty())
                .collect();
            if slices.is_empty() {
                continue;
            }
            let bytes = match protocol {
                Protocol::V1 => encode_v1_body(&slices),
                Protocol::V2 => encode_v2_body(&slices),
            };
            bodies.push(Body {
                bytes,
                samples: slices.iter().map(|(_, w)| w.len() as u64).sum(),
            });
        }
        from = to;
    }
    bodies
}

fn encode_v1_body(slices: &[(&Series, &[(i64, f64)])]) -> Vec<u8> {
    let timeseries = slices
        .iter()
        .map(|(s, w)| v1::TimeSeries {
            labels: s
                .0
                .iter()
                .map(|(n, v)| proto::Label {
                    name: n.clone(),
                    value: v.clone(),
                })
                .collect(),
            samples: proto_samples(w),
            ..Default::default()
        })
        .collect();
    encode_v1(&v1::WriteRequest {
        timeseries,
        ..Default::default()
    })
}

/// The `(t, v)` points of one write slice as protobuf samples (1.0 and 2.0 share
/// the `Sample` message).
fn proto_samples(points: &[(i64, f64)]) -> Vec<proto::Sample> {
    points
        .iter()
        .map(|&(t, v)| proto::Sample {
            value: v,
            timestamp: t,
        })
        .collect()
}

fn encode_v2_body(slices: &[(&Series, &[(i64, f64)])]) -> Vec<u8> {
    let mut symbols = SymbolTable::new();
    let timeseries = slices
        .iter()
        .map(|(s, w)| v2::TimeSeries {
            labels_refs: symbols.intern_labels(s.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))),
            samples: proto_samples(w),
            ..Default::default()
        })
        .collect();
    encode_v2(&v2::Request {
        symbols: symbols.into_symbols(),
        timeseries,
    })
}

/// What one load run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// Samples in requests answered 2xx.
    pub samples_sent: u64,
    /// Requests sent.
    pub requests: u64,
    /// Requests not answered 2xx (or failed at the transport).
    pub errors: u64,
    /// The first few error messages, for diagnosis.
    pub error_examples: Vec<String>,
    /// Wall time of the whole run, seconds.
    pub elapsed_secs: f64,
    /// `samples_sent / elapsed_secs`.
    pub samples_per_sec: f64,
    /// Request latency percentiles, milliseconds.
    pub latency_ms_p50: f64,
    /// 90th percentile latency, ms.
    pub latency_ms_p90: f64,
    /// 99th percentile latency, ms.
    pub latency_ms_p99: f64,
    /// Slowest request, ms.
    pub latency_ms_max: f64,
}

struct ShardResult {
    samples_ok: u64,
    latencies: Vec<Duration>,
    errors: Vec<String>,
}

/// Sends every shard's bodies over its own connection, in order, and measures.
pub fn send(url: &str, workload: &Workload) -> Report {
    let started = Instant::now();
    let results: Vec<ShardResult> = std::thread::scope(|scope| {
        let handles: Vec<_> = workload
            .shards
            .iter()
            .map(|bodies| scope.spawn(move || send_shard(url, workload.content_type, bodies)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| ShardResult {
                    samples_ok: 0,
                    latencies: Vec::new(),
                    errors: vec!["sender thread panicked".into()],
                })
            })
            .collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies: Vec<Duration> = results
        .iter()
        .flat_map(|r| r.latencies.iter().copied())
        .collect();
    latencies.sort_unstable();
    let samples_sent = results.iter().map(|r| r.samples_ok).sum();
    let errors: Vec<&String> = results.iter().flat_map(|r| &r.errors).collect();
    Report {
        samples_sent,
        requests: latencies.len() as u64,
        errors: errors.len() as u64,
        error_examples: errors.iter().take(5).map(|e| (*e).clone()).collect(),
        elapsed_secs: elapsed,
        samples_per_sec: samples_sent as f64 / elapsed.max(f64::MIN_POSITIVE),
        latency_ms_p50: percentile_ms(&latencies, 0.50),
        latency_ms_p90: percentile_ms(&latencies, 0.90),
        latency_ms_p99: percentile_ms(&latencies, 0.99),
        latency_ms_max: latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
    }
}

fn send_shard(url: &str, content_type: &str, bodies: &[Body]) -> ShardResult {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut latencies = Vec::with_capacity(bodies.len());
    let mut errors = Vec::new();
    let mut samples_ok = 0u64;
    for body in bodies {
        let t0 = Instant::now();
        let result = agent
            .post(url)
            .header("Content-Type", content_type)
            .header("Content-Encoding", "snappy")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .send(&body.bytes[..]);
        latencies.push(t0.elapsed());
        match result {
            Ok(mut resp) if resp.status().is_success() => {
                // Drain the body so the connection is reused.
                let _ = resp.body_mut().read_to_vec();
                samples_ok += body.samples;
            }
            Ok(mut resp) => {
                let text = resp.body_mut().read_to_string().unwrap_or_default();
                errors.push(format!("HTTP {}: {}", resp.status(), text.trim()));
            }
            Err(e) => errors.push(format!("transport: {e}")),
        }
    }
    ShardResult {
        samples_ok,
        latencies,
        errors,
    }
}

fn percentile_ms(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted.get(rank).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// Runs `promlite bench write`.
pub fn run(args: Args) -> anyhow::Result<()> {
    eprintln!(
        "generating {} series × {} ms at {} ms, {} samples per request…",
        args.workload.series,
        args.workload.duration,
        args.workload.interval,
        args.workload.batch_size
    );
    let workload = Workload::build(&args.workload, args.concurrency)?;
    eprintln!(
        "sending {} samples in {} requests to {}",
        workload.samples,
        workload.shards.iter().map(Vec::len).sum::<usize>(),
        args.url
    );
    let report = send(&args.url, &workload);
    let mut out = std::io::stdout().lock();
    match args.format {
        OutputFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string(&report).context("encoding report")?
        )?,
        OutputFormat::Table => {
            writeln!(out, "samples sent      {}", report.samples_sent)?;
            writeln!(
                out,
                "requests          {} ({} errors)",
                report.requests, report.errors
            )?;
            writeln!(out, "elapsed           {:.2} s", report.elapsed_secs)?;
            writeln!(out, "samples/s         {:.0}", report.samples_per_sec)?;
            writeln!(
                out,
                "latency ms        p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
                report.latency_ms_p50,
                report.latency_ms_p90,
                report.latency_ms_p99,
                report.latency_ms_max
            )?;
            for e in &report.error_examples {
                writeln!(out, "error             {e}")?;
            }
        }
    }
    if report.errors > 0 {
        bail!("{} of {} requests failed", report.errors, report.requests);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    type LabelPairs = Vec<(String, String)>;

    fn args(protocol: Protocol) -> WorkloadArgs {
        WorkloadArgs {
            data: DataSet::Kubernetes,
            series: 30,
            duration: 3_600_000,
            interval: 15_000,
            batch_size: 100,
            seed: 7,
            protocol,
        }
    }

    #[test]
    fn every_sample_is_encoded_once_and_in_time_order_per_series() {
        for protocol in [Protocol::V1, Protocol::V2] {
            let w = Workload::build(&args(protocol), 3).unwrap();
            let expected: usize = dataset::kubernetes_like(30, 3_600_000, 15_000, 7)
                .iter()
                .map(|s| s.1.len())
                .sum();
            assert_eq!(w.samples, expected as u64);
            let mut last_seen = std::collections::HashMap::<Vec<(String, String)>, i64>::new();
            let mut decoded = 0u64;
            for body in w.shards.iter().flatten() {
                let raw = promlite_remote_write::decompress(&body.bytes, usize::MAX).unwrap();
                let series: Vec<(LabelPairs, Vec<i64>)> = match protocol {
                    Protocol::V1 => {
                        let req: v1::WriteRequest = prost::Message::decode(&raw[..]).unwrap();
                        req.timeseries
                            .into_iter()
                            .map(|ts| {
                                let l = ts.labels.into_iter().map(|l| (l.name, l.value)).collect();
                                (l, ts.samples.iter().map(|s| s.timestamp).collect())
                            })
                            .collect()
                    }
                    Protocol::V2 => {
                        let req: v2::Request = prost::Message::decode(&raw[..]).unwrap();
                        let sym = |r: u32| req.symbols[r as usize].clone();
                        req.timeseries
                            .iter()
                            .map(|ts| {
                                let l = ts
                                    .labels_refs
                                    .chunks(2)
                                    .map(|p| (sym(p[0]), sym(p[1])))
                                    .collect();
                                (l, ts.samples.iter().map(|s| s.timestamp).collect())
                            })
                            .collect()
                    }
                };
                for (labels, ts) in series {
                    assert!(ts.len() <= 100);
                    for t in ts {
                        let prev = last_seen.insert(labels.clone(), t);
                        assert!(prev.is_none_or(|p| p < t), "out of order for {labels:?}");
                        decoded += 1;
                    }
                }
            }
            assert_eq!(decoded, w.samples);
            assert_eq!(last_seen.len(), 30);
            let off = w.off_grid_time(w.time_range.0).unwrap();
            assert!(off >= w.time_range.0 && off < w.time_range.0 + 15_000);
            assert!(!w.occupied[usize::try_from(off.rem_euclid(15_000)).unwrap()]);
        }
    }

    #[test]
    fn percentiles_pick_ranks() {
        let d: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile_ms(&d, 0.5), 51.0);
        assert_eq!(percentile_ms(&d, 0.99), 99.0);
        assert_eq!(percentile_ms(&[], 0.5), 0.0);
    }
}
