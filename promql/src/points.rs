//! [`Points`]: one series' float points, either a vector of its own or a
//! range of a buffer shared with the other series of the same result.
//!
//! Why shared buffers: a range query over many series returns a point per
//! series and step, tens of megabytes at 10k series × a few hundred steps.
//! Written as one vector per series, that is thousands of small allocations
//! per query, and glibc's malloc returns their pages to the OS when the
//! result is dropped, so the next query faults every page in again (about
//! 40% of a large `max_over_time` in the engine bench). Range functions
//! instead write all the series of one worker into one buffer.
//!
//! Reading is a slice either way (`Deref`); changing shared points first
//! copies them into a vector of their own ([`Points::to_mut`]).
//!
//! A shared buffer goes back to a small pool when its last series is dropped
//! and the next result is written into it ([`take_buffer`]), as Prometheus's
//! engine pools its point slices: glibc does not keep even one large freed
//! buffer reliably (a worker thread's arena gives it back to the OS), and a
//! fresh one costs a page fault per 4 KiB written.

use std::fmt;
use std::ops::{Deref, Range};
use std::sync::{Arc, Mutex, PoisonError};

use crate::value::FPoint;

/// A series' points, oldest first (see the module docs).
#[derive(Clone, Default)]
pub struct Points {
    /// The points when they are not shared (else empty).
    owned: Vec<FPoint>,
    /// The buffer and range holding the points when shared.
    shared: Option<(Arc<SharedBuffer>, Range<usize>)>,
}

/// Points of several series, one after another; returns its memory to the
/// pool when dropped.
pub struct SharedBuffer(Vec<FPoint>);

impl From<Vec<FPoint>> for SharedBuffer {
    fn from(points: Vec<FPoint>) -> Self {
        SharedBuffer(points)
    }
}

impl Drop for SharedBuffer {
    fn drop(&mut self) {
        give_back(std::mem::take(&mut self.0));
    }
}

/// The most memory the pool keeps (64 MiB), so a server holds at most this
/// much beyond its results between queries; a larger buffer is freed.
const POOL_MAX_BYTES: usize = 64 << 20;

/// Emptied buffers of dropped results, the most recent last.
static POOL: Mutex<Vec<Vec<FPoint>>> = Mutex::new(Vec::new());

/// An empty buffer for a result's points: the most recently returned one
/// (its memory resident and likely cached), or a new one.
pub(crate) fn take_buffer() -> Vec<FPoint> {
    POOL.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop()
        .unwrap_or_default()
}

fn give_back(mut buf: Vec<FPoint>) {
    let bytes = |b: &Vec<FPoint>| b.capacity() * std::mem::size_of::<FPoint>();
    if bytes(&buf) == 0 || bytes(&buf) > POOL_MAX_BYTES {
        return;
    }
    buf.clear();
    let mut pool = POOL.lock().unwrap_or_else(PoisonError::into_inner);
    let held: usize = pool.iter().map(bytes).sum();
    if held + bytes(&buf) <= POOL_MAX_BYTES {
        pool.push(buf);
    }
}

impl Points {
    /// No points.
    pub fn new() -> Self {
        Points::default()
    }

    /// Points `range` of a buffer shared with other series. An out-of-bounds
    /// range is cut to the buffer.
    pub fn shared(buf: Arc<SharedBuffer>, range: Range<usize>) -> Self {
        let end = range.end.min(buf.0.len());
        let start = range.start.min(end);
        Points {
            owned: Vec::new(),
            shared: Some((buf, start..end)),
        }
    }

    /// The points as a vector to change, copying shared points first.
    pub fn to_mut(&mut self) -> &mut Vec<FPoint> {
        if let Some((buf, range)) = self.shared.take() {
            self.owned = buf.0.get(range).unwrap_or_default().to_vec();
        }
        &mut self.owned
    }

    /// The points as a vector of their own (a copy only if shared).
    pub fn into_vec(mut self) -> Vec<FPoint> {
        std::mem::take(self.to_mut())
    }
}

