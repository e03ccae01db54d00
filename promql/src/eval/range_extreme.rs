//! `max_over_time`/`min_over_time` over a sliding window: a monotonic queue
//! of window candidates, so a long range costs O(samples + steps) instead of
//! O(samples × steps). The result is the generic kernel's (NaN only if every
//! sample in the window is NaN).

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

impl RangeApply<'_> {
    /// Max or min per window with a monotonic queue of candidate indices.
    pub(super) fn sliding_extreme(
        &self,
        points: &[FPoint],
        e: Extreme,
        window_samples: &mut [usize],
    ) -> Vec<FPoint> {
        let better = |a: f64, b: f64| match e {
            Extreme::Max => a >= b,
            Extreme::Min => a <= b,
        };
        let mut out = Vec::with_capacity(output_capacity(self.grid, points.len(), self.win.range));
        // A monotonic queue of candidate indices: `queue[head..]`, values
        // non-increasing (max) or non-decreasing (min) from front to back.
        let mut queue: Vec<usize> = Vec::with_capacity(points.len());
        let mut head = 0usize;
        let (mut lo, mut hi) = (0usize, 0usize);
        for (i, t) in self.grid.times().enumerate() {
            let end = self.win.end(t);
            let start = end.saturating_sub(self.win.range);
            while let Some(p) = points.get(hi).filter(|p| p.t <= end) {
                if !p.f.is_nan() {
                    while queue.len() > head
                        && queue
                            .last()
                            .and_then(|&b| points.get(b))
                            .is_some_and(|b| better(p.f, b.f))
                    {
                        queue.pop();
                    }
                    queue.push(hi);
                }
                hi += 1;
            }
            while lo < hi && points.get(lo).is_some_and(|p| p.t <= start) {
                lo += 1;
            }
            while queue.get(head).is_some_and(|&f| f < lo) {
                head += 1;
            }
            if lo >= hi {
                continue;
            }
            if let Some(n) = window_samples.get_mut(i) {
                *n += hi - lo;
            }
            let f = queue
                .get(head)
                .and_then(|&i| points.get(i))
                .map_or(f64::NAN, |p| p.f);
            out.push(FPoint { t, f });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::range_fn::tests::{kernel, plain_window};
    use crate::eval::selectors::Windows;
    use crate::eval::Grid;

    #[test]
    fn sliding_extreme_matches_kernel_on_random_series() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..50 {
            let mut t = 0;
            let pts: Vec<FPoint> = (0..200)
                .map(|_| {
                    t += 1 + (next() % 20) as i64;
                    let f = if next() % 10 == 0 {
                        f64::NAN
                    } else {
                        (next() % 100) as f64
                    };
                    FPoint { t, f }
                })
                .collect();
            let range = 1 + (next() % 100) as i64;
            let step = 1 + (next() % 15) as i64;
            let grid = Grid::new(0, t + 50, step);
            let win = plain_window(range);
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
            let a = slow.apply(pts, &mut scratch, &mut wa).unwrap();
            let b = fast.apply(pts, &mut scratch, &mut wb).unwrap();
            assert_eq!(wa, wb, "{name} window sizes");
            assert_eq!(a.len(), b.len(), "{name}");
            for (x, y) in a.iter().zip(&b) {
                assert!(
                    x.t == y.t && (x.f == y.f || (x.f.is_nan() && y.f.is_nan())),
                    "{name}: {x:?} vs {y:?}"
                );
            }
        }
    }
}
