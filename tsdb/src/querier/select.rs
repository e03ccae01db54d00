//! `Querier::select`, step by step: matchers → postings → one sorted series
//! list per source (the head, then each block in time order) → one merged
//! list whose series share a single chunk list.
//!
//! Why it is shaped this way: a query touches every selected series once, so
//! the per-series overhead dominates as soon as series are short (a few
//! chunks each). The head's series are sorted alone (blocks hand out theirs
//! already sorted, as their ids follow label order) and the sources are then
//! merged in one pass, instead of sorting everything together; label sets are
//! compared by symbol pointer before bytes; and all chunks of the result go
//! into one `Arc`ed list, so a series costs no chunk allocation of its own and
//! dropping it is one reference count.
//!
//! Threads: the select runs before the engine's workers start, so all of it
//! is on a query's critical path. A large select (see
//! `PARALLEL_MIN_HEAD_SERIES`) takes the head's snapshots on a second thread
//! while this one reads the blocks; the two cost about the same per series.
//! The block list is then read before the head's snapshot, not after, so it
//! is read again afterwards and blocks a truncation added meanwhile are read
//! too: a truncation adds its block before dropping the head's copy, so
//! nothing is missed (samples seen twice are deduplicated when iterating).
//! A series both the head and a block hold keeps the block's label set; the
//! head's are borrowed, and cloned only for series no block holds.
//!
//! Invariant (the one the old all-in-one sort kept): a series' chunks are its
//! head chunks, then each block's in block order, stably sorted by min time,
//! so the merge's tie-breaking between sources stays what it was.

use std::cmp::Ordering;
use std::ops::Range;
use std::sync::Arc;

use super::{block_snap, Querier, Series};
use crate::block::Block;
use crate::error::Error;
use crate::head::{ChunkSnap, HeadLabels};
use crate::labels::{Labels, Symbol};
use crate::matcher::Matcher;

/// One source's series, sorted by labels, each naming its chunks in `chunks`.
struct Source {
    series: Vec<(SourceLabels, Range<usize>)>,
    /// Taken (moved into the result) as the merge consumes them.
    chunks: Vec<Option<ChunkSnap>>,
}

/// A series' labels in one source: a block decodes its own copy; the head
/// lends its series' (cloned only for a series no block holds).
enum SourceLabels {
    Owned(Labels),
    Head(HeadLabels),
}

impl SourceLabels {
    fn get(&self) -> &Labels {
        match self {
            SourceLabels::Owned(l) => l,
            SourceLabels::Head(h) => h.labels(),
        }
    }
}

/// Selects reading at least this many head series read the head on a second
/// thread while this one reads the blocks. Both halves cost about the same
/// per series (a locked snapshot against an index lookup and a chunk read),
/// and at 10,000 series each they take milliseconds, against tens of
/// microseconds to start a thread; small selects stay on one thread.
const PARALLEL_MIN_HEAD_SERIES: u64 = 1024;

impl Querier {
    /// The series matching all of `matchers` that have samples in the range,
    /// sorted by labels. An empty matcher list selects every series.
    pub fn select(&self, matchers: &[Matcher]) -> Result<Vec<Series>, Error> {
        let head_refs = if self.head_overlaps() {
            Some(self.head.postings_for(matchers)?)
        } else {
            None
        };
        let parallel = head_refs
            .as_ref()
            .is_some_and(|r| r.len() >= PARALLEL_MIN_HEAD_SERIES);
        // Read before the head's snapshot only for the parallel path, so
        // that blocks a truncation adds meanwhile are picked up below.
        let blocks = if parallel { self.blocks() } else { Vec::new() };
        // With no block to read alongside, a second thread would only wait.
        let (head, mut blocks) = if !blocks.is_empty() {
            let (head, read) = std::thread::scope(|scope| {
                let head = scope.spawn(|| self.head_source(head_refs.iter().flatten()));
                let read = self.block_sources(&blocks, matchers);
                let head = head
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (head, read)
            });
            let mut read = read?;
            self.add_blocks_cut_meanwhile(blocks, &mut read, matchers)?;
            (Some(head), read)
        } else {
            // Head before blocks: see the type's docs.
            let head = head_refs.map(|refs| self.head_source(refs.iter()));
            let blocks = self.blocks();
            let read = self.block_sources(&blocks, matchers)?;
            (head, read)
        };
        let mut sources = Vec::with_capacity(blocks.len() + 1);
        sources.extend(head);
        sources.extend(blocks.drain(..).map(|(_, src)| src));
        Ok(merge_sources(sources, self.mint, self.maxt))
    }

