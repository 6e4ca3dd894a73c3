//! The CI/CD webhook secrets as the settings page shows them: where each comes from, never its
//! value.

use serde::{Deserialize, Serialize};

/// The sources whose secret can be set on the settings page.
pub const SOURCES: [&str; 2] = ["github", "gitlab"];

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_single_lines() {
        assert!(validate_secret("0123456789abcdef").is_ok());
        assert!(validate_secret("short").is_err());
        assert!(validate_secret("0123456789abcdef\n").is_err());
    }
}
