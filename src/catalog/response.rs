//! The JSON responses of the control-plane operations, with the field names the AWS CLI prints.

use serde_json::{Value, json};

use super::time::aws_timestamp;
use super::{Channel, EventDataStore};

/// get-, update- and restore-event-data-store.
pub fn event_data_store(s: &EventDataStore) -> Value {
    json!({
        "EventDataStoreArn": s.arn,
        "Name": s.name,
        "Status": s.status.as_str(),
        "AdvancedEventSelectors": s.advanced_event_selectors,
        "MultiRegionEnabled": s.multi_region_enabled,
        "OrganizationEnabled": s.organization_enabled,
        "RetentionPeriod": s.retention_period,
        "TerminationProtectionEnabled": s.termination_protection_enabled,
        "CreatedTimestamp": aws_timestamp(&s.created_timestamp),
        "UpdatedTimestamp": aws_timestamp(&s.updated_timestamp),
        "BillingMode": s.billing_mode.as_str(),
    })
}

/// create-event-data-store: the store with its TagsList.
pub fn created_event_data_store(s: &EventDataStore) -> Value {
    json!({
        "EventDataStoreArn": s.arn,
        "Name": s.name,
        "Status": s.status.as_str(),
        "AdvancedEventSelectors": s.advanced_event_selectors,
        "MultiRegionEnabled": s.multi_region_enabled,
        "OrganizationEnabled": s.organization_enabled,
        "RetentionPeriod": s.retention_period,
        "TerminationProtectionEnabled": s.termination_protection_enabled,
        "TagsList": s.tags,
        "CreatedTimestamp": aws_timestamp(&s.created_timestamp),
        "UpdatedTimestamp": aws_timestamp(&s.updated_timestamp),
        "BillingMode": s.billing_mode.as_str(),
    })
}

/// list-event-data-stores.
pub fn event_data_store_list<'a>(stores: impl IntoIterator<Item = &'a EventDataStore>) -> Value {
    let list: Vec<Value> = stores
        .into_iter()
        .map(|s| {
            json!({
                "EventDataStoreArn": s.arn,
                "Name": s.name,
                "TerminationProtectionEnabled": s.termination_protection_enabled,
                "Status": s.status.as_str(),
                "AdvancedEventSelectors": s.advanced_event_selectors,
                "MultiRegionEnabled": s.multi_region_enabled,
                "OrganizationEnabled": s.organization_enabled,
                "RetentionPeriod": s.retention_period,
                "CreatedTimestamp": aws_timestamp(&s.created_timestamp),
                "UpdatedTimestamp": aws_timestamp(&s.updated_timestamp),
            })
        })
        .collect();
    json!({ "EventDataStores": list })
}

/// create-channel.
pub fn created_channel(c: &Channel) -> Value {
    json!({
        "ChannelArn": c.arn,
        "Name": c.name,
        "Source": c.source,
        "Destinations": c.destinations,
        "Tags": c.tags,
    })
}

/// get-channel. auditlake does not record ingestion attempts in the catalog, so
/// IngestionStatus is empty, as AWS prints it for a channel that has received nothing.
pub fn channel(c: &Channel) -> Value {
    json!({
        "ChannelArn": c.arn,
        "Name": c.name,
        "Source": c.source,
        "SourceConfig": { "ApplyToAllRegions": false, "AdvancedEventSelectors": [] },
        "Destinations": c.destinations,
        "IngestionStatus": {},
    })
}

/// update-channel.
pub fn updated_channel(c: &Channel) -> Value {
    json!({
        "ChannelArn": c.arn,
        "Name": c.name,
        "Source": c.source,
        "Destinations": c.destinations,
    })
}

/// list-channels.
pub fn channel_list<'a>(channels: impl IntoIterator<Item = &'a Channel>) -> Value {
    let list: Vec<Value> = channels
        .into_iter()
        .map(|c| json!({ "ChannelArn": c.arn, "Name": c.name }))
        .collect();
    json!({ "Channels": list })
}

/// put- and get-resource-policy.
pub fn resource_policy(c: &Channel, policy: &str) -> Value {
    json!({ "ResourceArn": c.arn, "ResourcePolicy": policy })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Catalog, Destination, NewChannel, NewEventDataStore, Tag};
    use chrono::TimeZone;

    fn keys(v: &Value) -> Vec<&str> {
        v.as_object().unwrap().keys().map(String::as_str).collect()
    }

    #[test]
    fn event_data_store_shapes_match_the_aws_cli() {
        let mut c = Catalog::default();
        let t = chrono::Utc.with_ymd_and_hms(2024, 2, 3, 4, 5, 6).unwrap();
        let req = NewEventDataStore {
            tags: vec![Tag::new("team", "sec")],
            ..NewEventDataStore::named("audit")
        };
        let s = c.create_event_data_store(req, t).unwrap();
        let created = created_event_data_store(s);
        assert_eq!(
            keys(&created),
            [
                "EventDataStoreArn",
                "Name",
                "Status",
                "AdvancedEventSelectors",
                "MultiRegionEnabled",
                "OrganizationEnabled",
                "RetentionPeriod",
                "TerminationProtectionEnabled",
                "TagsList",
                "CreatedTimestamp",
                "UpdatedTimestamp",
                "BillingMode"
            ]
        );
        assert_eq!(
            created["TagsList"],
            json!([{"Key": "team", "Value": "sec"}])
        );
        assert_eq!(
            created["CreatedTimestamp"],
            "2024-02-03T04:05:06.000000+00:00"
        );
        assert_eq!(created["Status"], "ENABLED");
        assert_eq!(
            created["AdvancedEventSelectors"][0]["FieldSelectors"][0],
            json!({"Field": "eventCategory", "Equals": ["ActivityAuditLog"]})
        );
        assert!(event_data_store(s).get("TagsList").is_none());
        let list = event_data_store_list(&c.event_data_stores);
        assert_eq!(list["EventDataStores"][0]["Name"], "audit");
    }

    #[test]
    fn channel_shapes_match_the_aws_cli() {
        let mut c = Catalog::default();
        c.create_event_data_store(NewEventDataStore::named("audit"), chrono::Utc::now())
            .unwrap();
        let req = NewChannel {
            name: "app".into(),
            source: "Custom".into(),
            destinations: vec![Destination::event_data_store("audit")],
            tags: vec![],
        };
        let ch = c.create_channel(req).unwrap();
        assert_eq!(
            keys(&created_channel(ch)),
            ["ChannelArn", "Name", "Source", "Destinations", "Tags"]
        );
        let got = channel(ch);
        assert_eq!(
            keys(&got),
            [
                "ChannelArn",
                "Name",
                "Source",
                "SourceConfig",
                "Destinations",
                "IngestionStatus"
            ]
        );
        assert_eq!(got["Destinations"][0]["Type"], "EVENT_DATA_STORE");
        assert_eq!(
            keys(&updated_channel(ch)),
            ["ChannelArn", "Name", "Source", "Destinations"]
        );
        assert_eq!(channel_list(&c.channels)["Channels"][0]["Name"], "app");
    }
}
