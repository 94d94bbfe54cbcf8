//! Lake SQL behaviour, written as sqllogictest files in `tests/slt/`.
//!
//! Every file runs against one store seeded from `tests/slt/data`: the integration store
//! `app-events` (eight events of `app-events.ndjson`, ingested through its channel) and
//! the management store `trail` (five CloudTrail records of `trail.json`, imported).
//! `${app}` and `${trail}` in a statement are the stores' IDs, `${app_arn}` an ARN.
//!
//! The records understood, as in sqllogictest:
//! - `query <types> [rowsort] [colnames]` then the SQL, `----`, and one line per row with
//!   the values separated by single spaces (NULL for null, `(empty)` for an empty string,
//!   JSON text for maps, structs and arrays). `types` has one letter per column.
//!   `colnames` (ours) makes the first line the result's column names.
//! - `query error <text>` / `statement error <text>`: the statement fails and its message
//!   contains `<text>` (case-insensitive).
//! - `statement ok`: the statement runs.
//!
//! A record ends at a blank line. `AUDITLAKE_SLT_COMPLETE=1 cargo test slt` rewrites the
//! expected rows of every `query` record with what auditlake returns, for review in a diff.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use auditlake::query::{PrintFormat, QueryEngine};

use crate::import::trail_store;
use crate::{Fixture, json, repo_file, stdout};

/// One record of a .slt file.
#[derive(Debug)]
enum Record {
    Ok {
        line: usize,
        sql: String,
    },
    Error {
        line: usize,
        sql: String,
        expect: String,
    },
    Query(Query),
}

#[derive(Debug)]
struct Query {
    line: usize,
    types: String,
    rowsort: bool,
    colnames: bool,
    sql: String,
    expected: Vec<String>,
}

fn parse(text: &str) -> Vec<Record> {
    let lines: Vec<&str> = text.lines().collect();
    let mut records = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let header = lines[i].trim();
        let line = i + 1;
        i += 1;
        if header.is_empty() || header.starts_with('#') {
            continue;
        }
        let mut sql = Vec::new();
        while i < lines.len() && !lines[i].trim().is_empty() && lines[i].trim() != "----" {
            sql.push(lines[i]);
            i += 1;
        }
        let sql = sql.join("\n");
        let words: Vec<&str> = header.split_whitespace().collect();
        match words.as_slice() {
            ["statement", "ok"] => records.push(Record::Ok { line, sql }),
            ["statement" | "query", "error", expect @ ..] => records.push(Record::Error {
                line,
                sql,
                expect: expect.join(" "),
            }),
            ["query", types, options @ ..] => {
                let mut expected = Vec::new();
                if i < lines.len() && lines[i].trim() == "----" {
                    i += 1;
                    while i < lines.len() && !lines[i].trim().is_empty() {
                        expected.push(lines[i].trim_end().to_string());
                        i += 1;
                    }
                }
                records.push(Record::Query(Query {
                    line,
                    types: types.to_string(),
                    rowsort: options.contains(&"rowsort"),
                    colnames: options.contains(&"colnames"),
                    sql,
                    expected,
                }));
            }
            _ => panic!("line {line}: not a sqllogictest record: {header}"),
        }
    }
    records
}

/// One value as a result line shows it.
fn cell(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "NULL".into(),
        serde_json::Value::String(s) if s.is_empty() => "(empty)".into(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The column names and the rows of `sql`, each row as its result line.
async fn run(
    engine: &QueryEngine,
    sql: &str,
    params: &[(String, String)],
) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let plan = engine
        .logical_plan(sql, params)
        .await
        .map_err(|e| e.to_string())?;
    let names = plan
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let mut out = Vec::new();
    engine
        .execute(sql, params, PrintFormat::Ndjson, &mut out)
        .await
        .map_err(|e| e.to_string())?;
    let rows = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|line| {
            let object: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(line).unwrap();
            object.values().map(cell).collect()
        })
        .collect();
    Ok((names, rows))
}

