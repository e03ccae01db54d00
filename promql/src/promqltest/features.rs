//! Tags each eval with the optional features it depends on, so results can be
//! split into "core" (plain float PromQL) and the rest, the way the testdata
//! README counts them (880 core evals in the 3.x files).
//!
//! The tags are a heuristic on the script text and the data loaded since the
//! last `clear`, mirroring the README's definitions: NH (native histograms in
//! the expectation, or the query names a metric loaded with `{{...}}` values or
//! as the base name of a `load_with_nhcb` histogram, or uses a name-less
//! selector while such data exists), EXP (experimental functions and
//! aggregators), DX (duration expressions), ERS (`anchored`/`smoothed`), FILL
//! (`fill*` modifiers), ST (start timestamps loaded), TU (`__type__`/`__unit__`
//! labels loaded). They only label results; they never change what runs.

use std::collections::BTreeSet;

use super::expect::{EvalCmd, ExpectedResult};
use super::script::LoadCmd;
use super::series::SeqValue;

/// Functions and aggregators behind `promql-experimental-functions` (3.14).
const EXPERIMENTAL: &[&str] = &[
    "histogram_quantiles",
    "double_exponential_smoothing",
    "info",
    "mad_over_time",
    "ts_of_first_over_time",
    "ts_of_last_over_time",
    "ts_of_min_over_time",
    "ts_of_max_over_time",
    "sort_by_label",
    "sort_by_label_desc",
    "start_timestamp",
    "min_of",
    "max_of",
    "limitk",
    "limit_ratio",
];

/// The optional features one eval depends on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Features {
    /// Native histograms.
    pub native_histograms: bool,
    /// Experimental functions or aggregators.
    pub experimental: bool,
    /// Duration expressions.
    pub duration_expr: bool,
    /// `anchored` / `smoothed` range selectors.
    pub extended_range: bool,
    /// `fill*` binary-operator modifiers.
    pub fill: bool,
    /// Start timestamps.
    pub start_timestamps: bool,
    /// `__type__` / `__unit__` labels.
    pub type_and_unit: bool,
}

impl Features {
    /// Plain float PromQL: none of the optional features.
    pub fn is_core(&self) -> bool {
        *self == Features::default()
    }

    /// Short names of the features present (`NH`, `EXP`, `DX`, `ERS`, `FILL`,
    /// `ST`, `TU`, the README's column names); empty for a core eval.
    pub fn tags(&self) -> Vec<&'static str> {
        [
            (self.native_histograms, "NH"),
            (self.experimental, "EXP"),
            (self.duration_expr, "DX"),
            (self.extended_range, "ERS"),
            (self.fill, "FILL"),
            (self.start_timestamps, "ST"),
            (self.type_and_unit, "TU"),
        ]
        .into_iter()
        .filter_map(|(on, tag)| on.then_some(tag))
        .collect()
    }
}

/// What the data loaded since the last `clear` contains.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    histogram_names: BTreeSet<String>,
    start_timestamps: bool,
    type_and_unit: bool,
}

impl Scope {
    /// Records a load.
    pub fn add_load(&mut self, cmd: &LoadCmd) {
        self.start_timestamps |= cmd.has_start_timestamps;
        for s in &cmd.series {
            let name = s.labels.metric_name().unwrap_or("");
            self.type_and_unit |= s.labels.has("__type__") || s.labels.has("__unit__");
            if s.values.iter().any(|v| matches!(v, SeqValue::Histogram(_))) {
                self.histogram_names.insert(name.to_string());
            }
            if cmd.with_nhcb {
                for suffix in ["_bucket", "_count", "_sum"] {
                    if let Some(base) = name.strip_suffix(suffix) {
                        self.histogram_names.insert(base.to_string());
                    }
                }
            }
        }
    }
}

/// Classifies `cmd` given what is loaded.
pub fn classify(cmd: &EvalCmd, scope: &Scope) -> Features {
    let code = strip_strings(&cmd.expr);
    let words = identifiers(&code);
    let expects_histogram = match &cmd.expected {
        ExpectedResult::Series(s) => s
            .iter()
            .any(|e| e.values.iter().any(|v| matches!(v, SeqValue::Histogram(_)))),
        ExpectedResult::Scalar(_) => false,
    };
    let names_histogram = words
        .iter()
        .any(|(w, _)| scope.histogram_names.contains(*w))
        || (!scope.histogram_names.is_empty() && has_nameless_selector(&code));
    let called = |(w, next): &(&str, Option<char>)| *next == Some('(') && EXPERIMENTAL.contains(w);
    let context_fn = |(w, next): &(&str, Option<char>)| *next == Some('(') && is_context_fn(w);
    Features {
        native_histograms: expects_histogram || names_histogram,
        experimental: words.iter().any(called)
            || words.iter().any(context_fn) && !only_at_modifiers(&code),
        duration_expr: has_duration_expr(&code),
        extended_range: words
            .iter()
            .any(|(w, _)| matches!(*w, "anchored" | "smoothed")),
        fill: words.iter().any(|(w, next)| {
            *next == Some('(') && matches!(*w, "fill" | "fill_left" | "fill_right")
        }),
        start_timestamps: scope.start_timestamps,
        type_and_unit: scope.type_and_unit,
    }
}

/// The query with string literals blanked (regexes may contain `[`, `{`, ...).
fn strip_strings(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in expr.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' && q != '`' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                    out.push('"');
                }
            }
            None if matches!(c, '"' | '\'' | '`') => {
                quote = Some(c);
                out.push('"');
            }
            None => out.push(c),
        }
    }
    out
}

