//! The Prometheus JSON format, byte for byte: the response envelope, query
//! results, label sets, and the number rules Grafana and every Prometheus client
//! parse.
//!
//! Prometheus writes sample values as JSON *strings* in Go's shortest float
//! form (`strconv.AppendFloat(f, 'f'|'e', -1, 64)`, switching to exponent form
//! below 1e-6 and from 1e21 on), with `NaN`, `+Inf` and `-Inf` spelled Go's
//! way, and timestamps as JSON *numbers* of seconds built from integer
//! milliseconds with at most three decimals (Prometheus v3
//! `util/jsonutil/marshal.go` `MarshalFloat`/`MarshalTimestamp`). Rust's own
//! float `Display` never uses an exponent and prints `inf`, so this module owns
//! the formatting. Everything is written into one `String` the caller owns: a
//! range query of many thousand points allocates once, not once per point.
//!
//! Invariant: every function here appends valid JSON; an empty result is `[]`,
//! never `null`.

use std::fmt::Write as _;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use promlite_promql::{Labels, Value};

/// A finished JSON body with `Content-Type: application/json`.
#[derive(Debug)]
pub struct JsonBody(pub String);

impl IntoResponse for JsonBody {
    fn into_response(self) -> Response {
        ([(header::CONTENT_TYPE, "application/json")], self.0).into_response()
    }
}

/// Appends `f` as Go's `strconv.AppendFloat` with the format Prometheus picks:
/// `'e'` when `0 < |f| < 1e-6` or `|f| >= 1e21`, else `'f'`, shortest digits
/// that round-trip (an exact tie between two candidates takes the even last
/// digit, as Go does). Not quoted. The work is in [`super::float`].
pub fn push_float(out: &mut String, f: f64) {
    super::float::push_float(out, f);
}

/// Appends a sample value as a JSON string (`"1"`, `"NaN"`, `"1e-07"`).
pub fn push_value(out: &mut String, f: f64) {
    out.push('"');
    push_float(out, f);
    out.push('"');
}

/// Appends a timestamp given in milliseconds as a JSON number of seconds:
/// `1435781451.781`, `1700000000.010`, `1700000000` (Prometheus
/// `MarshalTimestamp`: integer arithmetic, trailing zeros of the fraction kept).
pub fn push_timestamp(out: &mut String, t_ms: i64) {
    super::float::push_timestamp(out, t_ms);
}

/// Appends `s` as a JSON string with the escapes of Go's `encoding/json`
/// (which Prometheus's encoder mirrors): `<`, `>`, `&`, U+2028 and U+2029 are
/// written as `\u` escapes, control characters as `\n`, `\r`, `\t` or `\u00XX`.
pub fn push_str(out: &mut String, s: &str) {
    out.push('"');
    // Common case first: label names and values are plain ASCII or UTF-8 text
    // with nothing to escape, so one byte scan decides and the string is
    // copied whole. Every byte that can start an escape is ASCII, or 0xE2, the
    // first byte of U+2028/U+2029.
    let needs_escape = |b: &u8| *b < 0x20 || matches!(*b, b'"' | b'\\' | b'<' | b'>' | b'&' | 0xE2);
    if !s.as_bytes().iter().any(needs_escape) {
        out.push_str(s);
    } else {
        push_escaped(out, s);
    }
    out.push('"');
}

/// The slow path of [`push_str`]: copies `s` escaping what Go escapes.
fn push_escaped(out: &mut String, s: &str) {
    let mut plain_from = 0;
    for (i, c) in s.char_indices() {
        let escape: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '<' => Some("\\u003c"),
            '>' => Some("\\u003e"),
            '&' => Some("\\u0026"),
            '\u{2028}' => Some("\\u2028"),
            '\u{2029}' => Some("\\u2029"),
            c if (c as u32) < 0x20 => Some(""),
            _ => None,
        };
        let Some(escape) = escape else { continue };
        out.push_str(s.get(plain_from..i).unwrap_or_default());
        if escape.is_empty() {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push_str(escape);
        }
        plain_from = i + c.len_utf8();
    }
    out.push_str(s.get(plain_from..).unwrap_or_default());
}

/// Appends a JSON array: `[`, each item written by `push_item`, comma-separated, `]`.
pub fn push_array<I: IntoIterator>(
    out: &mut String,
    items: I,
    mut push_item: impl FnMut(&mut String, I::Item),
) {
    out.push('[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_item(out, item);
    }
    out.push(']');
}

