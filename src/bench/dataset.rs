//! Datasets for the benchmarks: a deterministic synthetic Kubernetes-like mix
//! and loaders for real data (NAB CSV folders, Prometheus query API JSON).
//!
//! A series is `(labels, samples)`: label pairs sorted by name, samples
//! `(t_ms, value)` with strictly increasing timestamps. Loaders apply the rule
//! promlite's ingest applies to one series: a sample whose timestamp is not
//! after the previous one is dropped (a duplicate or out-of-order sample is
//! rejected), order is otherwise kept. The generator is seeded: the same
//! arguments give the same bytes on every machine (its own SplitMix64, no
//! dependence on a random crate's algorithm).

use crate::civil::days_from_civil;
use anyhow::{bail, Context};
use std::path::Path;

/// Label pairs sorted by name.
pub type Labels = Vec<(String, String)>;

/// One series: label pairs sorted by name, and `(t_ms, value)` samples.
pub type Series = (Labels, Vec<(i64, f64)>);

/// Start of every synthetic series: 2023-11-14T22:13:20Z, in ms.
pub const SYNTHETIC_START_MS: i64 = 1_700_000_000_000;

/// The synthetic set the figures in `docs/compression.md` use:
/// `series` series over `duration_ms` at `interval_ms` scrapes.
///
/// Series come in groups of [`SERIES_PER_TARGET`] per scraped pod: `up`, Go
/// process metrics, request counters by code/method, a request-duration
/// histogram (11 buckets, `_sum`, `_count`), cAdvisor CPU and memory, and
/// kube-state-metrics phase gauges. Precision follows the exporters: CPU in
/// ns (cAdvisor) or 10 ms (Go process collector), memory in 4 KiB pages,
/// durations as full-precision floats in `_sum`. Scrapes are on a per-pod
/// phase; 1% of them are late by 3–25 ms (beyond Prometheus's 2 ms timestamp
/// alignment), and 5% of pods go away early, ending with a stale marker.
pub fn kubernetes_like(
    series: usize,
    duration_ms: i64,
    interval_ms: i64,
    seed: u64,
) -> Vec<Series> {
    KubernetesLike {
        series,
        duration_ms,
        interval_ms,
        seed,
    }
    .iter()
    .collect()
}

/// The data of the PromQL engine bench (`promql/benches/support/workload.rs`)
/// as series to remote-write, for timing its queries over HTTP: `series`
/// counters `m{x, i}` (`x` = `i` mod 10), `series` gauges `g{i}` and
/// `series / 10` histograms `h_bucket{i, le}` of 10 buckets, a sample every
/// `interval_ms` over `duration_ms`. Unlike the bench, each series has its own
/// phase in the interval, so samples never sit on a query's step grid (where
/// Prometheus 2.42's left-closed windows would disagree with 3.x's).
pub fn engine_bench(series: usize, duration_ms: i64, interval_ms: i64, seed: u64) -> Vec<Series> {
    const BUCKETS: [&str; 10] = [
        "0.005", "0.01", "0.05", "0.1", "0.5", "1", "5", "10", "50", "+Inf",
    ];
    let interval = interval_ms.max(1);
    let n = (duration_ms / interval).max(1);
    let labels = |pairs: &[(&str, String)]| -> Labels {
        let mut l: Labels = pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect();
        l.sort();
        l
    };
    let mut out = Vec::with_capacity(series * 3);
    for i in 0..series {
        let mut rng = SplitMix64::for_stream(seed, i as u64);
        let mut phase_ts = || {
            let phase = rng.below(interval as u64) as i64;
            (0..n).map(move |k| SYNTHETIC_START_MS + phase + k * interval)
        };
        let (m_ts, g_ts): (Vec<i64>, Vec<i64>) = (phase_ts().collect(), phase_ts().collect());
        // The buckets of one histogram come from one scrape: one phase.
        let h_phase = SplitMix64::for_stream(seed ^ 0x4b1d, (i / BUCKETS.len()) as u64)
            .below(interval as u64) as i64;
        let h_ts = (0..n).map(|k| SYNTHETIC_START_MS + h_phase + k * interval);
        let mut counter = 0.0;
        let m = m_ts
            .into_iter()
            .map(|t| {
                counter += rng.unit() * 10.0;
                (t, counter)
            })
            .collect();
        let g = g_ts.into_iter().map(|t| (t, rng.unit() * 100.0)).collect();
        out.push((
            labels(&[
                ("__name__", "m".into()),
                ("x", (i % 10).to_string()),
                ("i", i.to_string()),
            ]),
            m,
        ));
        out.push((labels(&[("__name__", "g".into()), ("i", i.to_string())]), g));
        // Series `i` is bucket `i % 10` of histogram `i / 10`: a cumulative
        // count growing by its bucket's share each scrape.
        let share = (i % BUCKETS.len() + 1) as f64;
        let h = h_ts
            .zip(1..)
            .map(|(t, k)| (t, share * f64::from(k)))
            .collect();
        out.push((
            labels(&[
                ("__name__", "h_bucket".into()),
                ("i", (i / BUCKETS.len()).to_string()),
                ("le", BUCKETS[i % BUCKETS.len()].to_string()),
            ]),
            h,
        ));
    }
    out
}

