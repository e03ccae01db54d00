//! `promlite bench compare`: promlite, Prometheus and VictoriaMetrics side by side.
//!
//! One run on one machine: each system is started on a fresh data directory on
//! 127.0.0.1, receives the same pre-encoded remote-write bodies (see [`super::write`]),
//! is made durable (snapshot / flush), and answers a fixed query set over the whole
//! range. Results are checked against Prometheus's before any speed is reported, and
//! every figure is printed with its ratio to Prometheus. Every process started is
//! stopped by PID, also when the run fails.

use std::io::Write as _;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

use super::peers::{agent, Kind, Peer};
use super::write::{self, DataSet, OutputFormat, Workload, WorkloadArgs};

/// Command-line arguments of `promlite bench compare`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    #[command(flatten)]
    pub workload: WorkloadArgs,
    /// Concurrent remote-write connections per system.
    #[arg(long, default_value_t = 2)]
    pub concurrency: usize,
    /// Times each query is run; the median is reported.
    #[arg(long, default_value_t = 5)]
    pub query_runs: usize,
    /// Query step, e.g. `60s`.
    #[arg(long, default_value = "60s", value_parser = parse_step)]
    pub step: i64,
    /// Systems to leave out (`prometheus`, `victoria-metrics`).
    #[arg(long, value_delimiter = ',')]
    pub skip: Vec<String>,
    /// Where the data directories go (default: a new temporary directory, removed after).
    #[arg(long)]
    pub work_dir: Option<std::path::PathBuf>,
    /// Output: a table or one JSON object per system.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

fn parse_step(s: &str) -> Result<i64, String> {
    promlite_promql::parse_duration_ms(s)
        .filter(|ms| *ms > 0)
        .ok_or_else(|| format!("invalid step {s:?}"))
}

/// The query set of a data set: names and PromQL over its metrics.
pub fn queries(data: DataSet) -> &'static [(&'static str, &'static str)] {
    match data {
        DataSet::Kubernetes => &QUERIES,
        DataSet::EngineBench => &ENGINE_BENCH_QUERIES,
    }
}

/// The three queries of the PromQL engine bench (`promql/benches/engine.rs`).
const ENGINE_BENCH_QUERIES: [(&str, &str); 3] = [
    ("sum_by_rate", "sum by (x) (rate(m[5m]))"),
    (
        "histogram_quantile",
        "histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))",
    ),
    ("max_over_time", "max_over_time(g[1h])"),
];

/// The queries over the Kubernetes-like data set.
const QUERIES: [(&str, &str); 4] = [
    (
        "sum_rate",
        "sum by (namespace) (rate(container_cpu_usage_seconds_total[5m]))",
    ),
    (
        "hist_quantile",
        "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
    ),
    (
        "max_over_time",
        "max_over_time(container_memory_working_set_bytes[1h])",
    ),
    (
        "selective_sum",
        "sum by (pod) (rate(container_cpu_usage_seconds_total{namespace=\"team-1\"}[5m]))",
    ),
];

/// Verdict for an answer that equals Prometheus's.
const SAME: &str = "same";
/// Verdict when Prometheus was skipped: nothing to compare against.
const NO_REFERENCE: &str = "no reference (prometheus skipped)";

/// The range of the rate() windows of the queries, ms.
const RATE_WINDOW_MS: i64 = 5 * 60 * 1000;

/// Everything measured for one system.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SystemResult {
    /// System name.
    pub system: &'static str,
    /// Server CPU seconds spent per million samples ingested.
    pub cpu_s_per_million: f64,
    /// Ingest throughput seen by the sender.
    pub samples_per_sec: f64,
    /// Peak resident memory, MiB.
    pub peak_rss_mib: f64,
    /// Durable bytes on disk per sample after a snapshot / flush.
    pub bytes_per_sample: f64,
    /// Median latency per query, ms, in [`queries`] order.
    pub query_ms: Vec<f64>,
    /// Per query: does the answer agree with Prometheus's (and how, if not)?
    pub agreement: Vec<String>,
    /// Remote-write requests that failed.
    pub write_errors: u64,
}

/// Runs `promlite bench compare`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let mut kinds = vec![Kind::Prometheus, Kind::VictoriaMetrics, Kind::Promlite];
    kinds.retain(|k| !args.skip.iter().any(|s| s == k.name()));
    eprintln!("generating the workload…");
    let workload = Workload::build(&args.workload, args.concurrency)?;
    let tmp;
    let root = match &args.work_dir {
        Some(p) => p.clone(),
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let mut results = Vec::new();
    let mut answers: Vec<Vec<serde_json::Value>> = Vec::new();
    for kind in kinds {
        eprintln!("{}: starting", kind.name());
        let peer = Peer::start(kind, &root.join(kind.name()), "100y")?;
        let (result, answer) = measure(&peer, &workload, &args)?;
        peer.stop();
        results.push(result);
        answers.push(answer);
    }
    let queries = queries(args.workload.data);
    check_agreement(&mut results, &answers, queries);
    print_results(&results, args.format, queries)?;
    if results.iter().any(|r| {
        r.system == "promlite" && r.agreement.iter().any(|a| a != SAME && a != NO_REFERENCE)
    }) {
        bail!("promlite's answers differ from Prometheus's; speed figures are not comparable");
    }
    Ok(())
}

