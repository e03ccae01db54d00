//! `Db`: the database handle an embedding program holds.
//!
//! `Db::open` opens the blocks in the data directory, replays the WAL into a
//! fresh head (newest checkpoint, then the segments after it, cutting a torn
//! tail; samples already in blocks are skipped) and starts the WAL writer on a
//! new segment. Background threads fsync the WAL (with
//! [`FsyncPolicy::Interval`]) and run maintenance every minute
//! ([`maintenance`]: head → block, compaction, retention). `Db` is a cheap
//! `Arc` clone shared by all threads; appenders and queriers are created per
//! batch and per query. The data directory holds `wal/`, `chunks_head/` and
//! one directory per block. `Db` never mutates a file another process could
//! be reading as valid: segments are append-only, blocks and checkpoints
//! appear by rename. One `Db` at a time has a directory open: `open` takes an
//! exclusive `flock` on `<dir>/lock` (as Prometheus does) and fails with
//! [`Error::DirLocked`] if another handle holds it; `close` or dropping the
//! last clone releases it. The file itself stays; only the lock matters.
//!
//! `chunks_head/` is cleared on open and refilled by the replay. Reusing it
//! would not be safe as the files are: head chunks are written in the block
//! segment layout (length, encoding, data, CRC), with no series ref or time
//! range beside them, so on open a chunk cannot be given back to its series,
//! and the replay could not tell which WAL samples those chunks already hold.
//! Prometheus's head chunk files carry both (series ref, min and max time per
//! chunk) and its replay skips samples up to a series' last mapped chunk; doing
//! the same here means a head-chunk format of its own plus that skip.

mod maintenance;

pub use maintenance::CompactionReport;

use std::collections::HashMap;
use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};

use crate::block::{open_blocks, Block, BlockEncoding, Compactor};
use crate::chunks::ChunkStore;
use crate::error::Error;
use crate::head::{Appender, Head, HeadOptions, LabelLimits};
use crate::index::PostingsStats;
use crate::querier::{Querier, SharedBlocks};
use crate::wal::{self, FsyncPolicy, OsIo, Record, WalWriter};

const DAY_MS: i64 = 24 * 3600 * 1000;
/// The file whose `flock` marks the directory as in use.
const LOCK_FILE: &str = "lock";
/// Subdirectory of the head's full chunks.
const HEAD_CHUNKS_DIR: &str = "chunks_head";
/// Head chunk segments are sealed (and mapped) at this size. Smaller than
/// Prometheus's 128 MiB: the segment being written is also held in memory
/// (queries read it from there), so its size bounds that copy.
const HEAD_CHUNK_SEGMENT_BYTES: u64 = 4 << 20;
/// How often the background thread looks for head data to write as blocks,
/// blocks to compact and blocks to delete (Prometheus checks every minute too).
const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(60);

/// Settings for [`Db::open`]. Build with `Options { field: .., ..Options::default() }`
/// so new fields keep their defaults.
#[derive(Debug, Clone)]
pub struct Options {
    /// Blocks whose data is entirely older than the newest sample minus this (ms)
    /// are deleted. Default 30 days.
    pub retention_ms: i64,
    /// If set, the oldest blocks are deleted while all blocks together take more bytes.
    pub max_bytes: Option<u64>,
    /// Time span of a head block (ms); chunks never cross a multiple of it. Default 2 h.
    pub block_range_ms: i64,
    /// How far (ms) behind the newest sample an out-of-order sample is still
    /// accepted. Default 0: out-of-order samples are refused.
    pub out_of_order_window_ms: i64,
    /// When the WAL is fsynced. Default `Interval(100ms)`.
    pub fsync: FsyncPolicy,
    /// Limits on the label sets of new series.
    pub label_limits: LabelLimits,
    /// A WAL segment is closed and a new one started past this size (bytes). Default 128 MiB.
    pub wal_segment_bytes: u64,
    /// How blocks written from now on (head truncation, snapshots, compaction)
    /// encode their chunks; existing blocks of either encoding stay readable.
    /// Default [`BlockEncoding::Cold`].
    pub block_encoding: BlockEncoding,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            retention_ms: 30 * DAY_MS,
            max_bytes: None,
            block_range_ms: 2 * 3600 * 1000,
            out_of_order_window_ms: 0,
            fsync: FsyncPolicy::default(),
            label_limits: LabelLimits::default(),
            wal_segment_bytes: 128 << 20,
            block_encoding: BlockEncoding::default(),
        }
    }
}

