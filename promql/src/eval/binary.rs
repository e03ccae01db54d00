//! Binary operators: arithmetic, comparison (with and without `bool`), and the
//! set operators `and`, `or`, `unless`, with `on`/`ignoring` and
//! `group_left`/`group_right` vector matching.
//!
//! Matching signatures are computed once per series; series are then lined up
//! step by step through their (sorted) point timestamps. Errors for
//! many-to-many matching and for duplicate result label sets use Prometheus's
//! wording (`promql/engine.go`, `VectorBinop`, v3.x). Arithmetic, and
//! comparison with `bool`, mark results for delayed `__name__` removal.

use std::collections::HashMap;

use promql_parser::parser::token::{self, TokenId};
use promql_parser::parser::{BinaryExpr, LabelModifier, VectorMatchCardinality};

use super::{Evaluator, Grid, StepSeries, Val};
use crate::error::QueryError;
use crate::points::Points;
use crate::value::{FPoint, Labels, METRIC_NAME};

/// How series of the two sides are paired.
struct Matching<'m> {
    /// `on(...)` when true, otherwise `ignoring(...)` (or no clause).
    on: bool,
    /// The labels named in `on`/`ignoring`.
    names: &'m [String],
    /// Labels copied from the "one" side for `group_left`/`group_right`.
    include: &'m [String],
    card: Card,
    /// `fill_left(v)`: value for a missing series on the "many" side (the left
    /// one, or the right one under `group_right`, as upstream orients it).
    fill_many: Option<f64>,
    /// `fill_right(v)`: value for a missing series on the "one" side.
    fill_one: Option<f64>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Card {
    OneToOne,
    ManyToOne,
    OneToMany,
}

impl Matching<'_> {
    /// The matching key of a series: `on` keeps the listed labels, otherwise
    /// the listed labels and `__name__` are removed.
    fn signature(&self, l: &Labels) -> Labels {
        if self.on {
            l.keep(self.names)
        } else if self.names.is_empty() {
            l.without_metric_name()
        } else {
            let mut names: Vec<&str> = self.names.iter().map(String::as_str).collect();
            names.push(METRIC_NAME);
            l.without(&names)
        }
    }
}

/// Whether `op` computes a new value (and so drops the metric name).
fn is_arithmetic(op: TokenId) -> bool {
    matches!(
        op,
        token::T_ADD
            | token::T_SUB
            | token::T_MUL
            | token::T_DIV
            | token::T_POW
            | token::T_MOD
            | token::T_ATAN2
    )
}

fn is_comparison(op: TokenId) -> bool {
    matches!(
        op,
        token::T_EQLC | token::T_NEQ | token::T_GTR | token::T_LSS | token::T_GTE | token::T_LTE
    )
}

/// Applies `op` to two floats; for comparisons returns `lhs` and whether it passes.
fn apply(op: TokenId, l: f64, r: f64) -> (f64, bool) {
    match op {
        token::T_ADD => (l + r, true),
        token::T_SUB => (l - r, true),
        token::T_MUL => (l * r, true),
        token::T_DIV => (l / r, true),
        token::T_POW => (l.powf(r), true),
        token::T_MOD => (l % r, true),
        token::T_ATAN2 => (l.atan2(r), true),
        token::T_EQLC => (l, l == r),
        token::T_NEQ => (l, l != r),
        token::T_GTR => (l, l > r),
        token::T_LSS => (l, l < r),
        token::T_GTE => (l, l >= r),
        token::T_LTE => (l, l <= r),
        _ => (f64::NAN, false),
    }
}

/// Applies `op` and the `bool` modifier; `None` means "filtered out".
fn apply_bool(op: TokenId, l: f64, r: f64, return_bool: bool) -> Option<f64> {
    let (v, keep) = apply(op, l, r);
    if return_bool {
        Some(if keep { 1.0 } else { 0.0 })
    } else {
        keep.then_some(v)
    }
}

