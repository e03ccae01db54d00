//! `rate`, `increase` and `delta` over plain windows, one series at a time in
//! two passes, for the queries dashboards run most (`sum(rate(x[5m]))`).
//!
//! Pass 1 slides the step windows over the samples and writes what each
//! window of two or more samples contributes to the extrapolation (a
//! [`WindowShape`]) into columns of floats; counter resets are found once per
//! sample as the windows advance, and only a window holding one pays for
//! Prometheus's in-order reset sum. Pass 2 runs
//! [`rate::extrapolate_shape`] over the columns: a loop without branches
//! that the compiler vectorizes, about six divisions per window several
//! lanes at a time. On x86-64 it is compiled twice, for AVX2 (chosen at run
//! time) and for the baseline.
//!
//! A regularly sampled series (the common case: a fixed scrape interval that
//! divides the step) skips both passes for its [`Interior`] windows, those
//! wholly inside the series: they all share one shape, so pass 2's timing
//! work is done once and each window only reads its first and last sample.
//!
//! Invariant: every output is bit-for-bit the scalar kernel's. Vector
//! division, multiplication, addition and comparison are the same IEEE
//! operations as their scalar forms, the operations keep the kernel's order,
//! and nothing enables FMA contraction.

use super::range_fn::output_capacity;
use super::selectors::Windows;
use super::Grid;
use crate::functions::rate::{self, Kind, SharedShape, WindowShape};
use crate::value::FPoint;

/// The floats kept per window: the fields of a [`WindowShape`] but the
/// range, which is the same for all.
const COLUMNS: usize = 6;

/// One series' windows as columns, carved out of the caller's scratch buffer.
/// `result` holds the reset-corrected increase in pass 1 and the output in pass 2.
struct Columns<'s> {
    to_start_ms: &'s mut [f64],
    to_end_ms: &'s mut [f64],
    sampled_ms: &'s mut [f64],
    intervals: &'s mut [f64],
    first: &'s mut [f64],
    result: &'s mut [f64],
}

impl<'s> Columns<'s> {
    /// Room for `windows` windows. The buffer only grows: each slot is
    /// written before it is read, so old contents need no clearing.
    fn new(scratch: &'s mut Vec<f64>, windows: usize) -> Self {
        let need = windows.saturating_mul(COLUMNS);
        if scratch.len() < need {
            scratch.resize(need, 0.0);
        }
        let (to_start_ms, rest) = scratch.split_at_mut(windows);
        let (to_end_ms, rest) = rest.split_at_mut(windows);
        let (sampled_ms, rest) = rest.split_at_mut(windows);
        let (intervals, rest) = rest.split_at_mut(windows);
        let (first, rest) = rest.split_at_mut(windows);
        let (result, _) = rest.split_at_mut(windows);
        Columns {
            to_start_ms,
            to_end_ms,
            sampled_ms,
            intervals,
            first,
            result,
        }
    }

    /// The columns from window `k` on.
    fn from(&mut self, k: usize) -> Columns<'_> {
        Columns {
            to_start_ms: self.to_start_ms.get_mut(k..).unwrap_or_default(),
            to_end_ms: self.to_end_ms.get_mut(k..).unwrap_or_default(),
            sampled_ms: self.sampled_ms.get_mut(k..).unwrap_or_default(),
            intervals: self.intervals.get_mut(k..).unwrap_or_default(),
            first: self.first.get_mut(k..).unwrap_or_default(),
            result: self.result.get_mut(k..).unwrap_or_default(),
        }
    }

    /// Stores window `k` (below the `windows` the columns were made for); the
    /// range is passed to pass 2 on its own.
    #[cfg(test)]
    fn set(&mut self, k: usize, w: WindowShape) {
        self.to_start_ms[k] = w.to_start_ms;
        self.to_end_ms[k] = w.to_end_ms;
        self.sampled_ms[k] = w.sampled_ms;
        self.intervals[k] = w.intervals;
        self.first[k] = w.first;
        self.result[k] = w.result;
    }
}

/// Timestamps, offsets and ranges of at most this magnitude (about 73
/// million years in ms) keep every sum or difference of three of them inside
/// `i64`, so the batch can use plain arithmetic where the kernel saturates.
const PLAIN_ARITHMETIC_MAX: i64 = 1 << 61;

