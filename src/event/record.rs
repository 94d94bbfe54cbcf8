//! Enrichment of validated events into Arrow rows of the integration schema.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, MapBuilder, MapFieldNames, RecordBatch, StringBuilder, StructArray,
    TimestampMillisecondBuilder,
};
use arrow::datatypes::{DataType, Fields};
use arrow::error::ArrowError;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::json_map::JsonMap;
use super::schema::{self, integration_schema};
use super::validate::EventData;

/// Lake's eventCategory for events that come from outside AWS.
pub const ACTIVITY_AUDIT_LOG: &str = "ActivityAuditLog";
/// Lake's eventType for events that come from outside AWS.
pub const ACTIVITY_LOG: &str = "ActivityLog";

/// base64(SHA-256(text)): PutAuditEvents' eventDataChecksum and the store's eventjsonchecksum.
pub fn checksum(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
}

/// A new random (version 4) UUID. Drawn from the thread's CSPRNG rather than one system
/// call per event, which bulk ingestion would feel.
pub fn new_event_id() -> String {
    uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .to_string()
}

/// What ingestion adds to every event of one request or file.
#[derive(Debug, Clone)]
pub struct Enrichment {
    pub aws_region: String,
    pub recipient_account_id: String,
    pub channel_arn: String,
    /// `yyyy-MM-ddTHH:mm:ssZ`, as Lake writes metadata.ingestionTime.
    pub ingestion_time: String,
}

impl Enrichment {
    pub fn now(aws_region: &str, recipient_account_id: &str, channel_arn: &str) -> Enrichment {
        Enrichment {
            aws_region: aws_region.to_string(),
            recipient_account_id: recipient_account_id.to_string(),
            channel_arn: channel_arn.to_string(),
            ingestion_time: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        }
    }
}

fn map_builder(rows: usize) -> MapBuilder<StringBuilder, StringBuilder> {
    let names = MapFieldNames {
        entry: "entries".to_string(),
        key: "key".to_string(),
        value: "value".to_string(),
    };
    let entries = rows * 4;
    MapBuilder::with_capacity(
        Some(names),
        StringBuilder::with_capacity(entries, entries * 16),
        StringBuilder::with_capacity(entries, entries * 32),
        rows,
    )
}

/// A string builder for `rows` values of about `avg` bytes.
fn strings(rows: usize, avg: usize) -> StringBuilder {
    StringBuilder::with_capacity(rows, rows * avg)
}

fn append_map(
    builder: &mut MapBuilder<StringBuilder, StringBuilder>,
    map: Option<&JsonMap<'_>>,
) -> Result<(), ArrowError> {
    if let Some(map) = map {
        for (k, v) in map.entries() {
            builder.keys().append_value(k);
            builder.values().append_value(v);
        }
    }
    builder.append(map.is_some())
}

fn struct_fields(name: &str) -> Fields {
    let schema = integration_schema();
    match schema.field_with_name(name).map(|f| f.data_type()) {
        Ok(DataType::Struct(fields)) => fields.clone(),
        _ => unreachable!("{name} is a struct column of the integration schema"),
    }
}

/// Accumulates enriched integration events and turns them into a [`RecordBatch`].
pub struct IntegrationBatchBuilder {
    event_version: StringBuilder,
    event_id: StringBuilder,
    event_time: TimestampMillisecondBuilder,
    // eventdata
    version: StringBuilder,
    user_type: StringBuilder,
    principal_id: StringBuilder,
    details: MapBuilder<StringBuilder, StringBuilder>,
    user_agent: StringBuilder,
    event_source: StringBuilder,
    event_name: StringBuilder,
    event_time_text: StringBuilder,
    uid: StringBuilder,
    request_parameters: MapBuilder<StringBuilder, StringBuilder>,
    response_elements: MapBuilder<StringBuilder, StringBuilder>,
    error_code: StringBuilder,
    error_message: StringBuilder,
    source_ip_address: StringBuilder,
    data_recipient: StringBuilder,
    additional_event_data: MapBuilder<StringBuilder, StringBuilder>,
    event_json: StringBuilder,
    event_json_checksum: StringBuilder,
    /// Metadata is the same for every row of one builder.
    enrichment: Enrichment,
    /// Rows and payload bytes to reserve, so that filling a batch does not re-grow buffers.
    capacity: (usize, usize),
}

