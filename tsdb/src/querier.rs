//! The querier: reads series for a time range, merging every place samples live.
//!
//! Read path, one step per function: matchers → postings (`select`, through the
//! index module's `postings_for_matchers`) → series (`collect_head`, a snapshot
//! of each series' chunks taken under its lock) → iterators ([`SeriesIter`]).
//! A snapshot shares full chunks (`Arc`) and copies only the small open chunk,
//! so a query never holds a head lock while it iterates and never sees a
//! half-applied commit of a single series. Series come back sorted by labels.
//!
//! Merging: in-order head chunks are sorted and disjoint, so the common case
//! iterates chunk after chunk with one reused XOR iterator and no allocation.
//! Only when chunks overlap (out-of-order data, overlapping blocks) are the
//! samples decoded into one buffer, sorted and deduplicated by timestamp, the
//! first source in the series' chunk order winning a tie (in-order data before
//! out-of-order data).

use std::sync::Arc;

use parking_lot::RwLock;

use crate::block::{Block, BlockChunk};
use crate::chunkenc::{ChunkError, XorChunk, XorIterator};
use crate::error::Error;
use crate::head::{ChunkSnap, Head, SnapBytes};
use crate::index::{label_names_for, label_values_for};
use crate::labels::{Labels, Symbol};
use crate::matcher::Matcher;

/// A read view of the database over `[mint, maxt]` (ms, both inclusive).
/// Obtain one from [`Db::querier`](crate::Db::querier).
///
/// Each call reads the head first and then the block list of that moment
/// (head truncation adds a block before it drops the head's copy, so data is
/// never missed; a sample seen in both is deduplicated). The [`Series`] a call
/// returns own their chunks: iterating them stays valid after retention or
/// compaction removed the block they came from (its files go once the last
/// reader is dropped).
pub struct Querier {
    head: Arc<Head>,
    /// The database's block list, sorted by min time.
    blocks: SharedBlocks,
    mint: i64,
    maxt: i64,
}

/// The block list a `Db` and its queriers share.
pub(crate) type SharedBlocks = Arc<RwLock<Vec<Arc<Block>>>>;

impl Querier {
    pub(crate) fn new(head: Arc<Head>, blocks: SharedBlocks, mint: i64, maxt: i64) -> Self {
        Querier {
            head,
            blocks,
            mint,
            maxt,
        }
    }

    /// True if the head holds samples in the range: a query over older data
    /// (the head usually holds the last few hours) skips the head's postings.
    fn head_overlaps(&self) -> bool {
        self.head
            .time_range()
            .is_some_and(|(lo, hi)| lo <= self.maxt && hi >= self.mint)
    }

    /// The blocks overlapping the range now.
    fn blocks(&self) -> Vec<Arc<Block>> {
        let all = self.blocks.read();
        all.iter()
            .filter(|b| b.meta().overlaps(self.mint, self.maxt))
            .cloned()
            .collect()
    }

    /// Start of the range, ms, inclusive.
    pub fn mint(&self) -> i64 {
        self.mint
    }

    /// End of the range, ms, inclusive.
    pub fn maxt(&self) -> i64 {
        self.maxt
    }

    /// The series matching all of `matchers` that have samples in the range,
    /// sorted by labels. An empty matcher list selects every series.
    pub fn select(&self, matchers: &[Matcher]) -> Result<Vec<Series>, Error> {
        let refs = if self.head_overlaps() {
            self.head.postings_for(matchers)?
        } else {
            roaring::RoaringBitmap::new()
        };
        // Head before blocks: see the type's docs.
        let mut found = self.collect_head(refs.iter());
        for b in &self.blocks() {
            let selected = b
                .select(matchers, self.mint, self.maxt)
                .map_err(|e| Error::Block {
                    path: b.dir(),
                    source: Box::new(e),
                })?;
            found.extend(
                selected
                    .into_iter()
                    .map(|s| (s.labels, s.chunks.into_iter().map(block_snap).collect())),
            );
        }
        // Stable: for equal labels the head's chunks come first, then blocks in time order.
        found.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<Series> = Vec::with_capacity(found.len());
        let mut pending: Option<(Labels, Vec<ChunkSnap>)> = None;
        for (labels, chunks) in found {
            match &mut pending {
                Some((l, c)) if *l == labels => c.extend(chunks),
                _ => {
                    if let Some((l, c)) = pending.replace((labels, chunks)) {
                        out.push(Series::new(l, c, self.mint, self.maxt));
                    }
                }
            }
        }
        if let Some((l, c)) = pending {
            out.push(Series::new(l, c, self.mint, self.maxt));
        }
        Ok(out)
    }

