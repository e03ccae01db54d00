//! Reading a block index file through a memory map.
//!
//! [`IndexFile::open`] checks the header, the TOC and the CRC32C of every
//! section once, decodes the symbols (each becomes one shared [`Symbol`], so
//! series read later share their strings) and the postings table (names and
//! their sorted values); series entries and postings bitmaps are decoded on
//! demand from the map. Every offset, count and ref read from the file is
//! checked against the bytes actually there; a violation is
//! [`IndexError::Corrupt`], never a panic.

use std::collections::BTreeSet;
use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use roaring::{MultiOps, RoaringBitmap};

use super::format::{self, Section};
use super::{ChunkMeta, IndexError, IndexReader};
use crate::chunks::ChunkRef;
use crate::codec::Decoder;
use crate::labels::{Label, Labels, Symbol};

/// An open, immutable block index. `Send + Sync`; reads take `&self`.
pub struct IndexFile {
    path: PathBuf,
    map: Mmap,
    symbols: Vec<Symbol>,
    names: Vec<NameEntry>,
    sections: [Range<usize>; format::SECTIONS],
    num_series: u32,
    /// The file's format version (`format::VERSION_1` or `format::VERSION`).
    version: u8,
    /// Version 2: the time the first chunk start of each series is relative to.
    base_time: i64,
}

struct NameEntry {
    name: Symbol,
    values: Vec<ValueEntry>,
}

struct ValueEntry {
    value: Symbol,
    /// Byte range of the bitmap within the postings section.
    postings: Range<usize>,
}

