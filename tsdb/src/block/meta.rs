//! `meta.json`: what a block covers, in the shape of Prometheus's block meta.
//!
//! Times are ms since the epoch; the block holds samples with
//! `min_time <= t < max_time` (max exclusive, as in Prometheus). The file is
//! written to a temp name, fsynced and renamed, like every file we write.

use std::fs;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{BlockError, BlockId};

/// The meta file's name inside a block directory.
pub const META_FILE: &str = "meta.json";
/// The meta format version written.
pub const META_VERSION: u32 = 1;

/// A block's description, stored as `meta.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockMeta {
    /// The block's ID, also its directory name.
    pub ulid: BlockId,
    /// Earliest timestamp the block may hold, ms (inclusive).
    pub min_time: i64,
    /// End of the block's range, ms (exclusive).
    pub max_time: i64,
    /// Counts of what the block holds.
    pub stats: BlockStats,
    /// How the block came to be.
    pub compaction: CompactionMeta,
    /// Format version of this file.
    pub version: u32,
    /// The chunk encodings (`chunkenc::Encoding` bytes) used in the block, ascending.
    #[serde(default)]
    pub chunk_encodings: Vec<u8>,
}

/// Counts of a block's contents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockStats {
    /// Samples in all chunks.
    pub num_samples: u64,
    /// Series with at least one chunk.
    pub num_series: u64,
    /// Chunks.
    pub num_chunks: u64,
}

/// A block's compaction history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompactionMeta {
    /// 1 for a block written from the head; a compacted block is one more
    /// than the highest level among its parents.
    pub level: u32,
    /// The level-1 blocks whose data this block contains, ascending.
    pub sources: Vec<BlockId>,
    /// The blocks merged to make this one (empty for a level-1 block).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<BlockDesc>,
}

/// A short description of a parent block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockDesc {
    /// The parent's ID.
    pub ulid: BlockId,
    /// The parent's `min_time`, ms (inclusive).
    pub min_time: i64,
    /// The parent's `max_time`, ms (exclusive).
    pub max_time: i64,
}

impl BlockMeta {
    /// True if the block may hold samples in `[mint, maxt]` (both inclusive, ms).
    pub fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        self.min_time <= maxt && mint < self.max_time
    }

    /// Reads and checks `<dir>/meta.json`.
    pub fn read(dir: &Path) -> Result<BlockMeta, BlockError> {
        let path = dir.join(META_FILE);
        let bytes = fs::read(&path).map_err(BlockError::io(&path))?;
        let bad = |reason: String| BlockError::BadMeta {
            path: path.clone(),
            reason,
        };
        let meta: BlockMeta = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
        if meta.version != META_VERSION {
            return Err(bad(format!("unsupported version {}", meta.version)));
        }
        if meta.min_time >= meta.max_time {
            return Err(bad(format!(
                "empty range [{}, {})",
                meta.min_time, meta.max_time
            )));
        }
        Ok(meta)
    }

    /// Writes `<dir>/meta.json` via a fsynced temp file and a rename.
    pub(crate) fn write(&self, dir: &Path) -> Result<(), BlockError> {
        let path = dir.join(META_FILE);
        let tmp = dir.join(format!("{META_FILE}.tmp"));
        let json = serde_json::to_vec_pretty(self).map_err(|e| BlockError::BadMeta {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let mut f = fs::File::create(&tmp).map_err(BlockError::io(&tmp))?;
        f.write_all(&json)
            .and_then(|()| f.sync_all())
            .map_err(BlockError::io(&tmp))?;
        fs::rename(&tmp, &path).map_err(BlockError::io(&path))
    }

    /// This block as a parent entry.
    pub fn desc(&self) -> BlockDesc {
        BlockDesc {
            ulid: self.ulid,
            min_time: self.min_time,
            max_time: self.max_time,
        }
    }
}
