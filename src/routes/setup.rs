//! Set-up: who uses this device, the site it shows, the site's areas, and the way to the other
//! set-up screens (lockers, backup). A new device starts with [`FirstSite`].

use crate::components::{FormError, FormState, Submit};
use crate::state::use_app;
use keyward_core::{Action, Change, Command};
use leptos::prelude::*;
use leptos_router::components::A;

/// The walk-through on a device with no register yet: your name, the site, its first area.
#[component]
pub fn FirstSite() -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let user = RwSignal::new(state.user());
    let site_name = RwSignal::new(String::new());
    let area_name = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = user.get_untracked().trim().to_string();
        if name.is_empty() {
            form.fail("Enter your name: it is recorded with everything you do on this device.");
            return;
        }
        if area_name.get_untracked().trim().is_empty() {
            form.fail("Enter a first area, for example “Main corridor”. You can add more later.");
            return;
        }
        state.settings.update(|s| s.user = name);
        form.run(
            Command::CreateSite {
                name: site_name.get_untracked(),
            },
            move |event| {
                let Change::SiteCreated { site, .. } = event.change else {
                    return;
                };
                state.settings.update(|s| s.site = Some(site));
                form.run(
                    Command::AddArea {
                        site,
                        name: area_name.get_untracked(),
                    },
                    move |_| {
                        state
                            .flash
                            .set(Some("Site set up. Now add its lockers.".into()))
                    },
                );
            },
        );
    };
    view! {
        <h1>"Welcome to Keyward"</h1>
        <p class="lead">"The register of your lockers, locks and keys. It works on this device even without signal."</p>
        <form class="card" on:submit=submit novalidate>
            <h2>"Set up your site"</h2>
            <label for="first-user">"Your name"</label>
            <input id="first-user" autocomplete="name" bind:value=user/>
            <label for="first-site">"Site name"</label>
            <input id="first-site" placeholder="Northgate School" bind:value=site_name/>
            <label for="first-area">"First area"</label>
            <p class="hint" id="first-area-hint">"A building, floor, corridor or ward."</p>
            <input id="first-area" aria-describedby="first-area-hint" placeholder="Main corridor" bind:value=area_name/>
            <FormError form/>
            <Submit form label="Create site"/>
        </form>
        <section class="card">
            <h2>"Joining a site?"</h2>
            <p>"If your site already uses Keyward on a server, sign in instead: the whole register is downloaded to this device."</p>
            <p><A href="/sync" attr:class="button">"Sign in to a site"</A></p>
        </section>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let state = use_app();
    let site = Memo::new(move |_| state.site());
    view! {
        <h1>"Set-up"</h1>
        <DeviceUser/>
        {move || match site.get() {
            None => view! { <FirstSite/> }.into_any(),
            Some(_) => view! {
                <section class="card">
                    <h2>"Lockers, locks and keys"</h2>
                    <p>{move || {
                        let n = state.site().map(|s| state.register.with(|r| r.locker_count(s))).unwrap_or(0);
                        format!("{} lockers in the register.", keyward_core::format::thousands(n))
                    }}</p>
                    <p><A href="/setup/lockers" attr:class="button primary">"Add lockers"</A></p>
                    <p class="hint">"Fit a lock and add its keys from the locker's own page: open it from the register."</p>
                    <p><A href="/labels" attr:class="button">"Print labels and key tags"</A></p>
                </section>
                <section class="card">
                    <h2>"Lost keys, orders and repairs"</h2>
                    <p><A href="/cases" attr:class="button">"Lost-key cases"</A></p>
                    <p><A href="/orders" attr:class="button">"Replacement orders"</A></p>
                    <p><A href="/locks-to-replace" attr:class="button">"Locks to replace"</A></p>
                    <p><A href="/repeated-losses" attr:class="button">"Repeated losses"</A></p>
                </section>
                <section class="card">
                    <h2>"Audits"</h2>
                    <p>"Walk the lockers and record what you find; reports, what is due and the manager's charts."</p>
                    <p class="actions">
                        <A href="/audits" attr:class="button">"Audits"</A>
                        <A href="/dashboard" attr:class="button">"Manager's view"</A>
                    </p>
                </section>
                <section class="card">
                    <h2>"Master keys"</h2>
                    <p>"Suites, their master keys and authorised holders, sign-outs, presence checks and reviews."</p>
                    <p><A href="/master" attr:class="button">"Master keys"</A></p>
                </section>
                <Areas/>
                <section class="card">
                    <h2>"Loans and policies"</h2>
                    <p class="actions">
                        <A href="/overdue" attr:class="button">"Overdue keys"</A>
                        <A href="/spares" attr:class="button">"Spare keys out"</A>
                        <A href="/setup/policies" attr:class="button">"Policies"</A>
                    </p>
                </section>
                <Show when=move || !state.settings.with(|s| s.enrolled())>
                    <Sites/>
                </Show>
                <section class="card">
                    <h2>"Backup"</h2>
                    <p><A href="/setup/backup" attr:class="button">"Back up or restore the register"</A></p>
                </section>
                <DeviceStorage/>
            }.into_any(),
        }}
    }
}

