//! Harness for the tests that run real processes: the built `promlite` binary and
//! the Debian Prometheus and node_exporter. Every process is started on
//! 127.0.0.1, waited for by polling, and killed by PID when its guard drops (also
//! when the test fails). A minimal HTTP/1.1 client (one request per connection,
//! chunked bodies understood) keeps the tests free of a client dependency. The
//! remote-write and remote-read message builders are shared with the in-process
//! tests too.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the harness"
)]
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Generous bound on how long a process may take to become ready: a guard against
/// hanging forever, not a timing assertion.
pub const STARTUP_LIMIT: Duration = Duration::from_secs(120);

/// A child process killed (SIGKILL) and reaped when dropped.
pub struct ProcessGuard {
    pub name: &'static str,
    pub child: Option<Child>,
    /// Everything the process wrote to stderr so far.
    pub stderr: Arc<Mutex<String>>,
}

impl ProcessGuard {
    /// Starts `command` with stdout discarded and stderr captured.
    pub fn spawn(name: &'static str, command: &mut Command) -> Self {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        ProcessGuard {
            name,
            child: Some(child),
            stderr,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap()
    }

    /// Sends a signal by name (`TERM`, `HUP`, `KILL`) with kill(1).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} {} failed", self.pid());
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Waits for the process to exit (bounded by [`STARTUP_LIMIT`]), returning its status.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + STARTUP_LIMIT;
        let child = self.child.as_mut().unwrap();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not exit; stderr:\n{}",
                self.name,
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The captured stderr.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for ProcessGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port that was free a moment ago on 127.0.0.1 (for peers that cannot report
/// the port they bound).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A promlite server started from the built binary on a port it picks itself.
pub struct Promlite {
    pub process: ProcessGuard,
    pub addr: String,
}

impl Promlite {
    /// Starts `promlite serve` on `data_dir` and waits until `/-/ready` answers 200.
    pub fn start(data_dir: &Path, extra_args: &[&str]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_promlite"));
        cmd.args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-level",
            "info",
            "--data-dir",
        ])
        .arg(data_dir)
        .args(extra_args);
        let process = ProcessGuard::spawn("promlite", &mut cmd);
        let addr = wait_for(STARTUP_LIMIT, || {
            let log = process.stderr();
            log.lines()
                .find_map(|l| l.split("addr=").nth(1))
                .map(|rest| rest.split_whitespace().next().unwrap_or("").to_owned())
        })
        .unwrap_or_else(|| panic!("promlite never logged its address:\n{}", process.stderr()));
        let server = Promlite { process, addr };
        let ready = wait_for(STARTUP_LIMIT, || {
            (get(&server.addr, "/-/ready").ok()?.status == 200).then_some(())
        });
        assert!(
            ready.is_some(),
            "promlite never became ready:\n{}",
            server.process.stderr()
        );
        server
    }
}

/// Polls `f` every 50 ms until it returns `Some`, or `limit` passes.
pub fn wait_for<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// A header's value (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `GET path` on `addr`.
pub fn get(addr: &str, path: &str) -> std::io::Result<Reply> {
    request(addr, "GET", path, &[], &[])
}

/// `POST path` on `addr` with `headers` and `body`.
pub fn post(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Reply> {
    request(addr, "POST", path, headers, body)
}

fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw).ok_or_else(|| std::io::Error::other("malformed HTTP response"))
}

fn parse_response(raw: &[u8]) -> Option<Reply> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(rest)?
    } else {
        rest.to_vec()
    };
    Some(Reply {
        status,
        headers,
        body,
    })
}

fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

/// Remote-writes `timeseries` (1.0, snappy) to `addr` and asserts the server
/// accepted them with `204 No Content`.
pub fn write_v1(addr: &str, timeseries: Vec<promlite_remote_write::proto::v1::TimeSeries>) {
    use promlite_remote_write::{encode_v1, proto::v1::WriteRequest, WriteProtocol};
    let body = encode_v1(&WriteRequest {
        timeseries,
        metadata: vec![],
    });
    let reply = post(
        addr,
        "/api/v1/write",
        &[
            ("Content-Type", WriteProtocol::V1.content_type()),
            ("Content-Encoding", "snappy"),
        ],
        &body,
    )
    .unwrap();
    assert_eq!(reply.status, 204, "{}", reply.text());
}

/// Series → samples `(t ms, value bits)`, keyed by the Prometheus text form of
/// the labels, as remote-read returns them: bit-exact, stale markers included.
pub type SeriesSamples = std::collections::BTreeMap<String, Vec<(i64, u64)>>;

/// A remote-read query for series matching every `(op, name, value)` matcher over
/// `[start_ms, end_ms]`, without hints.
pub fn read_query(
    matchers: &[(promlite_remote_write::proto::read::MatcherType, &str, &str)],
    start_ms: i64,
    end_ms: i64,
) -> promlite_remote_write::proto::read::Query {
    use promlite_remote_write::proto::read::{LabelMatcher, Query};
    Query {
        start_timestamp_ms: start_ms,
        end_timestamp_ms: end_ms,
        matchers: matchers
            .iter()
            .map(|&(op, name, value)| LabelMatcher {
                r#type: op as i32,
                name: name.into(),
                value: value.into(),
            })
            .collect(),
        hints: None,
    }
}

/// Reads every series matching `matchers` (`(op, name, value)`) over
/// `[start_ms, end_ms]` through remote-read `SAMPLES` from any Prometheus-compatible
/// server at `addr`.
pub fn remote_read(
    addr: &str,
    matchers: &[(promlite_remote_write::proto::read::MatcherType, &str, &str)],
    start_ms: i64,
    end_ms: i64,
) -> SeriesSamples {
    let request = promlite_remote_write::proto::read::ReadRequest {
        queries: vec![read_query(matchers, start_ms, end_ms)],
        accepted_response_types: vec![],
    };
    let body = promlite_remote_write::encode_read_request(&request);
    let headers = [
        ("Content-Type", "application/x-protobuf"),
        ("Content-Encoding", "snappy"),
        ("X-Prometheus-Remote-Read-Version", "0.1.0"),
    ];
    let reply = post(addr, "/api/v1/read", &headers, &body).unwrap();
    assert_eq!(
        reply.status,
        200,
        "remote-read from {addr}: {}",
        reply.text()
    );
    let response = promlite_remote_write::decode_read_response(&reply.body, 1 << 30).unwrap();
    let mut out = SeriesSamples::new();
    for result in &response.results {
        for ts in &result.timeseries {
            let mut labels: Vec<(&str, &str)> = ts
                .labels
                .iter()
                .map(|l| (l.name.as_str(), l.value.as_str()))
                .collect();
            labels.sort_unstable();
            let key = labels
                .iter()
                .map(|(n, v)| format!("{n}={v:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            out.entry(format!("{{{key}}}"))
                .or_default()
                .extend(ts.samples.iter().map(|s| (s.timestamp, s.value.to_bits())));
        }
    }
    out
}
