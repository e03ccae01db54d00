//! Chunk segment files: encoded chunks appended to numbered files, read back
//! through memory maps.
//!
//! A directory of segments (`000001`, `000002`, ...) holds chunks written one
//! after another; a [`ChunkRef`] names a chunk by segment number and byte
//! offset. The layout is Prometheus's block chunk format (see
//! `docs/format/block.md`): an 8-byte header, then per chunk a uvarint length,
//! the encoding byte, the data and a CRC32C of encoding and data.
//!
//! Invariant: a segment is written under `NNNNNN.tmp` and only renamed to its
//! final name once complete and fsynced, and only files with a final name are
//! memory-mapped, so a mapped file never changes or shrinks under a reader.
//! [`ChunkWriter`] writes (blocks use it directly), [`ChunkReader`] maps sealed
//! segments, and [`ChunkStore`] combines both for the head, which must also
//! read chunks of the segment still being written (from an in-memory copy of
//! that segment, or through `pread`).
//! Nothing read from a file can panic: every length and offset is checked and
//! a bad checksum is a [`ChunkFileError`].

mod active;
mod error;
mod io;
mod reader;
mod segment;
mod store;
mod writer;

pub use error::ChunkFileError;
pub use reader::ChunkReader;
pub use store::ChunkStore;
pub use writer::ChunkWriter;

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use memmap2::Mmap;

use crate::chunkenc::Encoding;

/// Default largest segment size: 512 MiB, Prometheus's default for block chunks.
pub const DEFAULT_MAX_SEGMENT_BYTES: u64 = 512 * 1024 * 1024;

/// Where a chunk lives: segment number (upper 32 bits) and byte offset of its
/// record inside that segment (lower 32 bits), as in Prometheus's `BlockChunkRef`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChunkRef(u64);

impl ChunkRef {
    /// The ref of the chunk at byte `offset` of segment `segment`.
    pub fn new(segment: u32, offset: u32) -> Self {
        ChunkRef((u64::from(segment) << 32) | u64::from(offset))
    }

    /// Rebuilds a ref from [`ChunkRef::as_u64`].
    pub fn from_u64(v: u64) -> Self {
        ChunkRef(v)
    }

    /// The packed form stored in indexes.
    pub fn as_u64(self) -> u64 {
        self.0
    }

    /// The segment number (the file `NNNNNN`).
    pub fn segment(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// Byte offset of the chunk record within its segment.
    pub fn offset(self) -> u32 {
        self.0 as u32
    }
}

impl fmt::Debug for ChunkRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChunkRef({:06}@{})", self.segment(), self.offset())
    }
}

/// The bytes of one chunk read from a segment, with their encoding.
///
/// Cheap to clone. A chunk from a sealed segment borrows the segment's memory
/// map and keeps it alive, so it stays valid even after the segment file is
/// deleted (head truncation, retention).
#[derive(Clone)]
pub struct ChunkBytes {
    encoding: Encoding,
    backing: Backing,
    range: Range<usize>,
}

#[derive(Clone)]
enum Backing {
    Mapped(Arc<Mmap>),
    Owned(Arc<[u8]>),
}

impl ChunkBytes {
    /// How the data is encoded.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The encoded chunk (for XOR: starting with the 2-byte sample count).
    pub fn data(&self) -> &[u8] {
        let all: &[u8] = match &self.backing {
            Backing::Mapped(m) => m,
            Backing::Owned(b) => b,
        };
        // The range was checked against the backing bytes when this value was built.
        all.get(self.range.clone()).unwrap_or_default()
    }
}

impl fmt::Debug for ChunkBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkBytes")
            .field("encoding", &self.encoding)
            .field("len", &self.range.len())
            .finish()
    }
}
