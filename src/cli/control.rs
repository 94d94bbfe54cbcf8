//! The control-plane commands (`create-event-data-store`, `create-channel`, ...), named and flagged like `aws cloudtrail`.

use std::path::Path;

use chrono::{DateTime, Utc};
use clap::Subcommand;
use serde_json::{Value, json};

use crate::catalog::input::{file_or_text, parse_destinations, parse_selectors_arg, parse_tags};
use crate::catalog::{
    BillingMode, Catalog, CatalogError, EventDataStoreUpdate, NewChannel, NewEventDataStore,
    response,
};
use crate::store::lock::WriterLock;

/// Control-plane commands. Each prints the JSON the AWS CLI prints for the same command.
#[derive(Debug, Clone, Subcommand)]
pub enum ControlCommand {
    /// Create the store directory and set the AWS account ID and region used in ARNs.
    ///
    /// Without flags, keeps the current values (account 123456789012, region us-east-1 for a
    /// new store). They cannot change once the store has event data stores or channels.
    Init {
        /// The 12-digit AWS account ID that owns the store's resources and receives its events.
        #[arg(long, value_name = "ID")]
        account_id: Option<String>,
        /// The AWS region written into ARNs and events, e.g. us-east-1.
        #[arg(long)]
        region: Option<String>,
    },
    /// Create an event data store: a named collection of events you can query with SQL.
    ///
    /// By default the store holds integration (ActivityAuditLog) events sent through channels.
    /// To hold imported CloudTrail logs, give advanced event selectors with eventCategory
    /// Management or Data.
    CreateEventDataStore {
        /// The store's name: 3 to 128 letters, digits, '.', '_' or '-', unique in this store.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        settings: StoreSettings,
        /// Tags, each `Key=k,Value=v`, or one JSON list `[{"Key":"k","Value":"v"}]`; at most 50.
        #[arg(long, num_args = 1.., value_name = "TAG")]
        tags_list: Vec<String>,
        /// Create the store with ingestion stopped; start it later with start-event-data-store-ingestion.
        #[arg(long)]
        no_start_ingestion: bool,
    },
    /// Show one event data store's settings and status.
    GetEventDataStore {
        /// The store's ARN, ID (the last part of the ARN) or name.
        #[arg(long, value_name = "STORE")]
        event_data_store: String,
    },
    /// List every event data store, including those pending deletion.
    ListEventDataStores,
    /// Change an event data store's name, retention, billing mode, termination protection or selectors.
    ///
    /// Only the settings you give change. Retention is checked against the billing mode;
    /// FIXED_RETENTION_PRICING can change to EXTENDABLE_RETENTION_PRICING but not back; the
    /// event category cannot change between ActivityAuditLog and Management/Data.
    UpdateEventDataStore {
        /// The store's ARN, ID or name.
        #[arg(long, value_name = "STORE")]
        event_data_store: String,
        /// A new name (3 to 128 letters, digits, '.', '_' or '-').
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        settings: StoreSettings,
    },
    /// Delete an event data store: it goes to PENDING_DELETION and its events are removed 7 days later.
    ///
    /// Refused while termination protection is on or while a channel delivers to the store.
    /// Within the 7 days, restore-event-data-store brings it back.
    DeleteEventDataStore {
        /// The store's ARN, ID or name.
        #[arg(long, value_name = "STORE")]
        event_data_store: String,
    },
    /// Bring back an event data store that is pending deletion (status ENABLED again).
    RestoreEventDataStore {
        /// The store's ARN, ID or name.
        #[arg(long, value_name = "STORE")]
        event_data_store: String,
    },
    /// Stop an ENABLED event data store from accepting events (status STOPPED_INGESTION); it stays queryable.
    StopEventDataStoreIngestion {
        /// The store's ARN, ID or name.
        #[arg(long, value_name = "STORE")]
        event_data_store: String,
    },
    /// Let a STOPPED_INGESTION event data store accept events again (status ENABLED).
    StartEventDataStoreIngestion {
        /// The store's ARN, ID or name.
        #[arg(long, value_name = "STORE")]
        event_data_store: String,
    },
    /// Create a channel: the entry point that PutAuditEvents calls use to deliver events to stores.
    CreateChannel {
        /// The channel's name: 3 to 128 letters, digits, '.', '_' or '-', unique in this store.
        #[arg(long)]
        name: String,
        /// `Custom` for your own applications, or a CloudTrail Lake partner source such as
        /// OktaSystemLogEvents, GitHub, LaunchDarkly or WizAuditLogs (one channel per partner).
        /// An unknown name is refused with the list of accepted sources.
        #[arg(long)]
        source: String,
        /// Where events go, each `Type=EVENT_DATA_STORE,Location=STORE` (STORE: an ActivityAuditLog
        /// event data store's ARN, ID or name), or one JSON list `[{"Type":...,"Location":...}]`.
        #[arg(long, num_args = 1.., value_name = "DEST", required = true)]
        destinations: Vec<String>,
        /// Tags, each `Key=k,Value=v`, or one JSON list; at most 50.
        #[arg(long, num_args = 1.., value_name = "TAG")]
        tags: Vec<String>,
    },
    /// Show a channel: its source and the event data stores it delivers to.
    GetChannel {
        /// The channel's ARN, ID (the last part of the ARN) or name.
        #[arg(long)]
        channel: String,
    },
    /// List every channel's ARN and name.
    ListChannels,
    /// Rename a channel and/or replace the event data stores it delivers to.
    UpdateChannel {
        /// The channel's ARN, ID or name.
        #[arg(long)]
        channel: String,
        /// A new name (3 to 128 letters, digits, '.', '_' or '-').
        #[arg(long)]
        name: Option<String>,
        /// The new destinations, replacing the old ones (same forms as in create-channel).
        #[arg(long, num_args = 1.., value_name = "DEST")]
        destinations: Option<Vec<String>>,
    },
    /// Delete a channel and its resource policy. Events already stored stay in their stores.
    DeleteChannel {
        /// The channel's ARN, ID or name.
        #[arg(long)]
        channel: String,
    },
    /// Attach a resource policy to a channel, letting other accounts call PutAuditEvents on it.
    ///
    /// The policy allows cloudtrail-data:PutAuditEvents for principals {"AWS": ACCOUNTS} on the
    /// channel ARN, optionally requiring an external ID with
    /// "Condition": {"StringEquals": {"cloudtrail:ExternalId": "..."}}. Without a policy only
    /// the owner account may send events. Replaces any existing policy.
    PutResourcePolicy {
        /// The channel's ARN.
        #[arg(long, value_name = "ARN")]
        resource_arn: String,
        /// The policy as JSON or file://PATH.
        #[arg(long, value_name = "JSON")]
        resource_policy: String,
    },
    /// Show the resource policy attached to a channel.
    GetResourcePolicy {
        /// The channel's ARN.
        #[arg(long, value_name = "ARN")]
        resource_arn: String,
    },
    /// Remove a channel's resource policy: only the owner account can send events afterwards.
    DeleteResourcePolicy {
        /// The channel's ARN.
        #[arg(long, value_name = "ARN")]
        resource_arn: String,
    },
}

