//! What an `eval` command expects: its header (instant at `t`, or range from
//! `a` to `b` step `s`), its `expect` lines and its expected result lines.
//!
//! The meaning follows Prometheus's `promql/promqltest` runner (3.x): no result
//! lines means an empty result; a bare number is a scalar and ends the block;
//! `expect fail` may come once; `warn`/`no_warn` (and `info`/`no_info`) exclude
//! each other; annotation lines with no `msg:`/`regex:` match any text. Old
//! forms (`eval_fail`, `eval_warn`, `eval_info`, `eval_ordered`,
//! `expected_fail_message`, `expected_fail_regexp`) are accepted too.

use regex::Regex;

use super::lexer::{parse_duration_ms, parse_scalar_line, unquote};
use super::series::{parse_series_desc, SeqValue};
use crate::Labels;

/// When and how an eval runs.
#[derive(Clone, Debug, PartialEq)]
pub enum EvalTime {
    /// An instant query at `at_ms`.
    Instant {
        /// Evaluation time, ms since the epoch.
        at_ms: i64,
    },
    /// A range query; `start_ms..=end_ms` every `step_ms`.
    Range {
        /// First step, ms.
        start_ms: i64,
        /// Last step bound (inclusive), ms.
        end_ms: i64,
        /// Step width, ms.
        step_ms: i64,
    },
}

/// How an expected error or annotation text is matched.
#[derive(Clone, Debug)]
pub enum TextMatch {
    /// Any text (a bare `expect fail` / `expect warn`).
    Any,
    /// Exactly this text (`msg:`).
    Exact(String),
    /// Text containing a match of this regex (`regex:`; unanchored like Go's `MatchString`).
    Regex(Regex),
}

impl TextMatch {
    /// Whether `text` satisfies this matcher.
    pub fn matches(&self, text: &str) -> bool {
        match self {
            TextMatch::Any => true,
            TextMatch::Exact(m) => m == text,
            TextMatch::Regex(re) => re.is_match(text),
        }
    }

    fn describe(&self) -> String {
        match self {
            TextMatch::Any => "anything".to_string(),
            TextMatch::Exact(m) => format!("message {m:?}"),
            TextMatch::Regex(re) => format!("pattern {:?}", re.as_str()),
        }
    }
}

impl std::fmt::Display for TextMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Expectations about one kind of annotation (warnings or infos).
#[derive(Clone, Debug, Default)]
pub struct AnnotationExpect {
    /// At least one annotation of this kind is required (`eval_warn`/`eval_info`).
    pub required: bool,
    /// `expect warn ...` lines: each must match one annotation, and every
    /// annotation must match one of them.
    pub lines: Vec<TextMatch>,
    /// `expect no_warn`: no annotation of this kind may occur.
    pub forbidden: bool,
}

/// One expected series: labels, values by step, and its position among the
/// result lines (1-based, for `expect ordered`).
#[derive(Clone, Debug)]
pub struct ExpectedSeries {
    /// The exact label set.
    pub labels: Labels,
    /// The expected values, one per step (`Omitted` = no point).
    pub values: Vec<SeqValue>,
    /// 1-based position among the result lines.
    pub pos: usize,
}

/// The expected result value.
#[derive(Clone, Debug)]
pub enum ExpectedResult {
    /// A scalar.
    Scalar(f64),
    /// A set of series (empty = an empty result).
    Series(Vec<ExpectedSeries>),
}

/// A parsed `eval` command.
#[derive(Clone, Debug)]
pub struct EvalCmd {
    /// 1-based line of the `eval` line in the script.
    pub line: usize,
    /// The PromQL expression.
    pub expr: String,
    /// Instant or range, with times.
    pub time: EvalTime,
    /// For an instant eval returning a range vector: the steps its result lines list.
    pub range_vector: Option<(i64, i64, i64)>,
    /// For an instant eval returning a string: the expected string.
    pub expected_string: Option<String>,
    /// The query must fail.
    pub fail: bool,
    /// Conditions on the error text (all must hold; none = any error).
    pub fail_matches: Vec<TextMatch>,
    /// An `expect fail` line was seen (only one is allowed).
    pub(crate) expect_fail_seen: bool,
    /// Expectations on warnings.
    pub warn: AnnotationExpect,
    /// Expectations on infos.
    pub info: AnnotationExpect,
    /// Series must come in the listed order.
    pub ordered: bool,
    /// The expected result.
    pub expected: ExpectedResult,
}

