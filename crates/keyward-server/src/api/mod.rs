//! The JSON API under `/api`: sites and accounts ([`accounts`]), sync ([`sync`]) and the head
//! stream ([`stream`]).
//!
//! | request | answer |
//! | --- | --- |
//! | `POST /api/sites` [`NewSite`](keyward_core::sync::NewSite) `{site, site_name, username, name, password, device, setup_code}` | 201 [`Session`](keyward_core::sync::Session), the site's first admin; 403 set-up code wrong, used or expired (checked first); 400; 409 site or username taken; 503 busy |
//! | `POST /api/login` `{username, password, device}` | 200 `Session`; 400 username over 64 / password over 256 characters or control characters; 401 (unknown username alike); 429 too many failures; 503 busy |
//! | `POST /api/logout` | 204, this session ends |
//! | `GET /api/me` | `Session` for the token |
//! | `GET /api/sessions` | `Vec<`[`DeviceSession`](keyward_core::sync::DeviceSession)`>` the caller's own, `current` marks this one |
//! | `DELETE /api/sessions/{id}` | 204: one's own session, or (admins) one of a user of their site; 404 otherwise |
//! | `PUT /api/password` [`PasswordChange`](keyward_core::sync::PasswordChange) `{current, new}` | 204, the caller's other sessions end; 403 wrong current password; 400 rule; 429; 503 |
//! | `GET /api/users` / `POST /api/users` `{username, name, role, password}` | the site's users / 201 a new one (admins); 400 rule; 409 taken |
//! | `PUT /api/users/{username}` `{role}` | 200 the user with the new role (admins); 404 not at this site; 409 the last admin |
//! | `DELETE /api/users/{username}` | 204, the user and all their sessions are gone (admins); 404; 409 the last admin |
//! | `GET /api/users/{username}/sessions` | `Vec<DeviceSession>` of a user of the admin's site; 404 |
//! | `PUT /api/users/{username}/password` [`PasswordReset`](keyward_core::sync::PasswordReset) `{password}` | 204, all that user's sessions end (admins); 404; 400 rule |
//! | `GET /api/email` / `PUT /api/email` [`EmailChange`](keyward_core::sync::EmailChange) `{email}` | [`EmailAddress`](keyward_core::sync::EmailAddress) the caller's own; empty removes it; 400 says what is wrong |
//! | `PUT /api/users/{username}/email` `{email}` | `EmailAddress` of a user of the admin's site; 404; 400 |
//! | `GET /api/mail` | [`MailStatus`](keyward_core::sync::MailStatus) `{configured}`: whether the server sends e-mail |
//! | `POST /api/password-reset` `{username}` | 202 alike for every username (a link is mailed when the account has an address); 404 no mail set up; 400; 429 |
//! | `POST /api/password-reset/complete` `{token, password}` | 204, the password is set and all the account's sessions end; 400 link used or expired, or the rule; 503 |
//! | `POST /api/stream-ticket` | 201 [`StreamTicket`](keyward_core::sync::StreamTicket) `{ticket}`, single use, valid 60 s |
//! | `POST /api/push` [`PushRequest`](keyward_core::sync::PushRequest) | [`PushResponse`](keyward_core::sync::PushResponse) |
//! | `GET /api/pull?after=&since=&device=` | [`PullResponse`](keyward_core::sync::PullResponse) |
//! | `GET /api/stream?ticket=` | server-sent events: `event: head`, `data: <pos>`; 401 ticket used or expired |
//!
//! Every request but `sites`, `login`, `mail` and `password-reset` needs `Authorization: Bearer <token>`; the stream
//! takes a ticket instead (an `EventSource` cannot set headers, and a token never goes in a
//! URL: `?token=` is refused), or the header. Every error is
//! `{"error": "<sentence saying what to do>"}`, shown by the app as it is; 429 and 503 come
//! with `Retry-After`. Only 5xx answers are worth retrying: a change the server refuses is a
//! 200 with a rejected receipt.

use std::borrow::Cow;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::store::Store;

pub mod accounts;
pub mod stream;
pub mod sync;

