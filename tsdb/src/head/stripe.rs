//! The head's series map, sharded so that appenders on different series never
//! share a lock.
//!
//! Two views of the same series: by label hash (to find a series from its
//! labels) and by [`SeriesRef`] (the fast path of `append_ref` and of queries
//! after postings). Each view is split into [`STRIPES`] shards, each behind its
//! own `RwLock`; lookups take one shard's read lock for a few nanoseconds, and
//! only series creation and garbage collection take a write lock. Hash
//! collisions between different label sets are rare, so they live in a side
//! map instead of making every entry a vector (Prometheus `stripeSeries` and
//! `seriesHashmap` keep the same split).

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use parking_lot::RwLock;

use super::series::MemSeries;
use super::SeriesRef;
use crate::labels::Labels;

/// Shards per view: a power of two well above the core count, so two
/// appenders rarely meet on a shard, and small enough that the empty maps cost little.
pub(crate) const STRIPES: usize = 256;

/// A hasher for keys that are already well-mixed (label hashes) or dense
/// integers (series refs): one multiply instead of SipHash.
#[derive(Default, Clone, Copy)]
pub(crate) struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        // Fibonacci hashing spreads sequential refs over hashbrown's control bits.
        self.0 = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// `HashMap` with [`IntHasher`].
pub(crate) type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;

#[derive(Default)]
struct HashShard {
    unique: IntMap<u64, Arc<MemSeries>>,
    /// Series whose hash collides with the one in `unique`.
    conflicts: IntMap<u64, Vec<Arc<MemSeries>>>,
}

impl HashShard {
    fn get(&self, hash: u64, labels: &Labels) -> Option<&Arc<MemSeries>> {
        match self.unique.get(&hash) {
            Some(s) if s.labels == *labels => Some(s),
            Some(_) => self
                .conflicts
                .get(&hash)?
                .iter()
                .find(|s| s.labels == *labels),
            None => None,
        }
    }

    fn insert(&mut self, hash: u64, series: Arc<MemSeries>) {
        match self.unique.entry(hash) {
            Entry::Occupied(_) => self.conflicts.entry(hash).or_default().push(series),
            Entry::Vacant(slot) => {
                slot.insert(series);
            }
        }
    }

    fn remove(&mut self, hash: u64, series_ref: SeriesRef) {
        if self
            .unique
            .get(&hash)
            .is_some_and(|s| s.series_ref == series_ref)
        {
            self.unique.remove(&hash);
            // Promote a conflicting series so `unique` stays the first place to look.
            if let Some(list) = self.conflicts.get_mut(&hash) {
                if let Some(promoted) = list.pop() {
                    self.unique.insert(hash, promoted);
                }
                if list.is_empty() {
                    self.conflicts.remove(&hash);
                }
            }
        } else if let Some(list) = self.conflicts.get_mut(&hash) {
            list.retain(|s| s.series_ref != series_ref);
            if list.is_empty() {
                self.conflicts.remove(&hash);
            }
        }
    }
}

/// The series map. Lock order: a hash shard before a ref shard, never the reverse.
pub(crate) struct StripeSeries {
    by_hash: Box<[RwLock<HashShard>]>,
    by_ref: Box<[RefShard]>,
}

/// One shard of the by-ref view.
type RefShard = RwLock<IntMap<u32, Arc<MemSeries>>>;

impl StripeSeries {
    #[expect(
        clippy::indexing_slicing,
        reason = "masked with STRIPES - 1 and the box holds STRIPES shards"
    )]
    fn hash_shard(&self, hash: u64) -> &RwLock<HashShard> {
        &self.by_hash[(hash as usize) & (STRIPES - 1)]
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "masked with STRIPES - 1 and the box holds STRIPES shards"
    )]
    fn ref_shard(&self, r: SeriesRef) -> &RefShard {
        &self.by_ref[(r.get() as usize) & (STRIPES - 1)]
    }

    pub(crate) fn new() -> Self {
        StripeSeries {
            by_hash: (0..STRIPES).map(|_| RwLock::default()).collect(),
            by_ref: (0..STRIPES).map(|_| RwLock::default()).collect(),
        }
    }

    /// The series with this ref, if the head has it.
    pub(crate) fn get(&self, r: SeriesRef) -> Option<Arc<MemSeries>> {
        self.ref_shard(r).read().get(&r.get()).cloned()
    }

    /// The series with these labels (whose `stable_hash` is `hash`), if any.
    pub(crate) fn get_by_labels(&self, hash: u64, labels: &Labels) -> Option<Arc<MemSeries>> {
        self.hash_shard(hash).read().get(hash, labels).cloned()
    }

    /// Returns the series with `labels`, creating it with `make` if absent; the
    /// bool is true if it was created. `make` runs under the shard's write lock.
    pub(crate) fn get_or_insert_with<E>(
        &self,
        hash: u64,
        labels: &Labels,
        make: impl FnOnce() -> Result<Arc<MemSeries>, E>,
    ) -> Result<(Arc<MemSeries>, bool), E> {
        let mut hs = self.hash_shard(hash).write();
        if let Some(s) = hs.get(hash, labels) {
            return Ok((Arc::clone(s), false));
        }
        let s = make()?;
        hs.insert(hash, Arc::clone(&s));
        self.ref_shard(s.series_ref)
            .write()
            .insert(s.series_ref.get(), Arc::clone(&s));
        Ok((s, true))
    }

    /// Removes the series if `still_removable` (run under both shard write locks) agrees.
    pub(crate) fn remove_if(
        &self,
        series: &MemSeries,
        still_removable: impl FnOnce() -> bool,
    ) -> bool {
        let hash = series.labels.stable_hash();
        let mut hs = self.hash_shard(hash).write();
        let mut rs = self.ref_shard(series.series_ref).write();
        if !still_removable() {
            return false;
        }
        hs.remove(hash, series.series_ref);
        rs.remove(&series.series_ref.get());
        true
    }

    /// Calls `f` on every series, one ref shard at a time (a shard's read lock is
    /// held during its calls, so `f` must not take shard locks).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Arc<MemSeries>)) {
        for shard in self.by_ref.iter() {
            for s in shard.read().values() {
                f(s);
            }
        }
    }
}
