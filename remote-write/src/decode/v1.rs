//! Remote-write 1.0 (`prometheus.WriteRequest`) decoding into a [`DecodedWrite`].

use super::wire::{expect_wire_type, Reader, FIXED64, LEN, VARINT};
use super::{DecodedWrite, KnownSeries, LabelRef, Limits, MetadataRef, SeriesSpan};
use crate::error::WireError;
use crate::proto::{MetricType, Sample};

pub(super) fn decode<'a>(
    bytes: &'a [u8],
    limits: &Limits,
    mut out: DecodedWrite<'a>,
    mut known: Option<KnownSeries<'_>>,
) -> Result<DecodedWrite<'a>, WireError> {
    let mut r = Reader::new(bytes);
    while let Some((field, wire_type)) = r.key()? {
        match field {
            1 => {
                expect_wire_type("WriteRequest", field, wire_type, LEN)?;
                decode_series(r.bytes()?, &mut out, limits, &mut known)?;
            }
            3 => {
                expect_wire_type("WriteRequest", field, wire_type, LEN)?;
                let metadata = decode_metadata(r.bytes()?)?;
                out.metadata.push(metadata);
            }
            _ => r.skip(wire_type)?,
        }
    }
    Ok(out)
}

/// `TimeSeries`: labels (1), samples (2), exemplars (3), histograms (4).
///
/// The first pass reads samples and only locates the label fields; a series the
/// caller already `known`s by those bytes is done then. Otherwise the labels are
/// decoded from the located bytes and validated.
fn decode_series<'a>(
    bytes: &'a [u8],
    out: &mut DecodedWrite<'a>,
    limits: &Limits,
    known: &mut Option<KnownSeries<'_>>,
) -> Result<(), WireError> {
    let labels_start = out.labels.len();
    let samples_start = out.samples.len();
    // [start, end) of the label fields, and whether nothing else came between them.
    let mut label_run: Option<(usize, usize)> = None;
    let mut contiguous = true;
    let mut r = Reader::new(bytes);
    loop {
        let field_start = r.pos();
        let Some((field, wire_type)) = r.key()? else {
            break;
        };
        match field {
            1 => {
                expect_wire_type("TimeSeries", field, wire_type, LEN)?;
                r.bytes()?;
                match &mut label_run {
                    None => label_run = Some((field_start, r.pos())),
                    Some((_, end)) => {
                        contiguous &= *end == field_start;
                        *end = r.pos();
                    }
                }
            }
            2 => out.samples.push(read_sample(&mut r, field, wire_type)?),
            3 => skip_unstored(&mut r, field, wire_type, &mut out.exemplars)?,
            4 => skip_unstored(&mut r, field, wire_type, &mut out.histograms)?,
            _ => r.skip(wire_type)?,
        }
    }
    let raw_labels = label_run
        .filter(|_| contiguous)
        .and_then(|(start, end)| bytes.get(start..end));
    if let (Some(raw), Some(known)) = (raw_labels, known.as_mut()) {
        if let Some(token) = known(raw) {
            out.spans.push(SeriesSpan {
                labels: labels_start..labels_start,
                samples: samples_start..out.samples.len(),
                raw_labels: Some(raw),
                token: Some(token),
            });
            return Ok(());
        }
    }
    decode_label_fields(raw_labels.unwrap_or(bytes), &mut out.labels)?;
    out.finish_series(labels_start, samples_start, raw_labels, limits);
    Ok(())
}

/// Decodes the `labels` fields (1) of `TimeSeries` bytes into `out`, skipping others.
pub(super) fn decode_label_fields<'a>(
    bytes: &'a [u8],
    out: &mut Vec<LabelRef<'a>>,
) -> Result<(), WireError> {
    let mut r = Reader::new(bytes);
    while let Some((field, wire_type)) = r.key()? {
        if field == 1 {
            expect_wire_type("TimeSeries", field, wire_type, LEN)?;
            out.push(decode_label(r.bytes()?)?);
        } else {
            r.skip(wire_type)?;
        }
    }
    Ok(())
}

/// `Label`: name (1), value (2).
#[inline]
fn decode_label(bytes: &[u8]) -> Result<LabelRef<'_>, WireError> {
    let mut label = LabelRef {
        name: "",
        value: "",
    };
    let mut r = Reader::new(bytes);
    while let Some((field, wire_type)) = r.key()? {
        match field {
            1 => {
                expect_wire_type("Label", field, wire_type, LEN)?;
                label.name = r.str("label name")?;
            }
            2 => {
                expect_wire_type("Label", field, wire_type, LEN)?;
                label.value = r.str("label value")?;
            }
            _ => r.skip(wire_type)?,
        }
    }
    Ok(label)
}

/// Reads a `TimeSeries` samples field (2 in both versions) as one [`Sample`].
#[inline]
pub(super) fn read_sample(
    r: &mut Reader<'_>,
    field: u32,
    wire_type: u8,
) -> Result<Sample, WireError> {
    expect_wire_type("TimeSeries", field, wire_type, LEN)?;
    decode_sample(r.bytes()?)
}

/// Skips a `TimeSeries` field that is received but not stored (an exemplar or a
/// native histogram) and counts it in `counter`. Shared with 2.0, which numbers
/// these two fields the other way round.
pub(super) fn skip_unstored(
    r: &mut Reader<'_>,
    field: u32,
    wire_type: u8,
    counter: &mut usize,
) -> Result<(), WireError> {
    expect_wire_type("TimeSeries", field, wire_type, LEN)?;
    r.bytes()?;
    *counter += 1;
    Ok(())
}

/// `Sample`: value (1, double), timestamp (2, int64). Shared with 2.0, whose
/// `Sample` has the same fields.
#[inline]
fn decode_sample(bytes: &[u8]) -> Result<Sample, WireError> {
    let mut sample = Sample {
        value: 0.0,
        timestamp: 0,
    };
    let mut r = Reader::new(bytes);
    while let Some((field, wire_type)) = r.key()? {
        match field {
            1 => {
                expect_wire_type("Sample", field, wire_type, FIXED64)?;
                // from_bits keeps NaN payloads: stale markers must survive bit-exact.
                sample.value = f64::from_bits(r.fixed64()?);
            }
            2 => {
                expect_wire_type("Sample", field, wire_type, VARINT)?;
                sample.timestamp = r.varint()? as i64;
            }
            _ => r.skip(wire_type)?,
        }
    }
    Ok(sample)
}

/// `MetricMetadata`: type (1), metric_family_name (2), help (4), unit (5).
fn decode_metadata(bytes: &[u8]) -> Result<MetadataRef<'_>, WireError> {
    let mut m = MetadataRef {
        metric_family_name: "",
        metric_type: MetricType::Unknown,
        help: "",
        unit: "",
    };
    let mut r = Reader::new(bytes);
    while let Some((field, wire_type)) = r.key()? {
        match field {
            1 => {
                expect_wire_type("MetricMetadata", field, wire_type, VARINT)?;
                m.metric_type = MetricType::from_wire(r.varint()? as i32);
            }
            2 => {
                expect_wire_type("MetricMetadata", field, wire_type, LEN)?;
                m.metric_family_name = r.str("metric family name")?;
            }
            4 => {
                expect_wire_type("MetricMetadata", field, wire_type, LEN)?;
                m.help = r.str("help")?;
            }
            5 => {
                expect_wire_type("MetricMetadata", field, wire_type, LEN)?;
                m.unit = r.str("unit")?;
            }
            _ => r.skip(wire_type)?,
        }
    }
    Ok(m)
}
