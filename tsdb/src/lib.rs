//! promlite-tsdb: an embeddable time-series database that stores Prometheus data.
//!
//! Samples enter through an [`Appender`](crate) batch whose `commit` writes the WAL and
//! then the in-memory head; full Gorilla chunks (bit-compatible with Prometheus's XOR
//! encoding) are written to memory-mapped chunk files, and every block range the oldest
//! data becomes an immutable block indexed by roaring-bitmap postings. A querier merges
//! head, mmapped chunks and blocks into sorted series with sample iterators.
//!
//! See `docs/architecture.md` in the repository for the full picture.
#![deny(missing_docs)]

mod block;
pub mod chunkenc;
mod chunks;
mod codec;
mod db;
mod error;
mod head;
mod index;
mod labels;
mod matcher;
mod querier;
mod wal;

pub use block::{
    apply_retention, expired_blocks, open_blocks, write_block, Block, BlockChunk, BlockDesc,
    BlockError, BlockId, BlockMeta, BlockSeries, BlockStats, ChunkData, CompactionMeta, Compactor,
    ParseBlockIdError, RetentionPolicy,
};
pub use block::{write_block_with, BlockEncoding, COLD_RUN_MAX_SAMPLES};
pub use chunks::{
    ChunkBytes, ChunkFileError, ChunkReader, ChunkRef, ChunkStore, ChunkWriter,
    DEFAULT_MAX_SEGMENT_BYTES,
};
pub use db::{CompactionReport, Db, Options, Stats};
pub use error::{AppendError, Error};
pub use head::{Appender, LabelLimits, SeriesRef};
pub use index::{
    label_names_for, label_values_for, postings_for_matchers, ChunkMeta, IndexError, IndexFile,
    IndexReader, MemPostings, PostingsStats,
};
pub use labels::{Label, Labels, LabelsError, Symbol, METRIC_NAME};
pub use matcher::{MatchOp, Matcher, MatcherError};
pub use querier::{
    DecodeBuffers, Limited, Querier, RawChunk, SampleError, Samples, Series, SeriesIter,
};
pub use wal::FsyncPolicy;
