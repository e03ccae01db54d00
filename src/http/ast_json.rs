//! `/api/v1/parse_query`: a parsed query as the JSON tree Prometheus's UI
//! draws (the "tree view"), in the node shapes of Prometheus's
//! `web/api/v1/translate_ast.go` (as of 3.5: no fill values, no
//! anchored/smoothed flags). Keys come out sorted, as Go writes its maps.
//!
//! Node types: `aggregation`, `binaryExpr`, `call`, `matrixSelector`,
//! `subquery`, `numberLiteral`, `parenExpr`, `stringLiteral`, `unaryExpr`,
//! `vectorSelector`. Durations and offsets are in ms; `@` times are ms or
//! `null`, with `startOrEnd` naming `start()`/`end()`.

use std::time::{Duration, SystemTime};

use promql_parser::label::{MatchOp, Matchers};
use promql_parser::parser::value::ValueType;
use promql_parser::parser::{
    AtModifier, BinaryExpr, Expr, LabelModifier, Offset, VectorMatchCardinality, VectorSelector,
};
use serde_json::{json, Value};

/// The JSON tree of `expr`. Expression kinds the tree view has no shape for
/// (parser extensions, which the standard parser never produces) are `null`.
pub fn translate(expr: &Expr) -> Value {
    match expr {
        Expr::Aggregate(a) => json!({
            "type": "aggregation",
            "op": a.op.to_string(),
            "expr": translate(&a.expr),
            "param": a.param.as_deref().map_or(Value::Null, translate),
            "grouping": a.modifier.as_ref().map(|m| m.labels().labels.clone()).unwrap_or_default(),
            "without": matches!(a.modifier, Some(LabelModifier::Exclude(_))),
        }),
        Expr::Binary(b) => binary(b),
        Expr::Call(c) => json!({
            "type": "call",
            "func": {
                "name": c.func.name,
                "argTypes": c.func.arg_types.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "variadic": c.func.variadic,
                "returnType": c.func.return_type.to_string(),
            },
            "args": c.args.args.iter().map(|a| translate(a)).collect::<Vec<_>>(),
        }),
        Expr::MatrixSelector(m) => {
            let mut node = selector(&m.vs, "matrixSelector");
            node["range"] = json!(millis(m.range));
            node
        }
        Expr::Subquery(s) => {
            let (timestamp, start_or_end) = at(s.at.as_ref());
            json!({
                "type": "subquery",
                "expr": translate(&s.expr),
                "range": millis(s.range),
                "offset": offset(s.offset.as_ref()),
                "step": s.step.map_or(0, millis),
                "timestamp": timestamp,
                "startOrEnd": start_or_end,
            })
        }
        Expr::NumberLiteral(n) => json!({"type": "numberLiteral", "val": go_f_format(n.val)}),
        Expr::Paren(p) => json!({"type": "parenExpr", "expr": translate(&p.expr)}),
        Expr::StringLiteral(s) => json!({"type": "stringLiteral", "val": s.val}),
        Expr::Unary(u) => json!({"type": "unaryExpr", "op": "-", "expr": translate(&u.expr)}),
        Expr::VectorSelector(v) => selector(v, "vectorSelector"),
        Expr::Extension(_) => Value::Null,
    }
}

/// A binary expression; `matching` is set only between two vectors, as in
/// Prometheus, where the parser drops it for scalar operands.
fn binary(b: &BinaryExpr) -> Value {
    let both_vectors =
        b.lhs.value_type() == ValueType::Vector && b.rhs.value_type() == ValueType::Vector;
    let matching = if both_vectors {
        let modifier = b.modifier.as_ref();
        let card = match modifier.map(|m| &m.card) {
            Some(VectorMatchCardinality::ManyToOne(_)) => "many-to-one",
            Some(VectorMatchCardinality::OneToMany(_)) => "one-to-many",
            Some(VectorMatchCardinality::ManyToMany) => "many-to-many",
            _ if b.op.is_set_operator() => "many-to-many",
            _ => "one-to-one",
        };
        let labels = modifier
            .and_then(|m| m.matching.as_ref())
            .map(|l| l.labels().labels.clone())
            .unwrap_or_default();
        let on = matches!(
            modifier.and_then(|m| m.matching.as_ref()),
            Some(LabelModifier::Include(_))
        );
        let include = modifier
            .and_then(|m| m.card.labels())
            .map(|l| l.labels.clone())
            .unwrap_or_default();
        json!({"card": card, "labels": labels, "on": on, "include": include})
    } else {
        Value::Null
    };
    json!({
        "type": "binaryExpr",
        "op": b.op.to_string(),
        "lhs": translate(&b.lhs),
        "rhs": translate(&b.rhs),
        "matching": matching,
        "bool": b.modifier.as_ref().is_some_and(|m| m.return_bool),
    })
}

/// The members shared by vector and matrix selectors.
fn selector(v: &VectorSelector, node_type: &str) -> Value {
    let (timestamp, start_or_end) = at(v.at.as_ref());
    json!({
        "type": node_type,
        "name": v.name.clone().unwrap_or_default(),
        "offset": offset(v.offset.as_ref()),
        "matchers": matchers(v),
        "timestamp": timestamp,
        "startOrEnd": start_or_end,
    })
}

