//! Safe mode: the register on this device has records that cannot be read (a damaged store,
//! a change written by a newer Keyward before going back to an older one, a backup half
//! restored). Nothing is changed or deleted until the person chooses: they can save every
//! record exactly as stored, and, on a device that syncs, fetch the register again from the
//! server when only the server's copy is damaged here. Never a silent wipe, never a blank
//! register that looks normal.

use crate::state::{store, use_app};
use crate::storage::Damage;
use leptos::prelude::*;

#[component]
pub fn SafeMode(damage: Vec<Damage>) -> impl IntoView {
    let state = use_app();
    let count = damage.len();
    let refetchable = damage.iter().all(Damage::refetchable);
    let syncs = state.settings.with_untracked(|s| s.enrolled());
    let saved = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let save = move || async move {
        let store = store()?;
        let raw = store.raw_dump().await.map_err(|e| e.to_string())?;
        let name = format!(
            "keyward-raw-{}.json",
            chrono::Local::now().format("%Y-%m-%d-%H%M")
        );
        crate::download::save(&raw, &name, "application/json")
            .map_err(|()| "The file could not be saved. Try again.".to_string())?;
        saved.set(Some(name));
        Ok::<(), String>(())
    };
    let on_save = move |_| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            error.set(save().await.err());
            busy.set(false);
        });
    };
    let on_refetch = move |_| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let done = async {
                if saved.get_untracked().is_none() {
                    save().await?;
                }
                store()?
                    .forget_confirmed()
                    .await
                    .map_err(|e| e.to_string())?;
                let _ = window().location().reload();
                Ok::<(), String>(())
            };
            error.set(done.await.err());
            busy.set(false);
        });
    };
    let records = if count == 1 {
        "1 record".to_string()
    } else {
        format!("{count} records")
    };

    view! {
        <section class="card safe-mode" aria-labelledby="safe-mode-title">
            <h1 id="safe-mode-title">"Safe mode: part of this device's register cannot be read"</h1>
            <p>
                "Keyward found " {records.clone()} " in this device's register that it cannot read. "
                "It has not changed or deleted anything: the register is kept exactly as it is, so nobody works from a register with something missing."
            </p>
            <p>"This happens when the browser's storage was damaged, when an older version of Keyward opens a register a newer one wrote, or when a backup was only partly restored."</p>
            <details>
                <summary>"What cannot be read"</summary>
                <ul class="damage">
                    {damage.into_iter().map(|d| view! {
                        <li>{format!("{} record {}: {}", d.store, d.key, d.detail)}</li>
                    }).collect_view()}
                </ul>
            </details>
            <h2>"What to do"</h2>
            <p>"First save everything as a file: it holds every record exactly as stored, readable or not. Keep it until the register is right again."</p>
            <button type="button" class="button primary" on:click=on_save disabled=move || busy.get()>
                "Save everything as a file"
            </button>
            {move || saved.get().map(|name| view! {
                <p class="flash" role="status">{format!("Saved as {name}. Keep it safe.")}</p>
            })}
            {if refetchable && syncs {
                view! {
                    <p>"Only this device's copy of what is already on the server is damaged. Fetch the register again from the server to replace it; changes made on this device that have not reached the server yet are kept and sent as usual."</p>
                    <button type="button" class="button" on:click=on_refetch disabled=move || busy.get()>
                        "Fetch the register again from the server"
                    </button>
                }.into_any()
            } else if refetchable {
                view! {
                    <p>"This device does not sync with a server, so there is no other copy here to fetch. Give the saved file to your site's admin, or restore your latest backup on the Backup screen once it is saved."</p>
                }.into_any()
            } else {
                view! {
                    <p>"The damaged records include changes that have not reached the server yet. Do not clear this browser's data: give the saved file to your site's admin, who can see what they were."</p>
                }.into_any()
            }}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>
    }
}

/// After "Fetch the register again": until the first pull has brought down the site's whole
/// log, the register here is empty or partial, so this shows instead of it (never a first-run
/// screen or a short list that looks normal). The sign-in screens stay open below it, for a
/// sign-in that must be renewed before the pull can finish.
#[component]
pub fn UntilRefetched(children: ChildrenFn) -> impl IntoView {
    let state = use_app();
    let location = leptos_router::hooks::use_location();
    let on_sync = move || location.pathname.with(|p| p.starts_with("/sync"));
    view! {
        <Show when=move || state.refetching.get()>
            <Refetching/>
        </Show>
        <Show when=move || !state.refetching.get() || on_sync()>
            {children()}
        </Show>
    }
}

#[component]
fn Refetching() -> impl IntoView {
    let state = use_app();
    let progress = move || {
        state.sync.with(|s| match s.progress {
            Some((held, total)) if total > 0 => format!(
                "{} of {} changes received.",
                keyward_core::format::thousands(held.min(total) as usize),
                keyward_core::format::thousands(total as usize)
            ),
            _ if s.running => "Asking the server…".to_string(),
            _ => String::new(),
        })
    };
    let trouble = move || {
        state.sync.with(|s| {
            if s.running {
                None
            } else if s.unreachable {
                Some("The server cannot be reached. Connect to the site's network or the internet: the register comes down as soon as it can.".to_string())
            } else {
                s.problem.clone()
            }
        })
    };
    view! {
        <section class="card safe-mode" aria-labelledby="refetch-title">
            <h1 id="refetch-title">"Fetching the register again from the server"</h1>
            <p>"This device's copy of the register is being replaced with the server's. Until it has all arrived, the register is not shown here, so nobody works from part of it."</p>
            <p role="status">{progress}</p>
            {move || trouble().map(|t| view! {
                <p class="warning" role="alert">{t}</p>
                <p><a href="/sync">"Sync and sign-in"</a></p>
            })}
            <p class="hint">"Changes made on this device that had not reached the server are kept and sent as usual."</p>
            <button type="button" class="button" on:click=move |_| crate::sync::soon(state)>
                "Try now"
            </button>
        </section>
    }
}
