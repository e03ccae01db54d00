//! The appender: a batch of samples that becomes durable and visible together.
//!
//! `append` validates each sample against the series' newest committed sample
//! and the batch's own earlier samples, mostly without locks (the series'
//! newest timestamp is an atomic), and buffers it. `commit` then, in this
//! order: (0) takes the head's commit gate (shared) and refuses the whole
//! batch if a head truncation raised the oldest appendable time past one of
//! its samples since `append` checked it; (1) encodes the samples and, under
//! the WAL's write lock, the series records of series no WAL record names yet,
//! and writes them in one write; (2) waits for the fsync the policy asks for;
//! (3) applies the samples to the head, taking each series' lock once per run
//! of its samples, and only then releases the gate. Do not swap (1) and (3): a
//! sample visible to queries must already be in the WAL, or a crash would
//! un-happen a read. Do not release the gate before (3): a truncation raising
//! the bound in between would write its block without the batch's samples and
//! then drop them from the head, losing acknowledged data. Logging the series record lazily under the WAL lock
//! guarantees it precedes every sample record naming it, even when another
//! appender created the series (Prometheus `headAppender.Commit` has the same
//! WAL-then-memory order).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::series::{Applied, MemSeries};
use super::stripe::IntMap;
use super::{Head, SeriesRef};
use crate::error::{AppendError, Error};
use crate::labels::Labels;
use crate::wal::{encode_samples_frames, encode_series_frames, FsyncPolicy, RefSample, WalWriter};

/// A series the batch touches, and the batch's newest sample for it.
struct Tracked {
    series: Arc<MemSeries>,
    /// Newest in-order timestamp (ms) in this batch, `i64::MIN` if none.
    last_t: i64,
    last_v: u64,
}

/// A batch of samples. Obtain one from [`Db::appender`](crate::Db::appender),
/// `append` samples, then `commit` (durable per the fsync policy, then visible
/// to queries, all together) or `rollback`. Dropping it is a rollback.
/// One appender is used by one thread; use one appender per thread.
pub struct Appender {
    head: Arc<Head>,
    wal: Arc<WalWriter>,
    fsync: FsyncPolicy,
    buf: Scratch,
}

/// An appender's buffers, recycled through the head's pool so a batch does
/// not regrow (and rehash) them from empty: with 10k series per batch that
/// regrowth cost more than the appends.
#[derive(Default)]
pub(crate) struct Scratch {
    /// Distinct series of the batch; `pending` indexes into it.
    tracked: Vec<Tracked>,
    /// Series ref → index into `tracked`.
    index: IntMap<u32, u32>,
    /// (index into `tracked`, t, v), in append order.
    pending: Vec<(u32, i64, f64)>,
    samples: Vec<RefSample>,
    frames: Vec<u8>,
}

impl Scratch {
    /// Empties the buffers, keeping their capacity; false if they grew too
    /// large to be worth keeping in the pool.
    pub(crate) fn reset(&mut self) -> bool {
        self.tracked.clear();
        self.index.clear();
        self.pending.clear();
        self.samples.clear();
        self.frames.clear();
        self.pending.capacity() <= MAX_POOLED_SAMPLES
    }
}

/// Buffers of batches with more samples than this are freed, not pooled:
/// remote-write batches hold a few thousand samples, and keeping a rare huge
/// batch's buffers would cost ~100 bytes per sample of it for good.
const MAX_POOLED_SAMPLES: usize = 32 * 1024;

impl Appender {
    pub(crate) fn new(head: Arc<Head>, wal: Arc<WalWriter>, fsync: FsyncPolicy) -> Self {
        let buf = head.take_scratch();
        Appender {
            head,
            wal,
            fsync,
            buf,
        }
    }

    /// Adds a sample (`t` in ms since the epoch) for the series `labels`,
    /// creating the series if it is new. Returns the series' ref for
    /// [`append_ref`](Self::append_ref). An error refuses this sample only.
    pub fn append(&mut self, labels: &Labels, t: i64, v: f64) -> Result<SeriesRef, AppendError> {
        loop {
            let series = self.head.get_or_create(labels)?;
            if let Some(idx) = self.track(series) {
                self.add(idx, t, v)?;
                return Ok(self.series_ref(idx));
            }
            // Garbage collection removed the series between lookup and tracking; look again.
        }
    }

