//! Label kernels: `label_replace`, `label_join` and the natural string order
//! of `sort_by_label`.
//!
//! These work on label values only, so they are independent of the label-set
//! type: the evaluator looks up the source values, asks the kernel for the new
//! destination value (an empty value removes the label) and rebuilds the set,
//! then fails the query if two output series end up with the same labels.
//! Arguments are validated once per call, with Prometheus 3.x's error texts;
//! with UTF-8 label names (the 3.x default) any non-empty name is valid.

use std::cmp::Ordering;

use regex::Regex;

use super::FunctionError;

/// Whether `name` is a valid label name under Prometheus 3.x's UTF-8 scheme:
/// any non-empty string.
pub fn is_valid_label_name(name: &str) -> bool {
    !name.is_empty()
}

/// A validated `label_replace(v, dst, replacement, src, regex)` call.
#[derive(Debug, Clone)]
pub struct LabelReplace {
    destination: String,
    replacement: String,
    source: String,
    regex: Regex,
}

impl LabelReplace {
    /// Compiles the regex (anchored at both ends, `.` matching newlines) and
    /// checks the destination name.
    pub fn new(
        destination: &str,
        replacement: &str,
        source: &str,
        regex: &str,
    ) -> Result<Self, FunctionError> {
        let compiled =
            Regex::new(&format!("^(?s:{regex})$")).map_err(|_| FunctionError::InvalidRegex {
                function: "label_replace",
                regex: regex.to_owned(),
            })?;
        if !is_valid_label_name(destination) {
            return Err(FunctionError::InvalidLabelName {
                function: "label_replace",
                role: "destination",
                name: destination.to_owned(),
            });
        }
        Ok(LabelReplace {
            destination: destination.to_owned(),
            replacement: replacement.to_owned(),
            source: source.to_owned(),
            regex: compiled,
        })
    }

    /// The label to write.
    pub fn destination(&self) -> &str {
        &self.destination
    }

    /// The label to read (its value is "" when absent).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// If the regex matches `source_value`, writes the expanded replacement
    /// (`$1`, `${1}`, `$name`, `${name}`, `$$`) into `out` (cleared first) and
    /// returns true; returns false and leaves the series alone otherwise.
    pub fn apply(&self, source_value: &str, out: &mut String) -> bool {
        let Some(captures) = self.regex.captures(source_value) else {
            return false;
        };
        out.clear();
        captures.expand(&self.replacement, out);
        true
    }
}

/// A validated `label_join(v, dst, separator, src...)` call.
#[derive(Debug, Clone)]
pub struct LabelJoin {
    destination: String,
    separator: String,
    sources: Vec<String>,
}

impl LabelJoin {
    /// Checks the source names (first) and the destination name.
    pub fn new<S: AsRef<str>>(
        destination: &str,
        separator: &str,
        sources: &[S],
    ) -> Result<Self, FunctionError> {
        for s in sources {
            if !is_valid_label_name(s.as_ref()) {
                return Err(FunctionError::InvalidLabelName {
                    function: "label_join",
                    role: "source",
                    name: s.as_ref().to_owned(),
                });
            }
        }
        if !is_valid_label_name(destination) {
            return Err(FunctionError::InvalidLabelName {
                function: "label_join",
                role: "destination",
                name: destination.to_owned(),
            });
        }
        Ok(LabelJoin {
            destination: destination.to_owned(),
            separator: separator.to_owned(),
            sources: sources.iter().map(|s| s.as_ref().to_owned()).collect(),
        })
    }

    /// The label to write.
    pub fn destination(&self) -> &str {
        &self.destination
    }

    /// Writes the source values (absent ones as "") joined by the separator
    /// into `out`, cleared first. `get` looks a label value up by name.
    pub fn apply<'a>(&self, get: impl Fn(&str) -> Option<&'a str>, out: &mut String) {
        out.clear();
        for (i, s) in self.sources.iter().enumerate() {
            if i > 0 {
                out.push_str(&self.separator);
            }
            out.push_str(get(s).unwrap_or(""));
        }
    }
}

/// Splits `s` into maximal runs of ASCII digits and of non-digits.
fn chunks(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        let first = rest.bytes().next()?;
        let digit = first.is_ascii_digit();
        let end = rest
            .bytes()
            .position(|b| b.is_ascii_digit() != digit)
            .unwrap_or(rest.len());
        let (chunk, tail) = rest.split_at(end);
        rest = tail;
        Some(chunk)
    })
}

