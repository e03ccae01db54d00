//! Runs Prometheus's own PromQL test scripts through the engine and compares
//! the failing evals with the committed known-failures list.
//!
//! Scripts come from `$PROMQL_TESTDATA` or `<workspace>/../shared/promql-testdata/`
//! (never copied into the repo); without them the test prints why and passes.
//! Every top-level `*.test` file runs; `v2.42.0/` is not run: its expectations
//! are Prometheus 2.42 semantics (closed ranges, `holt_winters`), kept for the
//! differential test against the Debian 2.42 binary, while we implement 3.x.
//!
//! Environment:
//! - `PROMQLTEST_UPDATE=1` rewrites `tests/promqltest_known_failures.txt` from
//!   this run (keeps nothing stale, lists every failure with its reason);
//! - `PROMQLTEST_FILE=<name>` runs only files whose name contains `<name>`;
//! - `PROMQLTEST_VERBOSE=1` prints every failure, not only unexpected ones.
//!
//! Output goes straight to stdout (not through the test harness's capture) so
//! the per-file counts and the final `promqltest: N passed, N failed` line show
//! in every `cargo test` run.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use promlite_promql::promqltest::known::{category, key, short_reason, KnownFailures};
use promlite_promql::promqltest::{run_script, ScriptReport};

const KNOWN_FAILURES: &str = "tests/promqltest_known_failures.txt";
const WORKERS: usize = 2;

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}

fn testdata_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PROMQL_TESTDATA") {
        return Some(PathBuf::from(dir));
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = manifest
        .parent()?
        .parent()?
        .join("shared")
        .join("promql-testdata");
    Some(dir)
}

fn script_files(dir: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    let filter = std::env::var("PROMQLTEST_FILE").unwrap_or_default();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        if path.is_file() && name.ends_with(".test") && name.contains(filter.as_str()) {
            files.push((name, path));
        }
    }
    files.sort();
    Ok(files)
}

/// Runs the scripts on `WORKERS` threads, biggest first; returns reports by name.
fn run_all(files: &[(String, PathBuf)]) -> BTreeMap<String, Result<ScriptReport, String>> {
    let mut order: Vec<&(String, PathBuf)> = files.iter().collect();
    order.sort_by_key(|(_, p)| {
        std::cmp::Reverse(std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
    });
    let next = AtomicUsize::new(0);
    let results = Mutex::new(BTreeMap::new());
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| {
                while let Some((name, path)) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let report = std::fs::read_to_string(path)
                        .map(|text| run_script(&text))
                        .map_err(|e| format!("cannot read {}: {e}", path.display()));
                    if let Ok(mut r) = results.lock() {
                        r.insert(name.clone(), report);
                    }
                }
            });
        }
    });
    results.into_inner().unwrap_or_default()
}

