//! The only module that talks to the server: the sync API of keyward-server, on the same
//! origin the app was loaded from. Every failure comes back as a message for the person.

use gloo_net::http::{Request, RequestBuilder, Response};
use keyward_core::sync::{
    Login, NewSite, NewUser, PullResponse, PushRequest, PushResponse, RoleChange, Session, User,
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

fn authorised(builder: RequestBuilder, token: &str) -> RequestBuilder {
    builder.header("Authorization", &format!("Bearer {token}"))
}

pub async fn register_site(site: &NewSite) -> Result<Session, ApiError> {
    send(Request::post("/api/sites").json(site)).await
}

pub async fn login(login: &Login) -> Result<Session, ApiError> {
    send(Request::post("/api/login").json(login)).await
}

pub async fn logout(token: &str) {
    if let Ok(request) = authorised(Request::post("/api/logout"), token).build() {
        let _ = request.send().await;
    }
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
    let request = authorised(Request::delete(&user_url(username)), token)
        .build()
        .map_err(|e| ApiError::Refused(e.to_string()))?;
    let response = request.send().await.map_err(|_| ApiError::Unreachable)?;
    if response.ok() {
        return Ok(());
    }
    answer::<()>(response).await
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
