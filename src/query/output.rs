//! Printing query results to any `Write`: a text table, CSV, a JSON array, or NDJSON.

use std::collections::HashSet;
use std::io::Write;
use std::str::FromStr;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, RecordBatch, StringArray, StringViewArray, TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::util::pretty::pretty_format_batches_with_options;
use clap::ValueEnum;
use serde_json::{Map, Value};

use super::cells::{format_options, json_value, push_lake_millis, text_value};
use super::error::QueryError;

/// How results are printed; serves `--format` and the REPL alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum PrintFormat {
    /// A text table (buffers all rows to size the columns).
    #[default]
    Table,
    /// CSV with a header line; maps, structs and arrays as compact JSON.
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
}

impl FromStr for PrintFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<PrintFormat, String> {
        <PrintFormat as ValueEnum>::from_str(s, true)
            .map_err(|_| format!("unknown format `{s}` (expected table, csv, json or ndjson)"))
    }
}

impl std::fmt::Display for PrintFormat {
    /// The name `\format` and `--format` take.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.to_possible_value() {
            Some(value) => f.write_str(value.get_name()),
            None => write!(f, "{self:?}"),
        }
    }
}

/// Writes batches as they arrive. Only the table format holds rows back, to size its columns.
pub struct ResultWriter<'a> {
    format: PrintFormat,
    schema: SchemaRef,
    out: &'a mut dyn Write,
    held: Vec<RecordBatch>,
    /// The CSV lines of a batch, kept from batch to batch so that it grows once.
    text: String,
    rows: u64,
}

