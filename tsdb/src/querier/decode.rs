//! Decoding one chunk of any float encoding into two columns, with buffers a
//! reader keeps across series ([`DecodeBuffers`]).
//!
//! Why buffers outlive a series: a query reads thousands of short series
//! (a block's run is one or two chunks), so per-series column allocations
//! and the repeated decoding of a cold block's shared timestamp column
//! (one column for all series scraped together, see `block::shared`)
//! cost as much as the values themselves. The last shared column decoded is
//! kept with its encoded bytes and reused only when the next chunk's encoded
//! column is byte-for-byte the same: the encoding is deterministic, so equal
//! bytes are equal timestamps, whichever block or file they come from.

use std::sync::Arc;

use super::{chunk_encoding, SampleError};
use crate::block::{self, split_shared};
use crate::chunkenc::{cold_decode, CodecError, Encoding, XorIterator};
use crate::head::{ChunkSnap, SnapBytes};

/// Encoded shared timestamp columns longer than this are decoded every time
/// instead of kept (they are irregular, hence rarely shared, and copying
/// them for the comparison would cost more than it saves).
const MAX_CACHED_COLUMN_BYTES: usize = 4096;

/// Column buffers reused across the series a reader iterates (see
/// [`Series::iter_with`](super::Series::iter_with)). Holds no samples a
/// caller can see; only allocations and the last shared timestamp column.
#[derive(Debug, Default)]
pub struct DecodeBuffers {
    pub(super) ts: Vec<i64>,
    pub(super) vs: Vec<f64>,
    pub(super) shared: SharedColumn,
}

impl DecodeBuffers {
    /// Drops allocations larger than a block's runs need (a huge run from an
    /// unusual chunk), so buffers kept between queries stay small.
    pub(super) fn trimmed(mut self) -> Self {
        let limit = 2 * crate::block::COLD_RUN_MAX_SAMPLES;
        if self.ts.capacity() > limit || self.vs.capacity() > limit {
            self.ts = Vec::new();
            self.vs = Vec::new();
        }
        if self.shared.grid.capacity() > limit || self.shared.zeros.capacity() > limit {
            self.shared = SharedColumn::default();
        }
        self
    }
}

/// The last decoded shared timestamp column and scratch for a values run's grid.
#[derive(Debug, Default)]
pub(super) struct SharedColumn {
    encoded: Vec<u8>,
    decoded: Vec<i64>,
    /// A values run's grid timestamps `0..n` (decoded, then dropped).
    grid: Vec<i64>,
    /// The zero values of a timestamp chunk (decoded, then dropped).
    zeros: Vec<f64>,
}

impl SharedColumn {
    /// Appends the samples of a `ColdShared` chunk: its values run (`data`)
    /// over the timestamps of `timestamps`. On error nothing is appended.
    fn decode(
        &mut self,
        data: &[u8],
        timestamps: &[u8],
        ts: &mut Vec<i64>,
        vs: &mut Vec<f64>,
    ) -> Result<(), CodecError> {
        if self.decode_values(data, timestamps, ts, vs)? == RunTimestamps::Shared {
            ts.extend_from_slice(&self.decoded);
        }
        Ok(())
    }

    /// The timestamps of the run [`decode_values`](Self::decode_values) left shared.
    pub(super) fn column(&self) -> &[i64] {
        &self.decoded
    }

    /// Appends a `ColdShared` chunk's values to `vs` and makes its timestamp
    /// column this cache's (then read it with [`column`](Self::column)
    /// instead of copying it per series); a column too long to cache is
    /// appended to `ts`. On error nothing is appended.
    fn decode_values(
        &mut self,
        data: &[u8],
        timestamps: &[u8],
        ts: &mut Vec<i64>,
        vs: &mut Vec<f64>,
    ) -> Result<RunTimestamps, CodecError> {
        if timestamps.len() > MAX_CACHED_COLUMN_BYTES {
            block::decode_shared(data, timestamps, ts, vs)?;
            return Ok(RunTimestamps::Own);
        }
        // A decoded column is never empty when encoded: empty means none cached.
        if self.encoded.is_empty() || self.encoded != timestamps {
            self.encoded.clear();
            self.decoded.clear();
            self.zeros.clear();
            if let Err(e) = cold_decode(timestamps, &mut self.decoded, &mut self.zeros) {
                // Not a valid column: nothing cached matches it.
                self.decoded.clear();
                return Err(e);
            }
            self.encoded.extend_from_slice(timestamps);
        }
        let (_, values) = split_shared(data)?;
        let v0 = vs.len();
        self.grid.clear();
        cold_decode(values, &mut self.grid, vs)?;
        if vs.len() - v0 != self.decoded.len() {
            vs.truncate(v0);
            return Err(CodecError::Corrupt {
                offset: 0,
                what: "values and shared timestamps differ in length",
            });
        }
        Ok(RunTimestamps::Shared)
    }
}

/// Where a decoded run's timestamps are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RunTimestamps {
    /// In the reader's own column (`DecodeBuffers::ts`).
    Own,
    /// In the shared column cache ([`SharedColumn::column`]).
    Shared,
}

