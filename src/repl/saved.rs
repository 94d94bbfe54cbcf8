//! Saved queries: the `.sql` files of `queries/` and of the user's query directory, by name.

use std::path::{Path, PathBuf};

use super::error::ReplError;

/// One saved query: its name (the file stem), file, and title (its first comment line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedQuery {
    pub name: String,
    pub path: PathBuf,
    pub title: String,
}

/// The user's own saved queries: `$XDG_CONFIG_HOME/auditlake/queries` (`~/.config/...`).
pub fn user_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|dir| dir.join("auditlake").join("queries"))
}

/// Where saved queries are looked for, in order: `queries/` of the current directory, else
/// of the source tree; then the user's directory, whose files win over a bundled one.
pub fn query_dirs() -> Vec<PathBuf> {
    let bundled = [
        PathBuf::from("queries"),
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("queries"),
    ]
    .into_iter()
    .find(|d| d.is_dir());
    bundled.into_iter().chain(user_dir()).collect()
}

/// The first line of a query file, without its `--`.
pub fn title(sql: &str) -> String {
    sql.lines()
        .next()
        .and_then(|l| l.trim().strip_prefix("--"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// The saved queries found in `dirs`, sorted by name; a later directory's file replaces an
/// earlier one of the same name.
pub fn list(dirs: &[PathBuf]) -> Vec<SavedQuery> {
    let mut found: Vec<SavedQuery> = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for path in entries.flatten().map(|e| e.path()) {
            if path.extension().is_none_or(|x| x != "sql") {
                continue;
            }
            let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let title = std::fs::read_to_string(&path)
                .map(|sql| title(&sql))
                .unwrap_or_default();
            found.retain(|q| q.name != name);
            found.push(SavedQuery {
                name: name.to_string(),
                path,
                title,
            });
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

/// The saved query called `name` (with or without `.sql`) and its text.
pub fn load(dirs: &[PathBuf], name: &str) -> Result<(SavedQuery, String), ReplError> {
    let name = name.strip_suffix(".sql").unwrap_or(name);
    let all = list(dirs);
    let query = all.iter().find(|q| q.name == name).ok_or_else(|| {
        let names: Vec<&str> = all.iter().map(|q| q.name.as_str()).collect();
        ReplError::Usage(format!(
            "no saved query named {name}; \\saved lists them ({})",
            if names.is_empty() {
                "none found".to_string()
            } else {
                names.join(", ")
            }
        ))
    })?;
    let sql = std::fs::read_to_string(&query.path)
        .map_err(|e| ReplError::file("read", &query.path, e))?;
    Ok((query.clone(), sql))
}

/// The `\saved` listing: name, title and file of each saved query.
pub fn describe(dirs: &[PathBuf]) -> String {
    let all = list(dirs);
    if all.is_empty() {
        let places: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        return format!("no saved queries (looked in {})\n", places.join(", "));
    }
    let width = all.iter().map(|q| q.name.len()).max().unwrap_or(0);
    let mut text = String::new();
    for q in &all {
        text.push_str(&format!(
            "  {:width$}  {}  ({})\n",
            q.name,
            q.title,
            shown(&q.path)
        ));
    }
    text
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_directories_win_and_titles_come_from_the_first_line() {
        let bundled = tempfile::tempdir().unwrap();
        let user = tempfile::tempdir().unwrap();
        std::fs::write(bundled.path().join("a.sql"), "-- Bundled A\nSELECT 1").unwrap();
        std::fs::write(bundled.path().join("b.sql"), "SELECT 2").unwrap();
        std::fs::write(bundled.path().join("notes.txt"), "-- no").unwrap();
        std::fs::write(user.path().join("a.sql"), "--  Mine\nSELECT 3").unwrap();
        let dirs = [bundled.path().to_path_buf(), user.path().to_path_buf()];
        let all = list(&dirs);
        let names: Vec<(&str, &str)> = all
            .iter()
            .map(|q| (q.name.as_str(), q.title.as_str()))
            .collect();
        assert_eq!(names, [("a", "Mine"), ("b", "")]);
        assert_eq!(load(&dirs, "a.sql").unwrap().1, "--  Mine\nSELECT 3");
        let missing = load(&dirs, "c").unwrap_err().to_string();
        assert!(missing.contains("a, b"), "{missing}");
    }
}