    /// Reads, once the head's snapshot is taken, the blocks that were not in
    /// `before` (the list read earlier) and adds them in block order. A head
    /// truncation adds its block before it drops the head's copy, so every
    /// sample missing from the snapshot is in the list read now (samples in
    /// both are deduplicated when iterating, as in the serial order).
    fn add_blocks_cut_meanwhile(
        &self,
        before: Vec<Arc<Block>>,
        read: &mut Vec<(Arc<Block>, Source)>,
        matchers: &[Matcher],
    ) -> Result<(), Error> {
        let now = self.blocks();
        let added: Vec<Arc<Block>> = now
            .into_iter()
            .filter(|b| !before.iter().any(|o| Arc::ptr_eq(o, b)))
            .collect();
        if added.is_empty() {
            return Ok(());
        }
        read.extend(self.block_sources(&added, matchers)?);
        read.sort_by_key(|(b, _)| (b.meta().min_time, b.id()));
        Ok(())
    }

    /// One sorted source per block, in the order of `blocks`, paired with its block.
    fn block_sources(
        &self,
        blocks: &[Arc<Block>],
        matchers: &[Matcher],
    ) -> Result<Vec<(Arc<Block>, Source)>, Error> {
        blocks
            .iter()
            .map(|b| Ok((Arc::clone(b), self.block_source(b, matchers)?)))
            .collect()
    }

    /// A block's series matching `matchers` with chunks in the range, sorted by labels.
    fn block_source(&self, b: &Block, matchers: &[Matcher]) -> Result<Source, Error> {
        let mut src = Source {
            series: Vec::new(),
            chunks: Vec::new(),
        };
        let mut start = 0;
        b.select_with(
            matchers,
            self.mint,
            self.maxt,
            &mut src.chunks,
            |c| Some(block_snap(c)),
            |labels, chunks| {
                src.series
                    .push((SourceLabels::Owned(labels), start..chunks.len()));
                start = chunks.len();
            },
        )
        .map_err(|e| Error::Block {
            path: b.dir(),
            source: Box::new(e),
        })?;
        // Block ids follow label order; checked, as sorting is what the merge relies on.
        if !src
            .series
            .is_sorted_by(|a, b| cmp_labels(a.0.get(), b.0.get()) == Ordering::Less)
        {
            src.series.sort_by(|a, b| cmp_labels(a.0.get(), b.0.get()));
        }
        Ok(src)
    }

    /// Head series among `refs` with chunks in the range, sorted by labels.
    fn head_source(&self, refs: impl Iterator<Item = u32>) -> Source {
        let mut src = Source {
            series: Vec::new(),
            chunks: Vec::new(),
        };
        let mut scratch = Vec::new();
        for r in refs {
            scratch.clear();
            let Some(labels) = self
                .head
                .series_chunks(r, self.mint, self.maxt, &mut scratch)
            else {
                continue;
            };
            if !scratch.is_empty() {
                let start = src.chunks.len();
                src.chunks.extend(scratch.drain(..).map(Some));
                src.series
                    .push((SourceLabels::Head(labels), start..src.chunks.len()));
            }
        }
        // A head holds each label set once: an unstable sort is exact.
        src.series
            .sort_unstable_by(|a, b| cmp_labels(a.0.get(), b.0.get()));
        src
    }
}

