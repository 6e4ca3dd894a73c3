//! Notification channels on the settings page: everyone signed in sees them, webhook URLs masked;
//! admins add, change (a rotated webhook URL, a new name) and remove them.

use crate::api::codec::resource;
use crate::api::*;
use crate::components::common::*;
use crate::components::editing::*;
use crate::health::escalation::{Channel, ChannelKind};
use leptos::prelude::*;

#[component]
pub(super) fn Channels(is_admin: Signal<bool>) -> impl IntoView {
    let create = ServerAction::<CreateChannel>::new();
    let update = ServerAction::<UpdateChannel>::new();
    let remove = ServerAction::<RemoveChannel>::new();
    let channels = resource(
        move || {
            (
                create.version().get(),
                update.version().get(),
                remove.version().get(),
            )
        },
        |_| list_channels(),
    );
    let confirming = RwSignal::new(None::<i64>);
    let editing = RwSignal::new(None::<Channel>);
    Effect::new(move |_| {
        if let Some(Ok(_)) = update.value().get() {
            editing.set(None);
        }
    });
    view! {
        <section class="card" aria-labelledby="channels-title">
            <div class="card-head"><h2 id="channels-title">"Notification channels"</h2></div>
            {action_error(move || remove.value().get())}
            <Transition fallback=|| view! { <LoadingRows rows=2/> }>
                {move || channels.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState title="No channels yet">
                            // A viewer reads this page too: tell them who can, not to do what they cannot.
                            <p>{move || if is_admin.get() { "Add" } else { "An admin adds" }}
                                " a Slack incoming webhook, a JSON webhook or email addresses here; escalation policies notify them."</p>
                        </EmptyState>
                    }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap">
                            <table class="table">
                                <thead><tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Kind"</th>
                                    <th scope="col">"Target"</th>
                                    <th scope="col">"Added"</th>
                                    <AdminColumn is_admin/>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|c| {
                                        let (id, name) = (c.id, c.name.clone());
                                        let editable = c.clone();
                                        view! {
                                            <tr>
                                                <td>{c.name}</td>
                                                <td>{c.kind.as_str()}</td>
                                                <td><code>{c.target}</code></td>
                                                <td>{c.created_by}" · "<TimeAgo ms=c.created_at/></td>
                                                <Show when=move || is_admin.get()>
                                                    <td><div class="row-actions">
                                                        <button class="btn btn-ghost" type="button" on:click={
                                                            let editable = editable.clone();
                                                            move |_| editing.set(Some(editable.clone()))
                                                        }>"Edit"</button>
                                                        <ConfirmRemove
                                                            id
                                                            confirming
                                                            question=format!("Remove channel '{name}'? Notifications not yet sent to it are given up; those sent stay on their alerts.")
                                                            confirm_label="Remove channel"
                                                            on_confirm=Callback::new(move |_| { remove.dispatch(RemoveChannel { id }); })
                                                        />
                                                    </div></td>
                                                </Show>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                })}
            </Transition>
            <Show when=move || is_admin.get()>
                {move || editing.get().map(|c| view! { <EditChannel c update editing/> })}
                <details class="form-panel">
                    <summary>"Add a channel"</summary>
                    <ActionForm action=create attr:class="form-grid">
                        <ChannelFields/>
                        {action_error(move || create.value().get())}
                        <button class="btn btn-primary" type="submit" disabled=move || create.pending().get()>"Add channel"</button>
                    </ActionForm>
                </details>
            </Show>
        </section>
    }
}

/// The channel form again, filled in with channel `c` but for its target, which is shown masked
/// and so cannot be: left empty, the current one stays.
#[component]
fn EditChannel(
    c: Channel,
    update: ServerAction<UpdateChannel>,
    editing: RwSignal<Option<Channel>>,
) -> impl IntoView {
    let first = NodeRef::<leptos::html::Input>::new();
    view! {
        <EditPanel
            title=format!("Change channel '{}'", c.name)
            note="Notifications not yet sent go to the new target; policies' steps follow the channel."
            first
        >
            <ActionForm action=update attr:class="form-grid">
                <input type="hidden" name="id" value=c.id/>
                <ChannelFields c name_ref=first/>
                {action_error(move || update.value().get())}
                <EditButtons save_label="Save channel" pending=update.pending().into() editing/>
            </ActionForm>
        </EditPanel>
    }
}

/// The channel form's three fields, empty to add a channel or filled in with `c` to change it.
#[component]
fn ChannelFields(
    #[prop(optional)] c: Option<Channel>,
    #[prop(optional)] name_ref: NodeRef<leptos::html::Input>,
) -> impl IntoView {
    let (name, kind, target_hint) = match &c {
        Some(c) => (
            c.name.clone(),
            Some(c.kind),
            format!("empty keeps {}", c.target),
        ),
        None => (
            String::new(),
            None,
            "https://hooks.slack.com/services/…".into(),
        ),
    };
    let adding = c.is_none();
    view! {
        <label>"Name" <input name="name" required=true placeholder="e.g. oncall-slack" autocomplete="off" value=name node_ref=name_ref/></label>
        <label>"Kind"
            <select name="kind">
                {ChannelKind::ALL.iter().map(|k| view! {
                    <option value=k.as_str() selected=Some(*k) == kind>{k.as_str()}</option>
                }).collect_view()}
            </select>
        </label>
        <label>"Target: the webhook URL, or email addresses separated by commas"
            <input name="target" required=adding autocomplete="off" placeholder=target_hint/>
        </label>
    }
}
