//! `auditlake serve` driven by real AWS clients over loopback.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_cloudtraildata::config::retry::RetryConfig;
use aws_sdk_cloudtraildata::config::{Credentials, Region};
use aws_sdk_cloudtraildata::error::ProvideErrorMetadata;
use aws_sdk_cloudtraildata::operation::put_audit_events::{
    PutAuditEventsError, PutAuditEventsOutput,
};
use aws_sdk_cloudtraildata::types::AuditEvent;

use crate::{Fixture, event, json};

/// The access key `start_server` gives the endpoint unless told otherwise; it acts for the
/// store's account.
pub(crate) const ACCESS_KEY_ID: &str = "AKIAAUDITLAKETEST";
pub(crate) const SECRET_ACCESS_KEY: &str = "auditlake-test-secret";

const PARTNER_ACCOUNT: &str = "444455556666";
const EVENT_TIME: &str = "2026-03-01T10:00:00Z";

/// A running `auditlake serve`; killed when dropped.
pub(crate) struct Server {
    pub url: String,
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// What the server wrote on stderr so far.
    pub(crate) fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// `host:port` of the endpoint.
    pub(crate) fn addr(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    /// Sends SIGTERM and waits for the exit (at most 60 s).
    pub(crate) fn terminate(mut self) -> (ExitStatus, String) {
        self.sigterm();
        let status = wait_for(&mut self.child, Duration::from_secs(60));
        // The stderr reader finishes once the process is gone.
        std::thread::sleep(Duration::from_millis(100));
        (status, self.log())
    }

    fn sigterm(&self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success(), "kill -TERM {pid} failed");
    }

    /// SIGKILL: no chance to flush anything.
    pub(crate) fn kill_9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for(child: &mut Child, limit: Duration) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(started.elapsed() < limit, "the server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts `auditlake --store STORE serve --listen 127.0.0.1:0 EXTRA_ARGS` and waits for its
/// "listening on" line. Without `--credentials` in `extra_args` or AWS_ACCESS_KEY_ID in
/// `envs`, the server takes [`ACCESS_KEY_ID`] / [`SECRET_ACCESS_KEY`] as the store's account.
pub(crate) fn start_server(store: &Path, extra_args: &[&str], envs: &[(&str, &str)]) -> Server {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("auditlake"));
    cmd.arg("--store")
        .arg(store)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra_args)
        .env_remove("AUDITLAKE_STORE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let given = envs.iter().any(|(k, _)| *k == "AWS_ACCESS_KEY_ID");
    if !given && !extra_args.contains(&"--credentials") {
        cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY);
    } else if !given {
        cmd.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY");
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("auditlake serve starts");
    let stderr = child.stderr.take().unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = Arc::clone(&log);
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            sink.lock().unwrap().push_str(&format!("{line}\n"));
            if !sent && let Some(rest) = line.split("listening on ").nth(1) {
                let url = rest.split_whitespace().next().unwrap_or("").to_string();
                let _ = tx.send(url);
                sent = true;
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(url) => Server { url, child, log },
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            std::thread::sleep(Duration::from_millis(100));
            panic!("auditlake serve did not start:\n{}", log.lock().unwrap());
        }
    }
}

