//! The storage trait the engine reads through, its matcher type, and
//! [`MemStorage`], an in-memory implementation for tests and the script runner.
//!
//! The engine asks for the series matching a list of [`Matcher`]s whose samples
//! fall in an inclusive time range `[mint_ms, maxt_ms]`, and reads each selected
//! series' samples into a buffer it owns, one series at a time: memory grows
//! with one series, not with the data selected. Storage that already holds
//! samples decoded in memory (like [`MemStorage`]) lends them instead. Implementations must return
//! series sorted by labels, with samples in increasing timestamp order and
//! stale markers (see [`crate::STALE_NAN_BITS`]) passed through bit-exact.
//! This module never evaluates PromQL.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::{Arc, OnceLock};

use regex::Regex;

use crate::value::{is_stale_nan, FPoint, Label, Labels, METRIC_NAME};

/// How a [`Matcher`] compares a label value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `name="value"`
    Equal,
    /// `name!="value"`
    NotEqual,
    /// `name=~"regex"` (fully anchored)
    Regex,
    /// `name!~"regex"` (fully anchored)
    NotRegex,
}

impl fmt::Display for MatchOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        })
    }
}

/// A label matcher. A missing label matches as the empty string, as in Prometheus,
/// so `foo!="x"` selects series without `foo` and `foo=""` selects only those.
#[derive(Clone, Debug)]
pub struct Matcher {
    /// Label name.
    pub name: String,
    /// Comparison.
    pub op: MatchOp,
    /// Literal value or regex source (unanchored as written by the user).
    pub value: String,
    /// The compiled, anchored regex for `=~`/`!~`.
    re: Option<Regex>,
}

/// A regex in a matcher did not compile.
#[derive(Debug, thiserror::Error)]
#[error("invalid regular expression {pattern:?} in matcher")]
pub struct MatcherError {
    /// The regex as written.
    pub pattern: String,
    /// What the regex engine said.
    #[source]
    pub source: regex::Error,
}

impl Matcher {
    /// Builds a matcher; regexes are anchored at both ends and `.` matches `\n`.
    pub fn new(op: MatchOp, name: &str, value: &str) -> Result<Self, MatcherError> {
        let re = match op {
            MatchOp::Regex | MatchOp::NotRegex => Some(
                Regex::new(&format!("^(?s:{value})$")).map_err(|source| MatcherError {
                    pattern: value.to_string(),
                    source,
                })?,
            ),
            MatchOp::Equal | MatchOp::NotEqual => None,
        };
        Ok(Matcher {
            name: name.to_string(),
            op,
            value: value.to_string(),
            re,
        })
    }

    /// Whether a label value (empty when the label is absent) satisfies this matcher.
    pub fn matches(&self, v: &str) -> bool {
        match (self.op, &self.re) {
            (MatchOp::Equal, _) => v == self.value,
            (MatchOp::NotEqual, _) => v != self.value,
            (MatchOp::Regex, Some(re)) => re.is_match(v),
            (MatchOp::NotRegex, Some(re)) => !re.is_match(v),
            // Unreachable by construction: regex ops always carry a regex.
            (MatchOp::Regex | MatchOp::NotRegex, None) => false,
        }
    }

    /// Whether the matcher selects series that lack the label (it matches `""`).
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }

    /// Whether a label set satisfies this matcher.
    pub fn matches_labels(&self, labels: &Labels) -> bool {
        self.matches(labels.get(&self.name).unwrap_or(""))
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:?}", self.name, self.op, self.value)
    }
}

/// A failure inside a storage implementation, carried to the caller with its cause.
#[derive(Debug, thiserror::Error)]
#[error("storage error")]
pub struct StorageError {
    /// The underlying error.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl StorageError {
    /// Wraps any error.
    pub fn new(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StorageError {
            source: source.into(),
        }
    }
}

/// One selected series: its labels and a way to read its samples.
pub trait StorageSeries: Send {
    /// The series' labels (including `__name__`).
    fn labels(&self) -> &Labels;

    /// Appends the series' float samples with `mint_ms <= t <= maxt_ms` (the range
    /// given to [`Storage::select`]) to `out`, in increasing timestamp order.
    /// `out` is owned by the caller and reused across series.
    fn read_floats(&self, out: &mut Vec<FPoint>) -> Result<(), StorageError>;

    /// The samples [`StorageSeries::read_floats`] would append, lent without
    /// copying, for implementations that already hold them decoded in memory.
    /// The default, `None`, makes the engine read them into its own buffer.
    fn floats_slice(&self) -> Option<&[FPoint]> {
        None
    }

    /// The samples [`StorageSeries::floats_slice`] lends, when the
    /// implementation knows that none of them is a stale marker. It spares the
    /// engine a scan for markers, which for in-memory series is the first (and
    /// memory-bound) touch of every sample. The default, `None`, means "not
    /// known"; the engine then looks for markers itself.
    fn floats_slice_without_stale(&self) -> Option<&[FPoint]> {
        None
    }
}