/// Whether no time arithmetic of the batch can overflow for this grid and
/// window placement: then plain and saturating arithmetic agree.
///
/// The samples' own times need no check: the batch only subtracts the times
/// of samples a window admits, which lie in that window's `(start, end]`, so
/// each difference is at most the range, and `start` and `end` are sums of
/// three checked values. (Reading the series' last sample here cost a cache
/// miss per series, long before any window needs it.)
fn fits_plain_arithmetic(grid: Grid, win: &Windows) -> bool {
    let small = |v: i64| v.checked_abs().is_some_and(|a| a <= PLAIN_ARITHMETIC_MAX);
    [grid.start, grid.end, grid.step, win.offset, win.range]
        .into_iter()
        .chain(win.at)
        .all(small)
}

/// Appends to `out` the output points of `rate`/`increase`/`delta` (`kind`)
/// over one series' time-ordered samples, with plain windows; adds each
/// step's window size to `window_samples`. The same points, bit for bit, as
/// calling the kernel on every window; `false` (nothing appended or counted)
/// for times so far from zero that the kernel's saturating arithmetic could
/// matter, or a `window_samples` shorter than the grid.
pub(crate) fn extrapolated_series(
    grid: Grid,
    win: &Windows,
    kind: Kind,
    points: &[FPoint],
    scratch: &mut Vec<f64>,
    window_samples: &mut [usize],
    out: &mut Vec<FPoint>,
) -> bool {
    let Some(window_samples) = window_samples.get_mut(..grid.len()) else {
        return false;
    };
    if !fits_plain_arithmetic(grid, win) {
        return false;
    }
    // Without `@`, every window of two or more samples holds a sample
    // within `range` of its step, so `output_capacity` bounds the windows
    // pass 1 stores; with `@`, every step sees the same window.
    let capacity = match win.at {
        Some(_) => grid.len(),
        None => output_capacity(grid, points.len(), win.range),
    };
    // Pass 1 writes step times into room made at the end of `out`.
    let base = out.len();
    out.resize(base + capacity, FPoint { t: 0, f: 0.0 });
    let room = out.get_mut(base..).unwrap_or_default();
    // One window per step at most (with `@`, every step sees the same
    // window); the scratch buffer grows to that once and is reused.
    let mut cols = Columns::new(scratch, grid.len());
    let batch = Batch {
        grid,
        win,
        kind,
        points,
        // Every window spans exactly the range: one division per series.
        range_seconds: win.range as f64 / 1000.0,
    };
    let n = match Interior::of(&batch) {
        Some(interior) => interior.extrapolate(&batch, window_samples, &mut cols, room),
        None => any_series(&batch, window_samples, &mut cols, room),
    };
    out.truncate(base + n);
    true
}

/// One series' batch: what every step of it shares.
struct Batch<'a> {
    grid: Grid,
    win: &'a Windows,
    kind: Kind,
    /// The series' samples, time-ordered.
    points: &'a [FPoint],
    /// The range, s.
    range_seconds: f64,
}

/// The two passes over every window of any series, into `room`; returns
/// how many windows gave a point.
fn any_series(
    b: &Batch<'_>,
    window_samples: &mut [usize],
    cols: &mut Columns<'_>,
    room: &mut [FPoint],
) -> usize {
    let Batch {
        grid, kind, points, ..
    } = *b;
    // One loop per case, so that the common ones carry no reset state.
    let n = if !kind.is_counter() {
        collect::<false>(b, Start::default(), window_samples, cols, room, |_, _| None).0
    } else {
        // Resets are rare: pass 1 notes whether any sample it admits to a
        // window is below the one before while assuming there are none
        // (every window adds the kernel's empty sum, `-0.0`), and only then
        // runs again with the in-order reset sums, counting nothing twice.
        let (n, saw_reset) =
            collect::<true>(b, Start::default(), window_samples, cols, room, |_, _| {
                Some(-0.0)
            });
        if saw_reset {
            let mut resets = Resets::default();
            let mut recount = vec![0; grid.len()];
            collect::<false>(b, Start::default(), &mut recount, cols, room, |lo, hi| {
                Some(resets.correction(points, lo, hi))
            })
            .0
        } else {
            n
        }
    };
    extrapolate_columns(kind, cols, n, b.range_seconds);
    for (p, f) in room.iter_mut().zip(cols.result.iter()).take(n) {
        p.f = *f;
    }
    n
}

