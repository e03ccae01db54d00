//! Out-of-order samples of one series: accepted within the configured window
//! (`out_of_order_window_ms`, like Prometheus 2.39+ `out_of_order_time_window`)
//! and kept apart from the in-order chunks until a query merges them.
//!
//! New out-of-order samples go into a small sorted buffer; when it holds
//! [`OOO_CAPACITY`] samples it is encoded as one XOR chunk (sorted, so the
//! encoding is valid) and a new buffer starts. Chunks cut from different
//! buffers may overlap each other and the in-order chunks; the querier merges
//! them and drops duplicate timestamps. A timestamp already in the buffer is a
//! no-op with the same value and a [`DuplicateSampleForTimestamp`] otherwise;
//! duplicates against already cut chunks are resolved at query time.
//!
//! [`DuplicateSampleForTimestamp`]: crate::AppendError::DuplicateSampleForTimestamp

use std::sync::Arc;

use super::series::{ChunkSnap, SnapBytes};
use crate::chunkenc::{XorChunk, XorIterator};
use crate::error::AppendError;

/// Samples buffered before they are encoded (Prometheus's `out_of_order_cap` default).
pub(crate) const OOO_CAPACITY: usize = 32;

/// One series' out-of-order data.
#[derive(Default)]
pub(crate) struct OooChunks {
    /// Sorted by timestamp, unique timestamps; values as raw bits.
    buffer: Vec<(i64, u64)>,
    /// Encoded buffers: (min t, max t, XOR bytes).
    chunks: Vec<(i64, i64, Arc<[u8]>)>,
}

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OooInsert {
    /// The sample was added.
    Added,
    /// The same sample was already there.
    Duplicate,
}

impl OooChunks {
    /// Adds a sample (ms, value).
    pub(crate) fn insert(&mut self, t: i64, v: f64) -> Result<OooInsert, AppendError> {
        let bits = v.to_bits();
        match self.buffer.binary_search_by_key(&t, |&(bt, _)| bt) {
            Ok(i) => match self.buffer.get(i) {
                Some(&(_, b)) if b == bits => Ok(OooInsert::Duplicate),
                _ => Err(AppendError::DuplicateSampleForTimestamp { t }),
            },
            Err(i) => {
                self.buffer.insert(i, (t, bits));
                if self.buffer.len() >= OOO_CAPACITY {
                    self.cut();
                }
                Ok(OooInsert::Added)
            }
        }
    }

    /// Value bits buffered at `t`, if any (cut chunks are not searched).
    pub(crate) fn buffered(&self, t: i64) -> Option<u64> {
        let i = self.buffer.binary_search_by_key(&t, |&(bt, _)| bt).ok()?;
        self.buffer.get(i).map(|&(_, b)| b)
    }

    fn cut(&mut self) {
        if let Some(c) = encode(&self.buffer) {
            self.chunks.push(c);
        }
        self.buffer.clear();
    }

    /// True if no out-of-order data is held.
    pub(crate) fn is_empty(&self) -> bool {
        self.buffer.is_empty() && self.chunks.is_empty()
    }

    /// Appends snapshots of the data overlapping `[mint, maxt]` (ms, inclusive).
    pub(crate) fn snapshot(&self, mint: i64, maxt: i64, out: &mut Vec<ChunkSnap>) {
        for (lo, hi, bytes) in &self.chunks {
            if *lo <= maxt && *hi >= mint {
                out.push(ChunkSnap {
                    min_t: *lo,
                    max_t: *hi,
                    bytes: SnapBytes::Heap(Arc::clone(bytes)),
                    out_of_order: true,
                });
            }
        }
        let in_range: Vec<(i64, u64)> = self
            .buffer
            .iter()
            .copied()
            .filter(|&(t, _)| t >= mint && t <= maxt)
            .collect();
        if let Some((lo, hi, bytes)) = encode(&in_range) {
            out.push(ChunkSnap {
                min_t: lo,
                max_t: hi,
                bytes: SnapBytes::Heap(bytes),
                out_of_order: true,
            });
        }
    }

    /// Drops data entirely before `t` (ms): whole chunks and buffered samples.
    pub(crate) fn truncate_before(&mut self, t: i64) {
        self.chunks.retain(|(_, hi, _)| *hi >= t);
        // Late data is not cut at block boundaries: a chunk reaching across `t`
        // keeps only its samples from `t` on, or the next block would repeat them.
        for chunk in &mut self.chunks {
            if chunk.0 < t {
                let mut kept = Vec::new();
                let mut it = XorIterator::new(&chunk.2);
                while it.next() {
                    let (st, v) = it.at();
                    if st >= t {
                        kept.push((st, v.to_bits()));
                    }
                }
                if let Some(c) = encode(&kept) {
                    *chunk = c;
                }
            }
        }
        self.buffer.retain(|(st, _)| *st >= t);
    }
}

/// Encodes sorted samples as an XOR chunk: (min t, max t, bytes); None if empty.
fn encode(samples: &[(i64, u64)]) -> Option<(i64, i64, Arc<[u8]>)> {
    let (&(lo, _), &(hi, _)) = (samples.first()?, samples.last()?);
    let mut c = XorChunk::new();
    for &(t, bits) in samples {
        c.append(t, f64::from_bits(bits));
    }
    Some((lo, hi, Arc::from(c.bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(snaps: &[ChunkSnap]) -> Vec<Vec<i64>> {
        snaps
            .iter()
            .map(|s| {
                let mut it = XorIterator::new(s.bytes.as_slice());
                let mut ts = Vec::new();
                while it.next() {
                    ts.push(it.at().0);
                }
                ts
            })
            .collect()
    }

    #[test]
    fn buffer_stays_sorted_and_cuts_at_capacity() {
        let mut o = OooChunks::default();
        for t in (0..OOO_CAPACITY as i64 + 3).rev() {
            assert_eq!(o.insert(t, 1.0).unwrap(), OooInsert::Added);
        }
        let mut out = Vec::new();
        o.snapshot(i64::MIN, i64::MAX, &mut out);
        let got = samples(&out);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], (3..OOO_CAPACITY as i64 + 3).collect::<Vec<_>>());
        assert_eq!(got[1], vec![0, 1, 2]);
    }

    #[test]
    fn duplicates() {
        let mut o = OooChunks::default();
        o.insert(5, 1.0).unwrap();
        assert_eq!(o.insert(5, 1.0).unwrap(), OooInsert::Duplicate);
        assert_eq!(
            o.insert(5, 2.0),
            Err(AppendError::DuplicateSampleForTimestamp { t: 5 })
        );
    }

    #[test]
    fn snapshot_respects_range_and_truncation() {
        let mut o = OooChunks::default();
        for t in [10, 20, 30] {
            o.insert(t, 0.0).unwrap();
        }
        let mut out = Vec::new();
        o.snapshot(15, 30, &mut out);
        assert_eq!(samples(&out), vec![vec![20, 30]]);
        o.truncate_before(25);
        out.clear();
        o.snapshot(i64::MIN, i64::MAX, &mut out);
        assert_eq!(samples(&out), vec![vec![30]]);
        // A cut chunk reaching across the truncation point is trimmed.
        let mut o = OooChunks::default();
        for t in (0..OOO_CAPACITY as i64).rev() {
            o.insert(t, 0.0).unwrap();
        }
        o.truncate_before(10);
        out.clear();
        o.snapshot(i64::MIN, i64::MAX, &mut out);
        assert_eq!(
            samples(&out),
            vec![(10..OOO_CAPACITY as i64).collect::<Vec<_>>()]
        );
        assert_eq!(out[0].min_t, 10);
    }
}