/// Identifier-like words with the next non-space character after each.
fn identifiers(code: &str) -> Vec<(&str, Option<char>)> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in code
        .char_indices()
        .chain(std::iter::once((code.len(), ' ')))
    {
        match (start, is_ident(c)) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                let next = code.get(i..).and_then(|r| r.trim_start().chars().next());
                if let Some(w) = code.get(s..i) {
                    if !w.starts_with(|c: char| c.is_ascii_digit()) {
                        out.push((w, next));
                    }
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// A `{` not directly after a metric name: `{job="x"}` selects any metric.
fn has_nameless_selector(code: &str) -> bool {
    code.char_indices().any(|(i, c)| {
        c == '{'
            && !code
                .get(..i)
                .and_then(|p| p.trim_end().chars().next_back())
                .is_some_and(|p| p.is_ascii_alphanumeric() || p == '_' || p == ':')
    })
}

/// `start`, `end`, `range` or `step` in any case (the parser ignores case).
fn is_context_fn(w: &str) -> bool {
    ["start", "end", "range", "step"]
        .iter()
        .any(|f| w.eq_ignore_ascii_case(f))
}

/// Whether every `start()`/`end()` in the query is an `@` modifier.
fn only_at_modifiers(code: &str) -> bool {
    let words = identifiers(code);
    words
        .iter()
        .filter(|(w, n)| *n == Some('(') && is_context_fn(w))
        .count()
        == code.matches("@ start()").count()
            + code.matches("@start()").count()
            + code.matches("@ end()").count()
            + code.matches("@end()").count()
}

/// Arithmetic or `step()`/`range()`/`min_of`/`max_of` inside `[...]` or after `offset`.
fn has_duration_expr(code: &str) -> bool {
    let dynamic = |s: &str| {
        s.contains(['+', '*', '/', '%', '^', '(', ','])
            || s.trim_start().get(1..).is_some_and(|r| r.contains('-'))
    };
    let mut rest = code;
    while let Some(open) = rest.find('[') {
        let after = rest.get(open + 1..).unwrap_or("");
        let close = after.find(']').unwrap_or(after.len());
        if after.get(..close).is_some_and(dynamic) {
            return true;
        }
        rest = after.get(close..).unwrap_or("");
    }
    code.match_indices("offset").any(|(i, _)| {
        let after = code.get(i + "offset".len()..).unwrap_or("").trim_start();
        let after = after.strip_prefix(['-', '+']).unwrap_or(after).trim_start();
        let lower = after.to_ascii_lowercase();
        if after.starts_with('(')
            || ["step()", "range()", "min_of", "max_of"]
                .iter()
                .any(|f| lower.starts_with(f))
        {
            return true;
        }
        // `offset 100 + 2`: arithmetic right after the duration (counted as a
        // duration expression, as the README's scan does).
        let tail = after.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '.');
        tail.trim_start()
            .starts_with(['+', '-', '*', '/', '%', '^'])
    })
}

#[cfg(test)]
mod tests {
    use super::super::script::{parse_script, Command};
    use super::*;

    fn tags(script: &str) -> Vec<Features> {
        let mut scope = Scope::default();
        let mut out = Vec::new();
        for c in parse_script(script) {
            match c {
                Command::Load(l) => scope.add_load(&l),
                Command::Clear => scope = Scope::default(),
                Command::Eval(e) => out.push(classify(&e, &scope)),
                Command::Invalid { message, .. } => panic!("{message}"),
            }
        }
        out
    }

    #[test]
    fn histogram_scope_follows_loads_and_clear() {
        let t = tags(
            "load 1m\n  h {{count:1}}\n  f 1\n\neval instant at 0 f\n\neval instant at 0 sum(h)\n\n\
             eval instant at 0 {job=\"x\"}\n\nclear\n\neval instant at 0 sum(h)\n",
        );
        let nh: Vec<bool> = t.iter().map(|f| f.native_histograms).collect();
        assert_eq!(nh, vec![false, true, true, false]);
    }

    #[test]
    fn nhcb_base_names_only() {
        let t = tags("load_with_nhcb 1m\n  x_bucket{le=\"1\"} 1\n\neval instant at 0 x_bucket\n\neval instant at 0 x\n");
        assert_eq!(
            t.iter().map(|f| f.native_histograms).collect::<Vec<_>>(),
            vec![false, true]
        );
    }

    #[test]
    fn syntax_features() {
        let t = tags(
            "eval instant at 0 sort_by_label(x, \"a\")\n\neval instant at 0 x @ start()\n\n\
             eval instant at 0 rate(x[5m+1m])\n\neval instant at 0 x offset -5m\n\n\
             eval instant at 0 x{a=~\"[a-z]+\"}\n\neval instant at 0 rate(x[1m] anchored)\n\n\
             eval instant at 0 a + fill(0) b\n\neval instant at 0 x[step()]\n",
        );
        assert!(t[0].experimental && !t[0].is_core());
        assert_eq!(t[0].tags(), vec!["EXP"]);
        assert!(t[1].tags().is_empty());
        assert!(t[1].is_core(), "{:?}", t[1]);
        assert!(t[2].duration_expr);
        assert!(t[3].is_core(), "{:?}", t[3]);
        assert!(t[4].is_core(), "{:?}", t[4]);
        assert!(t[5].extended_range);
        assert!(t[6].fill);
        assert!(t[7].duration_expr && t[7].experimental);
    }
}
