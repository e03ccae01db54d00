//! Appending chunks to segment files.
//!
//! The active segment is written through a buffer under `NNNNNN.tmp`; when it
//! would grow past the size limit (or on [`ChunkWriter::cut`] /
//! [`ChunkWriter::finish`]) it is flushed, fsynced, renamed to `NNNNNN` and
//! the directory fsynced: only then may a reader map it. Any I/O failure
//! poisons the writer; it never retries a failed write or fsync.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::io::{OsIo, SegmentFile, SegmentIo};
use super::segment::{self, HEADER_LEN, MAX_CHUNK_LEN};
use super::{Backing, ChunkBytes, ChunkFileError, ChunkRef};
use crate::chunkenc::Encoding;
use crate::codec::Decoder;

/// Writes chunks into numbered segment files of one directory. Not shared:
/// wrap it (as [`super::ChunkStore`] does) to write from several threads.
pub struct ChunkWriter {
    io: Arc<dyn SegmentIo>,
    dir: PathBuf,
    max_segment_bytes: u64,
    next_segment: u32,
    active: Option<Active>,
    newly_sealed: Vec<u32>,
    scratch: Vec<u8>,
    poisoned: bool,
}

struct Active {
    number: u32,
    path: PathBuf,
    file: Box<dyn SegmentFile>,
    /// Bytes written so far, header included.
    len: u64,
}

impl ChunkWriter {
    /// Opens `dir` (created if missing) for appending new segments after the
    /// highest sealed one. Leftover `.tmp` segments, incomplete by definition,
    /// are deleted. `max_segment_bytes` is clamped to what a [`ChunkRef`] can
    /// address (4 GiB); a chunk larger than the limit gets a segment of its own.
    pub fn create(dir: &Path, max_segment_bytes: u64) -> Result<Self, ChunkFileError> {
        Self::create_with_io(dir, max_segment_bytes, Arc::new(OsIo))
    }

    /// [`ChunkWriter::create`] writing through `io` (tests inject failures).
    pub(crate) fn create_with_io(
        dir: &Path,
        max_segment_bytes: u64,
        io: Arc<dyn SegmentIo>,
    ) -> Result<Self, ChunkFileError> {
        fs::create_dir_all(dir).map_err(ChunkFileError::io(dir))?;
        let (sealed, temps) = segment::list(dir)?;
        for t in &temps {
            fs::remove_file(t).map_err(ChunkFileError::io(t))?;
        }
        if !temps.is_empty() {
            io.sync_dir(dir).map_err(ChunkFileError::io(dir))?;
        }
        let next_segment = sealed.last().map_or(1, |n| n.saturating_add(1));
        Ok(ChunkWriter {
            io,
            dir: dir.to_owned(),
            max_segment_bytes: max_segment_bytes.clamp(HEADER_LEN as u64 + 1, u64::from(u32::MAX)),
            next_segment,
            active: None,
            newly_sealed: Vec::new(),
            scratch: Vec::with_capacity(256),
            poisoned: false,
        })
    }

    /// The directory written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends one chunk and returns where it was written. The chunk is
    /// readable through [`ChunkReader`](super::ChunkReader) once its segment is sealed.
    pub fn write_chunk(
        &mut self,
        encoding: Encoding,
        data: &[u8],
    ) -> Result<ChunkRef, ChunkFileError> {
        if self.poisoned {
            return Err(ChunkFileError::Poisoned);
        }
        if data.len() > MAX_CHUNK_LEN {
            return Err(ChunkFileError::TooLarge { len: data.len() });
        }
        let rec_len = segment::record_len(data.len()) as u64;
        if let Some(a) = &self.active {
            if a.len > HEADER_LEN as u64 && a.len + rec_len > self.max_segment_bytes {
                self.cut()?;
            }
        }
        if self.active.is_none() {
            self.open_next()?;
        }
        let Some(a) = self.active.as_mut() else {
            return Err(ChunkFileError::Poisoned);
        };
        let offset =
            u32::try_from(a.len).map_err(|_| ChunkFileError::TooLarge { len: data.len() })?;
        self.scratch.clear();
        segment::encode_record(&mut self.scratch, encoding, data);
        if let Err(e) = a.file.write_all(&self.scratch) {
            self.poisoned = true;
            return Err(ChunkFileError::Io {
                path: a.path.clone(),
                source: e,
            });
        }
        a.len += rec_len;
        Ok(ChunkRef::new(a.number, offset))
    }

