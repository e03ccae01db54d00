//! Classic histograms: `histogram_quantile` and `histogram_fraction` over
//! cumulative `le` buckets of one series group.
//!
//! The evaluator groups the input series by their labels without `le` (and
//! without `__name__` unless names are kept), parses each `le` with
//! [`parse_le`], collects one [`Bucket`] per series and calls
//! [`bucket_quantile`] or [`bucket_fraction`] per group; it emits the
//! malformed-`le` warning and, when [`MonotonicityFix::forced`] is set, the
//! "input to histogram_quantile needed to be fixed for monotonicity" info.
//!
//! Semantics of Prometheus 3.x `BucketQuantile` and `BucketFraction`
//! (`promql/quantile.go`): buckets are sorted by upper bound and equal bounds
//! merged; the highest must be +Inf; counts that differ by a relative 1e-12 are
//! treated as equal (float noise), and any remaining decrease is flattened to
//! the previous count. The quantile interpolates linearly inside its bucket,
//! with 0 as the lower edge of a positive first bucket; a quantile in the +Inf
//! bucket is the highest finite bound.

/// One classic-histogram bucket: observations `<= upper_bound` (cumulative).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// The `le` value.
    pub upper_bound: f64,
    /// Cumulative count of observations at or below `upper_bound`.
    pub count: f64,
}

/// Relative difference below which adjacent bucket counts are considered equal
/// (float noise from summing rates, e.g. after query sharding).
pub const SMALL_DELTA_TOLERANCE: f64 = 1e-12;

/// What [`bucket_quantile`] had to repair in the bucket counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonotonicityFix {
    /// A count lower than a previous one was raised (emit the info annotation).
    pub forced: bool,
    /// Counts within [`SMALL_DELTA_TOLERANCE`] of each other were equalised.
    pub fixed_precision: bool,
    /// The lowest upper bound whose count was raised (+Inf if none).
    pub min_bucket: f64,
    /// The highest upper bound whose count was raised (-Inf if none).
    pub max_bucket: f64,
    /// The largest amount a count was raised by (0 if none).
    pub max_diff: f64,
}

impl Default for MonotonicityFix {
    fn default() -> Self {
        MonotonicityFix {
            forced: false,
            fixed_precision: false,
            min_bucket: f64::INFINITY,
            max_bucket: f64::NEG_INFINITY,
            max_diff: 0.0,
        }
    }
}

/// The result of [`bucket_quantile`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketQuantile {
    /// The estimated quantile.
    pub value: f64,
    /// Repairs made to the bucket counts on the way.
    pub fix: MonotonicityFix,
}

/// Parses an `le` label value the way Go's `strconv.ParseFloat` does for the
/// forms seen in practice: decimal and exponent notation, `+Inf`/`-Inf`/`Inf`/
/// `Infinity`/`NaN` in any case. `None` for anything else (the caller warns
/// about a malformed `le`). Go's hexadecimal float syntax is not accepted.
pub fn parse_le(s: &str) -> Option<f64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    // Rust's parser also accepts these words, but not with every sign/case Go
    // accepts, so handle them here; everything else must look like a number.
    let lower = digits.to_ascii_lowercase();
    let negative = s.starts_with('-');
    match lower.as_str() {
        "inf" | "infinity" => Some(if negative {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }),
        "nan" => Some(f64::NAN),
        _ if digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')) =>
        {
            s.parse().ok()
        }
        _ => None,
    }
}

