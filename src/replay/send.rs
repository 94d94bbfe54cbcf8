//! The service: PutAuditEvents through the AWS SDK, with the SDK's own retries off so that
//! every retry is classified, counted and journaled here.

use std::future::Future;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_sdk_cloudtraildata::Client;
use aws_sdk_cloudtraildata::config::Region;
use aws_sdk_cloudtraildata::config::retry::RetryConfig;
use aws_sdk_cloudtraildata::config::timeout::TimeoutConfig;
use aws_sdk_cloudtraildata::types::AuditEvent;

use super::batch::BatchEvent;
use super::retry::{RequestFailure, Retry, classify};

/// Connecting may take this long.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// One attempt (request and response) may take this long.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

/// What PutAuditEvents answered for one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutResult {
    /// (audit event id, new eventID)
    pub successful: Vec<(String, String)>,
    /// (audit event id, errorCode, errorMessage)
    pub failed: Vec<(String, String, String)>,
}

/// Something that sends one PutAuditEvents request: the AWS SDK, or a fake in tests.
pub trait Transport: Send + Sync + 'static {
    fn put(
        &self,
        events: &[BatchEvent],
    ) -> impl Future<Output = Result<PutResult, RequestFailure>> + Send;
}

/// Where and as whom the SDK sends.
#[derive(Debug, Clone, Default)]
pub struct SdkSettings {
    pub channel_arn: String,
    pub external_id: Option<String>,
    pub region: String,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
}

/// PutAuditEvents through aws-sdk-cloudtraildata and the standard credential chain.
#[derive(Debug, Clone)]
pub struct SdkTransport {
    client: Client,
    channel_arn: String,
    external_id: Option<String>,
}

impl SdkTransport {
    /// Loads the credential chain (environment, profiles, SSO, instance roles) for `settings`.
    pub async fn new(settings: &SdkSettings) -> SdkTransport {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(settings.region.clone()));
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &settings.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let shared = loader.load().await;
        let config = aws_sdk_cloudtraildata::config::Builder::from(&shared)
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .build(),
            )
            .build();
        SdkTransport {
            client: Client::from_conf(config),
            channel_arn: settings.channel_arn.clone(),
            external_id: settings.external_id.clone(),
        }
    }
}

impl Transport for SdkTransport {
    async fn put(&self, events: &[BatchEvent]) -> Result<PutResult, RequestFailure> {
        let mut entries = Vec::with_capacity(events.len());
        for e in events {
            let entry = AuditEvent::builder()
                .id(&e.audit_id)
                .event_data(&e.event.payload)
                .event_data_checksum(&e.event.checksum)
                .build()
                .map_err(|err| RequestFailure {
                    code: "ConstructionFailure".into(),
                    message: format!("event {}: {err}", e.event.source_id),
                    retry: Retry::Permanent,
                })?;
            entries.push(entry);
        }
        let output = self
            .client
            .put_audit_events()
            .channel_arn(&self.channel_arn)
            .set_external_id(self.external_id.clone())
            .set_audit_events(Some(entries))
            .send()
            .await
            .map_err(|e| classify(&e))?;
        Ok(PutResult {
            successful: output
                .successful()
                .iter()
                .map(|s| (s.id().to_string(), s.event_id().to_string()))
                .collect(),
            failed: output
                .failed()
                .iter()
                .map(|f| {
                    (
                        f.id().to_string(),
                        f.error_code().to_string(),
                        f.error_message().to_string(),
                    )
                })
                .collect(),
        })
    }
}
