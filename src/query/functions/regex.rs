//! Trino's regexp_extract, regexp_extract_all and regexp_replace (every match, `$1` references); regexp_like is DataFusion's.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, ListBuilder, StringArray, StringBuilder};
use arrow::datatypes::{DataType, Field, Int64Type};
use datafusion::common::{Result, exec_err};
use datafusion::functions::regex::compile_and_cache_regex;
use datafusion::logical_expr::ScalarUDF;

use super::udf::{Udf, arity, integer, text};

pub fn udfs() -> Vec<ScalarUDF> {
    vec![
        Udf::new(
            "regexp_extract",
            extract_args,
            |_| Ok(DataType::Utf8),
            |a| extract(a, false),
        )
        .build(),
        Udf::new(
            "regexp_extract_all",
            extract_args,
            |_| Ok(list_type()),
            |a| extract(a, true),
        )
        .build(),
        Udf::new(
            "regexp_replace",
            replace_args,
            |_| Ok(DataType::Utf8),
            replace,
        )
        .build(),
    ]
}

fn list_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
}

fn extract_args(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    arity(name, types, 2, 3)?;
    let mut out = vec![text(name, &types[0])?, text(name, &types[1])?];
    if let Some(group) = types.get(2) {
        out.push(integer(name, group)?);
    }
    Ok(out)
}

fn replace_args(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    arity(name, types, 2, 3)?;
    types.iter().map(|t| text(name, t)).collect()
}

/// The `group` (0: the whole match) of the first match, or of every match with `all`;
/// NULL when nothing matches (`all`: an empty array).
fn extract(arrays: &[ArrayRef], all: bool) -> Result<ArrayRef> {
    let strings = arrays[0].as_string::<i32>();
    let patterns = arrays[1].as_string::<i32>();
    let groups = arrays.get(2).map(|a| a.as_primitive::<Int64Type>());
    let mut cache = HashMap::new();
    let mut first = StringBuilder::new();
    let mut every = ListBuilder::new(StringBuilder::new());
    for row in 0..strings.len() {
        let group = match groups {
            Some(g) => g.is_valid(row).then(|| g.value(row)),
            None => Some(0),
        };
        let (true, true, Some(group)) = (strings.is_valid(row), patterns.is_valid(row), group)
        else {
            first.append_null();
            every.append_null();
            continue;
        };
        let re = compile_and_cache_regex(patterns.value(row), None, &mut cache)?;
        let count = re.captures_len() as i64 - 1;
        if !(0..=count).contains(&group) {
            return exec_err!("Pattern has {count} groups. Cannot access group {group}");
        }
        let s = strings.value(row);
        if all {
            for caps in re.captures_iter(s) {
                every
                    .values()
                    .append_option(caps.get(group as usize).map(|m| m.as_str()));
            }
            every.append(true);
        } else {
            let found = re.captures(s).and_then(|c| c.get(group as usize));
            first.append_option(found.map(|m| m.as_str()));
        }
    }
    Ok(match all {
        true => Arc::new(every.finish()),
        false => Arc::new(first.finish()),
    })
}

/// Every match replaced (removed when there is no replacement); `$1` or `${name}` in the
/// replacement stands for a group, as in Trino.
fn replace(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let strings = arrays[0].as_string::<i32>();
    let patterns = arrays[1].as_string::<i32>();
    let replacements = arrays.get(2).map(|a| a.as_string::<i32>());
    let mut cache = HashMap::new();
    let mut out = Vec::with_capacity(strings.len());
    for row in 0..strings.len() {
        let replacement = match replacements {
            Some(r) => r.is_valid(row).then(|| r.value(row)),
            None => Some(""),
        };
        let (true, true, Some(replacement)) =
            (strings.is_valid(row), patterns.is_valid(row), replacement)
        else {
            out.push(None);
            continue;
        };
        let re = compile_and_cache_regex(patterns.value(row), None, &mut cache)?;
        out.push(Some(
            re.replace_all(strings.value(row), replacement).into_owned(),
        ));
    }
    Ok(Arc::new(StringArray::from(out)))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{error, one_column, s, value};

    #[tokio::test]
    async fn regexp_extract_gives_the_first_match_or_null() {
        let sql = "SELECT regexp_extract('1a 2b 14m', '\\d+')";
        assert_eq!(value(sql).await, s("1"));
        let sql = "SELECT regexp_extract('1a 2b 14m', '(\\d+)([a-z]+)', 2)";
        assert_eq!(value(sql).await, s("a"));
        let sql = "SELECT regexp_extract('arn:aws:iam::123456789012:user/bob', 'user/(.*)$', 1)";
        assert_eq!(value(sql).await, s("bob"));
        assert_eq!(value("SELECT regexp_extract('abc', '\\d+')").await, None);
        assert_eq!(value("SELECT regexp_extract('ab', '(x)?b', 1)").await, None);
        assert_eq!(value("SELECT regexp_extract(NULL, 'a')").await, None);
        let err = error("SELECT regexp_extract('abc', 'a(b)', 2)").await;
        assert!(
            err.contains("Pattern has 1 groups. Cannot access group 2"),
            "{err}"
        );
        let sql = "SELECT regexp_extract(v, p) FROM (VALUES ('a1', '[0-9]'), ('b2', '[a-z]'), (NULL, 'x')) t(v, p)";
        assert_eq!(one_column(sql).await, vec![s("1"), s("b"), None]);
    }

    #[tokio::test]
    async fn regexp_extract_all_gives_every_match() {
        let sql = "SELECT regexp_extract_all('1a 2b 14m', '\\d+')";
        assert_eq!(value(sql).await, s("[1, 2, 14]"));
        let sql = "SELECT cardinality(regexp_extract_all('abc', '\\d'))";
        assert_eq!(value(sql).await, s("0"));
    }

    #[tokio::test]
    async fn regexp_replace_replaces_every_match() {
        let sql = "SELECT regexp_replace('1a 2b 14m', '\\d+[ab] ')";
        assert_eq!(value(sql).await, s("14m"));
        let sql = "SELECT regexp_replace('1a 2b 14m', '(\\d+)([ab]) ', '3c$2 ')";
        assert_eq!(value(sql).await, s("3ca 3cb 14m"));
        assert_eq!(value("SELECT regexp_replace('a', 'a', NULL)").await, None);
    }

    #[tokio::test]
    async fn regexp_like_finds_a_match_anywhere() {
        assert_eq!(
            value("SELECT regexp_like('1a 2b', '\\d[a-z]')").await,
            s("true")
        );
        assert_eq!(
            value("SELECT regexp_like('1a 2b', '^[a-z]')").await,
            s("false")
        );
    }
}