impl<'a> ResultWriter<'a> {
    pub fn new(format: PrintFormat, schema: SchemaRef, out: &'a mut dyn Write) -> ResultWriter<'a> {
        ResultWriter {
            format,
            schema: lake_names(&schema),
            out,
            held: Vec::new(),
            text: String::new(),
            rows: 0,
        }
    }

    /// Writes (or for a table, keeps) one batch of rows.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), QueryError> {
        if self.rows == 0 && self.format == PrintFormat::Csv {
            self.csv_header()?;
        }
        match self.format {
            PrintFormat::Table => self.held.push(RecordBatch::try_new(
                Arc::clone(&self.schema),
                batch.columns().to_vec(),
            )?),
            PrintFormat::Csv => self.csv_rows(batch)?,
            PrintFormat::Json | PrintFormat::Ndjson => self.json_rows(batch)?,
        }
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Completes the output (the table, the closing `]`) and returns the number of rows.
    pub fn finish(mut self) -> Result<u64, QueryError> {
        match self.format {
            PrintFormat::Table => {
                if self.held.is_empty() {
                    self.held
                        .push(RecordBatch::new_empty(Arc::clone(&self.schema)));
                }
                let table = pretty_format_batches_with_options(&self.held, &format_options())?;
                writeln!(self.out, "{table}")?;
            }
            PrintFormat::Csv if self.rows == 0 => self.csv_header()?,
            PrintFormat::Json if self.rows == 0 => writeln!(self.out, "[]")?,
            PrintFormat::Json => writeln!(self.out, "\n]")?,
            PrintFormat::Csv | PrintFormat::Ndjson => {}
        }
        self.out.flush()?;
        Ok(self.rows)
    }

    fn csv_header(&mut self) -> Result<(), QueryError> {
        let names: Vec<String> = self
            .schema
            .fields()
            .iter()
            .map(|f| {
                let mut name = String::new();
                push_csv_field(&mut name, f.name());
                name
            })
            .collect();
        writeln!(self.out, "{}", names.join(","))?;
        Ok(())
    }

    /// Each batch's lines go out in one write: stdout is line-buffered.
    fn csv_rows(&mut self, batch: &RecordBatch) -> Result<(), QueryError> {
        let columns: Vec<CsvColumn> = batch.columns().iter().map(CsvColumn::new).collect();
        let text = &mut self.text;
        text.clear();
        for row in 0..batch.num_rows() {
            for (i, column) in columns.iter().enumerate() {
                if i > 0 {
                    text.push(',');
                }
                column.push(row, text)?;
            }
            text.push('\n');
        }
        self.out.write_all(text.as_bytes())?;
        Ok(())
    }

    fn json_rows(&mut self, batch: &RecordBatch) -> Result<(), QueryError> {
        let mut text = Vec::new();
        for row in 0..batch.num_rows() {
            let mut object = Map::with_capacity(batch.num_columns());
            for (field, column) in self.schema.fields().iter().zip(batch.columns()) {
                object.insert(field.name().clone(), json_value(column, row)?);
            }
            match self.format {
                PrintFormat::Json if self.rows == 0 && row == 0 => text.extend_from_slice(b"[\n"),
                PrintFormat::Json => text.extend_from_slice(b",\n"),
                _ => {}
            }
            serde_json::to_writer(&mut text, &Value::Object(object))
                .map_err(std::io::Error::from)?;
            if self.format == PrintFormat::Ndjson {
                text.push(b'\n');
            }
        }
        self.out.write_all(&text)?;
        Ok(())
    }
}

/// Column names as Lake (Trino) gives them: an unaliased field access is named after its
/// last field (`eventData.eventName` is `eventname`, where DataFusion says
/// `<table>.eventdata[eventname]`), unless that name is taken by another column.
fn lake_names(schema: &SchemaRef) -> SchemaRef {
    let short = |name: &str| -> Option<String> {
        let inner = name.strip_suffix(']')?;
        let field = &inner[inner.rfind('[')? + 1..];
        let plain = !field.is_empty() && !field.contains(['(', ')', '[', ' ', '\'', '"']);
        plain.then(|| field.to_string())
    };
    let mut taken: HashSet<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match short(f.name()) {
            Some(name) if taken.insert(name.clone()) => f.as_ref().clone().with_name(name),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// A result column as CSV writes it, its type looked at once per batch: strings and
/// timestamps, most of what audit queries return, go straight into the line.
enum CsvColumn<'a> {
    Strings(&'a StringArray),
    Views(&'a StringViewArray),
    Millis(&'a TimestampMillisecondArray),
    Other(&'a dyn Array),
}

impl<'a> CsvColumn<'a> {
    fn new(array: &'a ArrayRef) -> CsvColumn<'a> {
        match array.data_type() {
            DataType::Utf8 => CsvColumn::Strings(array.as_string()),
            DataType::Utf8View => CsvColumn::Views(array.as_string_view()),
            DataType::Timestamp(TimeUnit::Millisecond, None) => {
                CsvColumn::Millis(array.as_primitive())
            }
            _ => CsvColumn::Other(array.as_ref()),
        }
    }

    /// Appends the field at `row` (empty for null) to `line`.
    fn push(&self, row: usize, line: &mut String) -> Result<(), QueryError> {
        match self {
            CsvColumn::Strings(a) if a.is_valid(row) => push_csv_field(line, a.value(row)),
            CsvColumn::Views(a) if a.is_valid(row) => push_csv_field(line, a.value(row)),
            CsvColumn::Strings(_) | CsvColumn::Views(_) => {}
            CsvColumn::Millis(a) if a.is_valid(row) && push_lake_millis(line, a.value(row)) => {}
            CsvColumn::Millis(a) => push_csv_field(line, &text_value(*a, row)?),
            CsvColumn::Other(a) => push_csv_field(line, &text_value(*a, row)?),
        }
        Ok(())
    }
}

/// Appends a CSV field to `line`, quoted when it holds a comma, a quote or a line break
/// (RFC 4180).
fn push_csv_field(line: &mut String, text: &str) {
    if text
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        line.push('"');
        line.push_str(&text.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(text);
    }
}

/// Writes all `batches` in `format`; returns the number of rows written.
pub fn write_batches(
    format: PrintFormat,
    schema: SchemaRef,
    batches: &[RecordBatch],
    out: &mut dyn Write,
) -> Result<u64, QueryError> {
    let mut writer = ResultWriter::new(format, schema, out);
    for batch in batches {
        writer.write(batch)?;
    }
    writer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{
        ArrayRef, MapBuilder, StringArray, StringBuilder, TimestampMillisecondArray,
    };
    use arrow::datatypes::DataType;

    fn batches() -> (SchemaRef, Vec<RecordBatch>) {
        let time: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![
            1_674_406_433_000,
            1_674_406_434_250,
        ]));
        let name: ArrayRef = Arc::new(StringArray::from(vec![Some("a,\"b\""), None]));
        let mut m = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
        m.keys().append_value("k");
        m.values().append_value("v");
        m.append(true).unwrap();
        m.append(true).unwrap();
        let map: ArrayRef = Arc::new(m.finish());
        let batch =
            RecordBatch::try_from_iter(vec![("eventtime", time), ("name", name), ("m", map)])
                .unwrap();
        let (first, second) = (batch.slice(0, 1), batch.slice(1, 1));
        (batch.schema(), vec![first, second])
    }

    fn render(format: PrintFormat, empty: bool) -> String {
        let (schema, batches) = batches();
        let mut out = Vec::new();
        let batches = if empty { &[][..] } else { &batches[..] };
        let rows = write_batches(format, schema, batches, &mut out).unwrap();
        assert_eq!(rows, if empty { 0 } else { 2 });
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_has_a_header_quotes_and_lake_timestamps() {
        assert_eq!(
            render(PrintFormat::Csv, false),
            "eventtime,name,m\n\
             2023-01-22 16:53:53.000,\"a,\"\"b\"\"\",\"{\"\"k\"\":\"\"v\"\"}\"\n\
             2023-01-22 16:53:54.250,,{}\n"
        );
        assert_eq!(render(PrintFormat::Csv, true), "eventtime,name,m\n");
    }

    #[test]
    fn csv_writes_views_and_null_timestamps_as_the_other_formats_do() {
        let time: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![
            None,
            Some(1_674_406_433_007),
        ]));
        let view: ArrayRef = Arc::new(StringViewArray::from(vec![
            Some("a string longer than twelve bytes, with a comma"),
            None,
        ]));
        let batch = RecordBatch::try_from_iter(vec![("t", time), ("v", view)]).unwrap();
        let mut out = Vec::new();
        write_batches(PrintFormat::Csv, batch.schema(), &[batch], &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "t,v\n\
             ,\"a string longer than twelve bytes, with a comma\"\n\
             2023-01-22 16:53:53.007,\n"
        );
    }

    #[test]
    fn json_is_one_array_and_ndjson_one_object_per_line() {
        let json = render(PrintFormat::Json, false);
        let parsed: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!([
                {"eventtime": "2023-01-22 16:53:53.000", "name": "a,\"b\"", "m": {"k": "v"}},
                {"eventtime": "2023-01-22 16:53:54.250", "name": null, "m": {}}
            ])
        );
        assert_eq!(render(PrintFormat::Json, true), "[]\n");
        let ndjson = render(PrintFormat::Ndjson, false);
        let lines: Vec<Value> = ndjson
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines, parsed.as_array().unwrap().clone());
        assert_eq!(render(PrintFormat::Ndjson, true), "");
    }

    #[test]
    fn table_shows_lake_timestamps_and_the_header_when_empty() {
        let table = render(PrintFormat::Table, false);
        assert!(table.contains("| 2023-01-22 16:53:53.000 |"), "{table}");
        assert!(table.contains("{k: v}"), "{table}");
        let empty = render(PrintFormat::Table, true);
        assert!(empty.contains("| eventtime | name | m |"), "{empty}");
    }

    #[test]
    fn field_accesses_are_named_after_the_field() {
        let schema = Arc::new(Schema::new(vec![
            Field::new(
                "t.eventdata[useridentity][principalid]",
                DataType::Utf8,
                true,
            ),
            Field::new("eventtime", DataType::Utf8, true),
            Field::new("t.eventdata[eventtime]", DataType::Utf8, true),
            Field::new("element_at(r, Int64(1))[arn]", DataType::Utf8, true),
            Field::new("t.list[Int64(1)]", DataType::Utf8, true),
        ]));
        let names: Vec<String> = lake_names(&schema)
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(
            names,
            [
                "principalid",
                "eventtime",
                "t.eventdata[eventtime]",
                "arn",
                "t.list[Int64(1)]"
            ]
        );
    }

    #[test]
    fn format_names_parse_ignoring_case() {
        assert_eq!("NDJSON".parse::<PrintFormat>(), Ok(PrintFormat::Ndjson));
        assert!(
            "xml"
                .parse::<PrintFormat>()
                .unwrap_err()
                .contains("table, csv")
        );
    }
}
