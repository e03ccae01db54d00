//! Compaction: merging adjacent blocks into larger ones.
//!
//! Block ranges grow by ×3 from the head's block range (2h → 6h → 18h → 54h
//! ...), up to 10% of the retention time and at most 31 days, as in
//! Prometheus (`ExponentialBlockRanges` and `LeveledCompactor.plan`, v2.42–3.x):
//! overlapping blocks are merged first; otherwise, ignoring the newest block
//! (so a freshly written block can still be backed up on its own), the
//! smallest range whose aligned window holds several blocks that fill the
//! window, or lie entirely before the newest block, is merged.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use super::merge::ChunkIn;
use super::reader::Block;
use super::writer::BlockBuilder;
use super::{BlockEncoding, BlockError, BlockId, BlockMeta};
use crate::index::ChunkMeta;
use crate::labels::Labels;

const MAX_BLOCK_RANGE_MS: i64 = 31 * 24 * 3600 * 1000;

/// Plans and runs compactions for one data directory's blocks.
#[derive(Debug, Clone)]
pub struct Compactor {
    ranges: Vec<i64>,
    encoding: BlockEncoding,
}

impl Compactor {
    /// Ranges `block_range_ms × 3^k` (ms) while they stay within 10% of
    /// `retention_ms` and 31 days; always at least the base range. Merged
    /// blocks are written as [`BlockEncoding::Cold`] (see [`Compactor::with_encoding`]).
    pub fn new(block_range_ms: i64, retention_ms: i64) -> Self {
        let max = (retention_ms / 10).min(MAX_BLOCK_RANGE_MS);
        let base = block_range_ms.max(1);
        let mut ranges = vec![base];
        let mut r = base;
        while let Some(next) = r.checked_mul(3).filter(|n| *n <= max) {
            ranges.push(next);
            r = next;
        }
        Compactor {
            ranges,
            encoding: BlockEncoding::default(),
        }
    }

