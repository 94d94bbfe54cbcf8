//! Trino's date_format(timestamp, format) and date_parse(string, format), with MySQL format specifiers (`%Y-%m-%d %H:%i:%s`).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringBuilder, TimestampMillisecondArray};
use arrow::datatypes::{DataType, TimestampMillisecondType};
use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, NaiveDateTime};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::udf::{TIMESTAMP_MS, Udf, arity, text, timestamp};

pub fn udfs() -> Vec<ScalarUDF> {
    vec![
        Udf::new(
            "date_format",
            format_args,
            |_| Ok(DataType::Utf8),
            date_format,
        )
        .build(),
        Udf::new("date_parse", parse_args, |_| Ok(TIMESTAMP_MS), date_parse).build(),
    ]
}

fn format_args(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    arity(name, types, 2, 2)?;
    Ok(vec![timestamp(name, &types[0])?, text(name, &types[1])?])
}

fn parse_args(name: &str, types: &[DataType]) -> Result<Vec<DataType>> {
    arity(name, types, 2, 2)?;
    Ok(vec![text(name, &types[0])?, text(name, &types[1])?])
}

/// The chrono (strftime) format for a MySQL format, as Trino reads it. Specifiers Trino
/// does not support are an error; `%x` for any other `x` is `x`.
pub fn chrono_format(mysql: &str) -> Result<String> {
    let mut out = String::with_capacity(mysql.len() + 8);
    let mut chars = mysql.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(spec) = chars.next() else {
            out.push_str("%%");
            break;
        };
        out.push_str(match spec {
            'a' => "%a",
            'b' => "%b",
            'c' => "%-m",
            'd' => "%d",
            'e' => "%-d",
            'f' => "%6f",
            'H' => "%H",
            'h' | 'I' => "%I",
            'i' => "%M",
            'j' => "%j",
            'k' => "%-H",
            'l' => "%-I",
            'M' => "%B",
            'm' => "%m",
            'p' => "%p",
            'r' => "%I:%M:%S %p",
            'S' | 's' => "%S",
            'T' => "%H:%M:%S",
            'v' => "%V",
            'W' => "%A",
            'x' => "%G",
            'Y' => "%Y",
            'y' => "%y",
            '%' => "%%",
            'D' | 'U' | 'u' | 'V' | 'w' | 'X' => {
                return exec_err!("%{spec} not supported in date format string");
            }
            other => {
                out.push(other);
                continue;
            }
        });
    }
    Ok(out)
}

fn items(mysql: &str) -> Result<Vec<Item<'static>>> {
    let format = chrono_format(mysql)?;
    let items: Vec<Item<'static>> = StrftimeItems::new(&format)
        .map(|item| item.to_owned())
        .collect();
    if items.iter().any(|i| matches!(i, Item::Error)) {
        return exec_err!("invalid date format string '{mysql}'");
    }
    Ok(items)
}

fn date_format(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let times = arrays[0].as_primitive::<TimestampMillisecondType>();
    let formats = arrays[1].as_string::<i32>();
    let mut out = StringBuilder::with_capacity(times.len(), times.len() * 20);
    let mut cached: Option<(&str, Vec<Item<'static>>)> = None;
    for row in 0..times.len() {
        let t = times.is_valid(row).then(|| times.value(row));
        let t = t.and_then(DateTime::from_timestamp_millis);
        let (Some(t), true) = (t, formats.is_valid(row)) else {
            out.append_null();
            continue;
        };
        let format = formats.value(row);
        let items = match &cached {
            Some((f, items)) if *f == format => items,
            _ => &cached.insert((format, items(format)?)).1,
        };
        out.append_value(t.naive_utc().format_with_items(items.iter()).to_string());
    }
    Ok(Arc::new(out.finish()))
}

/// `date_parse(string, format)`: the timestamp the text spells in that MySQL format.
fn date_parse(arrays: &[ArrayRef]) -> Result<ArrayRef> {
    let texts = arrays[0].as_string::<i32>();
    let formats = arrays[1].as_string::<i32>();
    let mut out = Vec::with_capacity(texts.len());
    for (text, format) in texts.iter().zip(formats.iter()) {
        let (Some(text), Some(format)) = (text, format) else {
            out.push(None);
            continue;
        };
        let chrono = chrono_format(format)?;
        let parsed = NaiveDateTime::parse_from_str(text, &chrono).or_else(|_| {
            chrono::NaiveDate::parse_from_str(text, &chrono)
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
        });
        match parsed {
            Ok(t) => out.push(Some(t.and_utc().timestamp_millis())),
            Err(e) => return exec_err!("Invalid format: \"{text}\" for '{format}': {e}"),
        }
    }
    Ok(Arc::new(TimestampMillisecondArray::from(out)))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{error, s, value};

    const T: &str = "CAST('2023-01-02 16:05:09.123' AS TIMESTAMP)";

    #[tokio::test]
    async fn date_format_reads_mysql_specifiers() {
        for (format, want) in [
            ("%Y-%m-%d %H:%i:%s", "2023-01-02 16:05:09"),
            ("%Y-%m-%d %T.%f", "2023-01-02 16:05:09.123000"),
            ("%c/%e/%y %l:%i %p", "1/2/23 4:05 PM"),
            ("%W %M %j %a %b", "Monday January 002 Mon Jan"),
            ("%r", "04:05:09 PM"),
            ("100%% at %k h, %q", "100% at 16 h, q"),
            ("%x-W%v", "2023-W01"),
        ] {
            let sql = format!("SELECT date_format({T}, '{format}')");
            assert_eq!(value(&sql).await, s(want), "{format}");
        }
        assert_eq!(value("SELECT date_format(NULL, '%Y')").await, None);
        assert!(
            error(&format!("SELECT date_format({T}, '%D')"))
                .await
                .contains("%D not supported")
        );
    }

    #[tokio::test]
    async fn date_parse_reads_what_date_format_writes() {
        let sql = "SELECT date_parse('2023-01-02 16:05:09', '%Y-%m-%d %H:%i:%s')";
        assert_eq!(value(sql).await, s("2023-01-02T16:05:09"));
        let sql = "SELECT date_parse('02/01/2023', '%d/%m/%Y')";
        assert_eq!(value(sql).await, s("2023-01-02T00:00:00"));
        assert!(
            error("SELECT date_parse('nope', '%Y')")
                .await
                .contains("Invalid format")
        );
    }
}
