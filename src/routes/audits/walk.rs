//! The audit walk (`/audits/:id`), for a tablet or a phone held in gloves: one locker at a
//! time in walking order with what the register expects there, big buttons for what was
//! found, a camera that keeps scanning (a locker's label moves on to it; a key tag found at
//! the wrong locker, a duplicate or an unknown code is recorded where you stand), the master
//! keys of the audit's suites, every locker with its finding, undo, and completion.

use super::progress_words;
use crate::camera::{self, Codes};
use crate::components::{local_date_time, Back, Count, FormError, FormState, RoleNote};
use crate::state::use_app;
use keyward_core::{
    Action, AreaId, AuditId, AuditScan, AuditScope, Command, FindingKind, KeyState, LockerId,
};
use leptos::html::Video;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

/// The current locker as the screen shows it.
#[derive(Clone, PartialEq)]
struct Current {
    id: LockerId,
    number: String,
    expected: Vec<String>,
    /// The standing finding: its id, words, who and when.
    finding: Option<(keyward_core::FindingId, String, String)>,
    /// Two auditors' differing findings, waiting for a decision.
    conflict: Vec<String>,
}

/// A locker in the list below the buttons.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Row {
    id: LockerId,
    number: String,
    words: String,
    issue: bool,
    done: bool,
}

/// A master key the audit covers.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Master {
    key: keyward_core::KeyId,
    tag: String,
    suite: String,
    check: String,
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let params = use_params_map();
    let state = use_app();
    let id = params.with_untracked(|p| p.get("id").and_then(|id| AuditId::parse(&id)));
    match id.filter(|a| state.register.with_untracked(|r| r.audit(*a).is_some())) {
        Some(audit) => view! { <Walk audit/> }.into_any(),
        None => view! {
            <Back href="/audits" label="Audits"/>
            <h1>"Audit not found"</h1>
            <p>"This audit is not in the register on this device. If it was started on another device, sync first."</p>
        }
        .into_any(),
    }
}

fn key_words(k: &keyward_core::ExpectedKey) -> String {
    match (&k.holder, k.state) {
        (Some(_), KeyState::Issued | KeyState::SignedOut) => {
            format!(
                "{} {} to {}",
                k.tag,
                k.state.label().to_lowercase(),
                k.holder_name
            )
        }
        (_, state) => format!("{} {}", k.tag, state.label().to_lowercase()),
    }
}

/// The whole audit's progress, or one area's part of it.
fn progress<'a>(
    r: &'a keyward_core::Register,
    audit: &'a keyward_core::Audit,
    part: Option<AreaId>,
) -> keyward_core::AuditProgress<'a> {
    match part {
        Some(area) => r.audit_progress_in(audit, area),
        None => r.audit_progress(audit),
    }
}

