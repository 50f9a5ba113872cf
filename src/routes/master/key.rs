//! A master key's page (`/master/keys/:id`): sign-out (an authorised holder, or the
//! emergency route with its reason), return, report lost, and every use with out and back.

use super::*;
use crate::components::Count;

#[component]
pub fn MasterKeyPage() -> impl IntoView {
    let state = use_app();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| KeyId::parse(&id))));
    let info = Memo::new(move |_| {
        let id = id.get()?;
        let now = Utc::now();
        state.register.with(|r| {
            let k = r.key(id).filter(|k| k.kind == KeyKind::Master)?;
            let suite = r.suite_of_key(id);
            let locker = r.locker_of_key(id);
            let due = locker.and_then(|l| {
                r.presence_checks(l.site, now)
                    .into_iter()
                    .find(|c| c.key == id)
                    .map(|c| (local_date(c.due), c.late))
            });
            let escalation = locker.and_then(|l| {
                r.open_escalations(l.site)
                    .into_iter()
                    .find(|e| e.key == id)
                    .map(|e| e.id)
            });
            Some(KeyInfo {
                tag: k.tag.to_string(),
                suite: suite.map(|s| (s.id, s.name.clone())),
                lock_suite: r
                    .lock(k.lock)
                    .and_then(|l| l.suite.clone())
                    .unwrap_or_default(),
                locker: locker.map(|l| (l.id, l.number.clone())),
                lost: k.state == KeyState::Lost,
                escalation,
                out: r.master_sign_out_of(id).map(|o| {
                    let mut text = format!(
                        "Out with {} since {}",
                        r.person(o.person)
                            .map(|p| p.details.name.clone())
                            .unwrap_or_default(),
                        local_date_time(o.out_at)
                    );
                    if let Some(due) = o.due_back {
                        text.push_str(&format!(", due back {}", local_date_time(due)));
                    }
                    text
                }),
                last_seen: r.last_seen(id).map(|s| local_date_time(s.at)),
                due,
            })
        })
    });
    // The forms change only when the key's state does, so a sync meanwhile keeps what is typed.
    let mode = Memo::new(move |_| {
        info.with(|i| {
            i.as_ref().map(|i| {
                (
                    i.suite.as_ref().map(|s| s.0),
                    !i.lost && i.out.is_none(),
                    i.out.is_some(),
                    i.lost,
                )
            })
        })
    });
    move || {
        match (id.get(), mode.get()) {
        (Some(id), Some((suite, in_place, out, lost))) => view! {
            <Back href="/master" label="Master keys"/>
            {move || info.get().map(|info| {
                let state_text = if info.lost {
                    "Lost".to_string()
                } else {
                    info.out.clone().unwrap_or_else(|| "In place".into())
                };
                view! {
                    <h1>"Master key "<span class="tag">{info.tag.clone()}</span></h1>
                    <section class="card">
                        <dl class="facts">
                            <dt>"Suite"</dt><dd>{info.suite.clone().map(|s| s.1).unwrap_or_else(|| "None defined".into())}</dd>
                            {info.locker.clone().map(|(l, n)| view! { <dt>"On lock of"</dt><dd><A href=format!("/lockers/{l}")>{format!("Locker {n}")}</A></dd> })}
                            <dt>"State"</dt><dd>{state_text}</dd>
                            <dt>"Last seen"</dt><dd>{info.last_seen.clone().unwrap_or_else(|| "Never checked".into())}</dd>
                            {info.due.clone().map(|(d, late)| view! {
                                <dt>"Next check"</dt>
                                <dd class:late=late>{if late { format!("{d} (late)") } else { d }}</dd>
                            })}
                        </dl>
                    </section>
                    {info.escalation.map(|e| view! {
                        <p class="error">"This master key is reported lost. "<A href=format!("/master/escalations/{e}")>"See the lockers at risk"</A></p>
                    })}
                    {info.suite.is_none().then(|| view! {
                        <p class="warning">{if info.lock_suite.is_empty() {
                            "This master key's lock names no suite, so it belongs to no suite.".to_string()
                        } else {
                            format!("This master key belongs to no suite yet: define the suite “{}” under Master keys.", info.lock_suite)
                        }}</p>
                    })}
                }
            })}
            {suite.map(|suite| view! {
                {in_place.then(|| view! { <SignOutForm key=id suite/> })}
                {out.then(|| view! { <ReturnForm key=id/> })}
                {(!lost).then(|| view! { <ReportLost key=id/> })}
            })}
            <Uses key=id/>
        }
        .into_any(),
        _ => view! {
            <Back href="/master" label="Master keys"/>
            <h1>"Master key not found"</h1>
            <p>"This master key is not in the register on this device."</p>
        }
        .into_any(),
    }
    }
}

