//! The head stream (server-sent events) and the tickets that open it.
//!
//! A browser's `EventSource` cannot send an `Authorization` header, and a token must never go
//! in a URL (it lands in logs, history and proxies). So the app first asks
//! `POST /api/stream-ticket` (with its bearer token) for a ticket: 32 random bytes in hex,
//! valid for [`TICKET_VALID_MS`] and for one use, and opens `GET /api/stream?ticket=…`.
//!
//! Tickets live in the database (`stream_tickets`, only their SHA-256, naming the session's
//! public id), not in one process's memory: with several server processes over one
//! PostgreSQL the ticket is often used at another process than the one that issued it. Using
//! one is a single `DELETE … RETURNING`, so two uses cannot both succeed; the session it names
//! must still be live (a session ended since takes its tickets with it). A signed (HMAC)
//! ticket would need a shared secret and still a record of used tickets to be single use, so
//! a table is the simpler of the two.
//!
//! Clients that can send headers (tools, tests) may open the stream with
//! `Authorization: Bearer` instead. A `?token=` is no longer accepted.

use std::convert::Infallible;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::Json;
use futures_util::Stream;
use keyward_core::sync::StreamTicket;
use serde::Deserialize;
use sqlx::Row;

use super::accounts::sessions::{authenticate_by, Lookup};
use super::accounts::{is_hex, random_hex, secret_hash, Auth};
use super::sync::site_head;
use super::{bearer, now_ms, ApiError};
use crate::store::Store;

/// How long a stream ticket stays valid: a minute.
pub const TICKET_VALID_MS: i64 = 60_000;

/// Said when a ticket is unknown, used or expired (the app asks for a new one).
pub const TICKET_ENDED: &str =
    "That stream ticket has been used or has expired. Ask for a new one.";

/// `POST /api/stream-ticket`: a single-use ticket for `GET /api/stream?ticket=`.
pub async fn stream_ticket(
    State(store): State<Store>,
    auth: Auth,
) -> Result<(StatusCode, Json<StreamTicket>), ApiError> {
    let ticket = random_hex(32)?;
    let now = now_ms();
    sqlx::query("DELETE FROM stream_tickets WHERE expires_at <= $1")
        .bind(now)
        .execute(store.pool())
        .await?;
    sqlx::query(
        "INSERT INTO stream_tickets (ticket_hash, session, expires_at) VALUES ($1, $2, $3)",
    )
    .bind(secret_hash(&ticket))
    .bind(&auth.session_id)
    .bind(now + TICKET_VALID_MS)
    .execute(store.pool())
    .await?;
    Ok((StatusCode::CREATED, Json(StreamTicket { ticket })))
}

#[derive(Deserialize)]
pub struct StreamParams {
    pub ticket: Option<String>,
}

/// The session a ticket opens, using the ticket up; 401 when it is unknown, used or expired.
async fn redeem(store: &Store, ticket: &str) -> Result<Auth, ApiError> {
    let ended = || ApiError::new(StatusCode::UNAUTHORIZED, TICKET_ENDED);
    if !is_hex(ticket, 64) {
        return Err(ended());
    }
    let row = sqlx::query(
        "DELETE FROM stream_tickets WHERE ticket_hash = $1 RETURNING session, expires_at",
    )
    .bind(secret_hash(ticket))
    .fetch_optional(store.pool())
    .await?
    .ok_or_else(ended)?;
    let expires_at: i64 = row.try_get("expires_at")?;
    if expires_at <= now_ms() {
        return Err(ended());
    }
    let session: String = row.try_get("session")?;
    authenticate_by(store, Lookup::Id(&session)).await
}

/// `GET /api/stream?ticket=<ticket>` (or with `Authorization: Bearer`): `event: head` with the
/// site's head at once and whenever it grows; keep-alive comments in between. Ends when the
/// server shuts down.
pub async fn stream(
    State(store): State<Store>,
    params: Result<Query<StreamParams>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let ticket = params.ok().and_then(|Query(p)| p.ticket);
    let auth = match (ticket, bearer(&headers)) {
        (Some(ticket), _) => redeem(&store, &ticket).await?,
        (None, Some(token)) => authenticate_by(&store, Lookup::Token(token)).await?,
        (None, None) => return Err(ApiError::signed_out()),
    };
    let head = site_head(store.pool(), auth.site).await?;
    let heads = store.subscribe(auth.site, head);
    let closing = store.closing();
    let events = futures_util::stream::unfold(
        (heads, closing, true),
        |(mut heads, mut closing, first)| async move {
            if *closing.borrow_and_update() {
                return None;
            }
            if !first {
                tokio::select! {
                    changed = heads.changed() => changed.ok()?,
                    _ = closing.changed() => return None,
                }
            }
            let head = *heads.borrow_and_update();
            let event = SseEvent::default().event("head").data(head.to_string());
            Some((Ok(event), (heads, closing, false)))
        },
    );
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
