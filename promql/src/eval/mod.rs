//! The evaluator: walks a parsed expression over a step grid.
//!
//! Every instant-vector expression is evaluated for all steps at once and
//! returned as series with one point per step where the series has a value
//! ([`StepSeries`]). Selectors and range functions therefore work per series
//! across all steps (one storage read per series, sliding windows), and only
//! aggregations and binary operators line series up by step. Label work
//! (grouping keys, matching signatures) is done once per series, not per step.
//!
//! Invariants: points of a [`StepSeries`] are in increasing time order, at grid
//! times; a [`Val::Scalar`] has exactly one value per grid step. Limits
//! (timeout, cancellation, max samples) are checked once per series or node,
//! never per sample.

mod aggregate;
mod annotations;
mod binary;
mod functions;
mod fused;
mod histogram;
mod info;
mod range_extreme;
mod range_fn;
mod range_run;
mod rate_batch;
mod selectors;
mod subquery;

use std::collections::HashMap;
use std::time::Instant;

use promql_parser::parser::{token, Expr};

use crate::engine::{CancelToken, EngineOptions, QueryStats};
use crate::error::QueryError;
use crate::points::Points;
use crate::storage::Storage;
use crate::value::{FPoint, Labels, Sample, Series, Value};

pub(crate) use annotations::Annotations;

/// The evaluation times: `start`, `start + step`, ... `end` (ms, inclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Grid {
    /// First step, ms.
    pub start: i64,
    /// Last step, ms (a multiple of `step` after `start`).
    pub end: i64,
    /// Step width, ms; always positive.
    pub step: i64,
}

impl Grid {
    /// A grid of one step at `t`.
    pub fn instant(t: i64) -> Self {
        Grid {
            start: t,
            end: t,
            step: 1,
        }
    }

    /// A grid from `start` to `end` (truncated to a whole number of steps).
    pub fn new(start: i64, end: i64, step: i64) -> Self {
        let step = step.max(1);
        let n = (end.saturating_sub(start)) / step;
        Grid {
            start,
            end: start.saturating_add(n.saturating_mul(step)),
            step,
        }
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        usize::try_from(self.end.saturating_sub(self.start) / self.step + 1).unwrap_or(1)
    }

    /// Time of step `i`, ms.
    pub fn t(&self, i: usize) -> i64 {
        self.start
            .saturating_add((i as i64).saturating_mul(self.step))
    }

    /// Index of a grid time `t`.
    pub fn index(&self, t: i64) -> usize {
        usize::try_from((t - self.start) / self.step).unwrap_or(0)
    }

    /// A cursor mapping the time-ordered points of one series to step indices.
    pub fn cursor(&self) -> StepCursor {
        StepCursor {
            grid: *self,
            next_i: 0,
            next_t: self.start,
        }
    }

    /// Iterates over the step times.
    pub fn times(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(move |i| self.t(i))
    }
}

/// Maps a series' grid-aligned points to step indices. Consecutive steps (the
/// common case: a series present at every step) cost a comparison instead of
/// an integer division.
pub(crate) struct StepCursor {
    grid: Grid,
    next_i: usize,
    next_t: i64,
}

impl StepCursor {
    /// Index of the grid time `t`; `t` must not decrease between calls.
    pub fn index(&mut self, t: i64) -> usize {
        let i = if t == self.next_t {
            self.next_i
        } else {
            self.grid.index(t)
        };
        self.next_i = i + 1;
        self.next_t = t.saturating_add(self.grid.step);
        i
    }
}

/// One series of an instant-vector result across steps.
#[derive(Clone, Debug)]
pub(crate) struct StepSeries {
    /// The series' labels; `__name__` is still present when `drop_name` is set.
    pub metric: Labels,
    /// Delayed name removal: `__name__` is removed at the end of evaluation.
    pub drop_name: bool,
    /// One point per step where the series has a value, at grid times.
    pub points: Points,
}

/// An intermediate value.
#[derive(Debug)]
pub(crate) enum Val {
    /// One value per grid step.
    Scalar(Vec<f64>),
    /// A string literal.
    Str(String),
    /// An instant vector over all steps.
    Vector(Vec<StepSeries>),
    /// A range vector; only produced for a one-step grid (instant queries).
    Matrix(Vec<Series>),
}