/// The settings create- and update-event-data-store share; update changes only those given.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreSettings {
    /// Days to keep events: 7 to 3653 with EXTENDABLE_RETENTION_PRICING (new stores: 366),
    /// 7 to 2557 with FIXED_RETENTION_PRICING (new stores: 2557).
    #[arg(long, value_name = "DAYS")]
    pub retention_period: Option<u32>,
    /// EXTENDABLE_RETENTION_PRICING (the default for new stores) or FIXED_RETENTION_PRICING.
    /// A store can move from FIXED to EXTENDABLE, not back.
    #[arg(long, value_name = "MODE")]
    pub billing_mode: Option<String>,
    /// Refuse to delete the store until this is turned off (on by default for new stores).
    #[arg(long, overrides_with = "no_termination_protection_enabled")]
    pub termination_protection_enabled: bool,
    /// Turn termination protection off, so that delete-event-data-store works.
    #[arg(long, overrides_with = "termination_protection_enabled")]
    pub no_termination_protection_enabled: bool,
    /// Selectors as JSON or file://PATH, e.g.
    /// `[{"Name":"n","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]}]}]`.
    /// eventCategory ActivityAuditLog (the default) holds channel events; Management or Data
    /// hold imported CloudTrail logs. An update cannot switch between those two kinds.
    #[arg(long, value_name = "JSON")]
    pub advanced_event_selectors: Option<String>,
}

