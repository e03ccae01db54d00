//! Replays the requests Grafana's Prometheus data source sends (checklist §4,
//! §5, Q1–Q3, R0–R2), byte for byte as its Go backend (`pkg/promlib`) and
//! frontend build them, and checks the answers Grafana reads.

mod support;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use support::{SeriesSpec, TestApi};

/// The last sample, ms; data covers the hour before it every 15 s.
const T1: i64 = 1_700_000_000_000;
const SCRAPE: i64 = 15_000;

/// A counter growing by `per_scrape` every 15 s over the hour before `T1`.
fn counter(per_scrape: f64) -> Vec<(i64, f64)> {
    (0..=240)
        .map(|i| (T1 - 3_600_000 + i * SCRAPE, per_scrape * i as f64))
        .collect()
}

fn api() -> TestApi {
    TestApi::with_series(&[
        SeriesSpec {
            labels: &[
                ("__name__", "http_request_duration_seconds_bucket"),
                ("le", "0.1"),
            ],
            samples: counter(1.0),
        },
        SeriesSpec {
            labels: &[
                ("__name__", "http_request_duration_seconds_bucket"),
                ("le", "1"),
            ],
            samples: counter(2.0),
        },
        SeriesSpec {
            labels: &[
                ("__name__", "http_request_duration_seconds_bucket"),
                ("le", "+Inf"),
            ],
            samples: counter(3.0),
        },
        SeriesSpec {
            labels: &[("__name__", "up"), ("job", "node"), ("instance", "a:9100")],
            samples: counter(0.0),
        },
        SeriesSpec {
            labels: &[
                ("__name__", "node_uname_info"),
                ("job", "node"),
                ("nodename", "a"),
            ],
            samples: counter(0.0),
        },
    ])
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn save_and_test() {
    let api = api();
    // healthcheck.go: instant query `1+1` at time 4 through the normal query path.
    let r = api.post_form("/api/v1/query", "query=1%2B1&time=4").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}"#
    );
    // heuristics.go: buildinfo without `features` reads as Prometheus.
    let b = api.get("/api/v1/status/buildinfo").await.json();
    assert_eq!(b["status"], "success");
    assert!(b["data"].get("features").is_none());
    // A selector evaluated at t=4 s looks back before the epoch: empty, not an error.
    let r = api.post_form("/api/v1/query", "query=up&time=4").await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#
    );
}

#[tokio::test]
async fn heatmap_range_query_with_rate_interval_and_stats_in_url() {
    let api = api();
    // 24 h dashboard, 1000 px: step 60, $__rate_interval = 1m15s; start/end floored to the step.
    let step_s = 60;
    let end_s = (T1 / 1000) / step_s * step_s;
    let start_s = end_s - 1800;
    let query = "sum by (le) (rate(http_request_duration_seconds_bucket[1m15s]))";
    // url.Values.Encode(): keys sorted, spaces as `+`.
    let body = format!(
        "end={end_s}&query={}&start={start_s}&step={step_s}",
        enc(query)
    );
    assert!(body.contains("sum+by+%28le%29"), "{body}");
    let r = api.post_form("/api/v1/query_range?stats=all", &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let j = r.json();
    assert_eq!(j["data"]["resultType"], "matrix");
    assert!(j["data"]["stats"]["samples"]["totalQueryableSamples"].is_u64());
    let result = j["data"]["result"].as_array().cloned().unwrap_or_default();
    let les: Vec<&str> = result
        .iter()
        .filter_map(|s| s["metric"]["le"].as_str())
        .collect();
    assert_eq!(
        les,
        ["+Inf", "0.1", "1"],
        "series sorted by labels, `le` kept verbatim"
    );
    let want_ts: Vec<i64> = (0..=30).map(|k| start_s + k * step_s).collect();
    for (series, per_scrape) in result.iter().zip([3.0, 1.0, 2.0]) {
        let values = series["values"].as_array().cloned().unwrap_or_default();
        let ts: Vec<i64> = values.iter().filter_map(|p| p[0].as_i64()).collect();
        assert_eq!(ts, want_ts, "every bucket on the same start + k*step grid");
        for p in &values {
            let v: f64 = p[1]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or(f64::NAN);
            assert!(
                (v - per_scrape / 15.0).abs() < 1e-9,
                "rate {v} for {per_scrape}/scrape"
            );
        }
    }
    // The same request as GET gives the same answer (stats timings aside).
    let g = api.get(&format!("/api/v1/query_range?{body}")).await;
    let p = api.post_form("/api/v1/query_range", &body).await;
    assert_eq!(g.body, p.body);
}

#[tokio::test]
async fn range_start_aligned_in_a_non_utc_timezone() {
    // models.AlignTimeRange with a +02:00 dashboard and a 1 d step: start % step != 0 in UTC.
    let step = 86_400;
    let offset = 7_200;
    let end_s = ((T1 / 1000 + offset) / step) * step - offset;
    let body = format!("end={end_s}&query=up&start={}&step={step}", end_s - step);
    let r = api().post_form("/api/v1/query_range", &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let ts: Vec<i64> = r.json()["data"]["result"][0]["values"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p[0].as_i64())
        .collect();
    assert_eq!(ts, [end_s], "only the end step has data within lookback");
}

#[tokio::test]
async fn too_many_points_is_the_prometheus_error_grafana_shows() {
    // 48 h range, 15 s min step, maxDataPoints 43 200: 11 520 points.
    let end_s = T1 / 1000;
    let body = format!("end={end_s}&query=up&start={}&step=15", end_s - 172_800);
    let r = api().post_form("/api/v1/query_range", &body).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["error"],
        "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"
    );
}

#[tokio::test]
async fn instant_panel_query_with_timeout_and_custom_params() {
    // client.QueryInstant: unaligned float time, timeout from jsonData.queryTimeout,
    // customQueryParameters appended to the URL.
    let body = format!(
        "query={}&time={}.456&timeout=60s",
        enc("up{job=\"node\"}"),
        T1 / 1000
    );
    let r = api()
        .post_form("/api/v1/query?dedup=false&partial_response=true", &body)
        .await;
    assert_eq!(
        r.body,
        format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{"__name__":"up","instance":"a:9100","job":"node"}},"value":[{}.456,"0"]}}]}}}}"#,
            T1 / 1000
        )
    );
}