#[test]
fn prometheus_promql_test_scripts() {
    let Some(dir) = testdata_dir().filter(|d| d.is_dir()) else {
        say("promqltest skipped: PromQL test scripts not found (set PROMQL_TESTDATA or provide ../shared/promql-testdata)");
        return;
    };
    let files = script_files(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    assert!(!files.is_empty(), "no .test files in {}", dir.display());
    let verbose = std::env::var("PROMQLTEST_VERBOSE").is_ok_and(|v| v == "1");
    let reports = run_all(&files);

    let mut failed = BTreeSet::new();
    let mut reasons = BTreeMap::new();
    let mut messages = BTreeMap::new();
    let mut categories: BTreeMap<String, usize> = BTreeMap::new();
    let mut failed_by_tag: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut passed_total, mut failed_total) = (0, 0);
    let (mut core_passed, mut core_total) = (0, 0);
    for (name, report) in &reports {
        let report = report.as_ref().unwrap_or_else(|e| panic!("{e}"));
        let core: Vec<bool> = report
            .outcomes
            .iter()
            .filter(|o| o.features.is_core())
            .map(|o| o.result.is_ok())
            .collect();
        let core_ok = core.iter().filter(|ok| **ok).count();
        core_passed += core_ok;
        core_total += core.len();
        say(&format!(
            "  {name}: {} passed, {} failed (core: {core_ok} of {} pass)",
            report.passed(),
            report.failed(),
            core.len()
        ));
        for note in &report.notes {
            if verbose {
                say(&format!("    note: {note}"));
            }
        }
        passed_total += report.passed();
        failed_total += report.failed();
        for o in &report.outcomes {
            if let Err(msg) = &o.result {
                let k = key(name, o.line);
                failed.insert(k.clone());
                let tags = o.features.tags();
                for t in &tags {
                    *failed_by_tag.entry(*t).or_default() += 1;
                }
                let scope = if tags.is_empty() {
                    "core".to_string()
                } else {
                    tags.join(",")
                };
                reasons.insert(k.clone(), format!("[{scope}] {}", short_reason(msg, 110)));
                messages.insert(k, format!("[{scope}] {}\n      {msg}", o.expr));
                *categories.entry(category(msg)).or_default() += 1;
            }
        }
    }
    say(&format!(
        "  core evals (no native histograms or feature-gated extras): {core_passed} passed, {} failed",
        core_total - core_passed
    ));
    let by_tag: Vec<String> = failed_by_tag
        .iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    say(&format!(
        "  failed evals by feature (an eval may count under several): {}",
        by_tag.join(", ")
    ));
    let ran: BTreeSet<String> = reports.keys().cloned().collect();
    let list_path = Path::new(env!("CARGO_MANIFEST_DIR")).join(KNOWN_FAILURES);

    if verbose {
        let mut ordered: Vec<(&String, &String)> = messages.iter().collect();
        ordered.sort_by_key(|(k, _)| {
            let (file, line) = k.rsplit_once(':').unwrap_or((k.as_str(), "0"));
            (file.to_string(), line.parse::<usize>().unwrap_or(0))
        });
        for (k, m) in ordered {
            say(&format!("  FAIL {k}: {m}"));
        }
        let mut by_count: Vec<(&String, &usize)> = categories.iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (c, n) in by_count.iter().take(30) {
            say(&format!("  {n:5}  {c}"));
        }
    }

    if std::env::var("PROMQLTEST_UPDATE").is_ok_and(|v| v == "1") {
        // Entries of files that did not run this time are kept as they were.
        let mut list = std::fs::read_to_string(&list_path)
            .ok()
            .and_then(|t| KnownFailures::parse(&t).ok())
            .unwrap_or_default();
        list.entries
            .retain(|k, _| !ran.iter().any(|f| k.starts_with(&format!("{f}:"))));
        list.entries.extend(reasons);
        std::fs::write(&list_path, list.render())
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", list_path.display()));
        say(&format!("  rewrote {}", list_path.display()));
        say(&format!(
            "promqltest: {passed_total} passed, {failed_total} failed"
        ));
        return;
    }

    let list_text = std::fs::read_to_string(&list_path).unwrap_or_default();
    let list =
        KnownFailures::parse(&list_text).unwrap_or_else(|e| panic!("{}: {e}", list_path.display()));
    let drift = list.drift(&failed, &ran);
    for k in &drift.new_failures {
        let m = messages.get(k).map_or("", String::as_str);
        say(&format!("  NEW FAILURE {k}: {m}"));
    }
    for k in &drift.stale {
        say(&format!(
            "  STALE known failure {k} now passes: remove it from {KNOWN_FAILURES}"
        ));
    }
    say(&format!(
        "promqltest: {passed_total} passed, {failed_total} failed"
    ));
    assert!(
        drift.is_clean(),
        "{} unlisted failure(s), {} stale known-failure entr(y/ies); see above (PROMQLTEST_UPDATE=1 rewrites the list)",
        drift.new_failures.len(),
        drift.stale.len()
    );
}
