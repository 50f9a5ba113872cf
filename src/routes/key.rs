//! A key's page: what the key is, where it is, and its quick issue or return one tap away. A
//! scanned tag lands here when it can be neither issued nor returned (lost, damaged, retired,
//! or for someone who may not issue keys).

use crate::components::{Back, RoleNote};
use crate::state::use_app;
use keyward_core::format::uk_date;
use keyward_core::{Action, KeyId, KeyKind, KeyState};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

#[component]
pub fn KeyPage() -> impl IntoView {
    let state = use_app();
    let id = use_params_map().with_untracked(|p| p.get("id").and_then(|id| KeyId::parse(&id)));
    let key = Memo::new(move |_| {
        state.register.with(|r| {
            let k = r.key(id?)?;
            let locker = r.locker_of_key(k.id).map(|l| (l.id, l.number.clone()));
            let now = state.clock.get();
            let holder = r.current_loan(k.id).map(|l| {
                let due = keyward_core::due_words(l);
                let back = if due.is_empty() {
                    String::new()
                } else {
                    format!(", due back {due}")
                };
                let late = l
                    .lateness(now)
                    .map(|d| format!(" (overdue, {})", keyward_core::late_words(d)))
                    .unwrap_or_default();
                format!(
                    "{} since {}{}{}",
                    r.holder_name(&l.holder),
                    uk_date(l.date),
                    back,
                    late
                )
            });
            Some((
                k.id,
                k.tag.to_string(),
                k.kind,
                k.copy,
                k.state,
                k.storage.clone(),
                locker,
                holder,
            ))
        })
    });
    move || {
        match key.get() {
        None => view! {
            <Back href="/" label="Register"/>
            <h1>"Key not found"</h1>
            <p>"This key is not in the register on this device."</p>
        }
        .into_any(),
        Some((id, tag, kind, copy, key_state, storage, locker, holder)) => view! {
            {locker.clone().map(|(l, n)| view! { <Back href=format!("/lockers/{l}") label=format!("Locker {n}")/> })}
            <h1>"Key "<span class="tag">{tag.clone()}</span></h1>
            <crate::routes::lost::LostAlert key=id/>
            <section class="card">
                <dl class="facts">
                    <dt>"Kind"</dt><dd>{format!("{}, copy {copy}", kind.label())}</dd>
                    <dt>"State"</dt><dd>{key_state.label()}</dd>
                    {holder.map(|h| view! { <dt>"Held by"</dt><dd>{h}</dd> })}
                    {storage.filter(|_| key_state == KeyState::InStore).map(|s| view! { <dt>"Kept at"</dt><dd>{s}</dd> })}
                    {locker.clone().map(|(l, n)| view! { <dt>"Opens"</dt><dd><A href=format!("/lockers/{l}")>{format!("Locker {n}")}</A></dd> })}
                </dl>
                {(kind == KeyKind::Master).then(|| view! {
                    <A href=format!("/master/keys/{id}") attr:class="button primary">"Sign out, return or check this master key"</A>
                })}
                <RoleNote action=Action::IssueReturn/>
                {state.allowed(Action::IssueReturn).is_ok().then(|| match (key_state, locker) {
                    (KeyState::InStore, Some((l, _))) if kind != KeyKind::Master => Some(view! {
                        <A href=crate::routes::issue::quick_issue_path(l, id) attr:class="button primary">"Issue this key"</A>
                    }.into_any()),
                    (s, _) if s.is_out() => Some(view! {
                        <p class="actions">
                            <A href=crate::routes::return_key::quick_return_path(id) attr:class="button primary">"Return this key"</A>
                            <A href=format!("/keys/{id}/handover") attr:class="button">"Hand over to the next holder"</A>
                        </p>
                    }.into_any()),
                    _ => None,
                })}
                {(state.allowed(Action::IssueReturn).is_ok() && kind != KeyKind::Master
                    && matches!(key_state, KeyState::InStore | KeyState::Issued | KeyState::SignedOut)).then(|| view! {
                    <A href=format!("/keys/{id}/lost") attr:class="button danger-outline">"Report lost or stolen"</A>
                })}
            </section>
        }
        .into_any(),
    }
    }
}
