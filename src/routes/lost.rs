//! The lost-key case (DOMAIN.md procedure 5), guided: report a key lost or stolen step by
//! step (`/keys/:id/lost`), then the case page (`/cases/:id`): the key code for those allowed
//! to see it, the recommendation, the decision, the charge and the next step. Also the loud
//! alert a lost key's page shows, with "Record as found", and the list of cases.

use crate::components::Count;
use crate::components::{local_date_time, Back, Choices, FormError, FormState, RoleNote, Submit};
use crate::state::use_app;
use keyward_core::format::{pounds, uk_date};
use keyward_core::{
    Action, CaseClosed, CaseId, CaseOutcome, Change, ChargeStatus, Command, Confirmation, Holder,
    KeyId, KeyKind, KeyState, LockerId, Loss, LostCase, Register,
};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

/// "12.50", "£12.50" or "12" as pence.
pub fn parse_pounds(text: &str) -> Option<u32> {
    let text = text.trim().trim_start_matches('£').trim();
    let (whole, part) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && part.is_empty() {
        return None;
    }
    let whole: u32 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let part: u32 = match part.len() {
        0 => 0,
        1 => part.parse::<u32>().ok()? * 10,
        2 => part.parse().ok()?,
        _ => return None,
    };
    whole.checked_mul(100)?.checked_add(part)
}

/// Pence as "12.50" for an input (no pound sign); empty for nothing.
pub fn pounds_input(pence: u32) -> String {
    if pence == 0 {
        String::new()
    } else {
        format!("{}.{:02}", pence / 100, pence % 100)
    }
}

/// The circumstances of a loss in words, one per line.
fn circumstances(loss: &Loss) -> Vec<&'static str> {
    let mut words = Vec::new();
    words.push(if loss.stolen { "Stolen" } else { "Lost" });
    if loss.labelled_with_number {
        words.push("Labelled with the locker number");
    }
    if loss.with_access_card {
        words.push("Lost with an access card");
    }
    if loss.sensitive_items {
        words.push("The locker holds sensitive items");
    }
    if words.len() == 1 {
        words.push("Not labelled with the locker number, no access card, nothing sensitive");
    }
    words
}

/// "A lock change is recommended because …" or "A replacement cut to code should do."
pub fn recommendation(reasons: &[&str]) -> String {
    match reasons {
        [] => "A replacement cut to code should do.".into(),
        [one] => format!("A lock change is recommended because {one}."),
        [first @ .., last] => format!(
            "A lock change is recommended because {} and {last}.",
            first.join(", ")
        ),
    }
}

fn closed_words(closed: &CaseClosed) -> &'static str {
    match closed {
        CaseClosed::Replaced { .. } => "Closed: the replacement was received",
        CaseClosed::LockChanged { .. } => "Closed: the lock was changed",
        CaseClosed::Found => "Closed: the key was found",
    }
}

/// Where found keys go at the site of a locker.
pub fn front_desk(r: &Register, locker: LockerId) -> String {
    r.locker(locker)
        .and_then(|l| r.site(l.site))
        .and_then(|s| s.labels.as_ref())
        .map(|l| l.front_desk.clone())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "the front desk".into())
}

/// How a loan was confirmed, in words, and the signature's path if drawn.
fn issue_record(r: &Register, loan: keyward_core::LoanId) -> Option<(String, Option<String>)> {
    let l = r.loan(loan)?;
    let (how, signature) = match &l.confirmation {
        Confirmation::TypedName(name) => (format!("confirmed by typing “{name}”"), None),
        Confirmation::Signature(path) => ("confirmed by signature".to_string(), Some(path.clone())),
        Confirmation::Tapped => ("confirmed by the issuer's tap".to_string(), None),
    };
    Some((
        format!(
            "Issued to {} on {} by {}, {how}",
            r.holder_name(&l.holder),
            uk_date(l.date),
            l.issued_by
        ),
        signature,
    ))
}

// ---------------------------------------------------------------------------------------------
// The loud alert on a lost key's page

