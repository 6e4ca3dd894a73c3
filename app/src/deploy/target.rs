//! How a service reaches an environment: the deployer, its settings, and the post-deploy watch
//! that rolls back by itself when the health check keeps failing.

use crate::text::non_blank;
use crate::text_enum::text_enum;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeployerKind {
    /// Runs the admin-configured command with `FLIGHTDECK_*` variables; exit 0 is success.
    Command,
    /// Calls a CI/CD system and waits for its status to come back through an inbound webhook.
    Webhook,
    /// Pretends, for `--demo`: a few log lines, and fails versions containing "fail" or "bad".
    Simulated,
}

text_enum!(DeployerKind { Command = "command", Webhook = "webhook", Simulated = "simulated" });

/// `PUT /api/v1/services/{name}/targets/{environment}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSettings {
    pub deployer: DeployerKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The deployer's time limit; a command still running then is killed.
    #[serde(default = "TargetSettings::default_timeout")]
    pub timeout_s: i64,
    /// Checked after a successful deploy for `watch_s` seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_url: Option<String>,
    /// The post-deploy watch window: failing health checks (with `health_url`) or a page-level
    /// burn of one of the service's SLOs within it roll the deployment back.
    #[serde(default)]
    pub watch_s: i64,
    /// Failed health checks in a row that trigger the automatic rollback.
    #[serde(default = "TargetSettings::default_threshold")]
    pub failure_threshold: i64,
}

impl TargetSettings {
    pub const MAX_TIMEOUT_S: i64 = 24 * 3600;

    fn default_timeout() -> i64 {
        600
    }

    fn default_threshold() -> i64 {
        3
    }

    pub fn simulated() -> TargetSettings {
        TargetSettings {
            deployer: DeployerKind::Simulated,
            command: None,
            url: None,
            timeout_s: Self::default_timeout(),
            health_url: None,
            watch_s: 0,
            failure_threshold: Self::default_threshold(),
        }
    }

    /// Whether a successful deploy is followed by a health-check watch (the SLO burn trigger
    /// needs only `watch_s`).
    pub fn watches(&self) -> bool {
        self.health_url.is_some() && self.watch_s > 0
    }

    /// Trims, drops settings the deployer does not use, and checks every field.
    pub fn normalized(mut self) -> Result<TargetSettings, String> {
        self.command = non_blank(self.command);
        self.url = non_blank(self.url);
        self.health_url = non_blank(self.health_url);
        match self.deployer {
            DeployerKind::Command => {
                let command = self
                    .command
                    .as_deref()
                    .ok_or("The command deployer needs a \"command\" to run.")?;
                if command.len() > 4096 || command.contains('\0') {
                    return Err("The command must be at most 4096 bytes of text.".into());
                }
                self.url = None;
            }
            DeployerKind::Webhook => {
                crate::http_url::check(
                    "url",
                    self.url
                        .as_deref()
                        .ok_or("The webhook deployer needs a \"url\" to call.")?,
                )?;
                self.command = None;
            }
            DeployerKind::Simulated => {
                self.command = None;
                self.url = None;
            }
        }
        if !(1..=Self::MAX_TIMEOUT_S).contains(&self.timeout_s) {
            return Err(format!(
                "timeout_s must be from 1 to {} seconds.",
                Self::MAX_TIMEOUT_S
            ));
        }
        if let Some(url) = &self.health_url {
            crate::http_url::check("health_url", url)?;
        }
        if !(0..=7 * 24 * 3600).contains(&self.watch_s) {
            return Err("watch_s must be from 0 to 604800 seconds (a week).".into());
        }
        if !(1..=100).contains(&self.failure_threshold) {
            return Err("failure_threshold must be from 1 to 100.".into());
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<TargetSettings, String> {
        serde_json::from_str::<TargetSettings>(json)
            .map_err(|e| e.to_string())?
            .normalized()
    }

    #[test]
    fn each_deployer_needs_its_own_setting() {
        assert!(parse(r#"{"deployer":"command"}"#)
            .unwrap_err()
            .contains("command"));
        assert!(parse(r#"{"deployer":"webhook","url":"ftp://x"}"#)
            .unwrap_err()
            .contains("url"));
        let cmd =
            parse(r#"{"deployer":"command","command":" ./deploy.sh ","url":"http://x"}"#).unwrap();
        assert_eq!(cmd.command.as_deref(), Some("./deploy.sh"));
        assert_eq!(
            cmd.url, None,
            "settings the deployer does not use are dropped"
        );
        assert_eq!((cmd.timeout_s, cmd.failure_threshold), (600, 3));
        assert!(parse(r#"{"deployer":"simulated"}"#).is_ok());
        assert!(parse(r#"{"deployer":"ansible"}"#).is_err());
    }

    #[test]
    fn watch_windows_have_sane_bounds() {
        // Without a health URL, the window is watched by the service's SLOs only.
        let slo_only = parse(r#"{"deployer":"simulated","watch_s":60}"#).unwrap();
        assert!(!slo_only.watches());
        assert!(parse(r#"{"deployer":"simulated","watch_s":-1}"#).is_err());
        let watched = parse(
            r#"{"deployer":"simulated","watch_s":60,"health_url":"http://svc/healthz","failure_threshold":2}"#,
        )
        .unwrap();
        assert!(watched.watches());
        assert!(parse(r#"{"deployer":"simulated","timeout_s":0}"#).is_err());
        assert!(parse(r#"{"deployer":"simulated","failure_threshold":0}"#).is_err());
    }
}
