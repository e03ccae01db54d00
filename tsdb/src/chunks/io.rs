//! The chunk writer's window on the file system: a small trait so tests can
//! swap in files that fail a write, an fsync or a rename.
//!
//! [`OsIo`] is the production implementation (buffered `std::fs`). Only the
//! writer goes through it; readers map sealed files directly.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// A segment file being written.
pub(crate) trait SegmentFile: Send {
    /// Appends all of `buf` (possibly buffered).
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()>;
    /// Reads exactly `buf.len()` bytes at `offset`, after flushing buffered writes.
    fn read_exact_at(&mut self, buf: &mut [u8], offset: u64) -> io::Result<()>;
    /// Flushes and makes every byte written durable.
    fn sync(&mut self) -> io::Result<()>;
}

/// Creates segment files, renames them and syncs directories.
pub(crate) trait SegmentIo: Send + Sync {
    /// Creates `path`, which must not exist.
    fn create(&self, path: &Path) -> io::Result<Box<dyn SegmentFile>>;
    /// Renames `from` to `to`.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Makes the entries of `dir` durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
}

/// The real file system.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct OsIo;

struct OsFile(BufWriter<File>);

impl SegmentFile for OsFile {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf)
    }

    fn read_exact_at(&mut self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.0.flush()?;
        self.0.get_ref().read_exact_at(buf, offset)
    }

    fn sync(&mut self) -> io::Result<()> {
        self.0.flush()?;
        self.0.get_ref().sync_all()
    }
}

impl SegmentIo for OsIo {
    fn create(&self, path: &Path) -> io::Result<Box<dyn SegmentFile>> {
        let f = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)?;
        Ok(Box::new(OsFile(BufWriter::with_capacity(64 * 1024, f))))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }
}