/// Who is using this device: recorded on every event made here.
#[component]
fn DeviceUser() -> impl IntoView {
    let state = use_app();
    let name = RwSignal::new(state.user());
    let saved = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let value = name
            .get_untracked()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if value.is_empty() {
            error.set(Some(
                "Enter your name: it is recorded with everything you do on this device.".into(),
            ));
            return;
        }
        error.set(None);
        name.set(value.clone());
        state.settings.update(|s| s.user = value);
        saved.set(true);
    };
    let account = move || state.account();
    view! {
        <Show when=move || account().is_some() fallback=move || view! { <DeviceName name saved error submit/> }>
            <section class="card">
                <h2>"This device"</h2>
                {move || account().map(|a| view! {
                    <p>"Used by "<strong>{a.name}</strong>" ("{a.role.label()}"). Everything recorded here is in their name."</p>
                })}
                <p><A href="/sync" attr:class="button">"Sync, sign-in and users"</A></p>
            </section>
        </Show>
    }
}

/// The name typed on a device that has not signed in.
#[component]
fn DeviceName(
    name: RwSignal<String>,
    saved: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    submit: impl Fn(leptos::ev::SubmitEvent) + 'static,
) -> impl IntoView {
    view! {
        <form class="card" on:submit=submit novalidate>
            <h2>"This device"</h2>
            <label for="device-user">"Who is using this device"</label>
            <input id="device-user" autocomplete="name" bind:value=name on:input=move |_| saved.set(false)/>
            {move || error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
            <button type="submit" class="button">"Save name"</button>
            <span role="status" class="saved">{move || saved.get().then_some("Saved.")}</span>
            <p class="hint">"To share the register with other devices, "<A href="/sync">"sign in to a Keyward server"</A>"."</p>
        </form>
    }
}

#[component]
fn Areas() -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let name = RwSignal::new(String::new());
    let areas = Memo::new(move |_| state.areas());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(site) = state.site() else { return };
        form.run(
            Command::AddArea {
                site,
                name: name.get_untracked(),
            },
            move |_| name.set(String::new()),
        );
    };
    view! {
        <section class="card">
            <h2>"Areas"</h2>
            <ul class="plain">
                <For each=move || areas.get() key=|a| a.0 let:((_, area_name))>
                    <li>{area_name}</li>
                </For>
            </ul>
            <form on:submit=submit novalidate>
                <label for="new-area">"New area"</label>
                <input id="new-area" placeholder="Science block, first floor" bind:value=name/>
                <FormError form/>
                <Submit form label="Add area" action=Action::SetUpSite/>
            </form>
        </section>
    }
}