/// [`decode_chunk`] for an iterator: a `ColdShared` chunk's timestamps stay
/// in the shared column cache instead of being copied into `ts` (a query
/// reads thousands of series over the same few columns).
pub(super) fn decode_run(
    c: &ChunkSnap,
    ts: &mut Vec<i64>,
    vs: &mut Vec<f64>,
    shared: &mut SharedColumn,
) -> Result<RunTimestamps, SampleError> {
    match (&c.bytes, chunk_encoding(c)) {
        (SnapBytes::Shared { values, timestamps }, Encoding::ColdShared) => shared
            .decode_values(values.data(), timestamps.data(), ts, vs)
            .map_err(|e| SampleError::Cold(Arc::new(e))),
        _ => decode_chunk(c, ts, vs, shared).map(|()| RunTimestamps::Own),
    }
}

/// Appends all samples of one chunk, of any float encoding, to `ts`/`vs`.
pub(super) fn decode_chunk(
    c: &ChunkSnap,
    ts: &mut Vec<i64>,
    vs: &mut Vec<f64>,
    shared: &mut SharedColumn,
) -> Result<(), SampleError> {
    match chunk_encoding(c) {
        Encoding::Xor => {
            let mut it = XorIterator::new(c.bytes.as_slice());
            while it.next() {
                let (t, v) = it.at();
                ts.push(t);
                vs.push(v);
            }
            it.err().map_or(Ok(()), |e| Err(e.clone().into()))
        }
        Encoding::Cold => {
            cold_decode(c.bytes.as_slice(), ts, vs).map_err(|e| SampleError::Cold(Arc::new(e)))
        }
        Encoding::ColdShared => match &c.bytes {
            SnapBytes::Shared { values, timestamps } => shared
                .decode(values.data(), timestamps.data(), ts, vs)
                .map_err(|e| SampleError::Cold(Arc::new(e))),
            _ => Err(SampleError::Unsupported(Encoding::ColdShared)),
        },
        other => Err(SampleError::Unsupported(other)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]

    use super::*;
    use crate::chunkenc::cold_encode;
    use crate::codec::put_uvarint;

    /// A `ColdShared` chunk's data and its timestamp chunk, as a block writes them.
    fn shared_chunk(ts: &[i64], vs: &[f64]) -> (Vec<u8>, Vec<u8>) {
        let timestamps = cold_encode(ts, &vec![0.0; ts.len()]).unwrap();
        let grid: Vec<i64> = (0..vs.len() as i64).collect();
        let mut data = Vec::new();
        put_uvarint(&mut data, 42);
        data.extend_from_slice(&cold_encode(&grid, vs).unwrap());
        (data, timestamps)
    }

    fn reference(data: &[u8], timestamps: &[u8]) -> Result<(Vec<i64>, Vec<f64>), CodecError> {
        let (mut ts, mut vs) = (vec![-1], vec![-1.0]);
        block::decode_shared(data, timestamps, &mut ts, &mut vs).map(|()| (ts, vs))
    }

    #[test]
    fn cached_columns_decode_as_the_block_reader_does() {
        let a_ts: Vec<i64> = (0..120).map(|k| 1_000 + k * 15_000).collect();
        let b_ts: Vec<i64> = (0..120).map(|k| 7_000 + k * 15_000 + (k % 7)).collect();
        let vs: Vec<f64> = (0..120).map(|k| f64::from(k) * 0.25).collect();
        let a = shared_chunk(&a_ts, &vs);
        let b = shared_chunk(&b_ts, &vs);
        let short = shared_chunk(&a_ts[..60], &vs[..60]);
        let mut col = SharedColumn::default();
        // Alternating columns, a repeat, an empty column and a length
        // mismatch against a cached column.
        let cases = [
            a.clone(),
            b.clone(),
            b.clone(),
            a.clone(),
            (short.0.clone(), Vec::new()),
            (short.0.clone(), a.1.clone()),
            short,
        ];
        for (data, timestamps) in &cases {
            let (mut ts, mut got_vs) = (vec![-1], vec![-1.0]);
            let got = col
                .decode(data, timestamps, &mut ts, &mut got_vs)
                .map(|()| (ts.clone(), got_vs.clone()));
            match (got, reference(data, timestamps)) {
                (Ok(g), Ok(r)) => assert_eq!(g, r),
                (Err(_), Err(_)) => assert_eq!((ts, got_vs), (vec![-1], vec![-1.0])),
                (g, r) => panic!("cache {g:?} vs reader {r:?}"),
            }
        }
        // Corrupt bytes: an error, nothing appended, and the cache still right afterwards.
        let mut bad_ts = a.1.clone();
        bad_ts.truncate(bad_ts.len() / 2);
        let (mut ts, mut got_vs) = (Vec::new(), Vec::new());
        assert!(col.decode(&a.0, &bad_ts, &mut ts, &mut got_vs).is_err());
        assert!(col.decode(&a.0[..3], &a.1, &mut ts, &mut got_vs).is_err());
        assert!(ts.is_empty() && got_vs.is_empty());
        col.decode(&a.0, &a.1, &mut ts, &mut got_vs).unwrap();
        assert_eq!((ts, got_vs), (a_ts, vs));
    }
}
