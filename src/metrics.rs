//! The server's own metrics, exposed on `/metrics` in the Prometheus text format
//! with the `prometheus-client` crate.
//!
//! One [`Metrics`] is built at start-up and shared through the HTTP state; every
//! metric handle inside is a cheap atomic, so handlers increment them directly.
//! Request durations are recorded for every route by [`track_requests`], a
//! middleware keyed by the route pattern (never the raw path, which a client
//! controls). Gauges that mirror database state (head series) are refreshed when
//! `/metrics` is scraped, not on the write path.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Metric, Registry};

/// `reason="..."`: why samples or series were refused.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    /// A short stable reason name, e.g. `out_of_order`.
    pub reason: &'static str,
}

/// `handler="...",code="..."` of one HTTP request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route pattern, e.g. `/api/v1/write`.
    pub handler: String,
    /// The HTTP status code.
    pub code: u16,
}

/// `kind="..."` of a query (for the query API: `instant`, `range`, `labels`, ...).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueryLabels {
    /// What kind of query ran.
    pub kind: &'static str,
}

fn request_duration_histogram() -> Histogram {
    // 0.5 ms .. ~16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// Registers `metric` in `registry` under `name` with `help` and returns it; the
/// registry keeps a clone (metric handles share their state).
fn registered<M: Metric + Clone>(registry: &mut Registry, name: &str, help: &str, metric: M) -> M {
    registry.register(name, help, metric.clone());
    metric
}

/// Every metric of the server.
pub struct Metrics {
    registry: Registry,
    /// Float samples stored (acknowledged) from remote-write.
    pub samples_ingested: Counter,
    /// Float samples refused, by reason.
    pub samples_rejected: Family<ReasonLabels, Counter>,
    /// Series refused by validation (with all their samples), by reason.
    pub series_rejected: Family<ReasonLabels, Counter>,
    /// Exemplars received but not stored (exemplar storage is not implemented yet).
    pub exemplars_dropped: Counter,
    /// Native histogram samples received but not stored (not implemented yet).
    pub histograms_dropped: Counter,
    /// HTTP request durations in seconds, by route and status code.
    pub request_duration: Family<RequestLabels, Histogram, fn() -> Histogram>,
    /// Series in the head, refreshed on scrape.
    pub head_series: Gauge,
    /// Seconds to commit one remote-write request: the WAL write, the fsync the
    /// policy waits for (`always`), and applying the samples to the head.
    pub wal_commit_duration: Histogram,
    /// Queries run, by kind; the query API increments it.
    pub queries: Family<QueryLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Builds and registers every metric under the `promlite_` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("promlite");
        let r = &mut registry;
        Metrics {
            samples_ingested: registered(
                r,
                "samples_ingested",
                "Float samples stored from remote-write",
                Counter::default(),
            ),
            samples_rejected: registered(
                r,
                "samples_rejected",
                "Float samples refused, by reason",
                Family::default(),
            ),
            series_rejected: registered(
                r,
                "series_rejected",
                "Remote-write series refused by validation, by reason",
                Family::default(),
            ),
            exemplars_dropped: registered(
                r,
                "exemplars_dropped",
                "Exemplars received and not stored (not supported yet)",
                Counter::default(),
            ),
            histograms_dropped: registered(
                r,
                "native_histograms_dropped",
                "Native histogram samples received and not stored (not supported yet)",
                Counter::default(),
            ),
            request_duration: registered(
                r,
                "http_request_duration_seconds",
                "HTTP request durations by route and status code",
                Family::new_with_constructor(request_duration_histogram),
            ),
            head_series: registered(r, "head_series", "Series in the head", Gauge::default()),
            wal_commit_duration: registered(
                r,
                "wal_commit_duration_seconds",
                "Time to commit one remote-write request: WAL write, the fsync the policy waits for, head update",
                // 0.1 ms .. ~3 s.
                Histogram::new(exponential_buckets(0.0001, 2.0, 16)),
            ),
            queries: registered(r, "queries", "Queries run, by kind", Family::default()),
            registry,
        }
    }

    /// The registry, for components that register their own metrics at start-up.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Renders every metric in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail; a failed encode would only truncate.
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            tracing::warn!("encoding /metrics failed");
        }
        out
    }
}

/// Middleware recording every request's duration by route pattern and status.
pub async fn track_requests(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let handler = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let start = Instant::now();
    let response = next.run(request).await;
    let labels = RequestLabels {
        handler,
        code: response.status().as_u16(),
    };
    metrics
        .request_duration
        .get_or_create(&labels)
        .observe(start.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_registered_metrics() {
        let m = Metrics::new();
        m.samples_ingested.inc_by(5);
        m.samples_rejected
            .get_or_create(&ReasonLabels {
                reason: "out_of_order",
            })
            .inc();
        m.head_series.set(3);
        let text = m.render();
        assert!(text.contains("promlite_samples_ingested_total 5"), "{text}");
        assert!(
            text.contains("promlite_samples_rejected_total{reason=\"out_of_order\"} 1"),
            "{text}"
        );
        assert!(text.contains("promlite_head_series 3"), "{text}");
    }
}
