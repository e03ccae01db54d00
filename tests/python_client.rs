//! The Python `prometheus-api-client` (a real third-party client) against the
//! spawned `promlite serve`, in its GET and POST modes. In POST mode that
//! client sends every parameter in the URL with an empty body and no content
//! type, which the server must read like a GET (checklist G2).
//!
//! The client lives in the virtualenv `.ci/run` creates at `target/pyenv`;
//! without it the test prints why and passes without running.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use promlite_tsdb::{Db, Labels, Options};

/// Newest sample, seconds; the data covers the 10 minutes before it every 15 s.
const T: i64 = 1_700_000_000;

const SCRIPT: &str = r#"
import datetime, json, sys
from prometheus_api_client import PrometheusConnect, PrometheusApiClientException

url, method, t = sys.argv[1], sys.argv[2], int(sys.argv[3])
pc = PrometheusConnect(url=url, disable_ssl=True, method=method)
start = datetime.datetime.fromtimestamp(t - 300, tz=datetime.timezone.utc)
end = datetime.datetime.fromtimestamp(t, tz=datetime.timezone.utc)
out = {
    "connected": pc.check_prometheus_connection(),
    "label_names": pc.get_label_names(),
    "all_metrics": pc.all_metrics(),
    "jobs": pc.get_label_values("job"),
    "instant": pc.custom_query("up", params={"time": t}),
    "range_seconds": pc.custom_query_range("sum(up)", start, end, step="60"),
    "range_units": pc.custom_query_range("sum(up)", start, end, step="1m"),
    "series": pc.get_series(start, end, params={"match[]": "up"}),
    "range_data": pc.get_metric_range_data("up", label_config={"job": "node"}, start_time=start, end_time=end),
}
try:
    pc.custom_query("sum(")
    out["bad_query"] = "accepted"
except PrometheusApiClientException as e:
    out["bad_query"] = "400" if "400" in str(e) else str(e)
print(json.dumps(out, sort_keys=True))
"#;

/// Kills the server when the test ends, also on failure.
struct ServerGuard(Child);

impl Drop for ServerGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn python() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pyenv/bin/python");
    p.exists().then_some(p)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn load(dir: &Path) {
    let db = Db::open(dir, Options::default()).expect("open db");
    let mut app = db.appender();
    let series = [
        (
            Labels::from_pairs([("__name__", "up"), ("job", "node"), ("instance", "a:9100")]),
            1.0,
        ),
        (
            Labels::from_pairs([("__name__", "up"), ("job", "prom"), ("instance", "b:9090")]),
            1.0,
        ),
        (
            Labels::from_pairs([
                ("__name__", "http_requests_total"),
                ("job", "prom"),
                ("code", "200"),
            ]),
            5.0,
        ),
    ];
    for (labels, v) in &series {
        let labels = labels.as_ref().expect("valid labels");
        for i in 0..=40 {
            app.append(labels, (T - 600 + i * 15) * 1000, *v)
                .expect("append");
        }
    }
    app.commit().expect("commit");
    db.close().expect("close");
}

/// A plain HTTP/1.0 GET; the status code, or `None` if nothing answers yet.
fn get_status(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut head = String::new();
    s.read_to_string(&mut head).ok()?;
    head.split_whitespace().nth(1)?.parse().ok()
}

fn start_server(data_dir: &Path) -> (ServerGuard, u16) {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_promlite"))
        .args(["serve", "--data-dir"])
        .arg(data_dir)
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--log-level",
            "warn",
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn promlite");
    let guard = ServerGuard(child);
    // Readiness: poll until the server answers (bounded so a broken build fails, not hangs).
    let deadline = Instant::now() + Duration::from_secs(60);
    while get_status(port, "/") != Some(200) {
        assert!(Instant::now() < deadline, "server did not become ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    (guard, port)
}

fn run_client(py: &Path, port: u16, method: &str) -> serde_json::Value {
    let out = Command::new(py)
        .args([
            "-c",
            SCRIPT,
            &format!("http://127.0.0.1:{port}"),
            method,
            &T.to_string(),
        ])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{method}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("client output is JSON")
}

#[test]
fn prometheus_api_client_get_and_post() {
    let Some(py) = python() else {
        eprintln!("skipping: no target/pyenv (created by .ci/run with prometheus-api-client)");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    load(dir.path());
    let (_server, port) = start_server(dir.path());
    for method in ["GET", "POST"] {
        let j = run_client(&py, port, method);
        assert_eq!(j["connected"], true, "{method}");
        assert_eq!(
            j["label_names"],
            serde_json::json!(["__name__", "code", "instance", "job"]),
            "{method}"
        );
        assert_eq!(
            j["all_metrics"],
            serde_json::json!(["http_requests_total", "up"]),
            "{method}"
        );
        assert_eq!(j["jobs"], serde_json::json!(["node", "prom"]), "{method}");
        assert_eq!(
            j["instant"],
            serde_json::json!([
                {"metric": {"__name__": "up", "instance": "a:9100", "job": "node"}, "value": [T, "1"]},
                {"metric": {"__name__": "up", "instance": "b:9090", "job": "prom"}, "value": [T, "1"]},
            ]),
            "{method}"
        );
        let want_range: Vec<serde_json::Value> = (0..=5)
            .map(|k| serde_json::json!([T - 300 + k * 60, "2"]))
            .collect();
        assert_eq!(
            j["range_seconds"],
            serde_json::json!([{"metric": {}, "values": want_range}]),
            "{method}"
        );
        assert_eq!(j["range_units"], j["range_seconds"], "{method}");
        assert_eq!(j["series"].as_array().map(Vec::len), Some(2), "{method}");
        let points = j["range_data"][0]["values"]
            .as_array()
            .map(Vec::len)
            .unwrap_or_default();
        assert!(points >= 20, "{method}: range data has {points} points");
        assert_eq!(j["bad_query"], "400", "{method}");
    }
}
