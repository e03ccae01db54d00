//! One head series (`MemSeries`): its labels, the open XOR chunk samples are
//! appended to, the list of full chunks, and its out-of-order data.
//!
//! All sample data sits behind the series' own mutex, so appenders on
//! different series never contend. The newest committed in-order timestamp is
//! mirrored in an atomic so `append` can validate most samples without taking
//! that mutex. A chunk is cut when it holds [`SAMPLES_PER_CHUNK`] samples or
//! when the next sample would cross the block-range boundary after the chunk's
//! first sample, so no chunk ever spans two blocks.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use super::ooo::{OooChunks, OooInsert};
use super::SeriesRef;
use crate::chunkenc::{Encoding, XorChunk};
use crate::chunks::{ChunkBytes, ChunkRef, ChunkStore};
use crate::error::AppendError;
use crate::labels::Labels;

/// Samples after which a chunk is cut (Prometheus's default `samplesPerChunk`).
pub(crate) const SAMPLES_PER_CHUNK: u16 = 120;

/// Bytes of a chunk handed to a query: on the heap, or read from a chunk file
/// (memory-mapped once its segment is sealed). Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) enum SnapBytes {
    Heap(Arc<[u8]>),
    File(ChunkBytes),
    /// A block's `ColdShared` chunk and the cold chunk holding its timestamps.
    Shared {
        values: ChunkBytes,
        timestamps: ChunkBytes,
    },
}

impl SnapBytes {
    /// The chunk bytes (XOR for head chunks; for a shared cold chunk, its values part).
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            SnapBytes::Heap(b) => b,
            SnapBytes::File(c) | SnapBytes::Shared { values: c, .. } => c.data(),
        }
    }
}

/// A chunk handed to a query: immutable, shared, with its time range (ms, inclusive).
#[derive(Debug, Clone)]
pub(crate) struct ChunkSnap {
    pub(crate) min_t: i64,
    pub(crate) max_t: i64,
    pub(crate) bytes: SnapBytes,
    /// Out-of-order data: may overlap other chunks, loses ties against in-order data.
    pub(crate) out_of_order: bool,
}

/// Where a full chunk's bytes are.
#[derive(Debug, Clone)]
enum FullData {
    /// In a chunk file: only the ref stays in memory (the normal case).
    File(ChunkRef),
    /// On the heap: the chunk file could not be written (logged), or no store (unit tests).
    Heap(Arc<[u8]>),
}

/// A full (cut) in-order chunk of the head.
#[derive(Debug, Clone)]
struct FullChunk {
    min_t: i64,
    max_t: i64,
    data: FullData,
}

struct OpenChunk {
    chunk: XorChunk,
    /// The first timestamp (ms) that no longer belongs in this chunk: the next block boundary.
    end_t: i64,
}

/// The mutable part of a series, behind [`MemSeries::data`].
#[derive(Default)]
pub(crate) struct SeriesData {
    open: Option<OpenChunk>,
    full: Vec<FullChunk>,
    /// Newest in-order sample (ms, value bits); `i64::MIN` when none.
    last_t: i64,
    last_v: u64,
    /// Boxed: most series never receive an out-of-order sample.
    ooo: Option<Box<OooChunks>>,
}

/// How a sample was applied to the series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Applied {
    /// Appended in order.
    InOrder,
    /// Stored as out-of-order data.
    OutOfOrder,
    /// Identical to a stored sample; nothing changed.
    Duplicate,
}

/// One series of the head.
pub(crate) struct MemSeries {
    pub(crate) series_ref: SeriesRef,
    pub(crate) labels: Labels,
    /// Set once the series record is in the WAL (by the first commit that uses it).
    pub(crate) wal_logged: AtomicBool,
    /// Mirror of `data.last_t` for lock-free validation in `append`.
    max_t: AtomicI64,
    /// Appenders holding uncommitted samples for this series; garbage collection skips it.
    pub(crate) pending_appenders: AtomicU32,
    /// Set by garbage collection when it removes the series from the head.
    pub(crate) removed: AtomicBool,
    pub(crate) data: Mutex<SeriesData>,
}

impl MemSeries {
    pub(crate) fn new(series_ref: SeriesRef, labels: Labels) -> Self {
        MemSeries {
            series_ref,
            labels,
            wal_logged: AtomicBool::new(false),
            max_t: AtomicI64::new(i64::MIN),
            pending_appenders: AtomicU32::new(0),
            removed: AtomicBool::new(false),
            data: Mutex::new(SeriesData {
                last_t: i64::MIN,
                ..SeriesData::default()
            }),
        }
    }

    /// Newest committed in-order timestamp (ms), `i64::MIN` if none. May be
    /// momentarily stale; commit re-checks under the lock.
    pub(crate) fn max_time(&self) -> i64 {
        self.max_t.load(Ordering::Acquire)
    }