/// Series each synthetic pod exposes.
pub const SERIES_PER_TARGET: usize = 32;

/// Streaming form of [`kubernetes_like`]: generates one pod at a time.
#[derive(Debug, Clone, Copy)]
pub struct KubernetesLike {
    /// Number of series to produce.
    pub series: usize,
    /// Time span of every series, ms.
    pub duration_ms: i64,
    /// Scrape interval, ms (> 0).
    pub interval_ms: i64,
    /// Seed; each pod derives its own stream from it.
    pub seed: u64,
}

impl KubernetesLike {
    /// The series, pod by pod (at most `SERIES_PER_TARGET` in memory at once).
    pub fn iter(&self) -> impl Iterator<Item = Series> + '_ {
        let targets = self.series.div_ceil(SERIES_PER_TARGET);
        (0..targets)
            .flat_map(move |t| self.target(t))
            .take(self.series)
    }

    /// All series of pod number `target`.
    pub fn target(&self, target: usize) -> Vec<Series> {
        let mut rng = SplitMix64::for_stream(self.seed, target as u64);
        let interval = self.interval_ms.max(1);
        let phase = rng.below(interval as u64) as i64;
        let n = (self.duration_ms / interval).max(1) as usize;
        // 5% of pods are deleted partway through and end with a stale marker.
        let ends_early = rng.chance(0.05);
        let live = if ends_early {
            n / 4 + rng.below((n / 2).max(1) as u64) as usize
        } else {
            n
        };
        let ts: Vec<i64> = (0..live)
            .map(|k| {
                let on_grid = SYNTHETIC_START_MS + phase + k as i64 * interval;
                if rng.chance(0.01) {
                    on_grid + 3 + rng.below(23) as i64
                } else {
                    on_grid
                }
            })
            .collect();
        let ns = format!("team-{}", target % 17);
        let pod = format!("api-{:05x}-{}", target, target % 3);
        let base = |name: &str| -> Vec<(String, String)> {
            vec![
                ("__name__".into(), name.into()),
                (
                    "instance".into(),
                    format!(
                        "10.{}.{}.{}:8080",
                        target / 65536 % 256,
                        target / 256 % 256,
                        target % 256
                    ),
                ),
                ("job".into(), "kubernetes-pods".into()),
                ("namespace".into(), ns.clone()),
                ("pod".into(), pod.clone()),
            ]
        };
        let with = |name: &str, extra: &[(&str, &str)]| {
            let mut l = base(name);
            l.extend(
                extra
                    .iter()
                    .map(|(k, v)| ((*k).to_string(), (*v).to_string())),
            );
            l.sort();
            l
        };

        let mut out: Vec<(Labels, Vec<f64>)> = Vec::with_capacity(SERIES_PER_TARGET);
        out.push((with("up", &[]), vec![1.0; live]));

        // Go process collector: CPU in 10 ms ticks, RSS in pages, goroutines.
        let cpu_rate = 0.002 + rng.unit() * 0.3;
        let mut cpu_ticks = rng.below(100_000) as f64;
        let cpu: Vec<f64> = (0..live)
            .map(|_| {
                cpu_ticks += (cpu_rate * interval as f64 / 10.0 * (0.5 + rng.unit())).round();
                cpu_ticks / 100.0
            })
            .collect();
        out.push((with("process_cpu_seconds_total", &[]), cpu));
        let mut pages = 5_000 + rng.below(50_000) as i64;
        let rss: Vec<f64> = (0..live)
            .map(|_| {
                if rng.chance(0.3) {
                    pages += rng.below(41) as i64 - 20;
                }
                (pages.max(1) * 4096) as f64
            })
            .collect();
        out.push((with("process_resident_memory_bytes", &[]), rss));
        let mut goroutines = 20 + rng.below(200) as i64;
        let gr: Vec<f64> = (0..live)
            .map(|_| {
                if rng.chance(0.2) {
                    goroutines = (goroutines + rng.below(7) as i64 - 3).max(5);
                }
                goroutines as f64
            })
            .collect();
        out.push((with("go_goroutines", &[]), gr));
        let mut heap = 8e6 + rng.unit() * 5e7;
        let alloc: Vec<f64> = (0..live)
            .map(|_| {
                heap = if rng.chance(0.1) {
                    heap * 0.4
                } else {
                    heap + rng.unit() * 2e6
                };
                heap.round()
            })
            .collect();
        out.push((with("go_memstats_alloc_bytes", &[]), alloc));

        // Request counters by code and method; rates from busy to rare.
        let rps = rng.unit() * 50.0;
        let mut requests_all = vec![0.0; live];
        for (code, method, share) in [
            ("200", "GET", 0.8),
            ("200", "POST", 0.15),
            ("404", "GET", 0.04),
            ("500", "GET", 0.002),
        ] {
            let mut c = rng.below(1_000) as f64;
            let vals: Vec<f64> = (0..live)
                .map(|k| {
                    let inc = rng.poisson(rps * share * interval as f64 / 1000.0);
                    if let Some(all) = requests_all.get_mut(k) {
                        *all += inc;
                    }
                    c += inc;
                    c
                })
                .collect();
            out.push((
                with("http_requests_total", &[("code", code), ("method", method)]),
                vals,
            ));
        }

        // Request-duration histogram fed by the same requests.
        const LE: [&str; 11] = [
            "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
        ];
        const BOUNDS: [f64; 11] = [
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ];
        let latency = 0.01 + rng.unit() * 0.2;
        let mut buckets = vec![vec![0.0; live]; LE.len() + 1];
        let mut sum = vec![0.0; live];
        let (mut cum, mut total) = (vec![0.0f64; LE.len() + 1], 0.0f64);
        for k in 0..live {
            let reqs = requests_all.get(k).copied().unwrap_or(0.0) as usize;
            for _ in 0..reqs.min(2_000) {
                let d = latency * -rng.unit_open().ln();
                total += d;
                let first = BOUNDS.iter().position(|&b| d <= b).unwrap_or(BOUNDS.len());
                for c in cum.iter_mut().skip(first) {
                    *c += 1.0;
                }
            }
            for (b, c) in buckets.iter_mut().zip(&cum) {
                if let Some(slot) = b.get_mut(k) {
                    *slot = *c;
                }
            }
            if let Some(s) = sum.get_mut(k) {
                *s = total;
            }
        }
        let count = buckets.pop().unwrap_or_default();
        for (le, b) in LE.iter().zip(buckets) {
            out.push((
                with("http_request_duration_seconds_bucket", &[("le", le)]),
                b,
            ));
        }
        out.push((
            with("http_request_duration_seconds_bucket", &[("le", "+Inf")]),
            count.clone(),
        ));
        out.push((with("http_request_duration_seconds_sum", &[]), sum));
        out.push((with("http_request_duration_seconds_count", &[]), count));

        // cAdvisor: CPU in ns, working set in pages changing most scrapes.
        let mut cpu_ns = rng.below(1 << 40) as f64;
        let ccpu: Vec<f64> = (0..live)
            .map(|_| {
                cpu_ns += (cpu_rate * interval as f64 * 1e6 * (0.5 + rng.unit())).round();
                cpu_ns / 1e9
            })
            .collect();
        out.push((
            with("container_cpu_usage_seconds_total", &[("container", "api")]),
            ccpu,
        ));
        let mut ws = pages + rng.below(10_000) as i64;
        let wss: Vec<f64> = (0..live)
            .map(|_| {
                if rng.chance(0.7) {
                    ws = (ws + rng.below(201) as i64 - 100).max(1);
                }
                (ws * 4096) as f64
            })
            .collect();
        out.push((
            with(
                "container_memory_working_set_bytes",
                &[("container", "api")],
            ),
            wss,
        ));

        // kube-state-metrics: one phase is 1, the others 0; restarts rarely move.
        for phase in ["Failed", "Pending", "Running", "Succeeded", "Unknown"] {
            let v = if phase == "Running" { 1.0 } else { 0.0 };
            out.push((
                with("kube_pod_status_phase", &[("phase", phase)]),
                vec![v; live],
            ));
        }
        let mut restarts = 0.0;
        let rs: Vec<f64> = (0..live)
            .map(|_| {
                if rng.chance(0.0005) {
                    restarts += 1.0;
                }
                restarts
            })
            .collect();
        out.push((
            with(
                "kube_pod_container_status_restarts_total",
                &[("container", "api")],
            ),
            rs,
        ));
        let mut fds = 10 + rng.below(100) as i64;
        let fd: Vec<f64> = (0..live)
            .map(|_| {
                if rng.chance(0.1) {
                    fds = (fds + rng.below(5) as i64 - 2).max(3);
                }
                fds as f64
            })
            .collect();
        out.push((with("process_open_fds", &[]), fd));

        debug_assert_eq!(out.len(), SERIES_PER_TARGET);
        out.into_iter()
            .map(|(labels, vals)| {
                let mut samples: Vec<(i64, f64)> = ts.iter().copied().zip(vals).collect();
                if ends_early {
                    let stale_at = ts.last().copied().unwrap_or(SYNTHETIC_START_MS) + interval;
                    samples.push((stale_at, f64::from_bits(STALE_NAN)));
                }
                (labels, samples)
            })
            .collect()
    }
}

