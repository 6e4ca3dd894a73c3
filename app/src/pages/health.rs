//! The health grid: every component as a tile with its status in words and color, worst first,
//! with counts per status; live over the websocket. And a component's page: its probe, why it has
//! its status, the latency chart and the recent checks.

use crate::api::codec::resource;
use crate::api::*;
use crate::components::common::*;
use crate::components::health::HealthStatusBadge;
use crate::health::charts::latency_chart;
use crate::health::component::{Component, ComponentDetail, ProbeResult};
use crate::health::grid::GridFilter;
use crate::health::{topics, HealthStatus};
use crate::href::use_query;
use crate::live::changes_on;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn HealthPage() -> impl IntoView {
    let params = use_query();
    let filter = move || {
        let p = params.read();
        GridFilter {
            status: p.get("status").and_then(|s| HealthStatus::parse(&s)),
            text: p.get("q").unwrap_or_default(),
            all: p.get("all").is_some_and(|v| v == "1"),
        }
    };
    view! {
        <Title text="Health"/>
        <div class="page-head">
            <h1>"Health"</h1>
            <p class="muted">"Every component from its probes, worst first. Select one for its checks and latency."</p>
        </div>
        {move || view! { <HealthGrid filter=filter()/> }}
    }
}

/// The live grid, filtered as the address asks.
#[island]
fn HealthGrid(filter: GridFilter) -> impl IntoView {
    let changes = changes_on(topics::COMPONENTS);
    let grid = resource(move || changes.get(), |_| list_components());
    view! {
        <Transition fallback=|| view! { <LoadingRows rows=3/> }>
            {move || grid.get().map(|r| match r {
                Err(error) => view! { <ErrorNote error/> }.into_any(),
                Ok(list) if list.is_empty() => view! {
                    <section class="card">
                        <EmptyState title="No components yet">
                            <p>"Add one with POST /api/v1/components, for example an HTTP probe of your service's health endpoint: {\"name\": \"checkout-api\", \"probe\": {\"type\": \"http\", \"url\": \"https://checkout/healthz\"}}."</p>
                        </EmptyState>
                    </section>
                }.into_any(),
                Ok(list) => view! { <Grid list filter=filter.clone()/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Grid(list: Vec<Component>, filter: GridFilter) -> impl IntoView {
    let count = |s: HealthStatus| list.iter().filter(|c| c.status == s).count();
    // Each count is a link that shows only that status (again to show every status).
    let summary = [HealthStatus::Down, HealthStatus::Degraded, HealthStatus::Unknown, HealthStatus::Healthy]
        .into_iter()
        .map(|s| (s, count(s)))
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| {
            let selected = filter.status == Some(s);
            let href = GridFilter { status: (!selected).then_some(s), ..filter.clone() }.href();
            view! {
                <li class=format!("health-count health-{}", s.as_str())>
                    <a href=href aria-current=selected.then_some("true")><strong>{n}</strong>" "{s.label().to_lowercase()}</a>
                </li>
            }
        })
        .collect_view();
    let (shown, matching) = filter.apply(list);
    let hidden = matching - shown.len();
    let show_all = GridFilter {
        all: true,
        ..filter.clone()
    }
    .href();
    view! {
        <ul class="health-summary" aria-label="Components by status; select one to show only it">{summary}</ul>
        <form class="filters" method="get" action="/health" role="search">
            <label>"Find"
                <input type="search" name="q" value=filter.text.clone() placeholder="name, service, environment"/>
            </label>
            <label>"Status"
                <select name="status" prop:value=filter.status.map(|s| s.as_str()).unwrap_or_default()>
                    <option value="">"any"</option>
                    {HealthStatus::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                </select>
            </label>
            <button class="btn" type="submit">"Filter"</button>
            <a class="btn btn-ghost" href="/health">"Clear"</a>
        </form>
        {(matching == 0).then(|| view! { <p class="muted" role="status">"No component matches this filter."</p> })}
        <ul class="health-grid" aria-label="Components, worst first">
            {shown.into_iter().map(|c| view! {
                <li class=format!("tile health-edge-{}", c.status.as_str())>
                    <a href=format!("/health/{}", c.id) class="tile-link">
                        <span class="tile-name">{c.name}</span>
                        <HealthStatusBadge status=c.status/>
                    </a>
                    <div class="tile-meta">
                        {[c.service, c.environment].into_iter().flatten().collect::<Vec<_>>().join(" · ")}
                        {c.last_latency_ms.map(|l| format!(" · {l} ms"))}
                    </div>
                    <div class="tile-reason muted">{c.status_reason}</div>
                </li>
            }).collect_view()}
        </ul>
        {(hidden > 0).then(|| view! {
            <nav class="pager" aria-label="More components">
                <span class="muted">{format!("{hidden} more not shown, none in worse shape than these. ")}</span>
                <a class="btn" href=show_all>{format!("Show all {matching}")}</a>
            </nav>
        })}
    }
}

#[component]
pub fn ComponentPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|v| v.parse::<i64>().ok());
    view! {
        <Title text="Component"/>
        <p><a href="/health">"← Health"</a></p>
        {move || view! { <ComponentLive id=id()/> }}
    }
}

/// One component, refreshed as its probes report.
#[island]
fn ComponentLive(id: Option<i64>) -> impl IntoView {
    let id = Signal::stored(id);
    let changes = changes_on(topics::COMPONENTS);
    let detail = resource(
        move || (id.get(), changes.get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_component(id).await,
                None => Err(crate::error::AppError::not_found("that component")),
            }
        },
    );
    view! {
        <Transition fallback=|| view! { <LoadingRows rows=6/> }>
            {move || detail.get().map(|r| match r {
                Err(error) => view! { <ErrorNote error/> }.into_any(),
                Ok(d) => view! { <ComponentDetailView detail=d/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn ComponentDetailView(detail: ComponentDetail) -> impl IntoView {
    let ComponentDetail {
        component: c,
        results,
        availability,
        deploys,
    } = detail;
    let chart = latency_chart(&results, c.probe.latency_threshold_ms, now_ms(), &deploys);
    let failed = results.iter().filter(|r| !r.ok).count();
    let chart_label = format!(
        "Latency of the last {}; {failed} failed.{}",
        crate::text::count(results.len(), "check", "checks"),
        c.probe
            .latency_threshold_ms
            .map(|t| format!(" Threshold {t} ms."))
            .unwrap_or_default()
    );
    view! {
        <div class="page-head">
            <h1>{c.name.clone()}" "<HealthStatusBadge status=c.status/></h1>
            <p class="muted">{c.status_reason.clone()}" Since "<TimeAgo ms=c.status_since/>"."</p>
        </div>
        <div class="grid-2">
            <section class="card" aria-labelledby="probe-title">
                <h2 id="probe-title">"Probe"</h2>
                <dl class="facts">
                    <dt>"Checks"</dt><dd><code>{c.probe.describe()}</code></dd>
                    <dt>"Every"</dt><dd>{format!("{} s, timeout {} ms", c.probe.interval_s, c.probe.timeout_ms)}</dd>
                    <dt>"Kind"</dt><dd>{c.kind.clone()}</dd>
                    {c.service.clone().map(|s| view! { <dt>"Service"</dt><dd>{s}</dd> })}
                    {c.environment.clone().map(|e| view! { <dt>"Environment"</dt><dd>{e}</dd> })}
                    <dt>"Availability"</dt><dd>{availability.map(|a| crate::health::slo::percent(a, 2)).unwrap_or_else(|| "no checks yet".into())}{format!(" of the last {}", crate::text::count(results.len(), "check", "checks"))}</dd>
                </dl>
            </section>
            <section class="card" aria-labelledby="latency-title">
                <h2 id="latency-title">"Latency"</h2>
                <div class="chart" role="img" aria-label=chart_label inner_html=chart></div>
                <crate::components::deploy::DeployMarkersNote deploys/>
            </section>
        </div>
        <CheckList results/>
    }
}

/// Checks on one page of the component's recent checks.
const CHECKS_PER_PAGE: usize = 25;

/// The recent checks, newest first, a page at a time, optionally only the failed ones.
#[component]
fn CheckList(results: Vec<ProbeResult>) -> impl IntoView {
    let results = StoredValue::new(results);
    let page = RwSignal::new(0usize);
    let failed_only = RwSignal::new(false);
    let shown = move || {
        results.with_value(|all| {
            all.iter()
                .filter(|r| !failed_only.get() || !r.ok)
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let pages = move || shown().len().div_ceil(CHECKS_PER_PAGE).max(1);
    let rows = move || {
        let list = shown();
        let first = page.get().min(pages() - 1) * CHECKS_PER_PAGE;
        let total = list.len();
        let rows = list
            .into_iter()
            .skip(first)
            .take(CHECKS_PER_PAGE)
            .map(|r| view! {
                <tr>
                    <td><TimeAgo ms=r.at/></td>
                    <td>{if r.ok { view! { <span class="badge health health-healthy">"Passed"</span> }.into_any() } else { view! { <span class="badge health health-down">"Failed"</span> }.into_any() }}</td>
                    <td>{r.latency_ms.map(|l| format!("{l} ms")).unwrap_or_else(|| "—".into())}</td>
                    <td class="muted">{r.detail}</td>
                </tr>
            })
            .collect_view();
        let range = if total == 0 {
            "No checks to show.".to_string()
        } else {
            format!(
                "{}–{} of {total}",
                first + 1,
                (first + CHECKS_PER_PAGE).min(total)
            )
        };
        (rows, range)
    };
    view! {
        <section class="card" aria-labelledby="checks-title">
            <div class="card-head">
                <h2 id="checks-title">"Recent checks"</h2>
                <label class="check">
                    <input type="checkbox" prop:checked=move || failed_only.get()
                        on:change=move |ev| { failed_only.set(event_target_checked(&ev)); page.set(0); }/>
                    "Failed only"
                </label>
            </div>
            {move || {
                let (rows, range) = rows();
                view! {
                    <div class="table-wrap">
                        <table class="table">
                            <thead><tr><th scope="col">"When"</th><th scope="col">"Result"</th><th scope="col">"Latency"</th><th scope="col">"Seen"</th></tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                    <nav class="pager" aria-label="Check pages">
                        <span class="muted" data-testid="checks-range">{range}</span>
                        <button class="btn btn-ghost" type="button" disabled=move || page.get() == 0
                            on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>"← Newer"</button>
                        <button class="btn" type="button" disabled=move || { page.get() + 1 >= pages() }
                            on:click=move |_| page.update(|p| *p += 1)>"Older →"</button>
                    </nav>
                }
            }}
        </section>
    }
}
