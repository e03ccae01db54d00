//! Executes `load` commands: puts described series into a [`MemStorage`].
//!
//! Value `i` of a series gets timestamp `i * interval` ms (the script's time
//! origin is the Unix epoch); `_` positions store nothing; `stale` stores the
//! staleness marker bit-exact. The storage holds floats only for now, so
//! native-histogram samples, the `load_with_nhcb` conversion of classic
//! histograms and `@st` start timestamps are skipped and reported as notes,
//! never silently: evals that depend on them fail visibly.

use super::script::LoadCmd;
use super::series::SeqValue;
use crate::MemStorage;

/// What a load could not store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadNotes {
    /// Native-histogram samples skipped (no histogram support in the storage yet).
    pub histogram_samples: usize,
    /// The load asked for classic-to-NHCB conversion, which was skipped.
    pub nhcb_skipped: bool,
    /// `@st` start-timestamp lines were ignored.
    pub start_timestamps_ignored: bool,
}

impl LoadNotes {
    /// Whether anything was skipped.
    pub fn is_empty(&self) -> bool {
        *self == LoadNotes::default()
    }
}

impl std::fmt::Display for LoadNotes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if self.histogram_samples > 0 {
            parts.push(format!(
                "{} native histogram sample(s)",
                self.histogram_samples
            ));
        }
        if self.nhcb_skipped {
            parts.push("the NHCB conversion of load_with_nhcb".to_string());
        }
        if self.start_timestamps_ignored {
            parts.push("@st start timestamps".to_string());
        }
        write!(f, "not loaded: {}", parts.join(", "))
    }
}

/// Appends every sample of `cmd` to `storage`.
pub fn load(storage: &mut MemStorage, cmd: &LoadCmd) -> LoadNotes {
    let mut notes = LoadNotes {
        nhcb_skipped: cmd.with_nhcb,
        start_timestamps_ignored: cmd.has_start_timestamps,
        ..LoadNotes::default()
    };
    for series in &cmd.series {
        let mut t: i64 = 0;
        for v in &series.values {
            match v {
                SeqValue::Float(f) => storage.add(series.labels.clone(), t, *f),
                SeqValue::Histogram(_) => notes.histogram_samples += 1,
                SeqValue::Omitted => {}
            }
            t = t.saturating_add(cmd.interval_ms);
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::super::script::{parse_script, Command};
    use super::*;
    use crate::{is_stale_nan, FPoint, MatchOp, Matcher, Storage};

    fn points(s: &MemStorage, name: &str) -> Vec<FPoint> {
        let m = Matcher::new(MatchOp::Equal, "__name__", name).unwrap_or_else(|e| panic!("{e}"));
        let sel = s
            .select(&[m], i64::MIN, i64::MAX)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut out = Vec::new();
        for series in sel {
            series
                .read_floats(&mut out)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        out
    }

    #[test]
    fn timestamps_gaps_and_stale() {
        let cmds = parse_script("load 1m\n  a 1 _ stale 4\n  h {{count:1}} 2\n");
        let Some(Command::Load(cmd)) = cmds.first() else {
            panic!("{cmds:?}")
        };
        let mut s = MemStorage::new();
        let notes = load(&mut s, cmd);
        assert_eq!(notes.histogram_samples, 1);
        assert_eq!(
            notes.to_string(),
            "not loaded: 1 native histogram sample(s)"
        );
        let a = points(&s, "a");
        assert_eq!(
            a.iter().map(|p| p.t).collect::<Vec<_>>(),
            vec![0, 120_000, 180_000]
        );
        assert!(is_stale_nan(a[1].f));
        assert_eq!(points(&s, "h"), vec![FPoint { t: 60_000, f: 2.0 }]);
    }
}
