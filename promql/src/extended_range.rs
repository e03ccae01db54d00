//! The `anchored` and `smoothed` selector modifiers (Prometheus 3.x extended
//! range selectors): `rate(m[5m] anchored)`, `m smoothed`.
//!
//! The parser crate does not know these keywords, so before parsing we remove
//! each one and record it inside the selector it modifies as a reserved label
//! matcher ([`MODE_LABEL`]); the evaluator takes that matcher out again when it
//! builds the selector's storage matchers. A keyword counts only where a
//! selector (with optional range, `offset` and `@`) ends, so metrics named
//! `anchored` or `smoothed` keep working.

/// The reserved matcher name carrying a selector's window mode.
pub(crate) const MODE_LABEL: &str = "__promlite_window_mode__";

/// Token classes of the small lexer shared by the text rewrites.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A quoted string.
    Str,
    /// An identifier or keyword.
    Ident,
    /// A number or duration.
    Num,
    /// Any other single byte.
    Punct(u8),
}

/// One token with its byte span in the query.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tok {
    /// Its class.
    pub kind: Kind,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// Splits a query into tokens (strings and comments handled).
pub(crate) fn tokenize(q: &str) -> Vec<Tok> {
    let b = q.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let start = i;
        let kind = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' => {
                while b.get(i).is_some_and(|&d| d != b'\n') {
                    i += 1;
                }
                continue;
            }
            b'"' | b'\'' | b'`' => {
                i = crate::duration_expr::skip_string(b, i);
                Kind::Str
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c == b':' => {
                while b
                    .get(i)
                    .is_some_and(|d| d.is_ascii_alphanumeric() || *d == b'_' || *d == b':')
                {
                    i += 1;
                }
                Kind::Ident
            }
            c if c.is_ascii_digit() || c == b'.' => {
                while b
                    .get(i)
                    .is_some_and(|d| d.is_ascii_alphanumeric() || *d == b'.')
                {
                    i += 1;
                }
                Kind::Num
            }
            c => {
                i += 1;
                Kind::Punct(c)
            }
        };
        out.push(Tok {
            kind,
            start,
            end: i.min(b.len()),
        });
    }
    out
}

/// Operator and clause keywords: never a metric name before a modifier.
const KEYWORDS: [&str; 11] = [
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
];

/// A pending change: insert text at a byte position, and delete a byte range.
type Edit = (usize, String, Option<(usize, usize)>);

/// Rewrites `anchored`/`smoothed` modifiers into reserved matchers; returns the
/// query unchanged when it has none.
pub fn rewrite(query: &str) -> String {
    let toks = tokenize(query);
    let text = |t: &Tok| query.get(t.start..t.end).unwrap_or("");
    let mut edits: Vec<Edit> = Vec::new();
    for (k, t) in toks.iter().enumerate() {
        let word = text(t);
        if t.kind != Kind::Ident
            || !(word.eq_ignore_ascii_case("anchored") || word.eq_ignore_ascii_case("smoothed"))
        {
            continue;
        }
        let Some(sel_end) = k.checked_sub(1).and_then(|j| selector_end(&toks, j, &text)) else {
            continue;
        };
        let mode = word.to_ascii_lowercase();
        let Some(end_tok) = toks.get(sel_end) else {
            continue;
        };
        match end_tok.kind {
            Kind::Punct(b'}') => {
                let Some(open) = matching_open(&toks, sel_end, b'{', b'}') else {
                    continue;
                };
                let Some(open_tok) = toks.get(open) else {
                    continue;
                };
                let empty = open + 1 == sel_end;
                let comma = if empty { "" } else { "," };
                edits.push((
                    open_tok.end,
                    format!("{MODE_LABEL}=\"{mode}\"{comma}"),
                    Some((t.start, t.end)),
                ));
            }
            Kind::Ident => {
                edits.push((
                    end_tok.end,
                    format!("{{{MODE_LABEL}=\"{mode}\"}}"),
                    Some((t.start, t.end)),
                ));
            }
            _ => {}
        }
    }
    if edits.is_empty() {
        return query.to_string();
    }
    // Apply inserts and deletions from the back so earlier offsets stay valid.
    let mut ops: Vec<(usize, usize, String)> = Vec::new();
    for (pos, ins, del) in edits {
        ops.push((pos, pos, ins));
        if let Some((s, e)) = del {
            ops.push((s, e, String::new()));
        }
    }
    ops.sort_by_key(|op| std::cmp::Reverse(op.0));
    let mut out = query.to_string();
    for (s, e, ins) in ops {
        if out.is_char_boundary(s) && out.is_char_boundary(e) && s <= e && e <= out.len() {
            out.replace_range(s..e, &ins);
        }
    }
    out
}

