//! Range-vector functions (`rate(m[5m])`, `max_over_time(g[1h])`, ...) applied
//! per series across all steps.
//!
//! Each series is read once; the step windows `(end - range, end]` slide over
//! its samples with two cursors and the kernel sees one window at a time.
//! `max_over_time`/`min_over_time` skip the kernel and keep a monotonic queue
//! of window candidates, so a long range costs O(samples + steps) instead of
//! O(samples × steps); the result is the same (NaN only if every sample is
//! NaN). Plain `rate`/`increase` count each series' counter resets once into a
//! prefix sum; a window that holds none skips the kernel's per-window reset
//! scan and gets the same bits (the scan would add `-0.0`), while windows with
//! resets still run the kernel's exact in-order sum. Matrix-selector inputs
//! with many series are split over two threads:
//! series are independent, and the output keeps storage order.

use super::selectors::{read_range_samples, Slider, Windows};
use super::{Grid, Interrupt, StepSeries};
use crate::error::QueryError;
use crate::functions::{rate, RangeKernel, RangeWindow, WindowMode};
use crate::storage::StorageSeries;
use crate::value::{FPoint, Labels};

/// Below this many series a query stays on one thread: spawning costs more.
const PARALLEL_MIN_SERIES: usize = 2_000;

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

/// Which extreme a sliding-window shortcut keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Extreme {
    /// `max_over_time`
    Max,
    /// `min_over_time`
    Min,
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

/// Where a worker puts each series' output points, in input order. Each
/// worker owns one sink; the second worker's sink is merged into the first's.
pub(crate) trait SeriesSink: Send {
    /// Takes one series' output (non-empty, time-ordered).
    fn accept(&mut self, labels: &Labels, points: Vec<FPoint>);
    /// Appends the output of a later worker (whose series come after ours).
    fn merge(&mut self, later: Self);
}

/// A sink that keeps every output series (the plain range-function result).
pub(crate) struct Collect {
    /// Output series in input order.
    pub series: Vec<StepSeries>,
    /// Whether outputs keep `__name__` (else it is dropped at the end).
    pub keeps_name: bool,
}

impl SeriesSink for Collect {
    fn accept(&mut self, labels: &Labels, points: Vec<FPoint>) {
        self.series.push(StepSeries {
            metric: labels.clone(),
            drop_name: !self.keeps_name,
            points,
        });
    }

    fn merge(&mut self, later: Self) {
        self.series.extend(later.series);
    }
}

/// Counters of one run over storage series.
#[derive(Default)]
pub(crate) struct RunStats {
    /// Samples read from storage.
    pub samples_loaded: u64,
    /// Per step, how many samples all windows of that step held together (what
    /// Prometheus would hold in memory for the step; checked against the limit).
    pub window_samples: Vec<usize>,
    /// Metric names of series with output that do not look like counters (for
    /// the "might not be a counter" info), when the function expects counters.
    pub non_counters: Vec<String>,
}

impl RunStats {
    /// The largest number of samples any one step's windows held.
    pub fn peak_window_samples(&self) -> usize {
        self.window_samples.iter().copied().max().unwrap_or(0)
    }

    fn merge(&mut self, later: RunStats) {
        self.samples_loaded += later.samples_loaded;
        for (x, y) in self.window_samples.iter_mut().zip(later.window_samples) {
            *x += y;
        }
        for n in later.non_counters {
            if !self.non_counters.contains(&n) {
                self.non_counters.push(n);
            }
        }
    }
}

/// Metric-name suffixes that mark a counter (or a counter-like histogram part).
const COUNTER_SUFFIXES: [&str; 4] = ["_total", "_sum", "_count", "_bucket"];

