//! Arrow builders driven by the store schema: JSON values appended to columns of any shape.
//!
//! Struct fields match JSON keys case-insensitively (the schema is lower case, CloudTrail
//! is camel case); strings go in as they are and other values as compact JSON; maps follow
//! [`crate::event::json_map::JsonMap`]; a value whose type does not fit its column is left
//! NULL there (the whole record stays in eventjson).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, ListArray, MapArray, NullBufferBuilder, StringBuilder, StructArray,
    TimestampMillisecondBuilder,
};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, FieldRef, Fields};
use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::event::json_map::value_text;

/// The top-level entries of one JSON object, in document order.
#[derive(Debug)]
pub struct Entries<'a>(pub Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(24));
                while let Some(entry) = map.next_entry::<Cow<'de, str>, &'de RawValue>()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        d.deserialize_map(V)
    }
}

impl<'a> Entries<'a> {
    pub fn parse(text: &'a str) -> Result<Entries<'a>, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The value of `key`: the exact spelling first, else any spelling that differs by case.
    pub fn get(&self, key: &str) -> Option<&'a RawValue> {
        let exact = self.0.iter().find(|(k, _)| k == key);
        exact
            .or_else(|| self.0.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
            .map(|(_, v)| *v)
    }
}

/// `2023-07-10T11:42:36Z` (or with fractions or an offset) as milliseconds since the epoch.
pub fn parse_time_ms(text: &str) -> Option<i64> {
    plain_utc_ms(text).or_else(|| {
        chrono::DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.timestamp_millis())
    })
}

/// The form CloudTrail writes, `YYYY-MM-DDTHH:MM:SSZ`, read without chrono's general
/// parser (it is read twice for every record). Anything else, leap seconds included, is
/// left to chrono.
fn plain_utc_ms(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' || b[19] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| {
        b[range].iter().try_fold(0i64, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
        })
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day < 1 || day > month_days || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days from 1970-01-01 to the civil date (Howard Hinnant's days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000)
}

/// The text of a JSON string that holds no escapes, without a trip through serde.
fn plain_string(text: &str) -> Option<&str> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    // A byte loop: these strings are short, and memchr's set-up costs more than it saves.
    (!inner.bytes().any(|b| b == b'\\')).then_some(inner)
}

/// A value as column text: [`value_text`], with unescaped strings taken as they are.
fn text_of(raw: &RawValue) -> Result<Cow<'_, str>, serde_json::Error> {
    match plain_string(raw.get()) {
        Some(s) => Ok(Cow::Borrowed(s)),
        None => value_text(raw),
    }
}

fn is_null(raw: &RawValue) -> bool {
    raw.get() == "null"
}

/// A builder for one column of any type the store schemas use.
pub enum Column {
    Text(StringBuilder),
    Bool(BooleanBuilder),
    Time(TimestampMillisecondBuilder),
    Map(MapColumn),
    Struct(StructColumn),
    List(ListColumn),
}

pub struct MapColumn {
    entries: FieldRef,
    keys: StringBuilder,
    values: StringBuilder,
    offsets: Vec<i32>,
    nulls: NullBufferBuilder,
}

pub struct StructColumn {
    fields: Fields,
    children: Vec<Column>,
    nulls: NullBufferBuilder,
    /// The field each key went to when it was last seen at this place in an object:
    /// records of one kind list their keys in the same order, so most keys match here
    /// and skip the search through the fields.
    seen: Vec<(String, Option<usize>)>,
    /// Which entry of the object being appended fills each field (reused between rows).
    slots: Vec<Option<usize>>,
}

/// Places in an object whose keys [`StructColumn`] remembers.
const SEEN_KEYS: usize = 64;

pub struct ListColumn {
    item: FieldRef,
    child: Box<Column>,
    offsets: Vec<i32>,
    nulls: NullBufferBuilder,
}

