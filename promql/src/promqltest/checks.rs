//! The two extra checks upstream's runner performs on every `eval instant`.
//!
//! *Range mode:* the same query as a range query from `t-1m` to `t+1m` step
//! 1m must produce, at `t`, what the instant query produced. Skipped when the
//! text calls `start()`, `end()`, `range()` or `step()`, which resolve
//! differently in a range query.
//!
//! *Step invariance:* every vector selector, matrix selector and subquery
//! without `@` gets `@ t`; the rewritten query must then give the same result
//! at other evaluation times. Selectors inside a subquery are left alone (the
//! subquery's `@` already pins them), and queries calling a function whose
//! value depends on the evaluation time itself (upstream's
//! `AtModifierUnsafeFunctions` plus the query-context functions) are skipped.
//! The rewrite parses with the engine's parser (which resolves duration
//! expressions to literals) and prints with the `promql-parser` crate's
//! printer; a query that does not parse skips this check (the main eval still
//! runs and reports the error).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use promql_parser::parser::{AtModifier, Expr};

/// Functions whose value changes with the evaluation time even when their
/// arguments are pinned with `@`.
const TIME_DEPENDENT_FUNCTIONS: &[&str] = &[
    "days_in_month",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "hour",
    "minute",
    "month",
    "year",
    "predict_linear",
    "time",
    "timestamp",
    "start",
    "end",
    "range",
    "step",
];

/// Whether the query text contains `start()`, `end()`, `range()` or `step()`
/// (a plain substring test, as upstream's regex does).
pub(crate) fn uses_query_context(expr: &str) -> bool {
    ["start()", "end()", "range()", "step()"]
        .iter()
        .any(|f| expr.contains(f))
}

/// The step-invariance variants of an instant eval at `t_ms`: the rewritten
/// query text and the times to run it at. `None` when the check does not apply.
pub(crate) fn step_invariance_variants(expr: &str, t_ms: i64) -> Option<(String, Vec<i64>)> {
    // The engine's parser resolves duration expressions to literals; the ones
    // that depend on the query (`step()`, `range()`, any case) are excluded.
    if uses_query_context(&expr.to_ascii_lowercase()) {
        return None;
    }
    let mut rewritten = crate::parse(expr).ok()?;
    let at = at_time(t_ms)?;
    if !pin(&mut rewritten, &at) {
        return None;
    }
    let times = if t_ms == 0 {
        vec![-1000, 0, 1000]
    } else {
        vec![
            t_ms.checked_mul(-10)?,
            0,
            t_ms / 5,
            t_ms,
            t_ms.checked_mul(10)?,
        ]
    };
    Some((rewritten.to_string(), times))
}

fn at_time(t_ms: i64) -> Option<AtModifier> {
    // The crate prints times before the epoch as 0, so only pin non-negative times.
    let ms = u64::try_from(t_ms).ok()?;
    UNIX_EPOCH
        .checked_add(Duration::from_millis(ms))
        .map(|t: SystemTime| AtModifier::At(t))
}

/// Sets `@` on every unpinned selector outside subqueries; returns false when
/// the query calls a time-dependent function (the check must be skipped).
fn pin(e: &mut Expr, at: &AtModifier) -> bool {
    match e {
        Expr::VectorSelector(vs) => {
            vs.at.get_or_insert_with(|| at.clone());
            true
        }
        Expr::MatrixSelector(ms) => {
            ms.vs.at.get_or_insert_with(|| at.clone());
            true
        }
        Expr::Subquery(sq) => {
            // The subquery's own `@` pins everything inside it.
            sq.at.get_or_insert_with(|| at.clone());
            true
        }
        Expr::Aggregate(a) => {
            pin(&mut a.expr, at) && a.param.as_deref_mut().is_none_or(|p| pin(p, at))
        }
        Expr::Unary(u) => pin(&mut u.expr, at),
        Expr::Binary(b) => pin(&mut b.lhs, at) && pin(&mut b.rhs, at),
        Expr::Paren(p) => pin(&mut p.expr, at),
        Expr::Call(c) => {
            !TIME_DEPENDENT_FUNCTIONS.contains(&c.func.name)
                && c.args.args.iter_mut().all(|a| pin(a, at))
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_context_detection() {
        assert!(uses_query_context("foo[step()]"));
        assert!(uses_query_context("x @ start()"));
        assert!(!uses_query_context("sum(x)"));
    }

    #[test]
    fn pins_selectors_but_not_inside_subqueries() {
        let (q, times) =
            step_invariance_variants("sum(rate(x[5m])) + y + max_over_time(z[10m:1m])", 60_000)
                .unwrap_or_else(|| panic!("no variants"));
        assert!(q.contains("x[5m] @ 60.000"), "{q}");
        assert!(q.contains("y @ 60.000"), "{q}");
        assert!(q.contains("z[10m:1m] @ 60.000"), "{q}");
        assert!(!q.contains("z @"), "{q}");
        assert_eq!(times, vec![-600_000, 0, 12_000, 60_000, 600_000]);
    }

    #[test]
    fn keeps_existing_at_and_skips_time_functions() {
        let (q, times) =
            step_invariance_variants("x @ 100", 0).unwrap_or_else(|| panic!("no variants"));
        assert!(q.contains("@ 100.000"), "{q}");
        assert_eq!(times, vec![-1000, 0, 1000]);
        assert!(step_invariance_variants("time() + x", 60_000).is_none());
        assert!(step_invariance_variants("timestamp(x)", 60_000).is_none());
        assert!(step_invariance_variants("(((", 60_000).is_none());
        assert!(step_invariance_variants("x[step()]", 60_000).is_none());
        let (q, _) = step_invariance_variants("rate(x[1m+1m])", 60_000)
            .unwrap_or_else(|| panic!("no variants"));
        assert!(q.contains("@ 60.000"), "{q}");
    }
}
