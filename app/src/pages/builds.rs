//! Builds: every pipeline with its last status, success rate, p50 duration and its latest
//! outcomes, worst first, and how the failure predictor is doing. Live as builds arrive.

use crate::api::codec::resource;
use crate::api::{load_builds_overview, BuildsOverview, PipelineRow, TrainBuildModel};
use crate::builds::charts::outcome_strip;
use crate::builds::order::{PipelineOrder, Sorting};
use crate::builds::{thousands, BuildStatus, TOPIC};
use crate::components::builds::{
    board_href, days_from_query, percent, pipeline_href, span, status_badge, BoardChoice,
    PredictorCard, RANGES,
};
use crate::components::common::*;
use crate::components::layout::{provide_role, viewer_role};
use crate::live::changes_on;
use crate::model::Role;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn BuildsPage() -> impl IntoView {
    let days = days_from_query();
    let query = crate::href::use_query();
    view! {
        <Title text="Builds"/>
        <div class="page-head">
            <h1>"Builds"</h1>
            <p class="muted">"CI pipelines, worst first, from GitHub and GitLab webhooks or POST /api/v1/builds."</p>
        </div>
        {move || view! {
            <BuildsBoard days=days() choice=BoardChoice::from_query(&query.read()) role=viewer_role()/>
        }}
    }
}

/// Puts `href` in the address bar in place of the page's address, adding no history entry: a
/// back button that stepped through every keystroke of a search would be no use.
fn replace_address(href: &str) {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(href));
    }
}

/// A pipeline name (`acme/shop/ci`) that may wrap after each slash, so on a phone a long name
/// takes two lines instead of pushing the rate and duration off the screen.
fn breakable(name: &str) -> impl IntoView {
    let parts: Vec<String> = name.split_inclusive('/').map(str::to_owned).collect();
    parts
        .into_iter()
        .map(|part| view! { {part}<wbr/> })
        .collect_view()
}

/// The pipelines of the last `days`, searched, filtered and sorted as the address asked.
#[island]
fn BuildsBoard(days: u32, choice: BoardChoice, role: Option<Role>) -> impl IntoView {
    provide_role(role);
    let changes = changes_on(TOPIC);
    let train = ServerAction::<TrainBuildModel>::new();
    let overview = resource(
        move || (changes.get(), train.version().get()),
        move |_| load_builds_overview(days),
    );
    let sorting = RwSignal::new(choice.sorting());
    let search = RwSignal::new(choice.search);
    let red_only = RwSignal::new(choice.red_only);
    let shown_for = move |days: u32| {
        board_href(
            days,
            &BoardChoice::new(&search.get(), red_only.get(), sorting.get()),
        )
    };
    Effect::new(move |drawn: Option<()>| {
        let href = shown_for(days);
        // Not on hydrating: the address already says what the page shows.
        if drawn.is_some() {
            replace_address(&href);
        }
    });
    view! {
        {move || tabs("Period", RANGES.iter().map(|(d, label)| (shown_for(*d), *label, *d == days)).collect())}
        <Transition fallback=|| view! { <LoadingRows/> }>
            {move || overview.get().map(|r| match r {
                Err(error) => view! { <ErrorNote error/> }.into_any(),
                Ok(o) if o.pipelines.is_empty() => view! {
                    <section class="card"><EmptyState title="No builds in this period">
                        <ConnectCi/>
                    </EmptyState></section>
                }.into_any(),
                Ok(o) => view! { <Overview o search red_only sorting train/> }.into_any(),
            })}
        </Transition>
    }
}

/// How builds get here, for a team that has sent none yet: each CI's webhook and where its
/// secret is set, the API for anything else, and the import for the months before.
#[component]
fn ConnectCi() -> impl IntoView {
    view! {
        <ul class="connect-ci">
            <li>"GitHub: a repository or organization webhook for "<b>"Workflow runs"</b>
                " to "<code>"/api/v1/webhooks/github"</code>"; "<code>"flightdeck import-github-runs"</code>
                " back-fills the runs before it (see the README)."</li>
            <li>"GitLab: a project webhook for "<b>"Pipeline events"</b>
                " to "<code>"/api/v1/webhooks/gitlab"</code>"; "<code>"flightdeck import-gitlab-pipelines"</code>
                " back-fills the pipelines before it."</li>
            <li>"Their secrets: an admin sets them in "<a href="/settings#webhooks-title">"Settings, CI/CD webhooks"</a>
                ", which lists the latest deliveries too."</li>
            <li>"Any other CI: "<code>"POST /api/v1/builds"</code>" when a build starts and again when it ends; "
                <code>"POST /api/v1/builds/import"</code>" back-fills its history."</li>
        </ul>
    }
}

