//! What Tab offers: keywords, functions, store names and IDs, column paths at any depth, commands.

use arrow::datatypes::{DataType, Field, Fields, SchemaRef};

use super::command::COMMANDS;

/// SQL keywords offered by completion and shown in colour.
pub const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "ORDER",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "AS",
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "LIKE",
    "BETWEEN",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "DISTINCT",
    "JOIN",
    "INNER",
    "LEFT",
    "RIGHT",
    "FULL",
    "OUTER",
    "CROSS",
    "ON",
    "USING",
    "UNION",
    "ALL",
    "EXCEPT",
    "INTERSECT",
    "WITH",
    "ASC",
    "DESC",
    "OVER",
    "PARTITION",
    "CAST",
    "TRUE",
    "FALSE",
    "INTERVAL",
    "TIMESTAMP",
    "DATE",
    "EXISTS",
    "ROWS",
    "RANGE",
    "NULLS",
    "FIRST",
    "LAST",
];

/// Everything completion draws on, gathered once when the session opens.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    /// Function names registered in the session (Lake's and DataFusion's).
    pub functions: Vec<String>,
    /// Event data store names and IDs.
    pub stores: Vec<String>,
    /// The record schemas of the stores' categories.
    pub schemas: Vec<SchemaRef>,
    /// Saved query names, for `\run`.
    pub saved: Vec<String>,
}

/// A completion: where the replaced word starts, and the candidates for it.
pub type Completion = (usize, Vec<String>);

/// The start of the word that ends at `pos`: identifiers, dotted paths and hyphenated IDs.
fn word_start(line: &str, pos: usize) -> usize {
    line[..pos]
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '$' | '{'))
        .last()
        .map_or(pos, |(i, _)| i)
}

fn matching<'a>(prefix: &str, names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let lower = prefix.to_ascii_lowercase();
    let mut out: Vec<String> = names
        .into_iter()
        .filter(|n| n.to_ascii_lowercase().starts_with(&lower))
        .map(str::to_string)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The fields one level inside a struct (or a map's entries, or a list's items).
fn children(data_type: &DataType) -> Option<&Fields> {
    match data_type {
        DataType::Struct(fields) => Some(fields),
        DataType::List(item) | DataType::LargeList(item) => children(item.data_type()),
        _ => None,
    }
}

/// The fields reached by following `path` (case-insensitive) from `fields`.
fn follow<'a>(fields: &'a Fields, path: &[&str]) -> Option<&'a Fields> {
    let Some((first, rest)) = path.split_first() else {
        return Some(fields);
    };
    let field: &Field = fields
        .iter()
        .find(|f| f.name().eq_ignore_ascii_case(first))?;
    follow(children(field.data_type())?, rest)
}

impl Vocabulary {
    /// Candidates for the word that ends at `pos` in `line`.
    pub fn complete(&self, line: &str, pos: usize) -> Completion {
        let start = word_start(line, pos);
        let word = &line[start..pos];
        let before = line[..start].trim_start();
        let typed = line[..pos].trim_start();
        if typed.starts_with('\\') && !typed.contains(char::is_whitespace) {
            let start = line.len() - line.trim_start().len();
            let names = COMMANDS.iter().map(|c| c.name);
            return (start, matching(&line[start..pos], names));
        }
        if let Some(command) = before
            .split_whitespace()
            .next()
            .filter(|c| c.starts_with('\\'))
        {
            let names: Vec<&str> = match command {
                "\\d" => self.stores.iter().map(String::as_str).collect(),
                "\\run" => self.saved.iter().map(String::as_str).collect(),
                "\\format" => vec!["table", "csv", "json", "ndjson"],
                _ => Vec::new(),
            };
            return (start, matching(word, names));
        }
        if let Some(dot) = word.rfind('.') {
            return (
                start + dot + 1,
                self.fields_after(&word[..dot], &word[dot + 1..]),
            );
        }
        let lower = !word.starts_with(|c: char| c.is_ascii_uppercase());
        let keywords = KEYWORDS.iter().map(|k| match lower {
            true => k.to_ascii_lowercase(),
            false => k.to_string(),
        });
        let keywords: Vec<String> = keywords.collect();
        let columns: Vec<&str> = self
            .schemas
            .iter()
            .flat_map(|s| s.fields().iter().map(|f| f.name().as_str()))
            .collect();
        let names = keywords
            .iter()
            .map(String::as_str)
            .chain(self.functions.iter().map(String::as_str))
            .chain(self.stores.iter().map(String::as_str))
            .chain(columns);
        (start, matching(word, names))
    }

