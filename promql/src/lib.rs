//! promlite-promql: a PromQL engine with Prometheus 3.x semantics.
//!
//! It parses a query, plans it and evaluates it over any storage that implements
//! the crate's storage trait; it never sees how samples are stored.
//!
//! Guarantees: no query text panics the engine (bad input is
//! [`QueryError::BadData`]); timeouts, cancellation and the sample limit stop
//! work and keep their error kind; windows are left-open, the lookback is 5m
//! by default and staleness markers end series, as in Prometheus 3.x.
//!
//! ```
//! use promlite_promql::{Engine, Labels, MemStorage, Value};
//!
//! let mut storage = MemStorage::new();
//! let series = Labels::from_pairs([("__name__", "requests_total"), ("job", "api")]);
//! for minute in 0..=10 {
//!     storage.add(series.clone(), minute * 60_000, minute as f64 * 120.0);
//! }
//! let result = Engine::default()
//!     .instant_query(&storage, "sum by (job) (rate(requests_total[5m]))", 600_000)
//!     .unwrap();
//! let Value::Vector(v) = result.value else { panic!("expected a vector") };
//! assert_eq!(v[0].metric.get("job"), Some("api"));
//! assert!((v[0].f - 2.0).abs() < 1e-9);
//! ```
#![deny(missing_docs)]

mod duration_expr;
mod engine;
mod error;
mod eval;
mod extended_range;
pub mod functions;
mod info_selector;
mod parser;
mod points;
mod storage;
#[cfg(test)]
mod test_rng;
mod value;

#[doc(hidden)]
pub mod promqltest;

pub use duration_expr::DurationContext;
pub use engine::{CancelToken, Engine, EngineOptions, QueryRange, QueryResult, QueryStats};
pub use error::QueryError;
pub use parser::{parse, parse_duration_ms, parse_with_context};
pub use points::{Points, SharedBuffer};
pub use storage::{
    MatchOp, Matcher, MatcherError, MemStorage, Storage, StorageError, StorageSeries,
};
pub use value::{
    is_stale_nan, FPoint, Label, Labels, Sample, Series, Value, METRIC_NAME, STALE_NAN_BITS,
};

/// True for the matcher labels the parser wrapper adds to carry syntax that
/// promql-parser does not know (`anchored`/`smoothed`, `info()` selectors); they
/// are not part of the user's query and must not be shown back (e.g. by `parse_query`).
pub fn is_internal_matcher_label(name: &str) -> bool {
    name == extended_range::MODE_LABEL || name == info_selector::INFO_SELECTOR_LABEL
}
