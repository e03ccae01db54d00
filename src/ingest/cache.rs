//! The series-ref cache of the ingest path: label set → head [`SeriesRef`].
//!
//! Prometheus sends every series' full label set with every sample, so without
//! this cache each sample would build a `Labels` (a vector and two `Arc<str>` per
//! label) just to find a series the head already has. With it, a known series
//! costs one 128-bit hash of its label bytes and one [`Appender::append_ref`].
//!
//! Keys are XXH3-128 hashes of the raw protobuf label fields of a 1.0 series
//! (identical bytes, identical labels: the decoder then skips decoding and
//! validating them altogether) or, for 2.0, of the sorted `name 0xff value 0xff ...`
//! (0xff never occurs in UTF-8, so the encoding is unambiguous). Only the hash is
//! kept, not the labels: 96 of its 128 bits are stored and compared, so the chance
//! that any two of 4 million series collide is about 10^-16, and the cache costs
//! 16-32 bytes per series instead of a second copy of every label. A ref the head
//! no longer knows (the series was truncated away) is detected by `append_ref` and
//! replaced. Each shard is cleared when it outgrows its share of the capacity, so
//! memory stays bounded under churn.
//!
//! [`Appender::append_ref`]: promlite_tsdb::Appender::append_ref

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use parking_lot::Mutex;
use promlite_remote_write::LabelRef;
use promlite_tsdb::SeriesRef;

const SHARDS: usize = 64;
/// Seed of [`SeriesCache::raw_key`]; [`SeriesCache::key`] uses the default seed 0.
const RAW_SEED: u64 = 0x7072_6f6d_6c69_7465;

/// Default capacity: 4 million series (~64-128 MiB at most, by table load).
pub const DEFAULT_CAPACITY: usize = 4 << 20;

/// A hasher for keys that already are uniform hashes: passes the low 64 bits through.
#[derive(Default)]
pub(crate) struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed here; fold anything else in defensively.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }
}

/// Low 64 bits of the key → (32 more bits of it, the ref): 16 bytes per entry,
/// half of what a `u128` key costs. The table's size is what matters here: the
/// lookup is a cache miss per sample (profiled), and a smaller table misses less.
/// 96 of the 128 bits are compared, still ~10^-16 for two of 4M series to collide.
type Shard = HashMap<u64, (u32, SeriesRef), BuildHasherDefault<PassThrough>>;

/// The label-set hash of one series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct SeriesKey(u128);

/// Maps label-set hashes to head series refs; shared by all concurrent writes.
pub(crate) struct SeriesCache {
    shards: Vec<Mutex<Shard>>,
    shard_capacity: usize,
}

impl SeriesCache {
    /// A cache for about `capacity` series.
    pub(crate) fn new(capacity: usize) -> Self {
        SeriesCache {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            shard_capacity: (capacity / SHARDS).max(1),
        }
    }

    /// Hashes `labels` (sorted, as the decoder returns them) using `scratch` as
    /// the reusable encoding buffer.
    pub(crate) fn key(labels: &[LabelRef<'_>], scratch: &mut Vec<u8>) -> SeriesKey {
        scratch.clear();
        for l in labels {
            scratch.extend_from_slice(l.name.as_bytes());
            scratch.push(0xff);
            scratch.extend_from_slice(l.value.as_bytes());
            scratch.push(0xff);
        }
        SeriesKey(xxhash_rust::xxh3::xxh3_128(scratch))
    }

    /// Hashes the raw protobuf label fields of a 1.0 series. A different seed
    /// than [`SeriesCache::key`] keeps the two key spaces apart.
    pub(crate) fn raw_key(raw_labels: &[u8]) -> SeriesKey {
        SeriesKey(xxhash_rust::xxh3::xxh3_128_with_seed(raw_labels, RAW_SEED))
    }

    fn shard(&self, key: SeriesKey) -> Option<&Mutex<Shard>> {
        // The top bits pick the shard; the map hashes with the low 64 bits, and
        // bits 64..96 check the entry.
        self.shards.get((key.0 >> 122) as usize % SHARDS)
    }

    /// (map key, check bits) of a key.
    fn split(key: SeriesKey) -> (u64, u32) {
        (key.0 as u64, (key.0 >> 64) as u32)
    }

    /// The cached ref of a series, if any.
    pub(crate) fn get(&self, key: SeriesKey) -> Option<SeriesRef> {
        let (k, check) = Self::split(key);
        let found = self.shard(key).and_then(|s| s.lock().get(&k).copied());
        found.filter(|&(c, _)| c == check).map(|(_, r)| r)
    }

    /// Remembers a series' ref.
    pub(crate) fn insert(&self, key: SeriesKey, r: SeriesRef) {
        if let Some(shard) = self.shard(key) {
            let mut shard = shard.lock();
            if shard.len() >= self.shard_capacity {
                shard.clear();
            }
            let (k, check) = Self::split(key);
            shard.insert(k, (check, r));
        }
    }

    /// Forgets a ref the head no longer knows.
    pub(crate) fn remove(&self, key: SeriesKey) {
        if let Some(shard) = self.shard(key) {
            shard.lock().remove(&Self::split(key).0);
        }
    }

    /// Number of cached series.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l<'a>(name: &'a str, value: &'a str) -> LabelRef<'a> {
        LabelRef { name, value }
    }

    #[test]
    fn keys_respect_label_boundaries() {
        let mut scratch = Vec::new();
        let a = SeriesCache::key(&[l("ab", "c")], &mut scratch);
        let b = SeriesCache::key(&[l("a", "bc")], &mut scratch);
        let c = SeriesCache::key(&[l("a", "b"), l("c", "")], &mut scratch);
        assert_ne!(a, b);
        assert_ne!(b, c);
        assert_eq!(a, SeriesCache::key(&[l("ab", "c")], &mut scratch));
    }

    #[test]
    fn bounded_by_capacity() {
        let cache = SeriesCache::new(SHARDS * 2);
        let mut scratch = Vec::new();
        for i in 0..10_000u32 {
            let v = i.to_string();
            cache.insert(
                SeriesCache::key(&[l("i", &v)], &mut scratch),
                SeriesRef::new(i),
            );
        }
        assert!(cache.len() <= SHARDS * 2);
        let k = SeriesCache::key(&[l("i", "x")], &mut scratch);
        cache.insert(k, SeriesRef::new(7));
        assert_eq!(cache.get(k), Some(SeriesRef::new(7)));
        cache.remove(k);
        assert_eq!(cache.get(k), None);
    }
}
