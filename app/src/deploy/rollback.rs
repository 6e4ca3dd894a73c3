//! Which version a rollback goes back to. Pure, so the rule users depend on most during an
//! incident is tested without a database and reads the same on every side.

use super::DeploymentStatus;
use serde::{Deserialize, Serialize};

/// A finished or running deployment of one service in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastDeployment {
    pub id: i64,
    pub version: String,
    pub status: DeploymentStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackPlan {
    /// The deployment being rolled back; marked rolled_back when the rollback succeeds.
    pub bad_id: i64,
    pub bad_version: String,
    pub target_version: String,
}

/// What a rollback of one target would do, as the dialog shows it before anyone clicks.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RollbackOptions {
    /// The version serving there now: the newest deployment that succeeded.
    pub serving: Option<String>,
    /// The newest deployment that ran, when it failed: it never served, and a rollback
    /// restores `serving` and quarantines it.
    pub failed: Option<String>,
    /// The version the deployment being rolled back runs (the failed one, or `serving`):
    /// quarantined by the rollback.
    pub rolls_back: Option<String>,
    /// Where an automatic rollback goes: the last good version.
    pub automatic: Option<String>,
    /// Every version a person may choose, newest first: versions that succeeded there, other
    /// than the serving one and quarantined ones. Empty after a failure, where the only sensible
    /// rollback is back to what serves.
    pub choices: Vec<String>,
    /// Why there is nothing to roll back, in words, when there is not.
    pub refusal: Option<String>,
}

impl RollbackOptions {
    /// What the rollback will do, in one sentence naming the version it goes to (`chosen`, or
    /// the automatic target) and the one it quarantines; or why it cannot.
    pub fn summary(&self, environment: &str, chosen: Option<&str>) -> String {
        if let Some(refusal) = &self.refusal {
            if chosen.is_none() {
                return refusal.clone();
            }
        }
        let target = chosen.or(self.automatic.as_deref()).unwrap_or("?");
        match (&self.failed, &self.serving) {
            (Some(failed), Some(serving)) => format!(
                "{failed} failed in {environment}, and {serving} still serves there. The rollback deploys {target} again and quarantines {failed} in {environment} until someone lifts it."
            ),
            (_, Some(serving)) => format!(
                "{environment} runs {serving}. The rollback deploys {target} and quarantines {serving} in {environment} until someone lifts it."
            ),
            _ => format!("Nothing has succeeded in {environment} yet, so there is nothing to roll back."),
        }
    }
}

/// The deployments a rollback considers: cancelled ones never ran.
fn ran(d: &&PastDeployment) -> bool {
    matches!(
        d.status,
        DeploymentStatus::Succeeded | DeploymentStatus::Failed | DeploymentStatus::RolledBack
    )
}

/// The options a person has for rolling back, from `history` (newest first).
pub fn options(
    environment: &str,
    history: &[PastDeployment],
    is_quarantined: impl Fn(&str) -> bool,
) -> RollbackOptions {
    let current = history.iter().find(ran);
    let serving = history
        .iter()
        .find(|d| d.status == DeploymentStatus::Succeeded)
        .map(|d| d.version.clone());
    let failed = current
        .filter(|d| d.status == DeploymentStatus::Failed)
        .map(|d| d.version.clone());
    let plan = plan(environment, history, None, &is_quarantined);
    let mut choices: Vec<String> = Vec::new();
    if failed.is_none() {
        for d in history {
            let good = d.status == DeploymentStatus::Succeeded
                && Some(&d.version) != serving.as_ref()
                && !is_quarantined(&d.version);
            if good && !choices.contains(&d.version) {
                choices.push(d.version.clone());
            }
        }
    }
    RollbackOptions {
        serving,
        failed,
        rolls_back: current.map(|d| d.version.clone()),
        automatic: plan.as_ref().ok().map(|p| p.target_version.clone()),
        choices,
        refusal: plan.err(),
    }
}

