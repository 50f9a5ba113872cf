//! Signed-in devices: one's own (sign out a lost or forgotten one), and the list an admin sees
//! of a user's (`users.rs`). Ending a session makes that device's next sync ask to sign in.

use super::{Done, Problem};
use crate::api::{self, ApiError};
use crate::components::local_date_time;
use crate::state::use_app;
use keyward_core::sync::DeviceSession;
use keyward_core::DeviceId;
use leptos::prelude::*;

/// Where a device list comes from: one's own sessions, or a user's (admins).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Whose {
    Own,
    User { username: String, name: String },
}

/// "Device 3F9A": the last characters of its id, enough to tell a person's devices apart.
fn device_name(device: DeviceId) -> String {
    let id = device.to_string().to_uppercase();
    format!("Device {}", &id[id.len().saturating_sub(4)..])
}

/// Your own signed-in devices.
#[component]
pub fn OwnDevices() -> impl IntoView {
    let state = use_app();
    view! {
        <Show when=move || state.token().is_some()>
            <section class="card">
                <h2>"Your signed-in devices"</h2>
                <p class="hint">"Lost a phone, or signed in on a computer you no longer use? Sign that device out here: it can no longer send or receive anything until someone signs in on it again."</p>
                <DeviceList whose=Whose::Own/>
            </section>
        </Show>
    }
}

/// The signed-in devices of `whose`, each with "Sign out this device" (not the one in use:
/// that is "Sign out of this device" above).
#[component]
pub fn DeviceList(whose: Whose) -> impl IntoView {
    let state = use_app();
    let sessions = RwSignal::new(None::<Vec<DeviceSession>>);
    let error = RwSignal::new(None::<String>);
    let unlisted = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let whose = StoredValue::new(whose);
    let load = move || {
        let Some(token) = state.token_untracked() else {
            return;
        };
        leptos::task::spawn_local(async move {
            let listed = match whose.get_value() {
                Whose::Own => api::sessions(&token).await,
                Whose::User { username, .. } => api::user_sessions(&token, &username).await,
            };
            match listed {
                Ok(list) => {
                    sessions.set(Some(list));
                    unlisted.set(None);
                }
                // Not an alert: nothing went wrong that the person did.
                Err(ApiError::Unreachable) => unlisted.set(Some(
                    "The list of signed-in devices comes from the server: it shows when this device is online.".into(),
                )),
                Err(e) => unlisted.set(Some(e.to_string())),
            }
        });
    };
    load();
    let end = move |session: DeviceSession| {
        let Some(token) = state.token_untracked() else {
            return;
        };
        leptos::task::spawn_local(async move {
            match api::end_session(&token, &session.id).await {
                Ok(()) => {
                    let whom = match whose.get_value() {
                        Whose::Own => String::new(),
                        Whose::User { name, .. } => format!(" of {name}"),
                    };
                    done.set(Some(format!(
                        "{}{whom} is signed out. Its next sync asks to sign in again.",
                        device_name(session.device)
                    )));
                    error.set(None);
                    load();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let here = state.device();
    view! {
        {move || sessions.get().map(|list| if list.is_empty() {
            view! { <p>"Not signed in on any device."</p> }.into_any()
        } else {
            view! {
                <ul class="plain devices">
                    {list.into_iter().map(|session| {
                        let this = session.current || (whose.with_value(|w| *w == Whose::Own) && session.device == here);
                        let name = if this { "This device".to_string() } else { device_name(session.device) };
                        let shown = name.clone();
                        view! {
                            <li class="device">
                                <p>
                                    <strong>{shown}</strong>
                                    <br/>
                                    <span class="meta">"Signed in "{local_date_time(session.signed_in)}", last used "{local_date_time(session.last_used)}</span>
                                </p>
                                {(!this).then(|| {
                                    let which = format!(" ({name})");
                                    view! {
                                        <button type="button" class="button small" on:click=move |_| end(session.clone())>
                                            "Sign out this device"<span class="visually-hidden">{which}</span>
                                        </button>
                                    }
                                })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any()
        })}
        {move || unlisted.get().map(|m| view! { <p class="hint">{m}</p> })}
        <Problem error/>
        <Done done/>
    }
}
