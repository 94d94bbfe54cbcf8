//! The control plane: event data stores, channels and resource policies, persisted as `STORE_ROOT/catalog.json`.

mod access;
pub mod arn;
mod channel;
mod eds;
mod error;
pub mod input;
mod lifecycle;
pub mod partners;
mod policy;
pub mod response;
mod selectors;
mod status;
mod tags;
pub mod time;

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use access::{AccessDenied, check_put_access};
pub use channel::{Channel, DESTINATION_TYPE_EVENT_DATA_STORE, Destination, NewChannel};
pub use eds::{
    BillingMode, EventDataStore, EventDataStoreStatus, EventDataStoreUpdate, NewEventDataStore,
};
pub use error::CatalogError;
pub use policy::{PUT_AUDIT_EVENTS_ACTION, validate_policy};
pub use selectors::{
    AdvancedEventSelector, EventCategory, FieldSelector, default_selectors, parse_selectors,
    selector_for, validate_selectors,
};
pub use status::PENDING_DELETION_DAYS;
pub use tags::{MAX_TAGS, Tag, validate_tags};

/// The catalog's file name under the store root.
pub const CATALOG_FILE: &str = "catalog.json";
/// The account ID of a store that was never given one.
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";
/// The region of a store that was never given one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Everything the control plane knows about one store root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    pub account_id: String,
    pub region: String,
    #[serde(default)]
    pub event_data_stores: Vec<EventDataStore>,
    #[serde(default)]
    pub channels: Vec<Channel>,
}

impl Default for Catalog {
    fn default() -> Catalog {
        Catalog {
            account_id: DEFAULT_ACCOUNT_ID.to_string(),
            region: DEFAULT_REGION.to_string(),
            event_data_stores: Vec::new(),
            channels: Vec::new(),
        }
    }
}

impl Catalog {
    /// Reads `root/catalog.json`. A missing file gives the default catalog (nothing is written).
    pub fn load(root: &Path) -> Result<Catalog, CatalogError> {
        match Catalog::read_bytes(root)? {
            Some(bytes) => Catalog::parse(root, &bytes),
            None => Ok(Catalog::default()),
        }
    }

    /// The bytes of `root/catalog.json`; `None` when there is none.
    pub fn read_bytes(root: &Path) -> Result<Option<Vec<u8>>, CatalogError> {
        let path = root.join(CATALOG_FILE);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CatalogError::io("read", &path, e)),
        }
    }

    /// The catalog in `bytes`, read from `root/catalog.json`.
    pub fn parse(root: &Path, bytes: &[u8]) -> Result<Catalog, CatalogError> {
        serde_json::from_slice(bytes).map_err(|source| CatalogError::Json {
            path: root.join(CATALOG_FILE).display().to_string(),
            source,
        })
    }

    /// Writes `root/catalog.json` atomically: a temporary file is written and synced, renamed
    /// over the old one, and the directory is synced, so a crash leaves the old or the new file.
    pub fn save(&self, root: &Path) -> Result<(), CatalogError> {
        fs::create_dir_all(root).map_err(|e| CatalogError::io("create directory", root, e))?;
        let path = root.join(CATALOG_FILE);
        let tmp = root.join(format!("{CATALOG_FILE}.tmp"));
        let mut json = serde_json::to_vec_pretty(self).map_err(|source| CatalogError::Json {
            path: path.display().to_string(),
            source,
        })?;
        json.push(b'\n');
        let mut file = File::create(&tmp).map_err(|e| CatalogError::io("create", &tmp, e))?;
        file.write_all(&json)
            .and_then(|()| file.sync_all())
            .map_err(|e| CatalogError::io("write", &tmp, e))?;
        drop(file);
        fs::rename(&tmp, &path).map_err(|e| CatalogError::io("replace", &path, e))?;
        sync_dir(root)
    }

    /// Sets the account ID and region that new ARNs use. They cannot change once the catalog
    /// has event data stores or channels, because their ARNs embed them.
    pub fn set_identity(
        &mut self,
        account_id: Option<&str>,
        region: Option<&str>,
    ) -> Result<(), CatalogError> {
        let account_id = account_id.unwrap_or(&self.account_id).to_string();
        let region = region.unwrap_or(&self.region).to_string();
        if !arn::is_account_id(&account_id) {
            return Err(CatalogError::InvalidParameter(format!(
                "account ID {account_id:?} is not 12 digits."
            )));
        }
        if !arn::is_region(&region) {
            return Err(CatalogError::InvalidParameter(format!(
                "region {region:?} is not a region name like us-east-1."
            )));
        }
        let changed = account_id != self.account_id || region != self.region;
        if changed && !(self.event_data_stores.is_empty() && self.channels.is_empty()) {
            return Err(CatalogError::InvalidParameter(format!(
                "this store already has event data stores or channels in account {} region {}; \
                 their ARNs cannot change.",
                self.account_id, self.region
            )));
        }
        self.account_id = account_id;
        self.region = region;
        Ok(())
    }

    fn new_arn(&self, kind: arn::ResourceKind) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        arn::build(&self.region, &self.account_id, kind, &id)
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), CatalogError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| CatalogError::io("sync directory", dir, e))
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<(), CatalogError> {
    // Directories cannot be opened for syncing on this platform; the rename is still atomic.
    Ok(())
}