/// A red alert for a key reported lost or stolen, with "Record as found".
#[component]
pub fn LostAlert(key: KeyId) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let facts = Memo::new(move |_| {
        state.register.with(|r| {
            let k = r.key(key)?;
            if !matches!(k.state, KeyState::Lost | KeyState::Stolen) {
                return None;
            }
            let case = r.case_of_key(key);
            let word = if k.state == KeyState::Stolen {
                "stolen"
            } else {
                "lost"
            };
            let when = case
                .map(|c| {
                    format!(
                        " on {}",
                        uk_date(c.reported_at.with_timezone(&chrono::Local).date_naive())
                    )
                })
                .unwrap_or_default();
            let desk = r
                .locker_of_key(key)
                .map(|l| front_desk(r, l.id))
                .unwrap_or_else(|| "the front desk".into());
            Some((
                format!("This key was reported {word}{when}."),
                format!("If you found it: record it as found, then hand it to {desk}."),
                case.map(|c| c.id),
                k.tag.to_string(),
                desk,
            ))
        })
    });
    let found = move |_| {
        let Some((_, _, _, tag, desk)) = facts.get_untracked() else {
            return;
        };
        form.run(
            Command::RecordKeyFound {
                key,
                notes: String::new(),
            },
            move |_| {
                state.flash.set(Some(format!(
                    "Key {tag} recorded as found. Hand it to {desk}."
                )))
            },
        );
    };
    move || {
        facts.get().map(|(said, todo, case, _, _)| {
            view! {
                <div class="alert-lost" role="alert">
                    <p><strong>{said}</strong></p>
                    <p>{todo}</p>
                    <button type="button" class="button danger" on:click=found
                        disabled=move || form.busy.get() || state.allowed(Action::IssueReturn).is_err()>
                        "Record as found"
                    </button>
                    {case.map(|c| view! { <A href=format!("/cases/{c}") attr:class="button small">"Open the lost-key case"</A> })}
                    <FormError form/>
                    <RoleNote action=Action::IssueReturn/>
                </div>
            }
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Reporting, step by step

#[derive(Clone, PartialEq)]
struct ReportFacts {
    tag: String,
    locker: LockerId,
    number: String,
    area: String,
    holder: Option<String>,
    record: Option<(String, Option<String>)>,
    forced: bool,
}

#[component]
pub fn ReportLostPage() -> impl IntoView {
    let state = use_app();
    let key = use_params_map().with_untracked(|p| p.get("id").and_then(|id| KeyId::parse(&id)));
    let facts = key.and_then(|key| {
        state.register.with_untracked(|r| {
            let k = r.key(key)?;
            let locker = r.locker_of_key(key)?;
            let loan = r.current_loan(key);
            Some((
                key,
                k.kind,
                k.state,
                ReportFacts {
                    tag: k.tag.to_string(),
                    locker: locker.id,
                    number: locker.number.clone(),
                    area: r
                        .area(locker.area)
                        .map(|a| a.name.clone())
                        .unwrap_or_default(),
                    holder: loan.map(|l| r.holder_name(&l.holder)),
                    record: loan.and_then(|l| issue_record(r, l.id)),
                    forced: r.policy_for_locker(locker.id).lost_key_forces_lock_change,
                },
            ))
        })
    });
    match facts {
        Some((key, kind, key_state, facts))
            if kind != KeyKind::Master
                && !matches!(
                    key_state,
                    KeyState::Lost | KeyState::Stolen | KeyState::Retired
                ) =>
        {
            view! { <ReportSteps key facts/> }.into_any()
        }
        Some((key, _, _, facts)) => view! {
            <Back href=format!("/keys/{key}") label=format!("Key {}", facts.tag)/>
            <h1>"Report key "{facts.tag.clone()}" lost"</h1>
            <p class="warning">"This key cannot be reported lost: it is already lost, stolen or retired, or it is a master key (report those under its suite)."</p>
        }
        .into_any(),
        None => view! {
            <Back href="/" label="Register"/>
            <h1>"Key not found"</h1>
            <p>"This key is not in the register on this device."</p>
        }
        .into_any(),
    }
}

const STEPS: [&str; 4] = [
    "Locker and person",
    "The issue record",
    "What happened",
    "Report",
];

#[component]
fn ReportSteps(key: KeyId, facts: ReportFacts) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let navigate = use_navigate();
    let step = RwSignal::new(0usize);
    let stolen = RwSignal::new(false);
    let labelled = RwSignal::new(false);
    let card = RwSignal::new(false);
    let sensitive = RwSignal::new(false);
    let notes = RwSignal::new(String::new());
    let loss = move || Loss {
        stolen: stolen.get(),
        labelled_with_number: labelled.get(),
        with_access_card: card.get(),
        sensitive_items: sensitive.get(),
    };
    let forced = facts.forced;
    let advice = move || {
        let mut reasons = loss().lock_change_reasons();
        if forced {
            reasons.push("the area's policy requires a lock change for every lost key");
        }
        recommendation(&reasons)
    };
    let tag = facts.tag.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let navigate = navigate.clone();
        let tag = tag.clone();
        let loss = Loss {
            stolen: stolen.get_untracked(),
            labelled_with_number: labelled.get_untracked(),
            with_access_card: card.get_untracked(),
            sensitive_items: sensitive.get_untracked(),
        };
        form.run(
            Command::ReportKeyLost {
                key,
                loss,
                notes: notes.get_untracked(),
            },
            move |event| {
                if let Change::KeyReportedLost { case, .. } = event.change {
                    let word = if loss.stolen { "stolen" } else { "lost" };
                    state.flash.set(Some(format!(
                        "Key {tag} reported {word}. The case is open until the key is replaced, the lock changed or the key found."
                    )));
                    navigate(&format!("/cases/{case}"), Default::default());
                }
            },
        );
    };
    let nav = move |to: usize| move |_| step.set(to);
    let ReportFacts {
        tag,
        locker,
        number,
        area,
        holder,
        record,
        ..
    } = facts;
    view! {
        <Back href=format!("/lockers/{locker}") label=format!("Locker {number}")/>
        <h1>"Report key "<span class="tag">{tag.clone()}</span>" lost or stolen"</h1>
        <ol class="steps" aria-label="Steps">
            {STEPS.iter().enumerate().map(|(i, name)| view! {
                <li class={move || if step.get() == i { "current" } else if step.get() > i { "done" } else { "" }}
                    aria-current=move || (step.get() == i).then_some("step")>
                    {*name}
                </li>
            }).collect_view()}
        </ol>
        <form class="card" on:submit=submit novalidate>
            <h2 aria-live="polite">{move || format!("Step {} of 4: {}", step.get() + 1, STEPS[step.get()])}</h2>
            <Show when=move || step.get() == 0>
                <p>"Check this is the right locker and person."</p>
                <dl class="facts">
                    <dt>"Locker"</dt><dd>{number.clone()}" · "{area.clone()}</dd>
                    <dt>"Key"</dt><dd class="tag">{tag.clone()}</dd>
                    <dt>"Held by"</dt><dd>{holder.clone().unwrap_or_else(|| "Nobody: the key was not out".into())}</dd>
                </dl>
                <div class="actions step-actions">
                    <button type="button" class="button primary" on:click=nav(1)>"Yes, that is right"</button>
                    <A href=format!("/lockers/{locker}") attr:class="button">"No, go back"</A>
                </div>
            </Show>
            <Show when=move || step.get() == 1>
                {match record.clone() {
                    Some((text, signature)) => view! {
                        <p>{text}"."</p>
                        {signature.map(|path| view! {
                            <svg class="signed" viewBox="0 0 300 120" role="img" aria-label="The signature given">
                                <path d=path/>
                            </svg>
                        })}
                    }.into_any(),
                    None => view! { <p>"No issue record: the key was not out when it went missing."</p> }.into_any(),
                }}
                <div class="actions step-actions">
                    <button type="button" class="button" on:click=nav(0)>"Back"</button>
                    <button type="button" class="button primary" on:click=nav(2)>"Next"</button>
                </div>
            </Show>
            <Show when=move || step.get() == 2>
                <fieldset>
                    <legend>"What happened? Tick all that apply."</legend>
                    <label class="choice"><input type="checkbox" bind:checked=stolen/>"It was stolen"</label>
                    <label class="choice"><input type="checkbox" bind:checked=labelled/>"It was labelled with the locker number"</label>
                    <label class="choice"><input type="checkbox" bind:checked=card/>"It was lost with an access card or fob"</label>
                    <label class="choice"><input type="checkbox" bind:checked=sensitive/>"The locker holds sensitive items (drugs, records, cash)"</label>
                </fieldset>
                <label for="lost-notes">"Where and when (optional)"</label>
                <textarea maxlength={keyward_core::checks::MAX_NOTES} id="lost-notes" rows="2" bind:value=notes placeholder="Lost on the school trip, Tuesday"></textarea>
            <Count value=notes max={keyward_core::checks::MAX_NOTES}/>
                <div class="actions step-actions">
                    <button type="button" class="button" on:click=nav(1)>"Back"</button>
                    <button type="button" class="button primary" on:click=nav(3)>"Next"</button>
                </div>
            </Show>
            <Show when=move || step.get() == 3>
                <ul class="plain">
                    {move || circumstances(&loss()).into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}
                </ul>
                <p class="advice">{advice}</p>
                <p class="hint">"The key is marked missing and its loan ends. A custodian or admin then decides on a replacement or a lock change."</p>
                <FormError form/>
                <div class="actions step-actions">
                    <button type="button" class="button" on:click=nav(2)>"Back"</button>
                    <Submit form label=if stolen.get_untracked() { "Report key stolen" } else { "Report key lost" } action=Action::IssueReturn/>
                </div>
            </Show>
        </form>
    }
}

// ---------------------------------------------------------------------------------------------
// The case page

#[derive(Clone, PartialEq)]
struct CaseView {
    id: CaseId,
    key: KeyId,
    tag: String,
    stolen: bool,
    locker: LockerId,
    number: String,
    holder: Option<(String, Option<keyward_core::PersonId>)>,
    record: Option<(String, Option<String>)>,
    reported: String,
    circumstances: Vec<&'static str>,
    notes: String,
    code: Option<String>,
    reasons: Vec<&'static str>,
    decision: Option<String>,
    decided: bool,
    charge: Option<String>,
    order: Option<keyward_core::OrderId>,
    closed: Option<&'static str>,
    default_charge: u32,
    masters: Vec<(KeyId, String)>,
}

fn case_view(r: &Register, c: &LostCase) -> CaseView {
    let key = r.key(c.key);
    let locker = r.locker(c.locker);
    let site = locker.map(|l| l.site);
    let masters = r
        .keys()
        .filter(|k| k.kind == KeyKind::Master)
        .filter(|k| r.locker_of_key(k.id).map(|l| l.site) == site)
        .map(|k| {
            let suite = r
                .lock(k.lock)
                .and_then(|l| l.suite.clone())
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            (k.id, format!("Master key {}{suite}", k.tag))
        })
        .collect();
    CaseView {
        id: c.id,
        key: c.key,
        tag: key.map(|k| k.tag.to_string()).unwrap_or_default(),
        stolen: c.loss.stolen,
        locker: c.locker,
        number: locker.map(|l| l.number.clone()).unwrap_or_default(),
        holder: c.holder.as_ref().map(|h| {
            let person = match h {
                Holder::Person(p) => Some(*p),
                Holder::Department(_) => None,
            };
            (r.holder_name(h), person)
        }),
        record: c.loan.and_then(|l| issue_record(r, l)),
        reported: format!("{} by {}", local_date_time(c.reported_at), c.reported_by),
        circumstances: circumstances(&c.loss),
        notes: c.notes.clone(),
        code: key.and_then(|k| r.lock(k.lock)).map(|l| l.code.clone()),
        reasons: r.lock_change_reasons(c),
        decision: c.decision.as_ref().map(|d| {
            let master = d
                .opened_with
                .and_then(|m| r.key(m))
                .map(|m| format!(" Opened with master key {}.", m.tag))
                .unwrap_or_default();
            format!(
                "{}. Reason: {}.{master} Decided by {} on {}.",
                d.outcome.label(),
                d.reason.trim_end_matches('.'),
                d.by,
                local_date_time(d.at)
            )
        }),
        decided: c.decision.is_some(),
        charge: c.charge.as_ref().map(|ch| {
            format!(
                "{} {}, recorded by {} on {}.",
                pounds(ch.amount),
                ch.status.label().to_lowercase(),
                ch.by,
                local_date_time(ch.at)
            )
        }),
        order: c.order,
        closed: c.closed.as_ref().map(closed_words),
        default_charge: c
            .charge
            .as_ref()
            .map(|ch| ch.amount)
            .unwrap_or_else(|| r.policy_for_locker(c.locker).lost_key_charge_pence),
        masters,
    }
}

#[component]
pub fn CasePage() -> impl IntoView {
    let state = use_app();
    let id = use_params_map().with_untracked(|p| p.get("id").and_then(|id| CaseId::parse(&id)));
    let case = Memo::new(move |_| {
        state
            .register
            .with(|r| id.and_then(|id| r.case(id)).map(|c| case_view(r, c)))
    });
    move || match case.get() {
        None => view! {
            <Back href="/cases" label="Lost-key cases"/>
            <h1>"Case not found"</h1>
            <p>"This lost-key case is not in the register on this device."</p>
        }
        .into_any(),
        Some(c) => {
            let open = c.closed.is_none();
            let may_see = state.allowed(Action::OrderKeys).is_ok();
            let locker_link = format!("Locker {}", c.number);
            let key_link = c.tag.clone();
            let holder_view = match c.holder.clone() {
                Some((name, Some(p))) => {
                    view! { <A href=format!("/people/{p}")>{name}</A> }.into_any()
                }
                Some((name, None)) => name.into_any(),
                None => "Nobody: it was not out".into_any(),
            };
            view! {
                <Back href=format!("/lockers/{}", c.locker) label=format!("Locker {}", c.number)/>
                <header class="page-head">
                    <h1>{if c.stolen { "Stolen key " } else { "Lost key " }}<span class="tag">{c.tag.clone()}</span></h1>
                    <span class={if open { "badge out-of-service" } else { "badge free" }}>{if open { "Open" } else { "Closed" }}</span>
                </header>
                {c.closed.map(|w| view! { <p class="closed-note"><strong>{w}</strong></p> })}
                <section class="card">
                    <h2>"What happened"</h2>
                    <dl class="facts">
                        <dt>"Locker"</dt><dd><A href=format!("/lockers/{}", c.locker)>{locker_link}</A></dd>
                        <dt>"Key"</dt><dd><A href=format!("/keys/{}", c.key)>{key_link}</A></dd>
                        <dt>"Holder"</dt><dd>{holder_view}</dd>
                        <dt>"Reported"</dt><dd>{c.reported.clone()}</dd>
                        <dt>"Circumstances"</dt><dd>{c.circumstances.join(". ")}</dd>
                        {(!c.notes.is_empty()).then(|| view! { <dt>"Notes"</dt><dd>{c.notes.clone()}</dd> })}
                    </dl>
                    <h3>"Issue record"</h3>
                    {match c.record.clone() {
                        Some((text, signature)) => view! {
                            <p>{text}"."</p>
                            {signature.map(|path| view! {
                                <svg class="signed" viewBox="0 0 300 120" role="img" aria-label="The signature given">
                                    <path d=path/>
                                </svg>
                            })}
                        }.into_any(),
                        None => view! { <p>"No issue record: the key was not out."</p> }.into_any(),
                    }}
                </section>
                <section class="card">
                    <h2>"Key code"</h2>
                    {if may_see {
                        view! { <p>"Cut to code "<strong class="tag code">{c.code.clone().unwrap_or_default()}</strong></p> }.into_any()
                    } else {
                        view! { <p class="not-allowed">"Only a key custodian or admin can see the key code."</p> }.into_any()
                    }}
                </section>
                <section class="card">
                    <h2>"Recommendation"</h2>
                    <p class={if c.reasons.is_empty() { "advice" } else { "advice warning" }}>{recommendation(&c.reasons)}</p>
                </section>
                <Decide c=c.clone()/>
                <ChargeCard c=c.clone()/>
                <NextStep c=c.clone()/>
                {open.then(|| view! {
                    <section class="card">
                        <h2>"Found after all?"</h2>
                        <LostAlertInline key=c.key/>
                    </section>
                })}
            }
            .into_any()
        }
    }
}

/// "Record as found" inside the case page.
#[component]
fn LostAlertInline(key: KeyId) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.run(
            Command::RecordKeyFound {
                key,
                notes: String::new(),
            },
            move |_| {
                let tag = state
                    .register
                    .with_untracked(|r| r.key(key).map(|k| k.tag.to_string()).unwrap_or_default());
                state.flash.set(Some(format!(
                    "Key {tag} recorded as found; the case is closed."
                )))
            },
        );
    };
    view! {
        <form on:submit=submit novalidate>
            <p class="hint">"If the key turns up, record it: it goes back in store (or is retired if the lock was changed) and the case closes."</p>
            <FormError form/>
            <Submit form label="Record as found" action=Action::IssueReturn/>
        </form>
    }
}