/// Prometheus's stale marker.
const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

/// SplitMix64: tiny, fast, and fixed forever, so datasets never change.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    /// Independent stream `stream` of `seed`. The state is the *output* of one step,
    /// not `seed ^ stream·γ`: SplitMix64 advances its state by γ, so states that
    /// differ by a multiple of γ would replay each other's values one step apart.
    fn for_stream(seed: u64, stream: u64) -> Self {
        let mut s = SplitMix64(seed ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        SplitMix64(s.next())
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in (0, 1].
    fn unit_open(&mut self) -> f64 {
        1.0 - self.unit()
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Poisson-distributed count (Knuth for small means, normal approximation above 30).
    fn poisson(&mut self, mean: f64) -> f64 {
        if mean > 30.0 {
            let (u1, u2) = (self.unit_open(), self.unit());
            let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            return (mean + z * mean.sqrt()).round().max(0.0);
        }
        let limit = (-mean).exp();
        let (mut k, mut p) = (0.0, 1.0);
        loop {
            p *= self.unit();
            if p <= limit {
                return k;
            }
            k += 1.0;
        }
    }
}

/// Loads every `*.csv` under `dir` (recursively, sorted by path) as one series
/// per file, in the NAB layout: header `timestamp,value`, timestamps
/// `YYYY-MM-DD HH:MM:SS` in UTC. Labels: `__name__="nab"`, `category` (the
/// parent folder) and `file` (the file stem).
pub fn load_nab(dir: &Path) -> anyhow::Result<Vec<Series>> {
    let mut files = Vec::new();
    collect_csv(dir, &mut files)?;
    files.sort();
    if files.is_empty() {
        bail!("no .csv files under {}", dir.display());
    }
    files.iter().map(|f| load_nab_file(f)).collect()
}

fn collect_csv(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect_csv(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "csv") {
            out.push(path);
        }
    }
    Ok(())
}

fn load_nab_file(path: &Path) -> anyhow::Result<Series> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut samples = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (ts, v) = line
            .split_once(',')
            .with_context(|| format!("{}:{}: expected timestamp,value", path.display(), i + 1))?;
        let t = parse_utc_datetime_ms(ts)
            .with_context(|| format!("{}:{}: bad timestamp {ts:?}", path.display(), i + 1))?;
        let v: f64 = v
            .trim()
            .parse()
            .with_context(|| format!("{}:{}: bad value {v:?}", path.display(), i + 1))?;
        samples.push((t, v));
    }
    let category = path
        .parent()
        .and_then(|p| p.file_name())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let labels = vec![
        ("__name__".to_string(), "nab".to_string()),
        ("category".to_string(), category),
        ("file".to_string(), file),
    ];
    Ok((labels, drop_rejected(samples)))
}

