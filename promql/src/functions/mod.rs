//! PromQL functions: one registration table and the pure kernels behind it.
//!
//! The table ([`lookup`], [`FUNCTIONS`]) maps every function name Prometheus 3.x
//! knows to a [`FunctionSpec`]: argument and return types, whether it is
//! experimental, whether the metric name survives it, and an [`Implementation`]
//! saying how the evaluator runs it:
//!
//! - [`Implementation::Range`]: a [`RangeKernel`] called once per series and step
//!   with that series' samples in the range window ([`RangeWindow`]) and the
//!   step's scalar arguments (`rate`, every `*_over_time`, `deriv`, ...).
//! - [`Implementation::Float`]: a [`FloatKernel`] applied to each float sample of
//!   an instant vector, with the step's scalar arguments (`abs`, `round`, `clamp`).
//! - [`Implementation::Date`]: a [`DateKernel`] applied to each value (seconds
//!   since the epoch), or to the evaluation time when called without argument.
//! - [`Implementation::Nullary`]: a scalar computed from the evaluation time
//!   (`time`, `pi`).
//! - [`Implementation::Engine`]: functions that need labels, grouping or the
//!   argument expression itself, which the evaluator implements, using the
//!   helpers in [`absent`], [`histogram`], [`labels`] and [`sort`].
//!
//! Kernels are pure: no labels, no allocation per sample (the caller passes a
//! reusable scratch buffer), no panics on any input. They never see histogram
//! samples; native histograms are a later issue. Each kernel names the upstream
//! Prometheus function whose semantics it ports.

pub mod absent;
pub mod date;
pub mod histogram;
#[cfg(test)]
mod invariants;
pub mod kahan;
pub mod labels;
pub mod math;
pub mod over_time;
pub mod quantile;
pub mod rate;
mod registry;
pub mod regression;
pub mod sort;

use crate::value::FPoint;

pub use registry::{lookup, FUNCTIONS};

/// The type of a function argument or result, as in the PromQL type system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// A single number.
    Scalar,
    /// An instant vector.
    Vector,
    /// A range vector.
    Matrix,
    /// A string literal.
    String,
}

/// How many arguments beyond the listed ones a function accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variadic {
    /// Exactly the listed arguments.
    Exact,
    /// Up to this many of the trailing listed arguments may be omitted.
    Optional(u8),
    /// The last listed argument may repeat any number of times (also zero).
    Unbounded,
}

/// Where a range kernel's window came from: plain selectors give the samples
/// strictly inside the window; the experimental `anchored` and `smoothed`
/// modifiers also hand over the samples just outside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum WindowMode {
    /// `m[5m]`: samples with `range_start_ms < t <= range_end_ms`.
    #[default]
    Plain,
    /// `m[5m] anchored`: additionally the last sample at or before
    /// `range_start_ms` (within the lookback delta), if any.
    Anchored,
    /// `m[5m] smoothed`: like `Anchored`, plus the first sample after
    /// `range_end_ms` (within the lookback delta), if any.
    Smoothed,
}

/// One series' samples for one step of a range-vector function.
#[derive(Debug, Clone, Copy)]
pub struct RangeWindow<'a> {
    /// Float samples in time order. For [`WindowMode::Plain`] exactly those with
    /// `range_start_ms < t <= range_end_ms` (stale markers removed).
    pub points: &'a [FPoint],
    /// Start of the window in ms, exclusive: step time − range − offset.
    pub range_start_ms: i64,
    /// End of the window in ms, inclusive: step time − offset.
    pub range_end_ms: i64,
    /// The step's evaluation time in ms, before `@` and offset are applied
    /// (Prometheus's `enh.Ts`). Only `predict_linear` reads it: it predicts
    /// relative to this time even when `@` pins the window elsewhere.
    pub eval_ts_ms: i64,
    /// How the window was selected.
    pub mode: WindowMode,
}

impl RangeWindow<'_> {
    /// The range duration in seconds (`range_end_ms - range_start_ms`).
    pub fn range_seconds(&self) -> f64 {
        self.range_end_ms.saturating_sub(self.range_start_ms) as f64 / 1000.0
    }
}

/// Computes one output value from one series' window.
///
/// `params` are the step's values of the function's scalar arguments in
/// argument order (`quantile_over_time(q, m)` gets `[q]`, `predict_linear(m, t)`
/// gets `[t]`). `scratch` is a buffer the caller owns and reuses across calls;
/// kernels may clear and fill it. `Ok(None)` means "no output for this series at
/// this step" (too few samples, for instance).
pub type RangeKernel = fn(
    &RangeWindow<'_>,
    params: &[f64],
    scratch: &mut Vec<f64>,
) -> Result<Option<f64>, FunctionError>;

/// Maps one float sample value to its output, given the step's scalar
/// arguments in argument order (`round(v, 10)` gets `[10]`); `None` drops the
/// sample (as `clamp` does when max < min).
pub type FloatKernel = fn(v: f64, params: &[f64]) -> Option<f64>;

/// Maps a time in seconds since the epoch (UTC) to a calendar field.
pub type DateKernel = fn(seconds: f64) -> f64;

/// A scalar function of the evaluation time in ms.
pub type NullaryKernel = fn(eval_ts_ms: i64) -> f64;

