//! Classic-histogram functions: `histogram_quantile`, `histogram_quantiles`
//! and `histogram_fraction` over series with an `le` label.
//!
//! Bucket series are grouped by their labels without `le` (the name is kept
//! until the end of the query, so two histograms differing only in name
//! collide as upstream), their buckets collected per step, and the kernels in
//! [`crate::functions::histogram`] compute one value per group and step. A
//! malformed `le` is a warning; a repaired non-monotonic histogram an info.

use std::collections::HashMap;

use promql_parser::parser::Expr;

use super::annotations::{first_arg_position, go_g, position_of};
use super::functions::{need, string_arg};
use super::{Evaluator, Grid, StepSeries, Val};
use crate::error::QueryError;
use crate::functions::histogram::{
    bucket_fraction, bucket_quantile, parse_le, Bucket, BucketQuantile,
};
use crate::value::{FPoint, Labels};

impl Evaluator<'_> {
    /// Warns when a quantile parameter is outside [0, 1] at some step.
    fn check_quantile_param(&mut self, q: &[f64], function: &str) {
        if let Some(bad) = q
            .iter()
            .copied()
            .find(|q| q.is_nan() || *q < 0.0 || *q > 1.0)
        {
            let pos = first_arg_position(self.query, function);
            self.annotations.warn(
                &format!(
                    "quantile value should be between 0 and 1, got {}",
                    go_g(bad)
                ),
                &pos,
            );
        }
    }

    /// `histogram_quantile(q, buckets)`.
    pub(crate) fn eval_histogram_quantile(
        &mut self,
        args: &[Box<Expr>],
        grid: Grid,
    ) -> Result<Val, QueryError> {
        let q = self.eval_scalar(need(args.first().map(|b| &**b))?, grid)?;
        self.check_quantile_param(&q, "histogram_quantile");
        let series = self.eval_vector(need(args.get(1).map(|b| &**b))?, grid)?;
        self.eval_histogram(series, grid, &mut |i, buckets| {
            bucket_quantile(q.get(i).copied().unwrap_or(f64::NAN), buckets)
        })
    }

    /// `histogram_quantiles(buckets, "label", q1, q2, ...)`: one output series
    /// per quantile, told apart by `label`.
    pub(crate) fn eval_histogram_quantiles(
        &mut self,
        args: &[Box<Expr>],
        grid: Grid,
    ) -> Result<Val, QueryError> {
        let series = self.eval_vector(need(args.first().map(|b| &**b))?, grid)?;
        let label = string_arg(args, 1)?;
        if series.iter().any(|s| s.metric.has(&label)) {
            return Err(QueryError::execution(format!(
                "label {label:?} of histogram_quantiles() already exists in the input series"
            )));
        }
        let mut out = Vec::new();
        for a in args.iter().skip(2) {
            let q = self.eval_scalar(a, grid)?;
            self.check_quantile_param(&q, "histogram_quantiles");
            let value = quantile_label(q.first().copied().unwrap_or(f64::NAN));
            let Val::Vector(res) =
                self.eval_histogram(series.clone(), grid, &mut |i, buckets| {
                    bucket_quantile(q.get(i).copied().unwrap_or(f64::NAN), buckets)
                })?
            else {
                continue;
            };
            out.extend(res.into_iter().map(|mut s| {
                s.metric = s.metric.with(&label, &value);
                s
            }));
        }
        Ok(Val::Vector(out))
    }

    /// `histogram_fraction(lower, upper, buckets)`.
    pub(crate) fn eval_histogram_fraction(
        &mut self,
        args: &[Box<Expr>],
        grid: Grid,
    ) -> Result<Val, QueryError> {
        let lo = self.eval_scalar(need(args.first().map(|b| &**b))?, grid)?;
        let hi = self.eval_scalar(need(args.get(1).map(|b| &**b))?, grid)?;
        let series = self.eval_vector(need(args.get(2).map(|b| &**b))?, grid)?;
        self.eval_histogram(series, grid, &mut |i, buckets| BucketQuantile {
            value: bucket_fraction(
                lo.get(i).copied().unwrap_or(f64::NAN),
                hi.get(i).copied().unwrap_or(f64::NAN),
                buckets,
            ),
            fix: Default::default(),
        })
    }

    /// Groups classic-histogram bucket series by their labels without `le`
    /// (the name is dropped at the end of the query) and computes
    /// `compute(step, buckets)` per group and step.
    pub(crate) fn eval_histogram(
        &mut self,
        series: Vec<StepSeries>,
        grid: Grid,
        compute: &mut dyn FnMut(usize, &mut Vec<Bucket>) -> BucketQuantile,
    ) -> Result<Val, QueryError> {
        let mut groups: HashMap<Labels, usize> = HashMap::new();
        let mut members: Vec<(Labels, Vec<(f64, usize)>)> = Vec::new();
        for (i, s) in series.iter().enumerate() {
            let le = s.metric.get("le").unwrap_or("");
            let Some(ub) = parse_le(le) else {
                let name = s.metric.metric_name().unwrap_or("");
                let pos = position_of(self.query, name);
                self.annotations.warn(
                    &format!("bucket label \"le\" is missing or has a malformed value of {le:?} for metric name {name:?}"),
                    &pos,
                );
                continue;
            };
            // Grouped with the name still present (delayed name removal): two
            // histograms differing only in name collide at the end, as upstream.
            let key = s.metric.without(&["le"]);
            let g = *groups.entry(key.clone()).or_insert_with(|| {
                members.push((key, Vec::new()));
                members.len() - 1
            });
            if let Some(m) = members.get_mut(g) {
                m.1.push((ub, i));
            }
        }
        let n = grid.len();
        let mut out = Vec::new();
        let mut buckets: Vec<Vec<Bucket>> = vec![Vec::new(); n];
        for (key, mem) in members {
            self.check_interrupt()?;
            for b in &mut buckets {
                b.clear();
            }
            let mut name = String::new();
            for (ub, i) in mem {
                if let Some(s) = series.get(i) {
                    if name.is_empty() {
                        name = s.metric.metric_name().unwrap_or("").to_string();
                    }
                    let mut cur = grid.cursor();
                    for p in &s.points {
                        if let Some(b) = buckets.get_mut(cur.index(p.t)) {
                            b.push(Bucket {
                                upper_bound: ub,
                                count: p.f,
                            });
                        }
                    }
                }
            }
            let mut points = Vec::new();
            let mut forced = false;
            for (i, b) in buckets.iter_mut().enumerate() {
                if b.is_empty() {
                    continue;
                }
                let r = compute(i, b);
                forced |= r.fix.forced;
                points.push(FPoint {
                    t: grid.t(i),
                    f: r.value,
                });
            }
            if forced {
                let pos = position_of(self.query, &name);
                self.annotations.info(&format!("input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name {name:?}"), &pos);
            }
            if !points.is_empty() {
                out.push(StepSeries {
                    metric: key,
                    drop_name: true,
                    points: points.into(),
                });
            }
        }
        Ok(Val::Vector(out))
    }
}

/// The label value naming a quantile in `histogram_quantiles`: the shortest
/// decimal form, with `.0` added to whole numbers (`0.0`, `0.25`, `1.0`).
fn quantile_label(q: f64) -> String {
    let s = go_g(q);
    if q.is_finite() && !s.contains(['.', 'e']) {
        format!("{s}.0")
    } else {
        s
    }
}
