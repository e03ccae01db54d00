//! Rates and deltas: `rate`, `increase`, `delta` (extrapolated over the window)
//! and `irate`, `idelta` (from the last two samples).
//!
//! `rate`/`increase`/`delta` follow Prometheus 3.x `extrapolatedRate`: the
//! window is left-open; counter resets (a decrease) add the value before the
//! reset; the difference between the first and last sample is extrapolated
//! towards each window edge, but only if the sample is within 1.1 average
//! sample intervals of that edge (else by half an interval), and for counters
//! never past the point where the counter would have been zero. With the
//! experimental `anchored`/`smoothed` modifiers the window instead starts at the
//! last sample at or before its start (`anchored`) or at values interpolated at
//! both edges (`smoothed`), with no extrapolation (`extendedRate`).
//!
//! Start timestamps (created timestamps) are not considered yet; counter resets
//! are detected from values only.

use super::{FunctionError, RangeWindow, WindowMode};
use crate::value::FPoint;

type KernelResult = Result<Option<f64>, FunctionError>;

/// What kind of difference a kernel computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `delta`: a gauge; decreases are real.
    GaugeDelta,
    /// `increase`: a counter; decreases are resets.
    CounterIncrease,
    /// `rate`: `increase` per second of the range.
    CounterRate,
}

impl Kind {
    pub(crate) fn is_counter(self) -> bool {
        self != Kind::GaugeDelta
    }

    pub(crate) fn is_rate(self) -> bool {
        self == Kind::CounterRate
    }
}

/// `rate(m)`: per-second increase of a counter, extrapolated to the window.
pub fn rate(w: &RangeWindow<'_>, _: &[f64], _: &mut Vec<f64>) -> KernelResult {
    Ok(windowed_difference(w, Kind::CounterRate))
}

/// `increase(m)`: increase of a counter, extrapolated to the window.
pub fn increase(w: &RangeWindow<'_>, _: &[f64], _: &mut Vec<f64>) -> KernelResult {
    Ok(windowed_difference(w, Kind::CounterIncrease))
}

/// `delta(m)`: difference of a gauge, extrapolated to the window.
pub fn delta(w: &RangeWindow<'_>, _: &[f64], _: &mut Vec<f64>) -> KernelResult {
    Ok(windowed_difference(w, Kind::GaugeDelta))
}

fn windowed_difference(w: &RangeWindow<'_>, kind: Kind) -> Option<f64> {
    match w.mode {
        WindowMode::Plain => extrapolated(w, kind),
        WindowMode::Anchored | WindowMode::Smoothed => extended(w, kind),
    }
}

/// The sum of the values just before each decrease: what a counter lost to resets.
///
/// Resets are rare, so the common case is a plain scan for the first one: a
/// branch the CPU predicts, instead of the chain of dependent additions a
/// branch-free sum over every pair would be. From the first reset on, the
/// values before decreases are added in order, exactly as a filtered sum.
pub(crate) fn reset_correction(points: &[FPoint]) -> f64 {
    let Some(first) = points.windows(2).position(|pair| match pair {
        [prev, cur] => cur.f < prev.f,
        _ => false,
    }) else {
        // The additive identity: `x + -0.0 == x` for every x, even -0.0.
        return -0.0;
    };
    points
        .get(first..)
        .unwrap_or_default()
        .windows(2)
        .filter_map(|pair| match pair {
            [prev, cur] if cur.f < prev.f => Some(prev.f),
            _ => None,
        })
        .sum()
}

/// Prometheus 3.x `extrapolatedRate` for float samples.
fn extrapolated(w: &RangeWindow<'_>, kind: Kind) -> Option<f64> {
    let correction = if kind.is_counter() {
        reset_correction(w.points)
    } else {
        // Unused: gauges add no correction.
        -0.0
    };
    extrapolate(w, kind, correction)
}

/// Which plain-window kernel `k` is, if it is `rate`, `increase` or `delta`:
/// the range evaluator then runs the whole series through the batched path
/// of `eval::rate_batch`, which tracks resets itself and calls
/// [`extrapolate_shape`] per window. Any other kernel (or an address the
/// compiler duplicated) is `None` and runs as usual.
pub(crate) fn extrapolated_kind(k: super::RangeKernel) -> Option<Kind> {
    if std::ptr::fn_addr_eq(k, rate as super::RangeKernel) {
        Some(Kind::CounterRate)
    } else if std::ptr::fn_addr_eq(k, increase as super::RangeKernel) {
        Some(Kind::CounterIncrease)
    } else if std::ptr::fn_addr_eq(k, delta as super::RangeKernel) {
        Some(Kind::GaugeDelta)
    } else {
        None
    }
}

