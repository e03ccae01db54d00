//! PromQL endpoints: `/api/v1/query`, `/api/v1/query_range`,
//! `/api/v1/query_exemplars`, `/api/v1/format_query` and `/api/v1/parse_query`.
//!
//! Handlers are thin: read the parameters in the order and with the messages
//! of Prometheus's `web/api/v1/api.go` (`query`, `queryRange`,
//! `queryExemplars`), run the engine on a blocking thread, and write the JSON.
//! A query runs under a cancel token that fires when the request future is
//! dropped (the client went away), and under the smaller of the engine's
//! timeout and the request's `timeout` parameter.

use std::time::Instant;

use axum::extract::State;
use promlite_promql::{CancelToken, Engine, EngineOptions, QueryRange, QueryResult, Value};

use super::api_error::ApiError;
use super::format::{self, JsonBody};
use super::params::{parse_duration, Params, MAX_TIME_MS, MIN_TIME_MS};
use super::read_state::{now_ms, ReadState};

/// Prometheus's cap on points per series of a range query (`queryRange`).
const MAX_POINTS_PER_SERIES: i64 = 11_000;

/// Most warnings (and, separately, infos) returned per query.
const MAX_ANNOTATIONS: usize = 10;

/// The warning Prometheus adds when `limit` cut a result.
pub const TRUNCATED_WARNING: &str = "results truncated due to limit";

/// `/api/v1/query`: an instant query at `time` (default now).
pub async fn instant(State(state): State<ReadState>, params: Params) -> Result<JsonBody, ApiError> {
    state.count_query("instant");
    let t_ms = params.time_or("time", now_ms())?;
    let query = params.get("query").unwrap_or_default().to_owned();
    let run = QueryRun::from_params(&state, &params)?;
    run.execute(state, query, QueryRange::Instant { t_ms })
        .await
}

/// `/api/v1/query_range`: a range query over `[start, end]` every `step`.
pub async fn range(State(state): State<ReadState>, params: Params) -> Result<JsonBody, ApiError> {
    state.count_query("range");
    let (start_ms, end_ms, step_ms) = range_params(&params)?;
    let query = params.get("query").unwrap_or_default().to_owned();
    let run = QueryRun::from_params(&state, &params)?;
    run.execute(
        state,
        query,
        QueryRange::Range {
            start_ms,
            end_ms,
            step_ms,
        },
    )
    .await
}

