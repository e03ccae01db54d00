//! Retention: deleting whole blocks by age and by total size.
//!
//! By time, a block goes once all its data is older than the reference time
//! minus the retention (`max_time <= now - retention`, `max_time` being
//! exclusive). By size, blocks are counted newest first and every block from
//! the one that pushes the total past `max_bytes` on is deleted, as in
//! Prometheus (`beyondSizeRetention`). Deletion goes through
//! [`Block::mark_deletable`], so a block a query still reads stays on disk
//! until that query drops it.

use std::sync::Arc;

use super::reader::Block;
use super::{BlockError, BlockMeta};

/// What to keep. Both limits are optional; a block is deleted if either says so.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Keep blocks with data newer than the reference time minus this many ms.
    pub time_ms: Option<i64>,
    /// Keep the newest blocks while their total size stays within this many bytes.
    pub max_bytes: Option<u64>,
}

/// Indexes into `blocks` (each given as meta and size in bytes) that the
/// policy removes at reference time `now_ms`.
pub fn expired(blocks: &[(&BlockMeta, u64)], policy: &RetentionPolicy, now_ms: i64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..blocks.len()).collect();
    // Newest first.
    order.sort_by_key(|&i| std::cmp::Reverse(blocks.get(i).map(|(m, _)| (m.max_time, m.ulid))));
    let cutoff = policy.time_ms.map(|r| now_ms.saturating_sub(r));
    let mut total = 0u64;
    let mut over_size = false;
    let mut out = Vec::new();
    for i in order {
        let Some((meta, size)) = blocks.get(i) else {
            continue;
        };
        total = total.saturating_add(*size);
        if policy.max_bytes.is_some_and(|max| total > max) {
            over_size = true;
        }
        if over_size || cutoff.is_some_and(|c| meta.max_time <= c) {
            out.push(i);
        }
    }
    out.sort_unstable();
    out
}

/// Removes the blocks `policy` expires at `now_ms` from `blocks` and marks
/// them deletable; returns their metas.
pub fn apply(
    blocks: &mut Vec<Arc<Block>>,
    policy: &RetentionPolicy,
    now_ms: i64,
) -> Result<Vec<BlockMeta>, BlockError> {
    let sized: Vec<(&BlockMeta, u64)> = blocks.iter().map(|b| (b.meta(), b.size_bytes())).collect();
    let doomed = expired(&sized, policy, now_ms);
    if doomed.is_empty() {
        return Ok(Vec::new());
    }
    let mut removed = Vec::new();
    let mut kept = Vec::with_capacity(blocks.len());
    for (i, b) in blocks.drain(..).enumerate() {
        if doomed.binary_search(&i).is_ok() {
            removed.push(b);
        } else {
            kept.push(b);
        }
    }
    *blocks = kept;
    let mut metas = Vec::with_capacity(removed.len());
    for b in removed {
        b.mark_deletable()?;
        metas.push(b.meta().clone());
    }
    Ok(metas)
}
