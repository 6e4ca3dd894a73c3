//! How healthy something is, shown the same on every page: a component's status badge and an
//! SLO's budget left.

use crate::health::slo::percent;
use crate::health::HealthStatus;
use leptos::prelude::*;

#[component]
pub fn HealthStatusBadge(status: HealthStatus) -> impl IntoView {
    view! { <span class=format!("badge health health-{}", status.as_str())>{status.label()}</span> }
}

/// The budget left as a bar and a number (the number carries the meaning; the bar is a glance).
#[component]
pub fn BudgetBar(remaining: f64) -> impl IntoView {
    let width = (remaining.clamp(0.0, 1.0) * 100.0).round();
    let class = if remaining <= 0.0 {
        "budget budget-spent"
    } else if remaining < 0.25 {
        "budget budget-low"
    } else {
        "budget"
    };
    view! {
        <span class=class>
            <span class="budget-bar" aria-hidden="true"><span style=format!("width: {width}%")></span></span>
            {percent(remaining, 1)}
        </span>
    }
}