    /// Seals the active segment, if any: the next chunk starts a new one.
    pub fn cut(&mut self) -> Result<(), ChunkFileError> {
        if self.poisoned {
            // The active segment may hold a torn record: it must never get a
            // final name (it stays `.tmp` and is deleted on the next open).
            return Err(ChunkFileError::Poisoned);
        }
        let Some(a) = self.active.take() else {
            return Ok(());
        };
        let result = self.seal(a);
        if result.is_err() {
            self.poisoned = true;
        }
        result
    }

    /// Seals the last segment; every chunk written is then durable and mappable.
    pub fn finish(mut self) -> Result<(), ChunkFileError> {
        self.cut()
    }

    /// The number of the segment being written, if one is open.
    pub fn active_segment(&self) -> Option<u32> {
        self.active.as_ref().map(|a| a.number)
    }

    /// The record bytes the last successful [`ChunkWriter::write_chunk`] wrote.
    pub(crate) fn last_record(&self) -> &[u8] {
        &self.scratch
    }

    /// Segments sealed since the last call, ascending.
    pub(crate) fn take_sealed(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.newly_sealed)
    }

    /// Reads a chunk of the active (unsealed) segment with `pread`, after
    /// flushing the write buffer. The bytes are copied out.
    pub(crate) fn read_active(&mut self, chunk: ChunkRef) -> Result<ChunkBytes, ChunkFileError> {
        let Some(a) = self.active.as_mut().filter(|a| a.number == chunk.segment()) else {
            return Err(ChunkFileError::UnknownSegment(chunk));
        };
        let corrupt = |reason| ChunkFileError::Corrupt { chunk, reason };
        let start = u64::from(chunk.offset());
        let avail = a
            .len
            .checked_sub(start)
            .filter(|&n| n > 0)
            .ok_or_else(|| corrupt("offset past end of segment"))?;
        // Read the length prefix first, then exactly the record it announces.
        let mut prefix = [0u8; 10];
        let prefix_len = prefix.len().min(avail as usize);
        let head = prefix
            .get_mut(..prefix_len)
            .ok_or_else(|| corrupt("offset past end of segment"))?;
        if let Err(e) = a.file.read_exact_at(head, start) {
            // A failed flush leaves buffered chunks in doubt.
            self.poisoned = true;
            return Err(ChunkFileError::Io {
                path: a.path.clone(),
                source: e,
            });
        }
        let len = Decoder::new(head)
            .uvarint()
            .ok_or_else(|| corrupt("truncated or malformed length"))?;
        let len = usize::try_from(len)
            .ok()
            .filter(|&l| l <= MAX_CHUNK_LEN)
            .ok_or_else(|| corrupt("length too large"))?;
        let rec_len = segment::record_len(len);
        if rec_len as u64 > avail {
            return Err(corrupt("data runs past end of segment"));
        }
        let mut rec = vec![0u8; rec_len];
        a.file
            .read_exact_at(&mut rec, start)
            .map_err(ChunkFileError::io(&a.path))?;
        let (encoding, range) = segment::decode_record(chunk, &rec)?;
        Ok(ChunkBytes {
            encoding,
            backing: Backing::Owned(Arc::from(rec)),
            range,
        })
    }

    fn open_next(&mut self) -> Result<(), ChunkFileError> {
        let number = self.next_segment;
        let path = segment::temp_path(&self.dir, number);
        let mut file = self.io.create(&path).map_err(ChunkFileError::io(&path))?;
        if let Err(e) = file.write_all(&segment::header()) {
            self.poisoned = true;
            return Err(ChunkFileError::Io { path, source: e });
        }
        self.next_segment = number.checked_add(1).ok_or(ChunkFileError::Poisoned)?;
        self.active = Some(Active {
            number,
            path,
            file,
            len: HEADER_LEN as u64,
        });
        Ok(())
    }

    fn seal(&mut self, mut a: Active) -> Result<(), ChunkFileError> {
        a.file.sync().map_err(ChunkFileError::io(&a.path))?;
        drop(a.file);
        let target = segment::segment_path(&self.dir, a.number);
        self.io
            .rename(&a.path, &target)
            .map_err(ChunkFileError::io(&target))?;
        self.io
            .sync_dir(&self.dir)
            .map_err(ChunkFileError::io(&self.dir))?;
        self.newly_sealed.push(a.number);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunks::ChunkReader;
    use std::io;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Which operation fails.
    #[derive(Clone, Copy, Debug)]
    enum Fault {
        /// A write after this many bytes went through.
        Write(usize),
        Sync,
        Rename,
    }

    struct FaultyIo {
        fault: Fault,
        written: Arc<AtomicUsize>,
    }

    struct FaultyFile {
        inner: Box<dyn SegmentFile>,
        fault: Fault,
        written: Arc<AtomicUsize>,
    }

    fn injected() -> io::Error {
        io::Error::other("injected fault")
    }

    impl SegmentFile for FaultyFile {
        fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
            let before = self.written.fetch_add(buf.len(), Ordering::SeqCst);
            match self.fault {
                Fault::Write(limit) if before + buf.len() > limit => Err(injected()),
                _ => self.inner.write_all(buf),
            }
        }
        fn read_exact_at(&mut self, buf: &mut [u8], offset: u64) -> io::Result<()> {
            self.inner.read_exact_at(buf, offset)
        }
        fn sync(&mut self) -> io::Result<()> {
            match self.fault {
                Fault::Sync => Err(injected()),
                _ => self.inner.sync(),
            }
        }
    }

    impl SegmentIo for FaultyIo {
        fn create(&self, path: &Path) -> io::Result<Box<dyn SegmentFile>> {
            Ok(Box::new(FaultyFile {
                inner: OsIo.create(path)?,
                fault: self.fault,
                written: Arc::clone(&self.written),
            }))
        }
        fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
            match self.fault {
                Fault::Rename => Err(injected()),
                _ => OsIo.rename(from, to),
            }
        }
        fn sync_dir(&self, dir: &Path) -> io::Result<()> {
            OsIo.sync_dir(dir)
        }
    }

    /// Every fault: the failing call reports an I/O error, every later write
    /// is refused as poisoned, and no segment ever appears under a final name
    /// (so nothing unsynced is ever mapped).
    #[test]
    fn a_failed_write_sync_or_rename_poisons_the_writer() {
        for fault in [
            Fault::Write(0),
            Fault::Write(100),
            Fault::Sync,
            Fault::Rename,
        ] {
            let dir = tempfile::tempdir().unwrap();
            let io = FaultyIo {
                fault,
                written: Arc::new(AtomicUsize::new(0)),
            };
            let mut w = ChunkWriter::create_with_io(dir.path(), 1 << 20, Arc::new(io)).unwrap();
            let mut first_err = None;
            for i in 0..20u8 {
                if let Err(e) = w.write_chunk(Encoding::Xor, &[i; 30]) {
                    first_err = Some(e);
                    break;
                }
            }
            let first_err = match first_err {
                Some(e) => e,
                None => w.cut().unwrap_err(),
            };
            assert!(
                matches!(first_err, ChunkFileError::Io { .. }),
                "{fault:?}: {first_err}"
            );
            assert!(
                matches!(
                    w.write_chunk(Encoding::Xor, b"more"),
                    Err(ChunkFileError::Poisoned)
                ),
                "{fault:?}"
            );
            assert!(
                matches!(w.cut(), Err(ChunkFileError::Poisoned)),
                "{fault:?}"
            );
            assert_eq!(
                ChunkReader::open(dir.path()).unwrap().segments().count(),
                0,
                "{fault:?}"
            );
        }
    }
}
