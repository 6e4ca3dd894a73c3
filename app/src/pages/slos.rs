//! SLOs: the list, least budget left first, and one SLO with the working of its budget, the
//! budget chart over the window and the burn rate of every window against the rule thresholds.

use crate::api::codec::resource;
use crate::api::*;
use crate::components::common::*;
use crate::components::health::BudgetBar;
use crate::health::charts::{budget_chart, burn_chart};
use crate::health::objective::{Slo, SloDetail};
use crate::health::slo::{percent, Evaluation, RuleSeverity, RULES};
use crate::health::topics;
use crate::live::changes_on;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

fn firing_badge(evaluation: Option<&Evaluation>) -> impl IntoView {
    match evaluation.and_then(|e| e.severity()) {
        Some(RuleSeverity::Page) => {
            view! { <span class="badge burn-page">"Page: burning fast"</span> }.into_any()
        }
        Some(RuleSeverity::Ticket) => {
            view! { <span class="badge burn-ticket">"Ticket: burning"</span> }.into_any()
        }
        None if evaluation.is_some_and(|e| e.budget.remaining <= 0.0) => {
            view! { <span class="badge burn-page">"Budget spent"</span> }.into_any()
        }
        None => view! { <span class="badge burn-none">"Within budget"</span> }.into_any(),
    }
}

fn burn_text(evaluation: Option<&Evaluation>, window: &str) -> String {
    evaluation
        .and_then(|e| e.burn_rates.iter().find(|b| b.window.as_str() == window))
        .and_then(|b| b.burn_rate)
        .map(|r| format!("{r:.1}x"))
        .unwrap_or_else(|| "—".into())
}

#[component]
pub fn SlosPage() -> impl IntoView {
    view! {
        <Title text="SLOs"/>
        <div class="page-head">
            <h1>"SLOs"</h1>
            <p class="muted">"Least error budget left first. Burn rate 1x spends the budget exactly over the window."</p>
        </div>
        <SloList/>
    }
}

