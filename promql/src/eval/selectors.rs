//! Vector and matrix selectors: the only place the evaluator reads storage.
//!
//! An instant vector selector takes, at each step, the newest sample in the
//! lookback window `(ref - lookback, ref]` where `ref = (@ or step) - offset`;
//! a staleness marker as that newest sample means "no value". A range window
//! is left-open too, `(ref - range, ref]`, and never contains stale markers.
//! Each series is read once for all steps into a reused buffer (or lent by
//! in-memory storage), and windows slide over it with two cursors, so work is
//! linear in samples plus steps.

use promql_parser::parser::{MatrixSelector, VectorSelector};

use super::range_fn::output_capacity;
use super::range_run::{deliver, in_two_halves, Collect, SeriesSink};
use super::{duration_ms, offset_ms, Evaluator, Grid, StepSeries};
use crate::error::QueryError;
use crate::extended_range::MODE_LABEL;
use crate::functions::WindowMode;
use crate::points::Points;
use crate::storage::{MatchOp, Matcher, StorageSeries};
use crate::value::{is_stale_nan, FPoint, Labels, Series, METRIC_NAME};

/// Where a range window sits relative to each step.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Windows {
    /// Window length, ms.
    pub range: i64,
    /// `offset`, ms (negative for `offset -5m`).
    pub offset: i64,
    /// `@` time, ms, when given: every step then sees the same window.
    pub at: Option<i64>,
    /// `anchored`/`smoothed` extend the window by one sample on either side.
    pub mode: WindowMode,
    /// How far outside the window those extra samples may lie, ms.
    pub lookback: i64,
}

impl Windows {
    /// The inclusive end of the window for a step at `t`.
    pub fn end(&self, t: i64) -> i64 {
        self.at.unwrap_or(t).saturating_sub(self.offset)
    }

    /// Smallest and largest window ends over the grid.
    pub fn end_bounds(&self, grid: Grid) -> (i64, i64) {
        (self.end(grid.start), self.end(grid.end))
    }

    /// The inclusive time range to read from storage for all of the grid's windows.
    pub fn select_bounds(&self, grid: Grid) -> (i64, i64) {
        let (min_end, max_end) = self.end_bounds(grid);
        let before = if self.mode == WindowMode::Plain {
            0
        } else {
            self.lookback
        };
        let after = if self.mode == WindowMode::Smoothed {
            self.lookback
        } else {
            0
        };
        (
            min_end
                .saturating_sub(self.range)
                .saturating_sub(before)
                .saturating_add(1),
            max_end.saturating_add(after),
        )
    }

    /// Widens the window `points[lo..hi]` = `(start, end]` by the sample just
    /// before `start` (anchored, smoothed) and just after `end` (smoothed), each
    /// only if within the lookback delta.
    pub fn extend(
        &self,
        points: &[FPoint],
        lo: usize,
        hi: usize,
        start: i64,
        end: i64,
    ) -> (usize, usize) {
        if self.mode == WindowMode::Plain {
            return (lo, hi);
        }
        let lo = match lo.checked_sub(1).and_then(|i| points.get(i)) {
            Some(p) if p.t > start.saturating_sub(self.lookback) => lo - 1,
            _ => lo,
        };
        let hi = match points.get(hi) {
            Some(p)
                if self.mode == WindowMode::Smoothed
                    && p.t <= end.saturating_add(self.lookback) =>
            {
                hi + 1
            }
            _ => hi,
        };
        (lo, hi)
    }
}

/// Two cursors over sorted points that yield the window `(start, end]` for
/// non-decreasing `start` and `end`.
#[derive(Default)]
pub(crate) struct Slider {
    lo: usize,
    hi: usize,
}

impl Slider {
    /// The points with `start < t <= end`.
    pub fn window<'p>(&mut self, points: &'p [FPoint], start: i64, end: i64) -> &'p [FPoint] {
        let (lo, hi) = self.bounds(points, start, end);
        points.get(lo..hi).unwrap_or(&[])
    }

    /// Index range of the points with `start < t <= end`.
    pub fn bounds(&mut self, points: &[FPoint], start: i64, end: i64) -> (usize, usize) {
        while points.get(self.lo).is_some_and(|p| p.t <= start) {
            self.lo += 1;
        }
        if self.hi < self.lo {
            self.hi = self.lo;
        }
        while points.get(self.hi).is_some_and(|p| p.t <= end) {
            self.hi += 1;
        }
        (self.lo, self.hi)
    }
}

