//! `GET /metrics`: the server's own metrics in the Prometheus text format.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::AppState;

/// Renders the registry, refreshing the gauges that mirror database state first.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let stats = state.db.stats_with_limit(0);
    state
        .metrics
        .head_series
        .set(i64::try_from(stats.num_series).unwrap_or(i64::MAX));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
