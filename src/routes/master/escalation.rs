//! A lost master key's escalation (`/master/escalations/:id`) and the lines of the banner
//! every screen shows while one is open.

use super::*;
use crate::components::Count;

/// The open escalations of the site, for the banner on every screen: (id, tag, lockers at risk).
pub fn open_escalation_lines(state: AppState) -> Vec<(EscalationId, String, Vec<String>)> {
    let Some(site) = state.site() else {
        return Vec::new();
    };
    state.register.with(|r| {
        r.open_escalations(site)
            .into_iter()
            .map(|e| {
                (
                    e.id,
                    r.key(e.key).map(|k| k.tag.to_string()).unwrap_or_default(),
                    r.at_risk(e.id).into_iter().map(|a| a.number).collect(),
                )
            })
            .collect()
    })
}

/// "A-001, A-002, A-003 and 4 more".
pub fn locker_list(numbers: &[String]) -> String {
    const SHOWN: usize = 6;
    match numbers.len() {
        0 => "no locker fitted with its suite's locks".into(),
        n if n <= SHOWN => numbers.join(", "),
        n => format!("{} and {} more", numbers[..SHOWN].join(", "), n - SHOWN),
    }
}

#[component]
pub fn EscalationPage() -> impl IntoView {
    let state = use_app();
    let params = use_params_map();
    let id =
        Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| EscalationId::parse(&id))));
    let info = Memo::new(move |_| {
        let id = id.get()?;
        state.register.with(|r| {
            let e = r.escalation(id)?;
            let tag = r.key(e.key).map(|k| k.tag.to_string()).unwrap_or_default();
            let suite = r.suite(e.suite).map(|s| s.name.clone()).unwrap_or_default();
            let was_out = e.sign_out.and_then(|s| r.sign_out(s)).map(|s| {
                r.person(s.person)
                    .map(|p| p.details.name.clone())
                    .unwrap_or_default()
            });
            let end = e.end.as_ref().map(|end| {
                format!(
                    "Resolved by {} on {}: {}. {}",
                    end.by,
                    local_date_time(end.at),
                    if end.found { "found" } else { "not found" },
                    end.notes
                )
            });
            let risk = r
                .at_risk(id)
                .into_iter()
                .map(|a| (a.locker, a.number))
                .collect::<Vec<_>>();
            Some((
                e.key,
                tag,
                suite,
                e.reported_by.clone(),
                local_date_time(e.at),
                e.notes.clone(),
                was_out,
                end,
                risk,
            ))
        })
    });
    move || {
        match (id.get(), info.get()) {
        (Some(id), Some((key, tag, suite, by, at, notes, was_out, end, risk))) => view! {
            <Back href="/master" label="Master keys"/>
            <h1>"Lost master key "<span class="tag">{tag}</span></h1>
            <section class="card">
                <dl class="facts">
                    <dt>"Suite"</dt><dd>{suite}</dd>
                    <dt>"Reported"</dt><dd>{format!("{at} by {by}")}</dd>
                    {was_out.map(|w| view! { <dt>"Was out with"</dt><dd>{w}</dd> })}
                    {(!notes.is_empty()).then(|| view! { <dt>"Notes"</dt><dd>{notes}</dd> })}
                    <dt>"Key"</dt><dd><A href=format!("/master/keys/{key}")>"Its page and uses"</A></dd>
                </dl>
                {match end.clone() {
                    Some(text) => view! { <p class="flash-static">{text}</p> }.into_any(),
                    None => view! { <p class="error">"Open: until it is resolved every device of the site shows this alert."</p> }.into_any(),
                }}
            </section>
            <section class="card">
                <h2>"Lockers at risk"</h2>
                <p class="hint">"Every lock of the suite opens with the lost key. Change each lock, or resolve the escalation once the key is found."</p>
                {if risk.is_empty() {
                    view! { <p>"No lock of this suite is fitted to a locker now."</p> }.into_any()
                } else {
                    view! {
                        <ul class="keys at-risk">
                            {risk.into_iter().map(|(locker, number)| view! {
                                <li class="key">
                                    <strong>{format!("Locker {number}")}</strong>
                                    <A href=format!("/lockers/{locker}") attr:class="button small" attr:aria-label=format!("Change the lock of locker {number}")>"Change the lock"</A>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
            {end.is_none().then(|| view! { <Resolve id/> })}
        }
        .into_any(),
        _ => view! {
            <Back href="/master" label="Master keys"/>
            <h1>"Escalation not found"</h1>
            <p>"This escalation is not in the register on this device."</p>
        }
        .into_any(),
    }
    }
}

#[component]
fn Resolve(id: EscalationId) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let found = RwSignal::new(true);
    let notes = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.run(
            Command::ResolveEscalation {
                escalation: id,
                found: found.get_untracked(),
                notes: notes.get_untracked(),
            },
            move |_| {
                state.flash.set(Some(
                    "Escalation resolved. The alert goes from every device of the site as each one syncs."
                        .into(),
                ));
            },
        );
    };
    view! {
        <form class="card" on:submit=submit novalidate>
            <h2>"Resolve"</h2>
            <Choices legend="The master key" name="found" value=found options=vec![(true, "Found"), (false, "Not found")]/>
            <label for="resolve-notes">"What was done"</label>
            <textarea maxlength={keyward_core::checks::MAX_NOTES} id="resolve-notes" rows="2" placeholder="Found in the ward office" bind:value=notes></textarea>
            <Count value=notes max={keyward_core::checks::MAX_NOTES}/>
            <FormError form/>
            <Submit form label="Resolve" action=Action::MasterKeys/>
        </form>
    }
}
