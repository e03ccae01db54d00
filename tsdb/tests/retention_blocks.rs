//! Retention deletes whole blocks by age and by total size, and never removes
//! a block that a running query still holds.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a panic is a failed test"
)]

use std::fs;
use std::path::Path;

use promlite_tsdb::{
    apply_retention, open_blocks, write_block, BlockMeta, ChunkData, Labels, RetentionPolicy,
};

const H: i64 = 3600 * 1000;

fn block(dir: &Path, mint: i64) -> BlockMeta {
    let samples: Vec<(i64, f64)> = (mint..mint + 2 * H)
        .step_by(15_000)
        .map(|t| (t, t as f64))
        .collect();
    let labels = Labels::from_pairs([("__name__", "m")]).unwrap();
    write_block(
        dir,
        mint,
        mint + 2 * H,
        [(labels, ChunkData::from_samples(&samples))],
    )
    .unwrap()
}

fn on_disk(dir: &Path) -> usize {
    fs::read_dir(dir).unwrap().count()
}

#[test]
fn time_retention_drops_blocks_entirely_older_than_the_cutoff() {
    let dir = tempfile::tempdir().unwrap();
    let metas: Vec<BlockMeta> = (0..5).map(|i| block(dir.path(), i * 2 * H)).collect();
    let mut blocks = open_blocks(dir.path()).unwrap();
    let policy = RetentionPolicy {
        time_ms: Some(5 * H),
        max_bytes: None,
    };
    // Reference time 10h: cutoff 5h; blocks ending at 2h and 4h go, [4h, 6h) stays.
    let removed = apply_retention(&mut blocks, &policy, 10 * H).unwrap();
    assert_eq!(
        removed.iter().map(|m| m.ulid).collect::<Vec<_>>(),
        [metas[0].ulid, metas[1].ulid]
    );
    assert_eq!(
        blocks.iter().map(|b| b.id()).collect::<Vec<_>>(),
        metas[2..].iter().map(|m| m.ulid).collect::<Vec<_>>()
    );
    assert_eq!(on_disk(dir.path()), 3);
    assert!(apply_retention(&mut blocks, &policy, 10 * H)
        .unwrap()
        .is_empty());
}

#[test]
fn size_retention_keeps_the_newest_blocks_that_fit() {
    let dir = tempfile::tempdir().unwrap();
    let metas: Vec<BlockMeta> = (0..4).map(|i| block(dir.path(), i * 2 * H)).collect();
    let mut blocks = open_blocks(dir.path()).unwrap();
    // Room for the two newest blocks and part of a third.
    let newest_two = blocks[2].size_bytes() + blocks[3].size_bytes();
    let policy = RetentionPolicy {
        time_ms: None,
        max_bytes: Some(newest_two + blocks[1].size_bytes() / 2),
    };
    let removed = apply_retention(&mut blocks, &policy, 0).unwrap();
    assert_eq!(
        removed.iter().map(|m| m.ulid).collect::<Vec<_>>(),
        [metas[0].ulid, metas[1].ulid]
    );
    assert_eq!(blocks.len(), 2);
    assert_eq!(on_disk(dir.path()), 2);
}

#[test]
fn a_block_in_use_is_deleted_only_after_its_last_reader() {
    let dir = tempfile::tempdir().unwrap();
    let old = block(dir.path(), 0);
    block(dir.path(), 10 * H);
    let mut blocks = open_blocks(dir.path()).unwrap();
    // A query holds the old block (as a querier would) while retention runs.
    let held = blocks[0].clone();
    let removed = apply_retention(
        &mut blocks,
        &RetentionPolicy {
            time_ms: Some(H),
            max_bytes: None,
        },
        12 * H,
    )
    .unwrap();
    assert_eq!(removed.len(), 1);
    assert_eq!(held.id(), old.ulid);
    // Still readable, now under its `.deleted` name, invisible to a reopen.
    let series = held.select(&[], 0, 2 * H).unwrap();
    assert_eq!(series.len(), 1);
    assert!(held.dir().exists());
    assert_eq!(open_blocks(dir.path()).unwrap().len(), 1);
    let deleted_dir = held.dir();
    drop(held);
    assert!(
        !deleted_dir.exists(),
        "removed when the last reader drops it"
    );
    // Chunk bytes taken before the drop stay valid (they keep the mapping).
    assert!(!series[0].chunks[0].bytes.data().is_empty());
}