/// A store with the two seeded event data stores, and the parameters naming them.
fn seeded() -> (Fixture, Vec<(String, String)>) {
    // The events are from 2024: kept for ten years, they stay visible.
    let fx = Fixture::with_retention(Some(3653));
    let events = repo_file("tests/slt/data/app-events.ndjson");
    stdout(
        fx.cmd()
            .args(["ingest", "--channel-arn", &fx.channel_arn])
            .arg(&events),
    );
    let trail = trail_store(&fx);
    json(
        fx.cmd()
            .args(["import", "--json", "--event-data-store", "trail"])
            .arg(repo_file("tests/slt/data/trail.json")),
    );
    let params = vec![
        ("app".to_string(), fx.eds_id.clone()),
        ("app_arn".to_string(), fx.eds_arn.clone()),
        ("trail".to_string(), trail),
    ];
    (fx, params)
}

/// Runs one file; returns its failures, and the file rewritten with actual rows.
async fn run_file(
    engine: &QueryEngine,
    params: &[(String, String)],
    path: &Path,
) -> (Vec<String>, String) {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut failures = Vec::new();
    let mut completed: Vec<String> = text.lines().map(str::to_string).collect();
    // Rewrites from the end so earlier line numbers stay valid.
    let mut rewrites = Vec::new();
    for record in parse(&text) {
        match record {
            Record::Ok { line, sql } => {
                if let Err(e) = run(engine, &sql, params).await {
                    failures.push(format!("{name}:{line}: failed: {e}\n  {sql}"));
                }
            }
            Record::Error { line, sql, expect } => match run(engine, &sql, params).await {
                Ok(_) => failures.push(format!("{name}:{line}: ran, but must fail\n  {sql}")),
                Err(e) if !e.to_lowercase().contains(&expect.to_lowercase()) => failures.push(
                    format!("{name}:{line}: the error does not say {expect:?}: {e}\n  {sql}"),
                ),
                Err(_) => {}
            },
            Record::Query(q) => match run(engine, &q.sql, params).await {
                Err(e) => failures.push(format!("{name}:{}: failed: {e}\n  {}", q.line, q.sql)),
                Ok((names, rows)) => {
                    let mut actual: Vec<String> = Vec::new();
                    if let Some(row) = rows.first()
                        && row.len() != q.types.len()
                    {
                        failures.push(format!(
                            "{name}:{}: {} columns, but the types say {}",
                            q.line,
                            row.len(),
                            q.types.len()
                        ));
                    }
                    let mut lines: Vec<String> = rows.iter().map(|r| r.join(" ")).collect();
                    if q.rowsort {
                        lines.sort();
                    }
                    if q.colnames {
                        actual.push(names.join(" "));
                    }
                    actual.extend(lines);
                    if actual != q.expected {
                        let mut diff = String::new();
                        writeln!(diff, "{name}:{}: wrong result\n  {}", q.line, q.sql).unwrap();
                        writeln!(diff, "  expected:\n    {}", q.expected.join("\n    ")).unwrap();
                        write!(diff, "  actual:\n    {}", actual.join("\n    ")).unwrap();
                        failures.push(diff);
                    }
                    let sql_lines = q.sql.lines().count();
                    rewrites.push((q.line + sql_lines, q.expected.len(), actual));
                }
            },
        }
    }
    for (after_sql, old_len, actual) in rewrites.into_iter().rev() {
        // `after_sql` is the index of the `----` line, when there is one.
        let has_separator = completed.get(after_sql).is_some_and(|l| l.trim() == "----");
        let start = after_sql + 1;
        if has_separator {
            completed.splice(start..start + old_len, actual);
        } else {
            let mut block = vec!["----".to_string()];
            block.extend(actual);
            completed.splice(after_sql..after_sql, block);
        }
    }
    (failures, completed.join("\n") + "\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn sqllogictest_files() {
    let (fx, params) = seeded();
    let engine = QueryEngine::open(fx.path()).await.unwrap();
    let dir = repo_file("tests/slt");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .slt files in {}", dir.display());
    let complete = std::env::var("AUDITLAKE_SLT_COMPLETE").is_ok_and(|v| v == "1");
    let mut failures = Vec::new();
    for path in &files {
        let (failed, completed) = run_file(&engine, &params, path).await;
        println!(
            "{}: {} failures",
            path.file_name().unwrap().to_string_lossy(),
            failed.len()
        );
        if complete {
            std::fs::write(path, completed).unwrap();
        }
        failures.extend(failed);
    }
    assert!(
        failures.is_empty(),
        "{} sqllogictest records failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
