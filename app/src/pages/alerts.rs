//! The alert feed: newest first, filtered by status and severity, paged by cursor, with
//! acknowledge (with an optional note) / escalate / resolve / silence for operators, one alert or
//! several selected at once. It refetches whenever an alert changes, so the feed is live without
//! a reload.

use crate::api::codec::resource;
use crate::api::*;
use crate::components::alerts::*;
use crate::components::common::*;
use crate::components::layout::{provide_role, use_role_at_least, viewer_role};
use crate::health::alert::*;
use crate::href::QueryHref;
use crate::live::changes_on;
use crate::model::Role;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use std::collections::{BTreeMap, BTreeSet};

fn feed_href(query: &AlertQuery, cursor: Option<&str>) -> String {
    QueryHref::new()
        .param("status", query.status)
        .param("severity", query.severity)
        .param("cursor", cursor)
        .build("/alerts", "")
}

#[component]
pub fn AlertsPage() -> impl IntoView {
    let params = use_query_map();
    let query = move || {
        let p = params.read();
        AlertQuery {
            status: p.get("status").and_then(|s| AlertStatus::parse(&s)),
            severity: p.get("severity").and_then(|s| Severity::parse(&s)),
            cursor: p.get("cursor").filter(|c| decode_cursor(c).is_ok()),
            limit: Some(25),
        }
    };
    view! {
        <Title text="Alerts"/>
        {move || view! { <AlertFeed query=query() role=viewer_role()/> }}
    }
}

/// The page's interactive part: filters, the feed and its actions.
#[island]
fn AlertFeed(query: AlertQuery, role: Option<Role>) -> impl IntoView {
    provide_role(role);
    let query = Signal::stored(query);
    let changes = changes_on(topics::ALERTS);
    let act = ServerAction::<ActOnAlert>::new();
    // Bumped when a bulk action ends: the feed and the silences are read again.
    let bulk_done = RwSignal::new(0u32);
    let page = resource(
        move || {
            (
                query.get(),
                changes.get(),
                act.version().get(),
                bulk_done.get(),
            )
        },
        |(q, _, _, _)| list_alerts(q),
    );
    let silences = resource(
        move || (changes.get(), bulk_done.get()),
        |_| list_silences(),
    );
    // When each silence ends, to say so on the alerts it silences.
    let silence_ends = Signal::derive(move || {
        silences
            .get()
            .and_then(|r| r.ok())
            .map(|list| {
                list.into_iter()
                    .map(|s| (s.id, s.ends_at))
                    .collect::<BTreeMap<_, _>>()
            })
            .unwrap_or_default()
    });
    let selected = RwSignal::new(BTreeSet::<i64>::new());
    let loaded = page;
    let can_operate = use_role_at_least(Role::Operator);
    // On a phone the filters fold away unless in use, so the first screen shows alerts.
    let filters_panel = NodeRef::<leptos::html::Details>::new();
    Effect::new(move |_| {
        let narrow = web_sys::window()
            .and_then(|w| w.inner_width().ok())
            .and_then(|w| w.as_f64())
            .is_some_and(|w| w < 768.0);
        let in_use = query.with_untracked(|q| q.status.is_some() || q.severity.is_some());
        if let Some(panel) = filters_panel.get() {
            if narrow && !in_use {
                panel.set_open(false);
            }
        }
    });
    view! {
        <div class="page-head">
            <h1>"Alerts"</h1>
            <p class="muted">"From Alertmanager, Prometheus, SLO burn and probes; newest first. Acknowledge to stop escalation."</p>
        </div>
        <section class="card" aria-labelledby="feed-title">
            <h2 id="feed-title" class="sr-only">"Alert feed"</h2>
            <details class="filters-panel" open=true node_ref=filters_panel>
            <summary>{move || match (query.get().status, query.get().severity) {
                (None, None) => "Filters".to_string(),
                _ => "Filters (in use)".to_string(),
            }}</summary>
            <form class="filters" method="get" action="/alerts" role="search">
                <label>"Status"
                    <select name="status" prop:value=move || query.get().status.map(|s| s.as_str()).unwrap_or_default()>
                        <option value="">"any"</option>
                        {AlertStatus::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Severity"
                    <select name="severity" prop:value=move || query.get().severity.map(|s| s.as_str()).unwrap_or_default()>
                        <option value="">"any"</option>
                        {Severity::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                    </select>
                </label>
                <button class="btn" type="submit">"Filter"</button>
                <a class="btn btn-ghost" href="/alerts">"Clear"</a>
            </form>
            </details>
            {move || act.value().get().and_then(|r| r.err()).map(|e| view! { <p class="note note-error" role="alert">{e.message}</p> })}
            // Outside the feed's render, so a live update does not reset what is being typed.
            <BulkBar selected page=loaded bulk_done/>
            <Transition fallback=|| view! { <LoadingRows/> }>
                {move || page.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(page) if page.alerts.is_empty() => view! {
                        <EmptyState title="No alerts match">
                            <p>"Point Alertmanager's webhook receiver at /api/v1/webhooks/alertmanager, or Prometheus at this server as its Alertmanager (/api/v2/alerts), with an operator token."</p>
                        </EmptyState>
                    }.into_any(),
                    Ok(page) => {
                        let q = query.get_untracked();
                        let older = page.next_cursor.as_deref().map(|c| feed_href(&q, Some(c)));
                        let newest = q.cursor.as_ref().map(|_| feed_href(&q, None));
                        view! {
                            <ol class="feed" aria-label="Alerts, newest first">
                                {page.alerts.into_iter().map(|alert| {
                                    let silence_end = alert.silenced_by.and_then(|id| silence_ends.get().get(&id).copied());
                                    view! { <FeedItem alert act can_operate selected silence_end/> }
                                }).collect_view()}
                            </ol>
                            <nav class="pager" aria-label="Alert pages">
                                {newest.map(|href| view! { <a class="btn btn-ghost" href=href>"← Newest"</a> })}
                                {older.map(|href| view! { <a class="btn" href=href>"Older →"</a> })}
                            </nav>
                        }.into_any()
                    }
                })}
            </Transition>
        </section>
        <Silences changes/>
    }
}

