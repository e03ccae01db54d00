//! The known-series fast path: a series recognised by its raw label bytes keeps
//! its samples and the caller's token but skips label decoding; anything else is
//! decoded in full, and the raw bytes decode back to the same validated labels.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::collections::HashMap;

use proptest::prelude::*;
use prost::Message;

use promlite_remote_write::proto::{v1, Label, Sample};
use promlite_remote_write::{
    decode_known_labels, decode_write_request, decode_write_request_known, DecodeBuffers, Limits,
    WriteProtocol,
};

fn series(labels: &[(&str, &str)], t: i64) -> v1::TimeSeries {
    v1::TimeSeries {
        labels: labels.iter().copied().map(Label::from).collect(),
        samples: vec![Sample {
            value: t as f64,
            timestamp: t,
        }],
        ..Default::default()
    }
}

#[test]
fn known_series_skip_label_decoding() {
    let limits = Limits::default();
    let request = v1::WriteRequest {
        timeseries: vec![
            series(&[("__name__", "a"), ("job", "x")], 1),
            series(&[("job", "y"), ("__name__", "b")], 2),
            series(&[("job", "z")], 3),
        ],
        metadata: vec![],
    };
    let bytes = request.encode_to_vec();

    // First request: nothing known; remember the raw labels of the valid series.
    let mut seen: HashMap<Vec<u8>, u64> = HashMap::new();
    let decoded = decode_write_request(WriteProtocol::V1, &bytes, &limits).unwrap();
    assert_eq!(decoded.rejected().len(), 1);
    for (i, s) in decoded.series().enumerate() {
        assert!(s.token.is_none());
        let raw = s.raw_labels.unwrap();
        let mut again = Vec::new();
        decode_known_labels(raw, &limits, &mut again).unwrap();
        assert_eq!(
            again, s.labels,
            "raw labels decode to the validated, sorted labels"
        );
        seen.insert(raw.to_vec(), 100 + i as u64);
    }

    // Second request with the same bytes: both valid series come back as tokens.
    let mut asked = 0;
    let mut known = |raw: &[u8]| {
        asked += 1;
        seen.get(raw).copied()
    };
    let decoded = decode_write_request_known(
        WriteProtocol::V1,
        &bytes,
        &limits,
        DecodeBuffers::default(),
        &mut known,
    )
    .unwrap();
    assert_eq!(asked, 3);
    let got: Vec<(Option<u64>, usize, i64)> = decoded
        .series()
        .map(|s| (s.token, s.labels.len(), s.samples[0].timestamp))
        .collect();
    assert_eq!(got, [(Some(100), 0, 1), (Some(101), 0, 2)]);
    assert_eq!(
        decoded.rejected().len(),
        1,
        "unknown series are still validated"
    );
}

#[test]
fn interleaved_labels_have_no_raw_key() {
    // labels, sample, label: valid protobuf, but the label bytes are not one run.
    let mut bytes = Vec::new();
    let ts = series(&[("__name__", "a")], 1);
    let mut inner = Vec::new();
    prost::encoding::message::encode(1, &ts.labels[0], &mut inner);
    prost::encoding::message::encode(2, &ts.samples[0], &mut inner);
    prost::encoding::message::encode(
        1,
        &Label {
            name: "job".into(),
            value: "x".into(),
        },
        &mut inner,
    );
    prost::encoding::encode_key(1, prost::encoding::WireType::LengthDelimited, &mut bytes);
    prost::encoding::encode_varint(inner.len() as u64, &mut bytes);
    bytes.extend_from_slice(&inner);
    let mut known = |_: &[u8]| -> Option<u64> { panic!("no raw key to ask about") };
    let decoded = decode_write_request_known(
        WriteProtocol::V1,
        &bytes,
        &Limits::default(),
        DecodeBuffers::default(),
        &mut known,
    )
    .unwrap();
    let s = decoded.series().next().unwrap();
    assert!(s.raw_labels.is_none());
    assert_eq!(s.labels.len(), 2);
}

proptest! {
    #[test]
    fn known_labels_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let mut out = Vec::new();
        let _ = decode_known_labels(&bytes, &Limits::default(), &mut out);
    }
}
