//! The deploy engine. Requests ([`requests`]) check the target, lock it, and write a queued
//! deployment with its job, audit entry and event in one transaction. Workers ([`runner`]) claim
//! jobs, run the target's deployer ([`deployers`]) with its output stored and streamed
//! ([`logs`]), and record the outcome with the job's completion. A successful deploy with a
//! health URL is watched ([`watch`]) and rolled back by Flightdeck itself if it keeps failing.

mod deployers;
mod external;
mod logs;
mod port;
mod queries;
mod requests;
mod rows;
mod runner;
mod watch;

pub use external::ReportedDeployment;

use crate::db::{Backend, Db};
use crate::events::EventBus;
use crate::jobs::Jobs;
use app::deploy::{topics, Deployment};
use sqlx::{Any, AnyPool, Transaction};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Timing of the engine; tests shorten it.
#[derive(Debug, Clone)]
pub struct DeploySettings {
    /// How long a claimed job stays ours without renewal; after a crash, the time until another
    /// worker marks the interrupted deployment failed.
    pub lease: Duration,
    /// Pause between two health checks during a watch window.
    pub health_interval: Duration,
}

impl Default for DeploySettings {
    fn default() -> Self {
        DeploySettings {
            lease: Duration::from_secs(30),
            health_interval: Duration::from_secs(5),
        }
    }
}

pub struct Deployments {
    pool: AnyPool,
    backend: Backend,
    bus: Arc<EventBus>,
    jobs: Jobs,
    /// Wakes the local worker loop when a job is added or a deployment ends.
    work: Notify,
    settings: DeploySettings,
    http: reqwest::Client,
    /// Key the webhook deployer signs its requests with; webhook targets need it.
    signing_secret: Option<String>,
    /// New deployments wait while maintenance covers their environment.
    maintenance: Arc<crate::maintenance::MaintenanceMode>,
    /// Stops the claiming of jobs when the process drains, and the deployers when it abandons.
    shutdown: crate::shutdown::Shutdown,
    /// One permit per job this process runs at once; all back means nothing is running.
    slots: Arc<tokio::sync::Semaphore>,
}

/// The columns of [`Deployment`], joined with the names people use.
const SELECT_DEPLOYMENT: &str =
    "SELECT d.id, s.name AS service, e.name AS environment, r.version, r.git_sha, \
    r.artifact, d.kind, d.status, d.trigger_kind, d.actor, d.reason, d.created_at, d.started_at, \
    d.finished_at, d.replaced_id, d.error, d.dismissed_by, d.dismissed_at \
    FROM deployments d JOIN services s ON s.id = d.service_id \
    JOIN environments e ON e.id = d.environment_id JOIN releases r ON r.id = d.release_id";

/// A row's `artifact` as every viewer sees it (pages, API, live events, releases): without the
/// credentials a private registry's address may carry. The deployer alone reads it whole
/// ([`raw_artifact`]).
fn shown_artifact(row: &sqlx::any::AnyRow) -> Result<Option<String>, sqlx::Error> {
    use sqlx::Row;
    Ok(row
        .try_get::<Option<String>, _>("artifact")?
        .map(|a| app::redact::without_credentials(&a)))
}

fn decode_deployment(row: &sqlx::any::AnyRow) -> Result<Deployment, sqlx::Error> {
    use app::deploy::{DeploymentKind, DeploymentStatus, Trigger};
    use sqlx::Row;
    let bad = |what: &str, v: String| sqlx::Error::Decode(format!("unknown {what} '{v}'").into());
    let kind: String = row.try_get("kind")?;
    let status: String = row.try_get("status")?;
    let trigger: String = row.try_get("trigger_kind")?;
    Ok(Deployment {
        id: row.try_get("id")?,
        service: row.try_get("service")?,
        environment: row.try_get("environment")?,
        version: row.try_get("version")?,
        git_sha: row.try_get("git_sha")?,
        artifact: shown_artifact(row)?,
        kind: DeploymentKind::parse(&kind).ok_or_else(|| bad("kind", kind.clone()))?,
        status: DeploymentStatus::parse(&status).ok_or_else(|| bad("status", status.clone()))?,
        trigger: Trigger::parse(&trigger).ok_or_else(|| bad("trigger", trigger.clone()))?,
        actor: row.try_get("actor")?,
        reason: row.try_get("reason")?,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        replaced_id: row.try_get("replaced_id")?,
        error: row.try_get("error")?,
        dismissed_by: row.try_get("dismissed_by")?,
        dismissed_at: row.try_get("dismissed_at")?,
    })
}

/// Reads one deployment inside a transaction.
async fn load_in(
    tx: &mut Transaction<'_, Any>,
    id: i64,
) -> Result<Option<Deployment>, sqlx::Error> {
    let sql = format!("{SELECT_DEPLOYMENT} WHERE d.id = $1");
    sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .as_ref()
        .map(decode_deployment)
        .transpose()
}

/// The deployment's artifact as it was given, credentials included: for the deployer only.
async fn raw_artifact(pool: &AnyPool, id: i64) -> Result<Option<String>, sqlx::Error> {
    use sqlx::Row;
    sqlx::query(
        "SELECT r.artifact FROM deployments d JOIN releases r ON r.id = d.release_id WHERE d.id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await?
    .try_get("artifact")
}

/// Publishes the deployment's current state on the `deployments` topic, in the caller's transaction.
async fn emit_updated(tx: &mut Transaction<'_, Any>, id: i64) -> Result<Deployment, sqlx::Error> {
    let deployment = load_in(tx, id).await?.ok_or(sqlx::Error::RowNotFound)?;
    let data = serde_json::to_value(&deployment).unwrap_or_default();
    crate::events::append(tx, topics::DEPLOYMENTS, "deployment.updated", &data).await?;
    Ok(deployment)
}

impl Deployments {
    pub fn new(
        db: &Db,
        bus: Arc<EventBus>,
        settings: DeploySettings,
        signing_secret: Option<String>,
        maintenance: Arc<crate::maintenance::MaintenanceMode>,
        shutdown: crate::shutdown::Shutdown,
    ) -> Arc<Deployments> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("flightdeck/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .expect("the HTTP client's fixed settings are valid");
        Arc::new(Deployments {
            jobs: Jobs::new(db.pool.clone(), db.backend, settings.lease),
            pool: db.pool.clone(),
            backend: db.backend,
            bus,
            work: Notify::new(),
            settings,
            http,
            signing_secret,
            maintenance,
            shutdown,
            slots: Arc::new(tokio::sync::Semaphore::new(runner::PARALLEL)),
        })
    }
}
