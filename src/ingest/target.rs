//! Where a PutAuditEvents call lands: the channel, the caller's right to use it, its stores.

use crate::catalog::{self, Catalog, EventCategory, arn};

use super::request::RequestError;

/// A channel resolved for one caller: what ingestion needs to enrich and store its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub channel_arn: String,
    /// The account that owns the channel: every event's recipientAccountId must name it.
    pub owner_account: String,
    pub region: String,
    /// IDs of the event data stores the channel delivers to.
    pub event_data_store_ids: Vec<String>,
}

fn looks_like_channel_arn(text: &str) -> bool {
    arn::parse(text).is_some_and(|a| a.kind == arn::ResourceKind::Channel)
}

/// Resolves `channel` (ARN, ID or name) for `caller_account`, checking the resource policy
/// and that every destination store takes events.
pub fn resolve(
    catalog: &Catalog,
    channel: &str,
    caller_account: &str,
    external_id: Option<&str>,
) -> Result<Target, RequestError> {
    if channel.starts_with("arn:") && !looks_like_channel_arn(channel) {
        return Err(RequestError::InvalidChannelArn(format!(
            "{channel} is not a channel ARN (arn:aws:cloudtrail:REGION:ACCOUNT:channel/ID)"
        )));
    }
    let found = catalog.find_channel(channel).map_err(|_| {
        RequestError::ChannelNotFound(format!("no channel {channel} in this store"))
    })?;
    catalog::check_put_access(found, &catalog.account_id, caller_account, external_id)
        .map_err(|denied| RequestError::ChannelInsufficientPermission(denied.to_string()))?;
    let mut event_data_store_ids = Vec::new();
    for destination in &found.destinations {
        let eds = catalog
            .find_event_data_store(&destination.location)
            .map_err(|_| {
                RequestError::ChannelNotFound(format!(
                    "channel {} delivers to {}, which no longer exists",
                    found.arn, destination.location
                ))
            })?;
        if eds.category() != EventCategory::ActivityAuditLog {
            return Err(RequestError::ChannelUnsupportedSchema(format!(
                "event data store {} holds {} events, not ActivityAuditLog",
                eds.arn,
                eds.category().as_str()
            )));
        }
        if !eds.accepts_events() {
            return Err(RequestError::UnsupportedOperation(format!(
                "event data store {} takes no events while its status is {}",
                eds.arn,
                eds.status.as_str()
            )));
        }
        event_data_store_ids.push(eds.id().to_string());
    }
    if event_data_store_ids.is_empty() {
        return Err(RequestError::ChannelNotFound(format!(
            "channel {} has no event data store destination",
            found.arn
        )));
    }
    Ok(Target {
        channel_arn: found.arn.clone(),
        owner_account: catalog.account_id.clone(),
        region: catalog.region.clone(),
        event_data_store_ids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_channel_arns() {
        assert!(looks_like_channel_arn(
            "arn:aws:cloudtrail:us-east-1:123456789012:channel/4b8e4e47-7d9f-4bd5-a0bb-0a1d5d8b6a43"
        ));
        assert!(!looks_like_channel_arn(
            "arn:aws:cloudtrail:us-east-1:123:channel/x"
        ));
        assert!(!looks_like_channel_arn(
            "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/x"
        ));
    }
}
