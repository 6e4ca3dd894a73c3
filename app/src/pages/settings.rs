//! Users, API tokens and the CI/CD webhook secrets. Everyone signed in sees who has access; only
//! admins change it. A token's secret is shown exactly once, right after it is created; a webhook
//! secret is never shown again after it is saved.

use super::alert_routing::AlertRouting;
use super::webhook_deliveries::WebhookDeliveries;
use crate::api::codec::resource;
use crate::api::*;
use crate::components::common::*;
use crate::components::confirm::{Asking, ConfirmInPlace};
use crate::components::editing::action_error;
use crate::components::layout::{provide_role, use_role_at_least, viewer_role};
use crate::model::{Role, TokenSummary, UserChange, UserSummary};
use crate::webhook_settings::{SecretOrigin, WebhookSecretStatus};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
fn RoleSelect() -> impl IntoView {
    view! {
        <select name="role" required=true>
            {Role::ALL.into_iter().map(|r| view! {
                <option value=r.as_str() selected=r == Role::Viewer>{r.as_str()}</option>
            }).collect_view()}
        </select>
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let me = use_context::<crate::components::layout::Viewer>()
        .and_then(|v| v.0)
        .map(|m| m.username);
    view! {
        <Title text="Settings"/>
        <div class="page-head">
            <h1>"Settings"</h1>
            <p class="muted">"Who can use Flightdeck, the tokens machines use, and where alerts are sent. "
                <a href="/system">"Flightdeck's own health →"</a></p>
        </div>
        <SettingsSections role=viewer_role() me/>
    }
}

/// Every section of the page, with the forms the viewer's role allows.
/// `me`: who is signed in, whose own row offers no way to lock themselves out.
#[island]
fn SettingsSections(role: Option<Role>, me: Option<String>) -> impl IntoView {
    provide_role(role);
    let is_admin = use_role_at_least(Role::Admin);
    view! {
        <Users is_admin me/>
        // The role is fixed for the life of the page, so this branch is too.
        {if is_admin.get_untracked() {
            view! { <Tokens/><WebhookSecrets/><WebhookDeliveries/> }.into_any()
        } else {
            view! {
                <section class="card"><h2>"API tokens"</h2>
                <p class="muted">"Only admins can see and manage API tokens."</p></section>
            }.into_any()
        }}
        <AlertRouting is_admin/>
    }
}

#[component]
fn WebhookSecrets() -> impl IntoView {
    let save = ServerAction::<SetWebhookSecret>::new();
    let list = resource(move || save.version().get(), |_| webhook_secrets());
    view! {
        <section class="card" aria-labelledby="webhooks-title">
            <div class="card-head"><h2 id="webhooks-title">"CI/CD webhooks"</h2></div>
            <p class="muted">
                "Point a GitHub webhook at /api/v1/webhooks/github for Workflow runs and Deployment statuses "
                "(it signs each delivery with the secret), and a GitLab one at /api/v1/webhooks/gitlab for "
                "Pipeline and Deployment events (it sends the secret token). A saved secret is never shown again."
            </p>
            {action_error(move || save.value().get())}
            {move || save.value().get().and_then(|r| r.ok()).map(|_| view! {
                <p class="note note-success" role="status">"Secret saved. Deliveries signed with it are accepted from now on."</p>
            })}
            <Transition fallback=|| view! { <LoadingRows rows=2/> }>
                {move || list.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(list) => list.into_iter().map(|status| view! { <WebhookSecretRow status save/> }).collect_view().into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn WebhookSecretRow(
    status: WebhookSecretStatus,
    save: ServerAction<SetWebhookSecret>,
) -> impl IntoView {
    let name = if status.source == "github" {
        "GitHub"
    } else {
        "GitLab"
    };
    let state = match status.origin {
        SecretOrigin::Environment => view! { <span>{format!("Set by {}, which this page cannot change.", status.variable)}</span> }.into_any(),
        SecretOrigin::Settings => view! {
            <span>"Set on this page by "{status.updated_by.clone().unwrap_or_default()}" "
                {status.updated_at.map(|ms| view! { <TimeAgo ms/> })}"."</span>
        }.into_any(),
        SecretOrigin::Unset => view! { <span class="warn-text">{format!("Not set: {name} deliveries are refused.")}</span> }.into_any(),
    };
    // Once saved, the typed secret leaves the page too.
    let form_ref = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if save.value().get().is_some_and(|r| r.is_ok()) {
            if let Some(form) = form_ref.get_untracked() {
                form.reset();
            }
        }
    });
    let form = (status.origin != SecretOrigin::Environment).then(|| view! {
        <ActionForm action=save node_ref=form_ref attr:class="form-grid">
            <input type="hidden" name="source" value=status.source.clone()/>
            <label>{format!("New {name} secret (16+ characters)")}
                <input name="secret" type="password" required=true minlength="16" autocomplete="new-password"/>
            </label>
            <button class="btn btn-primary" type="submit" disabled=move || save.pending().get()>"Save secret"</button>
        </ActionForm>
    });
    view! {
        <div class="secret-row">
            <h3>{name}</h3>
            <p class="muted">{state}</p>
            {form}
        </div>
    }
}

/// An admin's controls for one account: its role, and disabling it after confirming (its
/// sessions end and the tokens it created are revoked) or enabling it again.
#[component]
fn UserAccess(user: UserSummary, update: ServerAction<UpdateUser>) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let username = StoredValue::new(user.username.clone());
    let send = move |change: UserChange| {
        update.dispatch(UpdateUser {
            username: username.get_value(),
            change,
        });
    };
    let disabled = user.disabled_at.is_some();
    let label = format!("Role of {}", user.username);
    view! {
        <div class="user-access">
            <select aria-label=label disabled=move || update.pending().get()
                on:change=move |ev| {
                    if let Ok(role) = event_target_value(&ev).parse::<Role>() {
                        send(UserChange { role: Some(role), ..Default::default() });
                    }
                }>
                {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str() selected=r == user.role>{r.as_str()}</option> }).collect_view()}
            </select>
            {if disabled {
                view! { <button class="btn btn-small" type="button" on:click=move |_| send(UserChange { disabled: Some(false), ..Default::default() })>"Enable"</button> }.into_any()
            } else {
                view! {
                    <ConfirmInPlace asking=Asking::Flag(confirming) ask="Disable…" class="btn-danger-ghost" small=true
                        keep="Keep" act="Disable" disabled=update.pending()
                        on_confirm=Callback::new(move |_| send(UserChange { disabled: Some(true), ..Default::default() }))>
                        <span>"Their sessions end and the tokens they created are revoked."</span>
                    </ConfirmInPlace>
                }.into_any()
            }}
        </div>
    }
}

