//! Putting one series' chunks in order: sort by time, and re-encode runs of
//! overlapping chunks (overlapping blocks, out-of-order data) into fresh XOR
//! chunks without duplicate timestamps.
//!
//! The common case — chunks that do not overlap — is passed through as
//! borrowed bytes, with no decoding. When two samples share a timestamp, the
//! one from the chunk earlier in the input wins. Callers pass chunks in the
//! order the querier ranks them (head in-order data before out-of-order data;
//! blocks by time), so a merged block shows what a query over its parents
//! showed; it also matches the head, where the first value written for a
//! timestamp stays.

use std::borrow::Cow;

use super::encoding::xor_chunks;
use super::shared;
use crate::chunkenc::{cold_decode, CodecError, Encoding, XorIterator};

/// Samples per re-encoded chunk, as in the head.
pub(crate) const SAMPLES_PER_CHUNK: usize = 120;

/// One chunk of a series, borrowed or owned.
#[derive(Debug, Clone)]
pub(crate) struct ChunkIn<'a> {
    /// First sample's timestamp, ms (inclusive).
    pub(crate) min_time: i64,
    /// Last sample's timestamp, ms (inclusive).
    pub(crate) max_time: i64,
    /// How `data` is encoded.
    pub(crate) encoding: Encoding,
    /// The encoded chunk.
    pub(crate) data: Cow<'a, [u8]>,
    /// For a `ColdShared` chunk, the block's timestamp chunk it refers to.
    pub(crate) timestamps: Option<Cow<'a, [u8]>>,
}

impl ChunkIn<'_> {
    /// Appends this chunk's samples to `ts`/`vs` (see [`decode_into`]).
    pub(crate) fn decode_into(
        &self,
        ts: &mut Vec<i64>,
        vs: &mut Vec<f64>,
    ) -> Result<(), MergeError> {
        decode_into(
            self.encoding,
            &self.data,
            self.timestamps.as_deref(),
            ts,
            vs,
        )
    }
}

/// Why chunks could not be merged.
#[derive(Debug)]
pub(crate) enum MergeError {
    /// Overlapping chunks use an encoding we cannot decode.
    Unsupported(Encoding),
    /// A chunk failed to decode.
    Decode(CodecError),
}

