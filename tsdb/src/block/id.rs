//! Block IDs: 128-bit ULIDs (48-bit creation time in ms, 80 random bits),
//! written as 26 Crockford base32 characters like Prometheus's block names.
//!
//! IDs only need to be unique within a data directory and to sort roughly by
//! creation time, so the random part comes from std's randomly seeded hasher
//! mixed with a process-wide counter, not from a crypto RNG.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A block's identity and directory name.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlockId(u128);

impl BlockId {
    /// A fresh ID stamped with the current time.
    pub fn new() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis()) as u64;
        let mut h = RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u32(std::process::id());
        let hi = h.finish();
        h.write_u64(hi);
        let lo = h.finish();
        let random = ((u128::from(hi) << 64) | u128::from(lo)) & ((1u128 << 80) - 1);
        BlockId((u128::from(ms & ((1 << 48) - 1)) << 80) | random)
    }

    /// Creation time in ms since the epoch.
    pub fn time_ms(self) -> u64 {
        (self.0 >> 80) as u64
    }
}

impl Default for BlockId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for BlockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = [0u8; 26];
        for (i, c) in out.iter_mut().enumerate() {
            let shift = 5 * (25 - i);
            let idx = ((self.0 >> shift) & 0x1f) as usize;
            *c = ALPHABET.get(idx).copied().unwrap_or(b'0');
        }
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for BlockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The text was not a 26-character Crockford base32 ULID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a block ID: {0:?}")]
pub struct ParseBlockIdError(pub String);

impl FromStr for BlockId {
    type Err = ParseBlockIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseBlockIdError(s.to_owned());
        if s.len() != 26 {
            return Err(err());
        }
        let mut v = 0u128;
        for (i, b) in s.bytes().enumerate() {
            let d = ALPHABET
                .iter()
                .position(|a| *a == b.to_ascii_uppercase())
                .ok_or_else(err)? as u128;
            // The first character carries only 3 bits (26 × 5 = 130 > 128).
            if i == 0 && d > 7 {
                return Err(err());
            }
            v = (v << 5) | d;
        }
        Ok(BlockId(v))
    }
}

impl serde::Serialize for BlockId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for BlockId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip_and_uniqueness() {
        let a = BlockId::new();
        let b = BlockId::new();
        assert_ne!(a, b);
        let s = a.to_string();
        assert_eq!(s.len(), 26);
        assert_eq!(s.parse::<BlockId>().unwrap(), a);
        assert_eq!(s.to_lowercase().parse::<BlockId>().unwrap(), a);
        assert!(a.time_ms() > 1_600_000_000_000);
        for bad in [
            "",
            "01ARZ3NDEKTSV4RRFFQ69G5FA",
            "8ZZZZZZZZZZZZZZZZZZZZZZZZZ",
            "01ARZ3NDEKTSV4RRFFQ69G5FAU",
        ] {
            assert!(bad.parse::<BlockId>().is_err(), "{bad}");
        }
        assert_eq!(
            "7ZZZZZZZZZZZZZZZZZZZZZZZZZ".parse::<BlockId>().unwrap(),
            BlockId(u128::MAX)
        );
    }
}
