//! Checks a query's outcome against an eval's expectations: float tolerance,
//! result shape and labels, series order, errors and annotations.
//!
//! Floats follow Prometheus's `util/almost.Equal` with epsilon 1e-6: the
//! staleness marker equals only itself, NaN equals NaN, otherwise the relative
//! difference `|a-b| / (|a|+|b|)` must be below epsilon, and when either side
//! is 0 (or the sum is subnormal) the absolute difference must be below
//! epsilon times the smallest normal float, i.e. practically exact. Result
//! comparison mirrors upstream's `compareResult`: every returned series must be
//! expected and every expected series returned; range results must be sorted
//! by labels; with `expect ordered`, vector positions must match.

use super::expect::{EvalCmd, ExpectedResult, ExpectedSeries, TextMatch};
use super::series::SeqValue;
use crate::{is_stale_nan, Labels, Sample, Series, Value};

/// Relative tolerance used for every float comparison.
pub const EPSILON: f64 = 1e-6;

/// Whether two sample values are equal within [`EPSILON`] (see module docs).
pub fn almost_equal(a: f64, b: f64) -> bool {
    if is_stale_nan(a) || is_stale_nan(b) {
        return is_stale_nan(a) && is_stale_nan(b);
    }
    crate::functions::math::almost_equal(a, b, EPSILON)
}

/// Compares a successful query result with the expectation of `cmd`.
pub(crate) fn compare_result(cmd: &EvalCmd, value: &Value) -> Result<(), String> {
    match value {
        Value::Matrix(m) => compare_matrix(cmd, m),
        Value::Vector(v) => compare_vector(cmd, v),
        Value::Scalar { f, .. } => compare_scalar(cmd, *f),
        Value::String { s, .. } => {
            let want = cmd.expected_string.as_deref().unwrap_or("");
            if s == want {
                Ok(())
            } else {
                Err(format!("expected string {want:?} but got {s:?}"))
            }
        }
    }
}

/// Compares a scalar result.
pub(crate) fn compare_scalar(cmd: &EvalCmd, got: f64) -> Result<(), String> {
    match &cmd.expected {
        ExpectedResult::Scalar(want) if almost_equal(*want, got) => Ok(()),
        ExpectedResult::Scalar(want) => Err(format!("expected scalar {want} but got {got}")),
        ExpectedResult::Series(_) => Err(format!(
            "expected vector or matrix result, but got scalar {got}"
        )),
    }
}

fn expected_series(cmd: &EvalCmd) -> Result<&[ExpectedSeries], String> {
    match &cmd.expected {
        ExpectedResult::Series(s) => Ok(s),
        ExpectedResult::Scalar(want) => Err(format!(
            "expected scalar {want}, but got a vector or matrix"
        )),
    }
}

fn find<'a>(expected: &'a [ExpectedSeries], labels: &Labels) -> Option<&'a ExpectedSeries> {
    expected.iter().find(|e| &e.labels == labels)
}

/// Checks that a matrix is sorted by label set, as every range result must be.
pub(crate) fn check_sorted(m: &[Series]) -> Result<(), String> {
    for w in m.windows(2) {
        if let [a, b] = w {
            if a.metric > b.metric {
                return Err(format!(
                    "matrix results must be sorted by labels, but {} comes before {}",
                    a.metric, b.metric
                ));
            }
        }
    }
    Ok(())
}

