//! The querier: reads series for a time range, merging every place samples live.
//!
//! Read path, one step per function: matchers → postings (`select`, in
//! `select.rs`, through the index module's `postings_for_matchers`) → series
//! (`head_source`, a snapshot of each series' chunks taken under its lock;
//! blocks, sorted the same way; one merge) → iterators ([`SeriesIter`]).
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
//!
//! Blocks may hold cold chunks (`chunkenc::cold`, runs of up to
//! `block::COLD_RUN_MAX_SAMPLES` samples): an iterator decodes such a run into
//! two column buffers it owns and reuses for every cold chunk of the series,
//! and seeks in it by binary search. Remote read gets them re-encoded as XOR
//! chunks ([`Series::chunks`]), the only float encoding Prometheus reads.

mod decode;
mod lookup;
mod select;

use std::sync::Arc;

use parking_lot::RwLock;

use crate::block::{Block, BlockChunk};
use crate::chunkenc::{ChunkError, CodecError, Encoding, XorChunk, XorIterator};
use crate::head::{ChunkSnap, Head, SnapBytes};
use crate::labels::{Labels, Symbol};

pub use decode::DecodeBuffers;
pub use lookup::Limited;

use decode::{decode_chunk, decode_run, RunTimestamps, SharedColumn};

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
}

fn sorted_unique(mut v: Vec<Symbol>) -> Vec<Symbol> {
    v.sort_unstable();
    v.dedup();
    v
}

fn block_snap(c: BlockChunk) -> ChunkSnap {
    let bytes = match c.timestamps {
        Some(timestamps) => SnapBytes::Shared {
            values: c.bytes,
            timestamps,
        },
        None => SnapBytes::File(c.bytes),
    };
    ChunkSnap {
        min_t: c.min_time,
        max_t: c.max_time,
        bytes,
        out_of_order: false,
    }
}

/// One series of a query result: its labels and its samples in the querier's range.
#[derive(Debug, Clone)]
pub struct Series {
    labels: Labels,
    /// Sorted by min time.
    chunks: SeriesChunks,
    mint: i64,
    maxt: i64,
    /// True if some chunks overlap: iteration must merge.
    overlapping: bool,
}

/// A series' chunks: a range of the chunk list shared by all series of one
/// `select` (one allocation per query, not per series). A series kept alive
/// keeps that whole list, which holds only chunk handles, not samples.
#[derive(Debug, Clone)]
struct SeriesChunks {
    all: Arc<Vec<ChunkSnap>>,
    range: std::ops::Range<usize>,
}

impl SeriesChunks {
    fn as_slice(&self) -> &[ChunkSnap] {
        self.all.get(self.range.clone()).unwrap_or_default()
    }
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
    /// The series' labels.
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// Moves the series' labels out, leaving it with none: for a caller that
    /// converts them to its own type once and has no further use for them.
    pub fn take_labels(&mut self) -> Labels {
        std::mem::take(&mut self.labels)
    }