/// The windows of a regularly sampled series that lie wholly inside its
/// samples: each holds as many samples as the others at the same distances
/// from its edges, so all share one [`SharedShape`], and the samples a
/// window holds follow from its step without sliding over them.
///
/// Scrapes land at a fixed interval (Prometheus even aligns the jitter
/// away), and a dashboard's step is usually a multiple of it: this is the
/// common case, and it skips pass 1's per-window bookkeeping and pass 2's
/// seven divisions (a counter far from zero needs none). Windows near the
/// ends of the series take the usual path.
#[derive(Debug, PartialEq)]
struct Interior {
    /// Steps whose windows are interior (a non-empty range).
    steps: std::ops::Range<usize>,
    /// The first sample of the first interior window.
    first: usize,
    /// Samples in each window (two or more).
    count: usize,
    /// Samples from one window's first to the next one's.
    stride: usize,
}

impl Interior {
    /// The interior windows of `points` over `grid`, if the series is
    /// sampled at a fixed interval that divides the step, has no counter
    /// reset (for counters), and any window is interior. Reads every
    /// timestamp once.
    fn of(b: &Batch<'_>) -> Option<Interior> {
        let Batch {
            grid,
            win,
            kind,
            points,
            ..
        } = *b;
        if win.at.is_some() {
            return None;
        }
        let (first, second) = (points.first()?, points.get(1)?);
        let interval = second.t.checked_sub(first.t)?;
        if interval <= 0 || grid.step % interval != 0 {
            return None;
        }
        let (mut irregular, mut reset) = (false, false);
        for (a, b) in points.iter().zip(points.get(1..)?) {
            irregular |= b.t.wrapping_sub(a.t) != interval;
            reset |= b.f < a.f;
        }
        if irregular || (reset && kind.is_counter()) {
            return None;
        }
        // The index of the first sample after time `x` were the samples
        // unbounded on both sides (`None` past `i64`, as for times so far
        // apart that no window could be interior anyway).
        let after = |x: i64| x.checked_sub(first.t)?.div_euclid(interval).checked_add(1);
        let end = grid.start - win.offset;
        let (lo, hi) = (after(end - win.range)?, after(end)?);
        let stride = grid.step / interval;
        // Window `j` holds samples `lo + j * stride .. hi + j * stride` when
        // they exist: from step `from` on (none before the first sample) to
        // step `to` (none past the last).
        let from = if lo >= 0 {
            0
        } else {
            (stride - 1).checked_sub(lo)? / stride
        };
        let samples = i64::try_from(points.len()).ok()?;
        if hi > samples {
            return None;
        }
        let to = ((samples - hi) / stride + 1).min(i64::try_from(grid.len()).ok()?);
        if hi - lo < 2 || from >= to {
            return None;
        }
        Some(Interior {
            steps: usize::try_from(from).ok()?..usize::try_from(to).ok()?,
            first: usize::try_from(lo.checked_add(from.checked_mul(stride)?)?).ok()?,
            count: usize::try_from(hi - lo).ok()?,
            stride: usize::try_from(stride).ok()?,
        })
    }

    /// Both passes for the windows before and after the interior, the
    /// shared shape for those inside it; the points in step order into
    /// `room`, returning how many.
    fn extrapolate(
        &self,
        b: &Batch<'_>,
        window_samples: &mut [usize],
        cols: &mut Columns<'_>,
        room: &mut [FPoint],
    ) -> usize {
        // No resets (checked): a counter's windows add the empty sum.
        let correction = b.kind.is_counter().then_some(-0.0);
        let (before, rest) =
            window_samples.split_at_mut(self.steps.start.min(window_samples.len()));
        let (inside, after) = rest.split_at_mut(self.steps.len().min(rest.len()));
        let (n_before, _) =
            collect::<false>(b, Start::default(), before, cols, room, |_, _| correction);
        let (room_before, room) = room.split_at_mut(n_before.min(room.len()));
        let (room_inside, room_after) = room.split_at_mut(inside.len().min(room.len()));
        let n_inside = self.fill(b, inside, room_inside, correction);
        // The sample the first window after the interior would start at.
        let next = self.first + self.steps.len() * self.stride;
        let (n_after, _) = collect::<false>(
            b,
            Start {
                step: self.steps.end,
                sample: next.min(b.points.len()),
            },
            after,
            &mut cols.from(n_before),
            room_after,
            |_, _| correction,
        );
        extrapolate_columns(b.kind, cols, n_before + n_after, b.range_seconds);
        let (result_before, result_after) = cols.result.split_at(n_before);
        for (p, f) in room_before.iter_mut().zip(result_before) {
            p.f = *f;
        }
        for (p, f) in room_after.iter_mut().zip(result_after).take(n_after) {
            p.f = *f;
        }
        n_before + n_inside + n_after
    }

