//! One deployment: what, where, who and why; a progress indicator; the live log; and the
//! actions that make sense for it now (cancel while active, roll back or promote when done).

use crate::api::codec::{resource, Loaded};
use crate::api::*;
use crate::builds::commit::ReleaseCiStatus;
use crate::components::common::*;
use crate::components::confirm::{Asking, ConfirmInPlace};
use crate::components::deploy::*;
use crate::components::deploy_dialog::*;
use crate::components::deploy_log::LogView;
use crate::components::layout::{provide_role, use_role_at_least, viewer_role};
use crate::components::release_ci::release_ci_note;
use crate::deploy::{topics, Accepted, Deployment, DeploymentStatus};
use crate::live::changes_on;
use crate::model::Role;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn DeploymentPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
    };
    // A title is a plain string, read once: leptos_axum reads it after the render, outside the
    // request's reactive arena, so a closure reading the route's params there panicked as
    // "disposed" whenever another request had run on the thread meanwhile (leptos#4829).
    let title = format!("Deployment #{}", untrack(id));
    view! {
        <Title text=title/>
        <p class="crumbs"><a href="/deployments">"← Deployments"</a></p>
        {move || view! { <DeploymentLive id=id() role=viewer_role()/> }}
    }
}

/// The deployment, its live log and its actions.
#[island]
fn DeploymentLive(id: i64, role: Option<Role>) -> impl IntoView {
    provide_role(role);
    let id = Signal::stored(id);
    let changes = changes_on(topics::DEPLOYMENTS);
    let cancel = ServerAction::<CancelDeployment>::new();
    let dismiss = ServerAction::<DismissDeployment>::new();
    let deployment = resource(
        move || {
            (
                id.get(),
                changes.get(),
                cancel.version().get(),
                dismiss.version().get(),
            )
        },
        |(id, _, _, _)| get_deployment(id),
    );
    let board = resource(move || changes.get(), |_| load_board());
    // Read again whenever a build arrives: a re-run that passes, or a pipeline that fails on
    // the commit, shows while the engineer decides. The release is the loaded deployment's
    // (awaited, not asked for again: a build used to cost two requests).
    let builds = changes_on(crate::builds::TOPIC);
    let ci = resource(
        move || builds.get(),
        move |_| async move {
            let d = deployment.await?;
            if d.git_sha.is_none() {
                return Ok(ReleaseCiStatus::Unknown);
            }
            release_ci(d.service, d.version).await
        },
    );
    let dialog = RwSignal::new(None::<DialogRequest>);
    let toasts = Toasts::new();
    let on_accepted = Callback::new(move |a: Accepted| {
        toasts.push(
            format!(
                "Deployment #{} queued: {} to {}",
                a.id, a.target_version, a.environment
            ),
            None,
            false,
        );
        // A full load: the new deployment's page is its own island.
        if let Some(w) = web_sys::window() {
            let _ = w.location().set_href(&format!("/deployments/{}", a.id));
        }
    });
    let board_view = BoardView::of(board);

    view! {
        <Transition fallback=|| view! { <LoadingRows rows=6/> }>
            {move || deployment.get().map(|r| match r {
                Err(error) => view! { <ErrorNote error/> }.into_any(),
                Ok(d) => view! { <Summary d=d.clone() board dialog cancel dismiss/> }.into_any(),
            })}
            // What CI said, below the summary's facts: in the same transition, so there is no
            // second loading state, and drawn apart from the summary, so a build arriving
            // does not draw the summary again (and close a question open in it).
            {move || deployment.get().and_then(Result::ok).and(ci.get()).map(|said| release_ci_note(said, true))}
        </Transition>
        {move || (id.get() > 0).then(|| view! { <LogView id=id.get() title="Log".to_string()/> })}
        <LazyDeployDialog open=dialog board=board_view on_accepted/>
        <ToastRegion toasts/>
    }
}

