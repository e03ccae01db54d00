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
//! 0.05 bytes per sample of one series per distinct column), capped at
//! `MAX_REMEMBERED_BYTES`. A reader
//! resolves the ref within the same block ([`Block::select`](super::Block::select)
//! hands out both chunks) and checks that both runs have the same length.

use std::collections::HashMap;

use crate::chunkenc::{cold_decode, cold_encode, CodecError, Encoding};
use crate::chunks::{ChunkRef, ChunkWriter};
use crate::codec::{put_uvarint, Decoder};

use super::BlockError;

/// Most bytes of encoded timestamp chunks a writer remembers for sharing.
/// Regular scrapes encode a column in tens of bytes, so this holds about a
/// million distinct columns; past it (irregular timestamps in every series)
/// new columns are still written, just not offered for sharing, so a block
/// writer's memory stays bounded whatever the data.
const MAX_REMEMBERED_BYTES: usize = 64 << 20;

/// The timestamp columns a block writer has written so far.
#[derive(Default)]
pub(crate) struct SharedTimestamps {
    /// Encoded timestamp chunk → where it was written.
    written: HashMap<Vec<u8>, ChunkRef>,
    /// Bytes of the keys of `written`.
    remembered_bytes: usize,
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
                if self.remembered_bytes + timestamps.len() <= MAX_REMEMBERED_BYTES {
                    self.remembered_bytes += timestamps.len();
                    self.written.insert(timestamps, r);
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const STALE: u64 = 0x7ff0_0000_0000_0002;

    fn writer(dir: &tempfile::TempDir) -> ChunkWriter {
        ChunkWriter::create(&dir.path().join("chunks"), 1 << 20).unwrap()
    }

    /// The timestamp chunk a run's data refers to, from the writer's map.
    fn timestamps_of<'a>(shared: &'a SharedTimestamps, data: &[u8]) -> &'a [u8] {
        let (r, _) = split(data).unwrap();
        shared
            .written
            .iter()
            .find(|(_, v)| **v == r)
            .map(|(k, _)| k.as_slice())
            .unwrap()
    }

    #[test]
    fn equal_columns_are_written_once_and_decode_bit_exact() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = writer(&dir);
        let mut shared = SharedTimestamps::default();
        let ts: Vec<i64> = (0..500).map(|i| 1_000 + i * 15_000 + i % 7).collect();
        let a: Vec<f64> = (0..500).map(|i| f64::from(i) * 0.5).collect();
        let mut b = a.clone();
        b[3] = f64::from_bits(STALE);
        b[4] = f64::from_bits(0x7ff8_0000_0000_beef);
        let da = shared.encode_run(&ts, &a, &mut w).unwrap();
        let db = shared.encode_run(&ts, &b, &mut w).unwrap();
        assert_eq!(shared.written.len(), 1);
        assert_eq!(split(&da).unwrap().0, split(&db).unwrap().0);
        let other: Vec<i64> = ts.iter().map(|t| t + 1).collect();
        shared.encode_run(&other, &a, &mut w).unwrap();
        assert_eq!(
            shared.written.len(),
            2,
            "a different column gets its own chunk"
        );

        let (mut got_ts, mut got_vs) = (vec![-1], vec![-1.0]);
        decode(&db, timestamps_of(&shared, &db), &mut got_ts, &mut got_vs).unwrap();
        assert_eq!(got_ts[1..], ts[..]);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got_vs[1..]), bits(&b));
        assert_eq!(sample_count(&db).unwrap(), 500);
    }

    #[test]
    fn a_timestamp_chunk_of_another_length_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = writer(&dir);
        let mut shared = SharedTimestamps::default();
        let long = shared.encode_run(&[1, 2, 3], &[1.0; 3], &mut w).unwrap();
        let short = shared.encode_run(&[1, 2], &[1.0; 2], &mut w).unwrap();
        let (mut ts, mut vs) = (vec![7], vec![7.0]);
        let err = decode(&long, timestamps_of(&shared, &short), &mut ts, &mut vs);
        assert!(matches!(err, Err(CodecError::Corrupt { .. })));
        assert_eq!((ts, vs), (vec![7], vec![7.0]), "nothing appended");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(
            data in proptest::collection::vec(any::<u8>(), 0..64),
            timestamps in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let (mut ts, mut vs) = (Vec::new(), Vec::new());
            if decode(&data, &timestamps, &mut ts, &mut vs).is_ok() {
                prop_assert_eq!(ts.len(), vs.len());
            }
            let _ = sample_count(&data);
        }
    }
}
