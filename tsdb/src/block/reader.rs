//! Reading a block: [`Block::open`] maps its index and chunk segments once;
//! queries select series by matchers and time range.
//!
//! A block is shared as `Arc<Block>` by the database's block list and by every
//! running query. Retention and compaction never delete a block directory
//! directly: [`Block::mark_deletable`] renames it to `<id>.deleted` (safe: all
//! its files are already mapped) and the directory is removed when the last
//! `Arc` is dropped, i.e. when the last query reading it finishes.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use super::merge::{decode_into, MergeError};
use super::shared;
use super::writer::{CHUNKS_DIR, INDEX_FILE};
use super::{BlockError, BlockId, BlockMeta};
use crate::chunkenc::Encoding;
use crate::chunks::{ChunkBytes, ChunkReader, ChunkRef};
use crate::index::{
    label_names_for, label_values_for, postings_for_matchers, ChunkMeta, IndexFile,
};
use crate::labels::{Labels, Symbol};
use crate::matcher::Matcher;

/// Suffix of a block directory still being written.
pub(crate) const TMP_SUFFIX: &str = ".tmp";
/// Suffix of a block directory waiting for its last reader before deletion.
pub(crate) const DELETED_SUFFIX: &str = ".deleted";

/// An open, immutable block. `Send + Sync`; share it as `Arc<Block>`.
pub struct Block {
    meta: BlockMeta,
    index: IndexFile,
    chunks: ChunkReader,
    size_bytes: u64,
    /// Current directory and whether the block is marked deletable (then the
    /// directory is `<id>.deleted`).
    dir: Mutex<(PathBuf, bool)>,
}

/// A series selected from a block, with the chunks overlapping the query range.
#[derive(Debug, Clone)]
pub struct BlockSeries {
    /// The series' labels.
    pub labels: Labels,
    /// Its chunks in time order, each readable without the block.
    pub chunks: Vec<BlockChunk>,
}

/// One chunk of a selected series.
#[derive(Debug, Clone)]
pub struct BlockChunk {
    /// Timestamp of the first sample, ms (inclusive).
    pub min_time: i64,
    /// Timestamp of the last sample, ms (inclusive).
    pub max_time: i64,
    /// The encoded samples (checksum already verified).
    pub bytes: ChunkBytes,
    /// For a [`Encoding::ColdShared`](crate::chunkenc::Encoding::ColdShared)
    /// chunk, the block's cold chunk holding its timestamps; `None` otherwise.
    pub timestamps: Option<ChunkBytes>,
}

impl BlockChunk {
    /// Appends the chunk's samples (timestamps in ms) to `ts`/`vs`, whether
    /// it is an XOR chunk or a cold run.
    pub fn decode_into(&self, ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<(), BlockError> {
        let encoding = self.bytes.encoding();
        let timestamps = self.timestamps.as_ref().map(ChunkBytes::data);
        decode_into(encoding, self.bytes.data(), timestamps, ts, vs).map_err(|e| {
            BlockError::Undecodable {
                encoding,
                source: match e {
                    MergeError::Unsupported(_) => None,
                    MergeError::Decode(source) => Some(source),
                },
            }
        })
    }
}

impl Block {
    /// Opens the block in `dir`: reads `meta.json`, maps and validates the
    /// index, maps the chunk segments.
    pub fn open(dir: &Path) -> Result<Arc<Block>, BlockError> {
        let meta = BlockMeta::read(dir)?;
        let index = IndexFile::open(&dir.join(INDEX_FILE))?;
        let chunks = ChunkReader::open(&dir.join(CHUNKS_DIR))?;
        let meta_len = fs::metadata(dir.join(super::META_FILE))
            .map(|m| m.len())
            .unwrap_or_default();
        let size_bytes = index.size_bytes() + chunks.size_bytes() + meta_len;
        Ok(Arc::new(Block {
            meta,
            index,
            chunks,
            size_bytes,
            dir: Mutex::new((dir.to_owned(), false)),
        }))
    }