    /// The interior windows' points into `room`, their sizes into
    /// `window_samples` (both one per interior step); returns how many.
    fn fill(
        &self,
        b: &Batch<'_>,
        window_samples: &mut [usize],
        room: &mut [FPoint],
        correction: Option<f64>,
    ) -> usize {
        let Batch {
            grid,
            win,
            kind,
            points,
            range_seconds,
        } = *b;
        let step_t = grid.t(self.steps.start);
        let end = step_t - win.offset;
        let (Some(first), Some(last)) = (
            points.get(self.first),
            points.get(self.first + self.count - 1),
        ) else {
            return 0;
        };
        // The same conversions as pass 1 makes per window.
        let shape = SharedShape::new(
            kind,
            (first.t - (end - win.range)) as f64,
            (end - last.t) as f64,
            (last.t - first.t) as f64,
            (self.count - 1) as i64 as f64,
            range_seconds,
        );
        let n = room.len().min(window_samples.len());
        let (room, window_samples) = (&mut room[..n], &mut window_samples[..n]);
        for samples in window_samples.iter_mut() {
            *samples += self.count;
        }
        let firsts = points.get(self.first..).unwrap_or_default();
        let lasts = points
            .get(self.first + self.count - 1..)
            .unwrap_or_default();
        // Common case first: one sample per step, so the windows' first
        // samples are consecutive, and so are their last ones.
        if let (1, Some(firsts), Some(lasts)) = (self.stride, firsts.get(..n), lasts.get(..n)) {
            let run = DenseRun {
                shape: &shape,
                correction,
                firsts,
                lasts,
                step_t,
                step: grid.step,
            };
            fill_dense(&run, room);
            return n;
        }
        let mut written = 0;
        for (p, (first, last)) in room.iter_mut().zip(
            firsts
                .iter()
                .step_by(self.stride)
                .zip(lasts.iter().step_by(self.stride)),
        ) {
            let mut result = last.f - first.f;
            if let Some(c) = correction {
                result += c;
            }
            p.t = step_t + written as i64 * grid.step;
            p.f = shape.extrapolate(first.f, result);
            written += 1;
        }
        written
    }
}

/// Interior windows one step apart: window `k` spans `firsts[k]` to
/// `lasts[k]` and belongs to the step `step_t + k * step`.
struct DenseRun<'a> {
    shape: &'a SharedShape,
    /// What a counter adds to each window's difference (`None` for gauges).
    correction: Option<f64>,
    firsts: &'a [FPoint],
    lasts: &'a [FPoint],
    step_t: i64,
    step: i64,
}

/// The points of a dense run into `room` (as many as both hold). The widest
/// vector code the CPU runs.
fn fill_dense(run: &DenseRun<'_>, room: &mut [FPoint]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        unsafe { fill_dense_avx2(run, room) };
        return;
    }
    fill_dense_baseline(run, room);
}

/// [`fill_dense`] compiled for AVX2 (four lanes); FMA stays off.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn fill_dense_avx2(run: &DenseRun<'_>, room: &mut [FPoint]) {
    fill_dense_loop(run, room);
}

/// [`fill_dense`] for any CPU.
fn fill_dense_baseline(run: &DenseRun<'_>, room: &mut [FPoint]) {
    fill_dense_loop(run, room);
}

/// Windows per block of [`fill_dense_loop`].
const DENSE_BLOCK: usize = 16;

/// Blocks of windows, each first computed as if no counter's zero clamp
/// applied, in a loop without branches or divisions that vectorizes. A
/// block where a clamp might apply ([`SharedShape::surely_unclamped`] is
/// false: a counter near zero, usually the first windows of a series that
/// starts inside the range) is then computed again window by window.
#[inline(always)]
fn fill_dense_loop(run: &DenseRun<'_>, room: &mut [FPoint]) {
    let n = room.len().min(run.firsts.len()).min(run.lasts.len());
    let (firsts, lasts, room) = (&run.firsts[..n], &run.lasts[..n], &mut room[..n]);
    let shape = run.shape;
    let mut t = run.step_t;
    let blocks = room
        .chunks_mut(DENSE_BLOCK)
        .zip(firsts.chunks(DENSE_BLOCK).zip(lasts.chunks(DENSE_BLOCK)));
    for (room, (firsts, lasts)) in blocks {
        let m = room.len().min(firsts.len()).min(lasts.len());
        let (room, firsts, lasts) = (&mut room[..m], &firsts[..m], &lasts[..m]);
        // Step times by addition, not `k * step`: AVX2 has no 64-bit multiply.
        let Some(c) = run.correction else {
            for k in 0..m {
                room[k] = FPoint {
                    t,
                    f: shape.unclamped(lasts[k].f - firsts[k].f),
                };
                t += run.step;
            }
            continue;
        };
        let mut maybe_clamped = 0u64;
        for k in 0..m {
            let first = firsts[k].f;
            let result = (lasts[k].f - first) + c;
            maybe_clamped |= u64::from(!shape.surely_unclamped(first, result));
            room[k] = FPoint {
                t,
                f: shape.unclamped(result),
            };
            t += run.step;
        }
        if maybe_clamped != 0 {
            for k in 0..m {
                let first = firsts[k].f;
                room[k].f = shape.extrapolate(first, (lasts[k].f - first) + c);
            }
        }
    }
}

