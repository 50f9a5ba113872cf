//! Adding lockers: one by one, or a whole range at once ("A-001" to "A-120"), all or nothing.

use crate::components::{Back, Choices, FormError, FormState, Submit};
use crate::state::use_app;
use keyward_core::{parse_locker_range, Action, AreaId, Change, Command};
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn AddLockersPage() -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let range = RwSignal::new(true);
    let number = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let area = RwSignal::new(None::<AreaId>);
    let areas = Memo::new(move |_| state.areas());
    // The first area is chosen until the person picks another.
    let chosen_area = move || {
        area.get()
            .or_else(|| areas.with(|a| a.first().map(|(id, _)| *id)))
    };
    let preview = move || {
        if !range.get() {
            return None;
        }
        let (f, t) = (from.get(), to.get());
        if f.trim().is_empty() || t.trim().is_empty() {
            return None;
        }
        Some(match parse_locker_range(&f, &t) {
            Ok(numbers) if numbers.len() > 3 => format!(
                "Adds {} lockers: {}, {} … {}",
                numbers.len(),
                numbers[0],
                numbers[1],
                numbers[numbers.len() - 1]
            ),
            Ok(numbers) => format!("Adds {}: {}", numbers.len(), numbers.join(", ")),
            Err(e) => e.to_string(),
        })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(site) = state.site() else { return };
        let Some(area) = chosen_area() else {
            form.fail("Add an area first (Set-up, Areas), then add its lockers.");
            return;
        };
        let command = if range.get_untracked() {
            Command::AddLockerRange {
                site,
                area,
                from: from.get_untracked(),
                to: to.get_untracked(),
            }
        } else {
            Command::AddLocker {
                site,
                area,
                number: number.get_untracked(),
            }
        };
        form.run(command, move |event| {
            if let Change::LockersAdded { lockers, .. } = event.change {
                let text = match lockers.as_slice() {
                    [one] => format!("Locker {} added.", one.number),
                    many => format!(
                        "{} lockers added, {} to {}.",
                        many.len(),
                        many[0].number,
                        many[many.len() - 1].number
                    ),
                };
                state.flash.set(Some(text));
            }
            number.set(String::new());
            from.set(String::new());
            to.set(String::new());
        });
    };
    view! {
        <Back href="/setup" label="Set-up"/>
        <h1>"Add lockers"</h1>
        <form class="card" on:submit=submit novalidate>
            <label for="locker-area">"Area"</label>
            <select id="locker-area" on:change=move |ev| area.set(AreaId::parse(&event_target_value(&ev)))>
                <For each=move || areas.get() key=|a| a.clone() let:((id, name))>
                    <option value=id.to_string() selected=move || chosen_area() == Some(id)>{name}</option>
                </For>
            </select>
            <Choices legend="How many" name="mode" value=range options=vec![(true, "A range"), (false, "One locker")]/>
            <Show
                when=move || range.get()
                fallback=move || view! {
                    <label for="locker-number">"Locker number"</label>
                    <input id="locker-number" autocapitalize="characters" placeholder="A12" bind:value=number/>
                }
            >
                <div class="pair">
                    <div>
                        <label for="range-from">"From"</label>
                        <input id="range-from" autocapitalize="characters" placeholder="A-001" bind:value=from/>
                    </div>
                    <div>
                        <label for="range-to">"To"</label>
                        <input id="range-to" autocapitalize="characters" placeholder="A-120" bind:value=to/>
                    </div>
                </div>
                <p class="hint" aria-live="polite">{preview}</p>
            </Show>
            <FormError form/>
            <Submit form label="Add lockers" action=Action::AddLockers/>
        </form>
        <p><A href="/">"Go to the register"</A></p>
    }
}
