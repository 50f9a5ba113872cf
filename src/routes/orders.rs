//! Replacement orders cut to code (DOMAIN.md procedure 6): suppliers and the list of orders
//! (`/orders`), a new order (`/orders/new?case=…&lock=…`), and an order's page
//! (`/orders/:id`) with its printable sheet, the CSV for the supplier, and receiving it, which
//! makes the new keys with new tags and offers to print them.

use crate::components::Count;
use crate::components::{today, Back, FormError, FormState, RoleNote, Submit};
use crate::state::use_app;
use keyward_core::format::{parse_date, uk_date};
use keyward_core::{
    Action, CaseId, Change, Command, KeyId, KeyKind, LockId, Order, OrderId, Register, SiteId,
    SupplierId,
};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

/// "A-007: 2 user keys; A-009: 1 spare key".
fn lines_words(r: &Register, o: &Order) -> String {
    o.lines
        .iter()
        .map(|l| {
            let number = r
                .lock(l.lock)
                .and_then(|k| r.locker(k.locker))
                .map(|k| k.number.clone())
                .unwrap_or_default();
            format!(
                "{number}: {} {}{}",
                l.quantity,
                l.kind.label().to_lowercase(),
                if l.quantity == 1 { "" } else { "s" }
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn status_words(o: &Order) -> &'static str {
    if o.is_complete() {
        "Received"
    } else if o.received.iter().any(|r| *r > 0) {
        "Part received"
    } else {
        "Outstanding"
    }
}

/// Adds a supplier; `chosen` (on the new-order form) gets the new one.
#[component]
pub fn AddSupplier(
    site: SiteId,
    #[prop(optional)] chosen: Option<RwSignal<String>>,
) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let name = RwSignal::new(String::new());
    let contact = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.run(
            Command::AddSupplier {
                site,
                name: name.get_untracked(),
                contact: contact.get_untracked(),
            },
            move |event| {
                if let Change::SupplierAdded {
                    supplier, name: n, ..
                } = event.change
                {
                    state.flash.set(Some(format!("Supplier {n} added.")));
                    if let Some(chosen) = chosen {
                        chosen.set(supplier.to_string());
                    }
                }
                name.set(String::new());
                contact.set(String::new());
            },
        );
    };
    view! {
        <form class="card" on:submit=submit novalidate>
            <h2>"Add a supplier"</h2>
            <label for="supplier-name">"Supplier name"</label>
            <input id="supplier-name" autocomplete="organization" bind:value=name placeholder="Locksmiths Ltd"/>
            <label for="supplier-contact">"Contact (optional)"</label>
            <input id="supplier-contact" bind:value=contact placeholder="orders@locksmiths.example, 0161 496 0000"/>
            <FormError form/>
            <Submit form label="Add supplier" action=Action::OrderKeys/>
        </form>
    }
}

#[component]
pub fn OrdersPage() -> impl IntoView {
    let state = use_app();
    let site = Memo::new(move |_| state.site());
    move || match site.get() {
        None => view! { <p>"Set up a site first."</p> }.into_any(),
        Some(site) => view! { <Orders site/> }.into_any(),
    }
}

#[component]
fn Orders(site: SiteId) -> impl IntoView {
    let state = use_app();
    let suppliers = Memo::new(move |_| {
        state.register.with(|r| {
            r.suppliers_of(site)
                .into_iter()
                .map(|s| (s.id, s.name.clone(), s.contact.clone()))
                .collect::<Vec<_>>()
        })
    });
    let orders = Memo::new(move |_| {
        state.register.with(|r| {
            let mut all = r.orders_of(site);
            // Outstanding first (oldest first), then received (newest first).
            let (mut open, done): (Vec<_>, Vec<_>) = all.drain(..).partition(|o| !o.is_complete());
            open.reverse();
            open.into_iter()
                .chain(done)
                .map(|o| {
                    let supplier = r
                        .supplier(o.supplier)
                        .map(|s| s.name.clone())
                        .unwrap_or_default();
                    (
                        o.id,
                        supplier,
                        format!(
                            "{} · ordered {}{}",
                            status_words(o),
                            uk_date(o.ordered),
                            o.expected
                                .map(|d| format!(", expected {}", uk_date(d)))
                                .unwrap_or_default()
                        ),
                        lines_words(r, o),
                    )
                })
                .collect::<Vec<_>>()
        })
    });
    view! {
        <Back href="/setup" label="Set-up"/>
        <h1>"Replacement orders"</h1>
        <RoleNote action=Action::OrderKeys/>
        <p class="actions"><A href="/orders/new" attr:class="button primary">"New order"</A></p>
        <section class="card">
            <h2>"Orders"</h2>
            <Show when=move || orders.with(Vec::is_empty)>
                <p>"No orders yet."</p>
            </Show>
            <ul class="rows">
                <For each=move || orders.get() key=|o| o.clone() let:((id, supplier, meta, lines))>
                    <li><A href=format!("/orders/{id}")>
                        <span class="row-main">
                            <span class="name">{supplier}</span>
                            <span class="meta">{meta}</span>
                            <span class="meta">{lines}</span>
                        </span>
                    </A></li>
                </For>
            </ul>
        </section>
        <section class="card">
            <h2>"Suppliers"</h2>
            <Show when=move || suppliers.with(Vec::is_empty)>
                <p>"No suppliers yet."</p>
            </Show>
            <ul class="plain">
                <For each=move || suppliers.get() key=|s| s.clone() let:((_, name, contact))>
                    <li><strong>{name}</strong>{(!contact.is_empty()).then(|| format!(" · {contact}"))}</li>
                </For>
            </ul>
        </section>
        <AddSupplier site/>
    }
}

#[derive(Clone, Copy)]
struct LineInput {
    n: u32,
    number: RwSignal<String>,
    kind: RwSignal<KeyKind>,
    quantity: RwSignal<String>,
}

impl LineInput {
    fn new(n: u32, number: String) -> Self {
        Self {
            n,
            number: RwSignal::new(number),
            kind: RwSignal::new(KeyKind::User),
            quantity: RwSignal::new("1".into()),
        }
    }
}

#[component]
pub fn NewOrderPage() -> impl IntoView {
    let state = use_app();
    let site = Memo::new(move |_| state.site());
    move || match site.get() {
        None => view! { <p>"Set up a site first."</p> }.into_any(),
        Some(site) => view! { <NewOrder site/> }.into_any(),
    }
}

#[component]
fn NewOrder(site: SiteId) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let navigate = use_navigate();
    let query = use_query_map();
    let case = query.with_untracked(|q| q.get("case").and_then(|c| CaseId::parse(&c)));
    let lock = query.with_untracked(|q| q.get("lock").and_then(|l| LockId::parse(&l)));
    // The case's lock, or the lock asked for: its locker's number starts the first line.
    let (first_number, case_words) = state.register.with_untracked(|r| {
        let c = case.and_then(|c| r.case(c));
        let lock = c
            .and_then(|c| r.key(c.key))
            .map(|k| k.lock)
            .or(lock)
            .and_then(|l| r.lock(l));
        let number = lock
            .and_then(|l| r.locker(l.locker))
            .map(|l| l.number.clone())
            .unwrap_or_default();
        let words = c.map(|c| {
            let tag = r.key(c.key).map(|k| k.tag.to_string()).unwrap_or_default();
            format!("For the lost-key case of key {tag}, locker {number}.")
        });
        (number, words)
    });
    let suppliers = Memo::new(move |_| {
        state.register.with(|r| {
            r.suppliers_of(site)
                .into_iter()
                .map(|s| (s.id, s.name.clone()))
                .collect::<Vec<_>>()
        })
    });
    let supplier = RwSignal::new(
        suppliers
            .get_untracked()
            .first()
            .map(|s| s.0.to_string())
            .unwrap_or_default(),
    );
    let next = StoredValue::new(1u32);
    let lines = RwSignal::new(vec![LineInput::new(0, first_number)]);
    let ordered = RwSignal::new(uk_date(today()));
    let expected = RwSignal::new(String::new());
    let notes = RwSignal::new(String::new());
    let add_line = move |_| {
        let n = next.get_value();
        next.set_value(n + 1);
        lines.update(|l| l.push(LineInput::new(n, String::new())));
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let navigate = navigate.clone();
        let Some(supplier) = SupplierId::parse(&supplier.get_untracked()) else {
            form.fail("Choose a supplier, or add one first.");
            return;
        };
        let mut ordered_lines = Vec::new();
        for (i, line) in lines.get_untracked().into_iter().enumerate() {
            let number = line.number.get_untracked();
            let found = state.register.with_untracked(|r| {
                r.locker_by_number(site, &number)
                    .map(|l| (l.number.clone(), l.lock))
            });
            let lock = match found {
                None => {
                    form.fail(format!(
                        "Line {}: no locker “{}” in the register. Type its number, for example A-007.",
                        i + 1,
                        number.trim()
                    ));
                    return;
                }
                Some((n, None)) => {
                    form.fail(format!("Line {}: locker {n} has no lock fitted.", i + 1));
                    return;
                }
                Some((_, Some(lock))) => lock,
            };
            let Ok(quantity) = line.quantity.get_untracked().trim().parse::<u32>() else {
                form.fail(format!(
                    "Line {}: enter how many keys, as a number, for example 1.",
                    i + 1
                ));
                return;
            };
            ordered_lines.push((lock, line.kind.get_untracked(), quantity));
        }
        let Some(ordered) = parse_date(&ordered.get_untracked()) else {
            form.fail("Enter the date ordered as day/month/year, for example 26/11/2026.");
            return;
        };
        let expected = match expected.get_untracked().trim() {
            "" => None,
            text => match parse_date(text) {
                Some(d) => Some(d),
                None => {
                    form.fail(
                        "Enter the expected date as day/month/year, for example 03/12/2026, or leave it empty.",
                    );
                    return;
                }
            },
        };
        form.run(
            Command::PlaceOrder {
                supplier,
                lines: ordered_lines,
                ordered,
                expected,
                case,
                notes: notes.get_untracked(),
            },
            move |event| {
                if let Change::OrderPlaced { order, .. } = event.change {
                    state.flash.set(Some(
                        "Order placed. Print its sheet or download the CSV for the supplier."
                            .into(),
                    ));
                    navigate(&format!("/orders/{order}"), Default::default());
                }
            },
        );
    };
    view! {
        <Back href="/orders" label="Replacement orders"/>
        <h1>"New order"</h1>
        {case_words.map(|w| view! { <p class="lead">{w}</p> })}
        <Show when=move || suppliers.with(Vec::is_empty)>
            <p class="warning">"Add a supplier first."</p>
            <AddSupplier site chosen=supplier/>
        </Show>
        <form class="card" on:submit=submit novalidate>
            <label for="order-supplier">"Supplier"</label>
            <select id="order-supplier" on:change=move |ev| supplier.set(event_target_value(&ev))>
                <For each=move || suppliers.get() key=|s| s.clone() let:((id, name))>
                    <option value=id.to_string() selected=move || supplier.get() == id.to_string()>{name}</option>
                </For>
            </select>
            <For each=move || lines.get() key=|l| l.n let:line>
                <fieldset class="order-line">
                    <legend>{move || {
                        let i = lines.with(|l| l.iter().position(|x| x.n == line.n).unwrap_or(0));
                        format!("Line {}", i + 1)
                    }}</legend>
                    <label for=format!("order-locker-{}", line.n)>"Locker"</label>
                    <input id=format!("order-locker-{}", line.n) autocapitalize="characters" placeholder="A-007" bind:value=line.number/>
                    <div class="pair">
                        <div>
                            <label for=format!("order-kind-{}", line.n)>"Kind of key"</label>
                            <select id=format!("order-kind-{}", line.n) on:change=move |ev| {
                                let value = event_target_value(&ev);
                                if let Some(k) = [KeyKind::User, KeyKind::Spare].into_iter().find(|k| k.label() == value) { line.kind.set(k) }
                            }>
                                {[KeyKind::User, KeyKind::Spare].into_iter().map(|k| view! { <option value=k.label() selected=move || line.kind.get() == k>{k.label()}</option> }).collect_view()}
                            </select>
                        </div>
                        <div>
                            <label for=format!("order-quantity-{}", line.n)>"Quantity"</label>
                            <input id=format!("order-quantity-{}", line.n) type="number" inputmode="numeric" min="1" bind:value=line.quantity/>
                        </div>
                    </div>
                    <Show when=move || lines.with(|l| l.len() > 1)>
                        <button type="button" class="button small" on:click=move |_| lines.update(|l| l.retain(|x| x.n != line.n))>"Remove this line"</button>
                    </Show>
                </fieldset>
            </For>
            <p><button type="button" class="button" on:click=add_line>"Add a line"</button></p>
            <div class="pair">
                <div>
                    <label for="order-ordered">"Date ordered"</label>
                    <input id="order-ordered" inputmode="numeric" placeholder="dd/mm/yyyy" bind:value=ordered/>
                </div>
                <div>
                    <label for="order-expected">"Expected (optional)"</label>
                    <input id="order-expected" inputmode="numeric" placeholder="dd/mm/yyyy" bind:value=expected/>
                </div>
            </div>
            <label for="order-notes">"Notes (optional)"</label>
            <textarea maxlength={keyward_core::checks::MAX_NOTES} id="order-notes" rows="2" bind:value=notes></textarea>
            <Count value=notes max={keyward_core::checks::MAX_NOTES}/>
            <FormError form/>
            <Submit form label="Place order" action=Action::OrderKeys/>
        </form>
    }
}

