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
export function open_stream(url, on_head, on_error) {
  const stream = new EventSource(url);
  stream.addEventListener('head', (e) => on_head(Number(e.data)));
  // A ticket opens one connection only: never let the browser retry with it.
  stream.onerror = () => { stream.close(); on_error(); };
  return stream;
}
export function close_stream(stream) { if (stream) stream.close(); }
"#)]
extern "C" {
    fn with_lock(name: &str, task: JsValue) -> js_sys::Promise;
    fn open_stream(url: &str, on_head: &JsValue, on_error: &JsValue) -> JsValue;
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
    /// The last exchange pulled until it held the site's whole log.
    static CAUGHT_UP: Cell<bool> = const { Cell::new(false) };
    static STREAM: RefCell<Option<JsValue>> = const { RefCell::new(None) };
    /// Counts stream (re)starts, so a late ticket or retry of an older one is dropped.
    static STREAM_GEN: Cell<u32> = const { Cell::new(0) };
}

/// How long after a dropped stream a new ticket is asked for.
const STREAM_RETRY: Duration = Duration::from_secs(10);

/// Starts the timers and listeners. Called once the register is open.
pub fn start(state: AppState) {
    let _ = set_interval_with_handle(move || run_soon(state), Duration::from_secs(30));
    let online = Closure::<dyn Fn()>::new(move || {
        restart_stream(state);
        run_soon(state);
    });
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

/// Listens to the server's "something new" stream with the current account's session. The
/// stream opens with a single-use ticket (`POST /api/stream-ticket`), never with the token in
/// the URL; each reconnection asks for a new ticket.
pub fn restart_stream(state: AppState) {
    STREAM.with(|s| {
        if let Some(old) = s.borrow_mut().take() {
            close_stream(&old);
        }
    });
    let generation = STREAM_GEN.with(|g| {
        g.set(g.get().wrapping_add(1));
        g.get()
    });
    let current = move || STREAM_GEN.with(Cell::get) == generation;
    let retry = move || {
        set_timeout(
            move || {
                if current() {
                    restart_stream(state);
                }
            },
            STREAM_RETRY,
        )
    };
    let Some(token) = untrack(|| state.token()) else {
        return;
    };
    leptos::task::spawn_local(async move {
        let ticket = match api::stream_ticket(&token).await {
            Ok(ticket) => ticket.ticket,
            // The next sync says so and forgets the token.
            Err(ApiError::SignedOut(_)) => return,
            Err(_) => return retry(),
        };
        if !current() {
            return;
        }
        let on_head = Closure::<dyn Fn(f64)>::new(move |_| run_soon(state)).into_js_value();
        let on_error = Closure::once_into_js(retry);
        let url = format!(
            "/api/stream?ticket={}",
            String::from(js_sys::encode_uri_component(&ticket))
        );
        let stream = open_stream(&url, &on_head, &on_error);
        STREAM.with(|s| *s.borrow_mut() = Some(stream));
    });
}

/// One sync, unless one is running in this tab (then another follows it) or another tab
/// holds the lock (then this waits for it).
pub async fn run(state: AppState) {
    if !state
        .settings
        .with_untracked(|s| s.enrolled() || !s.ending.is_empty())
    {
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
    if CAUGHT_UP.with(|c| c.replace(false)) && state.refetching.get_untracked() {
        // The whole register has come down again: it is the site's once more.
        if let Ok(store) = crate::state::store() {
            if store.refetched().await.is_ok() {
                state.refetching.set(false);
            }
        }
    }
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

/// Pushes the outbox, ends the sessions signed out here while offline, then pulls until up
/// to date. `Ok(Some(problem))` when it went through but some changes wait for a person
/// (their PIN, or signing in again).
async fn exchange(state: AppState) -> Result<Option<String>, ApiError> {
    let store = store().map_err(ApiError::Refused)?;
    let device = state.device();
    let (accounts, ending, active) = state.settings.with_untracked(|s| {
        (
            s.accounts.clone(),
            s.ending.clone(),
            s.account().map(|a| a.username.clone()),
        )
    });
    let mut problem = None;
    let waiting: Vec<Outgoing> = store
        .outbox()
        .await
        .map_err(stored)?
        .into_iter()
        .filter(|o| o.pos.is_none())
        .collect();
    // Each person's changes go with their own sign-in, in order, a batch at a time.
    for (i, run) in runs(&waiting) {
        // Changes recorded before this device signed in go with whoever uses it now.
        let owner = match run[0].user.as_str() {
            "" => active.clone().unwrap_or_default(),
            user => user.to_string(),
        };
        let closing = ending.iter().find(|e| e.username == owner);
        let token = untrack(|| state.token_of(&owner)).or(closing.map(|e| e.token.clone()));
        let Some(token) = token else {
            let owner = accounts.iter().find(|a| a.username == owner);
            problem = Some(waiting_words(waiting.len() - i, owner));
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
                    end_session(state, &owner);
                    return Err(ApiError::SignedOut(message));
                }
                Err(e) => return Err(e),
            }
        }
    }
    // Sessions signed out here while offline end once their changes have gone.
    if !ending.is_empty() {
        let unsent: Vec<String> = store
            .outbox()
            .await
            .map_err(stored)?
            .into_iter()
            .filter(|o| o.pos.is_none())
            .map(|o| o.user)
            .collect();
        for closing in ending.iter().filter(|e| !unsent.contains(&e.username)) {
            api::logout(&closing.token).await?;
            state.settings.update(|s| s.ending.retain(|e| e != closing));
        }
    }
    let Some(active) = active else {
        return Ok(problem);
    };
    let Some(token) = untrack(|| state.token_of(&active)) else {
        let account = accounts.iter().find(|a| a.username == active);
        return Err(ApiError::SignedOut(match account {
            Some(a) if a.has_pin() => format!(
                "Waiting for {}'s PIN: enter it on this page to send and receive changes.",
                a.name
            ),
            _ => "Sign in again to receive what others recorded.".into(),
        }));
    };
    loop {
        let meta = store.meta().await.map_err(stored)?;
        let page = match api::pull(&token, meta.cursor, meta.since, device).await {
            Err(ApiError::SignedOut(message)) => {
                end_session(state, &active);
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
        if meta.cursor > page.head {
            // The server has fewer changes than this device already received: its database
            // was restored from a backup (or replaced). It would hand out positions this
            // device thinks it has, so say so rather than look up to date.
            problem = Some(restored_words(meta.cursor, page.head));
            break;
        }
        if page.events.is_empty() || meta.cursor >= page.head {
            CAUGHT_UP.with(|c| c.set(true));
            break;
        }
    }
    // The admin may have changed this person's role or name since they signed in.
    if let Ok(session) = api::me(&token).await {
        state.settings.update(|s| {
            if let Some(a) = s.account_mut(&session.username) {
                if a.role != session.role || a.name != session.name {
                    a.role = session.role;
                    a.name = session.name;
                }
            }
        });
    }
    Ok(problem)
}

/// What a device says when the server holds fewer of the site's changes than it received.
fn restored_words(received: u64, held: u64) -> String {
    format!(
        "The server holds {held} of this site's changes, but this device has received {received}: the server was probably restored from a backup, and changes recorded since then may be missing there. Tell whoever runs the server. Keep using this device, and save its register now (Set-up → Back up or restore the register)."
    )
}

/// The outbox in runs of one person's changes, each with the index of its first change.
fn runs(waiting: &[Outgoing]) -> impl Iterator<Item = (usize, &[Outgoing])> {
    waiting
        .chunk_by(|a, b| a.user == b.user)
        .scan(0, |start, run| {
            let at = *start;
            *start += run.len();
            Some((at, run))
        })
}

/// Why `count` changes wait, in words: whose PIN or sign-in they need.
pub fn waiting_words(count: usize, owner: Option<&Account>) -> String {
    let changes = if count == 1 {
        "1 change waits".to_string()
    } else {
        format!("{count} changes wait")
    };
    match owner {
        Some(a) if a.has_pin() => format!(
            "{changes} for {name}'s PIN: {name} switches back to this device with it to send {them}, or signs in again.",
            name = a.name,
            them = if count == 1 { "it" } else { "them" }
        ),
        Some(a) => format!(
            "{changes} to be sent: {} must sign in again on this device.",
            a.name
        ),
        None => format!(
            "{changes} to be sent: the person who made them must sign in again on this device."
        ),
    }
}

/// Forgets an ended session's token, in clear or sealed (the account stays, to sign in
/// again), or drops it from the sessions to end; stops listening to the server with it.
fn end_session(state: AppState, username: &str) {
    state.settings.update(|s| {
        s.ending.retain(|e| e.username != username);
        if let Some(a) = s.account_mut(username) {
            a.token = None;
            a.sealed = None;
        }
    });
    if state
        .account_untracked()
        .is_some_and(|a| a.username == username)
    {
        state.lock();
    }
    restart_stream(state);
}

/// Signs the person using the device out of it. Their session ends on the server now, or, if
/// the server cannot be reached or their changes are still to be sent, at a later sync (the
/// token is kept, marked to end, until then). The account is gone from the device's screens
/// at once. Returns what to tell the person.
pub async fn sign_out(state: AppState) -> Option<String> {
    let account = state.account_untracked()?;
    let token = state.token_untracked();
    let unsent = state
        .outbox()
        .iter()
        .filter(|o| o.pos.is_none() && o.user == account.username)
        .count();
    let username = account.username.clone();
    state
        .settings
        .update(|s| s.sign_out(&username, token.clone()));
    state.lock();
    restart_stream(state);
    let name = &account.name;
    let message = match token {
        None => format!("{name} is signed out of this device. Their sign-in on the server ends once unused for a while, or when an admin signs this device out."),
        Some(_) if unsent > 0 => format!("{name} is signed out of this device. Their {} sent first, then their sign-in ends on the server.", if unsent == 1 { "change is".to_string() } else { format!("{unsent} changes are") }),
        Some(token) => match api::logout(&token).await {
            Ok(()) => {
                state.settings.update(|s| s.ending.retain(|e| e.username != username));
                format!("{name} is signed out of this device.")
            }
            Err(_) => format!("{name} is signed out of this device. The server cannot be reached now: their sign-in ends there when this device is next online."),
        },
    };
    soon(state);
    Some(message)
}

/// After a sign-in or a site's registration: the account becomes the one in use, changes
/// recorded before signing in become theirs to send, and a sync starts.
pub async fn signed_in(state: AppState, account: Account) -> Result<(), String> {
    let username = account.username.clone();
    state.settings.update(|s| s.sign_in(account));
    state.lock();
    store()?
        .claim_unsigned(&username)
        .await
        .map_err(|e| e.to_string())?;
    state.refresh().await;
    restart_stream(state);
    run(state).await;
    Ok(())
}
