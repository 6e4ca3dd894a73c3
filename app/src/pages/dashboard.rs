//! The first screen after sign-in answers "is production OK, and what changed?": a verdict strip,
//! the alerts that still need a person (acknowledge and silence in place), production per
//! service, and what changed. All of it follows the live connection.

use crate::api::codec::resource;
use crate::api::{load_cockpit, ActOnAlert};
use crate::cockpit::{AlertGroup, Cockpit, ServiceLine, Verdict};
use crate::components::alerts::{AlertActions, SeverityBadge, SilenceForm};
use crate::components::audit::AuditTable;
use crate::components::common::*;
use crate::components::deploy::{rollback_mark, StatusBadge};
use crate::components::health::HealthStatusBadge;
use crate::components::layout::{provide_role, use_role_at_least, viewer_role};
use crate::components::release_ci::ci_failed_mark;
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
/// arrives, and whenever a build does: a build that fails on production's running commit marks
/// that version "CI failed", and its passing re-run takes the mark off.
#[island]
fn DashboardActivity(role: Option<Role>) -> impl IntoView {
    provide_role(role);
    let topics = [
        crate::deploy::topics::DEPLOYMENTS,
        crate::health::topics::COMPONENTS,
        crate::health::topics::SLOS,
        crate::health::topics::ALERTS,
        crate::model::topics::AUDIT,
        crate::builds::TOPIC,
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
            {
                // Whether there is a cockpit to show, not what is in it: a live update redraws its
                // parts, and the alert list below keeps its open forms.
                let shape = Memo::new(move |_| cockpit.get().map(|r| r.map(|_| ())));
                move || shape.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(()) => view! { <CockpitView cockpit act/> }.into_any(),
                })
            }
        </Transition>
        {move || act.value().get().and_then(|r| r.err()).map(|e| view! { <p class="note note-error" role="alert">{e.message}</p> })}
    }
}

/// Alert groups on the dashboard; the Alerts page has them all.
const GROUPS_SHOWN: usize = 3;

#[component]
fn CockpitView(
    cockpit: crate::api::codec::Loaded<Result<Cockpit, crate::error::AppError>>,
    act: ServerAction<ActOnAlert>,
) -> impl IntoView {
    let c = Signal::derive(move || cockpit.get().and_then(|r| r.ok()));
    let groups = Memo::new(move |_| {
        c.with(|c| c.as_ref().map(|c| c.alert_groups.clone()))
            .unwrap_or_default()
    });
    view! {
        {move || c.get().map(|c| {
            let ci_failed: Vec<String> = (c.services.iter()).filter(|s| s.ci_failed).map(|s| s.service.clone()).collect();
            view! { <VerdictStrip v=c.verdict latest=c.latest ci_failed/> }
        })}
        <div class="cockpit">
            <section class="card" aria-labelledby="firing-title">
                <div class="card-head">
                    <h2 id="firing-title">"Alerts needing a person"</h2>
                    <a href="/alerts">"All alerts →"</a>
                </div>
                <FiringGroups groups act/>
            </section>
            <section class="card" aria-labelledby="production-title">
                {move || c.get().map(|c| view! {
                    <div class="card-head">
                        <h2 id="production-title">{format!("{} per service", capitalized(c.production.as_deref().unwrap_or("production")))}</h2>
                        <a href="/deployments">"Deployments →"</a>
                    </div>
                    <ProductionTable services=c.services/>
                })}
            </section>
        </div>
        <section class="card" aria-labelledby="changes-title">
            <div class="card-head">
                <h2 id="changes-title">"What changed"</h2>
                <a href="/audit">"Full audit trail →"</a>
            </div>
            {move || c.get().map(|c| if c.changes.is_empty() {
                view! { <p class="muted">"No deployments, rollbacks, silences or quarantines yet."</p> }.into_any()
            } else {
                view! { <AuditTable entries=c.changes/> }.into_any()
            })}
        </section>
    }
}

/// The first few groups of alerts that need a person, keyed by name and severity: a group that
/// changes updates in place, so a silence being written in it survives other live updates.
#[component]
fn FiringGroups(groups: Memo<Vec<AlertGroup>>, act: ServerAction<ActOnAlert>) -> impl IntoView {
    fn key(g: &AlertGroup) -> String {
        format!("{}/{}", g.name, g.severity.as_str())
    }
    // The first screen keeps room for production: the rest of the groups are a click away.
    let shown = move || groups.with(|g| g.iter().take(GROUPS_SHOWN).cloned().collect::<Vec<_>>());
    let more = move || groups.with(|g| g.len().saturating_sub(GROUPS_SHOWN));
    view! {
        <Show when=move || !groups.with(Vec::is_empty)
            fallback=|| view! { <p class="muted">"No open alerts (silenced ones are not shown)."</p> }>
            <ul class="feed">
                <For each=shown key=key children=move |first: AlertGroup| {
                    let k = key(&first);
                    let g = Memo::new(move |_| {
                        groups.with(|gs| gs.iter().find(|g| key(g) == k).cloned())
                            .unwrap_or_else(|| first.clone())
                    });
                    view! { <AlertGroupItem g act/> }
                }/>
            </ul>
            {move || (more() > 0).then(|| view! {
                <p><a href="/alerts?status=open">{format!("{} more on the Alerts page →", more())}</a></p>
            })}
        </Show>
    }
}

