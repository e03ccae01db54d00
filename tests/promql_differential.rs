//! Differential PromQL test: the same data remote-written to a real Prometheus 2.42
//! (Debian's `/usr/bin/prometheus`) and to promlite, then a few hundred queries run
//! through both HTTP APIs; the answers must agree.
//!
//! Data: a deterministic Kubernetes-like set (`bench::dataset::kubernetes_like`:
//! per-pod scrape phases, 1% of scrapes late by a few ms, histogram buckets) plus
//! hand-made edge series (counter resets, a gap longer than the lookback, stale
//! markers, NaN and ±Inf values, a non-monotonic and an incomplete histogram, join
//! partners). Every query in `tests/promql_differential/queries.txt` runs as an
//! instant query at two times and as a range query.
//!
//! Evaluation times avoid window edges: 2.42 includes a sample that sits exactly on
//! the left edge of a range or lookback window, 3.x (our target) leaves it out. Every
//! evaluation time, range, offset and subquery step is chosen so that `t - range`
//! never coincides with a sample (see `docs/promql-differential.md`). Differences that
//! come from documented 2.42 → 3.x changes are listed, with their reason, in
//! `tests/promql_differential/expected_differences.txt`; an entry that starts to agree
//! fails the test, so the list cannot go stale.
//!
//! Agreement: same success or error (and `errorType`), same result type, the same
//! label sets, the same timestamps, and values equal within 1e-6 relative (NaN equals
//! NaN). Order is compared only where PromQL defines it (`sort`, `sort_desc`).
//! Skips with a message when `prometheus` is not on PATH.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use promlite::bench::dataset::{self, Series, SYNTHETIC_START_MS};
use promlite::bench::peers::{self, Kind, Peer};
use promlite::bench::write::{self, Protocol, Workload, WorkloadArgs};

/// Scrape interval of all data, ms. Ranges, offsets, steps and subquery steps in the
/// queries are multiples of it, which keeps window edges off the samples.
const INTERVAL_MS: i64 = 15_000;
/// 20 synthetic pods of 32 series each.
const SERIES: usize = 640;
const DURATION_MS: i64 = 2 * 3_600_000;
const SEED: u64 = 42;
const REL_TOL: f64 = 1e-6;
/// Prometheus rejects a sample more than half a block range (1 h) behind the newest
/// sample it holds, so data is sent in windows of this length, oldest first.
const SEND_WINDOW_MS: i64 = 20 * 60_000;
const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