/// Called with each series of a matrix selector: labels, samples, window placement.
pub(crate) type MatrixVisitor<'f> =
    dyn FnMut(&Labels, &[FPoint], &Windows) -> Result<(), QueryError> + 'f;

/// Called with each series of a range-vector argument: labels, whether its name
/// is to be dropped, samples, window placement.
pub(crate) type RangeVisitor<'f> =
    dyn FnMut(&Labels, bool, &[FPoint], &Windows) -> Result<(), QueryError> + 'f;

/// One series' samples for range windows, stale markers dropped (they never
/// belong to a range), with how many samples storage gave. The samples are
/// lent by storage when it holds them in memory without stale markers (the
/// common case: no copy), else collected into `buf`.
pub(crate) fn range_samples<'b>(
    s: &'b dyn StorageSeries,
    buf: &'b mut Vec<FPoint>,
    max_samples: usize,
) -> Result<(&'b [FPoint], u64), QueryError> {
    buf.clear();
    if let Some(lent) = s.floats_slice_without_stale() {
        // Storage vouches for no markers: the samples are first touched by
        // the caller's window pass, not by a scan here.
        if lent.len() > max_samples {
            return Err(QueryError::TooManySamples {
                stage: "query execution",
            });
        }
        return Ok((lent, lent.len() as u64));
    }
    let (points, read): (&[FPoint], usize) = match s.floats_slice() {
        Some(lent) if !lent.iter().any(|p| is_stale_nan(p.f)) => (lent, lent.len()),
        Some(lent) => {
            buf.extend(lent.iter().filter(|p| !is_stale_nan(p.f)));
            (buf, lent.len())
        }
        None => {
            s.read_floats(buf)?;
            let read = buf.len();
            buf.retain(|p| !is_stale_nan(p.f));
            (buf, read)
        }
    };
    if points.len() > max_samples {
        return Err(QueryError::TooManySamples {
            stage: "query execution",
        });
    }
    Ok((points, read as u64))
}

/// One series' samples as storage gives them (stale markers included), lent
/// when storage holds them in memory, else read into `buf`.
fn all_samples<'b>(
    s: &'b dyn StorageSeries,
    buf: &'b mut Vec<FPoint>,
) -> Result<&'b [FPoint], QueryError> {
    if let Some(lent) = s.floats_slice() {
        return Ok(lent);
    }
    buf.clear();
    s.read_floats(buf)?;
    Ok(buf)
}

/// Converts a selector's name and matchers into storage matchers, taking out
/// the reserved matcher that carries an `anchored`/`smoothed` modifier.
pub(crate) fn selector_matchers(
    vs: &VectorSelector,
) -> Result<(Vec<Matcher>, WindowMode), QueryError> {
    use promql_parser::label::MatchOp as P;
    if !vs.matchers.or_matchers.is_empty() {
        return Err(QueryError::bad_data(
            "parse error: unexpected \"or\" in label matching",
        ));
    }
    let mut out = Vec::with_capacity(vs.matchers.matchers.len() + 1);
    if let Some(name) = &vs.name {
        out.push(Matcher::new(MatchOp::Equal, METRIC_NAME, name).map_err(bad_regex)?);
    }
    let mut mode = WindowMode::Plain;
    for m in &vs.matchers.matchers {
        if m.name == MODE_LABEL {
            mode = if m.value == "smoothed" {
                WindowMode::Smoothed
            } else {
                WindowMode::Anchored
            };
            continue;
        }
        let op = match m.op {
            P::Equal => MatchOp::Equal,
            P::NotEqual => MatchOp::NotEqual,
            P::Re(_) => MatchOp::Regex,
            P::NotRe(_) => MatchOp::NotRegex,
        };
        out.push(Matcher::new(op, &m.name, &m.value).map_err(bad_regex)?);
    }
    Ok((out, mode))
}

fn bad_regex(e: crate::storage::MatcherError) -> QueryError {
    QueryError::bad_data(format!("parse error: {e}"))
}

/// `m smoothed`: the value linearly interpolated at `end` between the sample
/// before it (`points[idx - 1]`, value `f`) and the next sample within the
/// lookback delta; `f` itself for plain selectors or without a next sample.
fn smooth(points: &[FPoint], idx: usize, end: i64, lookback: i64, f: f64, mode: WindowMode) -> f64 {
    if mode != WindowMode::Smoothed {
        return f;
    }
    let (Some(prev), Some(next)) = (
        idx.checked_sub(1).and_then(|i| points.get(i)),
        points.get(idx),
    ) else {
        return f;
    };
    if prev.t == end
        || next.t > end.saturating_add(lookback)
        || is_stale_nan(next.f)
        || next.t == prev.t
    {
        return f;
    }
    f + (next.f - f) * (end - prev.t) as f64 / (next.t - prev.t) as f64
}

