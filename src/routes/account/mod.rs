//! Sync and sign-in (`/sync`), one room per concern:
//!
//! - this module: the page, the sync status in full, changes the server refused, and who is
//!   signed in (with signing out of this device);
//! - `sign_in`: signing in, and putting this device's site on a server with a set-up code;
//! - `switch`: the PIN of a shared device (set, change, enter it again) and switching user;
//! - `password`: changing one's own password;
//! - `devices`: one's own signed-in devices, and the list an admin sees of a user's;
//! - `users`: the site's users, for admins (add, role, remove, their devices, new password,
//!   e-mail address);
//! - `email`: one's own e-mail address;
//! - `reset`: "Forgot your password?" and the page its mailed link opens (`/reset`).
//!
//! The PIN's crypto and threat model are in `crate::pin`; what is stored, in `settings.rs`.

mod devices;
mod email;
mod password;
mod reset;
mod sign_in;
mod switch;
mod users;

pub use reset::ResetPasswordPage;

use crate::components::{local_date_time, Back};
use crate::state::{use_app, AppState};
use crate::sync;
use leptos::prelude::*;

#[component]
pub fn SyncPage() -> impl IntoView {
    let state = use_app();
    let enrolled = Memo::new(move |_| state.settings.with(|s| s.enrolled()));
    view! {
        <Back href="/" label="Register"/>
        <h1>"Sync and sign-in"</h1>
        {move || if enrolled.get() {
            view! {
                <SyncCard/>
                <Refused/>
                <SignedIn/>
                <switch::SwitchUser/>
                <switch::Pin/>
                <sign_in::SignIn/>
                <password::ChangePassword/>
                <email::OwnEmail/>
                <devices::OwnDevices/>
                <users::Users/>
            }.into_any()
        } else {
            view! {
                <section class="card">
                    <h2>"This device only"</h2>
                    <p>"The register is kept on this device and nowhere else. Sign in to a Keyward server so that several phones and tablets share one register and keep working offline."</p>
                </section>
                <sign_in::SignIn/>
                <sign_in::PutOnServer/>
            }.into_any()
        }}
    }
}

/// The status in words, e.g. "3 changes waiting to be sent. Offline."
pub fn status_text(state: AppState) -> String {
    let status = state.sync.get();
    let pending = state.pending.get();
    if !state.settings.with(|s| s.enrolled()) {
        return "This device only".into();
    }
    if let Some((held, head)) = status.progress.filter(|(h, t)| h < t) {
        return format!(
            "Downloading: {} of {}",
            keyward_core::format::thousands(held as usize),
            keyward_core::format::thousands(head as usize)
        );
    }
    if status.running {
        return "Syncing…".into();
    }
    let (waiting, blocked) = match pending {
        0 => (None, false),
        n => {
            let (text, blocked) = waiting_text(state, n);
            (Some(text), blocked)
        }
    };
    if status.unreachable {
        return match waiting {
            Some(w) => format!("Offline · {w}"),
            None => "Offline".into(),
        };
    }
    if status.problem.is_some() && !blocked {
        return "Sync needs you".into();
    }
    match (waiting, status.last) {
        (Some(w), _) => w,
        (None, Some(at)) => format!(
            "Synced {}",
            at.with_timezone(&chrono::Local).format("%H:%M")
        ),
        (None, None) => "Not synced yet".into(),
    }
}