#[derive(Clone, PartialEq)]
struct OrderView {
    id: OrderId,
    site: String,
    supplier: String,
    contact: String,
    ordered: String,
    expected: Option<String>,
    by: String,
    status: &'static str,
    complete: bool,
    case: Option<(CaseId, String)>,
    notes: String,
    /// Locker number, code, kind, quantity, received, outstanding.
    lines: Vec<(String, String, &'static str, u32, u32, u32)>,
    keys: Vec<(KeyId, String, String)>,
}

fn order_view(r: &Register, o: &Order) -> OrderView {
    let supplier = r.supplier(o.supplier);
    OrderView {
        id: o.id,
        site: r.site(o.site).map(|s| s.name.clone()).unwrap_or_default(),
        supplier: supplier.map(|s| s.name.clone()).unwrap_or_default(),
        contact: supplier.map(|s| s.contact.clone()).unwrap_or_default(),
        ordered: uk_date(o.ordered),
        expected: o.expected.map(uk_date),
        by: o.by.clone(),
        status: status_words(o),
        complete: o.is_complete(),
        case: o.case.map(|c| {
            let tag = r
                .case(c)
                .and_then(|c| r.key(c.key))
                .map(|k| k.tag.to_string())
                .unwrap_or_default();
            (c, tag)
        }),
        notes: o.notes.clone(),
        lines: o
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let number = r
                    .lock(l.lock)
                    .and_then(|k| r.locker(k.locker))
                    .map(|k| k.number.clone())
                    .unwrap_or_default();
                (
                    number,
                    l.code.clone(),
                    l.kind.label(),
                    l.quantity,
                    o.received[i],
                    o.outstanding(i),
                )
            })
            .collect(),
        keys: o
            .keys
            .iter()
            .filter_map(|k| r.key(*k))
            .map(|k| {
                let number = r
                    .locker_of_key(k.id)
                    .map(|l| l.number.clone())
                    .unwrap_or_default();
                (k.id, k.tag.to_string(), number)
            })
            .collect(),
    }
}