fn measure(
    peer: &Peer,
    workload: &Workload,
    args: &Args,
) -> anyhow::Result<(SystemResult, Vec<serde_json::Value>)> {
    let cpu_before = peer.cpu_seconds()?;
    eprintln!("{}: writing {} samples", peer.kind.name(), workload.samples);
    let report = write::send(&peer.write_url(), workload);
    let cpu = peer.cpu_seconds()? - cpu_before;
    eprintln!(
        "{}: {:.0} samples/s, {} errors, {:.1} CPU-s; flushing",
        peer.kind.name(),
        report.samples_per_sec,
        report.errors,
        cpu
    );
    let bytes = peer.durable_bytes()?;
    let (start, end) = workload.time_range;
    // Evaluate off the sample grid: Prometheus 2.42's windows are left-closed and 3.x's
    // left-open, so a sample exactly on a window's left edge would make them disagree.
    // Start once the 5m rate windows are full: 3.x changed how rate() extrapolates
    // towards a series' first sample (zero cutoff before the 1.1× interval rule).
    let start = workload
        .off_grid_time(start + RATE_WINDOW_MS)
        .context("every remainder holds a sample; use a longer interval")?;
    let mut query_ms = Vec::new();
    let mut answer = Vec::new();
    for (_, q) in queries(args.workload.data) {
        let (ms, body) = time_query(peer, q, start, end, args.step, args.query_runs)?;
        query_ms.push(ms);
        answer.push(body);
    }
    let result = SystemResult {
        system: peer.kind.name(),
        cpu_s_per_million: cpu / (workload.samples as f64 / 1e6),
        samples_per_sec: report.samples_per_sec,
        peak_rss_mib: peer.peak_rss_bytes()? as f64 / (1024.0 * 1024.0),
        bytes_per_sample: bytes as f64 / workload.samples as f64,
        query_ms,
        agreement: Vec::new(),
        write_errors: report.errors,
    };
    Ok((result, answer))
}

fn time_query(
    peer: &Peer,
    query: &str,
    start: i64,
    end: i64,
    step: i64,
    runs: usize,
) -> anyhow::Result<(f64, serde_json::Value)> {
    let agent = agent(Duration::from_secs(120));
    let url = format!("{}/api/v1/query_range", peer.base_url);
    let secs = |ms: i64| format!("{:.3}", ms as f64 / 1e3);
    let mut times = Vec::new();
    let mut last = serde_json::Value::Null;
    for _ in 0..runs.max(1) {
        let t0 = Instant::now();
        let mut resp = agent
            .post(&url)
            .send_form([
                ("query", query),
                ("start", &secs(start)),
                ("end", &secs(end)),
                ("step", &secs(step)),
            ])
            .with_context(|| format!("{}: {query}", peer.kind.name()))?;
        let text = resp
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_string()?;
        times.push(t0.elapsed().as_secs_f64() * 1e3);
        if !resp.status().is_success() {
            bail!(
                "{} answered {} to {query}: {text}",
                peer.kind.name(),
                resp.status()
            );
        }
        last = serde_json::from_str(&text)?;
    }
    times.sort_by(f64::total_cmp);
    Ok((times.get(times.len() / 2).copied().unwrap_or(0.0), last))
}

/// A matrix answer as (labels, points), sorted by labels.
type Matrix = Vec<(String, Vec<(f64, f64)>)>;

