//! How a block's chunks are encoded: Prometheus-compatible XOR chunks of at
//! most 120 samples, or promlite's cold-block runs (`chunkenc::cold`).
//!
//! The head always cuts XOR chunks; the block writer re-encodes a series'
//! merged, time-ordered chunks into the block's encoding ([`reencode`]). Cold
//! runs hold at most [`COLD_RUN_MAX_SAMPLES`] samples: a 2 h block at 15 s
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

use super::merge::{decode_into, ChunkIn, MergeError, SAMPLES_PER_CHUNK};
use crate::chunkenc::{cold_encode, Encoding, XorChunk};

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

/// Re-encodes one series' disjoint, time-ordered chunks into `target`.
/// Chunks already in the target encoding pass through untouched when no
/// re-encoding is needed: XOR chunks for an XOR block, a single cold chunk
/// for a cold block.
pub(crate) fn reencode(
    target: BlockEncoding,
    chunks: Vec<ChunkIn<'_>>,
) -> Result<Vec<ChunkIn<'_>>, MergeError> {
    let want = target.chunk_encoding();
    let all_target = chunks.iter().all(|c| c.encoding == want);
    if all_target && (target == BlockEncoding::Xor || chunks.len() <= 1) {
        return Ok(chunks);
    }
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    for c in &chunks {
        decode_into(c.encoding, &c.data, &mut ts, &mut vs)?;
    }
    match target {
        BlockEncoding::Xor => xor_chunks(&ts, &vs),
        BlockEncoding::Cold => cold_chunks(&ts, &vs),
    }
}

/// `ts`/`vs` as cold chunks of at most [`COLD_RUN_MAX_SAMPLES`], split evenly.
fn cold_chunks(ts: &[i64], vs: &[f64]) -> Result<Vec<ChunkIn<'static>>, MergeError> {
    let runs = ts.len().div_ceil(COLD_RUN_MAX_SAMPLES).max(1);
    let per_run = ts.len().div_ceil(runs).max(1);
    ts.chunks(per_run)
        .zip(vs.chunks(per_run))
        .filter_map(|(t, v)| {
            let (min_time, max_time) = (*t.first()?, *t.last()?);
            Some(cold_encode(t, v).map(|data| ChunkIn {
                min_time,
                max_time,
                encoding: Encoding::Cold,
                data: Cow::Owned(data),
            }))
        })
        .collect::<Result<_, _>>()
        .map_err(MergeError::Decode)
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
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::merge::sample_count;

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

    fn decode_all(chunks: &[ChunkIn<'_>]) -> (Vec<i64>, Vec<u64>) {
        let (mut ts, mut vs) = (Vec::new(), Vec::new());
        for c in chunks {
            let before = ts.len();
            decode_into(c.encoding, &c.data, &mut ts, &mut vs).unwrap();
            assert_eq!(c.min_time, ts[before]);
            assert_eq!(c.max_time, *ts.last().unwrap());
            assert_eq!(
                sample_count(c.encoding, &c.data),
                (ts.len() - before) as u64
            );
        }
        (ts, vs.iter().map(|v| v.to_bits()).collect())
    }

    #[test]
    fn xor_to_cold_and_back_keeps_every_bit() {
        let (ts, vs) = samples(10_000);
        let want = (
            ts.clone(),
            vs.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        );
        let xor = xor_chunks(&ts, &vs).unwrap();
        let cold = reencode(BlockEncoding::Cold, xor).unwrap();
        // 10,000 samples: three even runs under the bound.
        assert_eq!(cold.len(), 3);
        assert!(cold.iter().all(|c| c.encoding == Encoding::Cold));
        assert_eq!(decode_all(&cold), want);
        let back = reencode(BlockEncoding::Xor, cold).unwrap();
        assert!(back
            .iter()
            .all(|c| c.encoding == Encoding::Xor && sample_count(c.encoding, &c.data) <= 120));
        assert_eq!(decode_all(&back), want);
    }

    #[test]
    fn chunks_already_in_the_target_encoding_pass_through() {
        let (ts, vs) = samples(300);
        let xor = xor_chunks(&ts, &vs).unwrap();
        let borrowed: Vec<ChunkIn<'_>> = xor
            .iter()
            .map(|c| ChunkIn {
                data: Cow::Borrowed(c.data.as_ref()),
                ..c.clone()
            })
            .collect();
        let out = reencode(BlockEncoding::Xor, borrowed).unwrap();
        assert_eq!(out.len(), xor.len());
        assert!(
            out.iter().all(|c| matches!(c.data, Cow::Borrowed(_))),
            "XOR chunks are kept as they are"
        );
        let cold = reencode(BlockEncoding::Cold, xor).unwrap();
        assert_eq!(cold.len(), 1);
        let borrowed = vec![ChunkIn {
            data: Cow::Borrowed(cold[0].data.as_ref()),
            ..cold[0].clone()
        }];
        let again = reencode(BlockEncoding::Cold, borrowed).unwrap();
        assert!(matches!(again[0].data, Cow::Borrowed(_)), "not re-encoded");
    }
}
