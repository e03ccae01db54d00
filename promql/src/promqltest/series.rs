//! The series-description notation shared by `load` blocks and expected
//! results: a label set (`name{a="b"}`, `{__name__="x"}` or `{}`) followed by
//! whitespace-separated value items.
//!
//! Value items (the `series_description` rule of Prometheus's grammar): `N`,
//! `NxK` (K+1 copies), `A+BxK` / `A-BxK` (K+1 values, each the previous one
//! plus B, added step by step as upstream does so rounding matches), `_`
//! (no sample), `_xK` (K gaps, not K+1), `stale` (the staleness marker) and
//! native histograms `{{...}}` with the same expansions. In this notation an
//! `x` followed by digits is always a repetition, so `0x59` is sixty zeros.

use super::histogram::{expand, parse_histogram, HistogramDesc};
use super::lexer::{parse_number, unquote};
use crate::{Label, Labels, METRIC_NAME, STALE_NAN_BITS};

/// One position of a described series.
#[derive(Clone, Debug, PartialEq)]
pub enum SeqValue {
    /// No sample at this position (`_`).
    Omitted,
    /// A float sample (the staleness marker keeps its exact bits).
    Float(f64),
    /// A native histogram sample.
    Histogram(Box<HistogramDesc>),
}

/// A parsed series line: its labels and its values by position.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesDesc {
    /// The label set, `__name__` included when given.
    pub labels: Labels,
    /// The values; position `i` is time `start + i * interval`.
    pub values: Vec<SeqValue>,
}

/// Parses a full series line such as `foo{a="1"} 0+10x5 _ stale`.
pub(crate) fn parse_series_desc(line: &str) -> Result<SeriesDesc, String> {
    let (metric, rest) = split_metric(line)?;
    let labels = parse_labels(metric)?;
    let mut values = Vec::new();
    for item in split_items(rest)? {
        parse_item(item, &mut values).map_err(|e| format!("{e} (in value item {item:?})"))?;
    }
    Ok(SeriesDesc { labels, values })
}

/// Splits off the label-set part of a line: everything up to the first
/// whitespace outside braces and quotes. Returns `(metric, rest)`.
pub(crate) fn split_metric(line: &str) -> Result<(&str, &str), String> {
    let line = line.trim();
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' && q != '`' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '{' => depth += 1,
            '}' => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| format!("unbalanced '}}' in {line:?}"))?;
                if depth == 0 {
                    let end = i + c.len_utf8();
                    return Ok((&line[..end], &line[end..]));
                }
            }
            c if c.is_whitespace() && depth == 0 => return Ok((&line[..i], &line[i..])),
            _ => {}
        }
    }
    if quote.is_some() || depth > 0 {
        return Err(format!("unterminated label set in {line:?}"));
    }
    Ok((line, ""))
}

/// Parses `name`, `name{l="v", ...}`, `{__name__="x"}`, `{"quoted.name"}` or
/// `{}` into labels. Only equality pairs are allowed; a trailing comma is fine.
pub(crate) fn parse_labels(metric: &str) -> Result<Labels, String> {
    let (name, body) = match metric.find('{') {
        Some(open) => {
            let body = metric[open + 1..]
                .strip_suffix('}')
                .ok_or_else(|| format!("label set must end with '}}': {metric:?}"))?;
            (&metric[..open], Some(body))
        }
        None => (metric, None),
    };
    let mut labels = Vec::new();
    if !name.is_empty() {
        if !is_metric_name(name) {
            return Err(format!("invalid metric name {name:?}"));
        }
        labels.push(Label::new(METRIC_NAME, name));
    }
    let mut rest = body.unwrap_or("").trim();
    while !rest.is_empty() {
        let (label_name, after) = take_name(rest)?;
        let after = after.trim_start();
        if let Some(after_eq) = after.strip_prefix('=') {
            let (value, after_value) = take_quoted(after_eq.trim_start())?;
            labels.push(Label::new(&label_name, &value));
            rest = after_value.trim_start();
        } else {
            // A lone quoted name is the metric name (UTF-8 names in 3.x).
            labels.push(Label::new(METRIC_NAME, &label_name));
            rest = after;
        }
        rest = match rest.strip_prefix(',') {
            Some(r) => r.trim_start(),
            None if rest.is_empty() => rest,
            None => return Err(format!("expected ',' or '}}' in {metric:?}")),
        };
    }
    Ok(Labels::new(labels))
}

fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Takes a label name (identifier or quoted string) from the front of `s`.
fn take_name(s: &str) -> Result<(String, &str), String> {
    if s.starts_with(['"', '\'', '`']) {
        return take_quoted(s);
    }
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    if end == 0 || s.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!("expected label name at {s:?}"));
    }
    Ok((s[..end].to_string(), &s[end..]))
}

