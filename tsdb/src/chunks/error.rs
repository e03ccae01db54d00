//! Errors of the chunk segment files.
//!
//! Corruption names the segment and offset so the caller can drop exactly the
//! affected data; a writer that failed once is poisoned and says so instead of
//! retrying (after a failed fsync the page cache can no longer be trusted).

use std::path::PathBuf;

use super::ChunkRef;

/// Why a chunk segment could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChunkFileError {
    /// A file operation failed.
    #[error("chunk segment {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A segment's header is not ours.
    #[error("chunk segment {path}: bad header ({reason})")]
    BadHeader {
        /// The segment file.
        path: PathBuf,
        /// What was wrong.
        reason: &'static str,
    },
    /// A chunk record is truncated, too long or points outside the file.
    #[error("chunk {chunk:?}: corrupt record ({reason})")]
    Corrupt {
        /// The chunk that was read.
        chunk: ChunkRef,
        /// What was wrong.
        reason: &'static str,
    },
    /// A chunk record's CRC32C does not match its bytes.
    #[error("chunk {chunk:?}: checksum {got:#010x}, expected {expected:#010x}")]
    Checksum {
        /// The chunk that was read.
        chunk: ChunkRef,
        /// Checksum of the bytes read.
        got: u32,
        /// Checksum stored in the record.
        expected: u32,
    },
    /// The chunk's encoding byte is not one this build knows.
    #[error("chunk {chunk:?}: unknown encoding {encoding}")]
    UnknownEncoding {
        /// The chunk that was read.
        chunk: ChunkRef,
        /// The byte found.
        encoding: u8,
    },
    /// The ref names a segment that is not open.
    #[error("chunk {0:?}: no such segment")]
    UnknownSegment(ChunkRef),
    /// A chunk is larger than a ref can address or a segment can hold.
    #[error("chunk of {len} bytes is too large")]
    TooLarge {
        /// The data length in bytes.
        len: usize,
    },
    /// An earlier write or fsync failed; this writer accepts nothing more.
    #[error("chunk writer is poisoned by an earlier I/O error")]
    Poisoned,
}

impl ChunkFileError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ChunkFileError {
        let path = path.into();
        move |source| ChunkFileError::Io { path, source }
    }
}