impl Column {
    pub fn new(data_type: &DataType) -> Column {
        match data_type {
            DataType::Boolean => Column::Bool(BooleanBuilder::new()),
            DataType::Timestamp(_, _) => Column::Time(TimestampMillisecondBuilder::new()),
            DataType::Map(entries, _) => Column::Map(MapColumn {
                entries: Arc::clone(entries),
                keys: StringBuilder::new(),
                values: StringBuilder::new(),
                offsets: vec![0],
                nulls: NullBufferBuilder::new(0),
            }),
            DataType::Struct(fields) => Column::Struct(StructColumn::new(fields)),
            DataType::List(item) => Column::List(ListColumn {
                item: Arc::clone(item),
                child: Box::new(Column::new(item.data_type())),
                offsets: vec![0],
                nulls: NullBufferBuilder::new(0),
            }),
            _ => Column::Text(StringBuilder::new()),
        }
    }

    pub fn append_null(&mut self) {
        match self {
            Column::Text(b) => b.append_null(),
            Column::Bool(b) => b.append_null(),
            Column::Time(b) => b.append_null(),
            Column::Map(m) => {
                m.offsets
                    .push(*m.offsets.last().expect("offsets start with 0"));
                m.nulls.append_null();
            }
            Column::Struct(s) => {
                s.children.iter_mut().for_each(Column::append_null);
                s.nulls.append_null();
            }
            Column::List(l) => {
                l.offsets
                    .push(*l.offsets.last().expect("offsets start with 0"));
                l.nulls.append_null();
            }
        }
    }

    /// Appends one JSON value (`None`: the key is absent).
    pub fn append(&mut self, raw: Option<&RawValue>) {
        let Some(raw) = raw.filter(|r| !is_null(r)) else {
            self.append_null();
            return;
        };
        let text = raw.get();
        match self {
            Column::Text(b) => match text_of(raw) {
                Ok(v) => b.append_value(v),
                Err(_) => b.append_null(),
            },
            Column::Bool(b) => match text.trim_matches('"') {
                "true" => b.append_value(true),
                "false" => b.append_value(false),
                _ => b.append_null(),
            },
            Column::Time(b) => {
                let ms = match plain_string(text) {
                    Some(t) => parse_time_ms(t),
                    None => serde_json::from_str::<Cow<str>>(text)
                        .ok()
                        .and_then(|t| parse_time_ms(&t)),
                };
                b.append_option(ms);
            }
            Column::Map(m) => match map_entries(text) {
                Some(entries) => {
                    for (k, v) in &entries {
                        m.keys.append_value(k);
                        m.values.append_value(v);
                    }
                    let last = *m.offsets.last().expect("offsets start with 0");
                    m.offsets.push(last + entries.len() as i32);
                    m.nulls.append_non_null();
                }
                None => self.append_null(),
            },
            Column::Struct(s) => match Entries::parse(text) {
                Ok(entries) => s.append_entries(&entries, &[]),
                Err(_) => self.append_null(),
            },
            Column::List(l) => match serde_json::from_str::<Vec<&RawValue>>(text) {
                Ok(items) => {
                    for item in &items {
                        l.child.append(Some(item));
                    }
                    let last = *l.offsets.last().expect("offsets start with 0");
                    l.offsets.push(last + items.len() as i32);
                    l.nulls.append_non_null();
                }
                Err(_) => self.append_null(),
            },
        }
    }

    pub fn finish(&mut self) -> ArrayRef {
        match self {
            Column::Text(b) => Arc::new(b.finish()),
            Column::Bool(b) => Arc::new(b.finish()),
            Column::Time(b) => Arc::new(b.finish()),
            Column::Map(m) => {
                let DataType::Struct(kv) = m.entries.data_type() else {
                    unreachable!("map entries are a struct");
                };
                let entries = StructArray::new(
                    kv.clone(),
                    vec![Arc::new(m.keys.finish()), Arc::new(m.values.finish())],
                    None,
                );
                let offsets = OffsetBuffer::new(std::mem::replace(&mut m.offsets, vec![0]).into());
                Arc::new(MapArray::new(
                    Arc::clone(&m.entries),
                    offsets,
                    entries,
                    m.nulls.finish(),
                    false,
                ))
            }
            Column::Struct(s) => Arc::new(s.finish()),
            Column::List(l) => {
                let offsets = OffsetBuffer::new(std::mem::replace(&mut l.offsets, vec![0]).into());
                Arc::new(ListArray::new(
                    Arc::clone(&l.item),
                    offsets,
                    l.child.finish(),
                    l.nulls.finish(),
                ))
            }
        }
    }
}