impl IndexFile {
    /// Maps and validates the index at `path`.
    pub fn open(path: &Path) -> Result<Self, IndexError> {
        let io = |source| IndexError::Io {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        // SAFETY: an index file is written completely and fsynced inside a
        // temporary block directory that is renamed into place afterwards;
        // nothing in promlite writes or truncates it after that, so the mapped
        // bytes never change while mapped.
        let map = unsafe { Mmap::map(&file) }.map_err(io)?;
        let mut ix = IndexFile {
            path: path.to_owned(),
            map,
            symbols: Vec::new(),
            names: Vec::new(),
            sections: Default::default(),
            num_series: 0,
            version: format::VERSION,
            base_time: 0,
        };
        ix.read_toc()?;
        ix.read_symbols()?;
        ix.read_postings_table()?;
        if ix.version != format::VERSION_1 {
            let mut d = Decoder::new(ix.section(Section::Series));
            ix.base_time = d
                .varint()
                .ok_or_else(|| ix.corrupt(Section::Series, 0, "truncated base time"))?;
        }
        let offsets_len = ix.section(Section::SeriesOffsets).len();
        let entry_len = format::series_offset_len(ix.version);
        if !offsets_len.is_multiple_of(entry_len) {
            return Err(ix.corrupt(
                Section::SeriesOffsets,
                0,
                "length not a multiple of the entry size",
            ));
        }
        ix.num_series = u32::try_from(offsets_len / entry_len)
            .map_err(|_| ix.corrupt(Section::SeriesOffsets, 0, "too many series"))?;
        Ok(ix)
    }

    /// Number of series; their ids are `0..num_series`, in label order.
    pub fn num_series(&self) -> u32 {
        self.num_series
    }

    /// Size of the file in bytes.
    pub fn size_bytes(&self) -> u64 {
        self.map.len() as u64
    }

    /// The labels of series `id`; its chunk metas (sorted by time) replace
    /// the contents of `chunks`.
    pub fn series(&self, id: u32, chunks: &mut Vec<ChunkMeta>) -> Result<Labels, IndexError> {
        chunks.clear();
        let (mut d, base) = self.series_entry(id)?;
        let mut labels = Vec::new();
        self.decode_labels(&mut d, base, |name, value| {
            labels.push(Label { name, value })
        })?;
        let bad = |d: &Decoder<'_>, reason| self.corrupt(Section::Series, base + d.pos(), reason);
        let n = d
            .uvarint()
            .ok_or_else(|| bad(&d, "truncated chunk count"))?;
        if n > d.remaining() as u64 {
            return Err(bad(&d, "chunk count exceeds entry"));
        }
        let mut prev: Option<(i64, u64)> = None;
        for _ in 0..n {
            let start = d.varint().ok_or_else(|| bad(&d, "truncated chunk time"))?;
            let span = d
                .uvarint()
                .and_then(|s| i64::try_from(s).ok())
                .ok_or_else(|| bad(&d, "bad chunk span"))?;
            let (min_time, chunk_ref) = match prev {
                None => (
                    start
                        .checked_add(self.base_time)
                        .ok_or_else(|| bad(&d, "chunk time overflow"))?,
                    d.uvarint().ok_or_else(|| bad(&d, "truncated chunk ref"))?,
                ),
                Some((prev_max, prev_ref)) => {
                    let delta = d.varint().ok_or_else(|| bad(&d, "truncated chunk ref"))?;
                    let min = prev_max
                        .checked_add(start)
                        .ok_or_else(|| bad(&d, "chunk time overflow"))?;
                    (min, prev_ref.wrapping_add(delta as u64))
                }
            };
            let max_time = min_time
                .checked_add(span)
                .ok_or_else(|| bad(&d, "chunk time overflow"))?;
            chunks.push(ChunkMeta {
                min_time,
                max_time,
                chunk_ref: ChunkRef::from_u64(chunk_ref),
            });
            prev = Some((max_time, chunk_ref));
        }
        Ok(Labels::from_sorted_unchecked(labels))
    }

    fn corrupt(&self, section: Section, offset: usize, reason: &'static str) -> IndexError {
        let base = self.sections.get(section as usize).map_or(0, |r| r.start);
        IndexError::Corrupt {
            path: self.path.clone(),
            section: section.name(),
            offset: (base + offset) as u64,
            reason,
        }
    }

    fn section(&self, s: Section) -> &[u8] {
        // Ranges were checked against the map in `read_toc`.
        self.sections
            .get(s as usize)
            .and_then(|r| self.map.get(r.clone()))
            .unwrap_or_default()
    }

    fn read_toc(&mut self) -> Result<(), IndexError> {
        let hdr = |reason| IndexError::Corrupt {
            path: self.path.clone(),
            section: "header",
            offset: 0,
            reason,
        };
        let len = self.map.len();
        if len < format::HEADER_LEN + format::TOC_LEN {
            return Err(hdr("file shorter than header and TOC"));
        }
        let mut d = Decoder::new(&self.map);
        if d.be_u32() != Some(format::MAGIC) {
            return Err(hdr("wrong magic number"));
        }
        match d.u8() {
            Some(v @ (format::VERSION_1 | format::VERSION)) => self.version = v,
            _ => return Err(hdr("unsupported version")),
        }
        let toc_start = len - format::TOC_LEN;
        let toc = self.map.get(toc_start..).unwrap_or_default();
        let (table, crc) = toc.split_at(format::SECTIONS * 16);
        let expected = Decoder::new(crc).be_u32().unwrap_or_default();
        let got = crc32c::crc32c(table);
        if got != expected {
            return Err(IndexError::Checksum {
                path: self.path.clone(),
                section: "TOC",
                got,
                expected,
            });
        }
        let mut d = Decoder::new(table);
        for s in Section::ALL {
            let toc_err = |reason| IndexError::Corrupt {
                path: self.path.clone(),
                section: s.name(),
                offset: toc_start as u64,
                reason,
            };
            let off = d.be_u64().unwrap_or_default();
            let body_len = d.be_u64().unwrap_or_default();
            let range = usize::try_from(off)
                .ok()
                .zip(usize::try_from(body_len).ok())
                .and_then(|(o, l)| Some(o..o.checked_add(l)?))
                .filter(|r| {
                    r.start >= format::HEADER_LEN
                        && r.end.checked_add(4).is_some_and(|e| e <= toc_start)
                })
                .ok_or_else(|| toc_err("section outside file"))?;
            let body = self.map.get(range.clone()).unwrap_or_default();
            let stored = self.map.get(range.end..range.end + 4).unwrap_or_default();
            let expected = Decoder::new(stored).be_u32().unwrap_or_default();
            let got = crc32c::crc32c(body);
            if got != expected {
                return Err(IndexError::Checksum {
                    path: self.path.clone(),
                    section: s.name(),
                    got,
                    expected,
                });
            }
            if let Some(slot) = self.sections.get_mut(s as usize) {
                *slot = range;
            }
        }
        Ok(())
    }

    fn read_symbols(&mut self) -> Result<(), IndexError> {
        let body = self.section(Section::Symbols);
        let mut d = Decoder::new(body);
        let bad = |d: &Decoder<'_>, reason| self.corrupt(Section::Symbols, d.pos(), reason);
        let n = d.uvarint().ok_or_else(|| bad(&d, "truncated count"))?;
        if n > d.remaining() as u64 {
            return Err(bad(&d, "count exceeds section"));
        }
        let mut symbols: Vec<Symbol> = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let len = d
                .uvarint()
                .and_then(|l| usize::try_from(l).ok())
                .ok_or_else(|| bad(&d, "bad length"))?;
            let bytes = d
                .bytes(len)
                .ok_or_else(|| bad(&d, "symbol runs past section"))?;
            let s = std::str::from_utf8(bytes).map_err(|_| bad(&d, "symbol is not UTF-8"))?;
            if symbols.last().is_some_and(|p| **p >= *s) {
                return Err(bad(&d, "symbols not sorted and unique"));
            }
            symbols.push(Symbol::from(s));
        }
        self.symbols = symbols;
        Ok(())
    }

