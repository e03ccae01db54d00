//! Aggregations: `sum`, `avg`, `count`, `min`, `max`, `group`, `stddev`,
//! `stdvar`, `quantile`, `count_values`, `topk`, `bottomk`, `limitk` and
//! `limit_ratio`, with `by`/`without`.
//!
//! Series are assigned to groups once (the group key is computed per series,
//! not per step); each group is then aggregated over all steps with one
//! accumulator per step, and freed before the next group, so memory follows
//! the output. Float semantics follow Prometheus 3.x `promql/engine.go`
//! (`aggregation`): compensated sums, the overflow-safe incremental mean for
//! `avg`, NaN handling of `min`/`max`, Welford's variance.

use std::collections::HashMap;

use promql_parser::parser::token::{self, TokenId};
use promql_parser::parser::{AggregateExpr, LabelModifier};

use super::annotations::{first_arg_position, go_g};
use super::{Evaluator, Grid, StepSeries, Val};
use crate::error::QueryError;
use crate::functions::kahan::kahan_inc;
use crate::functions::quantile::quantile;
use crate::value::{FPoint, Labels, METRIC_NAME};

/// How series are assigned to groups: `by (...)` keeps the listed labels,
/// `without (...)` removes them and `__name__`.
pub(crate) struct Grouping {
    by: bool,
    names: Vec<String>,
}

impl Grouping {
    /// The grouping of an aggregation's `by`/`without` clause (none: one group).
    pub fn new(modifier: Option<&LabelModifier>) -> Self {
        match modifier {
            Some(LabelModifier::Include(ls)) => Grouping {
                by: true,
                names: ls.labels.clone(),
            },
            Some(LabelModifier::Exclude(ls)) => {
                let mut names = ls.labels.clone();
                names.push(METRIC_NAME.to_string());
                Grouping { by: false, names }
            }
            None => Grouping {
                by: true,
                names: Vec::new(),
            },
        }
    }

    /// Whether a label of this name is part of a series' group labels.
    pub fn keeps(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name) == self.by
    }

    /// The group labels of a series.
    pub fn key(&self, l: &Labels) -> Labels {
        if self.by {
            l.keep(&self.names)
        } else {
            l.without(&self.names)
        }
    }
}

/// Running state of one group at one step.
#[derive(Clone, Copy, Default)]
pub(crate) struct Acc {
    count: f64,
    value: f64,
    comp: f64,
    mean: f64,
    incremental: bool,
}

impl Acc {
    /// Whether any sample was added.
    pub fn is_set(&self) -> bool {
        self.count > 0.0
    }

    /// Folds in the state of the same group and step built from later series
    /// (exact for `sum`, `count`, `min`, `max`, `group`; `avg`, `stddev` and
    /// `stdvar` agree with one sequential pass up to float rounding).
    pub fn merge(&mut self, op: TokenId, later: &Acc) {
        if !later.is_set() {
            return;
        }
        if !self.is_set() {
            *self = *later;
            return;
        }
        match op {
            token::T_SUM => {
                (self.value, self.comp) = kahan_inc(later.value, self.value, self.comp);
                (self.value, self.comp) = kahan_inc(later.comp, self.value, self.comp);
            }
            token::T_COUNT => self.value += later.value,
            token::T_MIN if self.value > later.value || self.value.is_nan() => {
                self.value = later.value
            }
            token::T_MAX if self.value < later.value || self.value.is_nan() => {
                self.value = later.value
            }
            token::T_AVG => self.merge_avg(later),
            token::T_STDDEV | token::T_STDVAR => {
                // Chan et al.'s pairwise update of count, mean and the sum of
                // squared deviations; a NaN (from a non-finite input) stays.
                let n = self.count + later.count;
                let delta = later.mean - self.mean;
                self.value += later.value + delta * delta * self.count * later.count / n;
                self.mean += delta * later.count / n;
            }
            _ => {}
        }
        self.count += later.count;
    }

