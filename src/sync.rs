//! Sync with the server: push the outbox, pull what others did, keep the status on screen.
//!
//! Only one tab syncs at a time (a Web Lock named `keyward-sync`); the others hear of the new
//! state on the tabs channel and re-read storage. A sync runs soon after each change, when the
//! device comes back online, when the server says there is something new (server-sent events),
//! every half minute, and when the person asks.

use crate::api::{self, ApiError};
use crate::settings::Account;
use crate::state::{store, AppState};
use crate::storage::{Outgoing, StorageError};
use crate::tabs;
use chrono::{DateTime, Utc};
use keyward_core::sync::{Numbered, PushRequest, BATCH};
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

#[wasm_bindgen(inline_js = r#"
export function with_lock(name, task) {
  if (navigator.locks && navigator.locks.request) return navigator.locks.request(name, () => task());
  return task();
}
export function open_stream(url, on_head) {
  const stream = new EventSource(url);
  stream.addEventListener('head', (e) => on_head(Number(e.data)));
  return stream;
}
export function close_stream(stream) { if (stream) stream.close(); }
"#)]
extern "C" {
    fn with_lock(name: &str, task: JsValue) -> js_sys::Promise;
    fn open_stream(url: &str, on_head: &Closure<dyn Fn(f64)>) -> JsValue;
    fn close_stream(stream: &JsValue);
}

/// What the sync status shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    pub running: bool,
    /// When the last sync finished without a problem.
    pub last: Option<DateTime<Utc>>,
    /// The server could not be reached at the last try.
    pub unreachable: bool,
    /// What went wrong at the last try, in words (a refusal, an ended sign-in).
    pub problem: Option<String>,
    /// While downloading: events held and the site's total.
    pub progress: Option<(u64, u64)>,
}

thread_local! {
    static BUSY: Cell<bool> = const { Cell::new(false) };
    static AGAIN: Cell<bool> = const { Cell::new(false) };
    static STREAM: RefCell<Option<JsValue>> = const { RefCell::new(None) };
}

/// Starts the timers and listeners. Called once the register is open.
pub fn start(state: AppState) {
    let _ = set_interval_with_handle(move || run_soon(state), Duration::from_secs(30));
    let online = Closure::<dyn Fn()>::new(move || run_soon(state));
    let _ = window().add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
    online.forget();
    restart_stream(state);
    run_soon(state);
}

/// Syncs shortly, e.g. after a change was recorded.
pub fn soon(state: AppState) {
    set_timeout(move || run_soon(state), Duration::from_millis(200));
}

fn run_soon(state: AppState) {
    leptos::task::spawn_local(run(state));
}

/// Listens to the server's "something new" stream with the current account's session.
pub fn restart_stream(state: AppState) {
    STREAM.with(|s| {
        if let Some(old) = s.borrow_mut().take() {
            close_stream(&old);
        }
    });
    let Some(token) = state.account().and_then(|a| a.token) else {
        return;
    };
    let on_head = Closure::<dyn Fn(f64)>::new(move |_| run_soon(state));
    let stream = open_stream(&format!("/api/stream?token={token}"), &on_head);
    on_head.forget();
    STREAM.with(|s| *s.borrow_mut() = Some(stream));
}

/// One sync, unless one is running in this tab (then another follows it) or another tab
/// holds the lock (then this waits for it).
pub async fn run(state: AppState) {
    if !state.settings.with_untracked(|s| s.enrolled()) {
        return;
    }
    if BUSY.with(|b| b.replace(true)) {
        AGAIN.with(|a| a.set(true));
        return;
    }
    loop {
        let task = Closure::once_into_js(move || {
            future_to_promise(async move {
                locked(state).await;
                Ok(JsValue::UNDEFINED)
            })
        });
        let _ = JsFuture::from(with_lock("keyward-sync", task)).await;
        if !AGAIN.with(|a| a.replace(false)) {
            break;
        }
    }
    BUSY.with(|b| b.set(false));
}

async fn locked(state: AppState) {
    state.sync.update(|s| s.running = true);
    let result = exchange(state).await;
    state.refresh().await;
    tabs::announce();
    state.sync.update(|s| {
        s.running = false;
        s.progress = None;
        match result {
            Ok(problem) => {
                s.last = Some(Utc::now());
                s.unreachable = false;
                s.problem = problem;
            }
            Err(ApiError::Unreachable) => s.unreachable = true,
            Err(e) => {
                s.unreachable = false;
                s.problem = Some(e.to_string());
            }
        }
    });
}

