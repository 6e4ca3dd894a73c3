//! The dialog that changes a flag's percentage rollout, the daily work of a gradual release
//! (10%, then 50%, then everyone): a share per variant that must sum to 100, where the change
//! reaches, a reason for the audit trail, and in a protected environment its name typed out.

use crate::api::SetFlagRollout;
use crate::catalog::Environment;
use crate::components::change_fields::{change_fields, ChangeFields, ReasonFields};
use crate::components::modal::Modal;
use crate::flags::rollout::{reached_by, rollout_json, shares_from_fields, starting_shares};
use crate::flags::{describe_rollout, Flag};
use leptos::prelude::*;

/// A rollout change someone opened, with what it starts from.
#[derive(Debug, Clone, PartialEq)]
pub struct RolloutRequest {
    pub key: String,
    /// `None`: the flag's base settings.
    pub environment: Option<String>,
    /// The protected environments among those it reaches.
    pub protected: Vec<String>,
    /// Variant → share it starts from, in the flag's order.
    pub fields: Vec<(String, f64)>,
    /// The environments whose users the change reaches.
    pub reaches: Vec<String>,
    /// The variant served there instead, while the flag is off there.
    pub off_serving: Option<String>,
}

impl RolloutRequest {
    pub fn new(flag: &Flag, environments: &[Environment], environment: Option<&str>) -> Self {
        let names: Vec<String> = environments.iter().map(|e| e.name.clone()).collect();
        let settings = flag.settings_for(environment);
        let reaches = reached_by(flag, &names, environment);
        RolloutRequest {
            key: flag.key.clone(),
            environment: environment.map(str::to_string),
            // Any new shares serve these differently; the same shares again ask nothing of
            // the server, which compares (`protected_reached`).
            protected: environments
                .iter()
                .filter(|e| e.protected && reaches.contains(&e.name))
                .map(|e| e.name.clone())
                .collect(),
            fields: starting_shares(flag, environment),
            reaches,
            off_serving: (!settings.enabled).then(|| settings.default_variant.to_string()),
        }
    }

    /// Where it applies, in words.
    fn reach(&self) -> String {
        match (&self.environment, self.reaches.as_slice()) {
            (Some(name), _) => format!("Users no rule matches in {name} get these shares; its other settings stay."),
            (None, []) => "Every environment has a rollout of its own: this changes what serves where one is removed.".into(),
            (None, names) => format!("Users no rule matches get these shares in {}.", names.join(", ")),
        }
    }
}

#[component]
pub fn RolloutDialog(request: RwSignal<Option<RolloutRequest>>) -> impl IntoView {
    let action = ServerAction::<SetFlagRollout>::new();
    let (asked, close) = change_fields(request, action);
    let ChangeFields { reason, confirm } = asked;
    let content = move || {
        request.get().map(|r| {
            // Created for this opening, so each starts from what serves there now.
            let fields = RwSignal::new(r.fields.clone());
            let checked = Memo::new(move |_| fields.with(|f| shares_from_fields(f)));
            let title = match &r.environment {
                Some(e) => format!("Rollout of {} in {e}", r.key),
                None => format!("Rollout of {}", r.key),
            };
            let ready = {
                let protected = r.protected.clone();
                move || checked.with(Result::is_ok) && asked.typed(&protected)
            };
            let submit = {
                let r = r.clone();
                move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    let Ok(rollout) = checked.get_untracked() else { return };
                    action.dispatch(SetFlagRollout {
                        key: r.key.clone(),
                        rollout: rollout_json(&rollout),
                        reason: reason.get_untracked(),
                        environment: r.environment.clone(),
                        confirm: Some(confirm.get_untracked()),
                    });
                }
            };
            // The field keeps what is typed (a value set back while "12." is half typed would
            // wipe it); the browser reads it as a number.
            let inputs = r.fields.iter().enumerate().map(|(i, (variant, share))| view! {
                <label>{variant.clone()}
                    <span class="share-input">
                        <input type="number" min="0" max="100" step="any" inputmode="decimal" value=share.to_string()
                            on:input=move |ev| {
                                let typed = event_target::<web_sys::HtmlInputElement>(&ev).value_as_number();
                                fields.update(|f| if let Some(slot) = f.get_mut(i) { slot.1 = typed });
                            }/>
                        "%"
                    </span>
                </label>
            }).collect_view();
            view! {
                <h2 id="rollout-title">{title}</h2>
                <form on:submit=submit class="dialog-form">
                    <p class="muted">{r.reach()}</p>
                    {r.off_serving.clone().map(|v| view! {
                        <p class="note">{format!("The flag is off here: it serves {v} until it is turned on.")}</p>
                    })}
                    <fieldset class="rollout-shares">
                        <legend>"Share of users per variant"</legend>
                        {inputs}
                    </fieldset>
                    <p aria-live="polite" data-testid="rollout-check">{move || match checked.get() {
                        Ok(rollout) => view! { <span>{format!("Serves: {}", describe_rollout(&rollout))}</span> }.into_any(),
                        Err(message) => view! { <span class="note-inline">{message}</span> }.into_any(),
                    }}</p>
                    <ReasonFields reason confirm protected=r.protected.first().cloned()/>
                    {move || action.value().get().and_then(|r| r.err()).map(|e| view! { <p class="note note-error" role="alert">{e.message}</p> })}
                    <div class="dialog-actions">
                        <button class="btn btn-ghost" type="button" on:click=move |_| close()>"Cancel"</button>
                        <button class="btn btn-primary" type="submit" disabled=move || action.pending().get() || !ready()>
                            {move || if action.pending().get() { "Sending…" } else { "Set rollout" }}
                        </button>
                    </div>
                </form>
            }
        })
    };
    view! {
        <Modal open=Signal::derive(move || request.with(Option::is_some))
            on_close=Callback::new(move |_| close()) labelled_by="rollout-title">
            {content}
        </Modal>
    }
}
