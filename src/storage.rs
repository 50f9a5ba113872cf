//! The one module that talks to IndexedDB. The register lives there as its event log, each
//! event as its JSON:
//!
//! - `events`: the confirmed log, one record per event keyed by a local sequence number
//!   (auto-increment). On a device that syncs, it holds the site's events in the server's one
//!   global order, appended page by page as they are pulled; a restored backup lands here too.
//! - `outbox`: the events recorded on this device and not yet confirmed by a pull, keyed by
//!   the device's change number `n` (1, 2, 3 …), each with the user who recorded it. The
//!   register shown is the confirmed log with the outbox replayed on top. A device that never
//!   syncs keeps its changes here; they are sent when it first signs in.
//! - `rejected`: changes the server refused, with its reason, until someone dismisses them.
//! - `meta`: the pull cursor (last global position held), the next change number, and the
//!   highest change number whose receipt has been read.
//! - `sent`: what the server vouches for about an event (whose sign-in sent it, when it
//!   arrived), keyed by event id, kept only where the history shows it: another account sent
//!   it, or it arrived much later than its device's clock says it happened.
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
use keyward_core::sync::{Logged, Outcome, Receipt, Sent};
use keyward_core::{Event, EventId};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fmt;
use wasm_bindgen::{JsCast, JsValue};

const DB_NAME: &str = "keyward";
const DB_VERSION: u32 = 4;
const EVENTS: &str = "events";
const PACKS: &str = "packs";
const OUTBOX: &str = "outbox";
const REJECTED: &str = "rejected";
const META: &str = "meta";
/// The key in `meta` set while the register is fetched again from the server.
const REFETCH: &str = "refetch";
const SENT: &str = "sent";
const ALL: [&str; 6] = [PACKS, EVENTS, OUTBOX, REJECTED, META, SENT];
/// Single records beyond which the log is packed when the app opens.
pub const PACK_AFTER: u32 = 2_000;

/// What storage tells the screens outside any call (see [`Store::open`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    /// An older Keyward in another tab holds the database open: this tab's upgrade waits.
    UpgradeBlocked,
    /// The database is open (after waiting, if it had to).
    Opened,
    /// A newer Keyward opened the database in another tab: this tab must reload.
    Replaced,
}

/// Something went wrong below the register: the browser's storage refused, is missing, or
/// is full. Every write is one transaction, so in each case nothing was written.
#[derive(Debug)]
pub enum StorageError {
    Failed(String),
    /// The browser refused the write for want of room (`QuotaExceededError`).
    Full,
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Failed(detail) => write!(
                f,
                "This device's storage did not respond ({detail}). Nothing was recorded. Try \
                 again; if it keeps happening, check the browser is not in private mode and has \
                 space left."
            ),
            Self::Full => f.write_str(
                "This device is out of room, so nothing was recorded. Free some space on the \
                 device (photos, downloads or apps you do not need), then try again. Sync if you \
                 can, so the changes waiting here are safe on the server; then “Make room” under \
                 “This device's storage” on Set-up tidies the register's own storage.",
            ),
        }
    }
}

impl From<idb::Error> for StorageError {
    fn from(e: idb::Error) -> Self {
        match &e {
            idb::Error::DomException(d) if d.name() == "QuotaExceededError" => Self::Full,
            _ if e.to_string().contains("QuotaExceededError") => Self::Full,
            _ => Self::Failed(e.to_string()),
        }
    }
}

/// Events read from the log, with the sequence number of each, oldest first.
pub type Stored = Vec<(u64, Event)>;

/// A change recorded on this device, waiting to be confirmed by the server.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Outgoing {
    pub n: u64,
    /// The username whose sign-in sends it; empty when recorded before this device signed in.
    pub user: String,
    pub event: Event,
    /// Set once the server has acknowledged it (applied or in conflict) at this position.
    #[serde(default)]
    pub pos: Option<u64>,
}

/// A change the server refused, with its reason.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Refused {
    pub n: u64,
    pub event: Event,
    pub reason: String,
}

