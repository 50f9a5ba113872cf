//! The password rule, and changing and resetting passwords.
//!
//! **The rule** follows the NCSC's password guidance: length over complexity, no forced
//! mixtures of symbols, and no passwords that are common or easy to guess. A new password
//! (a new site's admin, a new user, a change, a reset) needs
//!
//! - at least [`PASSWORD_MIN_CHARS`] characters, at least [`PASSWORD_MIN_NON_SPACE`] of them
//!   not spaces, and at most [`PASSWORD_MAX_CHARS`], with no control characters; and
//! - a zxcvbn score of at least [`PASSWORD_MIN_SCORE`] (more than 10⁸ guesses), where the
//!   username, the person's name, the site's name and "keyward" count as words an attacker
//!   tries first; and
//! - at least 6 letters or digits besides the words of the username, name and site's name.
//!
//! So "three random words" pass, and "password", "password123", "keyward2026", eight spaces,
//! or the username or site's name repeated do not. The wording is
//! [`PASSWORD_RULE`](keyward_core::sync::PASSWORD_RULE), shared with the app; the check
//! stays here (the app does not carry zxcvbn's dictionaries).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use keyward_core::sync::{
    PasswordChange, PasswordReset, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS, PASSWORD_MIN_NON_SPACE,
    PASSWORD_MIN_SCORE,
};
use keyward_core::Action;
use sqlx::Row;

use super::limits;
use super::{no_such_user, path_username, Auth, ClientAddr};
use crate::api::{ApiError, ApiJson};
use crate::store::Store;

const TRY_WORDS: &str =
    "three or four random words work well, like \u{2018}orange cloud ladder\u{2019}.";

/// Said when the current password given to change it is wrong.
pub const WRONG_CURRENT: &str =
    "That is not your current password. Check it and try again, or ask your site's admin to reset it.";

/// Letters or digits a new password must have besides the person's own words (username,
/// name, site's name): zxcvbn alone lets "Pat Caretaker 2026" through.
const OWN_WORDS_REST: usize = 6;

/// The letters and digits of `password` left once the words (3 letters or more) of
/// `own_words` are taken out, ignoring case.
fn rest_without(password: &str, own_words: &[&str]) -> usize {
    let mut rest = password.to_lowercase();
    let mut words: Vec<String> = own_words
        .iter()
        .flat_map(|w| w.split(|c: char| !c.is_alphanumeric()))
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .collect();
    words.sort_by_key(|w| std::cmp::Reverse(w.len()));
    for word in &words {
        rest = rest.replace(word.as_str(), " ");
    }
    rest.chars().filter(|c| c.is_alphanumeric()).count()
}

/// A password as a sign-in gives it: 400 when it is too long or has a control character.
pub(crate) fn checked_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() > PASSWORD_MAX_CHARS {
        return Err(ApiError::bad_request(format!(
            "That password is too long: a password has at most {PASSWORD_MAX_CHARS} characters."
        )));
    }
    if password.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "That password has a character that cannot be typed (such as a tab). Remove it and try again.",
        ));
    }
    Ok(())
}

/// Checks a new password against the rule, with the words of the person and site it is for.
pub fn check_new_password(password: &str, own_words: &[&str]) -> Result<(), ApiError> {
    checked_password(password)?;
    let length = password.chars().count();
    let solid = password.chars().filter(|c| !c.is_whitespace()).count();
    if length < PASSWORD_MIN_CHARS || solid < PASSWORD_MIN_NON_SPACE {
        return Err(ApiError::bad_request(format!(
            "Choose a longer password, of at least {PASSWORD_MIN_CHARS} characters: {TRY_WORDS}"
        )));
    }
    let mut inputs: Vec<&str> = vec!["keyward", "locker", "lockers", "keys"];
    for word in own_words {
        inputs.push(word);
        inputs.extend(
            word.split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.len() > 2),
        );
    }
    let score = u8::from(zxcvbn::zxcvbn(password, &inputs).score());
    if score < PASSWORD_MIN_SCORE || rest_without(password, own_words) < OWN_WORDS_REST {
        return Err(ApiError::bad_request(format!(
            "Choose a password that is harder to guess: {TRY_WORDS} Avoid common passwords and your name, username or site\u{2019}s name."
        )));
    }
    Ok(())
}

