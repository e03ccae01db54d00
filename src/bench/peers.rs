//! The servers a side-by-side benchmark runs: promlite itself, Prometheus and
//! VictoriaMetrics, each on a fresh data directory and a free port on 127.0.0.1.
//!
//! A [`Peer`] owns its child process and kills it by PID when dropped, so an
//! aborted benchmark never leaves a server behind. Resource figures come from
//! `/proc/<pid>` (CPU ticks and peak RSS), which is what `time -v` would report.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

/// Which system a peer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// This binary's `serve`.
    Promlite,
    /// Prometheus with its remote-write receiver.
    Prometheus,
    /// Single-node VictoriaMetrics.
    VictoriaMetrics,
}

impl Kind {
    /// The name printed in reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Promlite => "promlite",
            Kind::Prometheus => "prometheus",
            Kind::VictoriaMetrics => "victoria-metrics",
        }
    }

    fn binary(self) -> anyhow::Result<PathBuf> {
        match self {
            Kind::Promlite => std::env::current_exe().context("locating the promlite binary"),
            Kind::Prometheus => find_on_path("prometheus"),
            Kind::VictoriaMetrics => find_on_path("victoria-metrics"),
        }
    }
}

/// Finds an executable on `PATH`.
pub fn find_on_path(name: &str) -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .with_context(|| format!("{name} not found on PATH (Debian: apt-get install {name})"))
}

/// A running server.
pub struct Peer {
    /// Which system this is.
    pub kind: Kind,
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub base_url: String,
    /// Its data directory.
    pub data_dir: PathBuf,
    child: Child,
}

impl Peer {
    /// Starts `kind` on a free port with `data_dir` (created, must be empty) and waits
    /// until it answers its readiness endpoint.
    pub fn start(kind: Kind, data_dir: &Path, retention: &str) -> anyhow::Result<Peer> {
        Peer::start_with_binary(kind, &kind.binary()?, data_dir, retention)
    }

    /// [`Peer::start`] with an explicit executable, for callers whose own executable is
    /// not the server (an integration test passes `env!("CARGO_BIN_EXE_promlite")`).
    pub fn start_with_binary(
        kind: Kind,
        bin: &Path,
        data_dir: &Path,
        retention: &str,
    ) -> anyhow::Result<Peer> {
        std::fs::create_dir_all(data_dir)?;
        let port = free_port()?;
        let addr = format!("127.0.0.1:{port}");
        let mut cmd = Command::new(bin);
        match kind {
            Kind::Promlite => {
                cmd.args([
                    "serve",
                    "--listen",
                    &addr,
                    "--retention",
                    retention,
                    "--web.enable-admin-api",
                ])
                .arg("--data-dir")
                .arg(data_dir);
            }
            Kind::Prometheus => {
                let config = data_dir.join("prometheus.yml");
                std::fs::write(&config, "global:\n  scrape_interval: 15s\n")?;
                cmd.arg(format!("--config.file={}", config.display()))
                    .arg(format!(
                        "--storage.tsdb.path={}",
                        data_dir.join("data").display()
                    ))
                    .arg(format!("--web.listen-address={addr}"))
                    .arg(format!("--storage.tsdb.retention.time={retention}"))
                    .args([
                        "--web.enable-remote-write-receiver",
                        "--web.enable-admin-api",
                    ]);
            }
            Kind::VictoriaMetrics => {
                cmd.arg(format!(
                    "-storageDataPath={}",
                    data_dir.join("data").display()
                ))
                .arg(format!("-httpListenAddr={addr}"))
                .arg("-retentionPeriod=100y")
                // Without these, data newer than 30 s is hidden and repeated queries hit a
                // result cache, which would make the comparison meaningless.
                .args(["-search.latencyOffset=0s", "-search.disableCache"]);
            }
        }
        let log = std::fs::File::create(data_dir.join("server.log"))?;
        cmd.stdout(Stdio::null()).stderr(log);
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let peer = Peer {
            kind,
            base_url: format!("http://{addr}"),
            data_dir: data_dir.to_path_buf(),
            child,
        };
        peer.wait_ready(Duration::from_secs(60))?;
        Ok(peer)
    }

    /// The remote-write URL.
    pub fn write_url(&self) -> String {
        format!("{}/api/v1/write", self.base_url)
    }

    fn wait_ready(&self, limit: Duration) -> anyhow::Result<()> {
        let path = match self.kind {
            Kind::VictoriaMetrics => "/health",
            Kind::Promlite | Kind::Prometheus => "/-/ready",
        };
        let agent = agent(Duration::from_secs(2));
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(r) = agent.get(&format!("{}{path}", self.base_url)).call() {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!(
            "{} did not become ready within {limit:?}; see {}/server.log",
            self.kind.name(),
            self.data_dir.display()
        )
    }

    /// CPU time (user + system) the process has used so far, in seconds.
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))?;
        // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
        let rest = stat
            .rsplit_once(')')
            .map(|(_, r)| r)
            .context("malformed /proc stat")?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| -> anyhow::Result<f64> {
            Ok(fields.get(i).context("short /proc stat")?.parse::<f64>()?)
        };
        Ok((ticks(11)? + ticks(12)?) / clock_ticks_per_second())
    }

    /// Peak resident set size (VmHWM), bytes.
    pub fn peak_rss_bytes(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let line = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .context("no VmHWM")?;
        let kib: u64 = line
            .split_whitespace()
            .nth(1)
            .context("malformed VmHWM")?
            .parse()?;
        Ok(kib * 1024)
    }

    /// Makes everything ingested durable and returns the bytes it takes on disk:
    /// a snapshot for promlite and Prometheus (the head written into a block), a forced
    /// flush for VictoriaMetrics (whose data directory then holds all parts and its index).
    pub fn durable_bytes(&self) -> anyhow::Result<u64> {
        let agent = agent(Duration::from_secs(300));
        match self.kind {
            Kind::Promlite | Kind::Prometheus => {
                let url = format!("{}/api/v1/admin/tsdb/snapshot", self.base_url);
                let mut resp = agent.post(&url).send_empty().context("snapshot request")?;
                let text = resp.body_mut().read_to_string()?;
                let body: serde_json::Value = serde_json::from_str(&text)?;
                let name = body["data"]["name"].as_str().with_context(|| {
                    format!(
                        "{} snapshot failed: {} {text}",
                        self.kind.name(),
                        resp.status()
                    )
                })?;
                let root = match self.kind {
                    Kind::Prometheus => self.data_dir.join("data"),
                    _ => self.data_dir.clone(),
                };
                dir_size(&root.join("snapshots").join(name))
            }
            Kind::VictoriaMetrics => {
                agent
                    .get(&format!("{}/internal/force_flush", self.base_url))
                    .call()?;
                let data = self.data_dir.join("data");
                Ok(dir_size(&data.join("data"))? + dir_size(&data.join("indexdb"))?)
            }
        }
    }

    /// Stops the server: SIGTERM, then SIGKILL if it has not exited after 30 s.
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// An HTTP agent that hands non-2xx answers back instead of failing.
pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn clock_ticks_per_second() -> f64 {
    // USER_HZ is 100 on every Linux architecture we run on; `getconf CLK_TCK` confirms it.
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Total size of the regular files under `dir`, bytes (hard links counted once per path,
/// as `du --apparent-size` would).
pub fn dir_size(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_dir() {
            total += dir_size(&entry.path())?;
        } else if meta.is_file() {
            total += meta.len();
        }
    }
    Ok(total)
}
