//! The dialog that puts a flag back as a history entry left it, the way out when a flag change
//! went wrong: what it changes from what serves now, a reason for the audit trail, and where a
//! protected environment is served differently, its name typed out.

use crate::api::RestoreFlag;
use crate::catalog::Environment;
use crate::components::change_fields::{change_fields, ChangeFields, ReasonFields};
use crate::components::flags::reaches_protected;
use crate::components::modal::Modal;
use crate::flags::change::protected_reached;
use crate::flags::restore::{entry_name, restore_changes, restored};
use crate::flags::{Flag, FlagChange};
use leptos::prelude::*;

/// A restore someone opened from the history.
#[derive(Debug, Clone, PartialEq)]
pub struct RestoreRequest {
    pub key: String,
    pub change_id: i64,
    /// "version 4".
    pub name: String,
    /// The version the page shows, which the restore replaces.
    pub current_version: i64,
    /// What changes, in words.
    pub changes: Vec<String>,
    /// The protected environments served differently after it.
    pub protected: Vec<String>,
}

impl RestoreRequest {
    /// `None` when the entry serves what the flag serves now: nothing to restore.
    pub fn new(current: &Flag, entry: &FlagChange, environments: &[Environment]) -> Option<Self> {
        let changes = restore_changes(current, &entry.flag);
        (!changes.is_empty()).then(|| RestoreRequest {
            key: current.key.clone(),
            change_id: entry.id,
            name: entry_name(entry.flag.version, entry.id),
            current_version: current.version,
            changes,
            protected: protected_reached(current, &restored(current, &entry.flag), environments),
        })
    }
}

#[component]
pub fn RestoreDialog(request: RwSignal<Option<RestoreRequest>>) -> impl IntoView {
    let action = ServerAction::<RestoreFlag>::new();
    let (asked, close) = change_fields(request, action);
    let ChangeFields { reason, confirm } = asked;
    let content = move || {
        request.get().map(|r| {
            let ready = {
                let protected = r.protected.clone();
                move || asked.typed(&protected)
            };
            let submit = {
                let r = r.clone();
                move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    action.dispatch(RestoreFlag {
                        key: r.key.clone(),
                        change_id: r.change_id,
                        version: r.current_version,
                        reason: reason.get_untracked(),
                        confirm: Some(confirm.get_untracked()),
                    });
                }
            };
            let reaches = reaches_protected(&r.protected);
            let verb = format!("Restore {}", r.name);
            view! {
                <h2 id="restore-title">{format!("Restore {} to {}?", r.key, r.name)}</h2>
                <form on:submit=submit class="dialog-form">
                    <p class="muted">{format!("This makes version {} with the settings {} had. From what serves now:", r.current_version + 1, r.name)}</p>
                    <ul class="small" data-testid="restore-changes">
                        {r.changes.iter().map(|c| view! { <li>{c.clone()}</li> }).collect_view()}
                    </ul>
                    {reaches.map(|text| view! { <p class="note">{text}</p> })}
                    <ReasonFields reason confirm protected=r.protected.first().cloned()/>
                    {move || action.value().get().and_then(|r| r.err()).map(|e| view! { <p class="note note-error" role="alert">{e.message}</p> })}
                    <div class="dialog-actions">
                        <button class="btn btn-ghost" type="button" on:click=move |_| close()>"Cancel"</button>
                        <button class="btn btn-primary" type="submit" disabled=move || action.pending().get() || !ready()>
                            {move || if action.pending().get() { "Sending…".to_string() } else { verb.clone() }}
                        </button>
                    </div>
                </form>
            }
        })
    };
    view! {
        <Modal open=Signal::derive(move || request.with(Option::is_some))
            on_close=Callback::new(move |_| close()) labelled_by="restore-title">
            {content}
        </Modal>
    }
}
