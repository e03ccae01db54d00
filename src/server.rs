//! `promlite serve`: opens the database and serves the HTTP API until SIGTERM/SIGINT.
//!
//! Start-up order matters: the listener is bound *before* the WAL replays, so
//! `/-/healthy` answers (and `/-/ready` says 503) while a large WAL loads; the
//! full router is swapped in once the database is open. Shutdown runs the other
//! way: stop accepting connections, let in-flight requests finish (a write being
//! committed still gets its answer), then close the database (final WAL fsync),
//! then exit 0.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use anyhow::Context as _;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::Router;
use promlite_remote_write::{Limits, DEFAULT_MAX_DECOMPRESSED_BYTES};
use promlite_tsdb::{Db, FsyncPolicy, LabelLimits, Options};
use tower::ServiceExt as _;

use crate::config::{parse_duration_ms, parse_size_bytes, FileConfig, FsyncSetting};
use crate::http::read_state::ServerInfo;
use crate::http::{app, health, AdminApi, AppState, HttpOptions};

/// Command-line arguments of `promlite serve`.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// Directory of the database (WAL, chunks, blocks, snapshots).
    #[arg(long = "data-dir", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Address to listen on (`host:port`; port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:9201")]
    pub listen: String,
    /// How long to keep data, as a Prometheus duration [default: 30d, or the config file's].
    #[arg(long)]
    pub retention: Option<String>,
    /// YAML configuration file, shaped like prometheus.yml (see `config` docs).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Log level or tracing filter (`info`, `debug`, `promlite=debug,info`).
    #[arg(long = "log-level", default_value = "info")]
    pub log_level: String,
    /// Enable the admin endpoints (`/api/v1/admin/tsdb/snapshot`).
    #[arg(long = "web.enable-admin-api")]
    pub enable_admin_api: bool,
    /// Also delete the oldest blocks while all blocks together exceed this size
    /// (`512MB`, `10GB`; units are powers of 1024 as in Prometheus) [default: no limit].
    #[arg(long = "retention.size")]
    pub retention_size: Option<String>,
    /// WAL fsync policy: `always` (fsync before every acknowledgement) or an
    /// interval such as `100ms` (background fsync) [default: 100ms].
    #[arg(long = "wal.fsync")]
    pub wal_fsync: Option<String>,
    /// Largest accepted request body as sent (compressed), bytes [default: 32 MiB].
    #[arg(long = "max-request-bytes")]
    pub max_request_bytes: Option<usize>,
    /// Largest accepted remote-write body after snappy decompression, bytes [default: 32 MiB].
    #[arg(long = "max-decompressed-bytes")]
    pub max_decompressed_bytes: Option<usize>,
}

/// Everything `serve` needs, resolved from flags, the config file and defaults
/// (in that order of precedence).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Data directory.
    pub data_dir: PathBuf,
    /// Listen address.
    pub listen: String,
    /// Retention as given (`30d`) and in ms.
    pub retention: (String, i64),
    /// Size-based retention, bytes, if any.
    pub retention_bytes: Option<u64>,
    /// How far behind a series' newest sample a sample may still be accepted, ms (0: none).
    pub out_of_order_window_ms: i64,
    /// WAL fsync policy.
    pub fsync: FsyncSetting,
    /// Remote-write limits.
    pub limits: Limits,
    /// Compressed request body cap, bytes.
    pub max_request_bytes: usize,
    /// Admin endpoints.
    pub admin_api: AdminApi,
    /// The config file's text, for `/api/v1/status/config`.
    pub config_yaml: String,
}