impl Options {
    fn validate(&self) -> Result<(), Error> {
        if self.block_range_ms <= 0 {
            return Err(Error::InvalidOption {
                name: "block_range_ms",
                reason: "must be positive",
            });
        }
        if self.retention_ms <= 0 {
            return Err(Error::InvalidOption {
                name: "retention_ms",
                reason: "must be positive",
            });
        }
        if self.out_of_order_window_ms < 0 {
            return Err(Error::InvalidOption {
                name: "out_of_order_window_ms",
                reason: "must not be negative",
            });
        }
        if let FsyncPolicy::Interval(d) = self.fsync {
            if d.is_zero() {
                return Err(Error::InvalidOption {
                    name: "fsync",
                    reason: "interval must be positive",
                });
            }
        }
        Ok(())
    }
}

/// Figures for a status page (Prometheus's `/api/v1/status/tsdb`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Stats {
    /// Series in the head.
    pub num_series: u64,
    /// Oldest sample time in the head (ms); `None` when the head is empty.
    pub head_min_time_ms: Option<i64>,
    /// Newest sample time in the head (ms); `None` when the head is empty.
    pub head_max_time_ms: Option<i64>,
    /// Cardinality of the head's postings: top metric names and label pairs by
    /// series count, label value counts.
    pub postings: PostingsStats,
    /// Samples valid at `append` but dropped at `commit` because a concurrent
    /// commit to the same series made them out of order.
    pub dropped_at_commit: u64,
    /// Blocks on disk.
    pub num_blocks: usize,
    /// Bytes of the blocks on disk.
    pub blocks_bytes: u64,
}

/// A background thread and the channel whose closing stops it.
struct Worker {
    stop: Sender<()>,
    handle: JoinHandle<()>,
}

impl Worker {
    /// Runs `tick` every `every` on a named thread until stopped; `tick`
    /// returning false ends the thread early.
    fn spawn(
        name: &str,
        every: Duration,
        mut tick: impl FnMut() -> bool + Send + 'static,
    ) -> std::io::Result<Self> {
        let (stop, rx) = mpsc::channel::<()>();
        let handle = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || loop {
                match rx.recv_timeout(every) {
                    Err(RecvTimeoutError::Timeout) => {
                        if !tick() {
                            return;
                        }
                    }
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                }
            })?;
        Ok(Worker { stop, handle })
    }

    fn stop(self) {
        drop(self.stop);
        // The maintenance thread may hold the last handle and so run this itself:
        // it ends on its own once the tick returns, and cannot join itself.
        if self.handle.thread().id() == std::thread::current().id() {
            return;
        }
        if self.handle.join().is_err() {
            tracing::error!("a background thread of the database panicked");
        }
    }
}

struct DbInner {
    dir: PathBuf,
    opts: Options,
    head: Arc<Head>,
    wal: Arc<WalWriter>,
    /// Open blocks sorted by min time. Queries clone the list (the `Arc`s keep
    /// a block's files alive); maintenance replaces it.
    blocks: SharedBlocks,
    compactor: Compactor,
    /// Serializes maintenance passes and snapshots.
    maintenance: Mutex<()>,
    workers: Mutex<Vec<Worker>>,
    closed: AtomicBool,
    /// The open `lock` file holding the directory's `flock`; `None` after `close`.
    dir_lock: Mutex<Option<File>>,
}