impl Deref for Points {
    type Target = [FPoint];

    fn deref(&self) -> &[FPoint] {
        match &self.shared {
            Some((buf, range)) => buf.0.get(range.clone()).unwrap_or_default(),
            None => &self.owned,
        }
    }
}

impl From<Vec<FPoint>> for Points {
    fn from(owned: Vec<FPoint>) -> Self {
        Points {
            owned,
            shared: None,
        }
    }
}

impl FromIterator<FPoint> for Points {
    fn from_iter<I: IntoIterator<Item = FPoint>>(iter: I) -> Self {
        Points::from(iter.into_iter().collect::<Vec<_>>())
    }
}

impl<'a> IntoIterator for &'a Points {
    type Item = &'a FPoint;
    type IntoIter = std::slice::Iter<'a, FPoint>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl PartialEq for Points {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl PartialEq<Vec<FPoint>> for Points {
    fn eq(&self, other: &Vec<FPoint>) -> bool {
        **self == **other
    }
}

impl fmt::Debug for Points {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(n: i64) -> Vec<FPoint> {
        (0..n).map(|t| FPoint { t, f: t as f64 }).collect()
    }

    #[test]
    fn shared_points_read_their_range_and_copy_on_change() {
        let buf = Arc::new(SharedBuffer::from(pts(10)));
        let mut a = Points::shared(Arc::clone(&buf), 2..5);
        let b = Points::shared(Arc::clone(&buf), 5..10);
        assert_eq!(a.iter().map(|p| p.t).collect::<Vec<_>>(), [2, 3, 4]);
        assert_eq!(b.len(), 5);
        a.to_mut().push(FPoint { t: 99, f: 0.0 });
        assert_eq!(a.len(), 4);
        // The buffer and the other series are untouched.
        assert_eq!(buf.0.len(), 10);
        assert_eq!(b.first().map(|p| p.t), Some(5));
        assert_eq!(b.clone().into_vec(), pts(10)[5..].to_vec());
    }

    #[test]
    fn a_dropped_buffer_is_reused_empty_and_the_pool_stays_bounded() {
        let buf = Arc::new(SharedBuffer::from(Vec::with_capacity(1 << 20)));
        let p = Points::shared(Arc::clone(&buf), 0..0);
        drop(buf);
        // Still held by a series: not back yet.
        let held = |pool: &Vec<Vec<FPoint>>| pool.iter().any(|b| b.capacity() == 1 << 20);
        assert!(!held(&POOL.lock().unwrap()));
        drop(p);
        assert!(held(&POOL.lock().unwrap()));
        // Other tests share the pool: find ours among what comes out.
        let mut taken = Vec::new();
        loop {
            let b = take_buffer();
            assert!(b.is_empty());
            if b.capacity() == 0 {
                break;
            }
            taken.push(b);
        }
        assert!(taken.iter().any(|b| b.capacity() == 1 << 20));
        // Too large to keep: freed, not pooled.
        give_back(Vec::with_capacity(POOL_MAX_BYTES / 16 + 1));
        assert!(POOL
            .lock()
            .unwrap()
            .iter()
            .all(|b| b.capacity() * 16 <= POOL_MAX_BYTES));
    }

    #[test]
    fn out_of_bounds_ranges_are_cut() {
        let buf = Arc::new(SharedBuffer::from(pts(3)));
        assert!(Points::shared(Arc::clone(&buf), 5..9).is_empty());
        assert_eq!(Points::shared(buf, 1..9).len(), 2);
    }

    #[test]
    fn owned_and_shared_compare_by_points() {
        let owned = Points::from(pts(3));
        let shared = Points::shared(Arc::new(SharedBuffer::from(pts(4))), 0..3);
        assert_eq!(owned, shared);
        assert_eq!(shared, pts(3));
        assert_eq!(format!("{owned:?}"), format!("{:?}", pts(3)));
    }
}
