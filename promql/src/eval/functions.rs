//! Function calls (placeholder until dispatch to the kernels lands in this file).

use promql_parser::parser::Call;

use super::{Evaluator, Grid, Val};
use crate::error::QueryError;

impl Evaluator<'_> {
    /// Evaluates a function call.
    pub(crate) fn eval_call(&mut self, _c: &Call, _grid: Grid) -> Result<Val, QueryError> {
        Err(QueryError::execution(
            "functions are not implemented yet (issue 4)",
        ))
    }
}
