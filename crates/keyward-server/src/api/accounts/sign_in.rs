//! Signing in and out.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use keyward_core::sync::{Login, Session};
use sqlx::Row;

use super::limits;
use super::passwords::checked_password;
use super::sessions::open_session;
use super::{checked_username, parse_role, parse_site, Auth, ClientAddr};
use crate::api::{ApiError, ApiJson};
use crate::store::Store;

/// Said for a wrong password and for a username nobody has, alike.
pub const WRONG_PASSWORD: &str =
    "That username and password do not match. Check them, or ask your site's admin.";

/// `POST /api/login` `{username, password, device}`.
///
/// In order: the lengths and characters (400, nothing stored or hashed); the attempt is
/// recorded and counted (429); the password is verified through the hashing queue (503 when
/// busy), against a dummy hash for an unknown username; 401 for either kind of mismatch.
pub async fn login(
    State(store): State<Store>,
    address: ClientAddr,
    ApiJson(req): ApiJson<Login>,
) -> Result<Json<Session>, ApiError> {
    let username = checked_username(&req.username)?;
    checked_password(&req.password)?;
    let attempt = limits::begin(&store, &username, &address).await?;
    let user = sqlx::query(
        "SELECT u.name, u.role, u.site, u.password_hash, s.name AS site_name \
         FROM users u JOIN sites s ON s.id = u.site WHERE u.username = $1",
    )
    .bind(&username)
    .fetch_optional(store.pool())
    .await?;
    let hash = match &user {
        Some(row) => Some(row.try_get::<String, _>("password_hash")?),
        None => None,
    };
    let matches = match store
        .sign_in_guards()
        .hashing()
        .verify(req.password, hash)
        .await
    {
        Ok(matches) => matches,
        Err(busy) => {
            attempt.withdraw().await;
            return Err(busy);
        }
    };
    let Some(row) = user.filter(|_| matches) else {
        attempt.failed();
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, WRONG_PASSWORD));
    };
    attempt.succeeded().await?;
    let role: String = row.try_get("role")?;
    let site: String = row.try_get("site")?;
    let token = open_session(store.pool(), &username, req.device).await?;
    Ok(Json(Session {
        token,
        username,
        name: row.try_get("name")?,
        role: parse_role(&role)?,
        site: parse_site(&site)?,
        site_name: row.try_get("site_name")?,
    }))
}

/// `POST /api/logout`: ends this session.
pub async fn logout(State(store): State<Store>, auth: Auth) -> Result<StatusCode, ApiError> {
    sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(&auth.session_id)
        .execute(store.pool())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/me`.
pub async fn me(auth: Auth) -> Json<Session> {
    Json(auth.session())
}
