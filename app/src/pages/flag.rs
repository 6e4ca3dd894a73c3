//! One flag: what it serves and to whom, per environment, a preview of what a given user gets
//! and why, and its history with what each change did (older changes on demand), from which an
//! admin restores a version.
//! Live.

use crate::api::codec::resource;
use crate::api::{load_flag_page, FlagPageData, LoadFlagHistory, PreviewFlag, FLAG_HISTORY_MAX};
use crate::catalog::Environment;
use crate::components::common::*;
use crate::components::flag_restore::{RestoreDialog, RestoreRequest};
use crate::components::flag_rollout::{RolloutDialog, RolloutRequest};
use crate::components::flags::{serves, state_badge, ToggleDialog, ToggleRequest};
use crate::components::layout::{provide_role, use_role_at_least};
use crate::flags::describe::{changes, rule_text};
use crate::flags::history::HistoryPage;
use crate::flags::{describe_rollout, Flag, FlagChange, TOPIC};
use crate::live::changes_on;
use crate::model::Role;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn FlagPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || params.read().get("key").unwrap_or_default();
    let role = crate::components::layout::viewer_role();
    view! {
        <Title text="Flag"/>
        <p><a href="/flags">"← Feature flags"</a></p>
        {move || view! { <FlagLive key=key() role/> }}
    }
}

#[island]
fn FlagLive(key: String, role: Option<Role>) -> impl IntoView {
    provide_role(role);
    let changes = changes_on(TOPIC);
    let key = StoredValue::new(key);
    let paging = HistoryPaging {
        kept: RwSignal::new(HistoryPage::default()),
        focus: RwSignal::new(None),
    };
    let page = resource(
        move || changes.get(),
        move |_| load_flag_page(key.get_value()),
    );
    let toggle = RwSignal::new(None::<ToggleRequest>);
    let rollout = RwSignal::new(None::<RolloutRequest>);
    let restore = RwSignal::new(None::<RestoreRequest>);
    view! {
        <Transition fallback=|| view! { <LoadingRows/> }>
            {move || page.get().map(|r| match r {
                Err(error) => view! { <ErrorNote error/> }.into_any(),
                Ok(data) => view! { <FlagView data toggle rollout restore paging/> }.into_any(),
            })}
        </Transition>
        <ToggleDialog request=toggle/>
        <RolloutDialog request=rollout/>
        <RestoreDialog request=restore/>
    }
}

#[component]
fn FlagView(
    data: FlagPageData,
    toggle: RwSignal<Option<ToggleRequest>>,
    rollout: RwSignal<Option<RolloutRequest>>,
    restore: RwSignal<Option<RestoreRequest>>,
    paging: HistoryPaging,
) -> impl IntoView {
    let FlagPageData {
        flag,
        history,
        environments,
    } = data;
    let environment_names: Vec<String> = environments.iter().map(|e| e.name.clone()).collect();
    let base_change = RolloutRequest::new(&flag, &environments, None);
    view! {
        <div class="page-head">
            <h1>{flag.key.clone()}" "{state_badge(&flag)}</h1>
            <p class="muted">{format!("{} flag · version {} · {}", flag.kind.as_str(), flag.version, flag.description)}</p>
        </div>
        <div class="grid-2">
            <Serving flag=flag.clone() change=base_change rollout/>
            <Preview key=flag.key.clone() environments=environment_names/>
        </div>
        <EnvironmentTable flag=flag.clone() environments=environments.clone() toggle rollout/>
        // Older changes read on demand redraw the history alone, not the preview's fields.
        {move || {
            let shown = history.joined(&paging.kept.get());
            view! { <History flag=flag.clone() shown environments=environments.clone() restore paging/> }
        }}
    }
}

/// Variants, rules in order, the rollout (which admins change here) and the kill switch.
#[component]
fn Serving(
    flag: Flag,
    /// The change of the base rollout an admin may open.
    change: RolloutRequest,
    rollout: RwSignal<Option<RolloutRequest>>,
) -> impl IntoView {
    let is_admin = use_role_at_least(Role::Admin);
    view! {
        <section class="card">
            <h2>"What it serves"</h2>
            <dl class="facts">
                <dt>"Variants"</dt>
                <dd>{flag.variants.iter().map(|(name, value)| {
                    let default = (name == &flag.default_variant).then_some(" (default)");
                    view! { <div><code>{name.clone()}</code>" = "<code>{value.to_string()}</code>{default}</div> }
                }).collect_view()}</dd>
                <dt>"Rules"</dt>
                <dd>{if flag.rules.is_empty() {
                    view! { <span class="muted">"None"</span> }.into_any()
                } else {
                    view! { <ol class="timeline">{flag.rules.iter().map(|r| view! {
                        <li>{format!("If {} → {}", rule_text(r), r.variant)}</li>
                    }).collect_view()}</ol> }.into_any()
                }}</dd>
                <dt>"Otherwise"</dt>
                <dd>{serves(&flag)}" "
                    {move || is_admin.get().then(|| {
                        let change = change.clone();
                        view! { <button class="btn btn-ghost btn-small" type="button"
                            on:click=move |_| rollout.set(Some(change.clone()))>"Change rollout…"</button> }
                    })}
                </dd>
                <dt>"Kill switch"</dt>
                <dd>{match &flag.kill_switch {
                    Some(k) => format!("Serves {} when SLO {} pages", k.variant, k.slo_label()),
                    None => "None".to_string(),
                }}</dd>
            </dl>
        </section>
    }
}

