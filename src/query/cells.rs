//! One Arrow cell as Lake shows it: a JSON value (maps and structs as objects) or CSV text.

use std::borrow::Cow;

use arrow::array::{Array, AsArray};
use std::sync::OnceLock;

use arrow::datatypes::{DataType, Float16Type, Float32Type, Float64Type};
use arrow::datatypes::{Int8Type, Int16Type, Int32Type, Int64Type};
use arrow::datatypes::{TimeUnit, TimestampMillisecondType};
use arrow::datatypes::{UInt8Type, UInt16Type, UInt32Type, UInt64Type};
use arrow::error::ArrowError;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use chrono::format::{Item, StrftimeItems};
use chrono::{Datelike, NaiveDateTime, Timelike};
use serde_json::{Map, Number, Value};

/// Lake prints timestamps as `2023-01-22 16:53:53.000` (UTC, no zone, milliseconds).
pub const LAKE_TIMESTAMP_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.3f";

/// Display options for values printed as text: Lake timestamps, NULL as an empty cell.
pub fn format_options() -> FormatOptions<'static> {
    FormatOptions::new()
        .with_null("")
        .with_timestamp_format(Some(LAKE_TIMESTAMP_FORMAT))
        .with_timestamp_tz_format(Some(LAKE_TIMESTAMP_FORMAT))
}

/// [`LAKE_TIMESTAMP_FORMAT`], parsed once.
fn lake_timestamp_items() -> &'static [Item<'static>] {
    static ITEMS: OnceLock<Vec<Item<'static>>> = OnceLock::new();
    ITEMS.get_or_init(|| StrftimeItems::new(LAKE_TIMESTAMP_FORMAT).collect())
}

/// `time` as [`LAKE_TIMESTAMP_FORMAT`] writes it.
fn lake_timestamp(time: NaiveDateTime) -> String {
    let mut text = String::with_capacity(23);
    push_lake_timestamp(&mut text, time);
    text
}

/// Appends `time` as [`LAKE_TIMESTAMP_FORMAT`] writes it, digit by digit for years 0 to 9999
/// (chrono's formatter costs more than the rest of a row's output).
fn push_lake_timestamp(out: &mut String, time: NaiveDateTime) {
    let year = time.year();
    if !(0..=9999).contains(&year) {
        use std::fmt::Write;
        let _ = write!(
            out,
            "{}",
            time.format_with_items(lake_timestamp_items().iter())
        );
        return;
    }
    let digits = |out: &mut String, value: u32, width: u32| {
        for place in (0..width).rev() {
            out.push(char::from(b'0' + (value / 10u32.pow(place) % 10) as u8));
        }
    };
    digits(out, year as u32, 4);
    out.push('-');
    digits(out, time.month(), 2);
    out.push('-');
    digits(out, time.day(), 2);
    out.push(' ');
    digits(out, time.hour(), 2);
    out.push(':');
    digits(out, time.minute(), 2);
    out.push(':');
    digits(out, time.second(), 2);
    out.push('.');
    digits(out, time.nanosecond() / 1_000_000 % 1000, 3);
}

/// Appends a timestamp of `ms` milliseconds since the epoch (UTC) as Lake prints it; false,
/// and nothing appended, when it is out of chrono's range.
pub fn push_lake_millis(out: &mut String, ms: i64) -> bool {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(time) => {
            push_lake_timestamp(out, time.naive_utc());
            true
        }
        None => false,
    }
}

/// The text of a scalar cell, as the table format would show it.
fn display(array: &dyn Array, row: usize) -> Result<Cow<'_, str>, ArrowError> {
    // The common cells directly; a formatter per cell would parse the time format each time.
    match array.data_type() {
        DataType::Utf8 => return Ok(Cow::Borrowed(array.as_string::<i32>().value(row))),
        DataType::Utf8View => return Ok(Cow::Borrowed(array.as_string_view().value(row))),
        DataType::Timestamp(TimeUnit::Millisecond, None) => {
            let ms = array.as_primitive::<TimestampMillisecondType>().value(row);
            if let Some(time) = chrono::DateTime::from_timestamp_millis(ms) {
                return Ok(Cow::Owned(lake_timestamp(time.naive_utc())));
            }
        }
        _ => {}
    }
    let options = format_options();
    Ok(Cow::Owned(
        ArrayFormatter::try_new(array, &options)?
            .value(row)
            .to_string(),
    ))
}

fn float(value: f64) -> Value {
    Number::from_f64(value).map_or_else(|| Value::String(value.to_string()), Value::Number)
}

