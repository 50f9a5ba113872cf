//! Sites, users and sign-in.
//!
//! - A username is unique on the whole server and compared trimmed and in lower case.
//! - Passwords are kept as argon2 hashes (default parameters), hashed off the async threads.
//! - A session token is 32 random bytes in hex; only its SHA-256 is stored. Sessions last
//!   until sign-out: devices work offline for weeks.
//! - After [`MAX_FAILURES`] failed sign-ins for a username within [`FAILURE_WINDOW_MS`], sign-in
//!   answers 429 until the oldest of them leaves the window. The count lives in the database,
//!   so every server process sees the same one.
//! - A user's role is read from the database on every request (sessions hold no role), so an
//!   admin's change of role counts from the user's next request; removing a user ends all
//!   their sessions. A site always keeps at least one admin.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use keyward_core::sync::{Login, NewSite, NewUser, RoleChange, Session, User};
use keyward_core::{Action, DeviceId, Role, SiteId};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{now_ms, ApiError, ApiJson};
use crate::store::Store;

/// Failed sign-ins allowed for one username within the window.
pub const MAX_FAILURES: usize = 5;
/// The rate limit's window: 15 minutes.
pub const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;
pub const MIN_PASSWORD: usize = 8;
const MAX_PASSWORD: usize = 256;
const MAX_USERNAME: usize = 64;
const MAX_NAME: usize = 200;

/// Refused when a change would leave a site with no admin.
pub const LAST_ADMIN: &str = "A site needs at least one admin. Make someone else admin first.";

const WRONG_PASSWORD: &str =
    "That username and password do not match. Check them, or ask your site's admin.";

/// Who a request's token belongs to.
#[derive(Clone, Debug)]
pub struct Auth {
    pub token: String,
    pub username: String,
    pub name: String,
    pub role: Role,
    pub site: SiteId,
    pub site_name: String,
    /// The device the session was opened on (pushes name their own device).
    pub device: String,
}

impl Auth {
    fn session(&self) -> Session {
        Session {
            token: self.token.clone(),
            username: self.username.clone(),
            name: self.name.clone(),
            role: self.role,
            site: self.site,
            site_name: self.site_name.clone(),
        }
    }

    /// `Ok` if the role may, else 403 with the role table's sentence.
    pub fn may(&self, action: Action) -> Result<(), ApiError> {
        self.role
            .check(action)
            .map_err(|m| ApiError::new(StatusCode::FORBIDDEN, m))
    }
}

/// The user behind `token`, or 401.
pub async fn authenticate(store: &Store, token: &str) -> Result<Auth, ApiError> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::signed_out());
    }
    let row = sqlx::query(
        "SELECT u.username, u.name, u.role, u.site, s.name AS site_name, x.device \
         FROM sessions x JOIN users u ON u.username = x.username JOIN sites s ON s.id = u.site \
         WHERE x.token_hash = $1",
    )
    .bind(token_hash(token))
    .fetch_optional(store.pool())
    .await?
    .ok_or_else(ApiError::signed_out)?;
    let role: String = row.try_get("role")?;
    let site: String = row.try_get("site")?;
    Ok(Auth {
        token: token.to_string(),
        username: row.try_get("username")?,
        name: row.try_get("name")?,
        role: Role::parse(&role)
            .ok_or_else(|| ApiError::internal(format!("unknown role {role:?}")))?,
        site: SiteId::parse(&site)
            .ok_or_else(|| ApiError::internal(format!("bad site id {site:?}")))?,
        site_name: row.try_get("site_name")?,
        device: row.try_get("device")?,
    })
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.to_ascii_lowercase().as_bytes()))
}

fn new_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(format!("no randomness: {e}")))?;
    Ok(hex::encode(bytes))
}

/// How usernames are compared and stored.
pub fn normalise_username(username: &str) -> String {
    username.trim().to_lowercase()
}

/// Collapses runs of whitespace and trims.
fn tidy(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn hash_password(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| format!("no randomness: {e}"))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| ApiError::internal(format!("hashing a password: {e}")))
}

/// Checks `password` against `hash`; with no user, against a dummy so the time taken does
/// not tell whether the username exists.
async fn verify_password(password: String, hash: Option<String>) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || {
        static DUMMY: OnceLock<String> = OnceLock::new();
        let (hash, real) = match hash {
            Some(h) => (h, true),
            None => {
                let dummy = DUMMY.get_or_init(|| {
                    let salt = SaltString::encode_b64(b"keyward-no-user!").expect("16 bytes");
                    Argon2::default()
                        .hash_password(b"no such user", &salt)
                        .map(|h| h.to_string())
                        .unwrap_or_default()
                });
                (dummy.clone(), false)
            }
        };
        let ok = PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        ok && real
    })
    .await
    .map_err(ApiError::internal)
}