/// An open database. `Clone + Send + Sync`: clones share one database.
#[derive(Clone)]
pub struct Db {
    inner: Arc<DbInner>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("dir", &self.inner.dir)
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Opens (creating if needed) the database in `dir` and replays its WAL.
    pub fn open(dir: impl AsRef<Path>, opts: Options) -> Result<Db, Error> {
        opts.validate()?;
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create data directory", &dir, e))?;
        // Before touching anything else: a second writer would corrupt the WAL.
        let dir_lock = lock_dir(&dir)?;
        // WAL replay rebuilds every head chunk, so chunk files of the last run are dropped.
        let chunks_dir = dir.join(HEAD_CHUNKS_DIR);
        if chunks_dir.exists() {
            std::fs::remove_dir_all(&chunks_dir)
                .map_err(|e| Error::io("remove old head chunks", &chunks_dir, e))?;
        }
        let store = ChunkStore::open(&chunks_dir, HEAD_CHUNK_SEGMENT_BYTES)?;
        let head = Arc::new(Head::new(
            HeadOptions {
                chunk_range_ms: opts.block_range_ms,
                ooo_window_ms: opts.out_of_order_window_ms,
                limits: opts.label_limits,
            },
            Some(store),
        ));
        let blocks = open_blocks(&dir).map_err(|e| Error::Block {
            path: dir.clone(),
            source: Box::new(e),
        })?;
        // Data up to the newest block's end is in blocks; the WAL's copy is skipped.
        if let Some(end) = blocks.iter().map(|b| b.meta().max_time).max() {
            head.set_min_valid(end);
        }
        let wal_dir = dir.join("wal");
        let next_segment = replay_wal(&wal_dir, &head)?;
        let wal = Arc::new(WalWriter::open(
            &wal_dir,
            Arc::new(OsIo),
            next_segment,
            opts.wal_segment_bytes,
        )?);
        let compactor = Compactor::new(opts.block_range_ms, opts.retention_ms)
            .with_encoding(opts.block_encoding);
        let inner = Arc::new(DbInner {
            dir,
            opts,
            head,
            wal,
            blocks: Arc::new(RwLock::new(blocks)),
            compactor,
            maintenance: Mutex::new(()),
            workers: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
            dir_lock: Mutex::new(Some(dir_lock)),
        });
        inner.start_workers()?;
        Ok(Db { inner })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The options the database was opened with.
    pub fn options(&self) -> &Options {
        &self.inner.opts
    }

    /// A new, empty batch of samples.
    pub fn appender(&self) -> Appender {
        let fsync = self.inner.opts.fsync;
        Appender::new(
            Arc::clone(&self.inner.head),
            Arc::clone(&self.inner.wal),
            fsync,
        )
    }

    /// A read view over `[mint_ms, maxt_ms]` (both inclusive).
    pub fn querier(&self, mint_ms: i64, maxt_ms: i64) -> Result<Querier, Error> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        Ok(Querier::new(
            Arc::clone(&self.inner.head),
            Arc::clone(&self.inner.blocks),
            mint_ms,
            maxt_ms,
        ))
    }

    /// Head statistics, each top list cut to 10 entries (as Prometheus's status page).
    pub fn stats(&self) -> Stats {
        self.stats_with_limit(10)
    }

    /// Head statistics, each top list cut to `limit` entries.
    pub fn stats_with_limit(&self, limit: usize) -> Stats {
        let head = &self.inner.head;
        let range = head.time_range();
        let blocks = self.inner.blocks.read();
        Stats {
            num_series: head.num_series(),
            head_min_time_ms: range.map(|r| r.0),
            head_max_time_ms: range.map(|r| r.1),
            postings: head.postings().stats(limit),
            dropped_at_commit: head.dropped_at_commit(),
            num_blocks: blocks.len(),
            blocks_bytes: blocks.iter().map(|b| b.size_bytes()).sum(),
        }
    }

    /// The blocks on disk, sorted by min time.
    pub fn blocks(&self) -> Vec<Arc<Block>> {
        self.inner.blocks.read().clone()
    }

