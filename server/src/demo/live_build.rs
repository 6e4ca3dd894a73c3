//! The build CI is running when the demo starts: a newcomer's large pull request on the slowest
//! pipeline. A first look at a pipeline then finds what a build in flight shows (its predicted
//! risk and the reasons in words), and minutes later the build ends as such changes here often
//! do, so the board and the live accuracy move as they would with a real CI behind them.

use crate::state::AppState;
use app::builds::{Build, BuildStatus, BuildTrigger};
use app::ports::BuildsPort;

const PIPELINE: &str = "acme/web/e2e";
const SOURCE_ID: &str = "live-1";
/// Started this long before the demo starts, and runs this long in all: long enough that the
/// end-to-end suite, which runs on a fresh demo, is over before the build ends.
const STARTED_AGO_MS: i64 = 60_000;
const RUNS_FOR_MS: i64 = 11 * 60_000;

/// The running build, as CI reports it when it starts `now`-ish.
pub fn running(now: i64) -> Build {
    let (repo, workflow) = app::builds::split_pipeline(PIPELINE).unwrap_or_default();
    Build {
        id: 0,
        source: "demo".into(),
        source_id: SOURCE_ID.into(),
        pipeline: PIPELINE.into(),
        repo,
        workflow,
        branch: "feature/checkout-redesign".into(),
        commit: "5e1c0ffee0ddba11ab1e5ca1ab1e0b57ac1e5eed".into(),
        author: Some("new.hire".into()),
        trigger: BuildTrigger::PullRequest,
        message: Some("WIP: new checkout flow".into()),
        files_changed: Some(38),
        lines_added: Some(1_240),
        lines_deleted: Some(310),
        started_at: now - STARTED_AGO_MS,
        finished_at: None,
        duration_s: None,
        status: BuildStatus::Running,
        tests_total: None,
        tests_failed: None,
        coverage: None,
        url: Some(format!("https://ci.example.com/{PIPELINE}/live-1")),
        predicted_failure: None,
        model_version: None,
    }
}

/// How `running` ends: seven end-to-end tests fail.
pub fn ended(running: &Build) -> Build {
    let finished_at = running.started_at + RUNS_FOR_MS;
    Build {
        finished_at: Some(finished_at),
        duration_s: Some(RUNS_FOR_MS as f64 / 1000.0),
        status: BuildStatus::Failure,
        tests_total: Some(862),
        tests_failed: Some(7),
        coverage: Some(83.9),
        ..running.clone()
    }
}

/// Ends the demo's running build when its time comes, also after a restart that found it
/// still running (then at once, if its time has passed).
pub async fn finish_later(state: &AppState) -> Result<(), String> {
    // Since ever: a demo restarted days later still ends it (the pipeline has no other
    // unfinished builds unless a CI sent some).
    let unfinished = state
        .builds
        .unfinished(PIPELINE, 0, 50)
        .await
        .map_err(|e| e.message)?;
    let Some(build) = unfinished
        .into_iter()
        .find(|b| b.source == "demo" && b.source_id == SOURCE_ID)
    else {
        return Ok(());
    };
    let builds = state.builds.clone();
    tokio::spawn(async move {
        let end = ended(&build);
        let wait = end.finished_at.unwrap_or(0) - crate::now_ms();
        tokio::time::sleep(std::time::Duration::from_millis(wait.max(0) as u64)).await;
        if let Err(e) = builds.ingest(end).await {
            tracing::warn!(error = %e.message, "the demo's running build could not end");
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the API would store for `build` had CI sent it: the same checks as a delivery.
    fn as_delivered(build: &Build) -> Build {
        let json = crate::builds::input::to_json(build);
        crate::builds::input::read(&json, "demo", || unreachable!()).unwrap()
    }

    #[test]
    fn the_running_build_is_valid_and_ends_as_a_failure_after_the_e2e_suite() {
        let now = 1_796_162_400_000;
        let build = running(now);
        assert_eq!(as_delivered(&build).status, BuildStatus::Running);
        let mut end = as_delivered(&ended(&build));
        assert_eq!(
            (end.source.as_str(), end.source_id.as_str()),
            ("demo", SOURCE_ID)
        );
        assert_eq!(end.status, BuildStatus::Failure);
        // It updates the running build (a finished build is never reopened, but this one ends).
        assert!(end.follow(&build));
        // Ten minutes after the demo starts: the e2e suite takes about four.
        assert_eq!(end.finished_at, Some(now + 10 * 60_000));
    }
}
