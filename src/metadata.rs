//! Metric metadata (type, help, unit) received through remote-write, kept in
//! memory for `/api/v1/metadata`.
//!
//! Keyed by metric family name; each family keeps its distinct entries (senders
//! can disagree), newest last, at most [`MAX_ENTRIES_PER_METRIC`]. The number of
//! families is capped too, so a client cannot grow it without bound. Metadata is
//! not persisted: Prometheus resends it every minute (1.0) or with every series
//! (2.0), so a restarted server has it back quickly.

use std::collections::{BTreeMap, HashMap};

use parking_lot::RwLock;
use promlite_remote_write::MetadataRef;

/// Most distinct entries kept per metric family.
pub const MAX_ENTRIES_PER_METRIC: usize = 4;
/// Most metric families kept; metadata of further families is dropped.
pub const MAX_METRICS: usize = 200_000;

/// One metadata entry as the HTTP API reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MetricMetadata {
    /// `counter`, `gauge`, `histogram`, `gaugehistogram`, `summary`, `info`, `stateset` or `unknown`.
    #[serde(rename = "type")]
    pub metric_type: &'static str,
    /// The help text.
    pub help: String,
    /// The unit; may be empty.
    pub unit: String,
}

/// The metadata store; cheap to share behind an `Arc`.
#[derive(Debug, Default)]
pub struct MetadataStore {
    families: RwLock<HashMap<String, Vec<MetricMetadata>>>,
}

impl MetadataStore {
    /// Records the metadata of one request. Takes the write lock once, and only
    /// when something is new: the common case (unchanged metadata) reads only.
    pub fn record(&self, entries: &[MetadataRef<'_>]) {
        if entries.is_empty() {
            return;
        }
        let known = |families: &HashMap<String, Vec<MetricMetadata>>, e: &MetadataRef<'_>| {
            families
                .get(e.metric_family_name)
                .is_some_and(|v| v.iter().any(|m| same(m, e)))
        };
        if entries.iter().all(|e| known(&self.families.read(), e)) {
            return;
        }
        let mut families = self.families.write();
        for e in entries {
            if e.metric_family_name.is_empty() || known(&families, e) {
                continue;
            }
            if !families.contains_key(e.metric_family_name) && families.len() >= MAX_METRICS {
                continue;
            }
            let list = families.entry(e.metric_family_name.to_owned()).or_default();
            if list.len() >= MAX_ENTRIES_PER_METRIC {
                list.remove(0);
            }
            list.push(MetricMetadata {
                metric_type: e.metric_type.api_name(),
                help: e.help.to_owned(),
                unit: e.unit.to_owned(),
            });
        }
    }

    /// Metadata by metric name, sorted by name: all of it, or only `metric`'s.
    /// `limit` caps the number of metrics, `limit_per_metric` the entries of each
    /// (Prometheus's `limit` and `limit_per_metric` parameters).
    pub fn query(
        &self,
        metric: Option<&str>,
        limit: Option<usize>,
        limit_per_metric: Option<usize>,
    ) -> BTreeMap<String, Vec<MetricMetadata>> {
        let families = self.families.read();
        let per = limit_per_metric.unwrap_or(usize::MAX);
        let pick = |(name, list): (&String, &Vec<MetricMetadata>)| {
            (
                name.clone(),
                list.iter().rev().take(per).cloned().collect::<Vec<_>>(),
            )
        };
        let mut out: BTreeMap<String, Vec<MetricMetadata>> = match metric {
            Some(m) => families.get_key_value(m).map(pick).into_iter().collect(),
            None => families.iter().map(pick).collect(),
        };
        if let Some(limit) = limit {
            while out.len() > limit {
                out.pop_last();
            }
        }
        out
    }

    /// Number of metric families with metadata.
    pub fn len(&self) -> usize {
        self.families.read().len()
    }

    /// True when no metadata was received yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn same(m: &MetricMetadata, e: &MetadataRef<'_>) -> bool {
    m.metric_type == e.metric_type.api_name() && m.help == e.help && m.unit == e.unit
}

#[cfg(test)]
mod tests {
    use super::*;
    use promlite_remote_write::proto::MetricType;

    fn entry<'a>(name: &'a str, help: &'a str) -> MetadataRef<'a> {
        MetadataRef {
            metric_family_name: name,
            metric_type: MetricType::Counter,
            help,
            unit: "",
        }
    }

    #[test]
    fn dedupes_and_caps() {
        let store = MetadataStore::default();
        store.record(&[
            entry("a_total", "A."),
            entry("a_total", "A."),
            entry("b", "B."),
        ]);
        assert_eq!(store.len(), 2);
        assert_eq!(store.query(Some("a_total"), None, None)["a_total"].len(), 1);
        for i in 0..10 {
            store.record(&[entry("a_total", &format!("A{i}."))]);
        }
        let a = &store.query(Some("a_total"), None, None)["a_total"];
        assert_eq!(a.len(), MAX_ENTRIES_PER_METRIC);
        assert_eq!(a[0].help, "A9.", "newest first");
        assert_eq!(store.query(None, Some(1), Some(1)).len(), 1);
        assert!(store.query(Some("missing"), None, None).is_empty());
    }
}