/// Appends a JSON array of strings.
pub fn push_str_array<'a>(out: &mut String, items: impl IntoIterator<Item = &'a str>) {
    push_array(out, items, push_str);
}

/// Appends a label set as a JSON object in name order (`{"__name__":"up","job":"a"}`).
pub fn push_label_pairs<'a>(out: &mut String, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) {
    out.push('{');
    for (i, (name, value)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, name);
        out.push(':');
        push_str(out, value);
    }
    out.push('}');
}

/// Appends a PromQL label set as a JSON object.
pub fn push_labels(out: &mut String, labels: &Labels) {
    push_label_pairs(out, labels.iter().map(|l| (&*l.name, &*l.value)));
}

/// Appends a `[<ts>,"<value>"]` pair.
fn push_point(out: &mut String, t_ms: i64, f: f64) {
    out.push('[');
    push_timestamp(out, t_ms);
    out.push(',');
    push_value(out, f);
    out.push(']');
}

/// Appends one series of a vector or matrix result:
/// `{"metric":<labels>,"<member>":<written by push_data>}`.
fn push_series(
    out: &mut String,
    metric: &Labels,
    member: &str,
    push_data: impl FnOnce(&mut String),
) {
    out.push_str(r#"{"metric":"#);
    push_labels(out, metric);
    out.push_str(",\"");
    out.push_str(member);
    out.push_str("\":");
    push_data(out);
    out.push('}');
}

/// Appends the `"resultType":…,"result":…` members of a query's `data`
/// object (without braces, so the caller can add `stats`).
pub fn push_result_members(out: &mut String, value: &Value) {
    match value {
        // Prometheus writes scalars and strings through Go's `encoding/json`
        // (the time a plain float, the value `'f'`-formatted), not through
        // its sample encoder: `[1700000000.5,"0.0000001"]`.
        Value::Scalar { t, f } => {
            out.push_str(r#""resultType":"scalar","result":["#);
            super::float::push_seconds_number(out, *t);
            out.push_str(",\"");
            super::float::push_float_positional(out, *f);
            out.push_str("\"]");
        }
        Value::String { t, s } => {
            out.push_str(r#""resultType":"string","result":["#);
            super::float::push_seconds_number(out, *t);
            out.push(',');
            push_str(out, s);
            out.push(']');
        }
        Value::Vector(samples) => {
            out.push_str(r#""resultType":"vector","result":"#);
            push_array(out, samples, |out, s| {
                push_series(out, &s.metric, "value", |out| push_point(out, s.t, s.f));
            });
        }
        Value::Matrix(series) => {
            out.push_str(r#""resultType":"matrix","result":"#);
            push_array(out, series, |out, s| {
                push_series(out, &s.metric, "values", |out| {
                    push_array(out, &s.floats, |out, p| push_point(out, p.t, p.f));
                });
            });
        }
        // `Value` is non-exhaustive; a kind this server does not know yet is
        // written as an empty vector rather than invalid JSON.
        _ => out.push_str(r#""resultType":"vector","result":[]"#),
    }
}

/// Builds a success envelope: `{"status":"success","data":<data>}` plus
/// `warnings` and `infos` arrays when non-empty (Prometheus omits empty ones).
/// `data` appends the data value itself.
pub fn success(data: impl FnOnce(&mut String), warnings: &[String], infos: &[String]) -> JsonBody {
    let mut out = String::with_capacity(256);
    out.push_str(r#"{"status":"success","data":"#);
    data(&mut out);
    if !warnings.is_empty() {
        out.push_str(r#","warnings":"#);
        push_str_array(&mut out, warnings.iter().map(String::as_str));
    }
    if !infos.is_empty() {
        out.push_str(r#","infos":"#);
        push_str_array(&mut out, infos.iter().map(String::as_str));
    }
    out.push('}');
    JsonBody(out)
}

/// Builds an error envelope `{"status":"error","errorType":…,"error":…}`.
pub fn error_body(error_type: &str, message: &str) -> String {
    let mut out = String::with_capacity(64 + message.len());
    out.push_str(r#"{"status":"error","errorType":"#);
    push_str(&mut out, error_type);
    out.push_str(r#","error":"#);
    push_str(&mut out, message);
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use promlite_promql::{FPoint, Sample, Series};

    fn float(f: f64) -> String {
        let mut s = String::new();
        push_float(&mut s, f);
        s
    }

    fn ts(t: i64) -> String {
        let mut s = String::new();
        push_timestamp(&mut s, t);
        s
    }

    #[test]
    fn floats_follow_go_shortest_formatting() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (0.0, "0"),
            (-0.0, "-0"),
            (1e-7, "1e-07"),
            (1.5e21, "1.5e+21"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1e-6, "0.000001"),
            (9.99e-7, "9.99e-07"),
            (1.234e-100, "1.234e-100"),
            (-3.2e300, "-3.2e+300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (123456.789, "123456.789"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::from_bits(0x7ff0_0000_0000_0002), "NaN"),
        ];
        for (f, want) in cases {
            assert_eq!(float(*f), *want, "formatting {f:?}");
        }
    }

    #[test]
    fn timestamps_keep_three_decimals_when_fractional() {
        assert_eq!(ts(1_435_781_451_781), "1435781451.781");
        assert_eq!(ts(1_700_000_000_010), "1700000000.010");
        assert_eq!(ts(1_700_000_000_000), "1700000000");
        assert_eq!(ts(4_000), "4");
        assert_eq!(ts(-1_500), "-1.500");
        assert_eq!(ts(0), "0");
        assert_eq!(ts(i64::MIN), "-9223372036854775.808");
    }

    #[test]
    fn strings_escape_like_go() {
        let mut s = String::new();
        push_str(&mut s, "a\"b\\c\n<x>&\u{1}é");
        assert_eq!(s, r#""a\"b\\c\n\u003cx\u003e\u0026\u0001é""#);
        // U+2028/2029 are escaped; other characters starting with byte 0xE2 are not.
        let mut s = String::new();
        push_str(&mut s, "x\u{2028}y\u{2029}€");
        assert_eq!(s, r#""x\u2028y\u2029€""#);
        let mut s = String::new();
        push_str(&mut s, "plain");
        assert_eq!(s, r#""plain""#);
    }

    #[test]
    fn results_serialize_in_prometheus_shapes() {
        let mut s = String::new();
        push_result_members(&mut s, &Value::Scalar { t: 4000, f: 2.0 });
        assert_eq!(s, r#""resultType":"scalar","result":[4,"2"]"#);

        let mut s = String::new();
        push_result_members(&mut s, &Value::Vector(vec![]));
        assert_eq!(s, r#""resultType":"vector","result":[]"#);

        let metric = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
        let mut s = String::new();
        push_result_members(
            &mut s,
            &Value::Vector(vec![Sample {
                metric: metric.clone(),
                t: 1001,
                f: f64::NAN,
            }]),
        );
        assert_eq!(
            s,
            r#""resultType":"vector","result":[{"metric":{"__name__":"up","job":"a"},"value":[1.001,"NaN"]}]"#
        );

        let mut s = String::new();
        push_result_members(
            &mut s,
            &Value::Matrix(vec![Series {
                metric,
                floats: vec![
                    FPoint { t: 0, f: 1.0 },
                    FPoint {
                        t: 15_000,
                        f: f64::INFINITY,
                    },
                ]
                .into(),
            }]),
        );
        assert_eq!(
            s,
            r#""resultType":"matrix","result":[{"metric":{"__name__":"up","job":"a"},"values":[[0,"1"],[15,"+Inf"]]}]"#
        );

        let mut s = String::new();
        push_result_members(
            &mut s,
            &Value::String {
                t: 1,
                s: "hi".into(),
            },
        );
        assert_eq!(s, r#""resultType":"string","result":[0.001,"hi"]"#);
    }

    #[test]
    fn envelope_omits_empty_annotations() {
        let body = success(|o| o.push_str("[]"), &[], &[]);
        assert_eq!(body.0, r#"{"status":"success","data":[]}"#);
        let body = success(|o| o.push_str("[]"), &["w".into()], &["i".into()]);
        assert_eq!(
            body.0,
            r#"{"status":"success","data":[],"warnings":["w"],"infos":["i"]}"#
        );
        assert_eq!(
            error_body("bad_data", "x"),
            r#"{"status":"error","errorType":"bad_data","error":"x"}"#
        );
    }
}