    /// `avg` states: compensated sums add up; once either side switched to an
    /// incremental mean (its sum overflowed), the means are weighted.
    fn merge_avg(&mut self, later: &Acc) {
        if !self.incremental && !later.incremental {
            (self.value, self.comp) = kahan_inc(later.value, self.value, self.comp);
            (self.value, self.comp) = kahan_inc(later.comp, self.value, self.comp);
            return;
        }
        let n = self.count + later.count;
        let (m1, m2) = (self.result(token::T_AVG), later.result(token::T_AVG));
        self.mean = m1 + (m2 - m1) * (later.count / n);
        self.comp = 0.0;
        self.incremental = true;
    }

    /// Adds one sample to a `sum`: [`Acc::add`] for `T_SUM`, callable without
    /// the dispatch on the operator from loops that know it (fused `sum`).
    #[inline]
    pub fn add_sum(&mut self, f: f64) {
        if self.count == 0.0 {
            self.count = 1.0;
            self.value = f;
            self.mean = f;
            return;
        }
        self.count += 1.0;
        (self.value, self.comp) = kahan_inc(f, self.value, self.comp);
    }

    /// Adds one sample.
    pub fn add(&mut self, op: TokenId, f: f64) {
        if op == token::T_SUM {
            self.add_sum(f);
            return;
        }
        if self.count == 0.0 {
            self.count = 1.0;
            self.value = match op {
                // A NaN or infinite input makes the variance undefined.
                token::T_STDDEV | token::T_STDVAR if !f.is_finite() => f64::NAN,
                token::T_STDDEV | token::T_STDVAR => 0.0,
                token::T_GROUP | token::T_COUNT => 1.0,
                _ => f,
            };
            self.mean = f;
            return;
        }
        self.count += 1.0;
        match op {
            token::T_AVG => self.add_avg(f),
            token::T_MIN if self.value > f || self.value.is_nan() => self.value = f,
            token::T_MAX if self.value < f || self.value.is_nan() => self.value = f,
            token::T_COUNT => self.value = self.count,
            token::T_STDDEV | token::T_STDVAR if !f.is_finite() => self.value = f64::NAN,
            token::T_STDDEV | token::T_STDVAR => {
                let delta = f - self.mean;
                self.mean += delta / self.count;
                self.value += delta * (f - self.mean);
            }
            _ => {}
        }
    }

    /// Prometheus's `avg`: a compensated sum until it would overflow, then an
    /// incremental mean.
    fn add_avg(&mut self, f: f64) {
        if !self.incremental {
            let (v, c) = kahan_inc(f, self.value, self.comp);
            if !v.is_infinite() {
                (self.value, self.comp) = (v, c);
                return;
            }
            self.incremental = true;
            self.mean = self.value / (self.count - 1.0);
            self.comp /= self.count - 1.0;
        }
        if self.mean.is_infinite() {
            if f.is_infinite() && (self.mean > 0.0) == (f > 0.0) {
                return;
            }
            if !f.is_infinite() && !f.is_nan() {
                return;
            }
        }
        let current = self.mean + self.comp;
        (self.mean, self.comp) =
            kahan_inc(f / self.count - current / self.count, self.mean, self.comp);
    }

    /// The aggregate's value.
    pub fn result(&self, op: TokenId) -> f64 {
        match op {
            token::T_SUM => {
                if self.value.is_infinite() {
                    self.value
                } else {
                    self.value + self.comp
                }
            }
            token::T_AVG => {
                if self.incremental {
                    self.mean + self.comp
                } else {
                    let s = if self.value.is_infinite() {
                        self.value
                    } else {
                        self.value + self.comp
                    };
                    s / self.count
                }
            }
            token::T_STDVAR => self.value / self.count,
            token::T_STDDEV => (self.value / self.count).sqrt(),
            _ => self.value,
        }
    }
}

/// The `sum` accumulators of one group as columns, one entry per step, so
/// that a series' run of consecutive steps folds in one loop without
/// branches, which the compiler vectorizes. Each entry goes through exactly
/// the states of an [`Acc`] fed by [`Acc::add_sum`]; [`SumColumns::into_accs`]
/// hands them over for merging and results.
pub(crate) struct SumColumns {
    count: Vec<f64>,
    value: Vec<f64>,
    comp: Vec<f64>,
}