/// Whether the second of two consecutive samples is below the first: a
/// counter reset (never with NaN).
fn is_reset(pair: &[FPoint]) -> bool {
    match pair {
        [prev, cur] => cur.f < prev.f,
        _ => false,
    }
}

/// Reset tracking for a series that has resets: each sample is compared
/// with its predecessor once, as the windows advance over it.
struct Resets {
    /// Samples below this index were compared with their predecessor.
    scanned: usize,
    /// The last of them that was a reset (0: none yet).
    last_reset: usize,
}

impl Default for Resets {
    fn default() -> Self {
        Resets {
            scanned: 1,
            last_reset: 0,
        }
    }
}

impl Resets {
    /// The reset correction of the window `points[lo..hi]`, `hi` not
    /// decreasing between calls: the kernel's in-order sum if the window
    /// holds a reset, else its empty sum.
    fn correction(&mut self, points: &[FPoint], lo: usize, hi: usize) -> f64 {
        if hi > self.scanned {
            let admitted = points.get(self.scanned - 1..hi).unwrap_or(&[]);
            if let Some(j) = admitted.windows(2).rposition(is_reset) {
                self.last_reset = self.scanned + j;
            }
            self.scanned = hi;
        }
        if self.last_reset > lo {
            rate::reset_correction(points.get(lo..hi).unwrap_or(&[]))
        } else {
            -0.0
        }
    }
}

/// Where [`collect`] starts: a step, and a sample at or before the first
/// one that step's window admits.
#[derive(Clone, Copy, Default)]
struct Start {
    step: usize,
    sample: usize,
}

/// Pass 1: slides the windows over `points`, counts their samples into
/// `window_samples` (one entry per step) and stores each window of two or
/// more samples: its step time into `out`, its extrapolation inputs into
/// `cols`; `correction(lo, hi)` is what the kernel adds to the increase of
/// `points[lo..hi]` (`None`: nothing, as for gauges). Returns how many
/// windows were stored and, with `TRACK_RESETS`, whether a sample admitted
/// to a window is below the sample admitted before it (every pair of
/// consecutive samples in one window is compared).
///
/// Written with local indices and slices rather than `push` and `self`
/// fields, so the column pointers and the window count stay in registers.
///
/// `from` gives the step of `window_samples[0]` and a sample index at or
/// before the first one the first window admits (0 for a whole series).
#[inline(always)]
fn collect<const TRACK_RESETS: bool>(
    b: &Batch<'_>,
    from: Start,
    window_samples: &mut [usize],
    cols: &mut Columns<'_>,
    out: &mut [FPoint],
    mut correction: impl FnMut(usize, usize) -> Option<f64>,
) -> (usize, bool) {
    let Batch {
        grid, win, points, ..
    } = *b;
    let Columns {
        to_start_ms,
        to_end_ms,
        sampled_ms,
        intervals,
        first: first_col,
        result: result_col,
    } = cols;
    let (mut lo, mut hi, mut n) = (from.sample, from.sample, 0usize);
    let mut saw_reset = false;
    // NaN: the first sample admitted is compared with nothing.
    let mut prev_f = f64::NAN;
    let mut t = grid.t(from.step);
    for samples in window_samples.iter_mut() {
        let step_t = t;
        t += grid.step;
        let end = win.at.unwrap_or(step_t) - win.offset;
        let start = end - win.range;
        while points.get(lo).is_some_and(|p| p.t <= start) {
            lo += 1;
        }
        hi = hi.max(lo);
        prefetch_ahead(points, hi);
        while let Some(p) = points.get(hi).filter(|p| p.t <= end) {
            if TRACK_RESETS {
                // After a jump of `hi` this compares samples that are not
                // consecutive: at worst a needless second pass.
                saw_reset |= p.f < prev_f;
                prev_f = p.f;
            }
            hi += 1;
        }
        *samples += hi - lo;
        if hi < lo + 2 {
            continue;
        }
        let (Some(first), Some(last)) = (points.get(lo), points.get(hi - 1)) else {
            continue;
        };
        let mut result = last.f - first.f;
        if let Some(c) = correction(lo, hi) {
            result += c;
        }
        // `out` and the columns have room for every window stored (see
        // `output_capacity`); a window beyond it would be a bug, stopped here.
        out[n].t = step_t;
        to_start_ms[n] = (first.t - start) as f64;
        to_end_ms[n] = (end - last.t) as f64;
        sampled_ms[n] = (last.t - first.t) as f64;
        // A slice length never exceeds `isize::MAX`: the cast is exact, and
        // cheaper than converting an unsigned value.
        intervals[n] = (hi - lo - 1) as i64 as f64;
        first_col[n] = first.f;
        result_col[n] = result;
        n += 1;
    }
    (n, saw_reset)
}

