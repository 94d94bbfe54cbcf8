//! Planning errors said in a Lake user's terms: a dot path with a field that is not there
//! names the struct and lists the fields it does have.

use arrow::datatypes::{DataType, Field, SchemaRef};

/// The field DataFusion's "Field x not found in struct" is about.
pub fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("Field ")?
        .strip_suffix(" not found in struct")
}

/// For a path `parent.missing` written in `sql` whose `parent` is a struct in one of
/// `schemas`: which path it was, and the fields `parent` has.
pub fn missing_field_hint(sql: &str, missing: &str, schemas: &[SchemaRef]) -> Option<String> {
    for (parent, written) in parents_of(sql, missing) {
        let segments: Vec<&str> = parent.split('.').collect();
        // The path may start with a table name or alias: try it from each segment on.
        for start in 0..segments.len() {
            let path = &segments[start..];
            if let Some(fields) = schemas.iter().find_map(|s| struct_fields(s, path)) {
                let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
                return Some(format!(
                    "`{written}`: {} has no field `{missing}`; its fields are {}",
                    path.join("."),
                    names.join(", ")
                ));
            }
        }
    }
    None
}

/// Each dotted path written right before a `.missing` in `sql` (case-insensitive), with the
/// whole path as written.
fn parents_of<'s>(sql: &'s str, missing: &str) -> Vec<(&'s str, &'s str)> {
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let bytes = sql.as_bytes();
    let lower = sql.to_ascii_lowercase();
    let wanted = format!(".{}", missing.to_ascii_lowercase());
    let mut parents = Vec::new();
    for (at, _) in lower.match_indices(&wanted) {
        let end = at + wanted.len();
        if bytes.get(end).copied().is_some_and(is_ident) {
            continue;
        }
        let mut start = at;
        while start > 0 && (is_ident(bytes[start - 1]) || bytes[start - 1] == b'.') {
            start -= 1;
        }
        let parent = sql[start..at].trim_matches('.');
        if !parent.is_empty() {
            parents.push((parent, sql[start..end].trim_start_matches('.')));
        }
    }
    parents
}

/// The fields of the struct at `path` (names matched ignoring case) in `schema`.
fn struct_fields<'a>(schema: &'a SchemaRef, path: &[&str]) -> Option<&'a [std::sync::Arc<Field>]> {
    let (first, rest) = path.split_first()?;
    let mut field = schema
        .fields()
        .iter()
        .find(|f| f.name().eq_ignore_ascii_case(first))?;
    for name in rest {
        let DataType::Struct(children) = field.data_type() else {
            return None;
        };
        field = children
            .iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))?;
    }
    match field.data_type() {
        DataType::Struct(children) => Some(children),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::schema::integration_schema;

    #[test]
    fn a_missing_field_lists_what_its_struct_has() {
        let schemas = [integration_schema()];
        let sql =
            "SELECT e.eventData.userIdentity.principalID, eventData.userIdentity.nope FROM x e";
        let hint = missing_field_hint(sql, "nope", &schemas).unwrap();
        assert_eq!(
            hint,
            "`eventData.userIdentity.nope`: eventData.userIdentity has no field `nope`; \
             its fields are type, principalid, details"
        );
        let aliased = missing_field_hint("SELECT e.eventdata.Nosuch FROM x e", "nosuch", &schemas);
        assert!(
            aliased.unwrap().starts_with("`e.eventdata.Nosuch`: eventdata has no field `nosuch`; its fields are version, useridentity,")
        );
        assert_eq!(
            missing_field("Field nope not found in struct"),
            Some("nope")
        );
        // A name that is no struct of the schemas gives no hint.
        assert_eq!(
            missing_field_hint("SELECT a.nope FROM x", "nope", &schemas),
            None
        );
        assert_eq!(
            missing_field_hint("SELECT eventdata.nopeX FROM x", "nope", &schemas),
            None
        );
    }
}
