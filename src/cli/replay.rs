//! `auditlake replay`: flags and the run of a replay to a CloudTrail Lake channel.

use std::path::Path;
use std::process::ExitCode;

/// Options of `auditlake replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {}

pub async fn run(_root: &Path, _args: ReplayArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("auditlake replay is not built yet")
}
