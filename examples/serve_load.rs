//! Load generator for `auditlake serve` (used by benches/serve.sh): several clients on
//! keep-alive connections send signed 100-event PutAuditEvents requests and wait for each
//! durable answer; prints requests/s, events/s and latency percentiles.
//!
//! ```text
//! serve_load --url http://127.0.0.1:PORT --channel-arn ARN --events FILE.ndjson
//!            [--clients 8] [--seconds 20] [--batch 100]
//! ```
//! Keys come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. Requests are signed ahead of
//! the timed loop (a SigV4 signature stays valid for 15 minutes), so the client spends its
//! CPU on sending, not signing, and the figures measure the server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};

struct Options {
    addr: String,
    channel: String,
    events: String,
    clients: usize,
    seconds: u64,
    batch: usize,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        addr: String::new(),
        channel: String::new(),
        events: String::new(),
        clients: 8,
        seconds: 20,
        batch: 100,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: {v:?} is not a number"))
        };
        match flag.as_str() {
            "--url" => {
                o.addr = value
                    .trim_start_matches("http://")
                    .trim_end_matches('/')
                    .to_string()
            }
            "--channel-arn" => o.channel = value,
            "--events" => o.events = value,
            "--clients" => o.clients = number(&value)? as usize,
            "--seconds" => o.seconds = number(&value)?,
            "--batch" => o.batch = number(&value)? as usize,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if o.addr.is_empty() || o.channel.is_empty() || o.events.is_empty() {
        return Err("give --url, --channel-arn and --events".to_string());
    }
    // Requests are signed before the run, and the endpoint refuses signatures older than
    // 15 minutes.
    if o.seconds > MAX_SECONDS {
        return Err(format!(
            "--seconds {} is too long: requests are signed once, before the run, and a \
             signature is accepted for 15 minutes; run at most {MAX_SECONDS} s",
            o.seconds
        ));
    }
    Ok(o)
}

/// The longest run: its pre-signed requests must stay within SigV4's 15-minute window.
const MAX_SECONDS: u64 = 600;

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One signed PutAuditEvents request as raw HTTP/1.1 bytes (keep-alive).
fn signed_request(o: &Options, body: &str, key: &str, secret: &str) -> Vec<u8> {
    let uri = format!("/PutAuditEvents?channelArn={}", encode(&o.channel));
    let length = body.len().to_string();
    let headers = [
        ("host", o.addr.as_str()),
        ("content-type", "application/json"),
        ("content-length", length.as_str()),
    ];
    let identity =
        aws_credential_types::Credentials::new(key, secret, None, None, "serve_load").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("cloudtrail-data")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .expect("signing parameters are complete")
        .into();
    let signable = SignableRequest::new(
        "POST",
        uri.as_str(),
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .expect("the request is signable");
    let (instructions, _) = sign(signable, &params).expect("signing works").into_parts();
    let (added, _) = instructions.into_parts();
    let mut text = format!("POST {uri} HTTP/1.1\r\n");
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

/// Reads one response; returns its status and whether every event was accepted.
fn read_response(reader: &mut BufReader<TcpStream>) -> std::io::Result<(u16, bool)> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut length = 0usize;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok((status, body.windows(11).any(|w| w == b"\"failed\":[]")))
}

fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("serve_load: {e}");
            std::process::exit(2);
        }
    };
    let key = std::env::var("AWS_ACCESS_KEY_ID").unwrap_or_default();
    let secret = std::env::var("AWS_SECRET_ACCESS_KEY").unwrap_or_default();
    let lines: Vec<String> = std::fs::read_to_string(&o.events)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", o.events))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    assert!(
        lines.len() >= o.batch,
        "{} holds fewer than {} events",
        o.events,
        o.batch
    );
    // 20 distinct requests per client, cycled.
    let requests: Vec<Vec<Vec<u8>>> = (0..o.clients)
        .map(|c| {
            (0..20)
                .map(|r| {
                    let events: Vec<_> = (0..o.batch)
                        .map(|i| {
                            let line = &lines[(c * 20 * o.batch + r * o.batch + i) % lines.len()];
                            serde_json::json!({"id": format!("c{c}-r{r}-{i}"), "eventData": line})
                        })
                        .collect();
                    let body = serde_json::json!({"auditEvents": events}).to_string();
                    signed_request(&o, &body, &key, &secret)
                })
                .collect()
        })
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let failures = Arc::new(Mutex::new(0u64));
    let started = Instant::now();
    let threads: Vec<_> = requests
        .into_iter()
        .map(|mine| {
            let (stop, latencies, failures, addr) = (
                Arc::clone(&stop),
                Arc::clone(&latencies),
                Arc::clone(&failures),
                o.addr.clone(),
            );
            std::thread::spawn(move || {
                let stream = TcpStream::connect(&addr).expect("the server accepts");
                stream.set_nodelay(true).ok();
                let mut writer = stream.try_clone().expect("the socket clones");
                let mut reader = BufReader::new(stream);
                let mut mine_lat = Vec::new();
                let mut bad = 0u64;
                for request in mine.iter().cycle() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let t = Instant::now();
                    writer.write_all(request).expect("the server reads");
                    match read_response(&mut reader) {
                        Ok((200, true)) => mine_lat.push(t.elapsed()),
                        Ok(_) => bad += 1,
                        Err(e) => panic!("connection failed: {e}"),
                    }
                }
                latencies.lock().unwrap().extend(mine_lat);
                *failures.lock().unwrap() += bad;
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(o.seconds));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("a client thread failed");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut lat = latencies.lock().unwrap().clone();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    let n = lat.len() as f64;
    println!(
        "clients {}  batch {}  requests {}  failed {}  {:.0} req/s  {:.0} events/s  p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
        o.clients,
        o.batch,
        lat.len(),
        failures.lock().unwrap(),
        n / elapsed,
        n * o.batch as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        lat.last().map_or(0.0, |d| d.as_secs_f64() * 1e3)
    );
}
