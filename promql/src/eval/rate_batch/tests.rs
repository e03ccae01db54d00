//! The batch against the per-window kernel: pass 2's vector loops, the
//! interior of regular series, and the far-time fallbacks.

use super::*;

/// Awkward shapes: zero, negative and NaN values, -0.0, infinities, one
/// interval or many, samples on or far from the edges.
fn shapes(count: usize) -> Vec<WindowShape> {
    let mut next = crate::test_rng::xorshift(0x2545_f491_4f6c_dd1du64);
    let values = [0.0, -0.0, 1.0, -3.5, f64::NAN, f64::INFINITY, 1e300, 5e-324];
    (0..count)
        .map(|_| {
            let mut pick = || match next() % 3 {
                0 => values[(next() % values.len() as u64) as usize],
                _ => (next() % 100_000) as f64 / 7.0,
            };
            let (first, result) = (pick(), pick());
            let range_ms = 1 + (next() % 600_000) as i64;
            let sampled_ms = (next() % range_ms as u64) as i64;
            let to_start_ms = (next() % (range_ms - sampled_ms) as u64) as i64;
            WindowShape {
                to_start_ms: to_start_ms as f64,
                to_end_ms: (range_ms - sampled_ms - to_start_ms) as f64,
                sampled_ms: sampled_ms as f64,
                intervals: (1 + next() % 50) as f64,
                first,
                result,
                range_seconds: range_ms as f64 / 1000.0,
            }
        })
        .collect()
}

/// Pass 2 over `shapes` (all with the first shape's range) by `run`.
fn columns_output(
    kind: Kind,
    shapes: &[WindowShape],
    run: fn(Kind, &mut Columns<'_>, usize, f64),
) -> Vec<u64> {
    let mut scratch = Vec::new();
    let mut cols = Columns::new(&mut scratch, shapes.len());
    for (k, s) in shapes.iter().enumerate() {
        cols.set(k, *s);
    }
    run(kind, &mut cols, shapes.len(), shapes[0].range_seconds);
    cols.result.iter().map(|f| f.to_bits()).collect()
}

#[test]
fn every_pass_two_gives_the_scalar_bits() {
    let mut shapes = shapes(1000);
    let range_seconds = shapes[0].range_seconds;
    for s in &mut shapes {
        s.range_seconds = range_seconds;
    }
    for kind in [Kind::CounterRate, Kind::CounterIncrease, Kind::GaugeDelta] {
        let scalar: Vec<u64> = shapes
            .iter()
            .map(|s| rate::extrapolate_shape(kind, *s).to_bits())
            .collect();
        assert_eq!(
            columns_output(kind, &shapes, extrapolate_baseline),
            scalar,
            "{kind:?} baseline"
        );
        assert_eq!(
            columns_output(kind, &shapes, extrapolate_columns),
            scalar,
            "{kind:?} dispatched"
        );
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            let avx2 = |k, c: &mut Columns<'_>, n, r| unsafe { extrapolate_avx2(k, c, n, r) };
            assert_eq!(columns_output(kind, &shapes, avx2), scalar, "{kind:?} AVX2");
        }
    }
}

#[test]
fn far_times_take_the_kernel_path() {
    let grid = Grid::new(i64::MAX - 10_000, i64::MAX - 1, 1000);
    let win = Windows {
        range: 5000,
        offset: 0,
        at: None,
        mode: crate::functions::WindowMode::Plain,
        lookback: 0,
    };
    let points = [FPoint {
        t: i64::MAX - 5000,
        f: 1.0,
    }];
    let mut counts = vec![0; grid.len()];
    let mut out = Vec::new();
    let batched = extrapolated_series(
        grid,
        &win,
        Kind::CounterRate,
        &points,
        &mut Vec::new(),
        &mut counts,
        &mut out,
    );
    assert!(!batched && out.is_empty());
    assert!(counts.iter().all(|&n| n == 0));
}

