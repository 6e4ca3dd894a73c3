//! One alert: what fired, its labels and annotations, who did what when, and whether the
//! notifications reached anyone. Live over the websocket.

use crate::api::codec::resource;
use crate::api::*;
use crate::components::alerts::*;
use crate::components::common::*;
use crate::components::layout::{provide_role, use_role_at_least, viewer_role};
use crate::health::alert::*;
use crate::live::changes_on;
use crate::model::Role;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn AlertPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|v| v.parse::<i64>().ok());
    view! {
        <Title text="Alert"/>
        <p><a href="/alerts">"← All alerts"</a></p>
        {move || view! { <AlertLive id=id() role=viewer_role()/> }}
    }
}

/// One alert with its timeline and actions, refreshed as it changes.
#[island]
fn AlertLive(id: Option<i64>, role: Option<Role>) -> impl IntoView {
    provide_role(role);
    let id = Signal::stored(id);
    let changes = changes_on(topics::ALERTS);
    let act = ServerAction::<ActOnAlert>::new();
    let detail = resource(
        move || (id.get(), changes.get(), act.version().get()),
        |(id, _, _)| async move {
            match id {
                Some(id) => get_alert(id).await,
                None => Err(crate::error::AppError::not_found("that alert")),
            }
        },
    );
    let can_operate = use_role_at_least(Role::Operator);
    view! {
        {move || act.value().get().and_then(|r| r.err()).map(|e| view! { <p class="note note-error" role="alert">{e.message}</p> })}
        <Transition fallback=|| view! { <LoadingRows rows=6/> }>
            {move || detail.get().map(|r| match r {
                Err(error) => view! { <ErrorNote error/> }.into_any(),
                Ok(d) => view! { <Detail detail=d act can_operate/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Detail(
    detail: AlertDetail,
    act: ServerAction<ActOnAlert>,
    can_operate: Signal<bool>,
) -> impl IntoView {
    let AlertDetail {
        alert,
        history,
        notifications,
    } = detail;
    let (id, status) = (alert.id, alert.status);
    let pairs = |map: &std::collections::BTreeMap<String, String>| {
        map.iter()
            .map(|(k, v)| view! { <dt>{k.clone()}</dt><dd>{v.clone()}</dd> })
            .collect_view()
    };
    view! {
        <div class="page-head page-head-actions">
            <div>
                <h1>{alert.name.clone()}" "<SeverityBadge severity=alert.severity/>" "<AlertStatusBadge status/></h1>
                <p class="muted">{alert.summary.clone().unwrap_or_default()}</p>
            </div>
            <Show when=move || can_operate.get() && status != AlertStatus::Resolved>
                <AlertActions alert_id=id status act/>
            </Show>
        </div>
        <div class="grid-2">
            <section class="card" aria-labelledby="facts-title">
                <h2 id="facts-title">"Facts"</h2>
                <dl class="facts">
                    <dt>"Source"</dt><dd>{alert.source.as_str()}</dd>
                    <dt>"Started"</dt><dd><TimeAgo ms=alert.starts_at/></dd>
                    <dt>"Opened"</dt><dd><TimeAgo ms=alert.opened_at/></dd>
                    <dt>"Last seen"</dt><dd><TimeAgo ms=alert.last_seen/>{format!(" (fired {}×)", alert.fire_count)}</dd>
                    <dt>"Fingerprint"</dt><dd><code>{alert.fingerprint.clone()}</code></dd>
                    {alert.silenced_by.map(|s| view! { <dt>"Silenced"</dt><dd>{format!("by silence {s}: nobody is notified")}</dd> })}
                    {alert.generator_url.clone().filter(|u| crate::health::alert::safe_link(u).is_some()).map(|u| view! { <dt>"Source link"</dt><dd><a href=u.clone() rel="noopener noreferrer" target="_blank">"Open in Prometheus"</a></dd> })}
                </dl>
                <h3>"Labels"</h3>
                <dl class="facts">{pairs(&alert.labels)}</dl>
                {(!alert.annotations.is_empty()).then(|| view! { <h3>"Annotations"</h3><dl class="facts">{pairs(&alert.annotations)}</dl> })}
            </section>
            {(status != AlertStatus::Resolved && alert.silenced_by.is_none()).then(|| {
                let labels = alert.labels.clone();
                view! {
                    <Show when=move || can_operate.get()>
                        <section class="card" aria-labelledby="silence-title">
                            <h2 id="silence-title">"Silence this alert"</h2>
                            <p class="muted">"Starts with all of its labels; select a label to drop it and silence more alerts. Silenced alerts stay in the feed; nobody is notified and they do not escalate."</p>
                            <SilenceForm labels=labels.clone() picked=labels.keys().cloned().collect()/>
                        </section>
                    </Show>
                }
            })}
            <section class="card" aria-labelledby="history-title">
                <h2 id="history-title">"History"</h2>
                <ol class="timeline">
                    {history.into_iter().map(|h| view! {
                        <li>
                            <strong>{h.kind.replace('_', " ")}</strong>" by "{h.actor}" "<TimeAgo ms=h.at/>
                            {h.note.map(|n| view! { <div class="muted">{n}</div> })}
                        </li>
                    }).collect_view()}
                </ol>
                <h2>"Notifications"</h2>
                {if notifications.is_empty() {
                    view! { <p class="muted">"None sent: no escalation policy covers this alert yet, or it is silenced."</p> }.into_any()
                } else {
                    view! {
                        <ul class="timeline">
                            {notifications.into_iter().map(|n| view! {
                                <li>
                                    <strong>{n.channel}</strong>" · "{n.reason}" · "
                                    <span class=format!("badge notification-{}", n.status)>{n.status.clone()}</span>
                                    {format!(" after {} attempt(s)", n.attempts)}
                                    {n.last_error.map(|e| view! { <div class="muted">{e}</div> })}
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
        </div>
    }
}
