//! How a block's chunks are encoded: Prometheus-compatible XOR chunks of at
//! most 120 samples, or promlite's cold-block runs (`chunkenc::cold`).
//!
//! The head always cuts XOR chunks; the block writer re-encodes a series'
//! merged, time-ordered chunks into the block's encoding ([`to_xor`], or
//! [`decode_all`] and [`cold_runs`] for the cold encoding, whose runs share
//! their timestamps through `shared`). Cold runs hold at most [`COLD_RUN_MAX_SAMPLES`] samples: a 2 h block at 15 s
//! scrapes (480 samples) is one run per series, a compacted 54 h block a few
//! runs, and a reader decoding a run into its buffer never needs more than
//! 16 bytes × that bound (64 KiB). Longer runs save only the run header (about
//! 20 bytes, under 0.005 B/sample at this size) and would make a query over a
//! short part of a large block decode more samples. A series' samples are
//! split into equal runs, so no run is a tiny tail.
//!
//! Every chunk the writer is given must already be in time order and disjoint
//! (`merge::merge_chunks` ensures it); re-encoding never changes a sample's
//! bits (NaN payloads and stale markers included).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::merge::{ChunkIn, MergeError, SAMPLES_PER_CHUNK};
use crate::chunkenc::{Encoding, XorChunk};

/// Most samples in one cold chunk: bounds a reader's decode buffer (64 KiB).
pub const COLD_RUN_MAX_SAMPLES: usize = 4096;

/// The chunk encoding a database writes its blocks with (head truncation,
/// snapshots, compaction). Blocks of either encoding stay readable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum BlockEncoding {
    /// Gorilla XOR chunks of at most 120 samples: Prometheus can read the block.
    Xor,
    /// Cold-block runs of up to [`COLD_RUN_MAX_SAMPLES`] samples per chunk:
    /// less than half the bytes of XOR on typical monitoring data, readable
    /// by promlite only (remote read re-encodes to XOR).
    #[default]
    Cold,
}

impl BlockEncoding {
    /// The chunk encoding this block encoding writes.
    pub fn chunk_encoding(self) -> Encoding {
        match self {
            BlockEncoding::Xor => Encoding::Xor,
            BlockEncoding::Cold => Encoding::Cold,
        }
    }
}

/// One series' disjoint, time-ordered chunks as XOR chunks: passed through
/// when they all are XOR already, else decoded and re-encoded.
pub(crate) fn to_xor(chunks: Vec<ChunkIn<'_>>) -> Result<Vec<ChunkIn<'_>>, MergeError> {
    if chunks.iter().all(|c| c.encoding == Encoding::Xor) {
        return Ok(chunks);
    }
    let (ts, vs) = decode_all(&chunks)?;
    xor_chunks(&ts, &vs)
}

/// All samples of one series' disjoint, time-ordered chunks, as columns.
pub(crate) fn decode_all(chunks: &[ChunkIn<'_>]) -> Result<(Vec<i64>, Vec<f64>), MergeError> {
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    for c in chunks {
        c.decode_into(&mut ts, &mut vs)?;
    }
    Ok((ts, vs))
}

/// The index ranges of the cold runs `n` samples are cut into: as few as
/// [`COLD_RUN_MAX_SAMPLES`] allows, of equal length (the last may be shorter by
/// less than the number of runs).
pub(crate) fn cold_runs(n: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let runs = n.div_ceil(COLD_RUN_MAX_SAMPLES).max(1);
    let per_run = n.div_ceil(runs).max(1);
    (0..n)
        .step_by(per_run)
        .map(move |start| start..(start + per_run).min(n))
}

/// `ts`/`vs` as XOR chunks of at most 120 samples.
pub(crate) fn xor_chunks(ts: &[i64], vs: &[f64]) -> Result<Vec<ChunkIn<'static>>, MergeError> {
    let mut out = Vec::with_capacity(ts.len().div_ceil(SAMPLES_PER_CHUNK));
    for (t, v) in ts
        .chunks(SAMPLES_PER_CHUNK)
        .zip(vs.chunks(SAMPLES_PER_CHUNK))
    {
        let mut chunk = XorChunk::new();
        for (t, v) in t.iter().zip(v) {
            chunk
                .try_append(*t, *v)
                .map_err(|e| MergeError::Decode(e.into()))?;
        }
        if let (Some(min_time), Some(max_time)) = (t.first(), t.last()) {
            out.push(ChunkIn {
                min_time: *min_time,
                max_time: *max_time,
                encoding: Encoding::Xor,
                data: Cow::Owned(chunk.into_bytes()),
                timestamps: None,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::merge::sample_count;
    use crate::chunkenc::cold_encode;

    const STALE: u64 = 0x7ff0_0000_0000_0002;

    fn samples(n: usize) -> (Vec<i64>, Vec<f64>) {
        let ts = (0..n as i64).map(|i| i * 15_000 + i % 3).collect();
        let vs = (0..n)
            .map(|i| match i % 50 {
                7 => f64::from_bits(STALE),
                9 => f64::from_bits(0x7ff8_dead_beef_0001),
                _ => (i as f64) * 0.25,
            })
            .collect();
        (ts, vs)
    }

    fn bits(vs: &[f64]) -> Vec<u64> {
        vs.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn cold_to_xor_keeps_every_bit() {
        let (ts, vs) = samples(1000);
        let cold = vec![ChunkIn {
            min_time: ts[0],
            max_time: *ts.last().unwrap(),
            encoding: Encoding::Cold,
            data: Cow::Owned(cold_encode(&ts, &vs).unwrap()),
            timestamps: None,
        }];
        let xor = to_xor(cold).unwrap();
        assert!(xor
            .iter()
            .all(|c| c.encoding == Encoding::Xor && sample_count(c.encoding, &c.data) <= 120));
        let (got_ts, got_vs) = decode_all(&xor).unwrap();
        assert_eq!((got_ts, bits(&got_vs)), (ts, bits(&vs)));
    }

    #[test]
    fn xor_chunks_pass_through() {
        let (ts, vs) = samples(300);
        let xor = xor_chunks(&ts, &vs).unwrap();
        let borrowed: Vec<ChunkIn<'_>> = xor
            .iter()
            .map(|c| ChunkIn {
                data: Cow::Borrowed(c.data.as_ref()),
                ..c.clone()
            })
            .collect();
        let out = to_xor(borrowed).unwrap();
        assert_eq!(out.len(), 3);
        assert!(
            out.iter().all(|c| matches!(c.data, Cow::Borrowed(_))),
            "XOR chunks are kept as they are"
        );
    }

    #[test]
    fn runs_are_even_and_bounded() {
        assert_eq!(cold_runs(0).count(), 0);
        let one: Vec<_> = cold_runs(480).collect();
        assert_eq!((one.len(), one.first().cloned()), (1, Some(0..480)));
        let runs: Vec<_> = cold_runs(10_000).collect();
        assert_eq!(runs, [0..3334, 3334..6668, 6668..10_000]);
        let runs: Vec<_> = cold_runs(COLD_RUN_MAX_SAMPLES + 1).collect();
        assert_eq!(runs.len(), 2);
        assert!(runs.iter().all(|r| r.len() <= COLD_RUN_MAX_SAMPLES));
    }
}