/// `PUT /api/password` `{current, new}`: a person changes their own password. Counted like a
/// sign-in (a stolen session must not guess the password freely); ends their other sessions
/// and keeps this one.
pub async fn change_password(
    State(store): State<Store>,
    auth: Auth,
    address: ClientAddr,
    ApiJson(req): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    checked_password(&req.current)?;
    check_new_password(&req.new, &[&auth.username, &auth.name, &auth.site_name])?;
    let attempt = limits::begin(&store, &auth.username, &address).await?;
    let hash: Option<String> =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE username = $1")
            .bind(&auth.username)
            .fetch_optional(store.pool())
            .await?;
    let queue = store.sign_in_guards().hashing();
    let right = match queue.verify(req.current, hash).await {
        Ok(right) => right,
        Err(busy) => {
            attempt.withdraw().await;
            return Err(busy);
        }
    };
    if !right {
        attempt.failed();
        return Err(ApiError::new(StatusCode::FORBIDDEN, WRONG_CURRENT));
    }
    attempt.succeeded().await?;
    let hash = queue.hash(req.new).await?;
    let mut tx = store.pool().begin().await?;
    sqlx::query("UPDATE users SET password_hash = $1 WHERE username = $2")
        .bind(&hash)
        .bind(&auth.username)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE username = $1 AND id <> $2")
        .bind(&auth.username)
        .bind(&auth.session_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/users/{username}/password` `{password}`: an admin sets the password of a user of
/// their site (a forgotten password); every session of that user ends.
pub async fn reset_password(
    State(store): State<Store>,
    auth: Auth,
    path: Result<Path<String>, PathRejection>,
    ApiJson(req): ApiJson<PasswordReset>,
) -> Result<StatusCode, ApiError> {
    auth.may(Action::ManageUsers)?;
    let username = path_username(path)?;
    let site = auth.site.to_string();
    let row = sqlx::query("SELECT name FROM users WHERE username = $1 AND site = $2")
        .bind(&username)
        .bind(&site)
        .fetch_optional(store.pool())
        .await?
        .ok_or_else(|| no_such_user(&username))?;
    let name: String = row.try_get("name")?;
    check_new_password(&req.password, &[&username, &name, &auth.site_name])?;
    let hash = store.sign_in_guards().hashing().hash(req.password).await?;
    let mut tx = store.pool().begin().await?;
    let updated =
        sqlx::query("UPDATE users SET password_hash = $1 WHERE username = $2 AND site = $3")
            .bind(&hash)
            .bind(&username)
            .bind(&site)
            .execute(&mut *tx)
            .await?;
    if updated.rows_affected() == 0 {
        return Err(no_such_user(&username));
    }
    for sql in [
        "DELETE FROM sessions WHERE username = $1",
        "DELETE FROM login_failures WHERE username = $1",
        "DELETE FROM password_resets WHERE username = $1",
    ] {
        sqlx::query(sql).bind(&username).execute(&mut *tx).await?;
    }
    let note = super::reset::admin_reset_note(&mut tx, &store, &username, &auth.name).await?;
    tx.commit().await?;
    if let Some(mailer) = note {
        mailer.wake();
    }
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::check_new_password;

    const OWN: [&str; 3] = ["pat-admin", "Pat Caretaker", "Northgate School"];

    #[test]
    fn three_random_words_pass() {
        for good in [
            "orange cloud ladder",
            "violet harbour tractor",
            "correct horse battery staple",
            "Tulip-Marble-Kettle-9",
        ] {
            assert!(check_new_password(good, &OWN).is_ok(), "{good}");
        }
    }

    #[test]
    fn short_common_and_own_words_fail() {
        for bad in [
            "password",
            "password123",
            "keyward2026",
            "        ",
            "          x",
            "pat-adminpat-admin",
            "Northgate SchoolNorthgate School",
            "northgate school 1",
            "Pat Caretaker 2026",
            "1234567890",
            "qwertyuiop",
            "aaaaaaaaaaaa",
            "iloveyou1234",
        ] {
            let refused = check_new_password(bad, &OWN).expect_err(bad);
            assert!(
                refused.message.starts_with("Choose a"),
                "{bad}: {}",
                refused.message
            );
        }
    }
}
