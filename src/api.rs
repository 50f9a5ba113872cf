//! The only module that talks to the server: the sync API of keyward-server, on the same
//! origin the app was loaded from. Every failure comes back as a message for the person.

use gloo_net::http::{Request, RequestBuilder, Response};
use keyward_core::sync::{
    DeviceSession, EmailAddress, EmailChange, Login, MailStatus, NewSite, NewUser, PasswordChange,
    PasswordReset, PullResponse, PushRequest, PushResponse, ResetComplete, ResetRequest,
    RoleChange, Session, StreamTicket, User,
};
use keyward_core::{DeviceId, Role};
use serde::{de::DeserializeOwned, Deserialize};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// The server could not be reached (offline, or it is down).
    Unreachable,
    /// The session has ended; the person must sign in again.
    SignedOut(String),
    /// The server answered with a refusal, in words.
    Refused(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Unreachable => f.write_str(
                "Could not reach the Keyward server. Everything is kept on this device and sent when it can reach the server.",
            ),
            ApiError::SignedOut(m) | ApiError::Refused(m) => f.write_str(m),
        }
    }
}

#[derive(Deserialize)]
struct Problem {
    error: String,
}

async fn send<T: DeserializeOwned>(
    request: Result<Request, gloo_net::Error>,
) -> Result<T, ApiError> {
    let request = request.map_err(|e| ApiError::Refused(e.to_string()))?;
    let response = request.send().await.map_err(|_| ApiError::Unreachable)?;
    answer(response).await
}

async fn answer<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    let status = response.status();
    if response.ok() {
        clock(&response);
        return response.json().await.map_err(|_| ApiError::Unreachable);
    }
    let message = response.json::<Problem>().await.ok().map(|p| p.error);
    match status {
        401 => Err(ApiError::SignedOut(message.unwrap_or_else(|| {
            "Your sign-in has ended. Sign in again.".into()
        }))),
        // A proxy's error page or a server restarting: worth trying again later.
        500.. if message.is_none() => Err(ApiError::Unreachable),
        _ => Err(ApiError::Refused(message.unwrap_or_else(|| {
            format!("The server refused the request ({status}). Try again later.")
        }))),
    }
}

/// The server's clock, from its `Date` header, against this device's.
fn clock(response: &Response) {
    if let Some(date) = response.headers().get("date") {
        crate::device::saw_server_date(&date);
    }
}

fn authorised(builder: RequestBuilder, token: &str) -> RequestBuilder {
    builder.header("Authorization", &format!("Bearer {token}"))
}

pub async fn register_site(site: &NewSite) -> Result<Session, ApiError> {
    send(Request::post("/api/sites").json(site)).await
}

pub async fn login(login: &Login) -> Result<Session, ApiError> {
    send(Request::post("/api/login").json(login)).await
}

/// Ends the session on the server. `Ok` also when it had ended already.
pub async fn logout(token: &str) -> Result<(), ApiError> {
    match done(authorised(Request::post("/api/logout"), token).build()).await {
        Err(ApiError::SignedOut(_)) => Ok(()),
        other => other,
    }
}

/// A request whose answer has no body (204).
async fn done(request: Result<Request, gloo_net::Error>) -> Result<(), ApiError> {
    let request = request.map_err(|e| ApiError::Refused(e.to_string()))?;
    let response = request.send().await.map_err(|_| ApiError::Unreachable)?;
    if response.ok() {
        clock(&response);
        return Ok(());
    }
    answer::<()>(response).await
}

/// The signed-in devices of the session's own account.
pub async fn sessions(token: &str) -> Result<Vec<DeviceSession>, ApiError> {
    send(authorised(Request::get("/api/sessions"), token).build()).await
}

/// The signed-in devices of a user of the site (admins).
pub async fn user_sessions(token: &str, username: &str) -> Result<Vec<DeviceSession>, ApiError> {
    let url = format!("{}/sessions", user_url(username));
    send(authorised(Request::get(&url), token).build()).await
}

