//! "Forgot your password?" (on the sign-in form, when the server sends e-mail) and the page
//! its mailed link opens, `/reset#token=…`: the new password twice, through the server's
//! password rule. The token is after `#`, so it never reaches the server's or a proxy's logs;
//! the page takes it out of the address bar at once.

use super::sign_in::check_new_password_twice;
use super::{run_busy, Done, Problem};
use crate::api;
use crate::components::Back;
use keyward_core::sync::{ResetComplete, PASSWORD_RULE};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The "Forgot your password?" link and its form, shown only when the server sends e-mail.
#[component]
pub fn Forgot(username: RwSignal<String>) -> impl IntoView {
    let configured = RwSignal::new(false);
    let open = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    leptos::task::spawn_local(async move {
        if let Ok(status) = api::mail_status().await {
            configured.set(status.configured);
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        done.set(None);
        let user = username.get_untracked().trim().to_string();
        if user.is_empty() {
            error.set(Some("Enter your username.".into()));
            return;
        }
        run_busy(busy, error, async move {
            api::request_reset(&user).await.map_err(|e| e.to_string())?;
            done.set(Some(format!(
                "If the account \u{201c}{user}\u{201d} has an e-mail address, a link to set a new password is on its way to it. The link works once, within an hour. No mail after a few minutes? Ask your site\u{2019}s admin to set a new password for you."
            )));
            Ok(())
        });
    };
    view! {
        <Show when=move || configured.get()>
            <section class="card forgot">
            <p>
                <button type="button" class="link" aria-expanded=move || open.get().to_string()
                    on:click=move |_| open.update(|o| *o = !*o)>"Forgot your password?"</button>
            </p>
            <Show when=move || open.get()>
                <form on:submit=submit novalidate>
                    <label for="forgot-user">"Your username"</label>
                    <p class="hint" id="forgot-user-hint">"We send a link to set a new password to the e-mail address on your account."</p>
                    <input id="forgot-user" autocomplete="username" autocapitalize="none"
                        aria-describedby="forgot-user-hint" bind:value=username/>
                    <Problem error/>
                    <button type="submit" class="button" disabled=move || busy.get()>"Send me a link"</button>
                    <Done done/>
                </form>
            </Show>
            </section>
        </Show>
    }
}

/// `/reset#token=…`: sets a new password with the mailed link.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let hash = use_location().hash.get_untracked();
    let token = hash
        .trim_start_matches('#')
        .split('&')
        .find_map(|part| part.strip_prefix("token="))
        .unwrap_or_default()
        .to_string();
    if !hash.is_empty() {
        // Out of the address bar and the history: the token is a secret. Replaced in the
        // browser's history directly, so the router does not open the page afresh.
        if let Ok(history) = window().history() {
            let _ =
                history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/reset"));
        }
    }
    let token = StoredValue::new(token);
    let new = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let fresh = new.get_untracked();
        if let Err(message) = check_new_password_twice(&fresh, &again.get_untracked()) {
            error.set(Some(message));
            return;
        }
        run_busy(busy, error, async move {
            let reset = ResetComplete {
                token: token.get_value(),
                password: fresh,
            };
            api::complete_reset(&reset)
                .await
                .map_err(|e| e.to_string())?;
            new.set(String::new());
            again.set(String::new());
            done.set(true);
            Ok(())
        });
    };
    view! {
        <Back href="/sync" label="Sync and sign-in"/>
        <h1>"Set a new password"</h1>
        {move || if done.get() {
            view! {
                <section class="card">
                    <p class="flash-static" role="status">"Your password is changed, and you are signed out on every device. Sign in with the new password."</p>
                    <p><a class="button primary" href="/sync">"Sign in"</a></p>
                </section>
            }.into_any()
        } else if token.with_value(|t| t.is_empty()) {
            view! {
                <section class="card">
                    <p class="error" role="alert">"This page needs the link from the e-mail, whole. Open the link in the mail again, or ask for a new one with \u{201c}Forgot your password?\u{201d} on the sign-in screen."</p>
                </section>
            }.into_any()
        } else {
            view! {
                <form class="card" on:submit=submit novalidate>
                    <label for="reset-new">"New password"</label>
                    <p class="hint" id="reset-new-hint">{PASSWORD_RULE}</p>
                    <input id="reset-new" type="password" autocomplete="new-password"
                        aria-describedby="reset-new-hint" bind:value=new/>
                    <label for="reset-again">"New password again"</label>
                    <input id="reset-again" type="password" autocomplete="new-password" bind:value=again/>
                    <Problem error/>
                    <button type="submit" class="button primary" disabled=move || busy.get()>"Set new password"</button>
                </form>
            }.into_any()
        }}
    }
}