/// A JSON object as map entries, as [`crate::event::json_map::JsonMap`] reads it (strings unescaped, other values
/// compact JSON, the last of equal keys wins); `None` when it is not an object.
fn map_entries(text: &str) -> Option<Vec<(Cow<'_, str>, Cow<'_, str>)>> {
    if !text.starts_with('{') {
        return None;
    }
    let raw = Entries::parse(text).ok()?.0;
    let mut entries: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::with_capacity(raw.len());
    for (key, value) in raw {
        let value = text_of(value).ok()?;
        match entries.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => entries.push((key, value)),
        }
    }
    Some(entries)
}

impl StructColumn {
    pub fn new(fields: &Fields) -> StructColumn {
        StructColumn {
            fields: fields.clone(),
            children: fields.iter().map(|f| Column::new(f.data_type())).collect(),
            nulls: NullBufferBuilder::new(0),
            seen: Vec::new(),
            slots: vec![None; fields.len()],
        }
    }

    /// The field a key fills, matched case-insensitively; `place` is its place in the object.
    fn field_of(&mut self, place: usize, key: &str) -> Option<usize> {
        if let Some((seen, field)) = self.seen.get(place)
            && seen == key
        {
            return *field;
        }
        let field = self
            .fields
            .iter()
            .position(|f| f.name().eq_ignore_ascii_case(key));
        if place < self.seen.len() {
            let slot = &mut self.seen[place];
            slot.0.clear();
            slot.0.push_str(key);
            slot.1 = field;
        } else if place == self.seen.len() && place < SEEN_KEYS {
            self.seen.push((key.to_string(), field));
        }
        field
    }

    /// Appends one object; the children at `skip` are left to the caller.
    pub fn append_entries(&mut self, entries: &Entries<'_>, skip: &[usize]) {
        let mut slots = std::mem::take(&mut self.slots);
        slots.fill(None);
        for (place, (key, _)) in entries.0.iter().enumerate() {
            let Some(i) = self.field_of(place, key) else {
                continue;
            };
            // Keys that differ only by case: the first one fills the column; every
            // variant stays in eventjson.
            if slots[i].is_none() {
                slots[i] = Some(place);
            }
        }
        for (i, child) in self.children.iter_mut().enumerate() {
            if !skip.contains(&i) {
                child.append(slots[i].map(|place| entries.0[place].1));
            }
        }
        self.nulls.append_non_null();
        self.slots = slots;
    }

    /// The child builder at `i`, for columns filled by the caller.
    pub fn child(&mut self, i: usize) -> &mut Column {
        &mut self.children[i]
    }

    pub fn finish(&mut self) -> StructArray {
        let arrays = self.children.iter_mut().map(Column::finish).collect();
        StructArray::new(self.fields.clone(), arrays, self.nulls.finish())
    }

    /// The columns as they are, for a record batch (the struct's own nulls are dropped).
    pub fn finish_columns(&mut self) -> Vec<ArrayRef> {
        self.nulls.finish();
        self.children.iter_mut().map(Column::finish).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};

    fn field_type(json: &str) -> DataType {
        let schema = crate::event::schema::management_schema();
        schema
            .field_with_name(json)
            .map(|f| f.data_type().clone())
            .unwrap()
    }

    #[test]
    fn nested_structs_match_keys_by_case_and_keep_empty_objects() {
        let mut col = Column::new(&field_type("useridentity"));
        let json = r#"{"type":"AssumedRole","ARN":"x","sessionContext":{"sessionIssuer":{},"attributes":{"mfaAuthenticated":"false"}},"unknown":1}"#;
        col.append(Some(serde_json::from_str(json).unwrap()));
        col.append(None);
        let array = col.finish();
        let s = array.as_struct();
        assert_eq!(s.len(), 2);
        assert!(s.is_null(1));
        assert_eq!(
            s.column_by_name("arn").unwrap().as_string::<i32>().value(0),
            "x"
        );
        let ctx = s.column_by_name("sessioncontext").unwrap().as_struct();
        let issuer = ctx.column_by_name("sessionissuer").unwrap().as_struct();
        assert!(
            issuer.is_valid(0),
            "an empty object is an empty struct, not NULL"
        );
        let attrs = ctx.column_by_name("attributes").unwrap().as_struct();
        let mfa = attrs.column_by_name("mfaauthenticated").unwrap();
        assert_eq!(mfa.as_string::<i32>().value(0), "false");
    }