/// An SDK client for `url` with the given key, no retries (tests see each answer).
pub(crate) fn client(url: &str, key_id: &str, secret: &str) -> aws_sdk_cloudtraildata::Client {
    let config = aws_sdk_cloudtraildata::Config::builder()
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(key_id, secret, None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .behavior_version_latest()
        .build();
    aws_sdk_cloudtraildata::Client::from_conf(config)
}

fn owner_client(server: &Server) -> aws_sdk_cloudtraildata::Client {
    client(&server.url, ACCESS_KEY_ID, SECRET_ACCESS_KEY)
}

/// Events `PREFIX-0..n` whose UID is their id, so the store can be checked by id.
fn events(prefix: &str, n: usize) -> Vec<AuditEvent> {
    (0..n)
        .map(|i| {
            audit_event(
                &format!("{prefix}-{i}"),
                &event(&format!("{prefix}-{i}"), EVENT_TIME),
            )
        })
        .collect()
}

fn audit_event(id: &str, data: &str) -> AuditEvent {
    AuditEvent::builder()
        .id(id)
        .event_data(data)
        .build()
        .unwrap()
}

type PutResult = Result<
    PutAuditEventsOutput,
    aws_sdk_cloudtraildata::error::SdkError<
        PutAuditEventsError,
        aws_sdk_cloudtraildata::config::http::HttpResponse,
    >,
>;

async fn put(
    client: &aws_sdk_cloudtraildata::Client,
    channel: &str,
    external_id: Option<&str>,
    events: Vec<AuditEvent>,
) -> PutResult {
    client
        .put_audit_events()
        .channel_arn(channel)
        .set_external_id(external_id.map(str::to_string))
        .set_audit_events(Some(events))
        .send()
        .await
}

/// The UIDs stored in the fixture's event data store, sorted.
fn stored_uids(fx: &Fixture) -> Vec<String> {
    let mut uids: Vec<String> = fx
        .query(&format!("SELECT eventData.uid AS uid FROM {}", fx.eds_id))
        .iter()
        .map(|r| r["uid"].as_str().unwrap().to_string())
        .collect();
    uids.sort();
    uids
}

/// Sends raw bytes and returns the status, the lower-cased headers and the body.
fn raw(addr: &str, request: &[u8]) -> (u16, Vec<(String, String)>, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    // The server may answer and close before the whole request is written.
    let _ = stream.write_all(request);
    read_response(&mut stream)
}

fn read_response(stream: &mut TcpStream) -> (u16, Vec<(String, String)>, String) {
    let mut text = Vec::new();
    let _ = stream.read_to_end(&mut text);
    let text = String::from_utf8_lossy(&text).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, body.to_string())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A PutAuditEvents request signed with aws-sigv4 at `time`, as raw HTTP/1.1 bytes.
fn signed_request(
    addr: &str,
    channel: &str,
    body: &str,
    time: SystemTime,
    secret: &str,
) -> Vec<u8> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let encoded: String = channel
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    let uri = format!("/PutAuditEvents?channelArn={encoded}");
    let length = body.len().to_string();
    let headers = [
        ("host", addr),
        ("content-type", "application/json"),
        ("content-length", length.as_str()),
    ];
    let identity =
        aws_credential_types::Credentials::new(ACCESS_KEY_ID, secret, None, None, "t").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("cloudtrail-data")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        "POST",
        uri.as_str(),
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let (added, _) = instructions.into_parts();
    let mut text = format!("POST {uri} HTTP/1.1\r\nconnection: close\r\n");
    for (k, v) in headers {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    for h in added {
        text.push_str(&format!("{}: {}\r\n", h.name(), h.value()));
    }
    text.push_str("\r\n");
    text.push_str(body);
    text.into_bytes()
}

fn body_of(events: &[(&str, String)]) -> String {
    let list: Vec<_> = events
        .iter()
        .map(|(id, data)| serde_json::json!({"id": id, "eventData": data}))
        .collect();
    serde_json::json!({ "auditEvents": list }).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_puts_are_committed_and_queryable_at_once() {
    let fx = Fixture::new();
    let server = start_server(fx.path(), &[], &[]);
    let out = put(
        &owner_client(&server),
        &fx.channel_arn,
        None,
        events("ok", 3),
    )
    .await
    .unwrap();
    assert_eq!(out.successful().len(), 3);
    assert!(out.failed().is_empty());
    // The response came after the commit: a query started now sees every event.
    assert_eq!(stored_uids(&fx), ["ok-0", "ok-1", "ok-2"]);
    let rows = fx.query(&format!(
        "SELECT eventID AS event_id, eventData.uid AS uid, metadata.channelArn AS channel FROM {} WHERE eventData.uid = 'ok-1'",
        fx.eds_id
    ));
    let given = out.successful().iter().find(|s| s.id() == "ok-1").unwrap();
    assert_eq!(rows[0]["event_id"].as_str(), Some(given.event_id()));
    assert_eq!(rows[0]["channel"].as_str(), Some(fx.channel_arn.as_str()));
    // The channel's ID (the ARN's suffix) is accepted as the model says.
    let id = fx.channel_arn.rsplit('/').next().unwrap();
    let out = put(&owner_client(&server), id, None, events("by-id", 1))
        .await
        .unwrap();
    assert_eq!(out.successful().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_bad_event_never_sinks_its_neighbours() {
    let fx = Fixture::new();
    let server = start_server(fx.path(), &[], &[]);
    let good = event("good", EVENT_TIME);
    let bad_checksum = AuditEvent::builder()
        .id("sum")
        .event_data(event("sum", EVENT_TIME))
        .event_data_checksum("AAAA")
        .build()
        .unwrap();
    let no_source = good.replace(r#""eventSource":"app.example.com","#, "");
    let foreign = good.replace(
        "\"recipientAccountId\":\"123456789012\"",
        "\"recipientAccountId\":\"999999999999\"",
    );
    let out = put(
        &owner_client(&server),
        &fx.channel_arn,
        None,
        vec![
            audit_event("good", &good),
            bad_checksum,
            audit_event("nosrc", &no_source),
            audit_event("foreign", &foreign),
        ],
    )
    .await
    .unwrap();
    assert_eq!(out.successful().len(), 1);
    let mut codes: Vec<(&str, &str)> = out
        .failed()
        .iter()
        .map(|f| (f.id(), f.error_code()))
        .collect();
    codes.sort();
    assert_eq!(
        codes,
        [
            ("foreign", "InvalidRecipient"),
            ("nosrc", "FieldNotFound"),
            ("sum", "InvalidChecksum")
        ]
    );
    assert_eq!(stored_uids(&fx), ["good"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_errors_arrive_as_the_sdks_typed_exceptions() {
    let fx = Fixture::new();
    let keys = fx.path().join("keys.txt");
    std::fs::write(
        &keys,
        format!(
            "# test keys\n{ACCESS_KEY_ID} {SECRET_ACCESS_KEY} 123456789012\nAKIAPARTNER partner-secret {PARTNER_ACCOUNT}\n"
        ),
    )
    .unwrap();
    let server = start_server(fx.path(), &["--credentials", keys.to_str().unwrap()], &[]);
    let owner = owner_client(&server);
    let partner = client(&server.url, "AKIAPARTNER", "partner-secret");
    let account_of_channel = fx.channel_arn.replace(
        fx.channel_arn.rsplit('/').next().unwrap(),
        "00000000-0000-4000-8000-000000000000",
    );
    let e = put(&owner, &account_of_channel, None, events("x", 1))
        .await
        .unwrap_err();
    assert!(matches!(
        e.into_service_error(),
        PutAuditEventsError::ChannelNotFound(_)
    ));
    let e = put(
        &owner,
        "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/abc",
        None,
        events("x", 1),
    )
    .await
    .unwrap_err();
    assert!(matches!(
        e.into_service_error(),
        PutAuditEventsError::InvalidChannelArn(_)
    ));
    let twice = vec![
        audit_event("same", &event("a", EVENT_TIME)),
        audit_event("same", &event("b", EVENT_TIME)),
    ];
    let e = put(&owner, &fx.channel_arn, None, twice).await.unwrap_err();
    assert!(matches!(
        e.into_service_error(),
        PutAuditEventsError::DuplicatedAuditEventId(_)
    ));

    // Another account's key: refused until a resource policy lets it in with an external ID.
    let e = put(&partner, &fx.channel_arn, None, events("p", 1))
        .await
        .unwrap_err();
    let e = e.into_service_error();
    assert!(
        matches!(e, PutAuditEventsError::ChannelInsufficientPermission(_)),
        "{e:?}"
    );
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": [PARTNER_ACCOUNT]},
            "Action": "cloudtrail-data:PutAuditEvents",
            "Resource": fx.channel_arn,
            "Condition": {"StringEquals": {"cloudtrail:ExternalId": "s3cret"}}
        }]
    });
    // The catalog changes while the endpoint runs; it sees the change on the next request.
    json(fx.cmd().args([
        "put-resource-policy",
        "--resource-arn",
        &fx.channel_arn,
        "--resource-policy",
        &policy.to_string(),
    ]));
    let e = put(&partner, &fx.channel_arn, None, events("p", 1))
        .await
        .unwrap_err();
    assert!(matches!(
        e.into_service_error(),
        PutAuditEventsError::ChannelInsufficientPermission(_)
    ));
    let e = put(&partner, &fx.channel_arn, Some("wrong"), events("p", 1))
        .await
        .unwrap_err();
    assert!(matches!(
        e.into_service_error(),
        PutAuditEventsError::ChannelInsufficientPermission(_)
    ));
    let out = put(&partner, &fx.channel_arn, Some("s3cret"), events("p", 2))
        .await
        .unwrap();
    assert_eq!(out.successful().len(), 2);
    assert_eq!(
        stored_uids(&fx),
        ["p-0", "p-1"],
        "refused requests store nothing"
    );

    // 101 events: the SDK does not check, the endpoint does.
    let e = put(&owner, &fx.channel_arn, None, events("many", 101))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ValidationException"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_are_verified() {
    let fx = Fixture::new();
    let server = start_server(fx.path(), &[], &[]);
    let e = put(
        &client(&server.url, ACCESS_KEY_ID, "not-the-secret"),
        &fx.channel_arn,
        None,
        events("s", 1),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), Some("InvalidSignatureException"), "{e:?}");
    let e = put(
        &client(&server.url, "AKIAUNKNOWN", SECRET_ACCESS_KEY),
        &fx.channel_arn,
        None,
        events("s", 1),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), Some("UnrecognizedClientException"), "{e:?}");
    // Signed for another region than the store's, as a real endpoint would refuse it.
    let config = aws_sdk_cloudtraildata::Config::builder()
        .endpoint_url(&server.url)
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new(
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            None,
            None,
            "test",
        ))
        .retry_config(RetryConfig::disabled())
        .behavior_version_latest()
        .build();
    let elsewhere = aws_sdk_cloudtraildata::Client::from_conf(config);
    let e = put(&elsewhere, &fx.channel_arn, None, events("s", 1))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidSignatureException"), "{e:?}");
    assert!(e.message().unwrap_or("").contains("eu-west-1"), "{e:?}");

    let body = body_of(&[("s-raw", event("s-raw", EVENT_TIME))]);
    // A request signed correctly by hand goes through...
    let now = SystemTime::now();
    let (status, _, text) = raw(
        server.addr(),
        &signed_request(
            server.addr(),
            &fx.channel_arn,
            &body,
            now,
            SECRET_ACCESS_KEY,
        ),
    );
    assert_eq!(status, 200, "{text}");
    // ...the same signed 20 minutes ago has expired...
    let old = now - Duration::from_secs(20 * 60);
    let (status, headers, text) = raw(
        server.addr(),
        &signed_request(
            server.addr(),
            &fx.channel_arn,
            &body,
            old,
            SECRET_ACCESS_KEY,
        ),
    );
    assert_eq!(status, 403, "{text}");
    assert_eq!(
        header(&headers, "x-amzn-errortype"),
        Some("InvalidSignatureException")
    );
    assert!(text.contains("Signature expired"), "{text}");
    // ...a body changed after signing fails...
    let signed = String::from_utf8(signed_request(
        server.addr(),
        &fx.channel_arn,
        &body,
        now,
        SECRET_ACCESS_KEY,
    ))
    .unwrap();
    let tampered = signed.replace("s-raw\\\"", "s-rax\\\"");
    assert_ne!(signed, tampered);
    let (status, headers, _) = raw(server.addr(), tampered.as_bytes());
    assert_eq!(status, 403);
    assert_eq!(
        header(&headers, "x-amzn-errortype"),
        Some("InvalidSignatureException")
    );
    // ...and an unsigned request is refused.
    let unsigned = format!(
        "POST /PutAuditEvents?channelArn=x HTTP/1.1\r\nhost: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        server.addr(),
        body.len()
    );
    let (status, headers, text) = raw(server.addr(), unsigned.as_bytes());
    assert_eq!(status, 403);
    assert_eq!(
        header(&headers, "x-amzn-errortype"),
        Some("MissingAuthenticationTokenException")
    );
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(parsed["message"].is_string());
    assert_eq!(stored_uids(&fx), ["s-raw"]);
}

/// Opens a connection and sends the head of a PutAuditEvents request: the request line and
/// host, then `rest` (further headers, and maybe the start of a body).
fn post_head(addr: &str, rest: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let head = format!("POST /PutAuditEvents?channelArn=x HTTP/1.1\r\nhost: {addr}\r\n{rest}");
    stream.write_all(head.as_bytes()).unwrap();
    stream
}

#[test]
fn unknown_paths_and_oversized_bodies_are_refused_early() {
    let fx = Fixture::new();
    let server = start_server(fx.path(), &[], &[]);
    let get = format!(
        "GET / HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n",
        server.addr()
    );
    let (status, headers, _) = raw(server.addr(), get.as_bytes());
    assert_eq!(status, 404);
    assert_eq!(
        header(&headers, "x-amzn-errortype"),
        Some("UnknownOperationException")
    );

    // Without an Authorization header, a body is refused before it is read.
    let mut stream = post_head(
        server.addr(),
        "content-length: 2000000\r\n\r\n{\"auditEvents\":[",
    );
    let (status, headers, text) = read_response(&mut stream);
    assert_eq!(status, 403, "{text}");
    assert_eq!(
        header(&headers, "x-amzn-errortype"),
        Some("MissingAuthenticationTokenException")
    );

    // Signing headers that pass every check but the signature's (which needs the body).
    let now = chrono::Utc::now();
    let signing = format!(
        "authorization: AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/{}/us-east-1/cloudtrail-data/aws4_request, \
         SignedHeaders=host;x-amz-date, Signature={}\r\nx-amz-date: {}\r\n",
        now.format("%Y%m%d"),
        "0".repeat(64),
        now.format("%Y%m%dT%H%M%SZ")
    );
    // 2 MB announced, a few bytes sent: the answer comes without the rest of the body.
    let mut stream = post_head(
        server.addr(),
        &format!("{signing}content-length: 2000000\r\n\r\n{{\"auditEvents\":["),
    );
    let (status, headers, text) = read_response(&mut stream);
    assert_eq!(status, 413, "{text}");
    assert_eq!(
        header(&headers, "x-amzn-errortype"),
        Some("ValidationException")
    );

    // Without a length (chunked), the body is cut off once it passes 1 MB.
    let mut stream = post_head(
        server.addr(),
        &format!("{signing}transfer-encoding: chunked\r\n\r\n"),
    );
    let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "x".repeat(64 * 1024));
    for _ in 0..17 {
        if stream.write_all(chunk.as_bytes()).is_err() {
            break;
        }
    }
    let (status, _, text) = read_response(&mut stream);
    assert_eq!(status, 413, "{text}");
    assert_eq!(fx.count(), 0);
}

