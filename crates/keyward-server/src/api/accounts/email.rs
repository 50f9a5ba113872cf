//! An account's e-mail address: a person sets their own, an admin a user's of their site.
//! Checked by [`checked_email`](crate::mail::checked_email); an empty one removes it.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use keyward_core::sync::{EmailAddress, EmailChange};
use keyward_core::Action;

use super::{no_such_user, path_username, Auth};
use crate::api::{ApiError, ApiJson};
use crate::mail::checked_email;
use crate::store::Store;

/// `GET /api/email`: the caller's own address.
pub async fn own_email(
    State(store): State<Store>,
    auth: Auth,
) -> Result<Json<EmailAddress>, ApiError> {
    let email: Option<String> = sqlx::query_scalar("SELECT email FROM users WHERE username = $1")
        .bind(&auth.username)
        .fetch_optional(store.pool())
        .await?
        .flatten();
    Ok(Json(EmailAddress { email }))
}

/// `PUT /api/email` `{email}`: sets (or, empty, removes) the caller's own address.
pub async fn set_own_email(
    State(store): State<Store>,
    auth: Auth,
    ApiJson(req): ApiJson<EmailChange>,
) -> Result<Json<EmailAddress>, ApiError> {
    let email = checked_email(&req.email)?;
    sqlx::query("UPDATE users SET email = $1 WHERE username = $2")
        .bind(email.as_deref())
        .bind(&auth.username)
        .execute(store.pool())
        .await?;
    Ok(Json(EmailAddress { email }))
}

/// `PUT /api/users/{username}/email` `{email}`: an admin sets a user's address; 404 for a
/// user of another site.
pub async fn set_user_email(
    State(store): State<Store>,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
    ApiJson(req): ApiJson<EmailChange>,
) -> Result<Json<EmailAddress>, ApiError> {
    auth.may(Action::ManageUsers)?;
    let username = path_username(path)?;
    let email = checked_email(&req.email)?;
    let updated = sqlx::query("UPDATE users SET email = $1 WHERE username = $2 AND site = $3")
        .bind(email.as_deref())
        .bind(&username)
        .bind(auth.site.to_string())
        .execute(store.pool())
        .await?;
    if updated.rows_affected() == 0 {
        return Err(no_such_user(&username));
    }
    Ok(Json(EmailAddress { email }))
}