/// Other sites on this device, and a new one.
#[component]
fn Sites() -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let name = RwSignal::new(String::new());
    let sites = Memo::new(move |_| {
        state.register.with(|r| {
            r.sites()
                .map(|s| (s.id, s.name.clone()))
                .collect::<Vec<_>>()
        })
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.run(
            Command::CreateSite {
                name: name.get_untracked(),
            },
            move |event| {
                if let Change::SiteCreated {
                    site,
                    name: site_name,
                } = event.change
                {
                    state.settings.update(|s| s.site = Some(site));
                    state.flash.set(Some(format!(
                        "{site_name} created. Add its first area below."
                    )));
                }
                name.set(String::new());
            },
        );
    };
    view! {
        <section class="card">
            <h2>"Sites"</h2>
            <fieldset>
                <legend>"This device shows"</legend>
                <For each=move || sites.get() key=|s| s.clone() let:((id, site_name))>
                    <label class="choice">
                        <input
                            type="radio"
                            name="site"
                            prop:checked=move || state.site() == Some(id)
                            on:change=move |_| state.settings.update(|s| s.site = Some(id))
                        />
                        {site_name}
                    </label>
                </For>
            </fieldset>
            <form on:submit=submit novalidate>
                <label for="new-site">"New site"</label>
                <input id="new-site" placeholder="Southgate Leisure Centre" bind:value=name/>
                <FormError form/>
                <Submit form label="Create site"/>
            </form>
        </section>
    }
}

/// Whether the browser keeps the register for good on this device, and the room it takes.
#[component]
fn DeviceStorage() -> impl IntoView {
    let device = use_app().device;
    leptos::task::spawn_local(device.check());
    let refused = RwSignal::new(false);
    let tidied = RwSignal::new(None::<Result<usize, String>>);
    let busy = RwSignal::new(false);
    let state = use_app();
    // Packs every single record of the confirmed log into one: the browser stores one long
    // record in less room than thousands of small ones. Changes not yet sent stay as they are.
    let make_room = move |_| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let packed = match crate::state::store() {
                Ok(store) => store.pack(1).await.map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            device.check().await;
            tidied.set(Some(packed));
            busy.set(false);
        });
    };
    let clock = move || {
        state.device.clock_warning().map_or_else(
            || {
                state
                    .device
                    .skew
                    .get()
                    .map(|_| view! { <p class="kept">"This device's clock agrees with the server's."</p> }.into_any())
            },
            |w| Some(view! { <p class="warning">{w}</p> }.into_any()),
        )
    };
    let ask = move |_| {
        leptos::task::spawn_local(async move {
            device.ask().await;
            refused.set(device.persisted.get_untracked() != Some(true));
        })
    };
    view! {
        <section class="card" aria-labelledby="device-storage">
            <h2 id="device-storage">"This device's storage"</h2>
            {move || match device.persisted.get() {
                Some(true) => view! { <p class="kept">"Kept for good on this device."</p> }.into_any(),
                Some(false) => view! {
                    <p class="warning">"The browser may clear this device's register when space runs low or after weeks unused. Install the app (Add to Home screen) and sync often."</p>
                    <button type="button" class="button" on:click=ask>"Ask the browser to keep it"</button>
                    <p role="status">{move || refused.get().then_some(
                        "The browser did not agree yet. Installing the app or using it often makes it more likely."
                    )}</p>
                }.into_any(),
                None => view! { <p>"This browser does not say whether it keeps the register for good. Sync often."</p> }.into_any(),
            }}
            {move || device.room.get().map(|room| view! {
                <p class="room">{format!(
                    "Using {} of {}.",
                    crate::device::bytes(room.used),
                    crate::device::bytes(room.quota)
                )}</p>
                {room.nearly_full().then(|| view! {
                    <p class="warning" role="alert">"This device is nearly out of room for Keyward. Sync, then free some space on the device (photos, downloads or apps you do not need), or changes cannot be recorded."</p>
                })}
            })}
            <button type="button" class="button" on:click=make_room disabled=move || busy.get()>"Make room"</button>
            <p class="hint">"Tidies how this device stores the register's history. Nothing is deleted."</p>
            {move || tidied.get().map(|outcome| match outcome {
                Ok(0) if state.settings.with_untracked(|s| !s.enrolled()) => view! { <p role="status">"Nothing to tidy: on a device that does not sync, every change is kept as recorded. Sync with a server, or take a backup and free space on the device."</p> }.into_any(),
                Ok(0) => view! { <p role="status">"The register's storage is already tidy."</p> }.into_any(),
                Ok(n) => view! { <p role="status">{format!("Tidied {} records of the register's history.", keyward_core::format::thousands(n))}</p> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            })}
            {clock}
        </section>
    }
}
