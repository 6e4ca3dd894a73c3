//! One service: where it runs in each environment, its SLOs and open alerts, and one timeline
//! of everything that happened to it (deployments, rollbacks, quarantines, alerts, SLO burn).
//! Live: refetched when a deployment, alert, SLO, audit or build event arrives (a build can mark
//! a running version "CI failed", or take the mark off).

use crate::api::codec::resource;
use crate::api::load_service;
use crate::components::alerts::SeverityBadge;
use crate::components::common::*;
use crate::components::deploy::{rollback_mark, StatusBadge};
use crate::components::health::BudgetBar;
use crate::components::release_ci::ci_failed_mark;
use crate::deploy::DeploymentKind;
use crate::live::changes_on;
use crate::service_view::{ServiceView, TimelineEntry, TimelineKind};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ServicePage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    // A plain string: see `DeploymentPage` for why a title must not read a signal.
    let title = format!("Service {}", untrack(name));
    view! {
        <Title text=title/>
        <p><a href="/deployments">"← Deployments"</a></p>
        {move || view! { <ServiceLive name=name()/> }}
    }
}

#[island]
fn ServiceLive(name: String) -> impl IntoView {
    let topics = [
        crate::deploy::topics::DEPLOYMENTS,
        crate::health::topics::ALERTS,
        crate::health::topics::SLOS,
        crate::model::topics::AUDIT,
        crate::builds::TOPIC,
    ]
    .map(changes_on);
    let view_of = resource(
        move || topics.iter().map(|t| t.get()).sum::<u32>(),
        move |_| load_service(name.clone()),
    );
    view! {
        <Transition fallback=|| view! { <LoadingRows rows=6/> }>
            {move || view_of.get().map(|r| match r {
                Err(error) => view! { <ErrorNote error/> }.into_any(),
                Ok(s) => view! { <ServiceDetail s/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn ServiceDetail(s: ServiceView) -> impl IntoView {
    let ServiceView {
        name,
        description,
        owner,
        cells,
        slos,
        open_alerts,
        timeline,
    } = s;
    let audit_href = format!("/audit?service={name}");
    view! {
        <div class="page-head">
            <h1>{name.clone()}</h1>
            <p class="muted">{about(description, owner)}</p>
        </div>
        <div class="cockpit">
            <section class="card" aria-labelledby="where-title">
                <div class="card-head"><h2 id="where-title">"Where it runs"</h2></div>
                {if cells.is_empty() {
                    view! { <p class="muted">"Not set up to deploy anywhere yet."</p> }.into_any()
                } else {
                    view! {
                        <div class="table-wrap">
                            <table class="table">
                                <thead><tr><th scope="col">"Environment"</th><th scope="col">"Running"</th><th scope="col">"Last deploy"</th></tr></thead>
                                <tbody>
                                    {cells.into_iter().map(|c| view! {
                                        <tr>
                                            <td>{c.environment.clone()}</td>
                                            <td>{c.live_version.clone().or(c.version.clone()).map(|v| view! { <code>{v}</code> }.into_any()).unwrap_or_else(|| view! { <span class="muted">"nothing"</span> }.into_any())}{c.ci_failed.then(ci_failed_mark)}</td>
                                            <td>
                                                {c.status.map(|status| view! { <StatusBadge status/> })}
                                                {(c.kind == Some(DeploymentKind::Rollback)).then(rollback_mark)}
                                                " "
                                                {c.deployment_id.map(|id| view! { <a href=format!("/deployments/{id}")>{format!("#{id}")}</a> })}
                                                " "
                                                {c.deployed_at.map(|ms| view! { <TimeAgo ms/> })}
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any()
                }}
            </section>
            <section class="card" aria-labelledby="slos-title">
                <div class="card-head"><h2 id="slos-title">"SLOs"</h2><a href="/slos">"All SLOs →"</a></div>
                {if slos.is_empty() {
                    view! { <p class="muted">"No SLO for this service yet."</p> }.into_any()
                } else {
                    view! {
                        <ul class="feed">
                            {slos.into_iter().map(|slo| {
                                let remaining = slo.remaining();
                                view! {
                                    <li>
                                        <a href=format!("/slos/{}", slo.id)>{slo.name.clone()}</a>
                                        " " <BudgetBar remaining/>
                                        <span class="muted">" of the error budget left"</span>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
        </div>
        <section class="card" id="alerts" aria-labelledby="open-title">
            <div class="card-head"><h2 id="open-title">"Open alerts"</h2><a href="/alerts">"All alerts →"</a></div>
            {if open_alerts.is_empty() {
                view! { <p class="muted">"No open alert names this service (label service=…)."</p> }.into_any()
            } else {
                view! {
                    <ul class="feed">
                        {open_alerts.into_iter().map(|a| view! {
                            <li>
                                <SeverityBadge severity=a.severity/>
                                " " <a href=format!("/alerts/{}", a.id)>{a.name.clone()}</a>
                                <span class="muted">" " {a.summary.clone().unwrap_or_default()} " · opened "</span>
                                <TimeAgo ms=a.opened_at/>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
        <section class="card" aria-labelledby="timeline-title">
            <div class="card-head">
                <h2 id="timeline-title">"Timeline"</h2>
                <a href=audit_href>"Its audit trail →"</a>
            </div>
            {if timeline.is_empty() {
                view! {
                    <EmptyState title="Nothing has happened to it yet">
                        <p>"Deployments, rollbacks, quarantines and its alerts will show here."</p>
                    </EmptyState>
                }.into_any()
            } else {
                view! {
                    <ol class="feed timeline" data-testid="service-timeline">
                        {timeline.into_iter().map(|e| view! { <TimelineItem e/> }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </section>
    }
}

/// "Card payments. Owned by payments." from the catalog's description and owner.
fn about(description: Option<String>, owner: Option<String>) -> String {
    let description = description
        .map(|d| d.trim().trim_end_matches('.').to_string())
        .filter(|d| !d.is_empty())
        .map_or_else(|| "No description.".to_string(), |d| format!("{d}."));
    match owner {
        Some(o) => format!("{description} Owned by {o}."),
        None => description,
    }
}

#[component]
fn TimelineItem(e: TimelineEntry) -> impl IntoView {
    let tone = match e.kind {
        TimelineKind::Rollback | TimelineKind::Quarantine | TimelineKind::SloBurn => {
            "badge status-rolled_back"
        }
        TimelineKind::AlertOpened | TimelineKind::Failed => "badge status-failed",
        TimelineKind::AlertResolved => "badge status-succeeded",
        TimelineKind::Deploy | TimelineKind::Other => "badge",
    };
    let title = match e.href {
        Some(href) => view! { <a href=href>{e.title}</a> }.into_any(),
        None => view! { <span>{e.title}</span> }.into_any(),
    };
    view! {
        <li>
            <span class=tone>{e.kind.label()}</span>
            " " {title}
            {e.detail.map(|d| view! { <span class="muted">{format!(" · {d}")}</span> })}
            " · " <TimeAgo ms=e.at/>
        </li>
    }
}
