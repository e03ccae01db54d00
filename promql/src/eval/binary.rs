//! Binary operators (placeholder until the matching logic lands in this file).

use promql_parser::parser::BinaryExpr;

use super::{Evaluator, Grid, Val};
use crate::error::QueryError;

impl Evaluator<'_> {
    /// Evaluates a binary expression.
    pub(crate) fn eval_binary(&mut self, _b: &BinaryExpr, _grid: Grid) -> Result<Val, QueryError> {
        Err(QueryError::execution(
            "binary operators are not implemented yet (issue 4)",
        ))
    }
}
