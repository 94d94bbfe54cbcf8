//! Trino's date and time functions on the store's UTC timestamps: year..second, day_of_week, date, from/to_unixtime, from_iso8601_*, to_iso8601.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Date32Array, Float64Array, Int64Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Date32Type, Float64Type, TimeUnit, TimestampMillisecondType};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, Timelike, Utc};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::ScalarUDF;

use super::date_arith;
use super::udf::{TIMESTAMP_MS, Udf, arity, text, timestamp};

const YEAR: u8 = 0;
const QUARTER: u8 = 1;
const MONTH: u8 = 2;
const WEEK: u8 = 3;
const DAY: u8 = 4;
const DAY_OF_WEEK: u8 = 5;
const DAY_OF_YEAR: u8 = 6;
const HOUR: u8 = 7;
const MINUTE: u8 = 8;
const SECOND: u8 = 9;
const MILLISECOND: u8 = 10;
const YEAR_OF_WEEK: u8 = 11;

pub fn udfs() -> Vec<ScalarUDF> {
    let part = |name, aliases: &[&str], invoke| {
        Udf::new(name, one_timestamp, |_| Ok(DataType::Int64), invoke)
            .with_aliases(aliases)
            .build()
    };
    let mut udfs = vec![
        part("year", &[], part_of::<YEAR>),
        part("quarter", &[], part_of::<QUARTER>),
        part("month", &[], part_of::<MONTH>),
        part("week", &["week_of_year"], part_of::<WEEK>),
        part("day", &["day_of_month"], part_of::<DAY>),
        part("day_of_week", &["dow"], part_of::<DAY_OF_WEEK>),
        part("day_of_year", &["doy"], part_of::<DAY_OF_YEAR>),
        part("hour", &[], part_of::<HOUR>),
        part("minute", &[], part_of::<MINUTE>),
        part("second", &[], part_of::<SECOND>),
        part("millisecond", &[], part_of::<MILLISECOND>),
        part("year_of_week", &["yow"], part_of::<YEAR_OF_WEEK>),
        Udf::new(
            "date",
            date_args,
            |_| Ok(DataType::Date32),
            |a| Ok(cast(&a[0], &DataType::Date32)?),
        )
        .build(),
        Udf::new("from_unixtime", number, |_| Ok(TIMESTAMP_MS), from_unixtime).build(),
        Udf::new(
            "to_unixtime",
            one_timestamp,
            |_| Ok(DataType::Float64),
            to_unixtime,
        )
        .build(),
        Udf::new("to_iso8601", iso_args, |_| Ok(DataType::Utf8), to_iso8601).build(),
        Udf::new(
            "from_iso8601_timestamp",
            one_text,
            |_| Ok(TIMESTAMP_MS),
            |a| from_iso8601(a, false),
        )
        .build(),
        Udf::new(
            "from_iso8601_date",
            one_text,
            |_| Ok(DataType::Date32),
            |a| from_iso8601(a, true),
        )
        .build(),
    ];
    udfs.extend(date_arith::udfs());
    udfs
}

fn one_timestamp(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    arity(name, types, 1, 1)?;
    Ok(vec![timestamp(name, &types[0])?])
}

fn one_text(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    arity(name, types, 1, 1)?;
    Ok(vec![text(name, &types[0])?])
}

fn number(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    arity(name, types, 1, 1)?;
    match &types[0] {
        t if t.is_numeric() || t.is_null() => Ok(vec![DataType::Float64]),
        other => plan_err!("{name} expects a number of seconds, got {other}"),
    }
}

/// `date(x)`: a timestamp's UTC date, or text such as `2023-01-22` read as a date.
fn date_args(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    arity(name, types, 1, 1)?;
    match &types[0] {
        DataType::Timestamp(..) | DataType::Date32 => Ok(vec![types[0].clone()]),
        DataType::Date64 => Ok(vec![DataType::Date32]),
        t => Ok(vec![text(name, t)?]),
    }
}

/// A timestamp keeps its zone (it decides the `Z` suffix); a date stays a date.
fn iso_args(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    arity(name, types, 1, 1)?;
    match &types[0] {
        DataType::Timestamp(_, zone) => Ok(vec![DataType::Timestamp(
            TimeUnit::Millisecond,
            zone.clone(),
        )]),
        DataType::Date32 | DataType::Date64 => Ok(vec![DataType::Date32]),
        DataType::Null => Ok(vec![TIMESTAMP_MS]),
        other => plan_err!("{name} expects a timestamp or a date, got {other}"),
    }
}

fn utc(ms: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp_millis(ms).map(|t| t.naive_utc())
}

