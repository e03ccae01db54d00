//! Aggregation fused with its input when that input is a selector or a range
//! function over a selector: `sum by (job) (rate(http_requests_total[5m]))`
//! and `count(up)`, the most common dashboard query shapes.
//!
//! Instead of materialising one output series per input series and grouping
//! them afterwards, each series' range-function output is folded into its
//! group's per-step accumulators as soon as it is computed and then dropped,
//! so memory follows the number of groups, not the number of series. Both
//! workers fold into their own groups, merged in input order at the end.
//! Aggregations with a per-step accumulator are fused (`sum`, `avg`, `count`,
//! `min`, `max`, `group`, `stddev`, `stdvar`); those that keep every value or
//! series (`quantile`, `topk`, `count_values`, ...) take the general path.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use promql_parser::parser::token::{self, TokenId};
use promql_parser::parser::{AggregateExpr, Expr};

use super::aggregate::{Acc, Grouping, SumColumns};
use super::functions::{range_argument, unparen};
use super::range_run::SeriesSink;
use super::selectors::SelectorValue;
use super::{Evaluator, Grid, StepSeries, Val};
use crate::error::QueryError;
use crate::functions::{lookup, Implementation};
use crate::value::{FPoint, Labels, METRIC_NAME};

/// Per-group accumulators of one worker, groups in first-seen order.
struct GroupFold<'g> {
    op: TokenId,
    grouping: &'g Grouping,
    steps: Grid,
    index: GroupIndex,
    groups: Vec<(Labels, Vec<Acc>)>,
    /// For `sum`: each group's sums as columns while series are folded in
    /// (its accumulators in `groups` stay empty until [`GroupFold::settle`]).
    sums: Vec<SumColumns>,
    /// Scratch the next series' points are written into, reused.
    points: Vec<FPoint>,
}

impl GroupFold<'_> {
    /// Folds one series' points into its group.
    fn fold(&mut self, labels: &Labels, points: &[FPoint]) {
        let hash = group_hash(self.grouping, labels);
        let slot = match self.index.find(hash, self.grouping, labels, &self.groups) {
            Some(i) => i,
            None => {
                self.index.insert(hash, self.groups.len());
                let accs = if self.op == token::T_SUM {
                    Vec::new()
                } else {
                    vec![Acc::default(); self.steps.len()]
                };
                self.groups.push((self.grouping.key(labels), accs));
                self.groups.len() - 1
            }
        };
        if self.op == token::T_SUM {
            // `sum(rate(...))` is the most common shape: folded as columns.
            self.add_sums(slot, points);
            return;
        }
        let Some((_, accs)) = self.groups.get_mut(slot) else {
            return;
        };
        let mut cur = self.steps.cursor();
        for p in points {
            if let Some(a) = accs.get_mut(cur.index(p.t)) {
                a.add(self.op, p.f);
            }
        }
    }

    /// Folds a series into a group's `sum` columns, a run of consecutive
    /// steps at a time (a series usually has a value at every step).
    fn add_sums(&mut self, slot: usize, points: &[FPoint]) {
        let steps = self.steps;
        if self.sums.len() <= slot {
            self.sums
                .resize_with(slot + 1, || SumColumns::new(steps.len()));
        }
        let Some(sums) = self.sums.get_mut(slot) else {
            return;
        };
        // Points are at increasing grid times: as many points as steps between
        // the first and the last means one run (the usual case).
        if let (Some(first), Some(last)) = (points.first(), points.last()) {
            let steps_spanned = (points.len() as i64 - 1).saturating_mul(steps.step);
            if last.t.checked_sub(first.t) == Some(steps_spanned) {
                sums.add_run(steps.index(first.t), points);
                return;
            }
        }
        let mut rest = points;
        while let Some(first) = rest.first() {
            let run = 1 + rest
                .windows(2)
                .take_while(|pair| match pair {
                    [a, b] => b.t == a.t.saturating_add(steps.step),
                    _ => false,
                })
                .count();
            let (head, tail) = rest.split_at(run.min(rest.len()));
            sums.add_run(steps.index(first.t), head);
            rest = tail;
        }
    }

    /// Moves the `sum` columns into the groups' accumulators, before merging
    /// or finishing.
    fn settle(&mut self) {
        for ((_, accs), sums) in self.groups.iter_mut().zip(self.sums.drain(..)) {
            *accs = sums.into_accs();
        }
    }
}

