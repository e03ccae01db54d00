//! Executes a parsed script against the engine and records one outcome per
//! eval.
//!
//! The engine runs with the settings upstream's test engine uses: 5m lookback,
//! at most 10,000 samples per query, 1m default subquery step, experimental
//! functions on. Each eval runs under `catch_unwind`, so an engine panic fails
//! that eval only. Instant evals also get the range-mode and step-invariance
//! checks of the `checks` module; the first failing query decides the message.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use super::checks::{step_invariance_variants, uses_query_context};
use super::compare::{
    check_annotations, check_failure, check_sorted, compare_result, compare_scalar, compare_vector,
};
use super::expect::{EvalCmd, EvalTime};
use super::features::{classify, Features, Scope};
use super::load::load;
use super::script::{parse_script, Command};
use crate::{Engine, EngineOptions, MemStorage, QueryError, QueryResult, Sample, Value};

/// The result of one eval (or of a block that failed to parse).
#[derive(Clone, Debug)]
pub struct EvalOutcome {
    /// 1-based line of the eval (or of the malformed block).
    pub line: usize,
    /// The query text (empty for a malformed block).
    pub expr: String,
    /// `Ok` when every check passed; otherwise why not.
    pub result: Result<(), String>,
    /// The optional features the eval depends on (default for a malformed block).
    pub features: Features,
}

/// Everything one script produced.
#[derive(Clone, Debug, Default)]
pub struct ScriptReport {
    /// One outcome per eval, in file order.
    pub outcomes: Vec<EvalOutcome>,
    /// Things the runner could not do (skipped histogram samples, ...).
    pub notes: Vec<String>,
}

impl ScriptReport {
    /// Number of evals that passed.
    pub fn passed(&self) -> usize {
        self.outcomes.iter().filter(|o| o.result.is_ok()).count()
    }

    /// Number of evals that failed.
    pub fn failed(&self) -> usize {
        self.outcomes.len() - self.passed()
    }
}

/// The engine settings upstream's script runner uses.
pub fn test_engine() -> Engine {
    Engine::new(EngineOptions {
        lookback_delta: Duration::from_secs(300),
        max_samples: 10_000,
        timeout: Duration::from_secs(60),
        default_subquery_step: Duration::from_secs(60),
        enable_experimental_functions: true,
    })
}

/// Parses and runs a whole script on a fresh storage.
pub fn run_script(text: &str) -> ScriptReport {
    let engine = test_engine();
    let mut storage = MemStorage::new();
    let mut report = ScriptReport::default();
    let mut scope = Scope::default();
    for cmd in parse_script(text) {
        match cmd {
            Command::Clear => {
                storage.clear();
                scope = Scope::default();
            }
            Command::Load(l) => {
                scope.add_load(&l);
                let notes = load(&mut storage, &l);
                if !notes.is_empty() {
                    report.notes.push(format!("line {}: {notes}", l.line));
                }
            }
            Command::Invalid { line, message } => report.outcomes.push(EvalOutcome {
                line,
                expr: String::new(),
                result: Err(format!("cannot parse block: {message}")),
                features: Features::default(),
            }),
            Command::Eval(e) => {
                let result = catch_unwind(AssertUnwindSafe(|| run_eval(&engine, &storage, &e)))
                    .unwrap_or_else(|p| Err(format!("engine panicked: {}", panic_text(&p))));
                report.outcomes.push(EvalOutcome {
                    line: e.line,
                    expr: e.expr.clone(),
                    result,
                    features: classify(&e, &scope),
                });
            }
        }
    }
    report
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "non-string panic".into())
}

fn run_eval(engine: &Engine, storage: &MemStorage, cmd: &EvalCmd) -> Result<(), String> {
    match (&cmd.time, cmd.instant_time()) {
        (
            EvalTime::Range {
                start_ms,
                end_ms,
                step_ms,
            },
            _,
        ) => {
            let res = engine.range_query(storage, &cmd.expr, *start_ms, *end_ms, *step_ms);
            check_outcome(cmd, res).map(|_| ())
        }
        (EvalTime::Instant { .. }, Some(t)) => run_instant(engine, storage, cmd, t),
        (EvalTime::Instant { .. }, None) => Err("instant eval without a time".into()),
    }
}

