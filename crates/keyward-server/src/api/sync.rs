//! Push and pull: the protocol of [`keyward_core::sync`] (the head stream is in
//! [`stream`](super::stream)).
//!
//! A push is one transaction. It first takes the site's lock portably with
//! `UPDATE sites SET head = head WHERE id = $1` (a row lock in PostgreSQL, the write lock in
//! SQLite), so pushes to one site are serialised across every server process; then it catches
//! the process's cached register up with the events other processes stored, and judges each
//! change in order with [`judge`] and the sender's role as read inside the lock:
//!
//! - a `(device, n)` already answered gets the stored receipt again (never re-applied);
//! - an event id already stored gets its applied/conflict receipt;
//! - otherwise `judge` either rejects it (the receipt is stored, the event is not) or keeps it
//!   at the next position, marked as a conflict or not, and it is folded into the register.
//!
//! Nothing is announced until the transaction commits; then this process's streams hear the
//! new head at once, and other processes' streams within [`HEAD_POLL`](crate::store::HEAD_POLL).

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use keyward_core::sync::{
    judge, Logged, Numbered, Outcome, PullResponse, PushRequest, PushResponse, Receipt, BATCH,
};
use keyward_core::{DeviceId, Event, EventId, Role, SiteId};
use serde::Deserialize;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::accounts::Auth;
use super::{from_db, to_db, ApiError, ApiJson};
use crate::store::{Cached, Store};

/// The most receipts one pull returns.
pub const RECEIPTS_PER_PULL: usize = 5000;
/// Rows per multi-row INSERT (7 parameters each).
const INSERT_CHUNK: usize = 100;

/// The site's head as stored.
pub async fn site_head(pool: &AnyPool, site: SiteId) -> Result<u64, sqlx::Error> {
    let head: i64 = sqlx::query_scalar("SELECT head FROM sites WHERE id = $1")
        .bind(site.to_string())
        .fetch_one(pool)
        .await?;
    Ok(from_db(head))
}

fn parse_event(body: &str) -> Result<Event, ApiError> {
    serde_json::from_str(body).map_err(|e| ApiError::internal(format!("a stored event: {e}")))
}

