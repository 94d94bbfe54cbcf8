//! Trino's date_add('unit', n, x) and date_diff('unit', x1, x2) on timestamps (milliseconds, UTC) and dates.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Date32Array, Int64Array, TimestampMillisecondArray};
use arrow::datatypes::{DataType, Date32Type, Int64Type, TimestampMillisecondType};
use chrono::{DateTime, Months, NaiveDateTime};
use datafusion::common::{Result, exec_datafusion_err, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::udf::{TIMESTAMP_MS, Udf, arity, integer, text};

const DAY_MS: i64 = 86_400_000;

pub fn udfs() -> Vec<ScalarUDF> {
    vec![
        Udf::new("date_add", add_args, |t| Ok(t[2].clone()), date_add).build(),
        Udf::new("date_diff", diff_args, |_| Ok(DataType::Int64), date_diff).build(),
    ]
}

/// A date stays a date; anything else is read as a timestamp in milliseconds.
fn time_type(name: &str, t: &DataType) -> Result<DataType> {
    match t {
        DataType::Date32 | DataType::Date64 => Ok(DataType::Date32),
        t => super::udf::timestamp(name, t),
    }
}

fn add_args(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    arity(name, types, 3, 3)?;
    Ok(vec![
        text(name, &types[0])?,
        integer(name, &types[1])?,
        time_type(name, &types[2])?,
    ])
}

fn diff_args(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    arity(name, types, 3, 3)?;
    let (a, b) = (time_type(name, &types[1])?, time_type(name, &types[2])?);
    let both = if a == b { a } else { TIMESTAMP_MS };
    Ok(vec![text(name, &types[0])?, both.clone(), both])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    /// A fixed length in milliseconds.
    Fixed(i64),
    /// A number of calendar months.
    Months(u32),
}

fn unit(text: &str, date: bool) -> Result<Unit> {
    let lower = text.trim().to_ascii_lowercase();
    let unit = match lower.strip_suffix('s').unwrap_or(&lower) {
        "millisecond" if !date => Unit::Fixed(1),
        "second" if !date => Unit::Fixed(1000),
        "minute" if !date => Unit::Fixed(60_000),
        "hour" if !date => Unit::Fixed(3_600_000),
        "day" => Unit::Fixed(DAY_MS),
        "week" => Unit::Fixed(7 * DAY_MS),
        "month" => Unit::Months(1),
        "quarter" => Unit::Months(3),
        "year" => Unit::Months(12),
        _ if date => return exec_err!("'{text}' is not a valid DATE field"),
        _ => return exec_err!("'{text}' is not a valid TIMESTAMP field"),
    };
    Ok(unit)
}

/// Reads the unit of each row (nearly always one literal: parsed once per run).
struct Units<'a> {
    last: Option<(&'a str, Unit)>,
    date: bool,
}

impl<'a> Units<'a> {
    fn get(&mut self, text: &'a str) -> Result<Unit> {
        match self.last {
            Some((t, u)) if t == text => Ok(u),
            _ => {
                let u = unit(text, self.date)?;
                self.last = Some((text, u));
                Ok(u)
            }
        }
    }
}

fn naive(ms: i64) -> Result<NaiveDateTime> {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.naive_utc())
        .ok_or_else(|| exec_datafusion_err!("timestamp out of range: {ms} ms"))
}

/// `ms` moved by `n` units; months clamp to the end of the month (Jan 31 + 1 month = Feb 28).
fn add(ms: i64, n: i64, unit: Unit) -> Result<i64> {
    let out = match unit {
        Unit::Fixed(len) => n.checked_mul(len).and_then(|d| ms.checked_add(d)),
        Unit::Months(len) => {
            let months = u32::try_from(n.unsigned_abs())
                .ok()
                .and_then(|m| m.checked_mul(len));
            let t = naive(ms)?;
            months
                .and_then(|m| match n < 0 {
                    true => t.checked_sub_months(Months::new(m)),
                    false => t.checked_add_months(Months::new(m)),
                })
                .map(|t| t.and_utc().timestamp_millis())
        }
    };
    out.ok_or_else(|| exec_datafusion_err!("date_add overflows: {n} units from {ms} ms"))
}

/// Whole units from `a` to `b`, truncated toward zero.
fn diff(a: i64, b: i64, unit: Unit) -> Result<i64> {
    match unit {
        Unit::Fixed(len) => Ok((b - a) / len),
        Unit::Months(len) => {
            let (ta, tb) = (naive(a)?, naive(b)?);
            use chrono::Datelike;
            let mut months =
                (tb.year() as i64 - ta.year() as i64) * 12 + tb.month() as i64 - ta.month() as i64;
            // Count a month only once it is complete: a + months must not pass b.
            if months > 0 && add(a, months, Unit::Months(1))? > b {
                months -= 1;
            } else if months < 0 && add(a, months, Unit::Months(1))? < b {
                months += 1;
            }
            Ok(months / len as i64)
        }
    }
}

