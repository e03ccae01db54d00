//! Label sets: the identity of a series.
//!
//! A [`Labels`] is only ever built sorted by name with unique, non-empty names,
//! so two equal series always compare equal and hash alike. Strings are
//! reference-counted ([`Symbol`]) so the head can intern them once: a million
//! series sharing `job="node"` share one allocation of `"node"`.
//!
//! `promlite-promql` has its own label set type on purpose: the engine must not
//! depend on the storage crate (it queries any storage through a trait), so the
//! root crate's adapter converts between the two.

use std::fmt;
use std::sync::Arc;

/// An interned string: cheap to clone, compared by content.
pub type Symbol = Arc<str>;

/// The label that holds the metric name.
pub const METRIC_NAME: &str = "__name__";

/// One `name="value"` pair.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    /// The label name; never empty.
    pub name: Symbol,
    /// The label value; an empty value means the label is absent and is never stored.
    pub value: Symbol,
}

/// Why a label set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LabelsError {
    /// A label name was empty.
    #[error("empty label name")]
    EmptyName,
    /// The same name appeared twice.
    #[error("duplicate label name {0:?}")]
    DuplicateName(String),
}

/// A sorted set of labels with unique names. Labels with empty values are dropped,
/// as in Prometheus, where `foo=""` means "no label foo".
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels(Vec<Label>);

impl Labels {
    /// The empty label set.
    pub fn empty() -> Self {
        Labels(Vec::new())
    }

    /// Builds a label set from pairs in any order; fails on empty or duplicate names.
    pub fn from_pairs<N: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Result<Self, LabelsError> {
        Self::from_labels(
            pairs
                .into_iter()
                .map(|(n, v)| Label {
                    name: Arc::from(n.as_ref()),
                    value: Arc::from(v.as_ref()),
                })
                .collect(),
        )
    }

    /// Builds a label set from labels in any order; fails on empty or duplicate names.
    pub fn from_labels(mut labels: Vec<Label>) -> Result<Self, LabelsError> {
        labels.retain(|l| !l.value.is_empty());
        labels.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        for pair in labels.windows(2) {
            if let [a, b] = pair {
                if a.name == b.name {
                    return Err(LabelsError::DuplicateName(a.name.to_string()));
                }
            }
        }
        if labels.iter().any(|l| l.name.is_empty()) {
            return Err(LabelsError::EmptyName);
        }
        Ok(Labels(labels))
    }

    /// Wraps labels the caller guarantees are already sorted, unique and non-empty
    /// (e.g. read back from our own index). Checked in debug builds.
    pub fn from_sorted_unchecked(labels: Vec<Label>) -> Self {
        debug_assert!(labels
            .windows(2)
            .all(|w| matches!(w, [a, b] if a.name < b.name)));
        Labels(labels)
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|l| (*l.name).cmp(name))
            .ok()
            .and_then(|i| self.0.get(i))
            .map(|l| &*l.value)
    }

    /// The metric name (`__name__`), if present.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    /// The labels, sorted by name.
    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.0.iter()
    }

    /// The labels as a sorted slice.
    pub fn as_slice(&self) -> &[Label] {
        &self.0
    }

    /// The labels, sorted by name, moved out (no reference count touched).
    pub fn into_vec(self) -> Vec<Label> {
        self.0
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for the empty label set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A stable 64-bit hash of the names and values (FNV-1a), used to shard series.
    pub fn stable_hash(&self) -> u64 {
        const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let mut h = OFFSET;
        for l in &self.0 {
            for b in l
                .name
                .bytes()
                .chain([0xff])
                .chain(l.value.bytes())
                .chain([0xff])
            {
                h ^= u64::from(b);
                h = h.wrapping_mul(PRIME);
            }
        }
        h
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = &'a Label;
    type IntoIter = std::slice::Iter<'a, Label>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Labels {
    /// Prometheus's text form: `{a="1", b="2"}`.
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

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={:?}", self.name, &*self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_and_drops_empty_values() {
        let l = Labels::from_pairs([("b", "2"), ("a", "1"), ("c", "")]).unwrap();
        assert_eq!(l.to_string(), r#"{a="1", b="2"}"#);
        assert_eq!(l.get("b"), Some("2"));
        assert_eq!(l.get("c"), None);
    }

    #[test]
    fn rejects_duplicates_and_empty_names() {
        assert_eq!(
            Labels::from_pairs([("a", "1"), ("a", "2")]),
            Err(LabelsError::DuplicateName("a".into()))
        );
        assert_eq!(Labels::from_pairs([("", "1")]), Err(LabelsError::EmptyName));
    }

    #[test]
    fn hash_depends_on_boundaries() {
        let a = Labels::from_pairs([("ab", "c")]).unwrap();
        let b = Labels::from_pairs([("a", "bc")]).unwrap();
        assert_ne!(a.stable_hash(), b.stable_hash());
    }
}
