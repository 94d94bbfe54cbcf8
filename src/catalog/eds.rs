//! The event data store model: status, billing mode, settings, and the requests that create or update one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::CatalogError;
use super::arn;
use super::selectors::{AdvancedEventSelector, EventCategory, validate_selectors};
use super::tags::Tag;
use super::time::{rfc3339, rfc3339_opt};

/// The status of an event data store, spelled as AWS spells it. auditlake moves stores between
/// ENABLED, STOPPED_INGESTION and PENDING_DELETION; the transitional AWS states are accepted in
/// catalog.json but never produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventDataStoreStatus {
    Created,
    Enabled,
    PendingDeletion,
    StartingIngestion,
    StoppingIngestion,
    StoppedIngestion,
}

impl EventDataStoreStatus {
    pub fn as_str(self) -> &'static str {
        use EventDataStoreStatus::*;
        match self {
            Created => "CREATED",
            Enabled => "ENABLED",
            PendingDeletion => "PENDING_DELETION",
            StartingIngestion => "STARTING_INGESTION",
            StoppingIngestion => "STOPPING_INGESTION",
            StoppedIngestion => "STOPPED_INGESTION",
        }
    }
}

/// The pricing option of a store, which bounds its retention period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BillingMode {
    ExtendableRetentionPricing,
    FixedRetentionPricing,
}

impl BillingMode {
    pub fn as_str(self) -> &'static str {
        match self {
            BillingMode::ExtendableRetentionPricing => "EXTENDABLE_RETENTION_PRICING",
            BillingMode::FixedRetentionPricing => "FIXED_RETENTION_PRICING",
        }
    }

    pub fn parse(s: &str) -> Result<BillingMode, CatalogError> {
        match s {
            "EXTENDABLE_RETENTION_PRICING" => Ok(BillingMode::ExtendableRetentionPricing),
            "FIXED_RETENTION_PRICING" => Ok(BillingMode::FixedRetentionPricing),
            _ => Err(CatalogError::InvalidParameter(format!(
                "billing mode {s:?} is not EXTENDABLE_RETENTION_PRICING or FIXED_RETENTION_PRICING."
            ))),
        }
    }

    /// The longest retention period, in days, this mode allows (the shortest is 7).
    pub fn max_retention(self) -> u32 {
        match self {
            BillingMode::ExtendableRetentionPricing => 3653,
            BillingMode::FixedRetentionPricing => 2557,
        }
    }

    /// The retention period of a new store that did not ask for one.
    pub fn default_retention(self) -> u32 {
        match self {
            BillingMode::ExtendableRetentionPricing => 366,
            BillingMode::FixedRetentionPricing => 2557,
        }
    }
}

/// One event data store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventDataStore {
    pub arn: String,
    pub name: String,
    pub status: EventDataStoreStatus,
    pub advanced_event_selectors: Vec<AdvancedEventSelector>,
    pub multi_region_enabled: bool,
    pub organization_enabled: bool,
    pub retention_period: u32,
    pub termination_protection_enabled: bool,
    pub billing_mode: BillingMode,
    #[serde(with = "rfc3339")]
    pub created_timestamp: DateTime<Utc>,
    #[serde(with = "rfc3339")]
    pub updated_timestamp: DateTime<Utc>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default, with = "rfc3339_opt", skip_serializing_if = "Option::is_none")]
    pub pending_deletion_since: Option<DateTime<Utc>>,
}

impl EventDataStore {
    /// The store's ID: the last part of its ARN (a UUID). Its data lives in a directory of this name.
    pub fn id(&self) -> &str {
        arn::last_part(&self.arn)
    }

    /// The category its `eventCategory` selector names (ActivityAuditLog when none does).
    pub fn category(&self) -> EventCategory {
        validate_selectors(&self.advanced_event_selectors)
            .unwrap_or(EventCategory::ActivityAuditLog)
    }

    /// True when events may be added: the store is ENABLED.
    pub fn accepts_events(&self) -> bool {
        self.status == EventDataStoreStatus::Enabled
    }
}

/// The request of create-event-data-store; `None` takes CloudTrail's default.
#[derive(Debug, Clone, Default)]
pub struct NewEventDataStore {
    pub name: String,
    pub retention_period: Option<u32>,
    pub billing_mode: Option<BillingMode>,
    pub termination_protection_enabled: Option<bool>,
    pub multi_region_enabled: Option<bool>,
    pub advanced_event_selectors: Option<Vec<AdvancedEventSelector>>,
    pub tags: Vec<Tag>,
    /// `Some(false)` creates the store with ingestion stopped.
    pub start_ingestion: Option<bool>,
}

impl NewEventDataStore {
    /// A request with only a name: an ActivityAuditLog store with every default.
    pub fn named(name: &str) -> NewEventDataStore {
        NewEventDataStore {
            name: name.to_string(),
            ..NewEventDataStore::default()
        }
    }
}

/// The request of update-event-data-store; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct EventDataStoreUpdate {
    pub name: Option<String>,
    pub retention_period: Option<u32>,
    pub billing_mode: Option<BillingMode>,
    pub termination_protection_enabled: Option<bool>,
    pub multi_region_enabled: Option<bool>,
    pub advanced_event_selectors: Option<Vec<AdvancedEventSelector>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_billing_mode_serialize_as_aws_spells_them() {
        let s = serde_json::to_string(&EventDataStoreStatus::StoppedIngestion).unwrap();
        assert_eq!(s, r#""STOPPED_INGESTION""#);
        assert_eq!(
            EventDataStoreStatus::PendingDeletion.as_str(),
            "PENDING_DELETION"
        );
        let b = serde_json::to_string(&BillingMode::FixedRetentionPricing).unwrap();
        assert_eq!(b, r#""FIXED_RETENTION_PRICING""#);
        assert_eq!(
            BillingMode::parse("EXTENDABLE_RETENTION_PRICING").unwrap(),
            BillingMode::ExtendableRetentionPricing
        );
        assert_eq!(
            BillingMode::parse("cheap").unwrap_err().aws_code(),
            "InvalidParameterException"
        );
    }

    #[test]
    fn retention_limits_follow_the_billing_mode() {
        assert_eq!(
            BillingMode::ExtendableRetentionPricing.default_retention(),
            366
        );
        assert_eq!(
            BillingMode::ExtendableRetentionPricing.max_retention(),
            3653
        );
        assert_eq!(BillingMode::FixedRetentionPricing.default_retention(), 2557);
        assert_eq!(BillingMode::FixedRetentionPricing.max_retention(), 2557);
    }
}
