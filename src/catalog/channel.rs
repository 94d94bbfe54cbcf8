//! Channels: their model, lookup, and create/update/delete with CloudTrail's source and destination rules.

use serde::{Deserialize, Serialize};

use super::arn::{self, ResourceKind};
use super::eds::EventDataStoreStatus;
use super::partners::{self, CUSTOM_SOURCE};
use super::selectors::EventCategory;
use super::tags::{Tag, validate_tags};
use super::{Catalog, CatalogError, validate_name};

/// The only destination type a user-created channel can have.
pub const DESTINATION_TYPE_EVENT_DATA_STORE: &str = "EVENT_DATA_STORE";
/// A channel delivers to at most this many event data stores.
pub const MAX_DESTINATIONS: usize = 200;

/// A channel: the way events from an integration reach event data stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub arn: String,
    pub name: String,
    pub source: String,
    pub destinations: Vec<Destination>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// The resource policy JSON exactly as it was put (validated by [`super::validate_policy`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_policy: Option<String>,
}

impl Channel {
    /// The channel's ID: the last part of its ARN (a UUID).
    pub fn id(&self) -> &str {
        arn::last_part(&self.arn)
    }
}

/// Where a channel delivers: `{"Type": "EVENT_DATA_STORE", "Location": EDS_ARN}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Destination {
    pub r#type: String,
    pub location: String,
}

impl Destination {
    /// A destination that delivers to the event data store `location` (ARN, ID or name).
    pub fn event_data_store(location: &str) -> Destination {
        Destination {
            r#type: DESTINATION_TYPE_EVENT_DATA_STORE.to_string(),
            location: location.to_string(),
        }
    }
}

/// The request of create-channel.
#[derive(Debug, Clone, Default)]
pub struct NewChannel {
    pub name: String,
    pub source: String,
    pub destinations: Vec<Destination>,
    pub tags: Vec<Tag>,
}

impl Catalog {
    /// Finds a channel by full ARN, ID (case-insensitive) or name.
    pub fn find_channel(&self, key: &str) -> Result<&Channel, CatalogError> {
        self.channel_index(key).map(|i| &self.channels[i])
    }

    pub(super) fn channel_index(&self, key: &str) -> Result<usize, CatalogError> {
        let found = if key.starts_with("arn:") {
            match arn::parse(key) {
                Some(p) if p.kind == ResourceKind::Channel => self
                    .channels
                    .iter()
                    .position(|c| c.arn.eq_ignore_ascii_case(key)),
                _ => {
                    return Err(CatalogError::ChannelArnInvalid(format!(
                        "{key} is not a valid channel ARN (arn:aws:cloudtrail:REGION:ACCOUNT:channel/ID)."
                    )));
                }
            }
        } else {
            (self
                .channels
                .iter()
                .position(|c| c.id().eq_ignore_ascii_case(key)))
            .or_else(|| self.channels.iter().position(|c| c.name == key))
        };
        found.ok_or_else(|| {
            CatalogError::ChannelNotFound(format!("no channel has the ARN, ID or name {key}."))
        })
    }