#[component]
fn Decide(c: CaseView) -> impl IntoView {
    let form = FormState::new();
    let outcome = RwSignal::new(if c.reasons.is_empty() {
        CaseOutcome::Replace
    } else {
        CaseOutcome::ChangeLock
    });
    let reason = RwSignal::new(String::new());
    let master = RwSignal::new(String::new());
    let id = c.id;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.run(
            Command::DecideLostCase {
                case: id,
                outcome: outcome.get_untracked(),
                reason: reason.get_untracked(),
                opened_with: KeyId::parse(&master.get_untracked()),
            },
            |_| {},
        );
    };
    if let Some(decision) = c.decision {
        return view! {
            <section class="card">
                <h2>"Decision"</h2>
                <p>{decision}</p>
            </section>
        }
        .into_any();
    }
    if c.closed.is_some() {
        return view! {
            <section class="card">
                <h2>"Decision"</h2>
                <p>"Not decided before the case closed."</p>
            </section>
        }
        .into_any();
    }
    let masters = c.masters.clone();
    view! {
        <form class="card" on:submit=submit novalidate>
            <h2>"Decision"</h2>
            <label for="case-master">"Opened with a master key? (optional)"</label>
            <p class="hint" id="case-master-hint">"Only if the locker had to be opened, by someone authorised."</p>
            <select id="case-master" aria-describedby="case-master-hint" on:change=move |ev| master.set(event_target_value(&ev))>
                <option value="">"Not opened with a master key"</option>
                {masters.into_iter().map(|(k, name)| view! { <option value=k.to_string()>{name}</option> }).collect_view()}
            </select>
            <Choices legend="Decide" name="case-outcome" value=outcome
                options=vec![(CaseOutcome::Replace, "Order a replacement cut to code"), (CaseOutcome::ChangeLock, "Change the lock")]/>
            <label for="case-reason">"Reason"</label>
            <textarea maxlength={keyward_core::checks::MAX_NAME} id="case-reason" rows="2" bind:value=reason placeholder="Lost off site, not traceable to the locker"></textarea>
            <Count value=reason max={keyward_core::checks::MAX_NAME}/>
            <FormError form/>
            <Submit form label="Record the decision" action=Action::OrderKeys/>
        </form>
    }
    .into_any()
}