impl Val {
    fn type_name(&self) -> &'static str {
        match self {
            Val::Scalar(_) => "scalar",
            Val::Str(_) => "string",
            Val::Vector(_) => "instant vector",
            Val::Matrix(_) => "range vector",
        }
    }
}

/// How many series a worker reads between two cancellation and deadline checks.
const SERIES_PER_CHECK: usize = 16;

/// Cancellation and deadline of one query; checked per series or step.
#[derive(Clone, Copy)]
pub(crate) struct Interrupt<'a> {
    cancel: &'a CancelToken,
    deadline: Option<Instant>,
}

impl Interrupt<'_> {
    /// [`Interrupt::check`] for the `k`-th series of a loop, at every
    /// [`SERIES_PER_CHECK`]-th one: reading the clock costs more than a short
    /// series, and a few series more take microseconds.
    pub fn check_series(&self, k: usize) -> Result<(), QueryError> {
        if k.is_multiple_of(SERIES_PER_CHECK) {
            self.check()
        } else {
            Ok(())
        }
    }

    /// Fails when the query was canceled or ran out of time.
    pub fn check(&self) -> Result<(), QueryError> {
        if self.cancel.is_canceled() {
            return Err(QueryError::Canceled {
                stage: "query execution",
            });
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(QueryError::Timeout {
                stage: "query execution",
            });
        }
        Ok(())
    }
}

/// State of one query's evaluation.
pub(crate) struct Evaluator<'a> {
    pub storage: &'a dyn Storage,
    pub opts: &'a EngineOptions,
    cancel: &'a CancelToken,
    deadline: Option<Instant>,
    /// The query text, for annotation positions.
    pub query: &'a str,
    /// The query's own grid: `@ start()`/`@ end()` refer to it at any depth.
    pub query_grid: Grid,
    pub annotations: Annotations,
    pub stats: QueryStats,
    /// Reused buffer for reading series from storage.
    pub buf: Vec<FPoint>,
}

impl<'a> Evaluator<'a> {
    /// A fresh evaluator for one query.
    pub fn new(
        storage: &'a dyn Storage,
        opts: &'a EngineOptions,
        cancel: &'a CancelToken,
        deadline: Option<Instant>,
        query: &'a str,
        query_grid: Grid,
    ) -> Self {
        Evaluator {
            storage,
            opts,
            cancel,
            deadline,
            query,
            query_grid,
            annotations: Annotations::default(),
            stats: QueryStats::default(),
            buf: Vec::new(),
        }
    }

    /// Evaluates the whole query and shapes the result for the API.
    pub fn run(&mut self, expr: &Expr, is_range: bool) -> Result<Value, QueryError> {
        let grid = self.query_grid;
        if is_range {
            let vt = expr.value_type();
            if !matches!(
                vt,
                promql_parser::parser::value::ValueType::Vector
                    | promql_parser::parser::value::ValueType::Scalar
            ) {
                return Err(QueryError::bad_data(format!(
                    "invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
                    value_type_name(vt)
                )));
            }
        }
        let val = self.eval(expr, grid)?;
        let (val, ordered) = match val {
            Val::Vector(series) => {
                let (series, ordered) = finalize_names_ordered(series)?;
                (Val::Vector(series), ordered)
            }
            other => (other, false),
        };
        Ok(match (val, is_range) {
            (Val::Scalar(v), false) => Value::Scalar {
                t: grid.start,
                f: v.first().copied().unwrap_or(f64::NAN),
            },
            (Val::Str(s), false) => Value::String { t: grid.start, s },
            (Val::Vector(series), false) => Value::Vector(
                series
                    .into_iter()
                    .filter_map(|s| {
                        s.points.first().map(|p| Sample {
                            metric: s.metric.clone(),
                            t: p.t,
                            f: p.f,
                        })
                    })
                    .collect(),
            ),
            (Val::Matrix(m), false) => Value::Matrix(m),
            (Val::Scalar(v), true) => Value::Matrix(vec![Series {
                metric: Labels::empty(),
                floats: grid.times().zip(v).map(|(t, f)| FPoint { t, f }).collect(),
            }]),
            (Val::Vector(series), true) => {
                let mut m: Vec<Series> = series
                    .into_iter()
                    .filter(|s| !s.points.is_empty())
                    .map(|s| Series {
                        metric: s.metric,
                        floats: s.points,
                    })
                    .collect();
                // Selector results usually arrive sorted from storage already.
                if !ordered && !m.is_sorted_by(|a, b| a.metric <= b.metric) {
                    m.sort_by(|a, b| a.metric.cmp(&b.metric));
                }
                Value::Matrix(m)
            }
            (other, true) => {
                return Err(QueryError::bad_data(format!(
                "invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
                other.type_name()
            )))
            }
        })
    }

