//! The data-plane commands: put-audit-events, ingest, query, verify, compact, sample, demo.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Parser;

use crate::catalog::Catalog;
use crate::ingest::{self, IngestOptions, PutAuditEventsRequest};
use crate::query::{self, PrintFormat};
use crate::sample::{self, SampleConfig};
use crate::store::{self, StoreWriter};

/// Exit code of a run that finished but refused some events or files.
pub const EXIT_PARTIAL: u8 = 3;

#[derive(Debug, Parser)]
pub struct PutArgs {
    /// The channel: its ARN, its ID or its name
    #[arg(long, value_name = "ARN")]
    pub channel_arn: Option<String>,
    /// The external ID the channel's resource policy asks for
    #[arg(long)]
    pub external_id: Option<String>,
    /// The account the call comes from [default: the store's account]
    #[arg(long, value_name = "ID")]
    pub caller_account_id: Option<String>,
    /// The events: a JSON list of {id, eventData, eventDataChecksum}, inline or file://PATH
    #[arg(long, value_name = "JSON", conflicts_with = "cli_input_json")]
    pub audit_events: Option<String>,
    /// A whole request as the AWS CLI takes it: {channelArn, externalId, auditEvents}, inline or file://PATH
    #[arg(long, value_name = "JSON")]
    pub cli_input_json: Option<String>,
}

#[derive(Debug, Parser)]
#[command(
    after_help = "Formats are recognised from content: NDJSON (one eventData object per \
line), a JSON array of eventData objects or of {id, eventData, eventDataChecksum}, or a \
PutAuditEvents request file; gzip is detected too. Directories are read recursively.

Exit status: 0 when every event was accepted, 3 when some events or files were refused \
(see the summary and --rejects), 1 on an error that stopped the run."
)]
pub struct IngestArgs {
    /// The channel to ingest through: its ARN, its ID or its name
    #[arg(long, value_name = "ARN")]
    pub channel_arn: String,
    /// The external ID the channel's resource policy asks for
    #[arg(long)]
    pub external_id: Option<String>,
    /// The account the events come from [default: the store's account]
    #[arg(long, value_name = "ID")]
    pub caller_account_id: Option<String>,
    /// Write each refused event with its location and reason to FILE (NDJSON)
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// Print the summary as JSON on stdout
    #[arg(long)]
    pub json: bool,
    /// Commit after every N accepted events per worker thread: an interrupted run keeps
    /// everything committed before it
    #[arg(long, value_name = "N", default_value_t = ingest::bulk::COMMIT_ROWS)]
    pub commit_every: u64,
    /// Files or directories to load
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Parser)]
#[command(
    after_help = "FROM takes an event data store's ID (bare, as in CloudTrail Lake), its \
name or its ARN. Example:
  auditlake query \"SELECT eventData.eventName, count(*) AS n FROM my-events GROUP BY 1 ORDER BY n DESC\""
)]
pub struct QueryArgs {
    /// The SQL statement (or use -f)
    #[arg(value_name = "SQL", required_unless_present = "file")]
    pub sql: Option<String>,
    /// Read the statement from FILE
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        conflicts_with = "sql"
    )]
    pub file: Option<PathBuf>,
    /// Fill ${KEY} in the statement with VALUE (repeatable)
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: PrintFormat,
    /// Write the result to FILE instead of stdout
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print elapsed time, rows, and bytes and rows scanned on stderr
    #[arg(long)]
    pub timing: bool,
}

#[derive(Debug, Parser)]
pub struct VerifyArgs {
    /// Check only this event data store (ARN, ID or name) [default: all]
    #[arg(long, value_name = "X")]
    pub event_data_store: Option<String>,
}

#[derive(Debug, Parser)]
pub struct CompactArgs {
    /// Compact only this event data store (ARN, ID or name) [default: all]
    #[arg(long, value_name = "X")]
    pub event_data_store: Option<String>,
}

