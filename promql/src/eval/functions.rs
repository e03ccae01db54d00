//! Function calls: argument evaluation and dispatch to the kernels in
//! [`crate::functions`], plus the functions that need labels, grouping or the
//! argument expression itself (`absent`, `scalar`, `sort*`, `label_*`,
//! `histogram_quantile`, `timestamp`, ...).
//!
//! Range functions run per series across all steps: the series' samples are
//! read once and each step's window slides over them. Scalar arguments are
//! evaluated once for all steps and handed to the kernel step by step.

use promql_parser::parser::{Call, Expr, MatrixSelector};

use super::annotations::{first_arg_position, go_g, position_of};
use super::range_extreme::Extreme;
use super::range_fn::RangeApply;
use super::range_run::{is_counter_name, Collect, SeriesSink};
use super::selectors::{selector_matchers, RangeVisitor, Slider, Windows};
use super::{Evaluator, Grid, StepSeries, Val};
use crate::error::QueryError;
use crate::functions::labels::{natural_cmp, LabelJoin, LabelReplace};
use crate::functions::{
    lookup, EngineFunction, FunctionSpec, Implementation, RangeKernel, ValueType, WindowMode,
};
use crate::storage::MatchOp;
use crate::value::{FPoint, Labels, METRIC_NAME};

fn fn_error(e: crate::functions::FunctionError) -> QueryError {
    QueryError::execution(e.to_string())
}

/// The string value of a string-literal argument.
pub(crate) fn string_arg(args: &[Box<Expr>], i: usize) -> Result<String, QueryError> {
    match args.get(i).map(|b| unparen(b)) {
        Some(Expr::StringLiteral(s)) => Ok(s.val.clone()),
        _ => Err(QueryError::bad_data(format!(
            "expected string literal as argument {}",
            i + 1
        ))),
    }
}

/// The expression inside any number of parentheses.
pub(crate) fn unparen(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => unparen(&p.expr),
        other => other,
    }
}

