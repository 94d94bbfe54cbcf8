//! Trino's JSON functions on JSON text (varchar): json_extract_scalar, json_extract, json_array_*, json_parse, json_format, json_size, is_json_scalar.
//!
//! JSON values are `Utf8` text (DataFusion has no JSON type). As in Trino, the extraction
//! functions give NULL for text that is not JSON and for paths that name nothing, while
//! json_parse, json_format and is_json_scalar fail on text that is not JSON, and a malformed
//! path fails the query.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Int64Array, Int64Builder, StringArray, StringBuilder,
};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{Result, exec_datafusion_err, exec_err};
use datafusion::logical_expr::ScalarUDF;
use serde_json::Value;

use super::json_path::JsonPath;
use super::udf::{Udf, arity, integer, text};

pub fn udfs() -> Vec<ScalarUDF> {
    vec![
        Udf::new("json_extract_scalar", json_and_path, utf8, |a| {
            at_path(a, scalar_text).map(strings)
        })
        .build(),
        Udf::new("json_extract", json_and_path, utf8, |a| {
            at_path(a, |v| Some(v.to_string())).map(strings)
        })
        .build(),
        Udf::new("json_size", json_and_path, int64, |a| {
            let sizes = at_path(a, |v| Some(size(v) as i64))?;
            Ok(Arc::new(Int64Array::from(sizes)) as ArrayRef)
        })
        .build(),
        Udf::new("json_array_get", json_and_index, utf8, json_array_get).build(),
        Udf::new("json_array_length", json_only, int64, json_array_length).build(),
        Udf::new(
            "json_array_contains",
            json_and_value,
            boolean,
            json_array_contains,
        )
        .build(),
        Udf::new("json_parse", json_only, utf8, |a| reformat(a, true)).build(),
        Udf::new("json_format", json_only, utf8, |a| reformat(a, false)).build(),
        Udf::new("is_json_scalar", json_only, boolean, is_json_scalar).build(),
    ]
}

fn utf8(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Utf8)
}

fn int64(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Int64)
}

fn boolean(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Boolean)
}

fn json_only(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    arity(name, types, 1, 1)?;
    Ok(vec![text(name, &types[0])?])
}

fn json_and_path(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    arity(name, types, 2, 2)?;
    Ok(vec![text(name, &types[0])?, text(name, &types[1])?])
}

fn json_and_index(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    arity(name, types, 2, 2)?;
    Ok(vec![text(name, &types[0])?, integer(name, &types[1])?])
}

fn json_and_value(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    arity(name, types, 2, 2)?;
    let value = match &types[1] {
        DataType::Boolean => DataType::Boolean,
        t if t.is_integer() => DataType::Int64,
        t if t.is_floating()
            || matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..)) =>
        {
            DataType::Float64
        }
        t => text(name, t)?,
    };
    Ok(vec![text(name, &types[0])?, value])
}

