//! The tsdb's error types: [`Error`] for operations on the database and its files,
//! [`AppendError`] for one refused sample.
//!
//! They are split because callers act differently: an `AppendError` rejects one
//! sample of a batch (the client sent bad data, HTTP 400), while an `Error` means
//! the database itself could not do its job (HTTP 500). Variants carry what a
//! person needs to act: the file and offset of a corruption, the timestamps of a
//! refused sample. Errors are never stringified on the way up; context is added
//! with `#[source]`.

use std::io;
use std::path::PathBuf;

use crate::head::SeriesRef;
use crate::labels::LabelsError;

/// A failure of the database: I/O, corruption, or a refused operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done (`"open"`, `"write"`, `"fsync"`, ...).
        op: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A file holds bytes that do not decode. Reported for data that repair
    /// cannot cut away (a checkpoint, a block); a corrupt WAL tail is repaired instead.
    #[error("corruption in {path} at byte {offset}: {reason}")]
    Corruption {
        /// The file concerned.
        path: PathBuf,
        /// Byte offset of the first bad byte or of the record holding it.
        offset: u64,
        /// What was wrong.
        reason: String,
    },
    /// An earlier WAL write or fsync failed; the WAL refuses further writes
    /// because it cannot know what reached the disk. Reopen the database.
    #[error("the WAL is poisoned by an earlier failed write or fsync; reopen the database")]
    WalPoisoned,
    /// The database was closed.
    #[error("the database is closed")]
    Closed,
    /// Another `Db` (in this or another process) has the data directory open:
    /// it holds the `flock` on the directory's `lock` file.
    #[error("data directory {dir} is in use: another process or Db holds the lock on {dir}/lock")]
    DirLocked {
        /// The data directory.
        dir: PathBuf,
    },
    /// The head was truncated into a block while the batch was open, so some of
    /// its samples (validated before that) now fall into the range already
    /// written. Nothing of the batch was written or applied: append it again
    /// and those samples are refused one by one
    /// ([`AppendError::OutOfBounds`]) while the rest is kept.
    #[error("{samples} samples of the batch fall before the oldest appendable time {min_valid} ms after a concurrent head truncation; nothing was committed")]
    OutOfBoundsAtCommit {
        /// Samples of the batch now out of bounds.
        samples: usize,
        /// The oldest timestamp the head accepts now, ms.
        min_valid: i64,
    },
    /// The options are inconsistent.
    #[error("invalid option {name}: {reason}")]
    InvalidOption {
        /// The option's field name.
        name: &'static str,
        /// Why it was refused.
        reason: &'static str,
    },
    /// An index (the head's postings or a block's index file) could not answer.
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
    /// A chunk segment file could not be written or read.
    #[error(transparent)]
    ChunkFile(#[from] crate::chunks::ChunkFileError),
    /// The block layer failed (writing, reading or deleting a block).
    #[error("block {path}: {source}")]
    Block {
        /// The block directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Error {
    /// Wraps an I/O error with what was being done and where.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

/// Why one sample (or its series) was refused by [`Appender::append`](crate::Appender::append).
/// The rest of the batch is unaffected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AppendError {
    /// The timestamp is older than the series' newest sample and the
    /// out-of-order window is disabled (0).
    #[error("out of order sample: t={t} ms is before the series' newest sample at {newest} ms")]
    OutOfOrder {
        /// The refused sample's timestamp, ms.
        t: i64,
        /// The series' newest timestamp, ms.
        newest: i64,
    },
    /// The timestamp is older than the head accepts (it would belong to a block
    /// that is already written, or is too far behind the head's newest sample).
    #[error("out of bounds: t={t} ms is before the oldest appendable time {min_valid} ms")]
    OutOfBounds {
        /// The refused sample's timestamp, ms.
        t: i64,
        /// The oldest timestamp the head accepts now, ms.
        min_valid: i64,
    },
    /// Out-of-order ingestion is enabled, but the sample is older than the window.
    #[error(
        "too old sample: t={t} ms is before the out-of-order window starting at {min_valid} ms"
    )]
    TooOldSample {
        /// The refused sample's timestamp, ms.
        t: i64,
        /// The start of the out-of-order window now, ms.
        min_valid: i64,
    },
    /// The series already has a different value at this timestamp.
    /// (The same value bit-for-bit is accepted as a no-op.)
    #[error("duplicate sample for timestamp {t} ms with a different value")]
    DuplicateSampleForTimestamp {
        /// The timestamp, ms.
        t: i64,
    },
    /// `append_ref` was given a reference the head does not know (any more).
    #[error("unknown series reference {0:?}")]
    UnknownSeriesRef(SeriesRef),
    /// The label set is empty.
    #[error("empty label set")]
    EmptyLabels,
    /// The series has more labels than [`LabelLimits::max_labels`](crate::LabelLimits).
    #[error("series has {count} labels, the limit is {limit}")]
    TooManyLabels {
        /// Labels in the series.
        count: usize,
        /// The configured limit.
        limit: usize,
    },
    /// A label name or value is longer than the configured limit.
    #[error("label {name:?} has a {what} of {len} bytes, the limit is {limit}")]
    LabelTooLong {
        /// The label's name (possibly the long one).
        name: String,
        /// `"name"` or `"value"`.
        what: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The configured limit in bytes.
        limit: usize,
    },
    /// The label set is malformed.
    #[error("invalid labels: {0}")]
    Labels(#[from] LabelsError),
    /// The head ran out of series references (2^32 series created since open).
    #[error("series reference space exhausted")]
    TooManySeries,
}
