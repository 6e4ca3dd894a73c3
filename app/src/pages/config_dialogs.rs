//! The Config page's dialogs: edit or add a value, remove one, and a key's history with Undo.
//! Each change that reaches a protected environment asks for its name typed out, as the flags'
//! do: a value for all environments reaches those without their own.

use crate::api::{load_config_history, DeleteConfig, RestoreConfig, SetConfig};
use crate::components::change_fields::{change_fields, ChangeFields, ProtectedName, ReasonFields};
use crate::components::common::*;
use crate::components::confirm::{Asking, ConfirmInPlace};
use crate::components::modal::Modal;
use crate::runtime_config::{display, ConfigChange, EffectiveValue, Reach, ALL};
use leptos::prelude::*;
use std::sync::Arc;

/// A key in one scope (`all` or an environment).
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub environment: String,
    pub key: String,
    /// The protected environments a change of it reaches.
    pub protected: Vec<String>,
}

impl Target {
    pub fn new(environment: &str, key: &str, reach: &Reach) -> Target {
        Target {
            environment: environment.to_string(),
            key: key.to_string(),
            protected: reach.protected_reached(environment, key),
        }
    }
}

/// What the edit dialog opens with.
#[derive(Debug, Clone, PartialEq)]
pub struct EditRequest {
    /// The scope the value is written to.
    pub environment: String,
    /// Empty for a new key, which the dialog asks for.
    pub key: String,
    pub value: String,
    pub json: bool,
    pub sensitive: bool,
    /// The value shown comes from `all` and saving sets the environment's own.
    pub overrides: bool,
    /// Where a change of a key reaches: a new key's protected environments depend on the key
    /// typed.
    pub reach: Arc<Reach>,
}

impl EditRequest {
    pub fn new_key(environment: String, reach: Arc<Reach>) -> EditRequest {
        EditRequest {
            environment,
            key: String::new(),
            value: String::new(),
            json: false,
            sensitive: false,
            overrides: false,
            reach,
        }
    }

    /// Editing `v` as shown in `scope`; a sensitive value starts empty (it is never sent here).
    pub fn existing(v: &EffectiveValue, scope: String, reach: Arc<Reach>) -> EditRequest {
        EditRequest {
            overrides: v.source != scope,
            environment: scope,
            key: v.key.clone(),
            value: v.value.as_ref().map(display).unwrap_or_default(),
            json: v.value.as_ref().is_some_and(|v| !v.is_string()),
            sensitive: v.sensitive,
            reach,
        }
    }
}

/// For a change of the value for all environments, the protected ones that read it, in words.
fn read_by(scope: &str, protected: &[String]) -> Option<String> {
    let verb = if protected.len() == 1 {
        "reads"
    } else {
        "read"
    };
    (scope == ALL && !protected.is_empty())
        .then(|| format!("It changes the value {} {verb}.", protected.join(" and ")))
}

fn scope_words(environment: &str) -> String {
    if environment == ALL {
        "all environments".into()
    } else {
        environment.to_string()
    }
}

fn error_note<T: 'static>(
    value: Option<Result<T, crate::error::AppError>>,
) -> Option<impl IntoView> {
    value
        .and_then(|r| r.err())
        .map(|e| view! { <p class="note note-error" role="alert">{e.message}</p> })
}