/// Keeps samples as ingest would accept them into one series: each timestamp
/// must be after the last accepted one (duplicates and steps back are dropped).
pub fn drop_rejected(samples: Vec<(i64, f64)>) -> Vec<(i64, f64)> {
    let mut last = i64::MIN;
    let mut first = true;
    samples
        .into_iter()
        .filter(|&(t, _)| {
            let keep = first || t > last;
            if keep {
                last = t;
                first = false;
            }
            keep
        })
        .collect()
}

/// Parses `YYYY-MM-DD HH:MM:SS` (UTC) into ms since the epoch.
fn parse_utc_datetime_ms(s: &str) -> anyhow::Result<i64> {
    let s = s.trim();
    let (date, time) = s.split_once([' ', 'T']).context("missing time")?;
    let mut d = date.split('-').map(str::parse::<i64>);
    let mut t = time.split(':').map(str::parse::<i64>);
    let (Some(Ok(y)), Some(Ok(mo)), Some(Ok(day)), None) = (d.next(), d.next(), d.next(), d.next())
    else {
        bail!("bad date");
    };
    let (Some(Ok(h)), Some(Ok(mi)), Some(Ok(sec)), None) = (t.next(), t.next(), t.next(), t.next())
    else {
        bail!("bad time");
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&day) || h > 23 || mi > 59 || sec > 60 {
        bail!("field out of range");
    }
    Ok((days_from_civil(y, mo, day) * 86_400 + h * 3600 + mi * 60 + sec) * 1000)
}