    /// Annotations and statistics, consumed at the end of the query.
    pub fn finish(self) -> (Vec<String>, Vec<String>, QueryStats) {
        let (w, i) = self.annotations.into_parts();
        (w, i, self.stats)
    }

    /// Fails when the query was canceled or ran out of time; called per series or node.
    pub fn check_interrupt(&self) -> Result<(), QueryError> {
        self.interrupt().check()
    }

    /// A copyable view of the cancellation and deadline, usable from worker threads.
    pub fn interrupt(&self) -> Interrupt<'a> {
        Interrupt {
            cancel: self.cancel,
            deadline: self.deadline,
        }
    }

    /// Fails when holding `n` samples at once exceeds the limit; records the peak.
    pub fn check_samples(&mut self, n: usize) -> Result<(), QueryError> {
        self.stats.peak_samples = self.stats.peak_samples.max(n);
        if n > self.opts.max_samples {
            return Err(QueryError::TooManySamples {
                stage: "query execution",
            });
        }
        Ok(())
    }

    /// Evaluates `expr` at every step of `grid`.
    pub fn eval(&mut self, expr: &Expr, grid: Grid) -> Result<Val, QueryError> {
        self.check_interrupt()?;
        let val = match expr {
            Expr::NumberLiteral(n) => Val::Scalar(vec![n.val; grid.len()]),
            Expr::StringLiteral(s) => Val::Str(s.val.clone()),
            Expr::Paren(p) => self.eval(&p.expr, grid)?,
            Expr::Unary(u) => match self.eval(&u.expr, grid)? {
                Val::Scalar(v) => Val::Scalar(v.into_iter().map(|f| -f).collect()),
                Val::Vector(mut series) => {
                    for s in &mut series {
                        s.drop_name = true;
                        for p in s.points.to_mut() {
                            p.f = -p.f;
                        }
                    }
                    Val::Vector(series)
                }
                other => {
                    return Err(QueryError::bad_data(format!(
                        "unary expression only allowed on expressions of type scalar or instant vector, got {:?}",
                        other.type_name()
                    )))
                }
            },
            Expr::VectorSelector(vs) => Val::Vector(self.eval_vector_selector(vs, grid)?),
            Expr::MatrixSelector(ms) => Val::Matrix(self.eval_matrix_selector_value(ms, grid)?),
            Expr::Subquery(sq) => Val::Matrix(self.eval_subquery_value(sq, grid)?),
            Expr::Call(call) => self.eval_call(call, grid)?,
            Expr::Aggregate(agg) => self.eval_aggregate(agg, grid)?,
            Expr::Binary(b) => self.eval_binary(b, grid)?,
            Expr::Extension(_) => return Err(QueryError::bad_data("unsupported expression extension")),
        };
        let n = match &val {
            Val::Vector(series) => series.iter().map(|s| s.points.len()).sum(),
            Val::Matrix(m) => m.iter().map(|s| s.floats.len()).sum(),
            Val::Scalar(v) => v.len(),
            Val::Str(_) => 0,
        };
        self.check_samples(n)?;
        Ok(val)
    }

    /// Evaluates an expression that must be a scalar (e.g. a function parameter).
    pub fn eval_scalar(&mut self, expr: &Expr, grid: Grid) -> Result<Vec<f64>, QueryError> {
        match self.eval(expr, grid)? {
            Val::Scalar(v) => Ok(v),
            other => Err(QueryError::bad_data(format!(
                "expected scalar, got {}",
                other.type_name()
            ))),
        }
    }

    /// Evaluates an expression that must be an instant vector.
    pub fn eval_vector(&mut self, expr: &Expr, grid: Grid) -> Result<Vec<StepSeries>, QueryError> {
        match self.eval(expr, grid)? {
            Val::Vector(v) => Ok(v),
            other => Err(QueryError::bad_data(format!(
                "expected instant vector, got {}",
                other.type_name()
            ))),
        }
    }

    /// Resolves an `@` modifier to ms; `start()`/`end()` refer to the query's own range.
    pub fn resolve_at(&self, at: &Option<promql_parser::parser::AtModifier>) -> Option<i64> {
        use promql_parser::parser::AtModifier;
        at.as_ref().map(|a| match a {
            AtModifier::Start => self.query_grid.start,
            AtModifier::End => self.query_grid.end,
            AtModifier::At(t) => system_time_ms(*t),
        })
    }
}

