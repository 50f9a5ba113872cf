//! Signing in (a new device, or another person on this one), and putting this device's site
//! on a server with the set-up code its operator was given.

use super::reset::Forgot;
use super::{run_busy, Problem};
use crate::api;
use crate::settings::Account;
use crate::state::use_app;
use crate::sync;
use keyward_core::sync::{
    Login, NewSite, PASSWORD_MIN_CHARS, PASSWORD_MIN_NON_SPACE, PASSWORD_RULE,
};
use leptos::prelude::*;

/// The length a new password needs (`PASSWORD_RULE` says it beside every field that sets
/// one), checked here before it goes to the server, which also judges how guessable it is
/// and refuses with a sentence shown as it is.
pub fn check_new_password(password: &str) -> Result<(), String> {
    let solid = password.chars().filter(|c| !c.is_whitespace()).count();
    if password.chars().count() < PASSWORD_MIN_CHARS || solid < PASSWORD_MIN_NON_SPACE {
        Err(format!(
            "Choose a longer password, of at least {PASSWORD_MIN_CHARS} characters: three or four random words work well, like \u{2018}orange cloud ladder\u{2019}."
        ))
    } else {
        Ok(())
    }
}

/// A new password typed twice (changing one's own, or from a reset link): the length rule,
/// then the two must agree.
pub fn check_new_password_twice(password: &str, again: &str) -> Result<(), String> {
    check_new_password(password)?;
    if password != again {
        return Err("The two new passwords are not the same. Type the new one twice.".into());
    }
    Ok(())
}

/// Sign in with a username and password (a new device, or another person on this one).
#[component]
pub fn SignIn() -> impl IntoView {
    let state = use_app();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let enrolled = move || state.settings.with(|s| s.enrolled());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (user, pass) = (username.get_untracked(), password.get_untracked());
        if user.trim().is_empty() || pass.is_empty() {
            error.set(Some("Enter your username and password.".into()));
            return;
        }
        run_busy(busy, error, async move {
            let session = api::login(&Login {
                username: user.trim().to_string(),
                password: pass,
                device: state.device(),
            })
            .await
            .map_err(|e| e.to_string())?;
            // A device holding another site's register cannot join this one.
            let other = state.register.with_untracked(|r| {
                r.sites()
                    .find(|s| s.id != session.site)
                    .map(|s| s.name.clone())
            });
            if let Some(name) = other {
                let _ = api::logout(&session.token).await;
                return Err(format!(
                    "This device holds the register of {name}, which is not the site of this account. Use another device, or sign in with an account of {name}."
                ));
            }
            password.set(String::new());
            username.set(String::new());
            sync::signed_in(state, Account::from_session(session)).await
        });
    };
    view! {
        <form class="card" on:submit=submit novalidate>
            <h2>{move || if enrolled() { "Sign in as someone else" } else { "Sign in to a site" }}</h2>
            <label for="signin-user">"Username"</label>
            <input id="signin-user" autocomplete="username" autocapitalize="none" bind:value=username/>
            <label for="signin-password">"Password"</label>
            <input id="signin-password" type="password" autocomplete="current-password" bind:value=password/>
            <Problem error/>
            <button type="submit" class="button primary" disabled=move || busy.get()>"Sign in"</button>
            {move || state.sync.get().progress.filter(|(h, t)| h < t).map(|(held, head)| view! {
                <p role="status">"Downloading the register: "{keyward_core::format::thousands(held as usize)}" of "{keyward_core::format::thousands(head as usize)}" changes…"</p>
                <progress max=head value=held aria-label="Downloading the register"></progress>
            })}
        </form>
        <Forgot username/>
    }
}

/// Puts this device's site on the server, with the person using it as its first admin. The
/// server asks for its set-up code, so a stranger who finds the server cannot start a site.
#[component]
pub fn PutOnServer() -> impl IntoView {
    let state = use_app();
    let site = Memo::new(move |_| {
        let site = state.site();
        state.register.with(|r| {
            let count = r.sites().count();
            site.and_then(|s| r.site(s))
                .map(|s| (s.id, s.name.clone(), count))
        })
    });
    let code = RwSignal::new(String::new());
    let username = RwSignal::new(String::new());
    let name = RwSignal::new(state.user());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some((site_id, site_name, count)) = site.get_untracked() else {
            return;
        };
        if count > 1 {
            error.set(Some("This device holds more than one site. A server takes one site from a device: use one device per site.".into()));
            return;
        }
        let (setup_code, user, full, pass) = (
            code.get_untracked().trim().to_string(),
            username.get_untracked(),
            name.get_untracked(),
            password.get_untracked(),
        );
        if setup_code.is_empty() {
            error.set(Some(
                "Enter the set-up code that the Keyward server printed when it started.".into(),
            ));
            return;
        }
        if user.trim().is_empty() || full.trim().is_empty() {
            error.set(Some("Enter your name and a username.".into()));
            return;
        }
        if let Err(message) = check_new_password(&pass) {
            error.set(Some(message));
            return;
        }
        run_busy(busy, error, async move {
            let session = api::register_site(&NewSite {
                site: site_id,
                site_name: site_name.clone(),
                username: user.trim().to_string(),
                name: full.trim().to_string(),
                password: pass,
                device: state.device(),
                setup_code,
            })
            .await
            .map_err(|e| e.to_string())?;
            password.set(String::new());
            code.set(String::new());
            sync::signed_in(state, Account::from_session(session)).await?;
            state.flash.set(Some(format!(
                "{site_name} is on the server. You are its admin."
            )));
            Ok(())
        });
    };
    view! {
        {move || site.get().map(|(_, site_name, _)| view! {
            <form class="card" on:submit=submit novalidate>
                <h2>"Put "{site_name.clone()}" on the server"</h2>
                <p class="hint">"Everything recorded on this device is sent to the server. You become the site's admin and can then add colleagues."</p>
                <label for="reg-code">"Set-up code"</label>
                <p class="hint" id="reg-code-hint">"Whoever runs the Keyward server has it: the server prints it when it starts, after “Set-up code for a new site”. It looks like ABCD-EFGH-JKLM and works once, within 24 hours."</p>
                <input id="reg-code" autocomplete="off" autocapitalize="characters" spellcheck="false"
                    aria-describedby="reg-code-hint" bind:value=code/>
                <label for="reg-name">"Your name"</label>
                <input id="reg-name" autocomplete="name" bind:value=name/>
                <label for="reg-user">"Username"</label>
                <input id="reg-user" autocomplete="username" autocapitalize="none" bind:value=username/>
                <label for="reg-password">"Choose a password"</label>
                <p class="hint" id="reg-password-hint">{PASSWORD_RULE}</p>
                <input id="reg-password" type="password" autocomplete="new-password"
                    aria-describedby="reg-password-hint" bind:value=password/>
                <Problem error/>
                <button type="submit" class="button primary" disabled=move || busy.get()>"Put the site on the server"</button>
            </form>
        })}
    }
}