/// Where this device's sync stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    /// The last global position held in `events`.
    pub cursor: u64,
    /// The number the next change recorded here gets.
    pub next_n: u64,
    /// The highest change number whose receipt has been read.
    pub since: u64,
}

/// Everything the register on this device is made of.
pub struct Snapshot {
    pub confirmed: Stored,
    pub outbox: Vec<Outgoing>,
}

/// What a write found new since the caller last looked.
pub struct Fresh {
    pub confirmed: Stored,
    pub outbox: Vec<Outgoing>,
}

pub struct Store {
    db: Database,
}

impl Store {
    /// Opens (and if need be upgrades) the database. `notice` hears of the two moments a tab
    /// must be told about: this tab's upgrade waiting for an older tab to let go
    /// ([`Notice::UpgradeBlocked`]), and a newer version opening the database in another tab
    /// ([`Notice::Replaced`]): this tab then closes its connection at once, so the newer one
    /// never hangs, and every write from here on is refused with a message, never half-done.
    pub async fn open(notice: impl Fn(Notice) + Clone + 'static) -> Result<Self, StorageError> {
        let factory = Factory::new()?;
        let mut request = factory.open(DB_NAME, Some(DB_VERSION))?;
        let blocked = notice.clone();
        request.on_blocked(move |_| blocked(Notice::UpgradeBlocked));
        request.on_upgrade_needed(|event| {
            use idb::DatabaseEvent;
            let Ok(db) = event.database() else { return };
            let names = db.store_names();
            if !names.iter().any(|n| n == EVENTS) {
                let mut params = ObjectStoreParams::new();
                params.auto_increment(true);
                let _ = db.create_object_store(EVENTS, params);
            }
            for name in [PACKS, OUTBOX, REJECTED, META, SENT] {
                if !names.iter().any(|n| n == name) {
                    let _ = db.create_object_store(name, ObjectStoreParams::new());
                }
            }
        });
        let mut db = request.await?;
        notice(Notice::Opened);
        db.on_version_change(move |event| {
            if let Some(raw) = event
                .target()
                .and_then(|t| t.dyn_into::<web_sys::IdbDatabase>().ok())
            {
                raw.close();
            }
            notice(Notice::Replaced);
        });
        Ok(Self { db })
    }

    /// The confirmed log and the outbox, read together.
    pub async fn snapshot(&self) -> Result<Snapshot, StorageError> {
        let tx = self.db.transaction(&ALL, TransactionMode::ReadOnly)?;
        Ok(Snapshot {
            confirmed: read(&tx, 0).await?,
            outbox: read_outbox(&tx, 0).await?,
        })
    }

    /// Reads what is new since `seen` (confirmed sequence, change number), hands it to
    /// `decide`, and puts the event it returns in the outbox under the next change number, all
    /// in one transaction; an `Err` from `decide` aborts it and nothing is written.
    pub async fn write<E: From<StorageError>>(
        &self,
        seen: (u64, u64),
        user: &str,
        decide: impl FnOnce(&Fresh) -> Result<Event, E>,
    ) -> Result<(Fresh, Outgoing), E> {
        let tx = self
            .db
            .transaction(&ALL, TransactionMode::ReadWrite)
            .map_err(StorageError::from)?;
        let fresh = Fresh {
            confirmed: read(&tx, seen.0).await?,
            outbox: read_outbox(&tx, seen.1).await?,
        };
        let event = match decide(&fresh) {
            Ok(event) => event,
            Err(e) => {
                let _ = tx.abort();
                return Err(e);
            }
        };
        let mut meta = read_meta(&tx).await?;
        let outgoing = Outgoing {
            n: meta.next_n.max(1),
            user: user.to_string(),
            event,
            pos: None,
        };
        meta.next_n = outgoing.n + 1;
        put_json(&tx, OUTBOX, outgoing.n, &outgoing)?;
        write_meta(&tx, meta)?;
        commit(tx).await?;
        Ok((fresh, outgoing))
    }

    /// Records the server's receipts: acknowledged changes get their position, refused ones
    /// move from the outbox to `rejected`. Returns how many were refused.
    pub async fn record_receipts(&self, receipts: &[Receipt]) -> Result<usize, StorageError> {
        let tx = self.db.transaction(&ALL, TransactionMode::ReadWrite)?;
        let mut meta = read_meta(&tx).await?;
        let refused = settle(&tx, receipts, &mut meta).await?;
        write_meta(&tx, meta)?;
        commit(tx).await?;
        Ok(refused)
    }

