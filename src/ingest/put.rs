//! PutAuditEvents itself: validate, enrich and commit one request, answer per event.

use crate::catalog::Catalog;
use crate::event::{self, Enrichment, ErrorCode, EventError, IntegrationBatchBuilder};
use crate::store::StoreWriter;

use super::IngestError;
use super::request::{PutAuditEventsRequest, PutAuditEventsResponse, check_request};
use super::target::{self, Target};

/// Checks one event (checksum first, then the eventData rules) and adds it to `builder`.
/// Returns the new eventID.
pub fn accept_event(
    builder: &mut IntegrationBatchBuilder,
    payload: &str,
    given_checksum: Option<&str>,
    owner_account: &str,
) -> Result<String, EventError> {
    let checksum = event::checksum(payload);
    if let Some(given) = given_checksum
        && given != checksum
    {
        return Err(EventError::new(
            ErrorCode::InvalidChecksum,
            format!("eventDataChecksum {given} does not match the eventData (SHA-256 {checksum})"),
        ));
    }
    let data = event::validate(payload, owner_account)?;
    builder
        .append(&data, payload, &checksum)
        .map_err(|e| EventError::new(ErrorCode::InternalFailure, e.to_string()))
}

/// Runs one PutAuditEvents request against the store and commits what it accepted.
/// `caller_account` is the account the request comes from (the owner unless a resource
/// policy lets another account in).
pub fn put_audit_events(
    writer: &StoreWriter,
    catalog: &Catalog,
    request: &PutAuditEventsRequest,
    caller_account: &str,
) -> Result<PutAuditEventsResponse, IngestError> {
    let channel = request.channel_arn.as_deref().unwrap_or_default();
    let target = target::resolve(
        catalog,
        channel,
        caller_account,
        request.external_id.as_deref(),
    )?;
    check_request(&request.audit_events)?;
    let (batch, response) = build_batch(&target, request)?;
    if batch.num_rows() > 0 {
        for eds_id in &target.event_data_store_ids {
            let schema = batch.schema();
            let mut file = writer.file_writer(eds_id, schema)?;
            file.write(batch.clone())?;
            writer.commit(file)?;
        }
    }
    Ok(response)
}

fn build_batch(
    target: &Target,
    request: &PutAuditEventsRequest,
) -> Result<(arrow::array::RecordBatch, PutAuditEventsResponse), IngestError> {
    let enrichment = Enrichment::now(&target.region, &target.owner_account, &target.channel_arn);
    let payload_bytes = request
        .audit_events
        .iter()
        .map(|e| e.event_data.len())
        .sum();
    let mut builder = IntegrationBatchBuilder::with_capacity(
        enrichment,
        request.audit_events.len(),
        payload_bytes,
    );
    let mut response = PutAuditEventsResponse::default();
    for event in &request.audit_events {
        let outcome = accept_event(
            &mut builder,
            &event.event_data,
            event.event_data_checksum.as_deref(),
            &target.owner_account,
        );
        response.record(&event.id, outcome);
    }
    Ok((builder.into_batch()?, response))
}
