//! The operations the UI needs from the server, as traits. `server` implements them (with the
//! database, the session store and the event bus) and provides a [`Ports`] as Leptos context; the
//! REST handlers call the very same implementations, so the UI, the CLI and the API cannot
//! disagree. Compiled only with `ssr`.

use crate::catalog::{Environment, NewEnvironment, NewService, Service};
use crate::deploy::*;
use crate::error::AppError;
use crate::health::alert::*;
use crate::health::escalation::*;
use crate::model::*;
use async_trait::async_trait;
use http::request::Parts;
use std::sync::Arc;

#[async_trait]
pub trait AccountsPort: Send + Sync + 'static {
    /// Checks the credentials, starts a fresh session (new id) on the request's session and
    /// records the sign-in. Wrong credentials and unknown users fail alike.
    async fn sign_in(
        &self,
        request: &Parts,
        username: &str,
        password: &str,
    ) -> Result<Principal, AppError>;
    async fn sign_out(&self, request: &Parts) -> Result<(), AppError>;
    async fn list_users(&self) -> Result<Vec<UserSummary>, AppError>;
    async fn create_user(
        &self,
        actor: &Principal,
        username: &str,
        role: Role,
        password: &str,
    ) -> Result<UserSummary, AppError>;
    /// Disables or enables an account, changes its role, or sets its password.
    async fn update_user(
        &self,
        actor: &Principal,
        username: &str,
        change: UserChange,
    ) -> Result<UserSummary, AppError>;
    async fn list_tokens(&self) -> Result<Vec<TokenSummary>, AppError>;
    async fn create_token(
        &self,
        actor: &Principal,
        name: &str,
        role: Role,
        limits: TokenLimits,
    ) -> Result<NewToken, AppError>;
    async fn revoke_token(&self, actor: &Principal, id: i64) -> Result<(), AppError>;
}

#[async_trait]
pub trait AuditPort: Send + Sync + 'static {
    async fn list(&self, query: &AuditQuery) -> Result<AuditPage, AppError>;
}

#[async_trait]
pub trait CatalogPort: Send + Sync + 'static {
    async fn list_services(&self) -> Result<Vec<Service>, AppError>;
    async fn create_service(&self, actor: &Principal, new: NewService)
        -> Result<Service, AppError>;
    /// Ordered by rank, lowest (first in the pipeline) first.
    async fn list_environments(&self) -> Result<Vec<Environment>, AppError>;
    async fn create_environment(
        &self,
        actor: &Principal,
        new: NewEnvironment,
    ) -> Result<Environment, AppError>;
}

/// Deployments: what the deployments pages read and the actions they offer. Authorization is
/// the caller's job (server function or REST handler); these check input and state.
#[async_trait]
pub trait DeploymentsPort: Send + Sync + 'static {
    async fn status(&self) -> Result<Vec<StatusCell>, AppError>;
    async fn list(&self, query: &DeploymentQuery) -> Result<DeploymentPage, AppError>;
    async fn get(&self, id: i64) -> Result<Deployment, AppError>;
    async fn logs(&self, id: i64, after: i64, limit: i64) -> Result<Vec<LogLine>, AppError>;
    async fn releases(&self, service: &str) -> Result<Vec<Release>, AppError>;
    async fn quarantines(&self) -> Result<Vec<Quarantine>, AppError>;
    async fn deploy(&self, who: &Initiator, request: DeployRequest) -> Result<Accepted, AppError>;
    async fn rollback(
        &self,
        who: &Initiator,
        request: RollbackRequest,
    ) -> Result<Accepted, AppError>;
    async fn promote(&self, who: &Initiator, request: PromoteRequest)
        -> Result<Accepted, AppError>;
    async fn cancel(&self, who: &Initiator, id: i64) -> Result<Deployment, AppError>;
    /// What a rollback there would do, and the versions a person may choose.
    async fn rollback_options(
        &self,
        service: &str,
        environment: &str,
    ) -> Result<crate::deploy::rollback::RollbackOptions, AppError>;
    /// A person saw a failed deployment; the matrix shows what still serves.
    async fn dismiss(&self, who: &Initiator, id: i64) -> Result<Deployment, AppError>;
    async fn lift_quarantine(
        &self,
        actor: &Principal,
        service: &str,
        environment: &str,
        version: &str,
    ) -> Result<(), AppError>;
}