impl Evaluator<'_> {
    /// Evaluates a function call at every step.
    pub(crate) fn eval_call(&mut self, call: &Call, grid: Grid) -> Result<Val, QueryError> {
        let name = call.func.name;
        let spec = lookup(name)
            .ok_or_else(|| QueryError::bad_data(format!("unknown function with name {name:?}")))?;
        let args = &call.args.args;
        match spec.implementation {
            Implementation::Range(kernel) => self.eval_range_function(spec, kernel, args, grid),
            Implementation::Float(kernel) => {
                let Some(vec_arg) = args.first() else {
                    return Err(QueryError::bad_data(format!("{name}() needs an argument")));
                };
                let params = self.eval_params(args.get(1..).unwrap_or(&[]), grid)?;
                let mut series = self.eval_vector(vec_arg, grid)?;
                let mut ps = Vec::with_capacity(params.len());
                for s in &mut series {
                    let mut cur = grid.cursor();
                    s.points.to_mut().retain_mut(|p| {
                        let i = cur.index(p.t);
                        ps.clear();
                        ps.extend(params.iter().map(|v| v.get(i).copied().unwrap_or(f64::NAN)));
                        match kernel(p.f, &ps) {
                            Some(v) => {
                                p.f = v;
                                true
                            }
                            None => false,
                        }
                    });
                    s.drop_name |= !spec.keeps_metric_name;
                }
                series.retain(|s| !s.points.is_empty());
                Ok(Val::Vector(series))
            }
            Implementation::Date(kernel) => match args.first() {
                None => Ok(Val::Vector(vec![StepSeries {
                    metric: Labels::empty(),
                    drop_name: false,
                    points: grid
                        .times()
                        .map(|t| FPoint {
                            t,
                            f: kernel(t as f64 / 1000.0),
                        })
                        .collect(),
                }])),
                Some(a) => {
                    let mut series = self.eval_vector(a, grid)?;
                    for s in &mut series {
                        for p in s.points.to_mut() {
                            p.f = kernel(p.f);
                        }
                        s.drop_name = true;
                    }
                    Ok(Val::Vector(series))
                }
            },
            Implementation::Nullary(kernel) => Ok(Val::Scalar(grid.times().map(kernel).collect())),
            Implementation::Engine(f) => self.eval_engine_function(f, args, grid),
        }
    }

    /// Evaluates scalar arguments for all steps.
    fn eval_params(&mut self, args: &[Box<Expr>], grid: Grid) -> Result<Vec<Vec<f64>>, QueryError> {
        args.iter().map(|a| self.eval_scalar(a, grid)).collect()
    }

    /// Calls `f` for every series of a range-vector argument (matrix selector or
    /// subquery) with its samples and window placement.
    pub(crate) fn for_each_range_series(
        &mut self,
        arg: &Expr,
        grid: Grid,
        f: &mut RangeVisitor<'_>,
    ) -> Result<(), QueryError> {
        match arg {
            Expr::MatrixSelector(ms) => {
                self.for_each_matrix_series(ms, grid, &mut |l, p, w| f(l, false, p, w))
            }
            Expr::Subquery(sq) => {
                let (series, win) = self.eval_subquery_inner(sq, grid)?;
                for s in &series {
                    self.check_interrupt()?;
                    f(&s.metric, s.drop_name, &s.points, &win)?;
                }
                Ok(())
            }
            Expr::Paren(p) => self.for_each_range_series(&p.expr, grid, f),
            _ => Err(QueryError::bad_data("expected a range vector argument")),
        }
    }

    /// Evaluates the arguments of a range-function call: its scalar
    /// parameters (one value per step), with the checks and warnings
    /// Prometheus applies before evaluation.
    pub(crate) fn prepare_range_call<'e>(
        &mut self,
        spec: &'static FunctionSpec,
        kernel: RangeKernel,
        args: &'e [Box<Expr>],
        grid: Grid,
    ) -> Result<RangeCall<'e>, QueryError> {
        let matrix_arg = range_argument(spec, args)?;
        let mut params = Vec::new();
        for a in args {
            if !std::ptr::eq(&**a, matrix_arg) {
                params.push(self.eval_scalar(a, grid)?);
            }
        }
        if spec.name == "quantile_over_time" {
            if let Some(q) = params
                .first()
                .and_then(|p| p.iter().find(|q| q.is_nan() || **q < 0.0 || **q > 1.0))
            {
                let pos = first_arg_position(self.query, spec.name);
                let q = *q;
                self.annotations.warn(
                    &format!("quantile value should be between 0 and 1, got {}", go_g(q)),
                    &pos,
                );
            }
        }
        if let Expr::MatrixSelector(ms) = unparen(matrix_arg) {
            check_window_mode(spec.name, selector_matchers(&ms.vs)?.1)?;
        }
        let extreme = match spec.name {
            "max_over_time" => Some(Extreme::Max),
            "min_over_time" => Some(Extreme::Min),
            _ => None,
        };
        Ok(RangeCall {
            spec,
            kernel,
            matrix_arg,
            params,
            extreme,
        })
    }

    /// Runs a prepared range function over a matrix selector's series into
    /// sinks made by `make_sink`, counting samples and noting non-counters.
    pub(crate) fn run_range_selector<S: SeriesSink>(
        &mut self,
        call: &RangeCall<'_>,
        ms: &MatrixSelector,
        grid: Grid,
        make_sink: &(dyn Fn() -> S + Sync),
    ) -> Result<S, QueryError> {
        let (selected, win) = self.select_matrix(ms, grid)?;
        let apply = call.apply(grid, win);
        let (sink, stats) =
            apply.run_selected(selected, self.interrupt(), self.opts.max_samples, make_sink)?;
        self.stats.samples_loaded += stats.samples_loaded;
        self.check_samples(stats.peak_window_samples())?;
        self.note_non_counters(&stats.non_counters);
        Ok(sink)
    }

    fn note_non_counters(&mut self, names: &[String]) {
        for name in names {
            let pos = position_of(self.query, name);
            self.annotations.info(
                &format!("metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {name:?}"),
                &pos,
            );
        }
    }

    /// Warns that `function` (a sort) has no effect: range results are always
    /// ordered by labels.
    fn warn_sort_in_range_query(&mut self, function: &str) {
        let pos = position_of(self.query, function);
        self.annotations.warn(
            "sort is ineffective for range queries since results are always ordered by labels",
            &pos,
        );
    }

    fn eval_range_function(
        &mut self,
        spec: &'static FunctionSpec,
        kernel: RangeKernel,
        args: &[Box<Expr>],
        grid: Grid,
    ) -> Result<Val, QueryError> {
        let call = self.prepare_range_call(spec, kernel, args, grid)?;
        let out: Vec<StepSeries> = match unparen(call.matrix_arg) {
            Expr::MatrixSelector(ms) => {
                let keeps_name = spec.keeps_metric_name;
                self.run_range_selector(&call, ms, grid, &|| Collect::new(keeps_name, grid.len()))?
                    .into_series()
            }
            Expr::Subquery(sq) => {
                let (series, win) = self.eval_subquery_inner(sq, grid)?;
                let apply = call.apply(grid, win);
                let mut scratch = Vec::new();
                let mut window_samples = vec![0; grid.len()];
                let mut out = Vec::with_capacity(series.len());
                let mut non_counters: Vec<String> = Vec::new();
                for s in series {
                    self.check_interrupt()?;
                    let mut points = Vec::new();
                    apply.apply(&s.points, &mut scratch, &mut window_samples, &mut points)?;
                    if points.is_empty() {
                        continue;
                    }
                    let name = s.metric.metric_name().unwrap_or("");
                    if spec.expects_counter
                        && !name.is_empty()
                        && !is_counter_name(name)
                        && !non_counters.iter().any(|n| n == name)
                    {
                        non_counters.push(name.to_string());
                    }
                    out.push(StepSeries {
                        metric: s.metric,
                        drop_name: s.drop_name || !spec.keeps_metric_name,
                        points: points.into(),
                    });
                }
                self.check_samples(window_samples.iter().copied().max().unwrap_or(0))?;
                self.note_non_counters(&non_counters);
                out
            }
            _ => return Err(QueryError::bad_data("expected a range vector argument")),
        };
        Ok(Val::Vector(out))
    }

    fn eval_engine_function(
        &mut self,
        f: EngineFunction,
        args: &[Box<Expr>],
        grid: Grid,
    ) -> Result<Val, QueryError> {
        let first = args.first().map(|b| &**b);
        match f {
            EngineFunction::Absent => {
                let arg = need(first)?;
                let series = self.eval_vector(arg, grid)?;
                let present = presence(&series, grid);
                Ok(Val::Vector(absent_result(
                    absent_labels(arg),
                    &present,
                    grid,
                )))
            }
            EngineFunction::AbsentOverTime => {
                let arg = need(first)?;
                let mut present = vec![false; grid.len()];
                self.for_each_range_series(arg, grid, &mut |_, _, points, win| {
                    let mut slider = Slider::default();
                    for (i, t) in grid.times().enumerate() {
                        let end = win.end(t);
                        if !slider
                            .window(points, end.saturating_sub(win.range), end)
                            .is_empty()
                        {
                            if let Some(p) = present.get_mut(i) {
                                *p = true;
                            }
                        }
                    }
                    Ok(())
                })?;
                Ok(Val::Vector(absent_result(
                    absent_labels(arg),
                    &present,
                    grid,
                )))
            }
            EngineFunction::Scalar => {
                let series = self.eval_vector(need(first)?, grid)?;
                let mut vals = vec![f64::NAN; grid.len()];
                let mut counts = vec![0u32; grid.len()];
                for s in &series {
                    let mut cur = grid.cursor();
                    for p in &s.points {
                        let i = cur.index(p.t);
                        if let (Some(v), Some(c)) = (vals.get_mut(i), counts.get_mut(i)) {
                            *v = p.f;
                            *c += 1;
                        }
                    }
                }
                for (v, c) in vals.iter_mut().zip(counts) {
                    if c != 1 {
                        *v = f64::NAN;
                    }
                }
                Ok(Val::Scalar(vals))
            }
            EngineFunction::Vector => {
                let v = self.eval_scalar(need(first)?, grid)?;
                Ok(Val::Vector(vec![StepSeries {
                    metric: Labels::empty(),
                    drop_name: false,
                    points: grid.times().zip(v).map(|(t, f)| FPoint { t, f }).collect(),
                }]))
            }
            EngineFunction::Timestamp => {
                let arg = need(first)?;
                let mut series = match unparen(arg) {
                    Expr::VectorSelector(vs) => self.eval_vector_selector_timestamps(vs, grid)?,
                    _ => {
                        let mut s = self.eval_vector(arg, grid)?;
                        for ser in &mut s {
                            for p in ser.points.to_mut() {
                                p.f = p.t as f64 / 1000.0;
                            }
                        }
                        s
                    }
                };
                for s in &mut series {
                    s.drop_name = true;
                }
                Ok(Val::Vector(series))
            }
            EngineFunction::Sort | EngineFunction::SortDesc => {
                let mut series = self.eval_vector(need(first)?, grid)?;
                if grid.len() > 1 {
                    self.warn_sort_in_range_query(if f == EngineFunction::Sort {
                        "sort"
                    } else {
                        "sort_desc"
                    });
                } else {
                    let desc = f == EngineFunction::SortDesc;
                    series.sort_by(|a, b| {
                        let (x, y) = (first_value(a), first_value(b));
                        match (x.is_nan(), y.is_nan()) {
                            (true, false) => std::cmp::Ordering::Greater,
                            (false, true) => std::cmp::Ordering::Less,
                            _ if desc => y.partial_cmp(&x).unwrap_or(std::cmp::Ordering::Equal),
                            _ => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
                        }
                    });
                }
                Ok(Val::Vector(series))
            }
            EngineFunction::SortByLabel | EngineFunction::SortByLabelDesc => {
                let mut series = self.eval_vector(need(first)?, grid)?;
                let mut names = Vec::new();
                for i in 1..args.len() {
                    names.push(string_arg(args, i)?);
                }
                if grid.len() > 1 {
                    self.warn_sort_in_range_query(if f == EngineFunction::SortByLabel {
                        "sort_by_label"
                    } else {
                        "sort_by_label_desc"
                    });
                }
                series.sort_by(|a, b| {
                    let mut ord = std::cmp::Ordering::Equal;
                    for n in &names {
                        ord = natural_cmp(
                            a.metric.get(n).unwrap_or(""),
                            b.metric.get(n).unwrap_or(""),
                        );
                        if ord.is_ne() {
                            break;
                        }
                    }
                    let ord = ord.then_with(|| a.metric.cmp(&b.metric));
                    if f == EngineFunction::SortByLabelDesc {
                        ord.reverse()
                    } else {
                        ord
                    }
                });
                Ok(Val::Vector(series))
            }
            EngineFunction::LabelReplace => {
                let lr = LabelReplace::new(
                    &string_arg(args, 1)?,
                    &string_arg(args, 2)?,
                    &string_arg(args, 3)?,
                    &string_arg(args, 4)?,
                )
                .map_err(fn_error)?;
                let mut series = self.eval_vector(need(first)?, grid)?;
                let mut buf = String::new();
                for s in &mut series {
                    let src = s.metric.get(lr.source()).unwrap_or("").to_string();
                    if lr.apply(&src, &mut buf) {
                        s.metric = s.metric.with(lr.destination(), &buf);
                        if lr.destination() == METRIC_NAME {
                            s.drop_name = false;
                        }
                    }
                }
                Ok(Val::Vector(super::merge_same_labels(series)?))
            }
            EngineFunction::LabelJoin => {
                let mut sources = Vec::new();
                for i in 3..args.len() {
                    sources.push(string_arg(args, i)?);
                }
                let lj = LabelJoin::new(&string_arg(args, 1)?, &string_arg(args, 2)?, &sources)
                    .map_err(fn_error)?;
                let mut series = self.eval_vector(need(first)?, grid)?;
                let mut buf = String::new();
                for s in &mut series {
                    let m = s.metric.clone();
                    lj.apply(|n| m.get(n), &mut buf);
                    s.metric = s.metric.with(lj.destination(), &buf);
                    if lj.destination() == METRIC_NAME {
                        s.drop_name = false;
                    }
                }
                Ok(Val::Vector(super::merge_same_labels(series)?))
            }
            EngineFunction::HistogramQuantile => self.eval_histogram_quantile(args, grid),
            EngineFunction::HistogramQuantiles => self.eval_histogram_quantiles(args, grid),
            EngineFunction::HistogramFraction => self.eval_histogram_fraction(args, grid),
            EngineFunction::HistogramCount
            | EngineFunction::HistogramSum
            | EngineFunction::HistogramAvg
            | EngineFunction::HistogramStddev
            | EngineFunction::HistogramStdvar => {
                // Only float samples exist so far; these functions ignore floats.
                self.eval_vector(need(first)?, grid)?;
                Ok(Val::Vector(Vec::new()))
            }
            EngineFunction::Info => self.eval_info(args, grid),
            EngineFunction::Start => Ok(Val::Scalar(vec![
                self.query_grid.start as f64 / 1000.0;
                grid.len()
            ])),
            EngineFunction::End => Ok(Val::Scalar(vec![
                self.query_grid.end as f64 / 1000.0;
                grid.len()
            ])),
            EngineFunction::Range => Ok(Val::Scalar(vec![
                (self.query_grid.end - self.query_grid.start)
                    as f64
                    / 1000.0;
                grid.len()
            ])),
            EngineFunction::Step => {
                let step = if self.query_grid.len() > 1 {
                    self.query_grid.step
                } else {
                    0
                };
                Ok(Val::Scalar(vec![step as f64 / 1000.0; grid.len()]))
            }
            EngineFunction::MinOf | EngineFunction::MaxOf => {
                let a = self.eval_scalar(need(first)?, grid)?;
                let b = self.eval_scalar(need(args.get(1).map(|b| &**b))?, grid)?;
                let max = f == EngineFunction::MaxOf;
                Ok(Val::Scalar(
                    a.into_iter()
                        .zip(b)
                        // Go's math.Min/Max: NaN wins.
                        .map(|(a, b)| {
                            if a.is_nan() || b.is_nan() {
                                f64::NAN
                            } else if max {
                                a.max(b)
                            } else {
                                a.min(b)
                            }
                        })
                        .collect(),
                ))
            }
            EngineFunction::StartTimestamp => Err(QueryError::execution(
                "start_timestamp() needs sample start timestamps, which the storage does not keep",
            )),
        }
    }
}

