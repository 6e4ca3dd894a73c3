//! The pieces the admin editing tables share (Settings' users and tokens, alert routing and
//! channels): the change form below a table, its Cancel / Save buttons, the actions column's
//! header, the two-step Remove, and the error line under a form.

use crate::components::confirm::{Asking, ConfirmInPlace};
use leptos::prelude::*;

/// The error of the last `value` (a server action's), as an alert line; nothing otherwise.
pub fn action_error<T: 'static>(
    value: impl Fn() -> Option<Result<T, crate::error::AppError>> + Send + 'static,
) -> impl IntoView {
    move || {
        value().and_then(|r| r.err()).map(|e| {
            view! { <p class="note note-error" role="alert">{e.message}</p> }
        })
    }
}

/// A change form below its table: titled, saying what saving does, and taking the keyboard's
/// focus on `first` when it opens (on a phone it is off-screen otherwise).
#[component]
pub fn EditPanel(
    title: String,
    note: &'static str,
    first: NodeRef<leptos::html::Input>,
    children: Children,
) -> impl IntoView {
    Effect::new(move |_| {
        if let Some(input) = first.get() {
            let _ = input.focus();
        }
    });
    let label = title.clone();
    view! {
        <section class="form-panel" aria-label=label>
            <h3>{title}</h3>
            <p class="muted">{note}</p>
            {children()}
        </section>
    }
}

/// Cancel (closes the change form by clearing `editing`) and Save, disabled while saving.
#[component]
pub fn EditButtons<T: Send + Sync + 'static>(
    save_label: &'static str,
    pending: Signal<bool>,
    editing: RwSignal<Option<T>>,
) -> impl IntoView {
    view! {
        <div class="row-actions">
            <button class="btn btn-ghost" type="button" on:click=move |_| editing.set(None)>"Cancel"</button>
            <button class="btn btn-primary" type="submit" disabled=move || pending.get()>{save_label}</button>
        </div>
    }
}

/// The header of the admins' actions column.
#[component]
pub fn AdminColumn(is_admin: Signal<bool>) -> impl IntoView {
    view! {
        <Show when=move || is_admin.get()>
            <th scope="col"><span class="sr-only">"Actions"</span></th>
        </Show>
    }
}

/// "Remove…", then the consequences and a second button: removing routing changes who hears
/// of alerts, so it is never one click. One row of a table asks at a time (`confirming` holds its
/// id).
#[component]
pub fn ConfirmRemove(
    id: i64,
    confirming: RwSignal<Option<i64>>,
    question: String,
    confirm_label: &'static str,
    on_confirm: Callback<()>,
) -> impl IntoView {
    view! {
        <ConfirmInPlace asking=Asking::Row(confirming, id) ask="Remove…" class="btn-danger-ghost"
            keep="Cancel" act=confirm_label on_confirm>
            <span>{question.clone()}</span>
        </ConfirmInPlace>
    }
}
