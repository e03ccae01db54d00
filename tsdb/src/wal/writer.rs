//! The WAL writer: appends framed records to the current segment, rotates
//! segments, and group-fsyncs.
//!
//! Committers call [`WalWriter::log`] (a short critical section: one `write`
//! of the whole commit) and then, under [`FsyncPolicy::Always`],
//! [`WalWriter::wait_synced`] with the position they got. The first waiter
//! becomes the sync leader and fsyncs everything written so far *outside* the
//! write lock, so commits that arrive meanwhile keep writing and are covered by
//! the next fsync: one fsync serves many concurrent commits. A segment is
//! fsynced before the next one is started, so syncing the current segment
//! covers every earlier byte. After any failed write or fsync the writer is
//! poisoned and refuses everything: it cannot know what reached the disk, and
//! retrying an fsync can report success for lost pages.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::io::{append_all, WalFile, WalIo};
use super::segment::SegmentNo;
use crate::error::Error;

/// When committed WAL data is fsynced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FsyncPolicy {
    /// `commit()` returns after an fsync covering its records; concurrent commits
    /// share one fsync (group commit). Survives power loss.
    Always,
    /// A background thread fsyncs at this interval; `commit()` returns after the
    /// `write`. Survives a process crash (kill -9); a power loss may lose the
    /// last interval.
    Interval(Duration),
}

impl Default for FsyncPolicy {
    /// `Interval(100ms)`: kill -9 safe, at most 100 ms lost on power loss.
    fn default() -> Self {
        FsyncPolicy::Interval(Duration::from_millis(100))
    }
}

struct WriteState {
    segment: SegmentNo,
    path: PathBuf,
    file: Arc<dyn WalFile>,
    segment_bytes: u64,
    /// Bytes written since open, over all segments: the position committers wait for.
    written: u64,
    /// Reused buffer for [`WalWriter::log_with`].
    scratch: Vec<u8>,
}

struct SyncState {
    synced: u64,
    leader_active: bool,
}

/// Appends to the WAL directory; shared by all appenders.
pub(crate) struct WalWriter {
    dir: PathBuf,
    io: Arc<dyn WalIo>,
    max_segment_bytes: u64,
    state: Mutex<WriteState>,
    sync: Mutex<SyncState>,
    synced_cv: Condvar,
    poisoned: AtomicBool,
}

impl WalWriter {
    /// Starts writing a new segment `segment` in `dir` (segments before it are left alone).
    pub(crate) fn open(
        dir: &Path,
        io: Arc<dyn WalIo>,
        segment: SegmentNo,
        max_segment_bytes: u64,
    ) -> Result<Self, Error> {
        let path = dir.join(segment.file_name());
        let file = io
            .open_append(&path)
            .map_err(|e| Error::io("create WAL segment", &path, e))?;
        io.sync_dir(dir)
            .map_err(|e| Error::io("fsync directory", dir, e))?;
        Ok(WalWriter {
            dir: dir.to_path_buf(),
            io,
            max_segment_bytes: max_segment_bytes.max(1),
            state: Mutex::new(WriteState {
                segment,
                path,
                file,
                segment_bytes: 0,
                written: 0,
                scratch: Vec::new(),
            }),
            sync: Mutex::new(SyncState {
                synced: 0,
                leader_active: false,
            }),
            synced_cv: Condvar::new(),
            poisoned: AtomicBool::new(false),
        })
    }