#[component]
pub fn EditDialog(request: RwSignal<Option<EditRequest>>) -> impl IntoView {
    let action = ServerAction::<SetConfig>::new();
    let (asked, close) = change_fields(request, action);
    let ChangeFields { reason, confirm } = asked;
    // A new key's, as typed: which protected environments it reaches depends on it.
    let typed_key = RwSignal::new(String::new());
    Effect::new(move |_| {
        if request.with(Option::is_none) {
            typed_key.set(String::new());
        }
    });
    let protected = Memo::new(move |_| {
        request.with(|r| {
            r.as_ref().map_or_else(Vec::new, |r| {
                let key = if r.key.is_empty() {
                    typed_key.get()
                } else {
                    r.key.clone()
                };
                r.reach.protected_reached(&r.environment, key.trim())
            })
        })
    });
    let content = move || {
        request.get().map(|r| {
            let title = match (r.key.is_empty(), r.overrides) {
                (true, _) => format!("Add a value for {}", scope_words(&r.environment)),
                (false, true) => format!("Override {} in {}", r.key, r.environment),
                (false, false) => format!("Edit {} for {}", r.key, scope_words(&r.environment)),
            };
            let placeholder = if r.sensitive { "Type a new value; the current one is not shown" } else { "" };
            let scope = r.environment.clone();
            view! {
                <h2 id="config-edit-title">{title}</h2>
                <ActionForm action attr:class="dialog-form">
                    <input type="hidden" name="environment" value=r.environment.clone()/>
                    {if r.key.is_empty() {
                        view! { <label>"Key"<input name="key" required=true autocomplete="off" spellcheck="false"
                            pattern="[a-z0-9_.\\-]{1,128}" placeholder="http.timeout_ms"
                            on:input=move |ev| typed_key.set(event_target_value(&ev))/></label> }.into_any()
                    } else {
                        view! { <input type="hidden" name="key" value=r.key.clone()/> }.into_any()
                    }}
                    <label>"Value"<textarea name="value" rows="3" spellcheck="false" autofocus=!r.key.is_empty()
                        placeholder=placeholder>{r.value.clone()}</textarea></label>
                    <label class="check"><input type="checkbox" name="json" value="true" checked=r.json/>" JSON (a number, true/false, a list or an object)"</label>
                    <label class="check"><input type="checkbox" name="sensitive" value="true" checked=r.sensitive/>" Sensitive: never shown again, masked in the audit trail"</label>
                    {move || protected.with(|p| read_by(&scope, p)).map(|text| view! { <p class="note">{text}</p> })}
                    {move || view! { <ReasonFields reason confirm protected=protected.with(|p| p.first().cloned())/> }}
                    {move || error_note(action.value().get())}
                    <div class="dialog-actions">
                        <button class="btn btn-ghost" type="button" on:click=move |_| close()>"Cancel"</button>
                        <button class="btn btn-primary" type="submit"
                            disabled=move || action.pending().get() || !protected.with(|p| asked.typed(p))>
                            {move || if action.pending().get() { "Saving…" } else { "Save" }}
                        </button>
                    </div>
                </ActionForm>
            }
        })
    };
    view! {
        <Modal open=Signal::derive(move || request.with(Option::is_some))
            on_close=Callback::new(move |_| close()) labelled_by="config-edit-title">
            {content}
        </Modal>
    }
}

#[component]
pub fn RemoveDialog(target: RwSignal<Option<Target>>) -> impl IntoView {
    let action = ServerAction::<DeleteConfig>::new();
    let (asked, close) = change_fields(target, action);
    let ChangeFields { reason, confirm } = asked;
    let content = move || {
        target.get().map(|t| {
            let after = if t.environment == ALL {
                "Environments without their own value will have none.".to_string()
            } else {
                format!("{} then uses the value for all environments, if there is one.", t.environment)
            };
            let ready = {
                let protected = t.protected.clone();
                move || asked.typed(&protected)
            };
            view! {
                <h2 id="config-remove-title">{format!("Remove {} from {}?", t.key, scope_words(&t.environment))}</h2>
                <p>{after}</p>
                <ActionForm action attr:class="dialog-form">
                    <input type="hidden" name="environment" value=t.environment.clone()/>
                    <input type="hidden" name="key" value=t.key.clone()/>
                    {read_by(&t.environment, &t.protected).map(|text| view! { <p class="note">{text}</p> })}
                    <ReasonFields reason confirm protected=t.protected.first().cloned()/>
                    {move || error_note(action.value().get())}
                    <div class="dialog-actions">
                        <button class="btn btn-ghost" type="button" on:click=move |_| close()>"Cancel"</button>
                        <button class="btn btn-danger" type="submit" disabled=move || action.pending().get() || !ready()>"Remove"</button>
                    </div>
                </ActionForm>
            }
        })
    };
    view! {
        <Modal open=Signal::derive(move || target.with(Option::is_some))
            on_close=Callback::new(move |_| close()) labelled_by="config-remove-title">
            {content}
        </Modal>
    }
}