#[component]
fn Users(is_admin: Signal<bool>, me: Option<String>) -> impl IntoView {
    let me = StoredValue::new(me);
    let create = ServerAction::<CreateUser>::new();
    let update = ServerAction::<UpdateUser>::new();
    let users = resource(
        move || (create.version().get(), update.version().get()),
        |_| list_users(),
    );
    view! {
        <section class="card" aria-labelledby="users-title">
            <div class="card-head"><h2 id="users-title">"Users"</h2></div>
            <Transition fallback=|| view! { <LoadingRows rows=3/> }>
                {move || users.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap">
                            <table class="table phone-cards">
                                <thead><tr>
                                    <th scope="col">"Username"</th>
                                    <th scope="col">"Role"</th>
                                    <th scope="col">"Last sign-in"</th>
                                    <th scope="col">"Created"</th>
                                    {is_admin.get_untracked().then(|| view! { <th scope="col">"Access"</th> })}
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|u| view! {
                                        <tr data-testid=format!("user-{}", u.username)>
                                            <td>{u.username.clone()}{u.disabled_at.map(|_| view! { " "<span class="badge status-failed">"Disabled"</span> })}</td>
                                            <td class="card-end"><RoleBadge role=u.role/></td>
                                            <td><span class="phone-label">"Last sign-in "</span>{match u.last_sign_in_at {
                                                Some(t) => view! { <TimeAgo ms=t/> }.into_any(),
                                                None => view! { <span class="muted">"never"</span> }.into_any(),
                                            }}</td>
                                            <td class="card-end"><span class="phone-label">"Created "</span><TimeAgo ms=u.created_at/></td>
                                            {is_admin.get_untracked().then(|| {
                                                let own = me.with_value(|m| m.as_deref() == Some(u.username.as_str()));
                                                view! { <td class="card-wide">{if own {
                                                    view! { <span class="muted">"you: another admin can change this"</span> }.into_any()
                                                } else {
                                                    view! { <UserAccess user=u.clone() update/> }.into_any()
                                                }}</td> }
                                            })}
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                })}
            </Transition>
            {action_error(move || update.value().get())}
            <Show when=move || is_admin.get()>
                <details class="form-panel">
                    <summary>"Add a user"</summary>
                    <ActionForm action=create attr:class="form-grid">
                        <label>"Username" <input name="username" required=true autocomplete="off"/></label>
                        <label>"Role" <RoleSelect/></label>
                        <label>"Initial password (12+ characters)"
                            <input name="password" type="password" required=true minlength="12" autocomplete="new-password"/>
                        </label>
                        {action_error(move || create.value().get())}
                        <button class="btn btn-primary" type="submit" disabled=move || create.pending().get()>"Add user"</button>
                    </ActionForm>
                </details>
            </Show>
        </section>
    }
}