impl SumColumns {
    /// Empty sums for `steps` steps.
    pub fn new(steps: usize) -> Self {
        SumColumns {
            count: vec![0.0; steps],
            value: vec![0.0; steps],
            comp: vec![0.0; steps],
        }
    }

    /// Adds the values of `points` to the steps from `first` on, one step per
    /// point (points past the last step are left out).
    pub fn add_run(&mut self, first: usize, points: &[FPoint]) {
        self.add_run_by(first, points, fold_run);
    }

    /// [`SumColumns::add_run`] with the given loop.
    fn add_run_by(&mut self, first: usize, points: &[FPoint], fold: FoldRun) {
        let (Some(count), Some(value), Some(comp)) = (
            self.count.get_mut(first..),
            self.value.get_mut(first..),
            self.comp.get_mut(first..),
        ) else {
            return;
        };
        let n = points.len().min(count.len());
        fold(
            &mut count[..n],
            &mut value[..n],
            &mut comp[..n],
            &points[..n],
        );
    }

    /// The sums as accumulators, one per step.
    pub fn into_accs(self) -> Vec<Acc> {
        self.count
            .into_iter()
            .zip(self.value)
            .zip(self.comp)
            .map(|((count, value), comp)| Acc {
                count,
                value,
                comp,
                // `add_sum` keeps the first value here; no `sum` reads it.
                mean: 0.0,
                incremental: false,
            })
            .collect()
    }
}

/// A loop folding a run of points into `sum` columns of the same length.
type FoldRun = fn(&mut [f64], &mut [f64], &mut [f64], &[FPoint]);

/// Folds `points` into the columns, one step each; the widest vector code
/// the CPU runs (`is_x86_feature_detected!` caches its answer).
fn fold_run(count: &mut [f64], value: &mut [f64], comp: &mut [f64], points: &[FPoint]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        unsafe { fold_run_avx2(count, value, comp, points) };
        return;
    }
    fold_run_baseline(count, value, comp, points);
}

/// The fold compiled for AVX2 (four lanes, twice SSE2's); FMA stays off, as
/// it would round differently.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn fold_run_avx2(count: &mut [f64], value: &mut [f64], comp: &mut [f64], points: &[FPoint]) {
    fold_run_loop(count, value, comp, points);
}

/// The fold for any CPU (two SSE2 lanes on x86-64).
fn fold_run_baseline(count: &mut [f64], value: &mut [f64], comp: &mut [f64], points: &[FPoint]) {
    fold_run_loop(count, value, comp, points);
}

/// The loop without branches, which the compiler vectorizes: each entry
/// goes through the states of [`Acc::add_sum`], with the same IEEE
/// operations in the same order in every lane.
#[inline(always)]
fn fold_run_loop(count: &mut [f64], value: &mut [f64], comp: &mut [f64], points: &[FPoint]) {
    // Every slice cut to one length: no bounds checks in the loop.
    let n = points
        .len()
        .min(count.len())
        .min(value.len())
        .min(comp.len());
    let (count, value, comp, points) = (
        &mut count[..n],
        &mut value[..n],
        &mut comp[..n],
        &points[..n],
    );
    for k in 0..n {
        let (f, sum, c) = (points[k].f, value[k], comp[k]);
        // `kahan_inc(f, sum, c)` with both arms computed and one selected.
        let t = sum + f;
        let low_bits = if sum.abs() >= f.abs() {
            (sum - t) + f
        } else {
            (f - t) + sum
        };
        let grown = if t.is_infinite() { 0.0 } else { c + low_bits };
        // The first value is taken as is (`-0.0` stays `-0.0`).
        let fresh = count[k] == 0.0;
        value[k] = if fresh { f } else { t };
        comp[k] = if fresh { c } else { grown };
        count[k] += 1.0;
    }
}

/// Formats a float as Go's `strconv.FormatFloat(f, 'f', -1, 64)` (count_values labels).
fn format_value(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f == f64::INFINITY {
        "+Inf".into()
    } else if f == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{f}")
    }
}

