//! What the Builds page and a pipeline's page show alike: the period tabs, rates and spans in
//! words, a build's status badge and the failure predictor's record.

use crate::api::TrainBuildModel;
use crate::builds::order::Sorting;
use crate::builds::{thousands, BuildStatus, LiveAccuracy, ModelInfo};
use crate::components::common::*;
use crate::components::layout::use_role_at_least;
use crate::model::Role;
use leptos::prelude::*;

pub const RANGES: [(u32, &str); 4] = [
    (7, "7 days"),
    (30, "30 days"),
    (90, "90 days"),
    (365, "1 year"),
];

/// `days` from the query (`?days=`), one of [`RANGES`], else 30.
pub fn days_from_query() -> impl Fn() -> u32 + Copy {
    range_from_query("days", &RANGES, 30)
}

/// The Builds page's choices besides the period: the search, "Red now" and the order, each
/// kept only when it is not the page's own. Its address says them (`q`, `red=1`, `sort`), and
/// a pipeline's page keeps them in its own under the same names, so "← Builds" goes back to
/// the list the pipeline was picked from rather than the whole one.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BoardChoice {
    pub search: String,
    pub red_only: bool,
    /// As [`Sorting::param`] says it: none for the page's own order.
    pub sort: Option<String>,
}

impl BoardChoice {
    pub fn new(search: &str, red_only: bool, sorting: Sorting) -> Self {
        Self {
            search: search.to_lowercase(),
            red_only,
            sort: sorting.param(),
        }
    }

    pub fn from_query(q: &crate::href::Query) -> Self {
        let sorting = Sorting::from_param(q.get("sort").as_deref());
        Self::new(
            &q.get("q").unwrap_or_default(),
            q.get("red").is_some_and(|v| v == "1"),
            sorting,
        )
    }

    pub fn sorting(&self) -> Sorting {
        Sorting::from_param(self.sort.as_deref())
    }

    /// The choices that are set, as the address names them: for links and for a form's
    /// hidden fields alike.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let all = [
            ("q", Some(self.search.clone())),
            ("red", self.red_only.then(|| "1".to_string())),
            ("sort", self.sort.clone()),
        ];
        all.into_iter()
            .filter_map(|(name, value)| value.filter(|v| !v.is_empty()).map(|v| (name, v)))
            .collect()
    }

    /// Adds the choices to a link's parameters.
    pub fn params(&self, href: crate::href::QueryHref) -> crate::href::QueryHref {
        (self.pairs().into_iter()).fold(href, |href, (name, value)| href.param(name, Some(value)))
    }
}

/// The Builds page as it is shown: the period and the choices. The address keeps it, so a
/// reload, a shared link or another period shows the same list.
pub fn board_href(days: u32, choice: &BoardChoice) -> String {
    let href = crate::href::QueryHref::new().param("days", Some(days));
    choice.params(href).build("/builds", "")
}

/// A pipeline's page for the period `days`, picked from the Builds page as `from` showed it;
/// its name percent-encoded: GitHub workflow names carry spaces, `&` and `#` ("Build &
/// Deploy").
pub fn pipeline_href(pipeline: &str, days: u32, from: &BoardChoice) -> String {
    let href = crate::href::QueryHref::new()
        .param("name", Some(pipeline))
        .param("days", Some(days));
    from.params(href).build("/builds/pipeline", "")
}

/// A rate as the other pages print one ("97.5%", "80%"), or "—" when there is none yet.
pub fn percent(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| crate::health::slo::percent(v, 1))
}

/// A build's duration or a recovery time in the unit a person would use: "45 s", "6.8 min",
/// "13.3 h", "4.2 days".
pub fn span(seconds: Option<f64>) -> String {
    match seconds {
        None => "—".into(),
        Some(s) if s < 90.0 => format!("{s:.0} s"),
        Some(s) if s < 90.0 * 60.0 => format!("{:.1} min", s / 60.0),
        Some(s) if s < 48.0 * 3600.0 => format!("{:.1} h", s / 3600.0),
        Some(s) => format!("{:.1} days", s / 86_400.0),
    }
}

pub fn status_badge(status: BuildStatus) -> impl IntoView {
    let class = match status {
        BuildStatus::Success => "badge status-succeeded",
        BuildStatus::Failure => "badge status-failed",
        BuildStatus::Running | BuildStatus::Queued => "badge status-running",
        BuildStatus::Cancelled => "badge status-cancelled",
    };
    view! { <span class=class>{status.as_str()}</span> }
}

