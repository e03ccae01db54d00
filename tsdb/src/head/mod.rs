//! The head: the in-memory, appendable part of the database.
//!
//! It owns every series that received samples since the last head truncation:
//! the series map ([`stripe`], sharded by label hash, no global lock on the
//! append path), each series' open and full chunks ([`series`]), out-of-order
//! data ([`ooo`]), the interned label strings ([`symbols`]) and the postings
//! index used by queries (the index module's `MemPostings`). Samples enter
//! only through an [`Appender`] commit, after the WAL has them, or through WAL
//! replay; the head itself never writes the WAL. Its invariant: a series' in-order
//! chunks are sorted, non-overlapping, and never span a block boundary.

mod appender;
mod ooo;
mod series;
mod stripe;
mod symbols;

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock, RwLockReadGuard};
use roaring::RoaringBitmap;

pub use appender::Appender;
use appender::Scratch;
pub(crate) use series::{ChunkSnap, SnapBytes};

use crate::block::ChunkData;
use crate::chunkenc::{Encoding, XorIterator};
use crate::chunks::ChunkStore;
use crate::error::{AppendError, Error};
use crate::index::{postings_for_matchers, MemPostings};
use crate::labels::{Labels, Symbol};
use crate::matcher::Matcher;
use crate::querier::Limited;
use series::{Applied, MemSeries};
use stripe::StripeSeries;
use symbols::Symbols;

/// A reference to a head series: stable while the series is in the head, and
/// across restarts (the WAL records it). Refs are `u32` so they fit roaring bitmaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesRef(u32);

impl SeriesRef {
    /// Wraps a raw reference (as returned by [`SeriesRef::get`]).
    pub fn new(raw: u32) -> Self {
        SeriesRef(raw)
    }

    /// The raw reference.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// Limits on the label sets of new series; `None` means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelLimits {
    /// Most labels per series (default 128).
    pub max_labels: Option<usize>,
    /// Longest label name, bytes (default 1 KiB).
    pub max_name_bytes: Option<usize>,
    /// Longest label value, bytes (default 16 KiB).
    pub max_value_bytes: Option<usize>,
}

impl Default for LabelLimits {
    fn default() -> Self {
        LabelLimits {
            max_labels: Some(128),
            max_name_bytes: Some(1024),
            max_value_bytes: Some(16 * 1024),
        }
    }
}

impl LabelLimits {
    /// Checks a label set against the limits.
    pub fn check(&self, labels: &Labels) -> Result<(), AppendError> {
        if labels.is_empty() {
            return Err(AppendError::EmptyLabels);
        }
        if let Some(limit) = self.max_labels.filter(|&l| labels.len() > l) {
            return Err(AppendError::TooManyLabels {
                count: labels.len(),
                limit,
            });
        }
        for l in labels {
            for (what, s, limit) in [
                ("name", &l.name, self.max_name_bytes),
                ("value", &l.value, self.max_value_bytes),
            ] {
                if let Some(limit) = limit.filter(|&lim| s.len() > lim) {
                    return Err(AppendError::LabelTooLong {
                        name: l.name.to_string(),
                        what,
                        len: s.len(),
                        limit,
                    });
                }
            }
        }
        Ok(())
    }
}

/// True if `s` holds a sample in `[mint, maxt]` (ms, inclusive), judged by its
/// oldest and newest sample times; takes the series' lock.
fn holds_samples_in(s: &MemSeries, mint: i64, maxt: i64) -> bool {
    let Some(min) = s.data.lock().min_time() else {
        return false;
    };
    // Out-of-order samples are older than the newest in-order one; a series
    // with only out-of-order data has no in-order newest yet.
    let max = match s.max_time() {
        i64::MIN => i64::MAX,
        t => t,
    };
    min <= maxt && max >= mint
}

/// A head series' labels, borrowed from the series: a select that finds the
/// same series in a block keeps the block's copy and never clones these.
pub(crate) struct HeadLabels(Arc<MemSeries>);

impl HeadLabels {
    pub(crate) fn labels(&self) -> &Labels {
        &self.0.labels
    }
}

/// Head settings fixed at open.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeadOptions {
    /// Block range (ms): chunks never cross a multiple of it.
    pub(crate) chunk_range_ms: i64,
    /// Out-of-order window (ms); 0 disables out-of-order ingestion.
    pub(crate) ooo_window_ms: i64,
    pub(crate) limits: LabelLimits,
}

/// Time bounds an appended sample is checked against, read once per sample.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    /// Older samples belong to blocks already written: never accepted.
    pub(crate) lower: i64,
    /// Oldest in-order sample accepted (half a block range behind the head's newest).
    pub(crate) in_order_min: i64,
    /// Oldest out-of-order sample accepted; `None` when out-of-order is off.
    pub(crate) ooo_min: Option<i64>,
}

