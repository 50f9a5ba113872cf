//! Issuing a key: which key, to whom (a person or a department), when, until when for a
//! temporary loan, and the taker's confirmation (typed name or a signature drawn on screen).

use crate::components::{Back, FormError, FormState, Submit};
use crate::routes::loan_form::{ConfirmFields, DueFields, HolderFields, LoanInput};
use crate::state::use_app;
use keyward_core::{Action, Command, KeyId, KeyKind, KeyState, LockerId};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

#[component]
pub fn IssuePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let locker = params.with_untracked(|p| p.get("id").and_then(|id| LockerId::parse(&id)));
    let key = query.with_untracked(|q| q.get("key").and_then(|k| KeyId::parse(&k)));
    let state = use_app();
    match locker.filter(|l| state.register.with_untracked(|r| r.locker(*l).is_some())) {
        Some(locker) => view! { <IssueForm locker preselected=key/> }.into_any(),
        None => view! {
            <Back href="/" label="Register"/>
            <h1>"Locker not found"</h1>
            <p>"This locker is not in the register on this device."</p>
        }
        .into_any(),
    }
}

#[component]
fn IssueForm(locker: LockerId, preselected: Option<KeyId>) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let navigate = use_navigate();
    let number = state.register.with_untracked(|r| {
        r.locker(locker)
            .map(|l| l.number.clone())
            .unwrap_or_default()
    });

    let keys = Memo::new(move |_| {
        state.register.with(|r| {
            r.keys_of_locker(locker)
                .into_iter()
                .filter(|k| k.state == KeyState::InStore && k.kind != KeyKind::Master)
                .map(|k| {
                    (
                        k.id,
                        format!("{} · {} · copy {}", k.tag, k.kind.label(), k.copy),
                    )
                })
                .collect::<Vec<_>>()
        })
    });
    let key = RwSignal::new(preselected);
    // The key picked (or tapped on the locker page) while it is still in store; otherwise the
    // first key in store. A key issued meanwhile elsewhere is not swapped silently: the person
    // is told and chooses again.
    let chosen_key = move || match key.get() {
        Some(k) if keys.with(|ks| ks.iter().any(|(id, _)| *id == k)) => Some(k),
        Some(_) => None,
        None => keys.with(|k| k.first().map(|(id, _)| *id)),
    };
    let gone = move || {
        let k = key.get()?;
        if chosen_key().is_some() {
            return None;
        }
        state.register.with(|r| {
            r.key(k).map(|k| {
                format!(
                    "Key {} is {} now, so it cannot be issued. Choose another key.",
                    k.tag,
                    k.state.label().to_lowercase()
                )
            })
        })
    };

    let input = LoanInput::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(key) = chosen_key() else {
            form.fail(gone().unwrap_or_else(|| {
                "There is no key in store for this locker. Add a key, or return one first.".into()
            }));
            return;
        };
        let parts = match input.read("issue date") {
            Ok(parts) => parts,
            Err(message) => return form.fail(message),
        };
        let navigate = navigate.clone();
        form.run(
            Command::IssueKey {
                key,
                locker,
                holder: parts.holder,
                date: parts.date,
                expected_return: parts.expected_return,
                confirmation: parts.confirmation,
                notes: parts.notes,
                due_time: parts.due_time,
            },
            move |event| {
                if let keyward_core::Change::KeyIssued { key, holder, .. } = &event.change {
                    let text = state.register.with_untracked(|r| {
                        format!(
                            "Key {} issued to {}.",
                            r.key(*key).map(|k| k.tag.to_string()).unwrap_or_default(),
                            r.holder_name(holder)
                        )
                    });
                    state.flash.set(Some(text));
                }
                navigate(&format!("/lockers/{locker}"), Default::default());
            },
        );
    };

    view! {
        <Back href=format!("/lockers/{locker}") label=format!("Locker {number}")/>
        <h1>"Issue a key: locker "{number.clone()}</h1>
        <form class="card" on:submit=submit novalidate>
            <label for="issue-key">"Key"</label>
            <Show
                when=move || keys.with(|k| !k.is_empty())
                fallback=|| view! { <p class="warning" id="issue-key">"No key of this locker is in store."</p> }
            >
                <select id="issue-key" on:change=move |ev| key.set(KeyId::parse(&event_target_value(&ev)))>
                    <option value="" disabled=true selected=move || chosen_key().is_none()>"Choose a key"</option>
                    <For each=move || keys.get() key=|k| k.clone() let:((id, label))>
                        <option value=id.to_string() selected=move || chosen_key() == Some(id)>{label}</option>
                    </For>
                </select>
            </Show>
            {move || gone().map(|message| view! { <p class="warning" role="alert">{message}</p> })}

            <HolderFields input prefix="issue" legend="Issued to"/>
            <label for="issue-date">"Date issued"</label>
            <p class="hint" id="issue-date-hint">"Day/month/year"</p>
            <input id="issue-date" inputmode="numeric" autocomplete="off" aria-describedby="issue-date-hint" bind:value=input.date/>
            <DueFields input prefix="issue" locker/>
            <ConfirmFields input prefix="issue"/>

            <label for="issue-notes">"Notes (optional)"</label>
            <textarea id="issue-notes" rows="2" bind:value=input.notes></textarea>
            <FormError form/>
            <Submit form label="Issue key" action=Action::IssueReturn/>
        </form>
    }
}
