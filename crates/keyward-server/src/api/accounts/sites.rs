//! `POST /api/sites`: a new site on the server, with its first admin.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use keyward_core::sync::{NewSite, Session};
use keyward_core::Role;

use super::passwords::check_new_password;
use super::sessions::open_session;
use super::{
    checked_name, is_unique_violation, new_username, setup_code, username_free, username_taken,
    Name,
};
use crate::api::{now_ms, ApiError, ApiJson};
use crate::store::Store;

fn site_taken() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "This site is already registered on the server. Sign in to it, or ask its admin for an account.",
    )
}

/// `POST /api/sites` `{site, site_name, username, name, password, device, setup_code}`: a new
/// site with its first admin, signed in on `device`.
///
/// The set-up code is checked first (403), so without one nothing tells whether the site or
/// the username exists. Then the fields (400), the site and the username (409), the password
/// rule (400); the password is hashed through the queue (503 when busy); and one transaction
/// uses up the code and stores the site, the admin and the session.
pub async fn register_site(
    State(store): State<Store>,
    ApiJson(req): ApiJson<NewSite>,
) -> Result<(StatusCode, Json<Session>), ApiError> {
    let code = setup_code::check(&store, &req.setup_code).await?;
    let site_name = checked_name(&req.site_name, Name::Site)?;
    let username = new_username(&req.username)?;
    let name = checked_name(&req.name, Name::Person)?;
    check_new_password(&req.password, &[&username, &name, &site_name])?;
    let site_id = req.site.to_string();
    if sqlx::query("SELECT 1 FROM sites WHERE id = $1")
        .bind(&site_id)
        .fetch_optional(store.pool())
        .await?
        .is_some()
    {
        return Err(site_taken());
    }
    username_free(&store, &username).await?;
    let hash = store.sign_in_guards().hashing().hash(req.password).await?;

    let mut tx = store.pool().begin().await?;
    setup_code::use_up(&mut tx, &code).await?;
    let now = now_ms();
    let inserted =
        sqlx::query("INSERT INTO sites (id, name, head, created_at) VALUES ($1, $2, 0, $3)")
            .bind(&site_id)
            .bind(&site_name)
            .bind(now)
            .execute(&mut *tx)
            .await;
    match inserted {
        Err(e) if is_unique_violation(&e) => return Err(site_taken()),
        other => other?,
    };
    let inserted = sqlx::query(
        "INSERT INTO users (username, site, name, role, password_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&username)
    .bind(&site_id)
    .bind(&name)
    .bind(Role::Admin.as_str())
    .bind(&hash)
    .bind(now)
    .execute(&mut *tx)
    .await;
    match inserted {
        Err(e) if is_unique_violation(&e) => return Err(username_taken(&username)),
        other => other?,
    };
    let token = open_session(&mut *tx, &username, req.device).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(Session {
            token,
            username,
            name,
            role: Role::Admin,
            site: req.site,
            site_name,
        }),
    ))
}
