//! Handing a key that is out straight to the next holder (a ward's shift change): who takes
//! it (the locker's recent and likely people first), temporary or not with its due-back day
//! and time, notes, and their confirmation as the area's policy asks. One
//! step: the current loan closes and the next one opens (HandOverKey).

use crate::components::Count;
use crate::components::{key_in_route, Back, FormError, FormState, KeyNotFound, Submit};
use crate::routes::loan_form::{taker_confirms, ConfirmFields, DueFields, HolderFields, LoanInput};
use crate::state::use_app;
use keyward_core::format::uk_date;
use keyward_core::{due_words, Action, Change, Command, KeyId, LockerId};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

#[component]
pub fn HandOverPage() -> impl IntoView {
    match key_in_route() {
        Some((key, tag, locker, number)) => {
            view! { <HandOverForm key tag locker number/> }.into_any()
        }
        None => view! { <KeyNotFound/> }.into_any(),
    }
}

#[component]
fn HandOverForm(key: KeyId, tag: String, locker: LockerId, number: String) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let navigate = use_navigate();
    let input = LoanInput::new();
    let needs = taker_confirms(locker);
    // The loan it is on now: who has it, since when, until when.
    let loan = Memo::new(move |_| {
        state.register.with(|r| {
            r.current_loan(key).map(|l| {
                let due = due_words(l);
                let mut since = format!("since {}", uk_date(l.date));
                if !due.is_empty() {
                    since.push_str(&format!(", due back {due}"));
                }
                (r.holder_name(&l.holder), since, l.is_temporary())
            })
        })
    });
    // A temporary loan is handed over as one by default.
    input
        .temporary
        .set(loan.with_untracked(|l| l.as_ref().is_some_and(|l| l.2)));
    if input.temporary.get_untracked() {
        let due = state.register.with_untracked(|r| {
            r.current_loan(key).and_then(|l| {
                l.expected_return.map(|d| {
                    (
                        uk_date(d),
                        l.due_time
                            .map(keyward_core::format::uk_time)
                            .unwrap_or_default(),
                    )
                })
            })
        });
        if let Some((day, time)) = due {
            input.back_by.set(day);
            input.due_time.set(time);
        }
    }
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let parts = match input.read("date handed over", needs.get_untracked()) {
            Ok(parts) => parts,
            Err(message) => return form.fail(message),
        };
        let navigate = navigate.clone();
        form.run(
            Command::HandOverKey {
                key,
                to: parts.holder,
                date: parts.date,
                expected_return: parts.expected_return,
                due_time: parts.due_time,
                confirmation: parts.confirmation,
                notes: parts.notes,
            },
            move |event| {
                if let Change::KeyHandedOver { to, .. } = &event.change {
                    let text = state.register.with_untracked(|r| {
                        format!(
                            "Key {} handed over to {}.",
                            r.key(key).map(|k| k.tag.to_string()).unwrap_or_default(),
                            r.holder_name(to)
                        )
                    });
                    state.flash.set(Some(text));
                }
                navigate(&format!("/keys/{key}"), Default::default());
            },
        );
    };
    view! {
        <Back href=format!("/keys/{key}") label=format!("Key {tag}")/>
        <h1>"Hand over key "{tag.clone()}</h1>
        {move || match loan.get() {
            Some((holder, since, _)) => view! {
                <p>"Locker "{number.clone()}" · held by "<strong>{holder}</strong>" "{since}</p>
            }.into_any(),
            None => view! { <p class="warning">"This key is not out at the moment, so there is nothing to hand over."</p> }.into_any(),
        }}
        <form class="card" on:submit=submit novalidate>
            <HolderFields input prefix="handover" legend="Handed over to" locker/>
            <label for="handover-date">"Date handed over"</label>
            <p class="hint" id="handover-date-hint">"Day/month/year"</p>
            <input id="handover-date" inputmode="numeric" autocomplete="off" aria-describedby="handover-date-hint" bind:value=input.date/>
            <DueFields input prefix="handover" locker/>
            <label for="handover-notes">"Notes (optional)"</label>
            <textarea maxlength={keyward_core::checks::MAX_NOTES} id="handover-notes" rows="2" bind:value=input.notes></textarea>
            <Count value={input.notes} max={keyward_core::checks::MAX_NOTES}/>
            <ConfirmFields input prefix="handover" needs/>
            <div class="actionbar">
                <FormError form/>
                <Submit form label="Hand over key" action=Action::IssueReturn/>
            </div>
        </form>
    }
}
