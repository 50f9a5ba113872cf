//! A person's page (keys held now, every loan) and the form to edit them.

use crate::components::{local_date_time, Allowed, Back, FormError, FormState, Submit};
use crate::routes::people::{PersonFields, PersonInput};
use crate::state::use_app;
use keyward_core::format::uk_date;
use keyward_core::{Action, Command, PersonId};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

fn person_param() -> Option<PersonId> {
    use_params_map().with_untracked(|p| p.get("id").and_then(|id| PersonId::parse(&id)))
}

fn not_found() -> AnyView {
    view! {
        <Back href="/people" label="People"/>
        <h1>"Person not found"</h1>
        <p>"This person is not in the register on this device."</p>
    }
    .into_any()
}

#[component]
pub fn PersonPage() -> impl IntoView {
    let state = use_app();
    match person_param().filter(|p| state.register.with_untracked(|r| r.person(*p).is_some())) {
        Some(id) => view! { <Person id/> }.into_any(),
        None => not_found(),
    }
}

#[component]
fn Person(id: PersonId) -> impl IntoView {
    let state = use_app();
    let details = Memo::new(move |_| {
        state
            .register
            .with(|r| r.person(id).map(|p| p.details.clone()))
    });
    // Keys held now, the overdue ones first (the longest overdue first), each with when it is
    // due back and how late.
    let held = Memo::new(move |_| {
        let now = state.clock.get();
        state.register.with(|r| {
            let mut keys: Vec<_> = r
                .keys_held_by(id)
                .into_iter()
                .map(|k| {
                    let locker = r.locker_of_key(k.id).map(|l| (l.id, l.number.clone()));
                    let loan = r.current_loan(k.id);
                    let since = loan.map(|l| uk_date(l.date)).unwrap_or_default();
                    let due = loan.map(keyward_core::due_words).unwrap_or_default();
                    let back = if due.is_empty() {
                        String::new()
                    } else {
                        format!(", due back {due}")
                    };
                    let late = loan.and_then(|l| l.lateness(now));
                    (
                        late,
                        (
                            k.id,
                            k.tag.to_string(),
                            locker,
                            format!("since {since}{back}"),
                            late.map(keyward_core::late_words),
                        ),
                    )
                })
                .collect();
            keys.sort_by_key(|(late, _)| std::cmp::Reverse(*late));
            keys.into_iter().map(|(_, k)| k).collect::<Vec<_>>()
        })
    });
    let history = Memo::new(move |_| {
        state.register.with(|r| {
            r.loans_of(id)
                .into_iter()
                .map(|l| {
                    let tag = r.key(l.key).map(|k| k.tag.to_string()).unwrap_or_default();
                    let number = r
                        .locker(l.locker)
                        .map(|k| k.number.clone())
                        .unwrap_or_default();
                    let mut text =
                        format!("Key {tag} for locker {number}: issued {}", uk_date(l.date));
                    if let Some(ret) = &l.returned {
                        text.push_str(&format!(
                            ", returned {} ({})",
                            local_date_time(ret.at),
                            ret.condition.label().to_lowercase()
                        ));
                    } else {
                        text.push_str(", not yet returned");
                    }
                    (l.id, l.locker, text)
                })
                .collect::<Vec<_>>()
        })
    });
    view! {
        <Back href="/people" label="People"/>
        {move || details.get().map(|d| view! {
            <header class="page-head">
                <h1>{d.name.clone()}</h1>
                <Allowed action=Action::ManagePeople><A href=format!("/people/{id}/edit") attr:class="button small">"Edit"</A></Allowed>
            </header>
            <p class="meta">
                {d.kind.label()}
                {(!d.reference.is_empty()).then(|| format!(" · {}", d.reference))}
                {(!d.department.is_empty()).then(|| format!(" · {}", d.department))}
            </p>
        })}
        {move || {
            let n = state.register.with(|r| r.losses_of(id).len());
            view! {
                <p class={if n >= keyward_core::REPEATED_LOSSES { "warning lost-count" } else { "lost-count" }}>
                    {match n { 0 => "No lost keys.".to_string(), 1 => "1 lost key.".to_string(), n => format!("{n} lost keys.") }}
                </p>
            }
        }}
        <section class="card">
            <h2>"Keys held"</h2>
            {move || {
                let n = held.with(|h| h.iter().filter(|k| k.4.is_some()).count());
                (n > 0).then(|| view! {
                    <p class="warning">{if n == 1 { "1 key is overdue.".to_string() } else { format!("{n} keys are overdue.") }}</p>
                })
            }}
            <Show when=move || held.with(Vec::is_empty)>
                <p>"No keys at the moment."</p>
            </Show>
            <ul class="keys">
                <For each=move || held.get() key=|k| k.clone() let:((key, tag, locker, since, late))>
                    <li class="key">
                        <div>
                            {late.map(|late| view! { <span class="badge overdue">"Overdue, "{late}</span>" " })}
                            <span class="tag">{tag.clone()}</span>
                            {locker.clone().map(|(locker, number)| view! {
                                " for "<A href=format!("/lockers/{locker}")>{format!("locker {number}")}</A>
                            })}
                            <div class="meta">{since}</div>
                        </div>
                        <Allowed action=Action::IssueReturn>
                            <A href=format!("/keys/{key}/return") attr:class="button small" attr:aria-label=format!("Return key {tag}")>"Return"</A>
                        </Allowed>
                    </li>
                </For>
            </ul>
        </section>
        <Leaving id/>
        <section class="card">
            <h2>"History"</h2>
            <Show when=move || history.with(Vec::is_empty)>
                <p>"No keys issued to this person yet."</p>
            </Show>
            <ol class="timeline">
                <For each=move || history.get() key=|h| h.clone() let:((_, _, text))>
                    <li><p>{text}</p></li>
                </For>
            </ol>
        </section>
    }
}

