//! The error type of the index layer: postings lookups and the block index file.
//!
//! In-memory postings never fail; every error here comes from reading an index
//! file, and says which file, which section and where, so a person can decide
//! whether to delete the block or restore it.

use std::path::PathBuf;

/// Why an index could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// Reading, writing or mapping the file failed.
    #[error("index file {path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file's bytes do not describe a valid index.
    #[error("corrupt index {path}: section {section} at byte {offset}: {reason}")]
    Corrupt {
        /// The file involved.
        path: PathBuf,
        /// The section being decoded (`header`, `symbols`, `series`, ...).
        section: &'static str,
        /// Byte offset in the file where decoding failed.
        offset: u64,
        /// What was wrong.
        reason: &'static str,
    },
    /// A section's CRC32C did not match its bytes.
    #[error(
        "corrupt index {path}: section {section} checksum {got:#010x}, expected {expected:#010x}"
    )]
    Checksum {
        /// The file involved.
        path: PathBuf,
        /// The section whose checksum failed.
        section: &'static str,
        /// The checksum computed over the bytes read.
        got: u32,
        /// The checksum stored in the file.
        expected: u32,
    },
    /// The index writer was given data it cannot store.
    #[error("index writer: {0}")]
    Invalid(&'static str),
}