impl Settings {
    /// Merges flags over the config file over defaults.
    pub fn resolve(args: &ServeArgs) -> anyhow::Result<Self> {
        let (file, config_yaml) = match &args.config {
            Some(path) => (
                FileConfig::load(path)?,
                std::fs::read_to_string(path).unwrap_or_default(),
            ),
            None => (FileConfig::default(), String::new()),
        };
        let retention_text = args
            .retention
            .clone()
            .or(file.storage.tsdb.retention.clone())
            .unwrap_or_else(|| "30d".into());
        let retention_ms = parse_duration_ms("retention", &retention_text)?;
        anyhow::ensure!(
            retention_ms > 0,
            "retention must be positive, got {retention_text:?}"
        );
        let retention_bytes = match args.retention_size.as_deref().or(file
            .storage
            .tsdb
            .retention_size
            .as_deref())
        {
            Some(text) => Some(parse_size_bytes(text)?),
            None => None,
        };
        let out_of_order_window_ms = match &file.storage.tsdb.out_of_order_time_window {
            Some(text) => parse_duration_ms("out_of_order_time_window", text)?,
            None => 0,
        };
        let fsync = match args
            .wal_fsync
            .as_deref()
            .or(file.storage.tsdb.wal_fsync.as_deref())
        {
            Some(s) => FsyncSetting::parse(s)?,
            None => FsyncSetting::default(),
        };
        let defaults = Limits::default();
        let non_zero = |v: Option<usize>| v.filter(|&n| n > 0);
        let limits = Limits {
            max_decompressed_bytes: non_zero(args.max_decompressed_bytes)
                .or(non_zero(file.remote_write_receiver.max_decompressed_bytes))
                .unwrap_or(DEFAULT_MAX_DECOMPRESSED_BYTES),
            max_label_name_bytes: non_zero(file.global.label_name_length_limit)
                .unwrap_or(defaults.max_label_name_bytes),
            max_label_value_bytes: non_zero(file.global.label_value_length_limit)
                .unwrap_or(defaults.max_label_value_bytes),
            max_labels_per_series: non_zero(file.global.label_limit)
                .unwrap_or(defaults.max_labels_per_series),
            ..defaults
        };
        let max_request_bytes = non_zero(args.max_request_bytes)
            .or(non_zero(file.remote_write_receiver.max_request_bytes))
            .unwrap_or(DEFAULT_MAX_DECOMPRESSED_BYTES);
        Ok(Settings {
            data_dir: args.data_dir.clone(),
            listen: args.listen.clone(),
            retention: (retention_text, retention_ms),
            retention_bytes,
            out_of_order_window_ms,
            fsync,
            limits,
            max_request_bytes,
            admin_api: if args.enable_admin_api {
                AdminApi::Enabled
            } else {
                AdminApi::Disabled
            },
            config_yaml,
        })
    }

    /// The database options these settings ask for.
    pub fn db_options(&self) -> Options {
        Options {
            retention_ms: self.retention.1,
            max_bytes: self.retention_bytes,
            out_of_order_window_ms: self.out_of_order_window_ms,
            fsync: match self.fsync {
                FsyncSetting::Always => FsyncPolicy::Always,
                FsyncSetting::Interval(d) => FsyncPolicy::Interval(d),
            },
            // The decoder enforces the same limits first; the tsdb is the backstop.
            label_limits: LabelLimits {
                max_labels: Some(self.limits.max_labels_per_series),
                max_name_bytes: Some(self.limits.max_label_name_bytes),
                max_value_bytes: Some(self.limits.max_label_value_bytes),
            },
            ..Options::default()
        }
    }

    fn flags(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("data-dir".into(), self.data_dir.display().to_string()),
            ("listen".into(), self.listen.clone()),
            ("retention".into(), self.retention.0.clone()),
            ("wal.fsync".into(), self.fsync.to_string()),
            (
                "max-request-bytes".into(),
                self.max_request_bytes.to_string(),
            ),
            (
                "max-decompressed-bytes".into(),
                self.limits.max_decompressed_bytes.to_string(),
            ),
            (
                "web.enable-admin-api".into(),
                (self.admin_api == AdminApi::Enabled).to_string(),
            ),
        ])
    }
}

/// Runs the server until a shutdown signal.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_tracing(&args.log_level)?;
    let settings = Settings::resolve(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(serve(settings))
}