/// The extrapolation shared by the kernels, given the reset correction of a
/// counter (ignored for a gauge).
fn extrapolate(w: &RangeWindow<'_>, kind: Kind, correction: f64) -> Option<f64> {
    let (first, last) = match w.points {
        [first, .., last] => (first, last),
        // Fewer than two samples: no rate.
        _ => return None,
    };
    let mut result = last.f - first.f;
    if kind.is_counter() {
        result += correction;
    }
    Some(extrapolate_shape(
        kind,
        WindowShape {
            to_start_ms: first.t.saturating_sub(w.range_start_ms) as f64,
            to_end_ms: w.range_end_ms.saturating_sub(last.t) as f64,
            sampled_ms: last.t.saturating_sub(first.t) as f64,
            intervals: (w.points.len() - 1) as f64,
            first: first.f,
            result,
            range_seconds: w.range_seconds(),
        },
    ))
}

/// What the extrapolation needs of a window of two or more samples. The
/// distances are whole milliseconds (exact as floats) so that a batch of
/// windows can be stored as columns of floats.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WindowShape {
    /// From the window start to the first sample, ms.
    pub to_start_ms: f64,
    /// From the last sample to the window end, ms.
    pub to_end_ms: f64,
    /// From the first to the last sample, ms.
    pub sampled_ms: f64,
    /// Number of samples less one.
    pub intervals: f64,
    /// The first sample's value.
    pub first: f64,
    /// Last value less first, plus the reset correction for counters.
    pub result: f64,
    /// The range duration in seconds ([`RangeWindow::range_seconds`]).
    pub range_seconds: f64,
}

