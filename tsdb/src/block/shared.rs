//! Timestamps shared between the series of a cold block.
//!
//! Prometheus scrapes every series of a target at once, so the series of one
//! target carry identical timestamps (32 series per pod in our Kubernetes-like
//! set). A cold block stores each distinct timestamp column once, as a plain
//! cold chunk whose values are all zero, and each series run as a
//! [`Encoding::ColdShared`] chunk: the ref of that timestamp chunk and a cold
//! run of the values over the timestamps `0, 1, 2, …` (a grid that encodes in
//! a few bytes):
//!
//! ```text
//! ColdShared data: uvarint timestamp-chunk ref | cold run (t = 0..n, the values)
//! ```
//!
//! Sharing is exact, not hashed: the writer keys timestamp chunks by their
//! encoded bytes, and the encoding is deterministic and lossless, so equal
//! bytes mean equal columns. Its memory is the encoded columns only (about
//! 0.05 bytes per sample of one series per distinct column). A reader
//! resolves the ref within the same block ([`Block::select`](super::Block::select)
//! hands out both chunks) and checks that both runs have the same length.

use std::collections::HashMap;

use crate::chunkenc::{cold_decode, cold_encode, CodecError, Encoding};
use crate::chunks::{ChunkRef, ChunkWriter};
use crate::codec::{put_uvarint, Decoder};

use super::BlockError;

/// The timestamp columns a block writer has written so far.
#[derive(Default)]
pub(crate) struct SharedTimestamps {
    /// Encoded timestamp chunk → where it was written.
    written: HashMap<Vec<u8>, ChunkRef>,
    /// Scratch: the zero values of a timestamp chunk, the grid of a values run.
    zeros: Vec<f64>,
    grid: Vec<i64>,
}

impl SharedTimestamps {
    /// Encodes one run as a `ColdShared` chunk's data, first writing its
    /// timestamp chunk to `writer` unless an identical one is in the block.
    pub(crate) fn encode_run(
        &mut self,
        ts: &[i64],
        vs: &[f64],
        writer: &mut ChunkWriter,
    ) -> Result<Vec<u8>, BlockError> {
        let codec = |source| BlockError::Undecodable {
            encoding: Encoding::ColdShared,
            source: Some(source),
        };
        self.zeros.resize(ts.len(), 0.0);
        let timestamps =
            cold_encode(ts, self.zeros.get(..ts.len()).unwrap_or_default()).map_err(codec)?;
        let ts_ref = match self.written.get(&timestamps) {
            Some(r) => *r,
            None => {
                let r = writer.write_chunk(Encoding::Cold, &timestamps)?;
                self.written.insert(timestamps, r);
                r
            }
        };
        if self.grid.len() < vs.len() {
            self.grid = (0..vs.len() as i64).collect();
        }
        let values =
            cold_encode(self.grid.get(..vs.len()).unwrap_or_default(), vs).map_err(codec)?;
        let mut data = Vec::with_capacity(10 + values.len());
        put_uvarint(&mut data, ts_ref.as_u64());
        data.extend_from_slice(&values);
        Ok(data)
    }
}

/// Splits a `ColdShared` chunk's data into its timestamp chunk's ref and its values run.
pub(crate) fn split(data: &[u8]) -> Result<(ChunkRef, &[u8]), CodecError> {
    let mut d = Decoder::new(data);
    let r = d.uvarint().ok_or(CodecError::Truncated { offset: 0 })?;
    let rest = data.get(d.pos()..).unwrap_or_default();
    Ok((ChunkRef::from_u64(r), rest))
}

/// Appends the samples of a `ColdShared` chunk (`data`) whose timestamp chunk
/// holds `timestamps`. On error nothing is appended.
pub(crate) fn decode(
    data: &[u8],
    timestamps: &[u8],
    ts: &mut Vec<i64>,
    vs: &mut Vec<f64>,
) -> Result<(), CodecError> {
    let (t0, v0) = (ts.len(), vs.len());
    let res = decode_both(data, timestamps, ts, vs);
    if res.is_err() {
        ts.truncate(t0);
        vs.truncate(v0);
    }
    res
}

fn decode_both(
    data: &[u8],
    timestamps: &[u8],
    ts: &mut Vec<i64>,
    vs: &mut Vec<f64>,
) -> Result<(), CodecError> {
    let (t0, v0) = (ts.len(), vs.len());
    let (_, values) = split(data)?;
    // The timestamp chunk's zero values and the values run's grid land in
    // the other column first and are cut off: no scratch buffers.
    cold_decode(timestamps, ts, vs)?;
    vs.truncate(v0);
    let t1 = ts.len();
    cold_decode(values, ts, vs)?;
    ts.truncate(t1);
    if t1 - t0 != vs.len() - v0 {
        return Err(CodecError::Corrupt {
            offset: 0,
            what: "values and shared timestamps differ in length",
        });
    }
    Ok(())
}

/// Samples in a `ColdShared` chunk, from its values run alone.
pub(crate) fn sample_count(data: &[u8]) -> Result<usize, CodecError> {
    let (_, values) = split(data)?;
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    cold_decode(values, &mut ts, &mut vs)?;
    Ok(vs.len())
}