/// Plans a rollback from `history` (newest first). The deployment rolled back is the newest that
/// ran; its version is quarantined. Without `to_version` it goes back to the most recent
/// succeeded version that differs from that one and is not quarantined: after a failed deploy,
/// that is the version still serving. A chosen version must have succeeded there before: a
/// version that never ran well in an environment is never something to go back to (retrying a
/// failed version is a deploy).
pub fn plan(
    environment: &str,
    history: &[PastDeployment],
    to_version: Option<&str>,
    is_quarantined: impl Fn(&str) -> bool,
) -> Result<RollbackPlan, String> {
    let mut ran_before = history.iter().filter(ran);
    let current = ran_before.next().ok_or_else(|| {
        format!("Nothing has been deployed to {environment} yet, so there is nothing to roll back.")
    })?;
    let target_version = match to_version {
        Some(chosen) => {
            if chosen == current.version && current.status == DeploymentStatus::Succeeded {
                return Err(format!(
                    "{chosen} is already the version running in {environment}."
                ));
            }
            if is_quarantined(chosen) {
                return Err(format!(
                    "{chosen} is quarantined in {environment} after an earlier rollback; lift the quarantine first if it is safe again."
                ));
            }
            let succeeded_here = history
                .iter()
                .any(|d| d.version == chosen && d.status == DeploymentStatus::Succeeded);
            if !succeeded_here {
                return Err(format!(
                    "{chosen} never succeeded in {environment}, so it is no version to roll back to; deploy it instead if you mean to try it."
                ));
            }
            chosen.to_string()
        }
        None => ran_before
            .find(|d| {
                d.status == DeploymentStatus::Succeeded
                    && d.version != current.version
                    && !is_quarantined(&d.version)
            })
            .map(|d| d.version.clone())
            // Said as it is, with the way forward: there is nothing to choose from here (the
            // dialog's choices are the same versions), so it must not ask for a choice.
            .ok_or_else(|| match current.status {
                DeploymentStatus::Succeeded => format!(
                    "{v} is the only version that has succeeded in {environment} (quarantined ones aside), so there is nothing earlier to roll back to. To replace it, deploy another version.",
                    v = current.version
                ),
                _ => format!(
                    "No version other than {v} has succeeded in {environment} (quarantined ones aside), so there is nothing to roll back to. To replace {v}, deploy another version.",
                    v = current.version
                ),
            })?,
    };
    Ok(RollbackPlan {
        bad_id: current.id,
        bad_version: current.version.clone(),
        target_version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeploymentStatus::*;

    fn h(entries: &[(i64, &str, DeploymentStatus)]) -> Vec<PastDeployment> {
        entries
            .iter()
            .map(|(id, v, s)| PastDeployment {
                id: *id,
                version: v.to_string(),
                status: *s,
            })
            .collect()
    }

    fn none(_: &str) -> bool {
        false
    }

    #[test]
    fn goes_back_to_the_last_good_version_that_differs() {
        let history = h(&[
            (4, "3", Succeeded),
            (3, "3", Succeeded),
            (2, "2", Succeeded),
            (1, "1", Succeeded),
        ]);
        let p = plan("prod", &history, None, none).unwrap();
        assert_eq!(
            (p.bad_id, p.bad_version.as_str(), p.target_version.as_str()),
            (4, "3", "2")
        );
    }

    #[test]
    fn a_failed_deploy_is_rolled_back_to_what_ran_before() {
        let history = h(&[(3, "3", Failed), (2, "2", Succeeded), (1, "1", Succeeded)]);
        let p = plan("prod", &history, None, none).unwrap();
        assert_eq!((p.bad_id, p.target_version.as_str()), (3, "2"));
    }

    #[test]
    fn skips_cancelled_failed_and_quarantined_versions() {
        let history = h(&[
            (6, "5", Cancelled),
            (5, "4", Succeeded),
            (4, "3", Failed),
            (3, "2", Succeeded),
            (2, "1", Succeeded),
        ]);
        let p = plan("prod", &history, None, |v| v == "2").unwrap();
        assert_eq!((p.bad_id, p.target_version.as_str()), (5, "1"));
    }

    #[test]
    fn a_second_rollback_does_not_bounce_back_to_the_bad_version() {
        // 2 was rolled back to 1 (and quarantined): rolling back again finds nothing older.
        let history = h(&[
            (3, "1", Succeeded),
            (2, "2", RolledBack),
            (1, "1", Succeeded),
        ]);
        let err = plan("prod", &history, None, |v| v == "2").unwrap_err();
        assert!(
            err.starts_with("1 is the only version that has succeeded in prod"),
            "{err}"
        );
    }

    #[test]
    fn a_chosen_version_is_checked() {
        let history = h(&[(2, "2", Succeeded), (1, "1", Succeeded)]);
        assert_eq!(
            plan("prod", &history, Some("1"), none)
                .unwrap()
                .target_version,
            "1"
        );
        assert!(plan("prod", &history, Some("2"), none)
            .unwrap_err()
            .contains("already"));
        assert!(plan("prod", &history, Some("1"), |v| v == "1")
            .unwrap_err()
            .contains("quarantined"));
        // A version that only ever failed there is no rollback target.
        let failed = h(&[(3, "3", Failed), (2, "2", Succeeded), (1, "1", Succeeded)]);
        assert!(plan("prod", &failed, Some("3"), none)
            .unwrap_err()
            .contains("never succeeded"));
        let unknown = plan("prod", &failed, Some("0.9"), none).unwrap_err();
        assert!(unknown.contains("never succeeded"), "{unknown}");
    }

    #[test]
    fn options_after_a_failed_deploy_name_what_still_serves() {
        // payments-gateway in dev: 2.8.0-bad-migration failed, 2.7.3 still serves.
        let history = h(&[
            (3, "2.8.0-bad-migration", Failed),
            (2, "2.7.3", Succeeded),
            (1, "2.7.2", Succeeded),
        ]);
        let o = options("dev", &history, none);
        assert_eq!(o.serving.as_deref(), Some("2.7.3"));
        assert_eq!(o.failed.as_deref(), Some("2.8.0-bad-migration"));
        assert_eq!(o.rolls_back.as_deref(), Some("2.8.0-bad-migration"));
        assert_eq!(o.automatic.as_deref(), Some("2.7.3"));
        assert!(o.choices.is_empty(), "{:?}", o.choices);
        assert_eq!(o.refusal, None);
    }

    #[test]
    fn options_never_list_the_serving_failed_or_quarantined_versions() {
        let history = h(&[
            (6, "5", Succeeded),
            (5, "4", Failed),
            (4, "3", Succeeded),
            (3, "2", RolledBack),
            (2, "3", Succeeded),
            (1, "1", Succeeded),
        ]);
        let o = options("prod", &history, |v| v == "2");
        assert_eq!(o.serving.as_deref(), Some("5"));
        assert_eq!(o.failed, None);
        assert_eq!(o.automatic.as_deref(), Some("3"));
        assert_eq!(o.choices, vec!["3".to_string(), "1".to_string()]);
        // Each choice is accepted by the plan; the others are refused.
        for v in &o.choices {
            assert!(plan("prod", &history, Some(v), |v| v == "2").is_ok(), "{v}");
        }
        for v in ["5", "4", "2"] {
            assert!(
                plan("prod", &history, Some(v), |v| v == "2").is_err(),
                "{v}"
            );
        }
    }

    #[test]
    fn the_summary_names_where_it_goes_and_what_it_quarantines() {
        let failed = h(&[(3, "2.8.0-bad", Failed), (2, "2.7.3", Succeeded)]);
        let text = options("dev", &failed, none).summary("dev", None);
        assert!(
            text.starts_with("2.8.0-bad failed in dev, and 2.7.3 still serves")
                && text.contains("quarantines 2.8.0-bad"),
            "{text}"
        );
        let good = h(&[(3, "1.44.0", Succeeded), (2, "1.43.0", Succeeded)]);
        let o = options("prod", &good, none);
        assert_eq!(
            o.summary("prod", None),
            "prod runs 1.44.0. The rollback deploys 1.43.0 and quarantines 1.44.0 in prod until someone lifts it."
        );
    }

    #[test]
    fn options_say_why_nothing_can_be_rolled_back() {
        let o = options("prod", &h(&[(1, "1", Succeeded)]), none);
        assert_eq!(o.serving.as_deref(), Some("1"));
        assert_eq!(o.automatic, None);
        assert!(o.choices.is_empty());
        assert_eq!(
            o.refusal.as_deref(),
            Some("1 is the only version that has succeeded in prod (quarantined ones aside), so there is nothing earlier to roll back to. To replace it, deploy another version.")
        );
        // Only a failure there: nothing ever served to go back to.
        let o = options("prod", &h(&[(1, "2", Failed)]), none);
        assert!(o.choices.is_empty());
        assert_eq!(
            o.refusal.as_deref(),
            Some("No version other than 2 has succeeded in prod (quarantined ones aside), so there is nothing to roll back to. To replace 2, deploy another version.")
        );
    }

    #[test]
    fn nothing_to_roll_back_in_an_empty_environment() {
        assert!(plan("prod", &h(&[(1, "1", Cancelled)]), None, none)
            .unwrap_err()
            .contains("Nothing has been deployed"));
    }
}