impl IntegrationBatchBuilder {
    pub fn new(enrichment: Enrichment) -> IntegrationBatchBuilder {
        IntegrationBatchBuilder::with_capacity(enrichment, 0, 0)
    }

    /// A builder with room for `rows` events whose payloads add up to `payload_bytes`;
    /// [`IntegrationBatchBuilder::finish`] reserves the same again for the next batch.
    pub fn with_capacity(
        enrichment: Enrichment,
        rows: usize,
        payload_bytes: usize,
    ) -> IntegrationBatchBuilder {
        IntegrationBatchBuilder {
            event_version: strings(rows, 4),
            event_id: strings(rows, 36),
            event_time: TimestampMillisecondBuilder::with_capacity(rows),
            version: strings(rows, 4),
            user_type: strings(rows, 16),
            principal_id: strings(rows, 32),
            details: map_builder(rows),
            user_agent: strings(rows, 64),
            event_source: strings(rows, 24),
            event_name: strings(rows, 24),
            event_time_text: strings(rows, 20),
            uid: strings(rows, 36),
            request_parameters: map_builder(rows),
            response_elements: map_builder(rows),
            error_code: strings(rows / 8, 16),
            error_message: strings(rows / 8, 64),
            source_ip_address: strings(rows, 24),
            data_recipient: strings(rows, 12),
            additional_event_data: map_builder(rows),
            event_json: StringBuilder::with_capacity(rows, payload_bytes),
            event_json_checksum: strings(rows, 44),
            enrichment,
            capacity: (rows, payload_bytes),
        }
    }

    pub fn len(&self) -> usize {
        arrow::array::ArrayBuilder::len(&self.event_id)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds one validated event; `payload` is its eventData text exactly as received and
    /// `payload_checksum` its [`checksum`]. Returns the new eventID.
    pub fn append(
        &mut self,
        event: &EventData<'_>,
        payload: &str,
        payload_checksum: &str,
    ) -> Result<String, ArrowError> {
        let event_id = new_event_id();
        self.event_version.append_value(&event.version);
        self.event_id.append_value(&event_id);
        self.event_time.append_value(event.event_time_ms);
        self.version.append_value(&event.version);
        self.user_type.append_value(&event.user_type);
        self.principal_id.append_value(&event.principal_id);
        append_map(&mut self.details, event.details.as_ref())?;
        self.user_agent.append_option(event.user_agent.as_deref());
        self.event_source.append_value(&event.event_source);
        self.event_name.append_value(&event.event_name);
        self.event_time_text.append_value(&event.event_time);
        self.uid.append_value(&event.uid);
        append_map(
            &mut self.request_parameters,
            event.request_parameters.as_ref(),
        )?;
        append_map(
            &mut self.response_elements,
            event.response_elements.as_ref(),
        )?;
        self.error_code.append_option(event.error_code.as_deref());
        self.error_message
            .append_option(event.error_message.as_deref());
        self.source_ip_address
            .append_option(event.source_ip_address.as_deref());
        self.data_recipient
            .append_value(&event.recipient_account_id);
        append_map(
            &mut self.additional_event_data,
            event.additional_event_data.as_ref(),
        )?;
        self.event_json.append_value(payload);
        self.event_json_checksum.append_value(payload_checksum);
        Ok(event_id)
    }

    fn constant(value: &str, rows: usize) -> ArrayRef {
        Arc::new(arrow::array::StringArray::from_iter_values(
            std::iter::repeat_n(value, rows),
        ))
    }

    /// The rows added, as one batch (for a builder that is not filled again).
    pub fn into_batch(self) -> Result<RecordBatch, ArrowError> {
        self.build()
    }

    /// Takes the rows added so far as one batch and leaves the builder empty.
    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let (rows, bytes) = self.capacity;
        let fresh = IntegrationBatchBuilder::with_capacity(self.enrichment.clone(), rows, bytes);
        std::mem::replace(self, fresh).build()
    }

