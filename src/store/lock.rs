//! The one-writer-per-store lock: an OS file lock on `STORE/lock`, released when dropped.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::time::{Duration, Instant};

use super::StoreError;

/// How long a writer waits for another writer before giving up.
pub const LOCK_WAIT: Duration = Duration::from_secs(30);

/// Held while a process changes a store (catalog or data). Readers never take it.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

impl WriterLock {
    /// Takes the store's writer lock, waiting up to [`LOCK_WAIT`] for another writer.
    pub fn acquire(root: &Path) -> Result<WriterLock, StoreError> {
        std::fs::create_dir_all(root).map_err(|e| StoreError::io(root, e))?;
        let path = root.join("lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| StoreError::io(&path, e))?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(WriterLock { _file: file }),
                Err(TryLockError::WouldBlock) if started.elapsed() < LOCK_WAIT => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(StoreError::Locked(root.display().to_string()));
                }
                Err(TryLockError::Error(e)) => return Err(StoreError::io(&path, e)),
            }
        }
    }
}