/// The model's held-out evaluation and how its live predictions fare, beside the baselines;
/// for operators, training it now with `train` (the island's action, whose answer outlives
/// the card's redraws).
#[component]
pub fn PredictorCard(
    model: Option<ModelInfo>,
    accuracy: LiveAccuracy,
    train: ServerAction<TrainBuildModel>,
) -> impl IntoView {
    let can_train = use_role_at_least(Role::Operator).get_untracked();
    view! {
        <section class="card" data-testid="predictor">
            <h2>"Failure prediction"</h2>
            {match model {
                None => view! {
                    <p class="muted">"No model yet: predictions repeat the last build on the branch. One is trained within a minute once there are 30 finished builds with both outcomes (then daily, and after every 500 finished builds), or now with Train now or POST /api/v1/builds/model."</p>
                }.into_any(),
                Some(m) => {
                    let e = m.evaluation;
                    view! {
                        <p class="muted">{format!("Model {} trained on {} builds; tested on the newest {} it had not seen.", m.version, thousands(m.samples as i64), thousands(e.test_samples as i64))}</p>
                        <div class="table-wrap"><table class="table">
                            <thead><tr><th scope="col">"Predictor"</th><th scope="col">"Accuracy"</th><th scope="col">"Failure F1"</th></tr></thead>
                            <tbody>
                                <tr><th scope="row">"This model"</th><td>{percent(Some(e.accuracy))}</td><td>{format!("{:.2}", e.f1)}</td></tr>
                                <tr><th scope="row">"Same as the last build"</th><td>{percent(Some(e.baseline_accuracy))}</td><td>{format!("{:.2}", e.baseline_f1)}</td></tr>
                                <tr><th scope="row">"Always the majority"</th><td>{percent(Some(e.majority_accuracy))}</td><td>{format!("{:.2}", e.majority_f1)}</td></tr>
                            </tbody>
                        </table></div>
                    }.into_any()
                }
            }}
            <p data-testid="live-accuracy">{if accuracy.builds == 0 {
                "No finished build has a prediction to score yet.".to_string()
            } else {
                let over = match accuracy.builds {
                    1 => "the last finished build".to_string(),
                    n => format!("the last {n} finished builds"),
                };
                format!(
                    "Live, over {over}: predictions {} right; the last-build baseline {}; always the majority {}.",
                    percent(accuracy.accuracy), percent(accuracy.baseline_accuracy), percent(accuracy.majority_accuracy)
                )
            }}</p>
            {can_train.then(|| view! { <TrainNow train/> })}
        </section>
    }
}

/// Trains the model on the whole history now, and says how it went: the new model, or why
/// there is none (too little history). The action lives in the page's island, so what it
/// answered stays while the card redraws for the new model.
#[component]
fn TrainNow(train: ServerAction<TrainBuildModel>) -> impl IntoView {
    let pending = train.pending();
    view! {
        <div class="actions">
            <button class="btn" type="button" disabled=move || pending.get()
                aria-busy=move || pending.get().to_string()
                on:click=move |_| { train.dispatch(TrainBuildModel {}); }>
                {move || if pending.get() { "Training…" } else { "Train now" }}
            </button>
            <span class="muted small">"Learns from every finished build; a few seconds on a large history."</span>
        </div>
        {move || train.value().get().map(|answer| match answer {
            Ok(m) => view! {
                <p class="note note-success" role="status">{format!(
                    "Model {} trained on {} builds: {} right on the newest {} it had not seen.",
                    m.version, thousands(m.samples as i64), percent(Some(m.evaluation.accuracy)), thousands(m.evaluation.test_samples as i64)
                )}</p>
            }.into_any(),
            Err(e) => view! { <p class="note note-error" role="alert">{e.message}</p> }.into_any(),
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::{board_href, pipeline_href, BoardChoice};
    use crate::builds::order::Sorting;
    use crate::href::Query;

    #[test]
    fn a_pipeline_link_keeps_a_workflow_name_with_spaces_ampersands_and_hashes() {
        assert_eq!(
            pipeline_href("acme/shop/Build & Deploy #2", 30, &BoardChoice::default()),
            "/builds/pipeline?name=acme%2Fshop%2FBuild%20%26%20Deploy%20%232&days=30"
        );
    }

    #[test]
    fn the_way_back_from_a_pipeline_is_the_list_it_was_picked_from() {
        let shown = "?days=7&q=Shop%20ci&red=1&sort=-p50";
        let choice = BoardChoice::from_query(&Query::parse(shown));
        assert_eq!(choice.sorting(), Sorting::from_param(Some("-p50")));
        let pipeline = pipeline_href("acme/shop/ci", 7, &choice);
        assert_eq!(
            pipeline,
            "/builds/pipeline?name=acme%2Fshop%2Fci&days=7&q=shop%20ci&red=1&sort=-p50"
        );
        // The pipeline's page reads the same choices from its own address.
        let on_pipeline = pipeline.trim_start_matches("/builds/pipeline");
        let back = BoardChoice::from_query(&Query::parse(on_pipeline));
        assert_eq!(
            board_href(7, &back),
            "/builds?days=7&q=shop%20ci&red=1&sort=-p50"
        );
        // The page's own choices say nothing, and an unknown order is the page's own.
        let plain = BoardChoice::from_query(&Query::parse("?days=30&red=0&sort=colour"));
        assert_eq!(plain, BoardChoice::default());
        assert_eq!(board_href(30, &plain), "/builds?days=30");
    }
}
