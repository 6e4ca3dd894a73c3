//! Pieces of the deployments pages: the status badge, the deploy / rollback / promote dialog
//! (with a typed confirmation for protected environments) and the toasts that report outcomes.

use crate::api::codec::resource;
use crate::api::{list_releases, StartDeploy, StartPromote, StartRollback};
use crate::catalog::Environment;
use crate::deploy::*;
use crate::error::AppError;
use leptos::prelude::*;

/// Status in words and color (never color alone).
#[component]
pub fn StatusBadge(status: DeploymentStatus) -> impl IntoView {
    view! { <span class=format!("badge status status-{}", status.as_str())>{status.label()}</span> }
}

/// What the dialog is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialogRequest {
    Deploy {
        service: Option<String>,
        environment: Option<String>,
    },
    Rollback {
        service: String,
        environment: String,
        current: Option<String>,
    },
    Promote {
        service: String,
        from: String,
        to: String,
        version: String,
    },
}

impl DialogRequest {
    fn environment(&self) -> Option<&str> {
        match self {
            DialogRequest::Deploy { environment, .. } => environment.as_deref(),
            DialogRequest::Rollback { environment, .. } => Some(environment),
            DialogRequest::Promote { to, .. } => Some(to),
        }
    }
}

/// A message in the corner: what was accepted, what finished, what failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub id: u32,
    pub text: String,
    pub href: Option<String>,
    pub error: bool,
}

#[derive(Clone, Copy)]
pub struct Toasts(RwSignal<Vec<Toast>>);

impl Toasts {
    pub fn new() -> Toasts {
        Toasts(RwSignal::new(Vec::new()))
    }

    /// Shows a toast for ten seconds (errors stay until dismissed).
    pub fn push(self, text: String, href: Option<String>, error: bool) {
        let id = self
            .0
            .with_untracked(|t| t.iter().map(|t| t.id).max().unwrap_or(0) + 1);
        self.0.update(|t| {
            t.push(Toast {
                id,
                text,
                href,
                error,
            })
        });
        if !error {
            set_timeout(move || self.dismiss(id), std::time::Duration::from_secs(10));
        }
    }

    fn dismiss(self, id: u32) {
        self.0.update(|t| t.retain(|t| t.id != id));
    }
}

impl Default for Toasts {
    fn default() -> Self {
        Self::new()
    }
}

#[component]
pub fn ToastRegion(toasts: Toasts) -> impl IntoView {
    view! {
        <div class="toasts" role="status" aria-live="polite">
            <For each=move || toasts.0.get() key=|t| t.id let:toast>
                <div class=if toast.error { "toast toast-error" } else { "toast" }>
                    {match toast.href {
                        Some(href) => view! { <a href=href>{toast.text}</a> }.into_any(),
                        None => view! { <span>{toast.text}</span> }.into_any(),
                    }}
                    <button class="btn btn-ghost toast-close" type="button" aria-label="Dismiss"
                        on:click=move |_| toasts.dismiss(toast.id)>"×"</button>
                </div>
            </For>
        </div>
    }
}

fn field(signal: RwSignal<String>) -> impl Fn(leptos::ev::Event) + Copy {
    move |ev| signal.set(event_target_value(&ev))
}

/// The deploy, rollback and promote dialog, mounted the first time it opens: until then a page
/// carries none of its markup or effects. `on_accepted` runs with the queued deployment.
#[component]
pub fn LazyDeployDialog(
    open: RwSignal<Option<DialogRequest>>,
    services: Signal<Vec<String>>,
    environments: Signal<Vec<Environment>>,
    on_accepted: Callback<Accepted>,
) -> impl IntoView {
    let wanted = RwSignal::new(false);
    Effect::new(move |_| {
        if open.get().is_some() {
            wanted.set(true);
        }
    });
    move || {
        wanted
            .get()
            .then(|| view! { <DeployDialog open services environments on_accepted/> })
    }
}

