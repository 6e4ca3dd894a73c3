//! The deploy, rollback and promote dialog, with a typed confirmation for protected
//! environments. A rollback reads what it would do first (`rollback_options`) and says it in
//! words: the version it goes to, the one it quarantines, and nothing that never succeeded.
//! A deploy or a promotion of a known release says what CI said of its commit.

use super::common::ErrorNote;
use super::modal::Modal;
use super::release_ci::{load_release_ci, release_ci_note};
use crate::api::codec::{resource, Loaded};
use crate::api::{
    list_releases, rollback_options, DeployBoard, StartDeploy, StartPromote, StartRollback,
};
use crate::catalog::Environment;
use crate::deploy::rollback::RollbackOptions;
use crate::deploy::*;
use crate::error::AppError;
use leptos::prelude::*;

/// What the dialog is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialogRequest {
    /// Each field prefills the form (a cell's service and environment, a failed version to retry).
    Deploy {
        service: Option<String>,
        environment: Option<String>,
        version: Option<String>,
    },
    Rollback {
        service: String,
        environment: String,
    },
    Promote {
        service: String,
        from: String,
        to: String,
        version: String,
    },
}

impl DialogRequest {
    /// A deploy with nothing prefilled.
    pub fn deploy() -> DialogRequest {
        DialogRequest::Deploy {
            service: None,
            environment: None,
            version: None,
        }
    }

    /// A deploy of a version that failed, prefilled to try it again.
    pub fn retry(service: &str, environment: &str, version: &str) -> DialogRequest {
        DialogRequest::Deploy {
            service: Some(service.into()),
            environment: Some(environment.into()),
            version: Some(version.into()),
        }
    }

    /// A click handler that opens `dialog` with this request.
    pub fn opener(
        self,
        dialog: RwSignal<Option<DialogRequest>>,
    ) -> impl Fn(leptos::ev::MouseEvent) + Clone + 'static {
        move |_| dialog.set(Some(self.clone()))
    }

    fn environment(&self) -> Option<&str> {
        match self {
            DialogRequest::Deploy { environment, .. } => environment.as_deref(),
            DialogRequest::Rollback { environment, .. } => Some(environment),
            DialogRequest::Promote { to, .. } => Some(to),
        }
    }
}

fn field(signal: RwSignal<String>) -> impl Fn(leptos::ev::Event) + Copy {
    move |ev| signal.set(event_target_value(&ev))
}

/// What the dialog reads of the deployments board: service names, environments in pipeline
/// order, and the matrix (so a deploy shows what runs where it would go).
#[derive(Clone, Copy)]
pub struct BoardView {
    services: Signal<Vec<String>>,
    environments: Signal<Vec<Environment>>,
    cells: Signal<Vec<StatusCell>>,
}

impl BoardView {
    pub fn of(board: Loaded<Result<DeployBoard, AppError>>) -> BoardView {
        let loaded = move || board.get().and_then(|b| b.ok());
        BoardView {
            services: Signal::derive(move || {
                loaded()
                    .map(|b| b.services.into_iter().map(|s| s.name).collect())
                    .unwrap_or_default()
            }),
            environments: Signal::derive(move || {
                loaded().map(|b| b.environments).unwrap_or_default()
            }),
            cells: Signal::derive(move || loaded().map(|b| b.cells).unwrap_or_default()),
        }
    }
}

/// The dialog, mounted the first time it opens: until then a page carries none of its markup or
/// effects. `on_accepted` runs with the queued deployment.
#[component]
pub fn LazyDeployDialog(
    open: RwSignal<Option<DialogRequest>>,
    board: BoardView,
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
            .then(|| view! { <DeployDialog open board on_accepted/> })
    }
}

/// The form's fields, one signal each; every opening starts them afresh.
#[derive(Clone, Copy)]
struct Fields {
    service: RwSignal<String>,
    environment: RwSignal<String>,
    version: RwSignal<String>,
    reason: RwSignal<String>,
    confirm: RwSignal<String>,
    queue: RwSignal<bool>,
}

