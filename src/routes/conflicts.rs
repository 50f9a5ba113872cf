//! The conflicts inbox (`/conflicts`): facts two devices recorded offline that cannot both
//! stand, each in plain words with its choices, and the ones already decided.

use crate::components::{local_date_time, Back, FormError, FormState, Submit};
use crate::state::use_app;
use keyward_core::{Action, Command, Conflict, EventId, Resolution};
use leptos::prelude::*;

/// Open conflicts of the site shown (tracked), for the badge and the inbox.
pub fn open_conflicts() -> Vec<EventId> {
    let state = use_app();
    let site = state.site();
    state.register.with(|r| {
        site.map(|s| r.open_conflicts(s).into_iter().map(|c| c.event).collect())
            .unwrap_or_default()
    })
}

#[component]
pub fn ConflictsPage() -> impl IntoView {
    let state = use_app();
    let open = Memo::new(move |_| open_conflicts());
    let decided = Memo::new(move |_| {
        let site = state.site();
        state.register.with(|r| {
            r.conflicts()
                .into_iter()
                .filter(|c| c.decision.is_some() && r.conflict_site(&c.kind) == site)
                .take(20)
                .map(|c| c.event)
                .collect::<Vec<_>>()
        })
    });
    view! {
        <Back href="/" label="Register"/>
        <h1>"Conflicts"</h1>
        <p class="lead">"When two devices recorded things offline that cannot both be true, both are kept here until someone who knows decides."</p>
        {move || state.allowed(Action::ResolveConflicts).err().map(|m| view! { <p class="not-allowed">{m}</p> })}
        <Show when=move || open.with(Vec::is_empty)>
            <p class="empty">"No conflicts to decide."</p>
        </Show>
        <For each=move || open.get() key=|id| *id let:id>
            <OpenConflict id/>
        </For>
        <Show when=move || !decided.with(Vec::is_empty)>
            <h2>"Decided"</h2>
            <ul class="plain decided">
                <For each=move || decided.get() key=|id| *id let:id>
                    <li>{move || state.register.with(|r| r.conflict(id).map(|c| decided_words(r, c)))}</li>
                </For>
            </ul>
        </Show>
    }
}

fn decided_words(register: &keyward_core::Register, conflict: &Conflict) -> String {
    let text = register.describe_conflict(conflict);
    let Some(d) = &conflict.decision else {
        return text.title;
    };
    let choice = text
        .choices
        .iter()
        .find(|(r, _)| *r == d.choice)
        .map(|(_, t)| t.as_str())
        .unwrap_or("");
    let mut line = format!(
        "{}: {choice}. Decided by {} on {}",
        text.title,
        d.by,
        local_date_time(d.at)
    );
    if !d.notes.is_empty() {
        line.push_str(&format!(". Notes: {}", d.notes));
    }
    line
}

#[component]
fn OpenConflict(id: EventId) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let text = Memo::new(move |_| {
        state.register.with(|r| {
            r.conflict(id)
                .map(|c| (r.describe_conflict(c), c.actor.clone(), c.at))
        })
    });
    let first = text
        .get_untracked()
        .and_then(|(t, _, _)| t.choices.first().map(|c| c.0))
        .unwrap_or(Resolution::Noted);
    let choice = RwSignal::new(first);
    let notes = RwSignal::new(String::new());
    let may = move || state.allowed(Action::ResolveConflicts).is_ok();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.run(
            Command::ResolveConflict {
                conflict: id,
                choice: choice.get_untracked(),
                notes: notes.get_untracked(),
            },
            move |_| state.flash.set(Some("Conflict decided.".into())),
        );
    };
    let name = format!("choice-{id}");
    move || {
        let name = name.clone();
        text.get().map(|(text, actor, at)| {
            let heading = format!("conflict-{id}");
            let labelled_by = heading.clone();
            view! {
                <form class="card conflict" on:submit=submit novalidate aria-labelledby=labelled_by>
                    <h2 id=heading>{text.title.clone()}</h2>
                    <p>{text.detail.clone()}</p>
                    <p class="hint">"Found when "{actor}"'s change of "{local_date_time(at)}" reached the server."</p>
                    <Show when=may>
                        <fieldset>
                            <legend>"What is true?"</legend>
                            {text.choices.iter().cloned().map(|(option, words)| view! {
                                <label class="choice">
                                    <input type="radio" name=name.clone() prop:checked=move || choice.get() == option
                                        on:change=move |_| choice.set(option)/>
                                    {words}
                                </label>
                            }).collect_view()}
                        </fieldset>
                        <label for=format!("notes-{id}")>"Notes (optional)"</label>
                        <input id=format!("notes-{id}") bind:value=notes/>
                        <FormError form/>
                        <Submit form label="Decide"/>
                    </Show>
                </form>
            }
        })
    }
}
