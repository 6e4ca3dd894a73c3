//! What CI said of the commit a release was built from, beside a deployment and in the deploy
//! and promote dialogs: a version whose build failed should not go out unnoticed.

use crate::api::codec::{resource, Loaded};
use crate::api::release_ci;
use crate::builds::commit::{CommitCi, ReleaseCiStatus};
use crate::builds::BuildStatus;
use crate::components::builds::status_badge;
use crate::error::AppError;
use leptos::prelude::*;

pub type ReleaseCiLoaded = Loaded<Result<ReleaseCiStatus, AppError>>;

/// Loads what CI said of `release` (service, version) whenever it changes; unknown while none.
pub fn load_release_ci(
    release: impl Fn() -> Option<(String, String)> + Send + Sync + 'static,
) -> ReleaseCiLoaded {
    resource(release, |key| async move {
        match key {
            Some((service, version)) => release_ci(service, version).await,
            None => Ok(ReleaseCiStatus::Unknown),
        }
    })
}

/// In its own transition, so a slow answer never holds the page or the dialog. `say_unbuilt`
/// says when no build of the commit was recorded: beside a deployment, where a reader looks
/// for it; not in a dialog, where a team without CI builds would read it on every release.
#[component]
pub fn ReleaseCiNote(said: ReleaseCiLoaded, #[prop(optional)] say_unbuilt: bool) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            {move || said.get().map(|r| match r {
                Ok(ReleaseCiStatus::Built(ci)) => view! { <Verdict ci/> }.into_any(),
                Ok(ReleaseCiStatus::Unbuilt(sha)) => say_unbuilt.then(|| view! {
                    <p class="muted" data-testid="commit-ci">{format!("No CI build of {sha} was recorded.")}</p>
                }).into_any(),
                Ok(ReleaseCiStatus::Unknown) => ().into_any(),
                Err(e) => view! {
                    <p class="muted" data-testid="commit-ci">{format!("What CI said of this commit could not be read: {}", e.message)}</p>
                }.into_any(),
            })}
        </Transition>
    }
}

/// The verdict as a badge and in words, then where to read more: a failure stands out.
#[component]
fn Verdict(ci: CommitCi) -> impl IntoView {
    let failed = ci.verdict == BuildStatus::Failure;
    view! {
        <p class=if failed { "note note-warn commit-ci" } else { "muted commit-ci" }
            role=failed.then_some("alert") data-testid="commit-ci">
            {status_badge(ci.verdict)}" "{ci.words}" "
            <a href=ci.pipeline_href>"Its builds"</a>
            {ci.url.map(|url| view! { " · "<a href=url rel="noopener noreferrer">"open the run"</a> })}
        </p>
    }
}
