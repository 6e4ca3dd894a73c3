//! SLO definitions: which events count as good, the objective and the window. The arithmetic on
//! them lives in [`super::slo`].

use super::slo::{validate_objective, Evaluation, WINDOW_DAYS};
use crate::text::non_blank;
use crate::text_enum::text_enum;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SliKind {
    /// Good: a passed check (probe) or a good event (PromQL).
    Availability,
    /// Good: a passed check answered within `latency_threshold_ms` (probe), or the good query.
    Latency,
}
text_enum!(SliKind { Availability = "availability", Latency = "latency" });

/// `POST /api/v1/slos`. The SLI comes either from a component's probe checks (`component`) or
/// from two PromQL queries counting good and total events (`good_query`, `total_query`), which
/// Flightdeck runs over each window as `increase`-style sums, for example
/// `sum(rate(http_requests_total{code!~"5.."}[$window]))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSlo {
    pub service: String,
    pub name: String,
    pub sli: SliKind,
    #[serde(default)]
    pub component: Option<String>,
    #[serde(default)]
    pub good_query: Option<String>,
    #[serde(default)]
    pub total_query: Option<String>,
    #[serde(default)]
    pub latency_threshold_ms: Option<u32>,
    /// A share: 0.999 is 99.9%.
    pub objective: f64,
    #[serde(default = "NewSlo::default_window")]
    pub window_days: u32,
    #[serde(default)]
    pub description: Option<String>,
}

impl NewSlo {
    fn default_window() -> u32 {
        30
    }

    pub fn normalized(mut self) -> Result<NewSlo, String> {
        self.service = self.service.trim().to_string();
        self.name = self.name.trim().to_string();
        if self.service.is_empty() {
            return Err("An SLO belongs to a service: give its name.".into());
        }
        if self.name.is_empty() || self.name.len() > 100 {
            return Err("An SLO needs a name of 1 to 100 characters.".into());
        }
        validate_objective(self.objective)?;
        if !WINDOW_DAYS.contains(&self.window_days) {
            return Err(format!(
                "window_days must be 28 or 30, not {}.",
                self.window_days
            ));
        }
        self.component = non_blank(self.component);
        self.good_query = non_blank(self.good_query);
        self.total_query = non_blank(self.total_query);
        self.description = non_blank(self.description);
        match (&self.component, &self.good_query, &self.total_query) {
            (Some(_), None, None) => {
                if self.sli == SliKind::Latency && self.latency_threshold_ms.is_none() {
                    return Err("A latency SLO from probes needs latency_threshold_ms.".into());
                }
            }
            (None, Some(_), Some(_)) => {}
            _ => {
                return Err(
                    "Give either a component (its probe checks are the events) or both \
                            good_query and total_query (PromQL)."
                        .into(),
                )
            }
        }
        if self.sli == SliKind::Availability && self.latency_threshold_ms.is_some() {
            return Err("latency_threshold_ms applies to latency SLOs only.".into());
        }
        Ok(self)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slo {
    pub id: i64,
    pub service: String,
    pub name: String,
    pub description: Option<String>,
    pub sli: SliKind,
    pub component: Option<String>,
    pub good_query: Option<String>,
    pub total_query: Option<String>,
    pub latency_threshold_ms: Option<u32>,
    pub objective: f64,
    pub window_days: u32,
    pub created_at: i64,
    /// The latest evaluation; `None` until the first one ran.
    pub evaluation: Option<Evaluation>,
    pub evaluated_at: Option<i64>,
    /// Why the last evaluation failed (Prometheus unreachable, bad query), if it did.
    pub evaluation_error: Option<String>,
}

impl Slo {
    /// Budget remaining for sorting the list (no evaluation sorts as untouched).
    pub fn remaining(&self) -> f64 {
        self.evaluation.as_ref().map_or(1.0, |e| e.budget.remaining)
    }

    pub fn source_label(&self) -> String {
        match &self.component {
            Some(component) => format!("probe checks of {component}"),
            None => "PromQL good / total".into(),
        }
    }
}

/// Sorts SLOs the way the list shows them: least budget left first, then by service and name.
pub fn sort_by_budget(slos: &mut [Slo]) {
    slos.sort_by(|a, b| {
        a.remaining()
            .total_cmp(&b.remaining())
            .then_with(|| a.service.cmp(&b.service))
            .then_with(|| a.name.cmp(&b.name))
    });
}

/// One point of the error-budget chart: the budget remaining at `at`, counting from the start of
/// the window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BudgetPoint {
    pub at: i64,
    pub remaining: f64,
}

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// How far back the data under `points` reaches at `now`, in words, when that is less than the
/// window (the budget then moves faster than it will once the window is full). Each point closes
/// an hour, so the data starts an hour before the first, and the hour under way is dated at its
/// end, ahead of `now`.
pub fn short_reach(points: &[BudgetPoint], window_days: u32, now: i64) -> Option<String> {
    let reach = (now - (points.first()?.at - HOUR_MS)).max(0);
    if reach >= i64::from(window_days) * DAY_MS - DAY_MS / 2 {
        return None;
    }
    Some(match reach {
        // The first hour's data may start anywhere in it.
        _ if reach < HOUR_MS => "under an hour".into(),
        r if r < DAY_MS => format!("{} h", r / HOUR_MS),
        r => format!("{:.1} days", r as f64 / DAY_MS as f64),
    })
}

/// `GET /api/v1/slos/{id}`: the SLO, its evaluation and the series the charts draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloDetail {
    #[serde(flatten)]
    pub slo: Slo,
    pub budget_series: Vec<BudgetPoint>,
    /// Deployments of the service over the window, oldest first (see `Deployments::markers`).
    #[serde(default)]
    pub deploys: Vec<crate::charts::DeployMarker>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe_slo() -> NewSlo {
        NewSlo {
            service: "checkout".into(),
            name: "availability".into(),
            sli: SliKind::Availability,
            component: Some("checkout-api".into()),
            good_query: None,
            total_query: None,
            latency_threshold_ms: None,
            objective: 0.999,
            window_days: 30,
            description: None,
        }
    }

