//! One's own e-mail address: where the server sends a lost master key's alert and the
//! overdue digest (admins and key custodians) and the link of "Forgot your password?".
//! The server checks the address and says what is wrong.

use super::{run_busy, Done, Problem};
use crate::api::{self, ApiError};
use crate::state::use_app;
use leptos::prelude::*;

#[component]
pub fn OwnEmail() -> impl IntoView {
    let state = use_app();
    let email = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    Effect::new(move |_| {
        let Some(token) = state.token() else {
            return;
        };
        leptos::task::spawn_local(async move {
            match api::own_email(&token).await {
                Ok(found) => email.set(found.email.unwrap_or_default()),
                Err(ApiError::Unreachable) => {}
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        done.set(None);
        let Some(token) = state.token_untracked() else {
            error.set(Some(
                "Your sign-in is locked or has ended: enter your PIN or sign in again first."
                    .into(),
            ));
            return;
        };
        let typed = email.get_untracked();
        run_busy(busy, error, async move {
            let saved = api::set_own_email(&token, &typed)
                .await
                .map_err(|e| e.to_string())?;
            done.set(Some(match &saved.email {
                Some(address) => format!("Mail for you now goes to {address}."),
                None => "Your e-mail address is removed: the server sends you no mail.".into(),
            }));
            email.set(saved.email.unwrap_or_default());
            Ok(())
        });
    };
    view! {
        <Show when=move || state.token().is_some()>
            <form class="card" on:submit=submit novalidate>
                <h2>"Your e-mail address"</h2>
                <label for="own-email">"E-mail address"</label>
                <p class="hint" id="own-email-hint">"For a link to set a new password if you forget it, and for admins and key custodians, alerts of a lost master key and a morning list of overdue keys. Leave it empty for no mail."</p>
                <input id="own-email" type="email" autocomplete="email" autocapitalize="none"
                    spellcheck="false" aria-describedby="own-email-hint" bind:value=email/>
                <Problem error/>
                <button type="submit" class="button" disabled=move || busy.get()>"Save e-mail address"</button>
                <Done done/>
            </form>
        </Show>
    }
}
