//! `max_over_time`/`min_over_time` over a sliding window in O(samples +
//! steps) instead of O(samples × steps), with the generic kernel's result:
//! the first sample holding the extreme (so `0` and `-0` keep their order),
//! NaN only if every sample in the window is NaN.
//!
//! The window is split at a moving boundary `mid` (a two-stack queue): the
//! older part `[lo, mid)` keeps, for every start index, the extreme of the
//! samples from there up to `mid` (rebuilt backwards, once per sample, when
//! `lo` passes `mid`); the newer part `[mid, hi)` keeps one running extreme.
//! A step then costs one combination of the two, without branches on the
//! data, and the only buffer is the caller's scratch reused across series.

use super::range_fn::{output_capacity, RangeApply};
use crate::value::FPoint;

/// Which extreme a sliding-window shortcut keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Extreme {
    /// `max_over_time`
    Max,
    /// `min_over_time`
    Min,
}

/// The fold step of Prometheus's `compareOverTime`: the result of the samples
/// `earlier` (first) and `later`, each the extreme of a run of samples (NaN for
/// an empty or all-NaN run). A later sample takes over only when strictly
/// better, or when everything before it was NaN. The step is associative, with
/// NaN as identity, so runs can be combined in any grouping.
///
/// Written as a bit select: which side wins is as good as random on real
/// data, and a branch here mispredicts about every other step.
#[inline(always)]
fn pick_nan_aware(earlier: f64, later: f64, replaces: impl Fn(f64, f64) -> bool) -> f64 {
    let take_later = u64::from(earlier.is_nan() | replaces(later, earlier)).wrapping_neg();
    f64::from_bits((later.to_bits() & take_later) | (earlier.to_bits() & !take_later))
}

/// How runs of samples combine: `pick(earlier, later)`, associative, and the
/// result of an empty run, its identity.
#[derive(Clone, Copy)]
struct Fold<P> {
    pick: P,
    empty: f64,
}

impl<P: Fn(f64, f64) -> f64 + Copy> Fold<P> {
    fn new(pick: P, empty: f64) -> Self {
        Fold { pick, empty }
    }
}

