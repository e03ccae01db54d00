//! Aggregations of one series over its range window: `avg_over_time`,
//! `sum_over_time`, `min_over_time`, `max_over_time`, `count_over_time`,
//! `last_over_time`, `first_over_time`, `present_over_time`, `stddev_over_time`,
//! `stdvar_over_time`, `quantile_over_time`, `mad_over_time`, `changes`,
//! `resets` and the `ts_of_*_over_time` family.
//!
//! Every kernel returns `Ok(None)` for an empty window (no output series at that
//! step) and otherwise one value. Sums use compensated summation
//! ([`super::kahan`]) so that results equal Prometheus 3.x's bit for bit; the
//! semantics are those of the same-named `func*` in `promql/functions.go`.

use super::kahan::{kahan_inc, KahanSum};
use super::quantile::quantile;
use super::{FunctionError, RangeWindow, WindowMode};
use crate::value::FPoint;

type KernelResult = Result<Option<f64>, FunctionError>;

/// `avg_over_time`: the mean, as a compensated sum divided by the count while the
/// sum stays finite, switching to an incremental mean once it would overflow
/// (Prometheus 3.x `funcAvgOverTime`: the direct mean proved more accurate, the
/// incremental one survives values near `f64::MAX`).
pub fn avg_over_time(w: &RangeWindow<'_>, _: &[f64], _: &mut Vec<f64>) -> KernelResult {
    let Some((first, rest)) = w.points.split_first() else {
        return Ok(None);
    };
    let (mut sum, mut c, mut count) = (first.f, 0.0, 1.0);
    let mut mean = 0.0;
    let mut incremental = false;
    for p in rest {
        count += 1.0;
        if !incremental {
            let (new_sum, new_c) = kahan_inc(p.f, sum, c);
            if !new_sum.is_infinite() {
                (sum, c) = (new_sum, new_c);
                continue;
            }
            // Overflow: continue with the incremental mean of what we have so far.
            incremental = true;
            mean = sum / (count - 1.0);
            c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (mean, c) = kahan_inc(p.f / count, q * mean, q * c);
    }
    Ok(Some(if incremental {
        mean + c
    } else {
        sum / count + c / count
    }))
}

/// `sum_over_time`: compensated sum; an infinite sum is returned without the
/// compensation term.
pub fn sum_over_time(w: &RangeWindow<'_>, _: &[f64], _: &mut Vec<f64>) -> KernelResult {
    if w.points.is_empty() {
        return Ok(None);
    }
    let mut sum = KahanSum::new();
    for p in w.points {
        sum.add(p.f);
    }
    Ok(Some(sum.value()))
}

/// `count_over_time`: the number of samples.
pub fn count_over_time(w: &RangeWindow<'_>, _: &[f64], _: &mut Vec<f64>) -> KernelResult {
    Ok((!w.points.is_empty()).then_some(w.points.len() as f64))
}

/// `present_over_time`: 1 if the window has any sample.
pub fn present_over_time(w: &RangeWindow<'_>, _: &[f64], _: &mut Vec<f64>) -> KernelResult {
    Ok((!w.points.is_empty()).then_some(1.0))
}

/// `last_over_time`: the newest sample's value.
pub fn last_over_time(w: &RangeWindow<'_>, _: &[f64], _: &mut Vec<f64>) -> KernelResult {
    Ok(w.points.last().map(|p| p.f))
}

/// `first_over_time`: the oldest sample's value.
pub fn first_over_time(w: &RangeWindow<'_>, _: &[f64], _: &mut Vec<f64>) -> KernelResult {
    Ok(w.points.first().map(|p| p.f))
}

/// `ts_of_last_over_time`: the newest sample's timestamp in seconds.
pub fn ts_of_last_over_time(w: &RangeWindow<'_>, _: &[f64], _: &mut Vec<f64>) -> KernelResult {
    Ok(w.points.last().map(|p| seconds(p.t)))
}

/// `ts_of_first_over_time`: the oldest sample's timestamp in seconds.
pub fn ts_of_first_over_time(w: &RangeWindow<'_>, _: &[f64], _: &mut Vec<f64>) -> KernelResult {
    Ok(w.points.first().map(|p| seconds(p.t)))
}

fn seconds(t_ms: i64) -> f64 {
    t_ms as f64 / 1000.0
}

/// Scans for the extreme sample: `replaces(candidate, best)` says whether a
/// later sample takes over. NaN is only kept while nothing better is seen, as
/// in Prometheus's `compareOverTime`.
fn extreme(points: &[FPoint], replaces: fn(f64, f64) -> bool) -> Option<FPoint> {
    let (first, _) = points.split_first()?;
    let mut best = *first;
    for p in points {
        if replaces(p.f, best.f) || best.f.is_nan() {
            best = *p;
        }
    }
    Some(best)
}

/// `max_over_time`: the largest value; NaN only if all values are NaN.
pub fn max_over_time(w: &RangeWindow<'_>, _: &[f64], _: &mut Vec<f64>) -> KernelResult {
    Ok(extreme(w.points, |cur, best| cur > best).map(|p| p.f))
}

/// `min_over_time`: the smallest value; NaN only if all values are NaN.
pub fn min_over_time(w: &RangeWindow<'_>, _: &[f64], _: &mut Vec<f64>) -> KernelResult {
    Ok(extreme(w.points, |cur, best| cur < best).map(|p| p.f))
}

/// `ts_of_max_over_time`: timestamp (s) of the largest value, the newest on ties.
pub fn ts_of_max_over_time(w: &RangeWindow<'_>, _: &[f64], _: &mut Vec<f64>) -> KernelResult {
    Ok(extreme(w.points, |cur, best| cur >= best).map(|p| seconds(p.t)))
}

/// `ts_of_min_over_time`: timestamp (s) of the smallest value, the newest on ties.
pub fn ts_of_min_over_time(w: &RangeWindow<'_>, _: &[f64], _: &mut Vec<f64>) -> KernelResult {
    Ok(extreme(w.points, |cur, best| cur <= best).map(|p| seconds(p.t)))
}

/// The population variance by Welford's method with compensated running terms
/// (Prometheus 3.x `varianceOverTime`).
fn variance(points: &[FPoint]) -> Option<f64> {
    if points.is_empty() {
        return None;
    }
    let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for p in points {
        count += 1.0;
        let delta = p.f - (mean + c_mean);
        (mean, c_mean) = kahan_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_inc(delta * (p.f - (mean + c_mean)), aux, c_aux);
    }
    Some((aux + c_aux) / count)
}

/// `stdvar_over_time`: population variance.
pub fn stdvar_over_time(w: &RangeWindow<'_>, _: &[f64], _: &mut Vec<f64>) -> KernelResult {
    Ok(variance(w.points))
}

/// `stddev_over_time`: population standard deviation.
pub fn stddev_over_time(w: &RangeWindow<'_>, _: &[f64], _: &mut Vec<f64>) -> KernelResult {
    Ok(variance(w.points).map(f64::sqrt))
}

/// `quantile_over_time(q, m)`: `params[0]` is `q`; see [`quantile`]. The caller
/// warns when `q` is outside [0, 1].
pub fn quantile_over_time(
    w: &RangeWindow<'_>,
    params: &[f64],
    scratch: &mut Vec<f64>,
) -> KernelResult {
    if w.points.is_empty() {
        return Ok(None);
    }
    let q = params.first().copied().unwrap_or(f64::NAN);
    fill_values(scratch, w.points);
    Ok(Some(quantile(q, scratch)))
}

/// `mad_over_time`: the median absolute deviation from the median. A NaN sample
/// makes the result NaN (Prometheus 3.x after PR 19040; before, the NaN sorted
/// away from the median and was silently ignored).
pub fn mad_over_time(w: &RangeWindow<'_>, _: &[f64], scratch: &mut Vec<f64>) -> KernelResult {
    if w.points.is_empty() {
        return Ok(None);
    }
    if w.points.iter().any(|p| p.f.is_nan()) {
        return Ok(Some(f64::NAN));
    }
    fill_values(scratch, w.points);
    let median = quantile(0.5, scratch);
    for v in scratch.iter_mut() {
        *v = (*v - median).abs();
    }
    Ok(Some(quantile(0.5, scratch)))
}

fn fill_values(scratch: &mut Vec<f64>, points: &[FPoint]) {
    scratch.clear();
    scratch.extend(points.iter().map(|p| p.f));
}

/// For an anchored window, the samples from the last one at or before the window
/// start; `None` when no sample lies inside the window at all. Plain windows are
/// returned whole (Prometheus 3.x `pickFirstSampleIndex`).
fn anchored_points<'a>(w: &RangeWindow<'a>) -> Option<&'a [FPoint]> {
    if w.mode != WindowMode::Anchored {
        return Some(w.points);
    }
    let last = w.points.last()?;
    if last.t <= w.range_start_ms {
        return None;
    }
    let inside = w.points.partition_point(|p| p.t <= w.range_start_ms);
    w.points.get(inside.saturating_sub(1)..)
}