#[component]
fn Tokens() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = resource(
        move || (create.version().get(), revoke.version().get()),
        |_| list_tokens(),
    );
    let confirming = RwSignal::new(None::<i64>);
    view! {
        <section class="card" aria-labelledby="tokens-title">
            <div class="card-head"><h2 id="tokens-title">"API tokens"</h2></div>
            {move || create.value().get().and_then(|r| r.ok()).map(|new| view! {
                <div class="note note-success" role="status">
                    <p><strong>"Copy this token now. "</strong>"It is not stored and will not be shown again."</p>
                    <input class="token-once" readonly=true value=new.token aria-label="New API token"/>
                </div>
            })}
            {action_error(move || revoke.value().get())}
            <Transition fallback=|| view! { <LoadingRows rows=2/> }>
                {move || tokens.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState title="No API tokens yet">
                            <p>"Create one for each CI system or script, with the smallest role it needs."</p>
                        </EmptyState>
                    }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap">
                            <table class="table phone-cards">
                                <thead><tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Role"</th>
                                    <th scope="col">"Token"</th>
                                    <th scope="col">"Last used"</th>
                                    <th scope="col">"Status"</th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|t| view! { <TokenRow t confirming revoke/> }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                })}
            </Transition>
            <details class="form-panel">
                <summary>"Create a token"</summary>
                <ActionForm action=create attr:class="form-grid">
                    <label>"Name" <input name="name" required=true placeholder="e.g. github-actions" autocomplete="off"/></label>
                    <label>"Role" <RoleSelect/></label>
                    <label>"Flag environment (optional)"
                        <input name="environment" placeholder="e.g. production" autocomplete="off"
                            title="The environment whose flag settings this token evaluates when the evaluation context names none"/>
                    </label>
                    <label>"Limited to"
                        <select name="scope">
                            <option value="" selected=true>"everything its role allows"</option>
                            {crate::scopes::Scope::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> }).collect_view()}
                        </select>
                    </label>
                    {action_error(move || create.value().get())}
                    <button class="btn btn-primary" type="submit" disabled=move || create.pending().get()>"Create token"</button>
                </ActionForm>
            </details>
        </section>
    }
}

#[component]
fn TokenRow(
    t: TokenSummary,
    confirming: RwSignal<Option<i64>>,
    revoke: ServerAction<RevokeToken>,
) -> impl IntoView {
    let id = t.id;
    let prompt = StoredValue::new(format!(
        "Revoke {}? Machines using it stop working at once.",
        t.name
    ));
    let status = match t.revoked_at {
        Some(at) => view! { <span class="muted">"revoked "<TimeAgo ms=at/></span> }.into_any(),
        None => view! {
            <ConfirmInPlace asking=Asking::Row(confirming, id) ask="Revoke…" class="btn-danger-ghost"
                keep="Cancel" act="Revoke token" disabled=revoke.pending()
                on_confirm=Callback::new(move |_| { revoke.dispatch(RevokeToken { id }); })>
                <span>{prompt.get_value()}</span>
            </ConfirmInPlace>
        }.into_any(),
    };
    view! {
        <tr>
            <td>{t.name}</td>
            <td class="card-end"><RoleBadge role=t.role/>
                {(!t.scopes.is_empty()).then(|| {
                    let names: Vec<&str> = t.scopes.iter().map(|s| s.as_str()).collect();
                    view! { <div class="cell-meta">{format!("only {}", names.join(", "))}</div> }
                })}
            </td>
            <td><code>{format!("{}…", t.prefix)}</code></td>
            <td class="card-end"><span class="phone-label">"Last used "</span>{match t.last_used_at {
                Some(at) => view! { <TimeAgo ms=at/> }.into_any(),
                None => view! { <span class="muted">"never"</span> }.into_any(),
            }}</td>
            <td class="card-wide">{status}</td>
        </tr>
    }
}