impl Evaluator<'_> {
    /// Evaluates an aggregation at every step.
    pub(crate) fn eval_aggregate(
        &mut self,
        agg: &AggregateExpr,
        grid: Grid,
    ) -> Result<Val, QueryError> {
        let op = agg.op.id();
        let n = grid.len();
        // Parameters first, as Prometheus does: `topk(NaN, x)` fails even when x is empty.
        let mut params: Option<Vec<f64>> = None;
        let mut label_param: Option<String> = None;
        if let Some(p) = &agg.param {
            match self.eval(p, grid)? {
                Val::Scalar(v) => params = Some(v),
                Val::Str(s) => label_param = Some(s),
                other => {
                    return Err(QueryError::bad_data(format!(
                        "expected scalar or string parameter, got {}",
                        other.type_name()
                    )))
                }
            }
        }
        if let Some(ps) = &params {
            if matches!(op, token::T_TOPK | token::T_BOTTOMK | token::T_LIMITK) {
                for &k in ps {
                    if k.is_nan() {
                        return Err(QueryError::execution("Parameter value is NaN"));
                    }
                    if !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&k) {
                        return Err(QueryError::execution(format!(
                            "Scalar value {k} overflows int64"
                        )));
                    }
                }
            }
            if op == token::T_LIMIT_RATIO && ps.iter().any(|r| r.is_nan()) {
                return Err(QueryError::execution("Ratio value is NaN"));
            }
            if op == token::T_LIMIT_RATIO {
                if let Some(r) = ps.iter().copied().find(|r| !(-1.0..=1.0).contains(r)) {
                    let capped = r.clamp(-1.0, 1.0);
                    let pos = first_arg_position(self.query, "limit_ratio");
                    self.annotations.warn(
                        &format!(
                            "ratio value should be between -1 and 1, got {}, capping to {}",
                            go_g(r),
                            go_g(capped)
                        ),
                        &pos,
                    );
                }
            }
            if op == token::T_QUANTILE {
                if let Some(q) = ps.iter().find(|q| q.is_nan() || **q < 0.0 || **q > 1.0) {
                    let pos = first_arg_position(self.query, "quantile");
                    self.annotations.warn(
                        &format!("quantile value should be between 0 and 1, got {}", go_g(*q)),
                        &pos,
                    );
                }
            }
        }
        if op == token::T_COUNT_VALUES {
            let l = label_param.as_deref().unwrap_or("");
            if !crate::functions::labels::is_valid_label_name(l) {
                return Err(QueryError::execution(format!("invalid label name {l:?}")));
            }
        }
        if let Some(v) = self.try_eval_fused(agg, grid)? {
            return Ok(v);
        }
        let input = self.eval_vector(&agg.expr, grid)?;

        // Group assignment, once per series.
        let grouping = Grouping::new(agg.modifier.as_ref());
        let mut group_of: HashMap<Labels, usize> = HashMap::new();
        let mut groups: Vec<(Labels, Vec<usize>)> = Vec::new();
        for (i, s) in input.iter().enumerate() {
            let key = grouping.key(&s.metric);
            match group_of.get(&key) {
                Some(&g) => {
                    if let Some(grp) = groups.get_mut(g) {
                        grp.1.push(i);
                    }
                }
                None => {
                    group_of.insert(key.clone(), groups.len());
                    groups.push((key, vec![i]));
                }
            }
        }

        if op == token::T_COUNT_VALUES {
            let label = label_param.as_deref().unwrap_or("");
            return Ok(Val::Vector(count_values(&input, label, grid, |l| {
                grouping.key(l)
            })));
        }
        let mut out: Vec<StepSeries> = Vec::new();
        for (key, members) in groups {
            self.check_interrupt()?;
            let drop_name = key.has(METRIC_NAME)
                && members
                    .iter()
                    .any(|&i| input.get(i).is_some_and(|s| s.drop_name));
            match op {
                token::T_TOPK | token::T_BOTTOMK | token::T_LIMITK | token::T_LIMIT_RATIO => {
                    let ps = params.as_deref().unwrap_or(&[]);
                    out.extend(select_k(op, &input, &members, ps, grid));
                }
                token::T_QUANTILE => {
                    let mut vals: Vec<Vec<f64>> = vec![Vec::new(); n];
                    for &i in &members {
                        let mut cur = grid.cursor();
                        for p in input.get(i).map_or(&[][..], |s| &s.points) {
                            if let Some(v) = vals.get_mut(cur.index(p.t)) {
                                v.push(p.f);
                            }
                        }
                    }
                    let ps = params.as_deref().unwrap_or(&[]);
                    let points: Vec<FPoint> = vals
                        .iter_mut()
                        .enumerate()
                        .filter(|(_, v)| !v.is_empty())
                        .map(|(i, v)| FPoint {
                            t: grid.t(i),
                            f: quantile(ps.get(i).copied().unwrap_or(f64::NAN), v),
                        })
                        .collect();
                    out.push(StepSeries {
                        metric: key,
                        drop_name,
                        points: points.into(),
                    });
                }
                _ => {
                    let mut accs = vec![Acc::default(); n];
                    for &i in &members {
                        let mut cur = grid.cursor();
                        for p in input.get(i).map_or(&[][..], |s| &s.points) {
                            if let Some(a) = accs.get_mut(cur.index(p.t)) {
                                a.add(op, p.f);
                            }
                        }
                    }
                    let points: Vec<FPoint> = accs
                        .iter()
                        .enumerate()
                        .filter(|(_, a)| a.count > 0.0)
                        .map(|(i, a)| FPoint {
                            t: grid.t(i),
                            f: a.result(op),
                        })
                        .collect();
                    out.push(StepSeries {
                        metric: key,
                        drop_name,
                        points: points.into(),
                    });
                }
            }
        }
        out.retain(|s| !s.points.is_empty());
        Ok(Val::Vector(out))
    }
}