/// Functions the evaluator implements itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EngineFunction {
    /// `absent(v)`: 1 with [`absent::absent_labels`] if `v` is empty.
    Absent,
    /// `absent_over_time(m)`: as `absent`, per step, over the range.
    AbsentOverTime,
    /// `scalar(v)`: the single float of `v`, else NaN.
    Scalar,
    /// `vector(s)`: `s` with no labels.
    Vector,
    /// `timestamp(v)`: each sample's timestamp in seconds (name dropped).
    Timestamp,
    /// `start_timestamp(v)`: each sample's start timestamp in seconds (experimental).
    StartTimestamp,
    /// `sort(v)`: [`sort::cmp_value_ascending`].
    Sort,
    /// `sort_desc(v)`: [`sort::cmp_value_descending`].
    SortDesc,
    /// `sort_by_label(v, l...)`: [`sort::cmp_by_labels`].
    SortByLabel,
    /// `sort_by_label_desc(v, l...)`: [`sort::cmp_by_labels`], reversed.
    SortByLabelDesc,
    /// `label_replace(...)`: see [`labels::LabelReplace`].
    LabelReplace,
    /// `label_join(...)`: see [`labels::LabelJoin`].
    LabelJoin,
    /// `histogram_quantile(q, v)`: group by labels without `le`, then
    /// [`histogram::bucket_quantile`].
    HistogramQuantile,
    /// `histogram_quantiles(v, label, q...)`: several quantiles at once (experimental).
    HistogramQuantiles,
    /// `histogram_fraction(lo, hi, v)`: group as for `HistogramQuantile`, then
    /// [`histogram::bucket_fraction`].
    HistogramFraction,
    /// `histogram_count(v)` over native histograms.
    HistogramCount,
    /// `histogram_sum(v)` over native histograms.
    HistogramSum,
    /// `histogram_avg(v)` over native histograms.
    HistogramAvg,
    /// `histogram_stddev(v)` over native histograms.
    HistogramStddev,
    /// `histogram_stdvar(v)` over native histograms.
    HistogramStdvar,
    /// `info(v, selector?)`: joins info-metric labels (experimental).
    Info,
    /// `start()`: the query start in seconds (duration expressions).
    Start,
    /// `end()`: the query end in seconds (duration expressions).
    End,
    /// `range()`: the query range in seconds (duration expressions).
    Range,
    /// `step()`: the query step in seconds (duration expressions).
    Step,
    /// `min_of(a, b)` (duration expressions).
    MinOf,
    /// `max_of(a, b)` (duration expressions).
    MaxOf,
}

/// How a function is computed.
#[derive(Debug, Clone, Copy)]
pub enum Implementation {
    /// Per series and step over a range window.
    Range(RangeKernel),
    /// Per float sample of an instant vector.
    Float(FloatKernel),
    /// Per float sample of an optional instant vector, read as seconds.
    Date(DateKernel),
    /// A scalar from the evaluation time.
    Nullary(NullaryKernel),
    /// Done by the evaluator.
    Engine(EngineFunction),
}

/// Everything the evaluator needs to know about one function.
#[derive(Debug, Clone, Copy)]
pub struct FunctionSpec {
    /// The name as written in queries.
    pub name: &'static str,
    /// Argument types in order (see `variadic` for optional/repeated ones).
    pub args: &'static [ValueType],
    /// How many trailing arguments are optional or repeat.
    pub variadic: Variadic,
    /// The result type.
    pub returns: ValueType,
    /// Experimental in Prometheus 3.x (behind `--enable-feature=promql-experimental-functions`).
    pub experimental: bool,
    /// Whether output series keep `__name__` (Prometheus drops it for every
    /// function that computes a new value; with delayed name removal the drop
    /// happens at the end of evaluation).
    pub keeps_metric_name: bool,
    /// Whether Prometheus emits the "metric might not be a counter" info when
    /// the float input's metric name lacks a counter suffix (`_total`, `_sum`,
    /// `_count`, `_bucket`).
    pub expects_counter: bool,
    /// How it is computed.
    pub implementation: Implementation,
}

/// Errors a function raises; each aborts the query as Prometheus does.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FunctionError {
    /// `double_exponential_smoothing` smoothing factor outside (0, 1).
    #[error("invalid smoothing factor. Expected: 0 < sf < 1, got: {}", go_fixed(*.0))]
    InvalidSmoothingFactor(f64),
    /// `double_exponential_smoothing` trend factor outside (0, 1).
    #[error("invalid trend factor. Expected: 0 < tf < 1, got: {}", go_fixed(*.0))]
    InvalidTrendFactor(f64),
    /// A regular expression argument that does not compile.
    #[error("invalid regular expression in {function}(): {regex}")]
    InvalidRegex {
        /// The function it was passed to.
        function: &'static str,
        /// The expression as written.
        regex: String,
    },
    /// A label name argument that is not a valid label name.
    #[error("invalid {role} label name in {function}(): {name}")]
    InvalidLabelName {
        /// The function it was passed to.
        function: &'static str,
        /// `"source"` or `"destination"`.
        role: &'static str,
        /// The name as written.
        name: String,
    },
}

/// Formats like Go's `%f`: six decimals, `NaN`, `+Inf`, `-Inf`.
fn go_fixed(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        format!("{v:.6}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_texts_match_prometheus() {
        assert_eq!(
            FunctionError::InvalidSmoothingFactor(1.0).to_string(),
            "invalid smoothing factor. Expected: 0 < sf < 1, got: 1.000000"
        );
        assert_eq!(
            FunctionError::InvalidTrendFactor(f64::NAN).to_string(),
            "invalid trend factor. Expected: 0 < tf < 1, got: NaN"
        );
        let e = FunctionError::InvalidLabelName {
            function: "label_join",
            role: "source",
            name: String::new(),
        };
        assert_eq!(e.to_string(), "invalid source label name in label_join(): ");
    }
}