/// The groups of one worker by the hash of their labels, so that a series
/// finds its group from its own labels without building its group's label
/// set: that cost an allocation, reference-count updates, a SipHash and a
/// free per series (~6% of `sum by (x) (rate(m[5m]))` over 10k series).
#[derive(Default)]
struct GroupIndex {
    /// Group slots (indices into the groups) by hash; a collision keeps
    /// several, told apart by comparing labels.
    slots: HashMap<u64, Vec<usize>, BuildHasherDefault<PassHasher>>,
}

impl GroupIndex {
    /// The slot among `groups` of the group of a series with `labels`,
    /// whose [`group_hash`] is `hash`.
    fn find<T>(
        &self,
        hash: u64,
        grouping: &Grouping,
        labels: &Labels,
        groups: &[(Labels, T)],
    ) -> Option<usize> {
        self.slots.get(&hash)?.iter().copied().find(|&slot| {
            groups.get(slot).is_some_and(|(key, _)| {
                let mut kept = labels.iter().filter(|l| grouping.keeps(&l.name));
                key.iter().all(|k| kept.next() == Some(k)) && kept.next().is_none()
            })
        })
    }

    /// Records the group at `slot` under its labels' hash.
    fn insert(&mut self, hash: u64, slot: usize) {
        self.slots.entry(hash).or_default().push(slot);
    }
}

/// A hash of the group labels of a series, computed from its own labels
/// (FNV-1a over each kept name and value, 0xff after each: it never occurs
/// in UTF-8, so "ab","c" and "a","bc" differ).
fn group_hash(grouping: &Grouping, labels: &Labels) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for l in labels.iter().filter(|l| grouping.keeps(&l.name)) {
        for s in [&*l.name, &*l.value] {
            for b in s.bytes().chain([0xff]) {
                h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
    }
    h
}

/// A hasher for keys that are hashes already ([`group_hash`]).
#[derive(Default)]
struct PassHasher(u64);

impl Hasher for PassHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

impl SeriesSink for GroupFold<'_> {
    fn buffer(&mut self) -> &mut Vec<FPoint> {
        &mut self.points
    }

    fn accept(&mut self, labels: &Labels, from: usize) {
        let mut points = std::mem::take(&mut self.points);
        self.fold(labels, points.get(from..).unwrap_or_default());
        points.clear();
        self.points = points;
    }

    fn merge(&mut self, mut later: Self) {
        self.settle();
        later.settle();
        for (key, accs) in later.groups {
            // A group's labels are their own group labels.
            let hash = group_hash(self.grouping, &key);
            match self.index.find(hash, self.grouping, &key, &self.groups) {
                Some(i) => {
                    if let Some((_, mine)) = self.groups.get_mut(i) {
                        for (a, b) in mine.iter_mut().zip(&accs) {
                            a.merge(self.op, b);
                        }
                    }
                }
                None => {
                    self.index.insert(hash, self.groups.len());
                    self.groups.push((key, accs));
                }
            }
        }
    }
}

impl Evaluator<'_> {
    /// Evaluates `agg(selector)` or `agg(range_fn(selector[range]))` in one pass when the shape
    /// allows it; `None` sends the caller down the general path.
    pub(crate) fn try_eval_fused(
        &mut self,
        agg: &AggregateExpr,
        grid: Grid,
    ) -> Result<Option<Val>, QueryError> {
        let op = agg.op.id();
        if agg.param.is_some()
            || !matches!(
                op,
                token::T_SUM
                    | token::T_AVG
                    | token::T_COUNT
                    | token::T_MIN
                    | token::T_MAX
                    | token::T_GROUP
                    | token::T_STDDEV
                    | token::T_STDVAR
            )
        {
            return Ok(None);
        }
        let grouping = Grouping::new(agg.modifier.as_ref());
        let make_fold = || GroupFold {
            op,
            grouping: &grouping,
            steps: grid,
            index: GroupIndex::default(),
            groups: Vec::new(),
            sums: Vec::new(),
            points: Vec::new(),
        };
        if let Expr::VectorSelector(vs) = unparen(&agg.expr) {
            let fold = self.run_vector_selector(vs, grid, SelectorValue::Sample, &make_fold)?;
            return Ok(Some(Val::Vector(finish(fold, op, grid, false))));
        }
        let Expr::Call(call) = unparen(&agg.expr) else {
            return Ok(None);
        };
        let Some(spec) = lookup(call.func.name) else {
            return Ok(None);
        };
        let Implementation::Range(kernel) = spec.implementation else {
            return Ok(None);
        };
        let args = &call.args.args;
        let Expr::MatrixSelector(ms) = unparen(range_argument(spec, args)?) else {
            return Ok(None);
        };
        let prepared = self.prepare_range_call(spec, kernel, args, grid)?;
        let fold = self.run_range_selector(&prepared, ms, grid, &make_fold)?;
        Ok(Some(Val::Vector(finish(
            fold,
            op,
            grid,
            !spec.keeps_metric_name,
        ))))
    }
}

