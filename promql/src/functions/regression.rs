//! Trend kernels: `deriv` and `predict_linear` (least-squares line through the
//! window) and `double_exponential_smoothing` (Holt's linear smoothing, the
//! former `holt_winters`).
//!
//! The regression measures time in seconds relative to an intercept time close
//! to the samples (the first sample for `deriv`, the evaluation time for
//! `predict_linear`), which keeps the sums small enough for float precision, and
//! sums with compensation; a constant series has slope exactly 0 (NaN if the
//! constant is infinite). Semantics of Prometheus 3.x `linearRegression`,
//! `funcDeriv`, `funcPredictLinear` and `funcDoubleExponentialSmoothing`.

use super::kahan::kahan_inc;
use super::{FunctionError, RangeWindow};
use crate::value::FPoint;

type KernelResult = Result<Option<f64>, FunctionError>;

/// Least-squares fit of `points` with x = (t − `intercept_ms`) in seconds;
/// returns `(slope, intercept)` where intercept is the value at `intercept_ms`.
/// `points` must not be empty.
pub fn linear_regression(points: &[FPoint], intercept_ms: i64) -> (f64, f64) {
    let Some(first) = points.first() else {
        return (f64::NAN, f64::NAN);
    };
    let (mut n, mut sum_x, mut c_x, mut sum_y, mut c_y) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sum_xy, mut c_xy, mut sum_x2, mut c_x2) = (0.0, 0.0, 0.0, 0.0);
    let mut constant_y = true;
    for p in points {
        // A constant series must give slope 0 exactly, which the sums below
        // would only approximate.
        if constant_y && p.f != first.f {
            constant_y = false;
        }
        n += 1.0;
        let x = p.t.saturating_sub(intercept_ms) as f64 / 1e3;
        (sum_x, c_x) = kahan_inc(x, sum_x, c_x);
        (sum_y, c_y) = kahan_inc(p.f, sum_y, c_y);
        (sum_xy, c_xy) = kahan_inc(x * p.f, sum_xy, c_xy);
        (sum_x2, c_x2) = kahan_inc(x * x, sum_x2, c_x2);
    }
    if constant_y {
        if first.f.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, first.f);
    }
    sum_x += c_x;
    sum_y += c_y;
    sum_xy += c_xy;
    sum_x2 += c_x2;

    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    let intercept = sum_y / n - slope * sum_x / n;
    (slope, intercept)
}

/// `deriv(m)`: the per-second slope of the least-squares line; needs two samples.
pub fn deriv(w: &RangeWindow<'_>, _: &[f64], _: &mut Vec<f64>) -> KernelResult {
    let [first, _, ..] = w.points else {
        return Ok(None);
    };
    Ok(Some(linear_regression(w.points, first.t).0))
}

/// `predict_linear(m, t)`: the least-squares line's value `params[0]` seconds
/// after the evaluation time; needs two samples.
pub fn predict_linear(w: &RangeWindow<'_>, params: &[f64], _: &mut Vec<f64>) -> KernelResult {
    if w.points.len() < 2 {
        return Ok(None);
    }
    let duration = params.first().copied().unwrap_or(f64::NAN);
    let (slope, intercept) = linear_regression(w.points, w.eval_ts_ms);
    Ok(Some(slope * duration + intercept))
}

