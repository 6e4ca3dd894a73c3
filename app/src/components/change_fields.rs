//! What every change of what an environment runs or reads asks before it goes (flags,
//! runtime config): a reason for the audit trail and, where it reaches a protected environment,
//! that environment's name typed out, the rule the server functions check too.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// What every change asks: a reason for the audit trail, and where `protected` names a
/// protected environment (the first the change reaches), its name typed out.
#[component]
pub fn ReasonFields(
    reason: RwSignal<String>,
    confirm: RwSignal<String>,
    protected: Option<String>,
) -> impl IntoView {
    view! {
        <label>"Reason"
            <input name="reason" autocomplete="off" placeholder="Why, for the audit trail"
                on:input=move |ev| reason.set(event_target_value(&ev)) prop:value=move || reason.get()/>
        </label>
        {protected.map(|name| view! { <ProtectedName name confirm/> })}
    }
}

/// The protected environment `name`'s name, typed out to confirm a change that reaches it.
#[component]
pub fn ProtectedName(name: String, confirm: RwSignal<String>) -> impl IntoView {
    view! {
        <label class="confirm-type">
            {format!("{name} is protected. Type its name to confirm")}
            <input name="confirm" autocomplete="off" spellcheck="false"
                on:input=move |ev| confirm.set(event_target_value(&ev)) prop:value=move || confirm.get()/>
        </label>
    }
}

/// What every change dialog keeps while it is open: the reason and the typed name.
#[derive(Clone, Copy)]
pub struct ChangeFields {
    pub reason: RwSignal<String>,
    pub confirm: RwSignal<String>,
}

impl ChangeFields {
    /// Whether the change may go: it reaches no protected environment, or the first one's
    /// name is typed (what the server functions check).
    pub fn typed(self, protected: &[String]) -> bool {
        protected
            .first()
            .is_none_or(|name| self.confirm.with(|typed| typed.trim() == name))
    }
}

/// The fields of a dialog opened by `request` that sends `action`, and how it closes: the
/// request, the action's answer and the fields cleared. It closes by itself once the action
/// succeeds, ready for the next opening.
pub fn change_fields<R, S>(
    request: RwSignal<Option<R>>,
    action: ServerAction<S>,
) -> (ChangeFields, impl Fn() + Copy + Send + Sync + 'static)
where
    R: Send + Sync + 'static,
    S: ServerFn + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
{
    let fields = ChangeFields {
        reason: RwSignal::new(String::new()),
        confirm: RwSignal::new(String::new()),
    };
    let close = move || {
        request.set(None);
        action.value().set(None);
        fields.reason.set(String::new());
        fields.confirm.set(String::new());
    };
    Effect::new(move |_| {
        if action.value().with(|v| matches!(v, Some(Ok(_)))) {
            close();
        }
    });
    (fields, close)
}