impl Fields {
    fn new() -> Fields {
        Fields {
            service: RwSignal::new(String::new()),
            environment: RwSignal::new(String::new()),
            version: RwSignal::new(String::new()),
            reason: RwSignal::new(String::new()),
            confirm: RwSignal::new(String::new()),
            queue: RwSignal::new(false),
        }
    }

    fn text(signal: RwSignal<String>) -> Option<String> {
        crate::text::non_blank(Some(signal.get_untracked()))
    }
}

/// The deploy, rollback and promote dialog. `on_accepted` runs with the queued deployment.
#[component]
fn DeployDialog(
    open: RwSignal<Option<DialogRequest>>,
    board: BoardView,
    on_accepted: Callback<Accepted>,
) -> impl IntoView {
    let BoardView {
        services,
        environments,
        cells,
    } = board;
    let deploy = ServerAction::<StartDeploy>::new();
    let rollback = ServerAction::<StartRollback>::new();
    let promote = ServerAction::<StartPromote>::new();
    let f = Fields::new();
    let error = RwSignal::new(None::<AppError>);

    // Each opening starts clean, prefilled from the request.
    Effect::new(move |_| {
        let Some(request) = open.get() else { return };
        error.set(None);
        f.reason.set(String::new());
        f.confirm.set(String::new());
        f.version.set(String::new());
        f.queue.set(false);
        if let DialogRequest::Deploy {
            service,
            environment,
            version,
        } = request
        {
            f.service.set(
                service
                    .or_else(|| services.get_untracked().first().cloned())
                    .unwrap_or_default(),
            );
            f.environment.set(
                environment
                    .or_else(|| environments.get_untracked().first().map(|e| e.name.clone()))
                    .unwrap_or_default(),
            );
            f.version.set(version.unwrap_or_default());
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
        let name = match open.get()? {
            DialogRequest::Deploy { .. } => f.environment.get(),
            other => other.environment()?.to_string(),
        };
        environments
            .get()
            .into_iter()
            .find(|e| e.name == name && e.protected)
            .map(|e| e.name)
    };
    let options = resource(
        move || match open.get() {
            Some(DialogRequest::Rollback {
                service,
                environment,
            }) => Some((service, environment)),
            _ => None,
        },
        |key| async move {
            match key {
                Some((service, environment)) => Some(rollback_options(service, environment).await),
                None => None,
            }
        },
    );
    let rollback_ready = move || {
        !matches!(open.get(), Some(DialogRequest::Rollback { .. }))
            || options
                .get()
                .flatten()
                .and_then(|r| r.ok())
                .is_some_and(|o| o.automatic.is_some() || !o.choices.is_empty())
    };
    // A rollback with nowhere to go (or whose options could not be read) asks for nothing: the
    // reason, the typed confirmation and the button would promise an action that cannot happen.
    let rollback_blocked = move || {
        matches!(open.get(), Some(DialogRequest::Rollback { .. }))
            && options.get().flatten().is_some_and(|r| {
                r.is_err() || r.is_ok_and(|o| o.automatic.is_none() && o.choices.is_empty())
            })
    };
    // The reason field had focus while the options loaded; it is gone now, so Close takes it.
    let close_button = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if rollback_blocked() {
            if let Some(button) = close_button.get() {
                let _ = button.focus();
            }
        }
    });
    let ready =
        move || rollback_ready() && protected_target().is_none_or(|name| f.confirm.get() == name);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if !ready() {
            return;
        }
        match open.get_untracked() {
            Some(DialogRequest::Deploy { .. }) => {
                deploy.dispatch(StartDeploy {
                    request: DeployRequest {
                        service: f.service.get_untracked(),
                        environment: f.environment.get_untracked(),
                        version: f.version.get_untracked().trim().to_string(),
                        artifact: None,
                        git_sha: None,
                        reason: Fields::text(f.reason),
                        queue: f.queue.get_untracked(),
                        confirm: Fields::text(f.confirm),
                    },
                });
            }
            Some(DialogRequest::Rollback {
                service,
                environment,
            }) => {
                rollback.dispatch(StartRollback {
                    request: RollbackRequest {
                        service,
                        environment,
                        to_version: Fields::text(f.version),
                        reason: f.reason.get_untracked(),
                        confirm: Fields::text(f.confirm),
                    },
                });
            }
            Some(DialogRequest::Promote { service, from, .. }) => {
                promote.dispatch(StartPromote {
                    request: PromoteRequest {
                        service,
                        from_environment: from,
                        reason: Fields::text(f.reason),
                        confirm: Fields::text(f.confirm),
                    },
                });
            }
            None => {}
        }
    };

    let content = move || {
        let request = open.get()?;
        let (title, action) = match &request {
            DialogRequest::Deploy { .. } => ("Deploy".to_string(), "Deploy"),
            DialogRequest::Rollback {
                service,
                environment,
            } => (format!("Roll back {service} in {environment}"), "Roll back"),
            DialogRequest::Promote {
                service, version, ..
            } => (format!("Promote {service} {version}"), "Promote"),
        };
        let is_rollback = matches!(request, DialogRequest::Rollback { .. });
        let fields = match request {
            DialogRequest::Deploy { .. } => {
                view! { <DeployFields f services environments cells/> }.into_any()
            }
            DialogRequest::Rollback { environment, .. } => {
                view! { <RollbackFields environment options version=f.version/> }.into_any()
            }
            DialogRequest::Promote {
                service,
                from,
                to,
                version,
            } => {
                let said = format!("Deploys {version}, which runs in {from}, to {to}.");
                let ci = load_release_ci(move || Some((service.clone(), version.clone())));
                view! {
                    <p class="muted">{said}</p>
                    {move || ci.get().map(|said| release_ci_note(said, false))}
                }
                .into_any()
            }
        };
        Some(view! {
            <h2 id="dialog-title">{title}</h2>
            <form on:submit=submit class="dialog-form">
                {fields}
                <Show when=move || !rollback_blocked()>
                    <label>{if is_rollback { "Reason (required)" } else { "Reason" }}
                        <input name="reason" required=is_rollback autocomplete="off" autofocus=is_rollback
                            placeholder=if is_rollback { "What went wrong?" } else { "Why, for the audit trail" }
                            on:input=field(f.reason) prop:value=move || f.reason.get()/>
                    </label>
                    {move || protected_target().map(|name| view! {
                        <label class="confirm-type">
                            {format!("{name} is protected. Type its name to confirm")}
                            <input name="confirm" autocomplete="off" spellcheck="false"
                                on:input=field(f.confirm) prop:value=move || f.confirm.get()/>
                        </label>
                    })}
                </Show>
                {move || error.get().map(|e| view! { <p class="note note-error" role="alert">{e.message}</p> })}
                <div class="dialog-actions">
                    <button class="btn btn-ghost" type="button" node_ref=close_button on:click=move |_| open.set(None)>
                        {move || if rollback_blocked() { "Close" } else { "Cancel" }}
                    </button>
                    <Show when=move || !rollback_blocked()>
                        <button class=if is_rollback { "btn btn-danger" } else { "btn btn-primary" } type="submit"
                            disabled=move || pending() || !ready()>
                            {move || if pending() { "Sending…" } else { action }}
                        </button>
                    </Show>
                </div>
            </form>
        })
    };
    view! {
        <Modal open=Signal::derive(move || open.with(Option::is_some))
            on_close=Callback::new(move |_| open.set(None)) labelled_by="dialog-title">
            {content}
        </Modal>
    }
}

