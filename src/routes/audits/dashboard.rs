//! The manager's view (`/dashboard`): where keys go missing and which audits are late, as
//! charts: lost keys per month, faults per area (the last 12 months), overdue loans week by
//! week, and each area's audit completion. Every chart has a title, and a table with the same
//! numbers for screen readers and for anyone who prefers one ("Show as a table").
//!
//! The bars are SVG drawn here (a bar chart is a few rectangles and labels): a charting crate
//! would add far more to the app's download than these few lines.

use crate::components::{today, Back};
use crate::state::use_app;
use keyward_core::format::uk_date;
use leptos::prelude::*;

/// One bar: its label under or beside it, and its value.
type Bar = (String, usize);

#[component]
pub fn DashboardPage() -> impl IntoView {
    let state = use_app();
    let data = Memo::new(move |_| {
        let site = state.site()?;
        let today = today();
        let since = (today - chrono::Days::new(365))
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc();
        Some(state.register.with(|r| {
            let lost: Vec<Bar> = r
                .lost_keys_per_month(site, today)
                .into_iter()
                .map(|m| (m.label, m.count))
                .collect();
            let faults: Vec<Bar> = r
                .faults_per_area(site, since)
                .into_iter()
                .map(|a| (a.name, a.count))
                .collect();
            let overdue: Vec<Bar> = r
                .overdue_over_time(site, today, 12)
                .into_iter()
                .map(|w| (w.label, w.count))
                .collect();
            let audits = r
                .audit_completion(site, today)
                .into_iter()
                .map(|a| {
                    (
                        a.name,
                        a.last
                            .map(|l| uk_date(l.date_naive()))
                            .unwrap_or_else(|| "Never".into()),
                        a.on_time,
                        a.state.words(),
                    )
                })
                .collect::<Vec<_>>();
            (lost, faults, overdue, audits)
        }))
    });
    view! {
        <Back href="/audits" label="Audits"/>
        <h1>"Manager's view"</h1>
        {move || match data.get() {
            None => view! { <p class="empty">"Set up a site first."</p> }.into_any(),
            Some((lost, faults, overdue, audits)) => {
                let on_time = audits.iter().filter(|a| a.2).count();
                let total = audits.len();
                view! {
                    <div class="charts">
                        <Chart id="lost" title="Lost or stolen keys per month" unit="keys" bars=lost vertical=true/>
                        <Chart id="faults" title="Lock faults per area, last 12 months" unit="faults" bars=faults vertical=false/>
                        <Chart id="overdue" title="Loans overdue at the end of each week" unit="loans" bars=overdue vertical=true/>
                        <figure class="card chart" aria-labelledby="chart-audits-title">
                            <figcaption id="chart-audits-title"><h2>"Audit completion"</h2></figcaption>
                            <p class="chart-total">{format!("{on_time} of {total} areas audited on time")}</p>
                            // An SVG bar, not a styled div: the page's CSP allows no inline styles.
                            <svg viewBox="0 0 100 6" preserveAspectRatio="none" class="meter" aria-hidden="true" focusable="false">
                                <rect width="100" height="6" rx="3" class="meter-track"></rect>
                                <rect width=(on_time * 100).checked_div(total).unwrap_or(0) height="6" rx="3" class="meter-fill"></rect>
                            </svg>
                            <table class="report-table">
                                <thead><tr><th scope="col">"Area"</th><th scope="col">"Last audit"</th><th scope="col">"State"</th></tr></thead>
                                <tbody>
                                    {audits.into_iter().map(|(name, last, ok, words)| view! {
                                        <tr class:late=!ok><td>{name}</td><td>{last}</td><td>{words}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </figure>
                    </div>
                }
                .into_any()
            }
        }}
    }
}

/// A bar chart in SVG with its title, and the same numbers as a table.
#[component]
fn Chart(
    id: &'static str,
    title: &'static str,
    unit: &'static str,
    bars: Vec<Bar>,
    vertical: bool,
) -> impl IntoView {
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let total: usize = bars.iter().map(|b| b.1).sum();
    let n = bars.len().max(1);
    let svg = if vertical {
        // Columns left to right, a label under every other one, the value above each.
        let (w, h, base) = (360.0, 180.0, 150.0);
        let step = w / n as f64;
        bars.iter()
            .enumerate()
            .map(|(i, (label, v))| {
                let height = (base - 20.0) * *v as f64 / max as f64;
                let x = i as f64 * step;
                view! {
                    <g>
                        <rect x=x + step * 0.15 y=base - height width=step * 0.7 height=height class="bar"></rect>
                        {(*v > 0).then(|| view! { <text x=x + step / 2.0 y=base - height - 4.0 text-anchor="middle" class="value">{v.to_string()}</text> })}
                        {(i % 2 == 0 || n <= 6).then(|| view! {
                            <text x=x + step / 2.0 y=h - 14.0 text-anchor="middle" class="axis">{short(label)}</text>
                        })}
                    </g>
                }
            })
            .collect_view()
            .into_any()
    } else {
        // Rows top to bottom: the label on the left, the bar and its value after it.
        let row = 28.0;
        bars.iter()
            .enumerate()
            .map(|(i, (label, v))| {
                let y = i as f64 * row;
                let width = 190.0 * *v as f64 / max as f64;
                view! {
                    <g>
                        <text x=0 y=y + 18.0 class="axis">{label.chars().take(18).collect::<String>()}</text>
                        <rect x=130 y=y + 6.0 width=width height=16 class="bar"></rect>
                        <text x=136.0 + width y=y + 19.0 class="value">{v.to_string()}</text>
                    </g>
                }
            })
            .collect_view()
            .into_any()
    };
    let view_box = if vertical {
        "0 0 360 180".to_string()
    } else {
        format!("0 0 360 {}", (bars.len().max(1) as f64 * 28.0).max(28.0))
    };
    let title_id = format!("chart-{id}-title");
    let caption_id = title_id.clone();
    view! {
        <figure class="card chart" aria-labelledby=title_id>
            <figcaption id=caption_id><h2>{title}</h2></figcaption>
            <p class="chart-total">{format!("{total} {unit} in all")}</p>
            {if bars.is_empty() || total == 0 {
                view! { <p class="empty">{format!("No {unit} in this time.")}</p> }.into_any()
            } else {
                view! {
                    <svg viewBox=view_box class="bars" aria-hidden="true" focusable="false">{svg}</svg>
                    <details>
                        <summary>"Show as a table"</summary>
                        <table class="report-table">
                            <thead><tr><th scope="col">"When or where"</th><th scope="col">{unit}</th></tr></thead>
                            <tbody>
                                {bars.into_iter().map(|(l, v)| view! { <tr><td>{l}</td><td>{v}</td></tr> }).collect_view()}
                            </tbody>
                        </table>
                    </details>
                }
                .into_any()
            }}
        </figure>
    }
}

/// A month or week label short enough to sit under a column: "Nov 2026" → "Nov",
/// "w/e 29/11/2026" → "29/11".
fn short(label: &str) -> String {
    if let Some(date) = label.strip_prefix("w/e ") {
        return date.chars().take(5).collect();
    }
    label.split_whitespace().next().unwrap_or(label).to_string()
}