impl StoreSettings {
    fn resolve(&self, name: Option<String>) -> Result<EventDataStoreUpdate, CatalogError> {
        let protection = match (
            self.termination_protection_enabled,
            self.no_termination_protection_enabled,
        ) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        };
        let selectors = self.advanced_event_selectors.as_deref();
        Ok(EventDataStoreUpdate {
            name,
            retention_period: self.retention_period,
            billing_mode: self
                .billing_mode
                .as_deref()
                .map(BillingMode::parse)
                .transpose()?,
            termination_protection_enabled: protection,
            multi_region_enabled: None,
            advanced_event_selectors: selectors.map(parse_selectors_arg).transpose()?,
        })
    }
}

impl ControlCommand {
    fn is_read_only(&self) -> bool {
        use ControlCommand::*;
        matches!(
            self,
            GetEventDataStore { .. }
                | ListEventDataStores
                | GetChannel { .. }
                | ListChannels
                | GetResourcePolicy { .. }
        )
    }
}

/// Runs a control-plane command on the store at `root` and returns the AWS CLI's JSON response.
/// Commands that change the catalog hold the store's writer lock and save it atomically;
/// reading commands take no lock (readers never block) and create nothing.
pub fn run_control(cmd: ControlCommand, root: &Path) -> Result<Value, CatalogError> {
    if cmd.is_read_only() {
        let mut catalog = Catalog::load(root)?;
        return apply(cmd, &mut catalog, Utc::now());
    }
    let _lock = WriterLock::acquire(root)?;
    let mut catalog = Catalog::load(root)?;
    let before = catalog.clone();
    let always_save = matches!(cmd, ControlCommand::Init { .. });
    let response = apply(cmd, &mut catalog, Utc::now())?;
    if always_save || catalog != before {
        catalog.save(root)?;
    }
    Ok(response)
}

