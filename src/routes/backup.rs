//! Backup and restore: the whole register as one file, and that file read back in. Also the
//! file of a device's unsynced changes (`keyward_core::unsynced`): made here when someone
//! leaves a device whose changes have not reached the server, and read back on another.

use crate::components::{local_date_time, Back};
use crate::state::{use_app, AppState};
use keyward_core::backup::Backup;
use keyward_core::unsynced::{Unsynced, UnsyncedFile};
use leptos::prelude::*;

#[component]
pub fn BackupPage() -> impl IntoView {
    let state = use_app();
    let message = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);

    let download = move |_| {
        leptos::task::spawn_local(async move {
            match state.export().await {
                Ok((json, count)) => match save_file(&json, &backup_name()) {
                    Ok(name) => message.set(Some((true, format!("Saved {name}: {count} events.")))),
                    Err(e) => message.set(Some((false, e))),
                },
                Err(e) => message.set(Some((false, e))),
            }
        });
    };
    let restore = move |ev: leptos::ev::Event| {
        let Some((input, file)) = crate::download::chosen(&ev) else {
            return;
        };
        busy.set(true);
        message.set(None);
        leptos::task::spawn_local(async move {
            let text = crate::download::text_of(&file).await;
            let outcome = match text {
                None => Err("The file could not be read. Choose it again.".to_string()),
                Some(text) => match Backup::parse(&text) {
                    Err(e) => Err(e),
                    Ok(backup) => state.restore(backup.events).await,
                },
            };
            busy.set(false);
            input.set_value("");
            message.set(Some(match outcome {
                Ok(0) => (
                    true,
                    "Restored: this device already held everything in that backup.".into(),
                ),
                Ok(n) => (true, format!("Restored {n} events.")),
                Err(e) => (false, e),
            }));
        });
    };
    view! {
        <Back href="/setup" label="Set-up"/>
        <h1>"Backup"</h1>
        <section class="card">
            <h2>"Download a backup"</h2>
            <p>"Saves the whole register of this device (every site, every event) as one file. Keep it somewhere safe: it contains names and key codes."</p>
            <button type="button" class="button primary" on:click=download>"Download backup"</button>
        </section>
        <section class="card">
            <h2>"Restore"</h2>
            <p>"Adds what a backup holds to this device's register. Nothing here is removed or overwritten."</p>
            <label for="restore-file">"Backup file"</label>
            <input id="restore-file" type="file" accept=".json,application/json" on:change=restore disabled=move || busy.get()/>
        </section>
        <UnsyncedImport/>
        <div aria-live="polite">
            {move || busy.get().then(|| view! { <p role="status">"Restoring…"</p> })}
            {move || message.get().map(|(ok, text)| if ok {
                view! { <p class="flash" role="status">{text}</p> }.into_any()
            } else {
                view! { <p class="error" role="alert">{text}</p> }.into_any()
            })}
        </div>
    }
}

fn backup_name() -> String {
    format!(
        "keyward-backup-{}.json",
        chrono::Local::now().format("%Y-%m-%d-%H%M")
    )
}

/// Offers `json` as a download named `name`; returns the name.
pub fn save_file(json: &str, name: &str) -> Result<String, String> {
    crate::download::save(json, name, "application/json")
        .map_err(|()| "The file could not be saved. Try again.".to_string())?;
    Ok(name.to_string())
}

/// This device's changes that have not reached the server (every account's, locked or not),
/// as stored now, saved as a file. Returns the file's name and how many changes it holds.
pub async fn save_unsynced(state: AppState) -> Result<(String, usize), String> {
    let store = crate::state::store()?;
    let outbox = store.outbox().await.map_err(|e| e.to_string())?;
    let changes: Vec<Unsynced> = outbox
        .into_iter()
        .filter(|o| o.pos.is_none())
        .map(|o| Unsynced {
            n: o.n,
            user: o.user,
            event: o.event,
        })
        .collect();
    let site = state
        .account_untracked()
        .map(|a| a.site_name)
        .or_else(|| {
            let site = untrack(|| state.site())?;
            state
                .register
                .with_untracked(|r| r.site(site).map(|s| s.name.clone()))
        })
        .unwrap_or_default();
    let count = changes.len();
    let file = UnsyncedFile::new(site, state.device(), chrono::Utc::now(), changes);
    let name = file.file_name(&chrono::Local::now().format("%Y-%m-%d-%H%M").to_string());
    save_file(&file.to_json(), &name)?;
    Ok((name, count))
}