/// Each environment: whether the flag is on there, what it serves, and a switch for admins.
#[component]
fn EnvironmentTable(
    flag: Flag,
    environments: Vec<Environment>,
    toggle: RwSignal<Option<ToggleRequest>>,
    rollout: RwSignal<Option<RolloutRequest>>,
) -> impl IntoView {
    let is_admin = use_role_at_least(Role::Admin);
    let everywhere = ToggleRequest::new(&flag, &environments, None);
    let everywhere_label = if flag.enabled {
        "Turn off everywhere…"
    } else {
        "Turn on everywhere…"
    };
    view! {
        <section class="card">
            <h2>"Environments"</h2>
            {move || is_admin.get().then(|| {
                let everywhere = everywhere.clone();
                view! { <p><button class="btn btn-ghost" type="button"
                    on:click=move |_| toggle.set(Some(everywhere.clone()))>{everywhere_label}</button></p> }
            })}
            <div class="table-wrap">
                <table class="table phone-cards">
                    <thead><tr><th scope="col">"Environment"</th><th scope="col">"State"</th><th scope="col">"Serves"</th><th scope="col">"Settings"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                    <tbody>
                        {environments.iter().map(|env| {
                            let change = RolloutRequest::new(&flag, &environments, Some(&env.name));
                            let settings = flag.settings_for(Some(&env.name));
                            let enabled = settings.enabled;
                            let served = match (enabled, settings.rollout) {
                                (false, _) => format!("{} (disabled)", settings.default_variant),
                                (true, Some(r)) => describe_rollout(r),
                                (true, None) => settings.default_variant.to_string(),
                            };
                            let own = if flag.environments.contains_key(&env.name) { "Its own" } else { "Flag-wide" };
                            let request = ToggleRequest::new(&flag, &environments, Some(&env.name));
                            let label = if enabled { "Turn off…" } else { "Turn on…" };
                            view! {
                                <tr>
                                    <th scope="row">{env.name.clone()}{env.protected.then(|| view! { <span class="badge protected">"protected"</span> })}</th>
                                    <td class="card-end">{if enabled { "On" } else { "Off" }}</td>
                                    <td>{served}</td>
                                    <td class="muted card-end"><span class="phone-label">"Settings: "</span>{own}</td>
                                    <td class="card-wide">{move || is_admin.get().then(|| {
                                        let (request, change) = (request.clone(), change.clone());
                                        let place = request.environment.clone().unwrap_or_default();
                                        view! { <div class="flag-actions">
                                            <button class="btn btn-ghost" type="button" aria-label=format!("{label} in {place}")
                                                on:click=move |_| toggle.set(Some(request.clone()))>{label}</button>
                                            <button class="btn btn-ghost" type="button" aria-label=format!("Rollout… in {place}")
                                                on:click=move |_| rollout.set(Some(change.clone()))>"Rollout…"</button>
                                        </div> }
                                    })}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// "What does user X with role Y get, and why?"
#[component]
fn Preview(key: String, environments: Vec<String>) -> impl IntoView {
    let action = ServerAction::<PreviewFlag>::new();
    view! {
        <section class="card">
            <h2>"Preview"</h2>
            <ActionForm action attr:class="dialog-form">
                <input type="hidden" name="key" value=key/>
                <label>"Targeting key (user)"<input name="targeting_key" autocomplete="off" placeholder="alice@example.com"/></label>
                <label>"Role"<input name="role" autocomplete="off" placeholder="beta"/></label>
                <label>"Environment"
                    <select name="environment">
                        <option value="">"Base settings"</option>
                        {environments.into_iter().map(|e| view! { <option value=e.clone()>{e.clone()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Other attributes (JSON)"<input name="attributes" autocomplete="off" placeholder="{\"country\": \"NL\", \"plan\": \"pro\"}"/></label>
                <div class="dialog-actions">
                    <button class="btn btn-primary" type="submit" disabled=move || action.pending().get()>"Evaluate"</button>
                </div>
            </ActionForm>
            <div aria-live="polite" data-testid="flag-preview">
                {move || action.value().get().map(|r| match r {
                    Ok(p) => view! {
                        <p class="note"><strong>{format!("{} = {}", p.variant, p.value)}</strong>
                            " · "<code>{p.reason}</code><br/>{p.explanation}</p>
                    }.into_any(),
                    Err(e) => view! { <p class="note note-error" role="alert">{e.message}</p> }.into_any(),
                })}
            </div>
        </section>
    }
}

/// The history's older changes, read on demand, and where the keyboard goes once they arrive.
#[derive(Clone, Copy)]
struct HistoryPaging {
    /// What was shown when older changes were last read, with them: kept across live events,
    /// which read only the latest page.
    kept: RwSignal<HistoryPage>,
    /// The entry to focus when it arrives: the first of the older changes asked for.
    focus: RwSignal<Option<usize>>,
}

/// Newest first; each change says what it did to the version before it, and an admin may
/// restore the settings any entry left that differ from what serves now. Older changes come
/// [`FLAG_HISTORY_PAGE`](crate::api::FLAG_HISTORY_PAGE) at a time.
#[component]
fn History(
    /// What serves now, which a restore replaces.
    flag: Flag,
    shown: HistoryPage,
    environments: Vec<Environment>,
    restore: RwSignal<Option<RestoreRequest>>,
    paging: HistoryPaging,
) -> impl IntoView {
    let is_admin = use_role_at_least(Role::Admin);
    let history = &shown.changes;
    let rows: Vec<(FlagChange, Vec<String>, Option<RestoreRequest>)> = history
        .iter()
        .enumerate()
        .map(|(i, change)| {
            let what = match history.get(i + 1).or(shown.older.as_ref()) {
                Some(before) if change.action != "deleted" => changes(&before.flag, &change.flag),
                _ => Vec::new(),
            };
            let offer = RestoreRequest::new(&flag, change, &environments);
            (change.clone(), what, offer)
        })
        .collect();
    let focus = paging.focus.get_untracked();
    let more = shown
        .older
        .is_some()
        .then(|| view! { <OlderChanges key=flag.key.clone() shown=shown.clone() paging/> });
    view! {
        <section class="card">
            <h2>"History"</h2>
            <ol class="timeline" data-testid="flag-history">
                {rows.into_iter().enumerate().map(|(i, (c, what, offer))| {
                    let entry = NodeRef::<leptos::html::Li>::new();
                    if focus == Some(i) {
                        Effect::new(move |_| {
                            if let Some(li) = entry.get() {
                                let _ = li.focus();
                                paging.focus.set(None);
                            }
                        });
                    }
                    view! {
                    <li node_ref=entry tabindex="-1">
                        <strong>{c.action.clone()}</strong>
                        // Entries from before the history kept versions have none (0).
                        {(c.flag.version > 0 && c.action != "deleted").then(|| format!(" (version {})", c.flag.version))}
                        " by "{c.actor.clone()}" · "<TimeAgo ms=c.at/>
                        {c.reason.clone().map(|r| view! { <span class="muted">{format!(" · “{r}”")}</span> })}
                        {move || is_admin.get().then(|| offer.clone()).flatten().map(|offer| {
                            let label = format!("Restore {}…", offer.name);
                            view! { " "<button class="btn btn-ghost btn-small" type="button"
                                on:click=move |_| restore.set(Some(offer.clone()))>{label}</button> }
                        })}
                        <ul class="muted small">{what.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
                    </li>
                }}).collect_view()}
            </ol>
            {more}
        </section>
    }
}

/// The way to the changes before those `shown`:
/// [`FLAG_HISTORY_PAGE`](crate::api::FLAG_HISTORY_PAGE) more, up to
/// [`FLAG_HISTORY_MAX`] in all.
#[component]
fn OlderChanges(key: String, shown: HistoryPage, paging: HistoryPaging) -> impl IntoView {
    let count = shown.changes.len();
    let before = shown.changes.last().map(|c| c.id);
    let (Some(before), true) = (before, count < FLAG_HISTORY_MAX) else {
        return view! { <p class="muted small">{format!("The page shows the latest {FLAG_HISTORY_MAX} changes.")}</p> }.into_any();
    };
    let read = ServerAction::<LoadFlagHistory>::new();
    let shown = StoredValue::new(shown);
    Effect::new(move |_| {
        if let Some(Ok(more)) = read.value().get() {
            paging.focus.set(Some(count));
            paging.kept.set(shown.with_value(|s| s.extended(more)));
        }
    });
    let ask = move |_| {
        read.dispatch(LoadFlagHistory {
            key: key.clone(),
            before,
        });
    };
    view! {
        <p><button class="btn btn-ghost" type="button" on:click=ask disabled=move || read.pending().get()>
            {move || if read.pending().get() { "Loading older changes…" } else { "Show older changes" }}
        </button></p>
        {move || read.value().get().and_then(|r| r.err()).map(|e| view! {
            <p class="note note-error" role="alert">{format!("The older changes could not be read: {}", e.message)}</p>
        })}
    }
    .into_any()
}
