//! The query parser: a guarded wrapper around the `promql-parser` crate.
//!
//! The crate is good at the grammar but trusts its input in two places: a float
//! duration too large for `std::time::Duration` panics (`foo[1e30]`,
//! `foo offset 1e30`), and a duration component that overflows 32 bits is
//! silently dropped (`foo[1y1000000000000000w]` reads as `1y`). This module
//! checks every unit duration in the text itself before the crate sees it and
//! runs the crate under `catch_unwind`, so no query text can panic the process
//! and every failure is a [`QueryError::BadData`].

use std::panic::{catch_unwind, AssertUnwindSafe};

use promql_parser::parser::{self, Expr};

use crate::duration_expr::DurationContext;
use crate::error::QueryError;

/// The largest duration we accept anywhere in a query, in ms (about 292 million
/// years: whatever fits an `i64` of milliseconds).
const MAX_DURATION_MS: u128 = i64::MAX as u128;

/// Parses a PromQL expression; never panics. `step()` and `range()` in
/// duration expressions read as 0 (an instant query).
pub fn parse(query: &str) -> Result<Expr, QueryError> {
    parse_with_context(query, DurationContext::default())
}

/// Parses a PromQL expression for a query with the given step and range
/// (what `step()` and `range()` mean in duration expressions); never panics.
pub fn parse_with_context(query: &str, ctx: DurationContext) -> Result<Expr, QueryError> {
    check_unit_durations(query)?;
    let query = crate::duration_expr::rewrite(query, ctx);
    let query = crate::info_selector::rewrite(&crate::extended_range::rewrite(&query));
    let parsed = catch_unwind(AssertUnwindSafe(|| parser::parse(&query))).map_err(|_| {
        QueryError::bad_data("parse error: invalid expression (number out of range)")
    })?;
    parsed.map_err(|msg| QueryError::bad_data(format!("parse error: {msg}")))
}

/// Parses a Prometheus duration such as `1m15s`, `90s` or `1h` into ms, with
/// overflow checks on every component. Returns `None` when it is not a valid duration.
pub fn parse_duration_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    let mut total: u128 = 0;
    let mut i = 0;
    // Units must appear in descending order, each at most once, as in Prometheus.
    let mut last_rank = usize::MAX;
    while i < b.len() {
        let start = i;
        while i < b.len() && b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        let n: u128 = s.get(start..i)?.parse().ok()?;
        let rest = s.get(i..)?;
        let (unit_ms, len, rank) = if rest.starts_with("ms") {
            (1u128, 2, 6)
        } else {
            match rest.as_bytes().first()? {
                b'y' => (365 * 24 * 3_600_000, 1, 0),
                b'w' => (7 * 24 * 3_600_000, 1, 1),
                b'd' => (24 * 3_600_000, 1, 2),
                b'h' => (3_600_000, 1, 3),
                b'm' => (60_000, 1, 4),
                b's' => (1_000, 1, 5),
                _ => return None,
            }
        };
        if last_rank != usize::MAX && rank <= last_rank {
            return None;
        }
        last_rank = rank;
        total = total.checked_add(n.checked_mul(unit_ms)?)?;
        if total > MAX_DURATION_MS {
            return None;
        }
        i += len;
    }
    i64::try_from(total).ok()
}