    #[test]
    fn maps_keep_case_variants_and_lists_hold_structs() {
        let mut map = Column::new(&field_type("requestparameters"));
        let json = r#"{"Tag":"a","tag":"b","n":{"x":[1, 2]}}"#;
        map.append(Some(serde_json::from_str(json).unwrap()));
        let map = map.finish();
        let entries = map.as_map();
        assert_eq!(entries.value(0).len(), 3);
        assert_eq!(
            entries.values().as_string::<i32>().value(2),
            r#"{"x":[1,2]}"#
        );

        let mut list = Column::new(&field_type("resources"));
        let json = r#"[{"ARN":"a","accountId":"1","type":"T"},{"ARNPrefix":"p"}]"#;
        list.append(Some(serde_json::from_str(json).unwrap()));
        let list = list.finish();
        let items = list.as_list::<i32>().value(0);
        let arns = items
            .as_struct()
            .column_by_name("arn")
            .unwrap()
            .as_string::<i32>()
            .clone();
        assert_eq!(arns.value(0), "a");
        assert!(arns.is_null(1));
    }

    #[test]
    fn keys_fill_their_fields_whatever_their_order() {
        let mut col = Column::new(&field_type("useridentity"));
        for json in [
            r#"{"type":"A","arn":"a1","accountId":"1"}"#,
            r#"{"arn":"a2","type":"B"}"#,
            r#"{"accountId":"3","ARN":"a3","Arn":"other"}"#,
        ] {
            col.append(Some(serde_json::from_str(json).unwrap()));
        }
        let array = col.finish();
        let s = array.as_struct();
        let text = |name: &str, row: usize| {
            let c = s.column_by_name(name).unwrap().as_string::<i32>();
            c.is_valid(row).then(|| c.value(row).to_string())
        };
        assert_eq!(
            (0..3).map(|i| text("arn", i)).collect::<Vec<_>>(),
            [Some("a1".into()), Some("a2".into()), Some("a3".into())]
        );
        assert_eq!(text("type", 1).as_deref(), Some("B"));
        assert_eq!(text("type", 2), None);
        assert_eq!(text("accountid", 2).as_deref(), Some("3"));
    }

    #[test]
    fn plain_times_read_as_chrono_reads_them() {
        let texts = [
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "2000-02-29T12:34:56Z",
            "2023-07-10T11:42:36Z",
            "2024-12-31T23:59:59Z",
            "2100-03-01T00:00:00Z",
        ];
        for text in texts {
            let chrono = chrono::DateTime::parse_from_rfc3339(text).unwrap();
            assert_eq!(
                plain_utc_ms(text),
                Some(chrono.timestamp_millis()),
                "{text}"
            );
        }
        for text in [
            "2023-02-29T00:00:00Z",
            "2023-13-01T00:00:00Z",
            "2023-07-10T24:00:00Z",
        ] {
            assert_eq!(parse_time_ms(text), None, "{text}");
        }
        assert_eq!(
            parse_time_ms("2023-07-10T11:42:36.5Z"),
            Some(1_688_989_356_500)
        );
    }

    #[test]
    fn odd_types_become_null_or_text() {
        let mut b = Column::new(&DataType::Boolean);
        for v in [r#""true""#, "false", "1"] {
            b.append(Some(serde_json::from_str(v).unwrap()));
        }
        let b = b.finish();
        let b = b.as_boolean();
        assert!(b.value(0) && !b.value(1) && b.is_null(2));
        let mut t = Column::new(&DataType::Utf8);
        t.append(Some(serde_json::from_str(r#"{"a": 1}"#).unwrap()));
        assert_eq!(t.finish().as_string::<i32>().value(0), r#"{"a":1}"#);
    }
}