    /// Appends a pulled page in one transaction: its events to the confirmed log, the cursor
    /// moved past them, this device's own events taken out of the outbox, and the receipts.
    pub async fn absorb_pull(
        &self,
        events: &[Logged],
        receipts: &[Receipt],
    ) -> Result<Meta, StorageError> {
        let tx = self.db.transaction(&ALL, TransactionMode::ReadWrite)?;
        let mut meta = read_meta(&tx).await?;
        let store = tx.object_store(EVENTS)?;
        let mut ids = HashSet::new();
        let held = meta.cursor;
        let sent = tx.object_store(SENT)?;
        for logged in events.iter().filter(|l| l.pos > held) {
            let json = serde_json::to_string(&logged.event)
                .map_err(|e| StorageError::Failed(e.to_string()))?;
            store.add(&JsValue::from_str(&json), None)?;
            if let Some(vouched) = logged
                .sent
                .as_ref()
                .filter(|s| s.worth_showing(&logged.event))
            {
                let json = serde_json::to_string(vouched)
                    .map_err(|e| StorageError::Failed(e.to_string()))?;
                sent.put(
                    &JsValue::from_str(&json),
                    Some(&JsValue::from_str(&logged.event.id.to_string())),
                )?;
            }
            ids.insert(logged.event.id);
            meta.cursor = logged.pos;
        }
        let outbox = tx.object_store(OUTBOX)?;
        for pending in read_outbox(&tx, 0).await? {
            if ids.contains(&pending.event.id) {
                outbox.delete(Query::Key(JsValue::from_f64(pending.n as f64)))?;
            }
        }
        settle(&tx, receipts, &mut meta).await?;
        write_meta(&tx, meta)?;
        commit(tx).await?;
        Ok(meta)
    }

    /// What the server vouched for about these events, where the history shows it.
    pub async fn sent_of(&self, ids: &[EventId]) -> Result<HashMap<EventId, Sent>, StorageError> {
        let tx = self.db.transaction(&[SENT], TransactionMode::ReadOnly)?;
        let store = tx.object_store(SENT)?;
        let mut found = HashMap::new();
        for id in ids {
            let value = store
                .get(Query::Key(JsValue::from_str(&id.to_string())))?
                .await?;
            let Some(text) = value.and_then(|v| v.as_string()) else {
                continue;
            };
            if let Ok(sent) = serde_json::from_str::<Sent>(&text) {
                found.insert(*id, sent);
            }
        }
        Ok(found)
    }

    /// What changed since `seen_seq`: new confirmed events, and the whole outbox and refusals
    /// as they stand now (a sync in another tab shrinks them).
    pub async fn changes(
        &self,
        seen_seq: u64,
    ) -> Result<(Stored, Vec<Outgoing>, Vec<Refused>), StorageError> {
        let tx = self.db.transaction(&ALL, TransactionMode::ReadOnly)?;
        let confirmed = read(&tx, seen_seq).await?;
        let outbox = read_outbox(&tx, 0).await?;
        let refused = read_refused(&tx).await?;
        Ok((confirmed, outbox, refused))
    }

    /// The outbox as it stands, oldest first.
    pub async fn outbox(&self) -> Result<Vec<Outgoing>, StorageError> {
        let tx = self.db.transaction(&ALL, TransactionMode::ReadOnly)?;
        read_outbox(&tx, 0).await
    }

    /// The sync position.
    pub async fn meta(&self) -> Result<Meta, StorageError> {
        let tx = self.db.transaction(&ALL, TransactionMode::ReadOnly)?;
        read_meta(&tx).await
    }

    /// The changes the server refused, oldest first.
    pub async fn rejected(&self) -> Result<Vec<Refused>, StorageError> {
        let tx = self
            .db
            .transaction(&[REJECTED], TransactionMode::ReadOnly)?;
        read_refused(&tx).await
    }