#[component]
pub fn OrderPage() -> impl IntoView {
    let state = use_app();
    let id = use_params_map().with_untracked(|p| p.get("id").and_then(|id| OrderId::parse(&id)));
    let order = Memo::new(move |_| {
        state
            .register
            .with(|r| id.and_then(|id| r.order(id)).map(|o| order_view(r, o)))
    });
    let exists = Memo::new(move |_| order.with(Option::is_some));
    move || {
        if !exists.get() {
            return view! {
                <Back href="/orders" label="Replacement orders"/>
                <h1>"Order not found"</h1>
                <p>"This order is not in the register on this device."</p>
            }
            .into_any();
        }
        view! { <OrderScreen order/> }.into_any()
    }
}

#[component]
fn OrderScreen(order: Memo<Option<OrderView>>) -> impl IntoView {
    let state = use_app();
    let may_see = move || state.allowed(Action::OrderKeys).is_ok();
    let message = RwSignal::new(None::<String>);
    let download = move |_| {
        let Some(o) = order.get_untracked() else {
            return;
        };
        let csv = state
            .register
            .with_untracked(|r| r.order(o.id).map(|x| r.order_csv(x)));
        let Some(csv) = csv else { return };
        let name = format!(
            "keyward-order-{}-{}.csv",
            o.supplier
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                })
                .collect::<String>(),
            o.ordered.replace('/', "-")
        );
        match save_csv(&csv, &name) {
            Ok(()) => message.set(Some(format!("Saved {name}."))),
            Err(e) => message.set(Some(e)),
        }
    };
    let print = move |_| {
        let _ = window().print();
    };
    let get = move || order.get().expect("shown only when the order exists");
    view! {
        <div class="no-print">
            <Back href="/orders" label="Replacement orders"/>
            <header class="page-head">
                <h1>{move || format!("Order from {}", get().supplier)}</h1>
                <span class={move || if get().complete { "badge free" } else { "badge signed-out" }}>{move || get().status}</span>
            </header>
            <RoleNote action=Action::OrderKeys/>
            <Show when=may_see>
                <p class="actions">
                    <button type="button" class="button" on:click=print>"Print the order sheet"</button>
                    <button type="button" class="button" on:click=download>"Download CSV for the supplier"</button>
                </p>
                <p role="status" class="hint">{move || message.get()}</p>
            </Show>
        </div>
        <section class="card order-sheet" aria-label="Order sheet">
            <h2>"Replacement key order"</h2>
            <dl class="facts">
                <dt>"Site"</dt><dd>{move || get().site}</dd>
                <dt>"Supplier"</dt><dd>{move || get().supplier}{move || { let c = get().contact; (!c.is_empty()).then(|| format!(" · {c}")) }}</dd>
                <dt>"Ordered"</dt><dd>{move || get().ordered}</dd>
                <dt>"Expected"</dt><dd>{move || get().expected.unwrap_or_else(|| "Not given".into())}</dd>
                <dt>"Ordered by"</dt><dd>{move || get().by}</dd>
                {move || get().case.map(|(c, tag)| view! {
                    <dt>"For"</dt><dd><A href=format!("/cases/{c}")>{format!("Lost key {tag}")}</A></dd>
                })}
            </dl>
            <table class="order-lines">
                <thead><tr><th scope="col">"Locker"</th><th scope="col">"Key code"</th><th scope="col">"Kind"</th><th scope="col">"Quantity"</th><th scope="col">"Received"</th></tr></thead>
                <tbody>
                    {move || get().lines.into_iter().map(|(number, code, kind, quantity, received, _)| view! {
                        <tr>
                            <td>{number}</td>
                            <td class="tag">{if may_see() { code } else { "Hidden".into() }}</td>
                            <td>{kind}</td>
                            <td>{quantity}</td>
                            <td>{received}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            {move || { let n = get().notes; (!n.is_empty()).then(|| view! { <p>"Notes: "{n}</p> }) }}
            <Show when=move || !may_see()>
                <p class="not-allowed">"Only a key custodian or admin can see the key code."</p>
            </Show>
        </section>
        {move || (!get().complete).then(|| view! { <Receive order/> })}
        <Show when=move || !get().keys.is_empty()>
            <section class="card no-print">
                <h2>"Keys received"</h2>
                <ul class="plain">
                    {move || get().keys.into_iter().map(|(id, tag, number)| view! {
                        <li><A href=format!("/keys/{id}")><span class="tag">{tag}</span></A>{format!(" · locker {number}")}</li>
                    }).collect_view()}
                </ul>
                <p><A href=move || {
                    let ids: Vec<String> = get().keys.iter().map(|k| k.0.to_string()).collect();
                    format!("/labels?keys=1&only={}", ids.join(","))
                } attr:class="button primary">"Print the new key tags"</A></p>
            </section>
        </Show>
    }
}

#[component]
fn Receive(order: Memo<Option<OrderView>>) -> impl IntoView {
    let state = use_app();
    let form = FormState::new();
    let lines = order.get_untracked().map(|o| o.lines).unwrap_or_default();
    let quantities: Vec<RwSignal<String>> = lines
        .iter()
        .map(|l| RwSignal::new(l.5.to_string()))
        .collect();
    let inputs = quantities.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(o) = order.get_untracked() else {
            return;
        };
        let mut numbers = Vec::new();
        for (i, q) in quantities.iter().enumerate() {
            match q.get_untracked().trim() {
                "" => numbers.push(0),
                text => match text.parse::<u32>() {
                    Ok(n) => numbers.push(n),
                    Err(_) => {
                        form.fail(format!(
                            "Line {}: enter how many arrived, as a number, for example 1.",
                            i + 1
                        ));
                        return;
                    }
                },
            }
        }
        form.run(
            Command::ReceiveOrder {
                order: o.id,
                quantities: numbers,
            },
            move |event| {
                if let Change::OrderReceived { lines, .. } = event.change {
                    let n: usize = lines.iter().map(|l| l.keys.len()).sum();
                    state.flash.set(Some(format!(
                        "{n} new key{} received, each with a new tag. Print the new key tags.",
                        if n == 1 { "" } else { "s" }
                    )));
                }
            },
        );
    };
    view! {
        <form class="card no-print" on:submit=submit novalidate>
            <h2>"Receive"</h2>
            <p class="hint">"In full or in part: how many keys of each line arrived now. Each gets a new tag."</p>
            {lines.into_iter().zip(inputs).enumerate().map(|(i, ((number, _, kind, _, _, outstanding), q))| view! {
                <label for=format!("receive-{i}")>{format!("Line {}: locker {number}, {} ({outstanding} to come)", i + 1, kind.to_lowercase())}</label>
                <input id=format!("receive-{i}") type="number" inputmode="numeric" min="0" bind:value=q/>
            }).collect_view()}
            <FormError form/>
            <Submit form label="Record as received" action=Action::OrderKeys/>
        </form>
    }
}

/// Offers `csv` as a file download.
fn save_csv(csv: &str, name: &str) -> Result<(), String> {
    crate::download::save(csv, name, "text/csv")
        .map_err(|()| "The CSV file could not be saved. Try again.".to_string())
}
