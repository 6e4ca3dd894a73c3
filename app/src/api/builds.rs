//! Server functions of the build pages: what they show (viewers), and training the failure
//! model now (operators).

use crate::builds::charts::PipelineCharts;
use crate::builds::commit::ReleaseCiStatus;
use crate::builds::stats::PipelineStats;
use crate::builds::{Build, BuildStatus, LiveAccuracy, ModelInfo, Prediction};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::builds::commit::{commit_ci, release_commits};
#[cfg(feature = "ssr")]
use crate::model::Role;
#[cfg(feature = "ssr")]
use crate::ports::call::*;

/// A pipeline on the Builds page: its numbers and its latest outcomes, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineRow {
    pub stats: PipelineStats,
    pub recent: Vec<BuildStatus>,
    /// Its branch that ships (`main`…) red now, if one is: the newest build may be another
    /// branch's. Its `words` are left empty here.
    pub red: Option<RedSaid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildsOverview {
    pub days: u32,
    /// Worst first ([`crate::builds::order::worst_first`]).
    pub pipelines: Vec<PipelineRow>,
    pub model: Option<ModelInfo>,
    pub accuracy: LiveAccuracy,
}

/// A build still running, with what the predictor says of it now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningBuild {
    pub build: Build,
    pub prediction: Prediction,
}

/// A branch that ships, red now, as its notice says it ([`crate::builds::red`]): said on the
/// server, so the page's bundle carries only the words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedSaid {
    pub branch: String,
    /// When it turned red; none when no success in the period came before it.
    pub since: Option<i64>,
    /// How many builds failed since, and the build that began it.
    pub words: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineView {
    pub pipeline: String,
    pub days: u32,
    pub stats: PipelineStats,
    /// What the charts draw, the whole period's (bounded however busy the pipeline is).
    pub charts: PipelineCharts,
    /// The filtered list, newest first, and the next page's cursor.
    pub list: Vec<Build>,
    /// The listed failures that passed on a re-run of the same commit in the period.
    pub flaky: Vec<i64>,
    pub next_cursor: Option<i64>,
    /// The newest unfinished builds of the period (five at most), with their predictions.
    pub running: Vec<RunningBuild>,
    /// How many of the period's builds are unfinished: more than `running` holds on a busy day.
    pub unfinished: usize,
    /// `main`, `master`, `trunk` or `develop` where its newest finished build failed.
    pub red: Vec<RedSaid>,
    pub model: Option<ModelInfo>,
    pub accuracy: LiveAccuracy,
}

#[server(endpoint = "builds_overview")]
pub async fn load_builds_overview(days: u32) -> Result<BuildsOverview, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            let days = days.clamp(1, 3650);
            cached(format!("builds_overview:{days}"), || async {
                let ports = ports()?;
                let since = crate::components::common::now_ms() - i64::from(days) * 86_400_000;
                let builds = ports.builds.outcomes_since(since, None).await?;
                let mut pipelines: Vec<PipelineRow> = crate::builds::stats::by_pipeline(builds)
                    .into_iter()
                    .map(|(name, list)| {
                        let recent = list.iter().rev().take(20).rev().map(|b| b.status).collect();
                        PipelineRow {
                            stats: crate::builds::stats::pipeline_stats(&name, &list),
                            recent,
                            red: crate::builds::red::red_shipping(&list)
                                .into_iter()
                                .next()
                                .map(|r| RedSaid {
                                    since: r.known_since(),
                                    branch: r.branch,
                                    words: String::new(),
                                }),
                        }
                    })
                    .collect();
                pipelines.sort_by(|a, b| crate::builds::order::worst_first(&a.stats, &b.stats));
                Ok(BuildsOverview {
                    days,
                    pipelines,
                    model: ports.builds.model_info(),
                    accuracy: ports.builds.live_accuracy(None).await?,
                })
            })
            .await
        }
        .await,
    )
}