/// One series' instant-selector value at every step: the newest sample in
/// each lookback window (smoothed if asked), or nothing where there is none.
fn instant_points(
    buf: &[FPoint],
    grid: Grid,
    win: &Windows,
    what: SelectorValue,
    points: &mut Vec<FPoint>,
) {
    let lookback = win.lookback;
    points.reserve(output_capacity(grid, buf.len(), lookback));
    if win.at.is_some() {
        let end = win.end(grid.start);
        let idx = buf.partition_point(|p| p.t <= end);
        if let Some(f) = lookback_value(buf, idx, end, lookback, what)
            .map(|f| smooth(buf, idx, end, lookback, f, win.mode))
        {
            points.extend(grid.times().map(|t| FPoint { t, f }));
        }
        return;
    }
    let mut idx = 0;
    for t in grid.times() {
        let end = win.end(t);
        while buf.get(idx).is_some_and(|p| p.t <= end) {
            idx += 1;
        }
        if let Some(f) = lookback_value(buf, idx, end, lookback, what)
            .map(|f| smooth(buf, idx, end, lookback, f, win.mode))
        {
            points.push(FPoint { t, f });
        }
    }
}

/// What an instant selector yields per step.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum SelectorValue {
    /// The sample's value.
    Sample,
    /// The sample's timestamp, in seconds.
    Timestamp,
}

/// The newest non-stale sample at or before `end` and after `end - lookback`.
fn lookback_value(
    points: &[FPoint],
    idx_after: usize,
    end: i64,
    lookback: i64,
    what: SelectorValue,
) -> Option<f64> {
    let p = points.get(idx_after.checked_sub(1)?)?;
    let v = match what {
        SelectorValue::Sample => p.f,
        SelectorValue::Timestamp => p.t as f64 / 1000.0,
    };
    (p.t > end - lookback && p.t <= end && !is_stale_nan(p.f)).then_some(v)
}

impl<'a> Evaluator<'a> {
    /// Evaluates `m{...} offset o @ a` at every step.
    pub(crate) fn eval_vector_selector(
        &mut self,
        vs: &VectorSelector,
        grid: Grid,
    ) -> Result<Vec<StepSeries>, QueryError> {
        self.eval_vector_selector_as(vs, grid, SelectorValue::Sample)
    }

    /// Evaluates a selector yielding each chosen sample's timestamp in seconds
    /// (what `timestamp(m)` returns).
    pub(crate) fn eval_vector_selector_timestamps(
        &mut self,
        vs: &VectorSelector,
        grid: Grid,
    ) -> Result<Vec<StepSeries>, QueryError> {
        self.eval_vector_selector_as(vs, grid, SelectorValue::Timestamp)
    }

    fn eval_vector_selector_as(
        &mut self,
        vs: &VectorSelector,
        grid: Grid,
        what: SelectorValue,
    ) -> Result<Vec<StepSeries>, QueryError> {
        let collect = || Collect::new(true, grid.len());
        Ok(self
            .run_vector_selector(vs, grid, what, &collect)?
            .into_series())
    }

    /// Evaluates an instant vector selector into sinks made by `make_sink`
    /// (one per worker), series in storage order.
    pub(crate) fn run_vector_selector<S: SeriesSink>(
        &mut self,
        vs: &VectorSelector,
        grid: Grid,
        what: SelectorValue,
        make_sink: &(dyn Fn() -> S + Sync),
    ) -> Result<S, QueryError> {
        let (matchers, mode) = selector_matchers(vs)?;
        let lookback = duration_ms(self.opts.lookback_delta).max(1);
        let win = Windows {
            range: lookback,
            offset: offset_ms(&vs.offset),
            at: self.resolve_at(&vs.at),
            mode: if mode == WindowMode::Smoothed {
                mode
            } else {
                WindowMode::Plain
            },
            lookback,
        };
        let (mint, maxt) = win.select_bounds(grid);
        let selected = self.storage.select(&matchers, mint, maxt)?;
        let interrupt = self.interrupt();
        let work = |chunk: &[Box<dyn StorageSeries + '_>]| -> Result<(S, u64), QueryError> {
            let mut sink = make_sink();
            sink.reserve(chunk.len());
            let mut loaded = 0u64;
            let mut buf = Vec::new();
            for (k, s) in chunk.iter().enumerate() {
                interrupt.check_series(k)?;
                let samples = all_samples(s.as_ref(), &mut buf)?;
                loaded += samples.len() as u64;
                deliver(&mut sink, s.labels(), |out| {
                    instant_points(samples, grid, &win, what, out);
                    Ok(())
                })?;
            }
            Ok((sink, loaded))
        };
        let ((mut sink, mut loaded), second) = in_two_halves(selected, &work)?;
        if let Some((more, more_loaded)) = second {
            sink.merge(more);
            loaded += more_loaded;
        }
        self.stats.samples_loaded += loaded;
        Ok(sink)
    }

