//! `auditlake replay`: flags and the run of a replay to a CloudTrail Lake channel.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;

use crate::replay::management::MAPPING_HELP;
use crate::replay::{self, ReplayConfig, SdkSettings, SdkTransport, Selection};

/// Exit code of a replay stopped by SIGINT or SIGTERM.
pub const EXIT_INTERRUPTED: u8 = 130;

const AFTER_HELP: &str = "Selection: --event-data-store X [--where PRED] runs \
`SELECT eventid, eventjson, eventjsonchecksum FROM X WHERE PRED`; --query runs your SELECT, \
which must return an eventjson column and should return eventid (the journal's key for the \
event; without it the payload's checksum is used) and eventjsonchecksum (verified before \
sending). Lake SQL as in `auditlake query`.

Each event's stored payload (eventjson) is sent byte for byte with its eventDataChecksum; \
--recipient-account-id rewrites recipientAccountId only, and the checksum is recomputed. \
Batches hold at most 100 events and 1 MB; ids are the source eventids. Throttling, \
InternalFailure, throttled or 5xx requests and dropped connections are retried with \
exponential backoff and jitter; other failures are final and reported by code.

Journal: every outcome is recorded in the store (SQL table replay_journal: run_id, \
recorded_at, channel_arn, source_store, source_event_id, batch, attempt, audit_event_id, \
status, event_id, error_code, error_message, checksum). A re-run sends only what was not \
delivered to that channel (--force sends everything). Events whose request was in flight \
when a replay was killed (kill -9, power loss) are 'unconfirmed': Lake may or may not have \
them, and they are not sent again unless --resend-unconfirmed. SIGINT/SIGTERM stop cleanly \
(requests in flight are answered and journaled first).

";

/// Options of `auditlake replay`.
#[derive(Debug, clap::Args)]
#[command(after_help = format!("{AFTER_HELP}{MAPPING_HELP}\n\nExit status: 0 when every selected \
event is delivered (now or before), 3 when some failed or are unconfirmed, 130 when \
interrupted, 1 on an error that stopped the run."))]
pub struct ReplayArgs {
    /// The target channel's ARN (its region is the default --region)
    #[arg(long, value_name = "ARN")]
    pub channel_arn: String,
    /// Replay the events of this event data store (ARN, ID or name)
    #[arg(
        long,
        value_name = "X",
        required_unless_present = "query",
        conflicts_with = "query"
    )]
    pub event_data_store: Option<String>,
    /// Only events matching this SQL predicate (with --event-data-store)
    #[arg(long = "where", value_name = "PRED", requires = "event_data_store")]
    pub predicate: Option<String>,
    /// Replay the rows of this SELECT (must return eventjson; see below)
    #[arg(long, value_name = "SQL")]
    pub query: Option<String>,
    /// The external ID the channel's resource policy asks for
    #[arg(long, value_name = "X")]
    pub external_id: Option<String>,
    /// AWS region [default: the channel ARN's]
    #[arg(long, value_name = "R")]
    pub region: Option<String>,
    /// Named profile of the AWS config and credentials files
    #[arg(long, value_name = "P")]
    pub profile: Option<String>,
    /// Send to this endpoint instead of AWS's (e.g. `auditlake serve`)
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Rewrite every event's recipientAccountId (the target account) and recompute its checksum
    #[arg(long, value_name = "ID")]
    pub recipient_account_id: Option<String>,
    /// Check every event against the target's rules and print the batches, without network
    #[arg(long)]
    pub dry_run: bool,
    /// At most N PutAuditEvents calls a second, retries included
    #[arg(long, value_name = "N", value_parser = positive)]
    pub max_rps: Option<f64>,
    /// Requests in flight at once
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Send events even if an earlier run delivered them to this channel
    #[arg(long)]
    pub force: bool,
    /// Send events an earlier, killed run left unconfirmed (those that did arrive arrive twice)
    #[arg(long)]
    pub resend_unconfirmed: bool,
    /// Print the summary as JSON on stdout
    #[arg(long)]
    pub json: bool,
}

fn positive(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(n) if n > 0.0 && n.is_finite() => Ok(n),
        _ => Err(format!("{text:?} is not a positive number")),
    }
}

/// Runs `auditlake replay`.
pub async fn run(root: &Path, args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let selection = match (args.event_data_store, args.query) {
        (Some(key), _) => Selection::Store {
            key,
            predicate: args.predicate,
        },
        (None, Some(sql)) => Selection::Query(sql),
        (None, None) => anyhow::bail!("give --event-data-store or --query"),
    };
    let interrupted = Arc::new(AtomicBool::new(false));
    let config = ReplayConfig {
        channel_arn: args.channel_arn,
        selection,
        recipient_account_id: args.recipient_account_id,
        max_rps: args.max_rps,
        concurrency: usize::from(args.concurrency),
        force: args.force,
        resend_unconfirmed: args.resend_unconfirmed,
        progress: std::io::stderr().is_terminal() && !args.dry_run,
        interrupted: Arc::clone(&interrupted),
    };
    let region = match args.region {
        Some(r) => r,
        None => config.channel_region()?,
    };
    let mut stdout = std::io::stdout().lock();
    let summary = if args.dry_run {
        // With --json, stdout holds the summary alone; the batches go to stderr.
        let mut listing: Box<dyn Write> = match args.json {
            true => Box::new(std::io::stderr().lock()),
            false => Box::new(&mut stdout),
        };
        let summary = replay::dry_run(root, &config, &mut listing)
            .await
            .context("dry run")?;
        drop(listing);
        summary
    } else {
        let settings = SdkSettings {
            channel_arn: config.channel_arn.clone(),
            external_id: args.external_id,
            region,
            profile: args.profile,
            endpoint_url: args.endpoint_url,
        };
        let transport = SdkTransport::new(&settings).await;
        watch_signals(interrupted);
        replay::replay(root, &config, transport)
            .await
            .with_context(|| format!("replay to {}", config.channel_arn))?
    };
    if args.json {
        serde_json::to_writer_pretty(&mut stdout, &summary)?;
        writeln!(stdout)?;
    } else {
        write!(stdout, "{summary}")?;
    }
    stdout.flush()?;
    Ok(if summary.interrupted {
        ExitCode::from(EXIT_INTERRUPTED)
    } else if summary.complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::data::EXIT_PARTIAL)
    })
}

/// On SIGINT or SIGTERM, asks the replay to stop cleanly; a second signal exits at once.
fn watch_signals(interrupted: Arc<AtomicBool>) {
    tokio::spawn(async move {
        super::serve::first_signal(
            "auditlake replay: stopping after the requests in flight (signal again to quit now)",
            "auditlake replay: stopped; requests in flight are unconfirmed",
            i32::from(EXIT_INTERRUPTED),
        )
        .await;
        interrupted.store(true, Ordering::SeqCst);
    });
}
