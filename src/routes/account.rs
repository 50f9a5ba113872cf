//! Sync and sign-in (`/sync`): the sync status in full, changes the server refused, who is
//! signed in, switching user on a shared device with a PIN, putting this device's site on a
//! server or signing in to one, and (for admins) the site's users.

use crate::api;
use crate::components::{local_date_time, Back};
use crate::settings::Account;
use crate::state::{use_app, AppState, Crypto};
use crate::sync;
use keyward_core::sync::{Login, NewSite, NewUser, User};
use keyward_core::{Action, Entropy, Role};
use leptos::prelude::*;
use sha2::{Digest, Sha256};

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
                <SwitchUser/>
                <Users/>
            }.into_any()
        } else {
            view! {
                <section class="card">
                    <h2>"This device only"</h2>
                    <p>"The register is kept on this device and nowhere else. Sign in to a Keyward server so that several phones and tablets share one register and keep working offline."</p>
                </section>
                <SignIn/>
                <Register/>
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
    let waiting = match pending {
        0 => None,
        1 => Some("1 change waiting".to_string()),
        n => Some(format!("{n} changes waiting")),
    };
    if status.unreachable {
        return match waiting {
            Some(w) => format!("Offline · {w}"),
            None => "Offline".into(),
        };
    }
    if status.problem.is_some() {
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

#[component]
fn SignedIn() -> impl IntoView {
    let state = use_app();
    let error = RwSignal::new(None::<String>);
    let pin = RwSignal::new(String::new());
    let pin_saved = RwSignal::new(false);
    let sign_out = move |_| {
        let Some(account) = state.account() else {
            return;
        };
        let mine = state
            .outbox()
            .iter()
            .filter(|o| o.pos.is_none() && o.user == account.username)
            .count();
        if mine > 0 {
            error.set(Some(format!(
                "{mine} of your changes are still waiting to be sent. Sync first, then sign out."
            )));
            return;
        }
        leptos::task::spawn_local(async move {
            if let Some(token) = &account.token {
                api::logout(token).await;
            }
            state.settings.update(|s| {
                s.accounts.retain(|a| a.username != account.username);
                s.active = s.accounts.first().map(|a| a.username.clone());
            });
            sync::restart_stream(state);
        });
    };
    let set_pin = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let value = pin.get_untracked().trim().to_string();
        if !(4..=8).contains(&value.len()) || !value.chars().all(|c| c.is_ascii_digit()) {
            error.set(Some("A PIN is 4 to 8 digits.".into()));
            return;
        }
        error.set(None);
        let hashed = hash_pin(&value, None);
        state.settings.update(|s| {
            if let Some(active) = s.active.clone() {
                if let Some(a) = s.accounts.iter_mut().find(|a| a.username == active) {
                    a.pin = Some(hashed);
                }
            }
        });
        pin.set(String::new());
        pin_saved.set(true);
    };
    view! {
        {move || state.account().map(|a| view! {
            <section class="card">
                <h2>"Signed in"</h2>
                <p><strong>{a.name.clone()}</strong>" ("{a.username.clone()}"), "{a.role.label()}" at "{a.site_name.clone()}"."</p>
                {a.token.is_none().then(|| view! {
                    <p class="error">"Your sign-in has ended. Sign in again below to send your changes."</p>
                })}
                <form on:submit=set_pin novalidate>
                    <label for="pin">"PIN for switching to you on this device"</label>
                    <p class="hint" id="pin-hint">"4 to 8 digits. On a shared tablet, colleagues switch user with their PIN, even offline."</p>
                    <input id="pin" type="password" inputmode="numeric" autocomplete="new-password" aria-describedby="pin-hint"
                        bind:value=pin on:input=move |_| pin_saved.set(false)/>
                    <button type="submit" class="button">{if a.pin.is_some() { "Change PIN" } else { "Set PIN" }}</button>
                    <span role="status" class="saved">{move || pin_saved.get().then_some("PIN saved.")}</span>
                </form>
                {move || error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
                <p class="actions">
                    <button type="button" class="button" on:click=sign_out>"Sign out of this device"</button>
                </p>
            </section>
        })}
        <SignIn/>
    }
}

/// "salt:sha256(salt:pin)" in hex; with `salt` given, the hash to compare.
fn hash_pin(pin: &str, salt: Option<&str>) -> String {
    let salt = salt.map(str::to_string).unwrap_or_else(|| {
        let mut entropy = Crypto::new();
        format!("{:016x}", entropy.next_u64())
    });
    let digest = Sha256::digest(format!("{salt}:{pin}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{salt}:{hex}")
}

fn pin_matches(account: &Account, pin: &str) -> bool {
    account.pin.as_deref().is_some_and(|stored| {
        let salt = stored.split(':').next().unwrap_or_default();
        hash_pin(pin.trim(), Some(salt)) == stored
    })
}

/// Switch to another person who has signed in on this device, with their PIN (works offline).
#[component]
fn SwitchUser() -> impl IntoView {
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
        if account.pin.is_none() {
            error.set(Some(format!(
                "{} has no PIN on this device yet. They sign in with their password below, then set one.",
                account.name
            )));
            return;
        }
        if !pin_matches(&account, &pin.get_untracked()) {
            error.set(Some("That PIN is not right. Try again.".into()));
            return;
        }
        error.set(None);
        pin.set(String::new());
        state.settings.update(|s| s.active = Some(username));
        state
            .flash
            .set(Some(format!("{} is now using this device.", account.name)));
        sync::restart_stream(state);
    };
    view! {
        <Show when=move || !others.with(Vec::is_empty)>
            <form class="card" on:submit=submit novalidate>
                <h2>"Switch user"</h2>
                <fieldset>
                    <legend>"Who is using the device now"</legend>
                    <For each=move || others.get() key=|a| a.username.clone() let:account>
                        <label class="choice">
                            <input type="radio" name="switch-to"
                                prop:checked={let u = account.username.clone(); move || chosen.get().as_ref() == Some(&u)}
                                on:change={let u = account.username.clone(); move |_| chosen.set(Some(u.clone()))}/>
                            {account.name.clone()}" ("{account.role.label()}")"
                        </label>
                    </For>
                </fieldset>
                <label for="switch-pin">"Their PIN"</label>
                <input id="switch-pin" type="password" inputmode="numeric" autocomplete="off" bind:value=pin/>
                {move || error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
                <button type="submit" class="button primary">"Switch"</button>
            </form>
        </Show>
    }
}

/// Sign in with a username and password (a new device, or another person on this one).
#[component]
fn SignIn() -> impl IntoView {
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
                api::logout(&session.token).await;
                return Err(format!(
                    "This device holds the register of {name}, which is not the site of this account. Use another device, or sign in with an account of {name}."
                ));
            }
            password.set(String::new());
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
            {move || error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
            <button type="submit" class="button primary" disabled=move || busy.get()>"Sign in"</button>
            {move || state.sync.get().progress.filter(|(h, t)| h < t).map(|(held, head)| view! {
                <p role="status">"Downloading the register: "{keyward_core::format::thousands(held as usize)}" of "{keyward_core::format::thousands(head as usize)}" changes…"</p>
                <progress max=head value=held></progress>
            })}
        </form>
    }
}

/// Runs a sign-in step with its form busy; its refusal, if any, shows on the form.
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

/// Puts this device's site on the server, with the person using it as its first admin.
#[component]
fn Register() -> impl IntoView {
    let state = use_app();
    let site = Memo::new(move |_| {
        let site = state.site();
        state.register.with(|r| {
            let count = r.sites().count();
            site.and_then(|s| r.site(s))
                .map(|s| (s.id, s.name.clone(), count))
        })
    });
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
        let (user, full, pass) = (
            username.get_untracked(),
            name.get_untracked(),
            password.get_untracked(),
        );
        if user.trim().is_empty() || full.trim().is_empty() {
            error.set(Some("Enter your name and a username.".into()));
            return;
        }
        if pass.chars().count() < 8 {
            error.set(Some("Choose a password of at least 8 characters.".into()));
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
                setup_code: String::new(),
            })
            .await
            .map_err(|e| e.to_string())?;
            password.set(String::new());
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
                <label for="reg-name">"Your name"</label>
                <input id="reg-name" autocomplete="name" bind:value=name/>
                <label for="reg-user">"Username"</label>
                <input id="reg-user" autocomplete="username" autocapitalize="none" bind:value=username/>
                <label for="reg-password">"Password (at least 8 characters)"</label>
                <input id="reg-password" type="password" autocomplete="new-password" bind:value=password/>
                {move || error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
                <button type="submit" class="button primary" disabled=move || busy.get()>"Put the site on the server"</button>
            </form>
        })}
    }
}