    /// Forgets a refused change once someone has read it.
    pub async fn dismiss(&self, n: u64) -> Result<(), StorageError> {
        let tx = self
            .db
            .transaction(&[REJECTED], TransactionMode::ReadWrite)?;
        tx.object_store(REJECTED)?
            .delete(Query::Key(JsValue::from_f64(n as f64)))?
            .await?;
        commit(tx).await
    }

    /// Gives the changes recorded before this device signed in to `user`, who sends them.
    pub async fn claim_unsigned(&self, user: &str) -> Result<(), StorageError> {
        let tx = self.db.transaction(&ALL, TransactionMode::ReadWrite)?;
        for mut pending in read_outbox(&tx, 0).await? {
            if pending.user.is_empty() {
                pending.user = user.to_string();
                put_json(&tx, OUTBOX, pending.n, &pending)?;
            }
        }
        commit(tx).await
    }

    /// Appends many events at once (a restored backup). The register ignores any it already
    /// holds when it folds them.
    pub async fn append_all(&self, events: &[Event]) -> Result<(), StorageError> {
        let tx = self.db.transaction(&[EVENTS], TransactionMode::ReadWrite)?;
        let store = tx.object_store(EVENTS)?;
        for event in events {
            let json =
                serde_json::to_string(event).map_err(|e| StorageError::Failed(e.to_string()))?;
            store.add(&JsValue::from_str(&json), None)?;
        }
        commit(tx).await
    }