fn init_tracing(level: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .with_context(|| format!("invalid --log-level {level:?}"))?;
    // Colors only on a terminal: logs piped to a file or a supervisor stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .init();
    Ok(())
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("listening on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, data_dir = %settings.data_dir.display(), fsync = %settings.fsync, "listening; replaying the WAL");

    let slot: Arc<OnceLock<Router>> = Arc::new(OnceLock::new());
    let front = Router::new()
        .fallback(dispatch)
        .with_state(Arc::clone(&slot));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, front)
            .with_graceful_shutdown(async {
                // A dropped sender also means stop.
                let _ = stop_rx.await;
            })
            .await
    });

    let dir = settings.data_dir.clone();
    let opts = settings.db_options();
    let started = std::time::Instant::now();
    let db = tokio::task::spawn_blocking(move || Db::open(&dir, opts))
        .await
        .context("opening the database")?
        .with_context(|| format!("opening the database in {}", settings.data_dir.display()))?;
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        head_series = db.stats_with_limit(0).num_series,
        "WAL replayed; ready"
    );
    let info = ServerInfo {
        storage_retention: settings.retention.0.clone(),
        flags: settings.flags(),
        config_yaml: settings.config_yaml.clone(),
        ..ServerInfo::default()
    };
    let opts = HttpOptions {
        limits: settings.limits.clone(),
        max_request_bytes: settings.max_request_bytes,
        admin_api: settings.admin_api,
        info,
        ..HttpOptions::default()
    };
    // `set` only fails if already set, which nothing else does.
    let _ = slot.set(app(AppState::new(db.clone(), opts)));

    shutdown_signal().await?;
    tracing::info!("shutting down: refusing new connections, finishing in-flight requests");
    let _ = stop_tx.send(());
    server
        .await
        .context("server task")?
        .context("serving HTTP")?;
    db.close().context("closing the database")?;
    tracing::info!("database closed; bye");
    Ok(())
}

/// Routes each request to the full router once the database is open, and to
/// the start-up routes (healthy, not ready) before.
async fn dispatch(State(slot): State<Arc<OnceLock<Router>>>, request: Request) -> Response {
    let router = slot.get().cloned().unwrap_or_else(health::starting_routes);
    match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown_signal() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        r = tokio::signal::ctrl_c() => {
            r.context("installing the SIGINT handler")?;
            tracing::info!("SIGINT received");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    fn args(argv: &[&str]) -> ServeArgs {
        Cli::parse_from(std::iter::once("serve").chain(argv.iter().copied())).serve
    }

    #[test]
    fn defaults() {
        let s = Settings::resolve(&args(&[])).unwrap();
        assert_eq!(s.listen, "127.0.0.1:9201");
        assert_eq!(s.data_dir, PathBuf::from("./data"));
        assert_eq!(s.retention, ("30d".to_owned(), 30 * 86_400_000));
        assert_eq!(s.fsync, FsyncSetting::default());
        assert_eq!(s.limits, Limits::default());
        assert_eq!(s.admin_api, AdminApi::Disabled);
    }

    #[test]
    fn flags_beat_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("promlite.yml");
        std::fs::write(
            &path,
            "global:\n  label_limit: 10\nstorage:\n  tsdb:\n    retention: 7d\n    wal_fsync: always\n",
        )
        .unwrap();
        let p = path.to_str().unwrap();
        let s = Settings::resolve(&args(&["--config", p])).unwrap();
        assert_eq!(s.retention.0, "7d");
        assert_eq!(s.fsync, FsyncSetting::Always);
        assert_eq!(s.limits.max_labels_per_series, 10);
        let s = Settings::resolve(&args(&[
            "--config",
            p,
            "--retention",
            "1d",
            "--wal.fsync",
            "1s",
            "--web.enable-admin-api",
        ]))
        .unwrap();
        assert_eq!(s.retention, ("1d".to_owned(), 86_400_000));
        assert_eq!(
            s.fsync,
            FsyncSetting::Interval(std::time::Duration::from_secs(1))
        );
        assert_eq!(s.admin_api, AdminApi::Enabled);
        assert!(Settings::resolve(&args(&["--retention", "forever"])).is_err());
    }

    #[test]
    fn retention_size_and_out_of_order_window() {
        let s = Settings::resolve(&args(&[])).unwrap();
        assert_eq!((s.retention_bytes, s.out_of_order_window_ms), (None, 0));
        assert_eq!(s.db_options().max_bytes, None);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("promlite.yml");
        std::fs::write(
            &path,
            "storage:\n  tsdb:\n    retention_size: 1GB\n    out_of_order_time_window: 30m\n",
        )
        .unwrap();
        let p = path.to_str().unwrap();
        let s = Settings::resolve(&args(&["--config", p])).unwrap();
        assert_eq!(s.retention_bytes, Some(1 << 30));
        assert_eq!(s.db_options().out_of_order_window_ms, 30 * 60_000);
        let s = Settings::resolve(&args(&["--config", p, "--retention.size", "512MB"])).unwrap();
        assert_eq!(s.db_options().max_bytes, Some(512 << 20));
        assert!(Settings::resolve(&args(&["--retention.size", "lots"])).is_err());
    }
}
