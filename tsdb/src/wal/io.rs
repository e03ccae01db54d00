//! The WAL's window on the file system: a small trait so tests can swap in files
//! that short-write or fail an fsync.
//!
//! Everything the WAL writer does to disk goes through [`WalIo`] and [`WalFile`];
//! the production implementation is [`OsIo`], plain `std::fs`. A [`WalFile`] is
//! shared (`&self` methods) because the group-fsync leader syncs the current
//! segment while other committers keep appending to it: an fsync covers every
//! byte written before it started, which is all the group commit needs.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

/// One open, append-only segment file.
pub(crate) trait WalFile: Send + Sync {
    /// Appends `buf` at the end of the file; may write only a prefix, like `write(2)`.
    fn append(&self, buf: &[u8]) -> io::Result<usize>;
    /// Makes every byte appended so far durable (`fdatasync`).
    fn sync(&self) -> io::Result<()>;
}

/// Opens segment files and syncs directories.
pub(crate) trait WalIo: Send + Sync {
    /// Opens `path` for appending, creating it if absent.
    fn open_append(&self, path: &Path) -> io::Result<Arc<dyn WalFile>>;
    /// Makes the directory entries of `dir` durable (after a create, rename or delete).
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
}

/// The real file system.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct OsIo;

struct OsFile(File);

impl WalFile for OsFile {
    fn append(&self, buf: &[u8]) -> io::Result<usize> {
        (&self.0).write(buf)
    }

    fn sync(&self) -> io::Result<()> {
        self.0.sync_data()
    }
}

impl WalIo for OsIo {
    fn open_append(&self, path: &Path) -> io::Result<Arc<dyn WalFile>> {
        let f = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Arc::new(OsFile(f)))
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        sync_dir(dir)
    }
}

/// Fsyncs a directory so that creations, renames and deletions in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Writes all of `buf`, retrying short writes; an error or a zero-length write fails.
pub(crate) fn append_all(file: &dyn WalFile, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match file.append(buf) {
            Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "wrote 0 bytes")),
            Ok(n) => buf = buf.get(n..).unwrap_or_default(),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
