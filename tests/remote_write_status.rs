//! Every status code of `POST /api/v1/write`, with real bodies, through the
//! in-process router (no sockets): what senders act on (204 stored, 400 drop,
//! 415 unsupported, 413 too large, 5xx retry) and that what was acknowledged is
//! exactly what is stored.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use promlite::http::{app, AppState, HttpOptions};
use promlite_remote_write::proto::{v1, v2, Label, MetricType, Sample};
use promlite_remote_write::{compress, encode_v1, encode_v2, SymbolTable, WriteProtocol};
use promlite_tsdb::{Db, Matcher, Options};
use tower::ServiceExt;

struct Server {
    router: Router,
    db: Db,
    _dir: tempfile::TempDir,
}

impl Server {
    fn new() -> Self {
        Self::with(HttpOptions::default())
    }

    fn with(opts: HttpOptions) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), Options::default()).unwrap();
        Server {
            router: app(AppState::new(db.clone(), opts)),
            db,
            _dir: dir,
        }
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    async fn write(
        &self,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let request = Request::post("/api/v1/write")
            .header(header::CONTENT_TYPE, content_type)
            .header(header::CONTENT_ENCODING, "snappy")
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    async fn write_v1(&self, request: &v1::WriteRequest) -> (StatusCode, String) {
        let (status, _, body) = self
            .write(WriteProtocol::V1.content_type(), encode_v1(request))
            .await;
        (status, body)
    }

    /// Every stored sample of series matching `name`, as `(labels, [(t, v bits)])`.
    fn stored(&self, matchers: &[Matcher]) -> Vec<(String, Vec<(i64, u64)>)> {
        let q = self.db.querier(i64::MIN, i64::MAX).unwrap();
        q.select(matchers)
            .unwrap()
            .iter()
            .map(|s| {
                let mut it = s.iter();
                let mut samples = Vec::new();
                for (t, v) in it.by_ref() {
                    samples.push((t, v.to_bits()));
                }
                (s.labels().to_string(), samples)
            })
            .collect()
    }

    fn series_count(&self) -> usize {
        let all = Matcher::new(promlite_tsdb::MatchOp::Regex, "__name__", ".+").unwrap();
        self.db
            .querier(i64::MIN, i64::MAX)
            .unwrap()
            .select(&[all])
            .unwrap()
            .len()
    }
}

fn series(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> v1::TimeSeries {
    v1::TimeSeries {
        labels: labels.iter().copied().map(Label::from).collect(),
        samples: samples
            .iter()
            .map(|&(timestamp, value)| Sample { value, timestamp })
            .collect(),
        ..Default::default()
    }
}

fn request(timeseries: Vec<v1::TimeSeries>) -> v1::WriteRequest {
    v1::WriteRequest {
        timeseries,
        metadata: vec![],
    }
}

const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

#[tokio::test]
async fn stores_and_answers_204() {
    let s = Server::new();
    let stale = f64::from_bits(STALE_NAN);
    let (status, body) = s
        .write_v1(&request(vec![series(
            &[("__name__", "up"), ("job", "node")],
            &[(1000, 1.0), (2000, stale)],
        )]))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(body, "");
    assert_eq!(
        s.stored(&[Matcher::equal("__name__", "up")]),
        [(
            r#"{__name__="up", job="node"}"#.to_owned(),
            vec![(1000, 1f64.to_bits()), (2000, STALE_NAN)]
        )]
    );
    // The alias Grafana and Mimir clients use.
    let req = Request::post("/api/v1/push")
        .header(header::CONTENT_TYPE, "application/x-protobuf")
        .body(Body::from(encode_v1(&request(vec![series(
            &[("__name__", "up"), ("job", "node")],
            &[(3000, 2.0)],
        )]))))
        .unwrap();
    assert_eq!(s.send(req).await.0, StatusCode::NO_CONTENT);
    assert_eq!(s.stored(&[Matcher::equal("__name__", "up")])[0].1.len(), 3);
}

#[tokio::test]
async fn unsorted_labels_are_sorted() {
    let s = Server::new();
    let (status, _) = s
        .write_v1(&request(vec![series(
            &[("zone", "a"), ("__name__", "m"), ("app", "x")],
            &[(1, 1.0)],
        )]))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        s.stored(&[Matcher::equal("__name__", "m")])[0].0,
        r#"{__name__="m", app="x", zone="a"}"#
    );
}