fn compare_matrix(cmd: &EvalCmd, m: &[Series]) -> Result<(), String> {
    if cmd.ordered {
        return Err("expected ordered result, but query returned a matrix".into());
    }
    let expected = expected_series(cmd)?;
    check_sorted(m)?;
    let (start, end, step) = cmd.steps();
    // A plain instant eval has no steps to list, so a matrix result can only
    // match series that expect no values (upstream behaves the same way).
    let plain_instant = cmd.instant_time().is_some() && cmd.range_vector.is_none();
    for s in m {
        let exp = find(expected, &s.metric).ok_or_else(|| {
            format!(
                "unexpected series {} in result, has {}",
                s.metric,
                points(&s.floats)
            )
        })?;
        let mut want = Vec::new();
        for (i, v) in exp.values.iter().enumerate() {
            let t = start.saturating_add(step.saturating_mul(i as i64));
            if t > end || plain_instant {
                return Err(format!(
                    "expected {} points for {}, but the query range cannot return this many",
                    exp.values.len(),
                    s.metric
                ));
            }
            match v {
                SeqValue::Float(f) => want.push((t, *f)),
                SeqValue::Omitted => {}
                SeqValue::Histogram(_) => {
                    return Err(format!(
                        "expected a native histogram at t={t} for {}, but the engine has no native histograms",
                        s.metric
                    ))
                }
            }
        }
        if want.len() != s.floats.len() {
            return Err(format!(
                "expected {} float points for {}, but got {}",
                want.len(),
                s.metric,
                points(&s.floats)
            ));
        }
        for ((wt, wf), got) in want.iter().zip(&s.floats) {
            if *wt != got.t {
                return Err(format!(
                    "expected a point at t={wt} for {}, but got t={} (result has {})",
                    s.metric,
                    got.t,
                    points(&s.floats)
                ));
            }
            if !almost_equal(*wf, got.f) {
                return Err(format!(
                    "expected {wf} at t={wt} for {}, but got {} (result has {})",
                    s.metric,
                    got.f,
                    points(&s.floats)
                ));
            }
        }
    }
    missing(expected, |l| m.iter().any(|s| &s.metric == l))
}

/// Compares an instant vector result.
pub(crate) fn compare_vector(cmd: &EvalCmd, v: &[Sample]) -> Result<(), String> {
    let expected = expected_series(cmd)?;
    for (i, s) in v.iter().enumerate() {
        let exp = find(expected, &s.metric).ok_or_else(|| {
            format!(
                "unexpected series {} in result, has value {}",
                s.metric, s.f
            )
        })?;
        if cmd.ordered && exp.pos != i + 1 {
            return Err(format!(
                "expected {} at position {} but it was at {}",
                s.metric,
                exp.pos,
                i + 1
            ));
        }
        let want = match exp.values.first() {
            Some(SeqValue::Float(f)) => *f,
            // Upstream reads an omitted value as 0.
            Some(SeqValue::Omitted) | None => 0.0,
            Some(SeqValue::Histogram(_)) => {
                return Err(format!(
                    "expected a native histogram for {}, but got float {} (the engine has no native histograms)",
                    s.metric, s.f
                ))
            }
        };
        if !almost_equal(want, s.f) {
            return Err(format!("expected {want} for {} but got {}", s.metric, s.f));
        }
    }
    missing(expected, |l| v.iter().any(|s| &s.metric == l))
}

fn missing(expected: &[ExpectedSeries], present: impl Fn(&Labels) -> bool) -> Result<(), String> {
    match expected.iter().find(|e| !present(&e.labels)) {
        Some(e) => Err(format!("expected series {} not found in result", e.labels)),
        None => Ok(()),
    }
}

fn points(p: &[crate::FPoint]) -> String {
    const SHOWN: usize = 12;
    let mut s: Vec<String> = p
        .iter()
        .take(SHOWN)
        .map(|p| format!("{} @{}", p.f, p.t))
        .collect();
    if p.len() > SHOWN {
        s.push(format!("... {} more", p.len() - SHOWN));
    }
    format!("{} points [{}]", p.len(), s.join(", "))
}

/// Checks a query error against `expect fail` conditions.
pub(crate) fn check_failure(cmd: &EvalCmd, err: &str) -> Result<(), String> {
    match cmd.fail_matches.iter().find(|m| !m.matches(err)) {
        Some(m) => Err(format!("expected error matching {m}, but got: {err}")),
        None => Ok(()),
    }
}

