//! `/api/v1/metadata`: metric type, help and unit as received through
//! remote-write (the store is `crate::metadata`). Grafana's code completion and
//! query hints read it; codemirror-promql calls it without parameters.
//! Parameters follow Prometheus's `metricMetadata`: `metric` selects one
//! family, `limit` caps the families and `limit_per_metric` the entries of
//! each (negative or absent = unlimited).

use axum::extract::State;

use super::api_error::ApiError;
use super::format::{self, JsonBody};
use super::params::Params;
use super::read_state::ReadState;

/// `/api/v1/metadata`: `{"<metric>":[{"type":…,"help":…,"unit":…}],…}`.
pub async fn metadata(
    State(state): State<ReadState>,
    params: Params,
) -> Result<JsonBody, ApiError> {
    let limit = count_param(&params, "limit")?;
    let per_metric = count_param(&params, "limit_per_metric")?;
    let metric = params.get_non_empty("metric");
    let families = state.metadata.query(metric, limit, per_metric);
    Ok(format::success(
        |out| {
            out.push('{');
            for (i, (name, entries)) in families.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                format::push_str(out, name);
                out.push(':');
                format::push_array(out, entries, |out, m| {
                    out.push_str(r#"{"type":"#);
                    format::push_str(out, m.metric_type);
                    out.push_str(r#","help":"#);
                    format::push_str(out, &m.help);
                    out.push_str(r#","unit":"#);
                    format::push_str(out, &m.unit);
                    out.push('}');
                });
            }
            out.push('}');
        },
        &[],
        &[],
    ))
}

/// An integer count parameter: negative or absent means unlimited.
fn count_param(params: &Params, key: &str) -> Result<Option<usize>, ApiError> {
    match params.get_non_empty(key) {
        None => Ok(None),
        Some(s) => {
            let n: i64 = s
                .parse()
                .map_err(|_| ApiError::BadData(format!("{key} must be a number")))?;
            Ok(usize::try_from(n).ok())
        }
    }
}