fn parse_id<T>(text: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T, ApiError> {
    parse(text).ok_or_else(|| ApiError::internal(format!("a stored id {text:?}")))
}

fn receipt_of_row(row: &AnyRow) -> Result<Receipt, ApiError> {
    let n: i64 = row.try_get("n")?;
    let event: String = row.try_get("event")?;
    let outcome: String = row.try_get("outcome")?;
    let pos: Option<i64> = row.try_get("pos")?;
    let reason: Option<String> = row.try_get("reason")?;
    let outcome = match (outcome.as_str(), pos) {
        ("applied", Some(pos)) => Outcome::Applied { pos: from_db(pos) },
        ("conflict", Some(pos)) => Outcome::Conflict { pos: from_db(pos) },
        ("rejected", _) => Outcome::Rejected {
            reason: reason.unwrap_or_default(),
        },
        _ => return Err(ApiError::internal(format!("a stored receipt {outcome:?}"))),
    };
    Ok(Receipt {
        n: from_db(n),
        event: parse_id(&event, EventId::parse)?,
        outcome,
    })
}

/// The stored form of an outcome: (outcome, pos, reason).
fn outcome_columns(outcome: &Outcome) -> (&'static str, Option<i64>, Option<&str>) {
    match outcome {
        Outcome::Applied { pos } => ("applied", i64::try_from(*pos).ok(), None),
        Outcome::Conflict { pos } => ("conflict", i64::try_from(*pos).ok(), None),
        Outcome::Rejected { reason } => ("rejected", None, Some(reason.as_str())),
    }
}

/// Folds the events stored after the cache's position into it (inside the push's lock).
async fn catch_up(
    tx: &mut sqlx::AnyConnection,
    site: SiteId,
    cached: &mut Cached,
    head: u64,
) -> Result<(), ApiError> {
    if cached.dirty || cached.pos > head {
        *cached = Cached::default();
    }
    if cached.pos == head {
        return Ok(());
    }
    cached.dirty = true;
    let rows =
        sqlx::query("SELECT pos, body FROM events WHERE site = $1 AND pos > $2 ORDER BY pos")
            .bind(site.to_string())
            .bind(to_db(cached.pos)?)
            .fetch_all(&mut *tx)
            .await?;
    for row in rows {
        let pos = from_db(row.try_get("pos")?);
        if pos != cached.pos + 1 {
            return Err(ApiError::internal(format!(
                "site {site}: event {pos} follows {}",
                cached.pos
            )));
        }
        let body: String = row.try_get("body")?;
        cached.register.apply(&parse_event(&body)?);
        cached.pos = pos;
    }
    if cached.pos != head {
        return Err(ApiError::internal(format!(
            "site {site}: head {head} but events end at {}",
            cached.pos
        )));
    }
    cached.dirty = false;
    Ok(())
}

struct NewEvent {
    pos: u64,
    id: EventId,
    n: u64,
    body: String,
    conflict: bool,
}

/// `POST /api/push`.
pub async fn push(
    State(store): State<Store>,
    auth: Auth,
    ApiJson(req): ApiJson<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    if req.changes.len() > BATCH {
        return Err(ApiError::bad_request(format!(
            "Send at most {BATCH} changes in one push. Update the app and try again."
        )));
    }
    for change in &req.changes {
        to_db(change.n)?;
    }
    let site = auth.site;
    let cache = store.register(site);
    let mut cached = cache.lock().await;
    let response = push_locked(&store, &auth, &req, &mut cached).await?;
    store.announce(site, response.head);
    Ok(Json(response))
}

async fn push_locked(
    store: &Store,
    auth: &Auth,
    req: &PushRequest,
    cached: &mut Cached,
) -> Result<PushResponse, ApiError> {
    let site = auth.site;
    let site_text = site.to_string();
    let device_text = req.device.to_string();
    let mut tx = store.pool().begin().await?;
    sqlx::query("UPDATE sites SET head = head WHERE id = $1")
        .bind(&site_text)
        .execute(&mut *tx)
        .await?;
    let start: i64 = sqlx::query_scalar("SELECT head FROM sites WHERE id = $1")
        .bind(&site_text)
        .fetch_one(&mut *tx)
        .await?;
    let start = from_db(start);
    // The sender's role as it is now, inside the lock: a role change (which takes the same
    // lock) counts either wholly before this push or wholly after it.
    let role: String = sqlx::query_scalar("SELECT role FROM users WHERE username = $1")
        .bind(&auth.username)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(ApiError::signed_out)?;
    let role =
        Role::parse(&role).ok_or_else(|| ApiError::internal(format!("unknown role {role:?}")))?;
    catch_up(&mut tx, site, cached, start).await?;

    // What the database already says about these changes.
    let mut answered: HashMap<u64, Receipt> = HashMap::new();
    if let (Some(low), Some(high)) = (
        req.changes.iter().map(|c| c.n).min(),
        req.changes.iter().map(|c| c.n).max(),
    ) {
        let rows = sqlx::query(
            "SELECT n, event, outcome, pos, reason FROM receipts \
             WHERE site = $1 AND device = $2 AND n >= $3 AND n <= $4",
        )
        .bind(&site_text)
        .bind(&device_text)
        .bind(to_db(low)?)
        .bind(to_db(high)?)
        .fetch_all(&mut *tx)
        .await?;
        for row in &rows {
            let receipt = receipt_of_row(row)?;
            answered.insert(receipt.n, receipt);
        }
    }
    // Stored events among these ids: (site, pos, conflict).
    let mut stored: HashMap<EventId, (String, u64, bool)> = HashMap::new();
    let fresh: Vec<&Numbered> = req
        .changes
        .iter()
        .filter(|c| !answered.contains_key(&c.n))
        .collect();
    for chunk in fresh.chunks(INSERT_CHUNK * 5) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id, site, pos, CASE WHEN conflict THEN 1 ELSE 0 END AS conflict \
             FROM events WHERE id IN ({})",
            marks.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for change in chunk {
            query = query.bind(change.event.id.to_string());
        }
        for row in query.fetch_all(&mut *tx).await? {
            let id: String = row.try_get("id")?;
            let conflict: i64 = row.try_get("conflict")?;
            stored.insert(
                parse_id(&id, EventId::parse)?,
                (
                    row.try_get("site")?,
                    from_db(row.try_get("pos")?),
                    conflict != 0,
                ),
            );
        }
    }

    cached.dirty = true;
    let mut head = start;
    let mut receipts = Vec::with_capacity(req.changes.len());
    let mut new_receipts: Vec<Receipt> = Vec::new();
    let mut new_events: Vec<NewEvent> = Vec::new();
    for change in &req.changes {
        if let Some(receipt) = answered.get(&change.n) {
            receipts.push(receipt.clone());
            continue;
        }
        let event = &change.event;
        let outcome = match stored.get(&event.id) {
            Some((owner, pos, conflict)) if *owner == site_text => {
                if *conflict {
                    Outcome::Conflict { pos: *pos }
                } else {
                    Outcome::Applied { pos: *pos }
                }
            }
            Some(_) => Outcome::Rejected {
                reason:
                    "An event with this id belongs to another site, so it cannot be stored here."
                        .into(),
            },
            None => match judge(&cached.register, site, req.device, role, event) {
                Err(reason) => Outcome::Rejected { reason },
                Ok(conflict) => {
                    head += 1;
                    let body = serde_json::to_string(event)
                        .map_err(|e| ApiError::internal(format!("encoding an event: {e}")))?;
                    cached.register.apply(event);
                    stored.insert(event.id, (site_text.clone(), head, conflict));
                    new_events.push(NewEvent {
                        pos: head,
                        id: event.id,
                        n: change.n,
                        body,
                        conflict,
                    });
                    if conflict {
                        Outcome::Conflict { pos: head }
                    } else {
                        Outcome::Applied { pos: head }
                    }
                }
            },
        };
        let receipt = Receipt {
            n: change.n,
            event: event.id,
            outcome,
        };
        answered.insert(change.n, receipt.clone());
        new_receipts.push(receipt.clone());
        receipts.push(receipt);
    }

    for chunk in new_events.chunks(INSERT_CHUNK) {
        let sql = format!(
            "INSERT INTO events (site, pos, id, device, n, body, conflict) VALUES {}",
            placeholders(chunk.len(), 7)
        );
        let mut query = sqlx::query(&sql);
        for e in chunk {
            query = query
                .bind(&site_text)
                .bind(to_db(e.pos)?)
                .bind(e.id.to_string())
                .bind(&device_text)
                .bind(to_db(e.n)?)
                .bind(e.body.as_str())
                .bind(e.conflict);
        }
        query.execute(&mut *tx).await?;
    }
    for chunk in new_receipts.chunks(INSERT_CHUNK) {
        let sql = format!(
            "INSERT INTO receipts (site, device, n, event, outcome, pos, reason) VALUES {}",
            placeholders(chunk.len(), 7)
        );
        let mut query = sqlx::query(&sql);
        for r in chunk {
            let (outcome, pos, reason) = outcome_columns(&r.outcome);
            query = query
                .bind(&site_text)
                .bind(&device_text)
                .bind(to_db(r.n)?)
                .bind(r.event.to_string())
                .bind(outcome)
                .bind(pos)
                .bind(reason);
        }
        query.execute(&mut *tx).await?;
    }
    if head != start {
        sqlx::query("UPDATE sites SET head = $2 WHERE id = $1")
            .bind(&site_text)
            .bind(to_db(head)?)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    cached.pos = head;
    cached.dirty = false;
    Ok(PushResponse { receipts, head })
}

/// `($1, $2, …), ($8, …)` for `rows` rows of `columns` values.
fn placeholders(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let marks: Vec<String> = (1..=columns)
                .map(|c| format!("${}", r * columns + c))
                .collect();
            format!("({})", marks.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Deserialize)]
pub struct PullParams {
    /// The position the device has; events after it are sent.
    #[serde(default)]
    pub after: u64,
    /// The device's own changes numbered above this get their receipts sent.
    #[serde(default)]
    pub since: u64,
    /// Whose receipts to send; none without it.
    pub device: Option<DeviceId>,
}

/// `GET /api/pull?after=<pos>&since=<n>&device=<id>`.
///
/// Reads the receipts first, then the head, then events up to that head: a receipt never
/// names a position beyond the head it comes with.
pub async fn pull(
    State(store): State<Store>,
    auth: Auth,
    params: Result<Query<PullParams>, QueryRejection>,
) -> Result<Json<PullResponse>, ApiError> {
    let Query(params) = params.map_err(|e| {
        ApiError::bad_request(format!(
            "The server could not read that request ({}). Update the app and try again.",
            e.body_text()
        ))
    })?;
    let site = auth.site.to_string();
    let mut receipts = Vec::new();
    if let Some(device) = params.device {
        let rows = sqlx::query(&format!(
            "SELECT n, event, outcome, pos, reason FROM receipts \
             WHERE site = $1 AND device = $2 AND n > $3 ORDER BY n LIMIT {RECEIPTS_PER_PULL}"
        ))
        .bind(&site)
        .bind(device.to_string())
        .bind(to_db(params.since)?)
        .fetch_all(store.pool())
        .await?;
        for row in &rows {
            receipts.push(receipt_of_row(row)?);
        }
    }
    let head = site_head(store.pool(), auth.site).await?;
    let rows = sqlx::query(&format!(
        "SELECT pos, body FROM events WHERE site = $1 AND pos > $2 AND pos <= $3 \
         ORDER BY pos LIMIT {BATCH}"
    ))
    .bind(&site)
    .bind(to_db(params.after)?)
    .bind(to_db(head)?)
    .fetch_all(store.pool())
    .await?;
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        let body: String = row.try_get("body")?;
        events.push(Logged {
            pos: from_db(row.try_get("pos")?),
            event: parse_event(&body)?,
            sent: None,
        });
    }
    Ok(Json(PullResponse {
        events,
        head,
        receipts,
    }))
}
