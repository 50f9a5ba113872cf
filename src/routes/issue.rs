//! Issuing a key: which key, to whom (the locker's recent and likely people first, a search, or
//! a department), when, until when for a temporary loan, and the taker's confirmation as the
//! area's policy asks.
//!
//! Two layouts of one form. The full form (`/lockers/:id/issue`, from the locker page) shows
//! every field. The quick screen (`?key=<id>&quick=1`, where a scanned key tag lands) is for
//! one hand in a corridor: the key is the one scanned, the person is one tap, and the date
//! (today), a temporary loan and notes are folded away. On both the confirm button sits in a
//! bar above the bottom navigation, so it is in reach without scrolling.

use crate::components::Count;
use crate::components::{Back, FormError, FormState, Submit};
use crate::routes::loan_form::{taker_confirms, ConfirmFields, DueFields, HolderFields, LoanInput};
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
    let quick = key.is_some() && query.with_untracked(|q| q.get("quick").as_deref() == Some("1"));
    let state = use_app();
    match locker.filter(|l| state.register.with_untracked(|r| r.locker(*l).is_some())) {
        Some(locker) => view! { <IssueForm locker preselected=key quick/> }.into_any(),
        None => view! {
            <Back href="/" label="Register"/>
            <h1>"Locker not found"</h1>
            <p>"This locker is not in the register on this device."</p>
        }
        .into_any(),
    }
}

/// The quick issue screen of a key in store.
pub fn quick_issue_path(locker: LockerId, key: KeyId) -> String {
    format!("/lockers/{locker}/issue?key={key}&quick=1")
}

#[component]
fn IssueForm(locker: LockerId, preselected: Option<KeyId>, quick: bool) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let navigate = use_navigate();
    let (number, area) = state.register.with_untracked(|r| {
        r.locker(locker)
            .map(|l| {
                (
                    l.number.clone(),
                    r.area(l.area).map(|a| a.name.clone()).unwrap_or_default(),
                )
            })
            .unwrap_or_default()
    });
    let needs = taker_confirms(locker);

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
    // The key picked (or tapped on the locker page, or scanned) while it is still in store;
    // otherwise the first key in store. A key issued meanwhile elsewhere is not swapped
    // silently: the person is told and chooses again.
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
                let what = if quick {
                    "Scan another key, or open the locker to choose one."
                } else {
                    "Choose another key."
                };
                format!(
                    "Key {} is {} now, so it cannot be issued. {what}",
                    k.tag,
                    k.state.label().to_lowercase()
                )
            })
        })
    };
    let tag = preselected
        .and_then(|k| {
            state
                .register
                .with_untracked(|r| r.key(k).map(|k| k.tag.to_string()))
        })
        .unwrap_or_default();

    let input = LoanInput::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(key) = chosen_key() else {
            // The key went out meanwhile: that is already said where the key is, once.
            form.error.set(None);
            if gone().is_some() {
                if let Some(warning) = document().get_element_by_id("issue-key-gone") {
                    warning.scroll_into_view();
                }
            } else {
                form.fail(
                    "There is no key in store for this locker. Add a key, or return one first.",
                );
            }
            return;
        };
        let parts = match input.read("issue date", needs.get_untracked()) {
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
    let gone_view = move || {
        gone().map(
            |message| view! { <p class="warning" id="issue-key-gone" role="alert">{message}</p> },
        )
    };

    let date = move || {
        view! {
            <label for="issue-date">"Date issued"</label>
            <p class="hint" id="issue-date-hint">"Day/month/year"</p>
            <input id="issue-date" inputmode="numeric" autocomplete="off" aria-describedby="issue-date-hint" bind:value=input.date/>
            <DueFields input prefix="issue" locker/>
            <label for="issue-notes">"Notes (optional)"</label>
            <textarea maxlength={keyward_core::checks::MAX_NOTES} id="issue-notes" rows="2" bind:value=input.notes></textarea>
            <Count value={input.notes} max={keyward_core::checks::MAX_NOTES}/>
        }
    };
    let actions = move || {
        view! {
            <div class="actionbar">
                <FormError form/>
                <Submit form label="Issue key" action=Action::IssueReturn/>
            </div>
        }
    };

    if quick {
        let key_page = preselected
            .map(|k| format!("/keys/{k}"))
            .unwrap_or_default();
        return view! {
            <Back href=format!("/lockers/{locker}") label=format!("Locker {number}")/>
            <div class="quick-head">
                <h1>"Issue key "<span class="tag">{tag.clone()}</span></h1>
                <p class="meta">{format!("Locker {number} · {area} · today")}" · "<a href=key_page>"Key details"</a></p>
            </div>
            {gone_view}
            <form class="card quick" on:submit=submit novalidate>
                <HolderFields input prefix="issue" legend="Issued to" locker quick=true/>
                <ConfirmFields input prefix="issue" needs/>
                <details class="more">
                    <summary>"Date, temporary loan, notes"</summary>
                    {date()}
                </details>
                {actions()}
            </form>
        }
        .into_any();
    }

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
            {gone_view}

            <HolderFields input prefix="issue" legend="Issued to" locker/>
            {date()}
            <ConfirmFields input prefix="issue" needs/>
            {actions()}
        </form>
    }
    .into_any()
}
