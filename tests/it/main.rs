//! The one integration-test binary: every test drives the real `auditlake` binary.

mod cli;
mod conformance;
mod import;
mod ingest;
mod repl;
mod replay;
mod serve;
mod slt;
mod sql;
mod store;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// `auditlake --store DIR` ready for arguments.
pub fn auditlake(store: &Path) -> Command {
    let mut cmd = Command::cargo_bin("auditlake").expect("the binary is built");
    cmd.arg("--store").arg(store).env_remove("AUDITLAKE_STORE");
    cmd
}

/// Runs a command that must succeed and parses its stdout as JSON.
pub fn json(cmd: &mut Command) -> serde_json::Value {
    let out = cmd.output().expect("auditlake runs");
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// Runs a command that must succeed and returns its stdout.
pub fn stdout(cmd: &mut Command) -> String {
    let out = cmd.output().expect("auditlake runs");
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

/// A store with one integration event data store and a Custom channel delivering to it.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub eds_arn: String,
    pub eds_id: String,
    pub channel_arn: String,
}

#[allow(clippy::new_without_default)] // each fixture makes a new store on disk
impl Fixture {
    /// A fixture with the default retention period.
    pub fn new() -> Fixture {
        Fixture::with_retention(None)
    }

    pub fn with_retention(days: Option<u32>) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        json(auditlake(dir.path()).args(["init", "--account-id", "123456789012"]));
        let mut create = auditlake(dir.path());
        create.args(["create-event-data-store", "--name", "app-events"]);
        if let Some(days) = days {
            create.args(["--retention-period", &days.to_string()]);
        }
        let eds = json(&mut create);
        let eds_arn = eds["EventDataStoreArn"].as_str().unwrap().to_string();
        let channel = json(auditlake(dir.path()).args([
            "create-channel",
            "--name",
            "app-channel",
            "--source",
            "Custom",
            "--destinations",
            &format!("Type=EVENT_DATA_STORE,Location={eds_arn}"),
        ]));
        Fixture {
            eds_id: eds_arn.rsplit('/').next().unwrap().to_string(),
            eds_arn,
            channel_arn: channel["ChannelArn"].as_str().unwrap().to_string(),
            dir,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn cmd(&self) -> Command {
        auditlake(self.path())
    }

    /// Runs SQL and returns the rows as JSON objects.
    pub fn query(&self, sql: &str) -> Vec<serde_json::Value> {
        let out = stdout(self.cmd().args(["query", "--format", "ndjson", sql]));
        out.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The number of events visible in the event data store.
    pub fn count(&self) -> u64 {
        let rows = self.query(&format!("SELECT count(*) AS n FROM {}", self.eds_id));
        rows[0]["n"].as_u64().unwrap()
    }
}

/// An eventData payload that passes every rule, with `uid` and `time` filled in.
pub fn event(uid: &str, time: &str) -> String {
    format!(
        r#"{{"version":"1.0","userIdentity":{{"type":"User","principalId":"alice","details":{{"team":"sec"}}}},"eventSource":"app.example.com","eventName":"Login","eventTime":"{time}","UID":"{uid}","recipientAccountId":"123456789012","requestParameters":{{"mfa":{{"used":true}},"region":"eu"}},"sourceIPAddress":"2001:db8::7"}}"#
    )
}

/// Writes `n` good events as NDJSON into `dir/name`.
pub fn ndjson(dir: &Path, name: &str, n: usize, time: &str) -> PathBuf {
    let path = dir.join(name);
    let text: String = (0..n)
        .map(|i| event(&format!("{name}-{i}"), time) + "\n")
        .collect();
    std::fs::write(&path, text).unwrap();
    path
}

/// The bundled data directories.
pub fn repo_file(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}
