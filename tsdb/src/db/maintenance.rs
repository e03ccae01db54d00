//! Background maintenance of a `Db`: head truncation into blocks, WAL
//! checkpoints, block compaction and retention, and snapshots.
//!
//! Order of one head truncation (Prometheus `DB.Compact` / `Head.Truncate`):
//! (1) raise the head's oldest appendable time to the end of the range, so no
//! new sample can land in it (this waits for commits in flight to apply, and a
//! commit whose samples it puts out of bounds is refused before its WAL write,
//! so no acknowledged sample is left out of the block and then dropped); (2) write the range's data as a block
//! (`<ulid>.tmp`, fsynced, renamed, by `block::write_block_with`, in the
//! configured block encoding); (3) open it and
//! add it to the block list, so queries see it; (4) drop the range from the
//! head; (5) cut the WAL segment and checkpoint everything before it, keeping
//! only live series and samples from the range end on. A crash between any two
//! steps loses nothing: until (5) the WAL still holds every sample, and once the
//! block directory has its final name, reopening uses it and skips the WAL's copy.
//! All of this runs under one maintenance lock, never on the append path.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use super::DbInner;
use crate::block::{apply_retention, write_block_with, Block, RetentionPolicy};
use crate::error::Error;
use crate::wal::{write_checkpoint, SegmentNo};

/// What one maintenance pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompactionReport {
    /// Blocks written from the head.
    pub head_blocks: usize,
    /// Compactions of blocks into larger ones.
    pub compactions: usize,
    /// Blocks removed by retention.
    pub removed_blocks: usize,
}

fn block_err(path: &Path, e: crate::block::BlockError) -> Error {
    Error::Block {
        path: path.to_path_buf(),
        source: Box::new(e),
    }
}

impl DbInner {
    /// One maintenance pass: head → blocks while the head spans more than 1.5
    /// block ranges, then block compaction, then retention.
    pub(super) fn maintain(&self) -> Result<CompactionReport, Error> {
        let _guard = self.maintenance.lock();
        let mut report = CompactionReport::default();
        while self.truncate_head_once()? {
            report.head_blocks += 1;
        }
        loop {
            let mut blocks = self.blocks.read().clone();
            let done = self
                .compactor
                .run(&self.dir, &mut blocks)
                .map_err(|e| block_err(&self.dir, e))?;
            if done.is_none() {
                break;
            }
            *self.blocks.write() = blocks;
            report.compactions += 1;
        }
        report.removed_blocks = self.apply_retention()?;
        Ok(report)
    }

    /// Writes the head's oldest block range as a block if the head spans more
    /// than 1.5 block ranges (the extra half lets late in-order samples in).
    fn truncate_head_once(&self) -> Result<bool, Error> {
        let range = self.opts.block_range_ms;
        let Some((head_min, head_max)) = self.head.time_range() else {
            return Ok(false);
        };
        if head_max.saturating_sub(head_min) <= range / 2 * 3 {
            return Ok(false);
        }
        // Never a range already written: the head refuses data before `min_valid`.
        let mint = head_min.max(self.head.bounds().lower).div_euclid(range) * range;
        let maxt = mint.saturating_add(range);
        // (1) Nothing may be appended into the range from now on.
        self.head.set_min_valid(maxt);
        // (2) The block; refs are listed first, then each series is read under its lock.
        let refs = self.head.series_refs();
        let series = refs
            .into_iter()
            .filter_map(|r| self.head.block_series(r, mint, maxt));
        let meta = write_block_with(&self.dir, mint, maxt, self.opts.block_encoding, series)
            .map_err(|e| block_err(&self.dir, e))?;
        let block_dir = self.dir.join(meta.ulid.to_string());
        // (3) Queries see the block.
        let block = Block::open(&block_dir).map_err(|e| block_err(&block_dir, e))?;
        {
            let mut blocks = self.blocks.write();
            blocks.push(block);
            blocks.sort_by_key(|b| (b.meta().min_time, b.id()));
        }
        // (4) The head forgets the range.
        let removed = self.head.truncate_before(maxt);
        // (5) Bound replay: checkpoint the WAL before a fresh segment.
        let next = self.wal.cut_segment()?;
        if let Some(last) = next.0.checked_sub(1).map(SegmentNo) {
            let head = &self.head;
            let keep = |r| head.has_series(r);
            let stats =
                write_checkpoint(self.wal.dir(), last, &keep, maxt, &mut |s| head.intern(s))?;
            tracing::info!(
                block = %meta.ulid, mint, maxt, removed_series = removed,
                checkpoint_series = stats.series, checkpoint_samples = stats.samples,
                "head truncated into a block"
            );
        }
        Ok(true)
    }

    /// Deletes blocks past the time or size retention; returns how many.
    fn apply_retention(&self) -> Result<usize, Error> {
        // Time retention is measured from the newest data, as in Prometheus.
        let newest = self
            .head
            .time_range()
            .map(|r| r.1)
            .into_iter()
            .chain(self.blocks.read().iter().map(|b| b.meta().max_time))
            .max();
        let Some(now) = newest else { return Ok(0) };
        let policy = RetentionPolicy {
            time_ms: Some(self.opts.retention_ms),
            max_bytes: self.opts.max_bytes,
        };
        let mut blocks = self.blocks.read().clone();
        let removed =
            apply_retention(&mut blocks, &policy, now).map_err(|e| block_err(&self.dir, e))?;
        if !removed.is_empty() {
            *self.blocks.write() = blocks;
            for m in &removed {
                tracing::info!(block = %m.ulid, min_time = m.min_time, max_time = m.max_time, "block removed by retention");
            }
        }
        Ok(removed.len())
    }

    /// Writes a consistent copy of the database's blocks (hard links) and,
    /// with `with_head`, the head's data as one more block, into `dir`.
    pub(super) fn snapshot(&self, dir: &Path, with_head: bool) -> Result<(), Error> {
        let _guard = self.maintenance.lock();
        fs::create_dir_all(dir).map_err(|e| Error::io("create snapshot directory", dir, e))?;
        let blocks: Vec<Arc<Block>> = self.blocks.read().clone();
        for b in &blocks {
            link_tree(&b.dir(), &dir.join(b.id().to_string()))?;
        }
        if with_head {
            if let Some((mint, maxt)) = self.head.time_range() {
                let end = maxt.saturating_add(1);
                let refs = self.head.series_refs();
                let series = refs
                    .into_iter()
                    .filter_map(|r| self.head.block_series(r, mint, end));
                write_block_with(dir, mint, end, self.opts.block_encoding, series)
                    .map_err(|e| block_err(dir, e))?;
            }
        }
        Ok(())
    }
}

/// Hard-links every file under `from` into the same place under `to` (blocks are immutable).
fn link_tree(from: &Path, to: &Path) -> Result<(), Error> {
    fs::create_dir_all(to).map_err(|e| Error::io("create snapshot directory", to, e))?;
    for entry in fs::read_dir(from).map_err(|e| Error::io("read block directory", from, e))? {
        let entry = entry.map_err(|e| Error::io("read block directory", from, e))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().map_err(|e| Error::io("stat", &src, e))?;
        if kind.is_dir() {
            link_tree(&src, &dst)?;
        } else {
            fs::hard_link(&src, &dst).map_err(|e| Error::io("hard-link into snapshot", &dst, e))?;
        }
    }
    Ok(())
}