    /// An iterator over the samples in the querier's range, by increasing
    /// timestamp, each timestamp once.
    pub fn iter(&self) -> SeriesIter<'_> {
        self.iter_with(DecodeBuffers::default())
    }

    /// [`iter`](Self::iter) decoding into `bufs`' allocations, for a reader
    /// going through many series: get them back with
    /// [`SeriesIter::into_buffers`] and pass them to the next series.
    pub fn iter_with(&self, bufs: DecodeBuffers) -> SeriesIter<'_> {
        let mode = if self.overlapping {
            let (samples, err) = merge(self.chunks.as_slice(), self.mint, self.maxt);
            Mode::Merged {
                samples,
                pos: 0,
                err,
            }
        } else {
            Mode::Chunks {
                chunks: self.chunks.as_slice(),
                next: 0,
                cursor: Cursor::Idle,
                err: None,
            }
        };
        SeriesIter {
            mode,
            bufs,
            mint: self.mint,
            maxt: self.maxt,
        }
    }

    /// The series' data as XOR chunks overlapping the range, for remote read.
    /// Disjoint XOR chunks are returned as stored (they may hold samples just
    /// outside the range, as Prometheus's do); cold chunks are decoded and
    /// re-encoded as XOR chunks of up to 120 samples within the range, and so
    /// is overlapping data after merging. A chunk that fails to decode is
    /// logged and left out.
    pub fn chunks(&self) -> Vec<RawChunk> {
        let mut out = Vec::new();
        if self.overlapping {
            let (samples, err) = merge(self.chunks.as_slice(), self.mint, self.maxt);
            if let Some(e) = err {
                tracing::error!(series = %self.labels, error = %e, "corrupt chunk in remote-read");
            }
            push_xor_chunks(&samples, &mut out);
            return out;
        }
        let (mut ts, mut vs) = (Vec::new(), Vec::new());
        let mut shared = SharedColumn::default();
        let mut samples = Vec::new();
        for c in self.chunks.as_slice() {
            if chunk_encoding(c) == Encoding::Xor {
                out.push(RawChunk {
                    min_time_ms: c.min_t,
                    max_time_ms: c.max_t,
                    data: Arc::from(c.bytes.as_slice()),
                });
                continue;
            }
            ts.clear();
            vs.clear();
            if let Err(e) = decode_chunk(c, &mut ts, &mut vs, &mut shared) {
                tracing::error!(series = %self.labels, error = %e, "corrupt chunk in remote-read");
                continue;
            }
            samples.clear();
            samples.extend(
                ts.iter()
                    .zip(&vs)
                    .map(|(t, v)| (*t, *v))
                    .filter(|(t, _)| *t >= self.mint && *t <= self.maxt),
            );
            push_xor_chunks(&samples, &mut out);
        }
        out
    }
}

/// Appends `samples` (sorted, unique timestamps) as XOR chunks of up to 120 samples.
fn push_xor_chunks(samples: &[(i64, f64)], out: &mut Vec<RawChunk>) {
    for part in samples.chunks(120) {
        let (Some(first), Some(last)) = (part.first(), part.last()) else {
            continue;
        };
        let mut c = XorChunk::new();
        for &(t, v) in part {
            c.append(t, v);
        }
        out.push(RawChunk {
            min_time_ms: first.0,
            max_time_ms: last.0,
            data: Arc::from(c.into_bytes()),
        });
    }
}

/// How a chunk's bytes are encoded: head chunks are always XOR.
fn chunk_encoding(c: &ChunkSnap) -> Encoding {
    match &c.bytes {
        SnapBytes::Heap(_) => Encoding::Xor,
        SnapBytes::File(b) | SnapBytes::Shared { values: b, .. } => b.encoding(),
    }
}

/// Why a series' samples could not all be read.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SampleError {
    /// A corrupt XOR chunk.
    #[error(transparent)]
    Xor(#[from] ChunkError),
    /// A corrupt cold chunk.
    #[error("corrupt cold chunk: {0}")]
    Cold(#[source] Arc<CodecError>),
    /// A chunk whose encoding holds no float samples we can read (histograms).
    #[error("cannot read chunks of encoding {0:?} as float samples")]
    Unsupported(Encoding),
}

/// Decodes overlapping chunks into one sorted, deduplicated sample list within `[mint, maxt]`.
fn merge(chunks: &[ChunkSnap], mint: i64, maxt: i64) -> (Vec<(i64, f64)>, Option<SampleError>) {
    // (t, priority, v): in-order data wins ties, then earlier chunks.
    let mut all: Vec<(i64, usize, f64)> = Vec::new();
    let mut err = None;
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    let mut shared = SharedColumn::default();
    for (i, c) in chunks.iter().enumerate() {
        let priority = if c.out_of_order { chunks.len() + i } else { i };
        ts.clear();
        vs.clear();
        // A chunk failing midway keeps the samples before the failure (XOR).
        if let Err(e) = decode_chunk(c, &mut ts, &mut vs, &mut shared) {
            err.get_or_insert(e);
        }
        all.extend(
            ts.iter()
                .zip(&vs)
                .filter(|(t, _)| **t >= mint && **t <= maxt)
                .map(|(t, v)| (*t, priority, *v)),
        );
    }
    all.sort_by_key(|&(t, p, _)| (t, p));
    all.dedup_by_key(|s| s.0);
    (all.into_iter().map(|(t, _, v)| (t, v)).collect(), err)
}

/// Samples handed over by [`SeriesIter::for_each_batch`], timestamps in ms.
#[derive(Debug, Clone, Copy)]
pub enum Samples<'a> {
    /// One sample.
    One(i64, f64),
    /// Consecutive samples as columns of equal length (never empty).
    Run(&'a [i64], &'a [f64]),
}

