//! [`Points`]: one series' float points, either a vector of its own or a
//! range of a buffer shared with the other series of the same result.
//!
//! Why shared buffers: a range query over many series returns a point per
//! series and step, tens of megabytes at 10k series × a few hundred steps.
//! Written as one vector per series, that is thousands of small allocations
//! per query, and glibc's malloc returns their pages to the OS when the
//! result is dropped, so the next query faults every page in again (about
//! 40% of a large `max_over_time` in the engine bench). Range functions
//! instead write all the series of one worker into one buffer: one allocation,
//! which glibc's dynamic mmap threshold then keeps in the heap for the next
//! query of the same size.
//!
//! Reading is a slice either way (`Deref`); changing shared points first
//! copies them into a vector of their own ([`Points::to_mut`]).

use std::fmt;
use std::ops::{Deref, Range};
use std::sync::Arc;

use crate::value::FPoint;

/// A series' points, oldest first (see the module docs).
#[derive(Clone, Default)]
pub struct Points {
    /// The points when they are not shared (else empty).
    owned: Vec<FPoint>,
    /// The buffer and range holding the points when shared.
    shared: Option<(Arc<Vec<FPoint>>, Range<usize>)>,
}

impl Points {
    /// No points.
    pub fn new() -> Self {
        Points::default()
    }

    /// Points `range` of a buffer shared with other series. An out-of-bounds
    /// range is cut to the buffer.
    pub fn shared(buf: Arc<Vec<FPoint>>, range: Range<usize>) -> Self {
        let end = range.end.min(buf.len());
        let start = range.start.min(end);
        Points {
            owned: Vec::new(),
            shared: Some((buf, start..end)),
        }
    }

    /// The points as a vector to change, copying shared points first.
    pub fn to_mut(&mut self) -> &mut Vec<FPoint> {
        if let Some((buf, range)) = self.shared.take() {
            self.owned = buf.get(range).unwrap_or_default().to_vec();
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
            Some((buf, range)) => buf.get(range.clone()).unwrap_or_default(),
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
        let buf = Arc::new(pts(10));
        let mut a = Points::shared(Arc::clone(&buf), 2..5);
        let b = Points::shared(Arc::clone(&buf), 5..10);
        assert_eq!(a.iter().map(|p| p.t).collect::<Vec<_>>(), [2, 3, 4]);
        assert_eq!(b.len(), 5);
        a.to_mut().push(FPoint { t: 99, f: 0.0 });
        assert_eq!(a.len(), 4);
        // The buffer and the other series are untouched.
        assert_eq!(buf.len(), 10);
        assert_eq!(b.first().map(|p| p.t), Some(5));
        assert_eq!(b.clone().into_vec(), pts(10)[5..].to_vec());
    }

    #[test]
    fn out_of_bounds_ranges_are_cut() {
        let buf = Arc::new(pts(3));
        assert!(Points::shared(Arc::clone(&buf), 5..9).is_empty());
        assert_eq!(Points::shared(buf, 1..9).len(), 2);
    }

    #[test]
    fn owned_and_shared_compare_by_points() {
        let owned = Points::from(pts(3));
        let shared = Points::shared(Arc::new(pts(4)), 0..3);
        assert_eq!(owned, shared);
        assert_eq!(shared, pts(3));
        assert_eq!(format!("{owned:?}"), format!("{:?}", pts(3)));
    }
}