#[test]
fn promql_answers_match_prometheus_2_42() {
    let prometheus = match peers::find_on_path("prometheus") {
        Ok(p) => p,
        Err(e) => {
            eprintln!("skipping promql_differential: {e}");
            return;
        }
    };
    let mut queries = read_queries();
    let expected = read_expected_differences();
    for q in expected.keys() {
        assert!(
            queries.iter().any(|x| x == q),
            "expected_differences.txt names a query not in queries.txt: {q}"
        );
    }
    // Debugging aids: PROMQL_DIFF_FILTER=<substring> runs only matching queries (and
    // prints answers uncut), PROMQL_DIFF_AT=<ms> adds an instant evaluation there.
    if let Ok(f) = std::env::var("PROMQL_DIFF_FILTER") {
        queries.retain(|q| q.contains(&f));
    }

    let data = build_data();
    let times = EvalTimes::choose(&data);

    let dir = tempfile::tempdir().unwrap();
    let reference = Peer::start_with_binary(
        Kind::Prometheus,
        &prometheus,
        &dir.path().join("prometheus"),
        "100y",
    )
    .unwrap();
    let ours = Peer::start_with_binary(
        Kind::Promlite,
        Path::new(env!("CARGO_BIN_EXE_promlite")),
        &dir.path().join("promlite"),
        "100y",
    )
    .unwrap();
    send_in_time_order(&data, &[&reference, &ours]);

    let agent = peers::agent(Duration::from_secs(120));
    let mut passed = 0usize;
    // Evaluations where Prometheus answered data, not an error or an empty result.
    let mut with_data = 0usize;
    let mut failures = Vec::new();
    let mut expected_seen = std::collections::BTreeSet::<String>::new();
    for raw in &queries {
        let query = times.substitute(raw);
        for request in times.requests() {
            let (want, got) = std::thread::scope(|s| {
                let want = s.spawn(|| run_query(&agent, &reference, &query, &request));
                let got = run_query(&agent, &ours, &query, &request);
                (want.join().unwrap(), got)
            });
            if want.has_data() {
                with_data += 1;
            }
            let diff = compare(&want, &got, ordered(&query));
            let listed = expected.get(raw.as_str());
            match (diff, listed) {
                (None, _) => passed += 1,
                (Some(_), Some(_)) => {
                    expected_seen.insert(raw.clone());
                    passed += 1;
                }
                (Some(why), None) => failures.push(format!(
                    "{query}\n    at {}: {why}\n    prometheus: {}\n    promlite:   {}",
                    request.describe(),
                    want.compact(),
                    got.compact()
                )),
            }
        }
    }
    for (q, reason) in &expected {
        if queries.contains(q) && !expected_seen.contains(q) {
            failures.push(format!(
                "{q}\n    listed as an expected difference ({reason}) but now agrees: remove it"
            ));
        }
    }
    let checks = queries.len() * times.requests().len();
    println!(
        "differential: {passed} passed, {} failed ({} queries × {} evaluations, {with_data} with data, {} expected differences)",
        checks - passed,
        queries.len(),
        times.requests().len(),
        expected.len()
    );
    assert!(
        failures.is_empty(),
        "{} differences from Prometheus 2.42:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------
// Queries and the list of expected differences.

fn testdata(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/promql_differential")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One query per line; blank lines and lines starting with `#` are skipped.
fn read_queries() -> Vec<String> {
    let queries: Vec<String> = testdata("queries.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    let mut seen = std::collections::HashSet::new();
    for q in &queries {
        assert!(seen.insert(q), "duplicate query in queries.txt: {q}");
    }
    queries
}

/// `<query>  # <reason>` per line (split at the last ` # `), query exactly as in
/// `queries.txt`.
fn read_expected_differences() -> BTreeMap<String, String> {
    testdata("expected_differences.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (q, reason) = l
                .rsplit_once(" # ")
                .unwrap_or_else(|| panic!("expected_differences.txt: no ` # reason` in {l}"));
            (q.trim().to_string(), reason.trim().to_string())
        })
        .collect()
}

/// Whether PromQL defines the order of the query's instant-vector result.
fn ordered(query: &str) -> bool {
    query.starts_with("sort(") || query.starts_with("sort_desc(")
}

// ---------------------------------------------------------------------------------
// Data.

fn sorted_labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut l: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
    l.sort();
    l
}

/// The synthetic set plus the hand-made edge series.
fn build_data() -> Vec<Series> {
    let mut data = dataset::kubernetes_like(SERIES, DURATION_MS, INTERVAL_MS, SEED);
    let pods: Vec<(String, String)> = data
        .iter()
        .filter(|(l, _)| l.iter().any(|(k, v)| k == "__name__" && v == "up"))
        .map(|(l, _)| {
            let get = |name: &str| l.iter().find(|(k, _)| k == name).unwrap().1.clone();
            (get("namespace"), get("pod"))
        })
        .collect();
    data.extend(edge_series(&pods));
    data
}

/// Hand-made series for the cases the synthetic set lacks. All are scraped on their
/// own phase (7.321 s past the 15 s grid), 1 in 97 scrapes 11 ms late.
fn edge_series(pods: &[(String, String)]) -> Vec<Series> {
    const N: usize = (DURATION_MS / INTERVAL_MS) as usize;
    let t = |k: usize| {
        let late = if k % 97 == 13 { 11 } else { 0 };
        SYNTHETIC_START_MS + 7_321 + k as i64 * INTERVAL_MS + late
    };
    let stale = f64::from_bits(STALE_NAN);
    let mut out: Vec<Series> = Vec::new();
    let mut push = |labels: &[(&str, &str)], samples: Vec<(i64, f64)>| {
        out.push((sorted_labels(labels), samples));
    };

    // A counter that resets three times (twice in a row) and one that pauses for 12 min.
    let mut c = 100.0;
    let resets: Vec<(i64, f64)> = (0..N)
        .map(|k| {
            c = if [150, 300, 301, 410].contains(&k) {
                (k % 5) as f64
            } else {
                c + 2.5 + (k % 7) as f64 * 0.3
            };
            (t(k), c)
        })
        .collect();
    push(
        &[
            ("__name__", "edge_counter_total"),
            ("job", "edge"),
            ("case", "reset"),
        ],
        resets,
    );
    let gap: Vec<(i64, f64)> = (0..N)
        .filter(|k| !(200..248).contains(k))
        .map(|k| (t(k), 1.25 * k as f64))
        .collect();
    push(
        &[
            ("__name__", "edge_counter_total"),
            ("job", "edge"),
            ("case", "gap"),
        ],
        gap,
    );

    // Gauges: one goes stale and comes back, one goes stale for good, one carries NaN,
    // one ±Inf, one swings around zero through halves, one is scraped every 4 min.
    let wave = |k: usize| 10.0 + ((k % 13) as f64) * 0.7 + (k as f64 * 0.05).sin();
    let mut back = Vec::new();
    for k in 0..N {
        match k {
            240 => back.push((t(k), stale)),
            241..=259 => {}
            _ => back.push((t(k), wave(k))),
        }
    }
    push(
        &[
            ("__name__", "edge_gauge"),
            ("job", "edge"),
            ("case", "stale_back"),
        ],
        back,
    );
    let mut gone: Vec<(i64, f64)> = (0..400).map(|k| (t(k), wave(k) * 2.0)).collect();
    gone.push((t(400), stale));
    push(
        &[
            ("__name__", "edge_gauge"),
            ("job", "edge"),
            ("case", "stale_end"),
        ],
        gone,
    );
    let nan = (0..N)
        .map(|k| (t(k), if k % 11 == 5 { f64::NAN } else { wave(k) + 1.0 }))
        .collect();
    push(
        &[("__name__", "edge_gauge"), ("job", "edge"), ("case", "nan")],
        nan,
    );
    let inf = (0..N)
        .map(|k| {
            let v = match k % 17 {
                3 => f64::INFINITY,
                9 => f64::NEG_INFINITY,
                _ => wave(k) + 2.0,
            };
            (t(k), v)
        })
        .collect();
    push(
        &[("__name__", "edge_gauge"), ("job", "edge"), ("case", "inf")],
        inf,
    );
    let neg = (0..N)
        .map(|k| {
            (
                t(k),
                ((k % 40) as f64 - 20.0) * 0.25 + (k as f64 * 0.013).sin() * 0.01,
            )
        })
        .collect();
    push(
        &[("__name__", "edge_gauge"), ("job", "edge"), ("case", "neg")],
        neg,
    );
    let halves = (0..N)
        .map(|k| (t(k), ((k % 12) as f64 - 6.0) * 0.5))
        .collect();
    push(
        &[
            ("__name__", "edge_gauge"),
            ("job", "edge"),
            ("case", "halves"),
        ],
        halves,
    );
    let sparse = (0..N)
        .filter(|k| k % 16 == 0)
        .map(|k| (t(k), 3.0 + k as f64 * 0.01))
        .collect();
    push(
        &[
            ("__name__", "edge_gauge"),
            ("job", "edge"),
            ("case", "sparse"),
        ],
        sparse,
    );

    // A classic histogram whose 0.5 bucket sometimes lags the 0.25 bucket (Prometheus
    // fixes such non-monotonic buckets), and one without a +Inf bucket.
    let bounds = ["0.1", "0.25", "0.5", "1", "+Inf"];
    for (i, le) in bounds.iter().enumerate() {
        let samples = (0..N)
            .map(|k| {
                let mut v = (k * (i + 1) * 3 + k * k % 7) as f64;
                if i == 2 && k % 9 == 4 {
                    v = (k * 2 * 3 + k * k % 7) as f64 - 1.0;
                }
                (t(k), v)
            })
            .collect();
        push(
            &[
                ("__name__", "edge_hist_bucket"),
                ("job", "edge"),
                ("le", le),
            ],
            samples,
        );
    }
    for (i, le) in ["0.1", "1"].iter().enumerate() {
        let samples = (0..N).map(|k| (t(k), (k * (i + 2)) as f64)).collect();
        push(
            &[
                ("__name__", "edge_noinf_bucket"),
                ("job", "edge"),
                ("le", le),
            ],
            samples,
        );
    }

    // Join partners: one info series per pod, and one with label values to rewrite.
    for (i, (ns, pod)) in pods.iter().enumerate() {
        let node = format!("node-{}", i % 3);
        push(
            &[
                ("__name__", "edge_pod_info"),
                ("job", "edge"),
                ("namespace", ns),
                ("pod", pod),
                ("node", &node),
            ],
            (0..N).map(|k| (t(k), 1.0)).collect(),
        );
    }
    push(
        &[
            ("__name__", "edge_build_info"),
            ("job", "edge"),
            ("version", "v1.22.3-rc.1"),
            ("path", "/api/v1/query_range"),
        ],
        (0..N).map(|k| (t(k), 1.0)).collect(),
    );
    out
}

/// Sends everything to every peer, in windows of [`SEND_WINDOW_MS`], oldest first.
fn send_in_time_order(data: &[Series], peers: &[&Peer]) {
    let (first, last) = time_range(data);
    let args = WorkloadArgs {
        series: 0,
        duration: 0,
        interval: INTERVAL_MS,
        batch_size: 5_000,
        seed: 0,
        protocol: Protocol::V1,
    };
    let mut from = first;
    while from <= last {
        let to = from + SEND_WINDOW_MS;
        let window: Vec<Series> = data
            .iter()
            .map(|(l, s)| {
                let part = s
                    .iter()
                    .filter(|(t, _)| (from..to).contains(t))
                    .copied()
                    .collect();
                (l.clone(), part)
            })
            .filter(|(_, s): &Series| !s.is_empty())
            .collect();
        let workload = Workload::from_series(&window, &args, 1).unwrap();
        for peer in peers {
            let report = write::send(&peer.write_url(), &workload);
            assert_eq!(
                report.errors,
                0,
                "{} rejected data: {:?}",
                peer.kind.name(),
                report.error_examples
            );
        }
        from = to;
    }
}

fn time_range(data: &[Series]) -> (i64, i64) {
    let ts = data.iter().flat_map(|(_, s)| s.iter().map(|(t, _)| *t));
    (ts.clone().min().unwrap(), ts.max().unwrap())
}

// ---------------------------------------------------------------------------------
// Evaluation times.

/// Where queries are evaluated: two instant times and one range, all off the sample
/// grid. `{T}` in a query is replaced by an off-grid `@` time (seconds).
struct EvalTimes {
    instants: [i64; 2],
    range: (i64, i64, i64),
    at: i64,
}

/// One evaluation: an instant query at a time or a range query (ms).
#[derive(Clone)]
enum Request {
    Instant(i64),
    Range { start: i64, end: i64, step: i64 },
}

impl Request {
    fn describe(&self) -> String {
        match self {
            Request::Instant(t) => format!("instant {}", secs(*t)),
            Request::Range { start, end, step } => {
                format!(
                    "range {}..{} step {}",
                    secs(*start),
                    secs(*end),
                    secs(*step)
                )
            }
        }
    }
}

fn secs(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

impl EvalTimes {
    fn choose(data: &[Series]) -> EvalTimes {
        let workload = Workload::from_series(
            data,
            &WorkloadArgs {
                series: 0,
                duration: 0,
                interval: INTERVAL_MS,
                batch_size: 1_000_000,
                seed: 0,
                protocol: Protocol::V1,
            },
            1,
        )
        .unwrap();
        let (first, last) = workload.time_range;
        // Subqueries evaluate at multiples of their step; a step that is a multiple of
        // the interval puts their window edges on remainder 0, so no sample may be there.
        let grid = first - first.rem_euclid(INTERVAL_MS);
        assert_eq!(
            workload.off_grid_time(grid),
            Some(grid),
            "a sample sits on the 15 s grid; change SEED"
        );
        // The evaluation times themselves must not be on the grid either, or a
        // subquery's left edge would fall on one of its own steps.
        let off = |t: i64| {
            let c = workload.off_grid_time(t + 1).unwrap();
            assert_ne!(c.rem_euclid(INTERVAL_MS), 0);
            c
        };
        EvalTimes {
            instants: [off(first + 47 * 60_000), off(last - 4 * 60_000)],
            range: (off(first + 20 * 60_000), off(first + 110 * 60_000), 60_000),
            at: off(first + 75 * 60_000),
        }
    }

    fn requests(&self) -> Vec<Request> {
        let (start, end, step) = self.range;
        let mut r: Vec<Request> = self.instants.iter().map(|&t| Request::Instant(t)).collect();
        if let Some(t) = std::env::var("PROMQL_DIFF_AT")
            .ok()
            .and_then(|t| t.parse().ok())
        {
            r.push(Request::Instant(t));
        }
        r.push(Request::Range {
            start,
            end: start + (end - start) / step * step,
            step,
        });
        r
    }

    fn substitute(&self, query: &str) -> String {
        query.replace("{T}", &secs(self.at))
    }
}

// ---------------------------------------------------------------------------------
// Answers.

type Labels = BTreeMap<String, String>;

/// An HTTP API answer, reduced to what both servers must agree on.
#[derive(Debug)]
enum Answer {
    Error { error_type: String, message: String },
    Scalar(f64, f64),
    String(f64, String),
    Vector(Vec<(Labels, f64, f64)>),
    Matrix(Vec<(Labels, Vec<(f64, f64)>)>),
    Malformed(String),
}

fn run_query(agent: &ureq::Agent, peer: &Peer, query: &str, request: &Request) -> Answer {
    let (path, form) = match request {
        Request::Instant(t) => (
            "query",
            vec![("query", query.to_string()), ("time", secs(*t))],
        ),
        Request::Range { start, end, step } => (
            "query_range",
            vec![
                ("query", query.to_string()),
                ("start", secs(*start)),
                ("end", secs(*end)),
                ("step", secs(*step)),
            ],
        ),
    };
    let url = format!("{}/api/v1/{path}", peer.base_url);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let text = match agent.post(&url).send_form(form) {
        Ok(mut resp) => resp
            .body_mut()
            .with_config()
            .limit(1 << 28)
            .read_to_string()
            .unwrap_or_else(|e| format!("unreadable body: {e}")),
        Err(e) => return Answer::Malformed(format!("transport: {e}")),
    };
    Answer::parse(&text)
}

fn number(v: &serde_json::Value) -> Option<f64> {
    match v.as_str()? {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        s => s.parse().ok(),
    }
}

fn point(p: &serde_json::Value) -> Option<(f64, f64)> {
    Some((p.get(0)?.as_f64()?, number(p.get(1)?)?))
}

fn labels(m: &serde_json::Value) -> Option<Labels> {
    m.as_object()?
        .iter()
        .map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect()
}

impl Answer {
    fn parse(text: &str) -> Answer {
        let Ok(body) = serde_json::from_str::<serde_json::Value>(text) else {
            return Answer::Malformed(text.chars().take(200).collect());
        };
        if body["status"] == "error" {
            return Answer::Error {
                error_type: body["errorType"].as_str().unwrap_or("").to_string(),
                message: body["error"].as_str().unwrap_or("").to_string(),
            };
        }
        let result = &body["data"]["result"];
        let parsed = match body["data"]["resultType"].as_str() {
            Some("scalar") => point(result).map(|(t, v)| Answer::Scalar(t, v)),
            Some("string") => (|| {
                Some(Answer::String(
                    result.get(0)?.as_f64()?,
                    result.get(1)?.as_str()?.to_string(),
                ))
            })(),
            Some("vector") => result.as_array().and_then(|a| {
                a.iter()
                    .map(|s| {
                        let (t, v) = point(&s["value"])?;
                        Some((labels(&s["metric"])?, t, v))
                    })
                    .collect::<Option<Vec<_>>>()
                    .map(Answer::Vector)
            }),
            Some("matrix") => result.as_array().and_then(|a| {
                a.iter()
                    .map(|s| {
                        let points = s["values"]
                            .as_array()?
                            .iter()
                            .map(point)
                            .collect::<Option<Vec<_>>>()?;
                        Some((labels(&s["metric"])?, points))
                    })
                    .collect::<Option<Vec<_>>>()
                    .map(Answer::Matrix)
            }),
            _ => None,
        };
        parsed.unwrap_or_else(|| Answer::Malformed(text.chars().take(200).collect()))
    }

    fn has_data(&self) -> bool {
        match self {
            Answer::Scalar(..) | Answer::String(..) => true,
            Answer::Vector(v) => !v.is_empty(),
            Answer::Matrix(m) => !m.is_empty(),
            Answer::Error { .. } | Answer::Malformed(_) => false,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Answer::Error { .. } => "error",
            Answer::Scalar(..) => "scalar",
            Answer::String(..) => "string",
            Answer::Vector(_) => "vector",
            Answer::Matrix(_) => "matrix",
            Answer::Malformed(_) => "malformed",
        }
    }

    /// A one-line rendering, cut to a readable length.
    fn compact(&self) -> String {
        let mut s = String::new();
        match self {
            Answer::Error {
                error_type,
                message,
            } => {
                let _ = write!(s, "error {error_type}: {message}");
            }
            Answer::Scalar(t, v) => {
                let _ = write!(s, "scalar {v} @{t}");
            }
            Answer::String(t, v) => {
                let _ = write!(s, "string {v:?} @{t}");
            }
            Answer::Vector(v) => {
                let _ = write!(s, "vector({}) ", v.len());
                for (l, _, x) in v {
                    let _ = write!(s, "{}={x} ", render(l));
                }
            }
            Answer::Matrix(m) => {
                let _ = write!(s, "matrix({}) ", m.len());
                for (l, p) in m {
                    let _ = write!(s, "{}=[{} points: ", render(l), p.len());
                    for (t, v) in p.iter().take(3) {
                        let _ = write!(s, "{v}@{t} ");
                    }
                    s.push_str("…] ");
                }
            }
            Answer::Malformed(text) => {
                let _ = write!(s, "malformed: {text}");
            }
        }
        if s.chars().count() > 400 && std::env::var_os("PROMQL_DIFF_FILTER").is_none() {
            s = s.chars().take(400).collect::<String>() + "…";
        }
        s
    }
}

fn render(l: &Labels) -> String {
    let inner: Vec<String> = l.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", inner.join(","))
}

// ---------------------------------------------------------------------------------
// Comparison.

/// Below this, two values count as equal whatever their ratio: sums that cancel to
/// zero leave residues of a few ulps of their terms (2.42's incremental
/// `avg_over_time` gives 4e-17 where a compensated sum gives 0).
const ABS_TOL: f64 = 1e-12;

fn same_value(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan())
        || a == b
        || (a - b).abs() <= REL_TOL * a.abs().max(b.abs())
        || (a - b).abs() <= ABS_TOL
}

fn same_points(want: &[(f64, f64)], got: &[(f64, f64)]) -> Option<String> {
    if want.len() != got.len() {
        let first_t = |a: &[(f64, f64)], b: &[(f64, f64)]| {
            a.iter()
                .find(|p| !b.iter().any(|q| q.0 == p.0))
                .map(|p| p.0)
        };
        return Some(format!(
            "{} points, want {} (first only in prometheus: {:?}, only in promlite: {:?})",
            got.len(),
            want.len(),
            first_t(want, got),
            first_t(got, want)
        ));
    }
    for (&(wt, wv), &(gt, gv)) in want.iter().zip(got) {
        if wt != gt {
            return Some(format!("point at {gt}, want {wt}"));
        }
        if !same_value(wv, gv) {
            return Some(format!("{gv} at {gt}, want {wv}"));
        }
    }
    None
}

/// Why `got` differs from `want`, or `None` when they agree.
fn compare(want: &Answer, got: &Answer, ordered: bool) -> Option<String> {
    match (want, got) {
        (Answer::Malformed(w), _) => Some(format!("prometheus answered malformed: {w}")),
        (Answer::Error { error_type: w, .. }, Answer::Error { error_type: g, .. }) => {
            (w != g).then(|| format!("errorType {g}, want {w}"))
        }
        (Answer::Scalar(wt, wv), Answer::Scalar(gt, gv)) => {
            same_points(&[(*wt, *wv)], &[(*gt, *gv)])
        }
        (Answer::String(wt, wv), Answer::String(gt, gv)) => {
            (wt != gt || wv != gv).then(|| format!("string {gv:?}@{gt}, want {wv:?}@{wt}"))
        }
        (Answer::Vector(w), Answer::Vector(g)) => compare_vectors(w, g, ordered),
        (Answer::Matrix(w), Answer::Matrix(g)) => {
            let mut w: Vec<_> = w.iter().collect();
            let mut g: Vec<_> = g.iter().collect();
            w.sort_by(|a, b| a.0.cmp(&b.0));
            g.sort_by(|a, b| a.0.cmp(&b.0));
            compare_label_sets(w.iter().map(|s| &s.0), g.iter().map(|s| &s.0)).or_else(|| {
                w.iter().zip(&g).find_map(|(ws, gs)| {
                    same_points(&ws.1, &gs.1).map(|why| format!("{}: {why}", render(&ws.0)))
                })
            })
        }
        _ => Some(format!("{} answer, want {}", got.kind(), want.kind())),
    }
}

fn compare_vectors(
    want: &[(Labels, f64, f64)],
    got: &[(Labels, f64, f64)],
    ordered: bool,
) -> Option<String> {
    if ordered {
        // Ties may come in any order, so the order is checked on the values only.
        let wv = want.iter().map(|s| s.2);
        let gv: Vec<f64> = got.iter().map(|s| s.2).collect();
        if wv.len() == gv.len() && !wv.zip(&gv).all(|(a, b)| same_value(a, *b)) {
            return Some("values in a different order".into());
        }
    }
    let mut w: Vec<_> = want.iter().collect();
    let mut g: Vec<_> = got.iter().collect();
    w.sort_by(|a, b| a.0.cmp(&b.0));
    g.sort_by(|a, b| a.0.cmp(&b.0));
    compare_label_sets(w.iter().map(|s| &s.0), g.iter().map(|s| &s.0)).or_else(|| {
        w.iter().zip(&g).find_map(|(ws, gs)| {
            same_points(&[(ws.1, ws.2)], &[(gs.1, gs.2)])
                .map(|why| format!("{}: {why}", render(&ws.0)))
        })
    })
}

fn compare_label_sets<'a>(
    want: impl Iterator<Item = &'a Labels>,
    got: impl Iterator<Item = &'a Labels>,
) -> Option<String> {
    let w: Vec<&Labels> = want.collect();
    let g: Vec<&Labels> = got.collect();
    let missing: Vec<String> = w
        .iter()
        .filter(|l| !g.contains(l))
        .map(|l| render(l))
        .collect();
    let extra: Vec<String> = g
        .iter()
        .filter(|l| !w.contains(l))
        .map(|l| render(l))
        .collect();
    if missing.is_empty() && extra.is_empty() && w.len() == g.len() {
        return None;
    }
    let cut = |v: Vec<String>| v.into_iter().take(3).collect::<Vec<_>>().join(" ");
    Some(format!(
        "{} series, want {}; missing {}; extra {}",
        g.len(),
        w.len(),
        cut(missing),
        cut(extra)
    ))
}

#[test]
fn comparison_flags_differences_and_accepts_equal_answers() {
    let v = |x: f64| {
        Answer::parse(&format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{"a":"1"}},"value":[1.5,"{x}"]}}]}}}}"#
        ))
    };
    assert_eq!(compare(&v(1.0), &v(1.0 + 1e-9), false), None);
    assert!(compare(&v(1.0), &v(1.001), false).is_some());
    assert_eq!(compare(&v(f64::NAN), &v(f64::NAN), false), None);
    assert!(compare(&v(f64::NAN), &v(0.0), false).is_some());
    let err = Answer::parse(r#"{"status":"error","errorType":"bad_data","error":"x"}"#);
    assert!(compare(&err, &v(1.0), false).is_some());
    assert_eq!(compare(&err, &err, false), None);
    let empty = Answer::parse(r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#);
    assert!(compare(&v(1.0), &empty, false).is_some());
    let two = |a: f64, b: f64| {
        Answer::parse(&format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{"a":"1"}},"value":[1,"{a}"]}},{{"metric":{{"a":"2"}},"value":[1,"{b}"]}}]}}}}"#
        ))
    };
    assert!(compare(&two(1.0, 2.0), &two(2.0, 1.0), false).is_some());
    let swapped = Answer::parse(
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"2"},"value":[1,"2"]},{"metric":{"a":"1"},"value":[1,"1"]}]}}"#,
    );
    assert_eq!(compare(&two(1.0, 2.0), &swapped, false), None);
    assert!(compare(&two(1.0, 2.0), &swapped, true).is_some());
}
