//! Sessions: who a token belongs to, idle sessions ending, and listing and ending sessions.
//!
//! A session row holds the SHA-256 of its token (never the token), a public random `id` that
//! names it in lists and in `DELETE /api/sessions/{id}`, the device it was opened on, and
//! when it was opened and last used. A session unused for `session_idle` is refused and
//! deleted at its next use; `last_used_at` is written at most once a minute (or a quarter of
//! `session_idle`, when that is shorter), so reads stay reads.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use keyward_core::sync::DeviceSession;
use keyward_core::{Action, DeviceId};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::limits::ms;
use super::{
    is_hex, no_such_user, parse_role, parse_site, path_username, random_hex, secret_hash, Auth,
};
use crate::api::{now_ms, ApiError};
use crate::store::Store;

/// How long a session id is, in hex digits.
const ID_LEN: usize = 32;
/// `last_used_at` is written at most this often.
const TOUCH_EVERY_MS: i64 = 60_000;

/// What a session is looked up by.
pub(crate) enum Lookup<'a> {
    /// A bearer token.
    Token(&'a str),
    /// A session id (a stream ticket names its session).
    Id(&'a str),
}

/// The user behind `token`, or 401.
pub async fn authenticate(store: &Store, token: &str) -> Result<Auth, ApiError> {
    authenticate_by(store, Lookup::Token(token)).await
}

/// The session's user, or 401 (also for a session idle too long, which is deleted).
pub(crate) async fn authenticate_by(store: &Store, lookup: Lookup<'_>) -> Result<Auth, ApiError> {
    let (column, key, token) = match lookup {
        Lookup::Token(token) if is_hex(token, 64) => ("x.token_hash", secret_hash(token), token),
        Lookup::Id(id) if is_hex(id, ID_LEN) => ("x.id", id.to_ascii_lowercase(), ""),
        _ => return Err(ApiError::signed_out()),
    };
    let row = sqlx::query(&format!(
        "SELECT x.id, COALESCE(x.last_used_at, x.created_at) AS last_used, x.device, \
         u.username, u.name, u.role, u.site, s.name AS site_name \
         FROM sessions x JOIN users u ON u.username = x.username JOIN sites s ON s.id = u.site \
         WHERE {column} = $1"
    ))
    .bind(&key)
    .fetch_optional(store.pool())
    .await?
    .ok_or_else(ApiError::signed_out)?;
    let id: String = row.try_get("id")?;
    let last_used: i64 = row.try_get("last_used")?;
    let now = now_ms();
    let idle = ms(store.limits().session_idle);
    if now - last_used > idle {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(&id)
            .execute(store.pool())
            .await?;
        return Err(ApiError::signed_out());
    }
    if now - last_used >= TOUCH_EVERY_MS.min(idle / 4) {
        sqlx::query("UPDATE sessions SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(&id)
            .execute(store.pool())
            .await?;
    }
    let role: String = row.try_get("role")?;
    let site: String = row.try_get("site")?;
    let device: String = row.try_get("device")?;
    Ok(Auth {
        token: token.to_string(),
        session_id: id,
        username: row.try_get("username")?,
        name: row.try_get("name")?,
        role: parse_role(&role)?,
        site: parse_site(&site)?,
        site_name: row.try_get("site_name")?,
        device: DeviceId::parse(&device)
            .ok_or_else(|| ApiError::internal(format!("bad device id {device:?}")))?,
    })
}

/// Opens a session for `username` on `device`; returns the token.
pub(crate) async fn open_session<'c, E>(
    executor: E,
    username: &str,
    device: DeviceId,
) -> Result<String, ApiError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let token = random_hex(32)?;
    let now = now_ms();
    sqlx::query(
        "INSERT INTO sessions (token_hash, id, username, device, created_at, last_used_at) \
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(secret_hash(&token))
    .bind(random_hex(ID_LEN / 2)?)
    .bind(username)
    .bind(device.to_string())
    .bind(now)
    .execute(executor)
    .await?;
    Ok(token)
}

fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn device_session(row: &AnyRow, current: &str) -> Result<DeviceSession, ApiError> {
    let id: String = row.try_get("id")?;
    let device: String = row.try_get("device")?;
    Ok(DeviceSession {
        current: id == current,
        id,
        device: DeviceId::parse(&device)
            .ok_or_else(|| ApiError::internal(format!("bad device id {device:?}")))?,
        signed_in: time(row.try_get("created_at")?),
        last_used: time(row.try_get("last_used")?),
    })
}

/// The live sessions of `username`, most recently used first.
async fn sessions_of(
    store: &Store,
    username: &str,
    current: &str,
) -> Result<Vec<DeviceSession>, ApiError> {
    let cutoff = now_ms() - ms(store.limits().session_idle);
    let rows = sqlx::query(
        "SELECT id, device, created_at, COALESCE(last_used_at, created_at) AS last_used \
         FROM sessions WHERE username = $1 AND COALESCE(last_used_at, created_at) >= $2 \
         ORDER BY last_used DESC, id",
    )
    .bind(username)
    .bind(cutoff)
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(|r| device_session(r, current)).collect()
}

/// `GET /api/sessions`: the caller's own signed-in devices; `current` marks this one.
pub async fn own_sessions(
    State(store): State<Store>,
    auth: Auth,
) -> Result<Json<Vec<DeviceSession>>, ApiError> {
    Ok(Json(
        sessions_of(&store, &auth.username, &auth.session_id).await?,
    ))
}

/// `GET /api/users/{username}/sessions`: an admin's view of a user of their own site.
pub async fn user_sessions(
    State(store): State<Store>,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Vec<DeviceSession>>, ApiError> {
    auth.may(Action::ManageUsers)?;
    let username = path_username(path)?;
    sqlx::query("SELECT 1 FROM users WHERE username = $1 AND site = $2")
        .bind(&username)
        .bind(auth.site.to_string())
        .fetch_optional(store.pool())
        .await?
        .ok_or_else(|| no_such_user(&username))?;
    Ok(Json(
        sessions_of(&store, &username, &auth.session_id).await?,
    ))
}

fn no_such_session() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "That device is not signed in any more. Refresh the list.",
    )
}

/// `DELETE /api/sessions/{id}`: ends one of the caller's own sessions, or (an admin) any
/// session of a user of their site: the lost phone. 404 for anything else, so nobody learns
/// of sessions that are not theirs to end.
pub async fn end_session(
    State(store): State<Store>,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let id = match path {
        Ok(Path(id)) if is_hex(&id, ID_LEN) => id.to_ascii_lowercase(),
        _ => return Err(no_such_session()),
    };
    let row = sqlx::query(
        "SELECT x.username, u.site FROM sessions x JOIN users u ON u.username = x.username \
         WHERE x.id = $1",
    )
    .bind(&id)
    .fetch_optional(store.pool())
    .await?
    .ok_or_else(no_such_session)?;
    let owner: String = row.try_get("username")?;
    let site: String = row.try_get("site")?;
    let allowed = owner == auth.username
        || (auth.may(Action::ManageUsers).is_ok() && site == auth.site.to_string());
    if !allowed {
        return Err(no_such_session());
    }
    // A stream ticket of this session dies with it: a ticket opens only a live session.
    sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(&id)
        .execute(store.pool())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
