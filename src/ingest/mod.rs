//! The ingest path: decode → validate → append → commit, one named step each.
//!
//! [`Ingester::ingest`] takes one remote-write body and returns only after the
//! samples it accepted are committed to the WAL (under the database's fsync
//! policy) and visible in the head: that is what lets the HTTP layer answer 2xx.
//! A request is one appender and one commit. Bad series and refused samples do
//! not fail the request; they are counted in the [`IngestReport`] and the good
//! ones are stored. A storage failure fails the whole request with nothing
//! acknowledged, so the sender retries. The function blocks (WAL write and
//! fsync): call it from a blocking thread.

mod cache;
mod report;

use std::sync::Arc;

use parking_lot::Mutex;
use promlite_remote_write::{
    decode_known_labels, decode_write_request_known, decompress_body_into, DecodeBuffers,
    DecodeError, DecodedWrite, KnownLabelsError, LabelRef, Limits, SeriesView, WriteProtocol,
};
use promlite_tsdb::{AppendError, Appender, Db, Label, Labels, SeriesRef};

use crate::metadata::MetadataStore;
use crate::metrics::{Metrics, ReasonLabels};
pub use cache::DEFAULT_CAPACITY as DEFAULT_SERIES_CACHE_CAPACITY;
use cache::{SeriesCache, SeriesKey};
pub use report::{IngestReport, Rejections};

/// Most refused series logged per request; the rest are only counted.
const MAX_LOGGED_REJECTIONS: usize = 20;
/// Most idle scratch sets kept (one per concurrently ingesting thread is enough).
const MAX_POOLED_SCRATCH: usize = 16;
/// A scratch set whose decompression buffer grew past this is not kept: one huge
/// request must not pin its memory forever.
const MAX_POOLED_BYTES: usize = 8 << 20;

/// Per-request buffers, pooled so the steady state allocates nothing per request
/// but the appender: fresh multi-hundred-KiB buffers would be `mmap`ed and
/// page-faulted in on every request (measured: ~10% of ingest CPU).
#[derive(Default)]
struct Scratch {
    raw: Vec<u8>,
    buffers: DecodeBuffers,
    key: Vec<u8>,
}

/// Why a request was not ingested at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// The body could not be decoded (HTTP 400; the sender must not retry).
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The database could not commit (HTTP 5xx; the sender retries).
    #[error("storage could not commit the write: {0}")]
    Storage(#[source] promlite_tsdb::Error),
}

/// Takes remote-write bodies into the database. Shared by all requests.
pub struct Ingester {
    db: Db,
    limits: Limits,
    cache: SeriesCache,
    scratch: Mutex<Vec<Scratch>>,
    metrics: Arc<Metrics>,
    metadata: Arc<MetadataStore>,
}

impl Ingester {
    /// An ingester writing to `db` under `limits`.
    pub fn new(
        db: Db,
        limits: Limits,
        metrics: Arc<Metrics>,
        metadata: Arc<MetadataStore>,
    ) -> Self {
        Ingester {
            db,
            limits,
            cache: SeriesCache::new(DEFAULT_SERIES_CACHE_CAPACITY),
            scratch: Mutex::new(Vec::new()),
            metrics,
            metadata,
        }
    }

    /// The decoding limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Decodes, validates, appends and commits one snappy-compressed body.
    pub fn ingest(
        &self,
        protocol: WriteProtocol,
        body: &[u8],
    ) -> Result<IngestReport, IngestError> {
        let mut scratch = self.scratch.lock().pop().unwrap_or_default();
        let result = self.ingest_with(protocol, body, &mut scratch);
        if scratch.raw.capacity() <= MAX_POOLED_BYTES {
            let mut pool = self.scratch.lock();
            if pool.len() < MAX_POOLED_SCRATCH {
                pool.push(scratch);
            }
        }
        result
    }

    fn ingest_with(
        &self,
        protocol: WriteProtocol,
        body: &[u8],
        scratch: &mut Scratch,
    ) -> Result<IngestReport, IngestError> {
        let Scratch { raw, buffers, key } = scratch;
        decompress_body_into(body, &self.limits, raw)?;
        let mut known = |raw_labels: &[u8]| {
            self.cache
                .get(SeriesCache::raw_key(raw_labels))
                .map(|r| u64::from(r.get()))
        };
        let decoded = decode_write_request_known(
            protocol,
            raw,
            &self.limits,
            std::mem::take(buffers),
            &mut known,
        )?;
        let mut report = IngestReport {
            series_total: decoded.series_count() + decoded.rejected().len(),
            histograms_dropped: decoded.histograms(),
            exemplars_dropped: decoded.exemplars(),
            ..IngestReport::default()
        };
        for r in decoded.rejected() {
            report.reject(r.error.kind(), r.samples, || {
                format!("{}: {}", r.labels, r.error)
            });
            log_rejection(&report, &r.labels, &r.error);
        }
        self.metadata.record(decoded.metadata());

        let mut app = self.db.appender();
        for series in decoded.series() {
            self.append_series(&mut app, series, key, &mut report);
        }
        report.samples_written = app.len();
        let committing = std::time::Instant::now();
        app.commit().map_err(IngestError::Storage)?;
        self.metrics
            .wal_commit_duration
            .observe(committing.elapsed().as_secs_f64());

        self.count(&report, &decoded);
        *buffers = decoded.into_buffers();
        Ok(report)
    }