/// What the engine queries. Implementations are shared across threads.
pub trait Storage: Send + Sync {
    /// The series matching all `matchers` that have at least one sample in
    /// `[mint_ms, maxt_ms]` (inclusive, ms since the epoch), sorted by labels.
    /// Returning series without samples in the range is allowed; the engine
    /// skips them.
    fn select(
        &self,
        matchers: &[Matcher],
        mint_ms: i64,
        maxt_ms: i64,
    ) -> Result<Vec<Box<dyn StorageSeries + '_>>, StorageError>;
}

/// An in-memory [`Storage`]: series in a sorted map, samples in vectors.
///
/// Each distinct label name and value is stored once and shared by every
/// series holding it, as a TSDB's symbol table does: a query that reads the
/// labels of many series (grouping, the metric-name checks) then finds the
/// strings in cache instead of one cold allocation per label of each series.
///
/// The series sit in a vector in the order they were added, found by labels
/// through a sorted map; `select` reads them in label order from a sorted
/// list of (labels, index) built by the first select after a series was
/// added: walking that list is sequential, where walking the map chased a
/// pointer per node (a cache miss each, after a query evicted the map,
/// ~1 ms of serial time for 10k series).
#[derive(Default, Debug, Clone)]
pub struct MemStorage {
    /// Index into `data` by labels.
    series: BTreeMap<Labels, usize>,
    /// Every series' samples, in the order the series were added.
    data: Vec<MemPoints>,
    /// The series in label order, once a select needed it since the last
    /// series was added.
    sorted: OnceLock<Vec<(Labels, usize)>>,
    /// Every label name and value of the stored series, once each.
    symbols: HashSet<Arc<str>>,
    /// Whether some series has a label name sorting before `__name__` (e.g.
    /// `A`); then series of one metric are not contiguous in the map.
    names_before_metric: bool,
}

/// One series' samples, time-ordered, with their time span kept beside the
/// map key: `select` decides on a series without touching its samples, which
/// are not in cache yet, and leaves that first touch to the reader (possibly
/// another thread).
#[derive(Default, Debug, Clone)]
struct MemPoints {
    /// Timestamp of the first sample (0 while empty).
    first_t: i64,
    /// Timestamp of the last sample (0 while empty).
    last_t: i64,
    /// How many of `points` are stale markers, kept exact by `add`, so a
    /// series without any is lent without the engine scanning it.
    stale: usize,
    points: Vec<FPoint>,
}

impl MemPoints {
    /// The samples with `mint <= t <= maxt`. Most series lie wholly inside
    /// or outside the queried range; the rest take two binary searches.
    fn clip(&self, mint: i64, maxt: i64) -> &[FPoint] {
        let pts = self.points.as_slice();
        if pts.is_empty() || self.last_t < mint || self.first_t > maxt {
            return &[];
        }
        if self.first_t >= mint && self.last_t <= maxt {
            return pts;
        }
        let lo = pts.partition_point(|p| p.t < mint);
        let hi = pts.partition_point(|p| p.t <= maxt);
        pts.get(lo..hi).unwrap_or(&[])
    }
}

impl MemStorage {
    /// An empty storage.
    pub fn new() -> Self {
        MemStorage::default()
    }

    /// Appends a float sample. Samples of one series may come in any order; a
    /// sample with a timestamp already present replaces the old one.
    pub fn add(&mut self, labels: Labels, t_ms: i64, f: f64) {
        if labels.iter().next().is_some_and(|l| &*l.name < METRIC_NAME) {
            self.names_before_metric = true;
        }
        let index = match self.series.get(&labels) {
            Some(&i) => i,
            None => {
                // A new series' labels are rebuilt from the shared symbols.
                let key = self.share_symbols(&labels);
                self.series.insert(key, self.data.len());
                self.data.push(MemPoints::default());
                self.sorted = OnceLock::new();
                self.data.len() - 1
            }
        };
        let Some(series) = self.data.get_mut(index) else {
            return;
        };
        let pts = &mut series.points;
        let stale = usize::from(is_stale_nan(f));
        match pts.last() {
            Some(last) if last.t < t_ms => pts.push(FPoint { t: t_ms, f }),
            None => pts.push(FPoint { t: t_ms, f }),
            Some(_) => match pts.binary_search_by_key(&t_ms, |p| p.t) {
                Ok(i) => {
                    if let Some(p) = pts.get_mut(i) {
                        // The replaced sample's marker no longer counts.
                        series.stale -= usize::from(is_stale_nan(p.f));
                        p.f = f;
                    }
                }
                Err(i) => pts.insert(i, FPoint { t: t_ms, f }),
            },
        }
        series.stale += stale;
        series.first_t = pts.first().map_or(0, |p| p.t);
        series.last_t = pts.last().map_or(0, |p| p.t);
    }