/// The selector's matchers, the metric-name matcher first as Prometheus
/// stores it; `or` alternatives are listed after the plain matchers.
fn matchers(v: &VectorSelector) -> Vec<Value> {
    let Matchers {
        matchers,
        or_matchers,
    } = &v.matchers;
    let name = v
        .name
        .as_ref()
        .map(|n| json!({"type": "=", "name": "__name__", "value": n}));
    let rest = matchers
        .iter()
        .chain(or_matchers.iter().flatten())
        .filter(|m| !promlite_promql::is_internal_matcher_label(&m.name))
        .map(|m| {
            let op = match m.op {
                MatchOp::Equal => "=",
                MatchOp::NotEqual => "!=",
                MatchOp::Re(_) => "=~",
                MatchOp::NotRe(_) => "!~",
            };
            json!({"type": op, "name": m.name, "value": m.value})
        });
    name.into_iter().chain(rest).collect()
}

fn offset(o: Option<&Offset>) -> i64 {
    match o {
        Some(Offset::Pos(d)) => millis(*d),
        Some(Offset::Neg(d)) => -millis(*d),
        None => 0,
    }
}

/// `(timestamp, startOrEnd)` of an `@` modifier.
fn at(a: Option<&AtModifier>) -> (Value, Value) {
    match a {
        None => (Value::Null, Value::Null),
        Some(AtModifier::Start) => (Value::Null, json!("start")),
        Some(AtModifier::End) => (Value::Null, json!("end")),
        Some(AtModifier::At(t)) => {
            let ms = match t.duration_since(SystemTime::UNIX_EPOCH) {
                Ok(d) => millis(d),
                Err(e) => -millis(e.duration()),
            };
            (json!(ms), Value::Null)
        }
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: positional, shortest digits.
fn go_f_format(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_owned()
    } else if f.is_infinite() {
        if f > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(q: &str) -> Value {
        translate(&promlite_promql::parse(q).unwrap_or_else(|e| panic!("{q}: {e}")))
    }

    #[test]
    fn selector_with_offset_and_at() {
        assert_eq!(
            tree(r#"rate(http_requests_total{job=~"api|web"}[5m] offset 1m @ 1700000000)"#),
            json!({
                "type": "call",
                "func": {"name": "rate", "argTypes": ["matrix"], "variadic": 0, "returnType": "vector"},
                "args": [{
                    "type": "matrixSelector",
                    "name": "http_requests_total",
                    "range": 300_000,
                    "offset": 60_000,
                    "matchers": [
                        {"type": "=", "name": "__name__", "value": "http_requests_total"},
                        {"type": "=~", "name": "job", "value": "api|web"},
                    ],
                    "timestamp": 1_700_000_000_000i64,
                    "startOrEnd": null,
                }],
            })
        );
    }

    #[test]
    fn aggregation_binary_and_literals() {
        assert_eq!(
            tree("sum without (instance) (a) / on (job) group_left (team) b > bool 0.5"),
            json!({
                "type": "binaryExpr", "op": ">", "bool": true, "matching": null,
                "lhs": {
                    "type": "binaryExpr", "op": "/", "bool": false,
                    "matching": {"card": "many-to-one", "labels": ["job"], "on": true, "include": ["team"]},
                    "lhs": {
                        "type": "aggregation", "op": "sum", "grouping": ["instance"], "without": true, "param": null,
                        "expr": {"type": "vectorSelector", "name": "a", "offset": 0, "timestamp": null, "startOrEnd": null,
                                 "matchers": [{"type": "=", "name": "__name__", "value": "a"}]},
                    },
                    "rhs": {"type": "vectorSelector", "name": "b", "offset": 0, "timestamp": null, "startOrEnd": null,
                            "matchers": [{"type": "=", "name": "__name__", "value": "b"}]},
                },
                "rhs": {"type": "numberLiteral", "val": "0.5"},
            })
        );
        assert_eq!(tree("a and b")["matching"]["card"], "many-to-many");
        assert_eq!(
            tree("-(1)"),
            json!({"type": "unaryExpr", "op": "-", "expr": {"type": "parenExpr", "expr": {"type": "numberLiteral", "val": "1"}}})
        );
        assert_eq!(tree(r#""x""#), json!({"type": "stringLiteral", "val": "x"}));
        assert_eq!(tree("1e21")["val"], "1000000000000000000000");
    }

    #[test]
    fn internal_matchers_stay_hidden() {
        for q in ["rate(x[5m] anchored)", "info(up)"] {
            let text = tree(q).to_string();
            assert!(
                text.contains(r#""value":"x""#) || text.contains(r#""value":"up""#),
                "{q}: {text}"
            );
            assert!(!text.contains("__promlite"), "{q}: {text}");
        }
    }

    #[test]
    fn subquery_at_end() {
        let t = tree("max_over_time(x[1h:5m] @ end())");
        assert_eq!(
            t["args"][0],
            json!({
                "type": "subquery", "range": 3_600_000, "step": 300_000, "offset": 0,
                "timestamp": null, "startOrEnd": "end",
                "expr": {"type": "vectorSelector", "name": "x", "offset": 0, "timestamp": null, "startOrEnd": null,
                         "matchers": [{"type": "=", "name": "__name__", "value": "x"}]},
            })
        );
    }
}
