//! Element-wise math on float samples: `abs`, `ceil`, `floor`, `exp`, `sqrt`,
//! `ln`, `log2`, `log10`, the trigonometric and hyperbolic functions, `deg`,
//! `rad`, `sgn`, `round`, `clamp*`, and the nullary `pi` and `time`.
//!
//! Each is a [`FloatKernel`](super::FloatKernel) or
//! [`NullaryKernel`](super::NullaryKernel). IEEE special values go through
//! untouched (NaN in, NaN out; `ln(0)` is -Inf), as in Prometheus 3.x
//! `promql/functions.go`. `clamp` follows Go's `math.Max`/`math.Min`, which
//! propagate NaN where Rust's `f64::max`/`min` would drop it.

macro_rules! unary {
    ($($(#[$doc:meta])* $name:ident => $f:expr;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(v: f64, _params: &[f64]) -> Option<f64> {
                let f: fn(f64) -> f64 = $f;
                Some(f(v))
            }
        )*
    };
}

unary! {
    /// `abs(v)`.
    abs => f64::abs;
    /// `ceil(v)`.
    ceil => f64::ceil;
    /// `floor(v)`.
    floor => f64::floor;
    /// `exp(v)`.
    exp => f64::exp;
    /// `sqrt(v)`.
    sqrt => f64::sqrt;
    /// `ln(v)`.
    ln => f64::ln;
    /// `log2(v)`.
    log2 => f64::log2;
    /// `log10(v)`.
    log10 => f64::log10;
    /// `sin(v)`, radians.
    sin => f64::sin;
    /// `cos(v)`, radians.
    cos => f64::cos;
    /// `tan(v)`, radians.
    tan => f64::tan;
    /// `asin(v)`.
    asin => f64::asin;
    /// `acos(v)`.
    acos => f64::acos;
    /// `atan(v)`.
    atan => f64::atan;
    /// `sinh(v)`.
    sinh => f64::sinh;
    /// `cosh(v)`.
    cosh => f64::cosh;
    /// `tanh(v)`.
    tanh => f64::tanh;
    /// `asinh(v)`.
    asinh => f64::asinh;
    /// `acosh(v)`.
    acosh => f64::acosh;
    /// `atanh(v)`.
    atanh => f64::atanh;
    /// `deg(v)`: radians to degrees, computed as `v * 180 / π` in that order.
    deg => |v| v * 180.0 / std::f64::consts::PI;
    /// `rad(v)`: degrees to radians, computed as `v * π / 180` in that order.
    rad => |v| v * std::f64::consts::PI / 180.0;
    /// `sgn(v)`: -1, 1, or `v` itself for ±0 and NaN.
    sgn => |v| if v < 0.0 { -1.0 } else if v > 0.0 { 1.0 } else { v };
}

/// `round(v, to_nearest = 1)`: rounds to the nearest multiple of `to_nearest`,
/// ties up (towards +Inf). Multiplies by the inverse, which Prometheus found
/// less prone to representation error than dividing.
pub fn round(v: f64, params: &[f64]) -> Option<f64> {
    let to_nearest = params.first().copied().unwrap_or(1.0);
    let inverse = 1.0 / to_nearest;
    Some((v * inverse + 0.5).floor() / inverse)
}

/// `clamp(v, min, max)`: `v` limited to `[min, max]`; no output when `max < min`.
pub fn clamp(v: f64, params: &[f64]) -> Option<f64> {
    let min = params.first().copied().unwrap_or(f64::NEG_INFINITY);
    let max = params.get(1).copied().unwrap_or(f64::INFINITY);
    clamp_between(v, min, max)
}

/// `clamp_max(v, max)`.
pub fn clamp_max(v: f64, params: &[f64]) -> Option<f64> {
    clamp_between(
        v,
        f64::NEG_INFINITY,
        params.first().copied().unwrap_or(f64::INFINITY),
    )
}

/// `clamp_min(v, min)`.
pub fn clamp_min(v: f64, params: &[f64]) -> Option<f64> {
    clamp_between(
        v,
        params.first().copied().unwrap_or(f64::NEG_INFINITY),
        f64::INFINITY,
    )
}

fn clamp_between(v: f64, min: f64, max: f64) -> Option<f64> {
    if max < min {
        return None;
    }
    Some(go_max(min, go_min(max, v)))
}

