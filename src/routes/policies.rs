//! Policies (Set-up → Policies, admins): the site's policy, and area by area which settings
//! the area overrides. Each area setting says whether it is inherited from the site or set
//! for the area, with "Use the site's setting" to inherit again. The core checks the values
//! (ranges, the default loan within the longest) and says what is wrong.

use crate::components::{Back, FormError, FormState, RoleNote, Submit};
use crate::state::use_app;
use keyward_core::format::pounds;
use keyward_core::{
    Action, AreaId, AuditInterval, Command, FaultFlag, Policy, PolicyField, PolicyOverrides,
    RiskLevel, TakerConfirms,
};
use leptos::prelude::*;

fn days(n: u16) -> String {
    if n == 1 {
        "1 day".into()
    } else {
        format!("{n} days")
    }
}

fn yes_no(b: bool) -> String {
    if b { "Yes" } else { "No" }.into()
}

/// A setting in words: "Termly", "7 days", "£12.50", "3 faults in 90 days".
fn field_words(field: PolicyField, p: &Policy) -> String {
    match field {
        PolicyField::Risk => p.risk.label().into(),
        PolicyField::Audit => p.audit.label(),
        PolicyField::DefaultLoanDays => days(p.default_loan_days),
        PolicyField::MaxLoanDays => days(p.max_loan_days),
        PolicyField::LostKeyForcesLockChange => yes_no(p.lost_key_forces_lock_change),
        PolicyField::LostKeyChargePence if p.lost_key_charge_pence == 0 => "No charge".into(),
        PolicyField::LostKeyChargePence => pounds(p.lost_key_charge_pence),
        PolicyField::MasterNeedsWitness => yes_no(p.master_needs_witness),
        PolicyField::CopiesNeedOrder => yes_no(p.copies_need_order),
        PolicyField::FaultFlag => format!(
            "{} fault{} in {}",
            p.fault_flag.faults,
            if p.fault_flag.faults == 1 { "" } else { "s" },
            days(p.fault_flag.days)
        ),
        PolicyField::TakerConfirms => p.taker_confirms.label().into(),
    }
}

/// How the taker confirms, as the select's value.
fn confirms_slug(t: TakerConfirms) -> &'static str {
    match t {
        TakerConfirms::NameOrSignature => "name-or-signature",
        TakerConfirms::TypedName => "typed-name",
        TakerConfirms::Signature => "signature",
        TakerConfirms::IssuerTap => "tap",
    }
}

/// A setting as its inputs hold it (the second input: the audit's or the fault flag's days).
fn field_text(field: PolicyField, p: &Policy) -> (String, String) {
    let yes = |b: bool| if b { "yes" } else { "no" }.to_string();
    match field {
        PolicyField::Risk => (
            match p.risk {
                RiskLevel::Standard => "standard",
                RiskLevel::High => "high",
            }
            .into(),
            String::new(),
        ),
        PolicyField::Audit => match p.audit {
            AuditInterval::Termly => ("termly".into(), String::new()),
            AuditInterval::Monthly => ("monthly".into(), String::new()),
            AuditInterval::Quarterly => ("quarterly".into(), String::new()),
            AuditInterval::EveryDays(n) => ("days".into(), n.to_string()),
        },
        PolicyField::DefaultLoanDays => (p.default_loan_days.to_string(), String::new()),
        PolicyField::MaxLoanDays => (p.max_loan_days.to_string(), String::new()),
        PolicyField::LostKeyForcesLockChange => (yes(p.lost_key_forces_lock_change), String::new()),
        PolicyField::LostKeyChargePence => {
            let pence = p.lost_key_charge_pence;
            (format!("{}.{:02}", pence / 100, pence % 100), String::new())
        }
        PolicyField::MasterNeedsWitness => (yes(p.master_needs_witness), String::new()),
        PolicyField::CopiesNeedOrder => (yes(p.copies_need_order), String::new()),
        PolicyField::FaultFlag => (
            p.fault_flag.faults.to_string(),
            p.fault_flag.days.to_string(),
        ),
        PolicyField::TakerConfirms => (confirms_slug(p.taker_confirms).into(), String::new()),
    }
}

fn whole(text: &str, what: &str, example: &str) -> Result<u16, String> {
    text.trim()
        .parse::<u16>()
        .map_err(|_| format!("Enter {what} as a whole number, for example {example}."))
}

