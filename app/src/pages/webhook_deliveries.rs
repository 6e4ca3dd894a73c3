//! The latest CI/CD webhook deliveries on the settings page (admins): when each arrived, which
//! event, its id at the sender, and what applying it did. Whoever sets a webhook up looks here
//! for its first delivery; whoever wonders why a deployment never showed looks for its refusal.
//! Live: each batch the inbox applies is an event on the `webhooks` topic.

use crate::api::codec::resource;
use crate::api::*;
use crate::components::common::*;
use crate::live::changes_on;
use crate::webhook_settings::{DeliveryState, WebhookDelivery, TOPIC};
use leptos::prelude::*;

/// Deliveries listed here; `GET /api/v1/webhooks/deliveries` gives the latest 100.
const SHOWN: usize = 20;

#[component]
pub fn WebhookDeliveries() -> impl IntoView {
    // Live: the inbox says when it has applied deliveries, and the list loads again.
    let applied = changes_on(TOPIC);
    let list = resource(move || applied.get(), |_| webhook_deliveries());
    view! {
        <section class="card" aria-labelledby="deliveries-title">
            <div class="card-head">
                <h2 id="deliveries-title">"Recent webhook deliveries"</h2>
            </div>
            <p class="muted">
                "A CI run is a build on the Builds page as soon as it arrives; here is what each delivery then did "
                "to releases and deployments. The delivery id is the one GitHub and GitLab show in their own logs: "
                "once what a refused delivery names is fixed, redeliver it there and it is applied again."
            </p>
            <Transition fallback=|| view! { <LoadingRows rows=3/> }>
                {move || list.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState title="No deliveries yet">
                            <p>"Once a webhook sends Workflow runs, Deployment statuses, Pipeline or Deployment events, each one shows here. "
                                "A refused request (a wrong secret, say) is not stored: the sender's log shows its answer."</p>
                        </EmptyState>
                    }.into_any(),
                    Ok(list) => {
                        let more = list.len().saturating_sub(SHOWN);
                        view! {
                            <div class="table-wrap">
                                <table class="table phone-cards">
                                    <thead><tr>
                                        <th scope="col">"Received"</th>
                                        <th scope="col">"Event"</th>
                                        <th scope="col">"Result"</th>
                                        <th scope="col">"Detail"</th>
                                    </tr></thead>
                                    <tbody>
                                        {list.into_iter().take(SHOWN).map(|d| view! { <DeliveryRow d/> }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            {(more > 0).then(|| view! {
                                <p class="muted">{format!("{more} older ones: GET /api/v1/webhooks/deliveries lists the latest 100.")}</p>
                            })}
                        }.into_any()
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn DeliveryRow(d: WebhookDelivery) -> impl IntoView {
    let state = d.state();
    let tone = match state {
        DeliveryState::Applied => "badge health-healthy",
        DeliveryState::Refused => "badge health-down",
        DeliveryState::Waiting | DeliveryState::Ignored => "badge",
    };
    let detail = match state {
        DeliveryState::Waiting => "Stored; applied in the order deliveries arrived.".to_string(),
        _ => d.detail().to_string(),
    };
    view! {
        <tr>
            <td><TimeAgo ms=d.received_at/></td>
            <td class="card-end">{d.event_label()}
                <div class="cell-meta"><code>{d.delivery_id.clone()}</code></div>
            </td>
            <td><span class=tone>{state.label()}</span></td>
            <td class="card-wide">{detail}</td>
        </tr>
    }
}