#[test]
fn far_samples_outside_every_window_keep_the_batch() {
    let grid = Grid::new(0, 60_000, 10_000);
    let win = Windows {
        range: 30_000,
        offset: 0,
        at: None,
        mode: crate::functions::WindowMode::Plain,
        lookback: 0,
    };
    let near: Vec<FPoint> = (0..12)
        .map(|k| FPoint {
            t: k * 5_000,
            f: (k * k) as f64,
        })
        .collect();
    let far = |t| FPoint { t, f: 1e9 };
    let mut with_far = vec![far(i64::MIN), far(-(1 << 62))];
    with_far.extend(&near);
    with_far.extend([far(1 << 62), far(i64::MAX)]);
    let run = |points: &[FPoint]| {
        let (mut counts, mut out) = (vec![0; grid.len()], Vec::new());
        let kind = Kind::CounterRate;
        let batched = extrapolated_series(
            grid,
            &win,
            kind,
            points,
            &mut Vec::new(),
            &mut counts,
            &mut out,
        );
        assert!(batched);
        let bits: Vec<(i64, u64)> = out.iter().map(|p| (p.t, p.f.to_bits())).collect();
        (bits, counts)
    };
    assert_eq!(run(&with_far), run(&near));
}

/// The kernel on every window, as the evaluator runs it without the batch:
/// the points and each step's window size.
fn per_window(
    grid: Grid,
    win: &Windows,
    kind: Kind,
    points: &[FPoint],
) -> (Vec<(i64, u64)>, Vec<usize>) {
    let kernel = match kind {
        Kind::CounterRate => rate::rate,
        Kind::CounterIncrease => rate::increase,
        Kind::GaugeDelta => rate::delta,
    };
    let (mut out, mut counts) = (Vec::new(), Vec::new());
    for j in 0..grid.len() {
        let t = grid.t(j);
        let end = win.at.unwrap_or(t) - win.offset;
        let start = end - win.range;
        let inside: Vec<FPoint> = points
            .iter()
            .copied()
            .filter(|p| p.t > start && p.t <= end)
            .collect();
        counts.push(inside.len());
        let w = crate::functions::RangeWindow {
            points: &inside,
            range_start_ms: start,
            range_end_ms: end,
            eval_ts_ms: t,
            mode: crate::functions::WindowMode::Plain,
        };
        if let Some(f) = kernel(&w, &[], &mut Vec::new()).unwrap() {
            out.push((t, f.to_bits()));
        }
    }
    (out, counts)
}

/// The batch over a series, appended after a point already in `out`.
fn batched(
    grid: Grid,
    win: &Windows,
    kind: Kind,
    points: &[FPoint],
) -> (Vec<(i64, u64)>, Vec<usize>) {
    let (mut counts, mut out) = (vec![0; grid.len()], vec![FPoint { t: -1, f: 0.5 }]);
    assert!(extrapolated_series(
        grid,
        win,
        kind,
        points,
        &mut Vec::new(),
        &mut counts,
        &mut out
    ));
    assert_eq!(out[0], FPoint { t: -1, f: 0.5 });
    (
        out[1..].iter().map(|p| (p.t, p.f.to_bits())).collect(),
        counts,
    )
}

fn interior(grid: Grid, win: &Windows, kind: Kind, points: &[FPoint]) -> Option<Interior> {
    Interior::of(&Batch {
        grid,
        win,
        kind,
        points,
        range_seconds: win.range as f64 / 1000.0,
    })
}

#[test]
fn interior_windows_of_regular_series_give_the_kernels_bits() {
    let mut next = crate::test_rng::xorshift(0x853c_49e6_748f_ea9bu64);
    let mut interiors = 0;
    for round in 0..400 {
        let interval = 1 + (next() % 20) as i64;
        let t0 = (next() % 200) as i64 - 100;
        let len = 2 + (next() % 60) as usize;
        // Counters from zero or above, some starting near zero (the zero
        // clamp), gauges with any values; a few odd values.
        let mut v = match next() % 3 {
            0 => 0.0,
            1 => (next() % 1000) as f64,
            _ => -((next() % 50) as f64),
        };
        let points: Vec<FPoint> = (0..len)
            .map(|k| {
                v += match next() % 40 {
                    0 => f64::NAN,
                    1 => f64::INFINITY,
                    2 => -0.0,
                    _ => (next() % 100) as f64 / 3.0,
                };
                if v.is_nan() && !next().is_multiple_of(4) {
                    v = 5.0;
                }
                FPoint {
                    t: t0 + k as i64 * interval,
                    f: v,
                }
            })
            .collect();
        let step = interval * (1 + (next() % 4) as i64);
        let start = t0 - 100 + (next() % 150) as i64;
        let grid = Grid::new(start, start + (next() % 500) as i64, step);
        let win = Windows {
            range: 1 + (next() % (interval as u64 * 8)) as i64,
            offset: (next() % 30) as i64 - 15,
            at: None,
            mode: crate::functions::WindowMode::Plain,
            lookback: 0,
        };
        for kind in [Kind::CounterRate, Kind::CounterIncrease, Kind::GaugeDelta] {
            interiors += usize::from(interior(grid, &win, kind, &points).is_some());
            assert_eq!(
                batched(grid, &win, kind, &points),
                per_window(grid, &win, kind, &points),
                "{kind:?}, round {round}"
            );
        }
    }
    assert!(interiors > 300, "{interiors} series took the interior path");
}

