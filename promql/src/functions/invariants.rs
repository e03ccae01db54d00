//! Randomised checks across every registered kernel: no input panics, and
//! relations that hold between functions do hold (`min <= avg <= max`,
//! `quantile` is monotone in `q`, `count` is the number of samples, `rate` is
//! `increase` per second). Windows mix regular and jittered timestamps,
//! duplicates, NaN, ±Inf, -0, huge and tiny values. The generator is a fixed-seed
//! xorshift, so a failure reproduces.

use super::{Implementation, RangeWindow, WindowMode, FUNCTIONS};
use crate::value::FPoint;

struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    fn value(&mut self) -> f64 {
        match self.below(12) {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => -0.0,
            4 => f64::MAX,
            5 => f64::MIN_POSITIVE,
            _ => (self.below(2_000_001) as f64 - 1_000_000.0) / 7.0,
        }
    }

    fn finite_value(&mut self) -> f64 {
        (self.below(2_000_001) as f64 - 1_000_000.0) / 3.0
    }
}

/// A time-ordered window inside `(start, end]`, possibly with equal timestamps;
/// with `spill`, samples may also lie up to 2 minutes outside on both sides, as
/// the evaluator hands them over for `anchored` and `smoothed` selectors.
fn window(rng: &mut Rng, len: usize, finite: bool, spill: bool) -> (Vec<FPoint>, i64, i64) {
    let end = 3_600_000 + rng.below(1_000) as i64;
    let start = end - 1_800_000;
    let margin = if spill { 120_000 } else { 0 };
    let mut t = start + 1 - margin + rng.below(60_000) as i64;
    let mut points = Vec::with_capacity(len);
    for _ in 0..len {
        if t > end + margin {
            break;
        }
        let f = if finite {
            rng.finite_value()
        } else {
            rng.value()
        };
        points.push(FPoint { t, f });
        // Mostly regular with jitter; sometimes a duplicate timestamp.
        t += match rng.below(10) {
            0 => 0,
            _ => 15_000 + rng.below(30_000) as i64,
        };
    }
    (points, start, end)
}

#[test]
fn no_kernel_panics_on_any_window() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut scratch = Vec::new();
    let params_pool = [0.5, 0.0, 1.0, -1.0, 2.0, f64::NAN, f64::INFINITY, 1e-9];
    for round in 0..3_000 {
        let mode = match round % 3 {
            0 => WindowMode::Plain,
            1 => WindowMode::Anchored,
            _ => WindowMode::Smoothed,
        };
        let spill = mode != WindowMode::Plain;
        let (points, start, end) = window(&mut rng, (round % 70) as usize, false, spill);
        let w = RangeWindow {
            points: &points,
            range_start_ms: start,
            range_end_ms: end,
            eval_ts_ms: end,
            mode,
        };
        let params = [
            params_pool[rng.below(params_pool.len() as u64) as usize],
            params_pool[rng.below(params_pool.len() as u64) as usize],
        ];
        for f in FUNCTIONS {
            match f.implementation {
                Implementation::Range(kernel) => {
                    // Errors are fine (invalid smoothing factors); panics are not.
                    let _ = kernel(&w, &params, &mut scratch);
                }
                Implementation::Float(kernel) => {
                    for p in &points {
                        let _ = kernel(p.f, &params);
                    }
                }
                Implementation::Date(kernel) => {
                    for p in &points {
                        let _ = kernel(p.f * 1e6);
                    }
                }
                Implementation::Nullary(kernel) => {
                    let _ = kernel(end);
                }
                Implementation::Engine(_) => {}
            }
        }
    }
}

#[test]
fn extreme_timestamps_do_not_overflow() {
    let points = [
        FPoint {
            t: i64::MIN + 1,
            f: 1.0,
        },
        FPoint { t: 0, f: 0.5 },
        FPoint {
            t: i64::MAX,
            f: 3.0,
        },
    ];
    let mut scratch = Vec::new();
    for mode in [
        WindowMode::Plain,
        WindowMode::Anchored,
        WindowMode::Smoothed,
    ] {
        let w = RangeWindow {
            points: &points,
            range_start_ms: i64::MIN,
            range_end_ms: i64::MAX,
            eval_ts_ms: i64::MIN,
            mode,
        };
        for f in FUNCTIONS {
            if let Implementation::Range(kernel) = f.implementation {
                let _ = kernel(&w, &[0.5, 0.5], &mut scratch);
            }
        }
    }
}

fn run(name: &str, w: &RangeWindow<'_>, params: &[f64]) -> Option<f64> {
    let kernel = match super::lookup(name).map(|f| f.implementation) {
        Some(Implementation::Range(k)) => k,
        _ => return None,
    };
    kernel(w, params, &mut Vec::new()).ok().flatten()
}

#[test]
fn relations_between_kernels_hold_on_finite_data() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..2_000 {
        let (points, start, end) = window(&mut rng, 1 + (round % 60) as usize, true, false);
        let w = RangeWindow {
            points: &points,
            range_start_ms: start,
            range_end_ms: end,
            eval_ts_ms: end,
            mode: WindowMode::Plain,
        };
        let get = |name: &str, params: &[f64]| run(name, &w, params).unwrap_or(f64::NAN);
        let (min, avg, max) = (
            get("min_over_time", &[]),
            get("avg_over_time", &[]),
            get("max_over_time", &[]),
        );
        let slack = 1e-9 * max.abs().max(min.abs()).max(1.0);
        assert!(
            min <= avg + slack && avg <= max + slack,
            "round {round}: {min} {avg} {max}"
        );
        assert_eq!(get("count_over_time", &[]), points.len() as f64);
        assert_eq!(get("quantile_over_time", &[0.0]), min);
        assert_eq!(get("quantile_over_time", &[1.0]), max);
        let (q25, q50, q75) = (
            get("quantile_over_time", &[0.25]),
            get("quantile_over_time", &[0.5]),
            get("quantile_over_time", &[0.75]),
        );
        assert!(q25 <= q50 && q50 <= q75, "round {round}: {q25} {q50} {q75}");
        assert!(get("stddev_over_time", &[]) >= 0.0);
        assert!(get("mad_over_time", &[]) >= 0.0);
        let stdvar = get("stdvar_over_time", &[]);
        let stddev = get("stddev_over_time", &[]);
        assert!((stddev * stddev - stdvar).abs() <= 1e-6 * stdvar.max(1.0));
        let (rate, increase) = (get("rate", &[]), get("increase", &[]));
        if increase.is_finite() {
            let per_second = increase / w.range_seconds();
            assert!(
                (rate - per_second).abs() <= 1e-9 * per_second.abs().max(1.0),
                "round {round}: {rate} {increase}"
            );
        }
        assert!(get("changes", &[]) <= points.len().saturating_sub(1) as f64);
        assert!(get("resets", &[]) <= get("changes", &[]));
    }
}