    /// Appends one series' samples: by cached ref when the series is known,
    /// building its `Labels` only when it is new to this process.
    ///
    /// 1.0 series are keyed by their raw label bytes, so a known one arrives with
    /// its ref as the decoder's token and its labels were never decoded; 2.0
    /// series (labels are symbol references) are keyed by their sorted labels.
    fn append_series(
        &self,
        app: &mut Appender,
        series: SeriesView<'_, '_>,
        scratch: &mut Vec<u8>,
        report: &mut IngestReport,
    ) {
        let (key, mut series_ref) = match series.raw_labels {
            Some(raw) => (
                SeriesCache::raw_key(raw),
                series
                    .token
                    .and_then(|t| u32::try_from(t).ok())
                    .map(SeriesRef::new),
            ),
            None => {
                let key = SeriesCache::key(series.labels, scratch);
                (key, self.cache.get(key))
            }
        };
        let mut labels: Option<Labels> = None;
        let mut first_error: Option<SampleError> = None;
        let mut refused = 0usize;
        for s in series.samples {
            let fast = series_ref.map(|r| app.append_ref(r, s.timestamp, s.value));
            let result = match fast {
                Some(Err(AppendError::UnknownSeriesRef(_))) => {
                    // Truncated away since it was cached: fall back to the labels.
                    self.cache.remove(key);
                    self.append_new(app, key, series, &mut labels, s.timestamp, s.value)
                }
                Some(done) => done.map(|()| series_ref).map_err(SampleError::Append),
                None => self.append_new(app, key, series, &mut labels, s.timestamp, s.value),
            };
            match result {
                Ok(r) => series_ref = r,
                Err(e) => {
                    refused += 1;
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_error {
            let labels = self.labels_text(series);
            report.reject(e.reason(), refused, || format!("{labels}: {e}"));
            log_rejection(report, &labels, &e);
        }
    }

    /// The slow path of one sample: append by labels (creating the series if
    /// needed) and remember its ref.
    fn append_new(
        &self,
        app: &mut Appender,
        key: SeriesKey,
        series: SeriesView<'_, '_>,
        labels: &mut Option<Labels>,
        t: i64,
        v: f64,
    ) -> Result<Option<SeriesRef>, SampleError> {
        let labels = match labels {
            Some(l) => l,
            None => labels.insert(self.series_labels(series).map_err(SampleError::Labels)?),
        };
        let r = app.append(labels, t, v).map_err(SampleError::Append)?;
        self.cache.insert(key, r);
        Ok(Some(r))
    }

    /// The tsdb label set of a series; a series known by its raw labels has its
    /// labels decoded (and validated) only now.
    fn series_labels(&self, series: SeriesView<'_, '_>) -> Result<Labels, KnownLabelsError> {
        if series.token.is_none() {
            return Ok(to_labels(series.labels));
        }
        let mut decoded = Vec::new();
        decode_known_labels(
            series.raw_labels.unwrap_or_default(),
            &self.limits,
            &mut decoded,
        )?;
        Ok(to_labels(&decoded))
    }

    fn labels_text(&self, series: SeriesView<'_, '_>) -> String {
        match self.series_labels(series) {
            Ok(labels) => labels.to_string(),
            Err(e) => format!("{{<undecodable labels: {e}>}}"),
        }
    }

    /// Updates the ingest metrics after a successful commit.
    fn count(&self, report: &IngestReport, decoded: &DecodedWrite<'_>) {
        self.metrics
            .samples_ingested
            .inc_by(report.samples_written as u64);
        self.metrics
            .histograms_dropped
            .inc_by(report.histograms_dropped as u64);
        self.metrics
            .exemplars_dropped
            .inc_by(report.exemplars_dropped as u64);
        for r in decoded.rejected() {
            self.metrics
                .series_rejected
                .get_or_create(&ReasonLabels {
                    reason: r.error.kind(),
                })
                .inc();
        }
        for (&reason, r) in &report.rejected {
            if r.samples > 0 {
                self.metrics
                    .samples_rejected
                    .get_or_create(&ReasonLabels { reason })
                    .inc_by(r.samples as u64);
            }
        }
    }
}

/// Builds the tsdb label set of a validated series. The decoder already sorted
/// the labels, made names unique and non-empty and dropped empty values, which is
/// exactly the invariant `from_sorted_unchecked` asks for.
fn to_labels(labels: &[LabelRef<'_>]) -> Labels {
    Labels::from_sorted_unchecked(
        labels
            .iter()
            .map(|l| Label {
                name: Arc::from(l.name),
                value: Arc::from(l.value),
            })
            .collect(),
    )
}

/// Why one sample was refused.
#[derive(Debug, thiserror::Error)]
enum SampleError {
    #[error(transparent)]
    Append(AppendError),
    /// Only if a known series' raw labels stopped decoding: a 2^-128 hash collision.
    #[error(transparent)]
    Labels(KnownLabelsError),
}

impl SampleError {
    fn reason(&self) -> &'static str {
        match self {
            SampleError::Append(e) => append_reason(e),
            SampleError::Labels(_) => "invalid_labels",
        }
    }
}

/// The `reason` label of a refused sample.
fn append_reason(e: &AppendError) -> &'static str {
    match e {
        AppendError::OutOfOrder { .. } => "out_of_order",
        AppendError::OutOfBounds { .. } => "out_of_bounds",
        AppendError::TooOldSample { .. } => "too_old",
        AppendError::DuplicateSampleForTimestamp { .. } => "duplicate_sample",
        AppendError::TooManySeries => "too_many_series",
        _ => "invalid_labels",
    }
}

fn log_rejection(report: &IngestReport, labels: &str, error: &dyn std::fmt::Display) {
    let n = report.rejected_series();
    if n <= MAX_LOGGED_REJECTIONS {
        tracing::warn!(series = labels, error = %error, "remote-write series rejected");
    } else if n == MAX_LOGGED_REJECTIONS + 1 {
        tracing::warn!(
            "more remote-write series rejected in this request; only counted from here on"
        );
    }
}