#[test]
fn serve_refuses_to_start_without_credentials() {
    let fx = Fixture::new();
    let out = crate::auditlake(fx.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--credentials") && err.contains("AWS_ACCESS_KEY_ID"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_survive_kill_9() {
    let fx = Fixture::new();
    let server = start_server(fx.path(), &[], &[]);
    let client = owner_client(&server);
    for round in 0..3 {
        let out = put(
            &client,
            &fx.channel_arn,
            None,
            events(&format!("k{round}"), 50),
        )
        .await
        .unwrap();
        assert_eq!(out.successful().len(), 50);
    }
    server.kill_9();
    assert_eq!(fx.count(), 150);
    // The store is still writable and consistent.
    let out = crate::stdout(fx.cmd().args(["verify"]));
    assert!(!out.is_empty());
}

/// A request for one event `uid` sent but for its last 10 bytes, on a connection that waits
/// up to 60 s for its answer: the rest of the request to send, and the connection.
fn request_in_flight(fx: &Fixture, server: &Server, uid: &str) -> (Vec<u8>, TcpStream) {
    let addr = server.addr();
    let body = body_of(&[(uid, event(uid, EVENT_TIME))]);
    let request = signed_request(
        addr,
        &fx.channel_arn,
        &body,
        SystemTime::now(),
        SECRET_ACCESS_KEY,
    );
    let split = request.len() - 10;
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream.write_all(&request[..split]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    (request[split..].to_vec(), stream)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_request_in_flight_then_exits_0() {
    let fx = Fixture::new();
    let server = start_server(fx.path(), &[], &[]);
    // All but the last bytes of the body, then SIGTERM, then the rest.
    let (rest, mut stream) = request_in_flight(&fx, &server, "late");
    server.sigterm();
    std::thread::sleep(Duration::from_millis(300));
    stream.write_all(&rest).unwrap();
    let (status, _, text) = read_response(&mut stream);
    assert_eq!(status, 200, "{text}");
    let (exit, log) = server.terminate_wait();
    assert!(exit.success(), "{log}");
    assert!(log.contains("stopped"), "{log}");
    assert_eq!(stored_uids(&fx), ["late"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_stops_at_once() {
    let fx = Fixture::new();
    let server = start_server(fx.path(), &[], &[]);
    // A request whose body never completes keeps the first stop waiting for it.
    let (_rest, _stream) = request_in_flight(&fx, &server, "stuck");
    for _ in 0..2 {
        server.sigterm();
        std::thread::sleep(Duration::from_millis(500));
    }
    let (exit, log) = server.terminate_wait();
    assert_eq!(exit.code(), Some(130), "{log}");
    assert!(log.contains("signal again to quit now"), "{log}");
    assert!(log.contains("stopped at once"), "{log}");
    assert!(stored_uids(&fx).is_empty());
}

impl Server {
    /// Waits for an exit already asked for.
    fn terminate_wait(mut self) -> (ExitStatus, String) {
        let status = wait_for(&mut self.child, Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(100));
        (status, self.log())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_clients_are_group_committed_without_piling_up_files() {
    let fx = Fixture::new();
    let server = start_server(fx.path(), &[], &[]);
    let client = owner_client(&server);
    let mut tasks = Vec::new();
    for c in 0..8 {
        let client = client.clone();
        let channel = fx.channel_arn.clone();
        tasks.push(tokio::spawn(async move {
            for r in 0..12 {
                let out = put(&client, &channel, None, events(&format!("c{c}r{r}"), 20))
                    .await
                    .unwrap();
                assert_eq!(out.successful().len(), 20);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(fx.count(), 8 * 12 * 20);
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            fx.path()
                .join("data")
                .join(fx.eds_id.to_ascii_lowercase())
                .join("_manifest.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let files = manifest["files"].as_array().unwrap().len();
    assert!(files <= 64, "{files} files after 96 requests");

    // One request at a time, each its own commit: past 64 small files they are spliced.
    for r in 0..70 {
        let out = put(&client, &fx.channel_arn, None, events(&format!("s{r}"), 5))
            .await
            .unwrap();
        assert_eq!(out.successful().len(), 5);
    }
    let total = 8 * 12 * 20 + 70 * 5;
    assert_eq!(fx.count(), total);
    let (exit, log) = server.terminate();
    assert!(exit.success(), "{log}");
    assert!(log.contains("spliced small files of"), "{log}");
    assert_eq!(fx.count(), total);
    // Shutting down sorted what was spliced.
    let manifest = std::fs::read_to_string(
        fx.path()
            .join("data")
            .join(fx.eds_id.to_ascii_lowercase())
            .join("_manifest.json"),
    )
    .unwrap();
    assert!(!manifest.contains("spliced"), "{manifest}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_mode_refuses_events_and_requests_and_stores_none_of_them() {
    let fx = Fixture::new();
    let server = start_server(
        fx.path(),
        &["--fault-events", "0.3", "--fault-seed", "7"],
        &[],
    );
    let client = owner_client(&server);
    let mut accepted = Vec::new();
    let mut faulted = 0;
    for r in 0..10 {
        let out = put(
            &client,
            &fx.channel_arn,
            None,
            events(&format!("f{r}"), 100),
        )
        .await
        .unwrap();
        for f in out.failed() {
            assert!(
                matches!(f.error_code(), "Throttling" | "InternalFailure"),
                "{f:?}"
            );
            faulted += 1;
        }
        accepted.extend(out.successful().iter().map(|s| s.id().to_string()));
    }
    assert!(
        (150..=450).contains(&faulted),
        "{faulted} of 1000 events faulted at 0.3"
    );
    accepted.sort();
    assert_eq!(
        stored_uids(&fx),
        accepted,
        "exactly the successful events are stored"
    );
    drop(server);

    let fx = Fixture::new();
    let server = start_server(
        fx.path(),
        &["--fault-requests", "0.5", "--fault-seed", "3"],
        &[],
    );
    let client = owner_client(&server);
    let (mut ok, mut internal, mut unavailable, mut dropped) = (Vec::new(), 0, 0, 0);
    for r in 0..45 {
        match put(&client, &fx.channel_arn, None, events(&format!("q{r}"), 2)).await {
            Ok(out) => ok.extend(out.successful().iter().map(|s| s.id().to_string())),
            Err(e) => match e.code() {
                Some("InternalServerException") => internal += 1,
                Some("ServiceUnavailableException") => unavailable += 1,
                _ => dropped += 1,
            },
        }
    }
    let failed = internal + unavailable + dropped;
    assert!(
        (10..=35).contains(&failed),
        "{failed} of 45 requests faulted at 0.5"
    );
    assert!(
        internal > 0 && unavailable > 0 && dropped > 0,
        "{internal} {unavailable} {dropped}"
    );
    ok.sort();
    assert_eq!(stored_uids(&fx), ok, "faulted requests store nothing");
}

/// The AWS CLI and boto3 against the endpoint, when they are installed.
/// A client program ran and succeeded; its stderr says why not.
fn assert_ran(out: std::io::Result<std::process::Output>) {
    let out = out.expect("the client starts");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn aws_cli_and_boto3_when_available() {
    let has_boto3 = Command::new("python3")
        .args(["-c", "import boto3"])
        .output()
        .is_ok_and(|o| o.status.success());
    let has_cli = Command::new("aws")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_boto3 && !has_cli {
        eprintln!("skipped: neither boto3 nor the AWS CLI is installed");
        return;
    }
    let fx = Fixture::new();
    let server = start_server(fx.path(), &[], &[]);
    let mut expected = Vec::new();
    if has_boto3 {
        let script = r#"
import sys, boto3
url, channel, data = sys.argv[1], sys.argv[2], sys.argv[3]
c = boto3.client("cloudtrail-data", endpoint_url=url, region_name="us-east-1",
                 aws_access_key_id=sys.argv[4], aws_secret_access_key=sys.argv[5])
r = c.put_audit_events(channelArn=channel, auditEvents=[{"id": "boto3-1", "eventData": data}])
assert len(r["successful"]) == 1 and not r["failed"], r
try:
    c.put_audit_events(channelArn=channel.rsplit("/", 1)[0] + "/00000000-0000-4000-8000-000000000000",
                       auditEvents=[{"id": "x", "eventData": data}])
    sys.exit("no error")
except c.exceptions.ChannelNotFound:
    pass
print("ok")
"#;
        let out = Command::new("python3")
            .args([
                "-c",
                script,
                &server.url,
                &fx.channel_arn,
                &event("boto3-1", EVENT_TIME),
                ACCESS_KEY_ID,
                SECRET_ACCESS_KEY,
            ])
            .output();
        assert_ran(out);
        expected.push("boto3-1".to_string());
    } else {
        eprintln!("boto3 part skipped: boto3 is not installed");
    }
    if has_cli {
        let events = serde_json::json!([{"id": "cli-1", "eventData": event("cli-1", EVENT_TIME)}])
            .to_string();
        let out = Command::new("aws")
            .args([
                "cloudtrail-data",
                "put-audit-events",
                "--endpoint-url",
                &server.url,
                "--region",
                "us-east-1",
                "--channel-arn",
                &fx.channel_arn,
                "--audit-events",
                &events,
            ])
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
            .env_remove("AWS_PROFILE")
            .output();
        assert_ran(out);
        expected.push("cli-1".to_string());
    } else {
        eprintln!("AWS CLI part skipped: aws is not installed");
    }
    expected.sort();
    assert_eq!(stored_uids(&fx), expected);
}