fn stored(e: StorageError) -> ApiError {
    ApiError::Refused(e.to_string())
}

/// Pushes the outbox, then pulls until up to date. `Ok(Some(problem))` when it went through
/// but some changes wait for a person to sign in again.
async fn exchange(state: AppState) -> Result<Option<String>, ApiError> {
    let store = store().map_err(ApiError::Refused)?;
    let device = state.device();
    let (accounts, active) = state
        .settings
        .with_untracked(|s| (s.accounts.clone(), s.account().cloned()));
    let mut problem = None;
    let waiting: Vec<Outgoing> = store
        .outbox()
        .await
        .map_err(stored)?
        .into_iter()
        .filter(|o| o.pos.is_none())
        .collect();
    // Each person's changes go with their own sign-in, in order, a batch at a time.
    for run in waiting.chunk_by(|a, b| a.user == b.user) {
        let owner = accounts.iter().find(|a| a.username == run[0].user);
        let Some(token) = owner.or(active.as_ref()).and_then(|a| a.token.clone()) else {
            let who = owner.map_or("the person who made them", |a| a.name.as_str());
            problem = Some(format!(
                "{} changes wait to be sent: {who} must sign in again on this device.",
                run.len()
            ));
            break; // later changes may depend on these
        };
        for batch in run.chunks(BATCH) {
            let request = PushRequest {
                device,
                changes: batch
                    .iter()
                    .map(|o| Numbered {
                        n: o.n,
                        event: o.event.clone(),
                    })
                    .collect(),
            };
            match api::push(&token, &request).await {
                Ok(response) => {
                    store
                        .record_receipts(&response.receipts)
                        .await
                        .map_err(stored)?;
                }
                Err(ApiError::SignedOut(message)) => {
                    end_session(state, owner.or(active.as_ref()));
                    return Err(ApiError::SignedOut(message));
                }
                Err(e) => return Err(e),
            }
        }
    }
    let Some(token) = active.and_then(|a| a.token) else {
        return Err(ApiError::SignedOut(
            "Sign in again to receive what others recorded.".into(),
        ));
    };
    loop {
        let meta = store.meta().await.map_err(stored)?;
        let page = match api::pull(&token, meta.cursor, meta.since, device).await {
            Err(ApiError::SignedOut(message)) => {
                end_session(state, state.account().as_ref());
                return Err(ApiError::SignedOut(message));
            }
            other => other?,
        };
        let meta = store
            .absorb_pull(&page.events, &page.receipts)
            .await
            .map_err(stored)?;
        state
            .sync
            .update(|s| s.progress = Some((meta.cursor, page.head)));
        if page.events.is_empty() || meta.cursor >= page.head {
            break;
        }
    }
    // The admin may have changed this person's role or name since they signed in.
    if let Ok(session) = api::me(&token).await {
        state.settings.update(|s| {
            if let Some(a) = s
                .accounts
                .iter_mut()
                .find(|a| a.username == session.username)
            {
                if a.role != session.role || a.name != session.name {
                    a.role = session.role;
                    a.name = session.name;
                }
            }
        });
    }
    Ok(problem)
}

/// Forgets an ended session's token (the account stays, to sign in again) and stops
/// listening to the server with it.
fn end_session(state: AppState, account: Option<&Account>) {
    if let Some(account) = account {
        let name = account.username.clone();
        state.settings.update(|s| {
            if let Some(a) = s.accounts.iter_mut().find(|a| a.username == name) {
                a.token = None;
            }
        });
        restart_stream(state);
    }
}

/// After a sign-in or a site's registration: the account becomes the one in use, changes
/// recorded before signing in become theirs to send, and a sync starts.
pub async fn signed_in(state: AppState, account: Account) -> Result<(), String> {
    let username = account.username.clone();
    state.settings.update(|s| s.sign_in(account));
    store()?
        .claim_unsigned(&username)
        .await
        .map_err(|e| e.to_string())?;
    state.refresh().await;
    restart_stream(state);
    run(state).await;
    Ok(())
}
