//! The index: which series carry which label pairs.
//!
//! Postings map a label pair (`job="node"`) to the set of series refs that carry
//! it, as a roaring bitmap of `u32`. Two implementations answer the same
//! [`IndexReader`] questions: [`MemPostings`] for the head (mutable, behind a
//! read/write lock) and [`IndexFile`], the block index file reader (immutable,
//! mmapped), whose writer sits beside it (format in `docs/format/index.md`).
//! [`postings_for_matchers`] turns a selector into a bitmap using only these
//! questions, so the head and blocks share one matcher evaluation.
//!
//! Invariant: label names and values are always returned sorted (byte order),
//! and a label pair with an empty value is never indexed (an empty value means
//! "label absent").

mod error;
mod format;
mod matchers;
mod postings;
mod reader;
#[cfg(test)]
mod tests;
mod writer;

pub use error::IndexError;
pub use matchers::{label_names_for, label_values_for, postings_for_matchers};
pub use postings::{MemPostings, PostingsStats};
pub use reader::IndexFile;
pub(crate) use writer::write_index;

use crate::chunks::ChunkRef;
use crate::labels::Symbol;
use roaring::RoaringBitmap;

/// Where one chunk of a series is and which samples it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkMeta {
    /// Timestamp of the chunk's first sample, ms (inclusive).
    pub min_time: i64,
    /// Timestamp of the chunk's last sample, ms (inclusive).
    pub max_time: i64,
    /// Location of the chunk in the block's chunk segments.
    pub chunk_ref: ChunkRef,
}

/// Read access to an index: the questions matcher evaluation and the label APIs ask.
///
/// Series refs are `u32`; their meaning (head series id, block series number)
/// belongs to the implementation. All returned names and values are sorted.
pub trait IndexReader {
    /// The series carrying `name="value"`; empty if there are none.
    fn postings(&self, name: &str, value: &str) -> Result<RoaringBitmap, IndexError>;

    /// The union of the postings of every value of `name` that starts with
    /// `prefix` (use `""` for all values) and for which `keep` returns true.
    /// `keep` sees the values in sorted order.
    fn postings_matching(
        &self,
        name: &str,
        prefix: &str,
        keep: &mut dyn FnMut(&str) -> bool,
    ) -> Result<RoaringBitmap, IndexError>;

    /// Every series in the index.
    fn all_postings(&self) -> Result<RoaringBitmap, IndexError>;

    /// All label names, sorted.
    fn label_names(&self) -> Result<Vec<Symbol>, IndexError>;

    /// All values of `name`, sorted; empty if the label does not exist.
    fn label_values(&self, name: &str) -> Result<Vec<Symbol>, IndexError>;

    /// The label names carried by at least one series in `refs`, sorted.
    fn label_names_intersecting(&self, refs: &RoaringBitmap) -> Result<Vec<Symbol>, IndexError>;

    /// The values of `name` carried by at least one series in `refs`, sorted.
    fn label_values_intersecting(
        &self,
        name: &str,
        refs: &RoaringBitmap,
    ) -> Result<Vec<Symbol>, IndexError>;
}
