//! `/api/v1/query`, `/api/v1/query_range`, `/api/v1/query_exemplars` and
//! `/api/v1/format_query` against the checklist in
//! `grafana-datasource.md` (Q1–Q3, R8, G1–G12), asserting exact bodies where
//! the format is the point.

mod support;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use support::{SeriesSpec, TestApi};
use tower::ServiceExt;

/// Samples every 15 s from 0 to 600 s.
fn every_15s(v: f64) -> Vec<(i64, f64)> {
    (0..=40).map(|i| (i * 15_000, v)).collect()
}

fn api() -> TestApi {
    TestApi::with_series(&[
        SeriesSpec {
            labels: &[("__name__", "up"), ("job", "a"), ("instance", "x")],
            samples: every_15s(1.0),
        },
        SeriesSpec {
            labels: &[("__name__", "up"), ("job", "b"), ("instance", "y")],
            samples: every_15s(0.0),
        },
        SeriesSpec {
            labels: &[("__name__", "weird"), ("kind", "small")],
            samples: every_15s(1e-7),
        },
        SeriesSpec {
            labels: &[("__name__", "weird"), ("kind", "big")],
            samples: every_15s(1.5e21),
        },
        SeriesSpec {
            labels: &[("__name__", "weird"), ("kind", "nan")],
            samples: every_15s(f64::NAN),
        },
        SeriesSpec {
            labels: &[("__name__", "weird"), ("kind", "inf")],
            samples: every_15s(f64::INFINITY),
        },
        SeriesSpec {
            labels: &[("__name__", "weird"), ("kind", "tiny<&>")],
            samples: every_15s(-0.5),
        },
    ])
}

