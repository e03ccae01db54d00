//! Warnings and infos attached to a query result, worded as Prometheus 3.x
//! words them (`PromQL warning: ...`, `PromQL info: ...`) and followed by the
//! `(line:column)` of the expression they concern.
//!
//! The parser we use keeps no source positions, so a position is found by
//! locating the concerned metric or function name in the query text; when it
//! cannot be found the annotation points at `1:1`. Each message is kept once.

use std::collections::HashSet;

/// The annotations collected by one query.
#[derive(Debug, Default)]
pub(crate) struct Annotations {
    warnings: Vec<String>,
    infos: Vec<String>,
    seen: HashSet<String>,
}

impl Annotations {
    fn push(&mut self, warning: bool, msg: String) {
        if self.seen.insert(msg.clone()) {
            if warning {
                self.warnings.push(msg);
            } else {
                self.infos.push(msg);
            }
        }
    }

    /// Adds `PromQL warning: <text> (<pos>)`.
    pub fn warn(&mut self, text: &str, pos: &str) {
        self.push(true, format!("PromQL warning: {text} ({pos})"));
    }

    /// Adds `PromQL info: <text> (<pos>)`.
    pub fn info(&mut self, text: &str, pos: &str) {
        self.push(false, format!("PromQL info: {text} ({pos})"));
    }

    /// Warnings and infos in order of appearance.
    pub fn into_parts(self) -> (Vec<String>, Vec<String>) {
        (self.warnings, self.infos)
    }
}

/// `line:column` (1-based) of the first occurrence of `needle` in `query` as a
/// whole identifier (not inside a longer name); `1:1` when absent.
pub(crate) fn position_of(query: &str, needle: &str) -> String {
    find_ident(query, needle).map_or_else(|| "1:1".to_string(), |at| line_col(query, at))
}

/// Byte offset of the first occurrence of `needle` as a whole identifier.
fn find_ident(query: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut from = 0;
    while let Some(rel) = query.get(from..).and_then(|q| q.find(needle)) {
        let at = from + rel;
        let before_ok = query
            .get(..at)
            .and_then(|s| s.chars().next_back())
            .is_none_or(|c| !is_ident(c));
        let after_ok = query
            .get(at + needle.len()..)
            .and_then(|s| s.chars().next())
            .is_none_or(|c| !is_ident(c));
        if before_ok && after_ok {
            return Some(at);
        }
        from = at + needle.len().max(1);
    }
    None
}

/// Formats a float as Go's `%g` does for the values that appear in messages.
pub(crate) fn go_g(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{f}")
    }
}

/// `line:column` of the first argument of the first call `name(...)` in
/// `query` (where Prometheus points parameter warnings); `1:1` when absent.
pub(crate) fn first_arg_position(query: &str, name: &str) -> String {
    let pos = position_of(query, name);
    let Some(start) = find_ident(query, name) else {
        return pos;
    };
    let rest = query.get(start + name.len()..).unwrap_or("");
    let Some(open) = rest.find('(') else {
        return pos;
    };
    if !rest.get(..open).unwrap_or("").trim().is_empty() {
        return pos;
    }
    let after = rest.get(open + 1..).unwrap_or("");
    let skipped = after.len() - after.trim_start().len();
    line_col(query, start + name.len() + open + 1 + skipped)
}

fn line_col(query: &str, byte: usize) -> String {
    let head = query.get(..byte).unwrap_or("");
    let line = head.matches('\n').count() + 1;
    let col = head.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("{line}:{col}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_skip_longer_names() {
        assert_eq!(position_of("rate(foo_total[5m]) + foo", "foo"), "1:23");
        assert_eq!(position_of("sum(\n  foo)", "foo"), "2:3");
        assert_eq!(position_of("x", "nothere"), "1:1");
        assert_eq!(
            first_arg_position("count(limit_ratio( 1.1, x))", "limit_ratio"),
            "1:20"
        );
    }

    #[test]
    fn messages_deduplicated() {
        let mut a = Annotations::default();
        a.info("x", "1:1");
        a.info("x", "1:1");
        a.warn("y", "1:2");
        assert_eq!(
            a.into_parts(),
            (
                vec!["PromQL warning: y (1:2)".to_string()],
                vec!["PromQL info: x (1:1)".to_string()]
            )
        );
    }
}
