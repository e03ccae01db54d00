//! The labels of the series `absent` and `absent_over_time` return.
//!
//! When the argument is a plain selector, the result carries every label the
//! selector pins with a single equality matcher; a label that is matched any
//! other way, or more than once, is left out (`absent(x{job="a",job="b"})` has
//! no `job`). Any other argument gives an empty label set. This is Prometheus
//! 3.x `createLabelsForAbsentFunction`, including its historical quirk that a
//! non-equality matcher only removes what an earlier equality matcher set.

use promql_parser::label::MatchOp;
use promql_parser::parser::Expr;

use crate::value::{Label, Labels, METRIC_NAME};

/// The labels for `absent(arg)` / `absent_over_time(arg)`. Parentheses around
/// the argument are looked through, as Prometheus unwraps call arguments.
pub fn absent_labels(arg: &Expr) -> Labels {
    let mut arg = arg;
    while let Expr::Paren(p) = arg {
        arg = &p.expr;
    }
    let matchers = match arg {
        Expr::VectorSelector(vs) => &vs.matchers.matchers,
        Expr::MatrixSelector(ms) => &ms.vs.matchers.matchers,
        _ => return Labels::empty(),
    };
    let mut set: Vec<Label> = Vec::with_capacity(matchers.len());
    let mut seen: Vec<&str> = Vec::with_capacity(matchers.len());
    for m in matchers {
        if m.name == METRIC_NAME {
            continue;
        }
        let first_equality = matches!(m.op, MatchOp::Equal) && !seen.contains(&m.name.as_str());
        set.retain(|l| *l.name != *m.name);
        if first_equality {
            set.push(Label::new(&m.name, &m.value));
            seen.push(&m.name);
        }
    }
    Labels::new(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels_of(query: &str) -> String {
        let expr = promql_parser::parser::parse(query).expect("test queries parse");
        match expr {
            Expr::Call(c) => c
                .args
                .args
                .first()
                .map_or(String::new(), |a| absent_labels(a).to_string()),
            _ => String::new(),
        }
    }

    #[test]
    fn equality_matchers_become_labels() {
        assert_eq!(labels_of("absent(nonexistent)"), "{}");
        assert_eq!(
            labels_of(
                r#"absent(nonexistent{job="testjob", instance="testinstance", method=~".x"})"#
            ),
            r#"{instance="testinstance", job="testjob"}"#
        );
        assert_eq!(
            labels_of(r#"absent_over_time(http_requests_total{handler="/foo"}[5m])"#),
            r#"{handler="/foo"}"#
        );
    }

    #[test]
    fn repeated_or_non_equality_matchers_drop_the_label() {
        assert_eq!(
            labels_of(r#"absent(nonexistent{job="testjob",job="testjob2",foo="bar"})"#),
            r#"{foo="bar"}"#
        );
        assert_eq!(
            labels_of(r#"absent(nonexistent{job="testjob",job="testjob2",job="three",foo="bar"})"#),
            r#"{foo="bar"}"#
        );
        assert_eq!(
            labels_of(r#"absent(nonexistent{job="testjob",job=~"testjob2",foo="bar"})"#),
            r#"{foo="bar"}"#
        );
        assert_eq!(
            labels_of(r#"absent_over_time(http_requests_total{handler!="/foo"}[5m])"#),
            "{}"
        );
    }

    #[test]
    fn other_expressions_give_no_labels() {
        assert_eq!(
            labels_of(r#"absent(sum(nonexistent{job="testjob"}))"#),
            "{}"
        );
        assert_eq!(
            labels_of(r#"absent_over_time(rate(nonexistent{job="a"}[5m])[5m:])"#),
            "{}"
        );
        assert_eq!(
            labels_of(r#"absent({__name__="x", job="a"})"#),
            r#"{job="a"}"#
        );
    }
}
