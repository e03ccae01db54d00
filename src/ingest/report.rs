//! What one remote-write request did: samples stored, what was refused and why.
//!
//! Refusals are grouped by a short reason name (the `reason` label of the
//! rejection metrics); each group keeps its counts and the first offending series
//! with its error, which is what the one-line 400 body and the log show.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Refusals that share one reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejections {
    /// Series refused whole (validation) or with at least one refused sample.
    pub series: usize,
    /// Float samples refused.
    pub samples: usize,
    /// The first refused series and its error, e.g. `{__name__="up"}: out of order sample: ...`.
    pub example: String,
}

/// The outcome of one request that reached storage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// Series in the request (valid or not).
    pub series_total: usize,
    /// Float samples committed to the WAL and the head.
    pub samples_written: usize,
    /// Native histogram samples received and dropped (not stored yet).
    pub histograms_dropped: usize,
    /// Exemplars received and dropped (not stored yet).
    pub exemplars_dropped: usize,
    /// Refusals by reason.
    pub rejected: BTreeMap<&'static str, Rejections>,
}

impl IngestReport {
    /// Records a refusal of `samples` samples of one series.
    pub(crate) fn reject(
        &mut self,
        reason: &'static str,
        samples: usize,
        example: impl FnOnce() -> String,
    ) {
        let entry = self.rejected.entry(reason).or_insert_with(|| Rejections {
            series: 0,
            samples: 0,
            example: example(),
        });
        entry.series += 1;
        entry.samples += samples;
    }

    /// Series refused (whole or in part), over all reasons.
    pub fn rejected_series(&self) -> usize {
        self.rejected.values().map(|r| r.series).sum()
    }

    /// Samples refused, over all reasons.
    pub fn rejected_samples(&self) -> usize {
        self.rejected.values().map(|r| r.samples).sum()
    }

    /// The one-line reason for a 400, or `None` when nothing was refused:
    /// `2 of 5 series rejected (3 samples); stored 7 samples; missing_metric_name: 1
    /// series, 2 samples (first: {a="1"}: series has no __name__ label); ...`
    pub fn rejection_summary(&self) -> Option<String> {
        if self.rejected.is_empty() {
            return None;
        }
        let mut out = format!(
            "{} of {} series rejected ({} samples); stored {} samples",
            self.rejected_series(),
            self.series_total,
            self.rejected_samples(),
            self.samples_written
        );
        for (reason, r) in &self.rejected {
            let _ = write!(
                out,
                "; {reason}: {} series, {} samples (first: {})",
                r.series, r.samples, r.example
            );
        }
        // One line, whatever the labels held.
        Some(out.replace(['\n', '\r'], " "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_names_counts_and_reasons() {
        let mut r = IngestReport {
            series_total: 5,
            samples_written: 7,
            ..Default::default()
        };
        assert_eq!(r.rejection_summary(), None);
        r.reject("out_of_order", 2, || {
            "{__name__=\"a\"}: out of order".into()
        });
        r.reject("out_of_order", 1, || {
            unreachable!("only the first example is built")
        });
        r.reject("missing_metric_name", 1, || {
            "{a=\"1\"}: no name\nsecond line".into()
        });
        assert_eq!(
            r.rejection_summary().unwrap(),
            "3 of 5 series rejected (4 samples); stored 7 samples; \
             missing_metric_name: 1 series, 1 samples (first: {a=\"1\"}: no name second line); \
             out_of_order: 2 series, 3 samples (first: {__name__=\"a\"}: out of order)"
        );
    }
}
