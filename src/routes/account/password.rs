//! Changing one's own password: the current one, the new one twice. The server refuses a
//! guessable password with a sentence, shown as it is, and ends the account's other sessions.

use super::sign_in::check_new_password_twice;
use super::{run_busy, Done, Problem};
use crate::api;
use crate::state::use_app;
use keyward_core::sync::{PasswordChange, PASSWORD_RULE};
use leptos::prelude::*;

#[component]
pub fn ChangePassword() -> impl IntoView {
    let state = use_app();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
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
        let (old, fresh) = (current.get_untracked(), new.get_untracked());
        if old.is_empty() {
            error.set(Some("Enter your current password.".into()));
            return;
        }
        if let Err(message) = check_new_password_twice(&fresh, &again.get_untracked()) {
            error.set(Some(message));
            return;
        }
        run_busy(busy, error, async move {
            let change = PasswordChange {
                current: old,
                new: fresh,
            };
            api::change_password(&token, &change)
                .await
                .map_err(|e| e.to_string())?;
            for field in [current, new, again] {
                field.set(String::new());
            }
            done.set(Some(
                "Password changed. You are still signed in here; your other devices are signed out and sign in with the new password.".into(),
            ));
            Ok(())
        });
    };
    view! {
        <Show when=move || state.token().is_some()>
            <form class="card" on:submit=submit novalidate>
                <h2>"Change your password"</h2>
                <label for="password-current">"Current password"</label>
                <input id="password-current" type="password" autocomplete="current-password" bind:value=current/>
                <label for="password-new">"New password"</label>
                <p class="hint" id="password-new-hint">{PASSWORD_RULE}</p>
                <input id="password-new" type="password" autocomplete="new-password"
                    aria-describedby="password-new-hint" bind:value=new/>
                <label for="password-again">"New password again"</label>
                <input id="password-again" type="password" autocomplete="new-password" bind:value=again/>
                <Problem error/>
                <button type="submit" class="button" disabled=move || busy.get()>"Change password"</button>
                <Done done/>
            </form>
        </Show>
    }
}