/// "12.50", "£12.50", "12", "0" → pence.
fn parse_pounds(text: &str) -> Option<u32> {
    let t = text.trim().trim_start_matches('£').trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty() && frac.is_empty() || frac.len() > 2 {
        return None;
    }
    let pounds: u32 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let pence: u32 = match frac.len() {
        0 => 0,
        1 => frac.parse::<u32>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    pounds.checked_mul(100)?.checked_add(pence)
}

/// Reads one setting's inputs into `o`, or says what to put right.
fn parse_field(
    field: PolicyField,
    a: &str,
    b: &str,
    o: &mut PolicyOverrides,
) -> Result<(), String> {
    match field {
        PolicyField::Risk => {
            o.risk = Some(if a == "high" {
                RiskLevel::High
            } else {
                RiskLevel::Standard
            })
        }
        PolicyField::Audit => {
            o.audit = Some(match a {
                "monthly" => AuditInterval::Monthly,
                "quarterly" => AuditInterval::Quarterly,
                "days" => AuditInterval::EveryDays(whole(b, "how many days between audits", "14")?),
                _ => AuditInterval::Termly,
            })
        }
        PolicyField::DefaultLoanDays => {
            o.default_loan_days = Some(whole(a, "the default temporary loan in days", "1")?)
        }
        PolicyField::MaxLoanDays => {
            o.max_loan_days = Some(whole(a, "the longest temporary loan in days", "7")?)
        }
        PolicyField::LostKeyForcesLockChange => o.lost_key_forces_lock_change = Some(a == "yes"),
        PolicyField::LostKeyChargePence => {
            o.lost_key_charge_pence = Some(parse_pounds(a).ok_or_else(|| {
                "Enter the lost-key charge in pounds, for example 12.50, or 0 for no charge."
                    .to_string()
            })?)
        }
        PolicyField::MasterNeedsWitness => o.master_needs_witness = Some(a == "yes"),
        PolicyField::CopiesNeedOrder => o.copies_need_order = Some(a == "yes"),
        PolicyField::FaultFlag => {
            o.fault_flag = Some(FaultFlag {
                faults: whole(a, "the number of faults that flag a lock", "3")?,
                days: whole(b, "the days those faults fall within", "90")?,
            })
        }
        PolicyField::TakerConfirms => {
            o.taker_confirms = Some(
                TakerConfirms::ALL
                    .into_iter()
                    .find(|t| confirms_slug(*t) == a)
                    .unwrap_or_default(),
            )
        }
    }
    Ok(())
}

/// `p` with every setting `o` sets (no capping: the core checks the whole).
fn set_in(p: &mut Policy, o: &PolicyOverrides) {
    if let Some(v) = o.risk {
        p.risk = v;
    }
    if let Some(v) = o.audit {
        p.audit = v;
    }
    if let Some(v) = o.default_loan_days {
        p.default_loan_days = v;
    }
    if let Some(v) = o.max_loan_days {
        p.max_loan_days = v;
    }
    if let Some(v) = o.lost_key_forces_lock_change {
        p.lost_key_forces_lock_change = v;
    }
    if let Some(v) = o.lost_key_charge_pence {
        p.lost_key_charge_pence = v;
    }
    if let Some(v) = o.master_needs_witness {
        p.master_needs_witness = v;
    }
    if let Some(v) = o.fault_flag {
        p.fault_flag = v;
    }
    if let Some(v) = o.taker_confirms {
        p.taker_confirms = v;
    }
    if let Some(v) = o.copies_need_order {
        p.copies_need_order = v;
    }
}

fn slug(field: PolicyField) -> &'static str {
    match field {
        PolicyField::Risk => "risk",
        PolicyField::Audit => "audit",
        PolicyField::DefaultLoanDays => "default-loan",
        PolicyField::MaxLoanDays => "max-loan",
        PolicyField::LostKeyForcesLockChange => "lock-change",
        PolicyField::LostKeyChargePence => "charge",
        PolicyField::MasterNeedsWitness => "witness",
        PolicyField::FaultFlag => "faults",
        PolicyField::TakerConfirms => "confirm",
        PolicyField::CopiesNeedOrder => "copies",
    }
}