impl EvalCmd {
    /// Whether the runner should also check this instant eval in range mode.
    pub fn range_mode_applies(&self) -> bool {
        self.range_vector.is_none() && self.expected_string.is_none()
    }

    /// The instant evaluation time (for `expect range vector`, its end).
    pub fn instant_time(&self) -> Option<i64> {
        match (&self.time, self.range_vector) {
            (EvalTime::Instant { .. }, Some((_, end, _))) => Some(end),
            (EvalTime::Instant { at_ms }, None) => Some(*at_ms),
            (EvalTime::Range { .. }, _) => None,
        }
    }

    /// The steps the expected values are listed for: `(start, end, step)`.
    /// Plain instant evals have a single step at their time.
    pub fn steps(&self) -> (i64, i64, i64) {
        match (&self.time, self.range_vector) {
            (
                EvalTime::Range {
                    start_ms,
                    end_ms,
                    step_ms,
                },
                _,
            ) => (*start_ms, *end_ms, *step_ms),
            (EvalTime::Instant { .. }, Some(r)) => r,
            (EvalTime::Instant { at_ms }, None) => (*at_ms, *at_ms, 0),
        }
    }
}

/// Parses an `eval` header line (already trimmed) into a command without
/// expectations. `line_no` is 1-based.
pub(crate) fn parse_eval_header(text: &str, line_no: usize) -> Result<EvalCmd, String> {
    let (head, rest) = split_word(text);
    let modifier = match head {
        "eval" => None,
        "eval_fail" => Some("fail"),
        "eval_warn" => Some("warn"),
        "eval_info" => Some("info"),
        "eval_ordered" => Some("ordered"),
        other => return Err(format!("invalid eval command {other:?}")),
    };
    let (mode, rest) = split_word(rest);
    let (time, expr) = match mode {
        "instant" => {
            let (kw, after) = split_word(rest);
            if kw != "at" {
                return Err("instant evals need 'at <time>'".into());
            }
            let (at, expr) = split_word(after);
            let at_ms = parse_duration_ms(at).map_err(|e| format!("invalid eval time: {e}"))?;
            (EvalTime::Instant { at_ms }, expr)
        }
        "range" => {
            let mut words = [""; 6];
            let mut rest = rest;
            for w in &mut words {
                let (word, r) = split_word(rest);
                *w = word;
                rest = r;
            }
            let [from_kw, from, to_kw, to, step_kw, step] = words;
            if from_kw != "from" || to_kw != "to" || step_kw != "step" {
                return Err("range evals need 'from <t> to <t> step <d>'".into());
            }
            if modifier == Some("ordered") {
                return Err("eval_ordered is only for instant evals".into());
            }
            let start_ms = parse_duration_ms(from)?;
            let end_ms = parse_duration_ms(to)?;
            let step_ms = parse_duration_ms(step)?;
            if end_ms < start_ms {
                return Err(format!("end {to} is before start {from}"));
            }
            if step_ms <= 0 {
                return Err(format!("step {step} must be positive"));
            }
            (
                EvalTime::Range {
                    start_ms,
                    end_ms,
                    step_ms,
                },
                rest,
            )
        }
        other => return Err(format!("expected 'instant' or 'range', got {other:?}")),
    };
    if expr.is_empty() {
        return Err("missing expression".into());
    }
    let cmd = EvalCmd {
        line: line_no,
        expr: expr.to_string(),
        time,
        range_vector: None,
        expected_string: None,
        fail: modifier == Some("fail"),
        fail_matches: Vec::new(),
        expect_fail_seen: false,
        warn: AnnotationExpect {
            required: modifier == Some("warn"),
            ..Default::default()
        },
        info: AnnotationExpect {
            required: modifier == Some("info"),
            ..Default::default()
        },
        ordered: modifier == Some("ordered"),
        expected: ExpectedResult::Series(Vec::new()),
    };
    Ok(cmd)
}