#[component]
fn ChargeCard(c: CaseView) -> impl IntoView {
    let form = FormState::new();
    let status = RwSignal::new(ChargeStatus::Charged);
    let amount = RwSignal::new(pounds_input(c.default_charge));
    let id = c.id;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let status = status.get_untracked();
        let pence = match parse_pounds(&amount.get_untracked()) {
            Some(p) => p,
            None if status == ChargeStatus::Waived => 0,
            None => {
                form.fail("Enter the amount in pounds, for example 12.50.");
                return;
            }
        };
        form.run(
            Command::RecordCharge {
                case: id,
                status,
                amount: pence,
            },
            |_| {},
        );
    };
    view! {
        <form class="card" on:submit=submit novalidate>
            <h2>"Lost-key charge"</h2>
            {match c.charge.clone() {
                Some(text) => view! { <p><strong>{text}</strong></p> }.into_any(),
                None => view! { <p>"No charge recorded."</p> }.into_any(),
            }}
            <Choices legend="Charge" name="charge-status" value=status
                options=ChargeStatus::ALL.into_iter().map(|s| (s, s.label())).collect()/>
            <label for="charge-amount">"Amount (£)"</label>
            <p class="hint" id="charge-amount-hint">{if c.default_charge > 0 { format!("The area's charge is {}.", pounds(c.default_charge)) } else { "The area sets no charge.".to_string() }}</p>
            <input id="charge-amount" inputmode="decimal" aria-describedby="charge-amount-hint" bind:value=amount/>
            <FormError form/>
            <Submit form label="Record charge" action=Action::OrderKeys/>
        </form>
    }
}