/// `double_exponential_smoothing(m, sf, tf)`: Holt's linear smoothing with
/// smoothing factor `params[0]` and trend factor `params[1]`, both strictly
/// between 0 and 1 (else an error, checked before the sample count as
/// Prometheus does); needs two samples.
pub fn double_exponential_smoothing(
    w: &RangeWindow<'_>,
    params: &[f64],
    _: &mut Vec<f64>,
) -> KernelResult {
    let sf = params.first().copied().unwrap_or(f64::NAN);
    let tf = params.get(1).copied().unwrap_or(f64::NAN);
    // Written so that NaN fails too.
    if !(sf > 0.0 && sf < 1.0) {
        return Err(FunctionError::InvalidSmoothingFactor(sf));
    }
    if !(tf > 0.0 && tf < 1.0) {
        return Err(FunctionError::InvalidTrendFactor(tf));
    }
    let [first, second, rest @ ..] = w.points else {
        return Ok(None);
    };
    // s0: previous smoothed value, s1: current smoothed value, b: trend.
    let mut s0 = 0.0;
    let mut s1 = first.f;
    let mut b = second.f - first.f;
    for (i, p) in std::iter::once(second).chain(rest).enumerate() {
        let x = sf * p.f;
        // The first step keeps the initial trend; later ones blend in the change.
        if i > 0 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        (s0, s1) = (s1, x + y);
    }
    Ok(Some(s1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::WindowMode;

    fn window(points: &[FPoint], eval_ms: i64) -> RangeWindow<'_> {
        RangeWindow {
            points,
            range_start_ms: eval_ms - 600_000,
            range_end_ms: eval_ms,
            eval_ts_ms: eval_ms,
            mode: WindowMode::Plain,
        }
    }

    fn line(n: i64, slope_per_s: f64, step_s: i64) -> Vec<FPoint> {
        (0..n)
            .map(|i| FPoint {
                t: i * step_s * 1000,
                f: 10.0 + slope_per_s * (i * step_s) as f64,
            })
            .collect()
    }

    #[test]
    fn too_few_samples() {
        let one = [FPoint { t: 0, f: 1.0 }];
        assert_eq!(deriv(&window(&one, 0), &[], &mut Vec::new()), Ok(None));
        assert_eq!(
            predict_linear(&window(&one, 0), &[60.0], &mut Vec::new()),
            Ok(None)
        );
        assert_eq!(
            double_exponential_smoothing(&window(&one, 0), &[0.5, 0.5], &mut Vec::new()),
            Ok(None)
        );
        assert_eq!(deriv(&window(&[], 0), &[], &mut Vec::new()), Ok(None));
    }

    #[test]
    fn exact_line() {
        let pts = line(10, 2.0, 30);
        assert_eq!(
            deriv(&window(&pts, 270_000), &[], &mut Vec::new()),
            Ok(Some(2.0))
        );
        // At eval time 270 s the line is 10 + 540 = 550; 60 s later 670.
        assert_eq!(
            predict_linear(&window(&pts, 270_000), &[60.0], &mut Vec::new()),
            Ok(Some(670.0))
        );
        // Predicting relative to a later evaluation time.
        assert_eq!(
            predict_linear(&window(&pts, 300_000), &[0.0], &mut Vec::new()),
            Ok(Some(610.0))
        );
    }

    /// Prometheus functions.test: `testcounter_reset_middle_total 0+10x4 0+10x5`
    /// at 5m steps.
    fn reset_middle() -> Vec<FPoint> {
        [
            0.0, 10.0, 20.0, 30.0, 40.0, 0.0, 10.0, 20.0, 30.0, 40.0, 50.0,
        ]
        .iter()
        .enumerate()
        .map(|(i, &f)| FPoint {
            t: i as i64 * 300_000,
            f,
        })
        .collect()
    }

    #[test]
    fn matches_prometheus_scripts() {
        let pts = reset_middle();
        let d = deriv(&window(&pts, 3_000_000), &[], &mut Vec::new());
        assert!(
            d.clone()
                .ok()
                .flatten()
                .is_some_and(|v| (v - 0.010606060606060607).abs() < 1e-15),
            "{d:?}"
        );
        // `predict_linear(m[55m] @ 3000, 3600)` evaluated at 10m predicts from the
        // step time (600 s), not from the `@` time.
        let w = RangeWindow {
            eval_ts_ms: 600_000,
            ..window(&pts, 3_000_000)
        };
        let p = predict_linear(&w, &[3600.0], &mut Vec::new());
        assert!(
            p.clone()
                .ok()
                .flatten()
                .is_some_and(|v| (v - 51.36363636363637).abs() < 1e-9),
            "{p:?}"
        );
        let w = RangeWindow {
            eval_ts_ms: 3_000_000,
            ..window(&pts, 3_000_000)
        };
        let p = predict_linear(&w, &[3600.0], &mut Vec::new());
        assert!(
            p.clone()
                .ok()
                .flatten()
                .is_some_and(|v| (v - 76.81818181818181).abs() < 1e-9),
            "{p:?}"
        );
    }

    #[test]
    fn constant_series() {
        let pts = line(5, 0.0, 10);
        assert_eq!(
            deriv(&window(&pts, 40_000), &[], &mut Vec::new()),
            Ok(Some(0.0))
        );
        assert_eq!(
            predict_linear(&window(&pts, 40_000), &[100.0], &mut Vec::new()),
            Ok(Some(10.0))
        );
        let inf = [
            FPoint {
                t: 0,
                f: f64::INFINITY,
            },
            FPoint {
                t: 1000,
                f: f64::INFINITY,
            },
        ];
        assert!(deriv(&window(&inf, 1000), &[], &mut Vec::new())
            .ok()
            .flatten()
            .is_some_and(f64::is_nan));
    }

    #[test]
    fn smoothing_follows_a_trend() {
        // A perfectly linear series is tracked exactly (up to rounding), whatever
        // the factors.
        let pts: Vec<FPoint> = (0..7)
            .map(|i| FPoint {
                t: i * 10_000,
                f: 7400.0 + 100.0 * i as f64,
            })
            .collect();
        let got =
            double_exponential_smoothing(&window(&pts, 60_000), &[0.01, 0.1], &mut Vec::new());
        assert!(
            got.clone()
                .ok()
                .flatten()
                .is_some_and(|v| (v - 8000.0).abs() < 1e-9),
            "{got:?}"
        );
        // A level shift is followed only slowly with a small smoothing factor.
        let step = [
            FPoint { t: 0, f: 0.0 },
            FPoint { t: 1, f: 0.0 },
            FPoint { t: 2, f: 100.0 },
        ];
        let got = double_exponential_smoothing(&window(&step, 2), &[0.1, 0.5], &mut Vec::new());
        // s1 = 0, b = 0; step 1: s = 0; step 2: b = 0, s = 0.1 * 100 = 10.
        assert_eq!(got, Ok(Some(10.0)));
    }

    #[test]
    fn smoothing_factor_errors() {
        let pts = line(3, 1.0, 10);
        let w = window(&pts, 20_000);
        assert_eq!(
            double_exponential_smoothing(&w, &[1.0, 0.5], &mut Vec::new()),
            Err(FunctionError::InvalidSmoothingFactor(1.0))
        );
        assert_eq!(
            double_exponential_smoothing(&w, &[0.5, 0.0], &mut Vec::new()),
            Err(FunctionError::InvalidTrendFactor(0.0))
        );
        assert!(double_exponential_smoothing(&w, &[f64::NAN, 0.5], &mut Vec::new()).is_err());
    }
}