/// The cell at `row` as JSON: numbers and booleans as themselves, strings, structs as
/// objects, maps as objects keyed by the key's text, lists as arrays, and everything else
/// (timestamps, dates, decimals, binary) as the text the table format shows.
pub fn json_value(array: &dyn Array, row: usize) -> Result<Value, ArrowError> {
    if array.is_null(row) {
        return Ok(Value::Null);
    }
    Ok(match array.data_type() {
        DataType::Null => Value::Null,
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Int8 => array.as_primitive::<Int8Type>().value(row).into(),
        DataType::Int16 => array.as_primitive::<Int16Type>().value(row).into(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(row).into(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).into(),
        DataType::UInt8 => array.as_primitive::<UInt8Type>().value(row).into(),
        DataType::UInt16 => array.as_primitive::<UInt16Type>().value(row).into(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(row).into(),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(row).into(),
        DataType::Float16 => float(array.as_primitive::<Float16Type>().value(row).to_f64()),
        DataType::Float32 => float(array.as_primitive::<Float32Type>().value(row).into()),
        DataType::Float64 => float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Utf8 => array.as_string::<i32>().value(row).into(),
        DataType::LargeUtf8 => array.as_string::<i64>().value(row).into(),
        DataType::Utf8View => array.as_string_view().value(row).into(),
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let mut object = Map::with_capacity(fields.len());
            for (field, column) in fields.iter().zip(s.columns()) {
                object.insert(field.name().clone(), json_value(column, row)?);
            }
            Value::Object(object)
        }
        DataType::Map(..) => {
            let entries = array.as_map().value(row);
            let (keys, values) = (entries.column(0), entries.column(1));
            let mut object = Map::with_capacity(entries.len());
            for i in 0..entries.len() {
                let key = match json_value(keys, i)? {
                    Value::String(k) => k,
                    other => other.to_string(),
                };
                object.insert(key, json_value(values, i)?);
            }
            Value::Object(object)
        }
        DataType::List(_) => list(&array.as_list::<i32>().value(row))?,
        DataType::LargeList(_) => list(&array.as_list::<i64>().value(row))?,
        DataType::FixedSizeList(..) => list(&array.as_fixed_size_list().value(row))?,
        _ => Value::String(display(array, row)?.into_owned()),
    })
}

fn list(items: &dyn Array) -> Result<Value, ArrowError> {
    (0..items.len())
        .map(|i| json_value(items, i))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

/// The cell at `row` as CSV text (before quoting): empty for NULL, nested values as
/// compact JSON, everything else as the table format shows it.
pub fn text_value(array: &dyn Array, row: usize) -> Result<Cow<'_, str>, ArrowError> {
    if array.is_null(row) {
        return Ok(Cow::Borrowed(""));
    }
    match array.data_type() {
        DataType::Struct(_)
        | DataType::Map(..)
        | DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(..) => Ok(Cow::Owned(json_value(array, row)?.to_string())),
        _ => display(array, row),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{
        ArrayRef, Int64Array, MapBuilder, StringArray, StringBuilder, StructArray,
        TimestampMillisecondArray,
    };
    use arrow::datatypes::Field;
    use serde_json::json;
    use std::sync::Arc;

    #[test]
    fn timestamps_print_like_lake() {
        let ts = TimestampMillisecondArray::from(vec![1_674_406_433_007, -1]);
        assert_eq!(text_value(&ts, 0).unwrap(), "2023-01-22 16:53:53.007");
        assert_eq!(
            json_value(&ts, 0).unwrap(),
            json!("2023-01-22 16:53:53.007")
        );
        assert_eq!(text_value(&ts, 1).unwrap(), "1969-12-31 23:59:59.999");
        // Other units and zones take the general formatter, with the same format.
        let seconds = arrow::array::TimestampSecondArray::from(vec![1_674_406_433]);
        assert_eq!(text_value(&seconds, 0).unwrap(), "2023-01-22 16:53:53.000");
    }

    #[test]
    fn timestamps_written_by_digits_match_the_format() {
        let step = 7_919_993_337; // about three months, and every millisecond digit
        for ms in (-70_000_000_000_000i64..300_000_000_000_000).step_by(step) {
            let time = chrono::DateTime::from_timestamp_millis(ms)
                .unwrap()
                .naive_utc();
            let expected = time.format(LAKE_TIMESTAMP_FORMAT).to_string();
            assert_eq!(lake_timestamp(time), expected, "{ms}");
        }
    }

    #[test]
    fn maps_and_structs_become_objects() {
        let mut b = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
        b.keys().append_value("visibility");
        b.values().append_value("public");
        b.append(true).unwrap();
        b.append(false).unwrap();
        let map: ArrayRef = Arc::new(b.finish());
        let n: ArrayRef = Arc::new(Int64Array::from(vec![7, 8]));
        let s = StructArray::from(vec![
            (Arc::new(Field::new("n", DataType::Int64, true)), n),
            (
                Arc::new(Field::new("m", map.data_type().clone(), true)),
                map,
            ),
        ]);
        assert_eq!(
            json_value(&s, 0).unwrap(),
            json!({"n": 7, "m": {"visibility": "public"}})
        );
        assert_eq!(json_value(&s, 1).unwrap(), json!({"n": 8, "m": null}));
        assert_eq!(
            text_value(&s, 0).unwrap(),
            r#"{"n":7,"m":{"visibility":"public"}}"#
        );
    }

    #[test]
    fn null_is_json_null_and_empty_text() {
        let s = StringArray::from(vec![None::<&str>]);
        assert_eq!(json_value(&s, 0).unwrap(), Value::Null);
        assert_eq!(text_value(&s, 0).unwrap(), "");
    }
}
