//! The command line: clap definitions, the resolved settings, and dispatch to the stages.
//!
//! This layer belongs to the binary, so it reports errors with `anyhow`; the stages it calls
//! return typed errors.

pub mod control;
mod data;
mod demo;
mod import;
mod replay;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use data::{IngestArgs, PutArgs, QueryArgs, SampleArgs, VerifyArgs};

const ABOUT: &str = "A local CloudTrail Lake workbench: hold audit events in a Parquet event store, \
ingest them exactly as PutAuditEvents would, and query them with the SQL CloudTrail Lake users write.";

const AFTER_HELP: &str = "Start with `auditlake demo` (sample data in a temporary store), or:
  auditlake create-event-data-store --name my-events
  auditlake create-channel --name my-app --source Custom \\
      --destinations Type=EVENT_DATA_STORE,Location=<EventDataStoreArn>
  auditlake ingest --channel-arn <ChannelArn> events.ndjson
  auditlake query \"SELECT eventData.eventName, count(*) FROM my-events GROUP BY 1\"

The store lives in --store DIR, else $AUDITLAKE_STORE, else $XDG_DATA_HOME/auditlake
(~/.local/share/auditlake). It is created on first use.";

#[derive(Debug, Parser)]
#[command(name = "auditlake", version, about = ABOUT, after_help = AFTER_HELP)]
pub struct Args {
    /// The store directory [default: $XDG_DATA_HOME/auditlake or ~/.local/share/auditlake]
    #[arg(long, global = true, env = "AUDITLAKE_STORE", value_name = "DIR")]
    pub store: Option<PathBuf>,

    /// Without a command, the REPL opens on the store
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    #[command(flatten)]
    Control(control::ControlCommand),
    /// Send events to a channel as the PutAuditEvents API does; prints its JSON response
    PutAuditEvents(PutArgs),
    /// Load files of events (NDJSON, JSON arrays, PutAuditEvents requests, .gz) through a channel
    Ingest(IngestArgs),
    /// Import CloudTrail log files and S3 export trees into a Management or Data event data store
    Import(import::ImportArgs),
    /// Run SQL (CloudTrail Lake's dialect) over the store
    Query(QueryArgs),
    /// Recompute every event's checksum and report rows whose eventjson changed
    Verify(VerifyArgs),
    /// Merge small Parquet files and drop events past their store's retention period
    Compact(data::CompactArgs),
    /// Write realistic, deterministic sample events (NDJSON of eventData)
    Sample(SampleArgs),
    /// Serve the CloudTrail Data API (PutAuditEvents) on a local HTTP endpoint for AWS SDKs and the AWS CLI
    Serve(serve::ServeArgs),
    /// Send selected events to a CloudTrail Lake channel with the AWS SDK, resuming where it stopped
    Replay(replay::ReplayArgs),
    /// Open the interactive SQL session (the default); reads statements from stdin when it is not a terminal
    Repl(ReplArgs),
    /// Load the bundled sample data into a temporary store and open the REPL on it
    Demo(data::DemoArgs),
}

/// Options of the REPL.
#[derive(Debug, clap::Args)]
pub struct ReplArgs {
    /// How results are printed at first (`\format` changes it)
    #[arg(long, value_enum, default_value_t = crate::query::PrintFormat::Table)]
    pub format: crate::query::PrintFormat,
    /// Rows a table shows before it stops (CSV and JSON formats print every row)
    #[arg(long, default_value_t = crate::repl::Limits::default().max_rows, value_name = "N")]
    pub max_rows: usize,
}

impl Default for ReplArgs {
    fn default() -> ReplArgs {
        ReplArgs {
            format: crate::query::PrintFormat::Table,
            max_rows: crate::repl::Limits::default().max_rows,
        }
    }
}

/// Opens the REPL on `root`; fails when statements read from stdin failed.
pub async fn repl(
    root: &std::path::Path,
    a: ReplArgs,
    banner: Option<String>,
) -> anyhow::Result<ExitCode> {
    let config = crate::repl::ReplConfig {
        format: a.format,
        limits: crate::repl::Limits {
            max_rows: a.max_rows.max(1),
            ..crate::repl::Limits::default()
        },
        banner,
        history: None,
    };
    let errors = crate::repl::run(root, config).await?;
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The store directory the user chose, or the documented default.
pub fn store_dir(arg: Option<PathBuf>) -> PathBuf {
    if let Some(dir) = arg {
        return dir;
    }
    let data_home = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    data_home.join("auditlake")
}

/// Runs one command; the exit code says whether everything it was given went through.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let root = store_dir(args.store);
    let command = args.command.unwrap_or(Command::Repl(ReplArgs::default()));
    if !matches!(command, Command::Sample(_) | Command::Demo(_)) {
        data::purge_expired_stores(&root)?;
    }
    match command {
        Command::Control(cmd) => {
            let response = control::run_control(cmd, &root)?;
            data::print_json(&response)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::PutAuditEvents(a) => data::put_audit_events(&root, a).await,
        Command::Ingest(a) => data::ingest(&root, a).await,
        Command::Import(a) => import::run(&root, a).await,
        Command::Query(a) => data::query(&root, a).await,
        Command::Verify(a) => data::verify(&root, a),
        Command::Compact(a) => data::compact(&root, a).await,
        Command::Sample(a) => data::sample(a),
        Command::Serve(a) => serve::run(&root, a).await,
        Command::Replay(a) => replay::run(&root, a).await,
        Command::Repl(a) => repl(&root, a, None).await,
        Command::Demo(a) => data::demo(a).await,
    }
}
