//! "Forgot your password?": a one-time link by e-mail, and the note a person gets when an
//! admin sets their password.
//!
//! - `GET /api/mail` says whether the server sends mail; the sign-in form offers the link
//!   only then.
//! - `POST /api/password-reset` `{username}` answers 202 alike whether the account exists,
//!   has an address or not, so nobody learns who has an account. It is counted like a
//!   sign-in ([`limits::begin`], under the name `reset:<username>`, so it never locks anyone
//!   out of signing in). When the account has an address, a token of 32 random bytes is made;
//!   only its SHA-256 is kept, one per account (a new one replaces the old), valid for
//!   [`RESET_VALID`]; the link `<public-url>/reset#token=…` is mailed. The token is after `#`,
//!   so the browser never sends it to the server or a proxy's logs when the link is opened.
//! - `POST /api/password-reset/complete` `{token, password}` sets the new password through
//!   the password rule, uses the token up and ends every session of the account.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use keyward_core::sync::{MailStatus, ResetComplete, ResetRequest};
use sqlx::Row;

use super::limits::{self, ms};
use super::passwords::{check_new_password, checked_password};
use super::{checked_username, is_hex, random_hex, secret_hash, ClientAddr};
use crate::api::{now_ms, ApiError, ApiJson};
use crate::mail::{local, queue, Mail, Mailer};
use crate::store::Store;

/// How long a reset link works.
pub const RESET_VALID: Duration = Duration::from_secs(60 * 60);

/// Said for a token that is wrong, used or expired, alike.
pub const LINK_USED: &str = "This link to set a new password has expired or has been used. Ask for a new one with \u{201c}Forgot your password?\u{201d} on the sign-in screen.";

const NO_MAIL: &str = "This Keyward server does not send e-mail, so it cannot send a link. Ask your site's admin to set a new password for you.";

/// `GET /api/mail`.
pub async fn mail_status(State(store): State<Store>) -> Json<MailStatus> {
    Json(MailStatus {
        configured: store.mail().is_some(),
    })
}

/// `POST /api/password-reset` `{username}`: 202 whatever the account (see the module).
pub async fn request_reset(
    State(store): State<Store>,
    address: ClientAddr,
    ApiJson(req): ApiJson<ResetRequest>,
) -> Result<StatusCode, ApiError> {
    let Some(mailer) = store.mail().cloned() else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, NO_MAIL));
    };
    let username = checked_username(&req.username)?;
    if username.is_empty() {
        return Err(ApiError::bad_request("Enter your username."));
    }
    let attempt = limits::begin(&store, &format!("reset:{username}"), &address)
        .await
        .map_err(|mut e| {
            e.message = e
                .message
                .replacen(
                    "Too many wrong passwords",
                    "Too many requests for a new password",
                    1,
                )
                .into();
            e
        })?;
    // Recorded and kept, whatever happens next: every request counts.
    attempt.failed();
    let row = sqlx::query(
        "SELECT u.name, u.email, s.name AS site_name FROM users u JOIN sites s ON s.id = u.site \
         WHERE u.username = $1",
    )
    .bind(&username)
    .fetch_optional(store.pool())
    .await?;
    let now = now_ms();
    let mut tx = store.pool().begin().await?;
    // Expired links go whenever anyone asks; at most one per account is ever kept.
    sqlx::query("DELETE FROM password_resets WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let mut queued = 0;
    if let Some(row) = row {
        let email: Option<String> = row.try_get("email")?;
        if let Some(email) = email {
            let name: String = row.try_get("name")?;
            let site: String = row.try_get("site_name")?;
            let token = random_hex(32)?;
            sqlx::query("DELETE FROM password_resets WHERE username = $1")
                .bind(&username)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO password_resets (username, token_hash, expires_at) VALUES ($1, $2, $3)",
            )
            .bind(&username)
            .bind(secret_hash(&token))
            .bind(now + ms(RESET_VALID))
            .execute(&mut *tx)
            .await?;
            let mail = reset_link_mail(&mailer, email, &name, &username, &site, &token);
            queued = queue(&mut tx, &mailer, &[mail]).await?;
        }
    }
    tx.commit().await?;
    if queued > 0 {
        mailer.wake();
    }
    Ok(StatusCode::ACCEPTED)
}

