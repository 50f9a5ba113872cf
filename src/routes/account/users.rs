//! The site's users, for admins: who they are and their roles, adding one, removing one, and
//! for each their signed-in devices (sign out a lost phone), a new password and their e-mail
//! address.

use super::devices::{DeviceList, Whose};
use super::sign_in::check_new_password;
use super::{Done, Problem};
use crate::api::{self, ApiError};
use crate::state::use_app;
use keyward_core::sync::{NewUser, PasswordReset, User, PASSWORD_RULE};
use keyward_core::{Action, Role};
use leptos::prelude::*;

#[component]
pub fn Users() -> impl IntoView {
    let state = use_app();
    let may = move || state.allowed(Action::ManageUsers).is_ok() && state.token().is_some();
    let users = RwSignal::new(Vec::<User>::new());
    let load_error = RwSignal::new(None::<String>);
    let load = move || {
        let Some(token) = state.token_untracked() else {
            return;
        };
        leptos::task::spawn_local(async move {
            match api::users(&token).await {
                Ok(list) => {
                    users.set(list);
                    load_error.set(None);
                }
                Err(ApiError::Unreachable) => load_error.set(Some(
                    "The list of users comes from the server: it shows when this device is online."
                        .into(),
                )),
                Err(e) => load_error.set(Some(e.to_string())),
            }
        });
    };
    Effect::new(move |_| {
        if may() {
            load();
        }
    });
    let error = RwSignal::new(None::<String>);
    let added = RwSignal::new(None::<String>);
    view! {
        <Show when=may>
            <section class="card">
                <h2>"Users of this site"</h2>
                {move || load_error.get().map(|m| view! { <p class="hint">{m}</p> })}
                <ul class="plain users">
                    <For each=move || users.get() key=|u| (u.username.clone(), u.role) let:user>
                        <UserRow user changed=Callback::new(move |message: String| {
                            error.set(None);
                            added.set(Some(message));
                            load();
                        }) failed=Callback::new(move |message: String| {
                            added.set(None);
                            error.set(Some(message));
                        })/>
                    </For>
                </ul>
                <Done done=added/>
                <AddUser added=Callback::new(move |message: String| {
                    added.set(Some(message));
                    load();
                })/>
            </section>
        </Show>
    }
}

