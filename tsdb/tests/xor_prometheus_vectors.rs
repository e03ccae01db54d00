//! XOR chunks written by a real Prometheus 2.42 (see
//! `testdata/prometheus-2.42/README.md`) decode to the samples that were
//! remote-written into it and that its query API returned, and re-encoding
//! those samples reproduces Prometheus's bytes exactly.

#![expect(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    reason = "the segment walker indexes committed test data; a panic is a failed test"
)]

use promlite_tsdb::chunkenc::{Encoding, XorChunk, XorIterator};
use serde_json::Value;
use std::path::PathBuf;

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/prometheus-2.42")
}

/// One chunk of the segment file: offset of its length field, encoding byte, data.
struct SegmentChunk {
    offset: usize,
    encoding: u8,
    data: Vec<u8>,
}

/// Walks a chunk segment file (magic, version, padding, then
/// `uvarint len | encoding | data | CRC32C(encoding + data)`), checking every CRC.
fn read_segment(buf: &[u8]) -> Vec<SegmentChunk> {
    assert_eq!(&buf[..4], &0x85BD_40DDu32.to_be_bytes(), "segment magic");
    assert_eq!(buf[4], 1, "segment version");
    let mut pos = 8;
    let mut out = Vec::new();
    while pos < buf.len() {
        let offset = pos;
        let (mut len, mut shift) = (0usize, 0);
        loop {
            let b = buf[pos];
            pos += 1;
            len |= usize::from(b & 0x7f) << shift;
            shift += 7;
            if b < 0x80 {
                break;
            }
        }
        let covered = &buf[pos..pos + 1 + len];
        let crc = u32::from_be_bytes(buf[pos + 1 + len..pos + 5 + len].try_into().unwrap());
        assert_eq!(crc32c::crc32c(covered), crc, "CRC of chunk at {offset}");
        out.push(SegmentChunk {
            offset,
            encoding: covered[0],
            data: covered[1..].to_vec(),
        });
        pos += 5 + len;
    }
    out
}

fn decode(bytes: &[u8]) -> Vec<(i64, u64)> {
    let mut it = XorIterator::new(bytes);
    let mut out = Vec::new();
    while it.next() {
        let (t, v) = it.at();
        out.push((t, v.to_bits()));
    }
    assert_eq!(it.err(), None);
    out
}

/// Parses a value as Prometheus's API prints it (Go `strconv.FormatFloat(v, 'f', -1, 64)`).
fn parse_api_value(s: &str) -> f64 {
    match s {
        "NaN" => f64::NAN,
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other.parse().unwrap(),
    }
}

#[test]
fn prometheus_chunks_decode_and_reencode_bit_exact() {
    let dir = testdata();
    let vectors: Value =
        serde_json::from_slice(&std::fs::read(dir.join("vectors.json")).unwrap()).unwrap();
    let segment = std::fs::read(dir.join("block/chunks/000001")).unwrap();
    let chunks = read_segment(&segment);
    let series = vectors["series"].as_array().unwrap();
    let mut seen = 0;
    for s in series {
        let name = s["labels"]["__name__"].as_str().unwrap();
        let written: Vec<(i64, u64)> = s["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                let bits = u64::from_str_radix(x[1].as_str().unwrap(), 16).unwrap();
                (x[0].as_i64().unwrap(), bits)
            })
            .collect();
        let mut decoded = Vec::new();
        for meta in s["chunks"].as_array().unwrap() {
            let offset = meta["offset"].as_u64().unwrap() as usize;
            let chunk = chunks.iter().find(|c| c.offset == offset).unwrap();
            assert_eq!(Encoding::from_u8(chunk.encoding), Ok(Encoding::Xor));
            let samples = decode(&chunk.data);
            assert_eq!(samples.len() as u64, meta["num_samples"].as_u64().unwrap());

            // Our encoder, fed the same samples, writes Prometheus's bytes.
            let mut ours = XorChunk::new();
            for &(t, v) in &samples {
                ours.append(t, f64::from_bits(v));
            }
            assert_eq!(
                ours.bytes(),
                chunk.data.as_slice(),
                "{name} chunk at {offset}"
            );
            // And reopening Prometheus's chunk gives the same appendable state.
            let reopened = XorChunk::from_bytes(chunk.data.clone()).unwrap();
            assert_eq!(reopened.bytes(), chunk.data.as_slice());
            assert_eq!(reopened.last_time(), samples.last().map(|x| x.0));
            decoded.extend(samples);
            seen += 1;
        }
        assert_eq!(
            decoded, written,
            "{name}: decoded samples differ from those written"
        );

        // The API omits stale markers (range selectors drop them) and prints
        // NaN payloads as "NaN".
        let api = s["api"].as_array().unwrap();
        let visible: Vec<&(i64, u64)> = decoded
            .iter()
            .filter(|x| x.1 != 0x7ff0_0000_0000_0002)
            .collect();
        assert_eq!(visible.len(), api.len(), "{name}");
        for (got, want) in visible.iter().zip(api) {
            assert_eq!(got.0, want[0].as_i64().unwrap(), "{name}");
            let want_v = parse_api_value(want[1].as_str().unwrap());
            let got_v = f64::from_bits(got.1);
            assert!(
                got_v == want_v && got_v.is_sign_negative() == want_v.is_sign_negative()
                    || got_v.is_nan() && want_v.is_nan(),
                "{name} at {}: {got_v} vs API {want_v}",
                got.0
            );
        }
    }
    assert_eq!(
        seen,
        chunks.len(),
        "every chunk in the segment belongs to a series"
    );
}

#[test]
fn corrupted_prometheus_chunks_fail_cleanly() {
    let segment = std::fs::read(testdata().join("block/chunks/000001")).unwrap();
    for chunk in read_segment(&segment) {
        // Every truncation is an error (or a shorter read), never a panic.
        for cut in 0..chunk.data.len() {
            let mut it = XorIterator::new(&chunk.data[..cut]);
            while it.next() {}
            assert!(it.err().is_some(), "truncated to {cut} bytes");
        }
    }
}