/// What one body line of an eval block did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BodyLine {
    /// The block continues.
    Continue,
    /// This line ends the block (a scalar, or an old-style fail message).
    End,
}

/// Applies one non-empty body line of an eval block to `cmd`.
pub(crate) fn parse_body_line(cmd: &mut EvalCmd, text: &str) -> Result<BodyLine, String> {
    if cmd.fail {
        if let Some(msg) = text.strip_prefix("expected_fail_message") {
            cmd.fail_matches
                .push(TextMatch::Exact(msg.trim().to_string()));
            return Ok(BodyLine::End);
        }
        if let Some(re) = text.strip_prefix("expected_fail_regexp") {
            cmd.fail_matches.push(TextMatch::Regex(compile(re.trim())?));
            return Ok(BodyLine::End);
        }
    }
    if let Some(range) = text.strip_prefix("expect range vector") {
        return parse_range_vector(cmd, range).map(|()| BodyLine::Continue);
    }
    if let Some(s) = text.strip_prefix("expect string") {
        let s = s.trim();
        if s.is_empty() {
            return Err("expect string needs a quoted string".into());
        }
        cmd.expected_string = Some(unquote(s)?);
        return Ok(BodyLine::Continue);
    }
    if text.split(' ').next() == Some("expect") {
        return parse_expect(cmd, text).map(|()| BodyLine::Continue);
    }
    if let Some(v) = parse_scalar_line(text) {
        cmd.expected = ExpectedResult::Scalar(v);
        return Ok(BodyLine::End);
    }
    let desc = parse_series_desc(text)?;
    let is_instant = matches!(cmd.time, EvalTime::Instant { .. });
    if desc.values.len() > 1 && is_instant && cmd.range_vector.is_none() {
        return Err(
            "an instant eval expects one value per series (use 'expect range vector')".into(),
        );
    }
    let series = match &mut cmd.expected {
        ExpectedResult::Series(s) => s,
        ExpectedResult::Scalar(_) => return Err("series line after a scalar".into()),
    };
    let pos = series.len() + 1;
    // A repeated label set replaces the earlier line, as upstream's map does.
    series.retain(|s| s.labels != desc.labels);
    series.push(ExpectedSeries {
        labels: desc.labels,
        values: desc.values,
        pos,
    });
    Ok(BodyLine::Continue)
}

fn parse_range_vector(cmd: &mut EvalCmd, rest: &str) -> Result<(), String> {
    let words: Vec<&str> = rest.split_whitespace().collect();
    let [from_kw, from, to_kw, to, step_kw, step] = words.as_slice() else {
        return Err(format!("invalid range vector definition {rest:?}"));
    };
    if *from_kw != "from" || *to_kw != "to" || *step_kw != "step" {
        return Err(format!("invalid range vector definition {rest:?}"));
    }
    let (start, end, step) = (
        parse_duration_ms(from)?,
        parse_duration_ms(to)?,
        parse_duration_ms(step)?,
    );
    if end < start {
        return Err("range vector end is before its start".into());
    }
    cmd.range_vector = Some((start, end, step));
    Ok(())
}

