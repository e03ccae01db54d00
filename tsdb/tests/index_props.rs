//! Property tests of the index: for random series and random selectors, the
//! head postings and a block's index file select exactly the series a direct
//! test of each series' labels selects; and a mangled index file never panics.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a panic is a failed test"
)]

use std::fs;

use promlite_tsdb::{
    label_values_for, postings_for_matchers, write_block, Block, ChunkData, IndexFile, IndexReader,
    Labels, MatchOp, Matcher, MemPostings,
};
use proptest::prelude::*;

const NAMES: [&str; 3] = ["a", "b", "job"];
const VALUES: [&str; 5] = ["", "x", "xy", "y", "api"];
const PATTERNS: [&str; 10] = [
    "x.*", "x|y", ".*", ".+", "", "y|", "[xy]", "x.*|", "a.i", "xy|api",
];

fn labels_strategy() -> impl Strategy<Value = Labels> {
    prop::collection::vec(prop::sample::select(&VALUES[..]), NAMES.len()).prop_map(|values| {
        let pairs: Vec<(&str, &str)> = NAMES.iter().copied().zip(values).collect();
        Labels::from_pairs(pairs).unwrap()
    })
}

fn matcher_strategy() -> impl Strategy<Value = Matcher> {
    let name = prop::sample::select(&["a", "b", "job", "missing"][..]);
    let op = prop::sample::select(
        &[
            MatchOp::Equal,
            MatchOp::NotEqual,
            MatchOp::Regex,
            MatchOp::NotRegex,
        ][..],
    );
    (
        name,
        op,
        prop::sample::select(&VALUES[..]),
        prop::sample::select(&PATTERNS[..]),
    )
        .prop_map(|(n, op, v, p)| match op {
            MatchOp::Equal | MatchOp::NotEqual => Matcher::new(op, n, v).unwrap(),
            MatchOp::Regex | MatchOp::NotRegex => Matcher::new(op, n, p).unwrap(),
        })
}

/// Unique label sets, sorted (the order of series ids in a block).
fn series_strategy() -> impl Strategy<Value = Vec<Labels>> {
    prop::collection::vec(labels_strategy(), 0..40).prop_map(|mut v| {
        v.sort();
        v.dedup();
        v
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn head_and_block_select_what_a_direct_test_selects(
        series in series_strategy(),
        matchers in prop::collection::vec(matcher_strategy(), 0..4),
    ) {
        let want: Vec<u32> = series
            .iter()
            .enumerate()
            .filter(|(_, l)| matchers.iter().all(|m| m.matches(l.get(&m.name).unwrap_or(""))))
            .map(|(i, _)| i as u32)
            .collect();

        let head = MemPostings::new();
        for (i, l) in series.iter().enumerate() {
            head.add(i as u32, l);
        }
        let got: Vec<u32> = postings_for_matchers(&head, &matchers).unwrap().iter().collect();
        prop_assert_eq!(&got, &want);

        let dir = tempfile::tempdir().unwrap();
        let chunk = ChunkData::from_samples(&[(5, 1.0)]);
        let meta = write_block(dir.path(), 0, 10, series.iter().map(|l| (l.clone(), chunk.clone()))).unwrap();
        let block = Block::open(&dir.path().join(meta.ulid.to_string())).unwrap();
        let got: Vec<u32> = postings_for_matchers(block.index(), &matchers).unwrap().iter().collect();
        prop_assert_eq!(&got, &want);

        // Label values restricted by the same matchers agree too.
        for name in NAMES {
            prop_assert_eq!(
                label_values_for(&head, name, &matchers).unwrap(),
                label_values_for(block.index(), name, &matchers).unwrap()
            );
        }
        let selected = block.select(&matchers, 0, 10).unwrap();
        let labels: Vec<&Labels> = selected.iter().map(|s| &s.labels).collect();
        let want_labels: Vec<&Labels> = want.iter().map(|&i| &series[i as usize]).collect();
        prop_assert_eq!(labels, want_labels);
    }

    #[test]
    fn mangled_index_files_never_panic(
        series in series_strategy(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let chunk = ChunkData::from_samples(&[(5, 1.0)]);
        let meta = write_block(dir.path(), 0, 10, series.iter().map(|l| (l.clone(), chunk.clone()))).unwrap();
        let path = dir.path().join(meta.ulid.to_string()).join("index");
        let mut bytes = fs::read(&path).unwrap();
        for (at, b) in &edits {
            let i = at.index(bytes.len());
            bytes[i] = *b;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        fs::write(&path, &bytes).unwrap();
        if let Ok(ix) = IndexFile::open(&path) {
            let mut chunks = Vec::new();
            for id in 0..ix.num_series() {
                let _ = ix.series(id, &mut chunks);
            }
            for name in NAMES {
                let _ = ix.label_values(name);
                let _ = ix.postings_matching(name, "", &mut |_| true);
            }
            let all = ix.all_postings().unwrap();
            let _ = ix.label_names_intersecting(&all);
        }
    }
}

#[test]
fn random_bytes_are_not_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for len in [0usize, 7, 8, 91, 92, 500, 4096] {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        fs::write(&path, &bytes).unwrap();
        assert!(
            IndexFile::open(&path).is_err(),
            "{len} random bytes accepted"
        );
    }
}