#[component]
fn Walk(audit: AuditId) -> impl IntoView {
    let state = use_app();
    let navigate = use_navigate();
    let form = FormState::new();
    let chosen = RwSignal::new(None::<LockerId>);
    let notes = RwSignal::new(String::new());
    let duplicates = RwSignal::new(String::new());
    let typed = RwSignal::new(String::new());
    let said = RwSignal::new(None::<String>);
    let scanning = RwSignal::new(false);
    let camera_problem = RwSignal::new(None::<String>);
    let confirm_complete = RwSignal::new(false);
    let video = NodeRef::<Video>::new();
    let last = StoredValue::new(String::new());
    // Auditors sharing a whole-site audit each take an area (`?area=`): their progress, their
    // lockers, their next one.
    let part = RwSignal::new(
        use_query_map().with_untracked(|q| q.get("area").and_then(|a| AreaId::parse(&a))),
    );
    let areas = Memo::new(move |_| {
        state.register.with(|r| {
            let Some(a) = r.audit(audit) else {
                return Vec::new();
            };
            match a.scope {
                AuditScope::Site => r
                    .areas_of(a.site)
                    .into_iter()
                    .map(|x| (x.id, x.name.clone()))
                    .collect(),
                _ => Vec::new(),
            }
        })
    });

    let open = Memo::new(move |_| {
        state
            .register
            .with(|r| r.audit(audit).is_some_and(|a| a.is_open()))
    });
    let scope = Memo::new(move |_| {
        state.register.with(|r| {
            r.audit(audit)
                .map(|a| r.scope_words(&a.scope))
                .unwrap_or_default()
        })
    });
    // Counts, rows and master keys in one pass over the audit's progress.
    let summary = Memo::new(move |_| {
        state.register.with(|r| {
            let Some(a) = r.audit(audit) else {
                return (String::new(), 0, 0, Vec::new(), Vec::new());
            };
            let p = progress(r, a, part.get());
            let rows = p
                .lockers
                .iter()
                .map(|l| {
                    let (words, issue) = match l.findings.as_slice() {
                        [] => ("To do".to_string(), false),
                        [one] => (one.kind.words(), one.kind.is_issue()),
                        _ => ("Recorded differently: to decide".to_string(), true),
                    };
                    Row {
                        id: l.locker.id,
                        number: l.locker.number.clone(),
                        words,
                        issue,
                        done: !l.findings.is_empty(),
                    }
                })
                .collect::<Vec<_>>();
            let masters = p
                .masters
                .iter()
                .map(|m| Master {
                    key: m.key.id,
                    tag: m.key.tag.to_string(),
                    suite: m.suite_name.clone(),
                    check: match m.check {
                        None => "Not checked yet".to_string(),
                        Some(c) => format!(
                            "{} by {} {}",
                            if c.seen { "Seen" } else { "Not seen" },
                            c.by,
                            local_date_time(c.at)
                        ),
                    },
                })
                .collect::<Vec<_>>();
            (
                progress_words(p.done, p.to_do, p.issues),
                p.to_do,
                p.conflicts,
                rows,
                masters,
            )
        })
    });
    // The locker in hand: the one chosen, else the first still to do, else the first.
    let current_id = Memo::new(move |_| {
        chosen.get().or_else(|| {
            summary.with(|(_, _, _, rows, _)| {
                rows.iter().find(|r| !r.done).or(rows.first()).map(|r| r.id)
            })
        })
    });
    let current = Memo::new(move |_| {
        let id = current_id.get()?;
        state.register.with(|r| {
            let locker = r.locker(id)?;
            let expected = r.expected_at(locker);
            let mut lines: Vec<String> = expected.keys.iter().map(key_words).collect();
            if expected.lock.is_none() {
                lines.insert(0, "No lock fitted".into());
            } else if lines.is_empty() {
                lines.push("A lock with no keys".into());
            }
            if expected.out_of_service {
                lines.insert(0, "Out of service".into());
            }
            let findings = r.current_findings(audit, id);
            let (finding, conflict) = match findings.as_slice() {
                [] => (None, Vec::new()),
                [one] => (
                    Some((
                        one.id,
                        one.kind.words(),
                        format!("{} {}", one.by, local_date_time(one.at)),
                    )),
                    Vec::new(),
                ),
                many => (
                    None,
                    many.iter()
                        .map(|f| format!("{}: {}", f.by, f.kind.words()))
                        .collect(),
                ),
            };
            Some(Current {
                id,
                number: locker.number.clone(),
                expected: lines,
                finding,
                conflict,
            })
        })
    });

    // After a finding, on to the next locker still to do.
    let move_on = move |from: LockerId| {
        let next = state.register.with_untracked(|r| {
            r.audit(audit)
                .and_then(|a| progress(r, a, part.get_untracked()).next_after(from))
        });
        if let Some(next) = next {
            chosen.set(Some(next));
        }
    };
    let record = move |kind: FindingKind| {
        let Some(locker) = current_id.get_untracked() else {
            return;
        };
        let words = kind.words();
        let number = current.with_untracked(|c| c.as_ref().map(|c| c.number.clone()));
        form.run(
            Command::RecordFinding {
                audit,
                locker,
                kind,
                notes: notes.get_untracked(),
            },
            move |_| {
                notes.set(String::new());
                duplicates.set(String::new());
                said.set(Some(format!(
                    "Locker {}: {}.",
                    number.unwrap_or_default(),
                    words
                )));
                move_on(locker);
            },
        );
    };
    let undo = move |finding| {
        form.run(Command::UndoFinding { finding }, move |_| {
            said.set(Some("Finding undone.".into()));
        });
    };
    let check_master = move |key, seen: bool| {
        form.run(
            Command::CheckAuditMaster {
                audit,
                key,
                seen,
                notes: String::new(),
            },
            move |_| {
                said.set(Some(if seen {
                    "Master key recorded as seen.".into()
                } else {
                    "Master key recorded as not seen.".into()
                }));
            },
        );
    };
    // A code from the camera or typed: a locker of the audit moves on to it; anything else is
    // judged at the locker in hand. A typed code nobody knows is only said, never recorded.
    let handle = move |text: String, from_camera: bool| {
        let Some(locker) = current_id.get_untracked() else {
            return;
        };
        let (scan, typed_locker) = state
            .register
            .with_untracked(|r| {
                let a = r.audit(audit)?;
                let typed_locker = (!from_camera)
                    .then(|| r.locker_by_number(a.site, &text))
                    .flatten()
                    .map(|l| (l.id, r.in_scope(a, l), l.number.clone()));
                Some((r.audit_scan(a, locker, &text), typed_locker))
            })
            .unzip();
        let number_of = |id| {
            state
                .register
                .with_untracked(|r| r.locker(id).map(|l| l.number.clone()))
                .unwrap_or_default()
        };
        match (scan, typed_locker.flatten()) {
            (_, Some((id, true, _))) | (Some(AuditScan::Locker(id)), _) => {
                chosen.set(Some(id));
                typed.set(String::new());
                said.set(Some(format!("Locker {}.", number_of(id))));
            }
            (_, Some((_, false, number))) => {
                said.set(Some(format!("Locker {number} is not part of this audit.")))
            }
            (Some(AuditScan::LockerElsewhere(id)), _) => said.set(Some(format!(
                "Locker {} is not part of this audit.",
                number_of(id)
            ))),
            (Some(AuditScan::OwnKey(_)), _) => {
                said.set(Some("That key belongs to this locker.".into()));
                typed.set(String::new());
            }
            (Some(AuditScan::Master(key)), _) => {
                typed.set(String::new());
                check_master(key, true);
            }
            (Some(AuditScan::Finding(FindingKind::UnknownCode { code })), _) if !from_camera => {
                said.set(Some(format!(
                    "No locker, key or tag “{code}” in this register. Check what you typed."
                )))
            }
            (Some(AuditScan::Finding(kind)), _) => {
                typed.set(String::new());
                record(kind);
            }
            (None, None) => {}
        }
    };
    let on_camera = move |text: String| {
        if last.with_value(|l| *l == text) {
            return;
        }
        last.set_value(text.clone());
        handle(text, true);
    };
    Effect::new(move |_| {
        if !scanning.get() {
            camera::stop();
            return;
        }
        let Some(element) = video.get() else {
            return;
        };
        camera_problem.set(None);
        last.set_value(String::new());
        leptos::task::spawn_local(async move {
            if let Err(reason) = camera::start(&element, false, Codes::Labels, move |text, _| {
                on_camera(text)
            })
            .await
            {
                camera_problem.set(Some(super::super::scan::camera_problem(&reason)));
            }
        });
    });
    on_cleanup(camera::stop);

    let submit_typed = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = typed.get_untracked();
        if text.trim().is_empty() {
            said.set(Some("Type a locker number or a key's tag id.".into()));
            return;
        }
        handle(text, false);
    };
    let record_duplicates = move |_| {
        let found = duplicates.get_untracked().trim().parse::<u16>().ok();
        match found {
            Some(found) if found >= 2 => record(FindingKind::DuplicateKeys { found }),
            _ => form.fail("Enter how many keys of this lock's code you found: 2 or more."),
        }
    };
    let complete = {
        let navigate = navigate.clone();
        move |_| {
            let to_do = summary.with_untracked(|s| s.1);
            if to_do > 0 && !confirm_complete.get_untracked() {
                confirm_complete.set(true);
                return;
            }
            let navigate = navigate.clone();
            form.run(Command::CompleteAudit { audit }, move |_| {
                camera::stop();
                navigate(&format!("/audits/{audit}/report"), Default::default());
            });
        }
    };

    view! {
        <Back href="/audits" label="Audits"/>
        <h1>{move || format!("Audit: {}", scope.get())}</h1>
        <p class="audit-progress" role="status">{move || summary.with(|s| s.0.clone())}</p>
        <Show when=move || !open.get()>
            <p class="warning">"This audit is complete. "<A href=format!("/audits/{audit}/report")>"Read its report"</A>"."</p>
        </Show>
        <Show when=move || summary.with(|s| s.2 > 0)>
            <p class="warning">
                {move || match summary.with(|s| s.2) {
                    1 => "1 locker was recorded differently by two auditors. ".to_string(),
                    n => format!("{n} lockers were recorded differently by two auditors. "),
                }}
                <A href="/conflicts">"Decide in Conflicts"</A>
            </p>
        </Show>
        <RoleNote action=Action::Audit/>
        <Show when=move || areas.with(|a| a.len() > 1)>
            <label for="audit-part">"Your part of the walk"</label>
            <p class="hint" id="audit-part-hint">"Sharing the audit? Each auditor takes an area; findings from every device make one report."</p>
            <select id="audit-part" aria-describedby="audit-part-hint" on:change=move |ev| {
                part.set(AreaId::parse(&event_target_value(&ev)));
                chosen.set(None);
            }>
                <option value="" selected=move || part.get().is_none()>"Every area"</option>
                {move || areas.get().into_iter().map(|(id, name)| view! {
                    <option value=id.to_string() selected=move || part.get() == Some(id)>{name}</option>
                }).collect_view()}
            </select>
        </Show>
        <div class="audit-layout">
            <section class="card audit-current" aria-labelledby="audit-locker">
                {move || current.get().map(|c| {
                    let finding = c.finding.clone();
                    view! {
                        <h2 id="audit-locker">{format!("Locker {}", c.number)}</h2>
                        <p class="meta">"The register expects: "{c.expected.join("; ")}</p>
                        {finding.map(|(id, words, who)| view! {
                            <p class="recorded">
                                <span>"Recorded: "<strong>{words}</strong>" · "{who}</span>
                                <button type="button" class="button small" disabled=move || form.busy.get() || !open.get() on:click=move |_| undo(id)>"Undo"</button>
                            </p>
                        })}
                        {(!c.conflict.is_empty()).then(|| view! {
                            <p class="warning">"Recorded differently: "{c.conflict.join("; ")}". A person decides in Conflicts."</p>
                        })}
                    }
                })}
                <Show when=move || open.get() && current.with(|c| c.as_ref().is_some_and(|c| c.conflict.is_empty()))>
                    <div class="finding-buttons" role="group" aria-label="What you found">
                        {FindingKind::PLAIN.into_iter().map(|kind| {
                            let label = kind.label();
                            let class = if kind.is_issue() { "button finding" } else { "button primary finding" };
                            view! {
                                <button type="button" class=class disabled=move || form.busy.get() on:click=move |_| record(kind.clone())>{label}</button>
                            }
                        }).collect_view()}
                    </div>
                    <details class="more-findings">
                        <summary>"A note, or duplicated keys"</summary>
                        <label for="audit-notes">"Note with the next finding (optional)"</label>
                        <textarea id="audit-notes" rows="2" bind:value=notes></textarea>
                        <Count value=notes max=keyward_core::checks::MAX_NOTES/>
                        <label for="audit-duplicates">"Keys of this lock's code found"</label>
                        <input id="audit-duplicates" inputmode="numeric" autocomplete="off" bind:value=duplicates/>
                        <button type="button" class="button" on:click=record_duplicates>"Record duplicated keys"</button>
                    </details>
                </Show>
                <FormError form/>
                <div aria-live="polite">{move || said.get().map(|s| view! { <p class="said">{s}</p> })}</div>
            </section>
            <section class="card audit-scan">
                <h2>"Scan or type"</h2>
                <Show
                    when=move || scanning.get()
                    fallback=move || view! {
                        <button type="button" class="button" on:click=move |_| scanning.set(true)>"Scan labels and tags"</button>
                    }
                >
                    <div class="camera">
                        <video node_ref=video aria-label="Camera view" muted=true playsinline=true></video>
                        <div class="target" aria-hidden="true"></div>
                    </div>
                    <p class="hint" role="status">{move || camera_problem.get().unwrap_or_else(|| {
                        "Scan each locker's label to move on; a key tag you find is checked against the locker.".into()
                    })}</p>
                    <button type="button" class="button small" on:click=move |_| scanning.set(false)>"Stop scanning"</button>
                </Show>
                <form on:submit=submit_typed novalidate>
                    <label for="audit-code">"Locker number or tag id"</label>
                    <input id="audit-code" autocomplete="off" autocapitalize="characters" placeholder="A-012 or K7M2P9Q" bind:value=typed/>
                    <button type="submit" class="button">"Go"</button>
                </form>
            </section>
        </div>
        <Show when=move || summary.with(|s| !s.4.is_empty())>
            <section class="card">
                <h2>"Master keys"</h2>
                <ul class="rows">
                    {move || summary.with(|s| s.4.clone()).into_iter().map(|m| {
                        let (key, tag) = (m.key, m.tag.clone());
                        view! {
                            <li class="check-row">
                                <span class="row-main">
                                    <span class="tag">{m.tag.clone()}</span>
                                    <span class="meta">{m.suite.clone()}" · "{m.check.clone()}</span>
                                </span>
                                <Show when=move || open.get()>
                                    <span class="actions">
                                        <button type="button" class="button small" aria-label=format!("Seen {tag}") on:click=move |_| check_master(key, true)>"Seen"</button>
                                        <button type="button" class="button small" aria-label=format!("Not seen {}", m.tag) on:click=move |_| check_master(key, false)>"Not seen"</button>
                                    </span>
                                </Show>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        </Show>
        <section class="card">
            <h2>"Lockers in walking order"</h2>
            <ul class="audit-lockers">
                <For each=move || summary.with(|s| s.3.clone()) key=|row| row.clone() let:row>
                    <li>
                        <button type="button" class="choice-button" class:issue=row.issue
                            aria-current=move || (current_id.get() == Some(row.id)).then_some("true")
                            on:click=move |_| chosen.set(Some(row.id))>
                            <strong>{row.number.clone()}</strong>
                            <span class="meta">{row.words.clone()}</span>
                        </button>
                    </li>
                </For>
            </ul>
        </section>
        <Show when=move || open.get()>
            <section class="card">
                <Show when=move || confirm_complete.get()>
                    <p class="warning" role="alert">{move || match summary.with(|s| s.1) {
                        1 => "1 locker has no finding yet: it goes in the report as not checked. Press “Complete audit” again to complete it anyway.".to_string(),
                        n => format!("{n} lockers have no finding yet: they go in the report as not checked. Press “Complete audit” again to complete it anyway."),
                    }}</p>
                </Show>
                <button type="button" class="button primary" disabled=move || form.busy.get() on:click=complete.clone()>"Complete audit"</button>
            </section>
        </Show>
    }
}