    #[test]
    fn definitions_need_exactly_one_source() {
        assert!(probe_slo().normalized().is_ok());
        let mut both = probe_slo();
        both.good_query = Some("sum(rate(ok[5m]))".into());
        both.total_query = Some("sum(rate(all[5m]))".into());
        assert!(both.clone().normalized().is_err());
        both.component = None;
        assert!(both.normalized().is_ok());
        let mut latency = probe_slo();
        latency.sli = SliKind::Latency;
        assert!(latency
            .clone()
            .normalized()
            .unwrap_err()
            .contains("latency_threshold_ms"));
        latency.latency_threshold_ms = Some(300);
        assert!(latency.normalized().is_ok());
        let mut window = probe_slo();
        window.window_days = 7;
        assert!(window.normalized().is_err());
        let mut objective = probe_slo();
        objective.objective = 99.9;
        assert!(objective.normalized().is_err());
    }

    #[test]
    fn a_new_slos_data_covers_under_an_hour_not_a_negative_day() {
        let now = 1_000 * DAY_MS + 20 * 60_000;
        // Evaluated 20 minutes into the hour: one point, dated at the hour's end.
        let first = |at| {
            [BudgetPoint {
                at,
                remaining: -999.0,
            }]
        };
        let hour_end = 1_000 * DAY_MS + HOUR_MS;
        assert_eq!(
            short_reach(&first(hour_end), 30, now).as_deref(),
            Some("under an hour")
        );
        let day_before = now - DAY_MS - 4 * HOUR_MS;
        assert_eq!(
            short_reach(&first(day_before), 30, now).as_deref(),
            Some("1.2 days")
        );
        let hours = now - 3 * HOUR_MS;
        assert_eq!(short_reach(&first(hours), 30, now).as_deref(), Some("4 h"));
        let full = now - 30 * DAY_MS + HOUR_MS;
        assert_eq!(short_reach(&first(full), 30, now), None, "a full window");
        assert_eq!(short_reach(&[], 30, now), None, "no data yet");
    }
}
