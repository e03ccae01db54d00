//! Segment files and record framing: how records sit in the WAL's files.
//!
//! The WAL is a directory of segment files named by an 8-digit decimal number
//! (`00000000`, `00000001`, ...), written strictly in order. A segment is a plain
//! sequence of frames, each `type u8 | length u32 LE | crc32c u32 LE | payload`,
//! where the CRC32C covers the type, the length and the payload, so a torn or
//! bit-flipped frame is always detected. There is no padding: the first byte that
//! does not start a valid frame ends the valid part of the log (see `docs/format/wal.md`).
//! This module never interprets payloads; `record` does.

use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Bytes of the frame header: type, length, checksum.
pub(crate) const HEADER_LEN: usize = 9;

/// The largest payload a frame may declare. Commits larger than this are split
/// into several frames by the encoder; a reader refuses longer lengths as corrupt.
pub(crate) const MAX_PAYLOAD_BYTES: usize = 32 << 20;

/// The kind of a WAL record, stored in the frame's type byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordType {
    /// New series: references and their label sets.
    Series = 1,
    /// Float samples: series reference, timestamp, value.
    Samples = 2,
}

impl RecordType {
    fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(RecordType::Series),
            2 => Some(RecordType::Samples),
            _ => None,
        }
    }
}

/// A segment's number; segments are replayed in increasing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct SegmentNo(pub(crate) u32);

impl SegmentNo {
    /// The file name of this segment.
    pub(crate) fn file_name(self) -> String {
        format!("{:08}", self.0)
    }

    /// Parses a segment file name; anything but exactly 8 digits is not a segment.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        (name.len() == 8 && name.bytes().all(|b| b.is_ascii_digit()))
            .then(|| name.parse().ok().map(SegmentNo))
            .flatten()
    }

    /// The segment after this one.
    pub(crate) fn next(self) -> Self {
        SegmentNo(self.0.saturating_add(1))
    }
}

/// The segments in `dir`, sorted by number.
pub(crate) fn list_segments(dir: &Path) -> io::Result<Vec<(SegmentNo, PathBuf)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if let Some(no) = entry.file_name().to_str().and_then(SegmentNo::parse) {
            out.push((no, entry.path()));
        }
    }
    out.sort_unstable_by_key(|(no, _)| *no);
    Ok(out)
}

/// Starts a frame in `buf`: reserves the header; the payload is then appended
/// to `buf` directly and [`finish_frame`] fills in the header.
pub(crate) fn begin_frame(buf: &mut Vec<u8>) -> usize {
    let start = buf.len();
    buf.extend_from_slice(&[0; HEADER_LEN]);
    start
}

/// Completes the frame started at `start` with everything appended since as payload.
/// The caller keeps payloads under [`MAX_PAYLOAD_BYTES`].
pub(crate) fn finish_frame(buf: &mut [u8], start: usize, kind: RecordType) {
    let payload_len = buf.len().saturating_sub(start + HEADER_LEN);
    debug_assert!(payload_len <= MAX_PAYLOAD_BYTES);
    let len = u32::try_from(payload_len).unwrap_or(u32::MAX);
    let Some(frame) = buf.get_mut(start..) else {
        return;
    };
    if let Some((kind_byte, len_bytes)) = frame.split_first_mut() {
        *kind_byte = kind as u8;
        if let Some(l) = len_bytes.get_mut(..4) {
            l.copy_from_slice(&len.to_le_bytes());
        }
    }
    let crc = frame_crc(
        frame.get(..5).unwrap_or_default(),
        frame.get(HEADER_LEN..).unwrap_or_default(),
    );
    if let Some(c) = frame.get_mut(5..HEADER_LEN) {
        c.copy_from_slice(&crc.to_le_bytes());
    }
}

fn frame_crc(type_and_len: &[u8], payload: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(type_and_len), payload)
}

/// Why the bytes at some offset are not a valid frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FrameFault {
    /// The file ends inside a frame header.
    TornHeader,
    /// The type byte is not a known record type (0 is what a zero-filled tail shows).
    UnknownType(u8),
    /// The declared length exceeds [`MAX_PAYLOAD_BYTES`].
    LengthTooLarge(u32),
    /// The file ends before the declared payload does.
    TornPayload {
        /// Declared payload length.
        declared: u32,
    },
    /// The checksum does not match the bytes.
    Checksum {
        /// The checksum computed over the bytes read.
        got: u32,
        /// The checksum stored in the header.
        expected: u32,
    },
    /// The payload passed its checksum but does not decode as its type.
    BadPayload(String),
}

impl fmt::Display for FrameFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameFault::TornHeader => f.write_str("file ends inside a record header"),
            FrameFault::UnknownType(t) => write!(f, "unknown record type {t}"),
            FrameFault::LengthTooLarge(n) => write!(
                f,
                "record length {n} exceeds the maximum {MAX_PAYLOAD_BYTES}"
            ),
            FrameFault::TornPayload { declared } => {
                write!(f, "file ends inside a record of {declared} bytes")
            }
            FrameFault::Checksum { got, expected } => {
                write!(
                    f,
                    "checksum mismatch: computed {got:#010x}, stored {expected:#010x}"
                )
            }
            FrameFault::BadPayload(why) => write!(f, "record does not decode: {why}"),
        }
    }
}