#[component]
fn Overview(
    o: BuildsOverview,
    search: RwSignal<String>,
    red_only: RwSignal<bool>,
    sorting: RwSignal<Sorting>,
    train: ServerAction<TrainBuildModel>,
) -> impl IntoView {
    let BuildsOverview {
        days,
        pipelines,
        model,
        accuracy,
    } = o;
    let rows = move || {
        let wanted = search.get();
        let red = red_only.get();
        let order = sorting.get();
        let mut shown = pipelines
            .iter()
            .filter(|p| wanted.is_empty() || p.stats.pipeline.to_lowercase().contains(&wanted))
            .filter(|p| !red || red_now(p))
            .cloned()
            .collect::<Vec<PipelineRow>>();
        shown.sort_by(|a, b| order.compare(&a.stats, &b.stats));
        shown
    };
    let rows_left = rows.clone();
    view! {
        <section class="card">
            <div class="filters">
                <label>"Search"<input type="search" placeholder="Pipeline" autocomplete="off" prop:value=move || search.get()
                    on:input=move |ev| search.set(event_target_value(&ev).to_lowercase())/></label>
                <label class="check"><input type="checkbox" prop:checked=move || red_only.get()
                    on:change=move |ev| red_only.set(event_target_checked(&ev))/>" Red now"</label>
            </div>
            <div class="table-wrap">
                <table class="table builds-table">
                    <thead><tr>
                        <SortHeader label="Pipeline" column=PipelineOrder::Name sorting/>
                        <th scope="col">"Last"</th>
                        <SortHeader label="Success" column=PipelineOrder::Worst sorting/>
                        <SortHeader label="p50" column=PipelineOrder::Slowest sorting/>
                        <th scope="col" class="col-wide">"Latest 20"</th>
                        <SortHeader label="Builds" column=PipelineOrder::Busiest sorting class="col-wide"/>
                    </tr></thead>
                    <tbody>
                        {move || {
                            // Each pipeline's page remembers this list, for its way back.
                            let from = BoardChoice::new(&search.get(), red_only.get(), sorting.get());
                            rows().into_iter().map(|p| {
                            let s = p.stats;
                            let strip = outcome_strip(&p.recent);
                            let fails = p.recent.iter().filter(|r| **r == BuildStatus::Failure).count();
                            let label = format!("{} of the latest {} failed", fails, p.recent.len());
                            view! {
                                <tr>
                                    <th scope="row" class="pipeline-name"><a class="clamp" href=pipeline_href(&s.pipeline, days, &from) title=s.pipeline.clone()>{breakable(&s.pipeline)}</a></th>
                                    <td>{s.last_status.map(status_badge)}
                                        {p.red.map(|r| view! {
                                            <div class="muted small" data-testid="red-shipping">{format!("{} red", r.branch)}
                                                {r.since.map(|ms| view! { " since "<TimeAgo ms/> })}</div>
                                        })}
                                    </td>
                                    <td>{percent(s.success_rate)}{(s.flaky_failures > 0).then(|| view! {
                                        <span class="muted small flaky" title="Failures that passed on a re-run of the same commit">
                                            {format!("{} flaky", s.flaky_failures)}
                                        </span>
                                    })}</td>
                                    <td class="duration">{span(s.duration_p50_s)}</td>
                                    <td class="col-wide"><span role="img" aria-label=label inner_html=strip></span></td>
                                    <td class="col-wide">{thousands(s.builds as i64)}</td>
                                </tr>
                            }
                        }).collect_view()
                        }}
                    </tbody>
                </table>
            </div>
            // Headers over nothing read as still loading: say what the filters left out.
            {move || none_shown(&search.get(), red_only.get(), rows_left().is_empty())
                .map(|words| view! { <p class="muted" role="status">{words}</p> })}
        </section>
        <PredictorCard model accuracy train/>
    }
}

/// A column header that orders the list: a button, so the keyboard reaches it, whose column
/// says its direction to a screen reader (`aria-sort`) and, with an arrow, to everyone else.
#[component]
fn SortHeader(
    label: &'static str,
    column: PipelineOrder,
    sorting: RwSignal<Sorting>,
    #[prop(optional)] class: &'static str,
) -> impl IntoView {
    let direction = move || sorting.get().aria_sort(column);
    view! {
        <th scope="col" class=class aria-sort=direction>
            <button type="button" class="sort-button" on:click=move |_| sorting.update(|s| *s = s.choose(column))>
                {label}
                <span class="sort-arrow" aria-hidden="true">{move || match direction() {
                    Some("ascending") => "\u{25b2}",
                    Some(_) => "\u{25bc}",
                    None => "\u{2195}",
                }}</span>
            </button>
        </th>
    }
}

/// "Red now": its newest build failed, or a branch that ships is red (under a feature
/// branch's newer success).
fn red_now(p: &PipelineRow) -> bool {
    p.stats.last_status == Some(BuildStatus::Failure) || p.red.is_some()
}

/// What to say when the search or "Red now" leaves no pipeline to show (`None` while some show,
/// or nothing filters them).
fn none_shown(wanted: &str, red_only: bool, empty: bool) -> Option<String> {
    match (empty, wanted.is_empty(), red_only) {
        (false, _, _) | (true, true, false) => None,
        (true, true, true) => Some(
            "No pipeline is red now: the last build of each, and of its main branch, passed or has not finished.".into(),
        ),
        (true, false, false) => Some(format!(
            "No pipeline's name contains \u{201c}{wanted}\u{201d}."
        )),
        (true, false, true) => Some(format!(
            "No pipeline whose name contains \u{201c}{wanted}\u{201d} is red now."
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn spans_read_in_the_unit_a_person_would_use() {
        let said: Vec<String> = [
            None,
            Some(45.0),
            Some(408.0),
            Some(48_054.0),
            Some(363_000.0),
        ]
        .into_iter()
        .map(super::span)
        .collect();
        assert_eq!(said, ["—", "45 s", "6.8 min", "13.3 h", "4.2 days"]);
    }

    #[test]
    fn an_empty_filtered_list_says_which_filter_emptied_it() {
        use super::none_shown;
        assert_eq!(none_shown("", false, true), None);
        assert_eq!(none_shown("shop", true, false), None);
        assert!(none_shown("", true, true).is_some_and(|s| s.starts_with("No pipeline is red now")));
        assert_eq!(
            none_shown("shpo", false, true).as_deref(),
            Some("No pipeline's name contains \u{201c}shpo\u{201d}.")
        );
        assert!(none_shown("shpo", true, true).is_some_and(|s| s.ends_with("is red now.")));
    }
}