    /// Runs one maintenance pass now (the background thread runs one every
    /// minute): writes the head's oldest block range as a block while the head
    /// spans more than 1.5 block ranges, compacts blocks, applies retention.
    pub fn compact(&self) -> Result<CompactionReport, Error> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        self.inner.maintain()
    }

    /// Writes a snapshot into `dir`: hard links to every block and, if
    /// `with_head`, the head's data as one more block. The snapshot directory
    /// can be opened as a data directory (read-only use: it has no WAL).
    pub fn snapshot(&self, dir: impl AsRef<Path>, with_head: bool) -> Result<(), Error> {
        self.inner.snapshot(dir.as_ref(), with_head)
    }

    /// Makes everything committed so far durable, whatever the fsync policy.
    pub fn flush_wal(&self) -> Result<(), Error> {
        self.inner.wal.sync()
    }

    /// Stops the background work, fsyncs the WAL, refuses further commits
    /// and queries on every clone of this handle, and releases the directory
    /// lock, so the directory can be opened again.
    pub fn close(&self) -> Result<(), Error> {
        self.inner.closed.store(true, Ordering::Release);
        self.inner.head.close();
        self.inner.stop_workers();
        let synced = self.inner.wal.sync();
        // Closing the file releases the flock; nothing is written after this.
        drop(self.inner.dir_lock.lock().take());
        synced
    }
}

impl DbInner {
    /// Starts the WAL sync thread (interval policy) and the maintenance thread.
    /// They hold the WAL and a weak handle, so dropping the last `Db` ends them.
    fn start_workers(self: &Arc<Self>) -> Result<(), Error> {
        let mut workers = self.workers.lock();
        if let FsyncPolicy::Interval(every) = self.opts.fsync {
            let wal = Arc::clone(&self.wal);
            let w = Worker::spawn("promlite-wal-sync", every, move || match wal.sync() {
                Ok(()) => true,
                Err(e) => {
                    tracing::error!(error = %e, "periodic WAL fsync failed; the WAL refuses further commits");
                    false
                }
            });
            workers.push(w.map_err(|e| Error::io("spawn WAL sync thread", self.wal.dir(), e))?);
        }
        let weak = Arc::downgrade(self);
        let w = Worker::spawn("promlite-maintenance", MAINTENANCE_INTERVAL, move || {
            let Some(db) = weak.upgrade() else {
                return false;
            };
            if let Err(e) = db.maintain() {
                tracing::error!(error = %e, "database maintenance failed; retried in a minute");
            }
            true
        });
        workers.push(w.map_err(|e| Error::io("spawn maintenance thread", &self.dir, e))?);
        Ok(())
    }

    fn stop_workers(&self) {
        let workers = std::mem::take(&mut *self.workers.lock());
        for w in workers {
            w.stop();
        }
    }
}

impl Drop for DbInner {
    fn drop(&mut self) {
        self.stop_workers();
        if !self.closed.load(Ordering::Acquire) {
            if let Err(e) = self.wal.sync() {
                tracing::warn!(error = %e, "final WAL fsync failed");
            }
        }
    }
}

/// Opens (creating) `<dir>/lock` and takes an exclusive `flock` on it without waiting.
fn lock_dir(dir: &Path) -> Result<File, Error> {
    let path = dir.join(LOCK_FILE);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io("open lock file", &path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(Error::DirLocked {
            dir: dir.to_path_buf(),
        }),
        Err(TryLockError::Error(e)) => Err(Error::io("lock", &path, e)),
    }
}

/// Replays the WAL into `head`; returns the segment the writer starts next.
fn replay_wal(wal_dir: &Path, head: &Head) -> Result<wal::SegmentNo, Error> {
    // WAL refs map to head series; a label set logged twice maps both refs to one series.
    let mut by_ref = HashMap::new();
    let bounds = head.replay_bounds();
    let mut unknown = 0u64;
    let replayed = wal::replay(wal_dir, &mut |s| head.intern(s), &mut |record| {
        match record {
            Record::Series(series) => {
                for (r, labels) in series {
                    by_ref.insert(r.get(), head.create_replayed(*r, labels));
                }
            }
            Record::Samples(samples) => {
                for s in samples {
                    match by_ref.get(&s.series.get()) {
                        Some(series) => head.apply_replayed(series, s.t, s.v, &bounds),
                        None => unknown += 1,
                    }
                }
            }
        }
        Ok(())
    })?;
    if unknown > 0 {
        tracing::warn!(
            unknown,
            "WAL samples name series without a series record; skipped"
        );
    }
    Ok(replayed.next_segment)
}
