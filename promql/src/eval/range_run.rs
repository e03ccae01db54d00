//! Running a range function over many selected series: one storage read
//! per series into a reused buffer (or lent by in-memory storage), the
//! output handed to a [`SeriesSink`],
//! and inputs with many series split over two threads (series are
//! independent; the output keeps storage order).

use std::ops::Range;
use std::sync::Arc;

use super::range_fn::RangeApply;
use super::selectors::range_samples;
use super::{Interrupt, StepSeries};
use crate::error::QueryError;
use crate::points::{self, Points, SharedBuffer};
use crate::storage::StorageSeries;
use crate::value::{FPoint, Labels};

/// Below this many series a query stays on one thread: spawning costs more.
pub(crate) const PARALLEL_MIN_SERIES: usize = 2_000;

/// Where a worker puts each series' output points, in input order. Each
/// worker owns one sink; the second worker's sink is merged into the first's.
/// A series' points are appended to the sink's [`SeriesSink::buffer`] (a
/// collecting sink's own storage, or scratch a folding sink reuses), then
/// handed over with [`SeriesSink::accept`]: no copy in between.
pub(crate) trait SeriesSink: Send {
    /// Where the next series' points are appended.
    fn buffer(&mut self) -> &mut Vec<FPoint>;
    /// Takes one series whose output (non-empty, time-ordered) is
    /// `buffer()[from..]`.
    fn accept(&mut self, labels: &Labels, from: usize);
    /// Appends the output of a later worker (whose series come after ours).
    fn merge(&mut self, later: Self);

    /// Prepares for up to `n` more series (a hint; the default ignores it).
    fn reserve(&mut self, n: usize) {
        let _ = n;
    }
}

/// Has `produce` append one series' points to `sink`'s buffer and hands them
/// over. Returns whether the series had any points.
pub(crate) fn deliver<S: SeriesSink>(
    sink: &mut S,
    labels: &Labels,
    produce: impl FnOnce(&mut Vec<FPoint>) -> Result<(), QueryError>,
) -> Result<bool, QueryError> {
    let out = sink.buffer();
    let from = out.len();
    produce(out)?;
    if out.len() == from {
        return Ok(false);
    }
    sink.accept(labels, from);
    Ok(true)
}

/// Most points [`Collect::reserve`] reserves room for at once (64 MiB): past
/// that, the buffer grows as points come.
const RESERVE_MAX_POINTS: usize = 1 << 22;

/// A sink that keeps every output series (the plain range-function result).
/// A worker's points all go into one buffer that its series then share (see
/// [`Points`](crate::Points) for why).
pub(crate) struct Collect {
    /// Whether outputs keep `__name__` (else it is dropped at the end).
    keeps_name: bool,
    /// Steps of the grid: no series has more points.
    steps: usize,
    /// This worker's points, series after series.
    points: Vec<FPoint>,
    /// Each accepted series and its range in `points`.
    spans: Vec<(Labels, Range<usize>)>,
    /// Merged later workers, in order.
    later: Vec<Collect>,
}

impl Collect {
    /// An empty sink for a grid of `steps` steps.
    pub fn new(keeps_name: bool, steps: usize) -> Self {
        Collect {
            keeps_name,
            steps,
            points: points::take_buffer(),
            spans: Vec::new(),
            later: Vec::new(),
        }
    }

    /// The collected series, in input order.
    pub fn into_series(mut self) -> Vec<StepSeries> {
        // `merge` keeps the parts flat: later workers hold no parts of their own.
        let later = std::mem::take(&mut self.later);
        let count = self.spans.len() + later.iter().map(|c| c.spans.len()).sum::<usize>();
        let mut out = Vec::with_capacity(count);
        for part in std::iter::once(self).chain(later) {
            let drop_name = !part.keeps_name;
            let buf = Arc::new(SharedBuffer::from(part.points));
            out.extend(part.spans.into_iter().map(|(metric, range)| StepSeries {
                metric,
                drop_name,
                points: Points::shared(Arc::clone(&buf), range),
            }));
        }
        out
    }
}

impl SeriesSink for Collect {
    fn buffer(&mut self) -> &mut Vec<FPoint> {
        &mut self.points
    }

    fn accept(&mut self, labels: &Labels, from: usize) {
        self.spans.push((labels.clone(), from..self.points.len()));
    }

    fn merge(&mut self, mut later: Self) {
        let more = std::mem::take(&mut later.later);
        self.later.push(later);
        self.later.extend(more);
    }

    fn reserve(&mut self, n: usize) {
        self.spans.reserve(n);
        let most = n.saturating_mul(self.steps).min(RESERVE_MAX_POINTS);
        self.points.reserve(most.saturating_sub(self.points.len()));
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
        sink.reserve(series.len());
        for (k, s) in series.iter().enumerate() {
            interrupt.check_series(k)?;
            // The next series' samples are asked for now, while this one
            // is computed: its first windows would wait on memory.
            if let Some(next) = series
                .get(k + 1)
                .and_then(|n| n.floats_slice_without_stale())
            {
                prefetch_start(next);
            }
            // And its labels, which the sink and the counter check read
            // first (a cache miss per series, ~6% of `sum by (x) (rate(..))`).
            if let Some(next) = series.get(k + 1) {
                prefetch_labels(next.labels());
            }
            let (samples, read) = range_samples(s.as_ref(), &mut buf, max_samples)?;
            stats.samples_loaded += read;
            let window_samples = &mut stats.window_samples;
            let produced = deliver(sink, s.labels(), |out| {
                self.apply(samples, &mut scratch, window_samples, out)
            })?;
            if !produced {
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

/// Hints the CPU to load all samples of a series into L2. Reading a
/// regular series starts with a scan of every sample (`rate_batch`), which
/// waited on memory; a series is a few KB, too short for the hardware
/// prefetcher to ramp up. The L2 hint matters: the same prefetches into L1
/// stalled, as L1 tracks far fewer misses in flight (measured: all lines
/// into L1 gained nothing, into L2 ~15% of sum_by_rate's CPU time).
fn prefetch_start(points: &[FPoint]) {
    #[cfg(target_arch = "x86_64")]
    for line in points.chunks(4) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T2};
        // SAFETY: SSE, which `_mm_prefetch` needs, is part of every x86-64
        // CPU; a prefetch reads nothing and never faults.
        unsafe { _mm_prefetch::<_MM_HINT_T2>(line.as_ptr().cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = points;
}

/// Hints the CPU to load a label set's labels (the name and value strings
/// they point to are often shared, hence already cached).
fn prefetch_labels(labels: &Labels) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let bytes = std::mem::size_of_val(labels.as_slice()).min(256);
        for offset in (0..bytes).step_by(64) {
            // SAFETY: SSE, which `_mm_prefetch` needs, is part of every
            // x86-64 CPU; a prefetch reads nothing and never faults, and the
            // address is inside the slice anyway.
            unsafe {
                _mm_prefetch::<_MM_HINT_T0>(
                    labels.as_slice().as_ptr().cast::<i8>().wrapping_add(offset),
                )
            };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = labels;
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
