//! Property-test strategies shared by the codec round-trip tests: values that
//! stress bit-exactness (stale marker, NaN payloads, ±Inf, -0.0, subnormals) and
//! timestamp deltas from the common 15 s interval to the i64 extremes.

use proptest::prelude::*;

/// Values that stress the XOR windows: special floats, NaN payloads, the
/// stale marker, and arbitrary bit patterns.
pub fn value() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0x7ff0_0000_0000_0002u64), // stale marker
        Just(f64::NAN.to_bits()),
        Just(0x7ff8_dead_beef_0001u64), // NaN with payload
        Just(0xfff0_0000_0000_0001u64), // negative signalling NaN
        Just(f64::INFINITY.to_bits()),
        Just(f64::NEG_INFINITY.to_bits()),
        Just((-0.0f64).to_bits()),
        Just(0u64),
        Just(1u64), // smallest subnormal
        (0u32..1_000_000).prop_map(|x| (f64::from(x) / 100.0).to_bits()),
        any::<u64>(),
    ]
}

/// Timestamp deltas: regular scrapes with jitter, and anything at all.
pub fn delta() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(15_000i64),
        (14_990i64..15_010),
        (0i64..100_000_000),
        Just(i64::MAX),
        Just(i64::MIN),
        any::<i64>(),
    ]
}

pub fn samples(max: usize) -> impl Strategy<Value = Vec<(i64, u64)>> {
    (
        any::<i64>(),
        prop::collection::vec((delta(), value()), 0..max),
    )
        .prop_map(|(t0, rest)| {
            let mut t = t0;
            rest.into_iter()
                .map(|(d, v)| {
                    let s = (t, v);
                    t = t.wrapping_add(d);
                    s
                })
                .collect()
        })
}