#[component]
fn AddUser(added: Callback<String>) -> impl IntoView {
    let state = use_app();
    let username = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Staff);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(token) = state.token_untracked() else {
            error.set(Some("Sign in again to add users.".into()));
            return;
        };
        let address = email.get_untracked().trim().to_string();
        let (u, n, p, r) = (
            username.get_untracked(),
            name.get_untracked(),
            password.get_untracked(),
            role.get_untracked(),
        );
        if let Err(message) = check_new_password(&p) {
            error.set(Some(message));
            return;
        }
        leptos::task::spawn_local(async move {
            let new = NewUser {
                username: u.trim().to_string(),
                name: n.trim().to_string(),
                role: r,
                password: p,
                email: (!address.is_empty()).then_some(address),
            };
            match api::add_user(&token, &new).await {
                Ok(user) => {
                    error.set(None);
                    username.set(String::new());
                    name.set(String::new());
                    password.set(String::new());
                    email.set(String::new());
                    added.run(format!(
                        "{} can now sign in as {}.",
                        user.name, user.username
                    ));
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <form on:submit=submit novalidate>
            <h3>"Add a user"</h3>
            <label for="new-user-name">"Name"</label>
            <input id="new-user-name" autocomplete="off" bind:value=name/>
            <label for="new-user-username">"Username"</label>
            <input id="new-user-username" autocomplete="off" autocapitalize="none" bind:value=username/>
            <label for="new-user-role">"Role"</label>
            <select id="new-user-role" on:change=move |ev| {
                if let Some(r) = Role::parse(&event_target_value(&ev)) { role.set(r) }
            }>
                {Role::ALL.into_iter().map(|r| view! {
                    <option value=r.as_str() selected=move || role.get() == r>{r.label()}</option>
                }).collect_view()}
            </select>
            <label for="new-user-password">"First password"</label>
            <p class="hint" id="new-user-password-hint">{PASSWORD_RULE}" Tell it to them in person; they can change it once signed in."</p>
            <input id="new-user-password" type="password" autocomplete="new-password"
                aria-describedby="new-user-password-hint" bind:value=password/>
            <label for="new-user-email">"E-mail address (if they have one)"</label>
            <p class="hint" id="new-user-email-hint">"For a link to set a new password if they forget it; admins and key custodians also get lost master key alerts and the overdue keys each morning."</p>
            <input id="new-user-email" type="email" autocomplete="off" autocapitalize="none" spellcheck="false"
                aria-describedby="new-user-email-hint" bind:value=email/>
            <Problem error/>
            <button type="submit" class="button primary">"Add user"</button>
        </form>
    }
}

/// One user of the site: their role, changed at once when chosen, removal, and (opened on
/// demand) their signed-in devices and a new password.
#[component]
fn UserRow(user: User, changed: Callback<String>, failed: Callback<String>) -> impl IntoView {
    let state = use_app();
    let me = state.account().map(|a| a.username) == Some(user.username.clone());
    let id = format!("role-{}", user.username);
    let username = StoredValue::new(user.username.clone());
    let name = StoredValue::new(user.name.clone());
    let email = StoredValue::new(user.email.clone());
    let open = RwSignal::new(false);
    let set_role = move |ev: leptos::ev::Event| {
        let Some(role) = Role::parse(&event_target_value(&ev)) else {
            return;
        };
        let Some(token) = state.token_untracked() else {
            return;
        };
        leptos::task::spawn_local(async move {
            match api::set_role(&token, &username.get_value(), role).await {
                Ok(user) => changed.run(format!("{} is now {}.", user.name, user.role.label())),
                Err(e) => failed.run(e.to_string()),
            }
        });
    };
    let remove = move |_| {
        let Some(token) = state.token_untracked() else {
            return;
        };
        leptos::task::spawn_local(async move {
            match api::remove_user(&token, &username.get_value()).await {
                Ok(()) => changed.run(format!(
                    "{} was removed and can no longer sign in.",
                    name.get_value()
                )),
                Err(e) => failed.run(e.to_string()),
            }
        });
    };
    let whose = Whose::User {
        username: user.username.clone(),
        name: user.name.clone(),
    };
    view! {
        <li class="user">
            <label for=id.clone()><strong>{user.name.clone()}</strong>" ("{user.username.clone()}")"</label>
            {user.email.clone().map(|e| view! { <span class="hint user-email">" "{e}</span> })}
            <div class="actions">
                <select id=id on:change=set_role aria-label=format!("Role of {}", user.name)>
                    {Role::ALL.into_iter().map(|r| view! {
                        <option value=r.as_str() selected=r == user.role>{r.label()}</option>
                    }).collect_view()}
                </select>
                {(!me).then(|| view! {
                    <button type="button" class="button small" on:click=remove
                        aria-label=format!("Remove {}", user.name)>"Remove"</button>
                    <button type="button" class="button small" aria-expanded=move || open.get().to_string()
                        aria-label=format!("Devices and password of {}", user.name)
                        on:click=move |_| open.update(|o| *o = !*o)>"Devices and password"</button>
                })}
            </div>
            {move || open.get().then(|| view! {
                <div class="user-more">
                    <h4>"Signed-in devices of "{name.get_value()}</h4>
                    <DeviceList whose=whose.clone()/>
                    <ResetPassword username=username.get_value() name=name.get_value() done=changed/>
                    <UserEmail username=username.get_value() name=name.get_value()
                        email=email.get_value().unwrap_or_default() done=changed/>
                </div>
            })}
        </li>
    }
}

/// An admin sets a user's password (forgotten, or given away): all of that user's sessions end.
#[component]
fn ResetPassword(username: String, name: String, done: Callback<String>) -> impl IntoView {
    let state = use_app();
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let id = format!("reset-{username}");
    let hint = format!("reset-{username}-hint");
    let who = StoredValue::new((username, name.clone()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(token) = state.token_untracked() else {
            return;
        };
        let value = password.get_untracked();
        if let Err(message) = check_new_password(&value) {
            error.set(Some(message));
            return;
        }
        let (username, name) = who.get_value();
        leptos::task::spawn_local(async move {
            match api::reset_password(&token, &username, &PasswordReset { password: value }).await {
                Ok(()) => {
                    password.set(String::new());
                    error.set(None);
                    done.run(format!("{name} has a new password and is signed out on every device. Tell them the password in person."));
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <form on:submit=submit novalidate>
            <label for=id.clone()>"New password for "{name}</label>
            <p class="hint" id=hint.clone()>{PASSWORD_RULE}" Every device they are signed in on is signed out."</p>
            <input id=id type="password" autocomplete="new-password" aria-describedby=hint bind:value=password/>
            <Problem error/>
            <button type="submit" class="button">"Set new password"</button>
        </form>
    }
}

/// An admin sets (or, empty, removes) a user's e-mail address.
#[component]
fn UserEmail(
    username: String,
    name: String,
    email: String,
    done: Callback<String>,
) -> impl IntoView {
    let state = use_app();
    let address = RwSignal::new(email);
    let error = RwSignal::new(None::<String>);
    let id = format!("email-{username}");
    let who = StoredValue::new((username, name.clone()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(token) = state.token_untracked() else {
            return;
        };
        let typed = address.get_untracked();
        let (username, name) = who.get_value();
        leptos::task::spawn_local(async move {
            match api::set_user_email(&token, &username, &typed).await {
                Ok(saved) => {
                    error.set(None);
                    done.run(match saved.email {
                        Some(e) => format!("Mail for {name} now goes to {e}."),
                        None => format!("{name} has no e-mail address now."),
                    });
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <form on:submit=submit novalidate>
            <label for=id.clone()>"E-mail address of "{name}</label>
            <input id=id type="email" autocomplete="off" autocapitalize="none" spellcheck="false" bind:value=address/>
            <Problem error/>
            <button type="submit" class="button">"Save e-mail address"</button>
        </form>
    }
}
