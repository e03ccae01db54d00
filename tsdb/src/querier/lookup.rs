//! Labels-only lookups of the querier: series label sets, label names and
//! label values, for the metadata API (`/api/v1/series`, `/api/v1/labels`,
//! `/api/v1/label/<name>/values`) that Grafana calls on every dashboard load.
//!
//! They never copy a chunk: on the head they go postings → series labels
//! (each series' lock is taken only to read its time bounds). Each takes an
//! optional limit and answers the smallest `limit` items in sorted order plus
//! whether more matched, so a match-all lookup at 1M series sorts and clones
//! only what it returns. Blocks answer through their index (series lookups still read
//! a block series' chunk metas to check its time range).
//!
//! Label values or names under matchers that select few series are read from
//! those series' labels rather than by testing every value's postings against
//! the selection (Prometheus `labelValuesWithMatchers` makes the same choice).

use roaring::RoaringBitmap;

use super::{sorted_unique, Querier};
use crate::error::Error;
use crate::index::IndexReader;
use crate::labels::{Labels, Symbol};
use crate::matcher::Matcher;

/// The answer of a lookup with an optional limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limited<T> {
    /// Sorted and unique; at most the limit.
    pub items: Vec<T>,
    /// True if more items matched than the limit let through.
    pub truncated: bool,
}

impl<T> Limited<T> {
    /// Cuts sorted, unique `items` to `limit`.
    fn cut(mut items: Vec<T>, limit: Option<usize>) -> Self {
        let truncated = limit.is_some_and(|l| items.len() > l);
        if let Some(l) = limit {
            items.truncate(l);
        }
        Limited { items, truncated }
    }
}

/// Values (or names) are read from the selected series' labels when the
/// matchers select at most 1/`SERIES_READ_FACTOR` as many series as there are
/// values (or label pairs) to test. Reading a head series costs one map
/// lookup, testing a value one bitmap probe, so the factor only keeps the
/// series path for clearly few series; Prometheus uses 100 because its series
/// reads decode index entries.
const SERIES_READ_FACTOR: u64 = 8;

impl Querier {
    /// The label sets of the series matching all of `matchers` that have
    /// samples in the range, sorted; with `limit`, the first `limit` of them.
    /// No samples or chunks are read.
    pub fn series_labels(
        &self,
        matchers: &[Matcher],
        limit: Option<usize>,
    ) -> Result<Limited<Labels>, Error> {
        // Head before blocks (see `Querier`). Each part may be cut to `limit`:
        // the first `limit` of a union are among the first `limit` of its parts.
        let head = if self.head_overlaps() {
            let refs = self.head.postings_for(matchers)?;
            self.head
                .labels_in_range(&refs, self.mint, self.maxt, limit)
        } else {
            Limited::cut(Vec::new(), None)
        };
        let blocks = self.blocks();
        if blocks.is_empty() {
            return Ok(head);
        }
        let mut found = head.items;
        for b in &blocks {
            let selected = b
                .select(matchers, self.mint, self.maxt)
                .map_err(|e| Error::Block {
                    path: b.dir(),
                    source: Box::new(e),
                })?;
            found.extend(selected.into_iter().map(|s| s.labels));
        }
        found.sort_unstable();
        found.dedup();
        let mut cut = Limited::cut(found, limit);
        cut.truncated |= head.truncated;
        Ok(cut)
    }

    /// Label names carried by the series matching `matchers` (all names if
    /// empty), sorted: from the head (if it has samples in the range) and the
    /// blocks overlapping the range.
    pub fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<Symbol>, Error> {
        Ok(self.label_names_limited(matchers, None)?.items)
    }

    /// [`label_names`](Self::label_names) cut to `limit`.
    pub fn label_names_limited(
        &self,
        matchers: &[Matcher],
        limit: Option<usize>,
    ) -> Result<Limited<Symbol>, Error> {
        let mut names = Vec::new();
        if self.head_overlaps() {
            names = self.head_label_names(matchers)?;
        }
        for b in &self.blocks() {
            names.extend(b.label_names(matchers).map_err(|e| Error::Block {
                path: b.dir(),
                source: Box::new(e),
            })?);
        }
        Ok(Limited::cut(sorted_unique(names), limit))
    }

    /// Values of label `name` among the series matching `matchers` (all values
    /// if empty), sorted.
    pub fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<Symbol>, Error> {
        Ok(self.label_values_limited(name, matchers, None)?.items)
    }

    /// [`label_values`](Self::label_values) cut to `limit`.
    pub fn label_values_limited(
        &self,
        name: &str,
        matchers: &[Matcher],
        limit: Option<usize>,
    ) -> Result<Limited<Symbol>, Error> {
        let mut values = Vec::new();
        if self.head_overlaps() {
            values = self.head_label_values(name, matchers, limit)?;
        }
        for b in &self.blocks() {
            let more = b.label_values(name, matchers).map_err(|e| Error::Block {
                path: b.dir(),
                source: Box::new(e),
            })?;
            values.extend(more);
        }
        Ok(Limited::cut(sorted_unique(values), limit))
    }

    /// The head's label names under `matchers`, unsorted.
    fn head_label_names(&self, matchers: &[Matcher]) -> Result<Vec<Symbol>, Error> {
        let postings = self.head.postings();
        if matchers.is_empty() {
            return Ok(postings.label_names()?);
        }
        let refs = self.head.postings_for(matchers)?;
        if refs.is_empty() {
            return Ok(Vec::new());
        }
        if few(&refs, postings.num_label_pairs()) {
            let mut names = Vec::new();
            for r in &refs {
                self.head.label_names_of(r, &mut names);
            }
            return Ok(names);
        }
        Ok(postings.label_names_intersecting(&refs)?)
    }

