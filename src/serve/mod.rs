//! `auditlake serve`: a local CloudTrail Data API endpoint (PutAuditEvents over HTTP).
//!
//! ```text
//! accept ──► connection task (hyper, header timeout) ──► http::handle
//!   route ► sigv4::check_headers ► body (≤ 1 MB, timeout) ► signature ► fault ► put::prepare
//!                                                                              │ batch
//!            200 {successful, failed} ◄── durable ◄── commit::Committer (group commit) ◄┘
//! ```

pub mod commit;
pub mod credentials;
pub mod error;
pub mod fault;
pub mod http;
pub mod put;
pub mod sigv4;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::catalog::Catalog;

pub use commit::{CommitStats, Committer};
pub use credentials::Credentials;
pub use error::{ApiError, ServeError};
pub use fault::{FaultConfig, Faults};

/// Where `serve` listens unless told otherwise (loopback only).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8470";
/// A client must send its request headers within this time.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// A client must send its whole body within this time.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Requests processed at once; more get 503 ThrottlingException.
pub const MAX_IN_FLIGHT: usize = 256;
/// Open connections; more wait in the listen backlog.
pub const MAX_CONNECTIONS: usize = 1024;
/// On shutdown, connections get this long to finish their requests.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Settings of a running endpoint.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub root: PathBuf,
    pub credentials: Credentials,
    pub faults: FaultConfig,
    pub max_in_flight: usize,
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    /// One log line per request on stderr.
    pub verbose: bool,
}

impl ServeConfig {
    pub fn new(root: &Path, credentials: Credentials) -> ServeConfig {
        ServeConfig {
            root: root.to_path_buf(),
            credentials,
            faults: FaultConfig::default(),
            max_in_flight: MAX_IN_FLIGHT,
            max_connections: MAX_CONNECTIONS,
            header_timeout: HEADER_TIMEOUT,
            body_timeout: BODY_TIMEOUT,
            verbose: false,
        }
    }
}

/// Counters over the endpoint's life.
#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub events_accepted: AtomicU64,
    pub events_refused: AtomicU64,
    pub client_errors: AtomicU64,
    pub server_errors: AtomicU64,
}

/// What a finished `serve` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServeSummary {
    pub requests: u64,
    pub events_accepted: u64,
    pub events_refused: u64,
    pub client_errors: u64,
    pub server_errors: u64,
    pub commits: CommitStats,
}

impl std::fmt::Display for ServeSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} requests ({} client errors, {} server errors); {} events stored, {} refused; \
             {} group commits, {} compactions",
            self.requests,
            self.client_errors,
            self.server_errors,
            self.events_accepted,
            self.events_refused,
            self.commits.commits,
            self.commits.compactions
        )
    }
}

/// The catalog as of its last change on disk: reread when `catalog.json` changes, so that
/// channels and policies created while the endpoint runs take effect at once. Changes are
/// found by content (a few KiB read per request), not by modification time, which two quick
/// saves of the same length can share.
#[derive(Debug)]
pub struct CatalogCache {
    root: PathBuf,
    cached: Mutex<Option<(Vec<u8>, Arc<Catalog>)>>,
}

impl CatalogCache {
    pub fn new(root: &Path) -> CatalogCache {
        CatalogCache {
            root: root.to_path_buf(),
            cached: Mutex::new(None),
        }
    }

    pub fn get(&self) -> Result<Arc<Catalog>, crate::catalog::CatalogError> {
        let Some(text) = Catalog::read_bytes(&self.root)? else {
            return Ok(Arc::new(Catalog::default()));
        };
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((seen, catalog)) = cached.as_ref()
            && *seen == text
        {
            return Ok(Arc::clone(catalog));
        }
        let catalog = Arc::new(Catalog::parse(&self.root, &text)?);
        *cached = Some((text, Arc::clone(&catalog)));
        Ok(catalog)
    }
}

/// What every request handler shares.
pub struct State {
    pub config: ServeConfig,
    pub catalog: CatalogCache,
    pub committer: Committer,
    pub faults: Faults,
    pub in_flight: Semaphore,
    pub stats: Counters,
}

/// Serves PutAuditEvents on `listener` until `shutdown` completes; then stops accepting,
/// lets open requests finish, commits what is pending and returns what it did.
pub async fn serve(
    listener: TcpListener,
    config: ServeConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<ServeSummary, ServeError> {
    let (committer, committer_task) = Committer::start(&config.root);
    let state = Arc::new(State {
        catalog: CatalogCache::new(&config.root),
        committer,
        faults: Faults::new(config.faults),
        in_flight: Semaphore::new(config.max_in_flight.max(1)),
        stats: Counters::default(),
        config,
    });
    let connections = Arc::new(Semaphore::new(state.config.max_connections.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        while tasks.try_join_next().is_some() {}
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    eprintln!("auditlake serve: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        let mut stop = stop_rx.clone();
        tasks.spawn(async move {
            let _permit = permit;
            let service_state = Arc::clone(&state);
            let service = service_fn(move |req| http::handle(Arc::clone(&service_state), req));
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(state.config.header_timeout)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    drop(listener);
    let open = tasks.len();
    if open > 0 {
        eprintln!("auditlake serve: stopping; letting {open} open connections finish");
    }
    let _ = stop_tx.send(true);
    if tokio::time::timeout(DRAIN_TIMEOUT, async {
        while tasks.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        eprintln!(
            "auditlake serve: {} connections still open after {} s; closing them",
            tasks.len(),
            DRAIN_TIMEOUT.as_secs()
        );
        tasks.shutdown().await;
    }
    let stats = &state.stats;
    let mut summary = ServeSummary {
        requests: stats.requests.load(Ordering::Relaxed),
        events_accepted: stats.events_accepted.load(Ordering::Relaxed),
        events_refused: stats.events_refused.load(Ordering::Relaxed),
        client_errors: stats.client_errors.load(Ordering::Relaxed),
        server_errors: stats.server_errors.load(Ordering::Relaxed),
        commits: CommitStats::default(),
    };
    // The last handle goes with the state: the committer commits what is queued and ends.
    drop(state);
    summary.commits = committer_task
        .await
        .map_err(|e| ServeError::Committer(e.to_string()))?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_catalog_change_is_seen_even_with_the_same_length_and_time() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let path = root.join(crate::catalog::CATALOG_FILE);
        let cache = CatalogCache::new(root);
        assert_eq!(cache.get().unwrap().region, crate::catalog::DEFAULT_REGION);
        let mut catalog = Catalog::default();
        catalog.save(root).unwrap();
        assert_eq!(cache.get().unwrap().region, "us-east-1");
        let saved_at = std::fs::metadata(&path).unwrap().modified().unwrap();
        // Same length, and the file's time set back to the first save's.
        catalog.region = "us-west-2".into();
        catalog.save(root).unwrap();
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(saved_at).unwrap();
        assert_eq!(cache.get().unwrap().region, "us-west-2");
        std::fs::write(&path, "{broken").unwrap();
        assert!(cache.get().is_err());
    }
}
