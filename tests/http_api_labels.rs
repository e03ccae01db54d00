//! `/api/v1/labels`, `/api/v1/label/<name>/values` and `/api/v1/series`
//! against the checklist (R1–R3, G13 `limit`, G14 `match[]` forms), with the
//! exact bodies Grafana's metrics browser and variables read.

mod support;

use axum::http::StatusCode;
use support::{SeriesSpec, TestApi};

const T: i64 = 1_700_000_000_000;

fn at(t: i64) -> Vec<(i64, f64)> {
    vec![(t, 1.0)]
}

fn api() -> TestApi {
    TestApi::with_series(&[
        SeriesSpec {
            labels: &[("__name__", "up"), ("job", "node"), ("instance", "a:9100")],
            samples: at(T),
        },
        SeriesSpec {
            labels: &[("__name__", "up"), ("job", "node"), ("instance", "b:9100")],
            samples: at(T),
        },
        SeriesSpec {
            labels: &[
                ("__name__", "up"),
                ("job", "prom"),
                ("instance", "localhost:9090"),
            ],
            samples: at(T),
        },
        SeriesSpec {
            labels: &[
                ("__name__", "node_cpu_seconds_total"),
                ("job", "node"),
                ("cpu", "0"),
                ("mode", "idle"),
            ],
            samples: at(T),
        },
        SeriesSpec {
            labels: &[
                ("__name__", "node_uname_info"),
                ("job", "node"),
                ("nodename", "a"),
            ],
            samples: at(T),
        },
        SeriesSpec {
            labels: &[
                ("__name__", "http_requests_total"),
                ("http.status_code", "200"),
            ],
            samples: at(T),
        },
        // Only an old sample: outside the ranges the time-filter tests ask for.
        SeriesSpec {
            labels: &[("__name__", "old_metric"), ("job", "gone")],
            samples: at(1_000),
        },
    ])
}

