//! Compaction merges adjacent and overlapping blocks into one, keeping every
//! sample once, and the merged parents disappear from disk.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a panic is a failed test"
)]

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use promlite_tsdb::{open_blocks, write_block, BlockMeta, ChunkData, Compactor, Labels, Matcher};

const H: i64 = 3600 * 1000;
const RETENTION: i64 = 30 * 24 * H;

fn labels(i: usize) -> Labels {
    Labels::from_pairs([("__name__", "m"), ("i", &i.to_string())]).unwrap()
}

/// Writes a block over `[mint, maxt)` with series `ids`, one sample every `step` ms, value `tag`.
fn block(dir: &Path, mint: i64, maxt: i64, ids: &[usize], step: i64, tag: f64) -> BlockMeta {
    let samples: Vec<(i64, f64)> = (mint..maxt)
        .step_by(step as usize)
        .map(|t| (t, tag))
        .collect();
    write_block(
        dir,
        mint,
        maxt,
        ids.iter()
            .map(|&i| (labels(i), ChunkData::from_samples(&samples))),
    )
    .unwrap()
}

/// All samples of all series in `dir`'s blocks, by series.
fn read_all(dir: &Path) -> BTreeMap<String, Vec<(i64, f64)>> {
    let mut out: BTreeMap<String, Vec<(i64, f64)>> = BTreeMap::new();
    for b in open_blocks(dir).unwrap() {
        for s in b
            .select(&[Matcher::equal("__name__", "m")], i64::MIN, i64::MAX)
            .unwrap()
        {
            let entry = out.entry(s.labels.to_string()).or_default();
            let (mut ts, mut vs) = (Vec::new(), Vec::new());
            for c in &s.chunks {
                c.decode_into(&mut ts, &mut vs).unwrap();
            }
            entry.extend(ts.into_iter().zip(vs));
        }
    }
    out
}

fn dir_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn adjacent_blocks_merge_into_the_next_range() {
    let dir = tempfile::tempdir().unwrap();
    let a = block(dir.path(), 0, 2 * H, &[1, 2], 60_000, 1.0);
    let b = block(dir.path(), 2 * H, 4 * H, &[2, 3], 60_000, 1.0);
    let c = block(dir.path(), 4 * H, 6 * H, &[1, 3], 60_000, 1.0);
    let newest = block(dir.path(), 6 * H, 8 * H, &[1], 60_000, 1.0);
    let before = read_all(dir.path());

    let compactor = Compactor::new(2 * H, RETENTION);
    let mut blocks = open_blocks(dir.path()).unwrap();
    let merged = compactor
        .run(dir.path(), &mut blocks)
        .unwrap()
        .expect("a full 6h window is due");
    assert_eq!((merged.min_time, merged.max_time), (0, 6 * H));
    assert_eq!(merged.compaction.level, 2);
    let mut sources = vec![a.ulid, b.ulid, c.ulid];
    sources.sort();
    assert_eq!(merged.compaction.sources, sources);
    assert_eq!(merged.stats.num_series, 3);
    assert_eq!(
        merged.stats.num_samples,
        a.stats.num_samples + b.stats.num_samples + c.stats.num_samples
    );
    assert_eq!(
        blocks.iter().map(|b| b.id()).collect::<Vec<_>>(),
        [merged.ulid, newest.ulid]
    );
    assert!(
        compactor.run(dir.path(), &mut blocks).unwrap().is_none(),
        "nothing else due"
    );

    drop(blocks);
    let mut want = vec![merged.ulid.to_string(), newest.ulid.to_string()];
    want.sort();
    assert_eq!(
        dir_names(dir.path()),
        want,
        "parents deleted once unreferenced"
    );
    assert_eq!(read_all(dir.path()), before);
}

#[test]
fn overlapping_blocks_merge_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    // Same range, overlapping samples: every 60s in the old block, every 90s in the new one.
    block(dir.path(), 0, 2 * H, &[1, 2], 60_000, 1.0);
    let late = block(dir.path(), H, 3 * H, &[2, 3], 90_000, 2.0);
    let compactor = Compactor::new(2 * H, RETENTION);
    let mut blocks = open_blocks(dir.path()).unwrap();
    let merged = compactor
        .run(dir.path(), &mut blocks)
        .unwrap()
        .expect("overlap is due");
    assert_eq!((merged.min_time, merged.max_time), (0, 3 * H));
    assert_eq!(blocks.len(), 1);
    drop(blocks);

    let got = read_all(dir.path());
    let s2 = &got[&labels(2).to_string()];
    assert!(s2.windows(2).all(|w| w[0].0 < w[1].0), "sorted and unique");
    let mut want: BTreeMap<i64, f64> = (H..3 * H).step_by(90_000).map(|t| (t, 2.0)).collect();
    want.extend((0..2 * H).step_by(60_000).map(|t| (t, 1.0)));
    assert_eq!(
        s2,
        &want.into_iter().collect::<Vec<_>>(),
        "the older block wins on equal timestamps, as in a query over both"
    );
    assert_eq!(got[&labels(1).to_string()].len(), 120);
    assert_eq!(got[&labels(3).to_string()].len(), 80);
    assert_eq!(merged.stats.num_samples, (120 + s2.len() + 80) as u64);
    assert!(late.stats.num_samples > 0);
}

#[test]
fn parents_left_by_a_crash_are_removed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    block(dir.path(), 0, 2 * H, &[1], 60_000, 1.0);
    block(dir.path(), 2 * H, 4 * H, &[1], 60_000, 1.0);
    let blocks = open_blocks(dir.path()).unwrap();
    // Compact without swapping in or deleting the parents: what a crash right
    // after writing the merged block leaves behind.
    let merged = Compactor::new(2 * H, RETENTION)
        .compact(dir.path(), &blocks)
        .unwrap();
    drop(blocks);
    assert_eq!(dir_names(dir.path()).len(), 3);
    let reopened = open_blocks(dir.path()).unwrap();
    assert_eq!(
        reopened.iter().map(|b| b.id()).collect::<Vec<_>>(),
        [merged.ulid]
    );
    assert_eq!(dir_names(dir.path()), [merged.ulid.to_string()]);
}