#[component]
fn SignOutForm(key: KeyId, suite: SuiteId) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let person = RwSignal::new(None::<PersonId>);
    let witness = RwSignal::new(None::<PersonId>);
    let reason = RwSignal::new(String::new());
    let due = RwSignal::new(String::new());
    let holders = Signal::derive(move || {
        state.register.with(|r| {
            let mut list = r
                .suite(suite)
                .map(|s| {
                    s.holders
                        .iter()
                        .filter_map(|p| r.person(*p).map(|p| (p.id, p.details.name.clone())))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            list.sort_by(|a, b| a.1.cmp(&b.1));
            list
        })
    });
    let witness_needed = Memo::new(move |_| state.register.with(|r| r.witness_required(suite)));
    let emergency = Memo::new(move |_| {
        person
            .get()
            .is_some_and(|p| !state.register.with(|r| r.is_authorised(suite, p)))
    });
    let suite_name = move || {
        state
            .register
            .with(|r| r.suite(suite).map(|s| s.name.clone()).unwrap_or_default())
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(who) = person.get_untracked() else {
            form.fail(
                "Choose the person taking the key: tap an authorised holder, or search by name.",
            );
            return;
        };
        let Ok(due_back) = parse_due(&due.get_untracked()) else {
            form.fail("Enter when it is due back as a 24-hour time, for example 17:30, or a date and time, for example 27/11/2026 09:00. Or leave it empty.");
            return;
        };
        let emergency = emergency.get_untracked();
        form.run(
            Command::SignOutMasterKey {
                key,
                person: who,
                reason: reason.get_untracked(),
                witness: witness.get_untracked(),
                due_back,
                emergency,
            },
            move |_| {
                let tag = state
                    .register
                    .with_untracked(|r| r.key(key).map(|k| k.tag.to_string()).unwrap_or_default());
                let name = name_of(state, who);
                state.flash.set(Some(if emergency {
                    format!("Emergency use of master key {tag} by {name} recorded and flagged for an admin's review.")
                } else {
                    format!("Master key {tag} signed out to {name}.")
                }));
            },
        );
    };
    view! {
        <form class="card" on:submit=submit novalidate>
            <h2>"Sign out"</h2>
            <PersonPicker id="signout-person" label="Person taking the key" chosen=person optional=false first=holders first_label="Authorised holders"/>
            {move || emergency.get().then(|| view! {
                <div class="emergency">
                    <p><strong>"Emergency use — flagged for an admin's review"</strong></p>
                    <p>{format!("{} is not an authorised holder of the {} suite. The key can only be taken as an emergency use: give its reason below.", person.get().map(|p| name_of(state, p)).unwrap_or_default(), suite_name())}</p>
                </div>
            })}
            <label for="signout-reason">{move || if emergency.get() { "Reason for the emergency use" } else { "Reason" }}</label>
            <input id="signout-reason" autocomplete="off" placeholder="Pupil locked out of locker C12" bind:value=reason/>
            <PersonPicker id="signout-witness" label="Witness" chosen=witness optional=Signal::derive(move || !witness_needed.get()) first=Vec::new()/>
            <label for="signout-due">"Due back (optional)"</label>
            <p class="hint" id="signout-due-hint">"24-hour time today, for example 17:30, or a date and time, 27/11/2026 09:00."</p>
            <input id="signout-due" inputmode="numeric" autocomplete="off" aria-describedby="signout-due-hint" bind:value=due/>
            <FormError form/>
            {move || if emergency.get() {
                view! { <Submit form label="Record emergency use" action=Action::UseMasterKey/> }.into_any()
            } else {
                view! { <Submit form label="Sign out" action=Action::UseMasterKey/> }.into_any()
            }}
        </form>
    }
}

#[component]
fn ReturnForm(key: KeyId) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let received = RwSignal::new(state.user());
    let notes = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.run(
            Command::ReturnMasterKey {
                key,
                received_by: received.get_untracked(),
                notes: notes.get_untracked(),
            },
            move |_| {
                let tag = state
                    .register
                    .with_untracked(|r| r.key(key).map(|k| k.tag.to_string()).unwrap_or_default());
                state
                    .flash
                    .set(Some(format!("Master key {tag} returned and in its place.")));
            },
        );
    };
    view! {
        <form class="card" on:submit=submit novalidate>
            <h2>"Return"</h2>
            <label for="return-received">"Received by"</label>
            <input id="return-received" autocomplete="name" bind:value=received/>
            <label for="return-notes">"Notes (optional)"</label>
            <textarea maxlength={keyward_core::checks::MAX_NOTES} id="return-notes" rows="2" bind:value=notes></textarea>
            <Count value=notes max={keyward_core::checks::MAX_NOTES}/>
            <FormError form/>
            <Submit form label="Record return" action=Action::UseMasterKey/>
        </form>
    }
}

