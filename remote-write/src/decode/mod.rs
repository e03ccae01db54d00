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
///
/// With [`decode_write_request_known`], a series the caller recognised by its raw
/// label bytes carries the caller's `token` instead, and `labels` is empty: its
/// labels were neither decoded nor validated again (see [`decode_known_labels`]).
#[derive(Debug, Clone, Copy)]
pub struct SeriesView<'d, 'a> {
    /// The labels, sorted by name; empty when `token` is set.
    pub labels: &'d [LabelRef<'a>],
    /// The float samples in request order.
    pub samples: &'d [Sample],
    /// The 1.0 label fields exactly as sent (`None` for 2.0, or when a sender
    /// interleaved labels with other fields): the key for recognising the series
    /// in the next request.
    pub raw_labels: Option<&'a [u8]>,
    /// What the caller's `known` function returned for `raw_labels`.
    pub token: Option<u64>,
}

#[derive(Debug, Clone)]
struct SeriesSpan<'a> {
    labels: Range<usize>,
    samples: Range<usize>,
    raw_labels: Option<&'a [u8]>,
    token: Option<u64>,
}

/// A decoded remote-write request: validated series, rejected series, metadata and
/// counts of what was received but is not stored (exemplars, native histograms).
#[derive(Debug, Default)]
pub struct DecodedWrite<'a> {
    spans: Vec<SeriesSpan<'a>>,
    labels: Vec<LabelRef<'a>>,
    samples: Vec<Sample>,
    rejected: Vec<RejectedSeries>,
    metadata: Vec<MetadataRef<'a>>,
    histograms: usize,
    exemplars: usize,
    /// 2.0 scratch: the symbols table and one series' label refs.
    symbols: Vec<&'a str>,
    refs: Vec<u32>,
}

/// The allocations of a [`DecodedWrite`], kept between requests so the steady
/// state decodes without allocating: get them back with
/// [`DecodedWrite::into_buffers`] and pass them to [`decode_write_request_with`].
#[derive(Debug, Default)]
pub struct DecodeBuffers {
    spans: Vec<SeriesSpan<'static>>,
    labels: Vec<LabelRef<'static>>,
    samples: Vec<Sample>,
    metadata: Vec<MetadataRef<'static>>,
    symbols: Vec<&'static str>,
    refs: Vec<u32>,
}

/// Empties `v` and hands its allocation to a vector of the same type with another
/// lifetime. `into_iter().map().collect()` over a vector is collected in place by
/// the standard library when the element layouts match (they do: only the lifetime
/// differs), so the capacity survives; the closure never runs on an empty vector.
fn recycle<T, U>(mut v: Vec<T>, never: fn(T) -> U) -> Vec<U> {
    v.clear();
    v.into_iter().map(never).collect()
}

