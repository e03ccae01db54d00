//! The head's chunk files: one writer and the maps of its sealed segments,
//! shareable between threads.
//!
//! The head writes each full chunk here and keeps only its [`ChunkRef`].
//! Chunks of sealed segments are read from memory maps; chunks of the segment
//! still being written are copied out of an in-memory copy of that segment
//! ([`ActiveCopy`]), since only complete files are mapped; if the copy cannot
//! serve a chunk it is read with `pread`. Lock order: writer, then reader
//! maps, then the active copy; a read never holds two of them.

use std::path::Path;

use parking_lot::{Mutex, RwLock};

use super::active::ActiveCopy;
use super::{ChunkBytes, ChunkFileError, ChunkReader, ChunkRef, ChunkWriter};
use crate::chunkenc::Encoding;

/// Chunk segment files for the head: `Send + Sync`, every method takes `&self`.
pub struct ChunkStore {
    writer: Mutex<ChunkWriter>,
    reader: RwLock<ChunkReader>,
    active: RwLock<ActiveCopy>,
}

impl ChunkStore {
    /// Opens `dir` (created if missing): maps the sealed segments already
    /// there, deletes unsealed leftovers, and appends after the last segment.
    pub fn open(dir: &Path, max_segment_bytes: u64) -> Result<Self, ChunkFileError> {
        let writer = ChunkWriter::create(dir, max_segment_bytes)?;
        let reader = ChunkReader::open(dir)?;
        Ok(ChunkStore {
            writer: Mutex::new(writer),
            reader: RwLock::new(reader),
            active: RwLock::new(ActiveCopy::default()),
        })
    }

    /// Appends a chunk (holding the writer lock) and returns its ref. If this
    /// seals a segment, the segment is mapped before returning.
    pub fn write_chunk(&self, encoding: Encoding, data: &[u8]) -> Result<ChunkRef, ChunkFileError> {
        let mut w = self.writer.lock();
        let r = w.write_chunk(encoding, data)?;
        // Map a segment this sealed before the copy moves on to the new one,
        // so that every chunk stays readable without the writer lock.
        self.map_sealed(&mut w)?;
        self.active.write().append(r, w.last_record());
        Ok(r)
    }

    /// Reads a chunk written by this store: from a map if its segment is
    /// sealed, else from the copy of the active segment (or its file).
    pub fn chunk(&self, chunk: ChunkRef) -> Result<ChunkBytes, ChunkFileError> {
        match self.reader.read().chunk(chunk) {
            Err(ChunkFileError::UnknownSegment(_)) => {}
            other => return other,
        }
        if let Some(found) = self.active.read().chunk(chunk) {
            return found;
        }
        let mut w = self.writer.lock();
        if w.active_segment() == Some(chunk.segment()) {
            return w.read_active(chunk);
        }
        drop(w);
        // The segment may have been sealed and mapped between the two locks.
        self.reader.read().chunk(chunk)
    }

    /// Seals the active segment so that everything written so far is mapped.
    pub fn cut(&self) -> Result<(), ChunkFileError> {
        let mut w = self.writer.lock();
        w.cut()?;
        self.map_sealed(&mut w)?;
        self.active.write().clear();
        Ok(())
    }

    /// Deletes every sealed segment numbered below `segment` (head
    /// truncation: pass the lowest segment any live chunk still refers to).
    /// The active segment is never deleted; chunks already read stay valid.
    pub fn remove_segments_before(&self, segment: u32) -> Result<(), ChunkFileError> {
        let w = self.writer.lock();
        let limit = w.active_segment().map_or(segment, |a| a.min(segment));
        drop(w);
        self.reader.write().remove_before(limit)
    }

    /// Sealed segment numbers, ascending.
    pub fn sealed_segments(&self) -> Vec<u32> {
        self.reader.read().segments().collect()
    }

    /// Bytes in sealed segments.
    pub fn size_bytes(&self) -> u64 {
        self.reader.read().size_bytes()
    }

