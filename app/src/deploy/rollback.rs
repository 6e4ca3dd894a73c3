//! Which version a rollback goes back to. Pure, so the rule users depend on most during an
//! incident is tested without a database and reads the same on every side.

use super::DeploymentStatus;

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

/// Plans a rollback from `history` (newest first). Without `to_version` it goes back to the most
/// recent succeeded version that differs from the current one and is not quarantined.
/// Deployments that were cancelled never ran and do not count; a version already rolled back is
/// never chosen automatically.
pub fn plan(
    environment: &str,
    history: &[PastDeployment],
    to_version: Option<&str>,
    is_quarantined: impl Fn(&str) -> bool,
) -> Result<RollbackPlan, String> {
    let ran = |d: &&PastDeployment| {
        matches!(
            d.status,
            DeploymentStatus::Succeeded | DeploymentStatus::Failed | DeploymentStatus::RolledBack
        )
    };
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
            chosen.to_string()
        }
        None => ran_before
            .find(|d| {
                d.status == DeploymentStatus::Succeeded
                    && d.version != current.version
                    && !is_quarantined(&d.version)
            })
            .map(|d| d.version.clone())
            .ok_or_else(|| {
                format!(
                    "No earlier version succeeded in {environment} (other than {} and quarantined ones); choose a version to roll back to.",
                    current.version
                )
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
        assert!(err.contains("choose a version"), "{err}");
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
        // Retrying a version whose deploy failed is allowed.
        let failed = h(&[(3, "1", Failed), (2, "2", Succeeded)]);
        assert_eq!(
            plan("prod", &failed, Some("1"), none)
                .unwrap()
                .target_version,
            "1"
        );
    }

    #[test]
    fn nothing_to_roll_back_in_an_empty_environment() {
        assert!(plan("prod", &h(&[(1, "1", Cancelled)]), None, none)
            .unwrap_err()
            .contains("Nothing has been deployed"));
    }
}
