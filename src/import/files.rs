//! Which files of an export tree hold records: log files in, digest and other files counted out.

use std::path::{Path, PathBuf};

/// The files an import was given, sorted into those it reads and those it skips.
#[derive(Debug, Default)]
pub struct Inputs {
    pub logs: Vec<PathBuf>,
    /// CloudTrail digest files (`CloudTrail-Digest/`, `_CloudTrail-Digest_`): hashes, not events.
    pub digests: Vec<PathBuf>,
    /// Files found in directories that are not JSON (`.json`, `.json.gz`, `.ndjson`, ...).
    pub others: Vec<PathBuf>,
    /// Bytes of the files to read, as stored (compressed for .gz).
    pub bytes: u64,
}

const LOG_SUFFIXES: &[&str] = &[".json", ".jsonl", ".ndjson", ".gz"];

fn is_digest(path: &Path) -> bool {
    path.components()
        .any(|c| c.as_os_str() == "CloudTrail-Digest")
        || path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains("_CloudTrail-Digest_"))
}

fn looks_like_log(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    !name.starts_with('.') && LOG_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// Walks `paths`. A file named on the command line is read whatever its name (unless it is
/// a digest); in directories only JSON files are.
pub fn discover(paths: &[PathBuf]) -> Result<Inputs, (PathBuf, std::io::Error)> {
    let mut inputs = Inputs::default();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| (path.clone(), e))?;
        if meta.is_dir() {
            walk(path, &mut inputs)?;
        } else {
            inputs.add(path.clone(), true, meta.len());
        }
    }
    Ok(inputs)
}

impl Inputs {
    fn add(&mut self, path: PathBuf, named: bool, bytes: u64) {
        if is_digest(&path) {
            self.digests.push(path);
        } else if named || looks_like_log(&path) {
            self.bytes += bytes;
            self.logs.push(path);
        } else {
            self.others.push(path);
        }
    }
}

fn walk(dir: &Path, inputs: &mut Inputs) -> Result<(), (PathBuf, std::io::Error)> {
    let mut entries: Vec<(PathBuf, std::fs::FileType)> = std::fs::read_dir(dir)
        .map_err(|e| (dir.to_path_buf(), e))?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_type().ok().map(|t| (e.path(), t)))
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, kind) in entries {
        if kind.is_dir() {
            walk(&path, inputs)?;
        } else {
            let meta = std::fs::metadata(&path).map_err(|e| (path.clone(), e))?;
            if meta.is_dir() {
                walk(&path, inputs)?;
            } else {
                inputs.add(path, false, meta.len());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_trees_are_sorted_out() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("AWSLogs/111122223333");
        let logs = base.join("CloudTrail/us-east-1/2024/01/02");
        let digests = base.join("CloudTrail-Digest/us-east-1/2024/01/02");
        std::fs::create_dir_all(&logs).unwrap();
        std::fs::create_dir_all(&digests).unwrap();
        std::fs::write(logs.join("a_CloudTrail_us-east-1_x.json.gz"), b"x").unwrap();
        std::fs::write(
            digests.join("a_CloudTrail-Digest_us-east-1_x.json.gz"),
            b"x",
        )
        .unwrap();
        std::fs::write(logs.join(".DS_Store"), b"x").unwrap();
        std::fs::write(logs.join("notes.txt"), b"x").unwrap();
        let named = dir.path().join("named.txt");
        std::fs::write(&named, b"x").unwrap();
        let inputs = discover(&[dir.path().join("AWSLogs"), named]).unwrap();
        assert_eq!(inputs.logs.len(), 2);
        assert_eq!(inputs.digests.len(), 1);
        assert_eq!(inputs.others.len(), 2);
        assert_eq!(inputs.bytes, 2);
    }
}