/// The inputs of one setting, each with its label.
#[component]
fn FieldInput(
    field: PolicyField,
    a: RwSignal<String>,
    b: RwSignal<String>,
    prefix: &'static str,
) -> impl IntoView {
    let id = format!("{prefix}-{}", slug(field));
    let id2 = format!("{id}-2");
    match field {
        PolicyField::Risk => view! {
            <label for=id.clone()>"Risk level"</label>
            <select id=id on:change=move |ev| a.set(event_target_value(&ev))>
                {RiskLevel::ALL.into_iter().map(|r| {
                    let v = if r == RiskLevel::High { "high" } else { "standard" };
                    view! { <option value=v selected=move || a.get() == v>{r.label()}</option> }
                }).collect_view()}
            </select>
        }
        .into_any(),
        PolicyField::Audit => view! {
            <label for=id.clone()>"Audit interval"</label>
            <select id=id on:change=move |ev| a.set(event_target_value(&ev))>
                {[("termly", "Termly"), ("monthly", "Monthly"), ("quarterly", "Quarterly"), ("days", "Every so many days")].into_iter().map(|(v, text)| view! {
                    <option value=v selected=move || a.get() == v>{text}</option>
                }).collect_view()}
            </select>
            <Show when=move || a.get() == "days">
                <label for=id2.clone()>"Every how many days"</label>
                <input id=id2.clone() type="number" inputmode="numeric" min="1" bind:value=b/>
            </Show>
        }
        .into_any(),
        PolicyField::DefaultLoanDays | PolicyField::MaxLoanDays => {
            let label = if field == PolicyField::MaxLoanDays {
                "Longest temporary loan (days)"
            } else {
                "Default temporary loan (days)"
            };
            view! {
                <label for=id.clone()>{label}</label>
                <input id=id type="number" inputmode="numeric" min="1" bind:value=a/>
            }
            .into_any()
        }
        PolicyField::LostKeyForcesLockChange
        | PolicyField::MasterNeedsWitness
        | PolicyField::CopiesNeedOrder => view! {
            <label class="choice">
                <input type="checkbox" prop:checked=move || a.get() == "yes"
                    on:change=move |ev| a.set(if event_target_checked(&ev) { "yes".into() } else { "no".into() })/>
                {field.label()}
            </label>
        }
        .into_any(),
        PolicyField::LostKeyChargePence => {
            let hint = format!("{id}-hint");
            view! {
                <label for=id.clone()>"Lost-key charge (£)"</label>
                <p class="hint" id=hint.clone()>"In pounds, for example 12.50; 0 for no charge."</p>
                <input id=id inputmode="decimal" autocomplete="off" aria-describedby=hint bind:value=a/>
            }
            .into_any()
        }
        PolicyField::FaultFlag => view! {
            <div class="pair">
                <div>
                    <label for=id.clone()>"Faults that flag a lock"</label>
                    <input id=id type="number" inputmode="numeric" min="1" bind:value=a/>
                </div>
                <div>
                    <label for=id2.clone()>"Within (days)"</label>
                    <input id=id2 type="number" inputmode="numeric" min="1" bind:value=b/>
                </div>
            </div>
        }
        .into_any(),
        PolicyField::TakerConfirms => {
            let hint = format!("{id}-hint");
            view! {
                <label for=id.clone()>"How the person taking a key confirms it"</label>
                <p class="hint" id=hint.clone()>"On an issue or a handover. Their name is never filled in for them. A tap by the issuer suits low-risk areas only."</p>
                <select id=id aria-describedby=hint on:change=move |ev| a.set(event_target_value(&ev))>
                    {TakerConfirms::ALL.into_iter().map(|t| {
                        let v = confirms_slug(t);
                        view! { <option value=v selected=move || a.get() == v>{t.label()}</option> }
                    }).collect_view()}
                </select>
            }
            .into_any()
        }
    }
}

#[component]
pub fn PoliciesPage() -> impl IntoView {
    let state = use_app();
    let site = state.site();
    let areas = Memo::new(move |_| state.areas());
    let area = RwSignal::new(areas.with_untracked(|a| a.first().map(|a| a.0)));
    view! {
        <Back href="/setup" label="Set-up"/>
        <h1>"Policies"</h1>
        <p class="lead">"How strictly this site treats its keys. Each area follows the site's policy unless it sets its own."</p>
        <RoleNote action=Action::SetUpSite/>
        {site.map(|site| view! { <SitePolicy site/> })}
        <section class="card" aria-labelledby="area-policy-heading">
            <h2 id="area-policy-heading">"Area settings"</h2>
            <Show when=move || areas.with(|a| !a.is_empty()) fallback=|| view! { <p>"This site has no areas yet."</p> }>
                <label for="policy-area">"Area"</label>
                <select id="policy-area" on:change=move |ev| area.set(AreaId::parse(&event_target_value(&ev)))>
                    <For each=move || areas.get() key=|a| a.clone() let:((id, name))>
                        <option value=id.to_string() selected=move || area.get() == Some(id)>{name}</option>
                    </For>
                </select>
            </Show>
            {move || area.get().map(|area| view! { <AreaPolicy area/> })}
        </section>
    }
}