/// Service, environment, version (known releases offered, any text allowed) and queueing.
#[component]
fn DeployFields(
    f: Fields,
    services: Signal<Vec<String>>,
    environments: Signal<Vec<Environment>>,
    cells: Signal<Vec<StatusCell>>,
) -> impl IntoView {
    // What runs at the chosen service and environment now, in words.
    let running = move || {
        let (service, environment) = (f.service.get(), f.environment.get());
        let cell = cells.with(|c| {
            c.iter()
                .find(|c| c.service == service && c.environment == environment)
                .cloned()
        });
        match cell.and_then(|c| c.live_version) {
            Some(live) => format!("{environment} runs {live} now."),
            None => format!("Nothing of {service} runs in {environment} yet."),
        }
    };
    let releases = resource(
        move || f.service.get(),
        |service| async move {
            if service.is_empty() {
                return Vec::new();
            }
            list_releases(service).await.unwrap_or_default()
        },
    );
    // A version typed that is a known release built from a commit: what CI said of it.
    let ci = load_release_ci(move || {
        let version = f.version.get().trim().to_string();
        releases
            .get()?
            .iter()
            .any(|r| r.version == version && r.git_sha.is_some())
            .then(|| (f.service.get(), version))
    });
    view! {
        <label>"Service"
            <select required=true autofocus=true on:change=field(f.service) prop:value=move || f.service.get()>
                {move || services.get().into_iter().map(|s| view! { <option value=s.clone()>{s.clone()}</option> }).collect_view()}
            </select>
        </label>
        <label>"Environment"
            <select required=true on:change=field(f.environment) prop:value=move || f.environment.get()>
                {move || environments.get().into_iter().map(|e| {
                    let label = if e.protected { format!("{} (protected)", e.name) } else { e.name.clone() };
                    view! { <option value=e.name>{label}</option> }
                }).collect_view()}
            </select>
        </label>
        <p class="muted" data-testid="running-now">{running}</p>
        <label>"Version"
            <input name="version" required=true autocomplete="off" placeholder="e.g. 1.8.2" list="known-releases"
                on:input=field(f.version) prop:value=move || f.version.get()/>
        </label>
        <datalist id="known-releases">
            <Transition fallback=|| ()>
                {move || releases.get().map(|list| list.into_iter().map(|r| view! { <option value=r.version/> }).collect_view())}
            </Transition>
        </datalist>
        {move || ci.get().map(|said| release_ci_note(said, false))}
        <label class="check">
            <input type="checkbox" prop:checked=move || f.queue.get()
                on:change=move |ev| f.queue.set(event_target_checked(&ev))/>
            "Queue behind a deployment that is still running"
        </label>
    }
}

