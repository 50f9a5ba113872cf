//! Printing labels: locker labels (number and a QR of the locker's opaque reference) and key
//! tags (tag id and its QR), laid out on A4 label sheets in millimetres, from a chosen start
//! position on a part-used sheet, with this device's printer offset. Where the text and QR code
//! go on a label and how big the text is come from the core (`Template::label_layout`), which
//! proves that every text fits. The QR codes point at the site's Keyward address (its scheme,
//! host and port, this page's own until set), so a phone's own camera opens the locker or key.

use crate::components::{Back, Choices, FormError, FormState};
use crate::state::use_app;
use keyward_core::label::{is_local_host, normalise_address, qr_svg, Scheme, Template};
use keyward_core::search::natural_cmp;
use keyward_core::{
    normalise_locker_number, AreaId, Change, Command, LockerId, Register, Scanned, SiteId, TagId,
};
use leptos::prelude::*;

/// More than this at once is a job for several sheets runs; it also keeps the preview quick.
const MAX_LABELS: usize = 500;

/// What the sheet is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Lockers,
    Keys,
    BlankTags,
}

/// One A4 sheet: its labels and where each goes (mm).
#[derive(Clone, Debug, Default, PartialEq)]
struct Sheet {
    labels: Vec<(Label, (f64, f64))>,
}

impl Eq for Sheet {}

impl std::hash::Hash for Sheet {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        for (label, (x, y)) in &self.labels {
            label.id.hash(state);
            label.qr.is_some().hash(state);
            x.to_bits().hash(state);
            y.to_bits().hash(state);
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Label {
    id: String,
    text: String,
    /// `None` until the locker has a label reference (made when printed); `Err` when the
    /// text cannot be drawn as a QR code (never a panic: the text came from the register).
    qr: Option<Result<String, &'static str>>,
}

#[component]
pub fn LabelsPage() -> impl IntoView {
    let state = use_app();
    // Only a change of site rebuilds the screen; new label references must not reset the form.
    let site = Memo::new(move |_| state.site());
    move || match site.get() {
        Some(site) => view! { <Labels site/> }.into_any(),
        None => view! { <p>"Set up a site first."</p> }.into_any(),
    }
}

#[component]
fn Labels(site: SiteId) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    // `?locker=A-012` (from a locker's page) or `&keys=1` preselects one locker's label or tags.
    let query = leptos_router::hooks::use_query_map();
    let (one, keys_of_one) =
        query.with_untracked(|q| (q.get("locker").unwrap_or_default(), q.get("keys").is_some()));
    // `?keys=1&only=<key id>,<key id>`: just those keys' tags (new keys of a received order).
    let only: Vec<keyward_core::KeyId> = query.with_untracked(|q| {
        q.get("only")
            .map(|ids| {
                ids.split(',')
                    .filter_map(keyward_core::KeyId::parse)
                    .collect()
            })
            .unwrap_or_default()
    });
    let only = StoredValue::new(only);
    let has_only = !only.with_value(Vec::is_empty);
    let kind = RwSignal::new(if keys_of_one {
        Kind::Keys
    } else {
        Kind::Lockers
    });
    let blank_count = RwSignal::new(String::new());
    // The blank tags made by the last print here, so a reprint uses the same ones.
    let made = RwSignal::new(Vec::<TagId>::new());
    let area = RwSignal::new(None::<AreaId>);
    let from = RwSignal::new(one.clone());
    let to = RwSignal::new(one);
    let start = RwSignal::new("1".to_string());
    let outlines = RwSignal::new(false);
    let template = Memo::new(move |_| {
        state
            .settings
            .with(|s| s.template.as_deref().and_then(Template::by_code))
            .unwrap_or(Template::ALL[0])
    });
    let offset = Memo::new(move |_| state.settings.with(|s| s.print_offset));
    let areas = Memo::new(move |_| state.areas());
    // The site's address, or this page's own until one is saved.
    let address = Memo::new(move |_| {
        state
            .register
            .with(|r| {
                r.site(site)
                    .and_then(|s| s.labels.as_ref())
                    .map(|l| l.address())
            })
            .unwrap_or_else(page_origin)
    });

