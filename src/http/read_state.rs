//! What the read side of the API (queries, label lookups, status pages) needs
//! from the server: the database, the storage adapter the engine reads
//! through, the engine, the metadata store, the metrics registry and facts
//! about the running server; and [`routes`], the list of read endpoints. The
//! server builds one [`ReadState`] at start-up and mounts
//! `routes().with_state(read_state)`, so read handlers never see the rest of
//! the server state.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::handler::Handler;
use axum::routing::{get, MethodRouter};
use axum::Router;
use promlite_promql::{Engine, Storage};
use promlite_tsdb::Db;
use tower_http::compression::{CompressionLayer, CompressionLevel};

use crate::metadata::MetadataStore;
use crate::metrics::{Metrics, QueryLabels};

/// State shared by every read-API handler; cheap to clone.
#[derive(Clone)]
pub struct ReadState {
    /// The database, for label names/values, series and cardinality statistics.
    pub db: Db,
    /// The engine's view of `db` (see `crate::storage`).
    pub storage: Arc<dyn Storage>,
    /// The PromQL engine; its options hold the default timeout and lookback.
    pub engine: Engine,
    /// Facts the status endpoints report.
    pub info: Arc<ServerInfo>,
    /// Metric metadata received through remote-write.
    pub metadata: Arc<MetadataStore>,
    /// The server's metrics; queries are counted in `queries` by kind.
    pub metrics: Arc<Metrics>,
}

impl ReadState {
    /// State over `db` with the given engine and server facts; the storage
    /// adapter is built here so every handler reads the same view.
    pub fn new(db: Db, engine: Engine, info: ServerInfo) -> Self {
        let storage: Arc<dyn Storage> = Arc::new(crate::storage::TsdbStorage::new(db.clone()));
        ReadState {
            db,
            storage,
            engine,
            info: Arc::new(info),
            metadata: Arc::default(),
            metrics: Arc::default(),
        }
    }

    /// Reads metric metadata from `store` (the one remote-write fills)
    /// instead of an empty store of its own.
    pub fn with_metadata(mut self, store: Arc<MetadataStore>) -> Self {
        self.metadata = store;
        self
    }

    /// Counts queries in `metrics` (the server's registry) instead of a
    /// private one.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Counts one query of `kind` (`instant`, `range`, `labels`, ...).
    pub fn count_query(&self, kind: &'static str) {
        self.metrics
            .queries
            .get_or_create(&QueryLabels { kind })
            .inc();
    }
}

/// Facts about the running server for `/api/v1/status/*`.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    /// When the server started, ms since the epoch.
    pub start_time_ms: i64,
    /// The working directory the server runs in.
    pub cwd: String,
    /// Retention as the user gave it (`30d`), reported as `storageRetention`.
    pub storage_retention: String,
    /// The command-line flags as `name → value`, for `/status/flags`.
    pub flags: BTreeMap<String, String>,
    /// The loaded configuration as YAML, for `/status/config`.
    pub config_yaml: String,
}

impl Default for ServerInfo {
    /// Facts for a server started now in the current directory with default settings.
    fn default() -> Self {
        ServerInfo {
            start_time_ms: now_ms(),
            cwd: std::env::current_dir()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            storage_retention: "30d".to_owned(),
            flags: BTreeMap::new(),
            config_yaml: String::new(),
        }
    }
}

/// The current time in ms since the epoch (0 if the clock is before 1970).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The read API's routes, each answering GET and POST (Grafana and its
/// client libraries use both, and retry a POST refused with 405 as GET).
pub fn routes() -> Router<ReadState> {
    use super::{labels, metadata, query, status};
    Router::new()
        .route("/", get_or_post(status::root))
        .route("/api/v1/query", get_or_post(query::instant))
        .route("/api/v1/query_range", get_or_post(query::range))
        .route("/api/v1/query_exemplars", get_or_post(query::exemplars))
        .route("/api/v1/format_query", get_or_post(query::format_query))
        .route("/api/v1/parse_query", get_or_post(query::parse_query))
        .route("/api/v1/labels", get_or_post(labels::label_names))
        .route(
            "/api/v1/label/{name}/values",
            get_or_post(labels::label_values),
        )
        .route("/api/v1/series", get_or_post(labels::series))
        .route("/api/v1/metadata", get_or_post(metadata::metadata))
        .route("/api/v1/status/buildinfo", get_or_post(status::buildinfo))
        .route(
            "/api/v1/status/runtimeinfo",
            get_or_post(status::runtimeinfo),
        )
        .route("/api/v1/status/flags", get_or_post(status::flags))
        .route("/api/v1/status/config", get_or_post(status::config))
        .route("/api/v1/status/tsdb", get_or_post(status::tsdb))
        .route("/api/v1/rules", get_or_post(status::rules))
        .route("/api/v1/alerts", get_or_post(status::alerts))
        .route("/api/v1/targets", get_or_post(status::targets))
        .fallback(super::api_error::not_found)
        // Grafana's resource proxy decodes gzip, deflate and br but never zstd
        // (checklist G11); gzip alone is what every client sends and accepts.
        // At the fastest level: a large range result (77 MB of JSON) takes
        // seconds to compress at the default level, many times its query.
        .layer(
            CompressionLayer::new()
                .no_br()
                .no_deflate()
                .no_zstd()
                .quality(CompressionLevel::Fastest),
        )
}

/// `handler` for both GET and POST of one path.
fn get_or_post<H, T>(handler: H) -> MethodRouter<ReadState>
where
    H: Handler<T, ReadState>,
    T: 'static,
{
    get(handler.clone()).post(handler)
}