fn first_value(s: &StepSeries) -> f64 {
    s.points.first().map_or(f64::NAN, |p| p.f)
}

/// Which steps have at least one point.
fn presence(series: &[StepSeries], grid: Grid) -> Vec<bool> {
    let mut present = vec![false; grid.len()];
    for s in series {
        let mut cur = grid.cursor();
        for p in &s.points {
            if let Some(x) = present.get_mut(cur.index(p.t)) {
                *x = true;
            }
        }
    }
    present
}

/// Fails unless `function` accepts a selector with `mode` (Prometheus 3.x
/// allows `anchored` and `smoothed` only where an edge sample means something).
fn check_window_mode(function: &str, mode: WindowMode) -> Result<(), QueryError> {
    let (name, allowed): (&str, &[&str]) = match mode {
        WindowMode::Anchored => (
            "anchored",
            &["changes", "delta", "increase", "rate", "resets"],
        ),
        WindowMode::Smoothed => ("smoothed", &["delta", "increase", "rate"]),
        _ => return Ok(()),
    };
    if allowed.contains(&function) {
        return Ok(());
    }
    Err(QueryError::bad_data(format!(
        "{name} modifier can only be used with: {} - not with {function}",
        allowed.join(", ")
    )))
}

/// A range-function call with its parameters evaluated.
pub(crate) struct RangeCall<'e> {
    /// The function.
    pub spec: &'static FunctionSpec,
    kernel: RangeKernel,
    /// The range-vector argument (matrix selector or subquery).
    pub matrix_arg: &'e Expr,
    params: Vec<Vec<f64>>,
    extreme: Option<Extreme>,
}

