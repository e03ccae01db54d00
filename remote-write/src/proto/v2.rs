//! Remote-write 2.0: `io.prometheus.write.v2.Request`, whose strings all live in one
//! symbols table that series, exemplars and metadata refer to by index.

use super::{Histogram, MetricType, Sample};

/// A remote-write 2.0 request. Fields 1 to 3 are reserved so a 1.0 body decoded as
/// 2.0 comes out empty rather than wrong.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Request {
    /// De-duplicated strings; by convention the first is the empty string.
    #[prost(string, repeated, tag = "4")]
    pub symbols: Vec<String>,
    /// The series.
    #[prost(message, repeated, tag = "5")]
    pub timeseries: Vec<TimeSeries>,
}

/// One series of a 2.0 request.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// Name/value pairs as indexes into [`Request::symbols`]; even length.
    #[prost(uint32, repeated, tag = "1")]
    pub labels_refs: Vec<u32>,
    /// Float samples, oldest first.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    /// Native histogram samples, oldest first.
    #[prost(message, repeated, tag = "3")]
    pub histograms: Vec<Histogram>,
    /// Exemplars attached to the samples.
    #[prost(message, repeated, tag = "4")]
    pub exemplars: Vec<Exemplar>,
    /// The series' metadata.
    #[prost(message, optional, tag = "5")]
    pub metadata: Option<Metadata>,
    /// When the counter started, in ms since the epoch; 0 means unset.
    #[prost(int64, tag = "6")]
    pub created_timestamp: i64,
}

/// An exemplar of a 2.0 series.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Exemplar {
    /// Name/value pairs as indexes into [`Request::symbols`].
    #[prost(uint32, repeated, tag = "1")]
    pub labels_refs: Vec<u32>,
    /// The exemplar's value.
    #[prost(double, tag = "2")]
    pub value: f64,
    /// Milliseconds since the epoch; 0 means unset.
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

/// Metadata of a 2.0 series; field 2 is unused upstream.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Metadata {
    /// The metric type.
    #[prost(enumeration = "MetricType", tag = "1")]
    pub r#type: i32,
    /// Index of the help text in [`Request::symbols`].
    #[prost(uint32, tag = "3")]
    pub help_ref: u32,
    /// Index of the unit in [`Request::symbols`].
    #[prost(uint32, tag = "4")]
    pub unit_ref: u32,
}
