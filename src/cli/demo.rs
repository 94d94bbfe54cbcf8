//! `auditlake demo`: sample events in a temporary store, and the REPL opened on them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Parser;

use super::{Args, Command, ReplArgs, control};
use crate::catalog::Catalog;
use crate::ingest::{self, IngestOptions};
use crate::sample::{self, SampleConfig};
use crate::store::StoreWriter;

/// Runs a control-plane command given as arguments, as a user would type it.
pub fn control(root: &Path, argv: &[&str]) -> anyhow::Result<serde_json::Value> {
    let args = Args::try_parse_from(std::iter::once("auditlake").chain(argv.iter().copied()))?;
    match args.command {
        Some(Command::Control(cmd)) => Ok(control::run_control(cmd, root)?),
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

/// Three things worth trying first, shown in the demo's banner.
pub const SUGGESTIONS: [&str; 3] = [
    "SELECT eventData.eventSource, count(*) AS events FROM demo-events GROUP BY 1 ORDER BY 2 DESC;",
    "SELECT eventTime, eventData.userIdentity.principalId, eventData.eventName, eventData.errorCode\n  \
     FROM demo-events WHERE eventData.errorCode IS NOT NULL ORDER BY eventTime DESC LIMIT 10;",
    "\\run okta-password-spraying",
];

/// The demo's greeting: where the store is, what it holds, and what to type.
fn banner(root: &Path, eds_id: &str, events: u64) -> String {
    let mut text = format!(
        "Demo store at {} with {events} sample events in event data store demo-events ({eds_id}).\n\
         Queries worth trying (Tab completes names and column paths; \\? lists the commands):\n",
        root.display()
    );
    for suggestion in SUGGESTIONS {
        text.push_str(&format!("\n  {suggestion}\n"));
    }
    text
}

/// Seeds a store (temporary unless `keep` names a directory) and opens the REPL on it.
pub async fn run(keep: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let temp;
    let root = match keep {
        Some(dir) => dir,
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let events = SampleConfig::default().events;
    let eds_id = seed_store(&root, events)?;
    super::repl(
        &root,
        ReplArgs::default(),
        Some(banner(&root, &eds_id, events)),
    )
    .await
}