// Grafana's exemplar probe (`areExemplarsAvailable`, milliseconds sent as
// seconds) is replayed byte for byte by `q3a_exemplar_probe_with_millisecond_timestamps`
// in `http_api_query.rs`.

#[tokio::test]
async fn template_variables_and_metrics_browser() {
    let api = api();
    let window = format!("start={}&end={}", T1 / 1000 - 3600, T1 / 1000 + 60);
    // label_values(node_uname_info, job)
    let r = api
        .get(&format!(
            "/api/v1/label/job/values?limit=40000&{window}&match[]=node_uname_info"
        ))
        .await;
    assert_eq!(r.body, r#"{"status":"success","data":["node"]}"#);
    // metrics(node_.*)
    let sel = enc(r#"{__name__=~"node_.*"}"#);
    let r = api
        .get(&format!(
            "/api/v1/label/__name__/values?limit=40000&{window}&match[]={sel}"
        ))
        .await;
    assert_eq!(r.body, r#"{"status":"success","data":["node_uname_info"]}"#);
    // label_names() and ad-hoc filter keys: POST form from the frontend.
    let r = api
        .post_form("/api/v1/labels", &format!("limit=40000&{window}"))
        .await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":["__name__","instance","job","le","nodename"]}"#
    );
    // query_result(...) variable: frontend POST with ceil'd seconds.
    let r = api
        .post_form(
            "/api/v1/query",
            &format!("query={}&time={}", enc("count(up)"), T1 / 1000 + 1),
        )
        .await;
    assert_eq!(
        r.body,
        format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{}},"value":[{},"1"]}}]}}}}"#,
            T1 / 1000 + 1
        )
    );
}

#[tokio::test]
async fn codemirror_completion_posts_iso_times_with_charset() {
    let body = format!(
        "start={}&end={}&match[]={}",
        enc("2023-11-14T21:13:20.000Z"),
        enc("2023-11-14T22:13:20.000Z"),
        enc("up")
    );
    let req = Request::post("/api/v1/labels")
        .header(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded;charset=UTF-8",
        )
        .body(Body::from(body))
        .expect("request");
    let r = api().send(req).await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":["__name__","instance","job"]}"#
    );
}