    /// Value bits of a buffered out-of-order sample at `t`, read under the lock.
    pub(crate) fn buffered_ooo_bits(&self, t: i64) -> Option<u64> {
        self.data.lock().ooo.as_ref()?.buffered(t)
    }

    /// Value bits of the newest in-order sample, read under the lock.
    pub(crate) fn last_value_bits(&self) -> (i64, u64) {
        let d = self.data.lock();
        (d.last_t, d.last_v)
    }
}

/// Where the boundary after `t` lies for blocks of `range` ms.
fn next_boundary(t: i64, range: i64) -> i64 {
    t.div_euclid(range).saturating_add(1).saturating_mul(range)
}

impl SeriesData {
    /// Applies a committed sample. In-order samples go to the open chunk;
    /// older ones go to the out-of-order buffer if `ooo_min_t` allows (`None`:
    /// out-of-order disabled). `series` is the owner, for its `max_t` mirror.
    pub(crate) fn apply(
        &mut self,
        series: &MemSeries,
        t: i64,
        v: f64,
        chunk_range: i64,
        ooo_min_t: Option<i64>,
        store: Option<&ChunkStore>,
    ) -> Result<Applied, AppendError> {
        // The common case: a scrape's next sample, after everything stored.
        if t > self.last_t {
            self.append_in_order(t, v, chunk_range, store);
            series.max_t.store(t, Ordering::Release);
            return Ok(Applied::InOrder);
        }
        if t == self.last_t {
            return if v.to_bits() == self.last_v {
                Ok(Applied::Duplicate)
            } else {
                Err(AppendError::DuplicateSampleForTimestamp { t })
            };
        }
        match ooo_min_t {
            None => Err(AppendError::OutOfOrder {
                t,
                newest: self.last_t,
            }),
            Some(min) if t < min => Err(AppendError::TooOldSample { t, min_valid: min }),
            Some(_) => match self.ooo.get_or_insert_with(Box::default).insert(t, v)? {
                OooInsert::Added => Ok(Applied::OutOfOrder),
                OooInsert::Duplicate => Ok(Applied::Duplicate),
            },
        }
    }

    fn append_in_order(&mut self, t: i64, v: f64, chunk_range: i64, store: Option<&ChunkStore>) {
        let cut = match &self.open {
            Some(o) => o.chunk.num_samples() >= SAMPLES_PER_CHUNK || t >= o.end_t,
            None => true,
        };
        if cut {
            self.cut_open_chunk(store);
            self.open = Some(OpenChunk {
                chunk: XorChunk::new(),
                end_t: next_boundary(t, chunk_range),
            });
        }
        if let Some(o) = &mut self.open {
            o.chunk.append(t, v);
        }
        self.last_t = t;
        self.last_v = v.to_bits();
    }

    /// Moves the open chunk, if any, to the full list, writing it to the chunk
    /// files so only its ref stays in memory.
    fn cut_open_chunk(&mut self, store: Option<&ChunkStore>) {
        let Some(o) = self.open.take() else { return };
        let (Some(min_t), Some(max_t)) = (o.chunk.first_time(), o.chunk.last_time()) else {
            return;
        };
        let data = match store.map(|s| s.write_chunk(Encoding::Xor, o.chunk.bytes())) {
            Some(Ok(r)) => FullData::File(r),
            Some(Err(e)) => {
                tracing::error!(error = %e, "writing a full head chunk failed; keeping it in memory");
                FullData::Heap(Arc::from(o.chunk.into_bytes()))
            }
            None => FullData::Heap(Arc::from(o.chunk.into_bytes())),
        };
        // Grow by one: a series holds a handful of full chunks, and the default
        // growth (to 4 at once) cost ~120 bytes per series at 100k series.
        self.full.reserve_exact(1);
        self.full.push(FullChunk { min_t, max_t, data });
    }

    /// Appends snapshots of every chunk overlapping `[mint, maxt]` (ms, inclusive):
    /// full chunks, then the open chunk (copied), then out-of-order data.
    pub(crate) fn snapshot(
        &self,
        mint: i64,
        maxt: i64,
        store: Option<&ChunkStore>,
        out: &mut Vec<ChunkSnap>,
    ) {
        for c in &self.full {
            if c.min_t > maxt || c.max_t < mint {
                continue;
            }
            let bytes = match (&c.data, store) {
                (FullData::Heap(b), _) => SnapBytes::Heap(Arc::clone(b)),
                (FullData::File(r), Some(store)) => match store.chunk(*r) {
                    Ok(b) => SnapBytes::File(b),
                    Err(e) => {
                        tracing::error!(error = %e, chunk = ?r, "reading a head chunk failed; skipped");
                        continue;
                    }
                },
                (FullData::File(_), None) => continue,
            };
            out.push(ChunkSnap {
                min_t: c.min_t,
                max_t: c.max_t,
                bytes,
                out_of_order: false,
            });
        }
        if let Some(o) = &self.open {
            if let (Some(lo), Some(hi)) = (o.chunk.first_time(), o.chunk.last_time()) {
                if lo <= maxt && hi >= mint {
                    out.push(ChunkSnap {
                        min_t: lo,
                        max_t: hi,
                        bytes: SnapBytes::Heap(Arc::from(o.chunk.bytes())),
                        out_of_order: false,
                    });
                }
            }
        }
        if let Some(ooo) = &self.ooo {
            ooo.snapshot(mint, maxt, out);
        }
    }

