//! Status and discovery endpoints: `/api/v1/status/{buildinfo,runtimeinfo,
//! flags,config,tsdb}`, `/api/v1/{rules,alerts,targets}` and `GET /`.
//!
//! `buildinfo` is how Grafana decides what the server is: it reports a
//! Prometheus version (so Grafana's version-gated features, such as `match[]`
//! on the labels API, are enabled) and deliberately has no `features` map,
//! which Grafana would read as "this is Mimir". promlite's own version is in
//! the extra `promliteVersion` field. Rules, alerts and targets answer with
//! empty lists in Prometheus's shapes until those subsystems exist.

use crate::civil::civil_from_days;
use std::fmt::Write as _;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::api_error::ApiError;
use super::format::{self, JsonBody};
use super::params::Params;
use super::read_state::ReadState;

/// The Prometheus release whose HTTP API promlite implements; reported as
/// `version` in buildinfo so clients enable the matching features.
pub const EMULATED_PROMETHEUS_VERSION: &str = "3.5.0";

/// Entries per list in `/api/v1/status/tsdb` unless `limit` says otherwise
/// (Prometheus's default).
const DEFAULT_TSDB_STATUS_LIMIT: usize = 10;

/// `/api/v1/status/buildinfo`.
pub async fn buildinfo() -> JsonBody {
    format::success(
        |out| {
            out.push_str(r#"{"version":"#);
            format::push_str(out, EMULATED_PROMETHEUS_VERSION);
            out.push_str(r#","revision":"#);
            format::push_str(out, concat!("promlite-", env!("CARGO_PKG_VERSION")));
            out.push_str(r#","branch":"promlite","buildUser":"","buildDate":"","goVersion":"","promliteVersion":"#);
            format::push_str(out, env!("CARGO_PKG_VERSION"));
            out.push('}');
        },
        &[],
        &[],
    )
}

/// `/api/v1/status/runtimeinfo`: the fields of Prometheus's `RuntimeInfo`
/// that have a meaning here.
pub async fn runtimeinfo(State(state): State<ReadState>) -> JsonBody {
    let info = &state.info;
    format::success(
        |out| {
            out.push_str(r#"{"startTime":"#);
            format::push_str(out, &rfc3339(info.start_time_ms));
            out.push_str(r#","CWD":"#);
            format::push_str(out, &info.cwd);
            out.push_str(r#","reloadConfigSuccess":true,"lastConfigTime":"#);
            format::push_str(out, &rfc3339(info.start_time_ms));
            out.push_str(r#","corruptionCount":0,"storageRetention":"#);
            format::push_str(out, &info.storage_retention);
            out.push('}');
        },
        &[],
        &[],
    )
}

/// `/api/v1/status/flags`: the command-line flags as a string map.
pub async fn flags(State(state): State<ReadState>) -> JsonBody {
    format::success(
        |out| {
            format::push_label_pairs(
                out,
                state
                    .info
                    .flags
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            )
        },
        &[],
        &[],
    )
}

/// `/api/v1/status/config`: `{"yaml":"<the loaded configuration>"}`.
pub async fn config(State(state): State<ReadState>) -> JsonBody {
    format::success(
        |out| {
            out.push_str(r#"{"yaml":"#);
            format::push_str(out, &state.info.config_yaml);
            out.push('}');
        },
        &[],
        &[],
    )
}

/// `/api/v1/rules`: no rules are evaluated yet.
pub async fn rules() -> JsonBody {
    format::success(|out| out.push_str(r#"{"groups":[]}"#), &[], &[])
}

/// `/api/v1/alerts`: no alerting rules yet.
pub async fn alerts() -> JsonBody {
    format::success(|out| out.push_str(r#"{"alerts":[]}"#), &[], &[])
}

/// `/api/v1/targets`: promlite does not scrape yet.
pub async fn targets() -> JsonBody {
    format::success(
        |out| out.push_str(r#"{"activeTargets":[],"droppedTargets":[],"droppedTargetCounts":{}}"#),
        &[],
        &[],
    )
}

/// `GET /`: a plain 200 so clients' connection checks pass
/// (`prometheus-api-client` `check_prometheus_connection`).
pub async fn root() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        concat!(
            "promlite ",
            env!("CARGO_PKG_VERSION"),
            ": Prometheus HTTP API at /api/v1/\n"
        ),
    )
}

/// Formats ms since the epoch as RFC3339 with millisecond precision, UTC.
fn rfc3339(t_ms: i64) -> String {
    let secs = t_ms.div_euclid(1000);
    let ms = t_ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut s = String::with_capacity(24);
    let _ = write!(
        s,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    );
    s
}

/// `/api/v1/status/tsdb`: head cardinality from the postings index, each list
/// cut to `limit` entries (default 10, must be positive, as in Prometheus).
pub async fn tsdb(State(state): State<ReadState>, params: Params) -> Result<JsonBody, ApiError> {
    let limit = match params.get_non_empty("limit") {
        None => DEFAULT_TSDB_STATUS_LIMIT,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| ApiError::BadData("limit must be a positive number".to_owned()))?,
    };
    let stats = tokio::task::spawn_blocking(move || state.db.stats_with_limit(limit))
        .await
        .map_err(ApiError::internal)?;
    Ok(format::success(
        |out| {
            // An empty head reports the inverted range Prometheus reports.
            let _ = write!(
                out,
                r#"{{"headStats":{{"numSeries":{},"numLabelPairs":{},"minTime":{},"maxTime":{}}}"#,
                stats.num_series,
                stats.postings.num_label_pairs,
                stats.head_min_time_ms.unwrap_or(i64::MAX),
                stats.head_max_time_ms.unwrap_or(i64::MIN),
            );
            let p = &stats.postings;
            push_counts(
                out,
                "seriesCountByMetricName",
                &p.series_count_by_metric_name,
            );
            push_counts(
                out,
                "labelValueCountByLabelName",
                &p.label_value_count_by_label_name,
            );
            push_counts(
                out,
                "memoryInBytesByLabelName",
                &p.memory_in_bytes_by_label_name,
            );
            push_counts(
                out,
                "seriesCountByLabelValuePair",
                &p.series_count_by_label_value_pair,
            );
            out.push('}');
        },
        &[],
        &[],
    ))
}

/// Appends `,"<key>":[{"name":…,"value":…},…]`.
fn push_counts(out: &mut String, key: &str, counts: &[(String, u64)]) {
    out.push(',');
    format::push_str(out, key);
    out.push(':');
    format::push_array(out, counts, |out, (name, value)| {
        out.push_str(r#"{"name":"#);
        format::push_str(out, name);
        let _ = write!(out, r#","value":{value}}}"#);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_of_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_722_129_935), "2026-11-26T19:42:09.935Z");
        assert_eq!(rfc3339(951_782_400_500), "2000-02-29T00:00:00.500Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999Z");
    }
}