    /// Field names under the dotted `path`, in any schema. A first part that is no column
    /// is taken for a table alias (`e.eventdata.`) and skipped.
    fn fields_after(&self, path: &str, partial: &str) -> Vec<String> {
        let parts: Vec<&str> = path.split('.').collect();
        let mut names = Vec::new();
        for schema in &self.schemas {
            let fields = schema.fields();
            let found = follow(fields, &parts).or_else(|| follow(fields, &parts[1..]));
            if let Some(inner) = found {
                names.extend(inner.iter().map(|f| f.name().clone()));
            }
        }
        matching(partial, names.iter().map(String::as_str))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::EventCategory;
    use crate::event::schema::schema_for;

    fn vocabulary() -> Vocabulary {
        Vocabulary {
            functions: vec!["json_extract_scalar".into(), "json_parse".into()],
            stores: vec![
                "demo-events".into(),
                "0a1b2c3d-0000-4000-8000-000000000000".into(),
            ],
            schemas: vec![
                schema_for(EventCategory::ActivityAuditLog),
                schema_for(EventCategory::Management),
            ],
            saved: vec!["top-event-names".into()],
        }
    }

    fn complete(line: &str) -> Vec<String> {
        vocabulary().complete(line, line.len()).1
    }

    #[test]
    fn struct_paths_complete_at_any_depth() {
        let line = "SELECT eventdata.useridentity.";
        assert_eq!(vocabulary().complete(line, line.len()).0, line.len());
        // Both schemas have a userIdentity: the integration fields are among the offers...
        let offered = complete(line);
        for field in ["details", "principalid", "type", "sessioncontext"] {
            assert!(offered.contains(&field.to_string()), "{offered:?}");
        }
        // ... and with only the integration schema, they are all that is offered.
        let mut integration = vocabulary();
        integration.schemas.truncate(1);
        assert_eq!(
            integration.complete(line, line.len()).1,
            ["details", "principalid", "type"]
        );
        assert_eq!(
            complete("SELECT e.eventData.userIdentity.pr"),
            ["principalid"]
        );
        assert_eq!(
            complete("where useridentity.sessioncontext.sessionissuer.a"),
            ["accountid", "arn"]
        );
        assert!(complete("SELECT nothing.here.").is_empty());
    }

    #[test]
    fn words_complete_to_keywords_functions_stores_and_columns() {
        assert_eq!(complete("SEL"), ["SELECT"]);
        assert_eq!(complete("select count(*) fr"), ["from"]);
        assert_eq!(complete("SELECT json_p"), ["json_parse"]);
        assert_eq!(complete("SELECT * FROM demo-e"), ["demo-events"]);
        assert_eq!(
            complete("SELECT * FROM 0a1b"),
            ["0a1b2c3d-0000-4000-8000-000000000000"]
        );
        assert!(complete("SELECT eventt").contains(&"eventtime".to_string()));
    }

    #[test]
    fn meta_commands_and_their_arguments_complete() {
        assert_eq!(complete("\\ru"), ["\\run"]);
        assert_eq!(complete("\\run top"), ["top-event-names"]);
        assert_eq!(complete("\\format nd"), ["ndjson"]);
        assert_eq!(complete("\\d demo"), ["demo-events"]);
    }
}
