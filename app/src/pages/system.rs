//! Flightdeck's own health over time: the charts of one replica (request rate and 5xx, p99
//! latency, memory and database size, websocket clients and event lag) and every replica's
//! latest sample. Refreshed each minute, as samples are taken.

use crate::api::codec::resource;
use crate::api::load_system_health;
use crate::components::chart_key::{ChartKey, Mark};
use crate::components::common::*;
use crate::href::QueryHref;
use crate::system::{
    chart, line_colour, short, HealthHistory, HealthSample, Line, SILENT_AFTER_MS,
};
use leptos::prelude::*;
use leptos_meta::Title;

/// The replica table's columns after its name; each cell also carries its label, shown where
/// the row is a card.
const METRICS: [&str; 9] = [
    "Sampled",
    "Requests/s",
    "5xx",
    "p99",
    "Pool in use",
    "Clients",
    "Event lag",
    "RSS",
    "Database",
];

const RANGES: [(u32, &str); 4] = [
    (1, "1 hour"),
    (24, "24 hours"),
    (168, "7 days"),
    (720, "30 days"),
];

#[component]
pub fn SystemPage() -> impl IntoView {
    let hours = range_from_query("hours", &RANGES, 24);
    let query = crate::href::use_query();
    let replica = move || crate::text::non_blank(query.read().get("replica"));
    view! {
        <Title text="System"/>
        <div class="page-head">
            <h1>"System"</h1>
            <p class="muted">"Flightdeck's own health: a sample a minute from each replica, kept 30 days (GET /api/v1/system/health?since=)."</p>
        </div>
        {move || {
            let current = hours();
            let replica = replica();
            view! {
                {tabs("Time range", RANGES.iter().map(|(h, label)| (href(*h, replica.as_deref()), *label, *h == current)).collect())}
                <SystemLive hours=current replica/>
            }
        }}
    }
}

/// The page for `hours`, charting `replica` (the newest sample's when `None`).
fn href(hours: u32, replica: Option<&str>) -> String {
    QueryHref::new()
        .param("hours", Some(hours))
        .param("replica", replica)
        .build("/system", "")
}

#[island]
fn SystemLive(hours: u32, replica: Option<String>) -> impl IntoView {
    let tick = RwSignal::new(0u32);
    Effect::new(move |_| {
        let _ = set_interval_with_handle(
            move || tick.update(|n| *n += 1),
            std::time::Duration::from_secs(60),
        );
    });
    let history = resource(move || tick.get(), move |_| load_system_health(hours));
    view! {
        <Transition fallback=|| view! { <LoadingRows/> }>
            {move || history.get().map(|r| match r {
                Err(error) => view! { <ErrorNote error/> }.into_any(),
                Ok(h) if h.samples.is_empty() => view! {
                    <EmptyState title="No samples yet">
                        <p>"The first is taken at start-up, then one every minute."</p>
                    </EmptyState>
                }.into_any(),
                Ok(h) => view! { <Charts history=h hours replica=replica.clone()/> }.into_any(),
            })}
        </Transition>
    }
}

fn mb(bytes: i64) -> f64 {
    bytes as f64 / 1_048_576.0
}

#[component]
fn Charts(history: HealthHistory, hours: u32, replica: Option<String>) -> impl IntoView {
    let now = now_ms();
    // The chosen replica if it sampled in the period, else the newest sample's.
    let charted = replica
        .filter(|r| history.samples.iter().any(|s| &s.replica == r))
        .or_else(|| history.samples.last().map(|s| s.replica.clone()))
        .unwrap_or_default();
    let mine: Vec<HealthSample> = history
        .samples
        .iter()
        .filter(|s| s.replica == charted)
        .cloned()
        .collect();
    let mut latest: Vec<HealthSample> = Vec::new();
    for s in history.samples.iter().rev() {
        if !latest.iter().any(|l| l.replica == s.replica) {
            latest.push(s.clone());
        }
    }
    let several_replicas = latest.len() > 1;
    let span = f64::from(hours);
    let charts: [(&str, &[Line<'static>], &str); 4] = [
        (
            "Requests per second and 5xx per minute",
            &[
                ("requests/s", |s| s.requests_per_s),
                ("5xx", |s| s.errors_5xx as f64),
            ],
            "",
        ),
        ("p99 request latency (ms)", &[("p99", |s| s.p99_ms)], "ms"),
        (
            "Memory (RSS) and database size (MB)",
            &[
                ("RSS", |s| mb(s.rss_bytes)),
                ("database", |s| mb(s.db_bytes)),
            ],
            "MB",
        ),
        (
            "Websocket clients and event lag (ms)",
            &[
                ("clients", |s| s.ws_clients as f64),
                ("event lag ms", |s| s.event_lag_ms as f64),
            ],
            "",
        ),
    ];
    view! {
        <section class="card">
            <h2>"Replicas"</h2>
            <div class="table-wrap">
                <table class="table replica-table">
                    <thead><tr>
                        <th scope="col">"Replica"</th>
                        {METRICS.iter().map(|label| view! { <th scope="col">{*label}</th> }).collect_view()}
                    </tr></thead>
                    <tbody>
                        {latest.into_iter().map(|s| {
                            let values = [
                                view! { <TimeAgo ms=s.at/> }.into_any(),
                                format!("{:.1}", s.requests_per_s).into_any(),
                                s.errors_5xx.to_string().into_any(),
                                format!("{} ms", short(s.p99_ms)).into_any(),
                                format!("{} of {}", s.pool_in_use, s.pool_size).into_any(),
                                s.ws_clients.to_string().into_any(),
                                format!("{} ms", s.event_lag_ms).into_any(),
                                format!("{:.1} MB", mb(s.rss_bytes)).into_any(),
                                format!("{:.1} MB", mb(s.db_bytes)).into_any(),
                            ];
                            let silent = now - s.at > SILENT_AFTER_MS;
                            view! {
                                <tr class:muted=silent>
                                    <th scope="row">
                                        <a href=href(hours, Some(&s.replica))
                                            aria-current=(s.replica == charted).then_some("true")
                                            title="Chart this replica">{s.replica.clone()}</a>
                                        {silent.then(|| view! {
                                            <span class="badge" title="No sample for over 3 minutes: stopped (a restart samples as a new replica) or unable to write to the database.">"no longer sampling"</span>
                                        })}
                                    </th>
                                    {METRICS.iter().zip(values).map(|(label, value)| view! {
                                        <td><span class="phone-label">{*label}</span>{value}</td>
                                    }).collect_view()}
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            {several_replicas.then(|| view! {
                <p class="muted">"The charts below are for " <strong>{charted.clone()}</strong> "; choose a replica's name to chart it."</p>
            })}
        </section>
        <div class="grid-2">
            {charts.into_iter().map(|(title, lines, unit)| {
                let svg = chart(&mine, lines, unit, span, now);
                let key: Vec<(Mark, &'static str)> = lines
                    .iter()
                    .enumerate()
                    .map(|(i, (name, _))| (Mark::Line(line_colour(i)), *name))
                    .collect();
                view! {
                    <section class="card">
                        <h2>{title}</h2>
                        {(key.len() > 1).then(|| view! { <ChartKey entries=key/> })}
                        <div class="chart" role="img" aria-label=format!("{title} over the last {hours} hours, replica {charted}") inner_html=svg></div>
                    </section>
                }
            }).collect_view()}
        </div>
    }
}
