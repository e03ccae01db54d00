//! Blocks: immutable directories holding all samples of a time range.
//!
//! A block is `meta.json` + `index` + `chunks/` (format in
//! `docs/format/block.md` and `docs/format/index.md`). This module writes
//! blocks ([`write_block_with`], from the head's series, in the database's
//! [`BlockEncoding`]: XOR chunks or cold runs), opens them
//! ([`Block::open`], [`open_blocks`]) and answers selects against them,
//! merges them ([`Compactor`]) and deletes old ones ([`apply_retention`]).
//!
//! Invariants: a block directory appears only complete (written as
//! `<id>.tmp`, fsynced, renamed); its files are never modified after that;
//! a block still referenced by a query is never removed from disk (deletion
//! waits for the last `Arc<Block>`).

mod compact;
mod encoding;
mod error;
mod id;
mod merge;
mod meta;
mod reader;
mod retention;
mod shared;
mod writer;

pub use compact::Compactor;
pub use encoding::{BlockEncoding, COLD_RUN_MAX_SAMPLES};
pub use error::BlockError;
pub use id::{BlockId, ParseBlockIdError};
pub use meta::{BlockDesc, BlockMeta, BlockStats, CompactionMeta, META_FILE, META_VERSION};
pub use reader::{open_blocks, Block, BlockChunk, BlockSeries};
pub use retention::{apply as apply_retention, expired as expired_blocks, RetentionPolicy};
pub(crate) use shared::decode as decode_shared;
pub(crate) use shared::split as split_shared;
pub use writer::{write_block, write_block_with, ChunkData};
