//! Deployments, shared by the server, the REST API, the CLI and the pages: what a release, a
//! target and a deployment are, the requests that start one, and the pure rules (which version a
//! rollback goes back to, which status follows which) that both sides test the same way.

pub mod rollback;
mod target;

pub use target::{DeployerKind, TargetSettings};

use crate::text_enum::text_enum;
use serde::{Deserialize, Serialize};

/// What a deployment does: ship a new version, go back to an earlier one, or carry the release
/// running in one environment to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentKind {
    Deploy,
    Rollback,
    Promote,
}

/// The life cycle: queued -> running -> succeeded | failed | cancelled; a succeeded or failed
/// deployment later replaced by a rollback becomes rolled_back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    RolledBack,
    Cancelled,
}

/// Who or what started a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    User,
    Token,
    Webhook,
    /// Flightdeck itself: an automatic rollback.
    Policy,
}

/// Who starts a deployment, as the audit trail and the deployment record name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Initiator {
    pub trigger: Trigger,
    pub actor: String,
}

impl Initiator {
    pub fn from_principal(principal: &crate::model::Principal) -> Initiator {
        Initiator {
            trigger: match principal.kind {
                crate::model::PrincipalKind::User => Trigger::User,
                crate::model::PrincipalKind::Token => Trigger::Token,
            },
            actor: principal.actor(),
        }
    }

    /// Flightdeck itself, rolling back after failed health checks.
    pub fn policy() -> Initiator {
        Initiator {
            trigger: Trigger::Policy,
            actor: "flightdeck".into(),
        }
    }

    pub fn webhook(source: &str) -> Initiator {
        Initiator {
            trigger: Trigger::Webhook,
            actor: format!("webhook:{source}"),
        }
    }
}

text_enum!(DeploymentKind { Deploy = "deploy", Rollback = "rollback", Promote = "promote" });
text_enum!(DeploymentStatus {
    Queued = "queued",
    Running = "running",
    Succeeded = "succeeded",
    Failed = "failed",
    RolledBack = "rolled_back",
    Cancelled = "cancelled",
});
text_enum!(Trigger { User = "user", Token = "token", Webhook = "webhook", Policy = "policy" });

impl DeploymentStatus {
    /// Queued or running: holds its target, so another deployment there must wait.
    pub fn is_active(self) -> bool {
        matches!(self, DeploymentStatus::Queued | DeploymentStatus::Running)
    }

    /// Words for people, as the UI shows them.
    pub fn label(self) -> &'static str {
        match self {
            DeploymentStatus::Queued => "Queued",
            DeploymentStatus::Running => "Running",
            DeploymentStatus::Succeeded => "Succeeded",
            DeploymentStatus::Failed => "Failed",
            DeploymentStatus::RolledBack => "Rolled back",
            DeploymentStatus::Cancelled => "Cancelled",
        }
    }
}

/// A version of a service that can be deployed; unique per service and version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub id: i64,
    pub service: String,
    pub version: String,
    pub git_sha: Option<String>,
    pub artifact: Option<String>,
    pub created_at: i64,
}

/// How one service is deployed to one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub service: String,
    pub environment: String,
    #[serde(flatten)]
    pub settings: TargetSettings,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub id: i64,
    pub service: String,
    pub environment: String,
    pub version: String,
    pub git_sha: Option<String>,
    pub artifact: Option<String>,
    pub kind: DeploymentKind,
    pub status: DeploymentStatus,
    pub trigger: Trigger,
    /// The user name, `token:NAME`, `webhook:SOURCE`, or `flightdeck` for automatic rollbacks.
    pub actor: String,
    pub reason: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// The deployment that was live in this environment when this one was requested.
    pub replaced_id: Option<i64>,
    /// Why it failed, in words (exit code, timeout, interrupted by a restart, ...).
    pub error: Option<String>,
    /// Who dismissed this failed deployment, and when: the matrix then shows what still serves.
    #[serde(default)]
    pub dismissed_by: Option<String>,
    #[serde(default)]
    pub dismissed_at: Option<i64>,
}

/// `POST /api/v1/deployments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployRequest {
    pub service: String,
    pub environment: String,
    pub version: String,
    #[serde(default)]
    pub artifact: Option<String>,
    #[serde(default)]
    pub git_sha: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    /// Wait behind a running deployment instead of being refused with 409.
    #[serde(default)]
    pub queue: bool,
    /// The environment's name, typed again: required when the environment is protected.
    #[serde(default)]
    pub confirm: Option<String>,
}

/// `POST /api/v1/rollbacks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    pub service: String,
    pub environment: String,
    #[serde(default)]
    pub to_version: Option<String>,
    pub reason: String,
    /// The environment's name, typed again: required when the environment is protected.
    #[serde(default)]
    pub confirm: Option<String>,
}

