//! The head's symbol table: each distinct label name or value string is stored
//! once and shared by every series that carries it.
//!
//! Interning happens only when a series is created (rare next to appends), so
//! a few mutex-guarded shards are enough. A symbol is released when no series
//! holds it any more: `sweep` drops entries whose only owner is the table.

use std::collections::HashSet;
use std::hash::BuildHasher;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::labels::{Label, Labels, Symbol};

const SHARDS: usize = 16;

/// Interned strings.
pub(crate) struct Symbols {
    shards: Box<[Mutex<HashSet<Symbol>>]>,
    hasher: std::collections::hash_map::RandomState,
}

impl Symbols {
    pub(crate) fn new() -> Self {
        Symbols {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    /// The shared copy of `s`.
    pub(crate) fn intern(&self, s: &str) -> Symbol {
        let Some(shard) = self.shards.get((self.hasher.hash_one(s) as usize) % SHARDS) else {
            return Arc::from(s);
        };
        let mut set = shard.lock();
        if let Some(sym) = set.get(s) {
            return Arc::clone(sym);
        }
        let sym: Symbol = Arc::from(s);
        set.insert(Arc::clone(&sym));
        sym
    }

    /// `labels` rebuilt from interned strings (order and content unchanged).
    pub(crate) fn intern_labels(&self, labels: &Labels) -> Labels {
        let interned = labels
            .iter()
            .map(|l| Label {
                name: self.intern(&l.name),
                value: self.intern(&l.value),
            })
            .collect();
        Labels::from_sorted_unchecked(interned)
    }

    /// Drops symbols that no series uses any more.
    pub(crate) fn sweep(&self) {
        for shard in self.shards.iter() {
            shard.lock().retain(|s| Arc::strong_count(s) > 1);
        }
    }

    /// Number of interned strings.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_share_one_allocation() {
        let s = Symbols::new();
        let a = s.intern_labels(&Labels::from_pairs([("job", "node"), ("i", "1")]).unwrap());
        let b = s.intern_labels(&Labels::from_pairs([("job", "node"), ("i", "2")]).unwrap());
        assert!(Arc::ptr_eq(&a.as_slice()[1].value, &b.as_slice()[1].value));
        assert_eq!(s.len(), 5, "job, node, i, 1, 2");
        drop(b);
        s.sweep();
        assert_eq!(s.len(), 4, "2 is released");
    }
}
