//! Checkpoints: bound replay time by folding old segments into one compact file.
//!
//! When the head is truncated (its oldest range written to a block), the WAL
//! segments up to a cut point hold mostly samples that now live in the block.
//! A checkpoint `checkpoint.NNNNNNNN/` (NNNNNNNN = the last segment it covers)
//! keeps from the previous checkpoint and those segments only the series still
//! in the head and the samples at or after the truncation time; then the
//! covered segments and older checkpoints are deleted. It is written under a
//! `.tmp` name, fsynced and renamed, so a crash leaves either the old state or
//! the new one; replay reads the newest checkpoint and then the segments after it.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::io::sync_dir;
use super::reader::{read_segments, Record, Repair};
use super::record::RefSample;
use super::segment::{list_segments, SegmentNo};
use super::{encode_samples_frames, encode_series_frames};
use crate::error::Error;
use crate::head::SeriesRef;
use crate::labels::{Labels, Symbol};

const PREFIX: &str = "checkpoint.";

/// The checkpoints in `wal_dir` (complete ones only), sorted by the segment they cover.
pub(crate) fn list_checkpoints(wal_dir: &Path) -> Result<Vec<(SegmentNo, PathBuf)>, Error> {
    let mut out = Vec::new();
    let entries = fs::read_dir(wal_dir).map_err(|e| Error::io("list WAL directory", wal_dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list WAL directory", wal_dir, e))?;
        let name = entry.file_name();
        let Some(no) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(SegmentNo::parse)
        else {
            continue;
        };
        out.push((no, entry.path()));
    }
    out.sort_unstable_by_key(|(no, _)| *no);
    Ok(out)
}

/// Removes half-written checkpoints left by a crash.
pub(crate) fn remove_temporary(wal_dir: &Path) -> Result<(), Error> {
    let entries = fs::read_dir(wal_dir).map_err(|e| Error::io("list WAL directory", wal_dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list WAL directory", wal_dir, e))?;
        let name = entry.file_name();
        if name
            .to_str()
            .is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(".tmp"))
        {
            let p = entry.path();
            fs::remove_dir_all(&p).map_err(|e| Error::io("remove temporary checkpoint", &p, e))?;
        }
    }
    Ok(())
}

/// What a checkpoint kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct CheckpointStats {
    pub(crate) series: usize,
    pub(crate) samples: usize,
}

/// Folds the previous checkpoint and all segments up to and including `last`
/// into `checkpoint.<last>`, keeping series for which `keep` is true and their
/// samples with `t >= min_t` (ms); then deletes what it replaced.
pub(crate) fn write_checkpoint(
    wal_dir: &Path,
    last: SegmentNo,
    keep: &dyn Fn(SeriesRef) -> bool,
    min_t: i64,
    intern: &mut impl FnMut(&str) -> Symbol,
) -> Result<CheckpointStats, Error> {
    let previous = list_checkpoints(wal_dir)?;
    let mut inputs = Vec::new();
    let after = match previous.last() {
        Some((no, dir)) => {
            inputs.extend(list_segments(dir).map_err(|e| Error::io("list checkpoint", dir, e))?);
            Some(*no)
        }
        None => None,
    };
    let segments =
        list_segments(wal_dir).map_err(|e| Error::io("list WAL directory", wal_dir, e))?;
    let covered: Vec<_> = segments
        .iter()
        .filter(|(no, _)| *no <= last && after.is_none_or(|a| *no > a))
        .cloned()
        .collect();
    inputs.extend(covered.iter().cloned());

    let final_dir = wal_dir.join(format!("{PREFIX}{}", last.file_name()));
    let tmp_dir = wal_dir.join(format!("{PREFIX}{}.tmp", last.file_name()));
    if tmp_dir.exists() {
        fs::remove_dir_all(&tmp_dir)
            .map_err(|e| Error::io("remove temporary checkpoint", &tmp_dir, e))?;
    }
    fs::create_dir_all(&tmp_dir).map_err(|e| Error::io("create checkpoint", &tmp_dir, e))?;
    let tmp_file = tmp_dir.join(SegmentNo(0).file_name());
    let file = File::create(&tmp_file).map_err(|e| Error::io("create checkpoint", &tmp_file, e))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut stats = CheckpointStats::default();
    let mut buf = Vec::new();
    let mut kept_samples: Vec<RefSample> = Vec::new();
    let write_err = |e| Error::io("write checkpoint", &tmp_file, e);
    read_segments(&inputs, Repair::Refuse, intern, &mut |record| {
        buf.clear();
        match record {
            Record::Series(series) => {
                let kept: Vec<&(SeriesRef, Labels)> =
                    series.iter().filter(|(r, _)| keep(*r)).collect();
                stats.series += kept.len();
                encode_series_frames(&mut buf, kept.iter().map(|(r, l)| (*r, l)));
            }
            Record::Samples(samples) => {
                kept_samples.clear();
                kept_samples.extend(samples.iter().filter(|s| s.t >= min_t && keep(s.series)));
                stats.samples += kept_samples.len();
                encode_samples_frames(&mut buf, &kept_samples);
            }
        }
        out.write_all(&buf).map_err(write_err)
    })?;
    let file = out.into_inner().map_err(|e| write_err(e.into_error()))?;
    file.sync_all()
        .map_err(|e| Error::io("fsync checkpoint", &tmp_file, e))?;
    sync_dir(&tmp_dir).map_err(|e| Error::io("fsync directory", &tmp_dir, e))?;
    if final_dir.exists() {
        fs::remove_dir_all(&final_dir)
            .map_err(|e| Error::io("remove old checkpoint", &final_dir, e))?;
    }
    fs::rename(&tmp_dir, &final_dir).map_err(|e| Error::io("rename checkpoint", &final_dir, e))?;
    sync_dir(wal_dir).map_err(|e| Error::io("fsync directory", wal_dir, e))?;

    // The new checkpoint is durable; what it replaces can go.
    for (_, p) in &covered {
        fs::remove_file(p).map_err(|e| Error::io("remove WAL segment", p, e))?;
    }
    for (no, p) in &previous {
        if *no < last {
            fs::remove_dir_all(p).map_err(|e| Error::io("remove old checkpoint", p, e))?;
        }
    }
    sync_dir(wal_dir).map_err(|e| Error::io("fsync directory", wal_dir, e))?;
    Ok(stats)
}
