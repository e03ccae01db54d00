//! Remote-read: `prometheus.ReadRequest` and its responses, both the buffered
//! `SAMPLES` form and the streamed `STREAMED_XOR_CHUNKS` form.

use super::v1::TimeSeries;
use super::Label;

/// A remote-read request: one or more queries.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ReadRequest {
    /// The queries, answered in order.
    #[prost(message, repeated, tag = "1")]
    pub queries: Vec<Query>,
    /// Response types the client accepts, in preference order; empty means `SAMPLES`.
    #[prost(enumeration = "ResponseType", repeated, tag = "2")]
    pub accepted_response_types: Vec<i32>,
}

/// The response encodings of remote-read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ResponseType {
    /// One snappy-compressed [`ReadResponse`] with raw samples.
    Samples = 0,
    /// A stream of length-prefixed, CRC32C-checked [`ChunkedReadResponse`] frames.
    StreamedXorChunks = 1,
}

/// One remote-read query.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Query {
    /// Start of the range, ms since the epoch, inclusive.
    #[prost(int64, tag = "1")]
    pub start_timestamp_ms: i64,
    /// End of the range, ms since the epoch, inclusive.
    #[prost(int64, tag = "2")]
    pub end_timestamp_ms: i64,
    /// Label matchers, all of which a series must satisfy.
    #[prost(message, repeated, tag = "3")]
    pub matchers: Vec<LabelMatcher>,
    /// Hints about the surrounding PromQL query.
    #[prost(message, optional, tag = "4")]
    pub hints: Option<ReadHints>,
}

/// A label matcher of a remote-read query.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct LabelMatcher {
    /// The operator.
    #[prost(enumeration = "MatcherType", tag = "1")]
    pub r#type: i32,
    /// The label name.
    #[prost(string, tag = "2")]
    pub name: String,
    /// The value or regular expression.
    #[prost(string, tag = "3")]
    pub value: String,
}

/// Matcher operators (`LabelMatcher.Type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum MatcherType {
    /// `=`
    Eq = 0,
    /// `!=`
    Neq = 1,
    /// `=~`
    Re = 2,
    /// `!~`
    Nre = 3,
}

/// Hints about the PromQL query behind a remote-read query.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ReadHints {
    /// Query step, ms.
    #[prost(int64, tag = "1")]
    pub step_ms: i64,
    /// The surrounding function or aggregation.
    #[prost(string, tag = "2")]
    pub func: String,
    /// Start, ms since the epoch.
    #[prost(int64, tag = "3")]
    pub start_ms: i64,
    /// End, ms since the epoch.
    #[prost(int64, tag = "4")]
    pub end_ms: i64,
    /// Grouping labels of the aggregation.
    #[prost(string, repeated, tag = "5")]
    pub grouping: Vec<String>,
    /// True for `by`, false for `without`.
    #[prost(bool, tag = "6")]
    pub by: bool,
    /// Range of a range vector selector, ms.
    #[prost(int64, tag = "7")]
    pub range_ms: i64,
}

/// The `SAMPLES` response: one result per query, in request order.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ReadResponse {
    /// The results.
    #[prost(message, repeated, tag = "1")]
    pub results: Vec<QueryResult>,
}

/// The series that matched one query.
#[derive(Clone, PartialEq, prost::Message)]
pub struct QueryResult {
    /// Matching series with their samples in time order.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

/// One frame of a `STREAMED_XOR_CHUNKS` response.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ChunkedReadResponse {
    /// Series (or parts of one series) with their chunks.
    #[prost(message, repeated, tag = "1")]
    pub chunked_series: Vec<ChunkedSeries>,
    /// Index of the query in [`ReadRequest::queries`] these series answer.
    #[prost(int64, tag = "2")]
    pub query_index: i64,
}

/// A series with its encoded chunks.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ChunkedSeries {
    /// Labels, sorted by name.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Chunks in start-time order; they may overlap.
    #[prost(message, repeated, tag = "2")]
    pub chunks: Vec<Chunk>,
}

/// One encoded chunk.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Chunk {
    /// Time of the first sample, ms, inclusive.
    #[prost(int64, tag = "1")]
    pub min_time_ms: i64,
    /// Time of the last sample, ms, inclusive.
    #[prost(int64, tag = "2")]
    pub max_time_ms: i64,
    /// The chunk encoding.
    #[prost(enumeration = "ChunkEncoding", tag = "3")]
    pub r#type: i32,
    /// The chunk bytes, exactly as the TSDB stores them.
    #[prost(bytes = "vec", tag = "4")]
    pub data: Vec<u8>,
}

/// Chunk encodings (`Chunk.Encoding`), matching Prometheus's `chunkenc.Encoding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ChunkEncoding {
    /// Unknown.
    Unknown = 0,
    /// Gorilla XOR float chunk.
    Xor = 1,
    /// Native histogram chunk.
    Histogram = 2,
    /// Float native histogram chunk.
    FloatHistogram = 3,
}
