//! Notification channels and escalation policies as the API and the settings show them.

use super::alert::Matcher;
use crate::text_enum::text_enum;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// A Slack-compatible incoming webhook: `{"text": ...}`.
    Slack,
    /// Any HTTP receiver: `{"reason", "alert"}` as JSON.
    Webhook,
    /// Comma-separated addresses, sent over SMTP.
    Email,
}
text_enum!(ChannelKind { Slack = "slack", Webhook = "webhook", Email = "email" });

/// `POST /api/v1/channels`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewChannel {
    pub name: String,
    pub kind: ChannelKind,
    /// The URL (slack, webhook) or the addresses (email).
    pub target: String,
}

impl NewChannel {
    pub fn normalized(mut self) -> Result<NewChannel, String> {
        self.name = self.name.trim().to_string();
        self.target = self.target.trim().to_string();
        if self.name.is_empty() || self.name.len() > 100 {
            return Err("A channel needs a name of 1 to 100 characters.".into());
        }
        match self.kind {
            ChannelKind::Slack | ChannelKind::Webhook => {
                crate::http_url::check(
                    "The target of a slack or webhook channel (its URL)",
                    &self.target,
                )?;
            }
            ChannelKind::Email => {
                let addresses: Vec<&str> = self
                    .target
                    .split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .collect();
                if addresses.is_empty() || addresses.iter().any(|a| !a.contains('@')) {
                    return Err(
                        "The target of an email channel is one or more addresses, comma separated."
                            .into(),
                    );
                }
            }
        }
        Ok(self)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub id: i64,
    pub name: String,
    pub kind: ChannelKind,
    /// Shown masked for URLs (`https://hooks.slack.com/…`): a webhook URL is a secret.
    pub target: String,
    pub created_by: String,
    pub created_at: i64,
}

/// A URL without its path and query, which is where webhook secrets live.
pub fn mask_target(kind: ChannelKind, target: &str) -> String {
    match kind {
        ChannelKind::Email => target.to_string(),
        ChannelKind::Slack | ChannelKind::Webhook => match target.split_once("://") {
            Some((scheme, rest)) => {
                let host = rest.split(['/', '?', '#']).next().unwrap_or("");
                let host = host.rsplit('@').next().unwrap_or(host);
                format!("{scheme}://{host}/…")
            }
            None => "…".into(),
        },
    }
}

/// One step of a policy: wait `delay_s` after the previous step (the first: after the alert
/// opened), then notify `channel` if nobody acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationStep {
    pub delay_s: u32,
    /// The channel's name.
    pub channel: String,
}

/// `POST /api/v1/escalation-policies`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPolicy {
    pub name: String,
    /// Which alerts it covers; empty covers every alert.
    #[serde(default)]
    pub matchers: Vec<Matcher>,
    /// Policies are tried by rank, lowest first; the first that matches owns the alert.
    #[serde(default)]
    pub rank: i64,
    pub steps: Vec<EscalationStep>,
}

impl NewPolicy {
    pub fn normalized(mut self) -> Result<NewPolicy, String> {
        self.name = self.name.trim().to_string();
        if self.name.is_empty() || self.name.len() > 100 {
            return Err("A policy needs a name of 1 to 100 characters.".into());
        }
        super::alert::check_matchers(&self.matchers)?;
        if self.steps.is_empty() || self.steps.len() > 20 {
            return Err("A policy needs 1 to 20 steps.".into());
        }
        if self.steps.iter().any(|s| s.delay_s > 7 * 86_400) {
            return Err("A step's delay is at most 7 days (604800 s).".into());
        }
        Ok(self)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationPolicy {
    pub id: i64,
    pub name: String,
    pub matchers: Vec<Matcher>,
    pub rank: i64,
    pub steps: Vec<EscalationStep>,
    pub created_by: String,
    pub created_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_are_masked() {
        assert_eq!(
            mask_target(
                ChannelKind::Slack,
                "https://hooks.slack.com/services/T0/B0/secret"
            ),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            mask_target(ChannelKind::Webhook, "http://user:pw@host:9/x?t=1"),
            "http://host:9/…"
        );
        assert_eq!(mask_target(ChannelKind::Email, "a@b.c"), "a@b.c");
    }

    #[test]
    fn channels_are_checked() {
        let channel = |kind, target: &str| NewChannel {
            name: "ops".into(),
            kind,
            target: target.into(),
        };
        assert!(channel(ChannelKind::Slack, "https://hooks.slack.com/x")
            .normalized()
            .is_ok());
        assert!(channel(ChannelKind::Slack, "hooks.slack.com")
            .normalized()
            .is_err());
        assert!(channel(ChannelKind::Email, "a@b.c, d@e.f")
            .normalized()
            .is_ok());
        assert!(channel(ChannelKind::Email, "nobody").normalized().is_err());
    }

    #[test]
    fn a_policy_matcher_needs_a_label_name() {
        let policy = |name: &str| NewPolicy {
            name: "night".into(),
            matchers: vec![Matcher {
                name: name.into(),
                value: "critical".into(),
                is_regex: false,
                is_equal: true,
            }],
            rank: 0,
            steps: vec![EscalationStep {
                delay_s: 0,
                channel: "ops".into(),
            }],
        };
        assert!(policy("severity").normalized().is_ok());
        let err = policy(" ").normalized().unwrap_err();
        assert!(err.contains("no label name"), "{err}");
    }
}

/// Who escalating an alert by hand would notify now, shown before the click: the next step of
/// the policy that owns it, or nobody (no policy covers it, or its steps are used up).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EscalationPreview {
    /// The policy that owns the alert, if any.
    pub policy: Option<String>,
    /// The channel the next step notifies; `None` when nobody would be notified.
    pub channel: Option<String>,
    /// The next step's place (1-based) among `steps`.
    pub step: i64,
    pub steps: i64,
}

impl EscalationPreview {
    pub fn notifies_nobody(&self) -> bool {
        self.channel.is_none()
    }

    /// The preview in words, saying what to do when nobody would be notified.
    pub fn words(&self) -> String {
        match (&self.policy, &self.channel) {
            (None, _) => "No escalation policy covers this alert: escalating notifies nobody. Admins add one under Settings, Alert routing.".into(),
            (Some(policy), None) => format!(
                "Every step of the policy {policy} was taken: escalating notifies nobody further."
            ),
            (Some(policy), Some(channel)) => format!(
                "Escalating notifies {channel} now (step {} of {} of the policy {policy}).",
                self.step, self.steps
            ),
        }
    }
}

#[cfg(test)]
mod preview_tests {
    use super::EscalationPreview;

    #[test]
    fn says_who_is_notified_or_warns_that_nobody_is() {
        let none = EscalationPreview::default();
        assert!(none.notifies_nobody() && none.words().starts_with("No escalation policy"));
        let used_up = EscalationPreview {
            policy: Some("critical".into()),
            channel: None,
            step: 3,
            steps: 2,
        };
        assert!(used_up.notifies_nobody() && used_up.words().contains("nobody further"));
        let next = EscalationPreview {
            policy: Some("critical".into()),
            channel: Some("email-leads".into()),
            step: 2,
            steps: 2,
        };
        assert!(!next.notifies_nobody());
        assert_eq!(
            next.words(),
            "Escalating notifies email-leads now (step 2 of 2 of the policy critical)."
        );
    }
}
