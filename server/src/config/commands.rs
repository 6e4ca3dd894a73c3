//! The command-line grammar: `flightdeck serve | migrate | user | token | ...`, each flag with
//! the `FLIGHTDECK_*` variable it can come from.

use clap::{Args, Parser, Subcommand};

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
    /// Back-fill builds from the GitHub Actions runs read from standard input.
    ///
    /// Pipe in what GitHub's API lists: `gh api --paginate
    /// "repos/OWNER/REPO/actions/runs?per_page=100" | flightdeck import-github-runs`. Each run is
    /// stored as its webhook delivery would store it, so later deliveries update those builds.
    ImportGithubRuns {
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Back-fill builds from the GitLab pipelines read from standard input.
    ///
    /// Pipe in what GitLab's API lists: `glab api --paginate
    /// "projects/ID/pipelines?per_page=100" | flightdeck import-gitlab-pipelines --project
    /// GROUP/NAME`, or single pipelines (`projects/ID/pipelines/PIPELINE`), which also say who
    /// started each, its duration and coverage. Each pipeline is stored as its Pipeline Hook
    /// delivery would store it, so later deliveries update those builds.
    ImportGitlabPipelines {
        /// The project's path, as its hook names it (`path_with_namespace`): the list gives
        /// only its numeric id.
        #[arg(long, value_name = "GROUP/NAME")]
        project: String,
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
