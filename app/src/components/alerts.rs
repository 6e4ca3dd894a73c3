//! Pieces of the alert pages: severity and status badges (words and color, never color alone)
//! and the acknowledge / escalate / resolve buttons.

use crate::api::ActOnAlert;
use crate::health::alert::*;
use leptos::prelude::*;

#[component]
pub fn SeverityBadge(severity: Severity) -> impl IntoView {
    view! { <span class=format!("badge severity severity-{}", severity.as_str())>{severity.label()}</span> }
}

#[component]
pub fn AlertStatusBadge(status: AlertStatus) -> impl IntoView {
    view! { <span class=format!("badge alert-status alert-status-{}", status.as_str())>{status.label()}</span> }
}

/// The actions the alert's state allows. Resolve asks once more: it ends escalation and tells
/// every notified channel.
#[component]
pub fn AlertActions(
    alert_id: i64,
    status: AlertStatus,
    act: ServerAction<ActOnAlert>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let pending = act.pending();
    let run = move |action: AlertAction| {
        confirming.set(false);
        act.dispatch(ActOnAlert {
            id: alert_id,
            action,
            note: None,
        });
    };
    let allowed = |action| transition(status, action).is_ok();
    view! {
        <div class="alert-actions">
            {allowed(AlertAction::Acknowledge).then(|| view! {
                <button class="btn btn-small btn-primary" type="button" disabled=move || pending.get()
                    on:click=move |_| run(AlertAction::Acknowledge)>"Acknowledge"</button>
            })}
            {allowed(AlertAction::Escalate).then(|| view! {
                <button class="btn btn-small" type="button" disabled=move || pending.get()
                    on:click=move |_| run(AlertAction::Escalate)>"Escalate"</button>
            })}
            {allowed(AlertAction::Resolve).then(|| view! {
                <Show when=move || confirming.get() fallback=move || view! {
                    <button class="btn btn-small btn-ghost" type="button" on:click=move |_| confirming.set(true)>"Resolve…"</button>
                }>
                    <span class="confirm">
                        <button class="btn btn-small btn-ghost" type="button" on:click=move |_| confirming.set(false)>"Keep open"</button>
                        <button class="btn btn-small btn-danger" type="button" disabled=move || pending.get()
                            on:click=move |_| run(AlertAction::Resolve)>"Resolve"</button>
                    </span>
                </Show>
            })}
        </div>
    }
}
