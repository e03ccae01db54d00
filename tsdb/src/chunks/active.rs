//! An in-memory copy of the head's active chunk segment, so that queries read
//! its chunks without a system call.
//!
//! Only sealed segments are memory-mapped (see the module invariant in
//! `chunks`), so the chunks of the segment still being written would otherwise
//! be read back with `pread` under the writer lock: two system calls and a
//! buffer flush per chunk, serialised between query threads. The copy holds
//! exactly the bytes written to the active segment (header included, so chunk
//! offsets index it directly) and is dropped when the segment is sealed and
//! mapped. It costs at most one segment of memory, which is why the head uses
//! small segments. It never holds bytes that were not written to the file: a
//! write that fails is not copied, and any mismatch disables the copy until
//! the next segment (reads then fall back to `pread`).

use std::sync::Arc;

use super::segment::{self, HEADER_LEN};
use super::{Backing, ChunkBytes, ChunkFileError, ChunkRef};

/// The active segment's bytes, or nothing (between segments, or disabled).
#[derive(Default)]
pub(crate) struct ActiveCopy {
    /// The segment copied, if the copy is valid.
    segment: Option<u32>,
    /// The segment's bytes from offset 0.
    bytes: Vec<u8>,
}

impl ActiveCopy {
    /// Records that `record` (one encoded chunk record) was written at `chunk`.
    /// A chunk in a new segment starts a new copy.
    pub(crate) fn append(&mut self, chunk: ChunkRef, record: &[u8]) {
        if self.segment != Some(chunk.segment()) {
            self.bytes.clear();
            self.bytes.extend_from_slice(&segment::header());
            self.segment = Some(chunk.segment());
        }
        if self.bytes.len() != chunk.offset() as usize {
            // Not where the writer put it: never guess, let reads use the file.
            self.clear();
            return;
        }
        self.bytes.extend_from_slice(record);
    }

    /// Forgets the copy (the segment was sealed and mapped) and frees it.
    pub(crate) fn clear(&mut self) {
        self.segment = None;
        self.bytes = Vec::new();
    }

    /// The chunk at `chunk`, copied out (lengths checked; the checksum is not
    /// recomputed, the bytes never left memory); `None` if the copy does not
    /// hold its segment.
    pub(crate) fn chunk(&self, chunk: ChunkRef) -> Option<Result<ChunkBytes, ChunkFileError>> {
        if self.segment != Some(chunk.segment()) {
            return None;
        }
        let start = chunk.offset() as usize;
        let rest = match self.bytes.get(start..).filter(|_| start >= HEADER_LEN) {
            Some(rest) if !rest.is_empty() => rest,
            _ => {
                return Some(Err(ChunkFileError::Corrupt {
                    chunk,
                    reason: "offset outside the written segment",
                }))
            }
        };
        // The copy holds only bytes this process encoded: no checksum to verify.
        let record = segment::read_record(chunk, rest, segment::Checksum::Trust);
        Some(record.map(|(encoding, range)| {
            let data: Arc<[u8]> = Arc::from(rest.get(range).unwrap_or_default());
            let len = data.len();
            ChunkBytes {
                encoding,
                backing: Backing::Owned(data),
                range: 0..len,
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunkenc::Encoding;

    fn record(data: &[u8]) -> Vec<u8> {
        let mut buf = Vec::new();
        segment::encode_record(&mut buf, Encoding::Xor, data);
        buf
    }

    #[test]
    fn serves_appended_chunks_of_its_segment_only() {
        let mut copy = ActiveCopy::default();
        let a = ChunkRef::new(3, HEADER_LEN as u32);
        let ra = record(b"first");
        copy.append(a, &ra);
        let b = ChunkRef::new(3, (HEADER_LEN + ra.len()) as u32);
        copy.append(b, &record(b"second"));
        let read = |r| copy.chunk(r).map(|c| c.map(|c| c.data().to_vec()));
        assert_eq!(read(a).unwrap().unwrap(), b"first");
        assert_eq!(read(b).unwrap().unwrap(), b"second");
        assert!(read(ChunkRef::new(4, HEADER_LEN as u32)).is_none());
        assert!(read(ChunkRef::new(3, 2)).unwrap().is_err());
        assert!(read(ChunkRef::new(3, 10_000)).unwrap().is_err());
        assert!(read(ChunkRef::new(3, HEADER_LEN as u32 + 1))
            .unwrap()
            .is_err());

        // A new segment replaces the copy.
        let c = ChunkRef::new(4, HEADER_LEN as u32);
        copy.append(c, &record(b"third"));
        assert!(copy.chunk(a).is_none());
        assert_eq!(copy.chunk(c).unwrap().unwrap().data(), b"third");
    }

    #[test]
    fn a_gap_disables_the_copy() {
        let mut copy = ActiveCopy::default();
        let a = ChunkRef::new(1, HEADER_LEN as u32);
        copy.append(a, &record(b"x"));
        // Claimed offset does not follow the bytes copied so far.
        copy.append(ChunkRef::new(1, 500), &record(b"y"));
        assert!(copy.chunk(a).is_none());
        assert!(copy.chunk(ChunkRef::new(1, 500)).is_none());
    }
}
