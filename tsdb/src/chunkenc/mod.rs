//! Sample codecs: the Prometheus-compatible Gorilla XOR chunk and, beside it,
//! other codecs (for comparison and for cold blocks) behind one trait.
//!
//! This module owns every byte layout of samples: [`XorChunk`] is the head's
//! and the blocks' chunk format and stays bit-compatible with Prometheus's
//! `EncXOR` chunks; the bit stream lives apart in `bstream`. Every decoder here
//! is bounded by the slice it is given and reports corrupt input as a
//! [`ChunkError`]; none may panic on bytes read from disk or the network.
//! [`Encoding`] is the one-byte tag written next to encoded data, using
//! Prometheus's values where the format is Prometheus's.

mod bstream;
mod cold;
mod dod_xor;
mod general;
mod gorilla;
mod intstream;
mod lz4;
mod pcodec;
mod plain;
mod snappy;
mod varint;
mod xor;
mod zstandard;

pub use cold::{decode as cold_decode, encode as cold_encode, ColdCodec};
pub use dod_xor::DodXorCodec;
pub use gorilla::GorillaCodec;
pub use lz4::Lz4Codec;
pub use pcodec::PcoCodec;
pub use plain::PlainCodec;
pub use snappy::SnappyCodec;
pub use xor::{XorChunk, XorIterator};
pub use zstandard::ZstdCodec;

/// Most samples one encoded run may claim; decoders refuse larger counts
/// before allocating (4 Mi samples, 64 MiB decoded; 31 days at 1 s is 2.7 Mi).
pub const MAX_RUN_SAMPLES: usize = 1 << 22;

/// Bytes an encoded run takes, split between timestamps and values.
///
/// Codecs that interleave the two (the XOR chunk) compute the split exactly;
/// headers count towards timestamps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EncodedSize {
    /// Bytes for timestamps and framing.
    pub timestamps: usize,
    /// Bytes for values.
    pub values: usize,
}

impl EncodedSize {
    /// All bytes of the run.
    pub fn total(&self) -> usize {
        self.timestamps + self.values
    }
}

/// A sample codec: encodes a run of samples of one series and decodes it back,
/// bit-exact (NaN payloads and stale markers included).
///
/// Timestamps are ms and expected increasing (every codec stays lossless on
/// any order, but compresses worse). Decoding appends to the caller's vectors,
/// so buffers are reused across runs.
pub trait Codec: Send + Sync {
    /// Short name used by reports and the CLI (`gorilla`, `cold`, ...).
    fn name(&self) -> &'static str;

    /// Appends the encoding of `ts`/`vs` (same length) to `out`.
    fn encode(&self, ts: &[i64], vs: &[f64], out: &mut Vec<u8>) -> Result<EncodedSize, CodecError>;