#[tokio::test]
async fn ten_thousand_series_in_one_request() {
    let s = Server::new();
    let timeseries = (0..10_000)
        .map(|i| {
            let inst = format!("host-{i}");
            series(
                &[
                    ("__name__", "node_load1"),
                    ("instance", &inst),
                    ("job", "node"),
                ],
                &[(60_000, f64::from(i))],
            )
        })
        .collect();
    let (status, body) = s.write_v1(&request(timeseries)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(s.series_count(), 10_000);
    let one = s.stored(&[Matcher::equal("instance", "host-1234")]);
    assert_eq!(one[0].1, [(60_000, 1234f64.to_bits())]);
}

#[tokio::test]
async fn remote_write_2_with_written_headers() {
    let s = Server::new();
    let mut symbols = SymbolTable::new();
    let refs = symbols.intern_labels([("__name__", "http_requests_total"), ("code", "200")]);
    let help = symbols.intern("Requests served.");
    let req = v2::Request {
        timeseries: vec![v2::TimeSeries {
            labels_refs: refs,
            samples: vec![
                Sample {
                    value: 5.0,
                    timestamp: 10,
                },
                Sample {
                    value: 6.0,
                    timestamp: 20,
                },
            ],
            metadata: Some(v2::Metadata {
                r#type: MetricType::Counter as i32,
                help_ref: help,
                unit_ref: 0,
            }),
            ..Default::default()
        }],
        symbols: symbols.into_symbols(),
    };
    let (status, headers, body) = s
        .write(WriteProtocol::V2.content_type(), encode_v2(&req))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(headers["x-prometheus-remote-write-samples-written"], "2");
    assert_eq!(headers["x-prometheus-remote-write-histograms-written"], "0");
    assert_eq!(headers["x-prometheus-remote-write-exemplars-written"], "0");
    assert_eq!(s.stored(&[Matcher::equal("code", "200")])[0].1.len(), 2);
}

#[tokio::test]
async fn unsupported_content_types_get_415() {
    let s = Server::new();
    let body = encode_v1(&request(vec![series(&[("__name__", "m")], &[(1, 1.0)])]));
    for content_type in [
        "application/json",
        "application/x-protobuf;proto=io.prometheus.write.v3.Request",
    ] {
        let (status, _, text) = s.write(content_type, body.clone()).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type}");
        assert!(text.contains("unsupported"), "{text}");
    }
    let req = Request::post("/api/v1/write")
        .header(header::CONTENT_TYPE, "application/x-protobuf")
        .header(header::CONTENT_ENCODING, "gzip")
        .body(Body::from(body))
        .unwrap();
    let (status, _, text) = s.send(req).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(text.contains("gzip"), "{text}");
    assert_eq!(s.series_count(), 0);
}

#[tokio::test]
async fn undecodable_bodies_get_400_with_one_line() {
    let s = Server::new();
    let good = encode_v1(&request(vec![
        series(&[("__name__", "m")], &[(1, 1.0)]);
        50
    ]));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated snappy",
            good[..good.len() / 2].to_vec(),
            "invalid snappy block",
        ),
        (
            "garbage protobuf",
            compress(&[0xff; 64]),
            "undecodable prometheus.WriteRequest",
        ),
        (
            "4 GiB claim",
            vec![0x80, 0x80, 0x80, 0x80, 0x10, 0x00, 0x01, 0x02],
            "claims 4294967296 decompressed bytes",
        ),
        ("empty body", vec![], "empty body"),
    ];
    for (what, body, expected) in cases {
        let (status, _, text) = s.write(WriteProtocol::V1.content_type(), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {text}");
        assert!(text.contains(expected), "{what}: {text}");
        assert_eq!(text.trim_end().lines().count(), 1, "{what}: {text}");
    }
    assert_eq!(s.series_count(), 0);
}

