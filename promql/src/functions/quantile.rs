//! The φ-quantile of a set of float values, shared by `quantile_over_time`,
//! `mad_over_time` and the `quantile` aggregation.
//!
//! Values are sorted in place (NaN first, as Prometheus's value heap orders them)
//! and the quantile is the weighted average of the two values around rank
//! `q * (n - 1)`. Out-of-range `q` gives ±Inf, NaN `q` or no values give NaN; the
//! caller emits the "quantile value should be between 0 and 1" warning, since that
//! depends only on `q`. Matches `quantile` in Prometheus 3.x `promql/quantile.go`.

use std::cmp::Ordering;

/// Orders floats ascending with every NaN before every number, the order
/// Prometheus's `vectorByValueHeap` sorts into. Ties (including -0 vs +0) are equal.
pub fn nan_first_ascending(a: &f64, b: &f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
    }
}

/// The `q`-quantile of `values`, which this sorts in place.
///
/// Empty `values` or NaN `q` give NaN; `q < 0` gives -Inf and `q > 1` gives +Inf.
pub fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_unstable_by(nan_first_ascending);
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower_index = rank.floor().max(0.0);
    let upper_index = (lower_index + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    // Both indexes lie in 0..n by construction: rank is in [0, n-1].
    let lower = values
        .get(lower_index as usize)
        .copied()
        .unwrap_or(f64::NAN);
    let upper = values
        .get(upper_index as usize)
        .copied()
        .unwrap_or(f64::NAN);
    lower * (1.0 - weight) + upper * weight
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_nan() {
        assert!(quantile(0.5, &mut []).is_nan());
    }

    #[test]
    fn single_value_is_every_quantile() {
        for q in [0.0, 0.3, 1.0] {
            assert_eq!(quantile(q, &mut [7.0]), 7.0);
        }
    }

    #[test]
    fn interpolates_between_neighbours() {
        let mut v = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(quantile(0.5, &mut v), 2.5);
        assert_eq!(v, [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(quantile(0.0, &mut v), 1.0);
        assert_eq!(quantile(1.0, &mut v), 4.0);
        assert!((quantile(0.9, &mut v) - 3.7).abs() < 1e-12);
    }

    #[test]
    fn out_of_range_q() {
        assert_eq!(quantile(-0.1, &mut [1.0]), f64::NEG_INFINITY);
        assert_eq!(quantile(1.1, &mut [1.0]), f64::INFINITY);
        assert!(quantile(f64::NAN, &mut [1.0]).is_nan());
    }

    #[test]
    fn nan_sorts_first() {
        let mut v = [2.0, f64::NAN, 1.0];
        assert_eq!(quantile(1.0, &mut v), 2.0);
        assert!(quantile(0.0, &mut v).is_nan());
    }
}
