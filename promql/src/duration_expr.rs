//! Duration expressions (Prometheus 3.14): arithmetic, `step()`, `range()`,
//! `min_of(a, b)` and `max_of(a, b)` inside `[...]` and after `offset`.
//!
//! The parser crate only knows literal durations there, so before parsing we
//! find those spots in the query text, evaluate each expression with the
//! query's step and range, and write the result back as a millisecond literal
//! (`[29s+1s:5s+5s]` becomes `[30000ms:10000ms]`). Plain literals are left
//! untouched so their parse errors stay the parser's. Numbers are seconds;
//! precedence follows PromQL: `^` binds tighter than unary minus, and after
//! `offset` only one operand (with an optional sign) belongs to the offset:
//! `m offset 100 + 2` is `(m offset 100) + 2`, `m offset step()^0` is
//! `(m offset step())^0`.

use crate::parser::parse_duration_ms;

/// Values of `step()` and `range()` for the query being parsed, in ms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DurationContext {
    /// The range query step (0 for instant queries).
    pub step_ms: i64,
    /// `end - start` of the query (0 for instant queries).
    pub range_ms: i64,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Op(u8),
    Open,
    Close,
    Comma,
}

fn lex(s: &str) -> Option<Vec<Tok>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'(' => {
                out.push(Tok::Open);
                i += 1;
            }
            b')' => {
                out.push(Tok::Close);
                i += 1;
            }
            b',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            b'+' | b'-' | b'*' | b'/' | b'%' | b'^' => {
                out.push(Tok::Op(c));
                i += 1;
            }
            c if c.is_ascii_digit() || c == b'.' => {
                let start = i;
                while b
                    .get(i)
                    .is_some_and(|d| d.is_ascii_alphanumeric() || *d == b'.')
                {
                    i += 1;
                }
                let t = s.get(start..i)?;
                let secs = match t.parse::<f64>() {
                    Ok(v) => v,
                    Err(_) => parse_duration_ms(t)? as f64 / 1000.0,
                };
                out.push(Tok::Num(secs));
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while b
                    .get(i)
                    .is_some_and(|d| d.is_ascii_alphanumeric() || *d == b'_')
                {
                    i += 1;
                }
                out.push(Tok::Ident(s.get(start..i)?.to_ascii_lowercase()));
            }
            _ => return None,
        }
    }
    Some(out)
}

struct Eval<'t> {
    toks: &'t [Tok],
    pos: usize,
    ctx: DurationContext,
}

impl Eval<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn bump(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn expr(&mut self) -> Option<f64> {
        let mut v = self.mul()?;
        while let Some(Tok::Op(op @ (b'+' | b'-'))) = self.peek().cloned() {
            self.pos += 1;
            let r = self.mul()?;
            v = if op == b'+' { v + r } else { v - r };
        }
        Some(v)
    }

    fn mul(&mut self) -> Option<f64> {
        let mut v = self.unary()?;
        while let Some(Tok::Op(op @ (b'*' | b'/' | b'%'))) = self.peek().cloned() {
            self.pos += 1;
            let r = self.unary()?;
            v = match op {
                b'*' => v * r,
                b'/' => v / r,
                _ => v % r,
            };
        }
        Some(v)
    }

    fn unary(&mut self) -> Option<f64> {
        match self.peek() {
            Some(Tok::Op(b'-')) => {
                self.pos += 1;
                Some(-self.unary()?)
            }
            Some(Tok::Op(b'+')) => {
                self.pos += 1;
                self.unary()
            }
            _ => self.pow(),
        }
    }

    fn pow(&mut self) -> Option<f64> {
        let base = self.atom()?;
        if let Some(Tok::Op(b'^')) = self.peek() {
            self.pos += 1;
            return Some(base.powf(self.unary()?));
        }
        Some(base)
    }

    fn atom(&mut self) -> Option<f64> {
        match self.bump()? {
            Tok::Num(v) => Some(v),
            Tok::Open => {
                let v = self.expr()?;
                (self.bump()? == Tok::Close).then_some(v)
            }
            Tok::Ident(name) => {
                if self.bump()? != Tok::Open {
                    return None;
                }
                let v = match name.as_str() {
                    "step" => self.ctx.step_ms as f64 / 1000.0,
                    "range" => self.ctx.range_ms as f64 / 1000.0,
                    "min_of" | "max_of" => {
                        let a = self.expr()?;
                        if self.bump()? != Tok::Comma {
                            return None;
                        }
                        let b = self.expr()?;
                        if name == "min_of" {
                            a.min(b)
                        } else {
                            a.max(b)
                        }
                    }
                    _ => return None,
                };
                (self.bump()? == Tok::Close).then_some(v)
            }
            Tok::Op(_) | Tok::Close | Tok::Comma => None,
        }
    }
}