/// The most a push's body may weigh: 500 changes with signatures fit easily.
const PUSH_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// The `/api/...` routes, with a JSON 404 for any other path under `/api`.
pub fn router(store: Store) -> Router {
    Router::new()
        .route("/api/sites", post(accounts::sites::register_site))
        .route("/api/login", post(accounts::sign_in::login))
        .route("/api/logout", post(accounts::sign_in::logout))
        .route("/api/me", get(accounts::sign_in::me))
        .route("/api/sessions", get(accounts::sessions::own_sessions))
        .route(
            "/api/sessions/{id}",
            delete(accounts::sessions::end_session),
        )
        .route("/api/password", put(accounts::passwords::change_password))
        .route(
            "/api/email",
            get(accounts::email::own_email).put(accounts::email::set_own_email),
        )
        .route("/api/mail", get(accounts::reset::mail_status))
        .route("/api/password-reset", post(accounts::reset::request_reset))
        .route(
            "/api/password-reset/complete",
            post(accounts::reset::complete_reset),
        )
        .route(
            "/api/users",
            get(accounts::users::users).post(accounts::users::add_user),
        )
        .route(
            "/api/users/{username}",
            put(accounts::users::change_role).delete(accounts::users::remove_user),
        )
        .route(
            "/api/users/{username}/sessions",
            get(accounts::sessions::user_sessions),
        )
        .route(
            "/api/users/{username}/password",
            put(accounts::passwords::reset_password),
        )
        .route(
            "/api/users/{username}/email",
            put(accounts::email::set_user_email),
        )
        .route("/api/stream-ticket", post(stream::stream_ticket))
        .route(
            "/api/push",
            post(sync::push).layer(DefaultBodyLimit::max(PUSH_BODY_LIMIT)),
        )
        .route("/api/pull", get(sync::pull))
        .route("/api/stream", get(stream::stream))
        .route("/api", axum::routing::any(unknown))
        .route("/api/", axum::routing::any(unknown))
        .route("/api/{*rest}", axum::routing::any(unknown))
        .with_state(store)
}

async fn unknown() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "The server does not know this request. Update the app and try again.",
    )
}

/// An error answer: a status and a sentence for the person.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: Cow<'static, str>,
    /// Seconds for a `Retry-After` header (busy, too many attempts).
    pub retry_after: Option<u64>,
}

pub const SIGNED_OUT: &str = "Your sign-in has ended. Sign in again.";
const SERVER_TROUBLE: &str =
    "The server could not read or save its data just now. Nothing was lost: try again in a moment.";

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        ApiError {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    /// Adds a `Retry-After` header of `seconds` to the answer.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn signed_out() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, SIGNED_OUT)
    }

    /// A failure on the server's side (logged); worth retrying.
    pub fn internal(what: impl std::fmt::Display) -> Self {
        tracing::error!(error = %what, "server trouble answering a request");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, SERVER_TROUBLE)
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (
            self.status,
            Json(ErrorBody {
                error: &self.message,
            }),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        if let Some(seconds) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        res
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::internal(format!("database: {e}"))
    }
}

/// `Json` whose rejections are [`ApiError`]s (400 with a sentence) rather than plain text.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let status = match rejection {
        JsonRejection::BytesRejection(_) => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    };
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            status,
            "That request is too large for the server. Send fewer changes at once.",
        );
    }
    ApiError::new(
        status,
        format!(
            "The server could not read that request ({}). Update the app and try again.",
            rejection.body_text()
        ),
    )
}

/// The bearer token of a request, if it has one.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

impl FromRequestParts<Store> for accounts::Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, store: &Store) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers).ok_or_else(ApiError::signed_out)?;
        accounts::authenticate(store, token).await
    }
}

/// Seconds since the Unix epoch, in milliseconds, from the server's clock.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A position or device number as stored (`BIGINT`).
pub(crate) fn to_db(n: u64) -> Result<i64, ApiError> {
    i64::try_from(n).map_err(|_| {
        ApiError::bad_request("That number is too large. Update the app and try again.")
    })
}

/// A stored `BIGINT` back to a position.
pub(crate) fn from_db(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