/// Reads frames from one segment, tracking the offset of each.
pub(crate) struct FrameReader<R> {
    inner: R,
    offset: u64,
}

/// What [`FrameReader::next`] found.
pub(crate) enum Frame {
    /// A valid frame of this type; its payload is in the caller's buffer.
    Record(RecordType),
    /// A clean end of the segment, exactly at a frame boundary.
    End,
}

impl<R: Read> FrameReader<R> {
    /// Reads from the start of a segment.
    pub(crate) fn new(inner: R) -> Self {
        FrameReader { inner, offset: 0 }
    }

    /// Offset of the next frame (after a successful read), or of the faulty one.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// Reads the next frame's payload into `payload` (cleared first). On a fault the
    /// offset stays at the start of the faulty frame, which is where repair cuts.
    pub(crate) fn next(&mut self, payload: &mut Vec<u8>) -> io::Result<Result<Frame, FrameFault>> {
        payload.clear();
        let mut header = [0u8; HEADER_LEN];
        let got = read_full(&mut self.inner, &mut header)?;
        if got == 0 {
            return Ok(Ok(Frame::End));
        }
        if got < HEADER_LEN {
            return Ok(Err(FrameFault::TornHeader));
        }
        let [kind, l0, l1, l2, l3, c0, c1, c2, c3] = header;
        let Some(kind) = RecordType::from_byte(kind) else {
            return Ok(Err(FrameFault::UnknownType(kind)));
        };
        let len = u32::from_le_bytes([l0, l1, l2, l3]);
        let expected = u32::from_le_bytes([c0, c1, c2, c3]);
        let len_usize = usize::try_from(len).unwrap_or(usize::MAX);
        if len_usize > MAX_PAYLOAD_BYTES {
            return Ok(Err(FrameFault::LengthTooLarge(len)));
        }
        payload.resize(len_usize, 0);
        if read_full(&mut self.inner, payload)? < len_usize {
            return Ok(Err(FrameFault::TornPayload { declared: len }));
        }
        let got = frame_crc(header.get(..5).unwrap_or_default(), payload);
        if got != expected {
            return Ok(Err(FrameFault::Checksum { got, expected }));
        }
        self.offset += (HEADER_LEN + len_usize) as u64;
        Ok(Ok(Frame::Record(kind)))
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while let Some(rest) = buf.get_mut(done..) {
        if rest.is_empty() {
            break;
        }
        match r.read(rest) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: RecordType, payload: &[u8]) -> Vec<u8> {
        let mut buf = Vec::new();
        let start = begin_frame(&mut buf);
        buf.extend_from_slice(payload);
        finish_frame(&mut buf, start, kind);
        buf
    }

    type ReadAll = (Vec<(RecordType, Vec<u8>)>, Option<(u64, FrameFault)>);

    fn read_all(bytes: &[u8]) -> ReadAll {
        let mut r = FrameReader::new(bytes);
        let mut out = Vec::new();
        let mut p = Vec::new();
        loop {
            match r.next(&mut p).unwrap() {
                Ok(Frame::Record(k)) => out.push((k, p.clone())),
                Ok(Frame::End) => return (out, None),
                Err(f) => return (out, Some((r.offset(), f))),
            }
        }
    }

    #[test]
    fn frames_round_trip() {
        let mut bytes = frame(RecordType::Series, b"abc");
        bytes.extend(frame(RecordType::Samples, b""));
        let (recs, fault) = read_all(&bytes);
        assert_eq!(
            recs,
            vec![
                (RecordType::Series, b"abc".to_vec()),
                (RecordType::Samples, vec![])
            ]
        );
        assert_eq!(fault, None);
    }

    #[test]
    fn every_truncation_is_detected_at_the_frame_start() {
        let first = frame(RecordType::Series, b"first");
        let second = frame(RecordType::Samples, b"second record");
        let mut bytes = first.clone();
        bytes.extend(&second);
        for cut in first.len() + 1..bytes.len() {
            let (recs, fault) = read_all(&bytes[..cut]);
            assert_eq!(recs.len(), 1, "cut at {cut}");
            assert_eq!(
                fault.map(|(o, _)| o),
                Some(first.len() as u64),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn every_bit_flip_is_detected() {
        let bytes = frame(RecordType::Samples, b"payload bytes");
        for i in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[i / 8] ^= 1 << (i % 8);
            let (recs, fault) = read_all(&b);
            assert!(
                recs.is_empty() && fault.is_some(),
                "bit {i} flipped went unnoticed"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_and_stop_inside_the_input(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)
        ) {
            let (recs, fault) = read_all(&bytes);
            let good: usize = recs.iter().map(|(_, p)| HEADER_LEN + p.len()).sum();
            proptest::prop_assert!(good <= bytes.len());
            if let Some((offset, _)) = fault {
                proptest::prop_assert_eq!(offset as usize, good, "a fault is reported where the good frames end");
            }
        }
    }

    #[test]
    fn segment_names() {
        assert_eq!(SegmentNo(12).file_name(), "00000012");
        assert_eq!(SegmentNo::parse("00000012"), Some(SegmentNo(12)));
        assert_eq!(SegmentNo::parse("0000012"), None);
        assert_eq!(SegmentNo::parse("0000001a"), None);
    }
}