    fn symbol(&self, r: u64, section: Section, at: usize) -> Result<Symbol, IndexError> {
        usize::try_from(r)
            .ok()
            .and_then(|i| self.symbols.get(i))
            .cloned()
            .ok_or_else(|| self.corrupt(section, at, "symbol ref out of range"))
    }

    fn read_postings_table(&mut self) -> Result<(), IndexError> {
        let t = Section::PostingsTable;
        let body = self.section(t);
        let postings_len = self.section(Section::Postings).len();
        let mut d = Decoder::new(body);
        let bad = |d: &Decoder<'_>, reason| self.corrupt(t, d.pos(), reason);
        let n = d.uvarint().ok_or_else(|| bad(&d, "truncated count"))?;
        if n > d.remaining() as u64 {
            return Err(bad(&d, "count exceeds section"));
        }
        let mut names: Vec<NameEntry> = Vec::with_capacity(n as usize);
        let mut prev_name = None;
        for _ in 0..n {
            let name_ref = d.uvarint().ok_or_else(|| bad(&d, "truncated name"))?;
            if prev_name.is_some_and(|p| p >= name_ref) {
                return Err(bad(&d, "names not sorted"));
            }
            prev_name = Some(name_ref);
            let name = self.symbol(name_ref, t, d.pos())?;
            let count = d
                .uvarint()
                .ok_or_else(|| bad(&d, "truncated value count"))?;
            if count > d.remaining() as u64 {
                return Err(bad(&d, "value count exceeds section"));
            }
            let mut values: Vec<ValueEntry> = Vec::with_capacity(count as usize);
            let mut prev_value = None;
            for _ in 0..count {
                let (Some(v), Some(off), Some(len)) = (d.uvarint(), d.uvarint(), d.uvarint())
                else {
                    return Err(bad(&d, "truncated value entry"));
                };
                if prev_value.is_some_and(|p| p >= v) {
                    return Err(bad(&d, "values not sorted"));
                }
                prev_value = Some(v);
                let postings = usize::try_from(off)
                    .ok()
                    .zip(usize::try_from(len).ok())
                    .and_then(|(o, l)| Some(o..o.checked_add(l)?))
                    .filter(|r| r.end <= postings_len)
                    .ok_or_else(|| bad(&d, "postings outside section"))?;
                values.push(ValueEntry {
                    value: self.symbol(v, t, d.pos())?,
                    postings,
                });
            }
            names.push(NameEntry { name, values });
        }
        self.names = names;
        Ok(())
    }

    fn values(&self, name: &str) -> &[ValueEntry] {
        match self.names.binary_search_by(|e| (*e.name).cmp(name)) {
            Ok(i) => self.names.get(i).map_or(&[], |e| &e.values),
            Err(_) => &[],
        }
    }

    fn bitmap(&self, v: &ValueEntry) -> Result<RoaringBitmap, IndexError> {
        let bytes = self
            .section(Section::Postings)
            .get(v.postings.clone())
            .unwrap_or_default();
        RoaringBitmap::deserialize_from(bytes).map_err(|_| {
            self.corrupt(
                Section::Postings,
                v.postings.start,
                "invalid roaring bitmap",
            )
        })
    }

    /// The decoder positioned at series `id`'s entry, and the entry's offset in the series section.
    fn series_entry(&self, id: u32) -> Result<(Decoder<'_>, usize), IndexError> {
        let entry_len = format::series_offset_len(self.version);
        let at = id as usize * entry_len;
        let offsets = self.section(Section::SeriesOffsets);
        let off = offsets
            .get(at..at + entry_len)
            .and_then(|b| {
                let mut d = Decoder::new(b);
                if entry_len == 8 {
                    d.be_u64()
                } else {
                    d.be_u32().map(u64::from)
                }
            })
            .ok_or_else(|| self.corrupt(Section::SeriesOffsets, at, "series id out of range"))?;
        let body = self.section(Section::Series);
        let entry = usize::try_from(off)
            .ok()
            .and_then(|o| body.get(o..))
            .ok_or_else(|| {
                self.corrupt(Section::SeriesOffsets, at, "series offset outside section")
            })?;
        Ok((Decoder::new(entry), off as usize))
    }

