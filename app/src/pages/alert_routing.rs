//! Alert routing on the settings page: where notifications go (channels, in `alert_channels`) and
//! who is told when (escalation policies). Everyone signed in sees them, webhook URLs masked;
//! admins add, change and remove them, each removal confirmed first.

use super::alert_channels::Channels;
use crate::api::codec::resource;
use crate::api::*;
use crate::components::common::*;
use crate::components::editing::*;
use crate::health::alert::Matcher;
use crate::health::escalation::EscalationPolicy;
use crate::health::routing_form::{format_delay, format_matchers, format_steps};
use leptos::prelude::*;

#[component]
pub fn AlertRouting(is_admin: Signal<bool>) -> impl IntoView {
    view! {
        <Channels is_admin/>
        <Policies is_admin/>
    }
}

#[component]
fn Policies(is_admin: Signal<bool>) -> impl IntoView {
    let create = ServerAction::<CreatePolicy>::new();
    let update = ServerAction::<UpdatePolicy>::new();
    let remove = ServerAction::<RemovePolicy>::new();
    let policies = resource(
        move || {
            (
                create.version().get(),
                update.version().get(),
                remove.version().get(),
            )
        },
        |_| list_policies(),
    );
    let confirming = RwSignal::new(None::<i64>);
    let editing = RwSignal::new(None::<EscalationPolicy>);
    Effect::new(move |_| {
        if let Some(Ok(_)) = update.value().get() {
            editing.set(None);
        }
    });
    view! {
        <section class="card" aria-labelledby="policies-title">
            <div class="card-head"><h2 id="policies-title">"Escalation policies"</h2></div>
            {action_error(move || remove.value().get())}
            <p class="muted">"The first policy, by rank, whose matchers fit an alert owns it. Each step waits its delay after the previous one and notifies its channel, until someone acknowledges."</p>
            <Transition fallback=|| view! { <LoadingRows rows=2/> }>
                {move || policies.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState title="No escalation policies yet">
                            <p>"Without one, alerts are recorded and shown but nobody is notified."</p>
                        </EmptyState>
                    }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap">
                            <table class="table">
                                <thead><tr>
                                    <th scope="col">"Rank"</th>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Alerts it owns"</th>
                                    <th scope="col">"Steps"</th>
                                    <AdminColumn is_admin/>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|p| view! { <PolicyRow p is_admin remove confirming editing/> }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                })}
            </Transition>
            <Show when=move || is_admin.get()>
                {move || editing.get().map(|p| view! { <EditPolicy p update editing/> })}
                <details class="form-panel">
                    <summary>"Add a policy"</summary>
                    <ActionForm action=create attr:class="form-grid">
                        <PolicyFields/>
                        {action_error(move || create.value().get())}
                        <button class="btn btn-primary" type="submit" disabled=move || create.pending().get()>"Add policy"</button>
                    </ActionForm>
                </details>
            </Show>
        </section>
    }
}

#[component]
fn PolicyRow(
    p: EscalationPolicy,
    is_admin: Signal<bool>,
    remove: ServerAction<RemovePolicy>,
    confirming: RwSignal<Option<i64>>,
    editing: RwSignal<Option<EscalationPolicy>>,
) -> impl IntoView {
    let (id, name) = (p.id, p.name.clone());
    let editable = p.clone();
    let matchers = if p.matchers.is_empty() {
        "every alert".to_string()
    } else {
        p.matchers
            .iter()
            .map(Matcher::describe)
            .collect::<Vec<_>>()
            .join(", ")
    };
    view! {
        <tr>
            <td>{p.rank}</td>
            <td>{p.name}</td>
            <td><code>{matchers}</code></td>
            <td>
                <ol class="steps">
                    {p.steps.into_iter().map(|s| view! {
                        <li>{match s.delay_s {
                            0 => format!("at once: {}", s.channel),
                            delay => format!("after {}: {}", format_delay(delay), s.channel),
                        }}</li>
                    }).collect_view()}
                </ol>
            </td>
            <Show when=move || is_admin.get()>
                <td><div class="row-actions">
                    <button class="btn btn-ghost" type="button" on:click={
                        let editable = editable.clone();
                        move |_| editing.set(Some(editable.clone()))
                    }>"Edit"</button>
                    <ConfirmRemove
                        id
                        confirming
                        question=format!("Remove policy '{name}'? The open alerts it owns stop escalating; new alerts go to the next policy that matches.")
                        confirm_label="Remove policy"
                        on_confirm=Callback::new(move |_| { remove.dispatch(RemovePolicy { id }); })
                    />
                </div></td>
            </Show>
        </tr>
    }
}

/// The policy form again, filled in with policy `p`; saving replaces it whole. The open alerts it
/// owns keep their place in it.
#[component]
fn EditPolicy(
    p: EscalationPolicy,
    update: ServerAction<UpdatePolicy>,
    editing: RwSignal<Option<EscalationPolicy>>,
) -> impl IntoView {
    let first = NodeRef::<leptos::html::Input>::new();
    view! {
        <EditPanel
            title=format!("Change policy '{}'", p.name)
            note="Open alerts it owns keep their place: their next step is the new step at that position."
            first
        >
            <ActionForm action=update attr:class="form-grid">
                <input type="hidden" name="id" value=p.id/>
                <PolicyFields p name_ref=first/>
                {action_error(move || update.value().get())}
                <EditButtons save_label="Save policy" pending=update.pending().into() editing/>
            </ActionForm>
        </EditPanel>
    }
}

/// The policy form's four fields, empty to add a policy or filled in with `p` to change it.
#[component]
fn PolicyFields(
    #[prop(optional)] p: Option<EscalationPolicy>,
    #[prop(optional)] name_ref: NodeRef<leptos::html::Input>,
) -> impl IntoView {
    let (name, rank, matchers, steps) = match &p {
        Some(p) => (
            p.name.clone(),
            p.rank.to_string(),
            format_matchers(&p.matchers),
            format_steps(&p.steps),
        ),
        None => (String::new(), "0".into(), String::new(), String::new()),
    };
    view! {
        <label>"Name" <input name="name" required=true placeholder="e.g. critical to on-call" autocomplete="off" value=name node_ref=name_ref/></label>
        <label>"Rank (lower first)" <input name="rank" type="number" step="1" value=rank/></label>
        <label>"Matchers (empty: every alert)"
            <input name="matchers" autocomplete="off" placeholder="severity=\"critical\", job=~\"api|web\"" value=matchers/>
        </label>
        <label>"Steps, one per line: delay, then channel"
            <textarea name="steps" required=true rows="3" placeholder="0 oncall-slack\n15m email-leads" prop:value=steps></textarea>
        </label>
    }
}
