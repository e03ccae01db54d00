//! The committed list of evals known to fail, and its comparison with a run.
//!
//! Format: one `file:line` per line (the line of the `eval`), optionally
//! followed by `# reason`; blank lines and lines starting with `#` are
//! comments. A run is green when the evals that failed are exactly the listed
//! ones among the files that ran: an unlisted failure is a regression, and a
//! listed eval that passes is a stale entry that must be removed, so the list
//! only ever shrinks by deliberate edits.

use std::collections::{BTreeMap, BTreeSet};

/// Known-failing evals, keyed `file:line`, with their reason text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KnownFailures {
    /// `file:line` → reason (may be empty).
    pub entries: BTreeMap<String, String>,
}

/// How a run differs from the known-failures list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Drift {
    /// Evals that failed but are not listed.
    pub new_failures: Vec<String>,
    /// Listed evals (of files that ran) that no longer fail.
    pub stale: Vec<String>,
}

impl Drift {
    /// Whether the run matches the list exactly.
    pub fn is_clean(&self) -> bool {
        self.new_failures.is_empty() && self.stale.is_empty()
    }
}

/// The key of one eval: `file:line`.
pub fn key(file: &str, line: usize) -> String {
    format!("{file}:{line}")
}

impl KnownFailures {
    /// Parses the list; malformed lines are errors naming the line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut entries = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (entry, reason) = match line.split_once('#') {
                Some((e, r)) => (e.trim(), r.trim()),
                None => (line, ""),
            };
            let valid = entry.rsplit_once(':').is_some_and(|(f, l)| {
                !f.is_empty() && !f.contains(char::is_whitespace) && l.parse::<usize>().is_ok()
            });
            if !valid {
                return Err(format!(
                    "line {}: expected `file:line [# reason]`, got {raw:?}",
                    i + 1
                ));
            }
            entries.insert(entry.to_string(), reason.to_string());
        }
        Ok(KnownFailures { entries })
    }

    /// Renders the list in its file format, sorted by file then line.
    pub fn render(&self) -> String {
        let mut out = String::from(
            "# Evals of Prometheus's PromQL test scripts that promlite is known to fail.\n\
             # One `file:line` (line of the eval) per line, with the first failure reason.\n\
             # Maintained by promql/tests/promqltest.rs: regenerate with PROMQLTEST_UPDATE=1.\n\
             # The test fails on an unlisted failure and on a listed eval that now passes.\n",
        );
        let mut sorted: Vec<(&String, &String)> = self.entries.iter().collect();
        sorted.sort_by_key(|(k, _)| split_key(k));
        for (k, reason) in sorted {
            if reason.is_empty() {
                out.push_str(&format!("{k}\n"));
            } else {
                out.push_str(&format!("{k}  # {reason}\n"));
            }
        }
        out
    }

    /// Compares with a run: `failed` are the keys that failed, `ran_files` the
    /// files that were run (entries of other files are left alone).
    pub fn drift(&self, failed: &BTreeSet<String>, ran_files: &BTreeSet<String>) -> Drift {
        let new_failures = failed
            .iter()
            .filter(|k| !self.entries.contains_key(*k))
            .cloned()
            .collect();
        let stale = self
            .entries
            .keys()
            .filter(|k| {
                let file = k.rsplit_once(':').map_or("", |(f, _)| f);
                ran_files.contains(file) && !failed.contains(*k)
            })
            .cloned()
            .collect();
        Drift {
            new_failures,
            stale,
        }
    }
}

fn split_key(k: &str) -> (String, usize) {
    match k.rsplit_once(':') {
        Some((f, l)) => (f.to_string(), l.parse().unwrap_or(0)),
        None => (k.to_string(), 0),
    }
}

/// A one-line reason for the list: the failure message's first line, cut to
/// `max_chars` characters.
pub fn short_reason(message: &str, max_chars: usize) -> String {
    let first = message.lines().next().unwrap_or("").trim();
    let mut s: String = first.chars().take(max_chars).collect();
    if first.chars().count() > max_chars {
        s.push('…');
    }
    // A `#` would start a comment inside the reason; keep the file unambiguous.
    s.replace('#', "%")
}

/// A coarse bucket for a failure message, for summaries: the message with
/// quoted text, label sets and numbers blanked, cut to its first words.
pub fn category(message: &str) -> String {
    let mut out = String::new();
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' | '`' => {
                for d in chars.by_ref() {
                    if d == c {
                        break;
                    }
                }
                out.push('…');
            }
            '{' => {
                let mut depth = 1;
                for d in chars.by_ref() {
                    match d {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    if depth == 0 {
                        break;
                    }
                }
                out.push_str("{…}");
            }
            c if c.is_ascii_digit() || c == '.' && out.ends_with('#') => {
                if !out.ends_with('#') {
                    out.push('#');
                }
            }
            _ => out.push(c),
        }
    }
    out.split_whitespace().take(9).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_render_round_trip() {
        let text = "# header\n\nb.test:20  # boom\na.test:3\nb.test:9 # x\n";
        let k = KnownFailures::parse(text).unwrap_or_default();
        assert_eq!(k.entries.len(), 3);
        assert_eq!(k.entries.get("b.test:20").map(String::as_str), Some("boom"));
        let again = KnownFailures::parse(&k.render()).unwrap_or_default();
        assert_eq!(again, k);
        let rendered = k.render();
        let body: Vec<&str> = rendered.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(body, vec!["a.test:3", "b.test:9  # x", "b.test:20  # boom"]);
        assert!(KnownFailures::parse("nonsense\n").is_err());
        assert!(KnownFailures::parse("a.test:x\n").is_err());
    }

    #[test]
    fn drift_finds_new_and_stale() {
        let k = KnownFailures::parse("a.test:1\na.test:2\nb.test:5\n").unwrap_or_default();
        let failed: BTreeSet<String> = ["a.test:2", "a.test:7"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let ran: BTreeSet<String> = ["a.test".to_string()].into_iter().collect();
        let d = k.drift(&failed, &ran);
        assert_eq!(d.new_failures, vec!["a.test:7".to_string()]);
        assert_eq!(d.stale, vec!["a.test:1".to_string()]);
        assert!(!d.is_clean());
    }

    #[test]
    fn reasons_and_categories() {
        assert_eq!(short_reason("abc # def\nsecond", 5), "abc %…");
        assert_eq!(
            category("expected 5 for {a=\"1\"} but got 6.5"),
            "expected # for {…} but got #"
        );
        assert_eq!(
            category("unexpected error: unknown function \"foo\""),
            "unexpected error: unknown function …"
        );
    }
}
