//! Splits a test script into its commands: `load`, `clear` and `eval`.
//!
//! Lines are trimmed and a line starting with `#` counts as empty; an empty
//! line ends a `load` or `eval` block. A malformed block does not abort the
//! script: it becomes [`Command::Invalid`] at its first line, the parser skips
//! to the next empty line, and the rest of the file still runs (upstream stops
//! the whole file; reporting per block keeps the counts meaningful).

use super::expect::{parse_body_line, parse_eval_header, BodyLine, EvalCmd};
use super::lexer::parse_duration_ms;
use super::series::{parse_series_desc, SeriesDesc};

/// A `load <interval>` block.
#[derive(Clone, Debug)]
pub struct LoadCmd {
    /// 1-based line of the `load` line.
    pub line: usize,
    /// Distance between consecutive values, ms.
    pub interval_ms: i64,
    /// `load_with_nhcb`: classic histograms are also stored as native
    /// histograms with custom buckets.
    pub with_nhcb: bool,
    /// The described series; a label set given twice keeps its last line.
    pub series: Vec<SeriesDesc>,
    /// The block had start-timestamp (`@st`) lines, which are not loaded.
    pub has_start_timestamps: bool,
}

/// One script command.
#[derive(Clone, Debug)]
pub enum Command {
    /// Add series to the storage.
    Load(LoadCmd),
    /// Drop all stored data.
    Clear,
    /// Run a query and check its result.
    Eval(Box<EvalCmd>),
    /// A block that could not be parsed.
    Invalid {
        /// 1-based line where the block starts.
        line: usize,
        /// What was wrong, with the offending line number.
        message: String,
    },
}

/// Parses a whole script.
pub fn parse_script(text: &str) -> Vec<Command> {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| {
            let l = l.trim();
            if l.starts_with('#') {
                ""
            } else {
                l
            }
        })
        .collect();
    let mut cmds = Vec::new();
    let mut i = 0;
    while let Some(&line) = lines.get(i) {
        if line.is_empty() {
            i += 1;
            continue;
        }
        let start = i;
        // The block runs up to (not including) the next empty line.
        let end = lines
            .iter()
            .skip(start)
            .position(|l| l.is_empty())
            .map_or(lines.len(), |n| start + n);
        let block = lines.get(start..end).unwrap_or_default();
        let word = line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let (cmd, consumed) = if word == "clear" {
            (Ok(Command::Clear), 1)
        } else if word.starts_with("load") {
            (parse_load(block, start + 1).map(Command::Load), block.len())
        } else if word.starts_with("eval") {
            match parse_eval(block, start + 1) {
                Ok((cmd, used)) => (Ok(Command::Eval(Box::new(cmd))), used),
                Err(e) => (Err(e), block.len()),
            }
        } else {
            (Err(format!("invalid command {line:?}")), block.len())
        };
        cmds.push(cmd.unwrap_or_else(|message| Command::Invalid {
            line: start + 1,
            message,
        }));
        i = start + consumed.max(1);
    }
    cmds
}

fn parse_load(block: &[&str], line_no: usize) -> Result<LoadCmd, String> {
    let (header, body) = block.split_first().ok_or("empty load block")?;
    let mut words = header.split_whitespace();
    let with_nhcb = match words.next() {
        Some("load") => false,
        Some("load_with_nhcb") => true,
        other => return Err(format!("invalid load command {other:?}")),
    };
    let interval = words.next().ok_or("load needs an interval")?;
    let interval_ms = parse_duration_ms(interval)?;
    if words.next().is_some() {
        return Err(format!("unexpected text after load interval in {header:?}"));
    }
    let mut cmd = LoadCmd {
        line: line_no,
        interval_ms,
        with_nhcb,
        series: Vec::new(),
        has_start_timestamps: false,
    };
    for (k, text) in body.iter().enumerate() {
        let first = text.split_whitespace().next().unwrap_or("");
        if first.ends_with("@st") {
            cmd.has_start_timestamps = true;
            continue;
        }
        let desc = parse_series_desc(text).map_err(|e| format!("line {}: {e}", line_no + 1 + k))?;
        cmd.series.retain(|s| s.labels != desc.labels);
        cmd.series.push(desc);
    }
    Ok(cmd)
}

/// Parses an eval block; returns the command and how many lines it used (a
/// scalar result line ends the block early, as upstream).
fn parse_eval(block: &[&str], line_no: usize) -> Result<(EvalCmd, usize), String> {
    let (header, body) = block.split_first().ok_or("empty eval block")?;
    let mut cmd = parse_eval_header(header, line_no)?;
    for (k, text) in body.iter().enumerate() {
        let done = parse_body_line(&mut cmd, text)
            .map_err(|e| format!("line {}: {e}", line_no + 1 + k))?;
        if done == BodyLine::End {
            return Ok((cmd, k + 2));
        }
    }
    Ok((cmd, block.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_blocks() {
        let script = "\
load 5m
  a{x=\"1\"} 0+1x3
  # a comment ends the block
eval instant at 5m a
  a{x=\"1\"} 1

clear
bogus line

eval instant at 0 1
  1
";
        let cmds = parse_script(script);
        assert_eq!(cmds.len(), 5, "{cmds:?}");
        assert!(
            matches!(&cmds[0], Command::Load(l) if l.interval_ms == 300_000 && l.series.len() == 1)
        );
        assert!(matches!(&cmds[1], Command::Eval(e) if e.line == 4));
        assert!(matches!(&cmds[2], Command::Clear));
        assert!(matches!(&cmds[3], Command::Invalid { line: 8, .. }));
        assert!(matches!(&cmds[4], Command::Eval(e) if e.line == 10));
    }

    #[test]
    fn bad_series_line_invalidates_load() {
        let cmds = parse_script("load 1m\n  a 1\n  b{ 2\n");
        assert!(
            matches!(&cmds[..], [Command::Invalid { line: 1, message }] if message.contains("line 3"))
        );
    }
}
