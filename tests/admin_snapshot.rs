//! `POST /api/v1/admin/tsdb/snapshot`: refused without `--web.enable-admin-api`,
//! and with it a directory under `<data-dir>/snapshots/<name>` that opens as a
//! database holding what was written.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use promlite::http::{app, AdminApi, AppState, HttpOptions};
use promlite_remote_write::proto::{v1, Label, Sample};
use promlite_remote_write::{encode_v1, WriteProtocol};
use promlite_tsdb::{Db, Matcher, Options};
use tower::ServiceExt;

async fn send(router: &axum::Router, request: Request<Body>) -> (StatusCode, String) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn snapshot_request() -> Request<Body> {
    Request::post("/api/v1/admin/tsdb/snapshot")
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn disabled_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let router = app(AppState::new(db, HttpOptions::default()));
    let (status, body) = send(&router, snapshot_request()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("--web.enable-admin-api"), "{body}");
    assert!(!dir.path().join("snapshots").exists());
}

#[tokio::test]
async fn snapshot_holds_the_written_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let router = app(AppState::new(
        db,
        HttpOptions {
            admin_api: AdminApi::Enabled,
            ..HttpOptions::default()
        },
    ));
    let request = v1::WriteRequest {
        timeseries: vec![v1::TimeSeries {
            labels: vec![Label {
                name: "__name__".into(),
                value: "snap".into(),
            }],
            samples: (0..100)
                .map(|i| Sample {
                    value: f64::from(i),
                    timestamp: 1_700_000_000_000 + i64::from(i) * 1000,
                })
                .collect(),
            ..Default::default()
        }],
        metadata: vec![],
    };
    let write = Request::post("/api/v1/write")
        .header(header::CONTENT_TYPE, WriteProtocol::V1.content_type())
        .body(Body::from(encode_v1(&request)))
        .unwrap();
    assert_eq!(send(&router, write).await.0, StatusCode::NO_CONTENT);

    let (status, body) = send(&router, snapshot_request()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "success");
    let name = json["data"]["name"].as_str().unwrap();
    let snapshot_dir = dir.path().join("snapshots").join(name);
    assert!(snapshot_dir.is_dir(), "{}", snapshot_dir.display());

    let copy = Db::open(&snapshot_dir, Options::default()).unwrap();
    let series = copy
        .querier(i64::MIN, i64::MAX)
        .unwrap()
        .select(&[Matcher::equal("__name__", "snap")])
        .unwrap();
    assert_eq!(series.len(), 1);
    let mut it = series[0].iter();
    let mut n = 0;
    while it.next().is_some() {
        n += 1;
    }
    assert_eq!(n, 100);
}