    fn build(mut self) -> Result<RecordBatch, ArrowError> {
        let rows = self.len();
        let e = &self.enrichment;
        let user_identity = StructArray::try_new(
            match struct_fields("eventdata")[1].data_type() {
                DataType::Struct(f) => f.clone(),
                _ => unreachable!("eventdata.useridentity is a struct"),
            },
            vec![
                Arc::new(self.user_type.finish()),
                Arc::new(self.principal_id.finish()),
                Arc::new(self.details.finish()),
            ],
            None,
        )?;
        let event_data = StructArray::try_new(
            struct_fields("eventdata"),
            vec![
                Arc::new(self.version.finish()),
                Arc::new(user_identity),
                Arc::new(self.user_agent.finish()),
                Arc::new(self.event_source.finish()),
                Arc::new(self.event_name.finish()),
                Arc::new(self.event_time_text.finish()),
                Arc::new(self.uid.finish()),
                Arc::new(self.request_parameters.finish()),
                Arc::new(self.response_elements.finish()),
                Arc::new(self.error_code.finish()),
                Arc::new(self.error_message.finish()),
                Arc::new(self.source_ip_address.finish()),
                Arc::new(self.data_recipient.finish()),
                Arc::new(self.additional_event_data.finish()),
            ],
            None,
        )?;
        let metadata = StructArray::try_new(
            struct_fields("metadata"),
            vec![
                Self::constant(&e.ingestion_time, rows),
                Self::constant(&e.channel_arn, rows),
            ],
            None,
        )?;
        let addendum_fields = struct_fields("addendum");
        let addendum = StructArray::new_null(addendum_fields, rows);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.event_version.finish()),
            Self::constant(ACTIVITY_AUDIT_LOG, rows),
            Self::constant(ACTIVITY_LOG, rows),
            Arc::new(self.event_id.finish()),
            Arc::new(self.event_time.finish()),
            Self::constant(&e.aws_region, rows),
            Self::constant(&e.recipient_account_id, rows),
            Arc::new(addendum),
            Arc::new(metadata),
            Arc::new(event_data),
            Arc::new(self.event_json.finish()),
            Arc::new(self.event_json_checksum.finish()),
        ];
        debug_assert_eq!(columns.len(), schema::col::EVENT_JSON_CHECKSUM + 1);
        RecordBatch::try_new(integration_schema(), columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::validate::validate;

    #[test]
    fn checksum_matches_openssl() {
        // printf %s '{"a":1}' | openssl dgst -binary -sha256 | base64
        assert_eq!(
            checksum(r#"{"a":1}"#),
            "AVq9f1zFei3ZS3WQ8ErYCEJzkF7jPsXOvq5iJ2qX+GI="
        );
    }

    #[test]
    fn builds_a_batch_with_the_integration_schema() {
        let payload = r#"{"version":"1.0","userIdentity":{"type":"User","principalId":"alice"},"eventSource":"app","eventName":"Login","eventTime":"2026-01-02T03:04:05Z","UID":"u-1","recipientAccountId":"123456789012","requestParameters":{"a":{"b":2}}}"#;
        let event = validate(payload, "123456789012").unwrap();
        let arn = "arn:aws:cloudtrail:us-east-1:123456789012:channel/x";
        let mut builder =
            IntegrationBatchBuilder::new(Enrichment::now("us-east-1", "123456789012", arn));
        let id = builder.append(&event, payload, &checksum(payload)).unwrap();
        let batch = builder.finish().unwrap();
        assert_eq!(batch.num_rows(), 1);
        assert_eq!(batch.schema(), integration_schema());
        let ids = batch
            .column(schema::col::EVENT_ID)
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .unwrap();
        assert_eq!(ids.value(0), id);
        assert!(builder.is_empty());
    }
}
