//! The protobuf messages of remote-write 1.0 and 2.0 and of remote-read, written by
//! hand as `prost` derive structs (no protoc at build time).
//!
//! Field numbers and types follow Prometheus's `prompb/types.proto`,
//! `prompb/remote.proto` and `prompb/io/prometheus/write/v2/types.proto`; a changed
//! number here would silently corrupt every exchange, so the tests pin a few encoded
//! bytes. Messages that are identical in both versions (samples, native histograms,
//! bucket spans, the metric type enum) are defined once here and shared. The ingest
//! path does not decode through these structs (see `decode`), but the encoders and
//! remote-read do, and the tests compare both decoders.

pub mod read;
pub mod v1;
pub mod v2;

/// One float sample (`prometheus.Sample`, `io.prometheus.write.v2.Sample`).
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Sample {
    /// The value; stale markers are NaN with bits `0x7ff0000000000002`.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// A label pair (`prometheus.Label`), used by 1.0 and by remote-read.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Message)]
pub struct Label {
    /// The label name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// The label value.
    #[prost(string, tag = "2")]
    pub value: String,
}

impl From<(&str, &str)> for Label {
    /// A label pair from a borrowed `(name, value)`.
    fn from((name, value): (&str, &str)) -> Self {
        Label {
            name: name.to_owned(),
            value: value.to_owned(),
        }
    }
}

/// The type of a metric family (`MetricMetadata.MetricType`, `Metadata.MetricType`:
/// the same numbers in both versions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum MetricType {
    /// Unknown or unspecified.
    Unknown = 0,
    /// A counter.
    Counter = 1,
    /// A gauge.
    Gauge = 2,
    /// A histogram (classic or native).
    Histogram = 3,
    /// A gauge histogram.
    GaugeHistogram = 4,
    /// A summary.
    Summary = 5,
    /// An info metric.
    Info = 6,
    /// A state set.
    StateSet = 7,
}

impl MetricType {
    /// The lower-case name the Prometheus HTTP API uses in `/api/v1/metadata`.
    pub fn api_name(self) -> &'static str {
        match self {
            MetricType::Unknown => "unknown",
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
        }
    }

    /// The type for a wire number; unknown numbers map to [`MetricType::Unknown`].
    pub fn from_wire(n: i32) -> Self {
        MetricType::try_from(n).unwrap_or(MetricType::Unknown)
    }
}

/// A native histogram sample (`prometheus.Histogram`, `io.prometheus.write.v2.Histogram`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Histogram {
    /// Count of observations: integer for regular histograms, float for float histograms.
    #[prost(oneof = "HistogramCount", tags = "1, 2")]
    pub count: Option<HistogramCount>,
    /// Sum of observations.
    #[prost(double, tag = "3")]
    pub sum: f64,
    /// Bucket schema: -4..=8 exponential, -53 custom buckets.
    #[prost(sint32, tag = "4")]
    pub schema: i32,
    /// Width of the zero bucket.
    #[prost(double, tag = "5")]
    pub zero_threshold: f64,
    /// Count in the zero bucket.
    #[prost(oneof = "HistogramZeroCount", tags = "6, 7")]
    pub zero_count: Option<HistogramZeroCount>,
    /// Spans of the negative buckets.
    #[prost(message, repeated, tag = "8")]
    pub negative_spans: Vec<BucketSpan>,
    /// Negative bucket counts as deltas (integer histograms).
    #[prost(sint64, repeated, tag = "9")]
    pub negative_deltas: Vec<i64>,
    /// Negative bucket counts as absolute values (float histograms).
    #[prost(double, repeated, tag = "10")]
    pub negative_counts: Vec<f64>,
    /// Spans of the positive buckets.
    #[prost(message, repeated, tag = "11")]
    pub positive_spans: Vec<BucketSpan>,
    /// Positive bucket counts as deltas (integer histograms).
    #[prost(sint64, repeated, tag = "12")]
    pub positive_deltas: Vec<i64>,
    /// Positive bucket counts as absolute values (float histograms).
    #[prost(double, repeated, tag = "13")]
    pub positive_counts: Vec<f64>,
    /// Counter-reset hint (`ResetHint`: 0 unknown, 1 yes, 2 no, 3 gauge).
    #[prost(int32, tag = "14")]
    pub reset_hint: i32,
    /// Milliseconds since the epoch.
    #[prost(int64, tag = "15")]
    pub timestamp: i64,
    /// Upper bounds of custom buckets (schema -53).
    #[prost(double, repeated, tag = "16")]
    pub custom_values: Vec<f64>,
}

/// The `count` oneof of [`Histogram`].
#[derive(Clone, Copy, PartialEq, prost::Oneof)]
pub enum HistogramCount {
    /// Integer count.
    #[prost(uint64, tag = "1")]
    CountInt(u64),
    /// Float count.
    #[prost(double, tag = "2")]
    CountFloat(f64),
}

/// The `zero_count` oneof of [`Histogram`].
#[derive(Clone, Copy, PartialEq, prost::Oneof)]
pub enum HistogramZeroCount {
    /// Integer count.
    #[prost(uint64, tag = "6")]
    ZeroCountInt(u64),
    /// Float count.
    #[prost(double, tag = "7")]
    ZeroCountFloat(f64),
}

/// A run of consecutive buckets (`BucketSpan`).
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct BucketSpan {
    /// Gap to the previous span, or the index of the first bucket.
    #[prost(sint32, tag = "1")]
    pub offset: i32,
    /// Number of consecutive buckets.
    #[prost(uint32, tag = "2")]
    pub length: u32,
}
