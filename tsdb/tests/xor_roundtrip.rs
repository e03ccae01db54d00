//! Property tests for the XOR chunk: every sample round-trips bit-exact, and
//! no byte string makes the decoder panic.

use promlite_tsdb::chunkenc::{XorChunk, XorIterator};
use proptest::prelude::*;

mod support;
use support::samples;

fn encode(samples: &[(i64, u64)]) -> XorChunk {
    let mut c = XorChunk::new();
    for &(t, v) in samples {
        c.append(t, f64::from_bits(v));
    }
    c
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn round_trip_is_bit_exact(s in samples(300)) {
        let c = encode(&s);
        prop_assert_eq!(c.num_samples() as usize, s.len());
        prop_assert_eq!(decode(c.bytes()), s.clone());
        prop_assert_eq!(c.first_time(), s.first().map(|x| x.0));
        prop_assert_eq!(c.last_time(), s.last().map(|x| x.0));
    }

    #[test]
    fn reopening_then_appending_gives_the_same_bytes(s in samples(200), split in 0usize..200) {
        let split = split.min(s.len());
        let whole = encode(&s);
        let mut reopened = XorChunk::from_bytes(encode(&s[..split]).bytes().to_vec()).unwrap();
        for &(t, v) in &s[split..] {
            reopened.append(t, f64::from_bits(v));
        }
        prop_assert_eq!(decode(reopened.bytes()), s.clone());
        // Identical bytes whenever the reopened prefix had a value window
        // (Prometheus's appender differs from a fresh one otherwise too).
        let had_window = split == 0 || s[..split].windows(2).any(|w| w[0].1 != w[1].1);
        if had_window {
            prop_assert_eq!(reopened.bytes(), whole.bytes());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut it = XorIterator::new(&bytes);
        let mut n = 0usize;
        while it.next() {
            n += 1;
            let _ = it.at();
        }
        prop_assert!(n <= u16::MAX as usize);
        let _ = XorChunk::from_bytes(bytes.clone());
        let mut it = XorIterator::new(&bytes);
        let _ = it.seek(0);
    }

    #[test]
    fn corrupted_chunks_never_panic(s in samples(130), flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut bytes = encode(&s).into_bytes();
        for (i, x) in flips {
            let len = bytes.len();
            bytes[i % len] ^= x;
        }
        let mut it = XorIterator::new(&bytes);
        while it.next() {}
        let _ = XorChunk::from_bytes(bytes);
    }
}

#[test]
fn sample_counts_1_120_and_max() {
    for n in [1usize, 120, u16::MAX as usize] {
        let s: Vec<(i64, u64)> = (0..n)
            .map(|i| (i as i64 * 15_000 - 7, ((i % 17) as f64 * 0.25).to_bits()))
            .collect();
        let c = encode(&s);
        assert_eq!(c.num_samples() as usize, n);
        assert_eq!(decode(c.bytes()), s);
    }
}

#[test]
fn seek_finds_first_sample_at_or_after() {
    let s: Vec<(i64, u64)> = (0..120).map(|i| (i * 10, (i as f64).to_bits())).collect();
    let c = encode(&s);
    let mut it = XorIterator::new(c.bytes());
    for target in [-5i64, 0, 1, 9, 10, 500, 1185, 1190] {
        assert!(it.seek(target), "seek {target}");
        let want = s.iter().find(|x| x.0 >= target).unwrap();
        // Targets increase, so the first sample at or after each is where seek lands.
        assert_eq!(it.at().0, want.0);
    }
    assert!(!it.seek(1191));
    // A reset iterator starts over on new bytes.
    let c2 = encode(&s[..3]);
    it.reset(c2.bytes());
    assert!(it.next());
    assert_eq!(it.at().0, 0);
}
