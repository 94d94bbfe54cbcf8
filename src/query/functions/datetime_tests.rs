//! Tests of the date and time functions through SQL, as a query uses them.

use super::super::test_util::{error, one_column, s, value};

/// 2023-01-22 16:53:53.123 UTC, a Sunday, as the store holds event times.
const T: &str = "arrow_cast(1674406433123, 'Timestamp(Millisecond, None)')";

#[tokio::test]
async fn parts_of_a_timestamp() {
    for (f, want) in [
        ("year", "2023"),
        ("quarter", "1"),
        ("month", "1"),
        ("week", "3"),
        ("day", "22"),
        ("day_of_month", "22"),
        ("day_of_week", "7"),
        ("dow", "7"),
        ("day_of_year", "22"),
        ("hour", "16"),
        ("minute", "53"),
        ("second", "53"),
        ("millisecond", "123"),
        ("year_of_week", "2023"),
    ] {
        assert_eq!(value(&format!("SELECT {f}({T})")).await, s(want), "{f}");
    }
    assert_eq!(value("SELECT day_of_week(DATE '2023-01-23')").await, s("1"));
    assert_eq!(value("SELECT year(DATE '2024-02-29')").await, s("2024"));
    assert_eq!(value("SELECT hour('2023-01-22 07:00:00')").await, s("7"));
    assert_eq!(
        value("SELECT arrow_typeof(year(DATE '2024-02-29'))").await,
        s("Int64")
    );
    assert_eq!(value("SELECT month(NULL)").await, None);
    assert!(
        error("SELECT year(1)")
            .await
            .contains("year expects a timestamp")
    );
}

#[tokio::test]
async fn date_of_a_timestamp_or_a_string() {
    assert_eq!(value(&format!("SELECT date({T})")).await, s("2023-01-22"));
    assert_eq!(value("SELECT date('2023-01-22')").await, s("2023-01-22"));
    assert_eq!(
        value(&format!("SELECT arrow_typeof(date({T}))")).await,
        s("Date32")
    );
    assert_eq!(value("SELECT date(NULL)").await, None);
    let sql = format!("SELECT date({T}) = DATE '2023-01-22'");
    assert_eq!(value(&sql).await, s("true"));
}

#[tokio::test]
async fn unix_time_both_ways() {
    assert_eq!(
        value("SELECT from_unixtime(1674406433)").await,
        s("2023-01-22T16:53:53")
    );
    assert_eq!(
        value("SELECT from_unixtime(1674406433.25)").await,
        s("2023-01-22T16:53:53.250")
    );
    assert_eq!(
        value("SELECT arrow_typeof(from_unixtime(0))").await,
        s("Timestamp(ms)")
    );
    assert_eq!(
        value(&format!("SELECT to_unixtime({T})")).await,
        s("1674406433.123")
    );
    assert_eq!(value("SELECT to_unixtime(NULL)").await, None);
}

#[tokio::test]
async fn iso8601_both_ways() {
    assert_eq!(
        value(&format!("SELECT to_iso8601({T})")).await,
        s("2023-01-22T16:53:53.123")
    );
    let sql =
        format!("SELECT to_iso8601(arrow_cast({T}, 'Timestamp(Millisecond, Some(\"UTC\"))'))");
    assert_eq!(value(&sql).await, s("2023-01-22T16:53:53.123Z"));
    assert_eq!(
        value("SELECT to_iso8601(DATE '2023-01-22')").await,
        s("2023-01-22")
    );
    for (text, want) in [
        ("2023-01-22T16:53:53Z", "2023-01-22T16:53:53"),
        ("2023-01-22T16:53:53.5Z", "2023-01-22T16:53:53.500"),
        ("2023-01-22T18:53:53+02:00", "2023-01-22T16:53:53"),
        ("2023-01-22T15:53:53-0100", "2023-01-22T16:53:53"),
        ("2023-01-22T16:53", "2023-01-22T16:53:00"),
        ("2023-01-22T16", "2023-01-22T16:00:00"),
        ("2023-01-22", "2023-01-22T00:00:00"),
    ] {
        let sql = format!("SELECT from_iso8601_timestamp('{text}')");
        assert_eq!(value(&sql).await, s(want), "{text}");
    }
    let sql = format!("SELECT from_iso8601_timestamp('2023-01-22T16:53:53.123Z') = {T}");
    assert_eq!(value(&sql).await, s("true"));
    assert_eq!(
        value("SELECT from_iso8601_date('2023-01-22')").await,
        s("2023-01-22")
    );
    assert_eq!(value("SELECT from_iso8601_timestamp(NULL)").await, None);
    let err = error("SELECT from_iso8601_timestamp('22/01/2023')").await;
    assert!(err.contains("Invalid format: \"22/01/2023\""), "{err}");
}

#[tokio::test]
async fn datafusion_date_trunc_and_current_timestamp_serve_as_they_are() {
    let sql = format!("SELECT date_trunc('hour', {T})");
    assert_eq!(value(&sql).await, s("2023-01-22T16:00:00"));
    let sql = format!("SELECT date_trunc('week', {T})");
    assert_eq!(value(&sql).await, s("2023-01-16T00:00:00"));
    let sql = format!("SELECT arrow_typeof(date_trunc('day', {T}))");
    assert_eq!(value(&sql).await, s("Timestamp(ms)"));
    let sql =
        format!("SELECT current_timestamp > {T} AND current_timestamp - interval '1' day < now()");
    assert_eq!(value(&sql).await, s("true"));
}

#[tokio::test]
async fn functions_apply_row_by_row() {
    let sql = "SELECT day_of_week(t) FROM (VALUES (TIMESTAMP '2023-01-23 00:00:00'), (NULL), (TIMESTAMP '2023-01-28 23:59:59')) v(t)";
    assert_eq!(one_column(sql).await, vec![s("1"), None, s("6")]);
}
