//! The eventIDs a store already holds and those an import has added, as 16-byte keys.
//!
//! CloudTrail eventIDs are UUIDs: each is kept as its 128 bits (an ID that is not a UUID as
//! the first 16 bytes of its SHA-256). The store's IDs are read from the eventid column
//! alone into one sorted vector: 16 bytes an event, 16 MB per million events.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;

use arrow::array::{Array, AsArray};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sha2::{Digest, Sha256};

use crate::store::{Store, StoreError};

/// The key of one eventID.
pub fn key(event_id: &str) -> u128 {
    match uuid::Uuid::try_parse(event_id) {
        Ok(id) => id.as_u128(),
        Err(_) => {
            let digest = Sha256::digest(event_id.as_bytes());
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(&digest[..16]);
            u128::from_be_bytes(bytes)
        }
    }
}

/// Hashes a key by folding its halves: keys are UUID bits or SHA-256 bits, already random,
/// so SipHash would only cost time (every record of an import is looked up).
#[derive(Default)]
struct FoldHasher(u64);

impl Hasher for FoldHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u128(&mut self, n: u128) {
        // The multiply spreads the bits that hashbrown reads (the top 7 and the low ones).
        self.0 = ((n as u64) ^ ((n >> 64) as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Which eventIDs are taken: those committed before the import, and those it has added.
#[derive(Debug, Default)]
pub struct EventIds {
    existing: Vec<u128>,
    added: Mutex<HashSet<u128, BuildHasherDefault<FoldHasher>>>,
}

impl EventIds {
    /// Reads the eventid column of every file of the store's current snapshot.
    pub fn load(store: &Store, eds_id: &str) -> Result<EventIds, StoreError> {
        let mut existing = Vec::new();
        for file in store.snapshot(eds_id)?.files {
            existing.reserve(file.rows as usize);
            let handle =
                std::fs::File::open(&file.path).map_err(|e| StoreError::io(&file.path, e))?;
            let builder = ParquetRecordBatchReaderBuilder::try_new(handle)?;
            let Some(column) = builder
                .parquet_schema()
                .columns()
                .iter()
                .position(|c| c.path().parts() == ["eventid"])
            else {
                continue;
            };
            let mask = ProjectionMask::leaves(builder.parquet_schema(), [column]);
            for batch in builder.with_projection(mask).build()? {
                let batch = batch?;
                let ids = arrow::compute::cast(batch.column(0), &arrow::datatypes::DataType::Utf8)?;
                let ids = ids.as_string::<i32>();
                existing.extend(
                    (0..ids.len())
                        .filter(|&i| ids.is_valid(i))
                        .map(|i| key(ids.value(i))),
                );
            }
        }
        existing.sort_unstable();
        existing.dedup();
        existing.shrink_to_fit();
        Ok(EventIds {
            existing,
            added: Mutex::default(),
        })
    }

    /// How many eventIDs the store held when the import began.
    pub fn existing(&self) -> usize {
        self.existing.len()
    }

    /// Claims an eventID for the import: false when the store or this import already has it.
    pub fn claim(&self, event_id: &str) -> bool {
        let k = key(event_id);
        if self.existing.binary_search(&k).is_ok() {
            return false;
        }
        self.added
            .lock()
            .expect("eventID set is not poisoned")
            .insert(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_keep_their_bits_and_other_ids_are_hashed() {
        let id = "293ba626-3be5-4a26-ab1b-0f4c54f49959";
        assert_eq!(key(id), 0x293ba6263be54a26ab1b0f4c54f49959);
        assert_eq!(key(&id.to_uppercase()), key(id));
        assert_ne!(key("not-a-uuid"), key("not-a-uuid-2"));
    }

    #[test]
    fn an_id_is_claimed_once() {
        let ids = EventIds {
            existing: vec![key("a")],
            added: Mutex::default(),
        };
        assert!(!ids.claim("a"));
        assert!(ids.claim("b"));
        assert!(!ids.claim("b"));
    }
}
