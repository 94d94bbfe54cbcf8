//! Event data stores in the catalog: lookup by ARN, ID or name; create; update.

use chrono::{DateTime, Utc};

use super::arn::{self, ResourceKind};
use super::eds::{
    BillingMode, EventDataStore, EventDataStoreStatus, EventDataStoreUpdate, NewEventDataStore,
};
use super::selectors::{default_selectors, validate_selectors};
use super::tags::validate_tags;
use super::{Catalog, CatalogError, validate_name};

fn check_retention(days: u32, mode: BillingMode) -> Result<(), CatalogError> {
    if (7..=mode.max_retention()).contains(&days) {
        return Ok(());
    }
    Err(CatalogError::InvalidParameter(format!(
        "retention period {days} is out of range: {} allows 7 to {} days.",
        mode.as_str(),
        mode.max_retention()
    )))
}

impl Catalog {
    /// Finds a store by full ARN, ID (case-insensitive) or name.
    pub fn find_event_data_store(&self, key: &str) -> Result<&EventDataStore, CatalogError> {
        self.eds_index(key).map(|i| &self.event_data_stores[i])
    }

    pub(super) fn eds_index(&self, key: &str) -> Result<usize, CatalogError> {
        let stores = &self.event_data_stores;
        let found = if key.starts_with("arn:") {
            match arn::parse(key) {
                Some(p) if p.kind == ResourceKind::EventDataStore => {
                    stores.iter().position(|s| s.arn.eq_ignore_ascii_case(key))
                }
                _ => {
                    return Err(CatalogError::EventDataStoreArnInvalid(format!(
                        "{key} is not a valid event data store ARN \
                         (arn:aws:cloudtrail:REGION:ACCOUNT:eventdatastore/ID)."
                    )));
                }
            }
        } else {
            stores
                .iter()
                .position(|s| s.id().eq_ignore_ascii_case(key))
                .or_else(|| stores.iter().position(|s| s.name == key))
        };
        found.ok_or_else(|| {
            CatalogError::EventDataStoreNotFound(format!(
                "no event data store has the ARN, ID or name {key}."
            ))
        })
    }

    fn check_store_name_free(&self, name: &str, except: Option<usize>) -> Result<(), CatalogError> {
        validate_name("event data store", name)?;
        let taken = self
            .event_data_stores
            .iter()
            .enumerate()
            .any(|(i, s)| s.name == name && Some(i) != except);
        if taken {
            return Err(CatalogError::EventDataStoreAlreadyExists(format!(
                "an event data store named {name} already exists."
            )));
        }
        Ok(())
    }

    /// create-event-data-store. The new store is ENABLED (STOPPED_INGESTION when
    /// `start_ingestion` is `Some(false)`).
    pub fn create_event_data_store(
        &mut self,
        req: NewEventDataStore,
        now: DateTime<Utc>,
    ) -> Result<&EventDataStore, CatalogError> {
        self.check_store_name_free(&req.name, None)?;
        let billing_mode = req
            .billing_mode
            .unwrap_or(BillingMode::ExtendableRetentionPricing);
        let retention_period = req
            .retention_period
            .unwrap_or(billing_mode.default_retention());
        check_retention(retention_period, billing_mode)?;
        let selectors = req
            .advanced_event_selectors
            .unwrap_or_else(default_selectors);
        validate_selectors(&selectors)?;
        validate_tags(&req.tags)?;
        let status = if req.start_ingestion == Some(false) {
            EventDataStoreStatus::StoppedIngestion
        } else {
            EventDataStoreStatus::Enabled
        };
        self.event_data_stores.push(EventDataStore {
            arn: self.new_arn(ResourceKind::EventDataStore),
            name: req.name,
            status,
            advanced_event_selectors: selectors,
            multi_region_enabled: req.multi_region_enabled.unwrap_or(true),
            organization_enabled: false,
            retention_period,
            termination_protection_enabled: req.termination_protection_enabled.unwrap_or(true),
            billing_mode,
            created_timestamp: now,
            updated_timestamp: now,
            tags: req.tags,
            pending_deletion_since: None,
        });
        Ok(self.event_data_stores.last().expect("just pushed"))
    }

