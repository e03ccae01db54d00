//! WAL record payloads: series records and sample records, encoded compactly.
//!
//! A series record lists `(ref, labels)` pairs; a sample record lists
//! `(ref, t, v)` triples with the ref and timestamp stored as zig-zag varint
//! deltas from the record's first sample and the value as its 8 raw bytes, so
//! stale markers and NaN payloads survive bit-exact. Decoders append into
//! buffers the caller owns and reuses, and bound every length by the payload
//! they were given: a corrupt payload is an error, never a panic or a huge
//! allocation. Byte layout: `docs/format/wal.md`.

use crate::head::SeriesRef;
use crate::labels::{Label, Labels, Symbol};

/// One sample as logged: which series, when (ms), what.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RefSample {
    pub(crate) series: SeriesRef,
    pub(crate) t: i64,
    pub(crate) v: f64,
}

/// Why a payload did not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodeError(pub(crate) &'static str);

/// Appends an unsigned LEB128 varint.
pub(crate) fn put_uvarint(buf: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        buf.push((x as u8) | 0x80);
        x >>= 7;
    }
    buf.push(x as u8);
}

/// Appends a zig-zag varint.
pub(crate) fn put_varint(buf: &mut Vec<u8>, x: i64) {
    put_uvarint(buf, ((x << 1) ^ (x >> 63)) as u64);
}

/// A bounded cursor over a payload.
pub(crate) struct Decoder<'a> {
    buf: &'a [u8],
}

impl<'a> Decoder<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Decoder { buf }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub(crate) fn uvarint(&mut self) -> Result<u64, DecodeError> {
        let mut x = 0u64;
        for (i, &b) in self.buf.iter().enumerate().take(10) {
            x |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                self.buf = self.buf.get(i + 1..).unwrap_or_default();
                return Ok(x);
            }
        }
        Err(DecodeError("truncated or overlong varint"))
    }

    pub(crate) fn varint(&mut self) -> Result<i64, DecodeError> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    pub(crate) fn u64_le(&mut self) -> Result<u64, DecodeError> {
        let (head, rest) = self
            .buf
            .split_first_chunk::<8>()
            .ok_or(DecodeError("truncated 8-byte value"))?;
        self.buf = rest;
        Ok(u64::from_le_bytes(*head))
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.buf.len() {
            return Err(DecodeError("length beyond end of record"));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    /// A count of items each at least `min_item_bytes` long; refused if the
    /// remaining payload cannot hold that many, so no decoder over-allocates.
    pub(crate) fn count(&mut self, min_item_bytes: usize) -> Result<usize, DecodeError> {
        let n = usize::try_from(self.uvarint()?).map_err(|_| DecodeError("count overflows"))?;
        if n.saturating_mul(min_item_bytes) > self.buf.len() {
            return Err(DecodeError("count larger than the record"));
        }
        Ok(n)
    }

    fn str(&mut self) -> Result<&'a str, DecodeError> {
        let n = self.count(1)?;
        std::str::from_utf8(self.bytes(n)?).map_err(|_| DecodeError("label is not UTF-8"))
    }
}

/// Appends a series record payload: `count, (ref, nlabels, (name, value)*)*`.
pub(crate) fn encode_series<'a>(
    buf: &mut Vec<u8>,
    series: impl ExactSizeIterator<Item = (SeriesRef, &'a Labels)>,
) {
    put_uvarint(buf, series.len() as u64);
    for (r, labels) in series {
        put_uvarint(buf, u64::from(r.get()));
        put_uvarint(buf, labels.len() as u64);
        for l in labels {
            put_uvarint(buf, l.name.len() as u64);
            buf.extend_from_slice(l.name.as_bytes());
            put_uvarint(buf, l.value.len() as u64);
            buf.extend_from_slice(l.value.as_bytes());
        }
    }
}

