//! A shared device: each person's PIN (set, change, enter it again after the app reopened) and
//! switching to another person signed in here. The crypto is in `crate::pin`.

use super::Problem;
use crate::pin;
use crate::state::use_app;
use crate::sync;
use leptos::prelude::*;

/// Sets or changes the PIN of the person using the device, with what it does and does not
/// protect against.
#[component]
pub fn Pin() -> impl IntoView {
    let state = use_app();
    let pin = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let has_pin = move || state.account().is_some_and(|a| a.has_pin());
    let usable = move || state.token().is_some();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let value = pin.get_untracked().trim().to_string();
        if let Err(message) = pin::check(&value) {
            error.set(Some(message));
            return;
        }
        error.set(None);
        busy.set(true);
        leptos::task::spawn_local(async move {
            match pin::set(state, &value).await {
                Ok(()) => {
                    pin.set(String::new());
                    saved.set(true);
                }
                Err(message) => error.set(Some(message)),
            }
            busy.set(false);
        });
    };
    view! {
        <Show when=usable>
            <form class="card" on:submit=submit novalidate>
                <h2>"Your PIN on this device"</h2>
                <p>"On a shared tablet, colleagues switch user with their PIN, even offline. Your sign-in is kept here locked under your PIN: whoever uses the device as someone else cannot use it or switch to you without the PIN. Five wrong PINs wipe it, and you sign in again with your password."</p>
                <p class="hint" id="pin-limits">"What a PIN does not do: it does not lock the app or encrypt the register kept on this device, and someone who copies this browser's data can try every PIN at leisure, which a 4 to 6 digit PIN does not survive for long. Lock the device itself with a passcode, and sign out on devices you do not control."</p>
                <label for="pin">"PIN for switching to you on this device"</label>
                <p class="hint" id="pin-hint">"4 to 8 digits."</p>
                <input id="pin" type="password" inputmode="numeric" autocomplete="new-password"
                    aria-describedby="pin-hint pin-limits" bind:value=pin on:input=move |_| saved.set(false)/>
                <Problem error/>
                <button type="submit" class="button" disabled=move || busy.get()>
                    {move || if has_pin() { "Change PIN" } else { "Set PIN" }}
                </button>
                <span role="status" class="saved">{move || if busy.get() {
                    Some("Locking your sign-in under the PIN…")
                } else {
                    saved.get().then_some("PIN saved.")
                }}</span>
            </form>
        </Show>
    }
}

/// The person using the device has a PIN that has not been entered since the app opened: their
/// sign-in stays locked (nothing is sent or received) until they enter it.
#[component]
pub fn Unlock() -> impl IntoView {
    let state = use_app();
    let pin = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(account) = state.account_untracked() else {
            return;
        };
        let value = pin.get_untracked();
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let result = pin::unlock(state, &account.username, &value).await;
            busy.set(false);
            pin.set(String::new());
            match result {
                Ok(()) => {
                    sync::restart_stream(state);
                    sync::soon(state);
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };
    view! {
        <Show when=move || state.locked()>
            <form on:submit=submit novalidate>
                <p class="warning" id="unlock-why">"The app was opened again, so your sign-in is locked: enter your PIN to send and receive changes."</p>
                <label for="unlock-pin">"Your PIN"</label>
                <input id="unlock-pin" type="password" inputmode="numeric" autocomplete="off"
                    aria-describedby="unlock-why" bind:value=pin/>
                <Problem error/>
                <button type="submit" class="button primary" disabled=move || busy.get()>"Unlock"</button>
            </form>
        </Show>
    }
}

/// Switch to another person who has signed in on this device, with their PIN (works offline).
#[component]
pub fn SwitchUser() -> impl IntoView {
    let state = use_app();
    let others = Memo::new(move |_| {
        state.settings.with(|s| {
            s.accounts
                .iter()
                .filter(|a| Some(&a.username) != s.active.as_ref())
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let chosen = RwSignal::new(None::<String>);
    let pin = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(username) = chosen.get_untracked() else {
            error.set(Some("Choose who is using the device now.".into()));
            return;
        };
        let Some(account) = others
            .get_untracked()
            .into_iter()
            .find(|a| a.username == username)
        else {
            return;
        };
        let value = pin.get_untracked();
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let result = pin::unlock(state, &username, &value).await;
            busy.set(false);
            pin.set(String::new());
            match result {
                Ok(()) => {
                    chosen.set(None);
                    state
                        .flash
                        .set(Some(format!("{} is now using this device.", account.name)));
                    sync::restart_stream(state);
                    sync::soon(state);
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };
    view! {
        <Show when=move || !others.with(Vec::is_empty)>
            <form class="card" on:submit=submit novalidate>
                <h2>"Switch user"</h2>
                <fieldset>
                    <legend>"Who is using the device now"</legend>
                    <For each=move || others.get() key=|a| (a.username.clone(), a.has_pin()) let:account>
                        <label class="choice">
                            <input type="radio" name="switch-to"
                                prop:checked={let u = account.username.clone(); move || chosen.get().as_ref() == Some(&u)}
                                on:change={let u = account.username.clone(); move |_| chosen.set(Some(u.clone()))}/>
                            {account.name.clone()}" ("{account.role.label()}")"
                            {(!account.has_pin()).then_some(" · no PIN here: signs in with their password")}
                        </label>
                    </For>
                </fieldset>
                <label for="switch-pin">"Their PIN"</label>
                <input id="switch-pin" type="password" inputmode="numeric" autocomplete="off" bind:value=pin/>
                <Problem error/>
                <button type="submit" class="button primary" disabled=move || busy.get()>"Switch"</button>
                <span role="status" class="saved">{move || busy.get().then_some("Checking the PIN…")}</span>
            </form>
        </Show>
    }
}