/// Natural order for `sort_by_label`: digit runs compare as numbers
/// (`cpu="2"` < `cpu="10"`), other runs as bytes; a string that is a prefix
/// (chunk-wise) of another sorts first.
///
/// Prometheus uses `facette/natsort`, whose comparison is not a total order in
/// corner cases (`"01"` vs `"1"`, the empty string); this agrees with it
/// wherever it is consistent and breaks the remaining ties bytewise, so sorting
/// never sees an inconsistent comparator.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let mut ca = chunks(a);
    let mut cb = chunks(b);
    loop {
        match (ca.next(), cb.next()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let ord = match (x.parse::<i64>(), y.parse::<i64>()) {
                    (Ok(nx), Ok(ny)) => nx.cmp(&ny),
                    _ => x.cmp(y),
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replace(dst: &str, repl: &str, src_value: &str, regex: &str) -> Option<String> {
        let lr = LabelReplace::new(dst, repl, "src", regex).ok()?;
        let mut out = String::new();
        lr.apply(src_value, &mut out).then_some(out)
    }

    #[test]
    fn replace_expands_groups() {
        assert_eq!(
            replace(
                "dst",
                "destination-value-$1",
                "source-value-10",
                "source-value-(.*)"
            )
            .as_deref(),
            Some("destination-value-10")
        );
        assert_eq!(
            replace("dst", "$1-value-$2", "source-value-10", "(.*)-value-(.*)").as_deref(),
            Some("source-value-10")
        );
        assert_eq!(
            replace("dst", "${x}!", "abc", "a(?P<x>.*)").as_deref(),
            Some("bc!")
        );
        // `$1x` names group "1x", which does not exist: empty, as in Go.
        assert_eq!(replace("dst", "$1x", "ab", "(a)b").as_deref(), Some(""));
        assert_eq!(replace("dst", "$$", "ab", "ab").as_deref(), Some("$"));
    }

    #[test]
    fn replace_is_anchored_and_dot_matches_newline() {
        assert_eq!(replace("dst", "x", "source-value-10", "value-(.*)"), None);
        assert_eq!(
            replace("dst", "[$1]", "a\nb", "(.*)").as_deref(),
            Some("[a\nb]")
        );
        // An absent source label is the empty string, which `.*` matches.
        assert_eq!(
            replace("dst", "value-$1", "", "(.*)").as_deref(),
            Some("value-")
        );
    }

    #[test]
    fn replace_errors() {
        let e = LabelReplace::new("dst", "", "src", "(.*").err();
        assert_eq!(
            e.map(|e| e.to_string()).as_deref(),
            Some("invalid regular expression in label_replace(): (.*")
        );
        let e = LabelReplace::new("", "", "src", "(.*)").err();
        assert_eq!(
            e.map(|e| e.to_string()).as_deref(),
            Some("invalid destination label name in label_replace(): ")
        );
    }

    #[test]
    fn join() {
        let lj = LabelJoin::new("dst", "-", &["src", "missing", "src2"]).expect("valid names");
        let mut out = String::new();
        let get = |n: &str| match n {
            "src" => Some("a"),
            "src2" => Some("c"),
            _ => None,
        };
        lj.apply(get, &mut out);
        assert_eq!(out, "a--c");
        let none = LabelJoin::new::<&str>("dst", ", ", &[]).expect("valid names");
        none.apply(get, &mut out);
        assert_eq!(out, "");
        let e = LabelJoin::new("dst", "", &[""])
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("invalid source label name in label_join(): ")
        );
    }

    #[test]
    fn natural_order() {
        let mut cpus = ["10", "2", "100", "1", "21", "0", "3", "12", "11", "20"];
        cpus.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            cpus,
            ["0", "1", "2", "3", "10", "11", "12", "20", "21", "100"]
        );
        let mut instances = ["4m1000", "4m5", "4m600"];
        instances.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(instances, ["4m5", "4m600", "4m1000"]);
        let mut releases = ["1.111.3", "1.11.3", "1.2.3"];
        releases.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(releases, ["1.2.3", "1.11.3", "1.111.3"]);
        assert_eq!(natural_cmp("", "a"), Ordering::Less);
        assert_eq!(natural_cmp("a", "a1"), Ordering::Less);
        assert_eq!(natural_cmp("01", "1"), "01".cmp("1"));
        assert_eq!(natural_cmp("api-server", "app-server"), Ordering::Less);
        // Digit runs too long for i64 compare as strings.
        assert_eq!(
            natural_cmp("99999999999999999999", "100000000000000000000"),
            Ordering::Greater
        );
    }
}