    /// `labels` with every name and value taken from (or added to) the
    /// symbols, so equal strings of different series share one allocation.
    fn share_symbols(&mut self, labels: &Labels) -> Labels {
        let mut symbol = |s: &Arc<str>| match self.symbols.get(&**s) {
            Some(shared) => Arc::clone(shared),
            None => {
                self.symbols.insert(Arc::clone(s));
                Arc::clone(s)
            }
        };
        Labels::from_sorted(
            labels
                .iter()
                .map(|l| Label {
                    name: symbol(&l.name),
                    value: symbol(&l.value),
                })
                .collect(),
        )
    }

    /// Removes every series.
    pub fn clear(&mut self) {
        self.series.clear();
        self.data.clear();
        self.sorted = OnceLock::new();
        self.symbols.clear();
        self.names_before_metric = false;
    }

    /// Number of series stored.
    pub fn series_count(&self) -> usize {
        self.series.len()
    }
}

struct MemSeries<'a> {
    labels: &'a Labels,
    points: &'a [FPoint],
    /// Whether the whole series (so possibly `points`) holds a stale marker.
    may_hold_stale: bool,
}

impl StorageSeries for MemSeries<'_> {
    fn labels(&self) -> &Labels {
        self.labels
    }

    fn read_floats(&self, out: &mut Vec<FPoint>) -> Result<(), StorageError> {
        out.extend_from_slice(self.points);
        Ok(())
    }

    fn floats_slice(&self) -> Option<&[FPoint]> {
        Some(self.points)
    }

    fn floats_slice_without_stale(&self) -> Option<&[FPoint]> {
        (!self.may_hold_stale).then_some(self.points)
    }
}