/// The exact body of a successful query whose `data.result` is `result` (JSON).
fn query_success(result_type: &str, result: &str) -> String {
    format!(r#"{{"status":"success","data":{{"resultType":"{result_type}","result":{result}}}}}"#)
}

/// Asserts `reply` is an API error with `status` and `errorType` `error_type`,
/// whatever its message.
fn assert_error_type(reply: &support::Reply, status: StatusCode, error_type: &str) {
    assert_eq!(reply.status, status, "body: {}", reply.body);
    let j = reply.json();
    assert_eq!(j["status"], "error", "{}", reply.body);
    assert_eq!(j["errorType"], error_type, "{}", reply.body);
}

fn assert_error(reply: &support::Reply, status: u16, error_type: &str, message: &str) {
    assert_eq!(reply.status.as_u16(), status, "body: {}", reply.body);
    let want = format!(
        r#"{{"status":"error","errorType":"{error_type}","error":{}}}"#,
        serde_json::json!(message)
    );
    assert_eq!(reply.body, want);
}

#[tokio::test]
async fn q1a_health_check_post_form() {
    let r = api().post_form("/api/v1/query", "query=1%2B1&time=4").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "application/json");
    assert_eq!(r.body, query_success("scalar", r#"[4,"2"]"#));
}

#[tokio::test]
async fn q1b_health_check_get() {
    let r = api().get("/api/v1/query?query=1%2B1&time=4").await;
    assert_eq!(r.body, query_success("scalar", r#"[4,"2"]"#));
}

#[tokio::test]
async fn q1c_stats_from_url_on_form_post() {
    let r = api()
        .post_form("/api/v1/query?stats=all&foo=bar", "query=up&time=600")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let j = r.json();
    type TypeCheck = fn(&serde_json::Value) -> bool;
    let checks: [(&str, TypeCheck); 3] = [
        (
            "/data/stats/samples/totalQueryableSamples",
            serde_json::Value::is_u64,
        ),
        ("/data/stats/samples/peakSamples", serde_json::Value::is_u64),
        (
            "/data/stats/timings/evalTotalTime",
            serde_json::Value::is_f64,
        ),
    ];
    for (path, is_expected_type) in checks {
        assert!(
            j.pointer(path).is_some_and(is_expected_type),
            "{path}: {}",
            r.body
        );
    }
    // Without `stats` there is no stats member.
    let r = api().post_form("/api/v1/query", "query=up&time=600").await;
    assert!(r.json()["data"].get("stats").is_none());
}

#[tokio::test]
async fn q1d_parse_error_is_bad_data() {
    let r = api().post_form("/api/v1/query", "query=foo(&time=4").await;
    assert_error_type(&r, StatusCode::BAD_REQUEST, "bad_data");
    let j = r.json();
    assert!(
        j["error"]
            .as_str()
            .is_some_and(|e| e.starts_with(r#"invalid parameter "query": "#)),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn q1e_special_values_as_go_strings() {
    let api = api();
    for (q, want) in [
        ("1/0", "+Inf"),
        ("-1/0", "-Inf"),
        ("0/0", "NaN"),
        // Scalars go through Go's 'f' format in Prometheus (checked against
        // 2.42), unlike sample values (see the vector test below).
        ("0.0000001", "0.0000001"),
        ("1.5e21", "1500000000000000000000"),
    ] {
        let r = api
            .get(&format!("/api/v1/query?query={}&time=4", urlencode(q)))
            .await;
        assert_eq!(
            r.body,
            query_success("scalar", &format!(r#"[4,"{want}"]"#)),
            "{q}"
        );
    }
}

#[tokio::test]
async fn vector_values_and_label_escapes_are_exact() {
    let api = api();
    let cases = [
        (
            "small",
            r#"{"__name__":"weird","kind":"small"},"value":[600,"1e-07"]"#,
        ),
        (
            "big",
            r#"{"__name__":"weird","kind":"big"},"value":[600,"1.5e+21"]"#,
        ),
        (
            "nan",
            r#"{"__name__":"weird","kind":"nan"},"value":[600,"NaN"]"#,
        ),
        (
            "inf",
            r#"{"__name__":"weird","kind":"inf"},"value":[600,"+Inf"]"#,
        ),
        (
            "tiny<&>",
            r#"{"__name__":"weird","kind":"tiny\u003c\u0026\u003e"},"value":[600,"-0.5"]"#,
        ),
    ];
    for (kind, member) in cases {
        let q = urlencode(&format!(r#"weird{{kind="{kind}"}}"#));
        let r = api.get(&format!("/api/v1/query?query={q}&time=600")).await;
        assert_eq!(
            r.body,
            query_success("vector", &format!(r#"[{{"metric":{member}}}]"#))
        );
    }
}

#[tokio::test]
async fn fractional_timestamps_keep_three_digits() {
    let api = api();
    let r = api
        .get("/api/v1/query?query=vector(2)&time=1700000000.01")
        .await;
    assert_eq!(
        r.body,
        query_success("vector", r#"[{"metric":{},"value":[1700000000.010,"2"]}]"#)
    );
    // A scalar's time is a plain JSON float in Prometheus: no kept zeros.
    let r = api.get("/api/v1/query?query=2&time=1700000000.01").await;
    assert_eq!(r.body, query_success("scalar", r#"[1700000000.01,"2"]"#));
}

#[tokio::test]
async fn q1f_limit_truncates_with_warning() {
    let r = api().get("/api/v1/query?query=up&time=600&limit=1").await;
    let j = r.json();
    assert_eq!(
        j["data"]["result"].as_array().map(Vec::len),
        Some(1),
        "{}",
        r.body
    );
    assert_eq!(
        j["warnings"],
        serde_json::json!(["results truncated due to limit"])
    );
    let r = api().get("/api/v1/query?query=up&time=600&limit=2").await;
    assert!(r.json().get("warnings").is_none(), "{}", r.body);
    assert_error(
        &api().get("/api/v1/query?query=up&limit=-1").await,
        400,
        "bad_data",
        r#"invalid parameter "limit": limit must be non-negative"#,
    );
}

#[tokio::test]
async fn q1g_empty_query_is_bad_data() {
    let r = api().post_form("/api/v1/query", "query=&time=4").await;
    assert_error_type(&r, StatusCode::BAD_REQUEST, "bad_data");
}

#[tokio::test]
async fn q1h_time_defaults_to_now() {
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let r = api().get("/api/v1/query?query=1").await;
    let after = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let t = r.json()["data"]["result"][0].as_f64().unwrap_or(-1.0);
    assert!(
        t >= before.floor() && t <= after.ceil(),
        "{t} not in [{before}, {after}]"
    );
}

#[tokio::test]
async fn bad_time_parameter_names_the_parameter() {
    assert_error(
        &api().get("/api/v1/query?query=1&time=yesterday").await,
        400,
        "bad_data",
        r#"invalid parameter "time": cannot parse "yesterday" to a valid timestamp"#,
    );
}

#[tokio::test]
async fn q2a_range_query_as_promlib_sends_it() {
    let body = "end=120&query=up%7Bjob%3D%22a%22%7D&start=0&step=60";
    let r = api().post_form("/api/v1/query_range", body).await;
    assert_eq!(
        r.body,
        query_success(
            "matrix",
            r#"[{"metric":{"__name__":"up","instance":"x","job":"a"},"values":[[0,"1"],[60,"1"],[120,"1"]]}]"#
        )
    );
    let g = api().get(&format!("/api/v1/query_range?{body}")).await;
    assert_eq!(g.body, r.body);
}

#[tokio::test]
async fn q2_matrix_series_sorted_by_labels() {
    let r = api()
        .get("/api/v1/query_range?query=up&start=0&end=60&step=60")
        .await;
    let j = r.json();
    let jobs: Vec<&str> = j["data"]["result"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["metric"]["job"].as_str())
        .collect();
    assert_eq!(jobs, ["a", "b"]);
}

#[tokio::test]
async fn q2b_end_before_start() {
    assert_error(
        &api()
            .get("/api/v1/query_range?query=up&start=10&end=5&step=1")
            .await,
        400,
        "bad_data",
        r#"invalid parameter "end": end timestamp must not be before start time"#,
    );
}

#[tokio::test]
async fn q2c_zero_and_negative_steps() {
    for step in ["0", "-15"] {
        assert_error(
            &api()
                .get(&format!(
                    "/api/v1/query_range?query=up&start=0&end=60&step={step}"
                ))
                .await,
            400,
            "bad_data",
            r#"invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer"#,
        );
    }
    assert_error(
        &api()
            .get("/api/v1/query_range?query=up&start=0&end=60&step=fast")
            .await,
        400,
        "bad_data",
        r#"invalid parameter "step": cannot parse "fast" to a valid duration"#,
    );
}

#[tokio::test]
async fn q2d_compound_step_equals_seconds() {
    let api = api();
    let a = api
        .get("/api/v1/query_range?query=up&start=0&end=600&step=1m15s")
        .await;
    let b = api
        .get("/api/v1/query_range?query=up&start=0&end=600&step=75")
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body, b.body);
}

#[tokio::test]
async fn q2e_special_values_in_matrix() {
    let q = urlencode(r#"weird{kind=~"nan|inf"}"#);
    let r = api()
        .get(&format!(
            "/api/v1/query_range?query={q}&start=0&end=15&step=15"
        ))
        .await;
    assert_eq!(
        r.body,
        query_success(
            "matrix",
            r#"[{"metric":{"__name__":"weird","kind":"inf"},"values":[[0,"+Inf"],[15,"+Inf"]]},{"metric":{"__name__":"weird","kind":"nan"},"values":[[0,"NaN"],[15,"NaN"]]}]"#
        )
    );
}

#[tokio::test]
async fn q2f_start_not_aligned_to_step() {
    let q = urlencode(r#"up{job="a"}"#);
    let r = api()
        .get(&format!(
            "/api/v1/query_range?query={q}&start=7.5&end=67.5&step=30"
        ))
        .await;
    assert_eq!(
        r.body,
        query_success(
            "matrix",
            r#"[{"metric":{"__name__":"up","instance":"x","job":"a"},"values":[[7.500,"1"],[37.500,"1"],[67.500,"1"]]}]"#
        )
    );
}

#[tokio::test]
async fn q2_eleven_thousand_points_guard() {
    let api = api();
    // Prometheus refuses only when (end - start) / step > 11000: exactly 11000
    // steps (11001 points) is still answered.
    let ok = api
        .get("/api/v1/query_range?query=1&start=0&end=11000&step=1")
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_error(
        &api.get("/api/v1/query_range?query=1&start=0&end=11001&step=1").await,
        400,
        "bad_data",
        "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
    );
    // Grafana's 48 h range at 15 s resolution (11 520 points) is refused like Prometheus does.
    let r = api
        .get("/api/v1/query_range?query=up&start=1700000000&end=1700172800&step=15")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn empty_results_are_empty_arrays() {
    let r = api()
        .get("/api/v1/query?query=absent_metric&time=600")
        .await;
    assert_eq!(r.body, query_success("vector", r#"[]"#));
    let r = api()
        .get("/api/v1/query_range?query=absent_metric&start=0&end=60&step=15")
        .await;
    assert_eq!(r.body, query_success("matrix", r#"[]"#));
}

#[tokio::test]
async fn instant_query_of_range_selector_is_matrix() {
    let q = urlencode(r#"up{job="a"}[30s]"#);
    let r = api().get(&format!("/api/v1/query?query={q}&time=60")).await;
    assert_eq!(
        r.body,
        query_success(
            "matrix",
            r#"[{"metric":{"__name__":"up","instance":"x","job":"a"},"values":[[45,"1"],[60,"1"]]}]"#
        )
    );
}

#[tokio::test]
async fn execution_errors_are_422() {
    // Both sides have two series with no labels to match on: many-to-many.
    let r = api()
        .get(&format!(
            "/api/v1/query?query={}&time=600",
            urlencode("up + on() up")
        ))
        .await;
    assert_error_type(&r, StatusCode::UNPROCESSABLE_ENTITY, "execution");
}

#[tokio::test]
async fn timeout_is_503() {
    // A 1 ns budget has always expired by the engine's first check.
    let r = api()
        .get("/api/v1/query_range?query=sum(up)&start=0&end=600&step=1&timeout=0.000000001")
        .await;
    assert_error_type(&r, StatusCode::SERVICE_UNAVAILABLE, "timeout");
}

#[tokio::test]
async fn q3a_exemplar_probe_with_millisecond_timestamps() {
    // Grafana's `areExemplarsAvailable` probe: JavaScript milliseconds sent as seconds.
    let r = api()
        .post_form(
            "/api/v1/query_exemplars",
            "query=test&start=1795763499267&end=1795763499267",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, r#"{"status":"success","data":[]}"#);
    let r = api()
        .get("/api/v1/query_exemplars?query=test&start=1795763499267&end=1795763499267")
        .await;
    assert_eq!(r.body, r#"{"status":"success","data":[]}"#);
}

#[tokio::test]
async fn q3b_exemplars_without_selectors() {
    let r = api()
        .post_form("/api/v1/query_exemplars", "query=1%2B1&start=0&end=60")
        .await;
    assert_eq!(r.body, r#"{"status":"success","data":[]}"#);
}

#[tokio::test]
async fn q3c_exemplars_end_before_start() {
    let r = api()
        .post_form("/api/v1/query_exemplars", "query=up&start=60&end=0")
        .await;
    assert_error(
        &r,
        400,
        "bad_data",
        r#"invalid parameter "end": end timestamp must not be before start time"#,
    );
}

#[tokio::test]
async fn r8_format_query() {
    let q = urlencode("sum(rate(foo[5m]))by(job)");
    let r = api().get(&format!("/api/v1/format_query?query={q}")).await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":"sum by (job) (rate(foo[5m]))"}"#
    );
    let r = api().post_form("/api/v1/format_query", "query=sum(").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn g3_browser_form_with_charset_and_plus_spaces() {
    let req = Request::post("/api/v1/query")
        .header(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded;charset=UTF-8",
        )
        .body(Body::from("query=sum+by+%28job%29+%28up%29&time=600"))
        .expect("request");
    let r = api().send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["data"]["result"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn g2_post_with_url_params_and_empty_body() {
    // prometheus-api-client in POST mode: everything in the URL, no content type.
    let req = Request::post("/api/v1/query?query=1%2B1&time=4")
        .body(Body::empty())
        .expect("request");
    let r = api().send(req).await;
    assert_eq!(r.body, query_success("scalar", r#"[4,"2"]"#));
    // The body wins over the URL for the same key.
    let r = api()
        .post_form("/api/v1/query?query=1%2B1&time=4", "query=2%2B2")
        .await;
    assert_eq!(r.body, query_success("scalar", r#"[4,"4"]"#));
}

#[tokio::test]
async fn g4_unknown_parameters_are_ignored() {
    let r = api().get("/api/v1/query?query=1%2B1&time=4&dedup=true&partial_response=1&max_samples_processed_warning_threshold=5").await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn g12_unknown_path_is_json_404() {
    let r = api().get("/api/v1/search/metric_names").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.body,
        r#"{"status":"error","errorType":"not_found","error":"not found"}"#
    );
}

/// Percent-encodes everything but unreserved characters.
fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn g11_gzip_when_asked_never_zstd() {
    use std::io::Read as _;
    let api = api();
    let request = |enc: &str| {
        Request::get("/api/v1/query_range?query=up&start=0&end=600&step=15")
            .header(header::ACCEPT_ENCODING, enc)
            .body(Body::empty())
            .expect("request")
    };
    let plain = api
        .get("/api/v1/query_range?query=up&start=0&end=600&step=15")
        .await;
    let resp = api
        .router()
        .oneshot(request("zstd, br, gzip"))
        .await
        .expect("infallible");
    assert_eq!(
        resp.headers()
            .get(header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .expect("body")
        .to_bytes();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .expect("valid gzip");
    assert_eq!(text, plain.body);
    // zstd alone is not offered back: the body comes uncompressed.
    let resp = api
        .router()
        .oneshot(request("zstd"))
        .await
        .expect("infallible");
    assert!(resp.headers().get(header::CONTENT_ENCODING).is_none());
}

#[tokio::test]
async fn r8_parse_query() {
    let r = api().post_form("/api/v1/parse_query", "query=up").await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"matchers":[{"name":"__name__","type":"=","value":"up"}],"name":"up","offset":0,"startOrEnd":null,"timestamp":null,"type":"vectorSelector"}}"#
    );
    let r = api().get("/api/v1/parse_query?query=up%5B").await;
    assert_error_type(&r, StatusCode::BAD_REQUEST, "bad_data");
}

#[tokio::test]
async fn form_bodies_up_to_ten_mib() {
    let api = api();
    // Larger than axum's 2 MiB default, as long match[] lists or queries can be.
    let padding = "x".repeat(3 << 20);
    let r = api
        .post_form(
            "/api/v1/query",
            &format!("query=1%2B1&time=4&pad={padding}"),
        )
        .await;
    assert_eq!(r.body, query_success("scalar", r#"[4,"2"]"#));
    let padding = "x".repeat(11 << 20);
    let r = api
        .post_form(
            "/api/v1/query",
            &format!("query=1%2B1&time=4&pad={padding}"),
        )
        .await;
    assert_error_type(&r, StatusCode::BAD_REQUEST, "bad_data");
}