    /// update-event-data-store: re-validates every changed setting. The category cannot move
    /// between ActivityAuditLog and Management/Data, and FIXED_RETENTION_PRICING cannot be chosen
    /// for a store on EXTENDABLE_RETENTION_PRICING.
    pub fn update_event_data_store(
        &mut self,
        key: &str,
        upd: EventDataStoreUpdate,
        now: DateTime<Utc>,
    ) -> Result<&EventDataStore, CatalogError> {
        let i = self.eds_index(key)?;
        let old = &self.event_data_stores[i];
        if old.status == EventDataStoreStatus::PendingDeletion {
            return Err(CatalogError::InvalidEventDataStoreStatus(format!(
                "event data store {} is pending deletion; restore it before updating it.",
                old.arn
            )));
        }
        if let Some(name) = &upd.name {
            self.check_store_name_free(name, Some(i))?;
        }
        let billing_mode = upd.billing_mode.unwrap_or(old.billing_mode);
        if old.billing_mode == BillingMode::ExtendableRetentionPricing
            && billing_mode == BillingMode::FixedRetentionPricing
        {
            return Err(CatalogError::InvalidParameter(
                "an event data store on EXTENDABLE_RETENTION_PRICING cannot change to FIXED_RETENTION_PRICING.".into(),
            ));
        }
        let retention_period = upd.retention_period.unwrap_or(old.retention_period);
        check_retention(retention_period, billing_mode)?;
        if let Some(selectors) = &upd.advanced_event_selectors {
            let new = validate_selectors(selectors)?;
            if new.is_trail() != old.category().is_trail() {
                return Err(CatalogError::InvalidEventSelectors(format!(
                    "event data store {} holds {} events; its event category cannot change to {}.",
                    old.arn,
                    old.category().as_str(),
                    new.as_str()
                )));
            }
        }
        let s = &mut self.event_data_stores[i];
        if let Some(name) = upd.name {
            s.name = name;
        }
        if let Some(selectors) = upd.advanced_event_selectors {
            s.advanced_event_selectors = selectors;
        }
        if let Some(on) = upd.termination_protection_enabled {
            s.termination_protection_enabled = on;
        }
        if let Some(on) = upd.multi_region_enabled {
            s.multi_region_enabled = on;
        }
        s.billing_mode = billing_mode;
        s.retention_period = retention_period;
        s.updated_timestamp = now;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{EventCategory, Tag, selector_for};
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
    }