/// The silences in force, with what they match and until when; operators can end one early
/// (after confirming: its alerts notify again).
#[component]
fn Silences(changes: Signal<u32>) -> impl IntoView {
    let expire = ServerAction::<ExpireSilence>::new();
    let silences = resource(
        move || (changes.get(), expire.version().get()),
        |_| list_silences(),
    );
    let confirming = RwSignal::new(None::<i64>);
    let can_operate = use_role_at_least(Role::Operator);
    view! {
        <Transition fallback=|| ()>
            {move || silences.get().and_then(|r| r.ok()).map(|list| {
                let now = now_ms();
                let active: Vec<Silence> = list.into_iter().filter(|s| s.is_active(now)).collect();
                (!active.is_empty()).then(|| view! {
                    <section class="card" aria-labelledby="silences-title">
                        <h2 id="silences-title">"Silences in force"</h2>
                        {move || expire.value().get().and_then(|r| r.err()).map(|e| view! { <p class="note note-error" role="alert">{e.message}</p> })}
                        <ul class="timeline">
                            {active.into_iter().map(|silence| view! {
                                <SilenceItem silence now expire confirming can_operate/>
                            }).collect_view()}
                        </ul>
                    </section>
                })
            })}
        </Transition>
    }
}

#[component]
fn SilenceItem(
    silence: Silence,
    now: i64,
    expire: ServerAction<ExpireSilence>,
    confirming: RwSignal<Option<i64>>,
    can_operate: Signal<bool>,
) -> impl IntoView {
    let id = silence.id;
    let matchers: Vec<String> = silence.matchers.iter().map(Matcher::describe).collect();
    let end_now = move || {
        can_operate.get().then(|| view! {
            <Show when=move || confirming.get() == Some(id) fallback=move || view! {
                <button class="btn btn-ghost" type="button" on:click=move |_| confirming.set(Some(id))>"End now"</button>
            }>
                <ActionForm action=expire attr:class="confirm">
                    <span>"End this silence? Matching alerts that still fire notify and escalate again."</span>
                    <input type="hidden" name="id" value=id/>
                    <button class="btn btn-ghost" type="button" on:click=move |_| confirming.set(None)>"Cancel"</button>
                    <button class="btn btn-danger" type="submit">"End silence"</button>
                </ActionForm>
            </Show>
        })
    };
    view! {
        <li>
            <code class="label">{matchers.join(", ")}</code>
            {format!(" · ends in {} · by {}", crate::time_fmt::duration(silence.ends_at - now), silence.created_by)}
            <div class="muted">{silence.comment}</div>
            {end_now}
        </li>
    }
}