/// `POST /api/v1/promotions`: deploy what runs in `from_environment` to the next environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromoteRequest {
    pub service: String,
    pub from_environment: String,
    #[serde(default)]
    pub reason: Option<String>,
    /// The name of the environment promoted into, typed again: required when it is protected.
    #[serde(default)]
    pub confirm: Option<String>,
}

/// A deploy, rollback or promotion into a protected environment must name it again, whatever
/// sends it (page, REST, CLI): `None` when `confirm` does, else the refusal. Flightdeck's own
/// automatic rollbacks pass `who` as the policy and need none.
pub fn check_confirmation(
    protected: bool,
    environment: &str,
    confirm: Option<&str>,
    who: &Initiator,
) -> Result<(), String> {
    if !protected || who.trigger == Trigger::Policy || confirm.map(str::trim) == Some(environment) {
        return Ok(());
    }
    Err(format!(
        "{environment} is protected: send \"confirm\": \"{environment}\" (the CLI's --confirm {environment}) to do this there."
    ))
}

/// The answer to a deploy, rollback or promote: 202 with the deployment that will do it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    pub id: i64,
    pub status: DeploymentStatus,
    pub environment: String,
    pub target_version: String,
}

/// One cell of the environment matrix (`GET /api/v1/status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCell {
    pub service: String,
    pub environment: String,
    /// The version of the latest deployment there (possibly still going out), if any.
    pub version: Option<String>,
    pub status: Option<DeploymentStatus>,
    pub deployment_id: Option<i64>,
    /// When the latest deployment finished (or was requested, while it is under way).
    pub deployed_at: Option<i64>,
    /// The version of the last deployment there that succeeded.
    pub live_version: Option<String>,
    /// Whether a deployer is configured for this pair.
    pub configured: bool,
    /// What the latest deployment there did: a cell that is the result of a rollback says so.
    #[serde(default)]
    pub kind: Option<DeploymentKind>,
    /// The version a rollback here would go back to: the newest other version that succeeded
    /// here and is not quarantined (what `rollback::plan` picks). None where there is nothing to
    /// go back to, so the matrix offers no rollback that would only be refused.
    #[serde(default)]
    pub rollback_to: Option<String>,
    /// The commit `live_version` was built from, for the CI marks. Read on the server only:
    /// neither the API nor the pages' bundles carry it.
    #[serde(skip)]
    pub live_git_sha: Option<String>,
    /// Whether CI failed on that commit: marked for the deployments board, a service's page and
    /// the dashboard, and left out of the REST API's status, which never marks it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ci_failed: bool,
}

/// A version that may not be deployed again to an environment until a person lifts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quarantine {
    pub service: String,
    pub environment: String,
    pub version: String,
    pub deployment_id: Option<i64>,
    pub reason: Option<String>,
    pub created_at: i64,
}

/// Filters and page position for the history, newest first; `cursor` is a deployment id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentQuery {
    pub service: Option<String>,
    pub environment: Option<String>,
    pub status: Option<DeploymentStatus>,
    pub limit: Option<u32>,
    pub cursor: Option<i64>,
}

impl DeploymentQuery {
    pub fn checked_limit(&self) -> Result<u32, String> {
        crate::model::page_size(self.limit)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentPage {
    pub items: Vec<Deployment>,
    /// Pass as `cursor` for the next (older) page; `None` on the last page.
    pub next_cursor: Option<i64>,
    /// The items whose release's commit CI failed on. Told to the history on the deployments
    /// page only (`list_deployments`); the REST API leaves it out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ci_failed: Vec<i64>,
}

/// One line of a deployment's output; `n` counts from 1 within the deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub n: i64,
    pub at: i64,
    /// `stdout`, `stderr` or `flightdeck` (lines Flightdeck itself writes).
    pub stream: String,
    pub text: String,
}

/// Topics on `/ws`: every deployment's status changes, and one deployment's log lines.
pub mod topics {
    pub const DEPLOYMENTS: &str = "deployments";

