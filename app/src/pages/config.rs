//! Runtime configuration: the values in force for all environments or one, where each comes from,
//! search, and for admins add, edit, remove and undo a change from a key's history. Sensitive
//! values show only that they are set, by whom and when. Live.

use super::config_dialogs::{EditDialog, EditRequest, HistoryDialog, RemoveDialog, Target};
use crate::api::codec::resource;
use crate::api::{load_config, ConfigView};
use crate::components::common::*;
use crate::components::layout::{provide_role, use_role_at_least};
use crate::live::changes_on;
use crate::model::Role;
use crate::runtime_config::{display, EffectiveValue, Reach, ALL, TOPIC};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ConfigPage() -> impl IntoView {
    let role = crate::components::layout::viewer_role();
    let query = crate::href::use_query();
    let scope = move || {
        query
            .read()
            .get("environment")
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| ALL.to_string())
    };
    view! {
        <Title text="Configuration"/>
        <div class="page-head">
            <h1>"Configuration"</h1>
            <p class="muted">"Values per key for all environments, which an environment may override. Apps read them with GET /api/v1/config?environment=NAME; sensitive values are never shown."</p>
        </div>
        {crate::components::nav::config_tabs("/config")}
        {move || view! { <ConfigBoard role scope=scope()/> }}
    }
}

/// Opens the page for another scope: a page of its own, so the address says what is shown.
fn show_scope(scope: &str) {
    let href = if scope == ALL {
        "/config".to_string()
    } else {
        format!("/config?environment={scope}")
    };
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_href(&href);
    }
}

#[island]
fn ConfigBoard(role: Option<Role>, scope: String) -> impl IntoView {
    provide_role(role);
    let is_admin = use_role_at_least(Role::Admin);
    let scope = StoredValue::new(scope);
    let search = RwSignal::new(String::new());
    let changes = changes_on(TOPIC);
    let view_data = resource(
        move || changes.get(),
        move |_| load_config(scope.get_value()),
    );
    let edit = RwSignal::new(None::<EditRequest>);
    let remove = RwSignal::new(None::<Target>);
    let history = RwSignal::new(None::<Target>);
    view! {
        <section class="card">
            <Transition fallback=|| view! { <LoadingRows/> }>
                {move || view_data.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(mut data) => {
                        // One copy, shared by every row's dialogs and Add a value….
                        let reach = StoredValue::new(std::sync::Arc::new(std::mem::take(&mut data.reach)));
                        view! {
                        <div class="filters">
                            // A form too, so the switch works before the page is hydrated (or
                            // without script); once it is, choosing an option is enough.
                            <form class="scope-form" method="get" action="/config">
                                <label>"Environment"
                                    <select name="environment" on:change=move |ev| show_scope(&event_target_value(&ev))>
                                        <option value=ALL selected=data.environment == ALL>"All environments"</option>
                                        {data.environments.iter().map(|e| view! {
                                            <option value=e.name.clone() selected=e.name == data.environment>{e.name.clone()}</option>
                                        }).collect_view()}
                                    </select>
                                </label>
                                <button class="btn btn-ghost" type="submit">"Show"</button>
                            </form>
                            <label>"Search"
                                <input type="search" placeholder="Key" autocomplete="off" prop:value=move || search.get()
                                    on:input=move |ev| search.set(event_target_value(&ev).to_lowercase())/>
                            </label>
                            {move || is_admin.get().then(|| view! {
                                <button class="btn btn-primary" type="button"
                                    on:click=move |_| edit.set(Some(EditRequest::new_key(scope.get_value(), reach.get_value())))>
                                    "Add a value…"
                                </button>
                            })}
                        </div>
                        {move || view! { <ValueTable data=data.clone() reach=reach.get_value() search=search.get() is_admin edit remove history/> }}
                    }.into_any()},
                })}
            </Transition>
        </section>
        <EditDialog request=edit/>
        <RemoveDialog target=remove/>
        <HistoryDialog target=history is_admin/>
    }
}

#[component]
fn ValueTable(
    data: ConfigView,
    reach: std::sync::Arc<Reach>,
    search: String,
    is_admin: Signal<bool>,
    edit: RwSignal<Option<EditRequest>>,
    remove: RwSignal<Option<Target>>,
    history: RwSignal<Option<Target>>,
) -> impl IntoView {
    let scope = data.environment.clone();
    let shown: Vec<EffectiveValue> = data
        .values
        .into_iter()
        .filter(|v| search.is_empty() || v.key.contains(&search))
        .collect();
    if shown.is_empty() {
        let title = if search.is_empty() {
            "No values here yet"
        } else {
            "No key matches the search"
        };
        return view! {
            <EmptyState title>
                <p>"Set one with PUT /api/v1/config/{environment}/{key} {\"value\": ..., \"sensitive\": false}, where environment is all or an environment's name."</p>
            </EmptyState>
        }
        .into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table config-table phone-cards">
                <thead><tr>
                    <th scope="col">"Key"</th><th scope="col">"Value"</th><th scope="col">"Set for"</th>
                    <th scope="col" class="col-changed">"Changed"</th><th scope="col"><span class="sr-only">"Actions"</span></th>
                </tr></thead>
                <tbody>
                    {shown.into_iter().map(|v| {
                        let own = v.source == scope;
                        let target = Target::new(&v.source, &v.key, &reach);
                        let request = EditRequest::existing(&v, scope.clone(), reach.clone());
                        let value = match &v.value {
                            Some(value) => view! { <code class="config-value">{display(value)}</code> }.into_any(),
                            None => view! { <span class="badge">"sensitive · set"</span> }.into_any(),
                        };
                        view! {
                            <tr>
                                <th scope="row" class="config-key">{v.key.clone()}</th>
                                <td>{value}</td>
                                <td>{if v.source == ALL { "all".to_string() } else { v.source.clone() }}
                                    {(!own).then(|| view! { <div class="muted small">"inherited"</div> })}</td>
                                <td class="col-changed"><TimeAgo ms=v.updated_at/><div class="muted small">{v.updated_by.clone()}</div></td>
                                <td><div class="row-actions">
                                    <button class="btn btn-ghost" type="button" aria-label=format!("History of {}", v.key)
                                        on:click={let t = target.clone(); move |_| history.set(Some(t.clone()))}>"History"</button>
                                    {move || is_admin.get().then(|| {
                                        let (request, target) = (request.clone(), target.clone());
                                        view! {
                                            <button class="btn btn-ghost" type="button" aria-label=format!("Edit {}", request.key)
                                                on:click=move |_| edit.set(Some(request.clone()))>{if own { "Edit…" } else { "Override…" }}</button>
                                            {own.then(|| view! {
                                                <button class="btn btn-ghost" type="button" aria-label=format!("Remove {}", target.key)
                                                    on:click=move |_| remove.set(Some(target.clone()))>"Remove…"</button>
                                            })}
                                        }
                                    })}
                                </div></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
