//! Range-vector functions (`rate(m[5m])`, `max_over_time(g[1h])`, ...) applied
//! to one series' samples across all steps.
//!
//! The step windows `(end - range, end]` slide over the samples with two
//! cursors and the kernel sees one window at a time. Plain `rate`,
//! `increase` and `delta` instead run batched over all windows of the series
//! ([`super::rate_batch`], same bits); `max_over_time`/`min_over_time` take
//! the sliding-queue path of [`super::range_extreme`]; running over many
//! series (threads, sinks, limits) is [`super::range_run`].

use super::range_extreme::Extreme;
use super::rate_batch::extrapolated_series;
use super::selectors::{Slider, Windows};
use super::Grid;
use crate::error::QueryError;
use crate::functions::{rate, RangeKernel, RangeWindow, WindowMode};
use crate::value::FPoint;

/// How many output points to reserve for a series of `samples` samples: each
/// sample reaches at most `reach / step + 1` steps, and there are no more
/// points than steps. Reserving once avoids regrowth on dense series without
/// reserving whole grids for sparse ones.
pub(crate) fn output_capacity(grid: Grid, samples: usize, reach_ms: i64) -> usize {
    let per_sample = usize::try_from(reach_ms / grid.step.max(1))
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    grid.len().min(samples.saturating_mul(per_sample))
}

/// One range function call, ready to run on any series.
pub(crate) struct RangeApply<'p> {
    /// The kernel computing one window.
    pub kernel: RangeKernel,
    /// Scalar arguments, one value per step each.
    pub params: &'p [Vec<f64>],
    /// The evaluation steps.
    pub grid: Grid,
    /// Window placement.
    pub win: Windows,
    /// Set for `max_over_time`/`min_over_time`: use the sliding queue.
    pub extreme: Option<Extreme>,
    /// The function expects counters (collect non-counter names for the info).
    pub expects_counter: bool,
}

