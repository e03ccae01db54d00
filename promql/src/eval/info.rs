//! `info(v, selector?)` (experimental): adds the data labels of matching info
//! series (default `target_info`) to each series of `v`.
//!
//! An info series matches a base series when their identifying labels
//! (`instance`, `job`) are equal, at the time the base sample was read: the
//! same `@`/`offset` shift is applied to the info lookup, so a pinned or
//! shifted base series is enriched with the info current at its own time.
//! With data-label matchers in the selector only those labels are added and
//! an info series must satisfy them; otherwise every label of the info series
//! except `__name__` and the identifying ones is added. Labels already on the
//! base series win. Among info series of one metric name the one with the
//! newest sample wins. Base series with no match are kept unchanged when all
//! data matchers accept an empty value, and dropped at that step otherwise.
//! Base series that are themselves selected info metrics pass through.

use std::collections::HashMap;

use promql_parser::parser::Expr;

use super::selectors::selector_matchers;
use super::{duration_ms, offset_ms, Evaluator, Grid, StepSeries, Val};
use crate::error::QueryError;
use crate::info_selector::INFO_SELECTOR_LABEL;
use crate::points::Points;
use crate::storage::{MatchOp, Matcher};
use crate::value::{is_stale_nan, FPoint, Labels, METRIC_NAME};

/// The labels that tie an info series to the series it describes.
const IDENTIFYING: [&str; 2] = ["instance", "job"];

/// One info series at every step: its labels and, per step, the timestamp of
/// the sample found by lookback (None where absent or stale).
struct InfoSeries {
    labels: Labels,
    sample_t: Vec<Option<i64>>,
}

impl Evaluator<'_> {
    /// Evaluates `info(base, selector?)`.
    pub(crate) fn eval_info(&mut self, args: &[Box<Expr>], grid: Grid) -> Result<Val, QueryError> {
        let base_expr = args
            .first()
            .ok_or_else(|| QueryError::bad_data("info() needs an argument"))?;
        let (name_matchers, data_matchers) = match args.get(1).map(|a| &**a) {
            Some(Expr::VectorSelector(vs)) => {
                let (all, _) = selector_matchers(vs)?;
                all.into_iter()
                    .filter(|m| m.name != INFO_SELECTOR_LABEL)
                    .partition::<Vec<_>, _>(|m| m.name == METRIC_NAME)
            }
            Some(_) => {
                return Err(QueryError::bad_data(
                    "info() expects a label selector as second argument",
                ))
            }
            None => (Vec::new(), Vec::new()),
        };
        let name_matchers = if name_matchers.is_empty() {
            vec![Matcher::new(MatchOp::Equal, METRIC_NAME, "target_info")
                .map_err(|e| QueryError::bad_data(e.to_string()))?]
        } else {
            name_matchers
        };
        let base = self.eval_vector(base_expr, grid)?;
        let refs: Vec<i64> = grid
            .times()
            .map(|t| reference_time(self, base_expr, t))
            .collect();
        let infos = self.select_info_series(&name_matchers, &data_matchers, &refs)?;
        let empty_ok = data_matchers.iter().all(Matcher::matches_empty);
        let has_positive_name = name_matchers
            .iter()
            .any(|m| matches!(m.op, MatchOp::Equal | MatchOp::Regex));

        let mut by_identity: HashMap<(String, String), Vec<usize>> = HashMap::new();
        for (i, s) in infos.iter().enumerate() {
            by_identity.entry(identity(&s.labels)).or_default().push(i);
        }
        let mut out: Vec<StepSeries> = Vec::new();
        for b in base {
            self.check_interrupt()?;
            let is_info =
                has_positive_name && name_matchers.iter().all(|m| m.matches_labels(&b.metric));
            let candidates = by_identity.get(&identity(&b.metric));
            if is_info || (candidates.is_none() && empty_ok) {
                out.push(b);
                continue;
            }
            let mut cur = grid.cursor();
            let mut by_labels: HashMap<Labels, usize> = HashMap::new();
            for p in &b.points {
                let step = cur.index(p.t);
                let extra = enrichment(
                    &infos,
                    candidates.map_or(&[][..], Vec::as_slice),
                    step,
                    &data_matchers,
                )?;
                let metric = match extra {
                    Some(extra) => add_missing(&b.metric, &extra),
                    None if empty_ok => b.metric.clone(),
                    None => continue,
                };
                let slot = *by_labels.entry(metric.clone()).or_insert_with(|| {
                    out.push(StepSeries {
                        metric,
                        drop_name: b.drop_name,
                        points: Points::new(),
                    });
                    out.len() - 1
                });
                if let Some(o) = out.get_mut(slot) {
                    o.points.to_mut().push(*p);
                }
            }
        }
        Ok(Val::Vector(super::merge_same_labels(out)?))
    }

    /// Reads the selected info series at each reference time.
    fn select_info_series(
        &mut self,
        name_matchers: &[Matcher],
        data_matchers: &[Matcher],
        refs: &[i64],
    ) -> Result<Vec<InfoSeries>, QueryError> {
        let lookback = duration_ms(self.opts.lookback_delta).max(1);
        let (Some(&min_ref), Some(&max_ref)) = (refs.iter().min(), refs.iter().max()) else {
            return Ok(Vec::new());
        };
        let mut matchers = name_matchers.to_vec();
        // Only negative name matchers (`__name__!="target_info"`) narrow down
        // the info metrics, which are named `*_info`.
        if !matchers
            .iter()
            .any(|m| matches!(m.op, MatchOp::Equal | MatchOp::Regex))
        {
            matchers.push(
                Matcher::new(MatchOp::Regex, METRIC_NAME, ".+_info")
                    .map_err(|e| QueryError::bad_data(e.to_string()))?,
            );
        }
        let selected =
            self.storage
                .select(&matchers, min_ref.saturating_sub(lookback) + 1, max_ref)?;
        let mut out = Vec::new();
        let mut buf = Vec::new();
        for s in &selected {
            if !data_matchers.iter().all(|m| m.matches_labels(s.labels())) {
                continue;
            }
            buf.clear();
            s.read_floats(&mut buf)?;
            self.stats.samples_loaded += buf.len() as u64;
            let sample_t = refs
                .iter()
                .map(|&r| {
                    let idx = buf.partition_point(|p| p.t <= r);
                    let p: &FPoint = buf.get(idx.checked_sub(1)?)?;
                    (p.t > r - lookback && !is_stale_nan(p.f)).then_some(p.t)
                })
                .collect();
            out.push(InfoSeries {
                labels: s.labels().clone(),
                sample_t,
            });
        }
        Ok(out)
    }
}