#[tokio::test]
async fn empty_request_is_a_no_op() {
    let s = Server::new();
    assert_eq!(
        s.write_v1(&v1::WriteRequest::default()).await.0,
        StatusCode::NO_CONTENT
    );
    let (status, headers, _) = s
        .write(
            WriteProtocol::V2.content_type(),
            encode_v2(&v2::Request::default()),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(headers["x-prometheus-remote-write-samples-written"], "0");
}

#[tokio::test]
async fn partial_acceptance_stores_the_good_series() {
    let s = Server::new();
    assert_eq!(
        s.write_v1(&request(vec![series(
            &[("__name__", "late")],
            &[(5000, 1.0)]
        )]))
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let (status, text) = s
        .write_v1(&request(vec![
            series(
                &[("__name__", "good"), ("i", "1")],
                &[(1000, 1.0), (2000, 2.0)],
            ),
            series(&[("job", "no-name")], &[(1000, 1.0)]),
            series(&[("__name__", "late")], &[(4000, 9.0), (6000, 3.0)]),
            series(
                &[("__name__", "dup"), ("a", "1"), ("a", "2")],
                &[(1000, 1.0)],
            ),
            series(&[("__name__", "good"), ("i", "2")], &[(1000, 1.0)]),
        ]))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    assert!(
        text.starts_with("3 of 5 series rejected (3 samples); stored 4 samples"),
        "{text}"
    );
    assert!(
        text.contains(r#"missing_metric_name: 1 series, 1 samples (first: {job="no-name"}"#),
        "{text}"
    );
    assert!(text.contains("out_of_order: 1 series, 1 samples"), "{text}");
    assert!(
        text.contains(r#"duplicate_label_name: 1 series, 1 samples"#),
        "{text}"
    );
    assert_eq!(text.trim_end().lines().count(), 1);
    assert_eq!(s.stored(&[Matcher::equal("__name__", "good")]).len(), 2);
    let late = s.stored(&[Matcher::equal("__name__", "late")]);
    assert_eq!(late[0].1, [(5000, 1f64.to_bits()), (6000, 3f64.to_bits())]);
    assert_eq!(s.series_count(), 3);
}

#[tokio::test]
async fn duplicate_timestamp_with_another_value_is_refused() {
    let s = Server::new();
    let first = request(vec![series(&[("__name__", "m")], &[(1000, 1.0)])]);
    assert_eq!(s.write_v1(&first).await.0, StatusCode::NO_CONTENT);
    // Resending the same sample (a retry) is fine; a different value is not.
    assert_eq!(s.write_v1(&first).await.0, StatusCode::NO_CONTENT);
    let (status, text) = s
        .write_v1(&request(vec![series(&[("__name__", "m")], &[(1000, 2.0)])]))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.contains("duplicate_sample"), "{text}");
    assert_eq!(
        s.stored(&[Matcher::equal("__name__", "m")])[0].1,
        [(1000, 1f64.to_bits())]
    );
}

#[tokio::test]
async fn invalid_labels_and_limits_are_400() {
    let opts = HttpOptions {
        limits: promlite_remote_write::Limits {
            max_label_value_bytes: 8,
            ..Default::default()
        },
        ..HttpOptions::default()
    };
    let s = Server::with(opts);
    let (status, text) = s
        .write_v1(&request(vec![
            series(&[("__name__", "m"), ("bad-name", "x")], &[(1, 1.0)]),
            series(&[("__name__", "m"), ("long", "123456789")], &[(1, 1.0)]),
        ]))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        text.contains("invalid_label_name") && text.contains("label_value_too_long"),
        "{text}"
    );
    assert_eq!(s.series_count(), 0);
}

#[tokio::test]
async fn remote_write_2_bad_symbol_reference() {
    let s = Server::new();
    let mut symbols = SymbolTable::new();
    let good = symbols.intern_labels([("__name__", "ok")]);
    let symbols = symbols.into_symbols();
    let req = v2::Request {
        timeseries: vec![
            v2::TimeSeries {
                labels_refs: good,
                samples: vec![Sample {
                    value: 1.0,
                    timestamp: 1,
                }],
                ..Default::default()
            },
            v2::TimeSeries {
                labels_refs: vec![1, 99],
                samples: vec![Sample {
                    value: 1.0,
                    timestamp: 1,
                }],
                ..Default::default()
            },
        ],
        symbols,
    };
    let (status, headers, text) = s
        .write(WriteProtocol::V2.content_type(), encode_v2(&req))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        text.contains("bad_symbol_reference") && text.contains("symbol reference 99 out of range"),
        "{text}"
    );
    assert_eq!(headers["x-prometheus-remote-write-samples-written"], "1");
    assert_eq!(s.series_count(), 1);
}

#[tokio::test]
async fn oversized_body_is_413() {
    let s = Server::with(HttpOptions {
        max_request_bytes: 1024,
        ..HttpOptions::default()
    });
    let big: Vec<v1::TimeSeries> = (0..200)
        .map(|i| series(&[("__name__", "m"), ("i", &i.to_string())], &[(1, 1.0)]))
        .collect();
    let body = encode_v1(&request(big));
    assert!(body.len() > 1024);
    let (status, _, _) = s.write(WriteProtocol::V1.content_type(), body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn storage_failure_is_5xx_so_the_sender_retries() {
    let s = Server::new();
    s.db.close().unwrap();
    let (status, text) = s
        .write_v1(&request(vec![series(&[("__name__", "m")], &[(1, 1.0)])]))
        .await;
    assert!(status.is_server_error(), "{status}: {text}");
    assert!(text.contains("retry"), "{text}");
}

#[tokio::test]
async fn metrics_count_ingested_and_rejected_samples() {
    let s = Server::new();
    let mut ts = series(&[("__name__", "m")], &[(1, 1.0), (2, 2.0)]);
    ts.exemplars = vec![v1::Exemplar {
        labels: vec![],
        value: 1.0,
        timestamp: 1,
    }];
    let req = v1::WriteRequest {
        timeseries: vec![ts, series(&[("a", "b")], &[(1, 1.0)])],
        metadata: vec![v1::MetricMetadata {
            r#type: MetricType::Gauge as i32,
            metric_family_name: "m".into(),
            help: "An m.".into(),
            unit: String::new(),
        }],
    };
    assert_eq!(s.write_v1(&req).await.0, StatusCode::BAD_REQUEST);
    let (status, headers, text) = s
        .send(Request::get("/metrics").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    for line in [
        "promlite_samples_ingested_total 2",
        "promlite_samples_rejected_total{reason=\"missing_metric_name\"} 1",
        "promlite_series_rejected_total{reason=\"missing_metric_name\"} 1",
        "promlite_exemplars_dropped_total 1",
        "promlite_head_series 1",
        "promlite_wal_commit_duration_seconds_count 1",
        "promlite_http_request_duration_seconds_count{handler=\"/api/v1/write\",code=\"400\"} 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
}

#[tokio::test]
async fn health_endpoints() {
    let s = Server::new();
    for path in ["/-/healthy", "/-/ready"] {
        let (status, _, _) = s
            .send(Request::get(path).body(Body::empty()).unwrap())
            .await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
}

/// A series cached by the ingest path that the head has since dropped (its data
/// went into a block) is re-created from its labels on its next sample.
#[tokio::test]
async fn series_truncated_from_the_head_is_recreated() {
    let s = Server::new();
    const HOUR: i64 = 3_600_000;
    let t0 = 1_700_000_000_000 / (2 * HOUR) * (2 * HOUR);
    let old = |t: i64| {
        request(vec![series(
            &[("__name__", "old"), ("job", "a")],
            &[(t, 1.0)],
        )])
    };
    assert_eq!(s.write_v1(&old(t0)).await.0, StatusCode::NO_CONTENT);
    // Another series moves the head far enough ahead that compaction writes the
    // first block range out and drops `old` from the head.
    for h in 1..=8 {
        let (status, body) = s
            .write_v1(&request(vec![series(
                &[("__name__", "new")],
                &[(t0 + h * HOUR, 1.0)],
            )]))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    s.db.compact().unwrap();
    assert_eq!(
        s.db.stats_with_limit(0).num_series,
        1,
        "`old` must have left the head"
    );
    let (status, body) = s.write_v1(&old(t0 + 8 * HOUR + 1)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let stored = s.stored(&[Matcher::equal("__name__", "old")]);
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].1.last(),
        Some(&(t0 + 8 * HOUR + 1, 1f64.to_bits()))
    );
}

/// Senders write from many shards at once: concurrent requests, each acknowledged,
/// all stored, series shared between requests included.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers() {
    let s = std::sync::Arc::new(Server::new());
    let mut tasks = Vec::new();
    for w in 0..8i64 {
        let s = std::sync::Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            for round in 0..20i64 {
                let t = 1_000 * (round * 8 + w);
                let own = format!("w{w}");
                let req = request(vec![
                    series(&[("__name__", "shared"), ("writer", &own)], &[(t, 1.0)]),
                    series(
                        &[
                            ("__name__", "private"),
                            ("writer", &own),
                            ("round", &round.to_string()),
                        ],
                        &[(t, 2.0)],
                    ),
                ]);
                let (status, body) = s.write_v1(&req).await;
                assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        s.stored(&[Matcher::equal("__name__", "shared")])
            .iter()
            .map(|x| x.1.len())
            .sum::<usize>(),
        160
    );
    assert_eq!(
        s.stored(&[Matcher::equal("__name__", "private")]).len(),
        160
    );
}
