//! Token-level helpers shared by the script and series-notation parsers:
//! Prometheus durations, PromQL number literals and quoted strings.
//!
//! These follow the Prometheus text forms (`model.ParseDuration`, the PromQL
//! lexer's number rules, Go string unquoting) so that a script means here what
//! it means upstream. They never panic: every malformed token is an `Err`
//! carrying a short description.

/// Parses a script time or duration such as `0`, `5m`, `1h30m` or `-10s`
/// into milliseconds: an optional sign and a bare `0` on top of the engine's
/// own duration parser ([`crate::parse_duration_ms`], Prometheus's units and
/// ordering rules).
pub(crate) fn parse_duration_ms(s: &str) -> Result<i64, String> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let ms = if body == "0" {
        0
    } else {
        crate::parse_duration_ms(body).ok_or_else(|| format!("invalid duration {s:?}"))?
    };
    Ok(if neg { -ms } else { ms })
}

/// Parses a PromQL number literal without sign handling beyond a leading
/// `+`/`-`: decimal and exponent forms, `0x` hex, `Inf`, `NaN` (any case),
/// and, as newer parsers accept in series values, a duration in seconds.
pub(crate) fn parse_number(s: &str) -> Result<f64, String> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16)
            .map(|v| v as f64)
            .map_err(|_| format!("invalid number {s:?}"))?
    } else if body.eq_ignore_ascii_case("inf") {
        f64::INFINITY
    } else if body.eq_ignore_ascii_case("nan") {
        f64::NAN
    } else if body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        match body.parse::<f64>() {
            Ok(v) => v,
            Err(_) => parse_duration_ms(body).map(|ms| ms as f64 / 1000.0)?,
        }
    } else {
        return Err(format!("invalid number {s:?}"));
    };
    Ok(if neg { -v } else { v })
}

/// Parses a bare number on an expected-result line, as upstream does: first as
/// an integer with Go's base prefixes (`0x`, `0o`, `0b`, leading `0` = octal),
/// then as a float (`Inf`, `NaN` allowed). Durations are not numbers here.
pub(crate) fn parse_scalar_line(s: &str) -> Option<f64> {
    if let Some(v) = parse_prefixed_int(s) {
        return Some(v);
    }
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    let float_like = lower == "inf"
        || lower == "infinity"
        || lower == "nan"
        || (!body.is_empty()
            && body
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-')));
    if !float_like {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Go `strconv.ParseInt(s, 0, 64)` accepted forms, converted to f64.
fn parse_prefixed_int(s: &str) -> Option<f64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let body = body.replace('_', "");
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_string())
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_string())
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_string())
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string())
    } else {
        (10, lower)
    };
    if digits.is_empty() {
        return None;
    }
    let v = i64::from_str_radix(&digits, radix).ok()? as f64;
    Some(if neg { -v } else { v })
}

/// Removes the quotes from a PromQL string literal (`"..."`, `'...'` or a
/// backquoted raw string) and resolves Go escape sequences in the first two.
pub(crate) fn unquote(s: &str) -> Result<String, String> {
    let mut chars = s.chars();
    let quote = chars.next().ok_or("empty string literal")?;
    if !matches!(quote, '"' | '\'' | '`') || s.len() < 2 || !s.ends_with(quote) {
        return Err(format!("invalid string literal {s:?}"));
    }
    let inner = &s[1..s.len() - 1];
    if quote == '`' {
        if inner.contains('`') {
            return Err(format!("invalid raw string {s:?}"));
        }
        return Ok(inner.to_string());
    }
    let mut out = String::with_capacity(inner.len());
    let mut it = inner.chars().peekable();
    while let Some(c) = it.next() {
        if c == quote {
            return Err(format!("unescaped quote in {s:?}"));
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = it
            .next()
            .ok_or_else(|| format!("dangling escape in {s:?}"))?;
        match e {
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '\\' | '"' | '\'' => out.push(e),
            'x' | 'u' | 'U' => {
                let len = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = (0..len).filter_map(|_| it.next()).collect();
                let code = u32::from_str_radix(&hex, 16)
                    .map_err(|_| format!("invalid escape in {s:?}"))?;
                if e == 'x' {
                    // Go's \x yields one byte; in valid UTF-8 test data it is ASCII.
                    out.push(char::from_u32(code).ok_or("invalid \\x escape")?);
                } else {
                    out.push(char::from_u32(code).ok_or("invalid unicode escape")?);
                }
            }
            '0'..='7' => {
                let mut code = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    let d = it
                        .next()
                        .and_then(|c| c.to_digit(8))
                        .ok_or_else(|| format!("invalid octal escape in {s:?}"))?;
                    code = code * 8 + d;
                }
                out.push(char::from_u32(code).ok_or("invalid octal escape")?);
            }
            _ => return Err(format!("unknown escape \\{e} in {s:?}")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("0"), Ok(0));
        assert_eq!(parse_duration_ms("5m"), Ok(300_000));
        assert_eq!(parse_duration_ms("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration_ms("9m10s"), Ok(550_000));
        assert_eq!(parse_duration_ms("-10s"), Ok(-10_000));
        assert_eq!(parse_duration_ms("100ms"), Ok(100));
        assert!(parse_duration_ms("1m1h").is_err());
        assert!(parse_duration_ms("5").is_err());
        assert!(parse_duration_ms("m").is_err());
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("1e3"), Ok(1000.0));
        assert_eq!(parse_number("-2.5"), Ok(-2.5));
        assert_eq!(parse_number("0x3d"), Ok(61.0));
        assert_eq!(parse_number("+Inf"), Ok(f64::INFINITY));
        assert_eq!(parse_number("-inf"), Ok(f64::NEG_INFINITY));
        assert!(parse_number("NaN").is_ok_and(f64::is_nan));
        assert_eq!(parse_number("1m"), Ok(60.0));
        assert!(parse_number("abc").is_err());
    }

    #[test]
    fn scalar_lines() {
        assert_eq!(parse_scalar_line("3.5"), Some(3.5));
        assert_eq!(parse_scalar_line("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_scalar_line("0x10"), Some(16.0));
        assert!(parse_scalar_line("NaN").is_some_and(f64::is_nan));
        assert_eq!(parse_scalar_line("{} 1"), None);
        assert_eq!(parse_scalar_line("foo"), None);
    }

    #[test]
    fn strings() {
        assert_eq!(unquote(r#""a\"b\n""#), Ok("a\"b\n".to_string()));
        assert_eq!(unquote("'x y'"), Ok("x y".to_string()));
        assert_eq!(unquote(r"`a\b`"), Ok(r"a\b".to_string()));
        assert_eq!(unquote(r#""\u00e9\x41""#), Ok("éA".to_string()));
        assert!(unquote("\"abc").is_err());
        assert!(unquote(r#""a\q""#).is_err());
    }
}
