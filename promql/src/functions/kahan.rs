//! Compensated (Kahan–Neumaier) summation, shared by every kernel that sums floats.
//!
//! Prometheus sums with a running compensation term so that `sum_over_time`,
//! `avg_over_time`, the variance kernels, `deriv`/`predict_linear` and the `sum`/`avg`
//! aggregations return the same bits it does; a naive `+=` differs in the last digits
//! and the test scripts notice. The compensation is reset when the running sum
//! overflows to ±Inf, so an infinite sum never turns into NaN through `Inf - Inf`.
//! Matches `kahansum.Inc` (Prometheus 3.x, `util/kahansum`).

/// Adds `inc` to `sum` with compensation `c`; returns the new `(sum, c)`.
///
/// Uses Neumaier's variant: the smaller of the two magnitudes is the one whose low
/// bits get lost, so that is the one recovered into `c`.
#[inline]
pub fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// A running compensated sum.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct KahanSum {
    sum: f64,
    c: f64,
}

impl KahanSum {
    /// An empty sum (0).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one value.
    #[inline]
    pub fn add(&mut self, v: f64) {
        (self.sum, self.c) = kahan_inc(v, self.sum, self.c);
    }

    /// The sum so far; an infinite running sum is returned as is, since adding
    /// the compensation could only turn it into NaN.
    pub fn value(&self) -> f64 {
        if self.sum.is_infinite() {
            self.sum
        } else {
            self.sum + self.c
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compensation_recovers_lost_low_bits() {
        // 1e100 + 1 - 1e100 loses the 1 in plain summation.
        let mut k = KahanSum::new();
        for v in [1e100, 1.0, -1e100] {
            k.add(v);
        }
        assert_eq!(k.value(), 1.0);
        let naive: f64 = [1e100, 1.0, -1e100].iter().sum();
        assert_eq!(naive, 0.0);
    }

    #[test]
    fn overflow_stays_infinite() {
        let mut k = KahanSum::new();
        k.add(f64::MAX);
        k.add(f64::MAX);
        assert_eq!(k.value(), f64::INFINITY);
    }

    #[test]
    fn nan_propagates() {
        let mut k = KahanSum::new();
        k.add(1.0);
        k.add(f64::NAN);
        assert!(k.value().is_nan());
    }

    #[test]
    fn empty_is_zero() {
        assert_eq!(KahanSum::new().value(), 0.0);
    }
}