/// The timestamps of the cold run a cursor reads.
fn run_timestamps<'b>(ts: &'b [i64], shared: &'b SharedColumn, at: RunTimestamps) -> &'b [i64] {
    match at {
        RunTimestamps::Own => ts,
        RunTimestamps::Shared => shared.column(),
    }
}

/// What a non-merging iterator is reading now.
enum Cursor<'a> {
    /// Between chunks.
    Idle,
    /// An XOR chunk, streamed.
    Xor(XorIterator<'a>),
    /// A cold chunk decoded into the iterator's buffers; the next index to
    /// read, and where its timestamps are.
    Cold(usize, RunTimestamps),
}

enum Mode<'a> {
    Chunks {
        chunks: &'a [ChunkSnap],
        next: usize,
        cursor: Cursor<'a>,
        err: Option<SampleError>,
    },
    Merged {
        samples: Vec<(i64, f64)>,
        pos: usize,
        err: Option<SampleError>,
    },
}

/// Iterator over one series' samples `(t ms, value)` in the querier's range.
/// If stored bytes are corrupt, iteration stops early and [`SeriesIter::err`] says why.
pub struct SeriesIter<'a> {
    mode: Mode<'a>,
    /// The decoded cold run (reused for each cold chunk) and decode scratch.
    bufs: DecodeBuffers,
    mint: i64,
    maxt: i64,
}

