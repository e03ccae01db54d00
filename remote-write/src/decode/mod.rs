//! Decoding a remote-write body into validated series, without copying strings.
//!
//! The ingest path is the hot path of the whole server: Prometheus sends one sample
//! per series per request, so every sample drags a full label set through here.
//! [`decode_write_request`] therefore reads the protobuf bytes directly (see `wire`)
//! and borrows every label name and value from the decompressed buffer: one request
//! costs a handful of growing `Vec`s, never an allocation per series or per label.
//! Each series is validated as it is read (see `validate`); a bad series is
//! recorded in [`DecodedWrite::rejected`] and the rest of the request stays usable,
//! while malformed protobuf refuses the whole request with a [`DecodeError`].

mod v1;
mod v2;
mod validate;
pub(crate) mod wire;

use std::fmt;
use std::ops::Range;

use crate::content_type::WriteProtocol;
use crate::error::{DecodeError, SeriesError};
use crate::proto::{MetricType, Sample};
use crate::snappy::DEFAULT_MAX_DECOMPRESSED_BYTES;

pub use validate::NameValidation;

/// Bounds applied to every request and series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Cap on the decompressed size of one request, bytes (default 32 MiB).
    pub max_decompressed_bytes: usize,
    /// Longest accepted label name, bytes (default 1024).
    pub max_label_name_bytes: usize,
    /// Longest accepted label value, bytes (default 4096).
    pub max_label_value_bytes: usize,
    /// Most labels in one series, `__name__` included (default 64).
    pub max_labels_per_series: usize,
    /// Which label and metric names are valid (default: legacy, `[a-zA-Z_][a-zA-Z0-9_]*`).
    pub name_validation: NameValidation,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_decompressed_bytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
            max_label_name_bytes: 1024,
            max_label_value_bytes: 4096,
            max_labels_per_series: 64,
            name_validation: NameValidation::Legacy,
        }
    }
}

/// A label borrowed from the request bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LabelRef<'a> {
    /// The label name.
    pub name: &'a str,
    /// The label value; never empty in a validated series.
    pub value: &'a str,
}

/// Metadata of one metric family, borrowed from the request bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetadataRef<'a> {
    /// The metric family name (1.0) or the series' `__name__` (2.0).
    pub metric_family_name: &'a str,
    /// The metric type.
    pub metric_type: MetricType,
    /// The help text; may be empty.
    pub help: &'a str,
    /// The unit; may be empty.
    pub unit: &'a str,
}

/// A series refused during decoding, with what is needed to log and count it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedSeries {
    /// The series' labels in Prometheus text form, for the server log.
    pub labels: String,
    /// Number of float samples the series carried (counted as rejected).
    pub samples: usize,
    /// Why it was refused.
    pub error: SeriesError,
}

/// One validated series: labels sorted by name with unique, valid names, empty
/// values removed, `__name__` present.
#[derive(Debug, Clone, Copy)]
pub struct SeriesView<'d, 'a> {
    /// The labels, sorted by name.
    pub labels: &'d [LabelRef<'a>],
    /// The float samples in request order.
    pub samples: &'d [Sample],
}

#[derive(Debug, Clone)]
struct SeriesSpan {
    labels: Range<usize>,
    samples: Range<usize>,
}

/// A decoded remote-write request: validated series, rejected series, metadata and
/// counts of what was received but is not stored (exemplars, native histograms).
#[derive(Debug, Default)]
pub struct DecodedWrite<'a> {
    spans: Vec<SeriesSpan>,
    labels: Vec<LabelRef<'a>>,
    samples: Vec<Sample>,
    rejected: Vec<RejectedSeries>,
    metadata: Vec<MetadataRef<'a>>,
    histograms: usize,
    exemplars: usize,
}

