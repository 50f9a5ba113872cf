//! An admin's management of their site's users: list, add, change a role, remove.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use keyward_core::sync::{NewUser, RoleChange, User};
use keyward_core::{Action, Role};
use sqlx::Row;

use super::passwords::check_new_password;
use super::{
    checked_name, is_unique_violation, new_username, no_such_user, parse_role, path_username,
    username_free, username_taken, Auth, Name, LAST_ADMIN,
};
use crate::api::{now_ms, ApiError, ApiJson};
use crate::store::Store;

/// `GET /api/users`: the site's users, by username.
pub async fn users(State(store): State<Store>, auth: Auth) -> Result<Json<Vec<User>>, ApiError> {
    auth.may(Action::ManageUsers)?;
    let rows = sqlx::query(
        "SELECT username, name, role, email FROM users WHERE site = $1 ORDER BY username",
    )
    .bind(auth.site.to_string())
    .fetch_all(store.pool())
    .await?;
    let mut users = Vec::with_capacity(rows.len());
    for row in rows {
        let role: String = row.try_get("role")?;
        users.push(User {
            username: row.try_get("username")?,
            name: row.try_get("name")?,
            role: parse_role(&role)?,
            email: row.try_get("email")?,
        });
    }
    Ok(Json(users))
}

/// `POST /api/users`: adds a user to the admin's site. Only an admin learns here whether a
/// username is taken (usernames are unique across the server).
pub async fn add_user(
    State(store): State<Store>,
    auth: Auth,
    ApiJson(req): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    auth.may(Action::ManageUsers)?;
    let username = new_username(&req.username)?;
    let name = checked_name(&req.name, Name::Person)?;
    check_new_password(&req.password, &[&username, &name, &auth.site_name])?;
    let email = crate::mail::checked_email(req.email.as_deref().unwrap_or_default())?;
    username_free(&store, &username).await?;
    let hash = store.sign_in_guards().hashing().hash(req.password).await?;
    let inserted = sqlx::query(
        "INSERT INTO users (username, site, name, role, password_hash, created_at, email) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&username)
    .bind(auth.site.to_string())
    .bind(&name)
    .bind(req.role.as_str())
    .bind(&hash)
    .bind(now_ms())
    .bind(email.as_deref())
    .execute(store.pool())
    .await;
    match inserted {
        Err(e) if is_unique_violation(&e) => return Err(username_taken(&username)),
        other => other?,
    };
    Ok((
        StatusCode::CREATED,
        Json(User {
            username,
            name,
            role: req.role,
            email,
        }),
    ))
}

/// Opens a transaction holding the site's lock (as a push does), so changes to a site's users
/// are serialised across server processes and with pushes; returns the user's name and role
/// at the admin's site (and address), or 404.
async fn lock_user(
    store: &Store,
    auth: &Auth,
    username: &str,
) -> Result<
    (
        sqlx::Transaction<'static, sqlx::Any>,
        String,
        Role,
        Option<String>,
    ),
    ApiError,
> {
    let site = auth.site.to_string();
    let mut tx = store.pool().begin().await?;
    sqlx::query("UPDATE sites SET head = head WHERE id = $1")
        .bind(&site)
        .execute(&mut *tx)
        .await?;
    let row = sqlx::query("SELECT name, role, email FROM users WHERE username = $1 AND site = $2")
        .bind(username)
        .bind(&site)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| no_such_user(username))?;
    let role: String = row.try_get("role")?;
    Ok((
        tx,
        row.try_get("name")?,
        parse_role(&role)?,
        row.try_get("email")?,
    ))
}

/// 409 if `username`, an admin, is the site's only one (checked inside the site's lock).
async fn keep_an_admin(
    tx: &mut sqlx::AnyConnection,
    auth: &Auth,
    username: &str,
) -> Result<(), ApiError> {
    let others: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE site = $1 AND role = $2 AND username <> $3",
    )
    .bind(auth.site.to_string())
    .bind(Role::Admin.as_str())
    .bind(username)
    .fetch_one(&mut *tx)
    .await?;
    if others == 0 {
        Err(ApiError::new(StatusCode::CONFLICT, LAST_ADMIN))
    } else {
        Ok(())
    }
}

/// `PUT /api/users/{username}` `{role}`: changes the role of a user of the admin's site; it
/// counts from that user's next request.
pub async fn change_role(
    State(store): State<Store>,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
    ApiJson(req): ApiJson<RoleChange>,
) -> Result<Json<User>, ApiError> {
    auth.may(Action::ManageUsers)?;
    let username = path_username(path)?;
    let (mut tx, name, role, email) = lock_user(&store, &auth, &username).await?;
    if role == Role::Admin && req.role != Role::Admin {
        keep_an_admin(&mut tx, &auth, &username).await?;
    }
    sqlx::query("UPDATE users SET role = $1 WHERE username = $2 AND site = $3")
        .bind(req.role.as_str())
        .bind(&username)
        .bind(auth.site.to_string())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Json(User {
        username,
        name,
        role: req.role,
        email,
    }))
}

/// `DELETE /api/users/{username}`: removes a user of the admin's site and ends all their
/// sessions (their devices' next request is 401). The events they made stay in the log.
pub async fn remove_user(
    State(store): State<Store>,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    auth.may(Action::ManageUsers)?;
    let username = path_username(path)?;
    let (mut tx, _, role, _) = lock_user(&store, &auth, &username).await?;
    if role == Role::Admin {
        keep_an_admin(&mut tx, &auth, &username).await?;
    }
    for sql in [
        "DELETE FROM sessions WHERE username = $1",
        "DELETE FROM login_failures WHERE username = $1",
        "DELETE FROM password_resets WHERE username = $1",
    ] {
        sqlx::query(sql).bind(&username).execute(&mut *tx).await?;
    }
    sqlx::query("DELETE FROM users WHERE username = $1 AND site = $2")
        .bind(&username)
        .bind(auth.site.to_string())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