/// Loads a Prometheus query API response holding a matrix (`/api/v1/query`
/// with a range selector, as `tsdb/testdata/make_node_exporter_dataset.py`
/// writes it): one series per result, values parsed from their strings.
pub fn load_prometheus_json(path: &Path) -> anyhow::Result<Vec<Series>> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let doc: serde_json::Value =
        serde_json::from_slice(&text).with_context(|| format!("parsing {}", path.display()))?;
    let results = doc
        .pointer("/data/result")
        .and_then(|r| r.as_array())
        .context("expected a query API response with data.result")?;
    let mut out = Vec::with_capacity(results.len());
    for r in results {
        let mut labels: Vec<(String, String)> = r
            .get("metric")
            .and_then(|m| m.as_object())
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        labels.sort();
        let mut samples = Vec::new();
        for pair in r
            .get("values")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            let (Some(t), Some(v)) = (
                pair.get(0).and_then(|t| t.as_f64()),
                pair.get(1).and_then(|v| v.as_str()),
            ) else {
                bail!("bad sample {pair}");
            };
            let v = match v {
                "NaN" => f64::NAN,
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                other => other
                    .parse()
                    .with_context(|| format!("bad value {other:?}"))?,
            };
            samples.push(((t * 1000.0).round() as i64, v));
        }
        out.push((labels, drop_rejected(samples)));
    }
    Ok(out)
}

