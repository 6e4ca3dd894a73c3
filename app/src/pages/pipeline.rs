//! One pipeline: its numbers, the build-duration chart (failures marked, rolling p50 and p95)
//! and the coverage chart, drawn on the server first; the running builds with their predicted
//! risk and its reasons; the build list with filters and paging; the predictor's record. Live.

use crate::api::codec::resource;
use crate::api::{load_pipeline, PipelineView, RedSaid, RunningBuild, TrainBuildModel};
use crate::builds::charts::{coverage_chart, duration_chart};
use crate::builds::{Build, BuildStatus, TOPIC};
use crate::charts::{BAD, LINE, OK, WARN};
use crate::components::builds::{
    board_href, days_from_query, percent, span, status_badge, BoardChoice, PredictorCard, RANGES,
};
use crate::components::chart_key::{ChartKey, Mark};
use crate::components::common::*;
use crate::components::layout::{provide_role, viewer_role};
use crate::href::QueryHref;
use crate::live::changes_on;
use crate::model::Role;
use leptos::prelude::*;
use leptos_meta::Title;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Filters {
    pipeline: String,
    days: u32,
    branch: Option<String>,
    status: Option<String>,
    author: Option<String>,
    cursor: Option<i64>,
    /// The Builds page's list this pipeline was picked from, kept for "← Builds".
    from: BoardChoice,
}

fn href(f: &Filters, cursor: Option<i64>) -> String {
    let href = QueryHref::new()
        .param("name", Some(f.pipeline.as_str()))
        .param("days", Some(f.days))
        .param("branch", f.branch.as_deref())
        .param("status", f.status.as_deref())
        .param("author", f.author.as_deref())
        .param("cursor", cursor);
    f.from.params(href).build("/builds/pipeline", "")
}

#[component]
pub fn PipelinePage() -> impl IntoView {
    let query = crate::href::use_query();
    let days = days_from_query();
    let filters = move || {
        let q = query.read();
        let get = |k: &str| crate::text::non_blank(q.get(k));
        Filters {
            pipeline: get("name").unwrap_or_default(),
            days: days(),
            branch: get("branch"),
            status: get("status"),
            author: get("author"),
            cursor: get("cursor").and_then(|c| c.parse().ok()),
            from: BoardChoice::from_query(&q),
        }
    };
    view! {
        <Title text="Pipeline"/>
        <div class="pipeline-page">
            // Back to the list it was picked from, for the period shown here: a week's pipeline
            // page led to a month's list, and a search for one team's pipelines to all of them.
            <p><a href=move || board_href(days(), &BoardChoice::from_query(&query.read()))>"← Builds"</a></p>
            {move || {
                let f = filters();
                view! {
                    <div class="page-head">
                        <h1 class="pipeline-name">{f.pipeline.clone()}</h1>
                    </div>
                    {tabs("Period", RANGES.iter().map(|(d, label)| {
                        let target = Filters { days: *d, cursor: None, ..f.clone() };
                        (href(&target, None), *label, *d == f.days)
                    }).collect())}
                    <PipelineLive filters=f role=viewer_role()/>
                }
            }}
        </div>
    }
}

