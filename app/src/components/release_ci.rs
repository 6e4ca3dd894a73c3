//! What CI said of the commit a release was built from, beside a deployment and in the deploy
//! and promote dialogs: a version whose build failed should not go out unnoticed.
//!
//! Plain views of an answer the caller loads, with no transition of their own: the page reads
//! the answer in the transition it already has, so it appears with the rest of the page, and
//! the dialog draws it when it comes. Both ask again whenever a build arrives: an engineer who
//! waits for a re-run to pass, or for the last pipeline to finish, before deploying sees it
//! happen without a reload.

use crate::api::codec::{resource, Loaded};
use crate::api::release_ci;
use crate::builds::commit::ReleaseCiStatus;
use crate::builds::{BuildStatus, TOPIC};
use crate::components::builds::status_badge;
use crate::error::AppError;
use crate::live::changes_on;
use leptos::prelude::*;

pub type ReleaseCiLoaded = Loaded<Result<ReleaseCiStatus, AppError>>;

/// Loads what CI said of `release` (service, version) whenever it changes or a build arrives;
/// unknown while none.
pub fn load_release_ci(
    release: impl Fn() -> Option<(String, String)> + Send + Sync + 'static,
) -> ReleaseCiLoaded {
    let builds = changes_on(TOPIC);
    resource(
        move || (release(), builds.get()),
        |(key, _)| async move {
            match key {
                Some((service, version)) => release_ci(service, version).await,
                None => Ok(ReleaseCiStatus::Unknown),
            }
        },
    )
}

/// The verdict as a badge and in words, then where to read more; a failure stands out. When
/// no build of the commit was recorded, that is said only with `say_unbuilt`: beside a
/// deployment, where a reader looks for it, and not in a dialog, where a team that sends no
/// builds would read it on every release. Type-erased: an `Either` of the three views cost the
/// deployments pages' bundles 1.5 KB more.
pub fn release_ci_note(said: Result<ReleaseCiStatus, AppError>, say_unbuilt: bool) -> AnyView {
    match said {
        Ok(ReleaseCiStatus::Built(ci)) => {
            let failed = ci.verdict == BuildStatus::Failure;
            view! {
                <p class=if failed { "note note-warn commit-ci" } else { "muted commit-ci" }
                    role=failed.then_some("alert") data-testid="commit-ci">
                    {status_badge(ci.verdict)}" "{ci.words}" "
                    <a href=ci.pipeline_href>"Its builds"</a>
                    {ci.url.map(|url| view! { " · "<a href=url rel="noopener noreferrer">"open the run"</a> })}
                </p>
            }
            .into_any()
        }
        Ok(ReleaseCiStatus::Unbuilt(sha)) if say_unbuilt => view! {
            <p class="muted" data-testid="commit-ci">{format!("No CI build of {sha} was recorded.")}</p>
        }
        .into_any(),
        Err(e) => view! {
            <p class="muted" data-testid="commit-ci">{format!("What CI said of this commit could not be read: {}", e.message)}</p>
        }
        .into_any(),
        Ok(_) => ().into_any(),
    }
}

/// A release whose commit CI failed on, beside its version in the deployment history and on
/// the dashboard; the deployment's page says which pipeline and why.
pub fn ci_failed_mark() -> impl IntoView {
    view! {
        " "
        <span class="badge ci-failed-mark" title="CI failed on the commit this version was built from">"✗ CI failed"</span>
    }
}
