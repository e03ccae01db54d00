//! Status and discovery endpoints (R5–R7, H1): what Grafana's health check,
//! flavour detection and alerting UI read.

mod support;

use axum::http::StatusCode;
use support::{SeriesSpec, TestApi};

#[tokio::test]
async fn r5_buildinfo_is_prometheus_without_features() {
    let api = TestApi::empty();
    for r in [
        api.get("/api/v1/status/buildinfo").await,
        api.post_form("/api/v1/status/buildinfo", "").await,
    ] {
        assert_eq!(r.status, StatusCode::OK);
        let j = r.json();
        assert_eq!(j["status"], "success");
        let version = j["data"]["version"].as_str().unwrap_or_default();
        let parts: Vec<u64> = version.split('.').filter_map(|p| p.parse().ok()).collect();
        assert_eq!(parts.len(), 3, "version {version:?} is not semver");
        assert!(parts.first().is_some_and(|&major| major >= 3), "{version}");
        assert!(
            j["data"].get("features").is_none(),
            "a features map makes Grafana think this is Mimir"
        );
        assert_eq!(j["data"]["promliteVersion"], env!("CARGO_PKG_VERSION"));
        for key in ["revision", "branch", "buildUser", "buildDate", "goVersion"] {
            assert!(j["data"][key].is_string(), "{key}");
        }
    }
}

#[tokio::test]
async fn r6_rules_alerts_targets_are_empty() {
    let api = TestApi::empty();
    let r = api
        .get("/api/v1/rules?type=recording&exclude_alerts=true&group_limit=10")
        .await;
    assert_eq!(r.body, r#"{"status":"success","data":{"groups":[]}}"#);
    assert_eq!(
        api.get("/api/v1/alerts").await.body,
        r#"{"status":"success","data":{"alerts":[]}}"#
    );
    assert_eq!(
        api.get("/api/v1/targets").await.body,
        r#"{"status":"success","data":{"activeTargets":[],"droppedTargets":[],"droppedTargetCounts":{}}}"#
    );
}

#[tokio::test]
async fn r7_runtimeinfo_flags_config() {
    let api = TestApi::empty();
    let j = api.get("/api/v1/status/runtimeinfo").await.json();
    assert_eq!(j["data"]["storageRetention"], "30d");
    assert!(j["data"]["startTime"]
        .as_str()
        .is_some_and(|s| s.ends_with('Z') && s.len() == 24));
    assert_eq!(
        api.get("/api/v1/status/flags").await.body,
        r#"{"status":"success","data":{}}"#
    );
    assert_eq!(
        api.get("/api/v1/status/config").await.body,
        r#"{"status":"success","data":{"yaml":""}}"#
    );
}

#[tokio::test]
async fn r7_tsdb_cardinality_from_postings() {
    let api = TestApi::with_series(&[
        SeriesSpec {
            labels: &[("__name__", "up"), ("job", "a")],
            samples: vec![(1_000, 1.0), (2_000, 1.0)],
        },
        SeriesSpec {
            labels: &[("__name__", "up"), ("job", "b")],
            samples: vec![(1_500, 1.0)],
        },
        SeriesSpec {
            labels: &[("__name__", "other"), ("job", "a")],
            samples: vec![(3_000, 1.0)],
        },
    ]);
    let r = api.get("/api/v1/status/tsdb?limit=1").await;
    assert_eq!(
        r.body,
        concat!(
            r#"{"status":"success","data":{"headStats":{"numSeries":3,"numLabelPairs":4,"minTime":1000,"maxTime":3000},"#,
            r#""seriesCountByMetricName":[{"name":"up","value":2}],"#,
            r#""labelValueCountByLabelName":[{"name":"__name__","value":2}],"#,
            r#""memoryInBytesByLabelName":[{"name":"__name__","value":7}],"#,
            r#""seriesCountByLabelValuePair":[{"name":"__name__=up","value":2}]}}"#
        )
    );
    let r = api.get("/api/v1/status/tsdb?limit=0").await;
    assert_eq!(
        r.body,
        r#"{"status":"error","errorType":"bad_data","error":"limit must be a positive number"}"#
    );
}

#[tokio::test]
async fn h1_root_answers_2xx() {
    let r = TestApi::empty().get("/").await;
    assert!(r.status.is_success());
}

#[tokio::test]
async fn r4_metadata_from_remote_write() {
    use promlite_remote_write::proto::MetricType;
    use promlite_remote_write::MetadataRef;
    let entry = |name, metric_type, help| MetadataRef {
        metric_family_name: name,
        metric_type,
        help,
        unit: "",
    };
    let api = TestApi::with_metadata(
        &[],
        &[
            entry("up", MetricType::Gauge, "1 if the target is up"),
            entry(
                "http_requests_total",
                MetricType::Counter,
                "Requests <by> code",
            ),
            entry(
                "http_requests_total",
                MetricType::Counter,
                "Requests, newer help",
            ),
        ],
    );
    // codemirror-promql: no parameters.
    let r = api.get("/api/v1/metadata").await;
    assert_eq!(
        r.body,
        concat!(
            r#"{"status":"success","data":{"http_requests_total":[{"type":"counter","help":"Requests, newer help","unit":""},"#,
            r#"{"type":"counter","help":"Requests \u003cby\u003e code","unit":""}],"#,
            r#""up":[{"type":"gauge","help":"1 if the target is up","unit":""}]}}"#
        )
    );
    // Grafana: limit=40000; Prometheus's metric and limit_per_metric.
    let r = api.get("/api/v1/metadata?limit=40000&metric=up").await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"up":[{"type":"gauge","help":"1 if the target is up","unit":""}]}}"#
    );
    let r = api.get("/api/v1/metadata?limit=1&limit_per_metric=1").await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"http_requests_total":[{"type":"counter","help":"Requests, newer help","unit":""}]}}"#
    );
    assert_eq!(
        api.get("/api/v1/metadata?metric=absent").await.body,
        r#"{"status":"success","data":{}}"#
    );
    let r = api.get("/api/v1/metadata?limit=many").await;
    assert_eq!(
        r.body,
        r#"{"status":"error","errorType":"bad_data","error":"limit must be a number"}"#
    );
}