#[island]
fn PipelineLive(filters: Filters, role: Option<Role>) -> impl IntoView {
    provide_role(role);
    let changes = changes_on(TOPIC);
    let f = StoredValue::new(filters);
    let train = ServerAction::<TrainBuildModel>::new();
    let view_data = resource(
        move || (changes.get(), train.version().get()),
        move |_| {
            let f = f.get_value();
            load_pipeline(f.pipeline, f.days, f.branch, f.status, f.author, f.cursor)
        },
    );
    view! {
        <Transition fallback=|| view! { <LoadingRows/> }>
            {move || view_data.get().map(|r| match r {
                Err(error) => view! { <ErrorNote error/> }.into_any(),
                Ok(v) if v.stats.builds == 0 && v.list.is_empty() => view! {
                    <section class="card"><EmptyState title="No builds of this pipeline in this period">
                        <p>"Pick a longer period, or check the pipeline's name (repo/workflow)."</p>
                    </EmptyState></section>
                }.into_any(),
                Ok(v) => view! { <Pipeline v filters=f.get_value() train/> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Pipeline(
    v: PipelineView,
    filters: Filters,
    train: ServerAction<TrainBuildModel>,
) -> impl IntoView {
    let now = now_ms();
    let s = &v.stats;
    let duration_svg = duration_chart(&v.charts, now);
    // No chart where no build said its coverage: an empty plot would only show a made-up scale.
    let coverage_svg = (!v.charts.coverage.is_empty()).then(|| coverage_chart(&v.charts, now));
    let c = &v.charts;
    let dots = if c.drawn() < c.finished {
        format!(
            "{} of the {} finished builds, an even sample across the period",
            crate::builds::thousands(c.drawn() as i64),
            crate::builds::thousands(c.finished as i64),
        )
    } else {
        "every finished build".to_string()
    };
    let dots = format!(
        "Dots: {dots}. Lines: p50 and p95 of the last {} builds.",
        c.window
    );
    let summary = format!(
        "{} {}, {}{}; p50 {}, p95 {}; longest red streak {}; mean time to recovery {}; coverage {}{}",
        crate::builds::thousands(s.builds as i64),
        if s.builds == 1 { "build" } else { "builds" },
        s.success_rate.map_or("none finished yet".into(), |r| format!("{} succeeded", percent(Some(r)))),
        match s.flaky_failures {
            0 => String::new(),
            n => format!(" ({n} flaky: failed, then passed on a re-run of the same commit)"),
        },
        span(s.duration_p50_s),
        span(s.duration_p95_s),
        s.longest_red_streak,
        span(s.mean_time_to_recovery_s),
        s.latest_coverage.map_or("—".into(), |c| format!("{c:.1}%")),
        s.coverage_trend.map_or(String::new(), |t| format!(" ({t:+.1} points)")),
    );
    view! {
        <p class="muted" data-testid="pipeline-summary">{summary.clone()}</p>
        {v.red.into_iter().map(|r| view! { <RedNotice r filters=filters.clone()/> }).collect_view()}
        {(!v.running.is_empty()).then(|| {
            let all = Filters { status: Some("running".into()), cursor: None, ..filters.clone() };
            // What is usual, where enough builds finished to say.
            let p95 = s.duration_p95_s.filter(|_| c.finished >= crate::builds::stats::USUAL_AFTER);
            view! { <Running running=v.running.clone() unfinished=v.unfinished all=href(&all, None) p95/> }
        })}
        <div class="grid-2">
            <section class="card">
                <h2>"Build duration"</h2>
                {if c.finished > 0 { view! {
                    <ChartKey entries=vec![
                        (Mark::Dot(LINE), "passed"),
                        (Mark::Cross(BAD), "failed"),
                        (Mark::Line(OK), "p50"),
                        (Mark::Line(WARN), "p95"),
                    ]/>
                    <div class="chart" role="img" data-testid="duration-chart" aria-label=format!("Build durations over {} days; failures marked in red; rolling p50 and p95. {summary}", filters.days) inner_html=duration_svg></div>
                    <p class="muted small" data-testid="duration-sample">{dots}</p>
                }.into_any() } else { view! {
                    <EmptyState title="No finished build yet">
                        <p>{format!("No build of this pipeline finished in the last {} days. Each one's duration shows here once it has.", filters.days)}</p>
                    </EmptyState>
                }.into_any() }}
            </section>
            <section class="card">
                <h2>"Coverage"</h2>
                {match coverage_svg {
                    Some(svg) => view! {
                        <div class="chart" role="img" aria-label=format!("Coverage over {} days: latest {}", filters.days, s.latest_coverage.map_or("unknown".into(), |c| format!("{c:.1}%"))) inner_html=svg></div>
                    }.into_any(),
                    None => view! {
                        <EmptyState title="No coverage reported">
                            <p>{format!("No build of this pipeline in the last {} days said its coverage. Send coverage (0–100) with the build to POST /api/v1/builds; GitHub and GitLab webhooks do not carry it.", filters.days)}</p>
                        </EmptyState>
                    }.into_any(),
                }}
            </section>
        </div>
        <BuildList list=v.list flaky=v.flaky next=v.next_cursor filters/>
        <PredictorCard model=v.model accuracy=v.accuracy train/>
    }
}

/// A branch that ships, red now: since when, the build that broke it (who, which commit, what
/// it changed) and its failures one click away. What an on-call engineer asks of CI first.
#[component]
fn RedNotice(r: RedSaid, filters: Filters) -> impl IntoView {
    let failures = Filters {
        branch: Some(r.branch.clone()),
        status: Some("failure".into()),
        author: None,
        cursor: None,
        ..filters
    };
    let link = format!("{}'s failures", r.branch);
    view! {
        <p class="verdict verdict-attention red-now" role="status" data-testid="red-now">
            <strong>{format!("{} is red", r.branch)}</strong>
            {r.since.map(|ms| view! { " since "<TimeAgo ms/> })}
            {r.words}
            <a href=href(&failures, None)>{link}</a>
        </p>
    }
}

/// Running builds (the newest of the period's `unfinished`) with their predicted risk and its
/// reasons in words, and which have run longer than `p95` (seconds) says is usual; `all` lists
/// the running ones.
#[component]
fn Running(
    running: Vec<RunningBuild>,
    unfinished: usize,
    all: String,
    p95: Option<f64>,
) -> impl IntoView {
    let shown = running.len();
    let now = now_ms();
    view! {
        <section class="card" data-testid="running-builds">
            <h2>"Running now"</h2>
            <ul class="timeline">
                {running.into_iter().map(|r| {
                    let p = r.prediction;
                    let failing = p.prediction == "failure";
                    // The baseline only repeats the branch's last outcome: a pass or a fail, no
                    // percentage, and its one reason says which build it repeats.
                    let (risk, reasons): (String, Vec<String>) = match p.model {
                        Some(_) => (
                            format!("{:.0}% risk of failure", p.failure_probability * 100.0),
                            p.factors.iter().filter(|f| f.contribution > 0.0).take(3).map(|f| f.reason.clone()).collect(),
                        ),
                        None => (
                            if failing { "predicted to fail" } else { "predicted to pass" }.into(),
                            p.factors.iter().take(1).map(|f| f.reason.clone()).collect(),
                        ),
                    };
                    // How long it has been going says whether it is stuck (a run whose last
                    // delivery never came stays here until the period passes it).
                    let queued = r.build.status == BuildStatus::Queued;
                    let state = if queued { "queued " } else { "started " };
                    let overdue = !queued && crate::builds::stats::overdue(r.build.started_at, now, p95);
                    view! {
                        <li>
                            <strong>{format!("{} · {}", r.build.branch, &r.build.commit[..7.min(r.build.commit.len())])}</strong>
                            {format!(" by {}: ", r.build.author.clone().unwrap_or_else(|| "unknown".into()))}
                            <span class=if failing { "badge status-failed" } else { "badge status-succeeded" }>{risk}</span>
                            <div class="muted small">{state}<TimeAgo ms=r.build.started_at/>
                                {overdue.then(|| view! {
                                    " · "<strong class="overdue" data-testid="overdue">{format!("longer than 95% of builds take ({})", span(p95))}</strong>
                                })}
                                {run_link(&r.build).map(|url| view! {
                                    " · "<a href=url rel="noopener noreferrer">"open the run"</a>
                                })}
                            </div>
                            {(!reasons.is_empty()).then(|| view! { <div class="muted small">{format!("Why: {}", reasons.join("; "))}</div> })}
                        </li>
                    }
                }).collect_view()}
            </ul>
            {(unfinished > shown).then(|| view! {
                <p class="muted small" data-testid="more-running">{format!("The newest {shown} of {unfinished} unfinished builds. ")}
                    <a href=all>"List the running ones"</a></p>
            })}
        </section>
    }
}

#[component]
fn BuildList(
    list: Vec<Build>,
    flaky: Vec<i64>,
    next: Option<i64>,
    filters: Filters,
) -> impl IntoView {
    let f = filters.clone();
    view! {
        <section class="card">
            <h2>"Builds"</h2>
            <form method="get" action="/builds/pipeline" class="filters">
                <input type="hidden" name="name" value=f.pipeline.clone()/>
                <input type="hidden" name="days" value=f.days/>
                {board_fields(&f.from)}
                <label>"Branch"<input name="branch" autocomplete="off" value=f.branch.clone().unwrap_or_default() placeholder="main"/></label>
                <label>"Status"
                    <select name="status">
                        <option value="">"Any"</option>
                        {["success", "failure", "running", "queued", "cancelled"].into_iter().map(|s| view! {
                            <option value=s selected=f.status.as_deref() == Some(s)>{s}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>"Author"<input name="author" autocomplete="off" value=f.author.clone().unwrap_or_default()/></label>
                <button class="btn btn-ghost" type="submit">"Filter"</button>
            </form>
            {if list.is_empty() {
                // Filtered to nothing (a typo in a branch, an author with no builds here):
                // the way back to the whole list, in the period chosen.
                let filtered = f.branch.is_some() || f.status.is_some() || f.author.is_some();
                let all = Filters { branch: None, status: None, author: None, cursor: None, ..f.clone() };
                view! {
                    <p class="muted">{if filtered { "No build matches these filters. " } else { "No build matches." }}
                        {filtered.then(|| view! { <a href=href(&all, None)>"Show every build"</a> })}
                    </p>
                }.into_any()
            } else {
                // Only imported history goes without a prediction: every build CI sends is
                // predicted as it arrives, by the model or, before one, the baseline.
                let unpredicted = list.iter().any(|b| b.predicted_failure.is_none());
                view! {
                    <div class="table-wrap"><table class="table build-list phone-cards">
                        <thead><tr><th scope="col">"Started"</th><th scope="col">"Branch"</th><th scope="col">"Status"</th>
                            <th scope="col">"Duration"</th><th scope="col">"Author"</th><th scope="col">"Predicted"</th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|b| view! {
                                <tr>
                                    <td class="build-started"><TimeAgo ms=b.started_at/></td>
                                    <td class="build-branch">{match run_link(&b) {
                                        Some(url) => view! { <a class="clamp" href=url rel="noopener noreferrer" title=b.branch.clone()>{b.branch.clone()}</a> }.into_any(),
                                        None => view! { <span class="clamp" title=b.branch.clone()>{b.branch.clone()}</span> }.into_any(),
                                    }}<div class="muted small clamp" title=b.message.clone()>{crate::builds::subject(b.message.as_deref())}</div></td>
                                    <td class="build-status">{status_badge(b.status)}
                                        {crate::builds::failed_tests(&b).map(|(said, whole)| view! {
                                            <span class="muted small failed-tests" title=whole>{said}</span>
                                        })}
                                        // A flake wants its test fixed; a break, the change reverted.
                                        {flaky.contains(&b.id).then(|| view! {
                                            <span class="muted small flaky" title="It passed on a re-run of the same commit">"flaky"</span>
                                        })}
                                    </td>
                                    <td class="build-duration" class:none=b.duration_s.is_none()><span class="phone-label">"took "</span>{span(b.duration_s)}</td>
                                    // The reasons of a prediction speak of an author's last builds:
                                    // these are one click away.
                                    <td class="build-author">{b.author.clone().map(|author| {
                                        let title = format!("Only {author}'s builds");
                                        let theirs = Filters { author: Some(author.clone()), cursor: None, ..f.clone() };
                                        view! { <span class="phone-label">"by "</span><a href=href(&theirs, None) title=title>{author}</a> }
                                    })}</td>
                                    <td class="build-risk" class:none=b.predicted_failure.is_none()>
                                        // Predicted when it arrived; before any model, by the baseline, which
                                        // only repeats the last outcome (the running builds' card asks the
                                        // model of now, and may differ).
                                        {match (b.predicted_failure, b.predicting_model()) {
                                            (None, _) => view! { <span aria-hidden="true">"—"</span><span class="sr-only">"not predicted: imported"</span> }.into_any(),
                                            (Some(p), Some(_)) => view! { {format!("{:.0}% risk", p * 100.0)} }.into_any(),
                                            (Some(p), None) => view! {
                                                <span class="phone-label">"predicted to "</span>{if p >= 0.5 { "fail" } else { "pass" }}
                                                <div class="muted small">"last-build baseline"</div>
                                            }.into_any(),
                                        }}
                                    </td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table></div>
                    {unpredicted.then(|| view! {
                        <p class="muted small">"A build with no risk shown was imported: back-filled history is never predicted. Each build CI sends is predicted as it arrives."</p>
                    })}
                }.into_any()
            }}
            <div class="pager">
                {f.cursor.is_some().then(|| view! { <a class="btn btn-ghost" href=href(&f, None)>"Newest"</a> })}
                {next.map(|c| view! { <a class="btn btn-ghost" href=href(&filters, Some(c))>"Older"</a> })}
            </div>
        </section>
    }
}

/// The Builds page's choices as hidden fields of the filter form, which would drop them
/// otherwise: only those that are set, as in a link.
fn board_fields(from: &BoardChoice) -> impl IntoView {
    (from.pairs().into_iter())
        .map(|(name, value)| view! { <input type="hidden" name=name value=value/> })
        .collect_view()
}

/// The build's run on its CI, when the link is a web address by the rule it was stored under
/// (never a `javascript:` one, whatever a sender wrote before that rule).
fn run_link(b: &Build) -> Option<String> {
    b.url.clone().filter(|u| crate::http_url::is_web(u))
}
