//! `POST /api/v1/admin/tsdb/snapshot`: a consistent, hard-linked copy of the
//! database under `<data-dir>/snapshots/<name>/`, as Prometheus's admin API makes.
//!
//! Served only when the server runs with `--web.enable-admin-api`; otherwise the
//! route answers 403 like Prometheus does, so a user learns the flag exists.

use crate::civil::civil_from_days;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::{AdminApi, AppState};

/// Query parameters of the snapshot endpoint.
#[derive(Debug, Default, serde::Deserialize)]
pub struct SnapshotParams {
    /// `skip_head=true` snapshots only the blocks, not the in-memory head.
    #[serde(default)]
    pub skip_head: Option<String>,
}

/// Takes a snapshot and answers `{"status":"success","data":{"name":...}}`.
pub async fn snapshot(
    State(state): State<AppState>,
    Query(params): Query<SnapshotParams>,
) -> Response {
    if state.admin_api == AdminApi::Disabled {
        return error(
            StatusCode::FORBIDDEN,
            "unavailable",
            "admin APIs disabled; start with --web.enable-admin-api",
        );
    }
    let with_head = !matches!(params.skip_head.as_deref(), Some("true" | "1"));
    let db = state.db.clone();
    let name = snapshot_name();
    let dir = db.dir().join("snapshots").join(&name);
    match tokio::task::spawn_blocking(move || db.snapshot(&dir, with_head)).await {
        Ok(Ok(_)) => {
            Json(serde_json::json!({"status": "success", "data": {"name": name}})).into_response()
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "snapshot failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "snapshot failed; see the server log",
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "snapshot task failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "snapshot failed; see the server log",
            )
        }
    }
}

/// `20260101T120000Z-<16 hex digits>`: sortable by time, unique per call.
fn snapshot_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    // RandomState is seeded per process and per instance: enough to tell two
    // snapshots taken in the same second apart.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(now.as_nanos());
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z-{:016x}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        h.finish()
    )
}

fn error(status: StatusCode, error_type: &str, message: &str) -> Response {
    (
        status,
        Json(serde_json::json!({"status": "error", "errorType": error_type, "error": message})),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(20_513), (2026, 3, 1));
        let name = snapshot_name();
        assert_eq!(name.len(), "20260101T120000Z-".len() + 16, "{name}");
    }
}