#[component]
fn FeedItem(
    alert: Alert,
    act: ServerAction<ActOnAlert>,
    can_operate: Signal<bool>,
    selected: RwSignal<BTreeSet<i64>>,
    silence_end: Option<i64>,
) -> impl IntoView {
    let silencing = RwSignal::new(false);
    let all_labels = alert.labels.clone();
    let labels: Vec<String> = alert
        .labels
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "alertname" | "severity"))
        .take(4)
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    // An escalated alert keeps whoever acknowledged it on record.
    let who = match alert.status {
        AlertStatus::Acknowledged | AlertStatus::Escalated => alert
            .acknowledged_by
            .clone()
            .map(|w| format!("acknowledged by {w}")),
        AlertStatus::Resolved => alert
            .resolved_by
            .clone()
            .map(|w| format!("resolved by {w}")),
        _ => None,
    };
    let (id, status) = (alert.id, alert.status);
    let silenced = alert.silenced_by.map(|_| match silence_end {
        Some(end) => format!(
            "Silenced until {} UTC (in {})",
            crate::time_fmt::iso_utc(end)[..16].replace('T', " "),
            crate::time_fmt::duration(end - now_ms())
        ),
        None => "Silenced".to_string(),
    });
    let name = alert.name.clone();
    view! {
        <li class=format!("feed-item severity-edge-{}", alert.severity.as_str()) data-testid=format!("alert-{id}")>
            <Show when=move || can_operate.get() && status != AlertStatus::Resolved>
                <input class="feed-select" type="checkbox" aria-label=format!("Select {name}")
                    prop:checked=move || selected.with(|s| s.contains(&id))
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        selected.update(|s| { if on { s.insert(id); } else { s.remove(&id); } });
                    }/>
            </Show>
            <div class="feed-main">
                <div class="feed-title">
                    <SeverityBadge severity=alert.severity/>
                    <a href=format!("/alerts/{id}")><strong>{alert.name.clone()}</strong></a>
                    <AlertStatusBadge status/>
                    {silenced.map(|text| view! { <span class="badge silenced" data-testid="silenced-until">{text}</span> })}
                </div>
                {alert.summary.clone().map(|s| view! { <p class="feed-summary">{s}</p> })}
                <div class="feed-meta">
                    {labels.into_iter().map(|l| view! { <code class="label">{l}</code> }).collect_view()}
                    <span class="muted">"opened "<TimeAgo ms=alert.opened_at/></span>
                    {(alert.fire_count > 1).then(|| view! { <span class="muted">{format!("fired {}×", alert.fire_count)}</span> })}
                    {who.map(|w| view! { <span class="muted">{w}</span> })}
                </div>
            </div>
            <Show when=move || can_operate.get() && status != AlertStatus::Resolved>
                <div class="feed-actions">
                    <AlertActions alert_id=id status act/>
                    {alert.silenced_by.is_none().then(|| view! {
                        <button class="btn btn-small btn-ghost" type="button" aria-expanded=move || silencing.get().to_string()
                            on:click=move |_| silencing.update(|s| *s = !*s)>"Silence…"</button>
                    })}
                </div>
            </Show>
            <Show when=move || silencing.get()>
                <SilenceForm labels=all_labels.clone() picked=vec!["alertname".to_string()]/>
            </Show>
        </li>
    }
}

/// What is done to the selected alerts, and how it went.
fn bulk_report(done: usize, verb: &str, skipped: usize, failed: &[String]) -> String {
    let mut text = format!("{verb} {done} alert{}.", if done == 1 { "" } else { "s" });
    if skipped > 0 {
        text.push_str(&format!(
            " {skipped} left as they were (already acknowledged or resolved)."
        ));
    }
    if let Some(first) = failed.first() {
        text.push_str(&format!(" {} failed: {first}", failed.len()));
    }
    text
}

