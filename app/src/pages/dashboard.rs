//! The first screen after sign-in answers "is production OK, and what changed?": a verdict strip,
//! the alerts that still need a person (acknowledge and silence in place), production per
//! service, and what changed. All of it follows the live connection.

use super::audit::AuditTable;
use super::health::HealthStatusBadge;
use crate::api::codec::resource;
use crate::api::{load_cockpit, ActOnAlert};
use crate::cockpit::{AlertGroup, Cockpit, ServiceLine, Verdict};
use crate::components::alerts::{AlertActions, SeverityBadge, SilenceForm};
use crate::components::common::*;
use crate::components::deploy::StatusBadge;
use crate::components::layout::{provide_role, use_role_at_least, viewer_role};
use crate::deploy::{DeploymentKind, StatusCell};
use crate::live::changes_on;
use crate::model::Role;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <Title text="Dashboard"/>
        <div class="page-head">
            <h1>"Is production OK?"</h1>
        </div>
        <DashboardActivity role=viewer_role()/>
    }
}

/// The live cockpit: refetched whenever a deployment, component, SLO, alert or audit event
/// arrives.
#[island]
fn DashboardActivity(role: Option<Role>) -> impl IntoView {
    provide_role(role);
    let topics = [
        crate::deploy::topics::DEPLOYMENTS,
        crate::health::topics::COMPONENTS,
        crate::health::topics::SLOS,
        crate::health::topics::ALERTS,
        crate::model::topics::AUDIT,
    ]
    .map(changes_on);
    let act = ServerAction::<ActOnAlert>::new();
    let cockpit = resource(
        move || {
            (
                topics.iter().map(|t| t.get()).sum::<u32>(),
                act.version().get(),
            )
        },
        |_| load_cockpit(),
    );
    view! {
        <Transition fallback=|| view! { <LoadingRows rows=6/> }>
            {move || cockpit.get().map(|r| match r {
                Err(error) => view! { <ErrorNote error/> }.into_any(),
                Ok(c) => view! { <CockpitView c act/> }.into_any(),
            })}
        </Transition>
        {move || act.value().get().and_then(|r| r.err()).map(|e| view! { <p class="note note-error" role="alert">{e.message}</p> })}
    }
}

/// Alert groups on the dashboard; the Alerts page has them all.
const GROUPS_SHOWN: usize = 3;

#[component]
fn CockpitView(c: Cockpit, act: ServerAction<ActOnAlert>) -> impl IntoView {
    let Cockpit {
        verdict,
        production,
        services,
        mut alert_groups,
        latest,
        changes,
    } = c;
    // The first screen keeps room for production: the rest of the groups are a click away.
    let more = alert_groups.len().saturating_sub(GROUPS_SHOWN);
    alert_groups.truncate(GROUPS_SHOWN);
    view! {
        <VerdictStrip v=verdict latest/>
        <div class="cockpit">
            <section class="card" aria-labelledby="firing-title">
                <div class="card-head">
                    <h2 id="firing-title">"Alerts needing a person"</h2>
                    <a href="/alerts">"All alerts →"</a>
                </div>
                {if alert_groups.is_empty() {
                    view! { <p class="muted">"No open alerts (silenced ones are not shown)."</p> }.into_any()
                } else {
                    view! {
                        <ul class="feed">
                            {alert_groups.into_iter().map(|g| view! { <AlertGroupItem g act/> }).collect_view()}
                        </ul>
                        {(more > 0).then(|| view! {
                            <p><a href="/alerts?status=open">{format!("{more} more on the Alerts page →")}</a></p>
                        })}
                    }.into_any()
                }}
            </section>
            <section class="card" aria-labelledby="production-title">
                <div class="card-head">
                    <h2 id="production-title">{format!("{} per service", capitalized(production.as_deref().unwrap_or("production")))}</h2>
                    <a href="/deployments">"Deployments →"</a>
                </div>
                <ProductionTable services/>
            </section>
        </div>
        <section class="card" aria-labelledby="changes-title">
            <div class="card-head">
                <h2 id="changes-title">"What changed"</h2>
                <a href="/audit">"Full audit trail →"</a>
            </div>
            {if changes.is_empty() {
                view! { <p class="muted">"No deployments, rollbacks, silences or quarantines yet."</p> }.into_any()
            } else {
                view! { <AuditTable entries=changes/> }.into_any()
            }}
        </section>
    }
}