/// Takes one quoted string from the front of `s`, returning it unquoted.
fn take_quoted(s: &str) -> Result<(String, &str), String> {
    let q = s
        .chars()
        .next()
        .filter(|c| matches!(c, '"' | '\'' | '`'))
        .ok_or_else(|| format!("expected quoted string at {s:?}"))?;
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        if escaped {
            escaped = false;
        } else if c == '\\' && q != '`' {
            escaped = true;
        } else if c == q {
            let end = i + c.len_utf8();
            return Ok((unquote(&s[..end])?, &s[end..]));
        }
    }
    Err(format!("unterminated string at {s:?}"))
}

/// Splits the value part into items at whitespace outside `{{...}}`.
fn split_items(s: &str) -> Result<Vec<&str>, String> {
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut start: Option<usize> = None;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| format!("unbalanced '}}' in {s:?}"))?
            }
            _ => {}
        }
        if c.is_whitespace() && depth == 0 {
            if let Some(st) = start.take() {
                items.push(&s[st..i]);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if depth != 0 {
        return Err(format!("unterminated histogram in {s:?}"));
    }
    if let Some(st) = start {
        items.push(&s[st..]);
    }
    Ok(items)
}

/// Splits a trailing `x<digits>` repetition count off an item.
fn split_times(item: &str) -> Result<(&str, Option<u64>), String> {
    match item.rfind('x') {
        Some(pos)
            if pos + 1 < item.len() && item[pos + 1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            let n = item[pos + 1..]
                .parse::<u64>()
                .map_err(|_| format!("invalid repetition in {item:?}"))?;
            // Bound expansions so a typo cannot exhaust memory.
            if n > 1_000_000 {
                return Err(format!("repetition {n} too large"));
            }
            Ok((&item[..pos], Some(n)))
        }
        _ => Ok((item, None)),
    }
}

fn parse_item(item: &str, out: &mut Vec<SeqValue>) -> Result<(), String> {
    let (body, times) = split_times(item)?;
    if body == "_" {
        // `_xN` is N gaps, unlike every other form, which gives N+1 values.
        out.extend(std::iter::repeat_n(
            SeqValue::Omitted,
            times.unwrap_or(1) as usize,
        ));
        return Ok(());
    }
    if body.starts_with("{{") {
        return parse_histogram_item(body, times, out);
    }
    let (first, delta) = split_delta(body);
    let first = parse_float_value(first)?;
    match (delta, times) {
        (None, None) => out.push(SeqValue::Float(first)),
        (None, Some(n)) => out.extend(std::iter::repeat_n(SeqValue::Float(first), n as usize + 1)),
        (Some(d), Some(n)) => {
            let d = parse_number(d)?;
            let mut v = first;
            for _ in 0..=n {
                out.push(SeqValue::Float(v));
                v += d;
            }
        }
        (Some(_), None) => return Err("an increment needs a repetition count (a+bxn)".into()),
    }
    Ok(())
}

/// Splits `a+b` / `a-b` at the sign that starts the increment: the first
/// `+`/`-` after position 0 that is not an exponent sign.
fn split_delta(body: &str) -> (&str, Option<&str>) {
    let bytes = body.as_bytes();
    for i in 1..bytes.len() {
        let c = bytes[i];
        if c != b'+' && c != b'-' {
            continue;
        }
        let prev = bytes[i - 1];
        let exponent = (prev == b'e' || prev == b'E')
            && i >= 2
            && (bytes[i - 2].is_ascii_digit() || bytes[i - 2] == b'.');
        if !exponent {
            return (&body[..i], Some(&body[i..]));
        }
    }
    (body, None)
}

fn parse_float_value(s: &str) -> Result<f64, String> {
    if s == "stale" {
        return Ok(f64::from_bits(STALE_NAN_BITS));
    }
    parse_number(s)
}

fn parse_histogram_item(
    body: &str,
    times: Option<u64>,
    out: &mut Vec<SeqValue>,
) -> Result<(), String> {
    let close = body.find("}}").ok_or("unterminated histogram")?;
    let first = parse_histogram(&body[2..close])?;
    let rest = &body[close + 2..];
    if rest.is_empty() {
        let n = times.map_or(1, |n| n as usize + 1);
        out.extend(std::iter::repeat_n(SeqValue::Histogram(Box::new(first)), n));
        return Ok(());
    }
    let negate = rest.starts_with('-');
    let second = rest
        .strip_prefix(['+', '-'])
        .and_then(|r| r.strip_prefix("{{"))
        .and_then(|r| r.strip_suffix("}}"))
        .ok_or_else(|| format!("invalid histogram expansion {body:?}"))?;
    let step = parse_histogram(second)?;
    let n = times.ok_or("a histogram increment needs a repetition count")?;
    out.extend(
        expand(&first, &step, n, negate)
            .into_iter()
            .map(|h| SeqValue::Histogram(Box::new(h))),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floats(line: &str) -> Vec<Option<f64>> {
        parse_series_desc(line)
            .map(|d| {
                d.values
                    .into_iter()
                    .map(|v| match v {
                        SeqValue::Float(f) => Some(f),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn expansions() {
        assert_eq!(
            floats("m 0+10x3"),
            vec![Some(0.0), Some(10.0), Some(20.0), Some(30.0)]
        );
        assert_eq!(floats("m 5-1x2"), vec![Some(5.0), Some(4.0), Some(3.0)]);
        assert_eq!(floats("m 1x2"), vec![Some(1.0); 3]);
        assert_eq!(
            floats("m 0x2 _x2 _"),
            vec![Some(0.0), Some(0.0), Some(0.0), None, None, None]
        );
        assert_eq!(floats("m -2+1e1x1"), vec![Some(-2.0), Some(8.0)]);
        assert_eq!(
            floats("m 1e-3 -Inf"),
            vec![Some(0.001), Some(f64::NEG_INFINITY)]
        );
        assert_eq!(floats("m 1+0x4000").len(), 4001);
    }

    #[test]
    fn stale_keeps_bits() {
        let d = parse_series_desc("m 1 stale").ok();
        let v = d.and_then(|d| d.values.get(1).cloned());
        assert!(matches!(v, Some(SeqValue::Float(f)) if f.to_bits() == STALE_NAN_BITS));
    }

    #[test]
    fn label_sets() {
        let l = |s: &str| parse_series_desc(s).map(|d| d.labels.to_string());
        assert_eq!(
            l(r#"foo{a="x y", b='z',} 1"#),
            Ok(r#"{__name__="foo", a="x y", b="z"}"#.into())
        );
        assert_eq!(l(r#"{__name__="bar"} 1"#), Ok(r#"{__name__="bar"}"#.into()));
        assert_eq!(l("{} 1"), Ok("{}".into()));
        assert_eq!(
            l(r#"{"my.metric", a="}"} 1"#),
            Ok(r#"{__name__="my.metric", a="}"}"#.into())
        );
        assert!(l(r#"foo{a=b} 1"#).is_err());
        assert!(l(r#"foo{a="b" 1"#).is_err());
    }

    #[test]
    fn histograms_and_errors() {
        let d = parse_series_desc("h {{schema:0 sum:1 count:1}}x2 {{count:1}}+{{count:2}}x1");
        let n = d.map(|d| d.values.len()).unwrap_or(0);
        assert_eq!(n, 5);
        assert!(parse_series_desc("m 1+2").is_err());
        assert!(parse_series_desc("m abc").is_err());
        assert!(parse_series_desc("m {{schema:0").is_err());
    }
}