/// Feature flags. Authorization is the caller's job; these check input.
#[async_trait]
pub trait FlagsPort: Send + Sync + 'static {
    async fn list(&self) -> Result<Vec<crate::flags::Flag>, AppError>;
    async fn get(&self, key: &str) -> Result<crate::flags::Flag, AppError>;
    /// Newest first; with `before`, only the changes before that one (by id).
    async fn history(
        &self,
        key: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<crate::flags::FlagChange>, AppError>;
    /// Changes the fields `change` names (a whole flag replaces it).
    async fn change(
        &self,
        actor: &Principal,
        key: &str,
        change: serde_json::Value,
        reason: Option<&str>,
    ) -> Result<crate::flags::Flag, AppError>;
    /// One entry of the flag's history (404 when the flag has none with that id).
    async fn history_entry(
        &self,
        key: &str,
        change_id: i64,
    ) -> Result<crate::flags::FlagChange, AppError>;
    /// Puts back the settings history entry `change_id` left, as a new version, when the flag is
    /// still at `expected_version` (409 otherwise).
    async fn restore(
        &self,
        actor: &Principal,
        key: &str,
        change_id: i64,
        expected_version: Option<i64>,
        reason: Option<&str>,
    ) -> Result<crate::flags::Flag, AppError>;
}

/// Runtime configuration. Reads mask sensitive values; authorization is the caller's job.
#[async_trait]
pub trait ConfigPort: Send + Sync + 'static {
    /// 404 unless `environment` is `all` or an environment's name.
    async fn check_scope(&self, environment: &str) -> Result<(), AppError>;
    /// Every stored value; with `environment`, its own and those for all.
    async fn entries(
        &self,
        environment: Option<&str>,
    ) -> Result<Vec<crate::runtime_config::ConfigEntry>, AppError>;
    /// Sets a value; `sensitive: None` keeps what the key has. Answers whether it is new.
    async fn set_value(
        &self,
        actor: &Principal,
        environment: &str,
        key: &str,
        value: serde_json::Value,
        sensitive: Option<bool>,
        reason: Option<String>,
    ) -> Result<(crate::runtime_config::ConfigEntry, bool), AppError>;
    async fn delete_value(
        &self,
        actor: &Principal,
        environment: &str,
        key: &str,
        reason: Option<&str>,
    ) -> Result<(), AppError>;
    async fn value_history(
        &self,
        key: &str,
        environment: &str,
    ) -> Result<Vec<crate::runtime_config::ConfigChange>, AppError>;
    /// Undoes change `change_id`: the value before it comes back (or the key goes).
    async fn restore_value(
        &self,
        actor: &Principal,
        environment: &str,
        key: &str,
        change_id: i64,
    ) -> Result<(), AppError>;
}

/// CI builds and the failure predictor, for the pages.
#[async_trait]
pub trait BuildsPort: Send + Sync + 'static {
    /// Newest first, with the cursor of the next page.
    async fn list(
        &self,
        query: &crate::builds::BuildQuery,
    ) -> Result<(Vec<crate::builds::Build>, Option<i64>), AppError>;
    /// The outcomes of the builds started since `since` (Unix ms), oldest first.
    async fn outcomes_since(
        &self,
        since: i64,
        pipeline: Option<&str>,
    ) -> Result<Vec<crate::builds::BuildOutcome>, AppError>;
    /// Every build of any of `commits` (lowercase, 7 to 40 digits; a build's sha may be the
    /// longer or the shorter), newest first, and perhaps others that share a commit's first
    /// seven digits: match whole shas with [`crate::builds::commit::same_commit`].
    async fn of_commits(&self, commits: &[String]) -> Result<Vec<crate::builds::Build>, AppError>;
    /// A pipeline's newest running or queued builds started since `since`, whole, newest first.
    async fn unfinished(
        &self,
        pipeline: &str,
        since: i64,
        limit: i64,
    ) -> Result<Vec<crate::builds::Build>, AppError>;
    async fn predict(
        &self,
        pre: &crate::builds::PreRun,
    ) -> Result<crate::builds::Prediction, AppError>;
    fn model_info(&self) -> Option<crate::builds::ModelInfo>;
    /// Trains the failure model on the whole history now and puts it to use.
    async fn train(&self) -> Result<crate::builds::ModelInfo, AppError>;
    async fn live_accuracy(
        &self,
        pipeline: Option<&str>,
    ) -> Result<crate::builds::LiveAccuracy, AppError>;
}