#[server(endpoint = "pipeline")]
pub async fn load_pipeline(
    pipeline: String,
    days: u32,
    #[server(default)] branch: Option<String>,
    #[server(default)] status: Option<String>,
    #[server(default)] author: Option<String>,
    #[server(default)] cursor: Option<i64>,
) -> Result<PipelineView, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            if pipeline.trim().is_empty() {
                // An empty name would read every pipeline's builds as one.
                return Err(AppError::missing(
                    "Which pipeline? Open one from the Builds page, or add ?name=repo/workflow.",
                ));
            }
            let days = days.clamp(1, 3650);
            cached(
                format!("pipeline:{pipeline:?}:{days}:{branch:?}:{status:?}:{author:?}:{cursor:?}"),
                || async {
                    let ports = ports()?;
                    let since = crate::components::common::now_ms() - i64::from(days) * 86_400_000;
                    let history = ports.builds.outcomes_since(since, Some(&pipeline)).await?;
                    let stats = crate::builds::stats::pipeline_stats(&pipeline, &history);
                    let query = crate::builds::BuildQuery {
                        pipeline: Some(pipeline.clone()),
                        branch: branch.filter(|b| !b.is_empty()),
                        status: status.filter(|s| !s.is_empty()),
                        author: author.filter(|a| !a.is_empty()),
                        limit: Some(25),
                        cursor,
                        ..Default::default()
                    };
                    let (list, next_cursor) = ports.builds.list(&query).await?;
                    // A pipeline with no builds in the period is not an error; a name that never
                    // had a build (a typo, an old link) is: 404, and say where the names are.
                    let ever = crate::builds::BuildQuery {
                        pipeline: Some(pipeline.clone()),
                        limit: Some(1),
                        ..Default::default()
                    };
                    if history.is_empty()
                        && list.is_empty()
                        && ports.builds.list(&ever).await?.0.is_empty()
                    {
                        return Err(AppError::missing(format!(
                            "No build of a pipeline named {pipeline:?} was ever recorded. Pipelines are named repo/workflow; the Builds page lists them all."
                        )));
                    }
                    let mut running = Vec::new();
                    let unfinished = history.iter().filter(|b| !b.status.is_finished()).count();
                    if unfinished > 0 {
                        for build in ports.builds.unfinished(&pipeline, since, 5).await? {
                            let prediction = ports
                                .builds
                                .predict(&crate::builds::PreRun::from(&build))
                                .await?;
                            running.push(RunningBuild { build, prediction });
                        }
                    }
                    let mut red = Vec::new();
                    for r in crate::builds::red::red_shipping(&history) {
                        // The run's failures are the branch's newest: the last of them, its first.
                        let first = match r.failures {
                            n @ 1..=100 if !r.before_period => {
                                let query = crate::builds::BuildQuery {
                                    pipeline: Some(pipeline.clone()),
                                    branch: Some(r.branch.clone()),
                                    status: Some("failure".into()),
                                    limit: Some(n as i64),
                                    ..Default::default()
                                };
                                ports.builds.list(&query).await?.0.pop()
                            }
                            _ => None,
                        };
                        red.push(RedSaid {
                            words: crate::builds::red::red_words(&r, first.as_ref(), days),
                            since: r.known_since(),
                            branch: r.branch,
                        });
                    }
                    let reruns = crate::builds::stats::Reruns::of(&history);
                    let flaky = list.iter().filter(|b| reruns.flaky(b)).map(|b| b.id).collect();
                    Ok(PipelineView {
                        charts: PipelineCharts::of(&history),
                        accuracy: ports.builds.live_accuracy(Some(&pipeline)).await?,
                        model: ports.builds.model_info(),
                        pipeline,
                        days,
                        stats,
                        list,
                        flaky,
                        next_cursor,
                        running,
                        unfinished,
                        red,
                    })
                },
            )
            .await
        }
        .await,
    )
}

/// What CI said of the commit a release was built from.
#[server(endpoint = "release_ci")]
pub async fn release_ci(service: String, version: String) -> Result<ReleaseCiStatus, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            // Through the read cache: the lookup reads every build (no index serves a prefix
            // match both ways), and a dialog asks again each time a version is chosen.
            cached(format!("release_ci:{service:?}:{version:?}"), || async {
                let ports = ports()?;
                let sha = ports
                    .deployments
                    .releases(&service)
                    .await?
                    .into_iter()
                    .find(|r| r.version == version)
                    .and_then(|r| r.git_sha);
                // As the history reads its page's commits, so the two always agree.
                let commits = release_commits(sha.as_deref().into_iter());
                let Some(sha) = commits.first() else {
                    return Ok(ReleaseCiStatus::Unknown);
                };
                let builds = ports.builds.of_commits(&commits).await?;
                Ok(match commit_ci(sha, &builds) {
                    Some(ci) => ReleaseCiStatus::Built(ci),
                    None => ReleaseCiStatus::Unbuilt(sha.chars().take(7).collect()),
                })
            })
            .await
        }
        .await,
    )
}

/// Trains the failure model on the whole history now, as `POST /api/v1/builds/model` does
/// (operators); refused with the reason while the history is too short to learn from.
#[server(endpoint = "builds_train")]
pub async fn train_build_model() -> Result<ModelInfo, AppError> {
    reply(
        async {
            require(Role::Operator)?;
            ports()?.builds.train().await
        }
        .await,
    )
}