    fn map_sealed(&self, w: &mut ChunkWriter) -> Result<(), ChunkFileError> {
        let sealed = w.take_sealed();
        if sealed.is_empty() {
            return Ok(());
        }
        let mut r = self.reader.write();
        for n in sealed {
            r.map_segment(n)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunks::segment::{header, segment_path};
    use std::fs;

    fn chunk_data(i: u32) -> Vec<u8> {
        (0..(i % 50 + 1)).map(|j| (i ^ j) as u8).collect()
    }

    #[test]
    fn write_read_across_segments_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = ChunkStore::open(dir.path(), 300).unwrap();
        let mut refs = Vec::new();
        for i in 0..40u32 {
            let r = store.write_chunk(Encoding::Xor, &chunk_data(i)).unwrap();
            // Readable at once, whether sealed or still in the active segment.
            assert_eq!(store.chunk(r).unwrap().data(), chunk_data(i));
            refs.push(r);
        }
        assert!(
            store.sealed_segments().len() >= 2,
            "300-byte limit must cut segments"
        );
        for (i, r) in refs.iter().enumerate() {
            let c = store.chunk(*r).unwrap();
            assert_eq!(c.encoding(), Encoding::Xor);
            assert_eq!(c.data(), chunk_data(i as u32));
        }
        store.cut().unwrap();
        let held = store.chunk(refs[0]).unwrap();
        drop(store);

        let reader = ChunkReader::open(dir.path()).unwrap();
        for (i, r) in refs.iter().enumerate() {
            assert_eq!(reader.chunk(*r).unwrap().data(), chunk_data(i as u32));
        }
        // New chunks go to a new segment after the existing ones.
        let store = ChunkStore::open(dir.path(), 300).unwrap();
        let r = store.write_chunk(Encoding::Xor, b"new").unwrap();
        assert!(r.segment() > refs.last().unwrap().segment());
        store.remove_segments_before(r.segment()).unwrap();
        assert!(matches!(
            store.chunk(refs[0]),
            Err(ChunkFileError::UnknownSegment(_))
        ));
        assert_eq!(
            held.data(),
            chunk_data(0),
            "a chunk read before deletion stays valid"
        );
        assert_eq!(store.chunk(r).unwrap().data(), b"new");
    }

    #[test]
    fn unsealed_leftovers_are_discarded_and_bad_refs_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut w = ChunkWriter::create(dir.path(), 1 << 20).unwrap();
            w.write_chunk(Encoding::Xor, b"abc").unwrap();
            // Dropped without finish: the segment stays a .tmp and must not be read.
        }
        let reader = ChunkReader::open(dir.path()).unwrap();
        assert_eq!(reader.segments().count(), 0);
        let store = ChunkStore::open(dir.path(), 1 << 20).unwrap();
        assert!(
            fs::read_dir(dir.path()).unwrap().next().is_none(),
            "leftover .tmp deleted"
        );
        let r = store.write_chunk(Encoding::Xor, b"abc").unwrap();
        store.cut().unwrap();
        let bad = [
            ChunkRef::new(r.segment(), 2),
            ChunkRef::new(r.segment(), 4000),
            ChunkRef::new(r.segment() + 7, 8),
            ChunkRef::new(r.segment(), r.offset() + 1),
        ];
        for b in bad {
            assert!(store.chunk(b).is_err(), "{b:?}");
        }
    }

    #[test]
    fn corrupt_segment_is_a_typed_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = ChunkWriter::create(dir.path(), 1 << 20).unwrap();
        let r = w.write_chunk(Encoding::Xor, b"payload").unwrap();
        w.finish().unwrap();
        let path = segment_path(dir.path(), r.segment());
        let mut bytes = fs::read(&path).unwrap();
        let n = bytes.len();
        bytes[n - 6] ^= 0xff;
        fs::write(&path, &bytes).unwrap();
        let reader = ChunkReader::open(dir.path()).unwrap();
        assert!(matches!(
            reader.chunk(r),
            Err(ChunkFileError::Checksum { .. })
        ));
        // Truncated to half a header: opening fails cleanly.
        fs::write(&path, &header()[..4]).unwrap();
        assert!(matches!(
            ChunkReader::open(dir.path()),
            Err(ChunkFileError::BadHeader { .. })
        ));
    }
}