/// The JSON document in `text`, or `None` when it is not JSON.
fn parse(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

/// A scalar as Trino's json_extract_scalar shows it; objects, arrays and null give NULL.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

fn size(value: &Value) -> usize {
    match value {
        Value::Array(items) => items.len(),
        Value::Object(map) => map.len(),
        _ => 0,
    }
}

/// `pick` applied to the value each row's path names in its document.
fn at_path<T>(arrays: &[ArrayRef], pick: fn(&Value) -> Option<T>) -> Result<Vec<Option<T>>> {
    let docs = arrays[0].as_string::<i32>();
    let paths = arrays[1].as_string::<i32>();
    let mut out = Vec::with_capacity(docs.len());
    // The path is nearly always a literal: parse it once per run of equal paths.
    let mut cached: Option<(&str, JsonPath)> = None;
    for (doc, path) in docs.iter().zip(paths.iter()) {
        let (Some(doc), Some(path)) = (doc, path) else {
            out.push(None);
            continue;
        };
        let json_path = match &cached {
            Some((text, parsed)) if *text == path => parsed,
            _ => {
                let parsed = path
                    .parse()
                    .map_err(|e: String| exec_datafusion_err!("{e}"))?;
                &cached.insert((path, parsed)).1
            }
        };
        out.push(
            parse(doc)
                .as_ref()
                .and_then(|v| json_path.find(v))
                .and_then(pick),
        );
    }
    Ok(out)
}

fn strings(values: Vec<Option<String>>) -> ArrayRef {
    Arc::new(StringArray::from(values))
}

/// `json_array_get(json, index)`: the element at a 0-based index (from the end when
/// negative). As in Trino, a string element is given without its quotes.
fn json_array_get(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let docs = arrays[0].as_string::<i32>();
    let indexes = arrays[1].as_primitive::<Int64Type>();
    let out: StringArray = docs
        .iter()
        .zip(indexes.iter())
        .map(|(doc, index)| {
            let Value::Array(items) = parse(doc?)? else {
                return None;
            };
            let index = index?;
            let at = if index < 0 {
                items.len().checked_sub(index.unsigned_abs() as usize)?
            } else {
                index as usize
            };
            match items.get(at)? {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            }
        })
        .collect();
    Ok(Arc::new(out))
}

fn json_array_length(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let docs = arrays[0].as_string::<i32>();
    let mut out = Int64Builder::with_capacity(docs.len());
    for doc in docs.iter() {
        out.append_option(match doc.and_then(parse) {
            Some(Value::Array(items)) => Some(items.len() as i64),
            _ => None,
        });
    }
    Ok(Arc::new(out.finish()))
}

/// `json_array_contains(json, value)`: whether the array holds an element equal to `value`
/// (a boolean, number or string); NULL when the text is not a JSON array.
fn json_array_contains(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let docs = arrays[0].as_string::<i32>();
    let needle = &arrays[1];
    let mut out = BooleanBuilder::with_capacity(docs.len());
    for (row, doc) in docs.iter().enumerate() {
        let items = match doc.and_then(parse) {
            Some(Value::Array(items)) if needle.is_valid(row) => items,
            _ => {
                out.append_null();
                continue;
            }
        };
        let found = match needle.data_type() {
            DataType::Boolean => {
                let b = needle.as_boolean().value(row);
                items.iter().any(|v| v.as_bool() == Some(b))
            }
            DataType::Int64 => {
                let n = needle.as_primitive::<Int64Type>().value(row);
                items.iter().any(|v| v.as_i64() == Some(n))
            }
            DataType::Float64 => {
                let n = needle.as_primitive::<Float64Type>().value(row);
                items.iter().any(|v| v.as_f64() == Some(n))
            }
            DataType::Utf8 => {
                let s = needle.as_string::<i32>().value(row);
                items.iter().any(|v| v.as_str() == Some(s))
            }
            other => return exec_err!("json_array_contains cannot look for a {other}"),
        };
        out.append_value(found);
    }
    Ok(Arc::new(out.finish()))
}

/// json_parse (keys sorted, as Trino's canonical JSON) and json_format: compact JSON text.
fn reformat(arrays: &[ArrayRef], sort_keys: bool) -> Result<ArrayRef> {
    let docs = arrays[0].as_string::<i32>();
    let mut out = StringBuilder::with_capacity(docs.len(), 0);
    for doc in docs.iter() {
        let Some(doc) = doc else {
            out.append_null();
            continue;
        };
        let mut value = strict_parse(doc)?;
        if sort_keys {
            sort_all_keys(&mut value);
        }
        out.append_value(value.to_string());
    }
    Ok(Arc::new(out.finish()))
}

fn is_json_scalar(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let docs = arrays[0].as_string::<i32>();
    let mut out = BooleanBuilder::with_capacity(docs.len());
    for doc in docs.iter() {
        match doc {
            Some(doc) => out.append_value(!matches!(
                strict_parse(doc)?,
                Value::Array(_) | Value::Object(_)
            )),
            None => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// Parses JSON text that must be JSON; the error quotes (the start of) the text.
fn strict_parse(doc: &str) -> Result<Value> {
    serde_json::from_str(doc).or_else(|e| {
        let shown: String = doc.chars().take(80).collect();
        exec_err!("Cannot convert value to JSON: '{shown}': {e}")
    })
}

fn sort_all_keys(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.sort_keys();
            map.values_mut().for_each(sort_all_keys);
        }
        Value::Array(items) => items.iter_mut().for_each(sort_all_keys),
        _ => {}
    }
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
