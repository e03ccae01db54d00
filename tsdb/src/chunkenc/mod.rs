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
mod xor;

pub use xor::{XorChunk, XorIterator};

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
