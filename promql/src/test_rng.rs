//! The deterministic generator of the crate's randomized tests (xorshift64),
//! so a failing round replays the same numbers every time.

/// Returns successive xorshift64 values from `seed` (which must not be 0).
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}