/// Checks annotations of one kind (`kind` is "warn" or "info") against the
/// eval's expectations; `got` are the annotation texts as the HTTP API shows them.
pub(crate) fn check_annotations(
    kind: &str,
    exp: &super::expect::AnnotationExpect,
    got: &[String],
) -> Result<(), String> {
    if exp.required && got.is_empty() {
        return Err(format!("expected {kind} annotations but got none"));
    }
    if exp.forbidden && !got.is_empty() {
        return Err(format!("unexpected {kind} annotations: {got:?}"));
    }
    if exp.lines.is_empty() {
        return Ok(());
    }
    if got.is_empty() {
        return Err(format!("expected {kind} annotations but none were found"));
    }
    if let Some(m) = exp.lines.iter().find(|m| !got.iter().any(|g| m.matches(g))) {
        return Err(format!(
            "expected {kind} annotation matching {m}, but found only {got:?}"
        ));
    }
    if let Some(g) = got
        .iter()
        .find(|g| !exp.lines.iter().any(|m: &TextMatch| m.matches(g)))
    {
        return Err(format!("unexpected {kind} annotation {g:?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::expect::{parse_body_line, parse_eval_header};
    use super::*;
    use crate::{FPoint, STALE_NAN_BITS};

    #[test]
    fn tolerance_rules() {
        let stale = f64::from_bits(STALE_NAN_BITS);
        assert!(almost_equal(1.0, 1.0 + 1e-9));
        assert!(!almost_equal(1.0, 1.0 + 1e-5));
        assert!(almost_equal(f64::NAN, f64::NAN));
        assert!(!almost_equal(f64::NAN, stale));
        assert!(almost_equal(stale, stale));
        assert!(!almost_equal(0.0, 1e-300));
        assert!(almost_equal(0.0, -0.0));
        assert!(almost_equal(f64::INFINITY, f64::INFINITY));
        assert!(!almost_equal(f64::INFINITY, f64::NEG_INFINITY));
        assert!(almost_equal(f64::MAX, f64::MAX * (1.0 - 1e-9)));
    }

    fn cmd(lines: &[&str]) -> EvalCmd {
        let mut c = parse_eval_header(lines[0], 1).unwrap_or_else(|e| panic!("{e}"));
        for l in &lines[1..] {
            parse_body_line(&mut c, l).unwrap_or_else(|e| panic!("{e}"));
        }
        c
    }

    fn lbl(v: &str) -> Labels {
        Labels::from_pairs([("a", v)])
    }

    #[test]
    fn vector_membership_and_order() {
        let c = cmd(&[
            "eval instant at 0 x",
            "expect ordered",
            "{a=\"1\"} 1",
            "{a=\"2\"} 2",
        ]);
        let good = vec![
            Sample {
                metric: lbl("1"),
                t: 0,
                f: 1.0,
            },
            Sample {
                metric: lbl("2"),
                t: 0,
                f: 2.0,
            },
        ];
        assert_eq!(compare_vector(&c, &good), Ok(()));
        let swapped: Vec<Sample> = good.iter().rev().cloned().collect();
        assert!(compare_vector(&c, &swapped).is_err());
        assert!(compare_vector(&c, &good[..1]).is_err());
        let wrong = vec![
            good[0].clone(),
            Sample {
                f: 2.1,
                ..good[1].clone()
            },
        ];
        assert!(compare_vector(&c, &wrong).is_err());
    }

    #[test]
    fn matrix_steps_and_gaps() {
        let c = cmd(&["eval range from 0 to 2m step 1m x", "{a=\"1\"} 1 _ 3"]);
        let s = |pts: &[(i64, f64)]| {
            vec![Series {
                metric: lbl("1"),
                floats: pts.iter().map(|&(t, f)| FPoint { t, f }).collect(),
            }]
        };
        assert_eq!(
            compare_result(&c, &Value::Matrix(s(&[(0, 1.0), (120_000, 3.0)]))),
            Ok(())
        );
        assert!(compare_result(&c, &Value::Matrix(s(&[(0, 1.0), (60_000, 3.0)]))).is_err());
        assert!(compare_result(&c, &Value::Matrix(s(&[(0, 1.0)]))).is_err());
        assert!(compare_result(&c, &Value::Scalar { t: 0, f: 1.0 }).is_err());
        let unsorted = vec![
            Series {
                metric: lbl("2"),
                floats: crate::Points::new(),
            },
            Series {
                metric: lbl("1"),
                floats: crate::Points::new(),
            },
        ];
        assert!(check_sorted(&unsorted).is_err());
    }

    #[test]
    fn failures_and_annotations() {
        let c = cmd(&[
            "eval instant at 0 x",
            "expect fail msg: boom",
            "expect warn regex: ^bad",
            "expect warn msg: worse",
        ]);
        assert_eq!(check_failure(&c, "boom"), Ok(()));
        assert!(check_failure(&c, "bang").is_err());
        let ok = vec!["bad thing".to_string(), "worse".to_string()];
        assert_eq!(check_annotations("warn", &c.warn, &ok), Ok(()));
        assert!(check_annotations("warn", &c.warn, &ok[..1]).is_err());
        let extra = vec!["bad".to_string(), "worse".to_string(), "other".to_string()];
        assert!(check_annotations("warn", &c.warn, &extra).is_err());
        assert_eq!(check_annotations("info", &c.info, &extra), Ok(()));
    }
}