#[component]
fn ReportLost(key: KeyId) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let notes = RwSignal::new(String::new());
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let navigate = navigate.clone();
        form.run(
            Command::ReportMasterKeyLost {
                key,
                notes: notes.get_untracked(),
            },
            move |event| {
                if let keyward_core::Change::MasterLostReported { escalation, .. } = event.change {
                    state.flash.set(Some(
                        "Master key reported lost. Every device of the site shows the alert until an admin resolves it.".into(),
                    ));
                    navigate(&format!("/master/escalations/{escalation}"), Default::default());
                }
            },
        );
    };
    view! {
        <form class="card warning" on:submit=submit novalidate>
            <h2>"Lost?"</h2>
            <p class="hint">"Every lock of its suite is then at risk: every device of the site shows an alert until an admin resolves it."</p>
            <label for="lost-notes">"What happened (optional)"</label>
            <textarea maxlength={keyward_core::checks::MAX_NOTES} id="lost-notes" rows="2" bind:value=notes></textarea>
            <Count value=notes max={keyward_core::checks::MAX_NOTES}/>
            <FormError form/>
            <Submit form label="Report lost" action=Action::UseMasterKey/>
        </form>
    }
}

#[component]
fn Uses(key: KeyId) -> impl IntoView {
    let state = use_app();
    let uses = Memo::new(move |_| {
        state.register.with(|r| {
            r.sign_outs_of_key(key)
                .into_iter()
                .map(|s| {
                    let name = |p: PersonId| {
                        r.person(p)
                            .map(|p| p.details.name.clone())
                            .unwrap_or_default()
                    };
                    let back = match (&s.returned, s.lost) {
                        (Some(ret), _) => format!(
                            "Back: {}, received by {}",
                            local_date_time(ret.at),
                            ret.received_by
                        ),
                        (None, Some(_)) => "Reported lost while out".into(),
                        (None, None) => "Still out".into(),
                    };
                    let flag = if s.needs_review() {
                        Some("Emergency use: waiting for an admin's review".to_string())
                    } else {
                        s.review
                            .as_ref()
                            .map(|rv| format!("Reviewed by {}: {}", rv.by, rv.notes))
                    };
                    (
                        s.id,
                        name(s.person),
                        s.reason.clone(),
                        format!("Out: {}", local_date_time(s.out_at)),
                        back,
                        s.witness.map(|w| format!("Witness: {}", name(w))),
                        s.due_back
                            .map(|d| format!("Due back {}", local_date_time(d))),
                        s.emergency,
                        flag,
                    )
                })
                .collect::<Vec<_>>()
        })
    });
    view! {
        <section class="card">
            <h2>"Uses"</h2>
            <Show when=move || uses.with(Vec::is_empty)>
                <p class="hint">"Never signed out."</p>
            </Show>
            <ol class="timeline uses">
                <For each=move || uses.get() key=|u| u.clone() let:((_, who, reason, out, back, witness, due, emergency, flag))>
                    <li>
                        <p><strong>{who}</strong>{emergency.then_some(" (emergency use)")}": "{reason}</p>
                        <p class="meta">{out}{due.map(|d| format!(" · {d}"))}</p>
                        <p class="meta">{back}</p>
                        {witness.map(|w| view! { <p class="meta">{w}</p> })}
                        {flag.map(|f| view! { <p class="meta flag">{f}</p> })}
                    </li>
                </For>
            </ol>
        </section>
    }
}

// ---------------------------------------------------------------------------------------------
// The presence check
