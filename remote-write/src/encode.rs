//! Encoding for senders: snappy-compressed remote-write 1.0 and 2.0 bodies (for a
//! forwarder, the load generator and tests), the 2.0 symbols table builder, and the
//! remote-read responses a server sends.

use std::collections::HashMap;

use prost::Message;

use crate::proto::{v1, v2};
use crate::snappy;

/// Encodes and snappy-compresses a remote-write 1.0 request: a ready HTTP body.
pub fn encode_v1(request: &v1::WriteRequest) -> Vec<u8> {
    snappy::compress(&request.encode_to_vec())
}

/// Encodes and snappy-compresses a remote-write 2.0 request: a ready HTTP body.
pub fn encode_v2(request: &v2::Request) -> Vec<u8> {
    snappy::compress(&request.encode_to_vec())
}

/// Builds the symbols table of a 2.0 request: each distinct string once, the empty
/// string first, as the 2.0 specification requires.
#[derive(Debug, Clone)]
pub struct SymbolTable {
    symbols: Vec<String>,
    index: HashMap<String, u32>,
}

impl Default for SymbolTable {
    fn default() -> Self {
        Self::new()
    }
}

impl SymbolTable {
    /// A table holding only the empty string, at reference 0.
    pub fn new() -> Self {
        SymbolTable {
            symbols: vec![String::new()],
            index: HashMap::from([(String::new(), 0)]),
        }
    }

    /// The reference of `s`, adding it if new.
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&r) = self.index.get(s) {
            return r;
        }
        // A table past u32::MAX entries cannot be referenced; saturate rather than wrap.
        let r = u32::try_from(self.symbols.len()).unwrap_or(u32::MAX);
        self.symbols.push(s.to_owned());
        self.index.insert(s.to_owned(), r);
        r
    }

    /// References for `labels` as the flat name/value list `labels_refs` wants.
    pub fn intern_labels<'s>(
        &mut self,
        labels: impl IntoIterator<Item = (&'s str, &'s str)>,
    ) -> Vec<u32> {
        labels
            .into_iter()
            .flat_map(|(n, v)| [self.intern(n), self.intern(v)])
            .collect()
    }

    /// The finished table, for [`v2::Request::symbols`].
    pub fn into_symbols(self) -> Vec<String> {
        self.symbols
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_table_starts_empty_and_dedupes() {
        let mut t = SymbolTable::new();
        assert_eq!(t.intern(""), 0);
        let refs = t.intern_labels([("__name__", "up"), ("job", "up")]);
        assert_eq!(refs, [1, 2, 3, 2]);
        assert_eq!(t.into_symbols(), ["", "__name__", "up", "job"]);
    }
}