    /// Head series among `refs` with chunks in the range.
    fn collect_head(&self, refs: impl Iterator<Item = u32>) -> Vec<(Labels, Vec<ChunkSnap>)> {
        let mut out = Vec::new();
        for r in refs {
            let mut chunks = Vec::new();
            let Some(labels) = self
                .head
                .series_chunks(r, self.mint, self.maxt, &mut chunks)
            else {
                continue;
            };
            if !chunks.is_empty() {
                out.push((labels, chunks));
            }
        }
        out
    }

    /// Label names carried by the series matching `matchers` (all names if
    /// empty), sorted: from the postings of the head (if it has samples in the
    /// range) and of the blocks overlapping the range.
    pub fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<Symbol>, Error> {
        let mut names = Vec::new();
        if self.head_overlaps() {
            names = label_names_for(self.head.postings(), matchers)?;
        }
        for b in &self.blocks() {
            names.extend(b.label_names(matchers).map_err(|e| Error::Block {
                path: b.dir(),
                source: Box::new(e),
            })?);
        }
        Ok(sorted_unique(names))
    }

    /// Values of label `name` among the series matching `matchers` (all values
    /// if empty), sorted.
    pub fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<Symbol>, Error> {
        let mut values = Vec::new();
        if self.head_overlaps() {
            values = label_values_for(self.head.postings(), name, matchers)?;
        }
        for b in &self.blocks() {
            let more = b.label_values(name, matchers).map_err(|e| Error::Block {
                path: b.dir(),
                source: Box::new(e),
            })?;
            values.extend(more);
        }
        Ok(sorted_unique(values))
    }
}

fn sorted_unique(mut v: Vec<Symbol>) -> Vec<Symbol> {
    v.sort_unstable();
    v.dedup();
    v
}

fn block_snap(c: BlockChunk) -> ChunkSnap {
    ChunkSnap {
        min_t: c.min_time,
        max_t: c.max_time,
        bytes: SnapBytes::File(c.bytes),
        out_of_order: false,
    }
}

/// One series of a query result: its labels and its samples in the querier's range.
#[derive(Debug, Clone)]
pub struct Series {
    labels: Labels,
    /// Sorted by min time.
    chunks: Vec<ChunkSnap>,
    mint: i64,
    maxt: i64,
    /// True if some chunks overlap: iteration must merge.
    overlapping: bool,
}

/// One encoded chunk of a series, as Prometheus's remote-read
/// `STREAMED_XOR_CHUNKS` sends it: XOR bytes (Prometheus's chunk encoding) and
/// the time range it covers (ms, inclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawChunk {
    /// Time of the first sample, ms.
    pub min_time_ms: i64,
    /// Time of the last sample, ms.
    pub max_time_ms: i64,
    /// The XOR chunk bytes (2-byte sample count, then the bit stream).
    pub data: Arc<[u8]>,
}

impl Series {
    pub(crate) fn new(labels: Labels, mut chunks: Vec<ChunkSnap>, mint: i64, maxt: i64) -> Self {
        chunks.sort_by_key(|c| c.min_t);
        let overlapping = chunks
            .windows(2)
            .any(|w| matches!(w, [a, b] if b.min_t <= a.max_t));
        Series {
            labels,
            chunks,
            mint,
            maxt,
            overlapping,
        }
    }