    /// Decodes a series' label refs, checking that names are strictly increasing.
    fn decode_labels(
        &self,
        d: &mut Decoder<'_>,
        base: usize,
        mut f: impl FnMut(Symbol, Symbol),
    ) -> Result<(), IndexError> {
        let s = Section::Series;
        let n = d
            .uvarint()
            .ok_or_else(|| self.corrupt(s, base + d.pos(), "truncated label count"))?;
        if n > d.remaining() as u64 {
            return Err(self.corrupt(s, base + d.pos(), "label count exceeds entry"));
        }
        let mut prev = None;
        for _ in 0..n {
            let (Some(nr), Some(vr)) = (d.uvarint(), d.uvarint()) else {
                return Err(self.corrupt(s, base + d.pos(), "truncated label"));
            };
            if prev.is_some_and(|p| p >= nr) {
                return Err(self.corrupt(s, base + d.pos(), "label names not sorted"));
            }
            prev = Some(nr);
            let (name, value) = if self.version == format::VERSION_1 {
                (
                    self.symbol(nr, s, base + d.pos())?,
                    self.symbol(vr, s, base + d.pos())?,
                )
            } else {
                // Version 2: positions in the postings table's names and
                // that name's values, both loaded at open.
                let entry = usize::try_from(nr).ok().and_then(|i| self.names.get(i));
                let value = entry.and_then(|e| {
                    usize::try_from(vr)
                        .ok()
                        .and_then(|i| e.values.get(i))
                        .map(|v| v.value.clone())
                });
                match (entry, value) {
                    (Some(e), Some(v)) => (e.name.clone(), v),
                    _ => return Err(self.corrupt(s, base + d.pos(), "label ordinal out of range")),
                }
            };
            if name.is_empty() || value.is_empty() {
                return Err(self.corrupt(s, base + d.pos(), "empty label name or value"));
            }
            f(name, value);
        }
        Ok(())
    }
}

impl IndexReader for IndexFile {
    fn postings(&self, name: &str, value: &str) -> Result<RoaringBitmap, IndexError> {
        let values = self.values(name);
        match values.binary_search_by(|v| (*v.value).cmp(value)) {
            Ok(i) => values
                .get(i)
                .map_or_else(|| Ok(RoaringBitmap::new()), |v| self.bitmap(v)),
            Err(_) => Ok(RoaringBitmap::new()),
        }
    }

    fn postings_matching(
        &self,
        name: &str,
        prefix: &str,
        keep: &mut dyn FnMut(&str) -> bool,
    ) -> Result<RoaringBitmap, IndexError> {
        let values = self.values(name);
        let start = values.partition_point(|v| *v.value < *prefix);
        let sets = values
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|v| v.value.starts_with(prefix))
            .filter(|v| keep(&v.value))
            .map(|v| self.bitmap(v))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(sets.union())
    }

    fn all_postings(&self) -> Result<RoaringBitmap, IndexError> {
        let mut all = RoaringBitmap::new();
        all.insert_range(0..self.num_series);
        Ok(all)
    }

    fn label_names(&self) -> Result<Vec<Symbol>, IndexError> {
        Ok(self.names.iter().map(|e| e.name.clone()).collect())
    }

    fn label_values(&self, name: &str) -> Result<Vec<Symbol>, IndexError> {
        Ok(self.values(name).iter().map(|v| v.value.clone()).collect())
    }

    /// Reads the labels of each series in `refs` (cheaper than testing every
    /// postings list of every name when the selection is small, which it
    /// usually is when a caller restricts by matchers).
    fn label_names_intersecting(&self, refs: &RoaringBitmap) -> Result<Vec<Symbol>, IndexError> {
        let mut names = BTreeSet::new();
        for id in refs {
            let (mut d, base) = self.series_entry(id)?;
            self.decode_labels(&mut d, base, |n, _| {
                names.insert(n);
            })?;
        }
        Ok(names.into_iter().collect())
    }

    fn label_values_intersecting(
        &self,
        name: &str,
        refs: &RoaringBitmap,
    ) -> Result<Vec<Symbol>, IndexError> {
        let values = self.values(name);
        if refs.len() < values.len() as u64 {
            let mut found = BTreeSet::new();
            for id in refs {
                let (mut d, base) = self.series_entry(id)?;
                self.decode_labels(&mut d, base, |n, v| {
                    if *n == *name {
                        found.insert(v);
                    }
                })?;
            }
            return Ok(found.into_iter().collect());
        }
        let mut out = Vec::new();
        for v in values {
            if !self.bitmap(v)?.is_disjoint(refs) {
                out.push(v.value.clone());
            }
        }
        Ok(out)
    }
}