/// Flightdeck's own health history.
#[async_trait]
pub trait SystemPort: Send + Sync + 'static {
    /// Samples since `since` (Unix ms), oldest first.
    async fn health_history(
        &self,
        since: i64,
    ) -> Result<Vec<crate::system::HealthSample>, AppError>;
}

/// Settings an admin changes in the UI: today the CI/CD webhook secrets, and the deliveries
/// that show whether the webhooks work.
#[async_trait]
pub trait SettingsPort: Send + Sync + 'static {
    /// The latest deliveries, newest first.
    async fn webhook_deliveries(
        &self,
    ) -> Result<Vec<crate::webhook_settings::WebhookDelivery>, AppError>;
    async fn webhook_secrets(
        &self,
    ) -> Result<Vec<crate::webhook_settings::WebhookSecretStatus>, AppError>;
    async fn set_webhook_secret(
        &self,
        actor: &Principal,
        source: &str,
        secret: &str,
    ) -> Result<(), AppError>;
}

/// The alert feed and its actions. Authorization is the caller's job.
#[async_trait]
pub trait AlertsPort: Send + Sync + 'static {
    async fn list(&self, query: &AlertQuery) -> Result<AlertPage, AppError>;
    async fn get(&self, id: i64) -> Result<AlertDetail, AppError>;
    async fn act(
        &self,
        actor: &Principal,
        id: i64,
        action: AlertAction,
        note: Option<String>,
    ) -> Result<Alert, AppError>;
    /// Alerts still needing a person, by severity.
    async fn needing_person(&self) -> Result<AlertCounts, AppError>;
    /// Who escalating the alert by hand would notify now.
    async fn escalation_preview(
        &self,
        id: i64,
    ) -> Result<crate::health::escalation::EscalationPreview, AppError>;
    async fn silences(&self) -> Result<Vec<Silence>, AppError>;
    async fn create_silence(&self, actor: &Principal, new: NewSilence)
        -> Result<Silence, AppError>;
    /// Ends a silence now; the alerts it silenced notify again.
    async fn expire_silence(&self, actor: &Principal, id: i64) -> Result<Silence, AppError>;
    /// Notification channels, targets masked.
    async fn channels(&self) -> Result<Vec<Channel>, AppError>;
    async fn create_channel(&self, actor: &Principal, new: NewChannel)
        -> Result<Channel, AppError>;
    /// Escalation policies by rank.
    async fn policies(&self) -> Result<Vec<EscalationPolicy>, AppError>;
    async fn create_policy(
        &self,
        actor: &Principal,
        new: NewPolicy,
    ) -> Result<EscalationPolicy, AppError>;
    /// An empty target keeps the current one (unless the kind changes).
    async fn update_channel(
        &self,
        actor: &Principal,
        id: i64,
        new: NewChannel,
    ) -> Result<Channel, AppError>;
    /// Refused (409) while a policy's step names the channel.
    async fn remove_channel(&self, actor: &Principal, id: i64) -> Result<(), AppError>;
    /// The open alerts it owns keep it and their place in it.
    async fn update_policy(
        &self,
        actor: &Principal,
        id: i64,
        new: NewPolicy,
    ) -> Result<EscalationPolicy, AppError>;
    /// Its open alerts stop escalating.
    async fn remove_policy(&self, actor: &Principal, id: i64) -> Result<(), AppError>;
}

/// Components and their probe results: the health grid.
#[async_trait]
pub trait ComponentsPort: Send + Sync + 'static {
    /// Worst status first.
    async fn list(&self) -> Result<Vec<crate::health::component::Component>, AppError>;
    async fn get(&self, id: i64) -> Result<crate::health::component::ComponentDetail, AppError>;
}

/// SLOs with their latest evaluation.
#[async_trait]
pub trait SlosPort: Send + Sync + 'static {
    /// Least budget left first.
    async fn list(&self) -> Result<Vec<crate::health::objective::Slo>, AppError>;
    async fn get(&self, id: i64) -> Result<crate::health::objective::SloDetail, AppError>;
}

