//! A flag's state shown the same on the flags list and a flag's page, and the dialog that asks
//! before switching one.

use crate::api::ToggleFlag;
use crate::catalog::Environment;
use crate::components::modal::Modal;
use crate::flags::change::{protected_reached, with_setting, Setting};
use crate::flags::{describe_rollout, Flag};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// What serves when no rule matches, in words: "off", or "on 30% · off 70%".
pub fn serves(flag: &Flag) -> String {
    match &flag.rollout {
        _ if !flag.enabled => format!("{} (disabled)", flag.default_variant),
        Some(rollout) => describe_rollout(rollout),
        None => flag.default_variant.clone(),
    }
}

pub fn state_badge(flag: &Flag) -> impl IntoView {
    let (class, text) = if flag.enabled {
        ("badge status-succeeded", "On")
    } else {
        ("badge status-cancelled", "Off")
    };
    view! { <span class=class>{text}</span> }
}

/// A switch someone asked for, waiting for their confirmation.
#[derive(Debug, Clone, PartialEq)]
pub struct ToggleRequest {
    pub key: String,
    /// `None`: the flag's base setting (every environment without its own).
    pub environment: Option<String>,
    pub enable: bool,
    /// The protected environments it changes what serves in.
    pub protected: Vec<String>,
}

impl ToggleRequest {
    /// The switch to the other state, in `environment` or the base settings.
    pub fn new(flag: &Flag, environments: &[Environment], environment: Option<&str>) -> Self {
        let enable = !flag.settings_for(environment).enabled;
        let after = with_setting(flag, environment, &Setting::Enabled(enable));
        ToggleRequest {
            key: flag.key.clone(),
            environment: environment.map(str::to_string),
            enable,
            protected: protected_reached(flag, &after, environments),
        }
    }
}

/// Which protected environments a change reaches, in words, for a change that does not name
/// its environment (the base settings, a restore).
pub fn reaches_protected(protected: &[String]) -> Option<String> {
    let verb = if protected.len() == 1 {
        "serves"
    } else {
        "serve"
    };
    (!protected.is_empty()).then(|| format!("It changes what {} {verb}.", protected.join(" and ")))
}

/// What every change of a flag asks: a reason for the audit trail, and where `protected` names
/// a protected environment (the first the change reaches), its name typed out.
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
        {protected.map(|name| view! {
            <label class="confirm-type">
                {format!("{name} is protected. Type its name to confirm")}
                <input name="confirm" autocomplete="off" spellcheck="false"
                    on:input=move |ev| confirm.set(event_target_value(&ev)) prop:value=move || confirm.get()/>
            </label>
        })}
    }
}

/// What every flag dialog keeps while it is open: the reason and the typed name.
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

/// Asks before switching a flag: a reason for the audit trail, and in a protected environment
/// its name typed out.
#[component]
pub fn ToggleDialog(request: RwSignal<Option<ToggleRequest>>) -> impl IntoView {
    let action = ServerAction::<ToggleFlag>::new();
    let (asked, close) = change_fields(request, action);
    let ChangeFields { reason, confirm } = asked;
    let content = move || {
        request.get().map(|r| {
            let verb = if r.enable { "Turn on" } else { "Turn off" };
            let place = match &r.environment {
                Some(e) => format!("in {e}"),
                None => "everywhere it has no setting of its own".to_string(),
            };
            let ready = {
                let protected = r.protected.clone();
                move || asked.typed(&protected)
            };
            let submit = {
                let r = r.clone();
                move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    action.dispatch(ToggleFlag {
                        key: r.key.clone(),
                        enabled: r.enable,
                        reason: reason.get_untracked(),
                        environment: r.environment.clone(),
                        confirm: Some(confirm.get_untracked()),
                    });
                }
            };
            view! {
                <h2 id="toggle-title">{format!("{verb} {} {place}?", r.key)}</h2>
                <form on:submit=submit class="dialog-form">
                    {r.environment.is_none().then(|| reaches_protected(&r.protected)).flatten().map(|text| view! { <p class="note">{text}</p> })}
                    <ReasonFields reason confirm protected=r.protected.first().cloned()/>
                    {move || action.value().get().and_then(|r| r.err()).map(|e| view! { <p class="note note-error" role="alert">{e.message}</p> })}
                    <div class="dialog-actions">
                        <button class="btn btn-ghost" type="button" on:click=move |_| close()>"Cancel"</button>
                        <button class=if r.enable { "btn btn-primary" } else { "btn btn-danger" } type="submit"
                            disabled=move || action.pending().get() || !ready()>
                            {move || if action.pending().get() { "Sending…" } else { verb }}
                        </button>
                    </div>
                </form>
            }
        })
    };
    view! {
        <Modal open=Signal::derive(move || request.with(Option::is_some))
            on_close=Callback::new(move |_| close()) labelled_by="toggle-title">
            {content}
        </Modal>
    }
}