    let chosen = Memo::new(move |_| {
        let (area, from, to) = (area.get(), from.get(), to.get());
        state
            .register
            .with(|r| lockers_chosen(r, site, area, &from, &to))
    });
    let labels = Memo::new(move |_| {
        let address = address.get();
        let kind = kind.get();
        let tag_label = |tag: &TagId, id: String| Label {
            id,
            text: tag.to_string(),
            qr: Some(qr_svg(&Scanned::Key(tag.clone()).url(&address))),
        };
        if kind == Kind::BlankTags {
            return made.with(|tags| tags.iter().map(|t| tag_label(t, t.to_string())).collect());
        }
        if kind == Kind::Keys && has_only {
            return state.register.with(|r| {
                only.with_value(|ids| {
                    ids.iter()
                        .filter_map(|id| r.key(*id))
                        .map(|k| tag_label(&k.tag, k.id.to_string()))
                        .collect()
                })
            });
        }
        state.register.with(|r| {
            let lockers = chosen.get();
            let mut labels = Vec::new();
            for id in lockers {
                let Some(locker) = r.locker(id) else { continue };
                if kind == Kind::Keys {
                    for key in r.keys_of_locker(id) {
                        labels.push(tag_label(&key.tag, key.id.to_string()));
                    }
                } else {
                    labels.push(Label {
                        id: id.to_string(),
                        text: locker.number.clone(),
                        qr: locker
                            .label
                            .clone()
                            .map(|l| qr_svg(&Scanned::Locker(l).url(&address))),
                    });
                }
                if labels.len() > MAX_LABELS {
                    break;
                }
            }
            labels
        })
    });
    let start_at = move || {
        start
            .get()
            .trim()
            .parse::<u32>()
            .unwrap_or(1)
            .clamp(1, template.get().per_sheet())
    };
    let sheets = Memo::new(move |_| {
        let t = template.get();
        let labels = labels.get();
        let mut sheets: Vec<Sheet> = Vec::new();
        for (label, (sheet, at)) in labels.into_iter().zip(t.layout(MAX_LABELS + 1, start_at())) {
            if sheets.len() <= sheet {
                sheets.push(Sheet::default());
            }
            sheets[sheet].labels.push((label, at));
        }
        sheets
    });
    let summary = move || {
        let n = labels.with(Vec::len);
        let what = match kind.get() {
            Kind::Lockers => "locker label",
            Kind::Keys => "key tag",
            Kind::BlankTags => "blank key tag",
        };
        if kind.get() == Kind::BlankTags && n == 0 {
            return "New tag ids are made when you print.".to_string();
        }
        match n {
            0 => "Nothing to print: no lockers (or keys) match.".to_string(),
            n if n > MAX_LABELS => {
                format!("More than {MAX_LABELS} labels: choose an area or a range of numbers.")
            }
            n => format!(
                "{n} {what}{} on {} sheet{} of {}.",
                if n == 1 { "" } else { "s" },
                sheets.with(Vec::len),
                if sheets.with(Vec::len) == 1 { "" } else { "s" },
                template.get().code
            ),
        }
    };

    let print = move |_| {
        if kind.get_untracked() == Kind::BlankTags {
            let wanted = match blank_count.get_untracked().trim() {
                "" => template.get_untracked().per_sheet(),
                text => match text.parse::<u32>() {
                    Ok(n) => n,
                    Err(_) => {
                        form.fail(
                            "Enter how many blank tags to print, as a number, for example 65.",
                        );
                        return;
                    }
                },
            };
            if made.with_untracked(Vec::len) == wanted as usize {
                open_print_dialog();
                return;
            }
            form.run(
                Command::MakeBlankTags {
                    site,
                    count: wanted,
                },
                move |event| {
                    if let Change::BlankTagsMade { tags, .. } = event.change {
                        made.set(tags);
                    }
                    open_print_dialog();
                },
            );
            return;
        }
        let count = labels.with(Vec::len);
        if count == 0 || count > MAX_LABELS {
            form.fail(summary());
            return;
        }
        let unlabelled: Vec<LockerId> = if kind.get_untracked() == Kind::Keys {
            Vec::new()
        } else {
            state.register.with_untracked(|r| {
                chosen
                    .get_untracked()
                    .into_iter()
                    .filter(|id| r.locker(*id).is_some_and(|l| l.label.is_none()))
                    .collect()
            })
        };
        if unlabelled.is_empty() {
            form.error.set(None);
            open_print_dialog();
        } else {
            // A locker's reference is made once, when its first label is printed, and kept.
            form.run(
                Command::IssueLockerLabels {
                    lockers: unlabelled,
                },
                |_| open_print_dialog(),
            );
        }
    };

