//! Reading the WAL back: decodes the records of a run of segments and, for the
//! live log, repairs a torn or corrupt tail.
//!
//! The first frame that fails (torn, bad checksum, bad length, undecodable
//! payload) ends the readable log. With [`Repair::TruncateTail`] the segment
//! holding it is cut back to the last good frame and every later segment is
//! removed, with a `tracing::warn!` naming the file and offset: records before
//! the fault are all kept, and the writer can append after them again. A
//! checkpoint is read with [`Repair::Refuse`]: it was fsynced and renamed
//! into place, so a fault there is real corruption and is reported.

use std::fs::{self, File, OpenOptions};
use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::io::sync_dir;
use super::record::{decode_samples, decode_series, RefSample};
use super::segment::{Frame, FrameFault, FrameReader, RecordType, SegmentNo};
use crate::error::Error;
use crate::head::SeriesRef;
use crate::labels::{Labels, Symbol};

/// One decoded record, borrowed from the reader's reused buffers.
pub(crate) enum Record<'a> {
    /// New series.
    Series(&'a [(SeriesRef, Labels)]),
    /// Samples.
    Samples(&'a [RefSample]),
}

/// What to do about a faulty frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repair {
    /// Cut the log back to the last good frame and carry on (the live WAL).
    TruncateTail,
    /// Report [`Error::Corruption`] (checkpoints).
    Refuse,
}

/// Where a faulty log was cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Truncation {
    /// The segment file cut.
    pub(crate) path: PathBuf,
    /// Its new length: the end of its last good frame.
    pub(crate) offset: u64,
    /// What was wrong there.
    pub(crate) fault: FrameFault,
}

/// Reads `segments` (sorted) in order, handing each record to `on_record`.
/// Returns where the log was cut, if it was.
pub(crate) fn read_segments(
    segments: &[(SegmentNo, PathBuf)],
    repair: Repair,
    intern: &mut impl FnMut(&str) -> Symbol,
    on_record: &mut impl FnMut(Record<'_>) -> Result<(), Error>,
) -> Result<Option<Truncation>, Error> {
    let mut payload = Vec::new();
    let mut series = Vec::new();
    let mut samples = Vec::new();
    for (i, (_, path)) in segments.iter().enumerate() {
        let file = File::open(path).map_err(|e| Error::io("open WAL segment", path, e))?;
        let mut reader = FrameReader::new(BufReader::with_capacity(1 << 20, file));
        let fault = loop {
            let frame = reader
                .next(&mut payload)
                .map_err(|e| Error::io("read WAL segment", path, e))?;
            let kind = match frame {
                Ok(Frame::End) => break None,
                Ok(Frame::Record(kind)) => kind,
                Err(fault) => break Some(fault),
            };
            let decoded = match kind {
                RecordType::Series => {
                    series.clear();
                    decode_series(&payload, intern, &mut series).map(|()| Record::Series(&series))
                }
                RecordType::Samples => {
                    samples.clear();
                    decode_samples(&payload, &mut samples).map(|()| Record::Samples(&samples))
                }
            };
            match decoded {
                Ok(record) => on_record(record)?,
                Err(e) => break Some(FrameFault::BadPayload(e.0.to_string())),
            }
        };
        let Some(fault) = fault else { continue };
        // A fault's offset is the start of its frame; FrameReader only advances past good ones.
        let offset = reader.offset();
        if repair == Repair::Refuse {
            return Err(Error::Corruption {
                path: path.clone(),
                offset,
                reason: fault.to_string(),
            });
        }
        let later = segments.get(i + 1..).unwrap_or_default();
        truncate_tail(path, offset, later)?;
        tracing::warn!(
            segment = %path.display(), offset, %fault, removed_later_segments = later.len(),
            "WAL has a torn or corrupt tail; cut back to the last good record"
        );
        return Ok(Some(Truncation {
            path: path.clone(),
            offset,
            fault,
        }));
    }
    Ok(None)
}

fn truncate_tail(path: &Path, offset: u64, later: &[(SegmentNo, PathBuf)]) -> Result<(), Error> {
    let f = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| Error::io("open WAL segment", path, e))?;
    f.set_len(offset)
        .map_err(|e| Error::io("truncate WAL segment", path, e))?;
    f.sync_all()
        .map_err(|e| Error::io("fsync WAL segment", path, e))?;
    for (_, p) in later {
        fs::remove_file(p).map_err(|e| Error::io("remove WAL segment", p, e))?;
    }
    if let Some(dir) = path.parent() {
        sync_dir(dir).map_err(|e| Error::io("fsync directory", dir, e))?;
    }
    Ok(())
}