    /// Adds a sample for a series known by ref: the fast path for callers that
    /// remember refs. Fails with [`AppendError::UnknownSeriesRef`] if the head
    /// no longer has the series (it was truncated away); use `append` then.
    pub fn append_ref(&mut self, r: SeriesRef, t: i64, v: f64) -> Result<(), AppendError> {
        let idx = match self.buf.index.get(&r.get()) {
            Some(&idx) => idx,
            None => {
                let series = self.head.get(r).ok_or(AppendError::UnknownSeriesRef(r))?;
                self.track(series).ok_or(AppendError::UnknownSeriesRef(r))?
            }
        };
        self.add(idx, t, v)
    }

    fn series_ref(&self, idx: u32) -> SeriesRef {
        self.buf
            .tracked
            .get(idx as usize)
            .map_or(SeriesRef(0), |tr| tr.series.series_ref)
    }

    /// Index of `series` in the batch, registering it (and pinning it against
    /// garbage collection) on first use. `None` if it was just garbage collected.
    fn track(&mut self, series: Arc<MemSeries>) -> Option<u32> {
        if let Some(&idx) = self.buf.index.get(&series.series_ref.get()) {
            return Some(idx);
        }
        // Handshake with `Head::truncate_before`: announce, then check the flag.
        series.pending_appenders.fetch_add(1, Ordering::SeqCst);
        if series.removed.load(Ordering::SeqCst) {
            series.pending_appenders.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        let idx = u32::try_from(self.buf.tracked.len()).unwrap_or(u32::MAX);
        self.buf.index.insert(series.series_ref.get(), idx);
        self.buf.tracked.push(Tracked {
            series,
            last_t: i64::MIN,
            last_v: 0,
        });
        Some(idx)
    }

    /// Validates and buffers one sample for tracked series `idx`.
    fn add(&mut self, idx: u32, t: i64, v: f64) -> Result<(), AppendError> {
        let bounds = self.head.bounds();
        let Some(tr) = self.buf.tracked.get_mut(idx as usize) else {
            return Err(AppendError::UnknownSeriesRef(SeriesRef(0)));
        };
        if t < bounds.lower {
            return Err(AppendError::OutOfBounds {
                t,
                min_valid: bounds.lower,
            });
        }
        let committed = tr.series.max_time();
        let mut newest = tr.last_t.max(committed);
        // The common case: the series' next sample, newer than anything stored or batched.
        if t > newest && t >= bounds.in_order_min {
            tr.last_t = t;
            tr.last_v = v.to_bits();
            self.buf.pending.push((idx, t, v));
            return Ok(());
        }
        if t == newest {
            let stored = if tr.last_t == t {
                Some(tr.last_v)
            } else {
                // Re-read under the lock: a concurrent commit may have moved past `t`.
                let (last_t, bits) = tr.series.last_value_bits();
                newest = newest.max(last_t);
                (last_t == t).then_some(bits)
            };
            if let Some(bits) = stored {
                return if bits == v.to_bits() {
                    Ok(())
                } else {
                    Err(AppendError::DuplicateSampleForTimestamp { t })
                };
            }
        }
        // Older than the series' newest sample, or too far behind the head.
        match bounds.ooo_min {
            Some(min) if t >= min => {
                // Rare path, so the lock is fine: a late sample already buffered.
                if let Some(bits) = tr.series.buffered_ooo_bits(t) {
                    return if bits == v.to_bits() {
                        Ok(())
                    } else {
                        Err(AppendError::DuplicateSampleForTimestamp { t })
                    };
                }
            }
            Some(min) => return Err(AppendError::TooOldSample { t, min_valid: min }),
            None if t < newest => return Err(AppendError::OutOfOrder { t, newest }),
            None => {
                return Err(AppendError::OutOfBounds {
                    t,
                    min_valid: bounds.in_order_min,
                })
            }
        }
        self.buf.pending.push((idx, t, v));
        Ok(())
    }

    /// Number of samples buffered.
    pub fn len(&self) -> usize {
        self.buf.pending.len()
    }

    /// True if no sample is buffered.
    pub fn is_empty(&self) -> bool {
        self.buf.pending.is_empty()
    }

    /// Makes the batch durable (WAL, fsynced per the policy) and then visible
    /// to queries. On error nothing was applied to the head; whether the WAL
    /// holds the batch is unknown (it is poisoned after a failed write or fsync).
    pub fn commit(mut self) -> Result<(), Error> {
        if self.buf.pending.is_empty() {
            return Ok(());
        }
        let head = Arc::clone(&self.head);
        let _gate = head.commit_guard();
        if head.is_closed() {
            return Err(Error::Closed);
        }
        self.refuse_out_of_bounds()?;
        self.log()?;
        self.apply();
        Ok(())
    }

    /// Step 0 of commit, under the gate: samples that a head truncation put
    /// out of bounds after `append` accepted them would be dropped by the
    /// truncation (or at apply) after the WAL has them and the caller was told
    /// they are stored; the batch is refused before anything is written instead.
    fn refuse_out_of_bounds(&self) -> Result<(), Error> {
        let lower = self.head.bounds().lower;
        let samples = self
            .buf
            .pending
            .iter()
            .filter(|&&(_, t, _)| t < lower)
            .count();
        if samples > 0 {
            return Err(Error::OutOfBoundsAtCommit {
                samples,
                min_valid: lower,
            });
        }
        Ok(())
    }

    /// Discards the batch.
    pub fn rollback(self) {
        drop(self);
    }

    /// Step 1 and 2 of commit: the WAL.
    fn log(&mut self) -> Result<(), Error> {
        self.buf.samples.clear();
        self.buf
            .samples
            .extend(self.buf.pending.iter().filter_map(|&(idx, t, v)| {
                let series = self.buf.tracked.get(idx as usize)?.series.series_ref;
                Some(RefSample { series, t, v })
            }));
        self.buf.frames.clear();
        encode_samples_frames(&mut self.buf.frames, &self.buf.samples);
        let tracked = &self.buf.tracked;
        let samples = &self.buf.frames;
        let pos = self.wal.log_with(|buf| {
            // Under the WAL lock: the first commit to use a series logs it. The
            // lock orders these flags, so a load (not a locked swap) is enough for
            // the common case, a series logged long ago.
            let new = tracked.iter().filter(|tr| {
                let logged = tr.series.wal_logged.load(Ordering::Acquire);
                if !logged {
                    tr.series.wal_logged.store(true, Ordering::Release);
                }
                !logged
            });
            let new: Vec<(SeriesRef, &Labels)> = new
                .map(|tr| (tr.series.series_ref, &tr.series.labels))
                .collect();
            encode_series_frames(buf, new.into_iter());
            buf.extend_from_slice(samples);
        })?;
        if self.fsync == FsyncPolicy::Always {
            self.wal.wait_synced(pos)?;
        }
        Ok(())
    }

    /// Step 3 of commit: the head, one series lock per run of samples.
    fn apply(&mut self) {
        let bounds = self.head.bounds();
        let mut dropped = 0u64;
        let mut in_head_min = i64::MAX;
        let mut in_head_max = i64::MIN;
        let mut i = 0;
        while let Some(&(idx, _, _)) = self.buf.pending.get(i) {
            let Some(tr) = self.buf.tracked.get(idx as usize) else {
                break;
            };
            let mut data = tr.series.data.lock();
            while let Some(&(j, t, v)) = self.buf.pending.get(i) {
                if j != idx {
                    break;
                }
                match self.head.apply_locked(&tr.series, &mut data, t, v, &bounds) {
                    Ok(Applied::InOrder | Applied::OutOfOrder) => {
                        in_head_min = in_head_min.min(t);
                        in_head_max = in_head_max.max(t);
                    }
                    Ok(Applied::Duplicate) => {}
                    Err(_) => dropped += 1,
                }
                i += 1;
            }
        }
        self.head.observe_range(in_head_min, in_head_max);
        if dropped > 0 {
            self.head
                .dropped_at_commit
                .fetch_add(dropped, Ordering::Relaxed);
            tracing::debug!(
                dropped,
                "samples invalidated by a concurrent commit were dropped"
            );
        }
    }
}

impl Drop for Appender {
    fn drop(&mut self) {
        for tr in &self.buf.tracked {
            tr.series.pending_appenders.fetch_sub(1, Ordering::SeqCst);
        }
        self.head.return_scratch(std::mem::take(&mut self.buf));
    }
}