/// "2 changes waiting", or whom they wait for: "2 changes waiting for Sam Jones's PIN" when
/// the first of them belongs to someone whose sign-in is locked or has ended.
/// Whether they wait for someone comes back too.
fn waiting_text(state: AppState, pending: usize) -> (String, bool) {
    let count = if pending == 1 {
        "1 change waiting".to_string()
    } else {
        format!("{pending} changes waiting")
    };
    let active = state
        .settings
        .with(|s| s.active.clone())
        .unwrap_or_default();
    let blocked = state
        .outbox()
        .into_iter()
        .filter(|o| o.pos.is_none())
        .map(|o| {
            if o.user.is_empty() {
                active.clone()
            } else {
                o.user
            }
        })
        .find(|user| state.token_of(user).is_none() && !ending(state, user));
    let Some(user) = blocked else {
        return (count, false);
    };
    let owner = state.settings.with(|s| {
        s.accounts
            .iter()
            .find(|a| a.username == user)
            .map(|a| (a.name.clone(), a.has_pin()))
    });
    let text = match owner {
        Some((name, true)) => format!("{count} for {name}'s PIN"),
        Some((name, false)) => format!("{count} for {name} to sign in"),
        None => format!("{count} for a sign-in"),
    };
    (text, true)
}

fn ending(state: AppState, user: &str) -> bool {
    state
        .settings
        .with(|s| s.ending.iter().any(|e| e.username == user))
}

#[component]
fn SyncCard() -> impl IntoView {
    let state = use_app();
    let sync_now = move |_| leptos::task::spawn_local(sync::run(state));
    view! {
        <section class="card">
            <h2>"Sync"</h2>
            <p class="sync-status" role="status">{move || status_text(state)}</p>
            {move || state.sync.get().last.map(|at| view! {
                <p>"Last synced "{local_date_time(at)}"."</p>
            })}
            {move || state.sync.get().unreachable.then(|| view! {
                <p class="hint">"The server cannot be reached. Everything recorded here is kept on this device and sent when it can be."</p>
            })}
            {move || state.sync.get().problem.map(|m| view! { <p class="error" role="alert">{m}</p> })}
            <button type="button" class="button primary" on:click=sync_now disabled=move || state.sync.get().running>
                "Sync now"
            </button>
        </section>
    }
}

/// Changes the server refused: shown on the device that made them, until dismissed.
#[component]
fn Refused() -> impl IntoView {
    let state = use_app();
    let dismiss = move |n: u64| {
        leptos::task::spawn_local(async move {
            if let Ok(store) = crate::state::store() {
                let _ = store.dismiss(n).await;
                state.refresh().await;
            }
        })
    };
    view! {
        <Show when=move || state.refused.with(|r| !r.is_empty())>
            <section class="card warning">
                <h2>"Not accepted by the server"</h2>
                <p>"These changes were recorded on this device but the server refused them, so they are not in the register."</p>
                <ul class="plain refused">
                    <For each=move || state.refused.get() key=|r| r.n let:refusal>
                        <li>
                            <p><strong>{keyward_core::Change::words(&refusal.event.change)}</strong>
                               " by "{refusal.event.actor.clone()}", "{local_date_time(refusal.event.at)}</p>
                            <p class="error">{refusal.reason.clone()}</p>
                            <button type="button" class="button small" on:click=move |_| dismiss(refusal.n)>"Dismiss"</button>
                        </li>
                    </For>
                </ul>
            </section>
        </Show>
    }
}