/// Checks error expectations, annotations and the value; returns the value
/// when the query succeeded as expected (`None` when it failed as expected).
fn check_outcome(
    cmd: &EvalCmd,
    res: Result<QueryResult, QueryError>,
) -> Result<Option<Value>, String> {
    let r = match res {
        Err(e) if cmd.fail => return check_failure(cmd, &e.to_string()).map(|()| None),
        Err(e) => return Err(format!("unexpected error: {e}")),
        Ok(_) if cmd.fail => return Err("expected the query to fail, but it succeeded".into()),
        Ok(r) => r,
    };
    check_annotations("warn", &cmd.warn, &r.warnings)?;
    check_annotations("info", &cmd.info, &r.infos)?;
    compare_result(cmd, &r.value)?;
    Ok(Some(r.value))
}

fn run_instant(engine: &Engine, storage: &MemStorage, cmd: &EvalCmd, t: i64) -> Result<(), String> {
    run_instant_at(engine, storage, cmd, &cmd.expr, t)?;
    if let Some((pinned, times)) = step_invariance_variants(&cmd.expr, t) {
        for at in times {
            run_instant_at(engine, storage, cmd, &pinned, at)
                .map_err(|e| format!("step invariance: `{pinned}` at {at}ms: {e}"))?;
        }
    }
    Ok(())
}

fn run_instant_at(
    engine: &Engine,
    storage: &MemStorage,
    cmd: &EvalCmd,
    expr: &str,
    t: i64,
) -> Result<(), String> {
    let Some(value) = check_outcome(cmd, engine.instant_query(storage, expr, t))? else {
        return Ok(());
    };
    if !cmd.range_mode_applies() || uses_query_context(expr) {
        return Ok(());
    }
    let ranged = engine
        .range_query(
            storage,
            expr,
            t.saturating_sub(60_000),
            t.saturating_add(60_000),
            60_000,
        )
        .map_err(|e| format!("range mode: unexpected error: {e}"))?;
    if cmd.ordered {
        // Range results are sorted by labels, so an expected order cannot hold.
        return Ok(());
    }
    let Value::Matrix(m) = ranged.value else {
        return Err("range mode: the range query did not return a matrix".into());
    };
    check_sorted(&m).map_err(|e| format!("range mode: {e}"))?;
    let at_t: Vec<Sample> = m
        .iter()
        .filter_map(|s| {
            s.floats.iter().find(|p| p.t == t).map(|p| Sample {
                metric: s.metric.clone(),
                t,
                f: p.f,
            })
        })
        .collect();
    let checked = if matches!(value, Value::Scalar { .. }) {
        match at_t.first() {
            Some(s) => compare_scalar(cmd, s.f),
            None => Err("no point at the eval time".into()),
        }
    } else {
        compare_vector(cmd, &at_t)
    };
    checked.map_err(|e| format!("range mode: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passing_and_failing_evals_are_told_apart() {
        let script = "\
load 1m
  m{a=\"x\"} 0+1x10

eval instant at 5m m
  m{a=\"x\"} 5

eval instant at 5m m
  m{a=\"x\"} 6

eval instant at 5m m
  m{a=\"y\"} 5

eval range from 0 to 2m step 1m m
  m{a=\"x\"} 0 1 2

eval instant at 0 1 +
  expect fail

eval instant at 0 2
  3
";
        let r = run_script(script);
        let got: Vec<(usize, bool)> = r
            .outcomes
            .iter()
            .map(|o| (o.line, o.result.is_ok()))
            .collect();
        assert_eq!(
            got,
            vec![
                (4, true),
                (7, false),
                (10, false),
                (13, true),
                (16, true),
                (19, false)
            ],
            "{r:?}"
        );
        assert_eq!((r.passed(), r.failed()), (3, 3));
    }
}
