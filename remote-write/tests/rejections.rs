//! What refuses a whole request and what refuses only one series.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use promlite_remote_write::proto::{v1, v2, Label, Sample};
use promlite_remote_write::{
    decode_write_request, decompress_body, encode_v1, encode_v2, DecodeError, Limits, SeriesError,
    SnappyError, SymbolTable, WireError, WriteProtocol,
};

fn series(labels: &[(&str, &str)], samples: usize) -> v1::TimeSeries {
    v1::TimeSeries {
        labels: labels.iter().copied().map(Label::from).collect(),
        samples: (0..samples)
            .map(|i| Sample {
                value: i as f64,
                timestamp: i as i64,
            })
            .collect(),
        ..Default::default()
    }
}

#[test]
fn bad_series_are_rejected_alone() {
    let request = v1::WriteRequest {
        timeseries: vec![
            series(&[("__name__", "good"), ("a", "1")], 2),
            series(&[("a", "1")], 3),
            series(&[("__name__", "dup"), ("a", "1"), ("a", "2")], 1),
            series(&[("__name__", "bad"), ("a-b", "1")], 1),
            series(&[("__name__", "good2")], 1),
        ],
        metadata: vec![],
    };
    let limits = Limits::default();
    let raw = decompress_body(&encode_v1(&request), &limits).unwrap();
    let decoded = decode_write_request(WriteProtocol::V1, &raw, &limits).unwrap();
    let names: Vec<&str> = decoded.series().map(|s| s.labels[0].value).collect();
    assert_eq!(names, ["good", "good2"]);
    assert_eq!(decoded.sample_count(), 3);
    let errors: Vec<(&str, usize, &SeriesError)> = decoded
        .rejected()
        .iter()
        .map(|r| (r.labels.as_str(), r.samples, &r.error))
        .collect();
    assert_eq!(
        errors,
        [
            (r#"{a="1"}"#, 3, &SeriesError::MissingMetricName),
            (
                r#"{__name__="dup", a="1", a="2"}"#,
                1,
                &SeriesError::DuplicateLabelName("a".into())
            ),
            (
                r#"{__name__="bad", a-b="1"}"#,
                1,
                &SeriesError::InvalidLabelName("a-b".into())
            ),
        ]
    );
}

#[test]
fn exemplars_and_histograms_are_counted_not_stored() {
    let mut s = series(&[("__name__", "h")], 1);
    s.exemplars = vec![
        v1::Exemplar {
            labels: vec![],
            value: 1.0,
            timestamp: 1
        };
        2
    ];
    s.histograms = vec![promlite_remote_write::proto::Histogram {
        schema: 3,
        ..Default::default()
    }];
    let request = v1::WriteRequest {
        timeseries: vec![s],
        metadata: vec![],
    };
    let limits = Limits::default();
    let raw = decompress_body(&encode_v1(&request), &limits).unwrap();
    let decoded = decode_write_request(WriteProtocol::V1, &raw, &limits).unwrap();
    assert_eq!(
        (
            decoded.exemplars(),
            decoded.histograms(),
            decoded.sample_count()
        ),
        (2, 1, 1)
    );
}

#[test]
fn v2_symbol_references_are_bounds_checked() {
    let mut symbols = SymbolTable::new();
    let good = symbols.intern_labels([("__name__", "ok")]);
    let help = symbols.intern("Help text.");
    let symbols = symbols.into_symbols();
    let n = symbols.len() as u32;
    let ts = |labels_refs: Vec<u32>, metadata: Option<v2::Metadata>| v2::TimeSeries {
        labels_refs,
        samples: vec![Sample {
            value: 1.0,
            timestamp: 1,
        }],
        metadata,
        ..Default::default()
    };
    let request = v2::Request {
        symbols,
        timeseries: vec![
            ts(
                good.clone(),
                Some(v2::Metadata {
                    r#type: 1,
                    help_ref: help,
                    unit_ref: 0,
                }),
            ),
            ts(vec![1, n], None),
            ts(vec![1], None),
            ts(
                good.clone(),
                Some(v2::Metadata {
                    r#type: 1,
                    help_ref: n + 7,
                    unit_ref: 0,
                }),
            ),
        ],
    };
    let limits = Limits::default();
    let raw = decompress_body(&encode_v2(&request), &limits).unwrap();
    let decoded = decode_write_request(WriteProtocol::V2, &raw, &limits).unwrap();
    assert_eq!(decoded.series_count(), 1);
    let errors: Vec<&SeriesError> = decoded.rejected().iter().map(|r| &r.error).collect();
    assert_eq!(
        errors,
        [
            &SeriesError::SymbolOutOfRange {
                reference: n,
                len: n as usize
            },
            &SeriesError::OddLabelRefs(1),
            &SeriesError::SymbolOutOfRange {
                reference: n + 7,
                len: n as usize
            },
        ]
    );
    let m = decoded.metadata();
    assert_eq!(m.len(), 1);
    assert_eq!((m[0].metric_family_name, m[0].help), ("ok", "Help text."));
}

#[test]
fn malformed_protobuf_refuses_the_request() {
    let limits = Limits::default();
    let request = v1::WriteRequest {
        timeseries: vec![series(&[("__name__", "m")], 1)],
        metadata: vec![],
    };
    let raw = prost::Message::encode_to_vec(&request);
    let cut = &raw[..raw.len() - 1];
    match decode_write_request(WriteProtocol::V1, cut, &limits) {
        Err(DecodeError::Protobuf {
            message: "prometheus.WriteRequest",
            source: WireError::Truncated { .. },
        }) => {}
        other => panic!("expected truncation, got {other:?}"),
    }
    // Field 1 of WriteRequest as a varint instead of a message.
    match decode_write_request(WriteProtocol::V1, &[0x08, 0x01], &limits) {
        Err(DecodeError::Protobuf {
            source: WireError::WrongWireType { field: 1, .. },
            ..
        }) => {}
        other => panic!("expected wrong wire type, got {other:?}"),
    }
    // Invalid UTF-8 in a label name.
    let bad_utf8 = [0x0a, 0x06, 0x0a, 0x04, 0x0a, 0x02, 0xc3, 0x28];
    match decode_write_request(WriteProtocol::V1, &bad_utf8, &limits) {
        Err(DecodeError::Protobuf {
            source: WireError::InvalidUtf8 {
                field: "label name",
            },
            ..
        }) => {}
        other => panic!("expected invalid UTF-8, got {other:?}"),
    }
    let e = decompress_body(&[0x80, 0x80, 0x80, 0x80, 0x10, 0, 0], &limits).unwrap_err();
    assert!(matches!(
        e,
        DecodeError::Snappy(SnappyError::TooLarge {
            claimed_bytes: 4_294_967_296,
            ..
        })
    ));
    assert_eq!(
        e.to_string(),
        "snappy header claims 4294967296 decompressed bytes, over the limit of 33554432"
    );
}

#[test]
fn empty_request_is_valid_and_empty() {
    let limits = Limits::default();
    for (protocol, body) in [
        (WriteProtocol::V1, encode_v1(&v1::WriteRequest::default())),
        (WriteProtocol::V2, encode_v2(&v2::Request::default())),
    ] {
        let raw = decompress_body(&body, &limits).unwrap();
        let decoded = decode_write_request(protocol, &raw, &limits).unwrap();
        assert_eq!((decoded.series_count(), decoded.rejected().len()), (0, 0));
    }
    assert!(matches!(
        decompress_body(&[], &limits),
        Err(DecodeError::Snappy(SnappyError::Empty))
    ));
}
