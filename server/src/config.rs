//! Command line and environment. Every setting can come from a `FLIGHTDECK_*` variable; values are
//! read as text and checked together by [`ServeArgs::validate`], so a misconfigured start reports
//! every problem at once instead of one per restart.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "flightdeck",
    version,
    about = "Self-hosted ops cockpit: deploy, watch, roll back, see production's health"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (UI, REST API, websocket).
    Serve(ServeArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens for machines.
    #[command(subcommand)]
    Token(TokenCommand),
    /// What runs where: every service x environment with version, status and age.
    Ps(RemoteArgs),
    /// Deploy VERSION of SERVICE to ENVIRONMENT and follow it until it ends.
    Deploy {
        service: String,
        environment: String,
        version: String,
        /// Why, for the audit trail.
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        artifact: Option<String>,
        #[arg(long)]
        git_sha: Option<String>,
        /// Wait behind a deployment that is still running instead of being refused.
        #[arg(long)]
        queue: bool,
        /// The environment's name again: required when it is protected.
        #[arg(long)]
        confirm: Option<String>,
        /// Return once the deployment is queued.
        #[arg(long)]
        no_wait: bool,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Roll SERVICE in ENVIRONMENT back to the last good version (or --to VERSION).
    Rollback {
        service: String,
        environment: String,
        #[arg(long = "to")]
        to_version: Option<String>,
        /// What went wrong; required, it goes on the audit trail.
        #[arg(long)]
        reason: String,
        /// The environment's name again: required when it is protected.
        #[arg(long)]
        confirm: Option<String>,
        #[arg(long)]
        no_wait: bool,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Recent deployments of SERVICE (optionally in one ENVIRONMENT), newest first.
    History {
        service: String,
        environment: Option<String>,
        #[arg(long, default_value = "20")]
        limit: u32,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// The log of a deployment; --follow keeps printing until it ends.
    Logs {
        id: i64,
        #[arg(long)]
        follow: bool,
        #[command(flatten)]
        remote: RemoteArgs,
    },
}

/// Where the server the client commands talk to runs, and the token they use.
#[derive(Debug, Clone, Args)]
pub struct RemoteArgs {
    #[arg(long, env = "FLIGHTDECK_URL", default_value = "http://127.0.0.1:3000")]
    pub url: String,
    /// An API token, from `flightdeck token create` or the settings page.
    #[arg(long, env = "FLIGHTDECK_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        /// viewer, operator or admin.
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input (required: passwords never go
        /// on the command line, where `ps` and shell history would keep them).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Disable an account: its sessions stop working and the tokens it created are revoked.
    Disable {
        #[command(flatten)]
        account: Account,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Enable a disabled account again.
    Enable {
        #[command(flatten)]
        account: Account,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Change an account's role.
    SetRole {
        #[command(flatten)]
        account: Account,
        /// viewer, operator or admin.
        #[arg(long)]
        role: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Set a new password, read from the first line of standard input.
    ResetPassword {
        #[command(flatten)]
        account: Account,
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

/// The account a `user` command changes, named either way people type it: `--username U`
/// (as `user add` takes it) or just `U`.
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct Account {
    /// The account's user name.
    #[arg(long = "username", value_name = "USERNAME")]
    flag: Option<String>,
    /// The account's user name.
    #[arg(value_name = "USERNAME")]
    positional: Option<String>,
}

impl Account {
    pub fn username(&self) -> &str {
        self.flag
            .as_deref()
            .or(self.positional.as_deref())
            .unwrap_or_default()
    }
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token and print it once.
    Create {
        #[arg(long)]
        name: String,
        /// viewer, operator or admin; with --scope, defaults to the least the scopes need.
        #[arg(long)]
        role: Option<String>,
        /// Limit the token to what this scope allows (repeatable): alerts:write, builds:write,
        /// flags:evaluate, deploy, read.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// The environment whose feature-flag settings the token evaluates when the context
        /// names none.
        #[arg(long)]
        environment: Option<String>,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// `sqlite://path/to/file.db` (the default, under ./data) or `postgres://user:pass@host/db`.
    #[arg(
        long,
        env = "FLIGHTDECK_DATABASE_URL",
        default_value = "sqlite://data/flightdeck.db",
        hide_env_values = true
    )]
    pub database_url: String,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "FLIGHTDECK_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: String,
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Log format: `text` for people, `json` for log pipelines.
    #[arg(long, env = "FLIGHTDECK_LOG_FORMAT", default_value = "text")]
    pub log_format: String,
    /// Password for the `admin` user created on first start; a random one is printed otherwise.
    #[arg(long, env = "FLIGHTDECK_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// The address users reach Flightdeck at (e.g. `https://deck.example.com`). When it is https,
    /// session cookies are marked Secure, and its origin is trusted for writes.
    #[arg(long, env = "FLIGHTDECK_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Extra origins allowed to make cookie-authenticated writes, comma separated (for example the
    /// Trunk dev server, `http://127.0.0.1:8080`).
    #[arg(long, env = "FLIGHTDECK_ALLOWED_ORIGINS", default_value = "")]
    pub allowed_origins: String,
    /// Reverse proxies whose `X-Forwarded-For` is believed, as CIDRs, comma separated (for
    /// example `127.0.0.1,10.0.0.0/8`). Without it the header is ignored and the TCP peer is
    /// the client (sign-in throttling keys on it).
    #[arg(long, env = "FLIGHTDECK_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
    /// Folder holding the built site (`pkg/`, icons, manifest) from `cargo leptos build`.
    #[arg(long, env = "FLIGHTDECK_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
    /// Hours of inactivity after which a session ends.
    #[arg(long, env = "FLIGHTDECK_SESSION_IDLE_HOURS", default_value = "12")]
    pub session_idle_hours: String,
    /// Hours after sign-in at which a session ends however active it is (1 to 8760).
    #[arg(long, env = "FLIGHTDECK_SESSION_MAX_HOURS", default_value_t = 168)]
    pub session_max_hours: u64,
    /// Fill an empty database with realistic demo data.
    #[arg(long, env = "FLIGHTDECK_DEMO")]
    pub demo: bool,
    /// Secret of the GitHub webhook (checks `X-Hub-Signature-256`); GitHub deliveries are
    /// refused while it is unset.
    #[arg(long, env = "FLIGHTDECK_GITHUB_WEBHOOK_SECRET", hide_env_values = true)]
    pub github_webhook_secret: Option<String>,
    /// Secret token of the GitLab webhook (checks `X-Gitlab-Token`).
    #[arg(long, env = "FLIGHTDECK_GITLAB_WEBHOOK_TOKEN", hide_env_values = true)]
    pub gitlab_webhook_token: Option<String>,
    /// Key the `webhook` deployer signs its requests with (`X-Flightdeck-Signature-256`);
    /// webhook targets cannot be configured without it.
    #[arg(
        long,
        env = "FLIGHTDECK_DEPLOYER_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    pub deployer_webhook_secret: Option<String>,
    /// SMTP server for email notifications: `smtp://user:pass@host:25` (plain or STARTTLS when
    /// offered), `smtps://...` (TLS). Email channels fail with a clear error while it is unset.
    #[arg(long, env = "FLIGHTDECK_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender address of email notifications.
    #[arg(
        long,
        env = "FLIGHTDECK_SMTP_FROM",
        default_value = "flightdeck@localhost"
    )]
    pub smtp_from: String,
    /// Prometheus base URL (e.g. `http://127.0.0.1:9090`) for PromQL probes and SLIs.
    #[arg(long, env = "FLIGHTDECK_PROMETHEUS_URL")]
    pub prometheus_url: Option<String>,
    /// Days a resolved alert is kept, with its history and notifications (1 to 3650).
    #[arg(long, env = "FLIGHTDECK_ALERT_RETENTION_DAYS", default_value_t = 90)]
    pub alert_retention_days: u32,
    /// The longest a silence may last, in days (1 to 365): a forgotten silence hides alerts for
    /// no longer than this.
    #[arg(long, env = "FLIGHTDECK_SILENCE_MAX_DAYS", default_value_t = 30)]
    pub silence_max_days: u32,
    /// Seconds a client has to send a request's headers (1 to 300); a slower one is cut off.
    #[arg(long, env = "FLIGHTDECK_HEADER_TIMEOUT_S", default_value_t = 10)]
    pub header_timeout_s: u64,
    /// Connections open at once (1 to 1,000,000); more wait until one closes.
    #[arg(long, env = "FLIGHTDECK_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
    /// Seconds from SIGTERM to exit (1 to 3600): requests in flight and running deployments get
    /// this long to finish; a deployment still running then is stopped and recorded failed.
    /// Keep it below the supervisor's own limit (Kubernetes waits 30 s before SIGKILL).
    #[arg(long, env = "FLIGHTDECK_SHUTDOWN_TIMEOUT_S", default_value_t = 25)]
    pub shutdown_timeout_s: u64,
    /// Seconds a replica's claim on a running deployment lasts without renewal (2 to 600): how
    /// soon another replica finds a deployment whose process died and records it failed.
    #[arg(long, env = "FLIGHTDECK_JOB_LEASE_S", default_value_t = 30)]
    pub job_lease_s: u64,
}

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

fn origin_of(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

impl ServeArgs {
    /// Checks every setting and returns all problems found, each saying what to change.
    pub fn validate(&self) -> Result<ServeConfig, Vec<String>> {
        let mut problems = Vec::new();
        let addr = self
            .addr
            .parse::<SocketAddr>()
            .map_err(|_| {
                problems.push(format!(
                    "FLIGHTDECK_ADDR '{}' is not host:port, e.g. 127.0.0.1:3000",
                    self.addr
                ))
            })
            .ok();
        if let Err(p) = check_database_url(&self.db.database_url) {
            problems.push(p);
        }
        let log_format = match self.log_format.as_str() {
            "text" => Some(LogFormat::Text),
            "json" => Some(LogFormat::Json),
            other => {
                problems.push(format!(
                    "FLIGHTDECK_LOG_FORMAT must be text or json (got '{other}')"
                ));
                None
            }
        };
        if let Some(p) = &self.admin_password {
            if let Err(e) = app::model::validate_password(p) {
                problems.push(format!("FLIGHTDECK_ADMIN_PASSWORD: {e}"));
            }
        }
        let mut allowed_origins = Vec::new();
        let mut secure_cookies = false;
        if let Some(raw) = self.public_url.as_deref().filter(|s| !s.is_empty()) {
            match url::Url::parse(raw) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => {
                    secure_cookies = u.scheme() == "https";
                    allowed_origins.push(origin_of(&u));
                }
                _ => problems.push(format!(
                    "FLIGHTDECK_PUBLIC_URL '{raw}' is not an http(s) URL"
                )),
            }
        }
        for raw in self
            .allowed_origins
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            match url::Url::parse(raw) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                    allowed_origins.push(origin_of(&u))
                }
                _ => problems.push(format!(
                    "FLIGHTDECK_ALLOWED_ORIGINS entry '{raw}' is not an origin like http://127.0.0.1:8080"
                )),
            }
        }
        let trusted_proxies = crate::auth::proxies::parse_list(&self.trusted_proxies)
            .unwrap_or_else(|e| {
                problems.push(format!("FLIGHTDECK_TRUSTED_PROXIES: {e}"));
                Vec::new()
            });
        if !(1..=8760).contains(&self.session_max_hours) {
            problems.push(format!(
                "FLIGHTDECK_SESSION_MAX_HOURS must be from 1 to 8760 (got {})",
                self.session_max_hours
            ));
        }
        let session_idle = match self.session_idle_hours.parse::<u64>() {
            Ok(h) if (1..=24 * 30).contains(&h) => Some(Duration::from_secs(h * 3600)),
            _ => {
                problems.push(format!(
                    "FLIGHTDECK_SESSION_IDLE_HOURS must be a whole number from 1 to 720 (got '{}')",
                    self.session_idle_hours
                ));
                None
            }
        };
        let mut secret = |name: &str, value: &Option<String>| {
            let value = value.as_deref().filter(|v| !v.is_empty())?;
            if value.len() < 16 {
                problems.push(format!(
                    "{name} is shorter than 16 characters; use a long random value (e.g. openssl rand -hex 32)"
                ));
            }
            Some(value.to_string())
        };
        let webhooks = WebhookSecrets {
            github: secret(
                "FLIGHTDECK_GITHUB_WEBHOOK_SECRET",
                &self.github_webhook_secret,
            ),
            gitlab: secret(
                "FLIGHTDECK_GITLAB_WEBHOOK_TOKEN",
                &self.gitlab_webhook_token,
            ),
            deployer: secret(
                "FLIGHTDECK_DEPLOYER_WEBHOOK_SECRET",
                &self.deployer_webhook_secret,
            ),
        };
        let alerting = self.alerting(addr, &mut problems);
        let site_root = PathBuf::from(&self.site_root);
        let bundle = site_root.join("pkg").join("flightdeck.wasm");
        if !bundle.is_file() {
            problems.push(format!(
                "{} is missing: build the site with `cargo leptos build --release`, or point FLIGHTDECK_SITE_ROOT at a built site",
                bundle.display()
            ));
        }
        if !(1..=300).contains(&self.header_timeout_s) {
            problems.push(format!(
                "FLIGHTDECK_HEADER_TIMEOUT_S must be from 1 to 300 seconds (got {})",
                self.header_timeout_s
            ));
        }
        if !(1..=1_000_000).contains(&self.max_connections) {
            problems.push(format!(
                "FLIGHTDECK_MAX_CONNECTIONS must be from 1 to 1000000 (got {})",
                self.max_connections
            ));
        }
        if !(1..=3600).contains(&self.shutdown_timeout_s) {
            problems.push(format!(
                "FLIGHTDECK_SHUTDOWN_TIMEOUT_S must be from 1 to 3600 seconds (got {})",
                self.shutdown_timeout_s
            ));
        }
        if !(2..=600).contains(&self.job_lease_s) {
            problems.push(format!(
                "FLIGHTDECK_JOB_LEASE_S must be from 2 to 600 seconds (got {})",
                self.job_lease_s
            ));
        }
        match (addr, log_format, session_idle, problems.is_empty()) {
            (Some(addr), Some(log_format), Some(session_idle), true) => Ok(ServeConfig {
                addr,
                database_url: self.db.database_url.clone(),
                log_format,
                admin_password: self.admin_password.clone(),
                site_root,
                demo: self.demo,
                web: WebConfig {
                    deploy: crate::deploy::DeploySettings {
                        lease: Duration::from_secs(self.job_lease_s),
                        ..Default::default()
                    },
                    webhooks,
                    alerting,
                    secure_cookies,
                    allowed_origins,
                    session_idle,
                    session_max: Duration::from_secs(self.session_max_hours * 3600),
                    trusted_proxies,
                },
                limits: crate::serve::Limits {
                    header_read_timeout: Duration::from_secs(self.header_timeout_s),
                    max_connections: self.max_connections,
                    shutdown_timeout: Duration::from_secs(self.shutdown_timeout_s),
                },
            }),
            _ => Err(problems),
        }
    }
}

impl ServeArgs {
    fn alerting(&self, addr: Option<SocketAddr>, problems: &mut Vec<String>) -> AlertingSettings {
        let public_url = match (self.public_url.as_deref().filter(|s| !s.is_empty()), addr) {
            (Some(url), _) => url.trim_end_matches('/').to_string(),
            (None, Some(addr)) => format!("http://{addr}"),
            (None, None) => String::new(),
        };
        let smtp_url = self.smtp_url.clone().filter(|s| !s.is_empty());
        if let Some(raw) = &smtp_url {
            // Never echo the URL: it may carry the SMTP password.
            match url::Url::parse(raw) {
                Ok(u) if matches!(u.scheme(), "smtp" | "smtps") && u.host().is_some() => {}
                _ => problems.push(
                    "FLIGHTDECK_SMTP_URL is not an smtp:// or smtps:// URL with a host".into(),
                ),
            }
        }
        if !self.smtp_from.contains('@') {
            problems.push(format!(
                "FLIGHTDECK_SMTP_FROM '{}' is not an email address",
                self.smtp_from
            ));
        }
        let prometheus_url = self.prometheus_url.clone().filter(|s| !s.is_empty());
        if let Some(raw) = &prometheus_url {
            if !matches!(url::Url::parse(raw), Ok(u) if matches!(u.scheme(), "http" | "https")) {
                problems.push(format!(
                    "FLIGHTDECK_PROMETHEUS_URL '{raw}' is not an http(s) URL"
                ));
            }
        }
        if !(1..=3650).contains(&self.alert_retention_days) {
            problems.push(format!(
                "FLIGHTDECK_ALERT_RETENTION_DAYS {} is not between 1 and 3650",
                self.alert_retention_days
            ));
        }
        if !(1..=365).contains(&self.silence_max_days) {
            problems.push(format!(
                "FLIGHTDECK_SILENCE_MAX_DAYS {} is not between 1 and 365",
                self.silence_max_days
            ));
        }
        AlertingSettings {
            alert_retention: Duration::from_secs(u64::from(self.alert_retention_days) * 86_400),
            silence_max: Duration::from_secs(u64::from(self.silence_max_days) * 86_400),
            public_url,
            smtp_url,
            smtp_from: self.smtp_from.clone(),
            prometheus_url: prometheus_url.map(|u| u.trim_end_matches('/').to_string()),
            ..AlertingSettings::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> ServeArgs {
        let mut argv = vec!["flightdeck", "serve"];
        argv.extend_from_slice(extra);
        match Cli::parse_from(argv).command {
            Command::Serve(a) => a,
            _ => unreachable!(),
        }
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let problems = args(&[
            "--addr",
            "nowhere",
            "--database-url",
            "mysql://x",
            "--log-format",
            "xml",
            "--admin-password",
            "short",
            "--public-url",
            "ftp://x",
            "--allowed-origins",
            "not a url",
            "--session-idle-hours",
            "0",
            "--site-root",
            "/nonexistent",
            "--alert-retention-days",
            "0",
        ])
        .validate()
        .unwrap_err();
        assert_eq!(problems.len(), 9, "{problems:#?}");
        assert!(problems
            .iter()
            .any(|p| p.contains("FLIGHTDECK_ALERT_RETENTION_DAYS")));
        assert!(problems.iter().any(|p| p.contains("FLIGHTDECK_ADDR")));
        assert!(problems.iter().any(|p| p.contains("cargo leptos build")));
    }

    proptest::proptest! {
        /// Whichever settings are wrong, start-up names each of them, all at once.
        #[test]
        fn start_up_reports_exactly_the_wrong_settings(wrong in proptest::collection::vec(proptest::bool::ANY, 8)) {
            let bad: [(&str, &str, &str); 8] = [
                ("--addr", "nowhere", "FLIGHTDECK_ADDR"),
                ("--database-url", "mysql://x", "FLIGHTDECK_DATABASE_URL"),
                ("--log-format", "xml", "FLIGHTDECK_LOG_FORMAT"),
                ("--admin-password", "short", "FLIGHTDECK_ADMIN_PASSWORD"),
                ("--public-url", "ftp://x", "FLIGHTDECK_PUBLIC_URL"),
                ("--allowed-origins", "not a url", "FLIGHTDECK_ALLOWED_ORIGINS"),
                ("--session-idle-hours", "0", "FLIGHTDECK_SESSION_IDLE_HOURS"),
                ("--alert-retention-days", "0", "FLIGHTDECK_ALERT_RETENTION_DAYS"),
            ];
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join("pkg")).unwrap();
            std::fs::write(dir.path().join("pkg/flightdeck.wasm"), b"").unwrap();
            let mut argv = vec!["--site-root", dir.path().to_str().unwrap()];
            for ((flag, value, _), on) in bad.iter().zip(&wrong) {
                if *on {
                    argv.extend([*flag, *value]);
                }
            }
            let expected: Vec<&str> = bad.iter().zip(&wrong).filter(|(_, on)| **on).map(|((_, _, name), _)| *name).collect();
            match args(&argv).validate() {
                Ok(_) => proptest::prop_assert!(expected.is_empty()),
                Err(problems) => {
                    proptest::prop_assert_eq!(problems.len(), expected.len(), "{:#?}", problems);
                    for name in expected {
                        proptest::prop_assert!(problems.iter().any(|p| p.contains(name)), "{} not named: {:#?}", name, problems);
                    }
                }
            }
        }
    }

    #[test]
    fn a_good_configuration_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("pkg")).unwrap();
        std::fs::write(dir.path().join("pkg/flightdeck.wasm"), b"").unwrap();
        let cfg = args(&[
            "--public-url",
            "https://deck.example.com/",
            "--allowed-origins",
            "http://127.0.0.1:8080",
            "--site-root",
            dir.path().to_str().unwrap(),
        ])
        .validate()
        .unwrap();
        assert!(cfg.web.secure_cookies);
        assert_eq!(
            cfg.web.allowed_origins,
            ["https://deck.example.com", "http://127.0.0.1:8080"]
        );
        assert_eq!(cfg.log_format, LogFormat::Text);
    }
}