/// The deploy, rollback and promote dialog. `on_accepted` runs with the queued deployment.
#[component]
fn DeployDialog(
    open: RwSignal<Option<DialogRequest>>,
    services: Signal<Vec<String>>,
    environments: Signal<Vec<Environment>>,
    on_accepted: Callback<Accepted>,
) -> impl IntoView {
    let deploy = ServerAction::<StartDeploy>::new();
    let rollback = ServerAction::<StartRollback>::new();
    let promote = ServerAction::<StartPromote>::new();
    let service = RwSignal::new(String::new());
    let environment = RwSignal::new(String::new());
    let version = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let queue = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    let first_field = NodeRef::<leptos::html::Select>::new();

    // Each opening starts clean, prefilled from the request.
    Effect::new(move |_| {
        if let Some(request) = open.get() {
            error.set(None);
            reason.set(String::new());
            confirm.set(String::new());
            version.set(String::new());
            queue.set(false);
            if let DialogRequest::Deploy {
                service: s,
                environment: e,
            } = &request
            {
                service.set(
                    s.clone()
                        .or_else(|| services.get_untracked().first().cloned())
                        .unwrap_or_default(),
                );
                environment.set(
                    e.clone()
                        .or_else(|| environments.get_untracked().first().map(|e| e.name.clone()))
                        .unwrap_or_default(),
                );
            }
            request_animation_frame(move || {
                if let Some(el) = first_field.get_untracked() {
                    let _ = el.focus();
                }
            });
        }
    });
    // Any of the three actions finishing closes the dialog or shows why it could not.
    for value in [deploy.value(), rollback.value(), promote.value()] {
        Effect::new(move |_| match value.get() {
            Some(Ok(accepted)) => {
                value.set(None);
                open.set(None);
                on_accepted.run(accepted);
            }
            Some(Err(e)) => error.set(Some(e)),
            None => {}
        });
    }
    let pending =
        move || deploy.pending().get() || rollback.pending().get() || promote.pending().get();

    // The environment this action changes, when it is protected: its name must be typed.
    let protected_target = move || {
        let request = open.get()?;
        let name = match &request {
            DialogRequest::Deploy { .. } => environment.get(),
            other => other.environment()?.to_string(),
        };
        environments
            .get()
            .into_iter()
            .find(|e| e.name == name && e.protected)
            .map(|e| e.name)
    };
    let confirmed = move || protected_target().is_none_or(|name| confirm.get() == name);

    let releases = resource(
        move || match open.get() {
            Some(DialogRequest::Rollback { service, .. }) => Some(service),
            _ => None,
        },
        |service| async move {
            match service {
                Some(s) => list_releases(s).await.unwrap_or_default(),
                None => Vec::new(),
            }
        },
    );

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if !confirmed() {
            return;
        }
        let text = |s: RwSignal<String>| {
            Some(s.get_untracked().trim().to_string()).filter(|s| !s.is_empty())
        };
        match open.get_untracked() {
            Some(DialogRequest::Deploy { .. }) => {
                deploy.dispatch(StartDeploy {
                    request: DeployRequest {
                        service: service.get_untracked(),
                        environment: environment.get_untracked(),
                        version: version.get_untracked().trim().to_string(),
                        artifact: None,
                        git_sha: None,
                        reason: text(reason),
                        queue: queue.get_untracked(),
                    },
                });
            }
            Some(DialogRequest::Rollback {
                service,
                environment,
                ..
            }) => {
                rollback.dispatch(StartRollback {
                    request: RollbackRequest {
                        service,
                        environment,
                        to_version: text(version),
                        reason: reason.get_untracked(),
                    },
                });
            }
            Some(DialogRequest::Promote { service, from, .. }) => {
                promote.dispatch(StartPromote {
                    request: PromoteRequest {
                        service,
                        from_environment: from,
                        reason: text(reason),
                    },
                });
            }
            None => {}
        }
    };

    let body = move || {
        let request = open.get()?;
        let (title, summary, action) = match &request {
            DialogRequest::Deploy { .. } => ("Deploy".to_string(), None, "Deploy"),
            DialogRequest::Rollback { service, environment, current } => (
                format!("Roll back {service} in {environment}"),
                Some(match current {
                    Some(v) => format!("{environment} runs {v}. The rollback deploys an earlier version and quarantines {v} there until someone lifts it."),
                    None => format!("The rollback deploys an earlier version of {service} to {environment}."),
                }),
                "Roll back",
            ),
            DialogRequest::Promote { service, from, to, version } => (
                format!("Promote {service} {version}"),
                Some(format!("Deploys {version}, which runs in {from}, to {to}.")),
                "Promote",
            ),
        };
        let is_deploy = matches!(request, DialogRequest::Deploy { .. });
        let is_rollback = matches!(request, DialogRequest::Rollback { .. });
        Some(view! {
            <div class="dialog-backdrop" on:click=move |_| open.set(None)></div>
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="dialog-title"
                on:keydown=move |ev| if ev.key() == "Escape" { open.set(None) }>
                <h2 id="dialog-title">{title}</h2>
                {summary.map(|s| view! { <p class="muted">{s}</p> })}
                <form on:submit=submit class="dialog-form">
                    <Show when=move || is_deploy>
                        <label>"Service"
                            <select node_ref=first_field required=true on:change=field(service) prop:value=move || service.get()>
                                {move || services.get().into_iter().map(|s| view! { <option value=s.clone()>{s.clone()}</option> }).collect_view()}
                            </select>
                        </label>
                        <label>"Environment"
                            <select required=true on:change=field(environment) prop:value=move || environment.get()>
                                {move || environments.get().into_iter().map(|e| {
                                    let label = if e.protected { format!("{} (protected)", e.name) } else { e.name.clone() };
                                    view! { <option value=e.name>{label}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                        <label>"Version"
                            <input name="version" required=true autocomplete="off" placeholder="e.g. 1.8.2"
                                on:input=field(version) prop:value=move || version.get()/>
                        </label>
                        <label class="check">
                            <input type="checkbox" prop:checked=move || queue.get()
                                on:change=move |ev| queue.set(event_target_checked(&ev))/>
                            "Queue behind a deployment that is still running"
                        </label>
                    </Show>
                    <Show when=move || is_rollback>
                        <label>"Roll back to"
                            <select on:change=field(version) prop:value=move || version.get()>
                                <option value="">"The last good version (automatic)"</option>
                                <Suspense>
                                    {move || releases.get().map(|list| list.into_iter().map(|r| view! {
                                        <option value=r.version.clone()>{r.version.clone()}</option>
                                    }).collect_view())}
                                </Suspense>
                            </select>
                        </label>
                    </Show>
                    <label>{if is_rollback { "Reason (required)" } else { "Reason" }}
                        <input name="reason" required=is_rollback autocomplete="off"
                            placeholder=if is_rollback { "What went wrong?" } else { "Why, for the audit trail" }
                            on:input=field(reason) prop:value=move || reason.get()/>
                    </label>
                    {move || protected_target().map(|name| view! {
                        <label class="confirm-type">
                            {format!("{name} is protected. Type its name to confirm")}
                            <input name="confirm" autocomplete="off" spellcheck="false"
                                on:input=field(confirm) prop:value=move || confirm.get()/>
                        </label>
                    })}
                    {move || error.get().map(|e| view! { <p class="note note-error" role="alert">{e.message}</p> })}
                    <div class="dialog-actions">
                        <button class="btn btn-ghost" type="button" on:click=move |_| open.set(None)>"Cancel"</button>
                        <button class=if is_rollback { "btn btn-danger" } else { "btn btn-primary" } type="submit"
                            disabled=move || pending() || !confirmed()>
                            {move || if pending() { "Sending…" } else { action }}
                        </button>
                    </div>
                </form>
            </div>
        })
    };
    view! { {body} }
}
