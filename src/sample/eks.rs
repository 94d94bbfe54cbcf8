//! EKS pod logs as the aws-samples EKS integration maps them (pod as identity, node as principal).

use std::io::Write as _;

use super::Ev;
use super::clock::{Frac, write_clf, write_iso};
use super::json::JsonLine;
use super::rng::{Rng, mix64};

#[derive(Clone, Copy, PartialEq)]
enum Logs {
    Nginx,
    Json,
    Logfmt,
    FluentBit,
}

struct Pod {
    namespace: &'static str,
    name: &'static str,
    container: &'static str,
    logs: Logs,
}

const fn pod(
    namespace: &'static str,
    name: &'static str,
    container: &'static str,
    logs: Logs,
) -> Pod {
    Pod {
        namespace,
        name,
        container,
        logs,
    }
}

/// The pods whose logs are shipped, per mille.
const PODS: [(Pod, u32); 9] = [
    (
        pod("shop", "frontend-6d8f7b9c4-x2k9p", "frontend", Logs::Nginx),
        190,
    ),
    (
        pod("shop", "frontend-6d8f7b9c4-q7m3t", "frontend", Logs::Nginx),
        180,
    ),
    (pod("shop", "cart-5f9c8d7b6-h4j2k", "cart", Logs::Json), 140),
    (
        pod("shop", "checkout-7b6c5d4e3-p9r8s", "checkout", Logs::Json),
        120,
    ),
    (
        pod(
            "payments",
            "payments-api-84c9f6d7b-zt6wq",
            "payments-api",
            Logs::Logfmt,
        ),
        110,
    ),
    (
        pod(
            "payments",
            "payments-api-84c9f6d7b-lm2nb",
            "payments-api",
            Logs::Logfmt,
        ),
        100,
    ),
    (
        pod(
            "auth",
            "auth-service-7d5b9c8f6-r3t5y",
            "auth-service",
            Logs::Logfmt,
        ),
        60,
    ),
    (
        pod(
            "s3-exporter",
            "fluentbit-aws-for-fluent-bit-4kx8d",
            "aws-for-fluent-bit",
            Logs::FluentBit,
        ),
        50,
    ),
    (
        pod(
            "s3-exporter",
            "fluentbit-aws-for-fluent-bit-9wq2z",
            "aws-for-fluent-bit",
            Logs::FluentBit,
        ),
        50,
    ),
];
const PATHS: [&str; 6] = [
    "/api/products?page=2",
    "/api/cart",
    "/api/checkout",
    "/static/app.4f9c2.js",
    "/healthz",
    "/api/search?q=running+shoes",
];
const CLIENTS: [&str; 4] = [
    "AcmeShop/4.12.0 (iPhone; iOS 17.6)",
    "AcmeShop/4.12.0 (Android 14; Pixel 8)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) Safari/605.1.15",
];
const APP_MESSAGES: [(&str, &str); 5] = [
    ("info", "order created"),
    ("info", "cart updated"),
    ("debug", "cache hit"),
    ("warn", "slow downstream call"),
    ("error", "payment provider timeout"),
];

