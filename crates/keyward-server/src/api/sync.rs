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
use axum::http::StatusCode;
use axum::Json;
use chrono::DateTime;
use futures_util::TryStreamExt;
use keyward_core::sync::{
    check_time, judge, Logged, Numbered, Outcome, PullResponse, PushRequest, PushResponse, Receipt,
    Sent, BATCH,
};
use keyward_core::{Change, DeviceId, EscalationId, Event, EventId, Role, SiteId};
use serde::Deserialize;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::accounts::Auth;
use super::{from_db, now_ms, to_db, ApiError, ApiJson};
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

/// Folds the events stored after the cache's position, up to `head`, into it.
pub(crate) async fn catch_up(
    pool: &AnyPool,
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
    // Streamed, not collected: a site's whole history need not sit in memory twice.
    let mut rows = sqlx::query(
        "SELECT pos, body FROM events WHERE site = $1 AND pos > $2 AND pos <= $3 ORDER BY pos",
    )
    .bind(site.to_string())
    .bind(to_db(cached.pos)?)
    .bind(to_db(head)?)
    .fetch(pool);
    while let Some(row) = rows.try_next().await? {
        let pos = from_db(row.try_get("pos")?);
        if pos != cached.pos + 1 {
            return Err(ApiError::internal(format!(
                "site {site}: event {pos} follows {}",
                cached.pos
            )));
        }
        let body: String = row.try_get("body")?;
        cached.fold(&parse_event(&body)?, body.len());
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

/// How often a push judges again when another server process stored events for the same
/// site between its judging and its writing.
const PUSH_ATTEMPTS: usize = 5;

const OTHER_DEVICE: &str =
    "This sign-in belongs to another device. Sign in again on this device to send its changes.";

/// `POST /api/push`.
///
/// Judging happens outside any database lock, against the process's cached register; only
/// the writing takes the site's lock, and only for as long as the inserts take. So one site's
/// big push (or its first fold after a restart) never holds SQLite's single write lock while
/// another site waits. If the site's head, the sender's role or the device's receipts changed
/// between judging and writing (another process pushed), the push judges again.
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
    if req.device != auth.device {
        return Err(ApiError::new(StatusCode::FORBIDDEN, OTHER_DEVICE));
    }
    for change in &req.changes {
        to_db(change.n)?;
    }
    let site = auth.site;
    let cache = store.register(site);
    let response = {
        let mut cached = cache.lock().await;
        let mut outcome = None;
        for _ in 0..PUSH_ATTEMPTS {
            let judged = judge_push(&store, &auth, &req, &mut cached).await?;
            if let Some(response) = write_push(&store, &auth, judged, &mut cached).await? {
                outcome = Some(response);
                break;
            }
        }
        let bytes = cached.bytes;
        drop(cached);
        drop(cache);
        let response = outcome.ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "The server is busy with other changes to this site. Nothing was lost: try again in a moment.",
            )
        })?;
        store.settle(site, bytes);
        response
    };
    store.announce(site, response.head);
    let refused: Vec<&str> = response
        .receipts
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Rejected { reason } => Some(reason.as_str()),
            _ => None,
        })
        .collect();
    if let Some(first) = refused.first() {
        tracing::info!(
            %site,
            device = %auth.device,
            user = %auth.username,
            refused = refused.len(),
            changes = req.changes.len(),
            first_reason = %first,
            "push: changes refused"
        );
    }
    Ok(Json(response))
}

/// A push judged against the register at `start`, ready to be written.
struct Judged {
    start: u64,
    role: Role,
    /// How many of these changes the database had already answered when judging began.
    answered_before: usize,
    low_high: Option<(u64, u64)>,
    head: u64,
    receipts: Vec<Receipt>,
    new_receipts: Vec<Receipt>,
    new_events: Vec<NewEvent>,
    /// The master keys this push reports lost: mailed to the site's admins when stored.
    lost_masters: Vec<EscalationId>,
}