/// Appears while alerts are selected: acknowledge them all, or silence each (by all of its
/// labels) for one time and reason.
#[component]
fn BulkBar(
    selected: RwSignal<BTreeSet<i64>>,
    page: crate::api::codec::Loaded<Result<AlertPage, crate::error::AppError>>,
    bulk_done: RwSignal<u32>,
) -> impl IntoView {
    let silencing = RwSignal::new(false);
    let hours = RwSignal::new(1i64);
    let comment = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let report = RwSignal::new(None::<(bool, String)>);
    let chosen = move || -> Vec<Alert> {
        let ids = selected.get_untracked();
        page.get_untracked()
            .and_then(|r| r.ok())
            .map(|p| {
                p.alerts
                    .into_iter()
                    .filter(|a| ids.contains(&a.id))
                    .collect()
            })
            .unwrap_or_default()
    };
    let finish = move |text: String, failed: bool| {
        report.set(Some((failed, text)));
        selected.set(BTreeSet::new());
        silencing.set(false);
        busy.set(false);
        bulk_done.update(|n| *n += 1);
    };
    let acknowledge = move |_| {
        let alerts = chosen();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let (mut done, mut skipped, mut failed) = (0, 0, Vec::new());
            for alert in alerts {
                if transition(alert.status, AlertAction::Acknowledge).is_err() {
                    skipped += 1;
                    continue;
                }
                match act_on_alert(alert.id, AlertAction::Acknowledge, None).await {
                    Ok(_) => done += 1,
                    Err(e) => failed.push(e.message),
                }
            }
            finish(
                bulk_report(done, "Acknowledged", skipped, &failed),
                !failed.is_empty(),
            );
        });
    };
    let silence = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let alerts = chosen();
        let (ends_at, why) = (
            now_ms() + hours.get_untracked() * 3_600_000,
            comment.get_untracked(),
        );
        busy.set(true);
        leptos::task::spawn_local(async move {
            let (mut done, mut failed) = (0, Vec::new());
            for alert in alerts {
                let matchers = exact_matchers(alert.labels);
                let new = NewSilence {
                    matchers,
                    starts_at: None,
                    ends_at,
                    comment: why.clone(),
                };
                match create_silence(new).await {
                    Ok(_) => done += 1,
                    Err(e) => failed.push(e.message),
                }
            }
            finish(
                bulk_report(done, "Silenced", 0, &failed),
                !failed.is_empty(),
            );
        });
    };
    view! {
        {move || report.get().map(|(failed, text)| view! {
            <p class=if failed { "note note-error" } else { "note" } role="status" data-testid="bulk-report">{text}</p>
        })}
        <Show when=move || selected.with(|s| !s.is_empty())>
            <div class="bulk-bar" role="region" aria-label="Selected alerts">
                <strong>{move || format!("{} selected", selected.with(BTreeSet::len))}</strong>
                <button class="btn btn-small btn-primary" type="button" disabled=move || busy.get() on:click=acknowledge>"Acknowledge all"</button>
                <button class="btn btn-small" type="button" aria-expanded=move || silencing.get().to_string()
                    on:click=move |_| silencing.update(|s| *s = !*s)>"Silence…"</button>
                <button class="btn btn-small btn-ghost" type="button" on:click=move |_| selected.set(BTreeSet::new())>"Clear"</button>
                <Show when=move || silencing.get()>
                    <form class="silence-form" on:submit=silence>
                        <p class="muted">"One silence per alert, matching all of its labels."</p>
                        <SilenceDuration hours/>
                        <label>"Why (required)"
                            <input type="text" required=true maxlength="500" prop:value=move || comment.get()
                                on:input=move |ev| comment.set(event_target_value(&ev))/>
                        </label>
                        <button class="btn" type="submit" disabled=move || busy.get()>"Silence selected"</button>
                    </form>
                </Show>
            </div>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_links_keep_the_filters() {
        let q = AlertQuery {
            status: Some(AlertStatus::Open),
            severity: Some(Severity::Critical),
            ..Default::default()
        };
        assert_eq!(
            feed_href(&q, Some("5.2")),
            "/alerts?status=open&severity=critical&cursor=5.2"
        );
        assert_eq!(feed_href(&AlertQuery::default(), None), "/alerts");
    }
}
