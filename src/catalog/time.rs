//! Timestamps in catalog.json (RFC 3339) and in responses (ISO 8601 with offset, as the AWS CLI prints them).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// A timestamp as the AWS CLI prints it: `2024-05-01T12:00:00.123000+00:00`.
pub fn aws_timestamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, false)
}

/// `#[serde(with = "time::rfc3339")]` for `DateTime<Utc>` (chrono's serde feature is not enabled).
pub mod rfc3339 {
    use super::*;

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| serde::de::Error::custom(format!("timestamp {s:?}: {e}")))
    }
}

/// `#[serde(with = "time::rfc3339_opt")]` for `Option<DateTime<Utc>>`.
pub mod rfc3339_opt {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => rfc3339::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => DateTime::parse_from_rfc3339(&s)
                .map(|t| Some(t.with_timezone(&Utc)))
                .map_err(|e| serde::de::Error::custom(format!("timestamp {s:?}: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct T {
        #[serde(with = "rfc3339")]
        a: DateTime<Utc>,
        #[serde(with = "rfc3339_opt", default)]
        b: Option<DateTime<Utc>>,
    }

    #[test]
    fn aws_format_has_microseconds_and_offset() {
        let t = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
        assert_eq!(aws_timestamp(&t), "2024-05-01T12:00:00.000000+00:00");
    }

    #[test]
    fn round_trips_through_json() {
        let t = T {
            a: Utc.timestamp_millis_opt(1_700_000_000_123).unwrap(),
            b: None,
        };
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#"{"a":"2023-11-14T22:13:20.123Z","b":null}"#);
        assert_eq!(serde_json::from_str::<T>(&json).unwrap(), t);
        assert!(serde_json::from_str::<T>(r#"{"a":"yesterday"}"#).is_err());
    }
}
