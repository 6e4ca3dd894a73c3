//! The CI/CD webhook secrets as the settings page shows them: where each comes from, never its
//! value.

use serde::{Deserialize, Serialize};

/// The sources whose secret can be set on the settings page.
pub const SOURCES: [&str; 2] = ["github", "gitlab"];

/// The live topic of webhook deliveries: one `webhooks.applied` event per batch the inbox
/// applied, carrying only how many, so the deliveries card reloads (for admins) as they land.
pub const TOPIC: &str = "webhooks";
pub const APPLIED: &str = "webhooks.applied";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretOrigin {
    /// From the environment variable, which wins over the settings page.
    Environment,
    Settings,
    Unset,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSecretStatus {
    pub source: String,
    /// The variable that sets it (and overrides the settings page).
    pub variable: String,
    pub origin: SecretOrigin,
    pub updated_at: Option<i64>,
    pub updated_by: Option<String>,
}

pub fn variable(source: &str) -> &'static str {
    match source {
        "github" => "FLIGHTDECK_GITHUB_WEBHOOK_SECRET",
        _ => "FLIGHTDECK_GITLAB_WEBHOOK_TOKEN",
    }
}

/// A shared secret must be long enough not to be guessed: 16 to 256 characters, one line.
pub fn validate_secret(secret: &str) -> Result<(), String> {
    let n = secret.chars().count();
    if !(16..=256).contains(&n) || secret.chars().any(char::is_control) {
        return Err("The secret must be 16 to 256 characters on one line; a long random value (openssl rand -hex 32) is best.".into());
    }
    Ok(())
}

/// How a delivery's outcome begins when applying it changed nothing: it was refused (and its
/// changes rolled back), or it had nothing to apply. The inbox writes these, the settings page
/// reads them, and a delivery sent again with either is applied again.
pub const REFUSED: &str = "refused:";
pub const IGNORED: &str = "ignored:";

/// A stored CI/CD webhook delivery and what applying it did, as the settings page lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    pub id: i64,
    /// `github`, `gitlab` or `cdevents`.
    pub source: String,
    /// The sender's id for it (`X-GitHub-Delivery`, `X-Gitlab-Event-UUID`, `context.id`), which
    /// its own delivery log shows too.
    pub delivery_id: String,
    pub event: String,
    /// Unix ms.
    pub received_at: i64,
    pub processed_at: Option<i64>,
    /// In words: the release or deployment it reported, `ignored: why`, or `refused: why`.
    pub outcome: Option<String>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Stored, not applied yet (the worker applies deliveries in the order they arrived).
    Waiting,
    /// It reported a release or a deployment.
    Applied,
    /// It had nothing for releases or deployments (a run that did not succeed, say).
    Ignored,
    /// It could not be applied: an unknown service or environment, a quarantined version.
    Refused,
}

impl DeliveryState {
    pub fn label(self) -> &'static str {
        match self {
            DeliveryState::Waiting => "Waiting",
            DeliveryState::Applied => "Applied",
            DeliveryState::Ignored => "Nothing to apply",
            DeliveryState::Refused => "Refused",
        }
    }
}

impl WebhookDelivery {
    pub fn state(&self) -> DeliveryState {
        match self.outcome.as_deref() {
            None => DeliveryState::Waiting,
            Some(o) if o.starts_with(REFUSED) => DeliveryState::Refused,
            Some(o) if o.starts_with(IGNORED) => DeliveryState::Ignored,
            Some(_) => DeliveryState::Applied,
        }
    }

    /// The outcome without the word its state already says.
    pub fn detail(&self) -> &str {
        let outcome = self.outcome.as_deref().unwrap_or_default();
        [REFUSED, IGNORED]
            .iter()
            .find_map(|prefix| outcome.strip_prefix(prefix))
            .unwrap_or(outcome)
            .trim()
    }

    /// The event as the sender's settings name it.
    pub fn event_label(&self) -> String {
        let named = match (self.source.as_str(), self.event.as_str()) {
            ("github", "workflow_run") => "Workflow run",
            ("github", "deployment_status") => "Deployment status",
            ("gitlab", "Pipeline Hook") => "Pipeline event",
            ("gitlab", "Deployment Hook") => "Deployment event",
            _ => return format!("{} {}", source_label(&self.source), self.event),
        };
        format!("{} {named}", source_label(&self.source))
    }
}

pub fn source_label(source: &str) -> &str {
    match source {
        "github" => "GitHub",
        "gitlab" => "GitLab",
        "cdevents" => "CDEvents",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(source: &str, event: &str, outcome: Option<&str>) -> WebhookDelivery {
        WebhookDelivery {
            id: 1,
            source: source.into(),
            delivery_id: "72d3162e-cc78-11e3-81ab-4c9367dc0958".into(),
            event: event.into(),
            received_at: 0,
            processed_at: outcome.map(|_| 1),
            outcome: outcome.map(Into::into),
        }
    }

    #[test]
    fn a_delivery_reads_as_where_it_stands() {
        let waiting = delivery("github", "workflow_run", None);
        assert_eq!(
            (waiting.state(), waiting.detail()),
            (DeliveryState::Waiting, "")
        );
        let refused = delivery(
            "gitlab",
            "Deployment Hook",
            Some("refused: No service named 'shop'."),
        );
        assert_eq!(
            (refused.state(), refused.detail()),
            (DeliveryState::Refused, "No service named 'shop'.")
        );
        assert_eq!(refused.event_label(), "GitLab Deployment event");
        let ignored = delivery(
            "github",
            "workflow_run",
            Some("ignored: the run has not succeeded, so there is no release"),
        );
        assert_eq!(ignored.state(), DeliveryState::Ignored);
        assert_eq!(ignored.event_label(), "GitHub Workflow run");
        let applied = delivery(
            "github",
            "workflow_run",
            Some("release 1a2b3c4 of api (#5)"),
        );
        assert_eq!(
            (applied.state(), applied.detail()),
            (DeliveryState::Applied, "release 1a2b3c4 of api (#5)")
        );
        let cdevent = delivery("cdevents", "service.deployed", Some("deployment #9"));
        assert_eq!(cdevent.event_label(), "CDEvents service.deployed");
    }

    #[test]
    fn secrets_are_long_single_lines() {
        assert!(validate_secret("0123456789abcdef").is_ok());
        assert!(validate_secret("short").is_err());
        assert!(validate_secret("0123456789abcdef\n").is_err());
    }
}