impl<'a> DecodedWrite<'a> {
    /// The valid series, in request order.
    pub fn series(&self) -> impl ExactSizeIterator<Item = SeriesView<'_, 'a>> + '_ {
        self.spans.iter().map(|s| SeriesView {
            labels: self.labels.get(s.labels.clone()).unwrap_or_default(),
            samples: self.samples.get(s.samples.clone()).unwrap_or_default(),
            raw_labels: s.raw_labels,
            token: s.token,
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

    /// An empty result reusing `buffers`, with room for a request of `bytes` bytes.
    fn from_buffers(buffers: DecodeBuffers, bytes: usize) -> Self {
        let mut out = DecodedWrite {
            spans: recycle(buffers.spans, |s| s),
            labels: recycle(buffers.labels, |l| l),
            samples: buffers.samples,
            metadata: recycle(buffers.metadata, |m| m),
            symbols: recycle(buffers.symbols, |s| s),
            refs: buffers.refs,
            ..DecodedWrite::default()
        };
        out.samples.clear();
        out.refs.clear();
        // A typical 1.0 series with ten labels and one sample is ~250 bytes: reserve
        // for that shape so a fresh buffer grows a few times at most.
        out.spans.reserve(bytes / 256);
        out.labels.reserve(bytes / 24);
        out.samples.reserve(bytes / 256);
        out
    }

    /// Gives back the allocations for the next request.
    pub fn into_buffers(self) -> DecodeBuffers {
        DecodeBuffers {
            spans: recycle(self.spans, |_| SeriesSpan {
                labels: 0..0,
                samples: 0..0,
                raw_labels: None,
                token: None,
            }),
            labels: recycle(self.labels, |_| LabelRef {
                name: "",
                value: "",
            }),
            samples: self.samples,
            metadata: recycle(self.metadata, |_| MetadataRef {
                metric_family_name: "",
                metric_type: MetricType::Unknown,
                help: "",
                unit: "",
            }),
            symbols: recycle(self.symbols, |_| ""),
            refs: self.refs,
        }
    }

    /// Validates the series whose labels start at `labels_start` and samples at
    /// `samples_start` (both already pushed), keeping it or moving it to `rejected`.
    fn finish_series(
        &mut self,
        labels_start: usize,
        samples_start: usize,
        raw_labels: Option<&'a [u8]>,
        limits: &Limits,
    ) {
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
                    raw_labels,
                    token: None,
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
    decode_write_request_with(protocol, bytes, limits, DecodeBuffers::default())
}

/// A caller's memory of series it has seen: given a 1.0 series' raw label bytes,
/// returns a token (e.g. a storage reference) if the exact same bytes were
/// decoded, validated and accepted before.
pub type KnownSeries<'k> = &'k mut dyn FnMut(&[u8]) -> Option<u64>;

/// [`decode_write_request_with`] that skips decoding and validating the labels of
/// series `known` recognises by their raw label bytes: identical bytes decode to
/// identical labels, which passed validation before, so only the samples are read.
/// This is the steady state of a Prometheus sender, which repeats every series'
/// full label set with each sample. 2.0 requests are decoded in full (their label
/// references depend on each request's symbols table).
pub fn decode_write_request_known<'a>(
    protocol: WriteProtocol,
    bytes: &'a [u8],
    limits: &Limits,
    buffers: DecodeBuffers,
    known: KnownSeries<'_>,
) -> Result<DecodedWrite<'a>, DecodeError> {
    let out = DecodedWrite::from_buffers(buffers, bytes.len());
    let result = match protocol {
        WriteProtocol::V1 => v1::decode(bytes, limits, out, Some(known)),
        WriteProtocol::V2 => v2::decode(bytes, limits, out),
    };
    result.map_err(|source| DecodeError::Protobuf {
        message: protocol.proto_name(),
        source,
    })
}

/// Decodes and validates the labels of a series from its
/// [`SeriesView::raw_labels`] into `out` (replacing its contents, sorted): for a
/// caller whose token for a known series went stale.
pub fn decode_known_labels<'a>(
    raw_labels: &'a [u8],
    limits: &Limits,
    out: &mut Vec<LabelRef<'a>>,
) -> Result<(), KnownLabelsError> {
    out.clear();
    v1::decode_label_fields(raw_labels, out)?;
    let kept = validate::validate(out, limits)?;
    out.truncate(kept);
    Ok(())
}

/// Why [`decode_known_labels`] failed (only possible if the bytes differ from the
/// ones that were accepted before).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KnownLabelsError {
    /// The bytes are not label fields.
    #[error(transparent)]
    Wire(#[from] crate::error::WireError),
    /// The labels are invalid.
    #[error(transparent)]
    Series(#[from] SeriesError),
}

/// [`decode_write_request`] reusing the allocations of an earlier request.
pub fn decode_write_request_with<'a>(
    protocol: WriteProtocol,
    bytes: &'a [u8],
    limits: &Limits,
    buffers: DecodeBuffers,
) -> Result<DecodedWrite<'a>, DecodeError> {
    let out = DecodedWrite::from_buffers(buffers, bytes.len());
    let result = match protocol {
        WriteProtocol::V1 => v1::decode(bytes, limits, out, None),
        WriteProtocol::V2 => v2::decode(bytes, limits, out),
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

/// [`decompress_body`] into a buffer the caller reuses between requests.
pub fn decompress_body_into(
    body: &[u8],
    limits: &Limits,
    out: &mut Vec<u8>,
) -> Result<(), DecodeError> {
    Ok(crate::snappy::decompress_into(
        body,
        limits.max_decompressed_bytes,
        out,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_keep_their_capacity() {
        let mut buffers = DecodeBuffers::default();
        buffers.labels.reserve(1000);
        let before = buffers.labels.capacity();
        let bytes = vec![0u8; 0];
        let decoded =
            decode_write_request_with(WriteProtocol::V1, &bytes, &Limits::default(), buffers)
                .unwrap();
        let again = decoded.into_buffers();
        assert!(
            again.labels.capacity() >= before,
            "{} < {before}",
            again.labels.capacity()
        );
    }
}