fn millis(array: &ArrayRef) -> Vec<Option<i64>> {
    match array.data_type() {
        DataType::Date32 => array
            .as_primitive::<Date32Type>()
            .iter()
            .map(|d| d.map(|d| d as i64 * DAY_MS))
            .collect(),
        _ => array
            .as_primitive::<TimestampMillisecondType>()
            .iter()
            .collect(),
    }
}

fn date_add(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let units_text = arrays[0].as_string::<i32>();
    let counts = arrays[1].as_primitive::<Int64Type>();
    let is_date = arrays[2].data_type() == &DataType::Date32;
    let mut units = Units {
        last: None,
        date: is_date,
    };
    let mut out = Vec::with_capacity(counts.len());
    for (row, ms) in millis(&arrays[2]).into_iter().enumerate() {
        out.push(match (units_text.is_valid(row), counts.is_valid(row), ms) {
            (true, true, Some(ms)) => {
                let unit = units.get(units_text.value(row))?;
                Some(add(ms, counts.value(row), unit)?)
            }
            _ => None,
        });
    }
    if is_date {
        let days: Date32Array = out.iter().map(|m| m.map(|m| (m / DAY_MS) as i32)).collect();
        return Ok(Arc::new(days));
    }
    Ok(Arc::new(TimestampMillisecondArray::from(out)))
}

fn date_diff(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let units_text = arrays[0].as_string::<i32>();
    let is_date = arrays[1].data_type() == &DataType::Date32;
    let mut units = Units {
        last: None,
        date: is_date,
    };
    let (from, to) = (millis(&arrays[1]), millis(&arrays[2]));
    let mut out = Vec::with_capacity(from.len());
    for (row, (a, b)) in from.into_iter().zip(to).enumerate() {
        out.push(match (units_text.is_valid(row), a, b) {
            (true, Some(a), Some(b)) => Some(diff(a, b, units.get(units_text.value(row))?)?),
            _ => None,
        });
    }
    Ok(Arc::new(Int64Array::from(out)))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{error, s, value};

    const T: &str = "CAST('2023-01-31 10:30:00' AS TIMESTAMP)";

    #[tokio::test]
    async fn date_add_moves_timestamps_and_dates() {
        for (args, want) in [
            ("'hour', 2", "2023-01-31T12:30:00"),
            ("'minute', -45", "2023-01-31T09:45:00"),
            ("'day', 1", "2023-02-01T10:30:00"),
            ("'week', -1", "2023-01-24T10:30:00"),
            ("'month', 1", "2023-02-28T10:30:00"),
            ("'quarter', -1", "2022-10-31T10:30:00"),
            ("'year', 1", "2024-01-31T10:30:00"),
            ("'millisecond', 5", "2023-01-31T10:30:00.005"),
        ] {
            let sql = format!("SELECT date_add({args}, {T})");
            assert_eq!(value(&sql).await, s(want), "{args}");
        }
        let sql = "SELECT date_add('day', 3, DATE '2024-02-27')";
        assert_eq!(value(sql).await, s("2024-03-01"));
        assert_eq!(
            value("SELECT arrow_typeof(date_add('day', 1, DATE '2024-02-27'))").await,
            s("Date32")
        );
        assert_eq!(
            value(&format!("SELECT date_add('day', NULL, {T})")).await,
            None
        );
        assert!(
            error("SELECT date_add('hour', 1, DATE '2024-02-27')")
                .await
                .contains("not a valid DATE field")
        );
        assert!(
            error(&format!("SELECT date_add('fortnight', 1, {T})"))
                .await
                .contains("not a valid TIMESTAMP field")
        );
    }

    #[tokio::test]
    async fn date_diff_counts_whole_units_from_the_first_to_the_second() {
        for (args, want) in [
            (
                "'hour', TIMESTAMP '2023-01-31 10:00:00', TIMESTAMP '2023-01-31 12:59:59'",
                "2",
            ),
            (
                "'hour', TIMESTAMP '2023-01-31 12:59:59', TIMESTAMP '2023-01-31 10:00:00'",
                "-2",
            ),
            (
                "'day', TIMESTAMP '2023-01-01 00:00:00', TIMESTAMP '2023-03-01 00:00:00'",
                "59",
            ),
            (
                "'month', TIMESTAMP '2023-01-31 00:00:00', TIMESTAMP '2023-02-28 00:00:00'",
                "1",
            ),
            (
                "'month', TIMESTAMP '2023-01-15 00:00:00', TIMESTAMP '2023-02-14 23:59:59'",
                "0",
            ),
            (
                "'month', TIMESTAMP '2023-03-15 00:00:00', TIMESTAMP '2023-01-16 00:00:00'",
                "-1",
            ),
            ("'year', DATE '2020-02-29', DATE '2021-02-28'", "1"),
            ("'quarter', DATE '2023-01-01', DATE '2023-12-31'", "3"),
            (
                "'second', '2023-01-01 00:00:00', '2023-01-01 00:01:00'",
                "60",
            ),
        ] {
            let sql = format!("SELECT date_diff({args})");
            assert_eq!(value(&sql).await, s(want), "{args}");
        }
        assert_eq!(
            value(&format!("SELECT date_diff('day', NULL, {T})")).await,
            None
        );
    }
}
