//! Writing a block directory.
//!
//! Steps, in this order: create `<id>.tmp/`; stream each series' chunks into
//! `chunks/` segments, keeping only their metas; sort the series by labels;
//! write `index`; write `meta.json`; fsync the directory; rename `<id>.tmp`
//! to `<id>`; fsync the parent. A crash anywhere before the rename leaves only
//! a `.tmp` directory, which [`open_blocks`](super::open_blocks) deletes. A
//! failed write removes its temp directory.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::encoding::{cold_runs, decode_all, to_xor};
use super::merge::{merge_chunks, sample_count, ChunkIn, MergeError, SAMPLES_PER_CHUNK};
use super::shared::SharedTimestamps;
use super::{
    BlockDesc, BlockEncoding, BlockError, BlockId, BlockMeta, BlockStats, CompactionMeta,
    META_VERSION,
};
use crate::chunkenc::{Encoding, XorChunk};
use crate::chunks::{ChunkWriter, DEFAULT_MAX_SEGMENT_BYTES};
use crate::index::{write_index, ChunkMeta};
use crate::labels::Labels;

/// Name of the index file in a block directory.
pub(crate) const INDEX_FILE: &str = "index";
/// Name of the chunk segment directory in a block directory.
pub(crate) const CHUNKS_DIR: &str = "chunks";

/// One encoded chunk handed to [`write_block`].
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkData {
    /// Timestamp of the first sample, ms (inclusive).
    pub min_time: i64,
    /// Timestamp of the last sample, ms (inclusive).
    pub max_time: i64,
    /// How `data` is encoded.
    pub encoding: Encoding,
    /// The encoded chunk (for XOR, starting with the 2-byte sample count).
    pub data: Vec<u8>,
}

impl ChunkData {
    /// Encodes samples (sorted by time, unique timestamps) as XOR chunks of at
    /// most 120 samples each, e.g. to backfill a block from another source.
    pub fn from_samples(samples: &[(i64, f64)]) -> Vec<ChunkData> {
        samples
            .chunks(SAMPLES_PER_CHUNK)
            .filter_map(|part| {
                let mut chunk = XorChunk::new();
                for (t, v) in part {
                    chunk.append(*t, *v);
                }
                Some(ChunkData {
                    min_time: part.first()?.0,
                    max_time: part.last()?.0,
                    encoding: Encoding::Xor,
                    data: chunk.into_bytes(),
                })
            })
            .collect()
    }
}

/// Writes a level-1 block of Prometheus-compatible XOR chunks holding `series`
/// into a new directory under `parent` and returns its meta; see
/// [`write_block_with`], which this calls with [`BlockEncoding::Xor`].
pub fn write_block(
    parent: &Path,
    min_time: i64,
    max_time: i64,
    series: impl IntoIterator<Item = (Labels, Vec<ChunkData>)>,
) -> Result<BlockMeta, BlockError> {
    write_block_with(parent, min_time, max_time, BlockEncoding::Xor, series)
}

/// Writes a level-1 block holding `series`, its chunks re-encoded as
/// `encoding`, into a new directory under `parent` and returns its meta.
///
/// The block covers `[min_time, max_time)` (ms, end exclusive); every chunk
/// must lie inside it. Series may come in any order and must be unique;
/// series without chunks are skipped. A series' chunks may overlap (e.g.
/// in-order and out-of-order head chunks): overlapping chunks are merged,
/// the chunk given first winning on equal timestamps (pass in-order chunks
/// before out-of-order ones). Then the series' samples are written as XOR
/// chunks of at most 120 samples or as cold runs (see [`BlockEncoding`]).
pub fn write_block_with(
    parent: &Path,
    min_time: i64,
    max_time: i64,
    encoding: BlockEncoding,
    series: impl IntoIterator<Item = (Labels, Vec<ChunkData>)>,
) -> Result<BlockMeta, BlockError> {
    let mut b = BlockBuilder::new(parent, min_time, max_time, encoding)?;
    for (labels, chunks) in series {
        let chunks = chunks
            .into_iter()
            .map(|c| ChunkIn {
                min_time: c.min_time,
                max_time: c.max_time,
                encoding: c.encoding,
                data: Cow::Owned(c.data),
                timestamps: None,
            })
            .collect();
        b.add_series(labels, chunks)?;
    }
    b.finish(1, Vec::new())
}

/// Builds one block directory; see the module docs for the order of steps.
pub(crate) struct BlockBuilder {
    parent: PathBuf,
    tmp: PathBuf,
    id: BlockId,
    min_time: i64,
    max_time: i64,
    encoding: BlockEncoding,
    chunks: Option<ChunkWriter>,
    series: Vec<(Labels, Vec<ChunkMeta>)>,
    stats: BlockStats,
    encodings: BTreeSet<u8>,
    /// Timestamp columns written so far (cold blocks).
    shared: SharedTimestamps,
}

impl BlockBuilder {
    /// Starts a block covering `[min_time, max_time)` under `parent` whose
    /// chunks are written as `encoding`.
    pub(crate) fn new(
        parent: &Path,
        min_time: i64,
        max_time: i64,
        encoding: BlockEncoding,
    ) -> Result<Self, BlockError> {
        if min_time >= max_time {
            return Err(BlockError::Invalid(format!(
                "empty block range [{min_time}, {max_time})"
            )));
        }
        let id = BlockId::new();
        let tmp = parent.join(format!("{id}.tmp"));
        fs::create_dir_all(&tmp).map_err(BlockError::io(&tmp))?;
        let mut b = BlockBuilder {
            parent: parent.to_owned(),
            tmp,
            id,
            min_time,
            max_time,
            encoding,
            chunks: None,
            series: Vec::new(),
            stats: BlockStats::default(),
            encodings: BTreeSet::new(),
            shared: SharedTimestamps::default(),
        };
        b.chunks = Some(ChunkWriter::create(
            &b.tmp.join(CHUNKS_DIR),
            DEFAULT_MAX_SEGMENT_BYTES,
        )?);
        Ok(b)
    }

