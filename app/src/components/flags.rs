//! A flag's state shown the same on the flags list and a flag's page, and the dialog that asks
//! before switching one.

use crate::api::ToggleFlag;
use crate::catalog::Environment;
use crate::components::change_fields::{change_fields, ChangeFields, ReasonFields};
use crate::components::modal::Modal;
use crate::flags::change::{protected_reached, with_setting, Setting};
use crate::flags::{describe_rollout, Flag};
use leptos::prelude::*;

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
