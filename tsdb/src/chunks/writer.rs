//! Appending chunks to segment files.
//!
//! The active segment is written through a buffer under `NNNNNN.tmp`; when it
//! would grow past the size limit (or on [`ChunkWriter::cut`] /
//! [`ChunkWriter::finish`]) it is flushed, fsynced, renamed to `NNNNNN` and
//! the directory fsynced: only then may a reader map it. Any I/O failure
//! poisons the writer; it never retries a failed write or fsync.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::segment::{self, HEADER_LEN, MAX_CHUNK_LEN};
use super::{Backing, ChunkBytes, ChunkFileError, ChunkRef};
use crate::chunkenc::Encoding;
use crate::codec::Decoder;

/// Writes chunks into numbered segment files of one directory. Not shared:
/// wrap it (as [`super::ChunkStore`] does) to write from several threads.
pub struct ChunkWriter {
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
    file: BufWriter<File>,
    /// Bytes written so far, header included.
    len: u64,
}

impl ChunkWriter {
    /// Opens `dir` (created if missing) for appending new segments after the
    /// highest sealed one. Leftover `.tmp` segments, incomplete by definition,
    /// are deleted. `max_segment_bytes` is clamped to what a [`ChunkRef`] can
    /// address (4 GiB); a chunk larger than the limit gets a segment of its own.
    pub fn create(dir: &Path, max_segment_bytes: u64) -> Result<Self, ChunkFileError> {
        fs::create_dir_all(dir).map_err(ChunkFileError::io(dir))?;
        let (sealed, temps) = segment::list(dir)?;
        for t in &temps {
            fs::remove_file(t).map_err(ChunkFileError::io(t))?;
        }
        if !temps.is_empty() {
            segment::sync_dir(dir)?;
        }
        let next_segment = sealed.last().map_or(1, |n| n.saturating_add(1));
        Ok(ChunkWriter {
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
        if let Err(e) = a.file.flush() {
            self.poisoned = true;
            return Err(ChunkFileError::Io {
                path: a.path.clone(),
                source: e,
            });
        }
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
        a.file
            .get_ref()
            .read_exact_at(head, start)
            .map_err(ChunkFileError::io(&a.path))?;
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
            .get_ref()
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
        let file = File::options()
            .write(true)
            .read(true)
            .create_new(true)
            .open(&path)
            .map_err(ChunkFileError::io(&path))?;
        let mut file = BufWriter::with_capacity(64 * 1024, file);
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

    fn seal(&mut self, a: Active) -> Result<(), ChunkFileError> {
        let file = a.file.into_inner().map_err(|e| ChunkFileError::Io {
            path: a.path.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(ChunkFileError::io(&a.path))?;
        drop(file);
        let target = segment::segment_path(&self.dir, a.number);
        fs::rename(&a.path, &target).map_err(ChunkFileError::io(&target))?;
        segment::sync_dir(&self.dir)?;
        self.newly_sealed.push(a.number);
        Ok(())
    }
}
