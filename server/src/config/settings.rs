//! A checked configuration, as the server uses it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Where alert notifications go out and link back to, where PromQL runs, how often SLOs are
/// evaluated.
#[derive(Clone)]
pub struct AlertingSettings {
    /// The address notifications link to (`FLIGHTDECK_PUBLIC_URL`, else the listen address).
    pub public_url: String,
    /// `FLIGHTDECK_SMTP_URL`; may hold a password, so Debug output says only whether it is set.
    pub smtp_url: Option<String>,
    pub smtp_from: String,
    pub prometheus_url: Option<String>,
    pub slo_interval: Duration,
    /// How long resolved alerts are kept.
    pub alert_retention: Duration,
    /// The longest a silence may last.
    pub silence_max: Duration,
}

impl Default for AlertingSettings {
    fn default() -> Self {
        AlertingSettings {
            public_url: "http://127.0.0.1:3000".into(),
            smtp_url: None,
            smtp_from: "flightdeck@localhost".into(),
            prometheus_url: None,
            slo_interval: Duration::from_secs(30),
            alert_retention: Duration::from_secs(90 * 86_400),
            silence_max: Duration::from_secs(30 * 86_400),
        }
    }
}

impl std::fmt::Debug for AlertingSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertingSettings")
            .field("public_url", &self.public_url)
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "set"))
            .field("smtp_from", &self.smtp_from)
            .field("prometheus_url", &self.prometheus_url)
            .field("slo_interval", &self.slo_interval)
            .field("alert_retention", &self.alert_retention)
            .finish()
    }
}

/// Shared secrets of the CI/CD integrations. Debug output says only whether each is set.
#[derive(Clone, Default)]
pub struct WebhookSecrets {
    pub github: Option<String>,
    pub gitlab: Option<String>,
    pub deployer: Option<String>,
}

impl std::fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |s: &Option<String>| if s.is_some() { "set" } else { "unset" };
        f.debug_struct("WebhookSecrets")
            .field("github", &set(&self.github))
            .field("gitlab", &set(&self.gitlab))
            .field("deployer", &set(&self.deployer))
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Settings the web layer and the deploy engine need, checked.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Job lease and health-check timing of the deploy engine.
    pub deploy: crate::deploy::DeploySettings,
    pub webhooks: WebhookSecrets,
    /// Notification channels, links in notifications, Prometheus.
    pub alerting: AlertingSettings,
    /// Session cookies carry `Secure` (served over https).
    pub secure_cookies: bool,
    /// Origins besides the request's own host allowed to make cookie-authenticated writes.
    pub allowed_origins: Vec<String>,
    pub session_idle: Duration,
    /// A session ends this long after its sign-in, however active.
    pub session_max: Duration,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<crate::auth::proxies::Cidr>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            deploy: Default::default(),
            webhooks: Default::default(),
            alerting: AlertingSettings::default(),
            secure_cookies: false,
            allowed_origins: Vec::new(),
            session_idle: Duration::from_secs(12 * 3600),
            session_max: Duration::from_secs(168 * 3600),
            trusted_proxies: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub addr: SocketAddr,
    pub database_url: String,
    pub log_format: LogFormat,
    pub admin_password: Option<String>,
    pub site_root: PathBuf,
    pub demo: bool,
    pub web: WebConfig,
    /// Header deadline and connection cap of the server loop.
    pub limits: crate::serve::Limits,
}

pub fn check_database_url(url: &str) -> Result<(), String> {
    if url.starts_with("sqlite:")
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://")
    {
        Ok(())
    } else {
        Err(format!(
            "FLIGHTDECK_DATABASE_URL must start with sqlite: or postgres:// (got '{}')",
            url.split(':').next().unwrap_or("")
        ))
    }
}
