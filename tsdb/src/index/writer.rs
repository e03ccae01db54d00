//! Writing a block index file from a sorted list of series.
//!
//! The whole index is built in memory section by section (a block's index is
//! small next to its chunks), then written once and fsynced. Symbols are the
//! sorted set of every name and value, so a symbol ref order is string order
//! and sorted refs mean sorted strings — the reader relies on it.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use roaring::RoaringBitmap;

use super::format::{self, Section};
use super::{ChunkMeta, IndexError};
use crate::codec::{put_uvarint, put_varint};
use crate::labels::Labels;

/// Writes the index of `series` (sorted by labels, unique, chunk metas sorted
/// by time) to `path`, fsynced. Series ids are positions in `series`.
/// Returns the file size in bytes.
pub(crate) fn write_index(
    path: &Path,
    series: &[(Labels, Vec<ChunkMeta>)],
) -> Result<u64, IndexError> {
    if u32::try_from(series.len()).is_err() {
        return Err(IndexError::Invalid("more than 2^32 series in one block"));
    }
    for pair in series.windows(2) {
        if let [a, b] = pair {
            if a.0 >= b.0 {
                return Err(IndexError::Invalid(
                    "series not sorted by labels or duplicated",
                ));
            }
        }
    }
    // Symbols: every name and value, sorted, unique.
    let mut symbols: Vec<&str> = series
        .iter()
        .flat_map(|(l, _)| l.iter().flat_map(|l| [&*l.name, &*l.value]))
        .collect();
    symbols.sort_unstable();
    symbols.dedup();
    let symbol_ref = |s: &str| {
        symbols
            .binary_search(&s)
            .map(|i| i as u64)
            .map_err(|_| IndexError::Invalid("symbol"))
    };

    let mut sections: [Vec<u8>; format::SECTIONS] = Default::default();
    let [sym_buf, series_buf, offsets_buf, postings_buf, table_buf] = &mut sections;

    put_uvarint(sym_buf, symbols.len() as u64);
    for s in &symbols {
        put_uvarint(sym_buf, s.len() as u64);
        sym_buf.extend_from_slice(s.as_bytes());
    }

    // Chunk start times of each series' first chunk are stored relative to
    // the earliest one: a few bytes instead of a full ms timestamp.
    let base_time = series
        .iter()
        .filter_map(|(_, c)| c.first().map(|c| c.min_time))
        .min()
        .unwrap_or(0);
    put_varint(series_buf, base_time);
    let mut postings: BTreeMap<(u64, u64), RoaringBitmap> = BTreeMap::new();
    for (id, (labels, _)) in series.iter().enumerate() {
        for l in labels {
            let (n, v) = (symbol_ref(&l.name)?, symbol_ref(&l.value)?);
            postings.entry((n, v)).or_default().insert(id as u32);
        }
    }
    // Series store each label as (name position in the postings table, value
    // position among that name's values): small numbers, mostly one byte
    // each, where symbol refs into a large symbol table take two or three.
    let mut ordinals: HashMap<(u64, u64), (u64, u64)> = HashMap::with_capacity(postings.len());
    let (mut name_ord, mut value_ord, mut last_name) = (0u64, 0u64, None);
    for (n, v) in postings.keys() {
        if let Some(prev) = last_name {
            if prev == *n {
                value_ord += 1;
            } else {
                name_ord += 1;
                value_ord = 0;
            }
        }
        last_name = Some(*n);
        ordinals.insert((*n, *v), (name_ord, value_ord));
    }
    for (labels, chunks) in series {
        let offset = u32::try_from(series_buf.len())
            .map_err(|_| IndexError::Invalid("series section over 4 GiB"))?;
        offsets_buf.extend_from_slice(&offset.to_be_bytes());
        put_uvarint(series_buf, labels.len() as u64);
        for l in labels {
            let pair = (symbol_ref(&l.name)?, symbol_ref(&l.value)?);
            let (n, v) = ordinals
                .get(&pair)
                .copied()
                .ok_or(IndexError::Invalid("label pair"))?;
            put_uvarint(series_buf, n);
            put_uvarint(series_buf, v);
        }
        encode_chunk_metas(series_buf, chunks, base_time)?;
    }

    // Postings and the table that locates them, grouped by name; (name, value)
    // refs iterate in string order because symbol refs do.
    let mut by_name: BTreeMap<u64, Vec<(u64, u64, u64)>> = BTreeMap::new();
    for ((n, v), bitmap) in &mut postings {
        // Series are sorted by labels, so many lists are runs of ids (every
        // series of a metric name): run containers store each run in 4 bytes.
        bitmap.optimize();
        let start = postings_buf.len() as u64;
        bitmap
            .serialize_into(&mut *postings_buf)
            .map_err(|_| IndexError::Invalid("postings serialization"))?;
        by_name
            .entry(*n)
            .or_default()
            .push((*v, start, postings_buf.len() as u64 - start));
    }
    put_uvarint(table_buf, by_name.len() as u64);
    for (n, values) in &by_name {
        put_uvarint(table_buf, *n);
        put_uvarint(table_buf, values.len() as u64);
        for (v, off, len) in values {
            put_uvarint(table_buf, *v);
            put_uvarint(table_buf, *off);
            put_uvarint(table_buf, *len);
        }
    }

    write_file(path, &sections)
}