#[component]
fn Summary(
    d: Deployment,
    board: Loaded<Result<DeployBoard, crate::error::AppError>>,
    dialog: RwSignal<Option<DialogRequest>>,
    cancel: ServerAction<CancelDeployment>,
    dismiss: ServerAction<DismissDeployment>,
) -> impl IntoView {
    let can_operate = use_role_at_least(Role::Operator);
    let confirming = RwSignal::new(false);
    let id = d.id;
    let active = d.status.is_active();
    // Roll back and promote act on what is current in the environment: offer them only on the
    // newest deployment there.
    let here = StoredValue::new((d.service.clone(), d.environment.clone()));
    let cell = move || {
        let (service, environment) = here.get_value();
        board.get().and_then(|b| b.ok()).and_then(|b| {
            let next = b
                .environments
                .iter()
                .skip_while(|e| e.name != environment)
                .nth(1)
                .map(|e| e.name.clone());
            b.cells
                .into_iter()
                .find(|c| c.service == service && c.environment == environment)
                .map(|c| (c, next))
        })
    };
    let (service, environment, version) =
        (d.service.clone(), d.environment.clone(), d.version.clone());
    let failed = d.status == DeploymentStatus::Failed;
    // A failed deployment never served: the page says what still does, and offers to try the
    // version again or to dismiss the failure, never to roll back the version still serving.
    let outcome = {
        let (service, environment, version) =
            (service.clone(), environment.clone(), version.clone());
        move || {
            let (cell, _) = cell()?;
            if !failed || cell.deployment_id != Some(id) {
                return None;
            }
            let serving = match &cell.live_version {
                Some(live) => format!("{live} still serves in {environment}."),
                None => format!("Nothing has succeeded in {environment} yet, so nothing of {service} serves there."),
            };
            let retry = DialogRequest::retry(&service, &environment, &version).opener(dialog);
            let retry_label = format!("Retry {version}…");
            Some(view! {
                <div class="note note-warn outcome" data-testid="failed-outcome">
                    <p><strong>{format!("{version} failed and never served. ")}</strong>{serving}</p>
                    <Show when=move || can_operate.get()>
                        <div class="actions">
                            <button class="btn btn-primary" type="button" on:click=retry.clone()>{retry_label.clone()}</button>
                            <button class="btn" type="button" title="Mark the failure as seen: the matrix shows what still serves"
                                disabled=move || dismiss.pending().get()
                                on:click=move |_| { dismiss.dispatch(DismissDeployment { id }); }>"Dismiss"</button>
                        </div>
                    </Show>
                </div>
            })
        }
    };
    let actions = move || {
        let (cell, next) = cell()?;
        if cell.deployment_id != Some(id) || active || failed {
            return None;
        }
        // Offered where there is an earlier version to go back to, as in the matrix.
        let rollback = cell.rollback_to.clone().map(|to| {
            let open = DialogRequest::Rollback {
                service: service.clone(),
                environment: environment.clone(),
            }
            .opener(dialog);
            let title = format!("Roll back to {to}");
            view! { <button class="btn btn-danger-ghost" type="button" title=title on:click=open>"Roll back…"</button> }
        });
        let promote = cell.live_version.clone().zip(next).map(|(live, to)| {
            let (service, from) = (service.clone(), environment.clone());
            let label = format!("Promote {live} to {to}");
            let open = move |_| {
                dialog.set(Some(DialogRequest::Promote {
                    service: service.clone(),
                    from: from.clone(),
                    to: to.clone(),
                    version: live.clone(),
                }))
            };
            view! { <button class="btn" type="button" on:click=open>{label}</button> }
        });
        Some(view! {
            {rollback}
            {promote}
        })
    };
    let took = d
        .started_at
        .map(|s| crate::time_fmt::duration(d.finished_at.unwrap_or_else(now_ms) - s));
    view! {
        <div class="page-head page-head-actions">
            <div>
                <h1>{format!("#{} {} ", d.id, d.service)}<code>{d.version.clone()}</code>{format!(" → {}", d.environment)}</h1>
                <p class="muted">{format!("{} by {}", capitalized(d.kind.as_str()), d.actor)}{d.reason.clone().map(|r| format!(": “{r}”"))}</p>
            </div>
            <Show when=move || can_operate.get()>
                <div class="actions">
                    {active.then(|| view! {
                        <ConfirmInPlace asking=Asking::Flag(confirming) ask="Cancel deployment…" class="btn-danger-ghost"
                            keep="Keep going" act="Cancel it" disabled=cancel.pending()
                            on_confirm=Callback::new(move |_| { cancel.dispatch(CancelDeployment { id }); })>
                            <span>"Stop it? A running command is killed."</span>
                        </ConfirmInPlace>
                    })}
                    {actions.clone()}
                </div>
            </Show>
        </div>
        {move || cancel.value().get().and_then(|r| r.err()).map(|e| view! { <p class="note note-error" role="alert">{e.message}</p> })}
        <Progress status=d.status/>
        {d.error.clone().map(|e| view! { <div class="note note-error" role="alert"><strong>"Why it stopped: "</strong>{e}</div> })}
        {outcome}
        {move || dismiss.value().get().and_then(|r| r.err()).map(|e| view! { <p class="note note-error" role="alert">{e.message}</p> })}
        {d.dismissed_by.clone().map(|who| view! {
            <p class="note">{format!("Dismissed by {who} ")}{d.dismissed_at.map(|ms| view! { <TimeAgo ms/> })}</p>
        })}
        <dl class="facts card">
            <div><dt>"Status"</dt><dd><StatusBadge status=d.status/></dd></div>
            <div><dt>"Requested"</dt><dd><TimeAgo ms=d.created_at/></dd></div>
            <div><dt>"Took"</dt><dd>{took.unwrap_or_else(|| "not started".into())}</dd></div>
            <div><dt>"Trigger"</dt><dd>{d.trigger.as_str()}</dd></div>
            // A row of their own: a sha in a quarter of a tablet's width broke over three lines.
            {d.git_sha.clone().map(|sha| view! { <div class="fact-wide"><dt>"Git sha"</dt><dd><code>{sha}</code></dd></div> })}
            {d.artifact.clone().map(|a| view! { <div class="fact-wide"><dt>"Artifact"</dt><dd><code>{a}</code></dd></div> })}
            {d.replaced_id.map(|r| view! { <div><dt>"Replaced"</dt><dd><a href=format!("/deployments/{r}")>{format!("#{r}")}</a></dd></div> })}
        </dl>
    }
}

/// Queued -> running -> outcome, with the current step marked for screen readers too.
#[component]
fn Progress(status: DeploymentStatus) -> impl IntoView {
    let step = match status {
        DeploymentStatus::Queued => 0,
        DeploymentStatus::Running => 1,
        _ => 2,
    };
    let last = if step == 2 {
        status.label()
    } else {
        "Finished"
    };
    let steps = ["Queued", "Running", last];
    view! {
        <ol class=format!("progress progress-{}", status.as_str()) aria-label="Progress">
            {steps.into_iter().enumerate().map(|(i, label)| view! {
                <li class=if i < step { "done" } else if i == step { "current" } else { "" }
                    aria-current=(i == step).then_some("step")>{label}</li>
            }).collect_view()}
        </ol>
        {(step == 1).then(|| view! { <div class="bar" role="progressbar" aria-label="Deploying"><span></span></div> })}
    }
}