/// `count_values(label, v)`: the value is written into `label` first, then
/// series are grouped (so `by`/`without` may see or overwrite that label) and
/// counted per step.
fn count_values(
    input: &[StepSeries],
    label: &str,
    grid: Grid,
    group_key: impl Fn(&Labels) -> Labels,
) -> Vec<StepSeries> {
    let n = grid.len();
    let mut slots: HashMap<Labels, usize> = HashMap::new();
    let mut out: Vec<(Labels, Vec<f64>)> = Vec::new();
    for s in input {
        for p in &s.points {
            let value = format_value(p.f);
            let key = group_key(&s.metric.with(label, &value)).with(label, &value);
            let slot = match slots.get(&key) {
                Some(&i) => i,
                None => {
                    slots.insert(key.clone(), out.len());
                    out.push((key, vec![0.0; n]));
                    out.len() - 1
                }
            };
            if let Some(c) = out.get_mut(slot).and_then(|o| o.1.get_mut(grid.index(p.t))) {
                *c += 1.0;
            }
        }
    }
    out.into_iter()
        .map(|(metric, counts)| StepSeries {
            metric,
            drop_name: false,
            points: counts
                .into_iter()
                .enumerate()
                .filter(|(_, c)| *c > 0.0)
                .map(|(i, f)| FPoint { t: grid.t(i), f })
                .collect(),
        })
        .collect()
}

/// `topk`/`bottomk`/`limitk`/`limit_ratio` for one group: the selected members
/// keep their own labels; for a one-step grid they come out in result order.
fn select_k(
    op: TokenId,
    input: &[StepSeries],
    members: &[usize],
    ps: &[f64],
    grid: Grid,
) -> Vec<StepSeries> {
    let mut chosen: Vec<Vec<FPoint>> = vec![Vec::new(); members.len()];
    let mut order: Vec<usize> = Vec::new();
    let mut cursors = vec![0usize; members.len()];
    let mut cands: Vec<(usize, f64)> = Vec::with_capacity(members.len());
    for (step, t) in grid.times().enumerate() {
        cands.clear();
        for (mi, &i) in members.iter().enumerate() {
            let Some(s) = input.get(i) else { continue };
            let Some(c) = cursors.get_mut(mi) else {
                continue;
            };
            while s.points.get(*c).is_some_and(|p| p.t < t) {
                *c += 1;
            }
            if let Some(p) = s.points.get(*c).filter(|p| p.t == t) {
                cands.push((mi, p.f));
            }
        }
        let param = ps.get(step).copied().unwrap_or(0.0);
        let picked: Vec<(usize, f64)> = match op {
            token::T_LIMIT_RATIO => cands
                .iter()
                .copied()
                .filter(|(mi, _)| {
                    ratio_selected(members.get(*mi).and_then(|&i| input.get(i)), param)
                })
                .collect(),
            _ => {
                let k = if param < 1.0 {
                    0
                } else {
                    (param as usize).min(cands.len())
                };
                if op == token::T_TOPK {
                    cands.sort_by(|a, b| cmp_nan_low(b.1, a.1));
                } else if op == token::T_BOTTOMK {
                    cands.sort_by(|a, b| cmp_nan_high(a.1, b.1));
                }
                cands.iter().copied().take(k).collect()
            }
        };
        for (mi, f) in picked {
            if let Some(c) = chosen.get_mut(mi) {
                if c.is_empty() {
                    order.push(mi);
                }
                c.push(FPoint { t, f });
            }
        }
    }
    order
        .into_iter()
        .filter_map(|mi| {
            let s = members.get(mi).and_then(|&i| input.get(i))?;
            let points = std::mem::take(chosen.get_mut(mi)?);
            Some(StepSeries {
                metric: s.metric.clone(),
                drop_name: s.drop_name,
                points: points.into(),
            })
        })
        .collect()
}