#[component]
pub fn EditPersonPage() -> impl IntoView {
    let state = use_app();
    let found = person_param().and_then(|id| {
        state
            .register
            .with_untracked(|r| r.person(id).map(|p| (id, p.details.clone())))
    });
    let Some((id, details)) = found else {
        return not_found();
    };
    let form = FormState::new();
    let navigate = use_navigate();
    let input = PersonInput::new(details);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let details = input.details();
        let navigate = navigate.clone();
        form.run(
            Command::EditPerson {
                person: id,
                details,
            },
            move |_| {
                state.flash.set(Some("Changes saved.".into()));
                navigate(&format!("/people/{id}"), Default::default());
            },
        );
    };
    view! {
        <Back href=format!("/people/{id}") label="Back"/>
        <h1>"Edit person"</h1>
        <form class="card" on:submit=submit novalidate>
            <PersonFields input/>
            <FormError form/>
            <Submit form label="Save changes" action=Action::ManagePeople/>
        </form>
    }
    .into_any()
}

/// Whether the person has left the site: the day they left (their keys then show in the audit
/// report as held by a leaver), or the form to record it; "They are back" undoes it by a
/// further event.
#[component]
fn Leaving(id: PersonId) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let day = RwSignal::new(uk_date(crate::components::today()));
    let left = Memo::new(move |_| state.register.with(|r| r.person(id).and_then(|p| p.left)));
    let set = move |left: Option<chrono::NaiveDate>| {
        form.run(Command::SetPersonLeft { person: id, left }, move |_| {
            state.flash.set(Some(match left {
                Some(d) => format!("Recorded as left on {}.", uk_date(d)),
                None => "Recorded as back at the site.".into(),
            }));
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match keyward_core::format::parse_date(&day.get_untracked()) {
            Some(d) => set(Some(d)),
            None => form.fail("Enter the day they left as day/month/year, for example 30/11/2026."),
        }
    };
    view! {
        <section class="card">
            <h2>"Leaving"</h2>
            {move || match left.get() {
                Some(d) => view! {
                    <p class="warning">{format!("Left the site on {}. Any key they still hold is to be returned.", uk_date(d))}</p>
                    <FormError form/>
                    <Allowed action=Action::ManagePeople>
                        <button type="button" class="button" disabled=move || form.busy.get() on:click=move |_| set(None)>"They are back"</button>
                    </Allowed>
                }
                .into_any(),
                None => view! {
                    <form on:submit=submit novalidate aria-label="Record that they have left">
                        <label for="left-on">"Left the site on"</label>
                        <input id="left-on" inputmode="numeric" autocomplete="off" bind:value=day/>
                        <FormError form/>
                        <Submit form label="Record that they have left" action=Action::ManagePeople/>
                    </form>
                }
                .into_any(),
            }}
        </section>
    }
}