/// Checks a new account's fields; returns the normalised username and tidied name.
fn check_account(username: &str, name: &str, password: &str) -> Result<(String, String), ApiError> {
    let username = normalise_username(username);
    let name = tidy(name);
    if username.is_empty() {
        return Err(ApiError::bad_request("Choose a username."));
    }
    if username.chars().count() > MAX_USERNAME {
        return Err(ApiError::bad_request(format!(
            "Choose a username of at most {MAX_USERNAME} characters."
        )));
    }
    if name.is_empty() {
        return Err(ApiError::bad_request("Enter the person's name."));
    }
    if name.chars().count() > MAX_NAME {
        return Err(ApiError::bad_request(format!(
            "Shorten the name to at most {MAX_NAME} characters."
        )));
    }
    let length = password.chars().count();
    if length < MIN_PASSWORD {
        return Err(ApiError::bad_request(format!(
            "Choose a password of at least {MIN_PASSWORD} characters."
        )));
    }
    if length > MAX_PASSWORD {
        return Err(ApiError::bad_request(format!(
            "Choose a password of at most {MAX_PASSWORD} characters."
        )));
    }
    Ok((username, name))
}

fn username_taken(username: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        format!("The username \"{username}\" is taken. Choose another one."),
    )
}

async fn username_free(store: &Store, username: &str) -> Result<(), ApiError> {
    let taken = sqlx::query("SELECT 1 FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(store.pool())
        .await?
        .is_some();
    if taken {
        Err(username_taken(username))
    } else {
        Ok(())
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Opens a session for `username` on `device`; returns the token.
async fn open_session<'c, E>(
    executor: E,
    username: &str,
    device: DeviceId,
) -> Result<String, ApiError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let token = new_token()?;
    sqlx::query(
        "INSERT INTO sessions (token_hash, username, device, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash(&token))
    .bind(username)
    .bind(device.to_string())
    .bind(now_ms())
    .execute(executor)
    .await?;
    Ok(token)
}

/// `POST /api/sites`: a new site with its first admin, signed in on `device`.
pub async fn register_site(
    State(store): State<Store>,
    ApiJson(req): ApiJson<NewSite>,
) -> Result<(StatusCode, Json<Session>), ApiError> {
    let site_name = tidy(&req.site_name);
    if site_name.is_empty() {
        return Err(ApiError::bad_request("Enter the site's name."));
    }
    if site_name.chars().count() > MAX_NAME {
        return Err(ApiError::bad_request(format!(
            "Shorten the site's name to at most {MAX_NAME} characters."
        )));
    }
    let (username, name) = check_account(&req.username, &req.name, &req.password)?;
    let site_taken = || {
        ApiError::new(
            StatusCode::CONFLICT,
            "This site is already registered on the server. Sign in to it, or ask its admin for an account.",
        )
    };
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
    let hash = hash_password(req.password).await?;

    let mut tx = store.pool().begin().await?;
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

/// `POST /api/login`.
pub async fn login(
    State(store): State<Store>,
    ApiJson(req): ApiJson<Login>,
) -> Result<Json<Session>, ApiError> {
    let username = normalise_username(&req.username);
    let now = now_ms();
    let recent: Vec<i64> = sqlx::query_scalar(
        "SELECT at FROM login_failures WHERE username = $1 AND at > $2 ORDER BY at DESC LIMIT 5",
    )
    .bind(&username)
    .bind(now - FAILURE_WINDOW_MS)
    .fetch_all(store.pool())
    .await?;
    if recent.len() >= MAX_FAILURES {
        let oldest = recent[MAX_FAILURES - 1];
        let wait_ms = (oldest + FAILURE_WINDOW_MS - now).max(1);
        let minutes = (wait_ms + 59_999) / 60_000;
        let unit = if minutes == 1 { "minute" } else { "minutes" };
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many wrong passwords for this username. Wait {minutes} {unit}, then try again, or ask your site's admin."
            ),
        ));
    }
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
    let matches = verify_password(req.password, hash).await?;
    let Some(row) = user.filter(|_| matches) else {
        sqlx::query("INSERT INTO login_failures (username, at) VALUES ($1, $2)")
            .bind(&username)
            .bind(now)
            .execute(store.pool())
            .await?;
        sqlx::query("DELETE FROM login_failures WHERE at <= $1")
            .bind(now - FAILURE_WINDOW_MS)
            .execute(store.pool())
            .await?;
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, WRONG_PASSWORD));
    };
    sqlx::query("DELETE FROM login_failures WHERE username = $1")
        .bind(&username)
        .execute(store.pool())
        .await?;
    let role: String = row.try_get("role")?;
    let site: String = row.try_get("site")?;
    let token = open_session(store.pool(), &username, req.device).await?;
    Ok(Json(Session {
        token,
        username,
        name: row.try_get("name")?,
        role: Role::parse(&role)
            .ok_or_else(|| ApiError::internal(format!("unknown role {role:?}")))?,
        site: SiteId::parse(&site)
            .ok_or_else(|| ApiError::internal(format!("bad site id {site:?}")))?,
        site_name: row.try_get("site_name")?,
    }))
}