    /// The directory written to.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// True after a failed write or fsync.
    pub(crate) fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::Acquire)
    }

    fn poison(&self) {
        self.poisoned.store(true, Ordering::Release);
        let _guard = self.sync.lock();
        self.synced_cv.notify_all();
    }

    /// Appends `frames` (whole frames, one commit) in one write.
    #[cfg(test)]
    pub(crate) fn log(&self, frames: &[u8]) -> Result<u64, Error> {
        self.log_with(|buf| buf.extend_from_slice(frames))
    }

    /// Appends the frames `fill` puts into the buffer it is given, in one write,
    /// rotating first if the segment is full. `fill` runs under the write lock,
    /// so what it decides (e.g. which series still need a series record) is
    /// ordered with every other commit. Returns the position to pass to
    /// [`Self::wait_synced`].
    pub(crate) fn log_with(&self, fill: impl FnOnce(&mut Vec<u8>)) -> Result<u64, Error> {
        let mut guard = self.state.lock();
        let st = &mut *guard;
        if self.is_poisoned() {
            return Err(Error::WalPoisoned);
        }
        st.scratch.clear();
        fill(&mut st.scratch);
        let len = st.scratch.len() as u64;
        if st.segment_bytes > 0 && st.segment_bytes + len > self.max_segment_bytes {
            self.rotate(st)?;
        }
        if let Err(e) = append_all(&*st.file, &st.scratch) {
            self.poison();
            return Err(Error::io("write WAL", &st.path, e));
        }
        st.segment_bytes += len;
        st.written += len;
        // Do not keep a huge commit's buffer alive.
        if st.scratch.capacity() > 4 << 20 {
            st.scratch = Vec::new();
        }
        Ok(st.written)
    }

    /// Closes the current segment (fsynced) and starts the next; returns the new
    /// segment's number. Every segment before it is complete and durable.
    pub(crate) fn cut_segment(&self) -> Result<SegmentNo, Error> {
        let mut st = self.state.lock();
        if self.is_poisoned() {
            return Err(Error::WalPoisoned);
        }
        self.rotate(&mut st)?;
        Ok(st.segment)
    }

    fn rotate(&self, st: &mut WriteState) -> Result<(), Error> {
        if let Err(e) = st.file.sync() {
            self.poison();
            return Err(Error::io("fsync WAL", &st.path, e));
        }
        {
            let mut sync = self.sync.lock();
            sync.synced = sync.synced.max(st.written);
            self.synced_cv.notify_all();
        }
        let segment = st.segment.next();
        let path = self.dir.join(segment.file_name());
        let file = self.io.open_append(&path).map_err(|e| {
            self.poison();
            Error::io("create WAL segment", &path, e)
        })?;
        self.io.sync_dir(&self.dir).map_err(|e| {
            self.poison();
            Error::io("fsync directory", &self.dir, e)
        })?;
        st.segment = segment;
        st.path = path;
        st.file = file;
        st.segment_bytes = 0;
        Ok(())
    }

    /// Blocks until everything up to `pos` is fsynced, doing the fsync itself if
    /// no other thread is (group commit).
    pub(crate) fn wait_synced(&self, pos: u64) -> Result<(), Error> {
        let mut sync = self.sync.lock();
        loop {
            if self.is_poisoned() {
                return Err(Error::WalPoisoned);
            }
            if sync.synced >= pos {
                return Ok(());
            }
            if sync.leader_active {
                self.synced_cv.wait(&mut sync);
                continue;
            }
            sync.leader_active = true;
            drop(sync);
            // Lock order: `state` is never taken while holding `sync`.
            let (file, path, upto) = {
                let st = self.state.lock();
                (Arc::clone(&st.file), st.path.clone(), st.written)
            };
            let result = file.sync();
            sync = self.sync.lock();
            sync.leader_active = false;
            match result {
                Ok(()) => {
                    sync.synced = sync.synced.max(upto);
                    self.synced_cv.notify_all();
                }
                Err(e) => {
                    drop(sync);
                    self.poison();
                    return Err(Error::io("fsync WAL", path, e));
                }
            }
        }
    }

    /// Fsyncs everything written so far.
    pub(crate) fn sync(&self) -> Result<(), Error> {
        let pos = self.state.lock().written;
        self.wait_synced(pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;
    use std::sync::atomic::AtomicUsize;

    /// Files that keep bytes in memory and fail on command.
    #[derive(Default)]
    struct FaultyIo {
        fail_sync: AtomicBool,
        /// When set, the next append writes half its buffer and the one after fails.
        short_write: AtomicBool,
        appends_since_short: AtomicUsize,
        syncs: AtomicUsize,
        bytes: Mutex<Vec<u8>>,
    }

    struct FaultyFile {
        io: Arc<FaultyIo>,
    }

    impl WalFile for FaultyFile {
        fn append(&self, buf: &[u8]) -> io::Result<usize> {
            if self.io.short_write.load(Ordering::SeqCst) {
                if self.io.appends_since_short.fetch_add(1, Ordering::SeqCst) == 0 {
                    let half = buf.len() / 2;
                    self.io.bytes.lock().extend_from_slice(&buf[..half]);
                    return Ok(half);
                }
                return Err(io::Error::other("disk full"));
            }
            self.io.bytes.lock().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn sync(&self) -> io::Result<()> {
            self.io.syncs.fetch_add(1, Ordering::SeqCst);
            if self.io.fail_sync.load(Ordering::SeqCst) {
                return Err(io::Error::other("EIO"));
            }
            Ok(())
        }
    }

    struct Handle(Arc<FaultyIo>);
    impl WalIo for Handle {
        fn open_append(&self, _: &Path) -> io::Result<Arc<dyn WalFile>> {
            Ok(Arc::new(FaultyFile {
                io: Arc::clone(&self.0),
            }))
        }
        fn sync_dir(&self, _: &Path) -> io::Result<()> {
            Ok(())
        }
    }

    fn writer(io: &Arc<FaultyIo>) -> WalWriter {
        WalWriter::open(
            Path::new("/nonexistent"),
            Arc::new(Handle(Arc::clone(io))),
            SegmentNo(0),
            1 << 20,
        )
        .unwrap()
    }

    #[test]
    fn failed_fsync_poisons_the_writer() {
        let io = Arc::new(FaultyIo::default());
        let w = writer(&io);
        let pos = w.log(b"one").unwrap();
        w.wait_synced(pos).unwrap();
        io.fail_sync.store(true, Ordering::SeqCst);
        let pos = w.log(b"two").unwrap();
        assert!(matches!(
            w.wait_synced(pos),
            Err(Error::Io {
                op: "fsync WAL",
                ..
            })
        ));
        // Even after the disk recovers, nothing more is accepted.
        io.fail_sync.store(false, Ordering::SeqCst);
        assert!(matches!(w.log(b"three"), Err(Error::WalPoisoned)));
        assert!(matches!(w.sync(), Err(Error::WalPoisoned)));
    }

    #[test]
    fn failed_write_poisons_the_writer() {
        let io = Arc::new(FaultyIo::default());
        let w = writer(&io);
        io.short_write.store(true, Ordering::SeqCst);
        assert!(matches!(
            w.log(b"0123456789"),
            Err(Error::Io {
                op: "write WAL",
                ..
            })
        ));
        assert_eq!(
            io.bytes.lock().len(),
            5,
            "the short write was retried once, then failed"
        );
        io.short_write.store(false, Ordering::SeqCst);
        assert!(matches!(w.log(b"more"), Err(Error::WalPoisoned)));
    }

    #[test]
    fn one_fsync_can_cover_many_commits() {
        let io = Arc::new(FaultyIo::default());
        let w = writer(&io);
        let positions: Vec<u64> = (0..10).map(|_| w.log(b"commit").unwrap()).collect();
        w.wait_synced(*positions.last().unwrap()).unwrap();
        let syncs_after_last = io.syncs.load(Ordering::SeqCst);
        for p in positions {
            w.wait_synced(p).unwrap();
        }
        assert_eq!(
            io.syncs.load(Ordering::SeqCst),
            syncs_after_last,
            "earlier commits need no further fsync"
        );
        assert_eq!(io.bytes.lock().len(), 60);
    }

    #[test]
    fn concurrent_commits_are_all_durable_when_they_return() {
        let io = Arc::new(FaultyIo::default());
        let w = Arc::new(writer(&io));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let w = Arc::clone(&w);
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        let p = w.log(b"x").unwrap();
                        w.wait_synced(p).unwrap();
                        assert!(w.sync.lock().synced >= p);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }
}