/// Chunk metas: count, then per chunk the start (first relative to
/// `base_time`, later ones as the gap from the previous chunk's end), the
/// span, and the ref (first as is, later ones as a signed delta).
fn encode_chunk_metas(
    buf: &mut Vec<u8>,
    chunks: &[ChunkMeta],
    base_time: i64,
) -> Result<(), IndexError> {
    put_uvarint(buf, chunks.len() as u64);
    let mut prev: Option<&ChunkMeta> = None;
    for c in chunks {
        let span = c.max_time.checked_sub(c.min_time).filter(|d| *d >= 0);
        let Some(span) = span else {
            return Err(IndexError::Invalid("chunk max_time before min_time"));
        };
        match prev {
            None => {
                let start = c
                    .min_time
                    .checked_sub(base_time)
                    .ok_or(IndexError::Invalid("chunk time overflow"))?;
                put_varint(buf, start);
                put_uvarint(buf, span as u64);
                put_uvarint(buf, c.chunk_ref.as_u64());
            }
            Some(p) => {
                let gap = c
                    .min_time
                    .checked_sub(p.max_time)
                    .ok_or(IndexError::Invalid("chunk time overflow"))?;
                put_varint(buf, gap);
                put_uvarint(buf, span as u64);
                put_varint(
                    buf,
                    c.chunk_ref.as_u64().wrapping_sub(p.chunk_ref.as_u64()) as i64,
                );
            }
        }
        prev = Some(c);
    }
    Ok(())
}

fn write_file(path: &Path, sections: &[Vec<u8>; format::SECTIONS]) -> Result<u64, IndexError> {
    let io = |source| IndexError::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::create(path).map_err(io)?;
    let mut w = BufWriter::with_capacity(256 * 1024, file);
    w.write_all(&format::header()).map_err(io)?;
    let mut pos = format::HEADER_LEN as u64;
    let mut toc = Vec::with_capacity(format::TOC_LEN);
    for (section, body) in Section::ALL.iter().zip(sections) {
        debug_assert_eq!(*section as usize, toc.len() / 16);
        toc.extend_from_slice(&pos.to_be_bytes());
        toc.extend_from_slice(&(body.len() as u64).to_be_bytes());
        w.write_all(body).map_err(io)?;
        w.write_all(&crc32c::crc32c(body).to_be_bytes())
            .map_err(io)?;
        pos += body.len() as u64 + 4;
    }
    let toc_crc = crc32c::crc32c(&toc);
    toc.extend_from_slice(&toc_crc.to_be_bytes());
    w.write_all(&toc).map_err(io)?;
    let file = w.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    Ok(pos + toc.len() as u64)
}