    pub fn deployment(id: i64) -> String {
        format!("deployment/{id}")
    }
}

/// Orders two versions when both read as dotted numbers (`1.42.0`, `2026.11.20`, `v2.7`; a
/// suffix such as `-rc1` or `-bad` after the numbers is ignored, so `2.8.0-bad` reads as 2.8.0);
/// `None` when either does not, since free-form versions have no order to trust.
pub fn compare_versions(a: &str, b: &str) -> Option<std::cmp::Ordering> {
    fn numbers(v: &str) -> Option<Vec<u64>> {
        let v = v.strip_prefix('v').unwrap_or(v);
        let core = v.split(['-', '+']).next()?;
        core.split('.').map(|p| p.parse().ok()).collect()
    }
    let (mut a, mut b) = (numbers(a)?, numbers(b)?);
    let len = a.len().max(b.len());
    a.resize(len, 0);
    b.resize(len, 0);
    Some(a.cmp(&b))
}

/// Versions are free-form (semver, dates, build numbers) but end up in environment variables,
/// URLs and log lines: one short line of printable text without spaces.
pub fn validate_version(version: &str) -> Result<(), String> {
    let ok = (1..=128).contains(&version.len())
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-+:/@".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "Version '{version}' must be 1 to 128 characters of letters, digits and . _ - + : / @."
        ))
    }
}

/// A reason is what a person reads on the audit trail months later; required for rollbacks.
pub fn clean_reason(reason: Option<String>) -> Result<Option<String>, String> {
    let reason = reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    crate::catalog::validate_text("Reason", &reason, 500)?;
    Ok(reason)
}

impl DeployRequest {
    pub fn normalized(mut self) -> Result<DeployRequest, String> {
        self.service = self.service.trim().to_string();
        self.environment = self.environment.trim().to_string();
        self.version = self.version.trim().to_string();
        validate_version(&self.version)?;
        self.artifact = crate::text::non_blank(self.artifact);
        self.git_sha = crate::text::non_blank(self.git_sha);
        crate::catalog::validate_text("Artifact", &self.artifact, 1024)?;
        if let Some(sha) = &self.git_sha {
            if !(4..=64).contains(&sha.len()) || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(format!(
                    "git_sha '{sha}' must be 4 to 64 hexadecimal digits."
                ));
            }
        }
        self.reason = clean_reason(self.reason)?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn protected_environments_need_their_name_typed_again() {
        let person = Initiator {
            trigger: Trigger::User,
            actor: "maria".into(),
        };
        assert!(check_confirmation(false, "staging", None, &person).is_ok());
        assert!(check_confirmation(true, "production", Some("production"), &person).is_ok());
        for wrong in [None, Some("prod"), Some("staging"), Some("")] {
            let refusal = check_confirmation(true, "production", wrong, &person).unwrap_err();
            assert!(refusal.contains("\"confirm\": \"production\""), "{refusal}");
        }
        assert!(check_confirmation(true, "production", None, &Initiator::policy()).is_ok());
    }

    #[test]
    fn versions_compare_as_dotted_numbers_or_not_at_all() {
        use std::cmp::Ordering::*;
        assert_eq!(compare_versions("1.42.0", "1.41.9"), Some(Greater));
        assert_eq!(compare_versions("1.10", "1.9.9"), Some(Greater));
        assert_eq!(compare_versions("v2.7", "2.7.0"), Some(Equal));
        assert_eq!(compare_versions("2026.11.20", "2026.11.3"), Some(Greater));
        assert_eq!(compare_versions("2.8.0-bad", "2.7.3"), Some(Greater));
        assert_eq!(compare_versions("main-abc123", "1.0"), None);
    }

    use super::*;

    #[test]
    fn statuses_round_trip_through_text_and_json() {
        for s in DeploymentStatus::ALL {
            assert_eq!(DeploymentStatus::parse(s.as_str()), Some(*s));
            assert_eq!(
                serde_json::to_string(s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert_eq!(DeploymentStatus::parse("done"), None);
        assert!(DeploymentStatus::Running.is_active());
        assert!(!DeploymentStatus::RolledBack.is_active());
    }

    #[test]
    fn versions_are_one_printable_word() {
        for ok in [
            "1.2.3",
            "v2026.11.21-rc.1+build.7",
            "sha:abc123",
            "registry/app@1",
        ] {
            assert!(validate_version(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1.0 beta", "1.0\n", "$(rm -rf /)", &"9".repeat(129)] {
            assert!(validate_version(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn deploy_requests_are_trimmed_and_checked() {
        let req = |sha: Option<&str>| DeployRequest {
            confirm: None,
            service: " api ".into(),
            environment: "prod".into(),
            version: " 1.0 ".into(),
            artifact: Some(" ".into()),
            git_sha: sha.map(Into::into),
            reason: Some("  hotfix ".into()),
            queue: false,
        };
        let ok = req(Some("abc123")).normalized().unwrap();
        assert_eq!((ok.service.as_str(), ok.version.as_str()), ("api", "1.0"));
        assert_eq!(ok.artifact, None);
        assert_eq!(ok.reason.as_deref(), Some("hotfix"));
        assert!(req(Some("not-a-sha"))
            .normalized()
            .unwrap_err()
            .contains("git_sha"));
    }
}