/// Whether a metric name looks like a counter's.
pub(crate) fn is_counter_name(name: &str) -> bool {
    COUNTER_SUFFIXES.iter().any(|s| name.ends_with(s))
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
            return Ok(self.sliding_extreme(points, e, window_samples));
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

    /// Max or min per window with a monotonic queue of candidate indices.
    fn sliding_extreme(
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

    /// Reads and applies the function to `series` in order, on this thread.
    fn run_chunk<S: SeriesSink>(
        &self,
        series: &[Box<dyn StorageSeries + '_>],
        interrupt: Interrupt<'_>,
        max_samples: usize,
        sink: &mut S,
    ) -> Result<RunStats, QueryError> {
        let mut stats = RunStats {
            window_samples: vec![0; self.grid.len()],
            ..RunStats::default()
        };
        let mut buf = Vec::new();
        let mut scratch = Vec::new();
        for s in series {
            interrupt.check()?;
            stats.samples_loaded += read_range_samples(s.as_ref(), &mut buf, max_samples)?;
            let points = self.apply(&buf, &mut scratch, &mut stats.window_samples)?;
            if points.is_empty() {
                continue;
            }
            if self.expects_counter {
                let name = s.labels().metric_name().unwrap_or("");
                if !name.is_empty()
                    && !is_counter_name(name)
                    && !stats.non_counters.iter().any(|n| n == name)
                {
                    stats.non_counters.push(name.to_string());
                }
            }
            sink.accept(s.labels(), points);
        }
        Ok(stats)
    }

    /// Runs over selected storage series, on two threads when there are many;
    /// `make_sink` gives each worker its sink.
    pub fn run_selected<S: SeriesSink>(
        &self,
        series: Vec<Box<dyn StorageSeries + '_>>,
        interrupt: Interrupt<'_>,
        max_samples: usize,
        make_sink: &(dyn Fn() -> S + Sync),
    ) -> Result<(S, RunStats), QueryError> {
        let work = |chunk: &[Box<dyn StorageSeries + '_>]| {
            let mut sink = make_sink();
            self.run_chunk(chunk, interrupt, max_samples, &mut sink)
                .map(|stats| (sink, stats))
        };
        let ((mut sink, mut stats), second) = in_two_halves(series, &work)?;
        if let Some((second_sink, second_stats)) = second {
            sink.merge(second_sink);
            stats.merge(second_stats);
        }
        Ok((sink, stats))
    }
}

/// Work done on one contiguous chunk of selected series.
pub(crate) type ChunkWork<'w, 's, T> =
    dyn Fn(&[Box<dyn StorageSeries + 's>]) -> Result<T, QueryError> + Sync + 'w;

/// Runs `work` over `series`, split into two halves on two threads when there
/// are many series (the second half's result comes second), else on this
/// thread alone.
pub(crate) fn in_two_halves<'s, T: Send>(
    series: Vec<Box<dyn StorageSeries + 's>>,
    work: &ChunkWork<'_, 's, T>,
) -> Result<(T, Option<T>), QueryError> {
    if series.len() < PARALLEL_MIN_SERIES {
        return Ok((work(&series)?, None));
    }
    let mut first = series;
    let second = first.split_off(first.len() / 2);
    let (a, b) = std::thread::scope(|scope| {
        let worker = scope.spawn(move || work(&second));
        let a = work(&first);
        let b = worker
            .join()
            .unwrap_or_else(|_| Err(QueryError::execution("query worker panicked")));
        (a, b)
    });
    Ok((a?, Some(b?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::lookup;
    use crate::functions::Implementation;
    use crate::functions::WindowMode;

    fn kernel(name: &str) -> RangeKernel {
        match lookup(name).map(|f| f.implementation) {
            Some(Implementation::Range(k)) => k,
            _ => panic!("{name} is not a range function"),
        }
    }

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

    /// A plain `[range]` window with no offset, `@` or lookback.
    fn plain_window(range: i64) -> Windows {
        Windows {
            range,
            offset: 0,
            at: None,
            mode: WindowMode::Plain,
            lookback: 0,
        }
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