/// Who is using the device, and signing them out of it (also offline: the sign-in then ends
/// on the server when the device is next online). While this device holds changes that have
/// not reached the server (anyone's: the outbox, and changes waiting for a locked PIN), signing
/// out first asks: sync now, save them as a file, or sign out without saving them.
#[component]
fn SignedIn() -> impl IntoView {
    let state = use_app();
    let busy = RwSignal::new(false);
    // Signing out was asked for while changes were unsynced: the choice is on screen.
    let asking = RwSignal::new(false);
    // The file of unsynced changes saved meanwhile, by name.
    let saved = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let leave = move || {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let message = sync::sign_out(state).await;
            busy.set(false);
            asking.set(false);
            saved.set(None);
            state.flash.set(message);
        });
    };
    let sign_out = move |_| {
        if state.pending.get_untracked() > 0 {
            error.set(None);
            asking.set(true);
        } else {
            leave();
        }
    };
    let sync_now = move |_| leptos::task::spawn_local(sync::run(state));
    let save = move |_| {
        error.set(None);
        leptos::task::spawn_local(async move {
            match crate::routes::backup::save_unsynced(state).await {
                Ok((name, _)) => saved.set(Some(name)),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let can_sync = move || state.pending.get() != 0 && !state.sync.get().unreachable;
    let unsynced = move || match state.pending.get() {
        0 => "Every change made on this device has reached the server.".to_string(),
        1 => "1 change made on this device has not reached the server yet.".to_string(),
        n => format!("{n} changes made on this device have not reached the server yet."),
    };
    view! {
        {move || state.account().map(|a| view! {
            <section class="card">
                <h2>"Signed in"</h2>
                <p><strong>{a.name.clone()}</strong>" ("{a.username.clone()}"), "{a.role.label()}" at "{a.site_name.clone()}"."</p>
                {(!a.has_session()).then(|| view! {
                    <p class="error">"Your sign-in has ended. Sign in again below to send your changes."</p>
                })}
                <switch::Unlock/>
                <p class="actions">
                    <button type="button" class="button" on:click=sign_out
                        disabled=move || busy.get() || asking.get()>
                        "Sign out of this device"
                    </button>
                </p>
            </section>
        })}
        <Show when=move || asking.get() && state.account().is_some()>
            <section class="card warning leaving" aria-labelledby="leaving-title">
                <h2 id="leaving-title">"Before you sign out"</h2>
                <p class="leaving-count" role="alert">{unsynced}</p>
                <Show when=move || state.pending.get() != 0>
                    <p>"Signing out keeps them on this device, to be sent when it can. But if this device is reset, lost or its browser data cleared before then, they are gone. Send them now, or save them as a file to keep them safe."</p>
                    <p class="actions">
                        <Show when=can_sync>
                            <button type="button" class="button primary" on:click=sync_now
                                disabled=move || state.sync.get().running>"Sync now"</button>
                        </Show>
                        <button type="button" class="button" on:click=save>"Save them as a file"</button>
                    </p>
                </Show>
                <div role="status">
                    {move || saved.get().map(|name| view! {
                        <p class="flash-static">"Saved "{name}". Keep it until the changes are in the register: it can be read on the Backup screen of any device."</p>
                    })}
                </div>
                <Problem error/>
                <p class="actions">
                    {move || if saved.get().is_some() || state.pending.get() == 0 {
                        view! {
                            <button type="button" class="button primary" on:click=move |_| leave()
                                disabled=move || busy.get()>"Sign out"</button>
                        }.into_any()
                    } else {
                        view! {
                            <button type="button" class="button danger" on:click=move |_| leave()
                                disabled=move || busy.get()>"Sign out without saving them"</button>
                        }.into_any()
                    }}
                    <button type="button" class="button" on:click=move |_| asking.set(false)>"Stay signed in"</button>
                </p>
            </section>
        </Show>
    }
}

/// Runs a step with its form busy; its refusal, if any, shows on the form.
fn run_busy(
    busy: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    task: impl std::future::Future<Output = Result<(), String>> + 'static,
) {
    busy.set(true);
    error.set(None);
    leptos::task::spawn_local(async move {
        let outcome = task.await;
        busy.set(false);
        if let Err(message) = outcome {
            error.set(Some(message));
        }
    });
}

/// A refusal or problem on a form, read out when it appears.
#[component]
fn Problem(error: RwSignal<Option<String>>) -> impl IntoView {
    move || {
        error
            .get()
            .map(|m| view! { <p class="error" role="alert">{m}</p> })
    }
}

/// A confirmation on a form, read out when it appears (the live region is always there).
#[component]
fn Done(done: RwSignal<Option<String>>) -> impl IntoView {
    view! {
        <div role="status">
            {move || done.get().map(|m| view! { <p class="flash-static">{m}</p> })}
        </div>
    }
}