async fn read_role(
    executor: impl sqlx::Executor<'_, Database = sqlx::Any>,
    username: &str,
) -> Result<Role, ApiError> {
    let role: String = sqlx::query_scalar("SELECT role FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(executor)
        .await?
        .ok_or_else(ApiError::signed_out)?;
    Role::parse(&role).ok_or_else(|| ApiError::internal(format!("unknown role {role:?}")))
}

/// The receipts stored for this device's changes numbered `low..=high`.
async fn count_receipts(
    executor: impl sqlx::Executor<'_, Database = sqlx::Any>,
    site: &str,
    device: &str,
    (low, high): (u64, u64),
) -> Result<usize, ApiError> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM receipts WHERE site = $1 AND device = $2 AND n >= $3 AND n <= $4",
    )
    .bind(site)
    .bind(device)
    .bind(to_db(low)?)
    .bind(to_db(high)?)
    .fetch_one(executor)
    .await?;
    Ok(usize::try_from(count).unwrap_or(0))
}

async fn judge_push(
    store: &Store,
    auth: &Auth,
    req: &PushRequest,
    cached: &mut Cached,
) -> Result<Judged, ApiError> {
    let pool = store.pool();
    let site = auth.site;
    let site_text = site.to_string();
    let device = auth.device;
    let device_text = device.to_string();
    let start = site_head(pool, site).await?;
    let role = read_role(pool, &auth.username).await?;
    catch_up(pool, site, cached, start).await?;

    // What the database already says about these changes.
    let mut answered: HashMap<u64, Receipt> = HashMap::new();
    let low_high = req
        .changes
        .iter()
        .map(|c| c.n)
        .min()
        .zip(req.changes.iter().map(|c| c.n).max());
    if let Some((low, high)) = low_high {
        let rows = sqlx::query(
            "SELECT n, event, outcome, pos, reason FROM receipts \
             WHERE site = $1 AND device = $2 AND n >= $3 AND n <= $4",
        )
        .bind(&site_text)
        .bind(&device_text)
        .bind(to_db(low)?)
        .bind(to_db(high)?)
        .fetch_all(pool)
        .await?;
        for row in &rows {
            let receipt = receipt_of_row(row)?;
            answered.insert(receipt.n, receipt);
        }
    }
    let answered_before = answered.len();
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
        for row in query.fetch_all(pool).await? {
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
    let now = chrono::Utc::now();
    let skew = chrono::Duration::from_std(store.limits().clock_skew)
        .unwrap_or_else(|_| chrono::Duration::minutes(5));
    let mut head = start;
    let mut receipts = Vec::with_capacity(req.changes.len());
    let mut new_receipts: Vec<Receipt> = Vec::new();
    let mut new_events: Vec<NewEvent> = Vec::new();
    let mut lost_masters = Vec::new();
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
            None => match judge(&cached.register, site, device, role, event).and_then(|conflict| {
                check_time(event, now, skew, &cached.times(event.device)).map(|()| conflict)
            }) {
                Err(reason) => Outcome::Rejected { reason },
                Ok(conflict) => {
                    head += 1;
                    let body = serde_json::to_string(event)
                        .map_err(|e| ApiError::internal(format!("encoding an event: {e}")))?;
                    cached.fold(event, body.len());
                    if let Change::MasterLostReported { escalation, .. } = &event.change {
                        lost_masters.push(*escalation);
                    }
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
    Ok(Judged {
        start,
        role,
        answered_before,
        low_high,
        head,
        receipts,
        new_receipts,
        new_events,
        lost_masters,
    })
}

/// Writes a judged push inside the site's lock; `None` (nothing written, the cache left
/// dirty) when another process changed what it was judged against.
async fn write_push(
    store: &Store,
    auth: &Auth,
    judged: Judged,
    cached: &mut Cached,
) -> Result<Option<PushResponse>, ApiError> {
    let site_text = auth.site.to_string();
    let device_text = auth.device.to_string();
    let mut tx = store.pool().begin().await?;
    sqlx::query("UPDATE sites SET head = head WHERE id = $1")
        .bind(&site_text)
        .execute(&mut *tx)
        .await?;
    let head: i64 = sqlx::query_scalar("SELECT head FROM sites WHERE id = $1")
        .bind(&site_text)
        .fetch_one(&mut *tx)
        .await?;
    // The sender's role as it is now, inside the lock: a role change (which takes the same
    // lock) counts either wholly before this push or wholly after it.
    let role = read_role(&mut *tx, &auth.username).await?;
    let answered = match judged.low_high {
        Some(range) => count_receipts(&mut *tx, &site_text, &device_text, range).await?,
        None => 0,
    };
    if from_db(head) != judged.start || role != judged.role || answered != judged.answered_before {
        tx.rollback().await?;
        return Ok(None);
    }
    let received = now_ms();
    for chunk in judged.new_events.chunks(INSERT_CHUNK) {
        let sql = format!(
            "INSERT INTO events (site, pos, id, device, n, body, conflict, pushed_by, pushed_name, received_at) VALUES {}",
            placeholders(chunk.len(), 10)
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
                .bind(e.conflict)
                .bind(&auth.username)
                .bind(&auth.name)
                .bind(received);
        }
        query.execute(&mut *tx).await?;
    }
    for chunk in judged.new_receipts.chunks(INSERT_CHUNK) {
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
    if judged.head != judged.start {
        sqlx::query("UPDATE sites SET head = $2 WHERE id = $1")
            .bind(&site_text)
            .bind(to_db(judged.head)?)
            .execute(&mut *tx)
            .await?;
    }
    let mailer = store.mail();
    let mailed = match mailer {
        Some(mailer) => {
            let lost = &judged.lost_masters;
            crate::mail::alerts::lost_master(&mut tx, mailer, auth, &cached.register, lost).await?
        }
        None => false,
    };
    tx.commit().await?;
    if let Some(mailer) = mailer.filter(|_| mailed) {
        mailer.wake();
    }
    cached.pos = judged.head;
    cached.dirty = false;
    Ok(Some(PushResponse {
        receipts: judged.receipts,
        head: judged.head,
    }))
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
/// names a position beyond the head it comes with. A page holds at most [`BATCH`] events and
/// about [`Limits::pull_bytes`](crate::Limits::pull_bytes) of them (always at least one), read
/// one row at a time, so no pull holds more than that in memory. Receipts are only ever the
/// session's own device's.
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
    let device = auth.device;
    if params.device.is_some_and(|asked| asked != device) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, OTHER_DEVICE));
    }
    let site = auth.site.to_string();
    let mut receipts = Vec::new();
    if params.device.is_some() {
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
    if params.after > head {
        // Only a database put back to an earlier state does this (see docs/operator.md,
        // "Backups and restore"): the device holds events the server no longer has.
        tracing::warn!(
            site = %auth.site,
            %device,
            user = %auth.username,
            after = params.after,
            head,
            "a device has more of the site's log than the server: was the database restored \
             from a backup? That device must be set up again"
        );
    }
    let budget = store.limits().pull_bytes;
    let sql = format!(
        "SELECT pos, body, pushed_by, pushed_name, received_at FROM events \
         WHERE site = $1 AND pos > $2 AND pos <= $3 ORDER BY pos LIMIT {BATCH}"
    );
    let mut rows = sqlx::query(&sql)
        .bind(&site)
        .bind(to_db(params.after)?)
        .bind(to_db(head)?)
        .fetch(store.pool());
    let mut events = Vec::new();
    let mut bytes = 0;
    while let Some(row) = rows.try_next().await? {
        let body: String = row.try_get("body")?;
        bytes += body.len();
        let by: Option<String> = row.try_get("pushed_by")?;
        let name: Option<String> = row.try_get("pushed_name")?;
        let received: Option<i64> = row.try_get("received_at")?;
        let sent = match (by, name, received.and_then(DateTime::from_timestamp_millis)) {
            (Some(by), Some(name), Some(at)) => Some(Sent { by, name, at }),
            _ => None,
        };
        events.push(Logged {
            pos: from_db(row.try_get("pos")?),
            event: parse_event(&body)?,
            sent,
        });
        if bytes >= budget {
            break;
        }
    }
    Ok(Json(PullResponse {
        events,
        head,
        receipts,
    }))
}