#[tokio::test]
async fn server_router_counts_queries_and_keeps_json_404() {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use promlite::http::{app, AppState, HttpOptions};
    use tower::ServiceExt;

    let dir = tempfile::tempdir().expect("temp dir");
    let db = promlite_tsdb::Db::open(dir.path(), promlite_tsdb::Options::default()).expect("open");
    let router = app(AppState::new(db, HttpOptions::default()));
    let get = |uri: &'static str| {
        let router = router.clone();
        async move {
            let resp = router
                .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
                .await
                .expect("infallible");
            let status = resp.status();
            let body = resp.into_body().collect().await.expect("body").to_bytes();
            (status, body)
        }
    };
    for uri in [
        "/api/v1/query?query=1&time=4",
        "/api/v1/query?query=2&time=4",
        "/api/v1/labels",
    ] {
        assert_eq!(get(uri).await.0, StatusCode::OK, "{uri}");
    }
    // The full server router keeps the read API's JSON 404 for unknown paths
    // (Grafana falls back from the search API on it).
    let (status, body) = get("/api/v1/search/label_names").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        &body[..],
        br#"{"status":"error","errorType":"not_found","error":"not found"}"#
    );
    let text = String::from_utf8_lossy(&get("/metrics").await.1).into_owned();
    let count = |kind: &str| {
        text.lines()
            .find(|l| {
                l.starts_with("promlite_queries_total{") && l.contains(&format!("kind=\"{kind}\""))
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    assert_eq!(count("instant"), Some(2.0), "{text}");
    assert_eq!(count("labels"), Some(1.0), "{text}");
}

#[tokio::test]
async fn g1_every_read_endpoint_answers_get_and_post() {
    let api = TestApi::with_series(&[SeriesSpec {
        labels: &[("__name__", "up"), ("job", "a")],
        samples: vec![(1_000, 1.0)],
    }]);
    let endpoints = [
        ("/api/v1/query", "query=up&time=1"),
        ("/api/v1/query_range", "query=up&start=0&end=60&step=15"),
        ("/api/v1/query_exemplars", "query=up&start=0&end=60"),
        ("/api/v1/format_query", "query=up"),
        ("/api/v1/parse_query", "query=up"),
        ("/api/v1/labels", ""),
        ("/api/v1/label/job/values", ""),
        ("/api/v1/series", "match[]=up"),
        ("/api/v1/metadata", ""),
        ("/api/v1/status/buildinfo", ""),
        ("/api/v1/status/runtimeinfo", ""),
        ("/api/v1/status/flags", ""),
        ("/api/v1/status/config", ""),
        ("/api/v1/status/tsdb", ""),
        ("/api/v1/rules", ""),
        ("/api/v1/alerts", ""),
        ("/api/v1/targets", ""),
    ];
    for (path, params) in endpoints {
        let get = api.get(&format!("{path}?{params}")).await;
        let post = api.post_form(path, params).await;
        for (method, r) in [("GET", &get), ("POST", &post)] {
            assert_eq!(r.status, StatusCode::OK, "{method} {path}: {}", r.body);
            assert_eq!(r.content_type, "application/json", "{method} {path}");
            assert_eq!(r.json()["status"], "success", "{method} {path}");
        }
    }
}