    /// The head's values of `name` under `matchers`, unsorted; without
    /// matchers only the first `limit + 1` (enough to tell truncation).
    fn head_label_values(
        &self,
        name: &str,
        matchers: &[Matcher],
        limit: Option<usize>,
    ) -> Result<Vec<Symbol>, Error> {
        let postings = self.head.postings();
        if matchers.is_empty() {
            return Ok(postings.label_values_up_to(name, limit.map(|l| l.saturating_add(1))));
        }
        let refs = self.head.postings_for(matchers)?;
        if refs.is_empty() {
            return Ok(Vec::new());
        }
        // `instance` values of one job: a few series, a million values.
        if few(&refs, postings.num_values(name)) {
            return Ok(refs
                .iter()
                .filter_map(|r| self.head.label_value_of(r, name))
                .collect());
        }
        Ok(postings.label_values_intersecting(name, &refs)?)
    }
}

/// True if reading `refs`' labels is cheaper than testing `candidates` postings.
fn few(refs: &RoaringBitmap, candidates: usize) -> bool {
    refs.len().saturating_mul(SERIES_READ_FACTOR) <= candidates as u64
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]

    use std::sync::Arc;

    use parking_lot::RwLock;

    use super::*;
    use crate::head::{Head, HeadOptions, LabelLimits};

    fn head_with(n: u32) -> Arc<Head> {
        let head = Arc::new(Head::new(
            HeadOptions {
                chunk_range_ms: 7_200_000,
                ooo_window_ms: 0,
                limits: LabelLimits::default(),
            },
            None,
        ));
        for i in 0..n {
            let labels = Labels::from_pairs([
                ("__name__", format!("m{}", i % 3)),
                ("job", format!("j{}", i % 2)),
                ("instance", format!("h{i:03}")),
            ])
            .unwrap();
            let s = head.get_or_create(&labels).unwrap();
            let bounds = head.replay_bounds();
            head.apply_replayed(&s, i64::from(i), 1.0, &bounds);
        }
        head
    }

    fn querier(head: &Arc<Head>, mint: i64, maxt: i64) -> Querier {
        Querier::new(
            Arc::clone(head),
            Arc::new(RwLock::new(Vec::new())),
            mint,
            maxt,
        )
    }

    fn strs(v: &[Symbol]) -> Vec<&str> {
        v.iter().map(|s| &**s).collect()
    }

    #[test]
    fn series_labels_sorted_limited_and_time_bounded() {
        let head = head_with(30);
        let q = querier(&head, i64::MIN, i64::MAX);
        let m = [Matcher::equal("job", "j1")];
        let all = q.series_labels(&m, None).unwrap();
        assert!(!all.truncated);
        assert_eq!(all.items.len(), 15);
        let selected: Vec<Labels> = q
            .select(&m)
            .unwrap()
            .iter()
            .map(|s| s.labels().clone())
            .collect();
        assert_eq!(all.items, selected, "same series, same order as select");
        for l in [0, 1, 7, 14] {
            let cut = q.series_labels(&m, Some(l)).unwrap();
            assert!(cut.truncated);
            assert_eq!(cut.items, all.items.get(..l).unwrap());
        }
        assert!(!q.series_labels(&m, Some(15)).unwrap().truncated);
        // Samples at t = i: [10, 12] holds series 10, 11, 12.
        let q = querier(&head, 10, 12);
        let got = q.series_labels(&[], None).unwrap().items;
        let mut inst: Vec<&str> = got.iter().filter_map(|l| l.get("instance")).collect();
        inst.sort_unstable();
        assert_eq!(inst, ["h010", "h011", "h012"]);
        let selected: Vec<Labels> = q
            .select(&[])
            .unwrap()
            .iter()
            .map(|s| s.labels().clone())
            .collect();
        assert_eq!(got, selected);
    }

    #[test]
    fn label_values_and_names_by_either_path_agree() {
        let head = head_with(200);
        let q = querier(&head, i64::MIN, i64::MAX);
        // One series among 200 `instance` values: read from the series' labels.
        let one = [Matcher::equal("instance", "h007")];
        assert_eq!(strs(&q.label_values("job", &one).unwrap()), ["j1"]);
        assert_eq!(strs(&q.label_values("instance", &one).unwrap()), ["h007"]);
        assert_eq!(
            strs(&q.label_names(&one).unwrap()),
            ["__name__", "instance", "job"]
        );
        // Many series, few values: the postings path.
        let many = [Matcher::equal("job", "j0")];
        assert_eq!(
            strs(&q.label_values("__name__", &many).unwrap()),
            ["m0", "m1", "m2"]
        );
        let vals = q.label_values("instance", &many).unwrap();
        assert_eq!(vals.len(), 100);
        assert!(vals.windows(2).all(|w| matches!(w, [a, b] if a < b)));
        // Limits, with and without matchers.
        let cut = q.label_values_limited("instance", &[], Some(2)).unwrap();
        assert_eq!(
            (strs(&cut.items), cut.truncated),
            (vec!["h000", "h001"], true)
        );
        let cut = q.label_values_limited("job", &many, Some(1)).unwrap();
        assert_eq!((strs(&cut.items), cut.truncated), (vec!["j0"], false));
        let cut = q.label_names_limited(&[], Some(3)).unwrap();
        assert!(!cut.truncated);
        let cut = q.label_names_limited(&[], Some(2)).unwrap();
        assert_eq!(
            (strs(&cut.items), cut.truncated),
            (vec!["__name__", "instance"], true)
        );
    }
}
