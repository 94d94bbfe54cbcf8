//! The HTTP side: routing, body limits and timeouts, SigV4, fault mode, and the AWS
//! rest-json answer of one PutAuditEvents request.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};

use crate::ingest::PutAuditEventsRequest;

use super::State;
use super::error::ApiError;
use super::fault::RequestFault;
use super::put;
use super::sigv4;

/// The one operation's path.
pub const PUT_AUDIT_EVENTS_PATH: &str = "/PutAuditEvents";
/// Largest request body taken: PutAuditEvents takes up to 1 MB per request.
pub const MAX_BODY_BYTES: usize = crate::ingest::request::MAX_REQUEST_BYTES;

/// Returned instead of a response when fault mode drops the connection.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by fault mode")]
pub struct DropConnection;

/// Answers one request. `Err` closes the connection without a response.
pub async fn handle(
    state: Arc<State>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, DropConnection> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    state.stats.requests.fetch_add(1, Ordering::Relaxed);
    let answer = match put_audit_events(&state, request).await {
        Ok(response) => {
            let body = serde_json::to_vec(&response).unwrap_or_default();
            Ok(respond(StatusCode::OK, body, None, &request_id))
        }
        Err(Outcome::Error(e)) => {
            if e.status.is_server_error() {
                state.stats.server_errors.fetch_add(1, Ordering::Relaxed);
            } else {
                state.stats.client_errors.fetch_add(1, Ordering::Relaxed);
            }
            Ok(respond(e.status, e.body(), Some(e.code), &request_id))
        }
        Err(Outcome::Drop) => Err(DropConnection),
    };
    if state.config.verbose {
        let status = match &answer {
            Ok(r) => r.status().as_u16().to_string(),
            Err(_) => "dropped".to_string(),
        };
        eprintln!(
            "auditlake serve: {method} {path} -> {status} in {:.1} ms (request {request_id})",
            started.elapsed().as_secs_f64() * 1e3
        );
    }
    answer
}

enum Outcome {
    Error(ApiError),
    Drop,
}

impl From<ApiError> for Outcome {
    fn from(e: ApiError) -> Outcome {
        Outcome::Error(e)
    }
}

fn respond(
    status: StatusCode,
    body: Vec<u8>,
    error_type: Option<&'static str>,
    request_id: &str,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    if let Some(code) = error_type {
        headers.insert("x-amzn-errortype", HeaderValue::from_static(code));
    }
    response
}

