//! decode(encode(x)) == x for remote-write 1.0 and 2.0, through both the zero-copy
//! ingest decoder and prost, with the float values the storage must keep bit-exact.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use proptest::prelude::*;
use prost::Message;

use promlite_remote_write::proto::{v1, v2, Label, MetricType, Sample};
use promlite_remote_write::{
    decode_write_request, decompress_body, encode_v1, encode_v2, Limits, SymbolTable, WriteProtocol,
};

const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::from_bits(STALE_NAN)),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        Just(0.0),
    ]
}

fn timestamp() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        Just(i64::MIN),
        Just(i64::MAX),
        0i64..2_000_000_000_000
    ]
}

/// A series as a test expects it back: labels sorted by name, empty values dropped.
#[derive(Debug, Clone)]
struct Series {
    labels: Vec<(String, String)>,
    samples: Vec<(i64, f64)>,
}

impl Series {
    /// The samples as protobuf `Sample`s (the same message in 1.0 and 2.0).
    fn proto_samples(&self) -> Vec<Sample> {
        self.samples
            .iter()
            .map(|&(timestamp, value)| Sample { value, timestamp })
            .collect()
    }
}

fn series() -> impl Strategy<Value = Series> {
    let names = prop::collection::btree_set("[a-z_][a-z0-9_]{0,12}", 0..8);
    (
        names,
        "[a-z_:][a-z0-9_:]{0,20}",
        prop::collection::vec((timestamp(), value()), 0..130),
    )
        .prop_flat_map(|(names, metric, samples)| {
            let n = names.len();
            (
                Just(names),
                Just(metric),
                Just(samples),
                prop::collection::vec(".{0,16}", n),
            )
        })
        .prop_map(|(names, metric, samples, values)| {
            let mut labels: Vec<(String, String)> = names
                .into_iter()
                .filter(|n| n != "__name__")
                .zip(values)
                .filter(|(_, v)| !v.is_empty())
                .collect();
            labels.push(("__name__".into(), metric));
            labels.sort();
            Series { labels, samples }
        })
}

/// The same labels in a scrambled order with an empty-valued label added, so the
/// decoder has to sort and drop.
fn scrambled(labels: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = labels.iter().rev().cloned().collect();
    out.insert(out.len() / 2, ("zz_empty".into(), String::new()));
    out
}

fn to_v1(batch: &[Series]) -> v1::WriteRequest {
    v1::WriteRequest {
        timeseries: batch
            .iter()
            .map(|s| v1::TimeSeries {
                labels: scrambled(&s.labels)
                    .into_iter()
                    .map(|(name, value)| Label { name, value })
                    .collect(),
                samples: s.proto_samples(),
                ..Default::default()
            })
            .collect(),
        metadata: vec![v1::MetricMetadata {
            r#type: MetricType::Counter as i32,
            metric_family_name: "http_requests_total".into(),
            help: "Requests.".into(),
            unit: String::new(),
        }],
    }
}

fn to_v2(batch: &[Series]) -> v2::Request {
    let mut symbols = SymbolTable::new();
    let timeseries = batch
        .iter()
        .map(|s| {
            let scrambled = scrambled(&s.labels);
            v2::TimeSeries {
                labels_refs: symbols
                    .intern_labels(scrambled.iter().map(|(n, v)| (n.as_str(), v.as_str()))),
                samples: s.proto_samples(),
                ..Default::default()
            }
        })
        .collect();
    v2::Request {
        symbols: symbols.into_symbols(),
        timeseries,
    }
}