    /// Writes one series' chunks (merging overlaps, re-encoding them in the
    /// block's encoding) and remembers their metas.
    pub(crate) fn add_series(
        &mut self,
        labels: Labels,
        chunks: Vec<ChunkIn<'_>>,
    ) -> Result<(), BlockError> {
        if chunks.is_empty() {
            return Ok(());
        }
        if let Some(c) = chunks.iter().find(|c| {
            c.min_time < self.min_time || c.max_time >= self.max_time || c.min_time > c.max_time
        }) {
            return Err(BlockError::Invalid(format!(
                "series {labels}: chunk [{}, {}] outside block range [{}, {})",
                c.min_time, c.max_time, self.min_time, self.max_time
            )));
        }
        let merge_err = |e| match e {
            MergeError::Unsupported(enc) => BlockError::Invalid(format!(
                "series {labels}: cannot merge or re-encode chunks of encoding {enc:?}"
            )),
            MergeError::Decode(source) => BlockError::Chunk {
                block: self.id.to_string(),
                series: labels.to_string(),
                source,
            },
        };
        let chunks = merge_chunks(chunks).map_err(merge_err)?;
        let writer = self
            .chunks
            .as_mut()
            .ok_or_else(|| BlockError::Invalid("block already finished".into()))?;
        let mut metas = Vec::with_capacity(chunks.len());
        match self.encoding {
            BlockEncoding::Xor => {
                for c in &to_xor(chunks).map_err(merge_err)? {
                    let chunk_ref = writer.write_chunk(c.encoding, &c.data)?;
                    metas.push(ChunkMeta {
                        min_time: c.min_time,
                        max_time: c.max_time,
                        chunk_ref,
                    });
                    self.stats.num_samples += sample_count(c.encoding, &c.data);
                    self.encodings.insert(c.encoding.as_u8());
                }
            }
            BlockEncoding::Cold => {
                let (ts, vs) = decode_all(&chunks).map_err(merge_err)?;
                for run in cold_runs(ts.len()) {
                    let (Some(t), Some(v)) = (ts.get(run.clone()), vs.get(run)) else {
                        continue;
                    };
                    let (Some(min_time), Some(max_time)) = (t.first(), t.last()) else {
                        continue;
                    };
                    let data = self.shared.encode_run(t, v, writer)?;
                    let chunk_ref = writer.write_chunk(Encoding::ColdShared, &data)?;
                    metas.push(ChunkMeta {
                        min_time: *min_time,
                        max_time: *max_time,
                        chunk_ref,
                    });
                    self.stats.num_samples += t.len() as u64;
                }
                // Shared runs and the plain cold chunks of their timestamps.
                self.encodings.insert(Encoding::Cold.as_u8());
                self.encodings.insert(Encoding::ColdShared.as_u8());
            }
        }
        self.stats.num_chunks += metas.len() as u64;
        self.stats.num_series += 1;
        self.series.push((labels, metas));
        Ok(())
    }

    /// Seals the chunks, writes index and meta, and moves the block into
    /// place. `level`/`parents` describe its compaction history (1 and none for
    /// a block from the head).
    pub(crate) fn finish(
        mut self,
        level: u32,
        parents: Vec<(BlockDesc, Vec<BlockId>)>,
    ) -> Result<BlockMeta, BlockError> {
        if let Some(w) = self.chunks.take() {
            w.finish()?;
        }
        self.series.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(pair) = self
            .series
            .windows(2)
            .find(|w| matches!(w, [a, b] if a.0 == b.0))
        {
            let name = pair.first().map(|p| p.0.to_string()).unwrap_or_default();
            return Err(BlockError::Invalid(format!("series {name} given twice")));
        }
        write_index(&self.tmp.join(INDEX_FILE), &self.series)?;
        let mut sources: Vec<BlockId> = parents
            .iter()
            .flat_map(|(_, s)| s.iter().copied())
            .collect();
        if sources.is_empty() {
            sources.push(self.id);
        }
        sources.sort();
        sources.dedup();
        let meta = BlockMeta {
            ulid: self.id,
            min_time: self.min_time,
            max_time: self.max_time,
            stats: self.stats,
            compaction: CompactionMeta {
                level,
                sources,
                parents: parents.into_iter().map(|(d, _)| d).collect(),
            },
            version: META_VERSION,
            chunk_encodings: self.encodings.iter().copied().collect(),
        };
        meta.write(&self.tmp)?;
        sync_dir(&self.tmp)?;
        let target = self.parent.join(self.id.to_string());
        fs::rename(&self.tmp, &target).map_err(BlockError::io(&target))?;
        sync_dir(&self.parent)?;
        // Renamed: nothing left for Drop to clean.
        self.tmp = PathBuf::new();
        Ok(meta)
    }
}

impl Drop for BlockBuilder {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            if let Err(e) = fs::remove_dir_all(&self.tmp) {
                tracing::warn!(path = %self.tmp.display(), error = %e, "could not remove unfinished block");
            }
        }
    }
}

/// Fsyncs a directory so entries created or renamed in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), BlockError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(BlockError::io(dir))
}