/// How far ahead of the samples the windows admit pass 1 asks for samples:
/// 512 bytes, so they arrive from memory before the windows reach them (a
/// series is too short for the hardware prefetcher to ramp up on its own).
const PREFETCH_SAMPLES: usize = 32;

/// Hints the CPU to load the samples `PREFETCH_SAMPLES` past `at`; only an
/// address is computed (a prefetch never faults, even past the end), no
/// sample is read.
#[inline(always)]
fn prefetch_ahead(points: &[FPoint], at: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let ahead = points.as_ptr().wrapping_add(at + PREFETCH_SAMPLES);
        // SAFETY: SSE, which `_mm_prefetch` needs, is part of every x86-64
        // CPU; a prefetch reads nothing and never faults, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(ahead.cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (points, at);
}

/// Pass 2: the extrapolation of the first `n` windows, into `result`; the
/// widest vector code the CPU runs (`is_x86_feature_detected!` caches its
/// answer, so choosing costs a load per series).
fn extrapolate_columns(kind: Kind, cols: &mut Columns<'_>, n: usize, range_seconds: f64) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        unsafe { extrapolate_avx2(kind, cols, n, range_seconds) };
        return;
    }
    extrapolate_baseline(kind, cols, n, range_seconds);
}

/// Pass 2 compiled for AVX2 (four lanes); FMA stays off, as it would round
/// differently.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn extrapolate_avx2(kind: Kind, cols: &mut Columns<'_>, n: usize, range_seconds: f64) {
    extrapolate_by_kind(kind, cols, n, range_seconds);
}

/// Pass 2 for any CPU (two SSE2 lanes on x86-64).
fn extrapolate_baseline(kind: Kind, cols: &mut Columns<'_>, n: usize, range_seconds: f64) {
    extrapolate_by_kind(kind, cols, n, range_seconds);
}

/// One loop per kind, so the kind is a constant inside each loop.
#[inline(always)]
fn extrapolate_by_kind(kind: Kind, cols: &mut Columns<'_>, n: usize, range_seconds: f64) {
    match kind {
        Kind::CounterRate => extrapolate_loop(Kind::CounterRate, cols, n, range_seconds),
        Kind::CounterIncrease => extrapolate_loop(Kind::CounterIncrease, cols, n, range_seconds),
        Kind::GaugeDelta => extrapolate_loop(Kind::GaugeDelta, cols, n, range_seconds),
    }
}

/// The straight-line loop over the columns; slicing every column to `n`
/// first lets the compiler drop the bounds checks and vectorize.
#[inline(always)]
fn extrapolate_loop(kind: Kind, cols: &mut Columns<'_>, n: usize, range_seconds: f64) {
    let to_start_ms = &cols.to_start_ms[..n];
    let to_end_ms = &cols.to_end_ms[..n];
    let sampled_ms = &cols.sampled_ms[..n];
    let intervals = &cols.intervals[..n];
    let first = &cols.first[..n];
    let result = &mut cols.result[..n];
    for k in 0..n {
        result[k] = rate::extrapolate_shape(
            kind,
            WindowShape {
                to_start_ms: to_start_ms[k],
                to_end_ms: to_end_ms[k],
                sampled_ms: sampled_ms[k],
                intervals: intervals[k],
                first: first[k],
                result: result[k],
                range_seconds,
            },
        );
    }
}

#[cfg(test)]
mod tests;