#[component]
fn SitePolicy(site: keyward_core::SiteId) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let current = state.register.with_untracked(|r| r.site_policy(site));
    let inputs: Vec<(PolicyField, RwSignal<String>, RwSignal<String>)> = PolicyField::ALL
        .into_iter()
        .map(|f| {
            let (a, b) = field_text(f, &current);
            (f, RwSignal::new(a), RwSignal::new(b))
        })
        .collect();
    let fields = inputs.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut o = PolicyOverrides::default();
        for (field, a, b) in &fields {
            if let Err(message) =
                parse_field(*field, &a.get_untracked(), &b.get_untracked(), &mut o)
            {
                return form.fail(message);
            }
        }
        let mut policy = state.register.with_untracked(|r| r.site_policy(site));
        set_in(&mut policy, &o);
        form.run(Command::SetSitePolicy { site, policy }, move |_| {
            state.flash.set(Some("The site's policy is saved.".into()))
        });
    };
    view! {
        <form class="card" aria-labelledby="site-policy-heading" on:submit=submit novalidate>
            <h2 id="site-policy-heading">"The site's policy"</h2>
            {inputs.into_iter().map(|(field, a, b)| view! {
                <FieldInput field a b prefix="site"/>
            }).collect_view()}
            <FormError form/>
            <Submit form label="Save the site's policy" action=Action::SetUpSite/>
        </form>
    }
}

#[component]
fn AreaPolicy(area: AreaId) -> impl IntoView {
    view! {
        <div class="policy-fields">
            {PolicyField::ALL.into_iter().map(|field| view! { <AreaField area field/> }).collect_view()}
        </div>
    }
}

/// One setting of an area: inherited or its own, with the way to change it or inherit again.
#[component]
fn AreaField(area: AreaId, field: PolicyField) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let status = Memo::new(move |_| {
        state.register.with(|r| {
            let site = r
                .area(area)
                .map(|a| r.site_policy(a.site))
                .unwrap_or_default();
            let own = r.area_overrides(area).fields().contains(&field);
            let effective = r.policy_for_area(area);
            (
                own,
                field_words(field, &site),
                field_words(field, &effective),
            )
        })
    });
    let (a0, b0) = state
        .register
        .with_untracked(|r| field_text(field, &r.policy_for_area(area)));
    let a = RwSignal::new(a0);
    let b = RwSignal::new(b0);
    let heading = format!("area-{}-heading", slug(field));
    let labelled_by = heading.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut set = PolicyOverrides::default();
        if let Err(message) = parse_field(field, &a.get_untracked(), &b.get_untracked(), &mut set) {
            return form.fail(message);
        }
        form.run(
            Command::SetAreaPolicy {
                area,
                set,
                clear: Vec::new(),
            },
            move |_| {
                state
                    .flash
                    .set(Some(format!("{} set for this area.", field.label())))
            },
        );
    };
    let inherit = move |_| {
        form.run(
            Command::SetAreaPolicy {
                area,
                set: PolicyOverrides::default(),
                clear: vec![field],
            },
            move |_| {
                let site = state.register.with_untracked(|r| {
                    r.area(area)
                        .map(|a| field_words(field, &r.site_policy(a.site)))
                        .unwrap_or_default()
                });
                a.set(
                    state
                        .register
                        .with_untracked(|r| field_text(field, &r.policy_for_area(area)).0),
                );
                state.flash.set(Some(format!(
                    "{}: the site's setting again ({site}).",
                    field.label()
                )));
            },
        );
    };
    view! {
        <form class="policy-field" aria-labelledby=labelled_by on:submit=submit novalidate>
            <h3 id=heading>{field.label()}</h3>
            <p class="meta">{move || {
                let (own, site, effective) = status.get();
                if own {
                    format!("Set for this area: {effective} (the site's: {site})")
                } else {
                    format!("Inherited from the site: {site}")
                }
            }}</p>
            <FieldInput field a b prefix="area"/>
            <FormError form/>
            <div class="actions">
                <Submit form label="Set for this area" action=Action::SetUpSite/>
                <Show when=move || status.with(|s| s.0) && state.allowed(Action::SetUpSite).is_ok()>
                    <button type="button" class="button" on:click=inherit>"Use the site's setting"</button>
                </Show>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::parse_pounds;

    #[test]
    fn pounds_as_typed() {
        assert_eq!(parse_pounds("12.50"), Some(1250));
        assert_eq!(parse_pounds("£5"), Some(500));
        assert_eq!(parse_pounds("0"), Some(0));
        assert_eq!(parse_pounds("7.5"), Some(750));
        assert_eq!(parse_pounds("ten"), None);
        assert_eq!(parse_pounds("1.234"), None);
    }
}