/// The list, refreshed at each evaluation.
#[island]
fn SloList() -> impl IntoView {
    let changes = changes_on(topics::SLOS);
    let slos = resource(move || changes.get(), |_| list_slos());
    view! {
        <section class="card">
            <Transition fallback=|| view! { <LoadingRows/> }>
                {move || slos.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState title="No SLOs yet">
                            <p>"Define one with POST /api/v1/slos: from a component's probe checks ({\"service\": \"checkout\", \"name\": \"availability\", \"sli\": \"availability\", \"component\": \"checkout-api\", \"objective\": 0.999}) or from PromQL good/total queries."</p>
                        </EmptyState>
                    }.into_any(),
                    Ok(list) => view! { <SloTable list/> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn SloTable(list: Vec<Slo>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table slo-table phone-cards">
                <thead><tr>
                    <th scope="col">"SLO"</th><th scope="col">"Objective"</th><th scope="col">"Budget left"</th>
                    <th scope="col">"Burn 1h"</th><th scope="col">"Burn 6h"</th><th scope="col">"State"</th>
                </tr></thead>
                <tbody>
                    {list.into_iter().map(|slo| {
                        let remaining = slo.remaining();
                        let evaluation = slo.evaluation.as_ref();
                        view! {
                            <tr>
                                <td class="slo-name"><a href=format!("/slos/{}", slo.id)>{format!("{} / {}", slo.service, slo.name)}</a>
                                    <div class="muted small">{format!("{} · {}", slo.sli.as_str(), slo.source_label())}</div></td>
                                <td class="slo-objective"><span class="phone-label">"Objective "</span>{format!("{} over {} days", percent(slo.objective, 3), slo.window_days)}</td>
                                <td class="slo-budget"><BudgetBar remaining/></td>
                                <td class="slo-burn-1h"><span class="phone-label">"Burn 1h "</span>{burn_text(evaluation, "1h")}</td>
                                <td class="slo-burn-6h"><span class="phone-label">"Burn 6h "</span>{burn_text(evaluation, "6h")}</td>
                                <td class="slo-state">{firing_badge(evaluation)}{slo.evaluation_error.clone().map(|e| view! { <div class="note-inline">{e}</div> })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
pub fn SloPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|v| v.parse::<i64>().ok());
    view! {
        <Title text="SLO"/>
        <p><a href="/slos">"← SLOs"</a></p>
        {move || view! { <SloLive id=id()/> }}
    }
}

/// One SLO, refreshed at each evaluation.
#[island]
fn SloLive(id: Option<i64>) -> impl IntoView {
    let id = Signal::stored(id);
    let changes = changes_on(topics::SLOS);
    let detail = resource(
        move || (id.get(), changes.get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_slo(id).await,
                None => Err(crate::error::AppError::not_found("that SLO")),
            }
        },
    );
    view! {
        <Transition fallback=|| view! { <LoadingRows rows=6/> }>
            {move || detail.get().map(|r| match r {
                Err(error) => view! { <ErrorNote error/> }.into_any(),
                Ok(d) => view! { <SloDetailView detail=d/> }.into_any(),
            })}
        </Transition>
    }
}

/// Says so when the data reaches back less than the window: the budget is then computed over
/// fewer events than the objective will eventually see, and moves faster.
fn short_window_note(
    series: &[crate::health::objective::BudgetPoint],
    window_days: u32,
) -> Option<impl IntoView> {
    let reach = crate::health::objective::short_reach(series, window_days, now_ms())?;
    Some(view! {
        <p class="note" data-testid="short-window">{format!(
            "The data covers {reach} of the {window_days}-day window so far: the budget counts that time only, so each bad event weighs more than it will once the window is full."
        )}</p>
    })
}

/// Where the alerts of the SLO's service are, and why they need not agree with the budget.
#[component]
fn ServiceAlertsLink(service: String) -> impl IntoView {
    let href = format!("/services/{}#alerts", crate::href::percent_encode(&service));
    view! {
        <section class="card" aria-labelledby="slo-alerts-title">
            <h2 id="slo-alerts-title">"Alerts of "{service.clone()}</h2>
            <p><a href=href data-testid="slo-service-alerts">{format!("Open {service}: its alerts, deploys and SLOs on one timeline")}</a></p>
            <p class="muted">"Why the numbers can differ: this SLO counts good and bad events over its whole window against the objective, while an alert fires when one rule's threshold holds for its own short time. A brief spike can fire an alert and hardly touch the budget; many small failures, each below every alert's threshold, can burn the budget with no alert open. The SLO's own burn-rate rules (above) are the alerts that follow the budget."</p>
        </section>
    }
}

#[component]
fn SloDetailView(detail: SloDetail) -> impl IntoView {
    let SloDetail {
        slo,
        budget_series,
        deploys,
    } = detail;
    let evaluation = slo.evaluation.clone();
    let budget_svg = budget_chart(&budget_series, slo.window_days, now_ms(), &deploys);
    let burn_svg = evaluation
        .as_ref()
        .map(|e| burn_chart(&e.burn_rates))
        .unwrap_or_default();
    let burn_label = evaluation
        .as_ref()
        .map(|e| {
            let parts: Vec<String> = e
                .burn_rates
                .iter()
                .map(|b| {
                    format!(
                        "{} {}",
                        b.window.as_str(),
                        b.burn_rate
                            .map(|r| format!("{r:.1}x"))
                            .unwrap_or_else(|| "no data".into())
                    )
                })
                .collect();
            format!("Burn rate per window: {}.", parts.join(", "))
        })
        .unwrap_or_default();
    let budget_label = format!(
        "Error budget left over the last {} days, by hour.",
        slo.window_days
    );
    view! {
        <div class="page-head">
            <h1>{format!("{} / {}", slo.service, slo.name)}" "{firing_badge(evaluation.as_ref())}</h1>
            <p class="muted">{format!("{} of {} over {} days, from {}.", percent(slo.objective, 3), slo.sli.as_str(), slo.window_days, slo.source_label())}
                {slo.evaluated_at.map(|at| view! { " Evaluated "<TimeAgo ms=at/>"." })}</p>
        </div>
        {slo.evaluation_error.clone().map(|e| view! { <div class="note note-error" role="alert"><strong>"The last evaluation failed: "</strong>{e}</div> })}
        {match &evaluation {
            None => view! { <section class="card"><EmptyState title="Not evaluated yet"><p>"SLOs are evaluated every 30 seconds."</p></EmptyState></section> }.into_any(),
            Some(e) => view! {
                <section class="card" aria-labelledby="budget-title">
                    <h2 id="budget-title">{format!("Error budget: {} left", percent(e.budget.remaining, 1))}</h2>
                    <p class="explain">{e.budget.explain()}</p>
                    <p class="forecast" data-testid="exhaustion"><strong>{crate::health::slo::exhaustion(e.budget.remaining, e.hourly_burn(), slo.window_days)}</strong></p>
                    {short_window_note(&budget_series, slo.window_days)}
                    <div class="chart" role="img" aria-label=budget_label inner_html=budget_svg></div>
                    <crate::components::deploy::DeployMarkersNote deploys/>
                </section>
            }.into_any(),
        }}
        <ServiceAlertsLink service=slo.service.clone()/>
        {evaluation.clone().map(|e| view! {
            <section class="card" aria-labelledby="burn-title">
                <h2 id="burn-title">"Burn rate per window"</h2>
                <div class="chart" role="img" aria-label=burn_label inner_html=burn_svg></div>
            </section>
            <div class="grid-2">
                <section class="card" aria-labelledby="rules-title">
                    <h2 id="rules-title">"Alerting rules"</h2>
                    <ul class="rules">
                        {RULES.iter().map(|rule| {
                            let fires = e.firing.iter().any(|f| f == rule);
                            let severity = match rule.severity { RuleSeverity::Page => "page", RuleSeverity::Ticket => "ticket" };
                            view! {
                                <li class=if fires { "rule rule-firing" } else { "rule" }>
                                    <strong>{if fires { "Firing" } else { "Quiet" }}</strong>
                                    {format!(" · {severity}: {} (spends {} of the budget)", rule.label(), percent(rule.budget_spent(30), 0))}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </section>
                <section class="card" aria-labelledby="windows-title">
                    <h2 id="windows-title">"Windows"</h2>
                    <div class="table-wrap">
                        <table class="table">
                            <thead><tr><th scope="col">"Window"</th><th scope="col">"Good / total"</th><th scope="col">"Burn"</th></tr></thead>
                            <tbody>
                                {e.burn_rates.iter().map(|b| view! {
                                    <tr><td>{b.window.as_str()}</td><td>{format!("{} / {}", b.good, b.total)}</td>
                                        <td>{b.burn_rate.map(|r| format!("{r:.2}x")).unwrap_or_else(|| "no data".into())}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                </section>
            </div>
        })}
    }
}
