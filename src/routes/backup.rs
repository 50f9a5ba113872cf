//! Backup and restore: the whole register as one file, and that file read back in.

use crate::components::Back;
use crate::state::use_app;
use keyward_core::backup::Backup;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

#[component]
pub fn BackupPage() -> impl IntoView {
    let state = use_app();
    let message = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);

    let download = move |_| {
        leptos::task::spawn_local(async move {
            match state.export().await {
                Ok((json, count)) => match save_file(&json) {
                    Ok(name) => message.set(Some((true, format!("Saved {name}: {count} events.")))),
                    Err(e) => message.set(Some((false, e))),
                },
                Err(e) => message.set(Some((false, e))),
            }
        });
    };
    let restore = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        busy.set(true);
        message.set(None);
        leptos::task::spawn_local(async move {
            let text = wasm_bindgen_futures::JsFuture::from(file.text())
                .await
                .ok()
                .and_then(|t| t.as_string());
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

/// Offers `json` as a download named after today's date; returns the name.
fn save_file(json: &str) -> Result<String, String> {
    let name = format!(
        "keyward-backup-{}.json",
        chrono::Local::now().format("%Y-%m-%d-%H%M")
    );
    crate::download::save(json, &name, "application/json")
        .map_err(|()| "The backup file could not be saved. Try again.".to_string())?;
    Ok(name)
}