/// Reads a file of unsynced changes saved on a device, lists them in words, and records again,
/// as the person using this device, those not in the register yet: the server takes a
/// device's changes only from that device, so each becomes a new change of this one
/// (`Command::RecordAgain`; the core refuses one that no longer fits).
#[component]
fn UnsyncedImport() -> impl IntoView {
    let state = use_app();
    let read = RwSignal::new(None::<Result<UnsyncedFile, String>>);
    // What recording again said of each change, by the change's original event id.
    let outcomes = RwSignal::new(Vec::<(keyward_core::EventId, Result<String, String>)>::new());
    let busy = RwSignal::new(false);
    let choose = move |ev: leptos::ev::Event| {
        let Some((input, file)) = crate::download::chosen(&ev) else {
            return;
        };
        read.set(None);
        outcomes.set(Vec::new());
        leptos::task::spawn_local(async move {
            let text = crate::download::text_of(&file).await;
            input.set_value("");
            read.set(Some(match text {
                None => Err("The file could not be read. Choose it again.".to_string()),
                Some(text) => UnsyncedFile::parse(&text),
            }));
        });
    };
    let held = move |saved: &keyward_core::Event| {
        state
            .register
            .with(|r| keyward_core::unsynced::is_held(r, saved))
    };
    let outcome = move |id| {
        outcomes.with(|o| {
            o.iter()
                .find(|(e, _)| *e == id)
                .map(|(_, result)| result.clone())
        })
    };
    let record = move |file: UnsyncedFile| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            for change in file.changes {
                let id = change.event.id;
                if held(&change.event) || outcome(id).is_some() {
                    continue;
                }
                let result = state
                    .dispatch(keyward_core::Command::RecordAgain {
                        change: change.event.change,
                    })
                    .await
                    .map(|e| format!("Recorded again by {}, {}.", e.actor, local_date_time(e.at)));
                outcomes.update(|o| o.push((id, result)));
            }
            busy.set(false);
        });
    };
    let listed = move |file: UnsyncedFile| {
        let count = file.changes.len();
        let rows = file
            .changes
            .iter()
            .map(|c| {
                let id = c.event.id;
                let saved = c.event.clone();
                let status = move || match (outcome(id), held(&saved)) {
                    (Some(Ok(words)), _) => view! { <p class="hint">{words}</p> }.into_any(),
                    (Some(Err(why)), _) => {
                        view! { <p class="warning">{format!("Not recorded: {why}")}</p> }.into_any()
                    }
                    (None, true) => {
                        view! { <p class="hint">"Already in this register."</p> }.into_any()
                    }
                    (None, false) => {
                        view! { <p class="hint">"Not in this register."</p> }.into_any()
                    }
                };
                view! {
                    <li>
                        <p><strong>{keyward_core::Change::words(&c.event.change)}</strong>
                           " by "{c.event.actor.clone()}", "{local_date_time(c.event.at)}</p>
                        {status}
                    </li>
                }
            })
            .collect_view();
        let saved: Vec<_> = file.changes.iter().map(|c| c.event.clone()).collect();
        let waiting = {
            let saved = saved.clone();
            move || {
                saved
                    .iter()
                    .filter(|e| !held(e) && outcome(e.id).is_none())
                    .count()
            }
        };
        let held_count = move || saved.iter().filter(|e| held(e)).count();
        let me = state.actor();
        let summary = format!(
            "{} from {}, saved {}",
            if count == 1 {
                "1 change".to_string()
            } else {
                format!("{count} changes")
            },
            file.site,
            local_date_time(file.saved),
        );
        let to_record = file.clone();
        view! {
            <div class="unsynced-read" role="status">
                <p><strong>{move || format!("{summary}: {} of {count} in this register.", held_count())}</strong></p>
                <ul class="plain refused">{rows}</ul>
                <Show
                    when={let waiting = waiting.clone(); move || waiting() > 0}
                    fallback=|| view! { <p>"Nothing is left to record from this file."</p> }
                >
                    <p>{format!("Record again here, as {me}, the changes not in this register. Each is checked against the register as it is now: one that no longer fits (a key issued meanwhile, say) is not recorded, and says why.")}</p>
                    <button type="button" class="button primary" disabled=move || busy.get()
                        on:click={let file = to_record.clone(); move |_| record(file.clone())}>
                        {let waiting = waiting.clone(); move || match waiting() {
                            1 => "Record the 1 change again".to_string(),
                            n => format!("Record the {n} changes again"),
                        }}
                    </button>
                </Show>
            </div>
        }
    };
    view! {
        <section class="card">
            <h2>"Changes saved from a device"</h2>
            <p>"Reads a file of changes that had not reached the server when someone left a device, lists them, and records again here those still missing."</p>
            <label for="unsynced-file">"File of unsynced changes"</label>
            <input id="unsynced-file" type="file" accept=".json,application/json" on:change=choose/>
            {move || read.get().map(|outcome| match outcome {
                Ok(file) => listed(file).into_any(),
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            })}
        </section>
    }
}
