//! `auditlake import`: CloudTrail log files and export trees into a management event store.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use clap::Parser;

use crate::catalog::Catalog;
use crate::import::{self, ImportOptions, ImportSummary};
use crate::store::{self, StoreWriter};

use super::data::{EXIT_PARTIAL, print_json};

#[derive(Debug, Parser)]
#[command(
    after_help = "Reads CloudTrail log files as delivered to S3 ({\"Records\": [...]}, .json \
or .json.gz), whole export trees (AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/...), JSON \
arrays and NDJSON of records. Digest files and other files in directories are skipped and \
counted. An event whose eventID the store already holds is not imported again.

Exit status: 0 when every record was read, 3 when some records or files could not be \
(they are listed in the summary), 1 on an error that stopped the run.

Example:
  auditlake create-event-data-store --name trail --advanced-event-selectors \\
      '[{\"Name\":\"m\",\"FieldSelectors\":[{\"Field\":\"eventCategory\",\"Equals\":[\"Management\"]}]}]'
  auditlake import --event-data-store trail ./AWSLogs"
)]
pub struct ImportArgs {
    /// The Management or Data event data store to import into: its ARN, ID or name
    #[arg(long, value_name = "X")]
    pub event_data_store: String,
    /// Import only events at or after this time (2024-01-31T12:00:00Z, 2024-01-31 12:00:00 or 2024-01-31)
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub start_time: Option<DateTime<Utc>>,
    /// Import only events at or before this time
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub end_time: Option<DateTime<Utc>>,
    /// Print the summary as JSON on stdout
    #[arg(long)]
    pub json: bool,
    /// Worker threads [default: one per core]
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Files or directories to import
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// A time as Lake's StartImport takes it, or as people write it; UTC unless it says otherwise.
fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    Err(format!(
        "{text:?} is not a time (use 2024-01-31T12:00:00Z, 2024-01-31 12:00:00 or 2024-01-31)"
    ))
}

pub async fn run(root: &Path, a: ImportArgs) -> anyhow::Result<ExitCode> {
    if let (Some(s), Some(e)) = (a.start_time, a.end_time)
        && s > e
    {
        bail!("--start-time {s} is after --end-time {e}");
    }
    let writer = StoreWriter::open(root)?;
    let catalog = Catalog::load(root)?;
    let eds = catalog.find_event_data_store(&a.event_data_store)?;
    let options = ImportOptions {
        start_ms: a.start_time.map(|t| t.timestamp_millis()),
        end_ms: a.end_time.map(|t| t.timestamp_millis()),
        progress: std::io::stderr().is_terminal(),
        threads: a.threads,
        commit_rows: 0,
    };
    let summary = import::import_paths(&writer, eds, &a.paths, &options)
        .with_context(|| format!("cannot import into {}", eds.name))?;
    store::compact::compact_if_fragmented(&writer, &catalog, eds.id(), options.progress).await?;
    warn_about_retention(&summary, eds.retention_period, &eds.name);
    if a.json {
        print_json(&summary)?;
    } else {
        print_summary(&mut std::io::stdout().lock(), &summary)?;
    }
    Ok(if summary.complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_PARTIAL)
    })
}

/// Imported events past the store's retention period are kept on disk but hidden from
/// queries (and dropped by the next compaction), as in Lake: say so rather than leave the
/// user with empty results.
fn warn_about_retention(summary: &ImportSummary, retention_days: u32, name: &str) {
    let cutoff = Utc::now() - chrono::Duration::days(i64::from(retention_days));
    let earliest = summary
        .earliest
        .as_deref()
        .and_then(|t| t.parse::<DateTime<Utc>>().ok());
    if earliest.is_some_and(|t| t < cutoff) {
        eprintln!(
            "auditlake: some imported events are older than the {retention_days}-day retention \
             period of {name} and are hidden from queries; keep them with \
             `update-event-data-store --event-data-store {name} --retention-period 3653`"
        );
    }
}

fn print_summary(out: &mut impl Write, s: &ImportSummary) -> std::io::Result<()> {
    writeln!(
        out,
        "files:    {} read ({} could not be read to the end), {} digest files and {} other files skipped",
        s.files,
        s.files_failed.len(),
        s.digest_files_skipped,
        s.other_files_skipped
    )?;
    writeln!(
        out,
        "records:  {} read, {} imported, {} already in the store, {} outside the time range, {} unreadable",
        s.records, s.imported, s.duplicates, s.outside_time_range, s.unreadable
    )?;
    for (category, n) in &s.by_category {
        writeln!(out, "  {category}: {n}")?;
    }
    if let (Some(first), Some(last)) = (&s.earliest, &s.latest) {
        writeln!(out, "time:     {first} to {last}")?;
    }
    for (file, why) in &s.files_failed {
        writeln!(out, "  {file}: {why}")?;
    }
    for problem in &s.problems {
        writeln!(out, "  {problem}")?;
    }
    if s.unreadable as usize > s.problems.len() {
        writeln!(
            out,
            "  ... and {} more unreadable records",
            s.unreadable as usize - s.problems.len()
        )?;
    }
    writeln!(
        out,
        "commits:  {} in {:.1} s ({:.0} records/s)",
        s.commits,
        s.seconds,
        s.records as f64 / s.seconds.max(1e-9)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_the_usual_spellings() {
        let want = "2024-01-31T12:00:00Z".parse::<DateTime<Utc>>().unwrap();
        for text in [
            "2024-01-31T12:00:00Z",
            "2024-01-31 12:00:00",
            "2024-01-31T13:00:00+01:00",
        ] {
            assert_eq!(parse_time(text).unwrap(), want, "{text}");
        }
        assert_eq!(parse_time("2024-01-31").unwrap().timestamp() % 86_400, 0);
        assert!(parse_time("yesterday").is_err());
    }
}