fn part_of<const PART: u8>(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let times = arrays[0].as_primitive::<TimestampMillisecondType>();
    let out: Int64Array = times
        .iter()
        .map(|ms| {
            let t = utc(ms?)?;
            Some(match PART {
                YEAR => t.year() as i64,
                QUARTER => (t.month0() / 3 + 1) as i64,
                MONTH => t.month() as i64,
                WEEK => t.iso_week().week() as i64,
                DAY => t.day() as i64,
                DAY_OF_WEEK => t.weekday().number_from_monday() as i64,
                DAY_OF_YEAR => t.ordinal() as i64,
                HOUR => t.hour() as i64,
                MINUTE => t.minute() as i64,
                SECOND => t.second() as i64,
                MILLISECOND => (t.nanosecond() / 1_000_000) as i64,
                _ => t.iso_week().year() as i64,
            })
        })
        .collect();
    Ok(Arc::new(out))
}

/// `from_unixtime(seconds)`: seconds since 1970 (fractions kept to the millisecond).
fn from_unixtime(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let seconds = arrays[0].as_primitive::<Float64Type>();
    let ms: Int64Array = seconds
        .iter()
        .map(|s| s.map(|s| (s * 1000.0).round() as i64))
        .collect();
    Ok(cast(&ms, &TIMESTAMP_MS)?)
}

/// `to_unixtime(timestamp)`: seconds since 1970 as a double, milliseconds as the fraction.
fn to_unixtime(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let times = arrays[0].as_primitive::<TimestampMillisecondType>();
    let out: Float64Array = times
        .iter()
        .map(|ms| ms.map(|ms| ms as f64 / 1000.0))
        .collect();
    Ok(Arc::new(out))
}

/// `to_iso8601(x)`: `2023-01-22T16:53:53.000` (with `Z` when the timestamp has a zone), or
/// `2023-01-22` for a date.
fn to_iso8601(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let out: StringArray = match arrays[0].data_type() {
        DataType::Date32 => arrays[0]
            .as_primitive::<Date32Type>()
            .iter()
            .map(|d| Some(Date32Type::to_naive_date_opt(d?)?.to_string()))
            .collect(),
        DataType::Timestamp(_, zone) => {
            let suffix = if zone.is_some() { "Z" } else { "" };
            arrays[0]
                .as_primitive::<TimestampMillisecondType>()
                .iter()
                .map(|ms| {
                    let t = utc(ms?)?;
                    Some(format!("{}{suffix}", t.format("%Y-%m-%dT%H:%M:%S%.3f")))
                })
                .collect()
        }
        other => return exec_err!("to_iso8601 cannot format a {other}"),
    };
    Ok(Arc::new(out))
}

/// from_iso8601_timestamp (`2023-01-22T16:53:53.5+01:00`, `...Z`, `2023-01-22T16:53`,
/// `2023-01-22`; no zone means UTC) and from_iso8601_date (`2023-01-22`).
fn from_iso8601(arrays: &[ArrayRef], date_only: bool) -> Result<ArrayRef> {
    let texts = arrays[0].as_string::<i32>();
    let mut ms = Vec::with_capacity(texts.len());
    for text in texts.iter() {
        let Some(text) = text else {
            ms.push(None);
            continue;
        };
        let parsed = if date_only {
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
        } else {
            parse_iso8601(text.trim())
        };
        match parsed {
            Some(t) => ms.push(Some(t.timestamp_millis())),
            None => return exec_err!("Invalid format: \"{text}\""),
        }
    }
    let ms = Int64Array::from(ms);
    if date_only {
        let days: Date32Array = ms
            .iter()
            .map(|m| m.map(|m| (m / 86_400_000) as i32))
            .collect();
        return Ok(Arc::new(days));
    }
    Ok(cast(&ms, &TIMESTAMP_MS)?)
}

fn parse_iso8601(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    let (local, offset) = split_zone(text)?;
    let naive = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(local, f).ok())
        .or_else(|| {
            let hour = local
                .split_once('T')
                .map(|(d, h)| (d, h.parse::<u32>().ok()));
            match hour {
                Some((d, Some(h))) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .ok()?
                    .and_hms_opt(h, 0, 0),
                Some((_, None)) => None,
                None => NaiveDate::parse_from_str(local, "%Y-%m-%d")
                    .ok()?
                    .and_hms_opt(0, 0, 0),
            }
        })?;
    Some(
        naive
            .and_local_timezone(offset)
            .single()?
            .with_timezone(&Utc),
    )
}

/// The local part and the zone of an ISO 8601 text (`Z`, `+01`, `+0100`, `+01:00`, or none: UTC).
fn split_zone(text: &str) -> Option<(&str, FixedOffset)> {
    if let Some(local) = text.strip_suffix('Z') {
        return Some((local, FixedOffset::east_opt(0)?));
    }
    let time_at = text.find('T').unwrap_or(text.len());
    let Some(sign_at) = text[time_at..].rfind(['+', '-']).map(|i| i + time_at) else {
        return Some((text, FixedOffset::east_opt(0)?));
    };
    let digits: String = text[sign_at + 1..].chars().filter(|c| *c != ':').collect();
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i32>().ok()?, 0),
        4 => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    let seconds = (h * 3600 + m * 60)
        * if text[sign_at..].starts_with('-') {
            -1
        } else {
            1
        };
    Some((&text[..sign_at], FixedOffset::east_opt(seconds)?))
}

#[cfg(test)]
#[path = "datetime_tests.rs"]
mod tests;