impl Evaluator<'_> {
    /// Evaluates a binary expression at every step.
    pub(crate) fn eval_binary(&mut self, b: &BinaryExpr, grid: Grid) -> Result<Val, QueryError> {
        let op = b.op.id();
        let return_bool = b.return_bool();
        let lhs = self.eval(&b.lhs, grid)?;
        let rhs = self.eval(&b.rhs, grid)?;
        match (lhs, rhs) {
            (Val::Scalar(l), Val::Scalar(r)) => Ok(Val::Scalar(
                l.into_iter()
                    .zip(r)
                    .map(|(l, r)| {
                        let (v, keep) = apply(op, l, r);
                        if is_comparison(op) {
                            if keep {
                                1.0
                            } else {
                                0.0
                            }
                        } else {
                            v
                        }
                    })
                    .collect(),
            )),
            (Val::Vector(v), Val::Scalar(s)) => Ok(Val::Vector(vector_scalar(v, &s, grid, op, false, return_bool))),
            (Val::Scalar(s), Val::Vector(v)) => Ok(Val::Vector(vector_scalar(v, &s, grid, op, true, return_bool))),
            (Val::Vector(l), Val::Vector(r)) => {
                let modifier = b.modifier.as_ref();
                let (on, names): (bool, &[String]) = match modifier.and_then(|m| m.matching.as_ref()) {
                    Some(LabelModifier::Include(ls)) => (true, &ls.labels),
                    Some(LabelModifier::Exclude(ls)) => (false, &ls.labels),
                    None => (false, &[]),
                };
                let (card, include): (Card, &[String]) = match modifier.map(|m| &m.card) {
                    Some(VectorMatchCardinality::ManyToOne(ls)) => (Card::ManyToOne, &ls.labels),
                    Some(VectorMatchCardinality::OneToMany(ls)) => (Card::OneToMany, &ls.labels),
                    _ => (Card::OneToOne, &[]),
                };
                let fill = modifier.map(|m| &m.fill_values);
                let m = Matching {
                    on,
                    names,
                    include,
                    card,
                    fill_many: fill.and_then(|f| f.lhs),
                    fill_one: fill.and_then(|f| f.rhs),
                };
                let out = match op {
                    token::T_LAND => set_and(l, &r, &m, true),
                    token::T_LUNLESS => set_and(l, &r, &m, false),
                    token::T_LOR => set_or(l, r, &m),
                    _ => self.vector_vector(l, r, &m, op, return_bool)?,
                };
                Ok(Val::Vector(out))
            }
            (l, r) => Err(QueryError::bad_data(format!(
                "binary expression must contain only scalar and instant vector types, got {} and {}",
                l.type_name(),
                r.type_name()
            ))),
        }
    }

    /// Arithmetic and comparison between two vectors.
    fn vector_vector(
        &mut self,
        lhs: Vec<StepSeries>,
        rhs: Vec<StepSeries>,
        m: &Matching<'_>,
        op: TokenId,
        return_bool: bool,
    ) -> Result<Vec<StepSeries>, QueryError> {
        // Put the "one" side on the right; remember to swap operands back.
        let swapped = m.card == Card::OneToMany;
        let (many, one) = if swapped { (rhs, lhs) } else { (lhs, rhs) };
        let one_side = if swapped { "left" } else { "right" };

        // Index the "one" side by signature, merging its points into one timeline.
        let mut one_by_sig: HashMap<Labels, Vec<(i64, f64, usize)>> = HashMap::new();
        for (idx, s) in one.iter().enumerate() {
            let tl = one_by_sig.entry(m.signature(&s.metric)).or_default();
            tl.extend(s.points.iter().map(|p| (p.t, p.f, idx)));
        }
        for (sig, tl) in one_by_sig.iter_mut() {
            tl.sort_by_key(|e| e.0);
            if let Some(w) = tl.windows(2).find(|w| matches!(w, [a, b] if a.0 == b.0)) {
                let (a, b) = match w {
                    [a, b] => (a.2, b.2),
                    _ => (0, 0),
                };
                let mut pair = [one.get(a).map(|s| &s.metric), one.get(b).map(|s| &s.metric)];
                pair.sort();
                let fmt = |l: Option<&Labels>| l.map(|l| l.to_string()).unwrap_or_default();
                return Err(QueryError::execution(format!(
                    "found duplicate series for the match group {sig} on the {one_side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                    fmt(pair[0]),
                    fmt(pair[1])
                )));
            }
        }

        let drop_name = is_arithmetic(op) || return_bool;
        let mut outputs: Vec<StepSeries> = Vec::new();
        let mut out_index: HashMap<(usize, usize), usize> = HashMap::new();
        // Per signature: steps already matched (one-to-one), or result label sets per
        // step (many-to-one), to detect ambiguous matches.
        let mut matched: HashMap<Labels, HashMap<i64, Vec<Labels>>> = HashMap::new();
        let mut many_by_sig: HashMap<Labels, usize> = HashMap::new();
        for s in &many {
            *many_by_sig.entry(m.signature(&s.metric)).or_default() += 1;
        }
        for (li, ls) in many.iter().enumerate() {
            self.check_interrupt()?;
            let sig = m.signature(&ls.metric);
            let tl = match one_by_sig.get(&sig) {
                Some(tl) => tl.as_slice(),
                None if m.fill_one.is_some() => &[],
                None => continue,
            };
            // Ambiguity is only possible when several "many" series share a signature.
            let track = many_by_sig.get(&sig).copied().unwrap_or(0) > 1;
            let mut j = 0;
            for p in &ls.points {
                while tl.get(j).is_some_and(|e| e.0 < p.t) {
                    j += 1;
                }
                let (rf, ri) = match tl.get(j) {
                    Some(&(t, rf, ri)) if t == p.t => (rf, ri),
                    _ => match m.fill_one {
                        Some(v) => (v, usize::MAX),
                        None => continue,
                    },
                };
                let oi = match out_index.get(&(li, ri)) {
                    Some(&oi) => oi,
                    None => {
                        let metric = result_metric(&ls.metric, one.get(ri).map(|s| &s.metric), m);
                        outputs.push(StepSeries {
                            metric,
                            drop_name: drop_name || ls.drop_name,
                            points: Points::new(),
                        });
                        out_index.insert((li, ri), outputs.len() - 1);
                        outputs.len() - 1
                    }
                };
                // Matching errors are raised before comparison filtering, as in
                // Prometheus: a filter must not hide an ambiguous match.
                if track && ri != usize::MAX {
                    let seen = matched
                        .entry(sig.clone())
                        .or_default()
                        .entry(p.t)
                        .or_default();
                    let metric = outputs
                        .get(oi)
                        .map(|o| o.metric.clone())
                        .unwrap_or_default();
                    if m.card == Card::OneToOne {
                        if !seen.is_empty() {
                            return Err(QueryError::execution(
                                "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                            ));
                        }
                    } else if seen.contains(&metric) {
                        return Err(QueryError::execution(
                            "multiple matches for labels: grouping labels must ensure unique matches",
                        ));
                    }
                    seen.push(metric);
                }
                let (l, r) = if swapped { (rf, p.f) } else { (p.f, rf) };
                if let Some(v) = apply_bool(op, l, r, return_bool) {
                    if let Some(o) = outputs.get_mut(oi) {
                        o.points.to_mut().push(FPoint { t: p.t, f: v });
                    }
                }
            }
        }
        if let Some(fill) = m.fill_many {
            // "One" side points with no "many" partner at their step: the result
            // carries the match group's labels.
            let many_ts = timestamps_by_sig(&many, m);
            for (sig, tl) in &one_by_sig {
                let present = many_ts.get(sig);
                let mut points = Vec::new();
                for &(t, rf, _) in tl {
                    if present.is_some_and(|ts| ts.binary_search(&t).is_ok()) {
                        continue;
                    }
                    let (l, r) = if swapped { (rf, fill) } else { (fill, rf) };
                    if let Some(v) = apply_bool(op, l, r, return_bool) {
                        points.push(FPoint { t, f: v });
                    }
                }
                if !points.is_empty() {
                    outputs.push(StepSeries {
                        metric: sig.clone(),
                        drop_name,
                        points: points.into(),
                    });
                }
            }
        }
        super::merge_same_labels(outputs)
    }
}

/// The labels of a vector-vector result, from the "many" side's series `l` and
/// the matched "one" side's series `r` (Prometheus `resultMetric`).
fn result_metric(l: &Labels, r: Option<&Labels>, m: &Matching<'_>) -> Labels {
    let mut out = l.clone();
    if m.card == Card::OneToOne {
        if m.on {
            out = out.keep(m.names);
        } else if !m.names.is_empty() {
            out = out.without(m.names);
        }
    }
    for name in m.include {
        let v = r.and_then(|r| r.get(name)).unwrap_or("");
        out = out.with(name, v);
    }
    out
}

/// Vector-scalar arithmetic and comparison; `scalar_left` when written `s op v`.
fn vector_scalar(
    series: Vec<StepSeries>,
    s: &[f64],
    grid: Grid,
    op: TokenId,
    scalar_left: bool,
    return_bool: bool,
) -> Vec<StepSeries> {
    let drop = is_arithmetic(op) || return_bool;
    series
        .into_iter()
        .filter_map(|mut ser| {
            let mut cur = grid.cursor();
            ser.points.to_mut().retain_mut(|p| {
                let sv = s.get(cur.index(p.t)).copied().unwrap_or(f64::NAN);
                let (l, r) = if scalar_left { (sv, p.f) } else { (p.f, sv) };
                let (v, keep) = apply(op, l, r);
                if return_bool {
                    p.f = if keep { 1.0 } else { 0.0 };
                    true
                } else if keep {
                    // A comparison filters but always keeps the vector's own value.
                    if !is_comparison(op) {
                        p.f = v;
                    }
                    true
                } else {
                    false
                }
            });
            ser.drop_name |= drop;
            (!ser.points.is_empty()).then_some(ser)
        })
        .collect()
}

/// Sorted, deduplicated timestamps per signature of one side.
fn timestamps_by_sig(series: &[StepSeries], m: &Matching<'_>) -> HashMap<Labels, Vec<i64>> {
    let mut by_sig: HashMap<Labels, Vec<i64>> = HashMap::new();
    for s in series {
        by_sig
            .entry(m.signature(&s.metric))
            .or_default()
            .extend(s.points.iter().map(|p| p.t));
    }
    for ts in by_sig.values_mut() {
        ts.sort_unstable();
        ts.dedup();
    }
    by_sig
}

/// `and` (keep = true) and `unless` (keep = false): left points whose signature
/// has (or lacks) a right point at the same step.
fn set_and(
    lhs: Vec<StepSeries>,
    rhs: &[StepSeries],
    m: &Matching<'_>,
    keep: bool,
) -> Vec<StepSeries> {
    let by_sig = timestamps_by_sig(rhs, m);
    lhs.into_iter()
        .filter_map(|mut s| {
            let ts = by_sig.get(&m.signature(&s.metric));
            s.points
                .to_mut()
                .retain(|p| ts.is_some_and(|ts| ts.binary_search(&p.t).is_ok()) == keep);
            (!s.points.is_empty()).then_some(s)
        })
        .collect()
}

/// `or`: all left points, plus right points whose signature has no left point at that step.
fn set_or(mut lhs: Vec<StepSeries>, rhs: Vec<StepSeries>, m: &Matching<'_>) -> Vec<StepSeries> {
    let by_sig = timestamps_by_sig(&lhs, m);
    for mut s in rhs {
        let ts = by_sig.get(&m.signature(&s.metric));
        s.points
            .to_mut()
            .retain(|p| ts.is_none_or(|ts| ts.binary_search(&p.t).is_err()));
        if !s.points.is_empty() {
            lhs.push(s);
        }
    }
    lhs
}