/// Panels of the popular "Node Exporter Full" dashboard, with Grafana's
/// variables still in them.
const NODE_EXPORTER_PANELS: [&str; 8] = [
    r#"100 - (avg by (instance) (rate(node_cpu_seconds_total{mode="idle",instance="$node",job="$job"}[$__rate_interval])) * 100)"#,
    r#"count(count(node_cpu_seconds_total{instance="$node",job="$job"}) by (cpu))"#,
    r#"node_memory_MemTotal_bytes{instance="$node",job="$job"} - node_memory_MemAvailable_bytes{instance="$node",job="$job"}"#,
    r#"irate(node_network_receive_bytes_total{instance="$node",job="$job"}[$__rate_interval])*8"#,
    r#"sum by (instance) (increase(node_cpu_seconds_total{instance="$node",job="$job"}[$__rate_interval]))"#,
    r#"node_load1{instance="$node",job="$job"}"#,
    r#"1 - (node_filesystem_avail_bytes{instance="$node",job="$job",mountpoint="/",fstype!="rootfs"} / node_filesystem_size_bytes{instance="$node",job="$job",mountpoint="/",fstype!="rootfs"})"#,
    r#"max_over_time(node_load1{instance="$node",job="$job"}[$__interval]) > bool 0"#,
];

fn node_exporter_api() -> TestApi {
    let node = |name| vec![("__name__", name), ("job", "node"), ("instance", "a:9100")];
    let with = |mut base: Vec<(&'static str, &'static str)>,
                extra: &[(&'static str, &'static str)]| {
        base.extend_from_slice(extra);
        base
    };
    let specs: Vec<(Vec<(&str, &str)>, f64)> = vec![
        (
            with(
                node("node_cpu_seconds_total"),
                &[("cpu", "0"), ("mode", "idle")],
            ),
            10.0,
        ),
        (
            with(
                node("node_cpu_seconds_total"),
                &[("cpu", "0"), ("mode", "user")],
            ),
            5.0,
        ),
        (
            with(
                node("node_cpu_seconds_total"),
                &[("cpu", "1"), ("mode", "idle")],
            ),
            12.0,
        ),
        (node("node_memory_MemTotal_bytes"), 0.0),
        (node("node_memory_MemAvailable_bytes"), 0.0),
        (
            with(
                node("node_network_receive_bytes_total"),
                &[("device", "eth0")],
            ),
            1000.0,
        ),
        (node("node_load1"), 0.0),
        (
            with(
                node("node_filesystem_avail_bytes"),
                &[("mountpoint", "/"), ("fstype", "ext4")],
            ),
            0.0,
        ),
        (
            with(
                node("node_filesystem_size_bytes"),
                &[("mountpoint", "/"), ("fstype", "ext4")],
            ),
            0.0,
        ),
    ];
    let samples: Vec<Vec<(i64, f64)>> = specs
        .iter()
        .map(|(_, per)| {
            (0..=240)
                .map(|i| {
                    // Counters grow; gauges (per == 0) hold a fixed positive level.
                    let v = if *per > 0.0 {
                        per * i as f64
                    } else {
                        4.0e9 - (i % 7) as f64 * 1e8
                    };
                    (T1 - 3_600_000 + i * SCRAPE, v)
                })
                .collect()
        })
        .collect();
    let series: Vec<SeriesSpec<'_>> = specs
        .iter()
        .zip(&samples)
        .map(|((labels, _), samples)| SeriesSpec {
            labels,
            samples: samples.clone(),
        })
        .collect();
    TestApi::with_series(&series)
}

#[tokio::test]
async fn node_exporter_dashboard_queries_with_grafana_intervals() {
    let api = node_exporter_api();
    let end_s = (T1 / 1000) / 60 * 60;
    for rate_interval in ["1m0s", "1m15s", "15m15s"] {
        for panel in NODE_EXPORTER_PANELS {
            let query = panel
                .replace("$node", "a:9100")
                .replace("$job", "node")
                .replace("$__rate_interval", rate_interval)
                .replace("$__interval", "1m");
            let range = format!(
                "end={end_s}&query={}&start={}&step=60",
                enc(&query),
                end_s - 1800
            );
            let r = api.post_form("/api/v1/query_range", &range).await;
            assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
            let series = r.json()["data"]["result"]
                .as_array()
                .map(Vec::len)
                .unwrap_or_default();
            assert!(series > 0, "range {query}: empty result");
            let instant = format!("query={}&time={end_s}", enc(&query));
            let r = api.post_form("/api/v1/query", &instant).await;
            assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
            assert_eq!(r.json()["data"]["resultType"], "vector", "{query}");
        }
    }
}