/// The site's users, for admins: who they are, their roles, and a form to add one.
#[component]
fn Users() -> impl IntoView {
    let state = use_app();
    let may = move || state.allowed(Action::ManageUsers).is_ok();
    let users = RwSignal::new(Vec::<User>::new());
    let load_error = RwSignal::new(None::<String>);
    let token = move || state.account().and_then(|a| a.token);
    let load = move || {
        let Some(token) = token() else { return };
        leptos::task::spawn_local(async move {
            match api::users(&token).await {
                Ok(list) => {
                    users.set(list);
                    load_error.set(None);
                }
                Err(e) => load_error.set(Some(e.to_string())),
            }
        });
    };
    Effect::new(move |_| {
        if may() {
            load();
        }
    });
    let username = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Staff);
    let error = RwSignal::new(None::<String>);
    let added = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(token) = token() else {
            error.set(Some("Sign in again to add users.".into()));
            return;
        };
        let (u, n, p, r) = (
            username.get_untracked(),
            name.get_untracked(),
            password.get_untracked(),
            role.get_untracked(),
        );
        leptos::task::spawn_local(async move {
            match api::add_user(
                &token,
                &NewUser {
                    username: u.trim().to_string(),
                    name: n.trim().to_string(),
                    role: r,
                    password: p,
                },
            )
            .await
            {
                Ok(user) => {
                    error.set(None);
                    added.set(Some(format!(
                        "{} can now sign in as {}.",
                        user.name, user.username
                    )));
                    username.set(String::new());
                    name.set(String::new());
                    password.set(String::new());
                    load();
                }
                Err(e) => {
                    added.set(None);
                    error.set(Some(e.to_string()));
                }
            }
        });
    };
    view! {
        <Show when=may>
            <section class="card">
                <h2>"Users of this site"</h2>
                {move || load_error.get().map(|m| view! { <p class="error">{m}</p> })}
                <ul class="plain users">
                    <For each=move || users.get() key=|u| (u.username.clone(), u.role) let:user>
                        <UserRow user token=Signal::derive(token) changed=Callback::new(move |message: String| {
                            added.set(Some(message));
                            load();
                        }) failed=Callback::new(move |message: String| error.set(Some(message)))/>
                    </For>
                </ul>
                <p class="saved" role="status">{move || added.get()}</p>
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
                    <label for="new-user-password">"First password (at least 8 characters)"</label>
                    <input id="new-user-password" type="password" autocomplete="new-password" bind:value=password/>
                    {move || error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
                    <button type="submit" class="button primary">"Add user"</button>
                </form>
            </section>
        </Show>
    }
}