/// Walks back from token `j` over `offset d`, `@ t`, `@ start()`/`@ end()` and
/// a `[range]` to the token that ends the selector itself (`}` or the metric
/// name); `None` when token `j` does not end a selector.
fn selector_end<'q>(toks: &[Tok], mut j: usize, text: &dyn Fn(&Tok) -> &'q str) -> Option<usize> {
    let kind = |i: usize| toks.get(i).map(|t| t.kind);
    let word = |i: usize| toks.get(i).map(text).unwrap_or("");
    loop {
        match kind(j)? {
            Kind::Num => {
                let mut p = j.checked_sub(1)?;
                if matches!(kind(p), Some(Kind::Punct(b'-' | b'+'))) {
                    p = p.checked_sub(1)?;
                }
                if word(p).eq_ignore_ascii_case("offset") || kind(p) == Some(Kind::Punct(b'@')) {
                    j = p.checked_sub(1)?;
                    continue;
                }
                return None;
            }
            Kind::Punct(b')') => {
                // `@ start()` / `@ end()`
                if kind(j.checked_sub(1)?) == Some(Kind::Punct(b'('))
                    && kind(j.checked_sub(3)?) == Some(Kind::Punct(b'@'))
                {
                    j = j.checked_sub(4)?;
                    continue;
                }
                return None;
            }
            Kind::Punct(b']') => {
                j = matching_open(toks, j, b'[', b']')?.checked_sub(1)?;
                // A subquery's inner expression ends with `)`: not a selector.
                return match kind(j)? {
                    Kind::Punct(b'}') => Some(j),
                    Kind::Ident if !KEYWORDS.iter().any(|k| word(j).eq_ignore_ascii_case(k)) => {
                        Some(j)
                    }
                    _ => None,
                };
            }
            Kind::Punct(b'}') => return Some(j),
            Kind::Ident if !KEYWORDS.iter().any(|k| word(j).eq_ignore_ascii_case(k)) => {
                return Some(j)
            }
            _ => return None,
        }
    }
}

/// Index of the `open` punctuation matching the `close` at `j`.
pub(crate) fn matching_open(toks: &[Tok], j: usize, open: u8, close: u8) -> Option<usize> {
    let mut depth = 0i32;
    let mut i = j;
    loop {
        match toks.get(i)?.kind {
            Kind::Punct(c) if c == close => depth += 1,
            Kind::Punct(c) if c == open => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i = i.checked_sub(1)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modifiers_move_into_the_selector() {
        assert_eq!(
            rewrite("rate(m[5m] anchored)"),
            format!("rate(m{{{MODE_LABEL}=\"anchored\"}}[5m] )")
        );
        assert_eq!(
            rewrite("m{a=\"b\"}[1m] smoothed"),
            format!("m{{{MODE_LABEL}=\"smoothed\",a=\"b\"}}[1m] ")
        );
        assert_eq!(
            rewrite("m @ 100 smoothed + 0"),
            format!("m{{{MODE_LABEL}=\"smoothed\"}} @ 100  + 0")
        );
        assert_eq!(
            rewrite("m offset -100 smoothed"),
            format!("m{{{MODE_LABEL}=\"smoothed\"}} offset -100 ")
        );
    }

    #[test]
    fn metric_names_are_left_alone() {
        assert_eq!(rewrite("anchored + smoothed"), "anchored + smoothed");
        assert_eq!(rewrite("x and smoothed"), "x and smoothed");
        assert_eq!(rewrite("sum(smoothed)"), "sum(smoothed)");
    }
}
