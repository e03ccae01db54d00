//! Remote-write 2.0 (`io.prometheus.write.v2.Request`) decoding into a [`DecodedWrite`].
//!
//! Strings live once in the request's symbols table and series refer to them by
//! index. Protobuf does not fix field order, so the table is collected in a first
//! pass and the series are resolved in a second; every reference is bounds-checked
//! and a bad one refuses only its series.

use super::v1::{read_sample, skip_unstored};
use super::wire::{expect_wire_type, read_repeated_u32, Reader, LEN, VARINT};
use super::{DecodedWrite, LabelRef, Limits, MetadataRef};
use crate::error::{SeriesError, WireError};
use crate::proto::MetricType;

pub(super) fn decode<'a>(
    bytes: &'a [u8],
    limits: &Limits,
    mut out: DecodedWrite<'a>,
) -> Result<DecodedWrite<'a>, WireError> {
    // Taken out of `out` while series borrow them; put back for reuse at the end.
    let mut symbols = std::mem::take(&mut out.symbols);
    let mut refs = std::mem::take(&mut out.refs);
    collect_symbols(bytes, &mut symbols)?;
    let mut r = Reader::new(bytes);
    while let Some((field, wire_type)) = r.key()? {
        if field == 5 {
            expect_wire_type("Request", field, wire_type, LEN)?;
            decode_series(r.bytes()?, &symbols, &mut refs, &mut out, limits)?;
        } else {
            r.skip(wire_type)?;
        }
    }
    out.symbols = symbols;
    out.refs = refs;
    Ok(out)
}

/// First pass: the symbols table (field 4), in order.
fn collect_symbols<'a>(bytes: &'a [u8], symbols: &mut Vec<&'a str>) -> Result<(), WireError> {
    symbols.clear();
    let mut r = Reader::new(bytes);
    while let Some((field, wire_type)) = r.key()? {
        if field == 4 {
            expect_wire_type("Request", field, wire_type, LEN)?;
            symbols.push(r.str("symbol")?);
        } else {
            r.skip(wire_type)?;
        }
    }
    Ok(())
}

/// The series' metadata before its references are resolved.
#[derive(Default)]
struct RawMetadata {
    metric_type: i32,
    help_ref: u32,
    unit_ref: u32,
}

/// `TimeSeries`: labels_refs (1), samples (2), histograms (3), exemplars (4),
/// metadata (5), created_timestamp (6, not stored).
fn decode_series<'a>(
    bytes: &'a [u8],
    symbols: &[&'a str],
    refs: &mut Vec<u32>,
    out: &mut DecodedWrite<'a>,
    limits: &Limits,
) -> Result<(), WireError> {
    let labels_start = out.labels.len();
    let samples_start = out.samples.len();
    let mut metadata: Option<RawMetadata> = None;
    refs.clear();
    let mut r = Reader::new(bytes);
    while let Some((field, wire_type)) = r.key()? {
        match field {
            1 => read_repeated_u32(&mut r, wire_type, "TimeSeries", field, refs)?,
            2 => out.samples.push(read_sample(&mut r, field, wire_type)?),
            3 => skip_unstored(&mut r, field, wire_type, &mut out.histograms)?,
            4 => skip_unstored(&mut r, field, wire_type, &mut out.exemplars)?,
            5 => {
                expect_wire_type("TimeSeries", field, wire_type, LEN)?;
                metadata = Some(decode_metadata(r.bytes()?)?);
            }
            _ => r.skip(wire_type)?,
        }
    }
    if let Err(error) = resolve_labels(refs, symbols, out) {
        out.reject(labels_start, samples_start, error);
        return Ok(());
    }
    let metric_name = out
        .labels
        .get(labels_start..)
        .unwrap_or_default()
        .iter()
        .find(|l| l.name == "__name__")
        .map(|l| l.value);
    let resolved_metadata = match (metadata, metric_name) {
        (Some(m), Some(name)) => match resolve_metadata(&m, name, symbols) {
            Ok(m) => m,
            Err(error) => {
                out.reject(labels_start, samples_start, error);
                return Ok(());
            }
        },
        _ => None,
    };
    let rejected_before = out.rejected.len();
    out.finish_series(labels_start, samples_start, None, limits);
    if out.rejected.len() == rejected_before {
        out.metadata.extend(resolved_metadata);
    }
    Ok(())
}

/// Pushes the labels that `refs` point at.
fn resolve_labels<'a>(
    refs: &[u32],
    symbols: &[&'a str],
    out: &mut DecodedWrite<'a>,
) -> Result<(), SeriesError> {
    if !refs.len().is_multiple_of(2) {
        return Err(SeriesError::OddLabelRefs(refs.len()));
    }
    for pair in refs.chunks_exact(2) {
        if let [name, value] = *pair {
            out.labels.push(LabelRef {
                name: symbol(symbols, name)?,
                value: symbol(symbols, value)?,
            });
        }
    }
    Ok(())
}

#[inline]
fn symbol<'a>(symbols: &[&'a str], reference: u32) -> Result<&'a str, SeriesError> {
    usize::try_from(reference)
        .ok()
        .and_then(|i| symbols.get(i).copied())
        .ok_or(SeriesError::SymbolOutOfRange {
            reference,
            len: symbols.len(),
        })
}

/// `Metadata`: type (1), help_ref (3), unit_ref (4).
fn decode_metadata(bytes: &[u8]) -> Result<RawMetadata, WireError> {
    let mut m = RawMetadata::default();
    let mut r = Reader::new(bytes);
    while let Some((field, wire_type)) = r.key()? {
        match field {
            1 | 3 | 4 => {
                expect_wire_type("Metadata", field, wire_type, VARINT)?;
                let v = r.varint()?;
                match field {
                    1 => m.metric_type = v as i32,
                    3 => m.help_ref = v as u32,
                    _ => m.unit_ref = v as u32,
                }
            }
            _ => r.skip(wire_type)?,
        }
    }
    Ok(m)
}

/// Resolves metadata references; metadata saying nothing (unknown type, no help,
/// no unit) is not worth keeping and yields `None`.
fn resolve_metadata<'a>(
    m: &RawMetadata,
    name: &'a str,
    symbols: &[&'a str],
) -> Result<Option<MetadataRef<'a>>, SeriesError> {
    let metric_type = MetricType::from_wire(m.metric_type);
    let help = symbol(symbols, m.help_ref)?;
    let unit = symbol(symbols, m.unit_ref)?;
    if metric_type == MetricType::Unknown && help.is_empty() && unit.is_empty() {
        return Ok(None);
    }
    Ok(Some(MetadataRef {
        metric_family_name: name,
        metric_type,
        help,
        unit,
    }))
}
