//! Subqueries: `expr[range:step] offset o @ a`.
//!
//! The inner expression is evaluated on its own grid whose steps are whole
//! multiples of the subquery step (as Prometheus aligns them, so a subquery
//! gives the same points whatever the outer query's start), covering every
//! outer window `(ref - range, ref]`. The inner result then feeds the same
//! window machinery as a matrix selector. A missing step uses the engine's
//! default subquery step.

use promql_parser::parser::SubqueryExpr;

use super::selectors::Windows;
use super::{duration_ms, offset_ms, Evaluator, Grid, StepSeries, Val};
use crate::error::QueryError;
use crate::functions::WindowMode;
use crate::points::Points;
use crate::value::{FPoint, Labels, Series};

impl Evaluator<'_> {
    /// Evaluates a subquery's inner expression on its aligned grid; returns its
    /// series and where the outer windows sit.
    pub(crate) fn eval_subquery_inner(
        &mut self,
        sq: &SubqueryExpr,
        grid: Grid,
    ) -> Result<(Vec<StepSeries>, Windows), QueryError> {
        let step = match sq.step {
            Some(d) => duration_ms(d),
            None => duration_ms(self.opts.default_subquery_step),
        };
        if step <= 0 {
            return Err(QueryError::bad_data("subquery step must be positive"));
        }
        let win = Windows {
            range: duration_ms(sq.range),
            offset: offset_ms(&sq.offset),
            at: self.resolve_at(&sq.at),
            mode: WindowMode::Plain,
            lookback: 0,
        };
        let (min_end, max_end) = win.end_bounds(grid);
        let first = min_end.saturating_sub(win.range);
        // Go's integer division truncates toward zero, as Rust's does.
        let mut start = step.saturating_mul(first / step);
        if start < first {
            start = start.saturating_add(step);
        }
        if start > max_end {
            return Ok((Vec::new(), win));
        }
        let inner = Grid::new(start, max_end, step);
        // Every inner step holds at least one value: a grid larger than the
        // sample limit cannot succeed, so refuse it before allocating.
        self.check_samples(inner.len())?;
        let series = match self.eval(&sq.expr, inner)? {
            Val::Vector(v) => v,
            Val::Scalar(v) => vec![StepSeries {
                metric: Labels::empty(),
                drop_name: false,
                points: inner.times().zip(v).map(|(t, f)| FPoint { t, f }).collect(),
            }],
            _ => {
                return Err(QueryError::bad_data(
                    "subquery is only allowed on instant vector or scalar",
                ))
            }
        };
        Ok((series, win))
    }

    /// A subquery as a query result (instant queries only).
    pub(crate) fn eval_subquery_value(
        &mut self,
        sq: &SubqueryExpr,
        grid: Grid,
    ) -> Result<Vec<Series>, QueryError> {
        let (series, win) = self.eval_subquery_inner(sq, grid)?;
        let end = win.end(grid.start);
        let mut out: Vec<Series> = super::finalize_names(series)?
            .into_iter()
            .filter_map(|s| {
                let floats: Points = s
                    .points
                    .iter()
                    .filter(|p| p.t > end - win.range && p.t <= end)
                    .copied()
                    .collect();
                (!floats.is_empty()).then_some(Series {
                    metric: s.metric,
                    floats,
                })
            })
            .collect();
        out.sort_by(|a, b| a.metric.cmp(&b.metric));
        Ok(out)
    }
}