impl RangeApply<'_> {
    /// Appends the max or min per window to `out`; `scratch` is reused
    /// across calls.
    pub(super) fn sliding_extreme(
        &self,
        points: &[FPoint],
        e: Extreme,
        scratch: &mut Vec<f64>,
        window_samples: &mut [usize],
        out: &mut Vec<FPoint>,
    ) {
        // Without NaN samples (the common case) the fold is a plain strict
        // comparison, one instruction, with an infinity as the empty run. It
        // notes NaN samples as it admits them (each once) rather than in a
        // pass of its own over memory; a series that has one is redone with
        // the NaN-aware fold, which counts only the steps not counted yet.
        let base = out.len();
        let stopped = match e {
            Extreme::Max => {
                let max = |a: f64, b: f64| if b > a { b } else { a };
                let fold = Fold::new(max, f64::NEG_INFINITY);
                self.sliding::<true>(points, fold, scratch, window_samples, 0, out)
            }
            Extreme::Min => {
                let min = |a: f64, b: f64| if b < a { b } else { a };
                let fold = Fold::new(min, f64::INFINITY);
                self.sliding::<true>(points, fold, scratch, window_samples, 0, out)
            }
        };
        let Some(counted) = stopped else {
            return;
        };
        out.truncate(base);
        let w = window_samples;
        match e {
            Extreme::Max => {
                let max = |a, b| pick_nan_aware(a, b, |x, y| x > y);
                let fold = Fold::new(max, f64::NAN);
                self.sliding::<false>(points, fold, scratch, w, counted, out);
            }
            Extreme::Min => {
                let min = |a, b| pick_nan_aware(a, b, |x, y| x < y);
                let fold = Fold::new(min, f64::NAN);
                self.sliding::<false>(points, fold, scratch, w, counted, out);
            }
        }
    }

    /// The two-stack sliding window for one fold (monomorphised, so the fold
    /// inlines into the loops). Window sizes are added to `window_samples`
    /// from step `count_from` on. With `STOP_AT_NAN`, gives up at the first
    /// NaN sample, as the fast folds are not NaN-aware, and returns the step
    /// where it stopped (the steps before it counted, the output unfinished).
    #[inline(never)]
    fn sliding<const STOP_AT_NAN: bool>(
        &self,
        points: &[FPoint],
        fold: Fold<impl Fn(f64, f64) -> f64 + Copy>,
        scratch: &mut Vec<f64>,
        window_samples: &mut [usize],
        count_from: usize,
        out: &mut Vec<FPoint>,
    ) -> Option<usize> {
        let Fold { pick, empty } = fold;
        let (grid, win) = (self.grid, self.win);
        // Room for every step that can have a value is reserved up front, so
        // no `push` below grows the vector; pushing (rather than filling the
        // room first and overwriting it) writes each output line once, which
        // matters when `out` is a large result buffer not in cache.
        let steps = match win.at {
            // Every step sees the same window.
            Some(_) => grid.len(),
            None => output_capacity(grid, points.len(), win.range),
        };
        out.reserve(steps);
        // `suffix[j]` is the extreme of `points[j..mid]` for `lo <= j < mid`;
        // entries outside that range are stale and never read.
        if scratch.len() < points.len() {
            scratch.resize(points.len(), empty);
        }
        let suffix = scratch.as_mut_slice();
        let (mut lo, mut mid, mut hi) = (0usize, 0usize, 0usize);
        // The extreme of `points[mid..hi]`.
        let mut newer = empty;
        for (i, t) in grid.times().enumerate() {
            let end = win.end(t);
            let start = end.saturating_sub(win.range);
            while let Some(p) = points.get(hi).filter(|p| p.t <= end) {
                if STOP_AT_NAN && p.f.is_nan() {
                    return Some(i);
                }
                newer = pick(newer, p.f);
                hi += 1;
            }
            while lo < hi && points.get(lo).is_some_and(|p| p.t <= start) {
                lo += 1;
            }
            if lo >= hi {
                continue;
            }
            if lo >= mid {
                // The older part ran out: it becomes the whole window.
                let mut acc = empty;
                if let (Some(ps), Some(ss)) = (points.get(lo..hi), suffix.get_mut(lo..hi)) {
                    for (p, s) in ps.iter().zip(ss).rev() {
                        acc = pick(p.f, acc);
                        *s = acc;
                    }
                }
                mid = hi;
                newer = empty;
            }
            if let Some(n) = window_samples.get_mut(i).filter(|_| i >= count_from) {
                *n += hi - lo;
            }
            let older = suffix.get(lo).copied().unwrap_or(empty);
            let point = FPoint {
                t,
                f: pick(older, newer),
            };
            out.push(point);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::range_fn::tests::{applied, kernel, plain_window};
    use crate::eval::selectors::Windows;
    use crate::eval::Grid;

    #[test]
    fn sliding_extreme_matches_kernel_on_random_series() {
        let mut next = crate::test_rng::xorshift(0x2545_f491_4f6c_dd1du64);
        for round in 0..80 {
            // Half of the series have NaNs (the NaN-aware fold), half none.
            let nan_every = if round % 2 == 0 { 10 } else { u64::MAX };
            let mut t = 0;
            let pts: Vec<FPoint> = (0..200)
                .map(|_| {
                    t += 1 + (next() % 20) as i64;
                    let f = match next() % 10 {
                        _ if next().is_multiple_of(nan_every) => f64::NAN,
                        // Signed zeros tell apart which of two equal samples wins.
                        1 => -0.0,
                        2 => 0.0,
                        _ => (next() % 100) as f64 - 50.0,
                    };
                    FPoint { t, f }
                })
                .collect();
            let range = 1 + (next() % 100) as i64;
            let step = 1 + (next() % 15) as i64;
            let grid = Grid::new(0, t + 50, step);
            let win = Windows {
                // Some rounds pin every step to one window, or shift them.
                at: (round % 5 == 1).then(|| (next() % 4000) as i64),
                offset: if round % 5 == 2 { 37 } else { 0 },
                ..plain_window(range)
            };
            assert_sliding_extreme_matches_kernel(&pts, grid, win);
        }
    }

    #[test]
    fn sliding_extreme_matches_kernel() {
        let pts: Vec<FPoint> = [
            3.0,
            f64::NAN,
            7.0,
            1.0,
            1.0,
            9.0,
            2.0,
            f64::NAN,
            f64::NAN,
            4.0,
        ]
        .iter()
        .enumerate()
        .map(|(i, &f)| FPoint {
            t: i as i64 * 10,
            f,
        })
        .collect();
        let grid = Grid::new(0, 120, 5);
        let win = plain_window(25);
        assert_sliding_extreme_matches_kernel(&pts, grid, win);
    }

    #[test]
    fn sliding_extreme_keeps_the_first_of_equal_samples() {
        let pts: Vec<FPoint> = [0.0, -0.0, f64::NAN, 0.0, -0.0]
            .iter()
            .enumerate()
            .map(|(i, &f)| FPoint {
                t: i as i64 * 10,
                f,
            })
            .collect();
        assert_sliding_extreme_matches_kernel(&pts, Grid::new(0, 60, 5), plain_window(25));
    }

    /// Runs `max_over_time` and `min_over_time` once through the generic kernel
    /// and once through the sliding-extreme fast path, and asserts that both
    /// give the same points and window sizes.
    fn assert_sliding_extreme_matches_kernel(pts: &[FPoint], grid: Grid, win: Windows) {
        for (name, e) in [
            ("max_over_time", Extreme::Max),
            ("min_over_time", Extreme::Min),
        ] {
            let slow = RangeApply {
                kernel: kernel(name),
                params: &[],
                grid,
                win,
                extreme: None,
                expects_counter: false,
            };
            let fast = RangeApply {
                extreme: Some(e),
                ..slow
            };
            let mut scratch = Vec::new();
            let (mut wa, mut wb) = (vec![0; grid.len()], vec![0; grid.len()]);
            let a = applied(&slow, pts, &mut scratch, &mut wa);
            let b = applied(&fast, pts, &mut scratch, &mut wb);
            assert_eq!(wa, wb, "{name} window sizes");
            assert_eq!(a.len(), b.len(), "{name}");
            for (x, y) in a.iter().zip(&b) {
                assert!(
                    x.t == y.t
                        && (x.f.to_bits() == y.f.to_bits() || (x.f.is_nan() && y.f.is_nan())),
                    "{name}: {x:?} vs {y:?}"
                );
            }
        }
    }
}