fn reset_link_mail(
    mailer: &Mailer,
    to: String,
    name: &str,
    username: &str,
    site: &str,
    token: &str,
) -> Mail {
    let minutes = RESET_VALID.as_secs() / 60;
    Mail {
        to,
        subject: "Set a new Keyward password".into(),
        body: format!(
            "Hello {name},\n\n\
             Someone asked for a new password for your Keyward account \"{username}\" at \
             {site}. If it was you, open this link within {minutes} minutes to set one; it \
             works once:\n\n{}\n\n\
             Setting a new password signs you out on every device; sign in again with the \
             new one.\n\n\
             If you did not ask, do nothing: your password stays as it is. If it happens \
             again, tell your site's admin.\n",
            mailer.link(&format!("/reset#token={token}"))
        ),
    }
}

/// `POST /api/password-reset/complete` `{token, password}`: 204, the password is set and
/// every session of the account ends; 400 for a link used or expired (checked first) or a
/// password the rule refuses (the link still works then).
pub async fn complete_reset(
    State(store): State<Store>,
    ApiJson(req): ApiJson<ResetComplete>,
) -> Result<StatusCode, ApiError> {
    let token = req.token.trim();
    if !is_hex(token, 64) {
        return Err(ApiError::bad_request(LINK_USED));
    }
    checked_password(&req.password)?;
    let token_hash = secret_hash(token);
    let row = sqlx::query(
        "SELECT r.username, u.name, s.name AS site_name FROM password_resets r \
         JOIN users u ON u.username = r.username JOIN sites s ON s.id = u.site \
         WHERE r.token_hash = $1 AND r.expires_at > $2",
    )
    .bind(&token_hash)
    .bind(now_ms())
    .fetch_optional(store.pool())
    .await?
    .ok_or_else(|| ApiError::bad_request(LINK_USED))?;
    let username: String = row.try_get("username")?;
    let name: String = row.try_get("name")?;
    let site: String = row.try_get("site_name")?;
    check_new_password(&req.password, &[&username, &name, &site])?;
    let hash = store.sign_in_guards().hashing().hash(req.password).await?;
    let mut tx = store.pool().begin().await?;
    // Used up first: of two requests with one token, only one gets past this.
    let used = sqlx::query(
        "DELETE FROM password_resets WHERE token_hash = $1 AND username = $2 AND expires_at > $3",
    )
    .bind(&token_hash)
    .bind(&username)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    if used.rows_affected() != 1 {
        return Err(ApiError::bad_request(LINK_USED));
    }
    sqlx::query("UPDATE users SET password_hash = $1 WHERE username = $2")
        .bind(&hash)
        .bind(&username)
        .execute(&mut *tx)
        .await?;
    for sql in [
        "DELETE FROM sessions WHERE username = $1",
        "DELETE FROM login_failures WHERE username = $1",
    ] {
        sqlx::query(sql).bind(&username).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Inside an admin's reset of `username`'s password (their transaction): queues a note to the
/// person, when mail is set up and they have an address. Returns the mailer to wake after
/// committing.
pub(crate) async fn admin_reset_note(
    tx: &mut sqlx::AnyConnection,
    store: &Store,
    username: &str,
    admin: &str,
) -> Result<Option<std::sync::Arc<Mailer>>, ApiError> {
    let Some(mailer) = store.mail().cloned() else {
        return Ok(None);
    };
    let row = sqlx::query(
        "SELECT u.name, u.email, s.name AS site_name FROM users u JOIN sites s ON s.id = u.site \
         WHERE u.username = $1",
    )
    .bind(username)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let Some(email) = row.try_get::<Option<String>, _>("email")? else {
        return Ok(None);
    };
    let name: String = row.try_get("name")?;
    let site: String = row.try_get("site_name")?;
    let mail = Mail {
        to: email,
        subject: "Your Keyward password was changed".into(),
        body: format!(
            "Hello {name},\n\n\
             {admin}, an admin of {site}, set a new password for your Keyward account \
             \"{username}\" on {}. You are signed out on every device: ask {admin} for the \
             new password, then sign in and change it to one of your own.\n\n\
             If you did not expect this, tell your site's admin.\n",
            local(chrono::Utc::now())
        ),
    };
    let queued = queue(tx, &mailer, &[mail]).await?;
    Ok((queued > 0).then_some(mailer))
}