/// The identifying label values of a series (absent labels as "").
fn identity(l: &Labels) -> (String, String) {
    let [a, b] = IDENTIFYING;
    (
        l.get(a).unwrap_or("").to_string(),
        l.get(b).unwrap_or("").to_string(),
    )
}

/// The labels the matching info series contribute at `step`, or `None` when no
/// info series is present then. Per metric name the newest sample wins; two
/// metrics giving one label different values is an error.
fn enrichment(
    infos: &[InfoSeries],
    candidates: &[usize],
    step: usize,
    data: &[Matcher],
) -> Result<Option<Vec<(String, String)>>, QueryError> {
    let mut newest: HashMap<&str, (i64, &Labels)> = HashMap::new();
    for &i in candidates {
        let Some(s) = infos.get(i) else { continue };
        let Some(t) = s.sample_t.get(step).copied().flatten() else {
            continue;
        };
        let name = s.labels.metric_name().unwrap_or("");
        if newest.get(name).is_none_or(|(best, _)| t > *best) {
            newest.insert(name, (t, &s.labels));
        }
    }
    if newest.is_empty() {
        return Ok(None);
    }
    let mut extra: Vec<(String, String)> = Vec::new();
    for (_, labels) in newest.values() {
        for l in labels.iter() {
            let name = &*l.name;
            let wanted = if data.is_empty() {
                name != METRIC_NAME && !IDENTIFYING.contains(&name)
            } else {
                data.iter().any(|m| m.name == name)
            };
            if !wanted {
                continue;
            }
            match extra.iter().find(|(n, _)| n == name) {
                Some((_, v)) if v.as_str() != &*l.value => {
                    return Err(QueryError::execution(format!(
                        "conflicting label {name:?} values {v:?} and {:?} from different info metrics",
                        &*l.value
                    )));
                }
                Some(_) => {}
                None => extra.push((name.to_string(), l.value.to_string())),
            }
        }
    }
    Ok(Some(extra))
}

/// `base` plus those of `extra` whose names it lacks.
fn add_missing(base: &Labels, extra: &[(String, String)]) -> Labels {
    let mut out = base.clone();
    for (n, v) in extra {
        if !base.has(n) {
            out = out.with(n, v);
        }
    }
    out
}

/// The time a base expression reads its samples at for step `t`: `@` and
/// `offset` of its selector or subquery, followed into subqueries.
fn reference_time(ev: &Evaluator<'_>, e: &Expr, t: i64) -> i64 {
    match e {
        Expr::VectorSelector(vs) => ev
            .resolve_at(&vs.at)
            .unwrap_or(t)
            .saturating_sub(offset_ms(&vs.offset)),
        Expr::MatrixSelector(ms) => ev
            .resolve_at(&ms.vs.at)
            .unwrap_or(t)
            .saturating_sub(offset_ms(&ms.vs.offset)),
        Expr::Subquery(sq) => {
            let inner_t = ev
                .resolve_at(&sq.at)
                .unwrap_or(t)
                .saturating_sub(offset_ms(&sq.offset));
            reference_time(ev, &sq.expr, inner_t)
        }
        Expr::Paren(p) => reference_time(ev, &p.expr, t),
        Expr::Unary(u) => reference_time(ev, &u.expr, t),
        Expr::Binary(b) => reference_time(ev, &b.lhs, t),
        Expr::Aggregate(a) => reference_time(ev, &a.expr, t),
        Expr::Call(c) => c
            .args
            .args
            .iter()
            .find(|a| !matches!(***a, Expr::NumberLiteral(_) | Expr::StringLiteral(_)))
            .map_or(t, |a| reference_time(ev, a, t)),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => t,
    }
}
