//! The one module that talks to IndexedDB. The register lives there as its event log: one
//! record per event, keyed by a local sequence number, the value the event's JSON.
//!
//! Every write happens inside one read-write transaction that first reads whatever other tabs
//! appended since this tab last looked, so a command is always checked against the latest
//! state and two tabs can never both issue the same key. IndexedDB serialises such
//! transactions for us; nothing else needs a lock.

use idb::{Database, Factory, KeyRange, ObjectStore, ObjectStoreParams, Query, TransactionMode};
use keyward_core::Event;
use std::fmt;
use wasm_bindgen::JsValue;

const DB_NAME: &str = "keyward";
const DB_VERSION: u32 = 1;
const EVENTS: &str = "events";

/// Something went wrong below the register: the browser's storage refused or is missing.
#[derive(Debug)]
pub struct StorageError(String);

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "This device's storage did not respond ({}). Nothing was recorded. Try again; if it \
             keeps happening, check the browser is not in private mode and has space left.",
            self.0
        )
    }
}

impl From<idb::Error> for StorageError {
    fn from(e: idb::Error) -> Self {
        Self(e.to_string())
    }
}

/// Events read from the log, with the sequence number of each.
pub type Stored = Vec<(u64, Event)>;

pub struct Store {
    db: Database,
}

/// What a caller decides inside a write: `Ok(Some(event))` appends it, `Ok(None)` appends
/// nothing, `Err` aborts the transaction.
pub type Decision<E> = Result<Option<Event>, E>;

impl Store {
    pub async fn open() -> Result<Self, StorageError> {
        let factory = Factory::new()?;
        let mut request = factory.open(DB_NAME, Some(DB_VERSION))?;
        request.on_upgrade_needed(|event| {
            use idb::DatabaseEvent;
            let Ok(db) = event.database() else { return };
            if !db.store_names().iter().any(|n| n == EVENTS) {
                let mut params = ObjectStoreParams::new();
                params.auto_increment(true);
                let _ = db.create_object_store(EVENTS, params);
            }
        });
        Ok(Self { db: request.await? })
    }

    /// Every event after `cursor`, oldest first.
    pub async fn read_after(&self, cursor: u64) -> Result<Stored, StorageError> {
        let tx = self.db.transaction(&[EVENTS], TransactionMode::ReadOnly)?;
        let events = read(&tx.object_store(EVENTS)?, cursor).await?;
        tx.await?;
        Ok(events)
    }

    /// Reads what is new since `cursor`, hands it to `decide`, and appends the event it returns,
    /// all in one transaction. Returns what was new, and the appended event's sequence number.
    pub async fn write<E: From<StorageError>>(
        &self,
        cursor: u64,
        decide: impl FnOnce(&Stored) -> Decision<E>,
    ) -> Result<(Stored, Option<(u64, Event)>), E> {
        let tx = self
            .db
            .transaction(&[EVENTS], TransactionMode::ReadWrite)
            .map_err(StorageError::from)?;
        let store = tx.object_store(EVENTS).map_err(StorageError::from)?;
        let fresh = read(&store, cursor).await?;
        let event = match decide(&fresh) {
            Ok(Some(event)) => event,
            Ok(None) => {
                tx.await.map_err(StorageError::from)?;
                return Ok((fresh, None));
            }
            Err(e) => {
                let _ = tx.abort();
                return Err(e);
            }
        };
        let json = serde_json::to_string(&event).map_err(|e| StorageError(e.to_string()))?;
        let key = store
            .add(&JsValue::from_str(&json), None)
            .map_err(StorageError::from)?
            .await
            .map_err(StorageError::from)?;
        let result = tx
            .commit()
            .map_err(StorageError::from)?
            .await
            .map_err(StorageError::from)?;
        if !result.is_committed() {
            return Err(StorageError("the write was cancelled".into()).into());
        }
        Ok((fresh, Some((seq(&key), event))))
    }

    /// Appends many events at once (a restored backup), skipping none: the register ignores
    /// any it already holds when it folds them.
    pub async fn append_all(&self, events: &[Event]) -> Result<(), StorageError> {
        let tx = self.db.transaction(&[EVENTS], TransactionMode::ReadWrite)?;
        let store = tx.object_store(EVENTS)?;
        for event in events {
            let json = serde_json::to_string(event).map_err(|e| StorageError(e.to_string()))?;
            store.add(&JsValue::from_str(&json), None)?;
        }
        let result = tx.commit()?.await?;
        if result.is_committed() {
            Ok(())
        } else {
            Err(StorageError("the restore was cancelled".into()))
        }
    }
}

async fn read(store: &ObjectStore, cursor: u64) -> Result<Stored, StorageError> {
    let range = || -> Result<Option<Query>, StorageError> {
        Ok(Some(Query::KeyRange(KeyRange::lower_bound(
            &JsValue::from_f64(cursor as f64),
            Some(true),
        )?)))
    };
    let keys = store.get_all_keys(range()?, None)?.await?;
    let values = store.get_all(range()?, None)?.await?;
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        let _ = p.mark("keyward:idb-got");
    }
    keys.iter()
        .zip(values)
        .map(|(key, value)| {
            let text = value.as_string().unwrap_or_default();
            serde_json::from_str(&text)
                .map(|event| (seq(key), event))
                .map_err(|e| StorageError(format!("a stored event could not be read: {e}")))
        })
        .collect()
}

fn seq(key: &JsValue) -> u64 {
    key.as_f64().unwrap_or(0.0) as u64
}