impl SeriesIter<'_> {
    /// The iterator's decode buffers, for the next series' [`Series::iter_with`].
    pub fn into_buffers(self) -> DecodeBuffers {
        self.bufs.trimmed()
    }

    /// Why iteration stopped before the end of the data, if it did.
    pub fn err(&self) -> Option<&SampleError> {
        match &self.mode {
            Mode::Chunks { err, .. } | Mode::Merged { err, .. } => err.as_ref(),
        }
    }

    /// Passes every remaining sample to `f`, in order: the samples `next`
    /// would return, with an XOR chunk's samples read in a tight loop instead
    /// of through the per-sample chunk state machine. Afterwards
    /// [`SeriesIter::err`] tells whether the data ended early.
    pub fn for_each_sample(&mut self, mut f: impl FnMut(i64, f64)) {
        self.for_each_batch(|batch| match batch {
            Samples::One(t, v) => f(t, v),
            Samples::Run(ts, vs) => {
                for (t, v) in ts.iter().zip(vs) {
                    f(*t, *v);
                }
            }
        });
    }

    /// [`for_each_sample`](Self::for_each_sample) handing the in-range part
    /// of a decoded cold run over in one call, as two columns, so that a
    /// caller can copy it in one loop (a block's samples are all in such runs).
    pub fn for_each_batch(&mut self, mut f: impl FnMut(Samples<'_>)) {
        loop {
            if let Mode::Chunks {
                chunks,
                next,
                cursor,
                ..
            } = &mut self.mode
            {
                let DecodeBuffers { ts, vs, shared } = &mut self.bufs;
                if let Cursor::Xor(it) = cursor {
                    while it.next() {
                        let (t, v) = it.at();
                        if t < self.mint {
                            continue;
                        }
                        if t > self.maxt {
                            // Chunks are disjoint and sorted: nothing later is in range.
                            *cursor = Cursor::Idle;
                            *next = chunks.len();
                            return;
                        }
                        f(Samples::One(t, v));
                    }
                }
                if let Cursor::Cold(pos, at) = cursor {
                    // A decoded cold run: its samples from `pos` on are at or
                    // after `mint` (skipped when the run was opened).
                    let run_t = run_timestamps(ts, shared, *at);
                    let rest_t = run_t.get(*pos..).unwrap_or_default();
                    let in_range = rest_t.partition_point(|t| *t <= self.maxt);
                    let rest_v = vs.get(*pos..).unwrap_or_default();
                    let (run_ts, run_vs) = (
                        rest_t.get(..in_range).unwrap_or_default(),
                        rest_v.get(..in_range).unwrap_or_default(),
                    );
                    if !run_ts.is_empty() {
                        f(Samples::Run(run_ts, run_vs));
                    }
                    if in_range < rest_t.len() {
                        *cursor = Cursor::Idle;
                        *next = chunks.len();
                        return;
                    }
                    *pos = run_t.len();
                }
            }
            // Chunk boundaries, errors and merged data.
            match self.next() {
                Some((t, v)) => f(Samples::One(t, v)),
                None => return,
            }
        }
    }

    /// Advances to the first sample at or after `t` (ms) and returns it.
    pub fn seek(&mut self, t: i64) -> Option<(i64, f64)> {
        match &mut self.mode {
            Mode::Chunks {
                cursor: Cursor::Cold(pos, at),
                ..
            } => {
                // Timestamps in a run are sorted: jump instead of stepping.
                *pos += run_timestamps(&self.bufs.ts, &self.bufs.shared, *at)
                    .get(*pos..)
                    .map_or(0, |rest| rest.partition_point(|x| *x < t));
            }
            Mode::Merged { samples, pos, .. } => {
                *pos += samples
                    .get(*pos..)
                    .map_or(0, |rest| rest.partition_point(|s| s.0 < t));
            }
            Mode::Chunks { .. } => {}
        }
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
        let DecodeBuffers { ts, vs, shared } = &mut self.bufs;
        match &mut self.mode {
            Mode::Chunks {
                chunks,
                next,
                cursor,
                err,
            } => loop {
                let sample = match cursor {
                    Cursor::Xor(it) => {
                        if it.next() {
                            Some(it.at())
                        } else {
                            if let Some(e) = it.err() {
                                *err = Some(e.clone().into());
                            }
                            None
                        }
                    }
                    Cursor::Cold(pos, at) => {
                        let run_t = run_timestamps(ts, shared, *at);
                        let s = run_t.get(*pos).zip(vs.get(*pos)).map(|(t, v)| (*t, *v));
                        *pos += 1;
                        s
                    }
                    Cursor::Idle => None,
                };
                if let Some((t, v)) = sample {
                    if t < self.mint {
                        continue;
                    }
                    if t > self.maxt {
                        // Chunks are disjoint and sorted: nothing later is in range.
                        *cursor = Cursor::Idle;
                        *next = chunks.len();
                        return None;
                    }
                    return Some((t, v));
                }
                if err.is_some() {
                    return None;
                }
                let c = chunks.get(*next)?;
                *next += 1;
                match chunk_encoding(c) {
                    // The common case: head chunks and XOR blocks; the
                    // iterator is reset onto the new bytes, not rebuilt.
                    Encoding::Xor => match cursor {
                        Cursor::Xor(it) => it.reset(c.bytes.as_slice()),
                        _ => *cursor = Cursor::Xor(XorIterator::new(c.bytes.as_slice())),
                    },
                    _ => {
                        ts.clear();
                        vs.clear();
                        *cursor = Cursor::Idle;
                        let at = match decode_run(c, ts, vs, shared) {
                            Ok(at) => at,
                            Err(e) => {
                                *err = Some(e);
                                return None;
                            }
                        };
                        // Skip the run's samples before the range in one search.
                        let run_t = run_timestamps(ts, shared, at);
                        *cursor = Cursor::Cold(run_t.partition_point(|x| *x < self.mint), at);
                    }
                }
            },
            Mode::Merged { samples, pos, .. } => {
                let s = samples.get(*pos).copied()?;
                *pos += 1;
                Some(s)
            }
        }
    }
}