/// Go's `math.Max`: +Inf wins over NaN, then NaN wins, and +0 beats -0.
pub fn go_max(x: f64, y: f64) -> f64 {
    if x == f64::INFINITY || y == f64::INFINITY {
        return f64::INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && x == y {
        return if x.is_sign_negative() { y } else { x };
    }
    if x > y {
        x
    } else {
        y
    }
}

/// Go's `math.Min`: -Inf wins over NaN, then NaN wins, and -0 beats +0.
pub fn go_min(x: f64, y: f64) -> f64 {
    if x == f64::NEG_INFINITY || y == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && x == y {
        return if x.is_sign_negative() { x } else { y };
    }
    if x < y {
        x
    } else {
        y
    }
}

/// `pi()`.
pub fn pi(_eval_ts_ms: i64) -> f64 {
    std::f64::consts::PI
}

/// `time()`: the evaluation time in seconds since the epoch.
pub fn time(eval_ts_ms: i64) -> f64 {
    eval_ts_ms as f64 / 1000.0
}

/// Whether `a` and `b` differ by less than `epsilon` relative to their
/// magnitude, NaN equal to NaN (Prometheus `util/almost.Equal`). Used by the
/// bucket monotonicity fix and by the test-script runner's comparisons.
pub fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < f64::MIN_POSITIVE {
        return diff < epsilon * f64::MIN_POSITIVE;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_ties_go_up() {
        assert_eq!(round(2.5, &[]), Some(3.0));
        assert_eq!(round(-2.5, &[]), Some(-2.0));
        assert_eq!(round(1.234, &[0.1]), Some(1.2));
        assert_eq!(round(1.25, &[0.1]), Some(1.3));
        assert_eq!(round(17.0, &[5.0]), Some(15.0));
        assert_eq!(round(17.5, &[5.0]), Some(20.0));
        assert!(round(f64::NAN, &[]).is_some_and(f64::is_nan));
    }

    #[test]
    fn clamp_limits_and_drops_on_inverted_bounds() {
        assert_eq!(clamp(5.0, &[0.0, 3.0]), Some(3.0));
        assert_eq!(clamp(-5.0, &[0.0, 3.0]), Some(0.0));
        assert_eq!(clamp(1.0, &[3.0, 0.0]), None);
        assert_eq!(clamp_max(5.0, &[2.0]), Some(2.0));
        assert_eq!(clamp_min(5.0, &[7.0]), Some(7.0));
        // NaN bounds propagate, as Go's math.Max/Min do.
        assert!(clamp(1.0, &[f64::NAN, 3.0]).is_some_and(f64::is_nan));
        assert!(clamp_min(f64::NAN, &[0.0]).is_some_and(f64::is_nan));
        assert_eq!(clamp_max(f64::INFINITY, &[1.0]), Some(1.0));
    }

    #[test]
    fn sgn_keeps_zero_and_nan() {
        assert_eq!(sgn(-3.0, &[]), Some(-1.0));
        assert_eq!(sgn(0.5, &[]), Some(1.0));
        assert_eq!(sgn(0.0, &[]), Some(0.0));
        assert!(sgn(f64::NAN, &[]).is_some_and(f64::is_nan));
    }

    #[test]
    fn angles_and_logs() {
        assert_eq!(deg(std::f64::consts::PI, &[]), Some(180.0));
        assert_eq!(rad(180.0, &[]), Some(std::f64::consts::PI));
        assert_eq!(ln(0.0, &[]), Some(f64::NEG_INFINITY));
        assert!(ln(-1.0, &[]).is_some_and(f64::is_nan));
        assert_eq!(log2(8.0, &[]), Some(3.0));
        assert_eq!(log10(1000.0, &[]), Some(3.0));
    }

    #[test]
    fn go_min_max_zero_signs() {
        assert!(go_max(-0.0, 0.0).is_sign_positive());
        assert!(go_min(0.0, -0.0).is_sign_negative());
        assert_eq!(go_max(f64::NAN, f64::INFINITY), f64::INFINITY);
        assert_eq!(go_min(f64::NAN, f64::NEG_INFINITY), f64::NEG_INFINITY);
    }

    #[test]
    fn nullary() {
        assert_eq!(time(1), 0.001);
        assert_eq!(time(3_000_000), 3000.0);
        assert_eq!(pi(0), std::f64::consts::PI);
    }
}