    /// The block's meta.
    pub fn meta(&self) -> &BlockMeta {
        &self.meta
    }

    /// The block's ID.
    pub fn id(&self) -> BlockId {
        self.meta.ulid
    }

    /// The block's directory (its `.deleted` name once marked deletable).
    pub fn dir(&self) -> PathBuf {
        self.dir.lock().0.clone()
    }

    /// Bytes on disk: index, chunk segments and meta.
    pub fn size_bytes(&self) -> u64 {
        self.size_bytes
    }

    /// The block's index (implements [`IndexReader`](crate::IndexReader)).
    pub fn index(&self) -> &IndexFile {
        &self.index
    }

    /// One chunk by ref.
    pub fn chunk(&self, chunk: ChunkRef) -> Result<ChunkBytes, BlockError> {
        Ok(self.chunks.chunk(chunk)?)
    }

    /// One series chunk by ref, with the timestamp chunk it shares if it is a
    /// `ColdShared` chunk.
    pub fn series_chunk(&self, meta: &ChunkMeta) -> Result<BlockChunk, BlockError> {
        self.series_chunk_cached(meta, &mut None)
    }

    /// [`Block::series_chunk`], reusing `last_ts`, the shared timestamp
    /// column read (and checksum-verified) for an earlier chunk of the same
    /// call, when this chunk refers to the same one: all series of a block
    /// share a few timestamp columns, and re-reading one per series cost a
    /// second CRC pass per chunk. Every chunk is still verified once.
    fn series_chunk_cached(
        &self,
        meta: &ChunkMeta,
        last_ts: &mut Option<(ChunkRef, ChunkBytes)>,
    ) -> Result<BlockChunk, BlockError> {
        let bytes = self.chunks.chunk(meta.chunk_ref)?;
        let timestamps = match bytes.encoding() {
            Encoding::ColdShared => {
                let (r, _) = shared::split(bytes.data()).map_err(|e| BlockError::Undecodable {
                    encoding: Encoding::ColdShared,
                    source: Some(e),
                })?;
                match last_ts {
                    Some((last, ts)) if *last == r => Some(ts.clone()),
                    _ => {
                        let ts = self.chunks.chunk(r)?;
                        *last_ts = Some((r, ts.clone()));
                        Some(ts)
                    }
                }
            }
            _ => None,
        };
        Ok(BlockChunk {
            min_time: meta.min_time,
            max_time: meta.max_time,
            bytes,
            timestamps,
        })
    }

