//! Label matchers: `=`, `!=`, `=~`, `!~`, the selectors of a query.
//!
//! Regexes are fully anchored, as in Prometheus (`=~"a|b"` means `^(?:a|b)$`).
//! A matcher is built once per query and then tested against many values, so
//! the constructor does the work: literal alternations and prefixes are kept
//! aside so the index can answer them without running the regex.

use regex::Regex;

/// The four matcher operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    Regex,
    /// `!~`
    NotRegex,
}

/// Why a matcher could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MatcherError {
    /// The regex did not compile.
    #[error("invalid regular expression {pattern:?}: {source}")]
    BadRegex {
        /// The pattern as given.
        pattern: String,
        /// The compiler's complaint.
        #[source]
        source: Box<regex::Error>,
    },
}

/// One `name op "value"` condition on a series' labels.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// The label name tested.
    pub name: String,
    /// The operator.
    pub op: MatchOp,
    /// The value or (unanchored) pattern as written.
    pub value: String,
    regex: Option<Regex>,
    /// For regexes that are a plain list of literals (`a|b|c`), the literals, sorted.
    literals: Option<Vec<String>>,
}

impl Matcher {
    /// Builds a matcher; regexes are anchored at both ends.
    pub fn new(
        op: MatchOp,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, MatcherError> {
        let name = name.into();
        let value = value.into();
        let (regex, literals) = match op {
            MatchOp::Equal | MatchOp::NotEqual => (None, None),
            MatchOp::Regex | MatchOp::NotRegex => {
                let re =
                    Regex::new(&format!("^(?s:{value})$")).map_err(|e| MatcherError::BadRegex {
                        pattern: value.clone(),
                        source: Box::new(e),
                    })?;
                (Some(re), literal_alternation(&value))
            }
        };
        Ok(Matcher {
            name,
            op,
            value,
            regex,
            literals,
        })
    }

    /// Shorthand for an `=` matcher.
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Self {
        Matcher {
            name: name.into(),
            op: MatchOp::Equal,
            value: value.into(),
            regex: None,
            literals: None,
        }
    }

    /// Does `value` satisfy this matcher? An absent label is tested as `""`.
    pub fn matches(&self, value: &str) -> bool {
        match self.op {
            MatchOp::Equal => self.value == value,
            MatchOp::NotEqual => self.value != value,
            MatchOp::Regex => self.regex_matches(value),
            MatchOp::NotRegex => !self.regex_matches(value),
        }
    }

    fn regex_matches(&self, value: &str) -> bool {
        if let Some(lits) = &self.literals {
            return lits.binary_search_by(|l| l.as_str().cmp(value)).is_ok();
        }
        match &self.regex {
            // `.*` is the most common regex Grafana sends (an "All" variable); skip the engine.
            Some(_) if self.value == ".*" => true,
            Some(re) => re.is_match(value),
            None => false,
        }
    }

    /// True if the matcher accepts the empty string, i.e. also selects series
    /// that lack the label entirely (`foo=""`, `foo!="bar"`, `foo=~".*"`).
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }

    /// For `=~"a|b|c"` made only of literals, the sorted literals; the index
    /// looks them up directly instead of scanning every value of the label.
    pub fn literal_values(&self) -> Option<&[String]> {
        self.literals.as_deref()
    }

    /// For a regex of the form `prefix.*` with a literal prefix, that prefix.
    pub fn literal_prefix(&self) -> Option<&str> {
        let p = self.value.strip_suffix(".*")?;
        (matches!(self.op, MatchOp::Regex | MatchOp::NotRegex) && !p.is_empty() && is_literal(p))
            .then_some(p)
    }
}

fn is_literal(s: &str) -> bool {
    !s.chars().any(|c| "\\.+*?()|[]{}^$".contains(c))
}

fn literal_alternation(pattern: &str) -> Option<Vec<String>> {
    let mut lits: Vec<String> = pattern.split('|').map(str::to_owned).collect();
    if !lits.iter().all(|l| is_literal(l)) {
        return None;
    }
    lits.sort();
    lits.dedup();
    Some(lits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_is_anchored() {
        let m = Matcher::new(MatchOp::Regex, "a", "fo").unwrap();
        assert!(!m.matches("foo"));
        assert!(Matcher::new(MatchOp::Regex, "a", "fo.*")
            .unwrap()
            .matches("foo"));
    }

    #[test]
    fn literal_alternation_fast_path_agrees_with_regex() {
        let m = Matcher::new(MatchOp::Regex, "a", "x|y|").unwrap();
        assert_eq!(
            m.literal_values(),
            Some(&["".to_string(), "x".into(), "y".into()][..])
        );
        assert!(m.matches("x") && m.matches("") && !m.matches("xy"));
        assert!(m.matches_empty());
    }

    #[test]
    fn prefix_and_empty() {
        let m = Matcher::new(MatchOp::Regex, "a", "api.*").unwrap();
        assert_eq!(m.literal_prefix(), Some("api"));
        assert!(!m.matches_empty());
        assert!(Matcher::new(MatchOp::NotEqual, "a", "x")
            .unwrap()
            .matches_empty());
        assert!(Matcher::new(MatchOp::Regex, "a", "a\nb")
            .unwrap()
            .matches("a\nb"));
    }

    #[test]
    fn bad_regex_is_an_error() {
        assert!(Matcher::new(MatchOp::Regex, "a", "(").is_err());
    }
}
