//! `auditlake demo`: sample events in a temporary store, and the example queries run on them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Parser;

use super::{Args, Command, control};
use crate::catalog::Catalog;
use crate::ingest::{self, IngestOptions};
use crate::query::{self, PrintFormat};
use crate::sample::{self, SampleConfig};
use crate::store::StoreWriter;

/// Runs a control-plane command given as arguments, as a user would type it.
pub fn control(root: &Path, argv: &[&str]) -> anyhow::Result<serde_json::Value> {
    let args = Args::try_parse_from(std::iter::once("auditlake").chain(argv.iter().copied()))?;
    match args.command {
        Command::Control(cmd) => Ok(control::run_control(cmd, root)?),
        _ => bail!("{} is not a control-plane command", argv[0]),
    }
}

fn field(response: &serde_json::Value, name: &str) -> anyhow::Result<String> {
    response[name]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("the response has no {name}: {response}"))
}

/// Sets up a store with one integration event data store fed by one channel, loaded with
/// the sample events. Returns the event data store's ID.
pub fn seed_store(root: &Path, events: u64) -> anyhow::Result<String> {
    control(root, &["init"])?;
    let eds = control(root, &["create-event-data-store", "--name", "demo-events"])?;
    let eds_arn = field(&eds, "EventDataStoreArn")?;
    let channel = control(
        root,
        &[
            "create-channel",
            "--name",
            "demo-channel",
            "--source",
            "Custom",
            "--destinations",
            &format!("Type=EVENT_DATA_STORE,Location={eds_arn}"),
        ],
    )?;
    let channel_arn = field(&channel, "ChannelArn")?;
    let catalog = Catalog::load(root)?;
    let sample_file = root.join("sample-events.ndjson");
    let config = SampleConfig {
        events,
        recipient_account_id: catalog.account_id.clone(),
        ..SampleConfig::default()
    };
    let mut out = std::io::BufWriter::new(std::fs::File::create(&sample_file)?);
    sample::generate(&config, &mut out)?;
    out.flush()?;
    drop(out);
    let writer = StoreWriter::open(root)?;
    let target = ingest::target::resolve(&catalog, &channel_arn, &catalog.account_id, None)?;
    ingest::ingest_paths(&writer, &target, &[sample_file], &IngestOptions::default())?;
    Ok(eds_arn.rsplit('/').next().unwrap_or_default().to_string())
}

/// The example queries: `queries/*.sql` of the source tree, or of the current directory.
fn example_queries() -> Vec<PathBuf> {
    for dir in [
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("queries"),
        PathBuf::from("queries"),
    ] {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            let mut files: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "sql"))
                .collect();
            files.sort();
            return files;
        }
    }
    Vec::new()
}

pub async fn run(keep: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let temp;
    let root = match keep {
        Some(dir) => dir,
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let eds_id = seed_store(&root, SampleConfig::default().events)?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Demo store at {} with {} sample events in event data store demo-events ({eds_id}).\n",
        root.display(),
        SampleConfig::default().events
    )?;
    let params = vec![("eds".to_string(), eds_id)];
    for file in example_queries() {
        let sql = std::fs::read_to_string(&file)?;
        let title = sql
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("--"))
            .unwrap_or_default()
            .trim();
        writeln!(out, "== {} ({})", title, file.display())?;
        match query::run(&root, &sql, &params, PrintFormat::Table, &mut out).await {
            Ok(stats) => writeln!(out, "{stats}\n")?,
            Err(e) => writeln!(out, "error: {e}\n")?,
        }
    }
    Ok(ExitCode::SUCCESS)
}
