//! Sites, users, sign-in, sessions and passwords.
//!
//! - **Usernames** are unique on the whole server, compared trimmed and in lower case, at
//!   most [`USERNAME_MAX_CHARS`] characters with no control characters. Every username a
//!   request carries (body or path) is checked before anything is hashed or stored, so a NUL
//!   never reaches PostgreSQL.
//! - **Passwords** are kept as argon2 hashes. Every hash and verify goes through one queue
//!   ([`limits::HashQueue`]): `hash_concurrency` at once, at most `hash_queue_len` waiting for
//!   at most `hash_queue_wait`, else 503 "busy" with `Retry-After`. A new password follows
//!   [`passwords`]' rule (length, and zxcvbn score 3 with the person's own words).
//! - **Failed sign-ins** are recorded before the password is checked ([`limits`]): refused
//!   with 429 when, within `failure_window`, the (username, address) pair, the address or the
//!   username from every address has reached its limit. One address cannot lock a user out
//!   for people at other addresses. The records live in the database, so every server process
//!   shares them.
//! - **Sessions** ([`sessions`]): a token is 32 random bytes in hex; only its SHA-256 is
//!   stored. Each session also has a public random id (to list and end it) and a last-used
//!   time; one unused for `session_idle` ends. A person lists and ends their own sessions; an
//!   admin those of their site's users (the lost phone).
//! - **Registration is closed** ([`setup_code`]): a new site needs a set-up code that the
//!   server's operator was given, checked before anything else is looked at.
//! - A user's role is read from the database on every request (sessions hold no role), so an
//!   admin's change of role counts from the user's next request; removing a user or resetting
//!   their password ends all their sessions. A site always keeps at least one admin.
//! - Nothing answers differently for a username or site that exists and one that does not,
//!   to anyone but an admin (whose usernames are the server's to hand out) or the holder of a
//!   set-up code.

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::StatusCode;
use keyward_core::sync::{Session, USERNAME_MAX_CHARS};
use keyward_core::{Action, DeviceId, Role, SiteId};
use sha2::{Digest, Sha256};

use super::ApiError;
use crate::store::Store;

pub mod email;
pub mod limits;
pub mod passwords;
pub mod reset;
pub mod sessions;
pub mod setup_code;
pub mod sign_in;
pub mod sites;
pub mod users;

pub use limits::{HashQueue, SignInGuards};
pub use sessions::authenticate;
pub use setup_code::{issue_setup_code, SetupCodeError};

/// The longest name of a person or a site.
const MAX_NAME: usize = 200;

/// Refused when a change would leave a site with no admin.
pub const LAST_ADMIN: &str = "A site needs at least one admin. Make someone else admin first.";

/// Who a request's session belongs to.
#[derive(Clone, Debug)]
pub struct Auth {
    /// The bearer token, when the request carried one (not for a stream opened by ticket).
    pub token: String,
    /// The session's public id.
    pub session_id: String,
    pub username: String,
    pub name: String,
    pub role: Role,
    pub site: SiteId,
    pub site_name: String,
    /// The device the session was opened on: the only one whose changes it may push.
    pub device: DeviceId,
}

impl Auth {
    pub(crate) fn session(&self) -> Session {
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

/// The SHA-256 of a secret (token, ticket), in hex: all the database keeps.
pub(crate) fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.to_ascii_lowercase().as_bytes()))
}

/// `bytes` random bytes in lower-case hex.
pub(crate) fn random_hex(bytes: usize) -> Result<String, ApiError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| ApiError::internal(format!("no randomness: {e}")))?;
    Ok(hex::encode(buf))
}

/// Whether `text` is `len` hex digits (a token, ticket or session id as we make them).
pub(crate) fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// How usernames are compared and stored.
pub fn normalise_username(username: &str) -> String {
    username.trim().to_lowercase()
}

/// A username as a request gives it, checked and normalised: 400 when it is too long or has
/// a control character (checked before anything is hashed, stored or looked up).
pub fn checked_username(username: &str) -> Result<String, ApiError> {
    let trimmed = username.trim();
    if trimmed.chars().count() > USERNAME_MAX_CHARS {
        return Err(ApiError::bad_request(format!(
            "That username is too long: a username has at most {USERNAME_MAX_CHARS} characters."
        )));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "That username has a character that cannot be typed (such as a tab). Remove it and try again.",
        ));
    }
    Ok(trimmed.to_lowercase())
}

