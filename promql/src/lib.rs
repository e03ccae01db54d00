//! promlite-promql: a PromQL engine with Prometheus 3.x semantics.
//!
//! It parses a query, plans it and evaluates it over any storage that implements
//! the crate's storage trait; it never sees how samples are stored.
#![deny(missing_docs)]

mod value;

pub use value::{
    is_stale_nan, FPoint, Label, Labels, Sample, Series, Value, METRIC_NAME, STALE_NAN_BITS,
};