/// Finds every `<digits><unit>...` token outside string literals and rejects the
/// query when one is not a valid, in-range duration.
fn check_unit_durations(query: &str) -> Result<(), QueryError> {
    let b = query.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' | b'\'' | b'`' => {
                let start = i + 1;
                i = crate::duration_expr::skip_string(b, i);
                if c != b'`' {
                    check_escaped_utf8(query.get(start..i.saturating_sub(1)).unwrap_or(""), start)?;
                }
            }
            b'#' => {
                while b.get(i).is_some_and(|&d| d != b'\n') {
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c == b':' => {
                while b
                    .get(i)
                    .is_some_and(|d| d.is_ascii_alphanumeric() || *d == b'_' || *d == b':')
                {
                    i += 1;
                }
            }
            c if c.is_ascii_digit() => {
                let start = i;
                while b
                    .get(i)
                    .is_some_and(|d| d.is_ascii_alphanumeric() || *d == b'_' || *d == b'.')
                {
                    i += 1;
                }
                let tok = query.get(start..i).unwrap_or("");
                let is_duration = tok
                    .bytes()
                    .any(|d| matches!(d, b'y' | b'w' | b'd' | b'h' | b'm' | b's'))
                    && !tok.contains(['x', 'X', 'e', 'E', '.', 'i', 'I', 'n', 'N'])
                    && !tok.starts_with("0x");
                if is_duration && parse_duration_ms(tok).is_none() {
                    return Err(QueryError::bad_data(format!(
                        "1:{}: parse error: invalid duration {tok:?}",
                        start + 1
                    )));
                }
            }
            // `@ <number>`: Prometheus (parser.setTimestamp, 2.x and 3.x) rejects a
            // timestamp whose seconds do not fit an i64; the crate would saturate it
            // into a far-future time and answer an empty result instead.
            b'@' => {
                i += 1;
                while b.get(i).is_some_and(u8::is_ascii_whitespace) {
                    i += 1;
                }
                let start = i;
                let mut end = i;
                while let Some(&d) = b.get(end) {
                    let sign_ok =
                        end == start || matches!(b.get(end.wrapping_sub(1)), Some(b'e' | b'E'));
                    if d.is_ascii_alphanumeric()
                        || d == b'.'
                        || (matches!(d, b'+' | b'-') && sign_ok)
                    {
                        end += 1;
                    } else {
                        break;
                    }
                }
                let tok = query.get(start..end).unwrap_or("");
                if let Ok(secs) = tok.parse::<f64>() {
                    if secs.is_nan() || secs.abs() >= i64::MAX as f64 {
                        return Err(QueryError::bad_data(format!(
                            "1:{}: parse error: timestamp out of bounds for @ modifier: {secs}",
                            start + 1
                        )));
                    }
                }
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Rejects a string literal whose `\\x`/octal escapes spell bytes that are not
/// UTF-8 (`"\\xff"`): Prometheus strings are byte strings, so upstream such a
/// literal is an invalid label name or value, while the parser crate would
/// silently read it as the character U+00FF.
fn check_escaped_utf8(content: &str, offset: usize) -> Result<(), QueryError> {
    if !content.contains('\\') {
        return Ok(());
    }
    let mut bytes = Vec::with_capacity(content.len());
    let mut chars = content.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                bytes.push(u8::from_str_radix(&hex, 16).unwrap_or(b'?'));
            }
            Some(d @ '0'..='7') => {
                let mut oct = String::from(d);
                oct.extend(chars.by_ref().take(2));
                bytes.push(u8::from_str_radix(&oct, 8).unwrap_or(b'?'));
            }
            _ => bytes.push(b'?'),
        }
    }
    match std::str::from_utf8(&bytes) {
        Ok(_) => Ok(()),
        Err(_) => Err(QueryError::bad_data(format!(
            "1:{}: parse error: invalid UTF-8 in string literal",
            offset + 1
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compound_durations() {
        assert_eq!(parse_duration_ms("1m15s"), Some(75_000));
        assert_eq!(parse_duration_ms("1h30m"), Some(5_400_000));
        assert_eq!(parse_duration_ms("500ms"), Some(500));
        assert_eq!(parse_duration_ms("1s1m"), None);
        assert_eq!(parse_duration_ms("1y1000000000000000w"), None);
        assert!(parse("rate(x[1m15s])").is_ok());
    }

    #[test]
    fn hostile_inputs_are_errors_not_panics() {
        for q in [
            "foo offset 1e30",
            "foo[1e30]",
            "foo[1y1000000000000000w]",
            "foo[5m:1e30]",
            "foo @ 1e30",
            "foo @ -1e+19",
            "foo @ Inf",
            "sum(",
            "{",
            "",
        ] {
            assert!(matches!(parse(q), Err(QueryError::BadData { .. })), "{q}");
        }
    }

    #[test]
    fn at_timestamps_in_range_parse() {
        for q in [
            "foo @ 1e15",
            "foo @ -100",
            "foo @ start()",
            "foo @ 1700000000.5",
        ] {
            assert!(parse(q).is_ok(), "{q}");
        }
    }

    #[test]
    fn byte_escapes_must_spell_utf8() {
        assert!(parse(r#"label_replace(m, "\xff", "", "src", "(.*)")"#).is_err());
        assert!(parse(r#"m{a="\xc3\xbf"}"#).is_ok());
        assert!(parse(r#"m{a="\n\"x"}"#).is_ok());
    }

    #[test]
    fn strings_are_not_durations() {
        assert!(parse(r#"foo{a="1y1000000000000000w"}"#).is_ok());
    }
}
