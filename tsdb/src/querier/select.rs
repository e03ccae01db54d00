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
//! A series both the head and a block hold keeps the block's label set; the
//! head's are borrowed, and cloned only for series no block holds.
//!
//! It runs on the caller's thread. Taking the head's snapshots on a second
//! thread while this one read the blocks was tried and measured (query
//! bench, 2-vCPU EPYC, loaded): 25-40% more CPU and no faster in wall time;
//! likely because the merge then reads what the other core just loaded.
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

impl Querier {
    /// The series matching all of `matchers` that have samples in the range,
    /// sorted by labels. An empty matcher list selects every series.
    pub fn select(&self, matchers: &[Matcher]) -> Result<Vec<Series>, Error> {
        // Head before blocks: see the type's docs.
        let head = if self.head_overlaps() {
            let refs = self.head.postings_for(matchers)?;
            Some(self.head_source(refs.iter()))
        } else {
            None
        };
        let blocks = self.block_sources(&self.blocks(), matchers)?;
        let mut sources = Vec::with_capacity(blocks.len() + 1);
        sources.extend(head);
        sources.extend(blocks);
        Ok(merge_sources(sources, self.mint, self.maxt))
    }

    /// One sorted source per block, in the order of `blocks`.
    fn block_sources(
        &self,
        blocks: &[Arc<Block>],
        matchers: &[Matcher],
    ) -> Result<Vec<Source>, Error> {
        blocks
            .iter()
            .map(|b| self.block_source(b, matchers))
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
