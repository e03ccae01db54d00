//! Values the engine computes with and returns: label sets, float points,
//! instant-vector samples, range-vector series and the query result value.
//!
//! [`Labels`] is shared by reference count so that carrying a series' identity
//! through selectors, functions and aggregations never copies strings; building
//! a changed set (dropping `__name__`, `label_replace`) allocates one new slice.
//! Invariant: a `Labels` is sorted by name, names are unique and values are
//! non-empty (an empty value means "label absent", as in Prometheus).
//!
//! `tsdb::Labels` keeps the same invariant with a near-identical sorted-slice
//! API (`get`, `iter`, `len`, the hash). The two are written twice on purpose:
//! `promql` sees storage only through its `Storage` trait and must not depend
//! on `tsdb` (nor `tsdb` on `promql`), so neither crate may borrow the other's
//! type; the root crate converts between them at the storage adapter.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// The label that holds the metric name.
pub const METRIC_NAME: &str = "__name__";

/// The metadata label holding the metric type (type-and-unit labels).
pub const TYPE_LABEL: &str = "__type__";

/// The metadata label holding the metric unit (type-and-unit labels).
pub const UNIT_LABEL: &str = "__unit__";

/// One `name="value"` pair; both strings are reference-counted.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    /// The label name; never empty.
    pub name: Arc<str>,
    /// The label value; never empty inside a [`Labels`].
    pub value: Arc<str>,
}

impl Label {
    /// Builds a label from two strings.
    pub fn new(name: &str, value: &str) -> Self {
        Label {
            name: Arc::from(name),
            value: Arc::from(value),
        }
    }
}

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={:?}", self.name, &*self.value)
    }
}

/// A sorted set of labels with unique names and non-empty values; cheap to clone.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Labels(Arc<[Label]>);

impl Hash for Labels {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for l in self.0.iter() {
            l.name.hash(state);
            l.value.hash(state);
        }
    }
}

impl Labels {
    /// The empty label set.
    pub fn empty() -> Self {
        Labels::default()
    }

    /// Builds a set from labels in any order. Empty values are dropped; when a
    /// name repeats, the last occurrence wins.
    pub fn new(mut labels: Vec<Label>) -> Self {
        // A stable sort keeps input order among equal names, so "last wins" holds.
        labels.sort_by(|a, b| a.name.cmp(&b.name));
        let mut out: Vec<Label> = Vec::with_capacity(labels.len());
        for l in labels {
            match out.last_mut() {
                Some(prev) if prev.name == l.name => *prev = l,
                _ => out.push(l),
            }
        }
        out.retain(|l| !l.value.is_empty() && !l.name.is_empty());
        Labels(out.into())
    }

    /// Builds a set from `(name, value)` string pairs in any order (see [`Labels::new`]).
    pub fn from_pairs<N: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        Labels::new(
            pairs
                .into_iter()
                .map(|(n, v)| Label::new(n.as_ref(), v.as_ref()))
                .collect(),
        )
    }

    /// Wraps labels the caller guarantees are sorted by name, unique and non-empty
    /// (e.g. read back from a storage index). Checked in debug builds.
    pub fn from_sorted(labels: Vec<Label>) -> Self {
        debug_assert!(labels.windows(2).all(|w| w[0].name < w[1].name));
        Labels(labels.into())
    }

    /// The value of label `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|l| (*l.name).cmp(name))
            .ok()
            .and_then(|i| self.0.get(i))
            .map(|l| &*l.value)
    }

    /// Whether label `name` is present.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The metric name (`__name__`), if present.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    /// The labels in name order.
    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.0.iter()
    }

    /// The labels as a slice, in name order.
    pub fn as_slice(&self) -> &[Label] {
        &self.0
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set has no labels.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// This set without `__name__`; returns a clone (no allocation) when absent.
    pub fn without_metric_name(&self) -> Labels {
        if self.has(METRIC_NAME) {
            self.without(&[METRIC_NAME])
        } else {
            self.clone()
        }
    }

    /// This set without `__name__` and the metadata labels that describe the
    /// name (`__type__`, `__unit__`), which Prometheus 3.x drops together with
    /// the name when an operation changes what the value means.
    pub fn without_name_and_metadata(&self) -> Labels {
        if self.iter().any(|l| l.name.starts_with("__")) {
            self.without(&[METRIC_NAME, TYPE_LABEL, UNIT_LABEL])
        } else {
            self.clone()
        }
    }

    /// This set without the given names.
    pub fn without<S: AsRef<str>>(&self, names: &[S]) -> Labels {
        let dropped = |l: &Label| names.iter().any(|n| n.as_ref() == &*l.name);
        let Some(first) = self.0.iter().position(dropped) else {
            return self.clone();
        };
        let (head, rest) = self.0.split_at(first);
        let tail = rest.get(rest.iter().take_while(|l| dropped(l)).count()..);
        match tail {
            // The common case (`__name__` and metadata, or one grouping label):
            // the dropped labels are adjacent, and the kept ones are built
            // straight into their shared slice (an exact-size iterator needs
            // no intermediate vector).
            Some(tail) if !tail.iter().any(dropped) => {
                Labels(head.iter().chain(tail).cloned().collect())
            }
            _ => Labels(self.0.iter().filter(|l| !dropped(l)).cloned().collect()),
        }
    }

    /// Only the labels with the given names.
    pub fn keep<S: AsRef<str>>(&self, names: &[S]) -> Labels {
        Labels(
            self.0
                .iter()
                .filter(|l| names.iter().any(|n| n.as_ref() == &*l.name))
                .cloned()
                .collect(),
        )
    }

    /// This set with `name` set to `value`; an empty `value` removes the label.
    pub fn with(&self, name: &str, value: &str) -> Labels {
        let mut v: Vec<Label> = self
            .0
            .iter()
            .filter(|l| &*l.name != name)
            .cloned()
            .collect();
        if !value.is_empty() && !name.is_empty() {
            let pos = v.partition_point(|l| &*l.name < name);
            v.insert(pos, Label::new(name, value));
        }
        Labels(v.into())
    }

    /// A 64-bit hash of the set, stable within one process (for grouping).
    pub fn hash_u64(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.hash(&mut h);
        h.finish()
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Labels {
    /// Prometheus notation: `{a="1", b="2"}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, l) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}={:?}", l.name, &*l.value)?;
        }
        f.write_str("}")
    }
}