/// Merges sorted sources into one sorted list: series with equal labels
/// become one series holding the chunks of all of them, earlier sources first.
fn merge_sources(mut sources: Vec<Source>, mint: i64, maxt: i64) -> Vec<Series> {
    let total_chunks = sources.iter().map(|s| s.chunks.len()).sum();
    let most_series = sources.iter().map(|s| s.series.len()).sum();
    let mut all: Vec<ChunkSnap> = Vec::with_capacity(total_chunks);
    let mut spans: Vec<(Labels, Range<usize>, bool)> = Vec::with_capacity(most_series);
    let mut next = vec![0usize; sources.len()];
    // The sources whose next series is the smallest label set, in source order.
    let mut tied: Vec<usize> = Vec::with_capacity(sources.len());
    loop {
        // One comparison per source and step: with a head and a block
        // holding the same series (the common case), comparing again to
        // test equality doubled the string comparisons (their symbols are
        // different allocations, so equal labels are compared byte by byte).
        tied.clear();
        let mut min: Option<&Labels> = None;
        for (i, src) in sources.iter().enumerate() {
            let Some((labels, _)) = next.get(i).and_then(|&n| src.series.get(n)) else {
                continue;
            };
            let labels = labels.get();
            let order = min.map_or(Ordering::Less, |m| cmp_labels(labels, m));
            if order == Ordering::Less {
                min = Some(labels);
                tied.clear();
            }
            if order != Ordering::Greater {
                tied.push(i);
            }
        }
        if tied.is_empty() {
            break;
        }
        // A block's own copy is moved; the head's is cloned only if no block has one.
        let mut owned = tied.iter().find_map(|&i| {
            let n = *next.get(i)?;
            match sources.get_mut(i)?.series.get_mut(n)? {
                (SourceLabels::Owned(l), _) => Some(std::mem::take(l)),
                (SourceLabels::Head(_), _) => None,
            }
        });
        let start = all.len();
        for &i in &tied {
            let (Some(src), Some(n)) = (sources.get_mut(i), next.get_mut(i)) else {
                continue;
            };
            let Some((l, range)) = src.series.get(*n) else {
                continue;
            };
            *n += 1;
            if owned.is_none() {
                owned = Some(l.get().clone());
            }
            let taken = src
                .chunks
                .get_mut(range.clone())
                .unwrap_or_default()
                .iter_mut()
                .filter_map(Option::take);
            all.extend(taken);
        }
        let chunks = all.get_mut(start..).unwrap_or_default();
        // Usually already in order (head chunks, then older block chunks
        // come after only when sources overlap in time); stable otherwise.
        if !chunks.is_sorted_by_key(|c| c.min_t) {
            chunks.sort_by_key(|c| c.min_t);
        }
        let overlapping = chunks
            .windows(2)
            .any(|w| matches!(w, [a, b] if b.min_t <= a.max_t));
        if let Some(labels) = owned {
            spans.push((labels, start..all.len(), overlapping));
        }
    }
    let all = Arc::new(all);
    spans
        .into_iter()
        .map(|(labels, range, overlapping)| Series {
            labels,
            chunks: super::SeriesChunks {
                all: Arc::clone(&all),
                range,
            },
            mint,
            maxt,
            overlapping,
        })
        .collect()
}

/// The order of [`Labels`]' `Ord`, comparing symbols by pointer first: the
/// series of one source share their interned names and values, so most
/// comparisons never read the strings.
pub(super) fn cmp_labels(a: &Labels, b: &Labels) -> Ordering {
    for (x, y) in a.iter().zip(b.iter()) {
        let o = cmp_symbol(&x.name, &y.name).then_with(|| cmp_symbol(&x.value, &y.value));
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

fn cmp_symbol(a: &Symbol, b: &Symbol) -> Ordering {
    if Arc::ptr_eq(a, b) {
        Ordering::Equal
    } else {
        a.as_ref().cmp(b.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmp_labels_is_the_labels_order() {
        #![allow(clippy::unwrap_used, reason = "test")]
        let sets: Vec<Labels> = [
            vec![("a", "1")],
            vec![("a", "1"), ("b", "2")],
            vec![("a", "10")],
            vec![("a", "2")],
            vec![("b", "1")],
            vec![("a", "1"), ("c", "0")],
        ]
        .into_iter()
        .map(|p| Labels::from_pairs(p).unwrap())
        .collect();
        for x in &sets {
            for y in &sets {
                assert_eq!(cmp_labels(x, y), x.cmp(y), "{x} vs {y}");
                assert_eq!(cmp_labels(x, &y.clone()), x.cmp(y));
            }
        }
    }
}
