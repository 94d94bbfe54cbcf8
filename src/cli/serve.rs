//! `auditlake serve`: flags and the run of the local PutAuditEvents endpoint.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::catalog::Catalog;
use crate::serve::{self, Credentials, FaultConfig, ServeConfig};

const AFTER_HELP: &str = "Point any AWS SDK or the AWS CLI at the endpoint:
  aws cloudtrail-data put-audit-events --endpoint-url http://127.0.0.1:8470 \\
      --channel-arn <ChannelArn> --audit-events file://events.json

Requests must be signed (SigV4, service cloudtrail-data) for the store's region (see `init
--region`; give the AWS CLI --region if its default differs). The keys it accepts come from
--credentials FILE, one key per line:
  # ACCESS_KEY_ID        SECRET_ACCESS_KEY   ACCOUNT_ID
  AKIAEXAMPLEOWNER       owner-secret        123456789012
  AKIAEXAMPLEPARTNER     partner-secret      444455556666
or, without it, from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, acting for the store's account.
A key of another account may send only where the channel's resource policy allows it.

A 200 answer means the accepted events are committed (durable, visible to queries).
SIGINT/SIGTERM stop accepting, finish open requests, commit and exit 0; a second signal
exits at once (130).

Fault mode, for testing clients' retries: --fault-events F answers that fraction of valid
events in `failed` with Throttling or InternalFailure (not stored); --fault-requests F
answers that fraction of requests with 500 InternalServerException, 503
ServiceUnavailableException or a dropped connection, a third each (nothing stored);
--fault-seed N makes the choice repeatable.";

/// Options of `auditlake serve`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the bound address is printed on stderr)
    #[arg(long, value_name = "ADDR:PORT", default_value = serve::DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// Access keys and the accounts they act for: lines of ACCESS_KEY_ID SECRET ACCOUNT_ID
    /// [default: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY as the store's account]
    #[arg(long, value_name = "FILE")]
    pub credentials: Option<PathBuf>,
    /// Fraction (0 to 1) of valid events refused with Throttling or InternalFailure
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0, value_parser = fraction)]
    pub fault_events: f64,
    /// Fraction (0 to 1) of requests answered with 500, 503 or a dropped connection
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0, value_parser = fraction)]
    pub fault_requests: f64,
    /// Seed of fault mode's choices, for repeatable runs
    #[arg(long, value_name = "N")]
    pub fault_seed: Option<u64>,
    /// Requests processed at once; beyond it clients get 503 ThrottlingException
    #[arg(long, value_name = "N", default_value_t = serve::MAX_IN_FLIGHT)]
    pub max_in_flight: usize,
    /// Print one line per request on stderr
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

fn fraction(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if !(0.0..=1.0).contains(&value) {
        return Err(format!("{value} is not between 0 and 1"));
    }
    Ok(value)
}

/// Waits for SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// Completes at the first SIGINT or SIGTERM, after printing `stopping`, so that the caller
/// stops cleanly; a second signal prints `quit` and exits the process with `code` at once.
pub(super) async fn first_signal(stopping: &'static str, quit: &'static str, code: i32) {
    shutdown_signal().await;
    eprintln!("{stopping}");
    tokio::spawn(async move {
        shutdown_signal().await;
        eprintln!("{quit}");
        std::process::exit(code);
    });
}

pub async fn run(root: &Path, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::load(root)?;
    let credentials = match &args.credentials {
        Some(path) => Credentials::load(path)?,
        None => Credentials::from_env(|k| std::env::var(k).ok(), &catalog.account_id)?,
    };
    if args.max_in_flight == 0 {
        bail!("--max-in-flight must be at least 1");
    }
    let mut config = ServeConfig::new(root, credentials);
    config.faults = FaultConfig {
        events: args.fault_events,
        requests: args.fault_requests,
        seed: args.fault_seed,
    };
    config.max_in_flight = args.max_in_flight;
    config.verbose = args.verbose;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let bound = listener
        .local_addr()
        .context("cannot read the bound address")?;
    eprintln!(
        "auditlake serve: listening on http://{bound} (store {})",
        root.display()
    );
    if config.faults.events > 0.0 || config.faults.requests > 0.0 {
        eprintln!(
            "auditlake serve: fault mode: {} of events, {} of requests{}",
            config.faults.events,
            config.faults.requests,
            config
                .faults
                .seed
                .map_or(String::new(), |s| format!(", seed {s}"))
        );
    }
    // What was acknowledged is on disk; a forced stop only leaves requests in flight
    // unanswered (their clients retry).
    let stop = first_signal(
        "auditlake serve: stopping after open requests and merges (signal again to quit now)",
        "auditlake serve: stopped at once; requests in flight were not answered",
        130,
    );
    let summary = serve::serve(listener, config, stop).await?;
    eprintln!("auditlake serve: stopped: {summary}");
    Ok(ExitCode::SUCCESS)
}
