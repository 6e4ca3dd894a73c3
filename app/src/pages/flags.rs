//! Feature flags: the list, each with its state and what it serves, live; switching one on or
//! off asks first, with a reason for the audit trail (and where it reaches a protected
//! environment, that environment's name typed).

use crate::api::codec::resource;
use crate::api::{list_flags, FlagListData};
use crate::catalog::Environment;
use crate::components::common::*;
use crate::components::flags::{serves, state_badge, ToggleDialog, ToggleRequest};
use crate::components::layout::{provide_role, use_role_at_least};
use crate::flags::{Flag, TOPIC};
use crate::live::changes_on;
use crate::model::Role;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn FlagsPage() -> impl IntoView {
    let role = crate::components::layout::viewer_role();
    view! {
        <Title text="Feature flags"/>
        <div class="page-head">
            <h1>"Feature flags"</h1>
            <p class="muted">"Apps evaluate these over OFREP (POST /ofrep/v1/evaluate/flags) with a flags:evaluate token; a change applies at their next evaluation."</p>
        </div>
        {crate::components::nav::config_tabs("/flags")}
        <FlagList role/>
    }
}

#[island]
fn FlagList(role: Option<Role>) -> impl IntoView {
    provide_role(role);
    let is_admin = use_role_at_least(Role::Admin);
    let changes = changes_on(TOPIC);
    let flags = resource(move || changes.get(), |_| list_flags());
    let search = RwSignal::new(String::new());
    let toggle = RwSignal::new(None::<ToggleRequest>);
    view! {
        <section class="card">
            <div class="filters">
                <label>"Search"
                    <input type="search" placeholder="Key or description" autocomplete="off"
                        on:input=move |ev| search.set(event_target_value(&ev).to_lowercase())/>
                </label>
            </div>
            <Transition fallback=|| view! { <LoadingRows/> }>
                {move || flags.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(FlagListData { flags, .. }) if flags.is_empty() => view! {
                        <EmptyState title="No flags yet">
                            <p>"Create one with POST /api/v1/flags, for example {\"key\": \"new-checkout\", \"kind\": \"boolean\", \"variants\": {\"on\": true, \"off\": false}, \"default_variant\": \"off\", \"rollout\": {\"on\": 10, \"off\": 90}}."</p>
                        </EmptyState>
                    }.into_any(),
                    Ok(FlagListData { flags, environments }) => {
                        let wanted = search.get();
                        let shown: Vec<Flag> = flags.into_iter()
                            .filter(|f| wanted.is_empty() || f.key.to_lowercase().contains(&wanted) || f.description.to_lowercase().contains(&wanted))
                            .collect();
                        view! { <FlagTable shown environments is_admin toggle/> }.into_any()
                    }
                })}
            </Transition>
        </section>
        <ToggleDialog request=toggle/>
    }
}

#[component]
fn FlagTable(
    shown: Vec<Flag>,
    environments: Vec<Environment>,
    is_admin: Signal<bool>,
    toggle: RwSignal<Option<ToggleRequest>>,
) -> impl IntoView {
    if shown.is_empty() {
        return view! { <p class="muted">"No flag matches the search."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table flag-table phone-cards">
                <thead><tr>
                    <th scope="col">"Flag"</th><th scope="col">"State"</th><th scope="col">"Serves"</th>
                    <th scope="col" class="col-rules">"Rules"</th><th scope="col" class="col-changed">"Changed"</th><th scope="col"><span class="sr-only">"Actions"</span></th>
                </tr></thead>
                <tbody>
                    {shown.into_iter().map(|flag| {
                        let request = ToggleRequest::new(&flag, &environments, None);
                        let label = if flag.enabled { "Turn off…" } else { "Turn on…" };
                        view! {
                            <tr>
                                <td class="flag-name"><a class="flag-key" href=format!("/flags/{}", flag.key)>{flag.key.clone()}</a>
                                    <div class="muted small">{format!("{} · {}", flag.kind.as_str(), flag.description)}</div></td>
                                <td class="flag-state">{state_badge(&flag)}</td>
                                <td class="flag-serves"><span class="phone-label">"Serves "</span>{serves(&flag)}</td>
                                <td class="col-rules">{flag.rules.len()}</td>
                                <td class="col-changed"><TimeAgo ms=flag.updated_at/><div class="muted small">{flag.updated_by.clone()}</div></td>
                                <td class="flag-switch">{move || is_admin.get().then(|| {
                                    let request = request.clone();
                                    view! { <button class="btn btn-ghost" type="button"
                                        on:click=move |_| toggle.set(Some(request.clone()))>{label}</button> }
                                })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
