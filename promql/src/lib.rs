//! promlite-promql: a PromQL engine with Prometheus 3.x semantics.
//!
//! It parses a query, plans it and evaluates it over any storage that implements
//! the crate's storage trait; it never sees how samples are stored.
#![deny(missing_docs)]

mod duration_expr;
mod engine;
mod error;
mod extended_range;
mod info_selector;
mod eval;
pub mod functions;
mod parser;
mod storage;
mod value;

#[doc(hidden)]
pub mod promqltest;

pub use engine::{CancelToken, Engine, EngineOptions, QueryRange, QueryResult, QueryStats};
pub use error::QueryError;
pub use duration_expr::DurationContext;
pub use parser::{parse, parse_duration_ms, parse_with_context};
pub use storage::{
    MatchOp, Matcher, MatcherError, MemStorage, Storage, StorageError, StorageSeries,
};
pub use value::{
    is_stale_nan, FPoint, Label, Labels, Sample, Series, Value, METRIC_NAME, STALE_NAN_BITS,
};
