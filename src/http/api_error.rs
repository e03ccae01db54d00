//! The one error type of the query API and its mapping to HTTP.
//!
//! Each variant is a Prometheus `errorType` with the status code Prometheus
//! gives it (`web/api/v1/api.go` `returnAPIError`): `bad_data` 400,
//! `execution` 422, `timeout` 503, `canceled` 499, `internal` 500,
//! `not_found` 404. Client mistakes are answered with their message and not
//! logged; an internal error is logged here, once, with its whole source chain,
//! and the client only learns that something failed inside the server.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use promlite_promql::QueryError;

use super::format::error_body;

/// An error answered as `{"status":"error","errorType":…,"error":…}`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The request was malformed: unparsable query or parameter, bad range (400).
    #[error("{0}")]
    BadData(String),
    /// The query was valid but its evaluation failed (422).
    #[error("{0}")]
    Execution(String),
    /// The query ran past its timeout (503).
    #[error("{0}")]
    Timeout(String),
    /// The query was canceled, e.g. the client went away (499).
    #[error("{0}")]
    Canceled(String),
    /// Something failed inside the server, e.g. storage I/O (500). Logged, not shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The path or object does not exist (404).
    #[error("{0}")]
    NotFound(String),
}

impl ApiError {
    /// A `bad_data` error for parameter `name`, phrased as Prometheus does:
    /// `invalid parameter "time": <reason>`.
    pub fn invalid_param(name: &str, reason: impl std::fmt::Display) -> Self {
        ApiError::BadData(format!("invalid parameter {name:?}: {reason}"))
    }

    /// Maps an engine error to its API kind (Prometheus `returnAPIError`): a
    /// bad query is `bad_data` on parameter `param`, too many samples is an
    /// `execution` error, a storage failure is `internal`.
    pub fn from_query(e: QueryError, param: &str) -> Self {
        match e {
            QueryError::BadData { message } => ApiError::invalid_param(param, message),
            QueryError::Execution { message } => ApiError::Execution(message),
            e @ QueryError::TooManySamples { .. } => ApiError::Execution(e.to_string()),
            e @ QueryError::Timeout { .. } => ApiError::Timeout(e.to_string()),
            e @ QueryError::Canceled { .. } => ApiError::Canceled(e.to_string()),
            e => ApiError::internal(e),
        }
    }

    /// Wraps a server-side failure.
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        ApiError::Internal(Box::new(e))
    }

    /// The Prometheus `errorType` string.
    pub fn error_type(&self) -> &'static str {
        match self {
            ApiError::BadData(_) => "bad_data",
            ApiError::Execution(_) => "execution",
            ApiError::Timeout(_) => "timeout",
            ApiError::Canceled(_) => "canceled",
            ApiError::Internal(_) => "internal",
            ApiError::NotFound(_) => "not_found",
        }
    }

    /// The HTTP status Prometheus answers with for this kind.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadData(_) => StatusCode::BAD_REQUEST,
            ApiError::Execution(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Timeout(_) => StatusCode::SERVICE_UNAVAILABLE,
            // 499 is nginx's "client closed request", which Prometheus reuses.
            ApiError::Canceled(_) => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(source) = &self {
            let mut chain = source.to_string();
            let mut next = source.source();
            while let Some(e) = next {
                chain.push_str(": ");
                chain.push_str(&e.to_string());
                next = e.source();
            }
            tracing::error!(error = %chain, "query API internal error");
        }
        let body = error_body(self.error_type(), &self.to_string());
        (
            self.status(),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}

/// Answers any path the API does not know with a JSON 404 (Grafana reads a
/// 404 as "feature absent", e.g. the search API, so it must stay a 404).
pub async fn not_found() -> ApiError {
    ApiError::NotFound("not found".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_prometheus_codes() {
        let io = std::io::Error::other("disk on fire");
        let cases = [
            (ApiError::BadData("x".into()), 400, "bad_data"),
            (ApiError::Execution("x".into()), 422, "execution"),
            (ApiError::Timeout("x".into()), 503, "timeout"),
            (ApiError::Canceled("x".into()), 499, "canceled"),
            (ApiError::internal(io), 500, "internal"),
            (ApiError::NotFound("x".into()), 404, "not_found"),
        ];
        for (e, code, ty) in cases {
            assert_eq!(e.status().as_u16(), code);
            assert_eq!(e.error_type(), ty);
        }
    }

    #[test]
    fn internal_details_stay_out_of_the_message() {
        let e = ApiError::internal(std::io::Error::other("disk on fire"));
        assert_eq!(e.to_string(), "internal error");
        assert_eq!(
            ApiError::invalid_param("time", "cannot parse \"x\" to a valid timestamp").to_string(),
            r#"invalid parameter "time": cannot parse "x" to a valid timestamp"#
        );
    }
}
