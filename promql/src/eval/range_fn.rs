//! Range-vector functions (`rate(m[5m])`, `max_over_time(g[1h])`, ...) applied
//! to one series' samples across all steps.
//!
//! The step windows `(end - range, end]` slide over the samples with two
//! cursors and the kernel sees one window at a time. Plain `rate`/`increase`
//! count each series' counter resets once into a prefix sum; a window that
//! holds none skips the kernel's per-window reset scan and gets the same bits
//! (the scan would add `-0.0`), while windows with resets still run the
//! kernel's exact in-order sum. `max_over_time`/`min_over_time` take the
//! sliding-queue path of [`super::range_extreme`]; running over many series
//! (threads, sinks, limits) is [`super::range_run`].

use super::range_extreme::Extreme;
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

/// Counter resets before each sample index: entry `k` counts the samples
/// `1 <= j < k` whose value is below their predecessor's (the reset test of
/// `rate`/`increase`; NaN is never a reset). One entry more than `points`.
fn reset_prefix(points: &[FPoint]) -> Vec<usize> {
    let mut out = Vec::with_capacity(points.len() + 1);
    let mut n = 0usize;
    out.push(0);
    let mut prev = None;
    for p in points {
        if prev.is_some_and(|q: f64| p.f < q) {
            n += 1;
        }
        out.push(n);
        prev = Some(p.f);
    }
    out
}

/// How many resets the window `points[lo..hi]` holds (between its own
/// samples), from a [`reset_prefix`]; `None` for fewer than two samples or
/// bounds outside the prefix.
fn resets_between(prefix: &[usize], lo: usize, hi: usize) -> Option<usize> {
    if hi < lo + 2 {
        return None;
    }
    let before = prefix.get(lo + 1)?;
    prefix.get(hi)?.checked_sub(*before)
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
    /// Output points for one series' samples (time-ordered, no stale markers).
    pub fn apply(
        &self,
        points: &[FPoint],
        scratch: &mut Vec<f64>,
        window_samples: &mut [usize],
    ) -> Result<Vec<FPoint>, QueryError> {
        if let Some(e) = self.extreme {
            return Ok(self.sliding_extreme(points, e, scratch, window_samples));
        }
        let mut out = Vec::with_capacity(output_capacity(self.grid, points.len(), self.win.range));
        let mut slider = Slider::default();
        let mut ps: Vec<f64> = Vec::with_capacity(self.params.len());
        let counter = (self.win.mode == WindowMode::Plain)
            .then(|| rate::counter_kernel(self.kernel))
            .flatten();
        let resets = match counter {
            Some(_) => reset_prefix(points),
            None => Vec::new(),
        };
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
            ps.clear();
            ps.extend(
                self.params
                    .iter()
                    .map(|v| v.get(i).copied().unwrap_or(f64::NAN)),
            );
            let rw = RangeWindow {
                points: pts,
                range_start_ms: start,
                range_end_ms: end,
                eval_ts_ms: t,
                mode: self.win.mode,
            };
            if let Some(k) = counter.filter(|_| resets_between(&resets, lo, hi) == Some(0)) {
                if let Some(f) = rate::extrapolated_without_resets(&rw, k) {
                    out.push(FPoint { t, f });
                }
                continue;
            }
            match (self.kernel)(&rw, &ps, scratch) {
                Ok(Some(v)) => out.push(FPoint { t, f: v }),
                Ok(None) => {}
                Err(e) => return Err(QueryError::execution(e.to_string())),
            }
        }
        Ok(out)
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

    /// `rate` behind another address, so the evaluator cannot recognise it
    /// and runs it as a plain kernel on every window.
    fn opaque_rate(
        w: &RangeWindow<'_>,
        p: &[f64],
        s: &mut Vec<f64>,
    ) -> Result<Option<f64>, crate::functions::FunctionError> {
        rate::rate(w, p, s)
    }

    /// `increase` behind another address, like [`opaque_rate`].
    fn opaque_increase(
        w: &RangeWindow<'_>,
        p: &[f64],
        s: &mut Vec<f64>,
    ) -> Result<Option<f64>, crate::functions::FunctionError> {
        rate::increase(w, p, s)
    }

    #[test]
    fn reset_free_windows_give_the_kernels_bits() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..60 {
            let mut t = 0;
            let mut v = 0.0;
            let pts: Vec<FPoint> = (0..150)
                .map(|_| {
                    t += 1 + (next() % 20) as i64;
                    v = match next() % 40 {
                        0 => (next() % 5) as f64,
                        1 => f64::NAN,
                        2 => -0.0,
                        _ => v + (next() % 1000) as f64 / 7.0,
                    };
                    FPoint { t, f: v }
                })
                .collect();
            let range = 1 + (next() % 150) as i64;
            let step = 1 + (next() % 15) as i64;
            let grid = Grid::new(-20, t + 50, step);
            for (name, opaque) in [
                ("rate", opaque_rate as RangeKernel),
                ("increase", opaque_increase as RangeKernel),
            ] {
                let fast = RangeApply {
                    kernel: kernel(name),
                    params: &[],
                    grid,
                    win: plain_window(range),
                    extreme: None,
                    expects_counter: true,
                };
                assert!(
                    rate::counter_kernel(fast.kernel).is_some(),
                    "{name} is recognised"
                );
                let slow = RangeApply {
                    kernel: opaque,
                    ..fast
                };
                assert!(rate::counter_kernel(slow.kernel).is_none());
                let mut scratch = Vec::new();
                let (mut wa, mut wb) = (vec![0; grid.len()], vec![0; grid.len()]);
                let a = slow.apply(&pts, &mut scratch, &mut wa).unwrap();
                let b = fast.apply(&pts, &mut scratch, &mut wb).unwrap();
                assert_eq!(wa, wb, "{name} window sizes, round {round}");
                let bits = |ps: &[FPoint]| -> Vec<(i64, u64)> {
                    ps.iter().map(|p| (p.t, p.f.to_bits())).collect()
                };
                assert_eq!(bits(&a), bits(&b), "{name}, round {round}");
            }
        }
    }

    #[test]
    fn reset_prefix_counts_decreases_only() {
        let pts: Vec<FPoint> = [1.0, 3.0, 2.0, f64::NAN, 1.0, 5.0, 4.0]
            .iter()
            .enumerate()
            .map(|(i, &f)| FPoint { t: i as i64, f })
            .collect();
        let prefix = reset_prefix(&pts);
        assert_eq!(prefix, vec![0, 0, 0, 1, 1, 1, 1, 2]);
        assert_eq!(resets_between(&prefix, 0, 2), Some(0));
        assert_eq!(resets_between(&prefix, 0, 3), Some(1));
        assert_eq!(resets_between(&prefix, 2, 6), Some(0));
        assert_eq!(resets_between(&prefix, 2, 7), Some(1));
        assert_eq!(resets_between(&prefix, 3, 4), None);
        assert_eq!(resets_between(&prefix, 0, 9), None);
    }
}