pub(crate) fn event(ev: &mut Ev<'_>) {
    let Pod {
        namespace: ns,
        name: pod,
        container,
        logs,
    } = *ev.rng.weighted(&PODS);
    let idx = PODS.iter().position(|p| p.0.name == pod).unwrap_or(0) as u64;
    let (secs, nanos) = (ev.tick.secs, ev.tick.nanos);
    // Fargate gives every pod its own node.
    let pod_hash = mix64(idx + 1);
    let host_a = 16 + (pod_hash & 0x1f);
    let host_b = (pod_hash >> 8) & 0xff;

    let mut buf = std::mem::take(ev.scratch);
    buf.clear();
    let stderr = write_log(&mut buf, ev.rng, logs, secs, nanos);
    let line = std::str::from_utf8(&buf).unwrap_or_default();
    let stream = if stderr { "stderr" } else { "stdout" };

    let j = &mut *ev.j;
    let host = |j: &mut JsonLine, k: &str| {
        j.strf(
            k,
            format_args!("fargate-ip-10-0-{host_a}-{host_b}.us-west-2.compute.internal"),
        );
    };
    j.begin();
    j.str("version", "0.1");
    j.obj("userIdentity");
    j.strf("type", format_args!("{ns}-{pod}"));
    host(j, "principalId");
    j.obj("details");
    j.str("message", line);
    j.end();
    j.end();
    host(j, "eventSource");
    j.str("eventName", stream);
    ev.event_time();
    ev.uuid("UID");
    ev.recipient();
    let j = &mut *ev.j;
    j.obj("additionalEventData");
    j.obj("message");
    j.str("log", line);
    j.str("stream", stream);
    j.obj("kubernetes");
    j.str("pod_name", pod);
    j.str("namespace_name", ns);
    j.str("container_name", container);
    j.end();
    j.end();
    j.end();
    j.end();
    *ev.scratch = buf;
}

/// Writes one log line in the pod's style; returns whether it goes to stderr.
fn write_log(b: &mut Vec<u8>, rng: &mut Rng, logs: Logs, secs: i64, nanos: u32) -> bool {
    match logs {
        Logs::Nginx if rng.chance(0.5) => {
            let _ = write!(b, "10.0.{}.1 - - [", rng.below(8));
            write_clf(b, secs);
            let _ = write!(
                b,
                "] \"GET /healthz HTTP/1.1\" 200 2 \"-\" \"kube-probe/1.31\""
            );
            false
        }
        Logs::Nginx => {
            let status =
                *rng.weighted(&[(200u32, 900), (304, 40), (404, 35), (499, 10), (502, 15)]);
            let _ = write!(b, "10.0.{}.{} - - [", rng.below(8), rng.range(2, 254));
            write_clf(b, secs);
            let _ = write!(
                b,
                "] \"{} {} HTTP/1.1\" {status} {} \"-\" \"{}\"",
                if rng.chance(0.8) { "GET" } else { "POST" },
                rng.pick(&PATHS),
                rng.range(120, 48_000),
                rng.pick(&CLIENTS)
            );
            status >= 500
        }
        Logs::Json => {
            let (level, msg) = *rng.pick(&APP_MESSAGES);
            let _ = write!(b, "{{\"level\":\"{level}\",\"ts\":\"");
            write_iso(b, secs, Frac::Millis, nanos);
            let _ = write!(
                b,
                "\",\"msg\":\"{msg}\",\"order_id\":\"O-{}\",\"latency_ms\":{}}}",
                rng.range(1_000_000, 9_999_999),
                rng.range(2, if level == "warn" { 4000 } else { 250 })
            );
            level == "error" || level == "warn"
        }
        Logs::Logfmt => {
            let (level, msg) = *rng.pick(&APP_MESSAGES);
            let _ = write!(b, "time=\"");
            write_iso(b, secs, Frac::Millis, nanos);
            let _ = write!(
                b,
                "\" level={level} msg=\"{msg}\" request_id={:016x}",
                rng.next_u64()
            );
            if level == "error" {
                let _ = write!(b, " err=\"context deadline exceeded\"");
            }
            level == "error"
        }
        Logs::FluentBit => {
            let (y, mo, d, h, mi, s) = super::clock::civil(secs);
            let _ = write!(b, "[{y}/{mo:02}/{d:02} {h:02}:{mi:02}:{s:02}] ");
            if rng.chance(0.05) {
                let _ = write!(
                    b,
                    "[ warn] [net] getaddrinfo(host='s3.us-west-2.amazonaws.com', err=12): Timeout while contacting DNS servers"
                );
                true
            } else {
                let _ = write!(
                    b,
                    "[ info] [output:s3:s3.0] Successfully uploaded object /pod-logs/shop/{y}-{mo:02}-{d:02}/{h:02}-{mi:02}-{s:02}-object{:x}",
                    rng.below(1 << 24)
                );
                false
            }
        }
    }
}
