//! Errors of block writing, reading, compaction and retention.

use std::path::PathBuf;

use crate::chunkenc::{CodecError, Encoding};
use crate::chunks::ChunkFileError;
use crate::index::IndexError;

/// Why a block could not be written, opened, read, compacted or deleted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlockError {
    /// A file or directory operation failed.
    #[error("block {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// `meta.json` is missing fields, malformed, or inconsistent.
    #[error("block {path}: bad meta.json: {reason}")]
    BadMeta {
        /// The meta file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The index file is corrupt or unreadable.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// A chunk segment is corrupt or unreadable.
    #[error(transparent)]
    Chunks(#[from] ChunkFileError),
    /// A chunk's samples could not be decoded while merging.
    #[error("block {block}: chunk of series {series}: {source}")]
    Chunk {
        /// The block read.
        block: String,
        /// The series whose chunk failed.
        series: String,
        /// The decoder's complaint.
        #[source]
        source: CodecError,
    },
    /// One chunk read on its own could not be decoded: its encoding holds no
    /// float samples (`source` is `None`) or its bytes are corrupt.
    #[error("chunk of encoding {encoding:?} cannot be decoded")]
    Undecodable {
        /// The chunk's encoding.
        encoding: Encoding,
        /// The decoder's complaint, if it got to decode.
        #[source]
        source: Option<CodecError>,
    },
    /// The caller handed the writer data that does not fit the block.
    #[error("invalid block input: {0}")]
    Invalid(String),
}

impl BlockError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> BlockError {
        let path = path.into();
        move |source| BlockError::Io { path, source }
    }
}