    /// Decodes one run produced by [`encode`](Codec::encode), appending its samples.
    fn decode(&self, data: &[u8], ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<(), CodecError>;
}

/// Every codec, in report order: Gorilla first (the reference), then the
/// baseline, the column codecs, the general-purpose compressors, and cold.
pub fn codecs() -> Vec<Box<dyn Codec>> {
    vec![
        Box::new(GorillaCodec::default()),
        Box::new(PlainCodec),
        Box::new(DodXorCodec),
        Box::new(PcoCodec::default()),
        Box::new(ZstdCodec::default()),
        Box::new(Lz4Codec),
        Box::new(SnappyCodec),
        Box::new(ColdCodec),
    ]
}

/// The codec named `name` (see [`Codec::name`]).
pub fn codec_by_name(name: &str) -> Option<Box<dyn Codec>> {
    codecs().into_iter().find(|c| c.name() == name)
}

/// One-byte tag naming how a chunk's bytes are encoded, as stored in chunk
/// segment files. Values 0–3 are Prometheus's (`chunkenc.Encoding`); ours start
/// at 0x40 so they never collide with upstream additions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u8)]
pub enum Encoding {
    /// No encoding (Prometheus `EncNone`).
    None = 0,
    /// Gorilla XOR float chunk (Prometheus `EncXOR`).
    Xor = 1,
    /// Prometheus native histogram chunk (`EncHistogram`); recognized, not decoded.
    Histogram = 2,
    /// Prometheus float histogram chunk (`EncFloatHistogram`); recognized, not decoded.
    FloatHistogram = 3,
    /// promlite's cold-block encoding ([`cold_encode`]): a whole series run
    /// per chunk, timestamps and values in columns.
    Cold = 0x40,
    /// A cold run's values whose timestamps are another cold chunk of the
    /// same block, shared by the series scraped together (`block::shared`).
    ColdShared = 0x41,
}

impl Encoding {
    /// The byte written on disk.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// Parses the on-disk byte.
    pub fn from_u8(b: u8) -> Result<Encoding, ChunkError> {
        match b {
            0 => Ok(Encoding::None),
            1 => Ok(Encoding::Xor),
            2 => Ok(Encoding::Histogram),
            3 => Ok(Encoding::FloatHistogram),
            0x40 => Ok(Encoding::Cold),
            0x41 => Ok(Encoding::ColdShared),
            other => Err(ChunkError::UnknownEncoding(other)),
        }
    }
}

/// Why encoded samples could not be decoded or appended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChunkError {
    /// The data ended in the middle of a sample.
    #[error("chunk data truncated at bit {bit} of the sample stream")]
    Truncated {
        /// Bit offset (from the start of the sample stream) of the failed read.
        bit: usize,
    },
    /// A varint ran over 10 bytes or 64 bits.
    #[error("varint overflows 64 bits at bit {bit}")]
    VarintOverflow {
        /// Bit offset where the varint starts.
        bit: usize,
    },
    /// An XOR value window claims more than 64 bits.
    #[error("bad XOR window at bit {bit}: {leading} leading zeros + {significant} significant bits > 64")]
    BadWindow {
        /// Bit offset after the window header.
        bit: usize,
        /// Leading zeros read.
        leading: u8,
        /// Significant bits read.
        significant: u8,
    },
    /// The chunk already holds `u16::MAX` samples.
    #[error("chunk is full ({} samples)", u16::MAX)]
    Full,
    /// The encoding byte names no encoding we know.
    #[error("unknown chunk encoding byte {0:#04x}")]
    UnknownEncoding(u8),
}

/// Why a codec could not encode or decode a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// A corrupt XOR chunk inside the run.
    #[error(transparent)]
    Chunk(#[from] ChunkError),
    /// The data ended early.
    #[error("encoded run truncated at byte {offset}")]
    Truncated {
        /// Byte offset of the failed read.
        offset: usize,
    },
    /// The data is inconsistent.
    #[error("corrupt encoded run at byte {offset}: {what}")]
    Corrupt {
        /// Byte offset where it was noticed.
        offset: usize,
        /// What was wrong.
        what: &'static str,
    },
    /// A count or length exceeds its bound.
    #[error("length {len} at byte {offset} exceeds the bound {max}")]
    TooLarge {
        /// Byte offset of the length.
        offset: usize,
        /// The length read.
        len: u64,
        /// The bound.
        max: u64,
    },
    /// `encode` was given columns of different lengths.
    #[error("{timestamps} timestamps but {values} values")]
    LengthMismatch {
        /// Number of timestamps.
        timestamps: usize,
        /// Number of values.
        values: usize,
    },
    /// A third-party compressor failed.
    #[error("{codec} failed")]
    Library {
        /// Codec name.
        codec: &'static str,
        /// The library's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Checks that the columns have the same length and fit a run.
pub(crate) fn check_columns(ts: &[i64], vs: &[f64]) -> Result<(), CodecError> {
    if ts.len() != vs.len() {
        return Err(CodecError::LengthMismatch {
            timestamps: ts.len(),
            values: vs.len(),
        });
    }
    if ts.len() > MAX_RUN_SAMPLES {
        return Err(CodecError::TooLarge {
            offset: 0,
            len: ts.len() as u64,
            max: MAX_RUN_SAMPLES as u64,
        });
    }
    Ok(())
}
