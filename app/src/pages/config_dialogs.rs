//! The Config page's dialogs: edit or add a value, remove one, and a key's history with Undo.

use crate::api::{load_config_history, DeleteConfig, RestoreConfig, SetConfig};
use crate::components::common::*;
use crate::components::confirm::{Asking, ConfirmInPlace};
use crate::components::modal::Modal;
use crate::runtime_config::{display, ConfigChange, EffectiveValue, ALL};
use leptos::prelude::*;

/// A key in one scope (`all` or an environment).
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub environment: String,
    pub key: String,
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
}

impl EditRequest {
    pub fn new_key(environment: String) -> EditRequest {
        EditRequest {
            environment,
            key: String::new(),
            value: String::new(),
            json: false,
            sensitive: false,
            overrides: false,
        }
    }

    /// Editing `v` as shown in `scope`; a sensitive value starts empty (it is never sent here).
    pub fn existing(v: &EffectiveValue, scope: String) -> EditRequest {
        EditRequest {
            overrides: v.source != scope,
            environment: scope,
            key: v.key.clone(),
            value: v.value.as_ref().map(display).unwrap_or_default(),
            json: v.value.as_ref().is_some_and(|v| !v.is_string()),
            sensitive: v.sensitive,
        }
    }
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
    let close = move || {
        request.set(None);
        action.value().set(None);
    };
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            close();
        }
    });
    let content = move || {
        request.get().map(|r| {
            let title = match (r.key.is_empty(), r.overrides) {
                (true, _) => format!("Add a value for {}", scope_words(&r.environment)),
                (false, true) => format!("Override {} in {}", r.key, r.environment),
                (false, false) => format!("Edit {} for {}", r.key, scope_words(&r.environment)),
            };
            let placeholder = if r.sensitive { "Type a new value; the current one is not shown" } else { "" };
            view! {
                <h2 id="config-edit-title">{title}</h2>
                <ActionForm action attr:class="dialog-form">
                    <input type="hidden" name="environment" value=r.environment.clone()/>
                    {if r.key.is_empty() {
                        view! { <label>"Key"<input name="key" required=true autocomplete="off" spellcheck="false"
                            pattern="[a-z0-9_.\\-]{1,128}" placeholder="http.timeout_ms"/></label> }.into_any()
                    } else {
                        view! { <input type="hidden" name="key" value=r.key.clone()/> }.into_any()
                    }}
                    <label>"Value"<textarea name="value" rows="3" spellcheck="false" autofocus=!r.key.is_empty()
                        placeholder=placeholder>{r.value.clone()}</textarea></label>
                    <label class="check"><input type="checkbox" name="json" value="true" checked=r.json/>" JSON (a number, true/false, a list or an object)"</label>
                    <label class="check"><input type="checkbox" name="sensitive" value="true" checked=r.sensitive/>" Sensitive: never shown again, masked in the audit trail"</label>
                    <label>"Reason"<input name="reason" autocomplete="off" placeholder="Why, for the audit trail"/></label>
                    {move || error_note(action.value().get())}
                    <div class="dialog-actions">
                        <button class="btn btn-ghost" type="button" on:click=move |_| close()>"Cancel"</button>
                        <button class="btn btn-primary" type="submit" disabled=move || action.pending().get()>
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
    let close = move || {
        target.set(None);
        action.value().set(None);
    };
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            close();
        }
    });
    let content = move || {
        target.get().map(|t| {
            let after = if t.environment == ALL {
                "Environments without their own value will have none.".to_string()
            } else {
                format!("{} then uses the value for all environments, if there is one.", t.environment)
            };
            view! {
                <h2 id="config-remove-title">{format!("Remove {} from {}?", t.key, scope_words(&t.environment))}</h2>
                <p>{after}</p>
                <ActionForm action attr:class="dialog-form">
                    <input type="hidden" name="environment" value=t.environment.clone()/>
                    <input type="hidden" name="key" value=t.key.clone()/>
                    <label>"Reason"<input name="reason" autocomplete="off" placeholder="Why, for the audit trail"/></label>
                    {move || error_note(action.value().get())}
                    <div class="dialog-actions">
                        <button class="btn btn-ghost" type="button" on:click=move |_| close()>"Cancel"</button>
                        <button class="btn btn-danger" type="submit" disabled=move || action.pending().get()>"Remove"</button>
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
    let close = move || {
        target.set(None);
        restore.value().set(None);
        asking.set(None);
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
                        restore.dispatch(RestoreConfig { environment: environment.clone(), key: key.clone(), change_id });
                    });
                    view! {
                        <ConfirmInPlace asking=Asking::Row(asking, change_id) ask="Undo this change…" small=true
                            keep="Keep" act="Undo" disabled=restore.pending() busy=restore.pending() on_confirm=undo>
                            <span>{undoes.get_value()}</span>
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