/// Decodes a series record, interning strings through `intern`, appending to `out`.
pub(crate) fn decode_series(
    payload: &[u8],
    intern: &mut impl FnMut(&str) -> Symbol,
    out: &mut Vec<(SeriesRef, Labels)>,
) -> Result<(), DecodeError> {
    let mut d = Decoder::new(payload);
    let n = d.count(2)?;
    for _ in 0..n {
        let r = u32::try_from(d.uvarint()?).map_err(|_| DecodeError("series ref exceeds u32"))?;
        let nl = d.count(2)?;
        let mut labels = Vec::with_capacity(nl);
        for _ in 0..nl {
            let name = intern(d.str()?);
            let value = intern(d.str()?);
            labels.push(Label { name, value });
        }
        let labels = Labels::from_labels(labels).map_err(|_| DecodeError("invalid label set"))?;
        out.push((SeriesRef::new(r), labels));
    }
    if !d.is_empty() {
        return Err(DecodeError("trailing bytes after series"));
    }
    Ok(())
}

/// Appends a sample record payload: `count, base_ref, base_t, (dref, dt, v)*`.
pub(crate) fn encode_samples(buf: &mut Vec<u8>, samples: &[RefSample]) {
    put_uvarint(buf, samples.len() as u64);
    let Some(first) = samples.first() else { return };
    put_uvarint(buf, u64::from(first.series.get()));
    put_varint(buf, first.t);
    for s in samples {
        put_varint(
            buf,
            i64::from(s.series.get()) - i64::from(first.series.get()),
        );
        put_varint(buf, s.t.wrapping_sub(first.t));
        buf.extend_from_slice(&s.v.to_bits().to_le_bytes());
    }
}

/// Decodes a sample record, appending to `out`.
pub(crate) fn decode_samples(payload: &[u8], out: &mut Vec<RefSample>) -> Result<(), DecodeError> {
    let mut d = Decoder::new(payload);
    let n = d.count(10)?;
    if n == 0 {
        return if d.is_empty() {
            Ok(())
        } else {
            Err(DecodeError("trailing bytes after samples"))
        };
    }
    let base_ref =
        i64::from(u32::try_from(d.uvarint()?).map_err(|_| DecodeError("series ref exceeds u32"))?);
    let base_t = d.varint()?;
    out.reserve(n);
    for _ in 0..n {
        let r = base_ref
            .checked_add(d.varint()?)
            .and_then(|r| u32::try_from(r).ok());
        let r = r.ok_or(DecodeError("series ref out of range"))?;
        let t = base_t.wrapping_add(d.varint()?);
        let v = f64::from_bits(d.u64_le()?);
        out.push(RefSample {
            series: SeriesRef::new(r),
            t,
            v,
        });
    }
    if !d.is_empty() {
        return Err(DecodeError("trailing bytes after samples"));
    }
    Ok(())
}

/// Interns nothing: each string gets its own allocation (tests, tools).
#[cfg(test)]
pub(crate) fn no_intern(s: &str) -> Symbol {
    std::sync::Arc::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn series_round_trip() {
        let a = Labels::from_pairs([("__name__", "up"), ("job", "node")]).unwrap();
        let b = Labels::from_pairs([("x", "ü")]).unwrap();
        let mut buf = Vec::new();
        encode_series(
            &mut buf,
            [(SeriesRef::new(1), &a), (SeriesRef::new(u32::MAX), &b)].into_iter(),
        );
        let mut out = Vec::new();
        decode_series(&buf, &mut no_intern, &mut out).unwrap();
        assert_eq!(
            out,
            vec![(SeriesRef::new(1), a), (SeriesRef::new(u32::MAX), b)]
        );
    }

    proptest! {
        #[test]
        fn samples_round_trip_bit_exact(raw in prop::collection::vec((any::<u32>(), any::<i64>(), any::<u64>()), 0..50)) {
            let samples: Vec<RefSample> = raw.iter()
                .map(|&(r, t, v)| RefSample { series: SeriesRef::new(r), t, v: f64::from_bits(v) })
                .collect();
            let mut buf = Vec::new();
            encode_samples(&mut buf, &samples);
            let mut out = Vec::new();
            decode_samples(&buf, &mut out).unwrap();
            prop_assert_eq!(out.len(), samples.len());
            for (a, b) in out.iter().zip(&samples) {
                prop_assert_eq!((a.series, a.t, a.v.to_bits()), (b.series, b.t, b.v.to_bits()));
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_samples(&bytes, &mut Vec::new());
            let _ = decode_series(&bytes, &mut no_intern, &mut Vec::new());
        }
    }
}
