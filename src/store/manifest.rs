//! The per-store manifest: the list of committed Parquet files, replaced atomically.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::StoreError;

pub const MANIFEST_FILE: &str = "_manifest.json";

/// One committed Parquet file of an event data store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// File name inside the store's directory.
    pub name: String,
    pub rows: u64,
    pub bytes: u64,
    /// Smallest and largest eventtime in the file, in ms since the epoch.
    pub min_time_ms: i64,
    pub max_time_ms: i64,
    /// Made by copying other files' row groups as they were (see
    /// [`super::compact::MergeKind::Splice`]): sorted only within each row group, and
    /// rewritten whole by the next compaction.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub spliced: bool,
}

/// What a store's directory holds. Readers trust only the files it lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Grows by one on every commit.
    pub version: u64,
    pub files: Vec<FileEntry>,
}

impl Manifest {
    /// Reads `dir/_manifest.json`; a directory without one holds no events yet.
    pub fn load(dir: &Path) -> Result<Manifest, StoreError> {
        let path = dir.join(MANIFEST_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
                path: path.display().to_string(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest::default()),
            Err(e) => Err(StoreError::io(&path, e)),
        }
    }

    /// Replaces `dir/_manifest.json` atomically (write, fsync, rename, fsync the directory).
    pub fn save(&self, dir: &Path) -> Result<(), StoreError> {
        let text = serde_json::to_vec_pretty(self).expect("a manifest always serializes");
        write_atomically(dir, MANIFEST_FILE, &text)
    }

    pub fn rows(&self) -> u64 {
        self.files.iter().map(|f| f.rows).sum()
    }

    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }
}

/// Writes `dir/name` so that a reader or a crash sees the old content or the new, never a mix.
pub fn write_atomically(dir: &Path, name: &str, content: &[u8]) -> Result<(), StoreError> {
    let tmp = dir.join(format!(".{name}.{}.partial", uuid::Uuid::new_v4().simple()));
    let target = dir.join(name);
    let result = (|| {
        let mut file = File::create(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
        file.write_all(content)
            .map_err(|e| StoreError::io(&tmp, e))?;
        file.sync_all().map_err(|e| StoreError::io(&tmp, e))?;
        std::fs::rename(&tmp, &target).map_err(|e| StoreError::io(&target, e))?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Makes renames and removals in `dir` durable.
pub fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), Manifest::default());
        let mut m = Manifest {
            version: 3,
            ..Manifest::default()
        };
        m.files.push(FileEntry {
            name: "a.parquet".into(),
            rows: 2,
            bytes: 10,
            min_time_ms: 1,
            max_time_ms: 5,
            spliced: false,
        });
        m.save(dir.path()).unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), m);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn a_damaged_manifest_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MANIFEST_FILE), b"{").unwrap();
        let err = Manifest::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains(MANIFEST_FILE), "{err}");
    }
}