/// Decodes `body` with the ingest decoder and checks it against `batch`, bit for bit.
fn check(protocol: WriteProtocol, body: &[u8], batch: &[Series]) {
    let limits = Limits::default();
    let bytes = decompress_body(body, &limits).unwrap();
    let decoded = decode_write_request(protocol, &bytes, &limits).unwrap();
    assert!(decoded.rejected().is_empty(), "{:?}", decoded.rejected());
    assert_eq!(decoded.series_count(), batch.len());
    for (got, want) in decoded.series().zip(batch) {
        let labels: Vec<(String, String)> = got
            .labels
            .iter()
            .map(|l| (l.name.to_owned(), l.value.to_owned()))
            .collect();
        assert_eq!(labels, want.labels);
        let samples: Vec<(i64, u64)> = got
            .samples
            .iter()
            .map(|s| (s.timestamp, s.value.to_bits()))
            .collect();
        // prost, like gogo-protobuf, omits a proto3 double equal to 0.0 and so sends
        // -0.0 as +0.0; `explicit_negative_zero_is_kept` covers the decoder side.
        let want_samples: Vec<(i64, u64)> = want
            .samples
            .iter()
            .map(|&(t, v)| (t, if v == 0.0 { 0 } else { v.to_bits() }))
            .collect();
        assert_eq!(samples, want_samples);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn v1_round_trip(batch in prop::collection::vec(series(), 0..20)) {
        let request = to_v1(&batch);
        let body = encode_v1(&request);
        check(WriteProtocol::V1, &body, &batch);
        check_prost_reads_back(&request, &body);
    }

    #[test]
    fn v2_round_trip(batch in prop::collection::vec(series(), 0..20)) {
        let request = to_v2(&batch);
        let body = encode_v2(&request);
        check(WriteProtocol::V2, &body, &batch);
        check_prost_reads_back(&request, &body);
    }
}

/// prost reads the encoded (snappy) `body` back to the same message as `request`.
fn check_prost_reads_back<M: Message + Default>(request: &M, body: &[u8]) {
    let bytes = promlite_remote_write::decompress(body, usize::MAX).unwrap();
    let again = M::decode(bytes.as_slice()).unwrap();
    assert_eq!(again.encode_to_vec(), request.encode_to_vec());
}

#[test]
fn sample_count_extremes() {
    for n in [1usize, 120, 65_535] {
        let batch = vec![Series {
            labels: vec![("__name__".into(), "m".into())],
            samples: (0..n).map(|i| (i as i64 * 15_000, i as f64)).collect(),
        }];
        check(WriteProtocol::V1, &encode_v1(&to_v1(&batch)), &batch);
        check(WriteProtocol::V2, &encode_v2(&to_v2(&batch)), &batch);
    }
}

/// Field numbers are the contract with every sender: pin the bytes of a tiny message.
#[test]
fn field_numbers_are_prometheus_ones() {
    let req = v1::WriteRequest {
        timeseries: vec![v1::TimeSeries {
            labels: vec![Label {
                name: "a".into(),
                value: "b".into(),
            }],
            samples: vec![Sample {
                value: 1.0,
                timestamp: 2,
            }],
            ..Default::default()
        }],
        metadata: vec![v1::MetricMetadata {
            r#type: 1,
            metric_family_name: "m".into(),
            help: "h".into(),
            unit: "u".into(),
        }],
    };
    let want: Vec<u8> = [
        &[0x0a, 0x15][..],                                 // timeseries (1), 21 bytes
        &[0x0a, 0x06, 0x0a, 0x01, b'a', 0x12, 0x01, b'b'], // labels (1): name (1), value (2)
        &[0x12, 0x0b, 0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x10, 0x02], // samples (2): value (1, fixed64), timestamp (2)
        &[
            0x1a, 0x0b, 0x08, 0x01, 0x12, 0x01, b'm', 0x22, 0x01, b'h', 0x2a, 0x01, b'u',
        ], // metadata (3): 1, 2, 4, 5
    ]
    .concat();
    assert_eq!(req.encode_to_vec(), want);

    let req = v2::Request {
        symbols: vec![String::new(), "a".into()],
        timeseries: vec![v2::TimeSeries {
            labels_refs: vec![1, 1],
            metadata: Some(v2::Metadata {
                r#type: 2,
                help_ref: 1,
                unit_ref: 0,
            }),
            created_timestamp: 5,
            ..Default::default()
        }],
    };
    let want: Vec<u8> = [
        &[0x22, 0x00, 0x22, 0x01, b'a'][..],   // symbols (4)
        &[0x2a, 0x0c],                         // timeseries (5)
        &[0x0a, 0x02, 0x01, 0x01],             // labels_refs (1), packed
        &[0x2a, 0x04, 0x08, 0x02, 0x18, 0x01], // metadata (5): type (1), help_ref (3)
        &[0x30, 0x05],                         // created_timestamp (6)
    ]
    .concat();
    assert_eq!(req.encode_to_vec(), want);
}

/// A sender that writes -0.0 explicitly (Go's newer protobuf compares bits) gets it
/// stored as -0.0.
#[test]
fn explicit_negative_zero_is_kept() {
    let mut sample = vec![0x09];
    sample.extend_from_slice(&(-0.0f64).to_bits().to_le_bytes());
    sample.extend_from_slice(&[0x10, 0x07]);
    let label = [
        0x0a, 0x08, b'_', b'_', b'n', b'a', b'm', b'e', b'_', b'_', 0x12, 0x01, b'm',
    ];
    let mut series = vec![0x0a, label.len() as u8];
    series.extend_from_slice(&label);
    series.extend_from_slice(&[0x12, sample.len() as u8]);
    series.extend_from_slice(&sample);
    let mut request = vec![0x0a, series.len() as u8];
    request.extend_from_slice(&series);
    let decoded = decode_write_request(WriteProtocol::V1, &request, &Limits::default()).unwrap();
    let s = decoded.series().next().unwrap();
    assert_eq!(s.samples[0].value.to_bits(), (-0.0f64).to_bits());
    assert_eq!(s.samples[0].timestamp, 7);
}

/// Owned labels and `(t, value bits)` samples of one series.
type SeriesBits = (Vec<(String, String)>, Vec<(i64, u64)>);

/// Decoding with buffers reused from earlier requests, alternating protocols and
/// sizes, gives exactly what fresh buffers give.
#[test]
fn reused_buffers_decode_like_fresh_ones() {
    use promlite_remote_write::{decode_write_request_with, DecodeBuffers};
    let limits = Limits::default();
    let mut buffers = DecodeBuffers::default();
    for round in 0..6usize {
        let batch: Vec<Series> = (0..(round * 7) % 20 + 1)
            .map(|i| Series {
                labels: vec![
                    ("__name__".into(), format!("m{round}")),
                    ("i".into(), i.to_string()),
                ],
                samples: (0..i % 3 + 1)
                    .map(|k| (k as i64, (round + k) as f64))
                    .collect(),
            })
            .collect();
        let (protocol, body) = if round % 2 == 0 {
            (WriteProtocol::V1, encode_v1(&to_v1(&batch)))
        } else {
            (WriteProtocol::V2, encode_v2(&to_v2(&batch)))
        };
        let raw = decompress_body(&body, &limits).unwrap();
        let fresh = decode_write_request(protocol, &raw, &limits).unwrap();
        let reused = decode_write_request_with(protocol, &raw, &limits, buffers).unwrap();
        let view = |d: &promlite_remote_write::DecodedWrite<'_>| -> Vec<SeriesBits> {
            d.series()
                .map(|s| {
                    (
                        s.labels
                            .iter()
                            .map(|l| (l.name.to_owned(), l.value.to_owned()))
                            .collect(),
                        s.samples
                            .iter()
                            .map(|x| (x.timestamp, x.value.to_bits()))
                            .collect(),
                    )
                })
                .collect()
        };
        assert_eq!(view(&reused), view(&fresh));
        assert_eq!(reused.metadata(), fresh.metadata());
        buffers = reused.into_buffers();
    }
}