/// The aggregated series, groups in first-seen order; `drops_name` when the
/// inner function drops the metric name (kept until the end of the query).
fn finish(mut fold: GroupFold<'_>, op: TokenId, grid: Grid, drops_name: bool) -> Vec<StepSeries> {
    fold.settle();
    fold.groups
        .into_iter()
        .filter_map(|(key, accs)| {
            let points: Vec<FPoint> = accs
                .iter()
                .enumerate()
                .filter(|(_, a)| a.is_set())
                .map(|(i, a)| FPoint {
                    t: grid.t(i),
                    f: a.result(op),
                })
                .collect();
            let drop_name = drops_name && key.has(METRIC_NAME);
            (!points.is_empty()).then_some(StepSeries {
                metric: key,
                drop_name,
                points: points.into(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use promql_parser::parser::LabelModifier;

    use super::*;

    /// Label sets with shared and missing labels, in no particular order.
    fn series() -> Vec<Labels> {
        (0..200)
            .map(|i: usize| {
                let mut pairs = vec![("__name__", format!("m{}", i % 2)), ("i", i.to_string())];
                if !i.is_multiple_of(3) {
                    pairs.push(("x", (i % 5).to_string()));
                }
                if i.is_multiple_of(4) {
                    pairs.push(("a", (i % 7).to_string()));
                }
                Labels::from_pairs(pairs)
            })
            .collect()
    }

    #[test]
    fn group_index_finds_the_groups_of_the_group_labels() {
        for modifier in [
            None,
            Some(LabelModifier::include(vec!["x"])),
            Some(LabelModifier::include(vec!["x", "a", "__name__"])),
            Some(LabelModifier::include(vec!["nope"])),
            Some(LabelModifier::exclude(vec!["i"])),
            Some(LabelModifier::exclude(vec!["i", "x"])),
        ] {
            let grouping = Grouping::new(modifier.as_ref());
            let (mut index, mut groups) = (GroupIndex::default(), Vec::new());
            let mut expected: HashMap<Labels, usize> = HashMap::new();
            for labels in series() {
                let key = grouping.key(&labels);
                let hash = group_hash(&grouping, &labels);
                assert_eq!(hash, group_hash(&grouping, &key), "{key}");
                let want = expected.get(&key).copied();
                assert_eq!(index.find(hash, &grouping, &labels, &groups), want);
                assert_eq!(index.find(hash, &grouping, &key, &groups), want);
                if want.is_none() {
                    expected.insert(key.clone(), groups.len());
                    index.insert(hash, groups.len());
                    groups.push((key, ()));
                }
            }
            assert!(!groups.is_empty());
        }
    }

    #[test]
    fn group_index_tells_colliding_groups_apart() {
        let grouping = Grouping::new(Some(&LabelModifier::include(vec!["x"])));
        let x = |v: &str| Labels::from_pairs([("__name__", "m"), ("x", v)]);
        let groups = [(grouping.key(&x("1")), ()), (grouping.key(&x("2")), ())];
        let mut index = GroupIndex::default();
        // Both under one hash, as if it collided.
        index.insert(7, 0);
        index.insert(7, 1);
        assert_eq!(index.find(7, &grouping, &x("2"), &groups), Some(1));
        assert_eq!(index.find(7, &grouping, &x("1"), &groups), Some(0));
        assert_eq!(index.find(7, &grouping, &x("3"), &groups), None);
        assert_eq!(index.find(8, &grouping, &x("1"), &groups), None);
    }
}