#[component]
fn NextStep(c: CaseView) -> impl IntoView {
    let state = use_app();
    let decision = state.register.with_untracked(|r| {
        r.case(c.id)
            .and_then(|x| x.decision.as_ref())
            .map(|d| d.outcome)
    });
    let open = c.closed.is_none();
    view! {
        <section class="card">
            <h2>"Next step"</h2>
            {match (decision, c.order, open) {
                (_, Some(order), true) => view! {
                    <p>"Replacement ordered; the case closes when it is received in full."</p>
                    <A href=format!("/orders/{order}") attr:class="button primary">"Open the order"</A>
                }.into_any(),
                (_, Some(order), false) => view! {
                    <A href=format!("/orders/{order}") attr:class="button">"Open the order"</A>
                }.into_any(),
                (Some(CaseOutcome::Replace), None, true) => view! {
                    <A href=format!("/orders/new?case={}", c.id) attr:class="button primary">"Order a replacement"</A>
                    <RoleNote action=Action::OrderKeys/>
                }.into_any(),
                (Some(CaseOutcome::ChangeLock), None, true) => view! {
                    <A href=format!("/lockers/{}/change-lock?case={}", c.locker, c.id) attr:class="button primary">"Change the lock"</A>
                    <RoleNote action=Action::ChangeLocks/>
                }.into_any(),
                (None, None, true) => view! { <p>"Decide first: a replacement or a lock change."</p> }.into_any(),
                (_, None, false) => view! { <p>"Nothing more to do."</p> }.into_any(),
            }}
        </section>
    }
}