/// Evaluates a whole duration expression to seconds.
fn eval_seconds(s: &str, ctx: DurationContext) -> Option<f64> {
    let toks = lex(s)?;
    let mut ev = Eval {
        toks: &toks,
        pos: 0,
        ctx,
    };
    let v = ev.expr()?;
    (ev.pos == toks.len() && v.is_finite()).then_some(v)
}

/// Whether `s` is already something the parser reads as a duration.
fn is_literal(s: &str) -> bool {
    let s = s.trim();
    s.is_empty() || s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'.')
}

fn ms_literal(secs: f64) -> String {
    format!("{}ms", (secs * 1000.0).round() as i64)
}

/// Rewrites duration expressions in `query` to millisecond literals; returns
/// the query unchanged when it has none (or when one cannot be evaluated, so
/// the parser reports it).
pub fn rewrite(query: &str, ctx: DurationContext) -> String {
    let b = query.as_bytes();
    let mut out = String::with_capacity(query.len());
    let mut i = 0;
    let mut copied = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' | b'\'' | b'`' => i = skip_string(b, i),
            b'#' => {
                while b.get(i).is_some_and(|&d| d != b'\n') {
                    i += 1;
                }
            }
            b'[' => {
                let Some(close) = query.get(i..).and_then(|r| r.find(']')).map(|r| i + r) else {
                    break;
                };
                let inner = query.get(i + 1..close).unwrap_or("");
                if let Some(new_inner) = rewrite_brackets(inner, ctx) {
                    out.push_str(query.get(copied..=i).unwrap_or(""));
                    out.push_str(&new_inner);
                    copied = close;
                }
                i = close + 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while b
                    .get(i)
                    .is_some_and(|d| d.is_ascii_alphanumeric() || *d == b'_' || *d == b':')
                {
                    i += 1;
                }
                if query
                    .get(start..i)
                    .is_some_and(|w| w.eq_ignore_ascii_case("offset"))
                {
                    if let Some((end, secs)) = offset_operand(query, i, ctx) {
                        out.push_str(query.get(copied..start).unwrap_or(""));
                        let ms = (secs * 1000.0).round() as i64;
                        // `offset 0ms` does not parse; a zero offset is no offset.
                        if ms != 0 {
                            out.push_str("offset ");
                            out.push_str(&ms_literal(secs));
                            out.push(' ');
                        }
                        copied = end;
                        i = end;
                    }
                }
            }
            _ => i += 1,
        }
    }
    if copied == 0 {
        return query.to_string();
    }
    out.push_str(query.get(copied..).unwrap_or(""));
    out
}

/// Index just past the string literal (`"…"`, `'…'` or `` `…` ``) opening at `i`;
/// backslash escapes count except in raw backtick strings. Shared by every text
/// rewrite that must not look inside strings.
pub(crate) fn skip_string(b: &[u8], mut i: usize) -> usize {
    let Some(&q) = b.get(i) else { return i };
    i += 1;
    while let Some(&d) = b.get(i) {
        if d == b'\\' && q != b'`' {
            i += 2;
            continue;
        }
        i += 1;
        if d == q {
            break;
        }
    }
    i
}

