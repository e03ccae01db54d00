//! `/-/healthy` and `/-/ready`, as Prometheus serves them.
//!
//! The router built by [`app`](super::app) exists only once the database is
//! open (the WAL replayed), so here both answer 200. While the WAL is still
//! replaying the server answers from [`starting_routes`] instead: healthy (the
//! process is alive), not ready (503), and 503 for everything else, so load
//! balancers and senders wait rather than lose writes.

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;

/// Routes of a ready server.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/-/healthy", get(healthy).head(healthy))
        .route("/-/ready", get(ready).head(ready))
}

/// Routes served while the WAL replays.
pub fn starting_routes() -> Router {
    Router::new()
        .route("/-/healthy", get(healthy).head(healthy))
        .route("/-/ready", get(not_ready).head(not_ready))
        .fallback(not_ready)
}

async fn healthy() -> &'static str {
    "Promlite is Healthy.\n"
}

async fn ready() -> &'static str {
    "Promlite is Ready.\n"
}

async fn not_ready() -> (StatusCode, &'static str) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "Service Unavailable: replaying the write-ahead log.\n",
    )
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    async fn status(router: axum::Router, path: &str) -> StatusCode {
        router
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap()
            .status()
    }

    #[tokio::test]
    async fn while_replaying_healthy_but_not_ready() {
        assert_eq!(
            status(super::starting_routes(), "/-/healthy").await,
            StatusCode::OK
        );
        assert_eq!(
            status(super::starting_routes(), "/-/ready").await,
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            status(super::starting_routes(), "/api/v1/query").await,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
