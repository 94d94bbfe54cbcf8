//! One PutAuditEvents call over HTTP, up to the batch the committer writes: the channel and
//! the caller's right to it, the request limits, each event's rules, and fault mode.

use arrow::array::RecordBatch;

use crate::catalog::Catalog;
use crate::event::{self, Enrichment, IntegrationBatchBuilder};
use crate::ingest::put::accept_event;
use crate::ingest::request::{AuditEvent, PutAuditEventsResponse, check_request};
use crate::ingest::target;

use super::error::ApiError;
use super::fault::{self, Faults};

/// A validated request: the rows to commit (if any event was accepted), where they go, and
/// the response to send once they are committed.
#[derive(Debug)]
pub struct Prepared {
    pub batch: Option<RecordBatch>,
    pub event_data_store_ids: Vec<String>,
    pub response: PutAuditEventsResponse,
}

/// Checks and enriches a request's events for `caller_account`. Faulted events are checked
/// like the others and, when valid, answered with their fault instead of being stored.
pub fn prepare(
    catalog: &Catalog,
    channel: &str,
    external_id: Option<&str>,
    events: &[AuditEvent],
    caller_account: &str,
    faults: &Faults,
) -> Result<Prepared, ApiError> {
    let target = target::resolve(catalog, channel, caller_account, external_id)?;
    check_request(events)?;
    let enrichment = Enrichment::now(&target.region, &target.owner_account, &target.channel_arn);
    // Room for every event, so that filling the columns never copies them to grow.
    let payload_bytes = events.iter().map(|e| e.event_data.len()).sum();
    let mut builder =
        IntegrationBatchBuilder::with_capacity(enrichment, events.len(), payload_bytes);
    let mut response = PutAuditEventsResponse::default();
    let faulted = faults.events(events.len());
    for (event, fault) in events.iter().zip(faulted) {
        let given = event.event_data_checksum.as_deref();
        let outcome = match fault {
            None => accept_event(
                &mut builder,
                &event.event_data,
                given,
                &target.owner_account,
            ),
            Some(code) => match check_only(&event.event_data, given, &target.owner_account) {
                Ok(()) => Err(event::EventError::new(code, fault::event_message(code))),
                Err(e) => Err(e),
            },
        };
        response.record(&event.id, outcome);
    }
    let batch = if builder.is_empty() {
        None
    } else {
        Some(builder.into_batch().map_err(|e| {
            eprintln!("auditlake serve: cannot build the batch of a request: {e}");
            ApiError::internal()
        })?)
    };
    Ok(Prepared {
        batch,
        event_data_store_ids: target.event_data_store_ids,
        response,
    })
}

/// The rules [`accept_event`] applies, without adding the event anywhere.
fn check_only(
    payload: &str,
    given: Option<&str>,
    owner_account: &str,
) -> Result<(), event::EventError> {
    let mut scratch = IntegrationBatchBuilder::new(Enrichment::now("", owner_account, ""));
    accept_event(&mut scratch, payload, given, owner_account).map(|_| ())
}