/// What the rollback will do, in words, and the versions one may choose instead of the last
/// good one: only versions that succeeded there, never the serving one.
#[component]
fn RollbackFields(
    environment: String,
    options: crate::api::codec::Loaded<Option<Result<RollbackOptions, AppError>>>,
    version: RwSignal<String>,
) -> impl IntoView {
    let environment = StoredValue::new(environment);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Reading what runs there…"</p> }>
            {move || options.get().flatten().map(|r| match r {
                Err(error) => view! { <ErrorNote error/> }.into_any(),
                Ok(o) => {
                    let o = StoredValue::new(o);
                    let summary = move || {
                        let chosen = Some(version.get()).filter(|v| !v.is_empty());
                        o.with_value(|o| o.summary(&environment.get_value(), chosen.as_deref()))
                    };
                    let automatic = o.with_value(|o| o.automatic.clone());
                    let others: Vec<String> = o.with_value(|o| {
                        o.choices.iter().filter(|v| Some(*v) != automatic.as_ref()).cloned().collect()
                    });
                    let refused = automatic.is_none() && others.is_empty();
                    view! {
                        <p class=if refused { "note note-error" } else { "muted" } data-testid="rollback-summary">{summary}</p>
                        {(!refused && !others.is_empty()).then(|| view! {
                            <label>"Roll back to"
                                <select on:change=field(version) prop:value=move || version.get()>
                                    {automatic.clone().map(|v| view! { <option value="">{format!("last good: {v}")}</option> })}
                                    {others.into_iter().map(|v| view! { <option value=v.clone()>{v.clone()}</option> }).collect_view()}
                                </select>
                            </label>
                        })}
                    }
                    .into_any()
                }
            })}
        </Transition>
    }
}