    view! {
        <div class="no-print">
            <Back href="/setup" label="Set-up"/>
            <h1>"Print labels"</h1>
            <SiteAddress site/>
            <section class="card">
                <h2>"What to print"</h2>
                <Choices legend="Labels for" name="label-kind" value=kind options=vec![(Kind::Lockers, "Lockers"), (Kind::Keys, "Key tags"), (Kind::BlankTags, "Blank key tags")]/>
                <Show when=move || kind.get() == Kind::BlankTags>
                    <label for="labels-blank-count">"How many blank tags"</label>
                    <p class="hint" id="labels-blank-count-hint">"Printed in advance with new tag ids; scan one later to put it on a key. Empty for one sheet."</p>
                    <input id="labels-blank-count" type="number" inputmode="numeric" min="1" aria-describedby="labels-blank-count-hint"
                        bind:value=blank_count on:input=move |_| made.set(Vec::new())/>
                </Show>
                {has_only.then(|| view! { <p class="hint">{format!("Only the tags of the {} new key{} just received.", only.with_value(Vec::len), if only.with_value(Vec::len) == 1 { "" } else { "s" })}</p> })}
                <label for="labels-area">"Area"</label>
                <select id="labels-area" on:change=move |ev| area.set(AreaId::parse(&event_target_value(&ev)))>
                    <option value="" selected=move || area.get().is_none()>"All areas"</option>
                    <For each=move || areas.get() key=|a| a.clone() let:((id, name))>
                        <option value=id.to_string() selected=move || area.get() == Some(id)>{name}</option>
                    </For>
                </select>
                <div class="pair">
                    <div>
                        <label for="labels-from">"From locker (optional)"</label>
                        <input id="labels-from" autocapitalize="characters" placeholder="A-001" bind:value=from/>
                    </div>
                    <div>
                        <label for="labels-to">"To locker (optional)"</label>
                        <input id="labels-to" autocapitalize="characters" placeholder="A-021" bind:value=to/>
                    </div>
                </div>
            </section>
            <section class="card">
                <h2>"Sheet and printer"</h2>
                <label for="labels-template">"Label sheet"</label>
                <select id="labels-template" on:change=move |ev| {
                    let code = event_target_value(&ev);
                    state.settings.update(|s| s.template = Some(code));
                }>
                    {Template::ALL.into_iter().map(|t| view! {
                        <option value=t.code selected=move || template.get().code == t.code>
                            {format!("Avery {}: {}", t.code, t.description)}
                        </option>
                    }).collect_view()}
                </select>
                <label for="labels-start">"Start at label"</label>
                <p class="hint" id="labels-start-hint">"On a part-used sheet: the first free label, counting across then down from 1."</p>
                <input id="labels-start" type="number" inputmode="numeric" min="1" aria-describedby="labels-start-hint" bind:value=start/>
                <div class="pair">
                    <OffsetInput id="labels-offset-x" label="Move right (mm)" down=false/>
                    <OffsetInput id="labels-offset-y" label="Move down (mm)" down=true/>
                </div>
                <p class="hint">"The printer offset is kept on this device. Print a test on plain paper with outlines, hold it over a label sheet against the light, and adjust."</p>
                <label class="choice">
                    <input type="checkbox" bind:checked=outlines/>
                    "Print outlines (to check alignment)"
                </label>
            </section>
            <p class="count" role="status">{summary}</p>
            <FormError form/>
            <button type="button" class="button primary wide" on:click=print disabled=move || form.busy.get()>"Print"</button>
            <h2 class="preview-heading">"Preview"</h2>
        </div>
        <div class=move || if outlines.get() { "sheets outlines" } else { "sheets" }>
            <For each=move || sheets.get() key=|sheet| sheet.clone() let:sheet>
                <div class="sheet">
                    {sheet.labels.into_iter().map(|(label, (x, y))| {
                        let t = template.get_untracked();
                        let (dx, dy) = offset.get_untracked();
                        // Where the text and the QR code go and how big the text is: the core's
                        // rule, which every text the register can print fits whole.
                        let layout = t.label_layout(&label.text);
                        let (tx, ty, tw, th) = layout.text;
                        let (qx, qy, q) = layout.qr;
                        // Set through the CSSOM (`style:`), which the server's CSP allows; a
                        // `style` attribute would need 'unsafe-inline'.
                        let mm = |v: f64| format!("{v:.2}mm");
                        let (qx, qy, q) = (mm(qx), mm(qy), mm(q));
                        view! {
                            <div class="label" style:left=mm(x + dx) style:top=mm(y + dy)
                                style:width=mm(t.width) style:height=mm(t.height)>
                                <span class="label-text" style:left=mm(tx) style:top=mm(ty) style:width=mm(tw)
                                    style:height=mm(th) style:font-size=mm(layout.font)>
                                    // A space between lines, so the text reads as one (`textContent`, screen readers).
                                    {layout.lines.into_iter().enumerate().map(|(i, line)| view! { {(i > 0).then_some(" ")}<span class="label-line">{line}</span> }).collect_view()}
                                </span>
                                {match label.qr {
                                    Some(Ok(svg)) => view! { <span class="qr" style:left=qx style:top=qy style:width=q.clone() style:height=q inner_html=svg></span> }.into_any(),
                                    Some(Err(why)) => view! { <span class="qr pending" role="note" style:left=qx style:top=qy style:width=q.clone() style:height=q>{why}</span> }.into_any(),
                                    None => view! { <span class="qr pending" style:left=qx style:top=qy style:width=q.clone() style:height=q>"QR made when printed"</span> }.into_any(),
                                }}
                            </div>
                        }
                    }).collect_view()}
                </div>
            </For>
        </div>
    }
}

/// One direction of this device's printer offset, in mm, saved as it is changed.
#[component]
fn OffsetInput(id: &'static str, label: &'static str, down: bool) -> impl IntoView {
    let state = use_app();
    let pick = move |offset: (f64, f64)| if down { offset.1 } else { offset.0 };
    view! {
        <div>
            <label for=id>{label}</label>
            <input id=id type="number" inputmode="decimal" step="0.5"
                prop:value=move || state.settings.with(|s| pick(s.print_offset)).to_string()
                on:change=move |ev| {
                    let mm = event_target_value(&ev).trim().parse().unwrap_or(0.0_f64).clamp(-20.0, 20.0);
                    state.settings.update(|s| if down { s.print_offset.1 = mm } else { s.print_offset.0 = mm });
                }/>
        </div>
    }
}

/// The lockers of `site` in `area` (all when None) between two numbers (either may be empty),
/// in locker-number order.
fn lockers_chosen(
    r: &Register,
    site: SiteId,
    area: Option<AreaId>,
    from: &str,
    to: &str,
) -> Vec<LockerId> {
    let bound = |text: &str| {
        (!text.trim().is_empty())
            .then(|| normalise_locker_number(text).ok())
            .flatten()
    };
    let (from, to) = (bound(from), bound(to));
    let mut lockers: Vec<_> = r
        .lockers()
        .filter(|l| l.site == site && area.is_none_or(|a| l.area == a))
        .filter(|l| {
            from.as_deref()
                .is_none_or(|f| natural_cmp(&l.number, f).is_ge())
        })
        .filter(|l| {
            to.as_deref()
                .is_none_or(|t| natural_cmp(&l.number, t).is_le())
        })
        .map(|l| (l.number.clone(), l.id))
        .collect();
    lockers.sort_by(|a, b| natural_cmp(&a.0, &b.0));
    lockers.into_iter().map(|(_, id)| id).collect()
}

fn open_print_dialog() {
    // After the new QR codes are on the page.
    leptos::prelude::request_animation_frame(|| {
        let _ = window().print();
    });
}

/// This page's own address: scheme, host and port (`http://192.168.1.20:8080`).
fn page_origin() -> String {
    window().location().origin().unwrap_or_default()
}

/// What is worth knowing about where a site's QR codes point, in plain words: a phone's camera
/// cannot reach this device's own name for itself, and plain HTTP on another machine opens but
/// cannot work offline.
fn address_notes(scheme: Scheme, host: &str) -> Option<&'static str> {
    if is_local_host(host) {
        Some("This is this device's own name for itself: a phone that scans a label cannot reach it. Enter the address other devices use, for example http://192.168.1.20:8080.")
    } else if scheme == Scheme::Http {
        Some("This address is plain http://. A phone's camera opens it on the site's network, but Keyward can only work offline on phones from an https:// address, which a later update sets up. When the address changes, labels already printed still open in Keyward's own scanner.")
    } else {
        None
    }
}