    /// The series' labels.
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// An iterator over the samples in the querier's range, by increasing
    /// timestamp, each timestamp once.
    pub fn iter(&self) -> SeriesIter<'_> {
        let mode = if self.overlapping {
            let (samples, err) = merge(&self.chunks, self.mint, self.maxt);
            Mode::Merged {
                samples,
                pos: 0,
                err,
            }
        } else {
            Mode::Chunks {
                chunks: &self.chunks,
                next: 0,
                it: XorIterator::default(),
                active: false,
            }
        };
        SeriesIter {
            mode,
            mint: self.mint,
            maxt: self.maxt,
        }
    }

    /// The series' data as XOR chunks overlapping the range, for remote read.
    /// Disjoint chunks are returned as stored (they may hold samples just
    /// outside the range, as Prometheus's do); overlapping data is merged and
    /// re-encoded in chunks of up to 120 samples, restricted to the range.
    pub fn chunks(&self) -> Vec<RawChunk> {
        if !self.overlapping {
            return self
                .chunks
                .iter()
                .map(|c| RawChunk {
                    min_time_ms: c.min_t,
                    max_time_ms: c.max_t,
                    data: Arc::from(c.bytes.as_slice()),
                })
                .collect();
        }
        let (samples, _) = merge(&self.chunks, self.mint, self.maxt);
        samples
            .chunks(120)
            .filter_map(|part| {
                let (first, last) = (part.first()?, part.last()?);
                let mut c = XorChunk::new();
                for &(t, v) in part {
                    c.append(t, v);
                }
                Some(RawChunk {
                    min_time_ms: first.0,
                    max_time_ms: last.0,
                    data: Arc::from(c.into_bytes()),
                })
            })
            .collect()
    }
}

/// Decodes overlapping chunks into one sorted, deduplicated sample list within `[mint, maxt]`.
fn merge(chunks: &[ChunkSnap], mint: i64, maxt: i64) -> (Vec<(i64, f64)>, Option<ChunkError>) {
    // (t, priority, v): in-order data wins ties, then earlier chunks.
    let mut all: Vec<(i64, usize, f64)> = Vec::new();
    let mut err = None;
    let mut it = XorIterator::default();
    for (i, c) in chunks.iter().enumerate() {
        let priority = if c.out_of_order { chunks.len() + i } else { i };
        it.reset(c.bytes.as_slice());
        while it.next() {
            let (t, v) = it.at();
            if t >= mint && t <= maxt {
                all.push((t, priority, v));
            }
        }
        if let Some(e) = it.err() {
            err.get_or_insert_with(|| e.clone());
        }
    }
    all.sort_by_key(|&(t, p, _)| (t, p));
    all.dedup_by_key(|s| s.0);
    (all.into_iter().map(|(t, _, v)| (t, v)).collect(), err)
}

enum Mode<'a> {
    Chunks {
        chunks: &'a [ChunkSnap],
        next: usize,
        it: XorIterator<'a>,
        active: bool,
    },
    Merged {
        samples: Vec<(i64, f64)>,
        pos: usize,
        err: Option<ChunkError>,
    },
}

/// Iterator over one series' samples `(t ms, value)` in the querier's range.
/// If stored bytes are corrupt, iteration stops early and [`SeriesIter::err`] says why.
pub struct SeriesIter<'a> {
    mode: Mode<'a>,
    mint: i64,
    maxt: i64,
}

impl SeriesIter<'_> {
    /// Why iteration stopped before the end of the data, if it did.
    pub fn err(&self) -> Option<&ChunkError> {
        match &self.mode {
            Mode::Chunks { it, .. } => it.err(),
            Mode::Merged { err, .. } => err.as_ref(),
        }
    }

    /// Advances to the first sample at or after `t` (ms) and returns it.
    pub fn seek(&mut self, t: i64) -> Option<(i64, f64)> {
        loop {
            let s = self.next()?;
            if s.0 >= t {
                return Some(s);
            }
        }
    }
}

impl Iterator for SeriesIter<'_> {
    type Item = (i64, f64);

    #[inline]
    fn next(&mut self) -> Option<(i64, f64)> {
        match &mut self.mode {
            Mode::Chunks {
                chunks,
                next,
                it,
                active,
            } => loop {
                if *active && it.next() {
                    let (t, v) = it.at();
                    if t < self.mint {
                        continue;
                    }
                    if t > self.maxt {
                        // Chunks are disjoint and sorted: nothing later is in range.
                        *active = false;
                        *next = chunks.len();
                        return None;
                    }
                    return Some((t, v));
                }
                if *active && it.err().is_some() {
                    return None;
                }
                let c = chunks.get(*next)?;
                *next += 1;
                it.reset(c.bytes.as_slice());
                *active = true;
            },
            Mode::Merged { samples, pos, .. } => {
                let s = samples.get(*pos).copied()?;
                *pos += 1;
                Some(s)
            }
        }
    }
}
