//! Event data store status changes: delete (PENDING_DELETION), restore, stop/start ingestion, purge.

use chrono::{DateTime, Duration, Utc};

use super::eds::{EventDataStore, EventDataStoreStatus};
use super::{Catalog, CatalogError};

/// How long a deleted store stays in PENDING_DELETION (restorable) before it is purged.
pub const PENDING_DELETION_DAYS: i64 = 7;

impl Catalog {
    /// delete-event-data-store: moves the store to PENDING_DELETION (its data stays until
    /// [`Catalog::purge_expired`]). Refused while termination protection is on or a channel
    /// delivers to the store.
    pub fn delete_event_data_store(
        &mut self,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<&EventDataStore, CatalogError> {
        let i = self.eds_index(key)?;
        let s = &self.event_data_stores[i];
        if s.status == EventDataStoreStatus::PendingDeletion {
            return Err(CatalogError::InvalidEventDataStoreStatus(format!(
                "event data store {} is already pending deletion.",
                s.arn
            )));
        }
        if s.termination_protection_enabled {
            return Err(CatalogError::EventDataStoreTerminationProtected(format!(
                "Event data store {} cannot be deleted because termination protection is enabled.",
                s.arn
            )));
        }
        let channels: Vec<&str> = self
            .channels_delivering_to(&s.arn)
            .map(|c| c.arn.as_str())
            .collect();
        if !channels.is_empty() {
            return Err(CatalogError::ChannelExistsForEds(format!(
                "Event data store {} cannot be deleted because channel {} delivers events to it; \
                 remove it from the channel's destinations or delete the channel first.",
                s.arn,
                channels.join(", ")
            )));
        }
        let s = &mut self.event_data_stores[i];
        s.status = EventDataStoreStatus::PendingDeletion;
        s.pending_deletion_since = Some(now);
        s.updated_timestamp = now;
        Ok(s)
    }

    /// restore-event-data-store: brings a PENDING_DELETION store back to ENABLED.
    pub fn restore_event_data_store(
        &mut self,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<&EventDataStore, CatalogError> {
        let s = self.transition(
            key,
            EventDataStoreStatus::PendingDeletion,
            EventDataStoreStatus::Enabled,
            now,
        )?;
        s.pending_deletion_since = None;
        Ok(s)
    }

    /// stop-event-data-store-ingestion: ENABLED -> STOPPED_INGESTION.
    pub fn stop_event_data_store_ingestion(
        &mut self,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<&EventDataStore, CatalogError> {
        self.transition(
            key,
            EventDataStoreStatus::Enabled,
            EventDataStoreStatus::StoppedIngestion,
            now,
        )
        .map(|s| &*s)
    }

    /// start-event-data-store-ingestion: STOPPED_INGESTION -> ENABLED.
    pub fn start_event_data_store_ingestion(
        &mut self,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<&EventDataStore, CatalogError> {
        self.transition(
            key,
            EventDataStoreStatus::StoppedIngestion,
            EventDataStoreStatus::Enabled,
            now,
        )
        .map(|s| &*s)
    }

    fn transition(
        &mut self,
        key: &str,
        from: EventDataStoreStatus,
        to: EventDataStoreStatus,
        now: DateTime<Utc>,
    ) -> Result<&mut EventDataStore, CatalogError> {
        let i = self.eds_index(key)?;
        let s = &mut self.event_data_stores[i];
        if s.status != from {
            return Err(CatalogError::InvalidEventDataStoreStatus(format!(
                "event data store {} is {}; this operation needs it to be {}.",
                s.arn,
                s.status.as_str(),
                from.as_str()
            )));
        }
        s.status = to;
        s.updated_timestamp = now;
        Ok(s)
    }

    /// Removes stores that have been PENDING_DELETION for more than 7 days and returns their
    /// IDs; the caller deletes their data directories.
    pub fn purge_expired(&mut self, now: DateTime<Utc>) -> Vec<String> {
        let expired = |s: &EventDataStore| {
            s.status == EventDataStoreStatus::PendingDeletion
                && s.pending_deletion_since
                    .is_none_or(|t| now - t > Duration::days(PENDING_DELETION_DAYS))
        };
        let ids = self
            .event_data_stores
            .iter()
            .filter(|s| expired(s))
            .map(|s| s.id().to_string())
            .collect();
        self.event_data_stores.retain(|s| !expired(s));
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Destination, EventDataStoreUpdate, NewChannel, NewEventDataStore};
    use chrono::TimeZone;

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

    #[test]
    fn delete_needs_protection_off_and_no_channel() {
        let mut c = Catalog::default();
        c.create_event_data_store(NewEventDataStore::named("audit"), t0())
            .unwrap();
        let e = c.delete_event_data_store("audit", t0()).unwrap_err();
        assert_eq!(e.aws_code(), "EventDataStoreTerminationProtectedException");
        assert!(
            e.to_string()
                .ends_with("cannot be deleted because termination protection is enabled."),
            "{e}"
        );
        let off = EventDataStoreUpdate {
            termination_protection_enabled: Some(false),
            ..Default::default()
        };
        c.update_event_data_store("audit", off, t0()).unwrap();
        let ch = NewChannel {
            name: "app".into(),
            source: "Custom".into(),
            destinations: vec![Destination::event_data_store("audit")],
            tags: vec![],
        };
        let ch = c.create_channel(ch).unwrap().arn.clone();
        let e = c.delete_event_data_store("audit", t0()).unwrap_err();
        assert_eq!(e.aws_code(), "ChannelExistsForEDSException");
        assert!(e.to_string().contains(&ch), "{e}");
        c.delete_channel("app").unwrap();
        let s = c.delete_event_data_store("audit", t0()).unwrap();
        assert_eq!(
            (s.status, s.pending_deletion_since),
            (EventDataStoreStatus::PendingDeletion, Some(t0()))
        );
        assert!(!s.accepts_events());
        assert_eq!(
            code(c.delete_event_data_store("audit", t0())),
            "InvalidEventDataStoreStatusException"
        );
    }

    #[test]
    fn restore_only_from_pending_deletion() {
        let mut c = Catalog::default();
        c.create_event_data_store(unprotected("audit"), t0())
            .unwrap();
        assert_eq!(
            code(c.restore_event_data_store("audit", t0())),
            "InvalidEventDataStoreStatusException"
        );
        c.delete_event_data_store("audit", t0()).unwrap();
        let s = c.restore_event_data_store("audit", t0()).unwrap();
        assert_eq!(
            (s.status, s.pending_deletion_since),
            (EventDataStoreStatus::Enabled, None)
        );
    }

    #[test]
    fn ingestion_stops_and_starts_only_from_the_right_status() {
        let mut c = Catalog::default();
        c.create_event_data_store(unprotected("audit"), t0())
            .unwrap();
        assert_eq!(
            code(c.start_event_data_store_ingestion("audit", t0())),
            "InvalidEventDataStoreStatusException"
        );
        let s = c.stop_event_data_store_ingestion("audit", t0()).unwrap();
        assert_eq!(s.status, EventDataStoreStatus::StoppedIngestion);
        assert!(!s.accepts_events());
        assert_eq!(
            code(c.stop_event_data_store_ingestion("audit", t0())),
            "InvalidEventDataStoreStatusException"
        );
        assert_eq!(
            c.start_event_data_store_ingestion("audit", t0())
                .unwrap()
                .status,
            EventDataStoreStatus::Enabled
        );
        c.delete_event_data_store("audit", t0()).unwrap();
        assert_eq!(
            code(c.stop_event_data_store_ingestion("audit", t0())),
            "InvalidEventDataStoreStatusException"
        );
    }

    #[test]
    fn purge_removes_stores_pending_deletion_for_more_than_seven_days() {
        let mut c = Catalog::default();
        let gone = c
            .create_event_data_store(unprotected("gone"), t0())
            .unwrap()
            .id()
            .to_string();
        c.create_event_data_store(unprotected("kept"), t0())
            .unwrap();
        c.create_event_data_store(unprotected("recent"), t0())
            .unwrap();
        c.delete_event_data_store("gone", t0()).unwrap();
        c.delete_event_data_store("recent", t0() + Duration::days(1))
            .unwrap();
        assert!(c.purge_expired(t0() + Duration::days(7)).is_empty());
        assert_eq!(
            c.purge_expired(t0() + Duration::days(7) + Duration::seconds(1)),
            vec![gone]
        );
        let left: Vec<&str> = c
            .event_data_stores
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(left, ["kept", "recent"]);
    }
}