/// Orders `a` before `b` ascending, with NaN below every number.
fn cmp_nan_low(a: f64, b: f64) -> std::cmp::Ordering {
    crate::functions::quantile::nan_first_ascending(&a, &b)
}

/// Orders `a` before `b` ascending, with NaN above every number.
fn cmp_nan_high(a: f64, b: f64) -> std::cmp::Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ => cmp_nan_low(a, b),
    }
}

/// Whether a series falls in the `limit_ratio(r, ...)` sample: a stable hash of
/// its labels mapped to [0, 1) is below `r` (or, for negative `r`, at or above `1 + r`).
fn ratio_selected(s: Option<&StepSeries>, r: f64) -> bool {
    let Some(s) = s else { return false };
    let pos = (s.metric.hash_u64() >> 11) as f64 / (1u64 << 53) as f64;
    if r >= 0.0 {
        pos < r
    } else {
        pos >= 1.0 + r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_columns_match_acc_bits() {
        sum_columns_by_match_acc_bits(fold_run);
        sum_columns_by_match_acc_bits(fold_run_baseline);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            sum_columns_by_match_acc_bits(|c, v, k, p| unsafe { fold_run_avx2(c, v, k, p) });
        }
    }

    fn sum_columns_by_match_acc_bits(fold: FoldRun) {
        let awkward = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            1e308,
            -1e308,
            1e-300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            0.1,
            3.0e15,
        ];
        let mut next = crate::test_rng::xorshift(0x51_7cc1_b727_220au64);
        let steps = 40;
        let mut cols = SumColumns::new(steps);
        let mut accs = vec![Acc::default(); steps];
        for _ in 0..300 {
            let first = (next() % steps as u64) as usize;
            let len = (next() % 50) as usize;
            let run: Vec<FPoint> = (0..len)
                .map(|k| FPoint {
                    t: k as i64,
                    f: match next() % 3 {
                        0 => awkward[(next() % awkward.len() as u64) as usize],
                        _ => (next() % 10_000) as f64 / 3.0 - 1000.0,
                    },
                })
                .collect();
            cols.add_run_by(first, &run, fold);
            for (a, p) in accs.iter_mut().skip(first).zip(&run) {
                a.add_sum(p.f);
            }
        }
        // Bits, but one NaN for all: which of two NaN operands an addition
        // returns is unspecified (LLVM may commute it, scalar or vector), and
        // every NaN prints as `NaN`.
        let bits = |f: f64| {
            if f.is_nan() {
                f64::NAN.to_bits()
            } else {
                f.to_bits()
            }
        };
        let bits = |a: &Acc| {
            (
                bits(a.count),
                bits(a.value),
                bits(a.comp),
                bits(a.result(token::T_SUM)),
            )
        };
        let got: Vec<_> = cols.into_accs().iter().map(bits).collect();
        let want: Vec<_> = accs.iter().map(bits).collect();
        assert_eq!(got, want);
    }
}