/// Orders `chunks` by time; overlapping runs are decoded, merged and re-encoded.
pub(crate) fn merge_chunks(chunks: Vec<ChunkIn<'_>>) -> Result<Vec<ChunkIn<'_>>, MergeError> {
    let disjoint = chunks
        .windows(2)
        .all(|w| matches!(w, [a, b] if a.max_time < b.min_time));
    if disjoint {
        // The common case: already in order (head chunks, one block's chunks).
        return Ok(chunks);
    }
    // Rank = input position, kept through the sort by start time.
    let mut ranked: Vec<(usize, ChunkIn<'_>)> = chunks.into_iter().enumerate().collect();
    ranked.sort_by_key(|(rank, c)| (c.min_time, *rank));
    let mut out = Vec::with_capacity(ranked.len());
    let mut run: Vec<(usize, ChunkIn<'_>)> = Vec::new();
    let mut run_end = i64::MIN;
    for (rank, c) in ranked {
        if !run.is_empty() && c.min_time > run_end {
            flush_run(&mut run, &mut out)?;
        }
        run_end = if run.is_empty() {
            c.max_time
        } else {
            run_end.max(c.max_time)
        };
        run.push((rank, c));
    }
    flush_run(&mut run, &mut out)?;
    Ok(out)
}

fn flush_run<'a>(
    run: &mut Vec<(usize, ChunkIn<'a>)>,
    out: &mut Vec<ChunkIn<'a>>,
) -> Result<(), MergeError> {
    if run.len() == 1 {
        out.extend(run.drain(..).map(|(_, c)| c));
        return Ok(());
    }
    // (t, rank, v): sort by time, then rank; among equal times keep the first.
    let mut samples: Vec<(i64, usize, f64)> = Vec::new();
    let (mut ts, mut vs) = (Vec::new(), Vec::new());
    for (rank, c) in run.drain(..) {
        ts.clear();
        vs.clear();
        c.decode_into(&mut ts, &mut vs)?;
        samples.extend(ts.iter().zip(&vs).map(|(t, v)| (*t, rank, *v)));
    }
    samples.sort_by_key(|(t, rank, _)| (*t, *rank));
    let mut deduped: Vec<(i64, f64)> = Vec::with_capacity(samples.len());
    for (t, _, v) in samples {
        if deduped.last().is_none_or(|last| last.0 != t) {
            deduped.push((t, v));
        }
    }
    let (ts, vs): (Vec<i64>, Vec<f64>) = deduped.into_iter().unzip();
    out.extend(xor_chunks(&ts, &vs)?);
    Ok(())
}

/// Appends the samples of one chunk to `ts`/`vs`: XOR and cold chunks are
/// decoded (a `ColdShared` one with its block's `timestamps` chunk),
/// anything else cannot be merged.
pub(crate) fn decode_into(
    encoding: Encoding,
    data: &[u8],
    timestamps: Option<&[u8]>,
    ts: &mut Vec<i64>,
    vs: &mut Vec<f64>,
) -> Result<(), MergeError> {
    match encoding {
        Encoding::Xor => {
            let mut it = XorIterator::new(data);
            while it.next() {
                let (t, v) = it.at();
                ts.push(t);
                vs.push(v);
            }
            match it.err() {
                Some(e) => Err(MergeError::Decode(e.clone().into())),
                None => Ok(()),
            }
        }
        Encoding::Cold => cold_decode(data, ts, vs).map_err(MergeError::Decode),
        Encoding::ColdShared => {
            let timestamps = timestamps.ok_or(MergeError::Decode(CodecError::Corrupt {
                offset: 0,
                what: "shared timestamp chunk not found",
            }))?;
            shared::decode(data, timestamps, ts, vs).map_err(MergeError::Decode)
        }
        other => Err(MergeError::Unsupported(other)),
    }
}

/// Samples in a chunk: XOR chunks carry the count in their first two bytes
/// (big-endian); cold chunks are decoded (shared ones without their
/// timestamps); 0 for encodings we cannot read.
pub(crate) fn sample_count(encoding: Encoding, data: &[u8]) -> u64 {
    match (encoding, data) {
        (Encoding::Xor, [hi, lo, ..]) => u64::from(u16::from_be_bytes([*hi, *lo])),
        (Encoding::Cold, _) => {
            let (mut ts, mut vs) = (Vec::new(), Vec::new());
            cold_decode(data, &mut ts, &mut vs).map_or(0, |()| ts.len() as u64)
        }
        (Encoding::ColdShared, _) => shared::sample_count(data).map_or(0, |n| n as u64),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunkenc::XorChunk;

    fn xor(samples: &[(i64, f64)]) -> ChunkIn<'static> {
        let mut c = XorChunk::new();
        for (t, v) in samples {
            c.append(*t, *v);
        }
        ChunkIn {
            min_time: samples.first().unwrap().0,
            max_time: samples.last().unwrap().0,
            encoding: Encoding::Xor,
            data: Cow::Owned(c.into_bytes()),
            timestamps: None,
        }
    }

    fn decode_all(chunks: &[ChunkIn<'_>]) -> Vec<(i64, f64)> {
        let mut out = Vec::new();
        for c in chunks {
            let start = out.len();
            let mut it = XorIterator::new(&c.data);
            while it.next() {
                out.push(it.at());
            }
            assert!(it.err().is_none());
            assert_eq!(
                out.len() - start,
                sample_count(c.encoding, &c.data) as usize
            );
            assert_eq!(c.min_time, out[start].0);
            assert_eq!(c.max_time, out.last().unwrap().0);
        }
        out
    }

    #[test]
    fn disjoint_chunks_pass_through_sorted() {
        let a = xor(&[(10, 1.0), (20, 2.0)]);
        let b = xor(&[(30, 3.0)]);
        let a_bytes = a.data.to_vec();
        let out = merge_chunks(vec![b, a]).unwrap();
        assert_eq!(
            out[0].data.as_ref(),
            a_bytes.as_slice(),
            "passed through unchanged"
        );
        assert_eq!(decode_all(&out), [(10, 1.0), (20, 2.0), (30, 3.0)]);
    }

    #[test]
    fn overlaps_merge_first_wins_and_recut_at_120() {
        let old: Vec<(i64, f64)> = (0..200).map(|i| (i * 10, 1.0)).collect();
        let new: Vec<(i64, f64)> = (0..50).map(|i| (i * 20 + 5 * (i % 2), 2.0)).collect();
        // The higher-ranked chunk starts later: ranks, not start times, settle ties.
        let out = merge_chunks(vec![xor(&new), xor(&old[..100]), xor(&old[100..])]).unwrap();
        let got = decode_all(&out);
        assert!(out.iter().all(|c| sample_count(c.encoding, &c.data) <= 120));
        assert!(
            got.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted, no duplicates"
        );
        let mut want: std::collections::BTreeMap<i64, f64> = old.iter().copied().collect();
        want.extend(new.iter().copied());
        assert_eq!(got, want.into_iter().collect::<Vec<_>>());
        assert_eq!(
            got.iter().find(|s| s.0 == 0),
            Some(&(0, 2.0)),
            "the first chunk's value is kept"
        );
    }

    #[test]
    fn cold_chunks_merge_with_xor_chunks() {
        let cold_samples: Vec<(i64, f64)> = (0..10).map(|i| (i * 7, 3.0)).collect();
        let (ts, vs): (Vec<i64>, Vec<f64>) = cold_samples.iter().copied().unzip();
        let cold = ChunkIn {
            min_time: 0,
            max_time: 63,
            encoding: Encoding::Cold,
            data: Cow::Owned(crate::chunkenc::cold_encode(&ts, &vs).unwrap()),
            timestamps: None,
        };
        assert_eq!(sample_count(Encoding::Cold, &cold.data), 10);
        let out = merge_chunks(vec![cold, xor(&[(5, 1.0), (14, 2.0)])]).unwrap();
        // The cold chunk comes first, so its value at t=14 wins.
        let mut want: std::collections::BTreeMap<i64, f64> =
            [(5, 1.0), (14, 2.0)].into_iter().collect();
        want.extend(cold_samples);
        assert_eq!(decode_all(&out), want.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn overlap_with_unknown_encoding_is_refused() {
        let mut b = xor(&[(5, 1.0)]);
        b.encoding = Encoding::Histogram;
        assert!(matches!(
            merge_chunks(vec![xor(&[(1, 1.0), (9, 1.0)]), b]),
            Err(MergeError::Unsupported(_))
        ));
    }
}