/// Milliseconds since the epoch of a `SystemTime` (negative before 1970).
pub(crate) fn system_time_ms(t: std::time::SystemTime) -> i64 {
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// Milliseconds of a parsed duration, saturating.
pub(crate) fn duration_ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Signed offset in ms (`offset -5m` is negative).
pub(crate) fn offset_ms(o: &Option<promql_parser::parser::Offset>) -> i64 {
    use promql_parser::parser::Offset;
    match o {
        None => 0,
        Some(Offset::Pos(d)) => duration_ms(*d),
        Some(Offset::Neg(d)) => -duration_ms(*d),
    }
}

fn value_type_name(vt: promql_parser::parser::value::ValueType) -> &'static str {
    use promql_parser::parser::value::ValueType;
    match vt {
        ValueType::Scalar => "scalar",
        ValueType::String => "string",
        ValueType::Vector => "instant vector",
        ValueType::Matrix => "range vector",
    }
}

/// Applies delayed name removal and merges series that now share labels; two
/// points of one label set at the same step are an error, as in Prometheus.
pub(crate) fn finalize_names(series: Vec<StepSeries>) -> Result<Vec<StepSeries>, QueryError> {
    finalize_names_ordered(series).map(|(series, _)| series)
}

/// [`finalize_names`], also telling whether the result is known to be in
/// strictly increasing label order.
fn finalize_names_ordered(
    mut series: Vec<StepSeries>,
) -> Result<(Vec<StepSeries>, bool), QueryError> {
    if !series.iter().any(|s| s.drop_name) {
        return Ok((series, false));
    }
    // Common case first: series straight from a selector arrive in storage
    // (label) order and usually keep it without their names. Strictly
    // increasing labels are all distinct, so merging could only drop the
    // empty series; this one pass of comparisons replaces hashing every
    // label set, and spares the caller its sort check. A new label set per
    // series is the costly part of a large result: halves go to two threads.
    let drop_and_check = |part: &mut [StepSeries]| {
        for s in part.iter_mut().filter(|s| s.drop_name) {
            s.metric = s.metric.without_name_and_metadata();
            s.drop_name = false;
        }
        part.windows(2)
            .all(|w| matches!(w, [a, b] if a.metric < b.metric))
    };
    let increasing = if series.len() >= range_run::PARALLEL_MIN_SERIES {
        let half = series.len() / 2;
        let (first, second) = series.split_at_mut(half);
        let (a, b) = std::thread::scope(|scope| {
            let worker = scope.spawn(|| drop_and_check(second));
            let a = drop_and_check(first);
            let b = worker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (a, b)
        });
        let seam =
            matches!((first.last(), second.first()), (Some(x), Some(y)) if x.metric < y.metric);
        a && b && seam
    } else {
        drop_and_check(&mut series)
    };
    if increasing {
        series.retain(|s| !s.points.is_empty());
        return Ok((series, true));
    }
    Ok((merge_same_labels(series)?, false))
}

/// Merges series with identical labels (and name-drop flags) into one, keeping
/// first-seen order; fails when two of them have a point at the same step.
pub(crate) fn merge_same_labels(series: Vec<StepSeries>) -> Result<Vec<StepSeries>, QueryError> {
    let mut index: HashMap<(Labels, bool), usize> = HashMap::with_capacity(series.len());
    let mut out: Vec<StepSeries> = Vec::with_capacity(series.len());
    let mut needs_sort: Vec<bool> = Vec::new();
    for s in series {
        if s.points.is_empty() {
            continue;
        }
        match index.get(&(s.metric.clone(), s.drop_name)) {
            Some(&i) => {
                if let Some(o) = out.get_mut(i) {
                    o.points.to_mut().extend_from_slice(&s.points);
                }
                if let Some(f) = needs_sort.get_mut(i) {
                    *f = true;
                }
            }
            None => {
                index.insert((s.metric.clone(), s.drop_name), out.len());
                out.push(s);
                needs_sort.push(false);
            }
        }
    }
    for (o, sort) in out.iter_mut().zip(needs_sort) {
        if sort {
            o.points.to_mut().sort_by_key(|p| p.t);
            if o.points
                .windows(2)
                .any(|w| matches!(w, [a, b] if a.t == b.t))
            {
                return Err(QueryError::execution(
                    "vector cannot contain metrics with the same labelset",
                ));
            }
        }
    }
    Ok(out)
}