/// The head.
pub(crate) struct Head {
    series: StripeSeries,
    /// Where full chunks go; `None` keeps them on the heap.
    chunks: Option<ChunkStore>,
    postings: MemPostings,
    symbols: Symbols,
    next_ref: AtomicU32,
    min_t: AtomicI64,
    max_t: AtomicI64,
    /// Samples before this (ms) are in blocks; the head refuses them.
    min_valid_t: AtomicI64,
    /// Held shared by each commit from its bounds check to its last applied
    /// sample, and exclusively to raise `min_valid_t`: so a commit either
    /// finishes before the raise (and its samples are in the head when the
    /// block is read) or sees the raised bound before it writes the WAL.
    commit_gate: RwLock<()>,
    opts: HeadOptions,
    closed: AtomicBool,
    /// Samples valid at `append` that a concurrent commit made invalid at `commit`.
    dropped_at_commit: AtomicU64,
    /// Recycled appender buffers.
    scratch_pool: Mutex<Vec<Scratch>>,
}

/// Appender buffers kept for reuse: about one per concurrently committing thread.
const SCRATCH_POOL_SIZE: usize = 16;

impl Head {
    pub(crate) fn new(opts: HeadOptions, chunks: Option<ChunkStore>) -> Self {
        Head {
            series: StripeSeries::new(),
            chunks,
            postings: MemPostings::new(),
            symbols: Symbols::new(),
            next_ref: AtomicU32::new(1),
            min_t: AtomicI64::new(i64::MAX),
            max_t: AtomicI64::new(i64::MIN),
            min_valid_t: AtomicI64::new(i64::MIN),
            commit_gate: RwLock::new(()),
            opts,
            closed: AtomicBool::new(false),
            dropped_at_commit: AtomicU64::new(0),
            scratch_pool: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Buffers for a new appender, recycled if the pool has some.
    pub(crate) fn take_scratch(&self) -> Scratch {
        self.scratch_pool.lock().pop().unwrap_or_default()
    }

    /// Returns an appender's buffers to the pool.
    pub(crate) fn return_scratch(&self, mut scratch: Scratch) {
        if scratch.reset() {
            let mut pool = self.scratch_pool.lock();
            if pool.len() < SCRATCH_POOL_SIZE {
                pool.push(scratch);
            }
        }
    }

    /// Interns a string in the head's symbol table.
    pub(crate) fn intern(&self, s: &str) -> Symbol {
        self.symbols.intern(s)
    }

    /// Holds off [`set_min_valid`](Self::set_min_valid) until dropped: taken
    /// by a commit for its whole WAL write and head apply.
    pub(crate) fn commit_guard(&self) -> RwLockReadGuard<'_, ()> {
        self.commit_gate.read()
    }

    /// The bounds appended samples are checked against now.
    pub(crate) fn bounds(&self) -> Bounds {
        let lower = self.min_valid_t.load(Ordering::Acquire);
        let max = self.max_t.load(Ordering::Acquire);
        let in_order_min = if max == i64::MIN {
            lower
        } else {
            lower.max(max.saturating_sub(self.opts.chunk_range_ms / 2))
        };
        let ooo_min = (self.opts.ooo_window_ms > 0)
            .then(|| lower.max(max.saturating_sub(self.opts.ooo_window_ms)));
        Bounds {
            lower,
            in_order_min,
            ooo_min,
        }
    }

    /// The bounds replayed samples are checked against: anything not yet in a
    /// block; out-of-order data only if the window is on.
    pub(crate) fn replay_bounds(&self) -> Bounds {
        let lower = self.min_valid_t.load(Ordering::Acquire);
        Bounds {
            lower,
            in_order_min: lower,
            ooo_min: (self.opts.ooo_window_ms > 0).then_some(lower),
        }
    }

    /// The series with `labels`, created (and indexed) if new.
    pub(crate) fn get_or_create(&self, labels: &Labels) -> Result<Arc<MemSeries>, AppendError> {
        let hash = labels.stable_hash();
        if let Some(s) = self.series.get_by_labels(hash, labels) {
            return Ok(s);
        }
        self.opts.limits.check(labels)?;
        let (s, created) = self.series.get_or_insert_with(hash, labels, || {
            let r = self.next_ref.fetch_add(1, Ordering::Relaxed);
            if r == u32::MAX {
                return Err(AppendError::TooManySeries);
            }
            Ok(Arc::new(MemSeries::new(
                SeriesRef(r),
                self.symbols.intern_labels(labels),
            )))
        })?;
        if created {
            self.postings.add(s.series_ref.get(), &s.labels);
        }
        Ok(s)
    }

    /// Recreates a series read from the WAL with its logged ref. If the labels
    /// already exist under another ref, that series is returned.
    pub(crate) fn create_replayed(&self, r: SeriesRef, labels: &Labels) -> Arc<MemSeries> {
        self.next_ref
            .fetch_max(r.get().saturating_add(1), Ordering::Relaxed);
        let hash = labels.stable_hash();
        let made = self.series.get_or_insert_with(hash, labels, || {
            Ok::<_, std::convert::Infallible>(Arc::new(MemSeries::new(r, labels.clone())))
        });
        let (s, created) = match made {
            Ok(x) => x,
            Err(never) => match never {},
        };
        if created {
            self.postings.add(s.series_ref.get(), &s.labels);
        }
        s.wal_logged.store(true, Ordering::Release);
        s
    }

    /// The series with this ref.
    pub(crate) fn get(&self, r: SeriesRef) -> Option<Arc<MemSeries>> {
        self.series.get(r)
    }

    /// Widens the head's time range to include `[min, max]` (ms).
    pub(crate) fn observe_range(&self, min: i64, max: i64) {
        if min <= max {
            self.min_t.fetch_min(min, Ordering::AcqRel);
            self.max_t.fetch_max(max, Ordering::AcqRel);
        }
    }

    /// Applies one committed (or replayed) sample under the series' lock.
    fn apply_locked(
        &self,
        series: &MemSeries,
        data: &mut series::SeriesData,
        t: i64,
        v: f64,
        bounds: &Bounds,
    ) -> Result<Applied, AppendError> {
        if t < bounds.lower {
            return Err(AppendError::OutOfBounds {
                t,
                min_valid: bounds.lower,
            });
        }
        data.apply(
            series,
            t,
            v,
            self.opts.chunk_range_ms,
            bounds.ooo_min,
            self.chunks.as_ref(),
        )
    }

    /// Applies a replayed sample; samples the live head would have dropped are dropped again.
    pub(crate) fn apply_replayed(&self, series: &MemSeries, t: i64, v: f64, bounds: &Bounds) {
        let mut d = series.data.lock();
        if self.apply_locked(series, &mut d, t, v, bounds).is_ok() {
            drop(d);
            self.observe_range(t, t);
        }
    }

    /// Series refs selected by `matchers`.
    pub(crate) fn postings_for(&self, matchers: &[Matcher]) -> Result<RoaringBitmap, Error> {
        Ok(postings_for_matchers(&self.postings, matchers)?)
    }

    /// The postings index (label names/values, stats).
    pub(crate) fn postings(&self) -> &MemPostings {
        &self.postings
    }

    /// Labels and chunk snapshots of series `r` overlapping `[mint, maxt]` (ms, inclusive).
    pub(crate) fn series_chunks(
        &self,
        r: u32,
        mint: i64,
        maxt: i64,
        out: &mut Vec<ChunkSnap>,
    ) -> Option<HeadLabels> {
        let s = self.series.get(SeriesRef(r))?;
        s.data
            .lock()
            .snapshot(mint, maxt, self.chunks.as_ref(), out);
        Some(HeadLabels(s))
    }

    /// The label sets, sorted, of the series among `refs` holding samples in
    /// `[mint, maxt]` (ms, inclusive); with `limit`, only the `limit` smallest.
    /// No chunk is copied and only the returned label sets are cloned: at 1M
    /// series a match-all lookup with Grafana's `limit=40000` selects the
    /// smallest in O(n) and sorts only those.
    pub(crate) fn labels_in_range(
        &self,
        refs: &RoaringBitmap,
        mint: i64,
        maxt: i64,
        limit: Option<usize>,
    ) -> Limited<Labels> {
        // The common case (Grafana asks for the last hours): the range covers
        // the whole head, so any series holding in-order data is in it.
        let covers_head = self
            .time_range()
            .is_some_and(|(lo, hi)| lo >= mint && hi <= maxt);
        let mut found = Vec::with_capacity(usize::try_from(refs.len()).unwrap_or(0));
        for r in refs {
            let Some(s) = self.series.get(SeriesRef(r)) else {
                continue;
            };
            if (covers_head && s.max_time() != i64::MIN) || holds_samples_in(&s, mint, maxt) {
                found.push(s);
            }
        }
        let truncated = limit.is_some_and(|l| found.len() > l);
        if let Some(l) = limit.filter(|_| truncated) {
            if let Some(nth) = l.checked_sub(1) {
                found.select_nth_unstable_by(nth, |a, b| a.labels.cmp(&b.labels));
            }
            found.truncate(l);
        }
        found.sort_unstable_by(|a, b| a.labels.cmp(&b.labels));
        Limited {
            items: found.iter().map(|s| s.labels.clone()).collect(),
            truncated,
        }
    }

    /// The value of label `name` of series `r`, if the series exists and has it.
    pub(crate) fn label_value_of(&self, r: u32, name: &str) -> Option<Symbol> {
        let s = self.series.get(SeriesRef(r))?;
        let value = s.labels.iter().find(|l| &*l.name == name)?;
        Some(value.value.clone())
    }

    /// Appends the label names of series `r` to `out`.
    pub(crate) fn label_names_of(&self, r: u32, out: &mut Vec<Symbol>) {
        if let Some(s) = self.series.get(SeriesRef(r)) {
            out.extend(s.labels.iter().map(|l| l.name.clone()));
        }
    }

    /// Number of series in the head.
    pub(crate) fn num_series(&self) -> u64 {
        self.postings.num_series()
    }

    /// Oldest and newest sample time (ms) in the head; `None` when empty.
    pub(crate) fn time_range(&self) -> Option<(i64, i64)> {
        let (min, max) = (
            self.min_t.load(Ordering::Acquire),
            self.max_t.load(Ordering::Acquire),
        );
        (min <= max).then_some((min, max))
    }

    /// Samples dropped at commit because a concurrent commit made them invalid.
    pub(crate) fn dropped_at_commit(&self) -> u64 {
        self.dropped_at_commit.load(Ordering::Relaxed)
    }

    /// Drops all data before `t` (ms), which is now in blocks, and every series left
    /// empty (unless an appender holds uncommitted samples for it). Returns the
    /// number of series removed.
    pub(crate) fn truncate_before(&self, t: i64) -> usize {
        self.set_min_valid(t);
        let mut empty = Vec::new();
        let mut new_min = i64::MAX;
        let mut min_segment = u32::MAX;
        self.series.for_each(|s| {
            let mut d = s.data.lock();
            if d.truncate_before(t) {
                empty.push(Arc::clone(s));
            } else if let Some(m) = d.min_time() {
                new_min = new_min.min(m);
            }
            min_segment = min_segment.min(d.min_file_segment().unwrap_or(u32::MAX));
        });
        if let Some(store) = &self.chunks {
            // A chunk cut during this scan lands in the active segment, which is never removed.
            if let Err(e) = store.remove_segments_before(min_segment) {
                tracing::warn!(error = %e, "removing old head chunk files failed; retried at the next truncation");
            }
        }
        let mut removed = Vec::new();
        for s in empty {
            // Dekker-style handshake with `Appender::track`: flag first, then look
            // for pending appenders; an appender increments, then looks at the flag.
            s.removed.store(true, Ordering::SeqCst);
            let gone = self.series.remove_if(&s, || {
                s.pending_appenders.load(Ordering::SeqCst) == 0 && s.data.lock().is_empty()
            });
            if gone {
                removed.push(s);
            } else {
                s.removed.store(false, Ordering::SeqCst);
            }
        }
        self.postings
            .delete_many(removed.iter().map(|s| (s.series_ref.get(), &s.labels)));
        let n = removed.len();
        drop(removed);
        self.symbols.sweep();
        // Nothing before `t` is left (chunks never cross it), so the head starts there at the earliest.
        let new_min = if new_min == i64::MAX {
            new_min
        } else {
            new_min.max(t)
        };
        self.min_t.store(new_min, Ordering::Release);
        n
    }

    /// Refuses samples before `t` (ms) from now on: data up to it is in blocks.
    /// Waits for commits in flight to finish applying; commits after it see
    /// the new bound before writing the WAL (see `commit_gate`).
    pub(crate) fn set_min_valid(&self, t: i64) {
        let _exclusive = self.commit_gate.write();
        self.min_valid_t.fetch_max(t, Ordering::AcqRel);
    }

    /// The refs of every head series.
    pub(crate) fn series_refs(&self) -> Vec<SeriesRef> {
        let mut out = Vec::new();
        self.series.for_each(|s| out.push(s.series_ref));
        out
    }

    /// True if the head has series `r`.
    pub(crate) fn has_series(&self, r: SeriesRef) -> bool {
        self.series.get(r).is_some()
    }

    /// Series `r`'s data in `[mint, maxt)` (ms, end exclusive) as block chunks:
    /// chunks inside the range are copied as they are; chunks reaching outside
    /// it (only out-of-order ones can) are cut down and re-encoded. Out-of-order
    /// chunks come first so that in-order data wins equal timestamps in the
    /// block's merge (newer input wins there), as it does in the querier.
    pub(crate) fn block_series(
        &self,
        r: SeriesRef,
        mint: i64,
        maxt: i64,
    ) -> Option<(Labels, Vec<ChunkData>)> {
        let mut snaps = Vec::new();
        let labels = self
            .series_chunks(r.get(), mint, maxt.saturating_sub(1), &mut snaps)?
            .labels()
            .clone();
        snaps.sort_by_key(|c| !c.out_of_order);
        let mut out = Vec::with_capacity(snaps.len());
        for c in snaps {
            if c.min_t >= mint && c.max_t < maxt {
                out.push(ChunkData {
                    min_time: c.min_t,
                    max_time: c.max_t,
                    encoding: Encoding::Xor,
                    data: c.bytes.as_slice().to_vec(),
                });
                continue;
            }
            let mut it = XorIterator::new(c.bytes.as_slice());
            let mut kept = Vec::new();
            while it.next() {
                let (t, v) = it.at();
                if t >= mint && t < maxt {
                    kept.push((t, v));
                }
            }
            out.extend(ChunkData::from_samples(&kept));
        }
        Some((labels, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wal::{OsIo, SegmentNo, WalWriter};
    use crate::FsyncPolicy;

    fn head() -> Arc<Head> {
        let opts = HeadOptions {
            chunk_range_ms: 1000,
            ooo_window_ms: 0,
            limits: LabelLimits::default(),
        };
        Arc::new(Head::new(opts, None))
    }

    fn labels(v: &str) -> Labels {
        Labels::from_pairs([("a", v)]).unwrap()
    }

    #[test]
    fn truncation_drops_empty_series_but_not_one_an_appender_holds() {
        let dir = tempfile::tempdir().unwrap();
        let wal =
            Arc::new(WalWriter::open(dir.path(), Arc::new(OsIo), SegmentNo(0), 1 << 20).unwrap());
        let head = head();
        let mut app = Appender::new(Arc::clone(&head), Arc::clone(&wal), FsyncPolicy::Always);
        app.append(&labels("old"), 10, 1.0).unwrap();
        app.append(&labels("held"), 10, 1.0).unwrap();
        app.commit().unwrap();

        // An open batch pins "held" while truncation empties it.
        let mut pinned = Appender::new(Arc::clone(&head), Arc::clone(&wal), FsyncPolicy::Always);
        let held_ref = pinned.append(&labels("held"), 2500, 2.0).unwrap();
        assert_eq!(
            head.truncate_before(2000),
            1,
            "only the unpinned empty series goes"
        );
        assert!(head.get(held_ref).is_some());
        assert_eq!(head.num_series(), 1);
        pinned.commit().unwrap();
        let mut out = Vec::new();
        assert_eq!(
            head.series_chunks(held_ref.get(), i64::MIN, i64::MAX, &mut out)
                .map(|l| l.labels().clone()),
            Some(labels("held"))
        );
        assert_eq!(out.len(), 1);

        // Samples before the truncation point are refused from now on.
        let mut late = Appender::new(Arc::clone(&head), wal, FsyncPolicy::Always);
        assert_eq!(
            late.append(&labels("new"), 1999, 0.0),
            Err(AppendError::OutOfBounds {
                t: 1999,
                min_valid: 2000
            })
        );
        // A truncated-away series can be created again, under a new ref.
        let again = late.append(&labels("old"), 2600, 0.0).unwrap();
        assert!(again.get() > held_ref.get());
    }

    #[test]
    fn label_limits() {
        let limits = LabelLimits {
            max_labels: Some(1),
            max_name_bytes: Some(3),
            max_value_bytes: Some(2),
        };
        assert_eq!(
            limits.check(&Labels::empty()),
            Err(AppendError::EmptyLabels)
        );
        assert!(matches!(
            limits.check(&Labels::from_pairs([("a", "1"), ("b", "2")]).unwrap()),
            Err(AppendError::TooManyLabels { count: 2, limit: 1 })
        ));
        assert!(matches!(
            limits.check(&Labels::from_pairs([("abcd", "1")]).unwrap()),
            Err(AppendError::LabelTooLong {
                what: "name",
                len: 4,
                ..
            })
        ));
        assert!(matches!(
            limits.check(&Labels::from_pairs([("a", "123")]).unwrap()),
            Err(AppendError::LabelTooLong {
                what: "value",
                len: 3,
                ..
            })
        ));
        assert_eq!(
            limits.check(&Labels::from_pairs([("abc", "12")]).unwrap()),
            Ok(())
        );
    }
}