/// Loads `path`: a `.json` query API response, or a folder of NAB-style CSVs.
pub fn load(path: &Path) -> anyhow::Result<Vec<Series>> {
    if path.is_dir() {
        load_nab(path)
    } else {
        load_prometheus_json(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_bench_has_the_bench_metrics_off_a_common_grid() {
        let data = engine_bench(20, 3_600_000, 60_000, 1);
        let named = |n: &str| {
            data.iter()
                .filter(|(l, _)| l.iter().any(|(k, v)| k == "__name__" && v == n))
                .count()
        };
        assert_eq!((named("m"), named("g"), named("h_bucket")), (20, 20, 20));
        for (labels, samples) in &data {
            assert!(labels.windows(2).all(|w| w[0].0 < w[1].0), "{labels:?}");
            assert_eq!(samples.len(), 60);
            assert!(samples.windows(2).all(|w| w[1].0 - w[0].0 == 60_000));
        }
        let phases: std::collections::HashSet<i64> =
            data.iter().map(|(_, s)| s[0].0 % 60_000).collect();
        assert!(phases.len() > 10, "series have their own phases");
        // The buckets of histogram 0 share their scrapes and are cumulative.
        let h0: Vec<&Vec<(i64, f64)>> = data
            .iter()
            .filter(|(l, _)| l.contains(&("i".into(), "0".into())) && l[0].1 == "h_bucket")
            .map(|(_, s)| s)
            .collect();
        assert_eq!(h0.len(), 10);
        assert!(h0
            .windows(2)
            .all(|w| w[0][5].0 == w[1][5].0 && w[0][5].1 < w[1][5].1));
    }

    #[test]
    fn pods_draw_independent_values() {
        let gen = KubernetesLike {
            series: 0,
            duration_ms: 3_600_000,
            interval_ms: 15_000,
            seed: 42,
        };
        let rss = |t: usize| -> Vec<f64> {
            let pod = gen.target(t);
            let s = pod
                .iter()
                .find(|(l, _)| l.iter().any(|(_, v)| v == "process_resident_memory_bytes"));
            s.map(|(_, samples)| samples.iter().map(|p| p.1).collect())
                .unwrap_or_default()
        };
        for t in 0..12 {
            let (a, b) = (rss(t), rss(t + 1));
            let n = a.len().min(b.len());
            assert!(n > 2);
            // Neither the same values nor the same values one scrape apart.
            assert_ne!(a[..n], b[..n], "pods {t} and {}", t + 1);
            assert_ne!(a[1..n], b[..n - 1], "pods {t} and {}", t + 1);
            assert_ne!(a[..n - 1], b[1..n], "pods {t} and {}", t + 1);
        }
    }

    #[test]
    fn generator_is_deterministic_and_well_formed() {
        let a = kubernetes_like(100, 3_600_000, 15_000, 7);
        let b = kubernetes_like(100, 3_600_000, 15_000, 7);
        assert_eq!(a.len(), 100);
        let bits = |s: &[Series]| -> Vec<(i64, u64)> {
            s.iter()
                .flat_map(|x| x.1.iter().map(|&(t, v)| (t, v.to_bits())))
                .collect()
        };
        assert_eq!(bits(&a), bits(&b));
        assert_ne!(bits(&a), bits(&kubernetes_like(100, 3_600_000, 15_000, 8)));
        for (labels, samples) in &a {
            assert!(labels.windows(2).all(|w| w[0].0 < w[1].0), "{labels:?}");
            assert!(samples.windows(2).all(|w| w[0].0 < w[1].0));
            assert!(!samples.is_empty());
        }
        // Label sets are unique.
        let mut sets: Vec<_> = a.iter().map(|s| &s.0).collect();
        sets.sort();
        sets.dedup();
        assert_eq!(sets.len(), 100);
    }

    #[test]
    fn histogram_buckets_are_cumulative() {
        let pod = KubernetesLike {
            series: 31,
            duration_ms: 600_000,
            interval_ms: 15_000,
            seed: 1,
        }
        .target(0);
        let buckets: Vec<&Series> = pod
            .iter()
            .filter(|s| s.0.iter().any(|l| l.0 == "le"))
            .collect();
        assert_eq!(buckets.len(), 12);
        for k in 0..buckets[0].1.len() {
            let col: Vec<f64> = buckets.iter().map(|b| b.1[k].1).collect();
            assert!(col.windows(2).all(|w| w[0] <= w[1]), "{col:?}");
        }
    }

    #[test]
    fn loaders_drop_duplicates_and_steps_back() {
        let kept = drop_rejected(vec![(1, 1.0), (2, 2.0), (2, 3.0), (1, 4.0), (5, 5.0)]);
        assert_eq!(kept, vec![(1, 1.0), (2, 2.0), (5, 5.0)]);
        assert_eq!(parse_utc_datetime_ms("1970-01-01 00:00:01").unwrap(), 1000);
        assert_eq!(
            parse_utc_datetime_ms("2014-02-14 14:30:00").unwrap(),
            1_392_388_200_000
        );
        assert!(parse_utc_datetime_ms("2014-13-14 14:30:00").is_err());

        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("realX");
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join("a.csv"), "timestamp,value\n2014-01-01 00:00:00,1.5\n2014-01-01 00:05:00,2\n2014-01-01 00:05:00,3\n").unwrap();
        let s = load(dir.path()).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].1.len(), 2);
        assert!(s[0]
            .0
            .contains(&("category".to_string(), "realX".to_string())));

        let json = dir.path().join("m.json");
        std::fs::write(&json, r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"x","__name__":"up"},"values":[[1.5,"1"],[2.5,"NaN"]]}]}}"#).unwrap();
        let s = load(&json).unwrap();
        assert_eq!(s[0].1[0], (1500, 1.0));
        assert!(s[0].1[1].1.is_nan());
        assert_eq!(s[0].0[0].0, "__name__");
    }

    #[test]
    fn nab_folder_loads_when_present() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/nab");
        let Ok(series) = load_nab(&dir) else {
            eprintln!("skipping: no NAB data at {}", dir.display());
            return;
        };
        assert_eq!(series.len(), 48);
        let points: usize = series.iter().map(|s| s.1.len()).sum();
        // README: 206,927 points, of which 39 are duplicates and one a step back.
        assert!(points < 206_927 && points > 206_927 - 100, "{points}");
    }
}