/// Counts consecutive pairs for which `differs(previous, current)` holds.
fn count_pairs(w: &RangeWindow<'_>, differs: fn(f64, f64) -> bool) -> KernelResult {
    if w.points.is_empty() {
        return Ok(None);
    }
    let Some(points) = anchored_points(w) else {
        return Ok(None);
    };
    let n = points
        .windows(2)
        .filter(|pair| matches!(pair, [a, b] if differs(a.f, b.f)))
        .count();
    Ok(Some(n as f64))
}

/// `changes`: how often the value changed; NaN to NaN is no change.
pub fn changes(w: &RangeWindow<'_>, _: &[f64], _: &mut Vec<f64>) -> KernelResult {
    count_pairs(w, |prev, cur| {
        cur != prev && !(cur.is_nan() && prev.is_nan())
    })
}

/// `resets`: how often the value decreased (a counter reset).
pub fn resets(w: &RangeWindow<'_>, _: &[f64], _: &mut Vec<f64>) -> KernelResult {
    count_pairs(w, |prev, cur| cur < prev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::RangeKernel;

    fn pts(values: &[f64]) -> Vec<FPoint> {
        values
            .iter()
            .enumerate()
            .map(|(i, &f)| FPoint {
                t: (i as i64 + 1) * 1000,
                f,
            })
            .collect()
    }

    fn run(k: RangeKernel, values: &[f64], params: &[f64]) -> Option<f64> {
        let points = pts(values);
        let w = RangeWindow {
            points: &points,
            range_start_ms: 0,
            range_end_ms: values.len() as i64 * 1000,
            eval_ts_ms: values.len() as i64 * 1000,
            mode: WindowMode::Plain,
        };
        k(&w, params, &mut Vec::new()).ok().flatten()
    }

    const ALL: [RangeKernel; 17] = [
        avg_over_time,
        sum_over_time,
        count_over_time,
        present_over_time,
        last_over_time,
        first_over_time,
        ts_of_last_over_time,
        ts_of_first_over_time,
        max_over_time,
        min_over_time,
        ts_of_max_over_time,
        ts_of_min_over_time,
        stdvar_over_time,
        stddev_over_time,
        quantile_over_time,
        mad_over_time,
        changes,
    ];

    #[test]
    fn empty_window_gives_no_output() {
        for k in ALL.iter().copied().chain([resets as RangeKernel]) {
            assert_eq!(run(k, &[], &[0.5]), None);
        }
    }

    #[test]
    fn single_sample() {
        assert_eq!(run(avg_over_time, &[3.0], &[]), Some(3.0));
        assert_eq!(run(sum_over_time, &[3.0], &[]), Some(3.0));
        assert_eq!(run(count_over_time, &[3.0], &[]), Some(1.0));
        assert_eq!(run(stddev_over_time, &[3.0], &[]), Some(0.0));
        assert_eq!(run(changes, &[3.0], &[]), Some(0.0));
        assert_eq!(run(resets, &[3.0], &[]), Some(0.0));
        assert_eq!(run(quantile_over_time, &[3.0], &[0.9]), Some(3.0));
        assert_eq!(run(ts_of_last_over_time, &[3.0], &[]), Some(1.0));
    }

    #[test]
    fn basic_aggregates() {
        let v = [1.0, 5.0, 2.0, 5.0, 3.0];
        assert_eq!(run(sum_over_time, &v, &[]), Some(16.0));
        assert_eq!(run(avg_over_time, &v, &[]), Some(3.2));
        assert_eq!(run(max_over_time, &v, &[]), Some(5.0));
        assert_eq!(run(min_over_time, &v, &[]), Some(1.0));
        // Ties resolve to the newest sample.
        assert_eq!(run(ts_of_max_over_time, &v, &[]), Some(4.0));
        assert_eq!(run(ts_of_min_over_time, &v, &[]), Some(1.0));
        assert_eq!(run(first_over_time, &v, &[]), Some(1.0));
        assert_eq!(run(last_over_time, &v, &[]), Some(3.0));
        assert_eq!(run(changes, &v, &[]), Some(4.0));
        assert_eq!(run(resets, &v, &[]), Some(2.0));
        assert_eq!(run(quantile_over_time, &v, &[0.5]), Some(3.0));
        // |v - 3| = 2, 2, 1, 2, 0 → median 2.
        assert_eq!(run(mad_over_time, &v, &[]), Some(2.0));
        assert_eq!(run(stdvar_over_time, &v, &[]), Some(2.56));
    }

    #[test]
    fn nan_handling() {
        // NaN loses against any number, and NaN→NaN is no change.
        assert_eq!(
            run(max_over_time, &[f64::NAN, 1.0, f64::NAN], &[]),
            Some(1.0)
        );
        assert_eq!(run(min_over_time, &[2.0, f64::NAN, 1.0], &[]), Some(1.0));
        assert!(run(max_over_time, &[f64::NAN, f64::NAN], &[]).is_some_and(f64::is_nan));
        assert_eq!(run(changes, &[f64::NAN, f64::NAN, 1.0], &[]), Some(1.0));
        assert!(run(mad_over_time, &[1.0, 2.0, f64::NAN, 4.0], &[]).is_some_and(f64::is_nan));
        assert!(run(sum_over_time, &[1.0, f64::NAN], &[]).is_some_and(f64::is_nan));
        assert!(run(quantile_over_time, &[1.0], &[f64::NAN]).is_some_and(f64::is_nan));
        assert_eq!(run(quantile_over_time, &[1.0], &[2.0]), Some(f64::INFINITY));
    }

    #[test]
    fn infinities() {
        assert_eq!(
            run(sum_over_time, &[f64::INFINITY, 1.0], &[]),
            Some(f64::INFINITY)
        );
        assert!(
            run(sum_over_time, &[f64::INFINITY, f64::NEG_INFINITY], &[]).is_some_and(f64::is_nan)
        );
        assert_eq!(
            run(avg_over_time, &[f64::INFINITY, 1.0], &[]),
            Some(f64::INFINITY)
        );
    }

    #[test]
    fn avg_survives_overflowing_sum() {
        let v = [f64::MAX, f64::MAX, f64::MAX];
        let got = run(avg_over_time, &v, &[]).unwrap_or(f64::NAN);
        assert!(((got - f64::MAX) / f64::MAX).abs() < 1e-12, "{got}");
        let v = [f64::MAX, -f64::MAX / 2.0, f64::MAX];
        let expected = (f64::MAX / 3.0) * 1.5;
        let got = run(avg_over_time, &v, &[]).unwrap_or(f64::NAN);
        assert!(
            ((got - expected) / expected).abs() < 1e-12,
            "{got} vs {expected}"
        );
    }

    #[test]
    fn compensated_sum_is_exact_where_naive_is_not() {
        // Prometheus's functions.test: sum_over_time over 1e100, 1, -1e100 is 1… in
        // Kahan summation; a naive sum gives 0.
        assert_eq!(run(sum_over_time, &[1e100, 1.0, -1e100], &[]), Some(1.0));
        assert_eq!(
            run(avg_over_time, &[1e100, 1.0, -1e100], &[]),
            Some(1.0 / 3.0)
        );
    }

    #[test]
    fn anchored_changes_start_from_the_sample_before_the_window() {
        let points = [
            FPoint { t: 0, f: 1.0 },
            FPoint { t: 10, f: 2.0 },
            FPoint { t: 20, f: 1.0 },
        ];
        let anchored = RangeWindow {
            points: &points,
            range_start_ms: 5,
            range_end_ms: 20,
            eval_ts_ms: 20,
            mode: WindowMode::Anchored,
        };
        assert_eq!(changes(&anchored, &[], &mut Vec::new()), Ok(Some(2.0)));
        assert_eq!(resets(&anchored, &[], &mut Vec::new()), Ok(Some(1.0)));
        // Nothing inside the window: no output.
        let before = RangeWindow {
            points: &points[..1],
            ..anchored
        };
        assert_eq!(changes(&before, &[], &mut Vec::new()), Ok(None));
    }
}