/// One float sample: a timestamp in milliseconds since the epoch and a value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FPoint {
    /// Timestamp, ms since the Unix epoch.
    pub t: i64,
    /// The sample value.
    pub f: f64,
}

/// One element of an instant vector: a series identity and its value at `t`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The series' labels.
    pub metric: Labels,
    /// Evaluation timestamp, ms.
    pub t: i64,
    /// The value.
    pub f: f64,
}

/// One element of a range vector (matrix): a series and its points, oldest first.
///
/// Native histogram points will sit in a sibling field when they arrive.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The series' labels.
    pub metric: Labels,
    /// Float points ordered by timestamp.
    pub floats: crate::points::Points,
}

/// The value of a query: what the HTTP API serialises as `resultType`/`result`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// A scalar at timestamp `t` (ms).
    Scalar {
        /// Timestamp, ms.
        t: i64,
        /// The value.
        f: f64,
    },
    /// A string at timestamp `t` (ms).
    String {
        /// Timestamp, ms.
        t: i64,
        /// The string.
        s: String,
    },
    /// An instant vector.
    Vector(Vec<Sample>),
    /// A range vector; also the shape of every range query result.
    Matrix(Vec<Series>),
}

/// Whether `f` is Prometheus's staleness marker (a NaN with a fixed bit pattern).
pub fn is_stale_nan(f: f64) -> bool {
    f.to_bits() == STALE_NAN_BITS
}

/// Bit pattern of the staleness marker NaN.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_sorted_last_wins_empty_dropped() {
        let l = Labels::from_pairs([("b", "1"), ("a", "2"), ("b", "3"), ("c", "")]);
        assert_eq!(l.to_string(), r#"{a="2", b="3"}"#);
        assert_eq!(l.get("b"), Some("3"));
        assert_eq!(l.get("c"), None);
    }

    #[test]
    fn without_drops_adjacent_and_scattered_names() {
        let l = Labels::from_pairs([("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")]);
        assert_eq!(l.without(&["b", "c"]).to_string(), r#"{a="1", d="4"}"#);
        assert_eq!(l.without(&["a", "c"]).to_string(), r#"{b="2", d="4"}"#);
        assert_eq!(
            l.without(&["d", "x"]).to_string(),
            r#"{a="1", b="2", c="3"}"#
        );
        assert_eq!(l.without(&["x"]), l);
        assert!(l.without(&["a", "b", "c", "d"]).is_empty());
    }

    #[test]
    fn with_and_without() {
        let l = Labels::from_pairs([("__name__", "m"), ("a", "1")]);
        assert_eq!(l.without_metric_name().to_string(), r#"{a="1"}"#);
        assert_eq!(
            l.with("b", "2").to_string(),
            r#"{__name__="m", a="1", b="2"}"#
        );
        assert_eq!(l.with("a", "").to_string(), r#"{__name__="m"}"#);
    }
}