/// What the pages read, kept between requests until the data may have changed: every signed-in
/// page asks for the same rows again, and reading them cost 5-15 times rendering them.
/// [`call::cached`] is how a server function uses it.
#[async_trait]
pub trait ReadCachePort: Send + Sync + 'static {
    /// Moves on whenever something may have changed. Read before loading, so a change made while
    /// loading leaves the value already out of date.
    fn generation(&self) -> u64;
    /// The value stored under `key` at `generation`, if it is still fresh.
    fn get(&self, key: &str, generation: u64) -> Option<Arc<dyn std::any::Any + Send + Sync>>;
    fn put(&self, key: String, generation: u64, value: Arc<dyn std::any::Any + Send + Sync>);
    /// Waits until no other request is loading `key`, and holds that turn until the returned
    /// guard is dropped: pages refetch together after an event, and one load serves them all.
    async fn turn(&self, key: &str) -> Box<dyn std::any::Any + Send>;
}

/// Everything the server functions can reach, provided as one context value.
#[derive(Clone)]
pub struct Ports {
    pub accounts: Arc<dyn AccountsPort>,
    pub alerts: Arc<dyn AlertsPort>,
    pub audit: Arc<dyn AuditPort>,
    pub builds: Arc<dyn BuildsPort>,
    pub catalog: Arc<dyn CatalogPort>,
    pub config: Arc<dyn ConfigPort>,
    pub components: Arc<dyn ComponentsPort>,
    pub deployments: Arc<dyn DeploymentsPort>,
    pub flags: Arc<dyn FlagsPort>,
    pub settings: Arc<dyn SettingsPort>,
    pub slos: Arc<dyn SlosPort>,
    pub system: Arc<dyn SystemPort>,
    pub reads: Arc<dyn ReadCachePort>,
}

/// Helpers for the bodies of server functions: read the caller, check the role, report errors
/// with the right HTTP status.
pub mod call {
    use super::*;
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;

    pub fn ports() -> Result<Ports, AppError> {
        use_context::<Ports>().ok_or_else(AppError::internal)
    }

    pub fn request() -> Result<Parts, AppError> {
        use_context::<Parts>().ok_or_else(AppError::internal)
    }

    pub fn caller() -> Option<Principal> {
        use_context::<Parts>()
            .and_then(|parts| parts.extensions.get::<Caller>().cloned())
            .and_then(|caller| caller.0)
    }

    /// What `load` returns, from the read cache when nothing has changed since it was stored.
    /// `key` names the read and its arguments; the value must not depend on who asks (check the
    /// role before, shape the result for it after).
    pub async fn cached<T, Fut>(key: String, load: impl FnOnce() -> Fut) -> Result<T, AppError>
    where
        T: Clone + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<T, AppError>>,
    {
        let reads = ports()?.reads;
        let generation = reads.generation();
        let hit = || {
            reads
                .get(&key, generation)
                .and_then(|v| v.downcast_ref::<T>().cloned())
        };
        if let Some(hit) = hit() {
            return Ok(hit);
        }
        // Every open page refetches after the same event: the first loads, the others wait for
        // it and take what it stored (unless something changed meanwhile).
        let _turn = reads.turn(&key).await;
        if let Some(hit) = hit() {
            return Ok(hit);
        }
        let value = load().await?;
        reads.put(key, generation, Arc::new(value.clone()));
        Ok(value)
    }

    /// The caller, if they hold at least `role`; 401 or 403 otherwise.
    pub fn require(role: Role) -> Result<Principal, AppError> {
        let principal = caller().ok_or_else(AppError::unauthorized)?;
        if principal.role.allows(role) {
            Ok(principal)
        } else {
            Err(AppError::forbidden(role))
        }
    }

    /// Passes the result through, giving an error its HTTP status so that scripts calling a
    /// server function see 4xx for their mistakes, not 500.
    pub fn reply<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(e) = &result {
            if let Some(options) = use_context::<ResponseOptions>() {
                if let Ok(status) = http::StatusCode::from_u16(e.code.status()) {
                    options.set_status(status);
                }
                if let Some(seconds) = e.retry_after_s {
                    options.insert_header(http::header::RETRY_AFTER, seconds.into());
                }
            }
        }
        result
    }
}