    /// Drops chunks that end before `t` (ms): they are in a block now. The open
    /// chunk stays unless it too ends before `t`. True if the series is left empty.
    pub(crate) fn truncate_before(&mut self, t: i64) -> bool {
        self.full.retain(|c| c.max_t >= t);
        if self
            .open
            .as_ref()
            .is_some_and(|o| o.chunk.last_time().is_some_and(|l| l < t))
        {
            self.open = None;
        }
        if let Some(ooo) = &mut self.ooo {
            ooo.truncate_before(t);
            if ooo.is_empty() {
                self.ooo = None;
            }
        }
        self.is_empty()
    }

    /// The lowest chunk-file segment a full chunk of this series is in.
    pub(crate) fn min_file_segment(&self) -> Option<u32> {
        self.full
            .iter()
            .filter_map(|c| match c.data {
                FullData::File(r) => Some(r.segment()),
                FullData::Heap(_) => None,
            })
            .min()
    }

    /// True if the series holds no samples at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.open.is_none() && self.full.is_empty() && self.ooo.is_none()
    }

    /// Oldest sample time (ms) held, in order or not.
    pub(crate) fn min_time(&self) -> Option<i64> {
        let in_order = self
            .full
            .first()
            .map(|c| c.min_t)
            .or_else(|| self.open.as_ref()?.chunk.first_time());
        let mut ooo = Vec::new();
        if let Some(o) = &self.ooo {
            o.snapshot(i64::MIN, i64::MAX, &mut ooo);
        }
        in_order
            .into_iter()
            .chain(ooo.iter().map(|c| c.min_t))
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunkenc::XorIterator;

    fn series() -> MemSeries {
        MemSeries::new(SeriesRef::new(1), Labels::from_pairs([("a", "b")]).unwrap())
    }

    fn all(d: &SeriesData) -> Vec<ChunkSnap> {
        let mut out = Vec::new();
        d.snapshot(i64::MIN, i64::MAX, None, &mut out);
        out
    }

    fn count(c: &ChunkSnap) -> usize {
        let mut it = XorIterator::new(c.bytes.as_slice());
        let mut n = 0;
        while it.next() {
            n += 1;
        }
        n
    }

    #[test]
    fn cuts_at_120_samples() {
        let s = series();
        let mut d = s.data.lock();
        for t in 0..250 {
            d.apply(&s, t, t as f64, 1_000_000, None, None).unwrap();
        }
        let counts: Vec<usize> = all(&d).iter().map(count).collect();
        assert_eq!(counts, vec![120, 120, 10]);
        assert_eq!(s.max_time(), 249);
    }

    #[test]
    fn cuts_at_block_boundary() {
        let s = series();
        let mut d = s.data.lock();
        for t in [90, 95, 99, 100, 105] {
            d.apply(&s, t, 0.0, 100, None, None).unwrap();
        }
        let ranges: Vec<(i64, i64)> = all(&d).iter().map(|c| (c.min_t, c.max_t)).collect();
        assert_eq!(ranges, vec![(90, 99), (100, 105)]);
    }

    #[test]
    fn duplicates_and_out_of_order() {
        let s = series();
        let mut d = s.data.lock();
        d.apply(&s, 10, 1.0, 100, None, None).unwrap();
        assert_eq!(
            d.apply(&s, 10, 1.0, 100, None, None),
            Ok(Applied::Duplicate)
        );
        assert_eq!(
            d.apply(&s, 10, 2.0, 100, None, None),
            Err(AppendError::DuplicateSampleForTimestamp { t: 10 })
        );
        assert_eq!(
            d.apply(&s, 9, 1.0, 100, None, None),
            Err(AppendError::OutOfOrder { t: 9, newest: 10 })
        );
        assert_eq!(
            d.apply(&s, 9, 1.0, 100, Some(5), None),
            Ok(Applied::OutOfOrder)
        );
        assert_eq!(
            d.apply(&s, 4, 1.0, 100, Some(5), None),
            Err(AppendError::TooOldSample { t: 4, min_valid: 5 })
        );
    }

    #[test]
    fn truncation_keeps_newer_chunks() {
        let s = series();
        let mut d = s.data.lock();
        for t in 0..300 {
            d.apply(&s, t, 0.0, 1000, None, None).unwrap();
        }
        assert!(!d.truncate_before(150));
        let ranges: Vec<(i64, i64)> = all(&d).iter().map(|c| (c.min_t, c.max_t)).collect();
        assert_eq!(ranges, vec![(120, 239), (240, 299)]);
        assert!(d.truncate_before(1000));
    }
}