async fn put_audit_events(
    state: &State,
    request: Request<Incoming>,
) -> Result<crate::ingest::PutAuditEventsResponse, Outcome> {
    if request.method() != Method::POST || request.uri().path() != PUT_AUDIT_EVENTS_PATH {
        return Err(
            ApiError::unknown_operation(request.method().as_str(), request.uri().path()).into(),
        );
    }
    let Ok(_permit) = state.in_flight.try_acquire() else {
        return Err(ApiError::throttled(format!(
            "Rate exceeded: more than {} requests in flight",
            state.config.max_in_flight
        ))
        .into());
    };
    let (parts, body) = request.into_parts();
    // Whatever of the signature needs no body is checked before the body is read.
    let signed = sigv4::check_headers(
        &parts.headers,
        &state.config.credentials,
        chrono::Utc::now(),
    )?;
    let body = tokio::time::timeout(state.config.body_timeout, read_body(&parts.headers, body))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "RequestTimeoutException",
                format!(
                    "the request body did not arrive within {} s",
                    state.config.body_timeout.as_secs()
                ),
            )
        })??;
    let uri = parts
        .uri
        .path_and_query()
        .map_or(PUT_AUDIT_EVENTS_PATH, |p| p.as_str());
    let caller = signed.verify(parts.method.as_str(), uri, &body)?;
    let catalog = state.catalog.get().map_err(|e| {
        eprintln!("auditlake serve: cannot read the catalog: {e}");
        ApiError::internal()
    })?;
    // The endpoint stands for the store's region, as each AWS endpoint serves one.
    if caller.region != catalog.region {
        return Err(ApiError::invalid_signature(format!(
            "Credential should be scoped to a valid region: the request is signed for {}, \
             and this endpoint serves the store's region, {}",
            caller.region, catalog.region
        ))
        .into());
    }
    match state.faults.request() {
        None => {}
        Some(RequestFault::InternalError) => return Err(ApiError::internal().into()),
        Some(RequestFault::Unavailable) => {
            return Err(ApiError::unavailable(
                "The service is unavailable. Try again later. (fault mode)",
            )
            .into());
        }
        Some(RequestFault::Drop) => return Err(Outcome::Drop),
    }
    let query = parse_query(parts.uri.query().unwrap_or(""));
    let channel = query_value(&query, "channelArn")
        .ok_or_else(|| ApiError::validation("channelArn is required in the query string"))?;
    let external_id = query_value(&query, "externalId");
    let events = serde_json::from_slice::<PutAuditEventsRequest>(&body)
        .map_err(|e| {
            ApiError::serialization(format!(
                "the body is not a PutAuditEvents request ({{\"auditEvents\": [{{\"id\", \"eventData\", \"eventDataChecksum\"}}]}}): {e}"
            ))
        })?
        .audit_events;
    let prepared = put::prepare(
        &catalog,
        channel,
        external_id,
        &events,
        &caller.account_id,
        &state.faults,
    )?;
    if let Some(batch) = prepared.batch {
        state
            .committer
            .commit(batch, prepared.event_data_store_ids)
            .await
            .map_err(|e| match e {
                super::commit::CommitError::Busy(m) => {
                    ApiError::unavailable(format!("The store is busy; try again. ({m})"))
                }
                super::commit::CommitError::Stopped => {
                    ApiError::unavailable("The endpoint is shutting down.")
                }
                super::commit::CommitError::Failed(_) => ApiError::internal(),
            })?;
    }
    let response = prepared.response;
    state
        .stats
        .events_accepted
        .fetch_add(response.successful.len() as u64, Ordering::Relaxed);
    state
        .stats
        .events_refused
        .fetch_add(response.failed.len() as u64, Ordering::Relaxed);
    Ok(response)
}

/// Reads the body, refusing it as soon as it is known to pass [`MAX_BODY_BYTES`]: from
/// Content-Length before reading anything, else while it streams in.
async fn read_body(headers: &http::HeaderMap, mut body: Incoming) -> Result<Vec<u8>, ApiError> {
    let too_large = |n: &str| {
        ApiError::too_large(format!(
            "the request body is {n} bytes; PutAuditEvents takes at most 1 MB ({MAX_BODY_BYTES} bytes)"
        ))
    };
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = declared
        && n > MAX_BODY_BYTES as u64
    {
        return Err(too_large(&n.to_string()));
    }
    let mut buf = Vec::with_capacity(declared.map_or(16 * 1024, |n| n as usize));
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|e| ApiError::validation(format!("cannot read the request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > MAX_BODY_BYTES {
                return Err(too_large("more than"));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf)
}

/// Query string pairs, percent-decoded (`+` is a space, as in forms).
fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn query_value<'q>(query: &'q [(String, String)], key: &str) -> Option<&'q str> {
    query
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_query_string() {
        let q = parse_query(
            "channelArn=arn%3Aaws%3Acloudtrail%3Aus-east-1%3A123456789012%3Achannel%2Fabc&externalId=a+b%2",
        );
        assert_eq!(
            query_value(&q, "channelArn"),
            Some("arn:aws:cloudtrail:us-east-1:123456789012:channel/abc")
        );
        assert_eq!(query_value(&q, "externalId"), Some("a b%2"));
        assert_eq!(query_value(&q, "missing"), None);
        assert_eq!(percent_decode("%41%zz%"), "A%zz%");
    }
}