// ---------------------------------------------------------------------------------------------
// The list of cases

#[component]
pub fn CasesPage() -> impl IntoView {
    let state = use_app();
    let cases = Memo::new(move |_| {
        let site = state.site();
        state.register.with(|r| {
            site.map(|s| {
                let mut all = r.cases_of(s);
                all.sort_by_key(|c| c.closed.is_some());
                all.into_iter()
                    .map(|c| {
                        let tag = r.key(c.key).map(|k| k.tag.to_string()).unwrap_or_default();
                        let number = r
                            .locker(c.locker)
                            .map(|l| l.number.clone())
                            .unwrap_or_default();
                        let who = c
                            .holder
                            .as_ref()
                            .map(|h| r.holder_name(h))
                            .unwrap_or_else(|| "not out".into());
                        (
                            c.id,
                            format!("Key {tag}, locker {number}"),
                            format!(
                                "{} · {who} · reported {}",
                                if c.closed.is_some() { "Closed" } else { "Open" },
                                uk_date(c.reported_at.with_timezone(&chrono::Local).date_naive())
                            ),
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
        })
    });
    view! {
        <Back href="/setup" label="Set-up"/>
        <h1>"Lost-key cases"</h1>
        <Show when=move || cases.with(Vec::is_empty)>
            <p class="empty">"No keys reported lost or stolen."</p>
        </Show>
        <ul class="rows">
            <For each=move || cases.get() key=|c| c.clone() let:((id, title, meta))>
                <li><A href=format!("/cases/{id}")>
                    <span class="row-main"><span class="name">{title}</span><span class="meta">{meta}</span></span>
                </A></li>
            </For>
        </ul>
    }
}
