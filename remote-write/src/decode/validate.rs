//! Validation of one series' labels, in place: drop empty values, enforce limits,
//! sort by name, refuse duplicate or invalid names, require `__name__`.
//!
//! Order matters: limits are checked before sorting so an oversized series costs no
//! sort, and names are checked after sorting so the reported duplicate is stable.

use super::{LabelRef, Limits};
use crate::error::SeriesError;

/// The label that holds the metric name.
const METRIC_NAME: &str = "__name__";

/// Which label and metric names are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum NameValidation {
    /// Prometheus 2.x rules: label names `[a-zA-Z_][a-zA-Z0-9_]*`, metric names
    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`. What PromQL can select without quoting.
    #[default]
    Legacy,
    /// Prometheus 3.x rules: any non-empty UTF-8 string.
    Utf8,
}

/// Validates `labels` in place; on success returns how many leading labels to keep
/// (empty-valued labels are moved past that point).
pub(super) fn validate(labels: &mut [LabelRef<'_>], limits: &Limits) -> Result<usize, SeriesError> {
    let kept = drop_empty_values(labels);
    let labels = labels.get_mut(..kept).unwrap_or_default();
    if labels.len() > limits.max_labels_per_series {
        return Err(SeriesError::TooManyLabels {
            count: labels.len(),
            max: limits.max_labels_per_series,
        });
    }
    // Senders are required to sort, and Prometheus does: check before paying for a sort.
    if !labels.is_sorted_by(|a, b| a.name <= b.name) {
        labels.sort_unstable_by(|a, b| a.name.cmp(b.name));
    }
    let mut has_name = false;
    let mut prev: Option<&str> = None;
    for l in labels.iter() {
        if prev == Some(l.name) {
            return Err(SeriesError::DuplicateLabelName(l.name.to_owned()));
        }
        prev = Some(l.name);
        check_label(l, limits)?;
        if l.name == METRIC_NAME {
            has_name = true;
            if limits.name_validation == NameValidation::Legacy && !is_legacy_metric_name(l.value) {
                return Err(SeriesError::InvalidMetricName(l.value.to_owned()));
            }
        }
    }
    if !has_name {
        return Err(SeriesError::MissingMetricName);
    }
    Ok(kept)
}

/// Moves labels with empty values (which mean "absent" in Prometheus) to the end,
/// keeping the order of the rest; returns how many remain.
fn drop_empty_values(labels: &mut [LabelRef<'_>]) -> usize {
    let mut kept = 0;
    for i in 0..labels.len() {
        let non_empty = labels.get(i).is_some_and(|l| !l.value.is_empty());
        if non_empty {
            labels.swap(kept, i);
            kept += 1;
        }
    }
    kept
}

fn check_label(l: &LabelRef<'_>, limits: &Limits) -> Result<(), SeriesError> {
    if l.name.is_empty() {
        return Err(SeriesError::EmptyLabelName);
    }
    if l.name.len() > limits.max_label_name_bytes {
        return Err(SeriesError::LabelNameTooLong {
            len: l.name.len(),
            max: limits.max_label_name_bytes,
        });
    }
    if l.value.len() > limits.max_label_value_bytes {
        return Err(SeriesError::LabelValueTooLong {
            name: l.name.to_owned(),
            len: l.value.len(),
            max: limits.max_label_value_bytes,
        });
    }
    if limits.name_validation == NameValidation::Legacy && !is_legacy_label_name(l.name) {
        return Err(SeriesError::InvalidLabelName(l.name.to_owned()));
    }
    Ok(())
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`
fn is_legacy_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
fn is_legacy_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b':')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        pairs: &[(&'static str, &'static str)],
        limits: &Limits,
    ) -> Result<Vec<(&'static str, &'static str)>, SeriesError> {
        let mut labels: Vec<LabelRef<'static>> = pairs
            .iter()
            .map(|&(name, value)| LabelRef { name, value })
            .collect();
        let kept = validate(&mut labels, limits)?;
        Ok(labels
            .iter()
            .take(kept)
            .map(|l| (l.name, l.value))
            .collect())
    }

    #[test]
    fn sorts_and_drops_empty_values() {
        let out = run(
            &[("job", "n"), ("empty", ""), ("__name__", "up"), ("a", "1")],
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(out, [("__name__", "up"), ("a", "1"), ("job", "n")]);
    }

    #[test]
    fn refusals() {
        let l = Limits::default();
        assert_eq!(run(&[("a", "1")], &l), Err(SeriesError::MissingMetricName));
        assert_eq!(
            run(&[("__name__", ""), ("a", "1")], &l),
            Err(SeriesError::MissingMetricName)
        );
        assert_eq!(
            run(&[("__name__", "up"), ("", "1")], &l),
            Err(SeriesError::EmptyLabelName)
        );
        assert_eq!(
            run(&[("__name__", "up"), ("b", "1"), ("b", "2")], &l),
            Err(SeriesError::DuplicateLabelName("b".into()))
        );
        assert_eq!(
            run(&[("__name__", "up"), ("1a", "1")], &l),
            Err(SeriesError::InvalidLabelName("1a".into()))
        );
        assert_eq!(
            run(&[("__name__", "a-b")], &l),
            Err(SeriesError::InvalidMetricName("a-b".into()))
        );
        let utf8 = Limits {
            name_validation: NameValidation::Utf8,
            ..Limits::default()
        };
        assert!(run(&[("__name__", "a-b"), ("ü.x", "1")], &utf8).is_ok());
    }

    #[test]
    fn limits() {
        let l = Limits {
            max_label_name_bytes: 8,
            max_label_value_bytes: 4,
            max_labels_per_series: 2,
            ..Limits::default()
        };
        assert_eq!(
            run(&[("__name__", "up"), ("abcdefghi", "1")], &l),
            Err(SeriesError::LabelNameTooLong { len: 9, max: 8 })
        );
        assert_eq!(
            run(&[("__name__", "upupu")], &l),
            Err(SeriesError::LabelValueTooLong {
                name: "__name__".into(),
                len: 5,
                max: 4
            })
        );
        assert_eq!(
            run(&[("__name__", "up"), ("a", "1"), ("b", "1")], &l),
            Err(SeriesError::TooManyLabels { count: 3, max: 2 })
        );
        // Empty values do not count toward the label limit.
        assert!(run(&[("__name__", "up"), ("a", "1"), ("b", "")], &l).is_ok());
    }

    #[test]
    fn legacy_names() {
        assert!(is_legacy_label_name("_a9"));
        assert!(!is_legacy_label_name(""));
        assert!(!is_legacy_label_name("a:b"));
        assert!(is_legacy_metric_name("a:b_c"));
        assert!(!is_legacy_metric_name("9a"));
    }
}