    /// The channels with `eds_arn` among their destinations.
    pub fn channels_delivering_to<'a>(
        &'a self,
        eds_arn: &'a str,
    ) -> impl Iterator<Item = &'a Channel> + 'a {
        self.channels
            .iter()
            .filter(move |c| c.destinations.iter().any(|d| d.location == eds_arn))
    }

    fn check_channel_name_free(
        &self,
        name: &str,
        except: Option<usize>,
    ) -> Result<(), CatalogError> {
        validate_name("channel", name)?;
        if self
            .channels
            .iter()
            .enumerate()
            .any(|(i, c)| c.name == name && Some(i) != except)
        {
            return Err(CatalogError::ChannelAlreadyExists(format!(
                "a channel named {name} already exists."
            )));
        }
        Ok(())
    }

    /// Checks destinations and returns them with each location resolved to its store's ARN.
    fn resolve_destinations(
        &self,
        destinations: &[Destination],
    ) -> Result<Vec<Destination>, CatalogError> {
        if destinations.is_empty() || destinations.len() > MAX_DESTINATIONS {
            return Err(CatalogError::InvalidParameter(format!(
                "a channel needs 1 to {MAX_DESTINATIONS} destinations; {} were given.",
                destinations.len()
            )));
        }
        let mut resolved: Vec<Destination> = Vec::with_capacity(destinations.len());
        for d in destinations {
            if d.r#type != DESTINATION_TYPE_EVENT_DATA_STORE {
                return Err(CatalogError::InvalidParameter(format!(
                    "destination type {:?} is not supported; use {DESTINATION_TYPE_EVENT_DATA_STORE}.",
                    d.r#type
                )));
            }
            let store = self.find_event_data_store(&d.location)?;
            if store.category() != EventCategory::ActivityAuditLog {
                return Err(CatalogError::InvalidEventDataStoreCategory(format!(
                    "event data store {} holds {} events; channels deliver only to ActivityAuditLog event data stores.",
                    store.arn,
                    store.category().as_str()
                )));
            }
            if store.status == EventDataStoreStatus::PendingDeletion {
                return Err(CatalogError::InvalidEventDataStoreStatus(format!(
                    "event data store {} is pending deletion.",
                    store.arn
                )));
            }
            if resolved.iter().any(|r| r.location == store.arn) {
                return Err(CatalogError::InvalidParameter(format!(
                    "event data store {} is listed more than once in the destinations.",
                    store.arn
                )));
            }
            resolved.push(Destination::event_data_store(&store.arn));
        }
        Ok(resolved)
    }

    /// create-channel. The source is `Custom` (any number of channels) or a partner source name
    /// (at most one channel each).
    pub fn create_channel(&mut self, req: NewChannel) -> Result<&Channel, CatalogError> {
        self.check_channel_name_free(&req.name, None)?;
        if !partners::is_known_source(&req.source) {
            return Err(CatalogError::InvalidSource(format!(
                "source {:?} is not Custom or a CloudTrail Lake partner source; accepted: {}.",
                req.source,
                partners::source_names()
            )));
        }
        let taken = self.channels.iter().find(|c| c.source == req.source);
        if let Some(c) = taken.filter(|_| req.source != CUSTOM_SOURCE) {
            return Err(CatalogError::ChannelAlreadyExists(format!(
                "channel {} already receives events from source {}; a partner source can have only one channel.",
                c.arn, req.source
            )));
        }
        let destinations = self.resolve_destinations(&req.destinations)?;
        validate_tags(&req.tags)?;
        self.channels.push(Channel {
            arn: self.new_arn(ResourceKind::Channel),
            name: req.name,
            source: req.source,
            destinations,
            tags: req.tags,
            resource_policy: None,
        });
        Ok(self.channels.last().expect("just pushed"))
    }

    /// update-channel: renames the channel and/or replaces its destinations.
    pub fn update_channel(
        &mut self,
        key: &str,
        name: Option<String>,
        destinations: Option<Vec<Destination>>,
    ) -> Result<&Channel, CatalogError> {
        let i = self.channel_index(key)?;
        if let Some(name) = &name {
            self.check_channel_name_free(name, Some(i))?;
        }
        let destinations = destinations
            .map(|d| self.resolve_destinations(&d))
            .transpose()?;
        let c = &mut self.channels[i];
        if let Some(name) = name {
            c.name = name;
        }
        if let Some(destinations) = destinations {
            c.destinations = destinations;
        }
        Ok(c)
    }

    /// delete-channel: removes the channel and its resource policy; its stores keep their events.
    pub fn delete_channel(&mut self, key: &str) -> Result<Channel, CatalogError> {
        let i = self.channel_index(key)?;
        Ok(self.channels.remove(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{NewEventDataStore, selector_for};
    use chrono::Utc;

    fn catalog_with_store() -> (Catalog, String) {
        let mut c = Catalog::default();
        let arn = c
            .create_event_data_store(NewEventDataStore::named("audit"), Utc::now())
            .unwrap()
            .arn
            .clone();
        (c, arn)
    }

    fn new_channel(name: &str, source: &str, dest: &str) -> NewChannel {
        NewChannel {
            name: name.into(),
            source: source.into(),
            destinations: vec![Destination::event_data_store(dest)],
            tags: vec![],
        }
    }

    #[test]
    fn create_gives_a_channel_arn_and_resolves_destinations_to_arns() {
        let (mut c, eds) = catalog_with_store();
        let ch = c
            .create_channel(new_channel("app", "Custom", "audit"))
            .unwrap();
        assert!(
            ch.arn
                .starts_with("arn:aws:cloudtrail:us-east-1:123456789012:channel/")
        );
        assert!(uuid::Uuid::parse_str(ch.id()).is_ok());
        assert_eq!(ch.destinations, vec![Destination::event_data_store(&eds)]);
    }

    #[test]
    fn lookup_by_arn_id_and_name() {
        let (mut c, _) = catalog_with_store();
        let ch = c
            .create_channel(new_channel("app", "Custom", "audit"))
            .unwrap()
            .clone();
        assert_eq!(c.find_channel(&ch.arn).unwrap().name, "app");
        assert_eq!(c.find_channel(&ch.id().to_uppercase()).unwrap().name, "app");
        assert_eq!(c.find_channel("app").unwrap().arn, ch.arn);
        assert_eq!(
            c.find_channel("nope").unwrap_err().aws_code(),
            "ChannelNotFoundException"
        );
        assert_eq!(
            c.find_channel("arn:aws:cloudtrail:x")
                .unwrap_err()
                .aws_code(),
            "ChannelARNInvalidException"
        );
        let eds_arn = c.event_data_stores[0].arn.clone();
        assert_eq!(
            c.find_channel(&eds_arn).unwrap_err().aws_code(),
            "ChannelARNInvalidException"
        );
    }

    #[test]
    fn names_are_validated_and_unique() {
        let (mut c, _) = catalog_with_store();
        assert_eq!(
            c.create_channel(new_channel("ab", "Custom", "audit"))
                .unwrap_err()
                .aws_code(),
            "InvalidParameterException"
        );
        c.create_channel(new_channel("app", "Custom", "audit"))
            .unwrap();
        assert_eq!(
            c.create_channel(new_channel("app", "Custom", "audit"))
                .unwrap_err()
                .aws_code(),
            "ChannelAlreadyExistsException"
        );
    }

    #[test]
    fn sources_are_custom_or_a_partner_and_partners_get_one_channel() {
        let (mut c, _) = catalog_with_store();
        assert_eq!(
            c.create_channel(new_channel("x-1", "Splunk", "audit"))
                .unwrap_err()
                .aws_code(),
            "InvalidSourceException"
        );
        c.create_channel(new_channel("okta-1", "OktaSystemLogEvents", "audit"))
            .unwrap();
        let e = c
            .create_channel(new_channel("okta-2", "OktaSystemLogEvents", "audit"))
            .unwrap_err();
        assert_eq!(e.aws_code(), "ChannelAlreadyExistsException");
        c.create_channel(new_channel("custom-1", "Custom", "audit"))
            .unwrap();
        c.create_channel(new_channel("custom-2", "Custom", "audit"))
            .unwrap();
    }

    #[test]
    fn destinations_must_be_existing_enabled_activity_stores_of_type_event_data_store() {
        let (mut c, eds) = catalog_with_store();
        let trail = NewEventDataStore {
            advanced_event_selectors: Some(vec![selector_for(EventCategory::Management)]),
            ..NewEventDataStore::named("trail")
        };
        c.create_event_data_store(trail, Utc::now()).unwrap();
        let code = |c: &mut Catalog, dests: Vec<Destination>| {
            let req = NewChannel {
                destinations: dests,
                ..new_channel("app", "Custom", "audit")
            };
            c.create_channel(req).map(|_| ()).map_err(|e| e.aws_code())
        };
        assert_eq!(
            code(&mut c, vec![Destination::event_data_store("trail")]),
            Err("InvalidEventDataStoreCategoryException")
        );
        assert_eq!(
            code(&mut c, vec![Destination::event_data_store("missing")]),
            Err("EventDataStoreNotFoundException")
        );
        assert_eq!(code(&mut c, vec![]), Err("InvalidParameterException"));
        let aws_service = Destination {
            r#type: "AWS_SERVICE".into(),
            location: eds.clone(),
        };
        assert_eq!(
            code(&mut c, vec![aws_service]),
            Err("InvalidParameterException")
        );
        let twice = vec![
            Destination::event_data_store(&eds),
            Destination::event_data_store("audit"),
        ];
        assert_eq!(code(&mut c, twice), Err("InvalidParameterException"));
        c.event_data_stores[0].termination_protection_enabled = false;
        c.delete_event_data_store("audit", Utc::now()).unwrap();
        assert_eq!(
            code(&mut c, vec![Destination::event_data_store("audit")]),
            Err("InvalidEventDataStoreStatusException")
        );
    }

    #[test]
    fn update_renames_and_replaces_destinations_with_the_same_rules() {
        let (mut c, _) = catalog_with_store();
        let other = c
            .create_event_data_store(NewEventDataStore::named("other"), Utc::now())
            .unwrap()
            .arn
            .clone();
        c.create_channel(new_channel("app", "Custom", "audit"))
            .unwrap();
        c.create_channel(new_channel("app2", "Custom", "audit"))
            .unwrap();
        let ch = c
            .update_channel(
                "app",
                Some("renamed".into()),
                Some(vec![Destination::event_data_store("other")]),
            )
            .unwrap();
        assert_eq!(
            (ch.name.as_str(), ch.destinations[0].location.as_str()),
            ("renamed", other.as_str())
        );
        assert_eq!(
            c.update_channel("renamed", Some("app2".into()), None)
                .unwrap_err()
                .aws_code(),
            "ChannelAlreadyExistsException"
        );
        assert_eq!(
            c.update_channel("renamed", None, Some(vec![]))
                .unwrap_err()
                .aws_code(),
            "InvalidParameterException"
        );
    }

    #[test]
    fn delete_removes_the_channel_and_frees_its_stores() {
        let (mut c, eds) = catalog_with_store();
        c.create_channel(new_channel("app", "Custom", "audit"))
            .unwrap();
        assert_eq!(c.channels_delivering_to(&eds).count(), 1);
        c.delete_channel("app").unwrap();
        assert_eq!(c.channels_delivering_to(&eds).count(), 0);
        assert_eq!(
            c.delete_channel("app").unwrap_err().aws_code(),
            "ChannelNotFoundException"
        );
    }
}
