//! The byte layout of a block index file (see `docs/format/index.md`).
//!
//! ```text
//! header   magic u32 BE 0x504C4958 ("PLIX") | version u8 (1 or 2) | 3 zero bytes
//! section  symbols | series | series offsets | postings | postings table,
//!          each: body bytes | CRC32C(body) u32 BE
//! TOC      5 × (offset u64 BE, length u64 BE) of the bodies | CRC32C(TOC) u32 BE
//! ```

/// Magic number opening every index file.
pub(crate) const MAGIC: u32 = 0x504C_4958;
/// Format version written: series store labels as postings-table positions,
/// series offsets are u32 and chunk start times are relative to a base time
/// at the head of the series section.
pub(crate) const VERSION: u8 = 2;
/// The first format version, still read: labels as symbol refs, u64 series
/// offsets, absolute times.
pub(crate) const VERSION_1: u8 = 1;
/// Bytes of the header.
pub(crate) const HEADER_LEN: usize = 8;
/// Number of sections, in file order.
pub(crate) const SECTIONS: usize = 5;
/// Bytes of the TOC: the section table plus its CRC.
pub(crate) const TOC_LEN: usize = SECTIONS * 16 + 4;
/// Bytes of each series offset entry in a `version` file.
pub(crate) fn series_offset_len(version: u8) -> usize {
    if version == VERSION_1 {
        8
    } else {
        4
    }
}

/// The sections of an index file, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    /// Sorted unique strings; a symbol ref is the position in this list.
    Symbols = 0,
    /// Series entries (labels as symbol refs, chunk metas), in label order.
    Series = 1,
    /// One u32 BE per series (u64 BE in version 1): offset of its entry
    /// within the series section.
    SeriesOffsets = 2,
    /// Roaring bitmaps (portable format), one per label pair.
    Postings = 3,
    /// Sorted names, each with its sorted values and their postings location.
    PostingsTable = 4,
}

impl Section {
    /// Every section, in file order.
    pub(crate) const ALL: [Section; SECTIONS] = [
        Section::Symbols,
        Section::Series,
        Section::SeriesOffsets,
        Section::Postings,
        Section::PostingsTable,
    ];

    /// The name used in errors and docs.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Section::Symbols => "symbols",
            Section::Series => "series",
            Section::SeriesOffsets => "series offsets",
            Section::Postings => "postings",
            Section::PostingsTable => "postings table",
        }
    }
}

/// The file header bytes.
pub(crate) fn header() -> [u8; HEADER_LEN] {
    let m = MAGIC.to_be_bytes();
    [m[0], m[1], m[2], m[3], VERSION, 0, 0, 0]
}