impl<'a> DecodedWrite<'a> {
    /// The valid series, in request order.
    pub fn series(&self) -> impl ExactSizeIterator<Item = SeriesView<'_, 'a>> + '_ {
        self.spans.iter().map(|s| SeriesView {
            labels: self.labels.get(s.labels.clone()).unwrap_or_default(),
            samples: self.samples.get(s.samples.clone()).unwrap_or_default(),
        })
    }

    /// Number of valid series.
    pub fn series_count(&self) -> usize {
        self.spans.len()
    }

    /// Number of float samples in the valid series.
    pub fn sample_count(&self) -> usize {
        self.samples.len()
    }

    /// The series refused by validation.
    pub fn rejected(&self) -> &[RejectedSeries] {
        &self.rejected
    }

    /// Metric metadata carried by the request (1.0 `metadata`, 2.0 per-series metadata).
    pub fn metadata(&self) -> &[MetadataRef<'a>] {
        &self.metadata
    }

    /// Native histogram samples received (not stored yet).
    pub fn histograms(&self) -> usize {
        self.histograms
    }

    /// Exemplars received (not stored yet).
    pub fn exemplars(&self) -> usize {
        self.exemplars
    }

    fn with_capacity_for(bytes: usize) -> Self {
        // A typical 1.0 series with ten labels and one sample is ~250 bytes: reserve
        // for that shape so a request grows its vectors a few times at most.
        DecodedWrite {
            spans: Vec::with_capacity(bytes / 256),
            labels: Vec::with_capacity(bytes / 24),
            samples: Vec::with_capacity(bytes / 256),
            ..DecodedWrite::default()
        }
    }

    /// Validates the series whose labels start at `labels_start` and samples at
    /// `samples_start` (both already pushed), keeping it or moving it to `rejected`.
    fn finish_series(&mut self, labels_start: usize, samples_start: usize, limits: &Limits) {
        let result = match self.labels.get_mut(labels_start..) {
            Some(series_labels) => validate::validate(series_labels, limits),
            None => Ok(0),
        };
        match result {
            Ok(kept) => {
                self.labels.truncate(labels_start + kept);
                self.spans.push(SeriesSpan {
                    labels: labels_start..self.labels.len(),
                    samples: samples_start..self.samples.len(),
                });
            }
            Err(error) => self.reject(labels_start, samples_start, error),
        }
    }

    /// Drops the series being decoded and records why.
    fn reject(&mut self, labels_start: usize, samples_start: usize, error: SeriesError) {
        let labels = DisplayLabels(self.labels.get(labels_start..).unwrap_or_default()).to_string();
        let samples = self.samples.len().saturating_sub(samples_start);
        self.labels.truncate(labels_start);
        self.samples.truncate(samples_start);
        self.rejected.push(RejectedSeries {
            labels,
            samples,
            error,
        });
    }
}

/// Prometheus text form of a label slice: `{a="1", b="2"}`.
struct DisplayLabels<'s, 'a>(&'s [LabelRef<'a>]);

impl fmt::Display for DisplayLabels<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, l) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}={:?}", l.name, l.value)?;
        }
        f.write_str("}")
    }
}

/// Decodes an uncompressed remote-write body of the given protocol.
///
/// Malformed protobuf fails the whole request; invalid series are only listed in
/// [`DecodedWrite::rejected`].
pub fn decode_write_request<'a>(
    protocol: WriteProtocol,
    bytes: &'a [u8],
    limits: &Limits,
) -> Result<DecodedWrite<'a>, DecodeError> {
    let result = match protocol {
        WriteProtocol::V1 => v1::decode(bytes, limits),
        WriteProtocol::V2 => v2::decode(bytes, limits),
    };
    result.map_err(|source| DecodeError::Protobuf {
        message: protocol.proto_name(),
        source,
    })
}

/// Decompresses a snappy-block body under `limits.max_decompressed_bytes`.
///
/// Kept apart from [`decode_write_request`] because the decoded series borrow from
/// the decompressed buffer, which the caller must own.
pub fn decompress_body(body: &[u8], limits: &Limits) -> Result<Vec<u8>, DecodeError> {
    Ok(crate::snappy::decompress(
        body,
        limits.max_decompressed_bytes,
    )?)
}