/// Collapses runs of whitespace and trims.
pub(crate) fn tidy(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A person's or site's name, tidied; 400 when empty, too long or with control characters.
pub(crate) fn checked_name(text: &str, what: Name) -> Result<String, ApiError> {
    let name = tidy(text);
    let (empty, long, control) = match what {
        Name::Person => (
            "Enter the person's name.",
            format!("Shorten the name to at most {MAX_NAME} characters."),
            "The name has a character that cannot be typed (such as a tab). Remove it and try again.",
        ),
        Name::Site => (
            "Enter the site's name.",
            format!("Shorten the site's name to at most {MAX_NAME} characters."),
            "The site's name has a character that cannot be typed (such as a tab). Remove it and try again.",
        ),
    };
    if name.is_empty() {
        return Err(ApiError::bad_request(empty));
    }
    if name.chars().count() > MAX_NAME {
        return Err(ApiError::bad_request(long));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(control));
    }
    Ok(name)
}

/// Which name [`checked_name`] checks, for its messages.
#[derive(Clone, Copy)]
pub(crate) enum Name {
    Person,
    Site,
}

/// A new account's username (normalised, not empty), or 400.
pub(crate) fn new_username(username: &str) -> Result<String, ApiError> {
    let username = checked_username(username)?;
    if username.is_empty() {
        return Err(ApiError::bad_request("Choose a username."));
    }
    Ok(username)
}

pub(crate) fn username_taken(username: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        format!("The username \"{username}\" is taken. Choose another one."),
    )
}

/// 409 if `username` is taken anywhere on the server (usernames are server-wide).
pub(crate) async fn username_free(store: &Store, username: &str) -> Result<(), ApiError> {
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

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

pub(crate) fn parse_role(role: &str) -> Result<Role, ApiError> {
    Role::parse(role).ok_or_else(|| ApiError::internal(format!("unknown role {role:?}")))
}

pub(crate) fn parse_site(site: &str) -> Result<SiteId, ApiError> {
    SiteId::parse(site).ok_or_else(|| ApiError::internal(format!("bad site id {site:?}")))
}

pub(crate) fn no_such_user(username: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("There is no user called \u{201c}{username}\u{201d} at this site."),
    )
}

/// The username of a `/api/users/{username}…` path, checked and normalised.
pub(crate) fn path_username(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    let Path(username) = path.map_err(|e| {
        ApiError::bad_request(format!(
            "The server could not read that request ({}). Update the app and try again.",
            e.body_text()
        ))
    })?;
    checked_username(&username)
}

/// The client's address, as failed sign-ins are counted by it: the connection's peer
/// (axum's `ConnectInfo<SocketAddr>` in the request's extensions, present when the server is
/// served with `into_make_service_with_connect_info`), or "unknown" without it. An IPv6
/// address counts by its /64, the block one subscriber is usually given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub String);

impl ClientAddr {
    pub fn of(addr: &SocketAddr) -> ClientAddr {
        let ip = match addr.ip() {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let s = v6.segments();
                    return ClientAddr(format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]));
                }
            },
            v4 => v4,
        };
        ClientAddr(ip.to_string())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| ClientAddr::of(addr))
            .unwrap_or_else(|| ClientAddr("unknown".into())))
    }
}

#[cfg(test)]
mod tests {
    use super::ClientAddr;

    #[test]
    fn addresses_are_keyed_by_ip_and_ipv6_by_its_64() {
        let key = |text: &str| ClientAddr::of(&text.parse().unwrap()).0;
        assert_eq!(key("192.0.2.7:5000"), "192.0.2.7");
        assert_eq!(key("[::ffff:192.0.2.7]:5000"), "192.0.2.7");
        assert_eq!(key("[2001:db8:1:2:aaaa::1]:443"), "2001:db8:1:2::/64");
        assert_eq!(key("[2001:db8:1:2:bbbb::9]:80"), "2001:db8:1:2::/64");
        assert_ne!(key("[2001:db8:1:3::1]:80"), key("[2001:db8:1:2::1]:80"));
    }
}