/// `[range]` or `[range:step]` contents with expressions evaluated, if any part is one.
fn rewrite_brackets(inner: &str, ctx: DurationContext) -> Option<String> {
    let mut depth = 0i32;
    let mut split = None;
    for (k, c) in inner.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ':' if depth == 0 => split = Some(k),
            _ => {}
        }
    }
    let (range, step) = match split {
        Some(k) => (inner.get(..k)?, Some(inner.get(k + 1..)?)),
        None => (inner, None),
    };
    if is_literal(range) && step.is_none_or(is_literal) {
        return None;
    }
    let conv = |part: &str| -> Option<String> {
        if is_literal(part) {
            Some(part.to_string())
        } else {
            eval_seconds(part, ctx).map(ms_literal)
        }
    };
    let mut s = conv(range)?;
    if let Some(step) = step {
        s.push(':');
        s.push_str(&conv(step)?);
    }
    Some(s)
}

/// The operand after `offset` at byte `from` when it is an expression (sign
/// followed by a parenthesis or function, or a parenthesis or function): its
/// end and value in seconds. Plain literals return `None`.
fn offset_operand(query: &str, from: usize, ctx: DurationContext) -> Option<(usize, f64)> {
    let b = query.as_bytes();
    let mut i = from;
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    let start = i;
    if matches!(b.get(i), Some(b'-' | b'+')) {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
    }
    // One operand: a parenthesised group, or a function call, or a literal.
    match b.get(i)? {
        b'(' => i = matching_paren(b, i)?,
        c if c.is_ascii_alphabetic() => {
            while b
                .get(i)
                .is_some_and(|d| d.is_ascii_alphanumeric() || *d == b'_')
            {
                i += 1;
            }
            while b.get(i).is_some_and(u8::is_ascii_whitespace) {
                i += 1;
            }
            if b.get(i) != Some(&b'(') {
                return None;
            }
            i = matching_paren(b, i)?;
        }
        _ => return None,
    }
    let text = query.get(start..i)?;
    Some((i, eval_seconds(text, ctx)?))
}

/// Index just past the parenthesis closing the one at `open`.
fn matching_paren(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0i32;
    let mut i = open;
    while let Some(&c) = b.get(i) {
        match c {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: DurationContext = DurationContext {
        step_ms: 5_000,
        range_ms: 10_000,
    };

    #[test]
    fn brackets_are_evaluated() {
        assert_eq!(rewrite("rate(x[26m+4m])", CTX), "rate(x[1800000ms])");
        assert_eq!(rewrite("x[29s+1s:5s+5s]", CTX), "x[30000ms:10000ms]");
        assert_eq!(rewrite("x[min_of(step()+1,1h)]", CTX), "x[6000ms]");
        assert_eq!(rewrite("x[5m]", CTX), "x[5m]");
        assert_eq!(rewrite(r#"x{a="[1+1]"}[5m]"#, CTX), r#"x{a="[1+1]"}[5m]"#);
    }

    #[test]
    fn offset_takes_one_operand() {
        assert_eq!(rewrite("x offset 100 + 2", CTX), "x offset 100 + 2");
        assert_eq!(rewrite("x offset (100 + 2)", CTX), "x offset 102000ms ");
        assert_eq!(rewrite("x offset -step()*2", CTX), "x offset -5000ms *2");
        assert_eq!(
            rewrite("x offset -min_of(step(), 1s)^0", CTX),
            "x offset -1000ms ^0"
        );
        assert_eq!(rewrite("x offset step()*0", CTX), "x offset 5000ms *0");
        assert_eq!(
            rewrite("x offset range() ", DurationContext::default()),
            "x  "
        );
    }

    #[test]
    fn precedence() {
        assert_eq!(eval_seconds("-2 ^ 2", CTX), Some(-4.0));
        assert_eq!(eval_seconds("2m*(10+5)", CTX), Some(1800.0));
        assert_eq!(eval_seconds("30m1s-30m1s % 1m", CTX), Some(1800.0));
    }
}