impl RangeApply<'_> {
    /// Appends to `out` the output points for one series' samples
    /// (time-ordered, no stale markers). `out` is the caller's, reused
    /// across series, so a series' output costs no allocation of its own.
    pub fn apply(
        &self,
        points: &[FPoint],
        scratch: &mut Vec<f64>,
        window_samples: &mut [usize],
        out: &mut Vec<FPoint>,
    ) -> Result<(), QueryError> {
        if let Some(e) = self.extreme {
            self.sliding_extreme(points, e, scratch, window_samples, out);
            return Ok(());
        }
        if self.win.mode == WindowMode::Plain {
            if let Some(kind) = rate::extrapolated_kind(self.kernel) {
                let (grid, win) = (self.grid, &self.win);
                if extrapolated_series(grid, win, kind, points, scratch, window_samples, out) {
                    return Ok(());
                }
            }
        }
        out.reserve(output_capacity(self.grid, points.len(), self.win.range));
        let mut slider = Slider::default();
        let mut ps: Vec<f64> = Vec::with_capacity(self.params.len());
        for (i, t) in self.grid.times().enumerate() {
            let end = self.win.end(t);
            let start = end.saturating_sub(self.win.range);
            let (lo, hi) = slider.bounds(points, start, end);
            let (lo, hi) = self.win.extend(points, lo, hi, start, end);
            let pts = points.get(lo..hi).unwrap_or(&[]);
            // A window needs a sample at or before its end; one only after it
            // (possible with `smoothed`) gives no value.
            if pts.first().is_none_or(|p| p.t > end) {
                continue;
            }
            if let Some(n) = window_samples.get_mut(i) {
                *n += pts.len();
            }
            if !self.params.is_empty() {
                ps.clear();
                ps.extend(
                    self.params
                        .iter()
                        .map(|v| v.get(i).copied().unwrap_or(f64::NAN)),
                );
            }
            let rw = RangeWindow {
                points: pts,
                range_start_ms: start,
                range_end_ms: end,
                eval_ts_ms: t,
                mode: self.win.mode,
            };
            match (self.kernel)(&rw, &ps, scratch) {
                Ok(Some(v)) => out.push(FPoint { t, f: v }),
                Ok(None) => {}
                Err(e) => return Err(QueryError::execution(e.to_string())),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::functions::lookup;
    use crate::functions::Implementation;
    use crate::functions::WindowMode;

    pub(crate) fn kernel(name: &str) -> RangeKernel {
        match lookup(name).map(|f| f.implementation) {
            Some(Implementation::Range(k)) => k,
            _ => panic!("{name} is not a range function"),
        }
    }

    /// `apply`'s output for `pts` alone, checking that it only appends: the
    /// buffer it gets already holds another series' point, which must stay.
    pub(crate) fn applied(
        a: &RangeApply<'_>,
        pts: &[FPoint],
        scratch: &mut Vec<f64>,
        window_samples: &mut [usize],
    ) -> Vec<FPoint> {
        let before = FPoint { t: -1, f: 42.0 };
        let mut out = vec![before];
        a.apply(pts, scratch, window_samples, &mut out).unwrap();
        assert_eq!(out.first(), Some(&before), "apply appends");
        out.split_off(1)
    }

    /// A plain `[range]` window with no offset, `@` or lookback.
    pub(crate) fn plain_window(range: i64) -> Windows {
        Windows {
            range,
            offset: 0,
            at: None,
            mode: WindowMode::Plain,
            lookback: 0,
        }
    }

    /// A kernel behind another address, so the evaluator cannot recognise it
    /// and runs it as a plain kernel on every window.
    macro_rules! opaque {
        ($name:ident, $kernel:path) => {
            fn $name(
                w: &RangeWindow<'_>,
                p: &[f64],
                s: &mut Vec<f64>,
            ) -> Result<Option<f64>, crate::functions::FunctionError> {
                $kernel(w, p, s)
            }
        };
    }
    opaque!(opaque_rate, rate::rate);
    opaque!(opaque_increase, rate::increase);
    opaque!(opaque_delta, rate::delta);

    /// Samples with the awkward cases: resets, NaN, -0.0, infinities,
    /// counters below zero, and gaps that leave windows of 0, 1 or 2 samples.
    fn awkward_series(next: &mut impl FnMut() -> u64) -> Vec<FPoint> {
        let mut t = 0;
        let mut v = match next() % 4 {
            0 => -((next() % 100) as f64),
            1 => -0.0,
            _ => 0.0,
        };
        (0..150)
            .map(|_| {
                t += 1 + (next() % 20) as i64;
                if next().is_multiple_of(30) {
                    t += 100;
                }
                v = match next() % 60 {
                    0 => (next() % 5) as f64,
                    1 => f64::NAN,
                    2 => -0.0,
                    3 => f64::INFINITY,
                    4 => -((next() % 50) as f64),
                    _ => v + (next() % 1000) as f64 / 7.0,
                };
                FPoint { t, f: v }
            })
            .collect()
    }

    #[test]
    fn batched_windows_give_the_kernels_bits() {
        let mut next = crate::test_rng::xorshift(0x9e37_79b9_7f4a_7c15u64);
        for round in 0..100 {
            let pts = awkward_series(&mut next);
            let last_t = pts.last().map_or(0, |p| p.t);
            let range = 1 + (next() % 150) as i64;
            let step = 1 + (next() % 15) as i64;
            let grid = Grid::new(-20, last_t + 50, step);
            let at = next().is_multiple_of(5).then(|| (next() % 3000) as i64);
            let win = Windows {
                offset: (next() % 7) as i64 - 3,
                at,
                ..plain_window(range)
            };
            for (name, opaque) in [
                ("rate", opaque_rate as RangeKernel),
                ("increase", opaque_increase as RangeKernel),
                ("delta", opaque_delta as RangeKernel),
            ] {
                let fast = RangeApply {
                    kernel: kernel(name),
                    params: &[],
                    grid,
                    win,
                    extreme: None,
                    expects_counter: true,
                };
                assert!(
                    rate::extrapolated_kind(fast.kernel).is_some(),
                    "{name} is recognised"
                );
                let slow = RangeApply {
                    kernel: opaque,
                    ..fast
                };
                assert!(rate::extrapolated_kind(slow.kernel).is_none());
                let mut scratch = Vec::new();
                let (mut wa, mut wb) = (vec![0; grid.len()], vec![0; grid.len()]);
                let a = applied(&slow, &pts, &mut scratch, &mut wa);
                let b = applied(&fast, &pts, &mut scratch, &mut wb);
                assert_eq!(wa, wb, "{name} window sizes, round {round}");
                let bits = |ps: &[FPoint]| -> Vec<(i64, u64)> {
                    ps.iter().map(|p| (p.t, p.f.to_bits())).collect()
                };
                assert_eq!(bits(&a), bits(&b), "{name}, round {round}");
            }
        }
    }
}