    /// Writes merged blocks' chunks as `encoding` (their parents may use either).
    pub fn with_encoding(mut self, encoding: BlockEncoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// The block ranges in use, ascending (ms).
    pub fn ranges(&self) -> &[i64] {
        &self.ranges
    }

    /// The blocks to merge next, in time order; empty if nothing is due.
    pub fn plan(&self, metas: &[BlockMeta]) -> Vec<BlockId> {
        let mut metas: Vec<&BlockMeta> = metas.iter().collect();
        metas.sort_by_key(|m| (m.min_time, m.ulid));
        let overlapping = overlapping_group(&metas);
        if !overlapping.is_empty() {
            return overlapping;
        }
        // Leave the newest block out of the plan.
        metas.pop();
        let Some(high) = metas.last().map(|m| m.min_time) else {
            return Vec::new();
        };
        for &range in self.ranges.get(1..).unwrap_or_default() {
            for group in split_by_range(&metas, range) {
                let (Some(first), Some(last)) = (group.first(), group.last()) else {
                    continue;
                };
                let (mint, maxt) = (first.min_time, last.max_time);
                if group.len() > 1 && (maxt - mint == range || maxt <= high) {
                    return group.iter().map(|m| m.ulid).collect();
                }
            }
        }
        Vec::new()
    }

    /// Merges `blocks` into one new block under `parent` and returns its meta.
    /// The inputs are not touched; the caller swaps the new block in and then
    /// marks the inputs deletable (see [`Compactor::run`]).
    pub fn compact(&self, parent: &Path, blocks: &[Arc<Block>]) -> Result<BlockMeta, BlockError> {
        let mut blocks: Vec<&Arc<Block>> = blocks.iter().collect();
        blocks.sort_by_key(|b| (b.meta().min_time, b.id()));
        let min_time = blocks.iter().map(|b| b.meta().min_time).min();
        let max_time = blocks.iter().map(|b| b.meta().max_time).max();
        let (Some(min_time), Some(max_time)) = (min_time, max_time) else {
            return Err(BlockError::Invalid("nothing to compact".into()));
        };
        let mut builder = BlockBuilder::new(parent, min_time, max_time, self.encoding)?;
        let mut cursors = blocks
            .iter()
            .map(|b| Cursor::new(b))
            .collect::<Result<Vec<_>, _>>()?;
        // K-way merge of the blocks' label-sorted series lists.
        while let Some(next) = cursors
            .iter()
            .filter_map(|c| c.current.as_ref().map(|(l, _)| l))
            .min()
            .cloned()
        {
            let mut held = Vec::new();
            for c in cursors.iter_mut() {
                if c.current.as_ref().is_some_and(|(l, _)| *l == next) {
                    if let Some((_, metas)) = c.current.take() {
                        for m in &metas {
                            held.push(c.block.series_chunk(m)?);
                        }
                    }
                    c.advance()?;
                }
            }
            let chunks = held
                .iter()
                .map(|c| ChunkIn {
                    min_time: c.min_time,
                    max_time: c.max_time,
                    encoding: c.bytes.encoding(),
                    data: Cow::Borrowed(c.bytes.data()),
                    timestamps: c.timestamps.as_ref().map(|t| Cow::Borrowed(t.data())),
                })
                .collect();
            builder.add_series(next, chunks)?;
        }
        let level = blocks
            .iter()
            .map(|b| b.meta().compaction.level)
            .max()
            .unwrap_or(0)
            + 1;
        let parents = blocks
            .iter()
            .map(|b| (b.meta().desc(), b.meta().compaction.sources.clone()))
            .collect();
        builder.finish(level, parents)
    }

    /// Plans and runs one compaction over `blocks` (the open blocks of
    /// `parent`): the merged block is opened and replaces its inputs in
    /// `blocks`, and the inputs are marked deletable (removed once no query
    /// reads them). Returns the new block's meta, or `None` if nothing was due.
    pub fn run(
        &self,
        parent: &Path,
        blocks: &mut Vec<Arc<Block>>,
    ) -> Result<Option<BlockMeta>, BlockError> {
        let metas: Vec<BlockMeta> = blocks.iter().map(|b| b.meta().clone()).collect();
        let plan = self.plan(&metas);
        if plan.is_empty() {
            return Ok(None);
        }
        let inputs: Vec<Arc<Block>> = blocks
            .iter()
            .filter(|b| plan.contains(&b.id()))
            .cloned()
            .collect();
        let meta = self.compact(parent, &inputs)?;
        let merged = Block::open(&parent.join(meta.ulid.to_string()))?;
        blocks.retain(|b| !plan.contains(&b.id()));
        blocks.push(merged);
        blocks.sort_by_key(|b| (b.meta().min_time, b.id()));
        for b in &inputs {
            b.mark_deletable()?;
        }
        Ok(Some(meta))
    }
}

/// The first run of blocks (sorted by `min_time`) whose ranges overlap.
fn overlapping_group(metas: &[&BlockMeta]) -> Vec<BlockId> {
    let mut group: Vec<BlockId> = Vec::new();
    let mut group_end = i64::MIN;
    for m in metas {
        if m.min_time < group_end {
            if group.is_empty() {
                // Unreachable: group_end is only raised together with a push.
                continue;
            }
            group.push(m.ulid);
            group_end = group_end.max(m.max_time);
        } else {
            if group.len() > 1 {
                return group;
            }
            group = vec![m.ulid];
            group_end = m.max_time;
        }
    }
    if group.len() > 1 {
        group
    } else {
        Vec::new()
    }
}

/// Groups blocks by the `range`-aligned window containing them; blocks that
/// span a window boundary belong to no group.
fn split_by_range<'a>(metas: &[&'a BlockMeta], range: i64) -> Vec<Vec<&'a BlockMeta>> {
    let mut groups: Vec<Vec<&BlockMeta>> = Vec::new();
    let mut current_window = None;
    for m in metas {
        let start = m.min_time.div_euclid(range) * range;
        if m.max_time > start + range {
            continue;
        }
        if current_window != Some(start) {
            groups.push(Vec::new());
            current_window = Some(start);
        }
        if let Some(g) = groups.last_mut() {
            g.push(m);
        }
    }
    groups
}