/// Checks an event data store or channel name: 3 to 128 characters of `[a-zA-Z0-9._-]`.
fn validate_name(what: &str, name: &str) -> Result<(), CatalogError> {
    let ok = (3..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(CatalogError::InvalidParameter(format!(
            "{what} name {name:?} is not valid: use 3 to 128 characters of letters, digits, '.', '_' and '-'."
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_gives_default_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let c = Catalog::load(dir.path()).unwrap();
        assert_eq!(
            (c.account_id.as_str(), c.region.as_str()),
            ("123456789012", "us-east-1")
        );
        assert!(!dir.path().join(CATALOG_FILE).exists());
    }

    #[test]
    fn save_then_load_round_trips_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Catalog::default();
        c.set_identity(Some("111122223333"), Some("eu-west-1"))
            .unwrap();
        let now = chrono::Utc::now();
        c.create_event_data_store(NewEventDataStore::named("audit"), now)
            .unwrap();
        c.save(dir.path()).unwrap();
        assert!(!dir.path().join("catalog.json.tmp").exists());
        assert_eq!(Catalog::load(dir.path()).unwrap(), c);
    }

    #[test]
    fn corrupt_file_error_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(CATALOG_FILE), "{not json").unwrap();
        let e = Catalog::load(dir.path()).unwrap_err();
        assert!(e.to_string().contains("catalog.json"), "{e}");
        assert_eq!(e.aws_code(), "InternalFailure");
    }

    #[test]
    fn identity_is_validated_and_frozen_once_resources_exist() {
        let mut c = Catalog::default();
        assert!(c.set_identity(Some("12"), None).is_err());
        assert!(c.set_identity(None, Some("Mars")).is_err());
        c.set_identity(Some("111122223333"), Some("ap-south-1"))
            .unwrap();
        c.create_event_data_store(NewEventDataStore::named("audit"), chrono::Utc::now())
            .unwrap();
        assert!(
            c.event_data_stores[0]
                .arn
                .starts_with("arn:aws:cloudtrail:ap-south-1:111122223333:eventdatastore/")
        );
        assert!(
            c.set_identity(Some("111122223333"), Some("ap-south-1"))
                .is_ok()
        );
        let e = c.set_identity(Some("999999999999"), None).unwrap_err();
        assert_eq!(e.aws_code(), "InvalidParameterException");
    }

    #[test]
    fn names_are_3_to_128_safe_characters() {
        assert!(validate_name("x", "abc").is_ok());
        assert!(validate_name("x", "a.b_c-D9").is_ok());
        assert!(validate_name("x", &"a".repeat(128)).is_ok());
        for bad in ["ab", "has space", "slash/", "ünï", &"a".repeat(129)] {
            assert!(validate_name("x", bad).is_err(), "{bad}");
        }
    }
}
