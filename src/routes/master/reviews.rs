//! Emergency uses to review (`/master/reviews`), for admins and custodians.

use super::*;
use crate::components::Count;

#[component]
pub fn ReviewsPage() -> impl IntoView {
    let state = use_app();
    let uses = Memo::new(move |_| {
        let Some(site) = state.site() else {
            return Vec::new();
        };
        state.register.with(|r| {
            r.uses_to_review(site)
                .into_iter()
                .map(|s| {
                    let name = |p: PersonId| {
                        r.person(p)
                            .map(|p| p.details.name.clone())
                            .unwrap_or_default()
                    };
                    let tag = r.key(s.key).map(|k| k.tag.to_string()).unwrap_or_default();
                    let suite = r.suite(s.suite).map(|x| x.name.clone()).unwrap_or_default();
                    let back = match &s.returned {
                        Some(ret) => format!(
                            "Back {}, received by {}",
                            local_date_time(ret.at),
                            ret.received_by
                        ),
                        None if s.lost.is_some() => "Reported lost while out".into(),
                        None => "Still out".into(),
                    };
                    (
                        s.id,
                        s.key,
                        format!("Master key {tag} ({suite}) taken by {}", name(s.person)),
                        s.reason.clone(),
                        format!(
                            "Out {} · recorded by {}",
                            local_date_time(s.out_at),
                            s.recorded_by
                        ),
                        back,
                        s.witness.map(|w| format!("Witness: {}", name(w))),
                        if s.emergency {
                            "Emergency use by someone not authorised"
                        } else {
                            "Use by a holder whose authorisation had been withdrawn"
                        },
                    )
                })
                .collect::<Vec<_>>()
        })
    });
    view! {
        <Back href="/master" label="Master keys"/>
        <h1>"Emergency uses to review"</h1>
        <RoleNote action=Action::MasterKeys/>
        <Show when=move || uses.with(Vec::is_empty)>
            <p class="empty">"No use of a master key waits for review."</p>
        </Show>
        <For each=move || uses.get() key=|u| u.clone() let:((id, key_id, title, reason, out, back, witness, why))>
            <section class="card review">
                <h2><A href=format!("/master/keys/{key_id}")>{title.clone()}</A></h2>
                <p class="flag">{why}</p>
                <p>"Reason: "{reason}</p>
                <p class="meta">{out}</p>
                <p class="meta">{back}</p>
                {witness.map(|w| view! { <p class="meta">{w}</p> })}
                <Allowed action=Action::MasterKeys>
                    <ReviewForm id/>
                </Allowed>
            </section>
        </For>
    }
}

#[component]
fn ReviewForm(id: SignOutId) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let notes = RwSignal::new(String::new());
    let field = format!("review-{id}");
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.run(
            Command::ReviewEmergencyUse {
                sign_out: id,
                notes: notes.get_untracked(),
            },
            move |_| state.flash.set(Some("Review recorded.".into())),
        );
    };
    view! {
        <form on:submit=submit novalidate>
            <label for=field.clone()>"Review notes"</label>
            <textarea maxlength={keyward_core::checks::MAX_NOTES} id=field rows="2" bind:value=notes></textarea>
            <Count value=notes max={keyward_core::checks::MAX_NOTES}/>
            <FormError form/>
            <Submit form label="Record review" action=Action::MasterKeys/>
        </form>
    }
}

// ---------------------------------------------------------------------------------------------
// A lost master key's escalation