impl RangeCall<'_> {
    fn apply(&self, grid: Grid, win: Windows) -> RangeApply<'_> {
        RangeApply {
            kernel: self.kernel,
            params: &self.params,
            grid,
            win,
            extreme: self.extreme,
            expects_counter: self.spec.expects_counter,
        }
    }
}

/// The range-vector argument of a call to `spec`.
pub(crate) fn range_argument<'e>(
    spec: &FunctionSpec,
    args: &'e [Box<Expr>],
) -> Result<&'e Expr, QueryError> {
    let pos = spec
        .args
        .iter()
        .position(|t| *t == ValueType::Matrix)
        .unwrap_or(0);
    args.get(pos).map(|a| &**a).ok_or_else(|| {
        QueryError::bad_data(format!("{}() needs a range vector argument", spec.name))
    })
}

/// An argument that must be present.
pub(crate) fn need(e: Option<&Expr>) -> Result<&Expr, QueryError> {
    e.ok_or_else(|| QueryError::bad_data("missing function argument"))
}

/// One series valued 1 at every step where nothing was present.
fn absent_result(labels: Labels, present: &[bool], grid: Grid) -> Vec<StepSeries> {
    let points: Vec<FPoint> = present
        .iter()
        .enumerate()
        .filter(|(_, p)| !**p)
        .map(|(i, _)| FPoint {
            t: grid.t(i),
            f: 1.0,
        })
        .collect();
    if points.is_empty() {
        Vec::new()
    } else {
        vec![StepSeries {
            metric: labels,
            drop_name: false,
            points: points.into(),
        }]
    }
}

/// Labels of `absent(...)`'s output: the selector's equality matchers, except
/// `__name__` and any label matched more than once.
fn absent_labels(arg: &Expr) -> Labels {
    let vs = match unparen(arg) {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(ms) => &ms.vs,
        _ => return Labels::empty(),
    };
    let Ok((matchers, _)) = selector_matchers(vs) else {
        return Labels::empty();
    };
    let mut out: Vec<(String, String)> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for m in &matchers {
        if m.name == METRIC_NAME {
            continue;
        }
        if m.op == MatchOp::Equal && !seen.contains(&m.name.as_str()) {
            out.push((m.name.clone(), m.value.clone()));
            seen.push(&m.name);
        } else {
            out.retain(|(n, _)| *n != m.name);
            seen.push(&m.name);
        }
    }
    Labels::from_pairs(out)
}
