//! Orderings for `sort`, `sort_desc`, `sort_by_label` and `sort_by_label_desc`.
//!
//! Value sorts put NaN last in both directions, as Prometheus 3.x does. Label
//! sorts compare the named labels in natural order ([`natural_cmp`]; an absent
//! label is the empty string) and break ties by the whole label set, so the
//! order is total and deterministic. Sorting itself is the evaluator's job.

use std::cmp::Ordering;

use super::labels::natural_cmp;
use crate::value::Labels;

/// Ascending by value with NaN after every number (`sort`).
pub fn cmp_value_ascending(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// Descending by value with NaN after every number (`sort_desc`).
pub fn cmp_value_descending(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => b.partial_cmp(&a).unwrap_or(Ordering::Equal),
    }
}

/// `sort_by_label(v, names...)` order: each named label in natural order, then
/// the full label sets. Reverse it for `sort_by_label_desc`.
pub fn cmp_by_labels<S: AsRef<str>>(a: &Labels, b: &Labels, names: &[S]) -> Ordering {
    for name in names {
        let va = a.get(name.as_ref()).unwrap_or("");
        let vb = b.get(name.as_ref()).unwrap_or("");
        if va != vb {
            return natural_cmp(va, vb);
        }
    }
    a.cmp(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_sort_nan_last_both_ways() {
        let mut v = [3.0, f64::NAN, 1.0, 2.0];
        v.sort_by(|a, b| cmp_value_ascending(*a, *b));
        assert_eq!(v[..3], [1.0, 2.0, 3.0]);
        assert!(v[3].is_nan());
        v.sort_by(|a, b| cmp_value_descending(*a, *b));
        assert_eq!(v[..3], [3.0, 2.0, 1.0]);
        assert!(v[3].is_nan());
    }

    #[test]
    fn labels_sort_naturally_then_by_set() {
        let l = |i: &str, g: &str| Labels::from_pairs([("instance", i), ("group", g)]);
        let mut v = [l("10", "a"), l("2", "b"), l("2", "a"), l("1", "z")];
        v.sort_by(|a, b| cmp_by_labels(a, b, &["instance"]));
        let got: Vec<String> = v.iter().map(|x| x.to_string()).collect();
        assert_eq!(
            got,
            [
                r#"{group="z", instance="1"}"#,
                r#"{group="a", instance="2"}"#,
                r#"{group="b", instance="2"}"#,
                r#"{group="a", instance="10"}"#
            ]
        );
        // A missing label sorts as the empty string, before any value.
        let none = Labels::from_pairs([("group", "a")]);
        assert_eq!(
            cmp_by_labels(&none, &l("1", "a"), &["instance"]),
            Ordering::Less
        );
    }
}
