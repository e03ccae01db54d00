//! The HTTP API: one file per API area, one [`app`] that builds the router.
//!
//! [`AppState`] is built once the database is open (WAL replayed); the read
//! side (queries, labels, status) gets its own [`ReadState`] slice of it, the
//! write side (remote-write, remote-read, admin, health, `/metrics`) takes
//! `AppState`. Every route's duration is recorded by one metrics middleware.

pub mod admin;
pub mod api_error;
pub mod ast_json;
pub mod float;
pub mod format;
pub mod health;
pub mod labels;
pub mod metadata;
pub mod metrics;
pub mod params;
pub mod query;
pub mod read;
pub mod read_state;
pub mod status;
pub mod write;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use promlite_promql::{Engine, EngineOptions};
use promlite_remote_write::Limits;
use promlite_tsdb::Db;

use crate::ingest::Ingester;
use crate::metadata::MetadataStore;
use read_state::{ReadState, ServerInfo};

/// Whether the admin endpoints (`/api/v1/admin/...`) answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AdminApi {
    /// They answer 403 (the default, as in Prometheus).
    #[default]
    Disabled,
    /// They do what they say (`--web.enable-admin-api`).
    Enabled,
}

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Remote-write decoding limits (decompressed size, label limits).
    pub limits: Limits,
    /// Cap on a request body as received (compressed), bytes; larger bodies get 413.
    pub max_request_bytes: usize,
    /// Whether admin endpoints answer.
    pub admin_api: AdminApi,
    /// PromQL engine settings.
    pub engine: EngineOptions,
    /// Facts for the status endpoints.
    pub info: ServerInfo,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            limits: Limits::default(),
            max_request_bytes: promlite_remote_write::DEFAULT_MAX_DECOMPRESSED_BYTES,
            admin_api: AdminApi::Disabled,
            engine: EngineOptions::default(),
            info: ServerInfo::default(),
        }
    }
}

/// Shared state of every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The remote-write ingest path.
    pub ingester: Arc<Ingester>,
    /// The server's own metrics; the query API counts queries in `metrics.queries`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Metric metadata received through remote-write, for `/api/v1/metadata`.
    pub metadata: Arc<MetadataStore>,
    /// Whether admin endpoints answer.
    pub admin_api: AdminApi,
    /// Cap on a request body as received, bytes.
    pub max_request_bytes: usize,
    /// What the read API handlers see.
    pub read: ReadState,
}

impl AppState {
    /// State over an open database.
    pub fn new(db: Db, opts: HttpOptions) -> Self {
        let metrics = Arc::new(crate::metrics::Metrics::new());
        let metadata = Arc::new(MetadataStore::default());
        let ingester = Arc::new(Ingester::new(
            db.clone(),
            opts.limits,
            Arc::clone(&metrics),
            Arc::clone(&metadata),
        ));
        let read = ReadState::new(db.clone(), Engine::new(opts.engine), opts.info)
            .with_metadata(Arc::clone(&metadata))
            .with_metrics(Arc::clone(&metrics));
        AppState {
            db,
            ingester,
            metrics,
            metadata,
            admin_api: opts.admin_api,
            max_request_bytes: opts.max_request_bytes,
            read,
        }
    }
}

/// Builds the router with every route of the API.
pub fn app(state: AppState) -> Router {
    let write_routes = Router::new()
        .route("/api/v1/write", post(write::write))
        .route("/api/v1/push", post(write::write))
        .route("/api/v1/read", post(read::read))
        .layer(DefaultBodyLimit::max(state.max_request_bytes));
    Router::new()
        .merge(write_routes)
        .merge(health::routes())
        .route("/metrics", get(metrics::metrics))
        .route(
            "/api/v1/admin/tsdb/snapshot",
            post(admin::snapshot).put(admin::snapshot),
        )
        .with_state(state.clone())
        .merge(read_state::routes().with_state(state.read.clone()))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state.metrics),
            crate::metrics::track_requests,
        ))
}
