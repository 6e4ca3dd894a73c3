//! Sections whose capability is still being built say what they will hold, so the shell is honest
//! about what works today.

use crate::components::nav::Section;
use leptos::prelude::*;
use leptos_meta::Title;

fn promise(section: Section) -> (&'static str, &'static [&'static str]) {
    match section {
        Section::Deployments => (
            "Deploy a version to an environment, watch it go out live, roll back in one click.",
            &[
                "Environment matrix: every service × environment with version, status and age",
                "Deploy, promote and rollback with reasons on the audit trail",
                "Automatic rollback when health checks fail in the watch window",
            ],
        ),
        Section::Health => (
            "Every component's health at a glance.",
            &[
                "HTTP and TCP probes on an interval",
                "Prometheus-backed status",
                "Latency charts",
            ],
        ),
        Section::Slos => (
            "Error budgets and burn rates, with the arithmetic shown.",
            &[
                "Multi-window, multi-burn-rate rules",
                "Budget and burn charts",
            ],
        ),
        Section::Alerts => (
            "A chronological alert feed with acknowledge and escalate.",
            &[
                "Alertmanager webhook and API",
                "Escalation policies",
                "Silences",
            ],
        ),
        Section::Builds => (
            "CI build analytics and failure prediction.",
            &[
                "Duration, failure-rate and coverage charts",
                "Predictions against a naive baseline",
            ],
        ),
        Section::Config => (
            "Runtime configuration and feature flags per environment.",
            &[
                "Masked, audited sensitive values",
                "Flags served over OFREP",
            ],
        ),
        _ => ("", &[]),
    }
}

#[component]
pub fn ComingPage(section: Section) -> impl IntoView {
    let (summary, items) = promise(section);
    view! {
        <Title text=section.label()/>
        <h1>{section.label()}</h1>
        <div class="card coming">
            <p class="lead">{summary}</p>
            <p class="muted">"This section is being built. It will hold:"</p>
            <ul>{items.iter().map(|i| view! { <li>{*i}</li> }).collect_view()}</ul>
        </div>
    }
}
