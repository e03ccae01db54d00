//! Arbitrary bytes never panic any decoder: the snappy layer, both write protocols,
//! remote-read requests and streamed frames. Valid messages with flipped or cut
//! bytes reach deeper than uniform noise does.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use proptest::prelude::*;

use promlite_remote_write::proto::{v1, v2, Sample};
use promlite_remote_write::{
    compress, decode_chunked_frames, decode_read_request, decode_write_request, decompress_body,
    encode_v1, encode_v2, Limits, SymbolTable, WriteProtocol,
};

fn decode_everything(bytes: &[u8]) {
    let limits = Limits {
        max_decompressed_bytes: 1 << 20,
        ..Limits::default()
    };
    for protocol in [WriteProtocol::V1, WriteProtocol::V2] {
        // As a compressed body and as already-decompressed protobuf.
        if let Ok(raw) = decompress_body(bytes, &limits) {
            drop(decode_write_request(protocol, &raw, &limits));
        }
        if let Ok(decoded) = decode_write_request(protocol, bytes, &limits) {
            // Touch everything the decoder returned.
            for s in decoded.series() {
                assert!(s.labels.iter().any(|l| l.name == "__name__"));
            }
        }
    }
    drop(decode_read_request(bytes, 1 << 20));
    drop(decode_chunked_frames(bytes, 1 << 20));
}

fn valid_v1() -> Vec<u8> {
    let request = v1::WriteRequest {
        timeseries: (0..3)
            .map(|i| v1::TimeSeries {
                labels: vec![
                    ("__name__", format!("metric_{i}").as_str()).into(),
                    ("job", "node").into(),
                ],
                samples: vec![Sample {
                    value: f64::from(i),
                    timestamp: 1000 * i64::from(i),
                }],
                ..Default::default()
            })
            .collect(),
        metadata: vec![v1::MetricMetadata {
            r#type: 2,
            metric_family_name: "metric_0".into(),
            help: "h".into(),
            unit: String::new(),
        }],
    };
    prost::Message::encode_to_vec(&request)
}

fn valid_v2() -> Vec<u8> {
    let mut symbols = SymbolTable::new();
    let timeseries = (0..3)
        .map(|i| v2::TimeSeries {
            labels_refs: symbols.intern_labels([("__name__", "m"), ("i", ["a", "b", "c"][i])]),
            samples: vec![Sample {
                value: 1.5,
                timestamp: 7,
            }],
            metadata: Some(v2::Metadata {
                r#type: 1,
                help_ref: 0,
                unit_ref: 0,
            }),
            ..Default::default()
        })
        .collect();
    prost::Message::encode_to_vec(&v2::Request {
        symbols: symbols.into_symbols(),
        timeseries,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        decode_everything(&bytes);
    }

    #[test]
    fn mutated_messages(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6), cut in any::<prop::sample::Index>(), v2 in any::<bool>()) {
        let mut bytes = if v2 { valid_v2() } else { valid_v1() };
        for (at, byte) in flips {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        let whole = bytes.clone();
        bytes.truncate(cut.index(bytes.len() + 1));
        for b in [&whole, &bytes] {
            decode_everything(b);
            decode_everything(&compress(b));
        }
    }
}

#[test]
fn valid_bodies_decode() {
    let limits = Limits::default();
    let v1_body = encode_v1(&prost::Message::decode(valid_v1().as_slice()).unwrap());
    let raw = decompress_body(&v1_body, &limits).unwrap();
    assert_eq!(
        decode_write_request(WriteProtocol::V1, &raw, &limits)
            .unwrap()
            .series_count(),
        3
    );
    let v2_body = encode_v2(&prost::Message::decode(valid_v2().as_slice()).unwrap());
    let raw = decompress_body(&v2_body, &limits).unwrap();
    let decoded = decode_write_request(WriteProtocol::V2, &raw, &limits).unwrap();
    assert_eq!(decoded.series_count(), 3);
    assert_eq!(decoded.metadata().len(), 3);
}
