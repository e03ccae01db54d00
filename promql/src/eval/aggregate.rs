//! Aggregations (placeholder until the grouping logic lands in this file).

use promql_parser::parser::AggregateExpr;

use super::{Evaluator, Grid, Val};
use crate::error::QueryError;

impl Evaluator<'_> {
    /// Evaluates an aggregation.
    pub(crate) fn eval_aggregate(
        &mut self,
        _a: &AggregateExpr,
        _grid: Grid,
    ) -> Result<Val, QueryError> {
        Err(QueryError::execution(
            "aggregations are not implemented yet (issue 4)",
        ))
    }
}
