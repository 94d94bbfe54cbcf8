//! One CloudTrail record: the fields import decides on (eventID, eventTime), and rows of them.

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, SchemaRef};
use serde_json::value::RawValue;

use super::columns::{Column, Entries, StructColumn, parse_time_ms};

/// A record read from a file, with what import needs to decide whether to keep it.
#[derive(Debug)]
pub struct Record<'a> {
    pub text: &'a str,
    pub entries: Entries<'a>,
    pub event_id: &'a str,
    pub time_ms: i64,
}

fn string_field<'a>(entries: &Entries<'a>, key: &str) -> Option<&'a str> {
    let raw: &'a RawValue = entries.get(key)?;
    // Event IDs and times never hold escapes; a string that does is read as absent.
    raw.get()
        .strip_prefix('"')?
        .strip_suffix('"')
        .filter(|s| !s.contains('\\'))
}

impl<'a> Record<'a> {
    /// Reads a record's text; the error says why it cannot be imported.
    pub fn parse(text: &'a str) -> Result<Record<'a>, String> {
        let entries = Entries::parse(text).map_err(|e| format!("not a JSON object: {e}"))?;
        let event_id = string_field(&entries, "eventID")
            .filter(|id| !id.is_empty())
            .ok_or("no eventID")?;
        let time = string_field(&entries, "eventTime").ok_or("no eventTime")?;
        let time_ms =
            parse_time_ms(time).ok_or_else(|| format!("eventTime {time:?} is not a time"))?;
        Ok(Record {
            text,
            entries,
            event_id,
            time_ms,
        })
    }

    /// The record's eventCategory, or how CloudTrail classifies records that predate it.
    pub fn category(&self) -> &'a str {
        if let Some(c) = string_field(&self.entries, "eventCategory") {
            return c;
        }
        match string_field(&self.entries, "eventType") {
            Some("AwsCloudTrailInsight") => "Insight",
            _ => "Management",
        }
    }
}

/// Rows of the management-event schema, built from records.
pub struct RowBuilder {
    schema: SchemaRef,
    root: StructColumn,
    /// Columns the record's own keys never fill: eventjson and eventjsonchecksum.
    own: [usize; 2],
    rows: usize,
    text_bytes: usize,
}

impl RowBuilder {
    pub fn new(schema: SchemaRef) -> RowBuilder {
        let position = |name: &str| {
            schema
                .index_of(name)
                .expect("store schemas have eventjson and eventjsonchecksum")
        };
        let own = [position("eventjson"), position("eventjsonchecksum")];
        let root = StructColumn::new(schema.fields());
        RowBuilder {
            schema,
            root,
            own,
            rows: 0,
            text_bytes: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Bytes of record text held so far.
    pub fn text_bytes(&self) -> usize {
        self.text_bytes
    }

    pub fn append(&mut self, record: &Record<'_>) {
        self.root.append_entries(&record.entries, &self.own);
        let checksum = crate::event::checksum(record.text);
        for (i, value) in self.own.into_iter().zip([record.text, checksum.as_str()]) {
            match self.root.child(i) {
                Column::Text(b) => b.append_value(value),
                other => other.append_null(),
            }
        }
        self.rows += 1;
        self.text_bytes += record.text.len();
    }

    pub fn finish(&mut self) -> Result<RecordBatch, arrow::error::ArrowError> {
        self.rows = 0;
        self.text_bytes = 0;
        let columns = self.root.finish_columns();
        RecordBatch::try_new(std::sync::Arc::clone(&self.schema), columns)
    }
}

/// True when every column type of `schema` is one [`Column`] can build.
pub fn supported(schema: &SchemaRef) -> bool {
    fn ok(t: &DataType) -> bool {
        match t {
            DataType::Utf8 | DataType::Boolean | DataType::Timestamp(_, None) => true,
            DataType::Map(_, _) => true,
            DataType::Struct(fields) => fields.iter().all(|f| ok(f.data_type())),
            DataType::List(item) => ok(item.data_type()),
            _ => false,
        }
    }
    schema.fields().iter().all(|f| ok(f.data_type()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::AsArray;

    #[test]
    fn records_become_rows_with_their_text_and_checksum() {
        let schema = crate::event::schema::management_schema();
        assert!(supported(&schema));
        let text = r#"{"eventVersion":"1.09","eventTime":"2023-07-10T11:42:36Z","eventID":"293ba626-3be5-4a26-ab1b-0f4c54f49959","readOnly":true,"requestParameters":{"Host":"h"},"newField":{"a":1}}"#;
        let record = Record::parse(text).unwrap();
        assert_eq!(record.time_ms, 1_688_989_356_000);
        assert_eq!(record.category(), "Management");
        let mut rows = RowBuilder::new(schema);
        rows.append(&record);
        let batch = rows.finish().unwrap();
        assert_eq!(batch.num_rows(), 1);
        let json = batch
            .column_by_name("eventjson")
            .unwrap()
            .as_string::<i32>();
        assert_eq!(json.value(0), text);
        let sum = batch.column_by_name("eventjsonchecksum").unwrap();
        assert_eq!(
            sum.as_string::<i32>().value(0),
            crate::event::checksum(text)
        );
        let ro = batch.column_by_name("readonly").unwrap().as_boolean();
        assert!(ro.value(0));
    }

    #[test]
    fn records_without_id_or_time_are_refused() {
        assert!(Record::parse(r#"{"eventTime":"2023-07-10T11:42:36Z"}"#).is_err());
        let bad_time = r#"{"eventID":"x","eventTime":"yesterday"}"#;
        assert!(Record::parse(bad_time).unwrap_err().contains("yesterday"));
        assert!(Record::parse("[1]").is_err());
    }
}
