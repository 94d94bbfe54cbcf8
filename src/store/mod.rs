//! The Parquet event store: layout on disk, atomic commits, the writer lock, compaction, retention.
//!
//! ```text
//! STORE/catalog.json                 event data stores, channels, policies (catalog/)
//! STORE/lock                         held by the one writer
//! STORE/data/<EDS ID>/_manifest.json the committed files of one event data store
//! STORE/data/<EDS ID>/*.parquet      ZSTD Parquet, each file sorted by eventtime
//! ```

pub mod compact;
pub mod lock;
pub mod manifest;
mod runs;
pub mod verify;
pub mod writer;

use std::path::{Path, PathBuf};

use arrow::datatypes::SchemaRef;

pub use lock::WriterLock;
pub use manifest::{FileEntry, Manifest};
pub use writer::DataFileWriter;

/// Errors of the store stage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the store at {0} is being written by another auditlake process (waited 30 s for its lock)"
    )]
    Locked(String),
    #[error("{path} is damaged: {message}")]
    Corrupt { path: String, message: String },
    #[error("unexpected data: {0}")]
    Schema(String),
    #[error(transparent)]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
}

impl StoreError {
    pub fn io(path: &Path, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// One committed file as a reader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFile {
    pub path: PathBuf,
    pub rows: u64,
    pub bytes: u64,
    pub min_time_ms: i64,
    pub max_time_ms: i64,
}

/// The committed files of one event data store at one moment.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub version: u64,
    pub files: Vec<DataFile>,
}

impl Snapshot {
    pub fn rows(&self) -> u64 {
        self.files.iter().map(|f| f.rows).sum()
    }

    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }

    /// Earliest and latest eventtime (ms), if the store holds any event.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let min = self.files.iter().map(|f| f.min_time_ms).min()?;
        let max = self.files.iter().map(|f| f.max_time_ms).max()?;
        Some((min, max))
    }
}

/// A store directory, for reading. Readers never take the lock.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory that holds one event data store's Parquet files.
    pub fn data_dir(&self, eds_id: &str) -> PathBuf {
        self.root.join("data").join(eds_id.to_ascii_lowercase())
    }

    /// The files committed to an event data store as of now.
    pub fn snapshot(&self, eds_id: &str) -> Result<Snapshot, StoreError> {
        let dir = self.data_dir(eds_id);
        let manifest = Manifest::load(&dir)?;
        Ok(Snapshot {
            version: manifest.version,
            files: manifest
                .files
                .into_iter()
                .map(|f| DataFile {
                    path: dir.join(&f.name),
                    rows: f.rows,
                    bytes: f.bytes,
                    min_time_ms: f.min_time_ms,
                    max_time_ms: f.max_time_ms,
                })
                .collect(),
        })
    }
}

/// A store opened for writing: holds the lock for as long as it lives.
pub struct StoreWriter {
    store: Store,
    _lock: WriterLock,
}

impl StoreWriter {
    /// Takes the writer lock and clears what an interrupted writer may have left behind.
    pub fn open(root: &Path) -> Result<StoreWriter, StoreError> {
        let lock = WriterLock::acquire(root)?;
        let writer = StoreWriter {
            store: Store::open(root)?,
            _lock: lock,
        };
        writer.remove_leftovers()?;
        Ok(writer)
    }

    /// Takes the writer lock only, for a writer that commits often (the endpoint's group
    /// commits) and has cleaned leftovers with [`StoreWriter::open`] once before.
    pub fn lock(root: &Path) -> Result<StoreWriter, StoreError> {
        Ok(StoreWriter {
            _lock: WriterLock::acquire(root)?,
            store: Store::open(root)?,
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Starts a new file for an event data store; see [`DataFileWriter`].
    pub fn file_writer(
        &self,
        eds_id: &str,
        schema: SchemaRef,
    ) -> Result<DataFileWriter, StoreError> {
        DataFileWriter::create(&self.store.data_dir(eds_id), schema)
    }

    /// Commits a file written with [`StoreWriter::file_writer`]: after this returns, its
    /// rows are durable and visible to every new reader.
    pub fn commit(&self, file: DataFileWriter) -> Result<Option<FileEntry>, StoreError> {
        let dir = file.dir().to_path_buf();
        let Some(entry) = file.finish()? else {
            return Ok(None);
        };
        self.replace_files(&dir, &[], std::slice::from_ref(&entry))?;
        Ok(Some(entry))
    }

    /// Swaps files in one manifest update: readers see all of `removed` or all of `added`.
    /// The removed files are deleted afterwards.
    pub fn replace_files(
        &self,
        dir: &Path,
        removed: &[String],
        added: &[FileEntry],
    ) -> Result<(), StoreError> {
        let mut manifest = Manifest::load(dir)?;
        manifest.version += 1;
        manifest.files.retain(|f| !removed.contains(&f.name));
        manifest.files.extend(added.iter().cloned());
        manifest.save(dir)?;
        for name in removed {
            let path = dir.join(name);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::io(&path, e)),
            }
        }
        Ok(())
    }

    /// Deletes an event data store's files for good.
    pub fn remove_event_data_store(&self, eds_id: &str) -> Result<(), StoreError> {
        let dir = self.store.data_dir(eds_id);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::io(&dir, e)),
        }
    }

    /// Temporary files of an interrupted write, and Parquet files that never made it into a
    /// manifest, are removed: they hold nothing that was acknowledged.
    fn remove_leftovers(&self) -> Result<(), StoreError> {
        let data = self.store.root.join("data");
        let Ok(stores) = std::fs::read_dir(&data) else {
            return Ok(());
        };
        for dir in stores.flatten().map(|e| e.path()).filter(|p| p.is_dir()) {
            let manifest = Manifest::load(&dir)?;
            let entries = std::fs::read_dir(&dir).map_err(|e| StoreError::io(&dir, e))?;
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let partial = name.ends_with(".partial");
                let orphan =
                    name.ends_with(".parquet") && !manifest.files.iter().any(|f| f.name == name);
                if partial || orphan {
                    let path = entry.path();
                    std::fs::remove_file(&path).map_err(|e| StoreError::io(&path, e))?;
                }
            }
        }
        Ok(())
    }
}