    fn code<T>(r: Result<T, CatalogError>) -> &'static str {
        r.map_or_else(|e| e.aws_code(), |_| "ok")
    }

    fn unprotected(name: &str) -> NewEventDataStore {
        NewEventDataStore {
            termination_protection_enabled: Some(false),
            ..NewEventDataStore::named(name)
        }
    }

    fn trail(name: &str, category: EventCategory) -> NewEventDataStore {
        NewEventDataStore {
            advanced_event_selectors: Some(vec![selector_for(category)]),
            ..NewEventDataStore::named(name)
        }
    }

    #[test]
    fn create_applies_cloudtrail_defaults() {
        let mut c = Catalog::default();
        let s = c
            .create_event_data_store(NewEventDataStore::named("audit"), t0())
            .unwrap();
        assert!(
            s.arn
                .starts_with("arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/")
        );
        assert!(uuid::Uuid::parse_str(s.id()).is_ok());
        assert_eq!(s.status, EventDataStoreStatus::Enabled);
        assert!(s.accepts_events());
        assert_eq!(
            (s.retention_period, s.billing_mode),
            (366, BillingMode::ExtendableRetentionPricing)
        );
        assert!(
            s.termination_protection_enabled && s.multi_region_enabled && !s.organization_enabled
        );
        assert_eq!(s.category(), EventCategory::ActivityAuditLog);
        assert_eq!((s.created_timestamp, s.updated_timestamp), (t0(), t0()));
        let fixed = NewEventDataStore {
            billing_mode: Some(BillingMode::FixedRetentionPricing),
            ..NewEventDataStore::named("fixed")
        };
        assert_eq!(
            c.create_event_data_store(fixed, t0())
                .unwrap()
                .retention_period,
            2557
        );
        let stopped = NewEventDataStore {
            start_ingestion: Some(false),
            ..NewEventDataStore::named("stopped")
        };
        assert!(
            !c.create_event_data_store(stopped, t0())
                .unwrap()
                .accepts_events()
        );
    }

    #[test]
    fn retention_bounds_depend_on_billing_mode() {
        let mut c = Catalog::default();
        let mut n = 0;
        let mut try_create = |days: u32, mode: BillingMode| {
            n += 1;
            let req = NewEventDataStore {
                retention_period: Some(days),
                billing_mode: Some(mode),
                ..NewEventDataStore::named(&format!("store{n}"))
            };
            code(c.create_event_data_store(req, t0()))
        };
        use BillingMode::*;
        assert_eq!(
            try_create(6, ExtendableRetentionPricing),
            "InvalidParameterException"
        );
        assert_eq!(try_create(7, ExtendableRetentionPricing), "ok");
        assert_eq!(try_create(3653, ExtendableRetentionPricing), "ok");
        assert_eq!(
            try_create(3654, ExtendableRetentionPricing),
            "InvalidParameterException"
        );
        assert_eq!(try_create(2557, FixedRetentionPricing), "ok");
        assert_eq!(
            try_create(2558, FixedRetentionPricing),
            "InvalidParameterException"
        );
    }

    #[test]
    fn create_validates_name_tags_and_selectors() {
        let mut c = Catalog::default();
        assert_eq!(
            code(c.create_event_data_store(NewEventDataStore::named("no"), t0())),
            "InvalidParameterException"
        );
        c.create_event_data_store(NewEventDataStore::named("audit"), t0())
            .unwrap();
        assert_eq!(
            code(c.create_event_data_store(NewEventDataStore::named("audit"), t0())),
            "EventDataStoreAlreadyExistsException"
        );
        let tags = (0..51).map(|i| Tag::new(format!("k{i}"), "v")).collect();
        let many = NewEventDataStore {
            tags,
            ..NewEventDataStore::named("tagged")
        };
        assert_eq!(
            code(c.create_event_data_store(many, t0())),
            "TagsLimitExceededException"
        );
        let none = NewEventDataStore {
            advanced_event_selectors: Some(vec![]),
            ..NewEventDataStore::named("empty")
        };
        assert_eq!(
            code(c.create_event_data_store(none, t0())),
            "InvalidEventSelectorsException"
        );
        assert_eq!(c.event_data_stores.len(), 1);
    }

    #[test]
    fn lookup_by_arn_id_or_name() {
        let mut c = Catalog::default();
        let s = c
            .create_event_data_store(NewEventDataStore::named("audit"), t0())
            .unwrap()
            .clone();
        assert_eq!(c.find_event_data_store(&s.arn).unwrap().name, "audit");
        assert_eq!(
            c.find_event_data_store(&s.id().to_uppercase()).unwrap().arn,
            s.arn
        );
        assert_eq!(c.find_event_data_store("audit").unwrap().arn, s.arn);
        assert_eq!(
            code(c.find_event_data_store("other")),
            "EventDataStoreNotFoundException"
        );
        assert_eq!(
            code(c.find_event_data_store("arn:aws:cloudtrail:bad")),
            "EventDataStoreARNInvalidException"
        );
        let as_channel = s.arn.replace("eventdatastore/", "channel/");
        assert_eq!(
            code(c.find_event_data_store(&as_channel)),
            "EventDataStoreARNInvalidException"
        );
    }

    #[test]
    fn update_revalidates_every_setting() {
        let mut c = Catalog::default();
        c.create_event_data_store(NewEventDataStore::named("audit"), t0())
            .unwrap();
        c.create_event_data_store(trail("trail", EventCategory::Management), t0())
            .unwrap();
        let upd = |f: fn(&mut EventDataStoreUpdate)| {
            let mut u = EventDataStoreUpdate::default();
            f(&mut u);
            u
        };
        let later = t0() + Duration::hours(1);
        let s = c
            .update_event_data_store(
                "audit",
                upd(|u| {
                    u.name = Some("renamed".into());
                    u.retention_period = Some(3653)
                }),
                later,
            )
            .unwrap();
        assert_eq!(
            (s.name.as_str(), s.retention_period, s.updated_timestamp),
            ("renamed", 3653, later)
        );
        assert_eq!(
            code(c.update_event_data_store(
                "renamed",
                upd(|u| u.name = Some("trail".into())),
                t0()
            )),
            "EventDataStoreAlreadyExistsException"
        );
        assert_eq!(
            code(c.update_event_data_store(
                "renamed",
                upd(|u| u.retention_period = Some(3654)),
                t0()
            )),
            "InvalidParameterException"
        );
        assert_eq!(
            code(c.update_event_data_store(
                "renamed",
                upd(|u| u.billing_mode = Some(BillingMode::FixedRetentionPricing)),
                t0()
            )),
            "InvalidParameterException"
        );
        let to_mgmt = upd(|u| {
            u.advanced_event_selectors = Some(vec![selector_for(EventCategory::Management)])
        });
        assert_eq!(
            code(c.update_event_data_store("renamed", to_mgmt, t0())),
            "InvalidEventSelectorsException"
        );
        let to_data =
            upd(|u| u.advanced_event_selectors = Some(vec![selector_for(EventCategory::Data)]));
        assert_eq!(
            c.update_event_data_store("trail", to_data, t0())
                .unwrap()
                .category(),
            EventCategory::Data
        );
        assert_eq!(
            c.find_event_data_store("renamed").unwrap().category(),
            EventCategory::ActivityAuditLog
        );
    }

    #[test]
    fn fixed_pricing_can_move_to_extendable_and_pending_stores_cannot_change() {
        let mut c = Catalog::default();
        let fixed = NewEventDataStore {
            billing_mode: Some(BillingMode::FixedRetentionPricing),
            ..unprotected("fixed")
        };
        c.create_event_data_store(fixed, t0()).unwrap();
        let u = EventDataStoreUpdate {
            billing_mode: Some(BillingMode::ExtendableRetentionPricing),
            retention_period: Some(3000),
            ..Default::default()
        };
        let s = c.update_event_data_store("fixed", u, t0()).unwrap();
        assert_eq!(
            (s.billing_mode, s.retention_period),
            (BillingMode::ExtendableRetentionPricing, 3000)
        );
        c.delete_event_data_store("fixed", t0()).unwrap();
        let u = EventDataStoreUpdate {
            retention_period: Some(30),
            ..Default::default()
        };
        assert_eq!(
            code(c.update_event_data_store("fixed", u, t0())),
            "InvalidEventDataStoreStatusException"
        );
    }
}
