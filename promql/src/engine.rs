//! The query engine's front door: options, the [`Engine`], query ranges,
//! cancellation and results.
//!
//! A query is parsed ([`crate::parser`]), checked against the options
//! (experimental functions), evaluated over a step grid by [`crate::eval`], and
//! its value shaped for the caller: an instant query returns a vector, scalar,
//! string or matrix at one time; a range query always returns a matrix sorted
//! by labels. The engine holds no per-query state; it is cheap to share.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::duration_expr::DurationContext;
use crate::error::QueryError;
use crate::eval::{self, Evaluator, Grid};
use crate::storage::Storage;
use crate::value::Value;

/// The most steps a range query may have (as Prometheus's HTTP API enforces).
const MAX_POINTS_PER_SERIES: i64 = 11_000;

/// Engine settings; [`EngineOptions::default`] matches Prometheus's defaults.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// How far back an instant vector selector looks for the latest sample (default 5m).
    pub lookback_delta: Duration,
    /// The most samples a query may hold in memory at once (default 50,000,000).
    pub max_samples: usize,
    /// Wall-clock limit per query (default 2m).
    pub timeout: Duration,
    /// Step of a subquery written without one (`x[5m:]`), default 1m.
    pub default_subquery_step: Duration,
    /// Whether experimental functions (`sort_by_label`, `limitk`, ...) may be used.
    pub enable_experimental_functions: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_delta: Duration::from_secs(300),
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
            default_subquery_step: Duration::from_secs(60),
            enable_experimental_functions: false,
        }
    }
}

/// Which times a query is evaluated at (all in ms since the epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryRange {
    /// One evaluation at `t_ms`.
    Instant {
        /// Evaluation time, ms.
        t_ms: i64,
    },
    /// Evaluations at `start_ms, start_ms + step_ms, ...` up to `end_ms` inclusive.
    Range {
        /// First evaluation time, ms.
        start_ms: i64,
        /// Last evaluation time (inclusive), ms.
        end_ms: i64,
        /// Distance between evaluations, ms; must be positive.
        step_ms: i64,
    },
}

/// A handle that cancels a running query from another thread.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A fresh, not-canceled token.
    pub fn new() -> Self {
        CancelToken::default()
    }

    /// Asks every query holding a clone of this token to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_canceled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Counters collected while evaluating a query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryStats {
    /// Samples read from storage.
    pub samples_loaded: u64,
    /// The largest number of samples held in one intermediate result.
    pub peak_samples: usize,
}

/// A successful query's value with its annotations.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryResult {
    /// The result.
    pub value: Value,
    /// Warnings (`PromQL warning: ...`), deduplicated, in order of appearance.
    pub warnings: Vec<String>,
    /// Infos (`PromQL info: ...`), deduplicated, in order of appearance.
    pub infos: Vec<String>,
    /// Evaluation statistics.
    pub stats: QueryStats,
}

/// The PromQL engine.
#[derive(Clone, Debug, Default)]
pub struct Engine {
    opts: EngineOptions,
}

impl Engine {
    /// An engine with the given options.
    pub fn new(opts: EngineOptions) -> Self {
        Engine { opts }
    }

    /// The engine's options.
    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// Evaluates `query` at one time `t_ms`.
    pub fn instant_query(
        &self,
        storage: &dyn Storage,
        query: &str,
        t_ms: i64,
    ) -> Result<QueryResult, QueryError> {
        self.query(
            storage,
            query,
            QueryRange::Instant { t_ms },
            &CancelToken::new(),
        )
    }

    /// Evaluates `query` at every step from `start_ms` to `end_ms` inclusive.
    pub fn range_query(
        &self,
        storage: &dyn Storage,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryResult, QueryError> {
        self.query(
            storage,
            query,
            QueryRange::Range {
                start_ms,
                end_ms,
                step_ms,
            },
            &CancelToken::new(),
        )
    }

    /// Evaluates `query` over `range`, stopping early when `cancel` fires or the
    /// timeout passes.
    pub fn query(
        &self,
        storage: &dyn Storage,
        query: &str,
        range: QueryRange,
        cancel: &CancelToken,
    ) -> Result<QueryResult, QueryError> {
        let ctx = match range {
            QueryRange::Instant { .. } => DurationContext::default(),
            QueryRange::Range {
                start_ms,
                end_ms,
                step_ms,
            } => DurationContext {
                step_ms,
                range_ms: end_ms.saturating_sub(start_ms),
            },
        };
        let expr = crate::parser::parse_with_context(query, ctx)?;
        eval::check_functions_enabled(&expr, self.opts.enable_experimental_functions)?;
        let grid = match range {
            QueryRange::Instant { t_ms } => Grid::instant(t_ms),
            QueryRange::Range {
                start_ms,
                end_ms,
                step_ms,
            } => {
                if step_ms <= 0 {
                    return Err(QueryError::bad_data(
                        "zero or negative query resolution step widths are not accepted. Try a positive integer",
                    ));
                }
                if end_ms < start_ms {
                    return Err(QueryError::bad_data(
                        "end timestamp must not be before start time",
                    ));
                }
                // Prometheus's API limit, kept here so no caller can ask the
                // engine for an unbounded number of steps.
                if end_ms.saturating_sub(start_ms) / step_ms > MAX_POINTS_PER_SERIES {
                    return Err(QueryError::bad_data(format!(
                        "exceeded maximum resolution of {MAX_POINTS_PER_SERIES} points per timeseries. Try decreasing the query resolution (?step=XX)"
                    )));
                }
                Grid::new(start_ms, end_ms, step_ms)
            }
        };
        let deadline = Instant::now().checked_add(self.opts.timeout);
        let mut ev = Evaluator::new(storage, &self.opts, cancel, deadline, query, grid);
        let value = ev.run(&expr, matches!(range, QueryRange::Range { .. }))?;
        let (warnings, infos, stats) = ev.finish();
        Ok(QueryResult {
            value,
            warnings,
            infos,
            stats,
        })
    }
}
