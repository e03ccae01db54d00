//! Remote-write 1.0 (`prometheus.WriteRequest`) decoding into a [`DecodedWrite`].

use super::wire::{expect_wire_type, Reader, FIXED64, LEN, VARINT};
use super::{DecodedWrite, LabelRef, Limits, MetadataRef};
use crate::error::WireError;
use crate::proto::{MetricType, Sample};

pub(super) fn decode<'a>(
    bytes: &'a [u8],
    limits: &Limits,
    mut out: DecodedWrite<'a>,
) -> Result<DecodedWrite<'a>, WireError> {
    let mut r = Reader::new(bytes);
    while let Some((field, wire_type)) = r.key()? {
        match field {
            1 => {
                expect_wire_type("WriteRequest", field, wire_type, LEN)?;
                decode_series(r.bytes()?, &mut out, limits)?;
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
fn decode_series<'a>(
    bytes: &'a [u8],
    out: &mut DecodedWrite<'a>,
    limits: &Limits,
) -> Result<(), WireError> {
    let labels_start = out.labels.len();
    let samples_start = out.samples.len();
    let mut r = Reader::new(bytes);
    while let Some((field, wire_type)) = r.key()? {
        match field {
            1 => {
                expect_wire_type("TimeSeries", field, wire_type, LEN)?;
                out.labels.push(decode_label(r.bytes()?)?);
            }
            2 => {
                expect_wire_type("TimeSeries", field, wire_type, LEN)?;
                out.samples.push(decode_sample(r.bytes()?)?);
            }
            3 | 4 => {
                expect_wire_type("TimeSeries", field, wire_type, LEN)?;
                r.bytes()?;
                if field == 3 {
                    out.exemplars += 1;
                } else {
                    out.histograms += 1;
                }
            }
            _ => r.skip(wire_type)?,
        }
    }
    out.finish_series(labels_start, samples_start, limits);
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

/// `Sample`: value (1, double), timestamp (2, int64). Shared with 2.0, whose
/// `Sample` has the same fields.
#[inline]
pub(super) fn decode_sample(bytes: &[u8]) -> Result<Sample, WireError> {
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
