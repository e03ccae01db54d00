//! `POST /api/v1/read` through the in-process router: both response types return
//! exactly what was written (stale markers bit-exact), matchers and time ranges
//! select as Prometheus does, and bad requests are 400.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

mod harness;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use harness::read_query;
use http_body_util::BodyExt;
use promlite::http::{app, AppState, HttpOptions};
use promlite_remote_write::proto::read::{ChunkEncoding, MatcherType, ReadRequest, ResponseType};
use promlite_remote_write::proto::{v1, Sample};
use promlite_remote_write::{
    decode_chunked_frames, decode_read_response, encode_read_request, encode_v1, WriteProtocol,
    CHUNKED_CONTENT_TYPE,
};
use promlite_tsdb::chunkenc::XorIterator;
use promlite_tsdb::{Db, Options};
use tower::ServiceExt;

const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;
const START: i64 = 1_700_000_000_000;

struct Api {
    router: axum::Router,
    _dir: tempfile::TempDir,
}

async fn send(router: &axum::Router, path: &str, body: Vec<u8>) -> (StatusCode, String, Vec<u8>) {
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-protobuf")
        .body(Body::from(body))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        status,
        content_type,
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
}

/// Three series of `m` (`i` = 0, 1, 2), 500 samples each at 1 s, every 10th a stale marker.
async fn api() -> Api {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let router = app(AppState::new(db, HttpOptions::default()));
    let timeseries = (0..3)
        .map(|i| v1::TimeSeries {
            labels: vec![
                ("__name__", "m").into(),
                ("i", i.to_string().as_str()).into(),
            ],
            samples: (0..500)
                .map(|k| Sample {
                    value: value(i, k),
                    timestamp: START + k * 1000,
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    let body = encode_v1(&v1::WriteRequest {
        timeseries,
        metadata: vec![],
    });
    let request = Request::post("/api/v1/write")
        .header(header::CONTENT_TYPE, WriteProtocol::V1.content_type())
        .body(Body::from(body))
        .unwrap();
    assert_eq!(
        router.clone().oneshot(request).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    Api { router, _dir: dir }
}

fn value(i: i64, k: i64) -> f64 {
    if k % 10 == 9 {
        f64::from_bits(STALE_NAN)
    } else {
        (i * 1000 + k) as f64 * 0.5
    }
}

fn expected(i: i64, from_k: i64, to_k: i64) -> Vec<(i64, u64)> {
    (from_k..=to_k)
        .map(|k| (START + k * 1000, value(i, k).to_bits()))
        .collect()
}

#[tokio::test]
async fn samples_response() {
    let api = api().await;
    let request = ReadRequest {
        queries: vec![
            read_query(
                &[
                    (MatcherType::Eq, "__name__", "m"),
                    (MatcherType::Re, "i", "0|2"),
                ],
                START + 10_000,
                START + 20_000,
            ),
            read_query(
                &[(MatcherType::Neq, "i", "0"), (MatcherType::Nre, "i", "2")],
                START,
                START + 2_000,
            ),
            read_query(
                &[(MatcherType::Eq, "__name__", "missing")],
                START,
                START + 2_000,
            ),
        ],
        accepted_response_types: vec![],
    };
    let (status, content_type, body) =
        send(&api.router, "/api/v1/read", encode_read_request(&request)).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(content_type, "application/x-protobuf");
    let response = decode_read_response(&body, 1 << 30).unwrap();
    assert_eq!(response.results.len(), 3);
    let series = |r: usize| -> Vec<(String, Vec<(i64, u64)>)> {
        response.results[r]
            .timeseries
            .iter()
            .map(|ts| {
                (
                    ts.labels[1].value.clone(),
                    ts.samples
                        .iter()
                        .map(|s| (s.timestamp, s.value.to_bits()))
                        .collect(),
                )
            })
            .collect()
    };
    // Both range ends are inclusive.
    assert_eq!(
        series(0),
        [
            ("0".to_owned(), expected(0, 10, 20)),
            ("2".to_owned(), expected(2, 10, 20))
        ]
    );
    assert_eq!(series(1), [("1".to_owned(), expected(1, 0, 2))]);
    assert!(series(2).is_empty());
}

#[tokio::test]
async fn streamed_xor_chunks_response() {
    let api = api().await;
    let request = ReadRequest {
        queries: vec![read_query(
            &[(MatcherType::Eq, "__name__", "m")],
            START,
            START + 499_000,
        )],
        accepted_response_types: vec![
            ResponseType::StreamedXorChunks as i32,
            ResponseType::Samples as i32,
        ],
    };
    let (status, content_type, body) =
        send(&api.router, "/api/v1/read", encode_read_request(&request)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, CHUNKED_CONTENT_TYPE);
    let frames = decode_chunked_frames(&body, 1 << 20).unwrap();
    let mut got: Vec<(String, Vec<(i64, u64)>)> = Vec::new();
    for frame in &frames {
        assert_eq!(frame.query_index, 0);
        for series in &frame.chunked_series {
            let mut samples = Vec::new();
            for chunk in &series.chunks {
                assert_eq!(chunk.r#type, ChunkEncoding::Xor as i32);
                let mut it = XorIterator::new(&chunk.data);
                while it.next() {
                    let (t, v) = it.at();
                    assert!(t >= chunk.min_time_ms && t <= chunk.max_time_ms);
                    samples.push((t, v.to_bits()));
                }
                assert!(it.err().is_none());
            }
            got.push((series.labels[1].value.clone(), samples));
        }
    }
    let want: Vec<(String, Vec<(i64, u64)>)> = (0..3)
        .map(|i| (i.to_string(), expected(i, 0, 499)))
        .collect();
    assert_eq!(got, want);
}

#[tokio::test]
async fn bad_requests_are_400() {
    let api = api().await;
    let (status, _, _) = send(&api.router, "/api/v1/read", vec![0xff, 0xff, 0xff]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let request = ReadRequest {
        queries: vec![read_query(&[(MatcherType::Re, "i", "(")], START, START)],
        accepted_response_types: vec![],
    };
    let (status, _, body) = send(&api.router, "/api/v1/read", encode_read_request(&request)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        String::from_utf8_lossy(&body).contains("invalid matcher"),
        "{}",
        String::from_utf8_lossy(&body)
    );
}