/// The site's Keyward address (in every QR) and where found keys go (told to strangers).
#[component]
fn SiteAddress(site: SiteId) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let current = state
        .register
        .with_untracked(|r| r.site(site).and_then(|s| s.labels.clone()));
    let saved = Memo::new(move |_| {
        state
            .register
            .with(|r| r.site(site).and_then(|s| s.labels.clone()))
    });
    let editing = RwSignal::new(current.is_none());
    let address = RwSignal::new(
        current
            .as_ref()
            .map(|l| l.address())
            .unwrap_or_else(page_origin),
    );
    let front_desk = RwSignal::new(current.map(|l| l.front_desk).unwrap_or_default());
    // As typed, before it is saved: the same words as once saved.
    let typed_note = move || {
        address.with(|a| {
            normalise_address(a)
                .ok()
                .and_then(|(scheme, host)| address_notes(scheme, &host))
        })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.run(
            Command::SetSiteLabels {
                site,
                host: address.get_untracked(),
                front_desk: front_desk.get_untracked(),
            },
            move |_| {
                if let Some(l) = saved.get_untracked() {
                    address.set(l.address());
                    front_desk.set(l.front_desk);
                }
                editing.set(false);
            },
        );
    };
    view! {
        <section class="card">
            <h2>"Site address"</h2>
            <Show
                when=move || editing.get()
                fallback=move || view! {
                    {move || saved.get().map(|l| view! {
                        <p>"QR codes open "<strong class="site-address">{l.address()}</strong>": a phone's camera that scans a label opens this address. Found keys go to "{l.front_desk.clone()}"."</p>
                        {address_notes(l.scheme, &l.host).map(|note| view! { <p class="warning">{note}</p> })}
                    })}
                    <button type="button" class="button small" on:click=move |_| editing.set(true)>"Change"</button>
                }
            >
                <form on:submit=submit novalidate>
                    <label for="labels-host">"Keyward address for this site"</label>
                    <p class="hint" id="labels-host-hint">"What a phone's camera opens when it scans a label: the address of Keyward that phones on the site use, for example https://keys.northgate.sch.uk or http://192.168.1.20:8080. Filled in with this page's own address."</p>
                    <input id="labels-host" type="url" inputmode="url" aria-describedby="labels-host-hint" autocapitalize="none" autocomplete="off" bind:value=address/>
                    {move || typed_note().map(|note| view! { <p class="warning">{note}</p> })}
                    <label for="labels-desk">"Found keys go to"</label>
                    <input id="labels-desk" placeholder="the school office" bind:value=front_desk/>
                    <FormError form/>
                    <button type="submit" class="button" disabled=move || form.busy.get()>"Save address"</button>
                </form>
            </Show>
        </section>
    }
}