    /// Selects the series of a matrix selector covering every window of the grid.
    pub(crate) fn select_matrix(
        &mut self,
        ms: &MatrixSelector,
        grid: Grid,
    ) -> Result<(Vec<Box<dyn StorageSeries + 'a>>, Windows), QueryError> {
        let vs = &ms.vs;
        let (matchers, mode) = selector_matchers(vs)?;
        let win = Windows {
            range: duration_ms(ms.range),
            offset: offset_ms(&vs.offset),
            at: self.resolve_at(&vs.at),
            mode,
            lookback: duration_ms(self.opts.lookback_delta).max(1),
        };
        let (mint, maxt) = win.select_bounds(grid);
        let selected = self.storage.select(&matchers, mint, maxt)?;
        Ok((selected, win))
    }

    /// Reads every series of a matrix selector once and calls `f` with its
    /// non-stale samples covering all of the grid's windows.
    pub(crate) fn for_each_matrix_series(
        &mut self,
        ms: &MatrixSelector,
        grid: Grid,
        f: &mut MatrixVisitor<'_>,
    ) -> Result<(), QueryError> {
        let (selected, win) = self.select_matrix(ms, grid)?;
        let mut buf = std::mem::take(&mut self.buf);
        for s in &selected {
            self.check_interrupt()?;
            let (points, read) = range_samples(s.as_ref(), &mut buf, self.opts.max_samples)?;
            self.stats.samples_loaded += read;
            f(s.labels(), points, &win)?;
        }
        self.buf = buf;
        Ok(())
    }

    /// A matrix selector as a query result (instant queries only): each series'
    /// samples in the window of the grid's single step.
    pub(crate) fn eval_matrix_selector_value(
        &mut self,
        ms: &MatrixSelector,
        grid: Grid,
    ) -> Result<Vec<Series>, QueryError> {
        let mut out = Vec::new();
        self.for_each_matrix_series(ms, grid, &mut |labels, points, win| {
            let end = win.end(grid.start);
            let floats: Points = points
                .iter()
                .filter(|p| p.t > end - win.range && p.t <= end)
                .copied()
                .collect();
            if !floats.is_empty() {
                out.push(Series {
                    metric: labels.clone(),
                    floats,
                });
            }
            Ok(())
        })?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{MemStorage, Storage};
    use crate::value::STALE_NAN_BITS;

    #[test]
    fn range_samples_lend_or_drop_stale_markers() {
        let mut s = MemStorage::new();
        let plain = Labels::from_pairs([("__name__", "a")]);
        let stale = Labels::from_pairs([("__name__", "b")]);
        for t in 1..=3 {
            s.add(plain.clone(), t, t as f64);
            s.add(stale.clone(), t, t as f64);
        }
        s.add(stale.clone(), 4, f64::from_bits(STALE_NAN_BITS));
        let mut buf = vec![FPoint { t: 0, f: 0.0 }];
        for (name, want_read) in [("a", 3), ("b", 4)] {
            let m = [Matcher::new(MatchOp::Equal, METRIC_NAME, name).unwrap()];
            let sel = s.select(&m, 0, 10).unwrap();
            let (points, read) = range_samples(sel[0].as_ref(), &mut buf, 100).unwrap();
            assert_eq!(read, want_read, "{name}");
            assert_eq!(points.iter().map(|p| p.t).collect::<Vec<_>>(), [1, 2, 3]);
            assert!(range_samples(sel[0].as_ref(), &mut buf, 2).is_err());
        }
    }

    #[test]
    fn slider_is_left_open_right_closed() {
        let pts: Vec<FPoint> = (0..5)
            .map(|i| FPoint {
                t: i * 10,
                f: i as f64,
            })
            .collect();
        let mut s = Slider::default();
        assert_eq!(s.window(&pts, 0, 20).len(), 2);
        assert_eq!(
            s.window(&pts, 10, 40)
                .iter()
                .map(|p| p.t)
                .collect::<Vec<_>>(),
            vec![20, 30, 40]
        );
        assert!(s.window(&pts, 40, 50).is_empty());
    }
}
