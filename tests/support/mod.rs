//! In-process harness for the HTTP API tests: builds the router over a fresh
//! database in a temp dir, filled with the given series, and sends requests through
//! `tower::ServiceExt::oneshot` (no sockets).
#![allow(dead_code)] // each test binary uses a different part of the harness

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use promlite::http::read_state::{self, ReadState, ServerInfo};
use promlite_promql::{Engine, EngineOptions};
use promlite_tsdb::{Db, Labels, Options};
use tower::ServiceExt;

/// One series to load: labels as `(name, value)` pairs and `(t_ms, value)` samples.
pub struct SeriesSpec<'a> {
    pub labels: &'a [(&'a str, &'a str)],
    pub samples: Vec<(i64, f64)>,
}

/// A router over a store holding exactly the given series.
pub struct TestApi {
    router: Router,
    /// The database behind the router, for tests that add data later.
    pub db: Db,
    _dir: tempfile::TempDir,
}

/// A response: status, content type and body text.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: String,
}

impl Reply {
    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }
}

impl TestApi {
    /// An API with no data.
    pub fn empty() -> Self {
        Self::with_series(&[])
    }

    /// An API over the given series.
    pub fn with_series(series: &[SeriesSpec<'_>]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::open(dir.path(), Options::default()).expect("open db");
        let mut app = db.appender();
        for s in series {
            let labels = Labels::from_pairs(s.labels.iter().copied()).expect("valid labels");
            for &(t, v) in &s.samples {
                app.append(&labels, t, v).expect("append");
            }
        }
        app.commit().expect("commit");
        let state = ReadState::new(
            db.clone(),
            Engine::new(EngineOptions::default()),
            ServerInfo::default(),
        );
        TestApi {
            router: read_state::routes().with_state(state),
            db,
            _dir: dir,
        }
    }

    /// An API over the given series whose metadata store holds `metadata`.
    pub fn with_metadata(
        series: &[SeriesSpec<'_>],
        metadata: &[promlite_remote_write::MetadataRef<'_>],
    ) -> Self {
        let mut api = Self::with_series(series);
        let store = std::sync::Arc::new(promlite::metadata::MetadataStore::default());
        store.record(metadata);
        let state = ReadState::new(
            api.db.clone(),
            Engine::new(EngineOptions::default()),
            ServerInfo::default(),
        )
        .with_metadata(store);
        api.router = read_state::routes().with_state(state);
        api
    }

    /// The router, for requests that need the raw response.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// Sends a GET.
    pub async fn get(&self, uri: &str) -> Reply {
        self.send(Request::get(uri).body(Body::empty()).expect("request"))
            .await
    }

    /// Sends a POST with a form-encoded body (`body` already encoded).
    pub async fn post_form(&self, uri: &str, body: &str) -> Reply {
        let req = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_owned()))
            .expect("request");
        self.send(req).await
    }

    /// Sends any request.
    pub async fn send(&self, req: Request<Body>) -> Reply {
        let resp = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router is infallible");
        let status = resp.status();
        let content_type = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        Reply {
            status,
            content_type,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }
}