/// Ends one session: one's own device, or (admins) a user's.
pub async fn end_session(token: &str, id: &str) -> Result<(), ApiError> {
    let url = format!(
        "/api/sessions/{}",
        String::from(js_sys::encode_uri_component(id))
    );
    done(authorised(Request::delete(&url), token).build()).await
}

/// Changes one's own password; the account's other sessions end.
pub async fn change_password(token: &str, change: &PasswordChange) -> Result<(), ApiError> {
    done(authorised(Request::put("/api/password"), token).json(change)).await
}

/// Sets a user's password (admins); all of that user's sessions end.
pub async fn reset_password(
    token: &str,
    username: &str,
    reset: &PasswordReset,
) -> Result<(), ApiError> {
    let url = format!("{}/password", user_url(username));
    done(authorised(Request::put(&url), token).json(reset)).await
}

/// Whether the server sends e-mail (so "Forgot your password?" can be offered).
pub async fn mail_status() -> Result<MailStatus, ApiError> {
    send(Request::get("/api/mail").build()).await
}

/// "Forgot your password?": the server mails a link if the account has an address (it
/// answers alike either way).
pub async fn request_reset(username: &str) -> Result<(), ApiError> {
    let request = ResetRequest {
        username: username.to_string(),
    };
    done(Request::post("/api/password-reset").json(&request)).await
}

/// Sets a new password with the token of a mailed link; every session of the account ends.
pub async fn complete_reset(reset: &ResetComplete) -> Result<(), ApiError> {
    done(Request::post("/api/password-reset/complete").json(reset)).await
}

/// The account's own e-mail address.
pub async fn own_email(token: &str) -> Result<EmailAddress, ApiError> {
    send(authorised(Request::get("/api/email"), token).build()).await
}

/// Sets (or, empty, removes) the account's own e-mail address.
pub async fn set_own_email(token: &str, email: &str) -> Result<EmailAddress, ApiError> {
    let change = EmailChange {
        email: email.to_string(),
    };
    send(authorised(Request::put("/api/email"), token).json(&change)).await
}

/// Sets (or, empty, removes) a user's e-mail address (admins).
pub async fn set_user_email(
    token: &str,
    username: &str,
    email: &str,
) -> Result<EmailAddress, ApiError> {
    let url = format!("{}/email", user_url(username));
    let change = EmailChange {
        email: email.to_string(),
    };
    send(authorised(Request::put(&url), token).json(&change)).await
}

/// A single-use ticket that opens the event stream (a token never goes in a URL).
pub async fn stream_ticket(token: &str) -> Result<StreamTicket, ApiError> {
    send(authorised(Request::post("/api/stream-ticket"), token).build()).await
}

pub async fn users(token: &str) -> Result<Vec<User>, ApiError> {
    send(authorised(Request::get("/api/users"), token).build()).await
}

pub async fn add_user(token: &str, user: &NewUser) -> Result<User, ApiError> {
    send(authorised(Request::post("/api/users"), token).json(user)).await
}

fn user_url(username: &str) -> String {
    format!(
        "/api/users/{}",
        String::from(js_sys::encode_uri_component(username))
    )
}

pub async fn set_role(token: &str, username: &str, role: Role) -> Result<User, ApiError> {
    send(authorised(Request::put(&user_url(username)), token).json(&RoleChange { role })).await
}

pub async fn remove_user(token: &str, username: &str) -> Result<(), ApiError> {
    done(authorised(Request::delete(&user_url(username)), token).build()).await
}

/// Who the session belongs to now (the role may have changed since signing in).
pub async fn me(token: &str) -> Result<Session, ApiError> {
    send(authorised(Request::get("/api/me"), token).build()).await
}

pub async fn push(token: &str, push: &PushRequest) -> Result<PushResponse, ApiError> {
    send(authorised(Request::post("/api/push"), token).json(push)).await
}

pub async fn pull(
    token: &str,
    after: u64,
    since: u64,
    device: DeviceId,
) -> Result<PullResponse, ApiError> {
    let url = format!("/api/pull?after={after}&since={since}&device={device}");
    send(authorised(Request::get(&url), token).build()).await
}