fn shown(value: &Option<serde_json::Value>, sensitive: bool) -> String {
    match value {
        _ if sensitive => "(sensitive)".into(),
        Some(v) => display(v),
        None => "(none)".into(),
    }
}

/// A key's changes in one scope, newest first, each with the value before and after it; admins
/// can undo one, which puts back the value from before it, once they have read what that puts
/// back (one click used to change production's value at once).
#[component]
pub fn HistoryDialog(target: RwSignal<Option<Target>>, is_admin: Signal<bool>) -> impl IntoView {
    let restore = ServerAction::<RestoreConfig>::new();
    let changes = crate::api::codec::resource(
        move || (target.get(), restore.version().get()),
        |(t, _)| async move {
            match t {
                Some(t) => load_config_history(t.environment, t.key).await,
                None => Ok(Vec::new()),
            }
        },
    );
    // The change whose undo is being asked about: one at a time.
    let asking = RwSignal::new(None::<i64>);
    // The protected name, typed in the question of an undo that reaches one.
    let confirm = RwSignal::new(String::new());
    let close = move || {
        target.set(None);
        restore.value().set(None);
        asking.set(None);
        confirm.set(String::new());
    };
    let protected =
        Memo::new(move |_| target.with(|t| t.as_ref().and_then(|t| t.protected.first().cloned())));
    let typed = move || {
        protected.with(|p| {
            p.as_ref()
                .is_none_or(|name| confirm.with(|c| c.trim() == name))
        })
    };
    let row = move |c: ConfigChange| {
        let change_id = c.id;
        let (environment, key) = (c.environment.clone(), c.key.clone());
        let undoes = StoredValue::new(match &c.old_value {
            None => format!("Removes {} from {}.", c.key, scope_words(&c.environment)),
            Some(_) => format!(
                "Puts back {} for {}.",
                shown(&c.old_value, c.sensitive),
                scope_words(&c.environment)
            ),
        });
        view! {
            <li>
                <strong>{c.action.clone()}</strong>" by "{c.actor.clone()}" · "<TimeAgo ms=c.at/>
                {c.reason.clone().map(|r| view! { <span class="muted">{format!(" · “{r}”")}</span> })}
                <div class="small"><code>{shown(&c.old_value, c.sensitive)}</code>" → "<code>{shown(&c.new_value, c.sensitive)}</code></div>
                {move || is_admin.get().then(|| {
                    let (environment, key) = (environment.clone(), key.clone());
                    let undo = Callback::new(move |_| {
                        let confirm = confirm.get_untracked();
                        restore.dispatch(RestoreConfig { environment: environment.clone(), key: key.clone(), change_id, confirm });
                    });
                    let disabled = Signal::derive(move || restore.pending().get() || !typed());
                    view! {
                        <ConfirmInPlace asking=Asking::Row(asking, change_id) ask="Undo this change…" small=true
                            keep="Keep" act="Undo" disabled busy=restore.pending() on_confirm=undo>
                            <span>{undoes.get_value()}</span>
                            {move || protected.get().map(|name| view! { <ProtectedName name confirm/> })}
                        </ConfirmInPlace>
                    }
                })}
            </li>
        }
    };
    let content = move || {
        target.get().map(|t| view! {
            <h2 id="config-history-title">{format!("History of {} for {}", t.key, scope_words(&t.environment))}</h2>
            {move || error_note(restore.value().get())}
            <Transition fallback=|| view! { <LoadingRows rows=3/> }>
                {move || changes.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(list) => view! { <ol class="timeline" data-testid="config-history">{list.into_iter().map(row).collect_view()}</ol> }.into_any(),
                })}
            </Transition>
            <div class="dialog-actions">
                <button class="btn btn-ghost" type="button" on:click=move |_| close()>"Close"</button>
            </div>
        })
    };
    view! {
        <Modal open=Signal::derive(move || target.with(Option::is_some))
            on_close=Callback::new(move |_| close()) labelled_by="config-history-title">
            {content}
        </Modal>
    }
}
