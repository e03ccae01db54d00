//! The write-ahead log: every committed sample is here before it is in the head.
//!
//! `commit()` encodes its new series and samples as records ([`record`]),
//! frames them with a CRC32C ([`segment`]) and hands them to the [`writer`] in
//! one write; group fsync makes them durable per [`FsyncPolicy`]. On open,
//! [`replay`] reads the newest checkpoint and the segments after it, cutting a
//! torn tail ([`reader`]); after a head truncation a [`checkpoint`] replaces
//! old segments. All segment-file writes go through the [`io`] trait so tests
//! can inject failures. The WAL never holds a lock of the head.

mod checkpoint;
mod io;
mod reader;
mod record;
mod segment;
mod writer;

use std::fs;
use std::path::Path;

pub use writer::FsyncPolicy;

pub(crate) use checkpoint::write_checkpoint;
pub(crate) use io::OsIo;
pub(crate) use reader::Record;
pub(crate) use record::RefSample;
pub(crate) use segment::SegmentNo;
pub(crate) use writer::WalWriter;

use crate::error::Error;
use crate::head::SeriesRef;
use crate::labels::{Labels, Symbol};
use reader::{read_segments, Repair};
use segment::{begin_frame, finish_frame, list_segments, RecordType};

/// Series per frame: keeps every frame far below the payload bound.
const SERIES_PER_FRAME: usize = 10_000;
/// Samples per frame: at most 8 + 2×10 bytes each, so well under the bound.
const SAMPLES_PER_FRAME: usize = 200_000;

/// Appends series-record frames for `series` to `buf` (nothing if empty).
pub(crate) fn encode_series_frames<'a>(
    buf: &mut Vec<u8>,
    series: impl Iterator<Item = (SeriesRef, &'a Labels)>,
) {
    let mut series = series.peekable();
    while series.peek().is_some() {
        let batch: Vec<(SeriesRef, &Labels)> = series.by_ref().take(SERIES_PER_FRAME).collect();
        let start = begin_frame(buf);
        record::encode_series(buf, batch.into_iter());
        finish_frame(buf, start, RecordType::Series);
    }
}

/// Appends sample-record frames for `samples` to `buf` (nothing if empty).
pub(crate) fn encode_samples_frames(buf: &mut Vec<u8>, samples: &[RefSample]) {
    for batch in samples.chunks(SAMPLES_PER_FRAME) {
        let start = begin_frame(buf);
        record::encode_samples(buf, batch);
        finish_frame(buf, start, RecordType::Samples);
    }
}

/// What replay found.
#[derive(Debug)]
pub(crate) struct Replayed {
    /// The segment number the writer should start next.
    pub(crate) next_segment: SegmentNo,
}

/// Replays `wal_dir` (created if absent): the newest checkpoint, then every
/// later segment, repairing a bad tail. Each record goes to `on_record` in log order.
pub(crate) fn replay(
    wal_dir: &Path,
    intern: &mut impl FnMut(&str) -> Symbol,
    on_record: &mut impl FnMut(Record<'_>) -> Result<(), Error>,
) -> Result<Replayed, Error> {
    fs::create_dir_all(wal_dir).map_err(|e| Error::io("create WAL directory", wal_dir, e))?;
    checkpoint::remove_temporary(wal_dir)?;
    let checkpoint = checkpoint::list_checkpoints(wal_dir)?.pop();
    if let Some((_, dir)) = &checkpoint {
        let segs = list_segments(dir).map_err(|e| Error::io("list checkpoint", dir, e))?;
        read_segments(&segs, Repair::Refuse, intern, on_record)?;
    }
    let after = checkpoint.map(|(no, _)| no);
    let segments: Vec<_> = list_segments(wal_dir)
        .map_err(|e| Error::io("list WAL directory", wal_dir, e))?
        .into_iter()
        .filter(|(no, _)| after.is_none_or(|a| *no > a))
        .collect();
    for pair in segments.windows(2) {
        if let [(a, _), (b, _)] = pair {
            if a.next() != *b {
                tracing::warn!(
                    from = a.0,
                    to = b.0,
                    "WAL segments are not contiguous; replaying what exists"
                );
            }
        }
    }
    // A cut tail is logged by the reader; replay carries on with what is left.
    read_segments(&segments, Repair::TruncateTail, intern, on_record)?;
    // Start after whatever survived; a segment cut by repair stays, shortened, and is not reused.
    let last = list_segments(wal_dir)
        .map_err(|e| Error::io("list WAL directory", wal_dir, e))?
        .last()
        .map(|(no, _)| *no);
    let next_segment = match (last, after) {
        (Some(l), _) => l.next(),
        (None, Some(a)) => a.next(),
        (None, None) => SegmentNo(0),
    };
    Ok(Replayed { next_segment })
}
