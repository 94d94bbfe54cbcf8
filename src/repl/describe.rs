//! `\d`: the event data stores with their size and time range; `\d STORE`: a schema as a tree.

use std::path::Path;

use arrow::datatypes::{DataType, Field};

use super::error::ReplError;
use crate::catalog::{Catalog, EventDataStore};
use crate::event::schema::schema_for;
use crate::store::Store;

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| ms.to_string())
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// One line per event data store: name, ID, category, status, events, time range, size.
pub fn stores(root: &Path) -> Result<String, ReplError> {
    let catalog = Catalog::load(root)?;
    if catalog.event_data_stores.is_empty() {
        return Ok(
            "no event data stores yet (auditlake create-event-data-store --name NAME)\n".into(),
        );
    }
    let store = Store::open(root)?;
    let mut rows = vec![
        [
            "name",
            "id",
            "category",
            "status",
            "events",
            "time range (UTC)",
            "size",
        ]
        .map(String::from),
    ];
    for eds in &catalog.event_data_stores {
        let snapshot = store.snapshot(eds.id())?;
        let range = snapshot.time_range().map_or_else(
            || "-".to_string(),
            |(a, b)| format!("{} .. {}", time(a), time(b)),
        );
        rows.push([
            eds.name.clone(),
            eds.id().to_string(),
            eds.category().as_str().to_string(),
            eds.status.as_str().to_string(),
            snapshot.rows().to_string(),
            range,
            size(snapshot.bytes()),
        ]);
    }
    let widths: Vec<usize> = (0..7)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut text = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| format!("{cell:w$}"))
            .collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    Ok(text)
}

/// The store named `key` (its name, ID or ARN, ignoring case).
pub fn find<'a>(catalog: &'a Catalog, key: &str) -> Result<&'a EventDataStore, ReplError> {
    catalog
        .event_data_stores
        .iter()
        .find(|e| {
            e.name.eq_ignore_ascii_case(key)
                || e.id().eq_ignore_ascii_case(key)
                || e.arn.eq_ignore_ascii_case(key)
        })
        .ok_or_else(|| ReplError::Usage(format!("no event data store named {key}; \\d lists them")))
}

/// The record schema of one store as an indented tree of names and types.
pub fn schema(root: &Path, key: &str) -> Result<String, ReplError> {
    let catalog = Catalog::load(root)?;
    let eds = find(&catalog, key)?;
    let mut text = format!("{} ({}, {})\n", eds.name, eds.id(), eds.category().as_str());
    for field in schema_for(eds.category()).fields() {
        tree(field, 1, &mut text);
    }
    Ok(text)
}

fn type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Timestamp(..) => "timestamp".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Int32 => "int".into(),
        DataType::Float64 => "double".into(),
        DataType::Struct(_) => "struct".into(),
        DataType::Map(..) => "map<string,string>".into(),
        DataType::List(item) | DataType::LargeList(item) => match item.data_type() {
            DataType::Struct(_) => "array<struct>".into(),
            other => format!("array<{}>", type_name(other)),
        },
        other => other.to_string().to_ascii_lowercase(),
    }
}

fn tree(field: &Field, depth: usize, text: &mut String) {
    let indent = "  ".repeat(depth);
    text.push_str(&format!(
        "{indent}{}  {}\n",
        field.name(),
        type_name(field.data_type())
    ));
    let inner = match field.data_type() {
        DataType::Struct(fields) => Some(fields),
        DataType::List(item) | DataType::LargeList(item) => match item.data_type() {
            DataType::Struct(fields) => Some(fields),
            _ => None,
        },
        _ => None,
    };
    for child in inner.into_iter().flatten() {
        tree(child, depth + 1, text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::NewEventDataStore;

    #[test]
    fn the_schema_tree_shows_nested_fields_indented() {
        let root = tempfile::tempdir().unwrap();
        let mut catalog = Catalog::default();
        catalog
            .create_event_data_store(NewEventDataStore::named("my-events"), chrono::Utc::now())
            .unwrap();
        catalog.save(root.path()).unwrap();
        let text = schema(root.path(), "MY-EVENTS").unwrap();
        assert!(text.starts_with("my-events ("), "{text}");
        assert!(text.contains("\n  eventtime  timestamp\n"), "{text}");
        assert!(
            text.contains("\n  eventdata  struct\n    version  string\n"),
            "{text}"
        );
        assert!(
            text.contains("\n    useridentity  struct\n      type  string\n      principalid  string\n      details  map<string,string>\n"),
            "{text}"
        );
        let listing = stores(root.path()).unwrap();
        assert!(
            listing.contains("my-events") && listing.contains("ActivityAuditLog"),
            "{listing}"
        );
        assert!(schema(root.path(), "nope").is_err());
    }
}