    /// The series matching all `matchers` that have chunks overlapping
    /// `[mint, maxt]` (ms, both inclusive), sorted by labels, with those chunks.
    pub fn select(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<BlockSeries>, BlockError> {
        let mut out = Vec::new();
        let mut chunks = Vec::new();
        self.select_with(
            matchers,
            mint,
            maxt,
            &mut chunks,
            |c| c,
            |labels, chunks| {
                out.push(BlockSeries {
                    labels,
                    chunks: std::mem::take(chunks),
                });
            },
        )?;
        Ok(out)
    }

    /// [`Block::select`] without a vector per series: each selected series'
    /// chunks are appended to `chunks` (through `map`), then `each` is called
    /// with its labels and the whole of `chunks`, the series' own chunks being
    /// those appended since the previous call (`each` may drain them). A query
    /// reads thousands of series of one or two chunks each, where the per-series
    /// allocation showed in profiles.
    pub(crate) fn select_with<T>(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
        chunks: &mut Vec<T>,
        map: impl Fn(BlockChunk) -> T,
        mut each: impl FnMut(Labels, &mut Vec<T>),
    ) -> Result<(), BlockError> {
        if !self.meta.overlaps(mint, maxt) {
            return Ok(());
        }
        let ids = postings_for_matchers(&self.index, matchers)?;
        let mut metas: Vec<ChunkMeta> = Vec::new();
        let mut last_ts = None;
        // Ids are assigned in label order, so ascending ids give sorted series.
        for id in &ids {
            let labels = self.index.series(id, &mut metas)?;
            let start = chunks.len();
            for c in metas
                .iter()
                .filter(|c| c.max_time >= mint && c.min_time <= maxt)
            {
                chunks.push(map(self.series_chunk_cached(c, &mut last_ts)?));
            }
            if chunks.len() > start {
                each(labels, chunks);
            }
        }
        Ok(())
    }

    /// Label names of the series matching `matchers` (all names if empty), sorted.
    pub fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<Symbol>, BlockError> {
        Ok(label_names_for(&self.index, matchers)?)
    }

    /// Values of `name` among the series matching `matchers` (all if empty), sorted.
    pub fn label_values(
        &self,
        name: &str,
        matchers: &[Matcher],
    ) -> Result<Vec<Symbol>, BlockError> {
        Ok(label_values_for(&self.index, name, matchers)?)
    }

    /// Schedules the block's deletion: its directory is renamed to
    /// `<id>.deleted` now and removed when the last `Arc<Block>` is dropped.
    /// Queries already holding the block keep reading it. Idempotent.
    pub fn mark_deletable(&self) -> Result<(), BlockError> {
        let mut dir = self.dir.lock();
        if dir.1 {
            return Ok(());
        }
        let name = dir
            .0
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let target = dir.0.with_file_name(format!("{name}{DELETED_SUFFIX}"));
        fs::rename(&dir.0, &target).map_err(BlockError::io(&target))?;
        if let Some(parent) = target.parent() {
            super::writer::sync_dir(parent)?;
        }
        *dir = (target, true);
        Ok(())
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        let (dir, deletable) = &*self.dir.get_mut();
        if *deletable {
            if let Err(e) = fs::remove_dir_all(dir) {
                tracing::warn!(path = %dir.display(), error = %e, "could not remove deleted block");
            }
        }
    }
}

impl std::fmt::Debug for Block {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Block")
            .field("meta", &self.meta)
            .field("dir", &self.dir())
            .finish()
    }
}

/// Opens every block directory in `dir`, sorted by `min_time`. Leftovers of
/// interrupted work are removed first: `<id>.tmp` (unfinished writes) and
/// `<id>.deleted` (deletions whose readers are gone with the old process).
/// Blocks that a compacted block lists as its parents are deleted too.
/// Other entries (WAL, head chunks, files) are left alone.
pub fn open_blocks(dir: &Path) -> Result<Vec<Arc<Block>>, BlockError> {
    let mut blocks = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(blocks),
        Err(e) => {
            return Err(BlockError::Io {
                path: dir.to_owned(),
                source: e,
            })
        }
    };
    for entry in entries {
        let entry = entry.map_err(BlockError::io(dir))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if !path.is_dir() {
            continue;
        }
        let stem = name
            .strip_suffix(TMP_SUFFIX)
            .or_else(|| name.strip_suffix(DELETED_SUFFIX));
        if let Some(stem) = stem {
            if stem.parse::<BlockId>().is_ok() {
                fs::remove_dir_all(&path).map_err(BlockError::io(&path))?;
            }
            continue;
        }
        if name.parse::<BlockId>().is_ok() {
            blocks.push(Block::open(&path)?);
        }
    }
    // A compaction that crashed after writing its result but before marking
    // the parents deletable leaves both: the parents' data is in the child.
    let replaced: std::collections::HashSet<BlockId> = blocks
        .iter()
        .flat_map(|b| b.meta.compaction.parents.iter().map(|p| p.ulid))
        .collect();
    let (stale, mut blocks): (Vec<_>, Vec<_>) =
        blocks.into_iter().partition(|b| replaced.contains(&b.id()));
    for b in stale {
        b.mark_deletable()?;
    }
    blocks.sort_by_key(|b| (b.meta.min_time, b.meta.ulid));
    Ok(blocks)
}