/// Reads and checks `start`, `end` and `step` of a range query; returns ms.
fn range_params(params: &Params) -> Result<(i64, i64, i64), ApiError> {
    let start = parse_required_time(params, "start")?;
    let end = parse_required_time(params, "end")?;
    if end < start {
        return Err(ApiError::invalid_param(
            "end",
            "end timestamp must not be before start time",
        ));
    }
    let step_ns = parse_duration(params.get("step").unwrap_or_default())
        .map_err(|e| ApiError::invalid_param("step", e))?;
    if step_ns <= 0 {
        return Err(ApiError::invalid_param(
            "step",
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    // Go computes end.Sub(start) as a Duration, which saturates at ~292 years.
    let span_ns = i64::try_from(i128::from(end) - i128::from(start))
        .ok()
        .and_then(|ms| ms.checked_mul(1_000_000))
        .unwrap_or(i64::MAX);
    if span_ns / step_ns > MAX_POINTS_PER_SERIES {
        return Err(ApiError::BadData(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"
                .to_owned(),
        ));
    }
    Ok((start, end, step_ns / 1_000_000))
}

/// A time parameter without default: absent reads as `""`, which does not parse.
fn parse_required_time(params: &Params, key: &str) -> Result<i64, ApiError> {
    let s = params.get(key).unwrap_or_default();
    super::params::parse_time(s).map_err(|e| ApiError::invalid_param(key, e))
}

/// The per-request settings of one query evaluation.
struct QueryRun {
    engine: Engine,
    with_stats: bool,
    limit: Option<usize>,
}

impl QueryRun {
    /// Reads `timeout`, `stats` and `limit`.
    fn from_params(state: &ReadState, params: &Params) -> Result<Self, ApiError> {
        let mut engine = state.engine.clone();
        if let Some(to) = params.get_non_empty("timeout") {
            let ns = parse_duration(to).map_err(|e| ApiError::invalid_param("timeout", e))?;
            let requested = std::time::Duration::from_nanos(u64::try_from(ns).unwrap_or(0));
            if requested < engine.options().timeout {
                engine = Engine::new(EngineOptions {
                    timeout: requested,
                    ..engine.options().clone()
                });
            }
        }
        Ok(QueryRun {
            engine,
            with_stats: params.get_non_empty("stats").is_some(),
            limit: params.limit()?,
        })
    }

    /// Runs the query on a blocking thread and writes the response.
    async fn execute(
        self,
        state: ReadState,
        query: String,
        range: QueryRange,
    ) -> Result<JsonBody, ApiError> {
        let cancel = CancelToken::new();
        let _cancel_on_drop = CancelOnDrop(cancel.clone());
        let queued = Instant::now();
        let engine = self.engine;
        let storage = state.storage;
        let outcome = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let result = engine.query(storage.as_ref(), &query, range, &cancel);
            (result, started.duration_since(queued), started.elapsed())
        })
        .await
        .map_err(ApiError::internal)?;
        let (result, queue_time, eval_time) = outcome;
        let mut result = result.map_err(|e| ApiError::from_query(e, "query"))?;
        if let Some(limit) = self.limit {
            if truncate(&mut result.value, limit) {
                result.warnings.push(TRUNCATED_WARNING.to_owned());
            }
        }
        cap_annotations(&mut result.warnings, "warning");
        cap_annotations(&mut result.infos, "info");
        let timings = self.with_stats.then(|| Timings {
            queue_secs: queue_time.as_secs_f64(),
            eval_secs: eval_time.as_secs_f64(),
            total_secs: queued.elapsed().as_secs_f64(),
        });
        Ok(write_query_result(&result, timings.as_ref()))
    }
}

/// Cancels the query when the handler's future is dropped.
struct CancelOnDrop(CancelToken);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Keeps the first [`MAX_ANNOTATIONS`] annotations of a kind and says how
/// many were left out, as Prometheus does (`annotations.AsStrings`), so a
/// query over thousands of series does not answer thousands of warnings.
fn cap_annotations(list: &mut Vec<String>, kind: &str) {
    if list.len() > MAX_ANNOTATIONS {
        let omitted = list.len() - MAX_ANNOTATIONS;
        list.truncate(MAX_ANNOTATIONS);
        list.push(format!("{omitted} more {kind} annotations omitted"));
    }
}

/// Cuts a vector or matrix to `limit` series; true if anything was cut.
fn truncate(value: &mut Value, limit: usize) -> bool {
    match value {
        Value::Vector(samples) if samples.len() > limit => {
            samples.truncate(limit);
            true
        }
        Value::Matrix(series) if series.len() > limit => {
            series.truncate(limit);
            true
        }
        _ => false,
    }
}

/// Measured wall-clock times of one query, in seconds.
struct Timings {
    queue_secs: f64,
    eval_secs: f64,
    total_secs: f64,
}

/// Writes `{"status":"success","data":{"resultType":…,"result":…[,"stats":…]}…}`.
fn write_query_result(result: &QueryResult, timings: Option<&Timings>) -> JsonBody {
    format::success(
        |out| {
            out.push('{');
            format::push_result_members(out, &result.value);
            if let Some(t) = timings {
                write_stats(out, result, t);
            }
            out.push('}');
        },
        &result.warnings,
        &result.infos,
    )
}

/// Appends `,"stats":{…}` in the shape of Prometheus's `stats.BuiltinStats`:
/// the timings this server measures, and the sample counters of the engine.
fn write_stats(out: &mut String, result: &QueryResult, t: &Timings) {
    use std::fmt::Write as _;
    let _ = write!(
        out,
        r#","stats":{{"timings":{{"evalTotalTime":{},"execQueueTime":{},"execTotalTime":{}}},"samples":{{"totalQueryableSamples":{},"peakSamples":{}}}}}"#,
        t.eval_secs,
        t.queue_secs,
        t.total_secs,
        result.stats.samples_loaded,
        result.stats.peak_samples
    );
}

/// `/api/v1/query_exemplars`. promlite stores no exemplars yet, so after
/// checking the parameters as Prometheus does, the answer is an empty list.
/// Grafana enables its exemplar UI on this 2xx, and its probe sends
/// milliseconds as seconds, which [`Params::time_or`] accepts.
pub async fn exemplars(params: Params) -> Result<JsonBody, ApiError> {
    let start = params.time_or("start", MIN_TIME_MS)?;
    let end = params.time_or("end", MAX_TIME_MS)?;
    if end < start {
        return Err(ApiError::invalid_param(
            "end",
            "end timestamp must not be before start time",
        ));
    }
    promlite_promql::parse(params.get("query").unwrap_or_default())
        .map_err(|e| ApiError::from_query(e, "query"))?;
    Ok(format::success(|out| out.push_str("[]"), &[], &[]))
}

/// `/api/v1/format_query`: the query pretty-printed, as a JSON string.
pub async fn format_query(params: Params) -> Result<JsonBody, ApiError> {
    let expr = promlite_promql::parse(params.get("query").unwrap_or_default())
        .map_err(|e| ApiError::from_query(e, "query"))?;
    let pretty = expr.prettify();
    Ok(format::success(
        |out| format::push_str(out, &pretty),
        &[],
        &[],
    ))
}

/// `/api/v1/parse_query`: the query's syntax tree as JSON (see `ast_json`).
pub async fn parse_query(params: Params) -> Result<JsonBody, ApiError> {
    let expr = promlite_promql::parse(params.get("query").unwrap_or_default())
        .map_err(|e| ApiError::from_query(e, "query"))?;
    let tree = super::ast_json::translate(&expr).to_string();
    Ok(format::success(|out| out.push_str(&tree), &[], &[]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_are_capped_with_a_count() {
        let mut few: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        cap_annotations(&mut few, "warning");
        assert_eq!(few.len(), 10);
        let mut many: Vec<String> = (0..13).map(|i| i.to_string()).collect();
        cap_annotations(&mut many, "info");
        assert_eq!(many.len(), 11);
        assert_eq!(many.get(9).map(String::as_str), Some("9"));
        assert_eq!(
            many.last().map(String::as_str),
            Some("3 more info annotations omitted")
        );
    }

    #[test]
    fn range_parameters_follow_prometheus() {
        let p = |q: &str| range_params(&Params::from_parts(Some(q), None));
        assert_eq!(p("start=0&end=60&step=15").ok(), Some((0, 60_000, 15_000)));
        assert_eq!(p("start=0&end=60&step=0.5").ok(), Some((0, 60_000, 500)));
        assert!(p("end=60&step=15").is_err(), "start is required");
        assert!(p("start=0&end=60").is_err(), "step is required");
    }
}