fn apply(
    cmd: ControlCommand,
    catalog: &mut Catalog,
    now: DateTime<Utc>,
) -> Result<Value, CatalogError> {
    use ControlCommand::*;
    Ok(match cmd {
        Init { account_id, region } => {
            catalog.set_identity(account_id.as_deref(), region.as_deref())?;
            json!({ "AccountId": catalog.account_id, "Region": catalog.region })
        }
        CreateEventDataStore {
            name,
            settings,
            tags_list,
            no_start_ingestion,
        } => {
            let s = settings.resolve(None)?;
            let req = NewEventDataStore {
                name,
                retention_period: s.retention_period,
                billing_mode: s.billing_mode,
                termination_protection_enabled: s.termination_protection_enabled,
                multi_region_enabled: None,
                advanced_event_selectors: s.advanced_event_selectors,
                tags: parse_tags(&tags_list)?,
                start_ingestion: Some(!no_start_ingestion),
            };
            response::created_event_data_store(catalog.create_event_data_store(req, now)?)
        }
        GetEventDataStore { event_data_store } => {
            response::event_data_store(catalog.find_event_data_store(&event_data_store)?)
        }
        ListEventDataStores => response::event_data_store_list(&catalog.event_data_stores),
        UpdateEventDataStore {
            event_data_store,
            name,
            settings,
        } => {
            let upd = settings.resolve(name)?;
            let s = catalog.update_event_data_store(&event_data_store, upd, now)?;
            response::event_data_store(s)
        }
        DeleteEventDataStore { event_data_store } => {
            catalog.delete_event_data_store(&event_data_store, now)?;
            json!({})
        }
        RestoreEventDataStore { event_data_store } => {
            response::event_data_store(catalog.restore_event_data_store(&event_data_store, now)?)
        }
        StopEventDataStoreIngestion { event_data_store } => {
            catalog.stop_event_data_store_ingestion(&event_data_store, now)?;
            json!({})
        }
        StartEventDataStoreIngestion { event_data_store } => {
            catalog.start_event_data_store_ingestion(&event_data_store, now)?;
            json!({})
        }
        CreateChannel {
            name,
            source,
            destinations,
            tags,
        } => {
            let req = NewChannel {
                name,
                source,
                destinations: parse_destinations(&destinations)?,
                tags: parse_tags(&tags)?,
            };
            response::created_channel(catalog.create_channel(req)?)
        }
        GetChannel { channel } => response::channel(catalog.find_channel(&channel)?),
        ListChannels => response::channel_list(&catalog.channels),
        UpdateChannel {
            channel,
            name,
            destinations,
        } => {
            let destinations = destinations
                .as_deref()
                .map(parse_destinations)
                .transpose()?;
            response::updated_channel(catalog.update_channel(&channel, name, destinations)?)
        }
        DeleteChannel { channel } => {
            catalog.delete_channel(&channel)?;
            json!({})
        }
        PutResourcePolicy {
            resource_arn,
            resource_policy,
        } => {
            let policy = file_or_text(&resource_policy)?;
            let c = catalog.put_resource_policy(&resource_arn, &policy)?;
            response::resource_policy(c, &policy)
        }
        GetResourcePolicy { resource_arn } => {
            let (c, policy) = catalog.get_resource_policy(&resource_arn)?;
            response::resource_policy(c, policy)
        }
        DeleteResourcePolicy { resource_arn } => {
            catalog.delete_resource_policy(&resource_arn)?;
            json!({})
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        cmd: ControlCommand,
    }

    /// Runs `line`, split at whitespace, as the user would type it after `auditlake`.
    fn run(root: &Path, line: &str) -> Result<Value, CatalogError> {
        let argv = std::iter::once("auditlake").chain(line.split_whitespace());
        run_control(Cli::try_parse_from(argv).unwrap().cmd, root)
    }

    fn code(r: Result<Value, CatalogError>) -> &'static str {
        r.map_or_else(|e| e.aws_code(), |_| "ok")
    }

    #[test]
    fn every_command_and_flag_has_help() {
        let cmd = Cli::command();
        for sub in cmd.get_subcommands() {
            assert!(sub.get_about().is_some(), "{} has no help", sub.get_name());
            for arg in sub.get_arguments().filter(|a| a.get_id() != "help") {
                let name = (sub.get_name(), arg.get_id());
                assert!(arg.get_help().is_some(), "{name:?} has no help");
            }
        }
        let names: Vec<&str> = cmd.get_subcommands().map(|s| s.get_name()).collect();
        assert!(names.contains(&"create-event-data-store"), "{names:?}");
        assert!(
            names.contains(&"stop-event-data-store-ingestion"),
            "{names:?}"
        );
    }

    #[test]
    fn init_writes_the_catalog_and_reads_create_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let missing = run(&root, "get-event-data-store --event-data-store x");
        assert_eq!(code(missing), "EventDataStoreNotFoundException");
        assert_eq!(
            run(&root, "list-channels").unwrap(),
            json!({"Channels": []})
        );
        assert!(!root.exists());
        let r = run(&root, "init --account-id 111122223333 --region eu-west-1").unwrap();
        assert_eq!(
            r,
            json!({"AccountId": "111122223333", "Region": "eu-west-1"})
        );
        let saved = Catalog::load(&root).unwrap();
        assert_eq!(
            (saved.account_id.as_str(), saved.region.as_str()),
            ("111122223333", "eu-west-1")
        );
        assert_eq!(
            code(run(&root, "init --account-id 1")),
            "InvalidParameterException"
        );
    }

    #[test]
    fn event_data_store_commands() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let sel = root.join("sel.json");
        let mgmt = r#"[{"Name":"mgmt","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]}]}]"#;
        std::fs::write(&sel, mgmt).unwrap();
        let line = format!(
            "create-event-data-store --name trail --retention-period 90 --tags-list Key=team,Value=sec \
             Key=env,Value= --advanced-event-selectors file://{}",
            sel.display()
        );
        let created = run(root, &line).unwrap();
        assert_eq!(created["RetentionPeriod"], 90);
        let tags = json!([{"Key": "team", "Value": "sec"}, {"Key": "env", "Value": ""}]);
        assert_eq!(created["TagsList"], tags);
        assert_eq!(created["AdvancedEventSelectors"][0]["Name"], "mgmt");
        assert_eq!(created["TerminationProtectionEnabled"], true);
        let delete = "delete-event-data-store --event-data-store trail";
        assert_eq!(
            code(run(root, delete)),
            "EventDataStoreTerminationProtectedException"
        );
        let off =
            "update-event-data-store --event-data-store trail --no-termination-protection-enabled";
        assert_eq!(
            run(root, off).unwrap()["TerminationProtectionEnabled"],
            false
        );
        assert_eq!(run(root, delete).unwrap(), json!({}));
        let arn = created["EventDataStoreArn"].as_str().unwrap();
        let got = run(
            root,
            &format!("get-event-data-store --event-data-store {arn}"),
        )
        .unwrap();
        assert_eq!(got["Status"], "PENDING_DELETION");
        let restored = run(root, "restore-event-data-store --event-data-store trail").unwrap();
        assert_eq!(restored["Status"], "ENABLED");
        run(
            root,
            "stop-event-data-store-ingestion --event-data-store trail",
        )
        .unwrap();
        let list = run(root, "list-event-data-stores").unwrap();
        assert_eq!(list["EventDataStores"][0]["Status"], "STOPPED_INGESTION");
        run(
            root,
            "start-event-data-store-ingestion --event-data-store trail",
        )
        .unwrap();
        let stopped = run(
            root,
            "create-event-data-store --name paused --no-start-ingestion",
        )
        .unwrap();
        assert_eq!(stopped["Status"], "STOPPED_INGESTION");
        let cheap = "create-event-data-store --name x1 --billing-mode CHEAP";
        assert_eq!(code(run(root, cheap)), "InvalidParameterException");
        let colour = "create-event-data-store --name x2 --tags-list Key=a,Colour=b";
        assert_eq!(code(run(root, colour)), "InvalidTagParameterException");
    }

    #[test]
    fn channel_and_resource_policy_commands() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let eds = run(root, "create-event-data-store --name audit").unwrap();
        let eds_arn = eds["EventDataStoreArn"].as_str().unwrap();
        let ch = run(
            root,
            &format!(
                "create-channel --name app --source Custom --destinations \
             Type=EVENT_DATA_STORE,Location={eds_arn} --tags Key=k,Value=v"
            ),
        )
        .unwrap();
        let dest = json!([{"Type": "EVENT_DATA_STORE", "Location": eds_arn}]);
        assert_eq!(ch["Destinations"], dest);
        assert_eq!(ch["Tags"], json!([{"Key": "k", "Value": "v"}]));
        let arn = ch["ChannelArn"].as_str().unwrap();
        let upd = format!("update-channel --channel app --name app2 --destinations {dest}");
        assert_eq!(run(root, &upd).unwrap()["Name"], "app2");
        assert_eq!(
            run(root, &format!("get-channel --channel {arn}")).unwrap()["Source"],
            "Custom"
        );
        let bad = "create-channel --name bad --source Custom --destinations Location";
        assert_eq!(code(run(root, bad)), "InvalidParameterException");
        let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "111122223333"}, "Action": "cloudtrail-data:PutAuditEvents",
            "Resource": arn}]})
        .to_string();
        let put = format!("put-resource-policy --resource-arn {arn} --resource-policy {policy}");
        let put = run(root, &put).unwrap();
        assert_eq!(put, json!({"ResourceArn": arn, "ResourcePolicy": policy}));
        let get = format!("get-resource-policy --resource-arn {arn}");
        assert_eq!(run(root, &get).unwrap(), put);
        run(
            root,
            &format!("delete-resource-policy --resource-arn {arn}"),
        )
        .unwrap();
        assert_eq!(code(run(root, &get)), "ResourcePolicyNotFoundException");
        run(root, "delete-channel --channel app2").unwrap();
        assert_eq!(run(root, "list-channels").unwrap(), json!({"Channels": []}));
    }
}