#[test]
fn interior_is_found_only_where_it_holds() {
    let grid = Grid::new(0, 600_000, 60_000);
    let win = Windows {
        range: 300_000,
        offset: 0,
        at: None,
        mode: crate::functions::WindowMode::Plain,
        lookback: 0,
    };
    let regular: Vec<FPoint> = (0..10)
        .map(|k| FPoint {
            t: k * 60_000,
            f: k as f64,
        })
        .collect();
    // Windows 4..=9 hold samples 0..=4 up to 5..=9; window 10 only 6..=9.
    assert_eq!(
        interior(grid, &win, Kind::CounterRate, &regular),
        Some(Interior {
            steps: 4..10,
            first: 0,
            count: 5,
            stride: 1
        })
    );
    let mut jitter = regular.clone();
    jitter[4].t += 1;
    assert_eq!(interior(grid, &win, Kind::CounterRate, &jitter), None);
    let mut reset = regular.clone();
    reset[4].f = 0.0;
    assert_eq!(interior(grid, &win, Kind::CounterRate, &reset), None);
    assert!(interior(grid, &win, Kind::GaugeDelta, &reset).is_some());
    let pinned = Windows {
        at: Some(300_000),
        ..win
    };
    assert_eq!(interior(grid, &pinned, Kind::CounterRate, &regular), None);
    let odd_step = Grid::new(0, 600_000, 90_000);
    assert_eq!(interior(odd_step, &win, Kind::CounterRate, &regular), None);
    let far: Vec<FPoint> = [i64::MIN + 1, 0]
        .iter()
        .map(|&t| FPoint { t, f: 1.0 })
        .collect();
    assert_eq!(interior(grid, &win, Kind::CounterRate, &far), None);
}

#[test]
fn every_dense_fill_gives_the_shared_shape_bits() {
    let mut next = crate::test_rng::xorshift(0x2f69_1a2b_77c3_0d15u64);
    let values = [0.0, -0.0, 1.0, -3.5, f64::NAN, f64::INFINITY, 1e300, 5e-324];
    let mut v = 0.0;
    let points: Vec<FPoint> = (0..300)
        .map(|k| {
            v = match next() % 8 {
                0 => values[(next() % values.len() as u64) as usize],
                _ => v + (next() % 1000) as f64 / 7.0,
            };
            FPoint { t: k, f: v }
        })
        .collect();
    for kind in [Kind::CounterRate, Kind::CounterIncrease, Kind::GaugeDelta] {
        let shape = SharedShape::new(kind, 20_000.0, 0.0, 240_000.0, 4.0, 300.0);
        let run = DenseRun {
            shape: &shape,
            correction: kind.is_counter().then_some(-0.0),
            firsts: &points[..296],
            lasts: &points[4..],
            step_t: 1000,
            step: 60,
        };
        let bits = |fill: fn(&DenseRun<'_>, &mut [FPoint])| {
            let mut room = vec![FPoint { t: 0, f: 0.0 }; 296];
            fill(&run, &mut room);
            room.iter()
                .map(|p| (p.t, p.f.to_bits()))
                .collect::<Vec<_>>()
        };
        // What the shape gives per window; some windows need the zero clamp.
        let mut clamped = 0;
        let want: Vec<(i64, u64)> = (0..296)
            .map(|k| {
                let (first, last) = (points[k].f, points[k + 4].f);
                let result = match run.correction {
                    Some(c) => (last - first) + c,
                    None => last - first,
                };
                clamped += usize::from(shape.clamps(first, result));
                let f = shape.extrapolate(first, result);
                (1000 + 60 * k as i64, f.to_bits())
            })
            .collect();
        assert!(!kind.is_counter() || clamped > 0, "{kind:?}");
        assert_eq!(bits(fill_dense_baseline), want, "{kind:?}");
        assert_eq!(bits(fill_dense), want, "{kind:?}");
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            let avx2 = |r: &DenseRun<'_>, room: &mut [FPoint]| unsafe { fill_dense_avx2(r, room) };
            assert_eq!(bits(avx2), want, "{kind:?} AVX2");
        }
    }
}
