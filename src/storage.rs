//! The one module that talks to IndexedDB. The register lives there as its event log, each
//! event as its JSON with a local sequence number:
//!
//! - `events`: one record per event, keyed by its sequence number (auto-increment);
//! - `packs`: runs of older events packed into one record (a JSON array of `[seq, event]`),
//!   keyed by the last sequence number they hold. Reading 50,000 small records is what made a
//!   large register slow to open; reading a few packs is not. Packing moves records, it never
//!   changes an event, so the log's history is untouched.
//!
//! Every write happens inside one read-write transaction that first reads whatever other tabs
//! appended since this tab last looked, so a command is always checked against the latest
//! state and two tabs can never both issue the same key. IndexedDB serialises such
//! transactions for us; nothing else needs a lock.

use idb::{Database, Factory, KeyRange, ObjectStoreParams, Query, Transaction, TransactionMode};
use keyward_core::Event;
use std::fmt;
use wasm_bindgen::JsValue;

const DB_NAME: &str = "keyward";
const DB_VERSION: u32 = 2;
const EVENTS: &str = "events";
const PACKS: &str = "packs";
/// Single records beyond which the log is packed when the app opens.
const PACK_AFTER: u32 = 2_000;

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

/// Events read from the log, with the sequence number of each, oldest first.
pub type Stored = Vec<(u64, Event)>;

pub struct Store {
    db: Database,
}

impl Store {
    pub async fn open() -> Result<Self, StorageError> {
        let factory = Factory::new()?;
        let mut request = factory.open(DB_NAME, Some(DB_VERSION))?;
        request.on_upgrade_needed(|event| {
            use idb::DatabaseEvent;
            let Ok(db) = event.database() else { return };
            let names = db.store_names();
            if !names.iter().any(|n| n == EVENTS) {
                let mut params = ObjectStoreParams::new();
                params.auto_increment(true);
                let _ = db.create_object_store(EVENTS, params);
            }
            if !names.iter().any(|n| n == PACKS) {
                let _ = db.create_object_store(PACKS, ObjectStoreParams::new());
            }
        });
        Ok(Self { db: request.await? })
    }

    /// Every event after `cursor`, oldest first.
    pub async fn read_after(&self, cursor: u64) -> Result<Stored, StorageError> {
        let tx = self
            .db
            .transaction(&[PACKS, EVENTS], TransactionMode::ReadOnly)?;
        // Every request has answered, so the reads are complete: waiting for the read-only
        // transaction's own completion event only delays opening (by ~200 ms at 50,000 events).
        read(&tx, cursor).await
    }

    /// Reads what is new since `cursor`, hands it to `decide`, and appends the event it returns,
    /// all in one transaction; an `Err` from `decide` aborts it and nothing is written. Returns
    /// what was new, and the appended event with its sequence number.
    pub async fn write<E: From<StorageError>>(
        &self,
        cursor: u64,
        decide: impl FnOnce(&Stored) -> Result<Event, E>,
    ) -> Result<(Stored, (u64, Event)), E> {
        let tx = self
            .db
            .transaction(&[PACKS, EVENTS], TransactionMode::ReadWrite)
            .map_err(StorageError::from)?;
        let fresh = read(&tx, cursor).await?;
        let event = match decide(&fresh) {
            Ok(event) => event,
            Err(e) => {
                let _ = tx.abort();
                return Err(e);
            }
        };
        let json = serde_json::to_string(&event).map_err(|e| StorageError(e.to_string()))?;
        let key = tx
            .object_store(EVENTS)
            .map_err(StorageError::from)?
            .add(&JsValue::from_str(&json), None)
            .map_err(StorageError::from)?
            .await
            .map_err(StorageError::from)?;
        commit(tx).await?;
        Ok((fresh, (seq(&key), event)))
    }

    /// Appends many events at once (a restored backup). The register ignores any it already
    /// holds when it folds them.
    pub async fn append_all(&self, events: &[Event]) -> Result<(), StorageError> {
        let tx = self.db.transaction(&[EVENTS], TransactionMode::ReadWrite)?;
        let store = tx.object_store(EVENTS)?;
        for event in events {
            let json = serde_json::to_string(event).map_err(|e| StorageError(e.to_string()))?;
            store.add(&JsValue::from_str(&json), None)?;
        }
        commit(tx).await
    }

    /// Packs the single records into one pack when there are many of them. Safe while other
    /// tabs read and write: it is one transaction, and readers read packs and records alike.
    pub async fn pack(&self) -> Result<usize, StorageError> {
        let tx = self
            .db
            .transaction(&[PACKS, EVENTS], TransactionMode::ReadWrite)?;
        let events = tx.object_store(EVENTS)?;
        if events.count(None)?.await? < PACK_AFTER {
            tx.await?;
            return Ok(0);
        }
        let keys = events.get_all_keys(None, None)?.await?;
        let values = events.get_all(None, None)?.await?;
        let Some(last) = keys.last().map(seq) else {
            tx.await?;
            return Ok(0);
        };
        // The stored JSON is copied as it is, so a packed event is byte for byte the one stored.
        let mut pack = String::with_capacity(
            values
                .iter()
                .map(|v| v.as_string().map_or(0, |s| s.len() + 24))
                .sum(),
        );
        pack.push('[');
        for (i, (key, value)) in keys.iter().zip(&values).enumerate() {
            if i > 0 {
                pack.push(',');
            }
            pack.push_str(&format!("[{},", seq(key)));
            pack.push_str(&value.as_string().unwrap_or_default());
            pack.push(']');
        }
        pack.push(']');
        let packs = tx.object_store(PACKS)?;
        packs
            .add(
                &JsValue::from_str(&pack),
                Some(&JsValue::from_f64(last as f64)),
            )?
            .await?;
        let through = KeyRange::upper_bound(&JsValue::from_f64(last as f64), Some(false))?;
        events.delete(Query::KeyRange(through))?.await?;
        commit(tx).await?;
        Ok(keys.len())
    }
}

async fn commit(tx: Transaction) -> Result<(), StorageError> {
    if tx.commit()?.await?.is_committed() {
        Ok(())
    } else {
        Err(StorageError("the write was cancelled".into()))
    }
}

/// Everything after `cursor`, from the packs and the single records, oldest first.
async fn read(tx: &Transaction, cursor: u64) -> Result<Stored, StorageError> {
    let after = || -> Result<Option<Query>, StorageError> {
        Ok(Some(Query::KeyRange(KeyRange::lower_bound(
            &JsValue::from_f64(cursor as f64),
            Some(true),
        )?)))
    };
    let damaged =
        |e: serde_json::Error| StorageError(format!("a stored event could not be read: {e}"));
    let mut stored = Stored::new();
    for pack in tx.object_store(PACKS)?.get_all(after()?, None)?.await? {
        let events: Stored =
            serde_json::from_str(&pack.as_string().unwrap_or_default()).map_err(damaged)?;
        stored.extend(events.into_iter().filter(|(s, _)| *s > cursor));
    }
    let events = tx.object_store(EVENTS)?;
    let keys = events.get_all_keys(after()?, None)?.await?;
    let values = events.get_all(after()?, None)?.await?;
    mark("keyward:idb-got");
    for (key, value) in keys.iter().zip(values) {
        let event =
            serde_json::from_str(&value.as_string().unwrap_or_default()).map_err(damaged)?;
        stored.push((seq(key), event));
    }
    Ok(stored)
}

fn seq(key: &JsValue) -> u64 {
    key.as_f64().unwrap_or(0.0) as u64
}

/// A performance mark, read by the benchmark (tests/e2e/bench) to split the opening time.
pub fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}