#[derive(Debug, Parser)]
pub struct SampleArgs {
    /// How many events to write
    #[arg(long, default_value_t = 5000)]
    pub events: u64,
    /// Seed of the generator: the same seed writes the same file
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The recipientAccountId of every event (the channel owner's account)
    #[arg(long, default_value = "123456789012", value_name = "ID")]
    pub recipient_account_id: String,
    /// Output file [default: stdout]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Parser)]
pub struct DemoArgs {
    /// Keep the demo store in DIR instead of a temporary directory
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    let (k, v) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not KEY=VALUE"))?;
    Ok((k.trim().to_string(), v.to_string()))
}

/// Reads an AWS-CLI-style argument: inline text, or `file://PATH`.
pub fn inline_or_file(value: &str) -> anyhow::Result<String> {
    match value.strip_prefix("file://") {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("cannot read {path}")),
        None => Ok(value.to_string()),
    }
}

pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

fn caller(catalog: &Catalog, given: Option<String>) -> String {
    given.unwrap_or_else(|| catalog.account_id.clone())
}

pub async fn put_audit_events(root: &Path, a: PutArgs) -> anyhow::Result<ExitCode> {
    let mut request = match (&a.cli_input_json, &a.audit_events) {
        (Some(input), _) => {
            let text = inline_or_file(input)?;
            serde_json::from_str::<PutAuditEventsRequest>(&text)
                .context("--cli-input-json is not a PutAuditEvents request")?
        }
        (None, Some(events)) => {
            let text = inline_or_file(events)?;
            PutAuditEventsRequest {
                audit_events: serde_json::from_str(&text).context(
                    "--audit-events is not a JSON list of {id, eventData, eventDataChecksum}",
                )?,
                ..PutAuditEventsRequest::default()
            }
        }
        (None, None) => bail!("give the events with --audit-events or --cli-input-json"),
    };
    if a.channel_arn.is_some() {
        request.channel_arn = a.channel_arn;
    }
    if a.external_id.is_some() {
        request.external_id = a.external_id;
    }
    if request.channel_arn.is_none() {
        bail!("give the channel with --channel-arn (or channelArn in --cli-input-json)");
    }
    let writer = StoreWriter::open(root)?;
    let catalog = Catalog::load(root)?;
    let caller = caller(&catalog, a.caller_account_id);
    let response = ingest::put_audit_events(&writer, &catalog, &request, &caller)?;
    print_json(&response)?;
    let channel = catalog.find_channel(request.channel_arn.as_deref().unwrap_or_default())?;
    for destination in &channel.destinations {
        let eds = catalog.find_event_data_store(&destination.location)?;
        store::compact::compact_if_fragmented(&writer, &catalog, eds.id(), progress()).await?;
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn ingest(root: &Path, a: IngestArgs) -> anyhow::Result<ExitCode> {
    let writer = StoreWriter::open(root)?;
    let catalog = Catalog::load(root)?;
    let caller = caller(&catalog, a.caller_account_id);
    let target =
        ingest::target::resolve(&catalog, &a.channel_arn, &caller, a.external_id.as_deref())?;
    let options = IngestOptions {
        rejects: a.rejects.clone(),
        progress: progress(),
        threads: 0,
        commit_rows: a.commit_every.max(1),
    };
    let summary = ingest::ingest_paths(&writer, &target, &a.paths, &options)?;
    for eds_id in &target.event_data_store_ids {
        store::compact::compact_if_fragmented(&writer, &catalog, eds_id, options.progress).await?;
    }
    if a.json {
        print_json(&summary)?;
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "files:    {} ({} could not be read)",
            summary.files,
            summary.files_failed.len()
        )?;
        writeln!(
            out,
            "events:   {} read, {} accepted, {} refused",
            summary.events,
            summary.accepted,
            summary.events - summary.accepted
        )?;
        for (code, n) in &summary.failed {
            writeln!(out, "  {code}: {n}")?;
        }
        for (file, why) in &summary.files_failed {
            writeln!(out, "  {file}: {why}")?;
        }
        writeln!(
            out,
            "commits:  {} in {:.1} s ({:.0} events/s)",
            summary.commits,
            summary.seconds,
            summary.accepted as f64 / summary.seconds.max(1e-9)
        )?;
        if let Some(path) = &a.rejects {
            writeln!(out, "refused events written to {}", path.display())?;
        }
    }
    let complete = summary.accepted == summary.events && summary.files_failed.is_empty();
    Ok(if complete {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_PARTIAL)
    })
}

pub async fn query(root: &Path, a: QueryArgs) -> anyhow::Result<ExitCode> {
    let sql = match (&a.sql, &a.file) {
        (_, Some(file)) => std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?,
        (Some(sql), None) => sql.clone(),
        (None, None) => bail!("give a SQL statement or -f FILE"),
    };
    let stats = match &a.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            let mut out = std::io::BufWriter::new(file);
            let stats = query::run(root, &sql, &a.params, a.format, &mut out).await?;
            out.flush()?;
            stats
        }
        None => {
            let mut out = std::io::stdout().lock();
            query::run(root, &sql, &a.params, a.format, &mut out).await?
        }
    };
    if a.timing {
        eprintln!("{stats}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn verify(root: &Path, a: VerifyArgs) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::load(root)?;
    let stores: Vec<_> = match &a.event_data_store {
        Some(key) => vec![catalog.find_event_data_store(key)?],
        None => catalog.event_data_stores.iter().collect(),
    };
    let reader = store::Store::open(root)?;
    let mut out = std::io::stdout().lock();
    let mut bad = 0u64;
    for eds in stores {
        let report = store::verify::verify(&reader, eds.id())?;
        for m in &report.mismatches {
            writeln!(
                out,
                "{} {}: eventid {}: {}",
                eds.name,
                m.file.display(),
                m.event_id,
                m.problem
            )?;
        }
        writeln!(
            out,
            "{} ({}): {} events checked, {} mismatched",
            eds.name,
            eds.id(),
            report.checked,
            report.mismatches.len()
        )?;
        bad += report.mismatches.len() as u64;
    }
    Ok(if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Removes, for good, event data stores that have been pending deletion for over 7 days.
/// Reads the catalog without the lock and takes it only when there is something to remove.
pub fn purge_expired_stores(root: &Path) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    if Catalog::load(root)?.purge_expired(now).is_empty() {
        return Ok(());
    }
    let writer = StoreWriter::open(root)?;
    let mut catalog = Catalog::load(root)?;
    let removed = catalog.purge_expired(now);
    catalog.save(root)?;
    for id in removed {
        writer.remove_event_data_store(&id)?;
        eprintln!(
            "auditlake: removed event data store {id}: pending deletion for more than 7 days"
        );
    }
    Ok(())
}

/// Whether long work shows a bar: only when stderr is a terminal.
fn progress() -> bool {
    std::io::stderr().is_terminal()
}

pub async fn compact(root: &Path, a: CompactArgs) -> anyhow::Result<ExitCode> {
    let writer = StoreWriter::open(root)?;
    let catalog = Catalog::load(root)?;
    let ids: Vec<String> = match &a.event_data_store {
        Some(key) => vec![catalog.find_event_data_store(key)?.id().to_string()],
        None => catalog
            .event_data_stores
            .iter()
            .map(|e| e.id().to_string())
            .collect(),
    };
    for id in ids {
        let report = store::compact::compact(&writer, &catalog, &id, progress()).await?;
        println!("{id}: {report}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn sample(a: SampleArgs) -> anyhow::Result<ExitCode> {
    let config = SampleConfig {
        events: a.events,
        seed: a.seed,
        recipient_account_id: a.recipient_account_id,
        ..SampleConfig::default()
    };
    match &a.out {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            let mut out = std::io::BufWriter::new(file);
            sample::generate(&config, &mut out)?;
            out.flush()?;
        }
        None => sample::generate(&config, &mut std::io::stdout().lock())?,
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn demo(a: DemoArgs) -> anyhow::Result<ExitCode> {
    super::demo::run(a.keep).await
}