/// `POST /api/logout`: ends this token's session.
pub async fn logout(State(store): State<Store>, auth: Auth) -> Result<StatusCode, ApiError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash(&auth.token))
        .execute(store.pool())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/me`.
pub async fn me(auth: Auth) -> Json<Session> {
    Json(auth.session())
}

/// `GET /api/users`: the site's users, by username.
pub async fn users(State(store): State<Store>, auth: Auth) -> Result<Json<Vec<User>>, ApiError> {
    auth.may(Action::ManageUsers)?;
    let rows =
        sqlx::query("SELECT username, name, role FROM users WHERE site = $1 ORDER BY username")
            .bind(auth.site.to_string())
            .fetch_all(store.pool())
            .await?;
    let mut users = Vec::with_capacity(rows.len());
    for row in rows {
        let role: String = row.try_get("role")?;
        users.push(User {
            username: row.try_get("username")?,
            name: row.try_get("name")?,
            role: Role::parse(&role)
                .ok_or_else(|| ApiError::internal(format!("unknown role {role:?}")))?,
        });
    }
    Ok(Json(users))
}

/// `POST /api/users`: adds a user to the admin's site.
pub async fn add_user(
    State(store): State<Store>,
    auth: Auth,
    ApiJson(req): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    auth.may(Action::ManageUsers)?;
    let (username, name) = check_account(&req.username, &req.name, &req.password)?;
    username_free(&store, &username).await?;
    let hash = hash_password(req.password).await?;
    let inserted = sqlx::query(
        "INSERT INTO users (username, site, name, role, password_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&username)
    .bind(auth.site.to_string())
    .bind(&name)
    .bind(req.role.as_str())
    .bind(&hash)
    .bind(now_ms())
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
        }),
    ))
}

fn no_such_user(username: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("There is no user called \u{201c}{username}\u{201d} at this site."),
    )
}

/// The username of a `/api/users/{username}` path, normalised.
fn path_username(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    let Path(username) = path.map_err(|e| {
        ApiError::bad_request(format!(
            "The server could not read that request ({}). Update the app and try again.",
            e.body_text()
        ))
    })?;
    Ok(normalise_username(&username))
}

/// Opens a transaction holding the site's lock (as a push does), so changes to a site's users
/// are serialised across server processes and with pushes; returns the user's name and role
/// at the admin's site, or 404.
async fn lock_user(
    store: &Store,
    auth: &Auth,
    username: &str,
) -> Result<(sqlx::Transaction<'static, sqlx::Any>, String, Role), ApiError> {
    let site = auth.site.to_string();
    let mut tx = store.pool().begin().await?;
    sqlx::query("UPDATE sites SET head = head WHERE id = $1")
        .bind(&site)
        .execute(&mut *tx)
        .await?;
    let row = sqlx::query("SELECT name, role FROM users WHERE username = $1 AND site = $2")
        .bind(username)
        .bind(&site)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| no_such_user(username))?;
    let role: String = row.try_get("role")?;
    let role =
        Role::parse(&role).ok_or_else(|| ApiError::internal(format!("unknown role {role:?}")))?;
    Ok((tx, row.try_get("name")?, role))
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
    let (mut tx, name, role) = lock_user(&store, &auth, &username).await?;
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
    let (mut tx, _, role) = lock_user(&store, &auth, &username).await?;
    if role == Role::Admin {
        keep_an_admin(&mut tx, &auth, &username).await?;
    }
    for sql in [
        "DELETE FROM sessions WHERE username = $1",
        "DELETE FROM login_failures WHERE username = $1",
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
