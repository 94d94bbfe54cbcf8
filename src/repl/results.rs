//! Running one query for the REPL: streamed output, and in table mode a row limit and cut values.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use futures::StreamExt;

use crate::query::cells::text_value;
use crate::query::{PrintFormat, QueryEngine, QueryError, QueryStats, ResultWriter, write_batches};

/// How much of a result the table format shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Rows shown; a longer result stops there, with a note.
    pub max_rows: usize,
    /// Characters shown of one value; longer ones end in `…`.
    pub max_width: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_rows: 1000,
            max_width: 60,
        }
    }
}

/// What a query did: its figures, and whether the table stopped at the row limit.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    pub stats: QueryStats,
    pub limited: bool,
}

/// Runs `sql` and prints its rows to `out`. CSV and JSON get every row and the full values;
/// the table gets at most `limits.max_rows` rows (the query stops there) with long values cut.
pub async fn run_query(
    engine: &QueryEngine,
    sql: &str,
    params: &[(String, String)],
    format: PrintFormat,
    limits: Limits,
    out: &mut dyn Write,
) -> Result<Outcome, QueryError> {
    let started = Instant::now();
    let plan = engine.physical_plan(sql, params).await?;
    let mut stream = engine.stream(&plan)?;
    let (rows, limited) = match format {
        PrintFormat::Table => {
            let mut held = Vec::new();
            let mut rows = 0;
            let mut limited = false;
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                let room = limits.max_rows - rows;
                if batch.num_rows() > room {
                    held.push(batch.slice(0, room));
                    rows += room;
                    limited = true;
                    break;
                }
                rows += batch.num_rows();
                held.push(batch);
            }
            drop(stream); // stops the query if the limit cut it short
            print_table(plan.schema(), &held, limits.max_width, out)?;
            (rows as u64, limited)
        }
        _ => {
            let mut writer = ResultWriter::new(format, plan.schema(), out);
            while let Some(batch) = stream.next().await {
                writer.write(&batch?)?;
            }
            (writer.finish()?, false)
        }
    };
    let stats = crate::query::session::plan_stats(&plan, rows, started);
    Ok(Outcome { stats, limited })
}

/// Prints rows as a table of their CSV text (so values read as in CSV: Lake timestamps,
/// compact JSON for maps and structs), each value cut to `max_width` characters.
fn print_table(
    schema: SchemaRef,
    batches: &[RecordBatch],
    max_width: usize,
    out: &mut dyn Write,
) -> Result<(), QueryError> {
    let text_schema = Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let mut cut = Vec::with_capacity(batches.len());
    for batch in batches {
        let columns = batch
            .columns()
            .iter()
            .map(|c| shortened_text(c.as_ref(), max_width))
            .collect::<Result<Vec<_>, _>>()?;
        cut.push(RecordBatch::try_new(Arc::clone(&text_schema), columns)?);
    }
    write_batches(PrintFormat::Table, text_schema, &cut, out)?;
    Ok(())
}

/// A column's cells as text (NULL stays NULL), line breaks shown as spaces and values past
/// `max_width` characters cut.
fn shortened_text(column: &dyn Array, max_width: usize) -> Result<ArrayRef, ArrowError> {
    let values = (0..column.len()).map(|row| {
        if column.is_null(row) {
            return Ok(None);
        }
        let flat = text_value(column, row)?.replace(['\n', '\r'], " ");
        Ok(Some(
            match flat.char_indices().nth(max_width.saturating_sub(1)) {
                Some((end, _)) if flat.chars().count() > max_width => format!("{}…", &flat[..end]),
                _ => flat,
            },
        ))
    });
    Ok(Arc::new(
        values.collect::<Result<StringArray, ArrowError>>()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_and_line_breaks_flattened() {
        let column = StringArray::from(vec![Some("abcdefgh"), Some("a\nb"), None, Some("ééééé")]);
        let short = shortened_text(&column, 5).unwrap();
        let short = short.as_any().downcast_ref::<StringArray>().unwrap();
        let values: Vec<Option<&str>> = short.iter().collect();
        assert_eq!(values, [Some("abcd…"), Some("a b"), None, Some("ééééé")]);
    }

    #[test]
    fn the_table_shows_csv_text_with_nulls_blank() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, true),
            Field::new("s", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(arrow::array::Int64Array::from(vec![Some(1), None])),
                Arc::new(StringArray::from(vec![Some("x,\"y\""), Some("0123456789")])),
            ],
        )
        .unwrap();
        let mut out = Vec::new();
        print_table(schema, &[batch], 6, &mut out).unwrap();
        let table = String::from_utf8(out).unwrap();
        assert!(table.contains("| 1 | x,\"y\"  |"), "{table}");
        assert!(table.contains("|   | 01234… |"), "{table}");
    }
}