fn ok(data: &str) -> String {
    format!(r#"{{"status":"success","data":{data}}}"#)
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn r1_all_label_names_sorted() {
    let r = api().get("/api/v1/labels").await;
    assert_eq!(
        r.body,
        ok(r#"["__name__","cpu","http.status_code","instance","job","mode","nodename"]"#)
    );
}

#[tokio::test]
async fn r1_label_names_for_a_selector_as_grafana_posts_it() {
    let api = api();
    let body = format!(
        "limit=40000&start=1699999000&end=1700000100&match[]={}",
        enc(r#"{__name__="up"}"#)
    );
    let r = api.post_form("/api/v1/labels", &body).await;
    assert_eq!(r.body, ok(r#"["__name__","instance","job"]"#));
    let r = api.get(&format!("/api/v1/labels?{body}")).await;
    assert_eq!(r.body, ok(r#"["__name__","instance","job"]"#));
}

#[tokio::test]
async fn r1_several_match_are_a_union() {
    let r = api()
        .get("/api/v1/labels?match[]=node_uname_info&match[]=node_cpu_seconds_total")
        .await;
    assert_eq!(r.body, ok(r#"["__name__","cpu","job","mode","nodename"]"#));
}

#[tokio::test]
async fn r1_match_from_url_and_body_accumulate() {
    let r = api()
        .post_form(
            "/api/v1/labels?match[]=node_uname_info",
            "match[]=node_cpu_seconds_total",
        )
        .await;
    assert_eq!(r.body, ok(r#"["__name__","cpu","job","mode","nodename"]"#));
}

#[tokio::test]
async fn g13_limit_truncates_with_warning() {
    let api = api();
    let r = api.post_form("/api/v1/labels", "limit=2").await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":["__name__","cpu"],"warnings":["results truncated due to limit"]}"#
    );
    let r = api.get("/api/v1/label/job/values?limit=3").await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":["gone","node","prom"]}"#
    );
    let r = api.get("/api/v1/label/job/values?limit=0").await;
    assert_eq!(r.body, ok(r#"["gone","node","prom"]"#));
    let r = api.get("/api/v1/labels?limit=-1").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["errorType"], "bad_data");
}

#[tokio::test]
async fn empty_lists_are_arrays() {
    let api = api();
    assert_eq!(
        api.get("/api/v1/labels?match[]=nothing_here").await.body,
        ok("[]")
    );
    assert_eq!(api.get("/api/v1/label/nope/values").await.body, ok("[]"));
    assert_eq!(
        api.get("/api/v1/series?match[]=nothing_here").await.body,
        ok("[]")
    );
}

#[tokio::test]
async fn r2_metric_names() {
    let r = api()
        .get("/api/v1/label/__name__/values?limit=40000&start=1699999000&end=1700000100")
        .await;
    assert_eq!(
        r.body,
        ok(
            r#"["http_requests_total","node_cpu_seconds_total","node_uname_info","old_metric","up"]"#
        )
    );
}

#[tokio::test]
async fn r2_every_observed_match_form() {
    let api = api();
    let cases = [
        ("node_uname_info", "job", r#"["node"]"#),
        (r#"{__name__="node_uname_info"}"#, "nodename", r#"["a"]"#),
        (
            r#"{__name__=~"node_.*"}"#,
            "__name__",
            r#"["node_cpu_seconds_total","node_uname_info"]"#,
        ),
        (
            r#"{__name__=~".*cpu.*"}"#,
            "__name__",
            r#"["node_cpu_seconds_total"]"#,
        ),
        (
            r#"{__name__=~"(?i).*CPU.*"}"#,
            "__name__",
            r#"["node_cpu_seconds_total"]"#,
        ),
        (r#"{job="node",instance="a:9100"}"#, "__name__", r#"["up"]"#),
        (r#"up{job='prom'}"#, "instance", r#"["localhost:9090"]"#),
        (
            r#"{"http_requests_total","http.status_code"="200"}"#,
            "__name__",
            r#"["http_requests_total"]"#,
        ),
    ];
    for (selector, label, want) in cases {
        let r = api
            .get(&format!(
                "/api/v1/label/{label}/values?match[]={}",
                enc(selector)
            ))
            .await;
        assert_eq!(r.body, ok(want), "match[]={selector}");
    }
}

#[tokio::test]
async fn r2_u_escaped_label_name() {
    let r = api()
        .get("/api/v1/label/U__http_2e_status__code/values")
        .await;
    assert_eq!(r.body, ok(r#"["200"]"#));
    let r = api().get("/api/v1/label/U__/values").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        r#"{"status":"error","errorType":"bad_data","error":"invalid label name: \"\""}"#
    );
}

#[tokio::test]
async fn r3_series_for_a_variable_query() {
    let r = api()
        .post_form(
            "/api/v1/series",
            &format!(
                "match[]={}&start=1699999000&end=1700000100",
                enc(r#"up{job="node"}"#)
            ),
        )
        .await;
    assert_eq!(
        r.body,
        ok(
            r#"[{"__name__":"up","instance":"a:9100","job":"node"},{"__name__":"up","instance":"b:9100","job":"node"}]"#
        )
    );
}

#[tokio::test]
async fn r3_series_requires_match() {
    let r = api().get("/api/v1/series").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        r#"{"status":"error","errorType":"bad_data","error":"no match[] parameter provided"}"#
    );
}

#[tokio::test]
async fn r3_match_all_with_limit_and_time_range() {
    let api = api();
    let sel = enc(r#"{__name__!=""}"#);
    let r = api
        .get(&format!(
            "/api/v1/series?match[]={sel}&start=1699999000&end=1700000100&limit=2"
        ))
        .await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":[{"__name__":"http_requests_total","http.status_code":"200"},{"__name__":"node_cpu_seconds_total","cpu":"0","job":"node","mode":"idle"}],"warnings":["results truncated due to limit"]}"#
    );
    // The old series has no sample in this range, so it is not listed.
    let r = api
        .get(&format!(
            "/api/v1/series?match[]={sel}&start=1699999000&end=1700000100"
        ))
        .await;
    assert_eq!(r.json()["data"].as_array().map(Vec::len), Some(6));
    // Without a range every series is.
    let r = api.get(&format!("/api/v1/series?match[]={sel}")).await;
    assert_eq!(r.json()["data"].as_array().map(Vec::len), Some(7));
}

#[tokio::test]
async fn g14_selectors_matching_everything_are_refused() {
    let api = api();
    for selector in [r#"{job=~".*"}"#, "{}", r#"{job=""}"#] {
        for path in [
            "/api/v1/labels",
            "/api/v1/label/job/values",
            "/api/v1/series",
        ] {
            let r = api.get(&format!("{path}?match[]={}", enc(selector))).await;
            assert_eq!(
                r.status,
                StatusCode::BAD_REQUEST,
                "{path} match[]={selector}: {}",
                r.body
            );
            assert_eq!(r.json()["errorType"], "bad_data");
        }
    }
    for selector in ["sum(up)", "up[5m]", "up{"] {
        let r = api
            .get(&format!("/api/v1/series?match[]={}", enc(selector)))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "match[]={selector}");
    }
}

#[tokio::test]
async fn g7_times_as_rfc3339_and_sentinels() {
    let api = api();
    for (start, end) in [
        ("2023-11-14T22:00:00.000Z", "2023-11-14T23:00:00.123Z"),
        (
            "-292273086-05-16T16:47:06Z",
            "292277025-08-18T07:12:54.999999999Z",
        ),
        ("1699999000", "1700000100.5"),
    ] {
        let r = api
            .get(&format!(
                "/api/v1/labels?start={}&end={}",
                enc(start),
                enc(end)
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{start}..{end}: {}", r.body);
    }
    let r = api.get("/api/v1/labels?start=soon").await;
    assert_eq!(
        r.body,
        r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"start\": cannot parse \"soon\" to a valid timestamp"}"#
    );
}

#[tokio::test]
async fn r3_overlapping_selectors_union_without_duplicates() {
    let api = api();
    let sel = |s: &str| format!("match[]={}", enc(s));
    let uri = format!("/api/v1/series?{}&{}", sel("up"), sel(r#"{job="node"}"#));
    let r = api.get(&uri).await;
    let names: Vec<String> = r.json()["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            format!(
                "{}/{}",
                s["__name__"].as_str().unwrap_or("?"),
                s["instance"].as_str().unwrap_or("-")
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            "node_cpu_seconds_total/-",
            "node_uname_info/-",
            "up/a:9100",
            "up/b:9100",
            "up/localhost:9090"
        ]
    );
    let uri = format!(
        "/api/v1/label/job/values?{}&{}",
        sel("up"),
        sel("node_uname_info")
    );
    assert_eq!(api.get(&uri).await.body, ok(r#"["node","prom"]"#));
}