/// The counts that say at a glance whether anything needs someone, each linking to its page.
#[component]
fn VerdictStrip(v: Verdict, latest: Option<StatusCell>) -> impl IntoView {
    let ok = v.ok();
    let tile = |label: &'static str, href: &'static str, bad: bool, text: String| {
        view! {
            <a class=if bad { "card verdict-tile verdict-bad" } else { "card verdict-tile" } href=href>
                <span class="stat-label">{label}</span>
                <span class="verdict-value">{text}</span>
            </a>
        }
    };
    view! {
        <p class=if ok { "verdict verdict-ok" } else { "verdict verdict-attention" } role="status" data-testid="verdict">
            {v.headline()}
        </p>
        <div class="verdict-strip" data-testid="verdict-strip">
            {tile("Components", "/health", v.components_down > 0,
                format!("{} down · {} degraded · {} up", v.components_down, v.components_degraded, v.components_up))}
            {tile("Unacknowledged alerts", "/alerts?status=open", v.alerts_critical > 0,
                format!("{} critical · {} warning · {} info", v.alerts_critical, v.alerts_warning, v.alerts_info))}
            {tile("SLOs burning", "/slos", v.slos_page > 0,
                format!("{} page · {} ticket", v.slos_page, v.slos_ticket))}
            {tile("Deployments", "/deployments", v.deployments_failed > 0,
                format!("{} failed · {} running", v.deployments_failed, v.deployments_running))}
        </div>
        {latest.map(|cell| {
            let id = cell.deployment_id.unwrap_or_default();
            view! {
                <p class="latest-deploy" data-testid="latest-deployment">
                    "Latest deployment: "
                    <a href=format!("/deployments/{id}")>{format!("#{id} {} ", cell.service)}<code>{cell.version.clone().unwrap_or_default()}</code>{format!(" → {}", cell.environment)}</a>
                    " "{cell.status.map(|status| view! { <StatusBadge status/> })}
                    " "{cell.deployed_at.map(|ms| view! { <TimeAgo ms/> })}
                </p>
            }
        })}
    }
}

/// One group of firing alerts: the newest one's actions, and a silence for the whole group.
#[component]
fn AlertGroupItem(g: AlertGroup, act: ServerAction<ActOnAlert>) -> impl IntoView {
    let can_operate = use_role_at_least(Role::Operator);
    let silencing = RwSignal::new(false);
    let count = g.alerts.len();
    let Some(newest) = g.alerts.into_iter().next() else {
        return ().into_any();
    };
    // A silence matching the labels the group's alerts share: the name (and, for one alert,
    // all of its labels).
    let labels = if count == 1 {
        newest.labels.clone()
    } else {
        newest
            .labels
            .iter()
            .filter(|(k, _)| k.as_str() == "alertname")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let labels = StoredValue::new(labels);
    let (id, status) = (newest.id, newest.status);
    view! {
        <li class=format!("feed-item severity-edge-{}", g.severity.as_str()) data-testid="firing-group">
            <div class="feed-main">
                <div class="feed-title">
                    <SeverityBadge severity=g.severity/>
                    <a href=format!("/alerts/{id}")><strong>{g.name.clone()}</strong></a>
                    {(count > 1).then(|| view! { <span class="badge">{format!("{count} alerts")}</span> })}
                </div>
                {newest.summary.clone().map(|s| view! { <p class="feed-summary">{s}</p> })}
                <div class="feed-meta">
                    <span class="muted">"opened "<TimeAgo ms=newest.opened_at/></span>
                    <span class="muted">"last seen "<TimeAgo ms=newest.last_seen/></span>
                    {newest.acknowledged_by.clone().map(|w| view! { <span class="muted">{format!("acknowledged by {w}")}</span> })}
                </div>
            </div>
            <Show when=move || can_operate.get()>
                <div class="group-actions">
                    <AlertActions alert_id=id status act/>
                    <button class="btn btn-small btn-ghost" type="button" aria-expanded=move || silencing.get().to_string()
                        on:click=move |_| silencing.update(|s| *s = !*s)>"Silence…"</button>
                </div>
            </Show>
            <Show when=move || silencing.get()>
                <SilenceForm labels=labels.get_value() picked=labels.get_value().into_keys().collect()/>
            </Show>
        </li>
    }
    .into_any()
}

#[component]
fn ProductionTable(services: Vec<ServiceLine>) -> impl IntoView {
    if services.is_empty() {
        return view! { <p class="muted">"No services deploy to this environment yet."</p> }
            .into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead><tr>
                    <th scope="col">"Service"</th><th scope="col">"Running"</th><th scope="col">"Last deploy"</th>
                    <th scope="col">"Health"</th><th scope="col">"Budget left"</th>
                </tr></thead>
                <tbody>
                    {services.into_iter().map(|s| view! {
                        <tr data-testid=format!("production-{}", s.service)>
                            <td><a class="service-name" href=format!("/services/{}", s.service)>{s.service.clone()}</a></td>
                            <td>{s.version.clone().map(|v| view! { <code>{v}</code> }.into_any()).unwrap_or_else(|| view! { <span class="muted">"nothing"</span> }.into_any())}</td>
                            <td>
                                {s.last_status.map(|status| view! { <StatusBadge status/> })}
                                {(s.last_kind == Some(DeploymentKind::Rollback)).then(|| view! { <span class="badge rollback-mark">"↩ rollback"</span> })}
                                " "
                                {s.last_at.map(|ms| view! { <TimeAgo ms/> })}
                            </td>
                            <td>{s.health.map(|status| view! { <HealthStatusBadge status/> }.into_any()).unwrap_or_else(|| view! { <span class="muted">"no probes"</span> }.into_any())}</td>
                            <td>{s.budget_left.map(|b| crate::health::slo::percent(b, 1)).unwrap_or_else(|| "no SLO".into())}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
