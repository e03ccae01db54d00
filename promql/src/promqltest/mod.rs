//! A runner for Prometheus's PromQL test-script language (`load`, `clear`,
//! `eval instant|range` with `expect` lines), used to check the engine against
//! the scripts upstream ships in `promql/promqltest/testdata/`.
//!
//! The pieces, in the order a script flows through them: `lexer` (durations,
//! numbers, strings) and [`series`] (the series-value notation, with
//! [`histogram`] for `{{...}}`) feed [`script`], which splits a file into
//! commands and uses [`expect`] for eval blocks; [`load`] puts series into a
//! [`crate::MemStorage`]; [`run`] executes evals, including the two extra checks
//! upstream's runner performs (`checks`: every instant eval again in range
//! mode, and step invariance with `@`), and [`compare`] judges each outcome.
//! [`known`] reads and writes the list of evals that are known to fail, and
//! [`features`] tags evals by the optional features they need (core or not).
//!
//! This module is test infrastructure: it is public (hidden from the docs)
//! only so the crate's integration test can drive it. It never panics on a
//! malformed script; every problem becomes a failed eval with a message.

pub(crate) mod checks;
pub mod compare;
pub mod expect;
pub mod features;
pub mod histogram;
pub mod known;
pub(crate) mod lexer;
pub mod load;
pub mod run;
pub mod script;
pub mod series;

pub use run::{run_script, test_engine, EvalOutcome, ScriptReport};