fn matrix(answer: &serde_json::Value) -> Matrix {
    let mut out: Matrix = answer["data"]["result"]
        .as_array()
        .map(|series| {
            series
                .iter()
                .map(|s| {
                    let labels = s["metric"].to_string();
                    let points = s["values"]
                        .as_array()
                        .map(|vs| {
                            vs.iter()
                                .filter_map(|p| {
                                    let t = p.get(0)?.as_f64()?;
                                    let v: f64 = p.get(1)?.as_str()?.parse().ok()?;
                                    Some((t, v))
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    (labels, points)
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Compares two answers; `None` if they agree within `rel_tol` relative error.
fn compare(reference: &Matrix, got: &Matrix, rel_tol: f64) -> Option<String> {
    if reference.is_empty() {
        return Some("reference answer is empty".into());
    }
    if reference.len() != got.len() {
        return Some(format!("{} series, want {}", got.len(), reference.len()));
    }
    let mut worst = 0.0f64;
    for ((rl, rp), (gl, gp)) in reference.iter().zip(got) {
        if rl != gl {
            return Some(format!("series {gl}, want {rl}"));
        }
        if rp.len() != gp.len() {
            return Some(format!("{gl}: {} points, want {}", gp.len(), rp.len()));
        }
        for (&(rt, rv), &(gt, gv)) in rp.iter().zip(gp) {
            if rt != gt {
                return Some(format!("{gl}: point at {gt}, want {rt}"));
            }
            let both_nan = rv.is_nan() && gv.is_nan();
            if !both_nan && rv != gv {
                worst = worst.max((rv - gv).abs() / rv.abs().max(gv.abs()).max(1e-300));
            }
        }
    }
    (worst > rel_tol).then(|| format!("max relative difference {worst:.2e}"))
}

fn without_name(answer: &serde_json::Value) -> serde_json::Value {
    let mut answer = answer.clone();
    if let Some(series) = answer["data"]["result"].as_array_mut() {
        for s in series {
            if let Some(metric) = s["metric"].as_object_mut() {
                metric.remove("__name__");
            }
        }
    }
    answer
}

fn check_agreement(
    results: &mut [SystemResult],
    answers: &[Vec<serde_json::Value>],
    queries: &[(&str, &str)],
) {
    let reference = results.iter().position(|r| r.system == "prometheus");
    for (i, result) in results.iter_mut().enumerate() {
        result.agreement = queries
            .iter()
            .enumerate()
            .map(|(qi, (name, _))| {
                let Some(r) = reference else {
                    return NO_REFERENCE.into();
                };
                let (Some(want), Some(got)) = (
                    answers.get(r).and_then(|a| a.get(qi)),
                    answers.get(i).and_then(|a| a.get(qi)),
                ) else {
                    return "missing".into();
                };
                // MetricsQL's rate() does not extrapolate to the window edges as PromQL's
                // does, so VictoriaMetrics's rate-based answers are held to 5%, not 1e-6.
                let tol = if result.system == "victoria-metrics" && *name != "max_over_time" {
                    0.05
                } else {
                    1e-6
                };
                // MetricsQL keeps the metric name where PromQL drops it (e.g. max_over_time).
                let got = if result.system == "victoria-metrics" {
                    without_name(got)
                } else {
                    got.clone()
                };
                match compare(&matrix(want), &matrix(&got), tol) {
                    None => SAME.into(),
                    Some(why) => why,
                }
            })
            .collect();
    }
}

fn print_results(
    results: &[SystemResult],
    format: OutputFormat,
    queries: &[(&str, &str)],
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if format == OutputFormat::Json {
        for r in results {
            writeln!(out, "{}", serde_json::to_string(r)?)?;
        }
        return Ok(());
    }
    let reference = results.iter().find(|r| r.system == "prometheus");
    let ratio = |v: f64, f: &dyn Fn(&SystemResult) -> f64| match reference {
        Some(p) if f(p) > 0.0 => format!("{v:.3} ({:.2}×)", v / f(p)),
        _ => format!("{v:.3}"),
    };
    let mut header = format!(
        "{:<18}{:>22}{:>22}{:>20}{:>20}",
        "system", "CPU-s/M samples", "samples/s", "peak RSS MiB", "bytes/sample"
    );
    for (name, _) in queries {
        header.push_str(&format!("{:>24}", format!("{name} ms")));
    }
    writeln!(out, "{header}")?;
    for r in results {
        let mut line = format!(
            "{:<18}{:>22}{:>22}{:>20}{:>20}",
            r.system,
            ratio(r.cpu_s_per_million, &|p| p.cpu_s_per_million),
            ratio(r.samples_per_sec, &|p| p.samples_per_sec),
            ratio(r.peak_rss_mib, &|p| p.peak_rss_mib),
            ratio(r.bytes_per_sample, &|p| p.bytes_per_sample),
        );
        for (qi, ms) in r.query_ms.iter().enumerate() {
            line.push_str(&format!(
                "{:>24}",
                ratio(*ms, &|p| p.query_ms.get(qi).copied().unwrap_or(0.0))
            ));
        }
        writeln!(out, "{line}")?;
    }
    writeln!(out)?;
    for r in results {
        let verdicts: Vec<String> = queries
            .iter()
            .zip(&r.agreement)
            .map(|((n, _), a)| format!("{n}: {a}"))
            .collect();
        writeln!(
            out,
            "{:<18}answers vs prometheus — {}",
            r.system,
            verdicts.join("; ")
        )?;
        if r.write_errors > 0 {
            writeln!(
                out,
                "{:<18}{} remote-write requests failed",
                r.system, r.write_errors
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(v: f64) -> serde_json::Value {
        serde_json::json!({"data": {"result": [{"metric": {"a": "1"}, "values": [[1.5, v.to_string()], [2.5, "NaN"]]}]}})
    }

    #[test]
    fn compare_accepts_equal_and_flags_differences() {
        assert_eq!(
            compare(&matrix(&answer(1.0)), &matrix(&answer(1.0)), 1e-6),
            None
        );
        assert!(compare(&matrix(&answer(1.0)), &matrix(&answer(1.1)), 1e-6).is_some());
        assert_eq!(
            compare(&matrix(&answer(1.0)), &matrix(&answer(1.01)), 0.05),
            None
        );
        let empty = serde_json::json!({"data": {"result": []}});
        assert!(
            compare(&matrix(&empty), &matrix(&empty), 1e-6).is_some(),
            "empty answers prove nothing"
        );
        assert!(compare(&matrix(&answer(1.0)), &matrix(&empty), 1e-6).is_some());
    }
}
