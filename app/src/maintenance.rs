//! Maintenance mode: while it is on, every page says so, new deployments to the environments it
//! covers are refused, probe alerts there notify nobody, and the time does not count against SLO
//! error budgets. It ends by itself at `until`.

use serde::{Deserialize, Serialize};

/// The live topic of maintenance changes.
pub const TOPIC: &str = "maintenance";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Maintenance {
    pub enabled: bool,
    pub message: String,
    /// The environments it covers; `None`: all of them.
    pub environments: Option<Vec<String>>,
    /// When it ends by itself (Unix ms).
    pub until: Option<i64>,
    pub updated_by: String,
    pub updated_at: i64,
}

impl Maintenance {
    /// On, and not past its end.
    pub fn active_at(&self, now: i64) -> bool {
        self.enabled && self.until.is_none_or(|until| now < until)
    }

    /// Whether it is on for `environment` (a component or deployment without one is covered
    /// only by maintenance of every environment).
    pub fn covers(&self, environment: Option<&str>, now: i64) -> bool {
        self.active_at(now) && reaches(self.environments.as_deref(), environment)
    }

    /// What the banner says: where, until when (in UTC, the same for every viewer), and the
    /// message.
    pub fn banner(&self) -> String {
        let place = match &self.environments {
            None => "all environments".to_string(),
            Some(list) => list.join(", "),
        };
        let until = self
            .until
            .map(|until| format!(" until {}", crate::time_fmt::iso_utc(until)))
            .unwrap_or_default();
        format!("Maintenance in {place}{until}: {}", self.message)
    }

    /// Why a deployment to `environment` is refused now, if it is.
    pub fn refusal(&self, environment: &str, now: i64) -> Option<String> {
        self.covers(Some(environment), now).then(|| {
            format!(
                "{environment} is in maintenance ({}); new deployments there are refused until it ends{}. Rollbacks still run.",
                self.message,
                if self.until.is_some() { " by itself" } else { " (an admin turns it off)" }
            )
        })
    }
}

/// A past or current stretch of maintenance, as recorded: PromQL SLOs subtract what happened in
/// these from their budgets (probe SLOs never count checks made during maintenance at all).
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    pub started_at: i64,
    /// When it was ended (by hand, by a change, or at its time); `None` while it lasts.
    pub ended_at: Option<i64>,
    /// When it was set to end by itself.
    pub until: Option<i64>,
    /// `None`: every environment.
    pub environments: Option<Vec<String>>,
}

impl Period {
    fn end(&self, now: i64) -> i64 {
        [self.ended_at, self.until]
            .into_iter()
            .flatten()
            .fold(now, i64::min)
    }

    fn covers(&self, environment: Option<&str>) -> bool {
        reaches(self.environments.as_deref(), environment)
    }
}

/// Whether maintenance of `environments` (`None`: all of them) reaches `environment`; something
/// without an environment is reached only by maintenance of all of them.
fn reaches(environments: Option<&[String]>, environment: Option<&str>) -> bool {
    match (environments, environment) {
        (None, _) => true,
        (Some(list), Some(e)) => list.iter().any(|l| l == e),
        (Some(_), None) => false,
    }
}

/// The stretches of `[from, to)` under maintenance for `environment`, merged where they touch
/// or overlap, oldest first.
pub fn spans(periods: &[Period], environment: Option<&str>, from: i64, to: i64) -> Vec<(i64, i64)> {
    let mut clipped: Vec<(i64, i64)> = periods
        .iter()
        .filter(|p| p.covers(environment))
        .map(|p| (p.started_at.max(from), p.end(to).min(to)))
        .filter(|(start, end)| start < end)
        .collect();
    clipped.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::with_capacity(clipped.len());
    for (start, end) in clipped {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_the_covered_stretches_of_a_window_merged_and_clipped() {
        let period = |started_at, ended_at, until, environments: Option<&[&str]>| Period {
            started_at,
            ended_at,
            until,
            environments: environments.map(|l| l.iter().map(|e| e.to_string()).collect()),
        };
        let periods = [
            // Before the window: gone. Across its start: clipped.
            period(0, Some(50), None, None),
            period(80, Some(120), None, Some(&["prod"])),
            // Overlapping ones merge; `until` ends one the worker had not ended yet.
            period(200, Some(300), None, None),
            period(250, None, Some(320), Some(&["prod", "stage"])),
            // Another environment only.
            period(400, Some(450), None, Some(&["dev"])),
            // Still on: runs to the window's end.
            period(900, None, None, None),
        ];
        assert_eq!(
            spans(&periods, Some("prod"), 100, 1000),
            vec![(100, 120), (200, 320), (900, 1000)]
        );
        assert_eq!(
            spans(&periods, None, 100, 1000),
            vec![(200, 300), (900, 1000)],
            "without an environment, only maintenance of all of them counts"
        );
        assert_eq!(spans(&periods, Some("dev"), 100, 1000).len(), 3);
        assert!(spans(&[], Some("prod"), 0, 10).is_empty());
    }

    fn on(environments: Option<Vec<&str>>, until: Option<i64>) -> Maintenance {
        Maintenance {
            enabled: true,
            message: "database upgrade".into(),
            environments: environments.map(|l| l.into_iter().map(String::from).collect()),
            until,
            ..Maintenance::default()
        }
    }

    #[test]
    fn it_covers_its_environments_until_it_ends() {
        let m = on(Some(vec!["production"]), Some(1_000));
        assert!(m.covers(Some("production"), 999));
        assert!(
            !m.covers(Some("production"), 1_000),
            "ends by itself at until"
        );
        assert!(!m.covers(Some("staging"), 10));
        assert!(!m.covers(None, 10));
        let everywhere = on(None, None);
        assert!(everywhere.covers(None, i64::MAX));
        assert!(everywhere.covers(Some("dev"), 0));
        assert!(!Maintenance::default().covers(Some("dev"), 0));
    }

    #[test]
    fn the_refusal_names_maintenance() {
        let m = on(Some(vec!["production"]), None);
        let why = m.refusal("production", 0).unwrap();
        assert!(
            why.contains("maintenance") && why.contains("database upgrade"),
            "{why}"
        );
        assert_eq!(m.refusal("staging", 0), None);
        assert_eq!(m.banner(), "Maintenance in production: database upgrade");
    }

    #[test]
    fn the_banner_says_until_when_in_utc() {
        let m = on(None, Some(1_795_298_156_000));
        assert_eq!(
            m.banner(),
            "Maintenance in all environments until 2026-11-21 21:55:56 UTC: database upgrade"
        );
    }
}