/// Prometheus 3.x `extrapolatedRate` from a window's [`WindowShape`].
///
/// Written without branches (every value is computed, then selected) so
/// that a loop over many windows vectorizes; the operations and their order
/// are Prometheus's, so each lane gives the bits of the scalar computation.
#[inline(always)]
pub(crate) fn extrapolate_shape(kind: Kind, w: WindowShape) -> f64 {
    let edges = EdgeDistances::new(w.to_start_ms, w.to_end_ms, w.sampled_ms, w.intervals);
    let mut to_start = edges.to_start;
    if kind.is_counter() {
        let to_zero = edges.zero_distance(w.first, w.result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    w.result * edges.factor(kind, to_start, w.range_seconds)
}

/// How far a window's extrapolation reaches past its first and last sample,
/// before a counter's zero clamp: what depends only on where the samples lie
/// in the window, not on their values.
#[derive(Debug, Clone, Copy)]
struct EdgeDistances {
    /// From the first to the last sample, s.
    sampled: f64,
    /// Extrapolation before the first sample, s.
    to_start: f64,
    /// Extrapolation after the last sample, s.
    to_end: f64,
}

impl EdgeDistances {
    #[inline(always)]
    fn new(to_start_ms: f64, to_end_ms: f64, sampled_ms: f64, intervals: f64) -> Self {
        let mut to_start = to_start_ms / 1000.0;
        let mut to_end = to_end_ms / 1000.0;
        let sampled = sampled_ms / 1000.0;
        let average_interval = sampled / intervals;

        // A sample further than 1.1 average intervals from an edge suggests the
        // series starts or ends inside the window: extrapolate only half an interval.
        let threshold = average_interval * 1.1;
        let half_interval = average_interval / 2.0;
        if to_start >= threshold {
            to_start = half_interval;
        }
        if to_end >= threshold {
            to_end = half_interval;
        }
        EdgeDistances {
            sampled,
            to_start,
            to_end,
        }
    }

    /// For a counter: how far before the first sample the observed slope
    /// reaches zero (it cannot go below), or `to_start` if it never does.
    #[inline(always)]
    fn zero_distance(&self, first: f64, result: f64) -> f64 {
        let zero_crossing = self.sampled * (first / result);
        if (result > 0.0) & (first >= 0.0) {
            zero_crossing
        } else {
            self.to_start
        }
    }

    /// The factor from the sampled difference to the result, extrapolating
    /// `to_start` before the first sample.
    #[inline(always)]
    fn factor(&self, kind: Kind, to_start: f64, range_seconds: f64) -> f64 {
        let mut factor = (self.sampled + to_start + self.to_end) / self.sampled;
        if kind.is_rate() {
            factor /= range_seconds;
        }
        factor
    }
}

/// The extrapolation of windows that all place their samples alike (same
/// distances to the edges, same count), as a regularly sampled series' windows
/// do: everything but the values is computed once, and a window costs a
/// multiplication instead of seven divisions (one more for a counter near
/// zero, see [`SharedShape::surely_unclamped`]). Same bits as
/// [`extrapolate_shape`]: the same operations on the same inputs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SharedShape {
    kind: Kind,
    edges: EdgeDistances,
    range_seconds: f64,
    /// The factor when the zero clamp does not apply.
    factor: f64,
    /// `2 * (to_start / sampled)`, see [`SharedShape::surely_unclamped`].
    clamp_free_ratio: f64,
}

impl SharedShape {
    /// The placement of [`WindowShape`]'s fields but the values.
    pub(crate) fn new(
        kind: Kind,
        to_start_ms: f64,
        to_end_ms: f64,
        sampled_ms: f64,
        intervals: f64,
        range_seconds: f64,
    ) -> Self {
        let edges = EdgeDistances::new(to_start_ms, to_end_ms, sampled_ms, intervals);
        SharedShape {
            kind,
            edges,
            range_seconds,
            factor: edges.factor(kind, edges.to_start, range_seconds),
            clamp_free_ratio: 2.0 * (edges.to_start / edges.sampled),
        }
    }

    /// [`extrapolate_shape`] of a window of this shape with these values
    /// (`first` sample, `result` the difference plus reset correction).
    #[inline(always)]
    pub(crate) fn extrapolate(&self, first: f64, result: f64) -> f64 {
        if self.kind.is_counter() {
            let to_zero = self.edges.zero_distance(first, result);
            // Rare: a counter that started inside the window, near zero.
            if to_zero < self.edges.to_start {
                return result * self.edges.factor(self.kind, to_zero, self.range_seconds);
            }
        }
        self.unclamped(result)
    }

    /// [`SharedShape::extrapolate`] when [`SharedShape::clamps`] is false.
    #[inline(always)]
    pub(crate) fn unclamped(&self, result: f64) -> f64 {
        result * self.factor
    }

    /// Whether [`SharedShape::clamps`] is surely false, decided without its
    /// division (the common case: a counter far above its increase).
    ///
    /// A clamp needs `result > 0`, `first >= 0` and the zero crossing
    /// `sampled * (first / result)` below `to_start`. When `first` exceeds
    /// `2 * (to_start / sampled) * result` computed in floats, the crossing is
    /// at least `2 * to_start` times `(1 - 2^-53)^4` (four roundings, none
    /// of which leaves the normal range), so not below `to_start`. A
    /// subnormal product rounds more coarsely: then this answers false and
    /// the caller divides. With `to_start` 0 the product is exactly 0, and
    /// any `first > 0` gives a crossing of at least 0.
    #[inline(always)]
    pub(crate) fn surely_unclamped(&self, first: f64, result: f64) -> bool {
        let bound = self.clamp_free_ratio * result;
        let above =
            (first > bound) & ((bound >= f64::MIN_POSITIVE) | (self.clamp_free_ratio == 0.0));
        let may_clamp = self.kind.is_counter() & (result > 0.0) & (first >= 0.0);
        !may_clamp | above
    }

    /// Whether a counter's zero clamp shortens the extrapolation of this
    /// window (never for gauges).
    #[cfg(test)]
    pub(crate) fn clamps(&self, first: f64, result: f64) -> bool {
        self.kind.is_counter() && self.edges.zero_distance(first, result) < self.edges.to_start
    }
}

/// Linear interpolation between two samples at time `t`; for counters a
/// decrease between them is a reset, so the line starts from zero.
fn interpolate(p1: &FPoint, p2: &FPoint, t: i64, is_counter: bool) -> f64 {
    let y1 = if is_counter && p2.f < p1.f { 0.0 } else { p1.f };
    y1 + (p2.f - y1) * t.saturating_sub(p1.t) as f64 / p2.t.saturating_sub(p1.t) as f64
}

/// Prometheus 3.x `extendedRate`: the anchored/smoothed variants.
fn extended(w: &RangeWindow<'_>, kind: Kind) -> Option<f64> {
    let f = w.points;
    let smoothed = w.mode == WindowMode::Smoothed;
    let mut last = f.len().checked_sub(1)?;
    // The last sample at or before the window start (or the first sample).
    let mut first = f
        .get(..last)
        .map_or(0, |head| head.partition_point(|p| p.t <= w.range_start_ms))
        .saturating_sub(1);
    if smoothed {
        // The first sample at or after the window end (or the last sample).
        last = f
            .get(..last)
            .map_or(0, |head| head.partition_point(|p| p.t < w.range_end_ms));
    }
    let last_point = f.get(last)?;
    if last_point.t <= w.range_start_ms {
        return None;
    }
    let first_point = f.get(first)?;

    let left = match f.get(first + 1) {
        Some(next) if smoothed && first_point.t < w.range_start_ms => {
            interpolate(first_point, next, w.range_start_ms, kind.is_counter())
        }
        _ => first_point.f,
    };
    let right = match last.checked_sub(1).and_then(|i| f.get(i)) {
        Some(prev) if smoothed && last_point.t > w.range_end_ms => {
            interpolate(prev, last_point, w.range_end_ms, kind.is_counter())
        }
        _ => last_point.f,
    };

    let mut result = right - left;
    if kind.is_counter() {
        // Resets at the edges are already in the interpolated values; look at
        // the samples strictly inside the window, chained from `left` to `right`.
        if first_point.t <= w.range_start_ms {
            first += 1;
        }
        let end = if last_point.t >= w.range_end_ms {
            last
        } else {
            last + 1
        };
        let inside = f.get(first..end.max(first)).unwrap_or(&[]);
        let mut prev = left;
        let mut correction = 0.0;
        for p in inside {
            if p.f < prev {
                correction += prev;
            }
            prev = p.f;
        }
        if right < prev {
            correction += prev;
        }
        result += correction;
    }
    if kind.is_rate() {
        result /= w.range_seconds();
    }
    Some(result)
}

/// `irate(m)`: per-second rate between the last two samples; after a reset the
/// newer value itself is the increase.
pub fn irate(w: &RangeWindow<'_>, _: &[f64], _: &mut Vec<f64>) -> KernelResult {
    Ok(last_two(w.points, true))
}

/// `idelta(m)`: difference between the last two samples.
pub fn idelta(w: &RangeWindow<'_>, _: &[f64], _: &mut Vec<f64>) -> KernelResult {
    Ok(last_two(w.points, false))
}

/// Prometheus 3.x `instantValue` for float samples.
fn last_two(points: &[FPoint], is_rate: bool) -> Option<f64> {
    let [.., prev, cur] = points else {
        return None;
    };
    let interval_ms = cur.t.saturating_sub(prev.t);
    if interval_ms == 0 {
        return None;
    }
    let mut result = if is_rate && cur.f < prev.f {
        cur.f
    } else {
        cur.f - prev.f
    };
    if is_rate {
        result /= interval_ms as f64 / 1000.0;
    }
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::RangeKernel;

    fn p(t_s: i64, f: f64) -> FPoint {
        FPoint { t: t_s * 1000, f }
    }

    fn window(points: &[FPoint], start_s: i64, end_s: i64, mode: WindowMode) -> RangeWindow<'_> {
        RangeWindow {
            points,
            range_start_ms: start_s * 1000,
            range_end_ms: end_s * 1000,
            eval_ts_ms: end_s * 1000,
            mode,
        }
    }

    fn run(k: RangeKernel, points: &[FPoint], start_s: i64, end_s: i64) -> Option<f64> {
        k(
            &window(points, start_s, end_s, WindowMode::Plain),
            &[],
            &mut Vec::new(),
        )
        .ok()
        .flatten()
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() <= 1e-9 * b.abs().max(1.0))
    }

    #[test]
    fn too_few_samples() {
        for k in [rate, increase, delta, irate, idelta] as [RangeKernel; 5] {
            assert_eq!(run(k, &[], 0, 60), None);
            assert_eq!(run(k, &[p(30, 1.0)], 0, 60), None);
        }
    }

    #[test]
    fn samples_at_both_edges_need_no_extrapolation() {
        // (0, 60]: samples at 10..60 every 10s, counter +10 each.
        let pts: Vec<_> = (1..=6).map(|i| p(i * 10, i as f64 * 10.0)).collect();
        // First sample 10s after the start = one interval (< 1.1): extrapolate fully,
        // but not below zero: to_zero = 50 * (10 / 50) = 10, same as to_start.
        assert!(close(run(increase, &pts, 0, 60), 60.0));
        assert!(close(run(rate, &pts, 0, 60), 1.0));
        assert!(close(run(delta, &pts, 0, 60), 60.0));
    }

    #[test]
    fn extrapolation_is_limited_by_zero_for_counters() {
        // A counter starting at 1 with slope 1/s, 20 s from the window start: the
        // zero point is 1 s before the first sample, so only 1 s is added.
        let pts = [
            p(20, 1.0),
            p(30, 11.0),
            p(40, 21.0),
            p(50, 31.0),
            p(60, 41.0),
        ];
        // to_start = 20 ≥ 1.1*10 → 5; to_zero = 40 * 1/40 = 1 → 1. to_end = 0.
        assert!(close(run(increase, &pts, 0, 60), 40.0 * 41.0 / 40.0));
        // A gauge extrapolates the half interval.
        assert!(close(run(delta, &pts, 0, 60), 40.0 * 45.0 / 40.0));
    }

    #[test]
    fn counter_resets_add_the_value_before_the_reset() {
        let pts = [p(10, 5.0), p(20, 10.0), p(30, 2.0), p(40, 6.0)];
        // Raw increase: 6 - 5 + 10 = 11 over 30 s; to_start 10 → to_zero 30*5/11 ≈ 13.6 so 10;
        // to_end 20 ≥ 11 → 5. Factor (30 + 10 + 5) / 30.
        assert!(close(run(increase, &pts, 0, 60), 11.0 * 45.0 / 30.0));
        // delta ignores resets: 6 - 5 = 1.
        assert!(close(run(delta, &pts, 0, 60), 1.0 * 45.0 / 30.0));
    }

    #[test]
    fn zero_cutoff_table_from_prometheus_scripts() {
        // functions.test: `load 4m`, series `<start>+240x10`, rate(...[20m]) at 10m.
        let expected = [
            (0.0, 0.5),
            (60.0, 0.55),
            (120.0, 0.6),
            (180.0, 0.6),
            (300.0, 0.6),
        ];
        for (start_value, want) in expected {
            let pts: Vec<_> = (0..3)
                .map(|i| p(i * 240, start_value + 240.0 * i as f64))
                .collect();
            let got = run(rate, &pts, -600, 600);
            assert!(close(got, want), "start {start_value}: {got:?} != {want}");
        }
        // increase(http_requests_total[100m]) at 50m over 5m samples.
        let series = |first: f64| -> Vec<FPoint> {
            (0..=10)
                .map(|i| p(i * 300, first + 10.0 * i as f64))
                .collect()
        };
        assert!(close(run(increase, &series(10.0), -3000, 3000), 105.0));
        assert!(close(run(increase, &series(1.0), -3000, 3000), 101.0));
        let bar: Vec<_> = (0..=11)
            .map(|i| p(i * 300, 18.0 * (i % 6) as f64))
            .collect();
        assert!(close(run(increase, &bar[..11], -3000, 3000), 162.0));
    }

    #[test]
    fn irate_and_idelta() {
        let pts = [p(10, 5.0), p(20, 10.0), p(25, 20.0)];
        assert_eq!(run(irate, &pts, 0, 30), Some(2.0));
        assert_eq!(run(idelta, &pts, 0, 30), Some(10.0));
        let reset = [p(10, 5.0), p(20, 3.0)];
        assert_eq!(run(irate, &reset, 0, 30), Some(0.3));
        assert_eq!(run(idelta, &reset, 0, 30), Some(-2.0));
        let same_time = [FPoint { t: 5, f: 1.0 }, FPoint { t: 5, f: 2.0 }];
        assert_eq!(run(irate, &same_time, 0, 30), None);
    }

    #[test]
    fn nan_and_inf_propagate() {
        let pts = [p(10, 1.0), p(20, f64::NAN), p(30, 3.0)];
        // NaN comparisons are false: no reset is counted and the endpoints are finite.
        assert!(run(rate, &pts, 0, 30).is_some_and(f64::is_finite));
        let pts = [p(10, 1.0), p(20, f64::INFINITY)];
        assert_eq!(run(delta, &pts, 0, 20), Some(f64::INFINITY));
        assert!(run(idelta, &[p(10, f64::NAN), p(20, 1.0)], 0, 20).is_some_and(f64::is_nan));
    }

    #[test]
    fn anchored_increase_starts_at_the_sample_before_the_window() {
        // Prometheus extended_vectors.test: metric 1+1x4 9+1x4 at 15s steps.
        let values = [1.0, 2.0, 3.0, 4.0, 5.0, 9.0, 10.0, 11.0, 12.0, 13.0];
        let pts: Vec<_> = values
            .iter()
            .enumerate()
            .map(|(i, &f)| p(i as i64 * 15, f))
            .collect();
        let at = |end_s: i64, mode| {
            let start = end_s - 60;
            // The evaluator hands over the last sample at or before the start too.
            let lo = pts
                .partition_point(|q| q.t <= start * 1000)
                .saturating_sub(1);
            let hi = pts.partition_point(|q| q.t <= end_s * 1000);
            let w = window(&pts[lo..hi], start, end_s, mode);
            increase(&w, &[], &mut Vec::new()).ok().flatten()
        };
        assert_eq!(at(5, WindowMode::Anchored), Some(0.0));
        assert_eq!(at(20, WindowMode::Anchored), Some(1.0));
        assert_eq!(at(80, WindowMode::Anchored), Some(7.0));
        assert_eq!(at(125, WindowMode::Anchored), Some(7.0));
    }

    #[test]
    fn smoothed_increase_interpolates_at_the_edges() {
        let pts = [p(0, 0.0), p(30, 30.0), p(60, 60.0), p(90, 90.0)];
        // Window (15, 75]: interpolated 15 at the start and 75 at the end.
        let w = window(&pts, 15, 75, WindowMode::Smoothed);
        assert_eq!(increase(&w, &[], &mut Vec::new()), Ok(Some(60.0)));
        assert_eq!(rate(&w, &[], &mut Vec::new()), Ok(Some(1.0)));
        // A reset between the edge samples interpolates from zero.
        let reset = [p(0, 100.0), p(30, 10.0), p(60, 40.0)];
        let w = window(&reset, 15, 45, WindowMode::Smoothed);
        // left = 0 + 10 * 15/30 = 5, right = 25, inside sample 10: no reset vs 5.
        assert_eq!(increase(&w, &[], &mut Vec::new()), Ok(Some(20.0)));
    }

    #[test]
    fn shared_shape_gives_the_window_bits_and_never_misses_a_clamp() {
        let mut next = crate::test_rng::xorshift(0x6a09_e667_f3bc_c908u64);
        let awkward = [
            0.0,
            -0.0,
            1.0,
            -2.0,
            f64::NAN,
            f64::INFINITY,
            1e300,
            1e-300,
            5e-324,
            f64::MIN_POSITIVE,
            2.2e-308,
        ];
        let pick = move |next: &mut dyn FnMut() -> u64| match next() % 4 {
            0 => awkward[(next() % awkward.len() as u64) as usize],
            1 => (next() % 1000) as f64 * 10f64.powi((next() % 40) as i32 - 20),
            _ => (next() % 100_000) as f64 / 7.0,
        };
        let mut surely = 0;
        for _ in 0..20_000 {
            let range_ms = 1 + (next() % 600_000) as i64;
            let sampled_ms = 1 + (next() % range_ms as u64) as i64;
            let to_start_ms = (next() % (range_ms - sampled_ms + 1) as u64) as i64;
            let to_end_ms = range_ms - sampled_ms - to_start_ms;
            let intervals = (1 + next() % 50) as f64;
            let (first, result) = (pick(&mut next), pick(&mut next));
            for kind in [Kind::CounterRate, Kind::CounterIncrease, Kind::GaugeDelta] {
                let range_seconds = range_ms as f64 / 1000.0;
                let shape = SharedShape::new(
                    kind,
                    to_start_ms as f64,
                    to_end_ms as f64,
                    sampled_ms as f64,
                    intervals,
                    range_seconds,
                );
                let want = extrapolate_shape(
                    kind,
                    WindowShape {
                        to_start_ms: to_start_ms as f64,
                        to_end_ms: to_end_ms as f64,
                        sampled_ms: sampled_ms as f64,
                        intervals,
                        first,
                        result,
                        range_seconds,
                    },
                );
                assert_eq!(shape.extrapolate(first, result).to_bits(), want.to_bits());
                if shape.surely_unclamped(first, result) {
                    surely += usize::from(kind.is_counter());
                    assert!(!shape.clamps(first, result), "{first} {result} {shape:?}");
                    assert_eq!(shape.unclamped(result).to_bits(), want.to_bits());
                }
                // First values just above the bound, where the test is tightest.
                let bound = shape.clamp_free_ratio * result;
                for ulps in 0..3 {
                    let first = f64::from_bits(bound.to_bits().wrapping_add(ulps));
                    if shape.surely_unclamped(first, result) {
                        assert!(!shape.clamps(first, result), "{first} {result} {shape:?}");
                    }
                }
            }
        }
        assert!(surely > 10_000, "{surely}");
    }
}