fn parse_expect(cmd: &mut EvalCmd, text: &str) -> Result<(), String> {
    let rest = text.strip_prefix("expect").unwrap_or(text).trim_start();
    let (kind, tail) = split_word(rest);
    let matcher = if tail.is_empty() {
        TextMatch::Any
    } else if let Some(m) = tail.strip_prefix("msg:") {
        TextMatch::Exact(m.trim().to_string())
    } else if let Some(r) = tail.strip_prefix("regex:") {
        TextMatch::Regex(compile(r.trim())?)
    } else {
        return Err(format!("invalid expect line {text:?}"));
    };
    let plain = matches!(matcher, TextMatch::Any);
    match kind {
        "ordered" if plain => cmd.ordered = true,
        "fail" => {
            if cmd.expect_fail_seen {
                return Err("only one 'expect fail' is allowed".into());
            }
            cmd.expect_fail_seen = true;
            cmd.fail = true;
            cmd.fail_matches.push(matcher);
        }
        "warn" => cmd.warn.lines.push(matcher),
        "info" => cmd.info.lines.push(matcher),
        "no_warn" if plain => cmd.warn.forbidden = true,
        "no_info" if plain => cmd.info.forbidden = true,
        other => return Err(format!("invalid expect type {other:?}")),
    }
    if cmd.warn.forbidden && !cmd.warn.lines.is_empty() {
        return Err("'expect warn' and 'expect no_warn' cannot be combined".into());
    }
    if cmd.info.forbidden && !cmd.info.lines.is_empty() {
        return Err("'expect info' and 'expect no_info' cannot be combined".into());
    }
    Ok(())
}

fn compile(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| format!("invalid regex {pattern:?}: {e}"))
}

/// Splits off the first whitespace-separated word; the rest is left-trimmed.
fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim_start()),
        None => (s, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(lines: &[&str]) -> Result<EvalCmd, String> {
        let (first, body) = lines.split_first().ok_or("no lines")?;
        let mut cmd = parse_eval_header(first, 1)?;
        for l in body {
            if parse_body_line(&mut cmd, l)? == BodyLine::End {
                break;
            }
        }
        Ok(cmd)
    }

    #[test]
    fn instant_header_and_series() {
        let cmd = eval(&[
            "eval instant at 50m sum by (g) (x{a=\"b c\"})",
            "{g=\"a\"} 7",
            "{g=\"b\"} 3",
        ]);
        let cmd = cmd.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cmd.time, EvalTime::Instant { at_ms: 3_000_000 });
        assert_eq!(cmd.expr, "sum by (g) (x{a=\"b c\"})");
        assert!(
            matches!(&cmd.expected, ExpectedResult::Series(s) if s.len() == 2 && s[1].pos == 2)
        );
    }

    #[test]
    fn range_header_and_scalar() {
        let cmd = eval(&["eval range from 0 to 10m step 1m time()", "{} 0+60x10"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            cmd.time,
            EvalTime::Range {
                start_ms: 0,
                end_ms: 600_000,
                step_ms: 60_000
            }
        );
        let cmd = eval(&["eval instant at 1m 1+1", "2"]).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(cmd.expected, ExpectedResult::Scalar(v) if v == 2.0));
    }

    #[test]
    fn expect_lines() {
        let cmd = eval(&[
            "eval instant at 0 x",
            "expect warn msg: PromQL warning: boom (1:1)",
            "expect warn regex: ^Prom",
            "expect no_info",
            "expect ordered",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cmd.warn.lines.len(), 2);
        assert!(cmd.warn.lines[0].matches("PromQL warning: boom (1:1)"));
        assert!(cmd.info.forbidden && cmd.ordered);
        assert!(eval(&["eval instant at 0 x", "expect warn", "expect no_warn"]).is_err());
        assert!(eval(&["eval instant at 0 x", "expect fail", "expect fail msg: a"]).is_err());
        assert!(eval(&["eval instant at 0 x", "expect sometimes"]).is_err());
    }

    #[test]
    fn old_fail_forms() {
        let cmd = eval(&["eval_fail instant at 0 x", "expected_fail_message boom"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(cmd.fail);
        assert!(cmd.fail_matches.iter().all(|m| m.matches("boom")));
        assert!(!cmd.fail_matches.iter().all(|m| m.matches("bang")));
    }

    #[test]
    fn instant_rejects_multiple_values_without_range_vector() {
        assert!(eval(&["eval instant at 0 x", "x 1 2"]).is_err());
        let cmd = eval(&[
            "eval instant at 1m x[1m]",
            "expect range vector from 0 to 1m step 30s",
            "x 1 2 3",
        ]);
        assert!(cmd.is_ok_and(|c| c.instant_time() == Some(60_000)));
    }
}
