//! Choosing the person taking a key by scanning their staff or pupil card: the camera opens
//! under the person field, reads the card's barcode (or QR code), and the person whose
//! reference it carries is chosen (`Register::people_by_card`: case, spaces, hyphens and a
//! number's leading zeros aside). A card not in the register, or a reference given twice, is
//! said in words and nothing is chosen.

use crate::camera::{self, Codes};
use crate::state::use_app;
use keyward_core::PersonId;
use leptos::html::Video;
use leptos::prelude::*;

/// The "Scan their card" button and, once pressed, the camera. `choose` is called with the
/// person found; when a reference is shared, `search` is set to it so the screen lists them.
#[component]
pub fn CardScanner(
    #[prop(into)] choose: Callback<PersonId>,
    search: RwSignal<String>,
) -> impl IntoView {
    let state = use_app();
    let open = RwSignal::new(false);
    let video = NodeRef::<Video>::new();
    let problem = RwSignal::new(None::<String>);
    let message = RwSignal::new(None::<String>);
    let last = StoredValue::new(String::new());

    let on_code = move |text: String| {
        if last.with_value(|l| *l == text) {
            return;
        }
        last.set_value(text.clone());
        let code = text.trim().to_string();
        let found: Vec<PersonId> = state.register.with_untracked(|r| {
            state
                .site()
                .map(|s| r.people_by_card(s, &code).iter().map(|p| p.id).collect())
                .unwrap_or_default()
        });
        match found[..] {
            [one] => {
                open.set(false);
                message.set(None);
                choose.run(one);
            }
            [] => message.set(Some(format!(
                "No one in this register has the reference “{code}”. Check it is their card, type their name instead, or add the reference to them under People."
            ))),
            _ => {
                open.set(false);
                search.set(code.clone());
                message.set(Some(format!(
                    "{} people have the reference “{code}”: tap the right one below.",
                    found.len()
                )));
            }
        }
    };

    Effect::new(move |_| {
        if !open.get() {
            camera::stop();
            return;
        }
        let Some(element) = video.get() else {
            return;
        };
        last.set_value(String::new());
        problem.set(None);
        leptos::task::spawn_local(async move {
            let result = camera::start(&element, false, Codes::Cards, move |text, _ms| {
                on_code(text)
            })
            .await;
            if let Err(reason) = result {
                problem.set(Some(super::scan::camera_problem(&reason)));
            }
        });
    });
    on_cleanup(camera::stop);

    view! {
        <Show
            when=move || open.get()
            fallback=move || view! {
                <button type="button" class="button card-scan" on:click=move |_| {
                    message.set(None);
                    open.set(true);
                }>"Scan their card"</button>
            }
        >
            <div class="camera card-camera">
                <video node_ref=video aria-label="Camera view for their card" muted=true playsinline=true></video>
            </div>
            <p class="hint" role="status">{move || problem.get().unwrap_or_else(|| {
                "Hold their staff or pupil card's barcode in view.".into()
            })}</p>
            <button type="button" class="button small" on:click=move |_| open.set(false)>"Stop scanning"</button>
        </Show>
        <div aria-live="polite">
            {move || message.get().map(|text| view! { <p class="warning" role="alert">{text}</p> })}
        </div>
    }
}