fn sort_and_coalesce(buckets: &mut Vec<Bucket>) {
    // NaN bounds are not expected; they compare equal to everything here.
    buckets.sort_by(|a, b| {
        a.upper_bound
            .partial_cmp(&b.upper_bound)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    buckets.dedup_by(|later, kept| {
        if later.upper_bound == kept.upper_bound {
            kept.count += later.count;
            true
        } else {
            false
        }
    });
}

fn highest_is_inf(buckets: &[Bucket]) -> bool {
    buckets
        .last()
        .is_some_and(|b| b.upper_bound == f64::INFINITY)
}

/// Equalises counts within `tolerance` of the last accepted count and raises
/// any lower count to it (Prometheus `ensureMonotonicAndIgnoreSmallDeltas`).
fn ensure_monotonic(buckets: &mut [Bucket], tolerance: f64) -> MonotonicityFix {
    let mut fix = MonotonicityFix::default();
    let Some(first) = buckets.first() else {
        return fix;
    };
    let mut prev = first.count;
    for b in buckets.iter_mut().skip(1) {
        let curr = b.count;
        if curr == prev {
            continue;
        }
        if super::math::almost_equal(prev, curr, tolerance) {
            b.count = prev;
            fix.fixed_precision = true;
            continue;
        }
        if curr < prev {
            b.count = prev;
            fix.forced = true;
            fix.min_bucket = fix.min_bucket.min(b.upper_bound);
            fix.max_bucket = fix.max_bucket.max(b.upper_bound);
            fix.max_diff = fix.max_diff.max(prev - curr);
            continue;
        }
        prev = curr;
    }
    fix
}

/// `histogram_quantile(q, ...)` over one group's buckets, which this sorts and
/// merges in place.
///
/// NaN `q` gives NaN, `q < 0` gives -Inf and `q > 1` gives +Inf (the caller
/// warns); no +Inf bucket, fewer than two distinct bounds or zero observations
/// give NaN. A quantile in the lowest bucket interpolates from 0 if that bucket's
/// bound is positive, else returns the bound; one in the +Inf bucket returns the
/// highest finite bound.
pub fn bucket_quantile(q: f64, buckets: &mut Vec<Bucket>) -> BucketQuantile {
    let none = |value| BucketQuantile {
        value,
        fix: MonotonicityFix::default(),
    };
    if q.is_nan() {
        return none(f64::NAN);
    }
    if q < 0.0 {
        return none(f64::NEG_INFINITY);
    }
    if q > 1.0 {
        return none(f64::INFINITY);
    }
    sort_and_coalesce(buckets);
    if !highest_is_inf(buckets) {
        return none(f64::NAN);
    }
    let fix = ensure_monotonic(buckets, SMALL_DELTA_TOLERANCE);
    let value = interpolate_quantile(q, buckets);
    BucketQuantile { value, fix }
}

fn interpolate_quantile(q: f64, buckets: &[Bucket]) -> f64 {
    let n = buckets.len();
    if n < 2 {
        return f64::NAN;
    }
    let (Some(inf_bucket), Some(highest_finite)) = (buckets.last(), buckets.get(n - 2)) else {
        return f64::NAN;
    };
    let observations = inf_bucket.count;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    // The first bucket (excluding +Inf) whose cumulative count reaches the rank.
    let b = buckets
        .get(..n - 1)
        .map_or(0, |finite| finite.partition_point(|bk| bk.count < rank));
    if b == n - 1 {
        return highest_finite.upper_bound;
    }
    let Some(bucket) = buckets.get(b) else {
        return f64::NAN;
    };
    if b == 0 && bucket.upper_bound <= 0.0 {
        return bucket.upper_bound;
    }
    let mut bucket_start = 0.0;
    let mut count = bucket.count;
    if let Some(prev) = b.checked_sub(1).and_then(|i| buckets.get(i)) {
        bucket_start = prev.upper_bound;
        count -= prev.count;
        rank -= prev.count;
    }
    bucket_start + (bucket.upper_bound - bucket_start) * (rank / count)
}

/// `histogram_fraction(lower, upper, ...)` over one group's buckets, which this
/// sorts and merges in place: the estimated fraction of observations between
/// `lower` and `upper`, interpolating linearly inside buckets.
///
/// No +Inf bucket, zero observations or a NaN bound give NaN; `lower >= upper`
/// gives 0. The lowest bucket starts at 0 if its bound is positive, else at
/// -Inf, and nothing is interpolated into a bucket with an infinite edge.
pub fn bucket_fraction(lower: f64, upper: f64, buckets: &mut Vec<Bucket>) -> f64 {
    sort_and_coalesce(buckets);
    if !highest_is_inf(buckets) {
        return f64::NAN;
    }
    let (Some(first), Some(last)) = (buckets.first(), buckets.last()) else {
        return f64::NAN;
    };
    let total = last.count;
    if total == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    // Cumulative count below the current bucket, and the ranks of the bounds.
    let mut rank = 0.0;
    let (mut lower_rank, mut upper_rank) = (None, None);
    let mut lower_bound = if first.upper_bound <= 0.0 {
        f64::NEG_INFINITY
    } else {
        0.0
    };
    for b in buckets.iter() {
        let interpolate = |v: f64| {
            if lower_bound == f64::NEG_INFINITY {
                b.count
            } else {
                rank + (b.count - rank) * (v - lower_bound) / (b.upper_bound - lower_bound)
            }
        };
        if lower_rank.is_none() && lower_bound >= lower {
            lower_rank = Some(rank);
        }
        if upper_rank.is_none() && lower_bound >= upper {
            upper_rank = Some(rank);
        }
        if lower_rank.is_some() && upper_rank.is_some() {
            break;
        }
        if lower_rank.is_none() && lower_bound < lower && b.upper_bound > lower {
            lower_rank = Some(interpolate(lower));
        }
        if upper_rank.is_none() && lower_bound < upper && b.upper_bound > upper {
            upper_rank = Some(interpolate(upper));
        }
        if lower_rank.is_some() && upper_rank.is_some() {
            break;
        }
        rank = b.count;
        lower_bound = b.upper_bound;
    }
    let clamp = |r: Option<f64>| r.filter(|&r| r <= total).unwrap_or(total);
    (clamp(upper_rank) - clamp(lower_rank)) / total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buckets(pairs: &[(f64, f64)]) -> Vec<Bucket> {
        pairs
            .iter()
            .map(|&(upper_bound, count)| Bucket { upper_bound, count })
            .collect()
    }

    fn q(quantile: f64, pairs: &[(f64, f64)]) -> f64 {
        bucket_quantile(quantile, &mut buckets(pairs)).value
    }

    const INF: f64 = f64::INFINITY;

    #[test]
    fn interpolates_within_buckets() {
        // Prometheus histograms.test testhistogram2: q(1/6)=1, q(1/2)=3, q(5/6)=5.
        let h = [
            (0.0, 0.0),
            (2.0, 10.0),
            (4.0, 20.0),
            (6.0, 30.0),
            (INF, 30.0),
        ];
        assert!((q(1.0 / 6.0, &h) - 1.0).abs() < 1e-12);
        assert!((q(0.5, &h) - 3.0).abs() < 1e-12);
        assert!((q(5.0 / 6.0, &h) - 5.0).abs() < 1e-12);
    }

    #[test]
    fn lowest_and_highest_bucket_rules() {
        // Positive first bucket: interpolate from 0.
        assert_eq!(q(0.25, &[(1.0, 4.0), (INF, 4.0)]), 0.25);
        // Non-positive first bucket: its bound.
        assert_eq!(q(0.1, &[(-1.0, 4.0), (1.0, 8.0), (INF, 8.0)]), -1.0);
        // In the +Inf bucket: the highest finite bound.
        assert_eq!(q(0.99, &[(1.0, 4.0), (2.0, 5.0), (INF, 10.0)]), 2.0);
    }

    #[test]
    fn special_cases() {
        let h = [(1.0, 1.0), (INF, 2.0)];
        assert_eq!(q(-0.1, &h), f64::NEG_INFINITY);
        assert_eq!(q(1.1, &h), INF);
        assert!(q(f64::NAN, &h).is_nan());
        assert!(q(0.5, &[(1.0, 1.0), (2.0, 2.0)]).is_nan(), "no +Inf bucket");
        assert!(q(0.5, &[(INF, 2.0)]).is_nan(), "single bucket");
        assert!(
            q(0.5, &[(1.0, 0.0), (INF, 0.0)]).is_nan(),
            "no observations"
        );
        assert!(q(0.5, &[]).is_nan());
    }

    #[test]
    fn unsorted_and_duplicate_bounds() {
        // Prometheus mixed_bucket: 0.2 appears three times (as 0.2, 2e-1, 2.0e-1).
        let h = [(INF, 4.0), (0.2, 1.0), (0.1, 1.0), (0.2, 1.0), (0.2, 1.0)];
        assert!((q(0.5, &h) - 0.15).abs() < 1e-12);
    }

    #[test]
    fn monotonicity_is_forced_and_reported() {
        // Prometheus histograms.test nonmonotonic_bucket at 50m.
        let h = [
            (0.1, 20.0),
            (1.0, 10.0),
            (10.0, 50.0),
            (100.0, 40.0),
            (1000.0, 90.0),
            (INF, 80.0),
        ];
        let r = bucket_quantile(0.01, &mut buckets(&h));
        assert!((r.value - 0.0045).abs() < 1e-12);
        assert!(r.fix.forced);
        assert_eq!(
            (r.fix.min_bucket, r.fix.max_bucket, r.fix.max_diff),
            (1.0, INF, 10.0)
        );
        assert!((q(0.5, &h) - 8.5).abs() < 1e-12);
        assert!((q(0.99, &h) - 979.75).abs() < 1e-9);
        let clean = bucket_quantile(0.5, &mut buckets(&[(1.0, 1.0), (INF, 2.0)]));
        assert!(!clean.fix.forced && !clean.fix.fixed_precision);
    }

    #[test]
    fn float_noise_is_ignored_silently() {
        let h = [(1.0, 10.0), (2.0, 10.0 - 1e-14), (INF, 20.0)];
        let r = bucket_quantile(0.5, &mut buckets(&h));
        assert!(r.fix.fixed_precision && !r.fix.forced);
        // The noise bucket is lifted back to the first one's count, so the
        // rank 10 is reached at the end of the first bucket.
        assert_eq!(r.value, 1.0);
    }

    #[test]
    fn fraction() {
        let h = [
            (0.0, 0.0),
            (2.0, 10.0),
            (4.0, 20.0),
            (6.0, 30.0),
            (INF, 30.0),
        ];
        let f = |lo, hi| bucket_fraction(lo, hi, &mut buckets(&h));
        assert!((f(0.0, 4.0) - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(f(0.0, 6.0), 1.0);
        assert!((f(0.0, 3.5) - 0.5833333333333334).abs() < 1e-12);
        assert_eq!(f(3.0, 1.0), 0.0);
        assert!(f(f64::NAN, 1.0).is_nan());
        assert_eq!(f(f64::NEG_INFINITY, INF), 1.0);
        // Prometheus: positive buckets, lower bound in the first bucket.
        let p = [(1.0, 1.0), (2.0, 3.0), (3.0, 6.0), (INF, 100.0)];
        assert!((bucket_fraction(0.0, 1.5, &mut buckets(&p)) - 0.02).abs() < 1e-12);
        // Negative buckets: nothing is interpolated into (-Inf, -3].
        let n = [(-3.0, 10.0), (-2.0, 12.0), (-1.0, 15.0), (INF, 100.0)];
        assert!((bucket_fraction(-4.0, -2.0, &mut buckets(&n)) - 0.02).abs() < 1e-12);
        assert!(bucket_fraction(0.0, 1.0, &mut Vec::new()).is_nan());
        assert!(bucket_fraction(0.0, 1.0, &mut buckets(&[(1.0, 0.0), (INF, 0.0)])).is_nan());
    }

    #[test]
    fn le_parsing() {
        assert_eq!(parse_le("0.1"), Some(0.1));
        assert_eq!(parse_le(".2"), Some(0.2));
        assert_eq!(parse_le("1e0"), Some(1.0));
        assert_eq!(parse_le("2.0e-1"), Some(0.2));
        assert_eq!(parse_le("+Inf"), Some(INF));
        assert_eq!(parse_le("+inf"), Some(INF));
        assert_eq!(parse_le("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_le("Infinity"), Some(INF));
        assert!(parse_le("NaN").is_some_and(f64::is_nan));
        assert_eq!(parse_le(""), None);
        assert_eq!(parse_le("Hello World"), None);
        assert_eq!(parse_le(" 1"), None);
    }
}