impl Storage for MemStorage {
    fn select(
        &self,
        matchers: &[Matcher],
        mint_ms: i64,
        maxt_ms: i64,
    ) -> Result<Vec<Box<dyn StorageSeries + '_>>, StorageError> {
        let mut out: Vec<Box<dyn StorageSeries + '_>> = Vec::new();
        // Common case first: `name{...}`. Series of one metric are contiguous in
        // the map (`__name__` sorts first), so only that run is scanned, and
        // the name matcher is not checked again per series.
        let name = matchers
            .iter()
            .position(|m| m.op == MatchOp::Equal && m.name == METRIC_NAME && !m.value.is_empty())
            .filter(|_| !self.names_before_metric);
        let sorted = self
            .sorted
            .get_or_init(|| self.series.iter().map(|(l, &i)| (l.clone(), i)).collect());
        let candidates = match name.and_then(|i| matchers.get(i)) {
            Some(m) => {
                // `{__name__="v", ...}` sorts from `{__name__="v"}` up to,
                // not including, `{__name__="v\0"}` (the next name up), so
                // the run is bounded without reading each series' labels.
                let from = Labels::from_pairs([(METRIC_NAME, m.value.as_str())]);
                let to = Labels::from_pairs([(METRIC_NAME, format!("{}\0", m.value))]);
                let lo = sorted.partition_point(|(l, _)| *l < from);
                let hi = sorted.partition_point(|(l, _)| *l < to);
                sorted.get(lo..hi).unwrap_or_default()
            }
            None => sorted.as_slice(),
        };
        let rest: Vec<&Matcher> = matchers
            .iter()
            .enumerate()
            .filter(|&(i, _)| Some(i) != name)
            .map(|(_, m)| m)
            .collect();
        out.reserve(candidates.len());
        for (labels, pts) in candidates
            .iter()
            .filter_map(|(l, i)| Some((l, self.data.get(*i)?)))
        {
            if !rest.iter().all(|m| m.matches_labels(labels)) {
                continue;
            }
            let points = pts.clip(mint_ms, maxt_ms);
            if !points.is_empty() {
                out.push(Box::new(MemSeries {
                    labels,
                    points,
                    may_hold_stale: pts.stale != 0,
                }));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_is_anchored_and_absent_label_is_empty() {
        let m = Matcher::new(MatchOp::Regex, "job", "a|b").unwrap();
        assert!(m.matches("a"));
        assert!(!m.matches("ab"));
        let ne = Matcher::new(MatchOp::NotEqual, "x", "1").unwrap();
        assert!(ne.matches_labels(&Labels::from_pairs([("job", "a")])));
        assert!(Matcher::new(MatchOp::Regex, "a", "(").is_err());
    }

    #[test]
    fn mem_storage_knows_exactly_which_series_hold_stale_markers() {
        let stale = f64::from_bits(crate::value::STALE_NAN_BITS);
        let l = Labels::from_pairs([("__name__", "a")]);
        let mut s = MemStorage::new();
        let lends_unscanned = |s: &MemStorage| {
            let m = [Matcher::new(MatchOp::Equal, METRIC_NAME, "a").unwrap()];
            s.select(&m, 0, 100).unwrap()[0]
                .floats_slice_without_stale()
                .is_some()
        };
        s.add(l.clone(), 10, 1.0);
        s.add(l.clone(), 20, 2.0);
        assert!(lends_unscanned(&s));
        s.add(l.clone(), 15, stale); // inserted
        assert!(!lends_unscanned(&s));
        s.add(l.clone(), 15, 1.5); // marker replaced by a value
        assert!(lends_unscanned(&s));
        s.add(l.clone(), 20, stale); // value replaced by a marker
        s.add(l.clone(), 20, stale); // and again: still one marker
        assert!(!lends_unscanned(&s));
        s.add(l.clone(), 20, 2.0);
        assert!(lends_unscanned(&s));
        s.add(l.clone(), 30, stale); // appended
        assert!(!lends_unscanned(&s));
    }

    #[test]
    fn mem_storage_series_share_label_strings() {
        let mut s = MemStorage::new();
        for i in ["1", "2"] {
            s.add(Labels::from_pairs([("__name__", "m"), ("i", i)]), 10, 1.0);
        }
        let m = [Matcher::new(MatchOp::Equal, METRIC_NAME, "m").unwrap()];
        let sel = s.select(&m, 0, 100).unwrap();
        let (a, b) = (sel[0].labels().as_slice(), sel[1].labels().as_slice());
        assert!(Arc::ptr_eq(&a[0].name, &b[0].name));
        assert!(Arc::ptr_eq(&a[0].value, &b[0].value));
        assert!(Arc::ptr_eq(&a[1].name, &b[1].name));
        assert_eq!((&*a[1].value, &*b[1].value), ("1", "2"));
        assert_eq!(
            sel[1].labels(),
            &Labels::from_pairs([("__name__", "m"), ("i", "2")])
        );
    }

    #[test]
    fn mem_storage_select_sees_what_was_added_after_a_select() {
        let mut s = MemStorage::new();
        let m = [Matcher::new(MatchOp::Equal, METRIC_NAME, "m").unwrap()];
        let l = |i: &str| Labels::from_pairs([("__name__", "m"), ("i", i)]);
        s.add(l("b"), 10, 1.0);
        assert_eq!(s.select(&m, 0, 100).unwrap().len(), 1);
        s.add(l("a"), 10, 2.0);
        s.add(l("b"), 20, 3.0);
        let sel = s.select(&m, 0, 100).unwrap();
        let labels: Vec<&Labels> = sel.iter().map(|x| x.labels()).collect();
        assert_eq!(labels, [&l("a"), &l("b")]);
        assert_eq!(sel[1].floats_slice().map(<[_]>::len), Some(2));
        drop(sel);
        let copy = s.clone();
        s.clear();
        assert!(s.select(&m, 0, 100).unwrap().is_empty());
        s.add(l("c"), 10, 1.0);
        assert_eq!(s.select(&m, 0, 100).unwrap()[0].labels(), &l("c"));
        assert_eq!(copy.select(&m, 0, 100).unwrap().len(), 2);
    }

    #[test]
    fn mem_storage_selects_range_sorted() {
        let mut s = MemStorage::new();
        let b = Labels::from_pairs([("__name__", "m"), ("i", "b")]);
        let a = Labels::from_pairs([("__name__", "m"), ("i", "a")]);
        for t in [30, 10, 20] {
            s.add(b.clone(), t, t as f64);
            s.add(a.clone(), t, 1.0);
        }
        // Neighbours in the map that must stay out of `m`'s run.
        for name in ["l", "m\0", "m\u{1}", "ma", "n"] {
            s.add(Labels::from_pairs([("__name__", name)]), 20, 0.0);
        }
        let m = [Matcher::new(MatchOp::Equal, "__name__", "m").unwrap()];
        let sel = s.select(&m, 15, 30).unwrap();
        assert_eq!(sel.len(), 2);
        assert_eq!(sel[0].labels(), &a);
        let mut buf = Vec::new();
        sel[1].read_floats(&mut buf).unwrap();
        assert_eq!(
            buf,
            vec![FPoint { t: 20, f: 20.0 }, FPoint { t: 30, f: 30.0 }]
        );
        assert_eq!(sel[1].floats_slice(), Some(&buf[..]));
        let whole = s.select(&m, 0, 100).unwrap();
        assert_eq!(whole[0].floats_slice().map(<[_]>::len), Some(3));
        assert!(s.select(&m, 31, 100).unwrap().is_empty());
        assert!(s.select(&m, 0, 9).unwrap().is_empty());
        assert_eq!(s.select(&m, 30, 30).unwrap().len(), 2);
    }
}