/// One block's series, read in id (= label) order.
struct Cursor<'a> {
    block: &'a Block,
    next_id: u32,
    current: Option<(Labels, Vec<ChunkMeta>)>,
}

impl<'a> Cursor<'a> {
    fn new(block: &'a Block) -> Result<Self, BlockError> {
        let mut c = Cursor {
            block,
            next_id: 0,
            current: None,
        };
        c.advance()?;
        Ok(c)
    }

    fn advance(&mut self) -> Result<(), BlockError> {
        self.current = None;
        if self.next_id < self.block.index().num_series() {
            let mut metas = Vec::new();
            let labels = self.block.index().series(self.next_id, &mut metas)?;
            self.next_id += 1;
            self.current = Some((labels, metas));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::{BlockStats, CompactionMeta, META_VERSION};

    const H: i64 = 3600 * 1000;

    fn meta(min_time: i64, max_time: i64) -> BlockMeta {
        BlockMeta {
            ulid: BlockId::new(),
            min_time,
            max_time,
            stats: BlockStats::default(),
            compaction: CompactionMeta {
                level: 1,
                sources: Vec::new(),
                parents: Vec::new(),
            },
            version: META_VERSION,
            chunk_encodings: vec![1],
        }
    }

    fn ids(ms: &[&BlockMeta]) -> Vec<BlockId> {
        ms.iter().map(|m| m.ulid).collect()
    }

    #[test]
    fn ranges_grow_by_three_up_to_a_tenth_of_retention() {
        assert_eq!(
            Compactor::new(2 * H, 30 * 24 * H).ranges(),
            [2 * H, 6 * H, 18 * H, 54 * H]
        );
        assert_eq!(Compactor::new(2 * H, 10 * H).ranges(), [2 * H]);
        let long = Compactor::new(2 * H, 3650 * 24 * H);
        assert!(long.ranges().iter().all(|r| *r <= 31 * 24 * H));
        assert_eq!(long.ranges().len(), 6);
    }

    #[test]
    fn plans_full_windows_and_skips_the_newest_block() {
        let c = Compactor::new(2 * H, 30 * 24 * H);
        let (a, b, d) = (meta(0, 2 * H), meta(2 * H, 4 * H), meta(4 * H, 6 * H));
        // Three 2h blocks fill the 6h window, but the newest is left out: not due.
        assert!(c.plan(&[a.clone(), b.clone(), d.clone()]).is_empty());
        // With a newer block after the window, the full window is merged.
        let e = meta(6 * H, 8 * H);
        assert_eq!(
            c.plan(&[e.clone(), d.clone(), a.clone(), b.clone()]),
            ids(&[&a, &b, &d])
        );
        // A partly filled window is merged once it lies entirely before the
        // newest block considered (the newest overall being left out).
        let (mid, late) = (meta(6 * H, 8 * H), meta(12 * H, 14 * H));
        assert!(c.plan(&[a.clone(), b.clone(), late.clone()]).is_empty());
        assert_eq!(c.plan(&[a.clone(), b.clone(), mid, late]), ids(&[&a, &b]));
        // A single block per window: nothing to do.
        assert!(c.plan(&[a.clone(), e.clone()]).is_empty());
        // Once merged into a 6h block, 6h blocks merge into 18h.
        let (x, y, z) = (meta(0, 6 * H), meta(6 * H, 12 * H), meta(12 * H, 18 * H));
        let newest = meta(18 * H, 20 * H);
        assert_eq!(
            c.plan(&[x.clone(), y.clone(), z.clone(), newest]),
            ids(&[&x, &y, &z])
        );
    }

    #[test]
    fn overlapping_blocks_come_first() {
        let c = Compactor::new(2 * H, 30 * 24 * H);
        let (a, b, d) = (meta(0, 2 * H), meta(H, 3 * H), meta(10 * H, 12 * H));
        assert_eq!(c.plan(&[d.clone(), b.clone(), a.clone()]), ids(&[&a, &b]));
        assert!(overlapping_group(&[&a, &d]).is_empty());
    }
}