/// The counts that say at a glance whether anything needs someone, each linking to its page.
/// `ci_failed`: the services production runs a commit of that CI failed on, named on the
/// deployments tile (a phone's first screen) as well as on their lines further down.
#[component]
fn VerdictStrip(v: Verdict, latest: Option<StatusCell>, ci_failed: Vec<String>) -> impl IntoView {
    let ok = v.ok();
    let tile = |label: &'static str,
                href: &'static str,
                bad: bool,
                text: String,
                note: Option<String>| {
        view! {
            <a class=if bad { "card verdict-tile verdict-bad" } else { "card verdict-tile" } href=href>
                <span class="stat-label">{label}</span>
                <span class="verdict-value">{text}</span>
                {note.map(|note| view! { <span class="verdict-note">{note}</span> })}
            </a>
        }
    };
    let ci_note = (!ci_failed.is_empty()).then(|| format!("✗ CI failed: {}", ci_failed.join(", ")));
    view! {
        <p class=match (ok, v.watching()) {
            (false, _) => "verdict verdict-attention",
            (true, true) => "verdict verdict-ok",
            (true, false) => "verdict",
        } role="status" data-testid="verdict">
            {v.headline()}
        </p>
        <div class="verdict-strip" data-testid="verdict-strip">
            {tile("Components", "/health", v.components_down > 0,
                format!("{} down · {} degraded · {} up", v.components_down, v.components_degraded, v.components_up), None)}
            {tile("Unacknowledged alerts", "/alerts?status=open", v.alerts_critical > 0,
                format!("{} critical · {} warning · {} info", v.alerts_critical, v.alerts_warning, v.alerts_info), None)}
            {tile("SLOs burning", "/slos", v.slos_page > 0,
                format!("{} page · {} ticket", v.slos_page, v.slos_ticket), None)}
            {tile("Deployments", "/deployments", v.deployments_failed > 0,
                format!("{} failed · {} running", v.deployments_failed, v.deployments_running), ci_note)}
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
/// The actions are made again only when the newest alert or its status changes.
#[component]
fn AlertGroupItem(g: Memo<AlertGroup>, act: ServerAction<ActOnAlert>) -> impl IntoView {
    let can_operate = use_role_at_least(Role::Operator);
    let silencing = RwSignal::new(false);
    let newest = Memo::new(move |_| g.with(|g| g.alerts.first().map(|a| (a.id, a.status))));
    // A silence matching the labels the group's alerts share: the name (and, for one alert,
    // all of its labels). Read when the form opens.
    let labels = move || {
        g.with_untracked(|g| match g.alerts.as_slice() {
            [only] => only.labels.clone(),
            [newest, ..] => newest
                .labels
                .iter()
                .filter(|(k, _)| k.as_str() == "alertname")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            [] => Default::default(),
        })
    };
    let text = move || {
        let g = g.get();
        let count = g.alerts.len();
        let newest = g.alerts.first().cloned()?;
        let id = newest.id;
        Some(view! {
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
        })
    };
    view! {
        <li class=move || format!("feed-item severity-edge-{}", g.with(|g| g.severity.as_str())) data-testid="firing-group">
            <div class="feed-main">{text}</div>
            <Show when=move || can_operate.get()>
                <div class="group-actions">
                    {move || newest.get().map(|(alert_id, status)| view! { <AlertActions alert_id status act/> })}
                    <button class="btn btn-small btn-ghost" type="button" aria-expanded=move || silencing.get().to_string()
                        on:click=move |_| silencing.update(|s| *s = !*s)>"Silence…"</button>
                </div>
            </Show>
            <Show when=move || silencing.get()>
                <SilenceForm labels=labels() picked=labels().into_keys().collect()/>
            </Show>
        </li>
    }
}

#[component]
fn ProductionTable(services: Vec<ServiceLine>) -> impl IntoView {
    if services.is_empty() {
        return view! { <p class="muted">"No services deploy to this environment yet."</p> }
            .into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table production-table">
                <thead><tr>
                    <th scope="col">"Service"</th><th scope="col">"Running"</th><th scope="col">"Last deploy"</th>
                    <th scope="col">"Health"</th><th scope="col">"Budget left"</th>
                </tr></thead>
                <tbody>
                    {services.into_iter().map(|s| view! {
                        <tr data-testid=format!("production-{}", s.service)>
                            <td class="svc-name"><a class="service-name" href=format!("/services/{}", s.service)>{s.service.clone()}</a></td>
                            <td class="svc-running">{s.version.clone().map(|v| view! { <code>{v}</code> }.into_any()).unwrap_or_else(|| view! { <span class="muted">"nothing"</span> }.into_any())}{s.ci_failed.then(ci_failed_mark)}</td>
                            <td class="svc-last">
                                <span class="phone-label">"Last deploy: "</span>
                                {match s.last_status {
                                    Some(status) => view! { <StatusBadge status/> }.into_any(),
                                    None => view! { <span class="muted">"never"</span> }.into_any(),
                                }}
                                {(s.last_kind == Some(DeploymentKind::Rollback)).then(rollback_mark)}
                                " "
                                {s.last_at.map(|ms| view! { <TimeAgo ms/> })}
                            </td>
                            <td class="svc-health">{s.health.map(|status| view! { <HealthStatusBadge status/> }.into_any()).unwrap_or_else(|| view! { <span class="muted">"no probes"</span> }.into_any())}</td>
                            <td class="svc-budget">{s.budget_left.map(|b| view! { <span class="phone-label">"Budget left "</span>{crate::health::slo::percent(b, 1)} }.into_any()).unwrap_or_else(|| "no SLO".into_any())}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
