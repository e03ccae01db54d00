//! The label selector of `info(v, {data=~".*"})`.
//!
//! The parser crate refuses a selector whose matchers all accept the empty
//! string, but `info()`'s second argument is a filter, not a series
//! selector, and such filters are meaningful there ("enrich if present").
//! Before parsing we add a reserved matcher ([`INFO_SELECTOR_LABEL`]) to the
//! braces of every `info(...)` second argument; `info()` removes it again.

use crate::extended_range::{tokenize, Kind, Tok};

/// The reserved matcher name added to `info()` selectors.
pub(crate) const INFO_SELECTOR_LABEL: &str = "__promlite_info_selector__";

/// Adds the reserved matcher to `info()` label selectors; returns the query
/// unchanged when it has none.
pub fn rewrite(query: &str) -> String {
    let toks = tokenize(query);
    let text = |t: &Tok| query.get(t.start..t.end).unwrap_or("");
    let mut inserts: Vec<usize> = Vec::new();
    for (k, t) in toks.iter().enumerate() {
        if t.kind != Kind::Ident || !text(t).eq_ignore_ascii_case("info") {
            continue;
        }
        if toks.get(k + 1).map(|t| t.kind) != Some(Kind::Punct(b'(')) {
            continue;
        }
        // Find the top-level comma of the call, then a `{` right after it.
        let mut depth = 0i32;
        let mut j = k + 1;
        while let Some(t) = toks.get(j) {
            match t.kind {
                Kind::Punct(b'(' | b'[' | b'{') => depth += 1,
                Kind::Punct(b')' | b']' | b'}') => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                Kind::Punct(b',') if depth == 1 => {
                    if let Some(open) = toks.get(j + 1).filter(|t| t.kind == Kind::Punct(b'{')) {
                        inserts.push(open.end);
                    }
                    break;
                }
                _ => {}
            }
            j += 1;
        }
    }
    if inserts.is_empty() {
        return query.to_string();
    }
    let mut out = query.to_string();
    for pos in inserts.into_iter().rev() {
        let empty = query
            .get(pos..)
            .is_some_and(|r| r.trim_start().starts_with('}'));
        let ins = format!(
            "{INFO_SELECTOR_LABEL}=\"1\"{}",
            if empty { "" } else { "," }
        );
        if out.is_char_boundary(pos) {
            out.insert_str(pos, &ins);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_info_selectors_get_the_marker() {
        assert_eq!(
            rewrite(r#"info(m, {data=~".*"})"#),
            format!(r#"info(m, {{{INFO_SELECTOR_LABEL}="1",data=~".*"}})"#)
        );
        assert_eq!(rewrite(r#"info(rate(m[5m]))"#), r#"info(rate(m[5m]))"#);
        assert_eq!(rewrite(r#"sum(m{a=""}, x)"#), r#"sum(m{a=""}, x)"#);
        assert!(crate::parser::parse(r#"info(m, {data=~".*"})"#).is_ok());
    }
}
