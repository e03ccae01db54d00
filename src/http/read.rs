//! `POST /api/v1/read`: Prometheus remote-read, so a Prometheus with
//! `remote_read` pointed here can query promlite.
//!
//! Both response types are served. `SAMPLES` decodes each series into raw samples
//! in one snappy `ReadResponse`. `STREAMED_XOR_CHUNKS` sends XOR chunks from
//! `Series::chunks`: the head's and XOR blocks' chunks as stored (ours are
//! Prometheus's), cold-block runs re-encoded as XOR chunks of at most 120
//! samples (Prometheus reads no other float encoding), one series per frame,
//! with a series split across frames past [`MAX_FRAME_BYTES`]. The client's
//! `accepted_response_types` are honoured in order. Every query is bounded by
//! [`MAX_SAMPLES`] so one request cannot exhaust memory.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use promlite_remote_write::proto::read::{
    Chunk, ChunkEncoding, ChunkedReadResponse, ChunkedSeries, LabelMatcher, MatcherType, Query,
    QueryResult, ReadResponse, ResponseType,
};
use promlite_remote_write::proto::{v1, Label, Sample};
use promlite_remote_write::{
    decode_read_request, encode_read_response, write_chunked_frame, CHUNKED_CONTENT_TYPE,
};
use promlite_tsdb::{Db, MatchOp, Matcher, Series};

use super::AppState;

/// Most samples one `SAMPLES` response may carry (Prometheus's default read sample limit).
pub const MAX_SAMPLES: usize = 50_000_000;
/// A streamed frame is closed once its chunks pass this many bytes.
pub const MAX_FRAME_BYTES: usize = 1 << 20;
/// Most bytes of one `STREAMED_XOR_CHUNKS` response (it is built in memory).
pub const MAX_CHUNKED_RESPONSE_BYTES: usize = 1 << 30;

/// Why a read request failed.
#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error("{0}")]
    BadRequest(String),
    #[error("storage: {0}")]
    Storage(#[from] promlite_tsdb::Error),
}

/// Handles one remote-read request.
pub async fn read(State(state): State<AppState>, body: Bytes) -> Response {
    let max_bytes = state.ingester.limits().max_decompressed_bytes;
    let request = match decode_read_request(&body, max_bytes) {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
    };
    let streamed =
        pick_response_type(&request.accepted_response_types) == ResponseType::StreamedXorChunks;
    let db = state.db.clone();
    let result = tokio::task::spawn_blocking(move || {
        if streamed {
            chunked_response(&db, &request.queries)
        } else {
            samples_response(&db, &request.queries)
        }
    })
    .await;
    match result {
        Ok(Ok(response)) => response,
        Ok(Err(ReadError::BadRequest(reason))) => {
            (StatusCode::BAD_REQUEST, reason + "\n").into_response()
        }
        Ok(Err(ReadError::Storage(e))) => {
            tracing::error!(error = %e, "remote-read failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "storage error\n").into_response()
        }
        Err(join) => {
            tracing::error!(error = %join, "remote-read task failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
        }
    }
}

/// The first accepted type we serve; none listed means `SAMPLES`.
fn pick_response_type(accepted: &[i32]) -> ResponseType {
    accepted
        .iter()
        .find_map(|&t| ResponseType::try_from(t).ok())
        .unwrap_or(ResponseType::Samples)
}

fn select(db: &Db, query: &Query) -> Result<Vec<Series>, ReadError> {
    let matchers = query
        .matchers
        .iter()
        .map(to_matcher)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(db
        .querier(query.start_timestamp_ms, query.end_timestamp_ms)?
        .select(&matchers)?)
}

fn to_matcher(m: &LabelMatcher) -> Result<Matcher, ReadError> {
    let op = match MatcherType::try_from(m.r#type) {
        Ok(MatcherType::Eq) => MatchOp::Equal,
        Ok(MatcherType::Neq) => MatchOp::NotEqual,
        Ok(MatcherType::Re) => MatchOp::Regex,
        Ok(MatcherType::Nre) => MatchOp::NotRegex,
        Err(_) => {
            return Err(ReadError::BadRequest(format!(
                "unknown matcher type {}",
                m.r#type
            )))
        }
    };
    Matcher::new(op, m.name.as_str(), m.value.as_str())
        .map_err(|e| ReadError::BadRequest(format!("invalid matcher {}: {e}", m.name)))
}

fn wire_labels(series: &Series) -> Vec<Label> {
    series
        .labels()
        .iter()
        .map(|l| Label {
            name: l.name.to_string(),
            value: l.value.to_string(),
        })
        .collect()
}

fn samples_response(db: &Db, queries: &[Query]) -> Result<Response, ReadError> {
    let mut results = Vec::with_capacity(queries.len());
    let mut total = 0usize;
    for query in queries {
        let mut timeseries = Vec::new();
        for series in select(db, query)? {
            let mut samples = Vec::new();
            let mut it = series.iter();
            for (timestamp, value) in it.by_ref() {
                samples.push(Sample { value, timestamp });
            }
            if let Some(e) = it.err() {
                tracing::error!(series = %series.labels(), error = %e, "corrupt chunk while serving remote-read");
            }
            total += samples.len();
            if total > MAX_SAMPLES {
                return Err(ReadError::BadRequest(format!(
                    "exceeded sample limit ({MAX_SAMPLES}); narrow the time range or the matchers"
                )));
            }
            timeseries.push(v1::TimeSeries {
                labels: wire_labels(&series),
                samples,
                ..Default::default()
            });
        }
        results.push(QueryResult { timeseries });
    }
    let body = encode_read_response(&ReadResponse { results });
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-protobuf"),
            (header::CONTENT_ENCODING, "snappy"),
        ],
        body,
    )
        .into_response())
}

fn chunked_response(db: &Db, queries: &[Query]) -> Result<Response, ReadError> {
    let mut body = Vec::new();
    for (index, query) in queries.iter().enumerate() {
        let query_index = i64::try_from(index).unwrap_or(i64::MAX);
        for series in select(db, query)? {
            let labels = wire_labels(&series);
            let mut chunks = Vec::new();
            let mut frame_bytes = 0usize;
            for c in series.chunks() {
                frame_bytes += c.data.len();
                chunks.push(Chunk {
                    min_time_ms: c.min_time_ms,
                    max_time_ms: c.max_time_ms,
                    r#type: ChunkEncoding::Xor as i32,
                    data: c.data.to_vec(),
                });
                if frame_bytes >= MAX_FRAME_BYTES {
                    let chunked_series = vec![ChunkedSeries {
                        labels: labels.clone(),
                        chunks: std::mem::take(&mut chunks),
                    }];
                    write_chunked_frame(
                        &ChunkedReadResponse {
                            chunked_series,
                            query_index,
                        },
                        &mut body,
                    );
                    frame_bytes = 0;
                }
            }
            if !chunks.is_empty() {
                let chunked_series = vec![ChunkedSeries { labels, chunks }];
                write_chunked_frame(
                    &ChunkedReadResponse {
                        chunked_series,
                        query_index,
                    },
                    &mut body,
                );
            }
            if body.len() > MAX_CHUNKED_RESPONSE_BYTES {
                return Err(ReadError::BadRequest(format!(
                    "response over {MAX_CHUNKED_RESPONSE_BYTES} bytes; narrow the time range or the matchers"
                )));
            }
        }
    }
    Ok(([(header::CONTENT_TYPE, CHUNKED_CONTENT_TYPE)], body).into_response())
}
