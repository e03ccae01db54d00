//! `POST /api/v1/write` (and its alias `/api/v1/push`): remote-write 1.0 and 2.0.
//!
//! The handler is thin: pick the protocol from `Content-Type`, hand the body to
//! the [`Ingester`](crate::ingest::Ingester) on a blocking thread (it waits for
//! the WAL), and map the outcome to the status codes senders act on. Prometheus
//! retries 5xx and drops 4xx, so: 204 when everything was stored; 400 (one line)
//! when the body is undecodable or some series/samples were refused (the rest
//! *was* stored, and retrying would not help); 415 for a content type we do not
//! speak; 413 for a body over the size cap; 5xx only when storage could not
//! commit, so nothing acknowledged is ever lost and a retry is right.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use promlite_remote_write::{parse_content_type, WriteProtocol};

use super::AppState;
use crate::ingest::{IngestError, IngestReport};

/// Response headers of remote-write 2.0 with what was written.
const SAMPLES_WRITTEN: HeaderName =
    HeaderName::from_static("x-prometheus-remote-write-samples-written");
const HISTOGRAMS_WRITTEN: HeaderName =
    HeaderName::from_static("x-prometheus-remote-write-histograms-written");
const EXEMPLARS_WRITTEN: HeaderName =
    HeaderName::from_static("x-prometheus-remote-write-exemplars-written");

/// Handles one remote-write request.
pub async fn write(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let protocol = match parse_content_type(content_type) {
        Ok(p) => p,
        Err(e) => return plain(StatusCode::UNSUPPORTED_MEDIA_TYPE, e.to_string()),
    };
    if let Some(encoding) = headers.get(header::CONTENT_ENCODING) {
        if !encoding.as_bytes().eq_ignore_ascii_case(b"snappy") {
            let shown = String::from_utf8_lossy(encoding.as_bytes()).into_owned();
            return plain(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("unsupported content encoding {shown:?}: expected snappy"),
            );
        }
    }
    let ingester = state.ingester.clone();
    let outcome = tokio::task::spawn_blocking(move || ingester.ingest(protocol, &body)).await;
    match outcome {
        Ok(Ok(report)) => respond(protocol, &report),
        Ok(Err(IngestError::Decode(e))) => plain(StatusCode::BAD_REQUEST, e.to_string()),
        Ok(Err(IngestError::Storage(e))) => {
            tracing::error!(error = %e, "remote-write commit failed; answering 5xx so the sender retries");
            let status = match e {
                promlite_tsdb::Error::Closed => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            plain(
                status,
                "storage could not commit the write; nothing was stored, retry later".to_owned(),
            )
        }
        Err(join) => {
            tracing::error!(error = %join, "remote-write task failed");
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error".to_owned(),
            )
        }
    }
}

/// 204, or 400 naming what was refused; 2.0 responses say what was written.
fn respond(protocol: WriteProtocol, report: &IngestReport) -> Response {
    let mut response = match report.rejection_summary() {
        None => StatusCode::NO_CONTENT.into_response(),
        Some(summary) => {
            tracing::warn!(reason = %summary, "remote-write request partly rejected");
            plain(StatusCode::BAD_REQUEST, summary)
        }
    };
    if protocol == WriteProtocol::V2 {
        let headers = response.headers_mut();
        headers.insert(SAMPLES_WRITTEN, HeaderValue::from(report.samples_written));
        // Native histograms and exemplars are accepted but not stored yet.
        headers.insert(HISTOGRAMS_WRITTEN, HeaderValue::from(0u32));
        headers.insert(EXEMPLARS_WRITTEN, HeaderValue::from(0u32));
    }
    response
}

fn plain(status: StatusCode, message: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message + "\n",
    )
        .into_response()
}
