//! `auditlake serve`: flags and the run of the local PutAuditEvents endpoint.

use std::path::Path;
use std::process::ExitCode;

/// Options of `auditlake serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {}

pub async fn run(_root: &Path, _args: ServeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("auditlake serve is not built yet")
}