/// Rejects experimental functions unless enabled, walking the whole expression.
pub(crate) fn check_functions_enabled(expr: &Expr, experimental: bool) -> Result<(), QueryError> {
    if experimental {
        return Ok(());
    }
    let mut err = None;
    walk(expr, &mut |e| {
        if err.is_some() {
            return;
        }
        match e {
            Expr::Call(c) if c.func.experimental => {
                err = Some(QueryError::bad_data(format!(
                    "parse error: function {:?} is not enabled",
                    c.func.name
                )));
            }
            Expr::Aggregate(a)
                if a.op.id() == token::T_LIMITK || a.op.id() == token::T_LIMIT_RATIO =>
            {
                err = Some(QueryError::bad_data(format!(
                    "parse error: limit and limit_ratio are experimental and must be enabled with --enable-feature=promql-experimental-functions (aggregation {:?})",
                    a.op.to_string()
                )));
            }
            _ => {}
        }
    });
    err.map_or(Ok(()), Err)
}

/// Visits every node of an expression, parents before children.
pub(crate) fn walk(expr: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(expr);
    match expr {
        Expr::Aggregate(a) => {
            if let Some(p) = &a.param {
                walk(p, f);
            }
            walk(&a.expr, f);
        }
        Expr::Unary(u) => walk(&u.expr, f),
        Expr::Binary(b) => {
            walk(&b.lhs, f);
            walk(&b.rhs, f);
        }
        Expr::Paren(p) => walk(&p.expr, f),
        Expr::Subquery(s) => walk(&s.expr, f),
        Expr::Call(c) => {
            for a in &c.args.args {
                walk(a, f);
            }
        }
        Expr::NumberLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::VectorSelector(_)
        | Expr::MatrixSelector(_)
        | Expr::Extension(_) => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]
    use super::*;
    use crate::value::METRIC_NAME;

    /// `n` series `{__name__=name(k), i=i(k)}` with one point at step 0 each.
    fn named_series(
        n: usize,
        name: impl Fn(usize) -> &'static str,
        i: impl Fn(usize) -> usize,
    ) -> Vec<StepSeries> {
        (0..n)
            .map(|k| StepSeries {
                metric: Labels::from_pairs(vec![
                    (METRIC_NAME, name(k).to_string()),
                    ("i", format!("{:05}", i(k))),
                ]),
                drop_name: true,
                points: vec![FPoint { t: 0, f: k as f64 }].into(),
            })
            .collect()
    }

    // Above `PARALLEL_MIN_SERIES`, so the halves run on two threads.
    const MANY: usize = 3_000;

    #[test]
    fn names_are_dropped_on_both_halves_and_order_is_seen() {
        let (out, increasing) = finalize_names_ordered(named_series(MANY, |_| "m", |k| k)).unwrap();
        assert!(increasing);
        assert_eq!(out.len(), MANY);
        assert!(out
            .iter()
            .all(|s| !s.drop_name && s.metric.get(METRIC_NAME).is_none()));
    }

    #[test]
    fn order_broken_at_the_seam_takes_the_merging_path() {
        // Each half increases alone; the second half's series sort first.
        let half = MANY / 2;
        let input = named_series(MANY, |_| "m", |k| (k + half) % MANY);
        let (out, increasing) = finalize_names_ordered(input).unwrap();
        assert!(!increasing);
        let is: Vec<_> = out.iter().filter_map(|s| s.metric.get("i")).collect();
        assert_eq!(
            is.first().map(|s| s.to_string()),
            Some(format!("{half:05}"))
        );
        assert_eq!(is.len(), MANY);
    }

    #[test]
    fn same_labels_after_the_name_drop_at_one_step_fail() {
        let input = named_series(MANY, |k| if k % 2 == 0 { "a" } else { "b" }, |k| k / 2);
        let err = finalize_names_ordered(input).unwrap_err();
        assert!(err.to_string().contains("same labelset"), "{err}");
    }
}
