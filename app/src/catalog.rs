//! What Flightdeck deploys and where: services and the ordered environments they go through.
//! Shared by the server, the REST API and (later) the deployments pages; validation lives here so
//! every entry point refuses the same input with the same words.

use crate::text::non_blank;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub repo_url: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewService {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub repo_url: Option<String>,
}

/// Environments are ordered by `rank` (dev < staging < canary < production); promote moves a
/// release to the next rank. Protected ones ask for a typed confirmation in the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    pub id: i64,
    pub name: String,
    pub rank: i64,
    pub protected: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEnvironment {
    pub name: String,
    pub rank: i64,
    #[serde(default)]
    pub protected: bool,
}

/// Service and environment names end up in URLs, environment variables of deploy commands and
/// log lines, so they are kept to lowercase slugs.
pub fn validate_slug(what: &str, name: &str) -> Result<(), String> {
    let ok = (1..=63).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what} name '{name}' must be 1 to 63 lowercase letters, digits or '-', starting with a letter and not ending with '-'."
        ))
    }
}

pub(crate) fn validate_text(what: &str, value: &Option<String>, max: usize) -> Result<(), String> {
    match value {
        Some(v) if v.chars().count() > max => {
            Err(format!("{what} must be at most {max} characters."))
        }
        Some(v) if v.chars().any(char::is_control) => {
            Err(format!("{what} must be a single line of text."))
        }
        _ => Ok(()),
    }
}

impl NewService {
    /// Trims optional fields (an empty one counts as absent) and checks every field.
    pub fn normalized(mut self) -> Result<NewService, String> {
        self.name = self.name.trim().to_string();
        self.description = non_blank(self.description);
        self.owner = non_blank(self.owner);
        self.repo_url = non_blank(self.repo_url);
        validate_slug("Service", &self.name)?;
        validate_text("Description", &self.description, 500)?;
        validate_text("Owner", &self.owner, 100)?;
        validate_text("Repository URL", &self.repo_url, 2048)?;
        if let Some(url) = &self.repo_url {
            let web = url.starts_with("https://") || url.starts_with("http://");
            if web {
                crate::http_url::check("Repository URL", url)?;
                // Everyone who may read services sees it, and the audit trail keeps it: a
                // clone address with its token is refused, a token in its query dropped.
                if crate::redact::has_user_info(url) {
                    return Err("Repository URL must not carry a user name or token (https://user:token@host): everyone who can read services sees it. Enter the address without it.".into());
                }
                self.repo_url = Some(crate::redact::without_credentials(url));
            } else if !(url.starts_with("ssh://") || url.starts_with("git@")) {
                return Err(
                    "Repository URL must start with https://, http://, ssh:// or git@.".into(),
                );
            }
        }
        Ok(self)
    }
}

impl NewEnvironment {
    pub fn normalized(mut self) -> Result<NewEnvironment, String> {
        self.name = self.name.trim().to_string();
        validate_slug("Environment", &self.name)?;
        if !(0..=1_000_000).contains(&self.rank) {
            return Err("Environment rank must be a whole number from 0 to 1000000.".into());
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_and_bounded() {
        for ok in ["checkout-api", "a", "prod2"] {
            assert!(validate_slug("Service", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Checkout",
            "2fast",
            "trailing-",
            "has space",
            "x_y",
            &"a".repeat(64),
        ] {
            assert!(validate_slug("Service", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn services_are_trimmed_and_checked() {
        let s = NewService {
            name: " checkout ".into(),
            description: Some("  ".into()),
            owner: Some(" payments ".into()),
            repo_url: Some("https://git.example.com/pay/checkout".into()),
        }
        .normalized()
        .unwrap();
        assert_eq!(s.name, "checkout");
        assert_eq!(s.description, None);
        assert_eq!(s.owner.as_deref(), Some("payments"));
        let bad_url = NewService {
            name: "x".into(),
            description: None,
            owner: None,
            repo_url: Some("javascript:alert(1)".into()),
        };
        assert!(bad_url.normalized().unwrap_err().contains("Repository URL"));
        let with_secret = |url: &str| NewService {
            name: "x".into(),
            description: None,
            owner: None,
            repo_url: Some(url.into()),
        };
        let refused = with_secret("https://ghp_t0ken@github.com/pay/checkout")
            .normalized()
            .unwrap_err();
        assert!(refused.contains("must not carry"), "{refused}");
        let kept = with_secret("https://gitlab.example/pay/checkout?private_token=abc&ref=main")
            .normalized()
            .unwrap();
        assert_eq!(
            kept.repo_url.as_deref(),
            Some("https://gitlab.example/pay/checkout?ref=main")
        );
        let multiline = NewService {
            name: "x".into(),
            description: Some("a\nb".into()),
            owner: None,
            repo_url: None,
        };
        assert!(multiline.normalized().is_err());
    }

    #[test]
    fn environment_ranks_are_bounded() {
        let env = |rank| NewEnvironment {
            name: "prod".into(),
            rank,
            protected: true,
        };
        assert!(env(40).normalized().is_ok());
        assert!(env(-1).normalized().is_err());
        assert!(env(1_000_001).normalized().is_err());
    }
}