/// One user of the site: their role, changed at once when chosen, and removal.
#[component]
fn UserRow(
    user: User,
    token: Signal<Option<String>>,
    changed: Callback<String>,
    failed: Callback<String>,
) -> impl IntoView {
    let state = use_app();
    let me = state.account().map(|a| a.username) == Some(user.username.clone());
    let id = format!("role-{}", user.username);
    let username = StoredValue::new(user.username.clone());
    let name = StoredValue::new(user.name.clone());
    let set_role = move |ev: leptos::ev::Event| {
        let Some(role) = Role::parse(&event_target_value(&ev)) else {
            return;
        };
        let Some(token) = token.get_untracked() else {
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
        let Some(token) = token.get_untracked() else {
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
    view! {
        <li class="user">
            <label for=id.clone()><strong>{user.name.clone()}</strong>" ("{user.username.clone()}")"</label>
            <div class="actions">
                <select id=id on:change=set_role aria-label=format!("Role of {}", user.name)>
                    {Role::ALL.into_iter().map(|r| view! {
                        <option value=r.as_str() selected=r == user.role>{r.label()}</option>
                    }).collect_view()}
                </select>
                {(!me).then(|| view! {
                    <button type="button" class="button small" on:click=remove
                        aria-label=format!("Remove {}", user.name)>"Remove"</button>
                })}
            </div>
        </li>
    }
}
