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

#[path = "promql_differential/answer.rs"]
mod answer;
#[path = "promql_differential/data.rs"]
mod data;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use promlite::bench::dataset::Series;
use promlite::bench::peers::{self, Kind, Peer};
use promlite::bench::write::{DataSet, Protocol, Workload, WorkloadArgs};

use answer::{compare, Answer};
use data::INTERVAL_MS;

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

    let data = data::build_data();
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
    data::send_in_time_order(&data, &[&reference, &ours]);

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
    // Straight to stdout, not through the test harness capture: the summary shows
    // even when the test passes.
    let _ = writeln!(
        std::io::stdout(),
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
// Evaluation times.

/// Where queries are evaluated: instant times and ranges, all off the sample grid. `{T}` in a query is replaced by an off-grid `@` time (seconds).
struct EvalTimes {
    /// Instant-query times, ms.
    instants: Vec<i64>,
    /// Range queries as (start, length, step), ms; length and step are multiples of
    /// the scrape interval.
    ranges: Vec<(i64, i64, i64)>,
    /// The time `{T}` stands for, ms.
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
                data: DataSet::Kubernetes,
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
            // Mid-data twice, near the end, and after the end (only lookback reaches
            // the last samples). Nothing before 45 minutes into the data: where a
            // `rate` window holds a busy counter's first sample, 2.42 and 3.x
            // legitimately differ (prometheus#13725, see docs/promql-differential.md),
            // and the queries reach back up to 45 minutes (30 m subquery, 10 m
            // offset, 5 m range).
            instants: vec![
                off(first + 47 * 60_000),
                off(first + 80 * 60_000),
                off(last - 4 * 60_000),
                off(last + 3 * 60_000),
            ],
            // Mid-data at a 1 m step and at an odd multiple of the interval, and
            // across the end of the data at the interval.
            ranges: vec![
                (off(first + 50 * 60_000), 60 * 60_000, 60_000),
                (off(first + 46 * 60_000), 70 * 60_000, 7 * INTERVAL_MS),
                (off(last - 10 * 60_000), 18 * 60_000, INTERVAL_MS),
            ],
            at: off(first + 75 * 60_000),
        }
    }

    fn requests(&self) -> Vec<Request> {
        let mut r: Vec<Request> = self.instants.iter().map(|&t| Request::Instant(t)).collect();
        if let Some(t) = std::env::var("PROMQL_DIFF_AT")
            .ok()
            .and_then(|t| t.parse().ok())
        {
            r.push(Request::Instant(t));
        }
        r.extend(
            self.ranges
                .iter()
                .map(|&(start, length, step)| Request::Range {
                    start,
                    end: start + length,
                    step,
                }),
        );
        r
    }

    fn substitute(&self, query: &str) -> String {
        query.replace("{T}", &secs(self.at))
    }
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
