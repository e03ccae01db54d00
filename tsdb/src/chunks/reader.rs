//! Reading chunks from sealed, memory-mapped segment files.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;

use super::segment::{self, HEADER_LEN};
use super::{Backing, ChunkBytes, ChunkFileError, ChunkRef};

/// The sealed segments of one directory, each memory-mapped once.
/// Reads take `&self` and copy nothing.
pub struct ChunkReader {
    dir: PathBuf,
    segments: BTreeMap<u32, Arc<Mmap>>,
}

impl ChunkReader {
    /// Maps every sealed segment in `dir` (ignoring `.tmp` files) and checks
    /// each header. A missing directory is an error.
    pub fn open(dir: &Path) -> Result<Self, ChunkFileError> {
        let (sealed, _) = segment::list(dir)?;
        let mut r = ChunkReader {
            dir: dir.to_owned(),
            segments: BTreeMap::new(),
        };
        for n in sealed {
            r.map_segment(n)?;
        }
        Ok(r)
    }

    /// The chunk at `chunk`, checksum verified.
    pub fn chunk(&self, chunk: ChunkRef) -> Result<ChunkBytes, ChunkFileError> {
        let map = self
            .segments
            .get(&chunk.segment())
            .ok_or(ChunkFileError::UnknownSegment(chunk))?;
        let start = chunk.offset() as usize;
        if start < HEADER_LEN {
            return Err(ChunkFileError::Corrupt {
                chunk,
                reason: "offset inside segment header",
            });
        }
        let rest = map.get(start..).ok_or(ChunkFileError::Corrupt {
            chunk,
            reason: "offset past end of segment",
        })?;
        let (encoding, range) = segment::decode_record(chunk, rest)?;
        let range = (range.start + start)..(range.end + start);
        Ok(ChunkBytes {
            encoding,
            backing: Backing::Mapped(Arc::clone(map)),
            range,
        })
    }

    /// Sealed segment numbers, ascending.
    pub fn segments(&self) -> impl Iterator<Item = u32> + '_ {
        self.segments.keys().copied()
    }

    /// Total bytes of the mapped segments.
    pub fn size_bytes(&self) -> u64 {
        self.segments.values().map(|m| m.len() as u64).sum()
    }

    /// Maps sealed segment `n`; it must have its final name.
    pub(crate) fn map_segment(&mut self, n: u32) -> Result<(), ChunkFileError> {
        let path = segment::segment_path(&self.dir, n);
        let file = File::open(&path).map_err(ChunkFileError::io(&path))?;
        // SAFETY: only sealed segments are mapped: they were fsynced and renamed
        // to their final name after the last write, and nothing in promlite opens
        // a final-named segment for writing or truncates it, so the mapped bytes
        // never change. Deleting the file leaves existing maps valid (POSIX).
        let map = unsafe { Mmap::map(&file) }.map_err(ChunkFileError::io(&path))?;
        segment::check_header(&path, &map)?;
        self.segments.insert(n, Arc::new(map));
        Ok(())
    }

    /// Unmaps and deletes every sealed segment numbered below `n`. Chunks
    /// already handed out stay readable.
    pub(crate) fn remove_before(&mut self, n: u32) -> Result<(), ChunkFileError> {
        let keep = self.segments.split_off(&n);
        let dropped = std::mem::replace(&mut self.segments, keep);
        for k in dropped.keys() {
            let path = segment::segment_path(&self.dir, *k);
            fs::remove_file(&path).map_err(ChunkFileError::io(&path))?;
        }
        if !dropped.is_empty() {
            segment::sync_dir(&self.dir)?;
        }
        Ok(())
    }
}
