//! Every codec behind the `Codec` trait (and the cold codec's free functions)
//! is lossless: timestamps and value bits come back exactly, NaN payloads and
//! stale markers included; and no byte string makes a decoder panic.

#![expect(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    reason = "test helpers; a panic is a failed test"
)]

use promlite_tsdb::chunkenc::{codec_by_name, codecs, cold_decode, cold_encode, Codec};
use proptest::prelude::*;

mod support;
use support::samples;

fn run(max: usize) -> impl Strategy<Value = (Vec<i64>, Vec<u64>)> {
    samples(max).prop_map(|s| s.into_iter().unzip())
}

fn check(codec: &dyn Codec, ts: &[i64], bits: &[u64]) -> Result<(), TestCaseError> {
    let vs: Vec<f64> = bits.iter().map(|&b| f64::from_bits(b)).collect();
    let mut out = vec![0xAA]; // encode appends: existing bytes stay
    let size = codec.encode(ts, &vs, &mut out).unwrap();
    prop_assert_eq!(size.total(), out.len() - 1, "{}", codec.name());
    let (mut dts, mut dvs) = (vec![7i64], vec![7.0f64]); // decode appends too
    codec.decode(&out[1..], &mut dts, &mut dvs).unwrap();
    prop_assert_eq!(&dts[1..], ts, "{}", codec.name());
    let got: Vec<u64> = dvs[1..].iter().map(|v| v.to_bits()).collect();
    prop_assert_eq!(got, bits.to_vec(), "{}", codec.name());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn every_codec_round_trips_bit_exact((ts, bits) in run(400)) {
        for codec in codecs() {
            check(codec.as_ref(), &ts, &bits)?;
        }
        let vs: Vec<f64> = bits.iter().map(|&b| f64::from_bits(b)).collect();
        let (mut dts, mut dvs) = (Vec::new(), Vec::new());
        cold_decode(&cold_encode(&ts, &vs).unwrap(), &mut dts, &mut dvs).unwrap();
        prop_assert_eq!(dts, ts);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        for codec in codecs() {
            let (mut ts, mut vs) = (Vec::new(), Vec::new());
            let _ = codec.decode(&bytes, &mut ts, &mut vs);
        }
    }

    #[test]
    fn corrupted_runs_never_panic((ts, bits) in run(200), flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
        let vs: Vec<f64> = bits.iter().map(|&b| f64::from_bits(b)).collect();
        for codec in codecs() {
            let mut out = Vec::new();
            codec.encode(&ts, &vs, &mut out).unwrap();
            if out.is_empty() {
                continue;
            }
            for &(i, x) in &flips {
                let len = out.len();
                out[i % len] ^= x;
            }
            let (mut dts, mut dvs) = (Vec::new(), Vec::new());
            let _ = codec.decode(&out, &mut dts, &mut dvs);
            let _ = codec.decode(&out[..out.len() / 2], &mut dts, &mut dvs);
        }
    }
}

/// 1 sample, Prometheus's 120, a 2h block at 1s, and a long block-sized run
/// with realistic shapes (counter, 2-decimal gauge, stale marker at the end).
#[test]
fn realistic_runs_of_several_lengths() {
    for n in [1usize, 120, 7200, 70_000] {
        let ts: Vec<i64> = (0..n as i64)
            .map(|i| 1_700_000_000_000 + i * 15_000 + (i % 50 == 7) as i64 * 3)
            .collect();
        let mut counter: Vec<u64> = (0..n).map(|i| ((i * (i % 7)) as f64).to_bits()).collect();
        let gauge: Vec<u64> = (0..n)
            .map(|i| (((i * 7919) % 10_000) as f64 / 100.0).to_bits())
            .collect();
        if let Some(last) = counter.last_mut() {
            *last = 0x7ff0_0000_0000_0002;
        }
        for codec in codecs() {
            check(codec.as_ref(), &ts, &counter).unwrap();
            check(codec.as_ref(), &ts, &gauge).unwrap();
        }
    }
}

#[test]
fn codecs_are_found_by_name_and_mismatched_columns_fail() {
    for codec in codecs() {
        let found = codec_by_name(codec.name()).unwrap();
        assert_eq!(found.name(), codec.name());
        assert!(
            codec.encode(&[1, 2], &[1.0], &mut Vec::new()).is_err(),
            "{}",
            codec.name()
        );
    }
    assert!(codec_by_name("nope").is_none());
}
