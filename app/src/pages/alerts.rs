//! The alert feed: newest first, filtered by status and severity, paged by cursor, with
//! acknowledge (with an optional note) / escalate / resolve / silence for operators, one alert or
//! several selected at once. It refetches whenever an alert changes, so the feed is live without
//! a reload.

use crate::api::codec::resource;
use crate::api::*;
use crate::components::alerts::*;
use crate::components::common::*;
use crate::components::confirm::{Asking, ConfirmInPlace};
use crate::components::layout::{provide_role, use_role_at_least, viewer_role};
use crate::health::alert::*;
use crate::href::use_query;
use crate::href::QueryHref;
use crate::live::changes_on;
use crate::model::Role;
use leptos::prelude::*;
use leptos_meta::Title;
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
    let params = use_query();
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
    // On a phone the filters fold away unless in use, so the first screen shows alerts. Until
    // that is done after hydration (the server cannot know the width), a phone's CSS hides
    // them, so the feed does not jump up under a finger about to tap it.
    let filters_panel = NodeRef::<leptos::html::Details>::new();
    let in_use = move || query.with(|q| q.status.is_some() || q.severity.is_some());
    let filters_settled = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(panel) = filters_panel.get() {
            if narrow_window() && !in_use() {
                panel.set_open(false);
            }
            filters_settled.set(true);
        }
    });
    view! {
        <div class="page-head">
            <h1>"Alerts"</h1>
            <p class="muted">"From Alertmanager, Prometheus, SLO burn and probes; newest first. Acknowledge to stop escalation."</p>
        </div>
        <section class="card" aria-labelledby="feed-title">
            <h2 id="feed-title" class="sr-only">"Alert feed"</h2>
            <details class="filters-panel" open=true node_ref=filters_panel
                class:settled=move || filters_settled.get() class:in-use=in_use>
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
                {
                    // What the feed is, not what is in it: a live update that only changes alerts
                    // keeps the list below in place, with whatever is being typed in it.
                    let shape = Memo::new(move |_| page.get().map(|r| r.map(|p| p.alerts.is_empty())));
                    move || shape.get().map(|r| match r {
                        Err(error) => view! { <ErrorNote error/> }.into_any(),
                        Ok(true) => view! {
                            <EmptyState title="No alerts match">
                                <p>"Point Alertmanager's webhook receiver at /api/v1/webhooks/alertmanager, or Prometheus at this server as its Alertmanager (/api/v2/alerts), with an operator token."</p>
                            </EmptyState>
                        }.into_any(),
                        Ok(false) => view! { <FeedList page query act can_operate selected silence_ends/> }.into_any(),
                    })
                }
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
            <ConfirmInPlace asking=Asking::Row(confirming, id) ask="End now…" class="btn-ghost"
                keep="Cancel" act="End silence" disabled=expire.pending()
                on_confirm=Callback::new(move |_| { expire.dispatch(ExpireSilence { id }); })>
                <span>"End this silence? Matching alerts that still fire notify and escalate again."</span>
            </ConfirmInPlace>
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

/// The alerts of one page, keyed by id: an alert that changes updates in place, and an open
/// silence or note form stays open, with its text, while other alerts come and go.
#[component]
fn FeedList(
    page: crate::api::codec::Loaded<Result<AlertPage, crate::error::AppError>>,
    query: Signal<AlertQuery>,
    act: ServerAction<ActOnAlert>,
    can_operate: Signal<bool>,
    selected: RwSignal<BTreeSet<i64>>,
    silence_ends: Signal<BTreeMap<i64, i64>>,
) -> impl IntoView {
    let alerts = Memo::new(move |_| {
        page.get()
            .and_then(|r| r.ok())
            .map(|p| p.alerts)
            .unwrap_or_default()
    });
    let cursors = Memo::new(move |_| {
        let q = query.get();
        let next = page.get().and_then(|r| r.ok()).and_then(|p| p.next_cursor);
        (
            q.cursor.as_ref().map(|_| feed_href(&q, None)),
            next.map(|c| feed_href(&q, Some(&c))),
        )
    });
    view! {
        <ol class="feed" aria-label="Alerts, newest first">
            <For each=move || alerts.get() key=|a| a.id children=move |first: Alert| {
                let id = first.id;
                let alert = Memo::new(move |_| {
                    alerts.with(|list| list.iter().find(|a| a.id == id).cloned())
                        .unwrap_or_else(|| first.clone())
                });
                view! { <FeedItem alert act can_operate selected silence_ends/> }
            }/>
        </ol>
        <nav class="pager" aria-label="Alert pages">
            {move || cursors.get().0.map(|href| view! { <a class="btn btn-ghost" href=href>"← Newest"</a> })}
            {move || cursors.get().1.map(|href| view! { <a class="btn" href=href>"Older →"</a> })}
        </nav>
    }
}

/// "Silenced until 14:05 UTC (in 52 min)", or "Silenced" when the silence is not known here.
fn silenced_words(end: Option<i64>) -> String {
    match end {
        Some(end) => format!(
            "Silenced until {} UTC (in {})",
            &crate::time_fmt::iso_utc(end)[..16],
            crate::time_fmt::duration(end - now_ms())
        ),
        None => "Silenced".to_string(),
    }
}

/// Who acted on the alert last: an escalated alert keeps whoever acknowledged it on record.
fn acted_by(alert: &Alert) -> Option<String> {
    match alert.status {
        AlertStatus::Acknowledged | AlertStatus::Escalated => alert
            .acknowledged_by
            .as_ref()
            .map(|w| format!("acknowledged by {w}")),
        AlertStatus::Resolved => alert
            .resolved_by
            .as_ref()
            .map(|w| format!("resolved by {w}")),
        _ => None,
    }
}

/// One alert of the feed. Its text follows the alert; its actions are made again only when its
/// status changes, so a half-typed note survives the alert firing again.
#[component]
fn FeedItem(
    alert: Memo<Alert>,
    act: ServerAction<ActOnAlert>,
    can_operate: Signal<bool>,
    selected: RwSignal<BTreeSet<i64>>,
    silence_ends: Signal<BTreeMap<i64, i64>>,
) -> impl IntoView {
    let silencing = RwSignal::new(false);
    let id = alert.with_untracked(|a| a.id);
    let status = Memo::new(move |_| alert.with(|a| a.status));
    let silenced = Memo::new(move |_| alert.with(|a| a.silenced_by));
    let open_for = move || can_operate.get() && status.get() != AlertStatus::Resolved;
    let title = move || {
        let a = alert.get();
        let silenced = a
            .silenced_by
            .map(|s| silenced_words(silence_ends.with(|ends| ends.get(&s).copied())));
        view! {
            <SeverityBadge severity=a.severity/>
            <a href=format!("/alerts/{id}")><strong>{a.name.clone()}</strong></a>
            <AlertStatusBadge status=a.status/>
            {silenced.map(|text| view! { <span class="badge silenced" data-testid="silenced-until">{text}</span> })}
        }
    };
    let details = move || {
        let a = alert.get();
        let labels: Vec<String> = a
            .labels
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "alertname" | "severity"))
            .take(4)
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let who = acted_by(&a);
        view! {
            {a.summary.clone().map(|s| view! { <p class="feed-summary">{s}</p> })}
            <div class="feed-meta">
                {labels.into_iter().map(|l| view! { <code class="label">{l}</code> }).collect_view()}
                <span class="muted">"opened "<TimeAgo ms=a.opened_at/></span>
                {(a.fire_count > 1).then(|| view! { <span class="muted">{format!("fired {}×", a.fire_count)}</span> })}
                {who.map(|w| view! { <span class="muted">{w}</span> })}
            </div>
        }
    };
    let name = alert.with_untracked(|a| a.name.clone());
    view! {
        <li class=move || format!("feed-item severity-edge-{}", alert.with(|a| a.severity.as_str())) data-testid=format!("alert-{id}")>
            <Show when=open_for>
                <input class="feed-select" type="checkbox" aria-label=format!("Select {name}")
                    prop:checked=move || selected.with(|s| s.contains(&id))
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        selected.update(|s| { if on { s.insert(id); } else { s.remove(&id); } });
                    }/>
            </Show>
            <div class="feed-main">
                <div class="feed-title">{title}</div>
                {details}
            </div>
            <Show when=open_for>
                <div class="feed-actions">
                    {move || { let status = status.get(); view! { <AlertActions alert_id=id status act/> } }}
                    <Show when=move || silenced.get().is_none()>
                        <button class="btn btn-small btn-ghost" type="button" aria-expanded=move || silencing.get().to_string()
                            on:click=move |_| silencing.update(|s| *s = !*s)>"Silence…"</button>
                    </Show>
                </div>
            </Show>
            // Once the alert is silenced its badge says until when, and the form has done its job.
            <Show when=move || silencing.get() && silenced.get().is_none()>
                <SilenceForm labels=alert.with_untracked(|a| a.labels.clone()) picked=vec!["alertname".to_string()]/>
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
