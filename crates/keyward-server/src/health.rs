//! `GET /healthz`: whether this process can serve, for a load balancer, a container runtime or
//! a monitoring check.
//!
//! The answer needs no sign-in and costs one indexed read of the database (the one thing the
//! process needs besides itself), bounded by [`HEALTH_WAIT`], so a probe never queues behind a
//! stuck database for the pool's whole timeout. 200 `{"status":"ok","database":"sqlite"}`
//! when the database answers; 503 `{"status":"unavailable","reason":"…"}` when it does not,
//! with the database's own error in the log rather than in the answer (it may name hosts).
//! It runs under the same limits as every request (the serving loop's timeouts and cap).

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::store::{Backend, Store};

/// How long the health check waits for the database.
pub const HEALTH_WAIT: Duration = Duration::from_secs(3);

/// The `/healthz` route.
pub fn router(store: Store) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .with_state(store)
}

async fn healthz(State(store): State<Store>) -> Response {
    // A real read of a Keyward table: a database that is up but lost its schema fails too.
    let read = sqlx::query("SELECT id FROM sites LIMIT 1").fetch_optional(store.pool());
    let problem = match tokio::time::timeout(HEALTH_WAIT, read).await {
        Ok(Ok(_)) => None,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health check: the database answered with an error");
            Some("the database answered with an error")
        }
        Err(_) => {
            tracing::warn!(
                wait_secs = HEALTH_WAIT.as_secs(),
                "health check: the database did not answer in time"
            );
            Some("the database did not answer in time")
        }
    };
    let (status, body) = match problem {
        None => (
            StatusCode::OK,
            json!({"status": "ok", "database": match store.backend() {
                Backend::Sqlite => "sqlite",
                Backend::Postgres => "postgresql",
            }}),
        ),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "unavailable", "reason": reason}),
        ),
    };
    let mut res = (status, Json(body)).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    res
}