    /// Packs the single records into one pack when there are many of them. Safe while other
    /// tabs read and write: it is one transaction, and readers read packs and records alike.
    /// `at_least`: pack only when there are that many single records (`PACK_AFTER` when the
    /// app opens; 1 when a person asks to make room).
    pub async fn pack(&self, at_least: u32) -> Result<usize, StorageError> {
        let tx = self
            .db
            .transaction(&[PACKS, EVENTS], TransactionMode::ReadWrite)?;
        let events = tx.object_store(EVENTS)?;
        if events.count(None)?.await? < at_least.max(1) {
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

/// Acknowledged receipts mark their outbox entry; refused ones move it to `rejected`.
/// `meta.since` moves past them; the caller writes `meta`.
async fn settle(
    tx: &Transaction,
    receipts: &[Receipt],
    meta: &mut Meta,
) -> Result<usize, StorageError> {
    let outbox = tx.object_store(OUTBOX)?;
    let mut refused = 0;
    for receipt in receipts {
        meta.since = meta.since.max(receipt.n);
        let key = JsValue::from_f64(receipt.n as f64);
        let Some(value) = outbox.get(Query::Key(key.clone()))?.await? else {
            continue;
        };
        let mut pending: Outgoing = parse(&value.as_string().unwrap_or_default())?;
        if pending.event.id != receipt.event {
            continue;
        }
        match &receipt.outcome {
            Outcome::Applied { pos } | Outcome::Conflict { pos } => {
                pending.pos = Some(*pos);
                put_json(tx, OUTBOX, pending.n, &pending)?;
            }
            Outcome::Rejected { reason } => {
                outbox.delete(Query::Key(key))?;
                let refusal = Refused {
                    n: pending.n,
                    event: pending.event,
                    reason: reason.clone(),
                };
                put_json(tx, REJECTED, refusal.n, &refusal)?;
                refused += 1;
            }
        }
    }
    Ok(refused)
}

fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, StorageError> {
    serde_json::from_str(json)
        .map_err(|e| StorageError::Failed(format!("a stored record could not be read: {e}")))
}

fn put_json<T: Serialize>(
    tx: &Transaction,
    store: &str,
    key: u64,
    value: &T,
) -> Result<(), StorageError> {
    let json = serde_json::to_string(value).map_err(|e| StorageError::Failed(e.to_string()))?;
    tx.object_store(store)?.put(
        &JsValue::from_str(&json),
        Some(&JsValue::from_f64(key as f64)),
    )?;
    Ok(())
}

/// Outbox entries numbered above `after`, in order.
async fn read_outbox(tx: &Transaction, after: u64) -> Result<Vec<Outgoing>, StorageError> {
    let range = KeyRange::lower_bound(&JsValue::from_f64(after as f64), Some(true))?;
    let values = tx
        .object_store(OUTBOX)?
        .get_all(Some(Query::KeyRange(range)), None)?
        .await?;
    values
        .into_iter()
        .map(|v| parse(&v.as_string().unwrap_or_default()))
        .collect()
}

/// The refused changes, oldest first.
async fn read_refused(tx: &Transaction) -> Result<Vec<Refused>, StorageError> {
    let values = tx.object_store(REJECTED)?.get_all(None, None)?.await?;
    values
        .into_iter()
        .map(|v| parse(&v.as_string().unwrap_or_default()))
        .collect()
}

async fn read_meta(tx: &Transaction) -> Result<Meta, StorageError> {
    let store = tx.object_store(META)?;
    let mut values = [0u64; 3];
    for (value, name) in values.iter_mut().zip(["cursor", "next_n", "since"]) {
        *value = store
            .get(Query::Key(JsValue::from_str(name)))?
            .await?
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0) as u64;
    }
    let [cursor, next_n, since] = values;
    // A device that recorded changes before numbering existed still numbers onwards.
    let last = tx
        .object_store(OUTBOX)?
        .get_all_keys(None, None)?
        .await?
        .last()
        .map(seq)
        .unwrap_or(0);
    Ok(Meta {
        cursor,
        next_n: next_n.max(last + 1).max(since + 1),
        since,
    })
}

fn write_meta(tx: &Transaction, meta: Meta) -> Result<(), StorageError> {
    let store = tx.object_store(META)?;
    for (name, value) in [
        ("cursor", meta.cursor),
        ("next_n", meta.next_n),
        ("since", meta.since),
    ] {
        store.put(
            &JsValue::from_f64(value as f64),
            Some(&JsValue::from_str(name)),
        )?;
    }
    Ok(())
}

async fn commit(tx: Transaction) -> Result<(), StorageError> {
    // Held to read why the browser aborted it: a full device aborts the commit itself.
    let raw: web_sys::IdbTransaction = tx.into();
    #[allow(deprecated)]
    let outcome = match raw.commit() {
        Ok(()) => Transaction::from(raw.clone())
            .await
            .map_err(StorageError::from),
        Err(e) => Err(StorageError::Failed(format!("{e:?}"))),
    };
    match outcome {
        Ok(result) if result.is_committed() => Ok(()),
        other => Err(match raw.error() {
            Some(e) if e.name() == "QuotaExceededError" => StorageError::Full,
            _ => other
                .err()
                .unwrap_or_else(|| StorageError::Failed("the write was cancelled".into())),
        }),
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
    let damaged = |e: serde_json::Error| {
        StorageError::Failed(format!("a stored event could not be read: {e}"))
    };
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

/// A record that does not read as what its store holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    /// The object store (`events`, `packs`, `outbox`, …).
    pub store: &'static str,
    /// The record's key, as text.
    pub key: String,
    /// What is wrong with it.
    pub detail: String,
}

impl Damage {
    /// Whether the server holds a copy of what is damaged (the confirmed log and what was
    /// noted about it), so fetching the register again replaces it with nothing lost.
    pub fn refetchable(&self) -> bool {
        matches!(self.store, EVENTS | PACKS | SENT)
    }
}

impl Store {
    /// Reads every record of every store and returns those that do not parse, without
    /// changing anything: what safe mode shows when the register cannot be opened.
    pub async fn diagnose(&self) -> Result<Vec<Damage>, StorageError> {
        let tx = self.db.transaction(&ALL, TransactionMode::ReadOnly)?;
        let mut found = Vec::new();
        for name in ALL {
            let store = tx.object_store(name)?;
            let keys = store.get_all_keys(None, None)?.await?;
            let values = store.get_all(None, None)?.await?;
            for (key, value) in keys.iter().zip(values) {
                let text = value.as_string();
                let problem = match (name, &text) {
                    (META, _) => value.as_f64().is_none().then(|| "not a number".to_string()),
                    (_, None) => Some("not text".to_string()),
                    (EVENTS, Some(t)) => serde_json::from_str::<Event>(t)
                        .err()
                        .map(|e| e.to_string()),
                    (PACKS, Some(t)) => serde_json::from_str::<Stored>(t)
                        .err()
                        .map(|e| e.to_string()),
                    (OUTBOX, Some(t)) => serde_json::from_str::<Outgoing>(t)
                        .err()
                        .map(|e| e.to_string()),
                    (REJECTED, Some(t)) => serde_json::from_str::<Refused>(t)
                        .err()
                        .map(|e| e.to_string()),
                    (SENT, Some(t)) => serde_json::from_str::<Sent>(t).err().map(|e| e.to_string()),
                    (_, Some(_)) => None,
                };
                if let Some(detail) = problem {
                    found.push(Damage {
                        store: name,
                        key: key
                            .as_string()
                            .or_else(|| key.as_f64().map(|n| n.to_string()))
                            .unwrap_or_default(),
                        detail,
                    });
                }
            }
        }
        Ok(found)
    }

    /// Every record of every store exactly as stored, unparsed, as one JSON document
    /// `{"keyward_raw": 1, "stores": {name: [[key, value], …]}}`: a copy of a damaged register
    /// that someone can look at or repair, taken before anything is changed.
    pub async fn raw_dump(&self) -> Result<String, StorageError> {
        let tx = self.db.transaction(&ALL, TransactionMode::ReadOnly)?;
        let mut stores = serde_json::Map::new();
        for name in ALL {
            let store = tx.object_store(name)?;
            let keys = store.get_all_keys(None, None)?.await?;
            let values = store.get_all(None, None)?.await?;
            let rows: Vec<serde_json::Value> = keys
                .iter()
                .zip(values)
                .map(|(key, value)| serde_json::json!([raw_value(key), raw_value(&value)]))
                .collect();
            stores.insert(name.to_string(), serde_json::Value::Array(rows));
        }
        Ok(serde_json::json!({ "keyward_raw": 1, "stores": stores }).to_string())
    }

    /// Drops this device's copy of the confirmed log (and what was noted about it) and sets
    /// the cursor back to the start, so the next sync fetches the whole register again. The
    /// outbox (changes not yet on the server) and the refusals are kept. Only for a device
    /// that syncs, after the raw copy was saved.
    pub async fn forget_confirmed(&self) -> Result<(), StorageError> {
        let tx = self.db.transaction(&ALL, TransactionMode::ReadWrite)?;
        for name in [EVENTS, PACKS, SENT] {
            tx.object_store(name)?.clear()?;
        }
        let meta = tx.object_store(META)?;
        meta.put(&JsValue::from_f64(0.0), Some(&JsValue::from_str("cursor")))?;
        // Until the first pull ends, the register here is not the site's: the app says so
        // instead of showing an empty or partial register (see `refetching`).
        meta.put(&JsValue::from_f64(1.0), Some(&JsValue::from_str(REFETCH)))?;
        commit(tx).await
    }

    /// Whether the register is being fetched again from the server after safe mode.
    pub async fn refetching(&self) -> Result<bool, StorageError> {
        let tx = self.db.transaction(&[META], TransactionMode::ReadOnly)?;
        let value = tx
            .object_store(META)?
            .get(Query::Key(JsValue::from_str(REFETCH)))?
            .await?;
        Ok(value.and_then(|v| v.as_f64()).unwrap_or(0.0) != 0.0)
    }

    /// The first pull after fetching the register again has ended: it is the site's again.
    pub async fn refetched(&self) -> Result<(), StorageError> {
        let tx = self.db.transaction(&[META], TransactionMode::ReadWrite)?;
        tx.object_store(META)?
            .delete(Query::Key(JsValue::from_str(REFETCH)))?;
        commit(tx).await
    }
}

/// A stored key or value as JSON: text and numbers as they are, anything else as its
/// description.
fn raw_value(value: &JsValue) -> serde_json::Value {
    if let Some(text) = value.as_string() {
        serde_json::Value::String(text)
    } else if let Some(n) = value.as_f64() {
        serde_json::json!(n)
    } else {
        serde_json::Value::String(format!("{value:?}"))
    }
}
